//! The shared budget against a real `redis-server`, which each test starts on a free
//! loopback port (no disk: `--save '' --appendonly no`) and stops when done.
//! `cargo xtask setup` installs it (Debian's `redis-server`); without it these tests fail.

mod common;

use clipcloud_gateway::operator::accounts::{
    Accounts, AccountsConfig, Cents, PendingCreate, SpendRefusal, TokenGrant,
};
use clipcloud_gateway::store::redis::{cmd, Client};
use common::RedisServer;
use std::sync::Arc;

/// 2026-11-15T12:00:00Z
const NOW: u64 = 1_794_744_000;
const DAY: u64 = 86_400;

fn config(redis: &str, visitor: Cents, daily: Cents, monthly: Cents) -> AccountsConfig {
    AccountsConfig {
        ledger: ":memory:".into(),
        redis: Some(redis.to_owned()),
        redis_ca_file: None,
        visitor_daily_spend: visitor,
        address_daily: daily,
        daily_cap: daily,
        monthly_cap: monthly,
    }
}

fn create(visitor: &str, estimate: Cents, now: u64) -> PendingCreate {
    PendingCreate {
        visitor: visitor.into(),
        token: None,
        address: None,
        style: Some("standard".into()),
        kind: "standard *".into(),
        count: 1,
        estimate,
        unexplained: 0,
        now_unix: now,
    }
}

async fn keys(client: &Client) -> Vec<String> {
    client.query(cmd("KEYS").arg("*")).await.unwrap()
}

async fn ttl(client: &Client, key: &str) -> i64 {
    client.query(cmd("TTL").arg(key)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_share_one_cap() {
    let redis = RedisServer::start(&[]);
    let a = Arc::new(Accounts::open(config(&redis.url(), 100_000, 1000, 100_000)).await.unwrap());
    let b = Arc::new(Accounts::open(config(&redis.url(), 100_000, 1000, 100_000)).await.unwrap());
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let replica = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(
                async move { replica.reserve(create(&format!("ip:10.0.0.{}", i % 50), 110, NOW)).await },
            )
        })
        .collect();
    let mut admitted = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => admitted += 1,
            Err(r) => assert_eq!(r, SpendRefusal::GlobalDaily { limit: 1000 }),
        }
    }
    assert_eq!(admitted, 9);
    assert_eq!(a.spent(NOW).await.unwrap(), (990, 990));
    assert_eq!(b.spent(NOW).await.unwrap(), (990, 990));
    // Each replica's own ledger holds the rows it admitted, and they add up to the nine.
    let rows = |u: serde_json::Value| u["days"][0]["creates"].as_i64().unwrap_or(0);
    assert_eq!(rows(a.usage(NOW, 1).await) + rows(b.usage(NOW, 1).await), 9);
}

#[tokio::test]
async fn refunds_settles_and_owners_cross_replicas() {
    let redis = RedisServer::start(&[]);
    let a = Accounts::open(config(&redis.url(), 250, 10_000, 10_000)).await.unwrap();
    let b = Accounts::open(config(&redis.url(), 250, 10_000, 10_000)).await.unwrap();

    // One visitor's daily allowance, across both replicas.
    let r1 = a.reserve(create("c:alice", 110, NOW)).await.unwrap();
    let r2 = b.reserve(create("c:alice", 110, NOW)).await.unwrap();
    assert_eq!(
        a.reserve(create("c:alice", 110, NOW)).await.unwrap_err(),
        SpendRefusal::VisitorDaily { limit: 250 }
    );
    // A refusal by the service gives the estimate back, everywhere.
    b.refused(r2).await;
    let r3 = b.reserve(create("c:alice", 110, NOW)).await.unwrap();
    b.unknown(r3).await;
    assert_eq!(a.spent(NOW).await.unwrap().0, 220);

    // Accepted on A: B knows the owner; the settle lands once, whoever reports it.
    a.accepted(r1, "id-1").await;
    assert_eq!(b.owner("id-1").await.as_deref(), Some("c:alice"));
    assert_eq!(a.owner("id-1").await.as_deref(), Some("c:alice"));
    assert_eq!(b.owner("id-2").await, None);
    b.settle("id-1", 55).await;
    assert_eq!(a.spent(NOW).await.unwrap().0, 165);
    a.settle("id-1", 55).await;
    b.settle("id-1", 999).await;
    assert_eq!(b.spent(NOW).await.unwrap(), (165, 165));
    // The visitor's own counter moved too: 1.65 spent, 0.85 left.
    let r4 = a.reserve(create("c:alice", 80, NOW)).await.unwrap();
    assert_eq!(
        a.reserve(create("c:alice", 10, NOW)).await.unwrap_err(),
        SpendRefusal::VisitorDaily { limit: 250 }
    );
    a.unknown(r4).await;

    // A's ledger has the real cost of its own create.
    let usage = a.usage(NOW, 1).await;
    assert_eq!(usage["days"][0]["cost"], 0.55);
}

#[tokio::test]
async fn one_address_one_budget_across_replicas() {
    let redis = RedisServer::start(&[]);
    let config = || AccountsConfig { address_daily: 250, ..config(&redis.url(), 10_000, 10_000, 10_000) };
    let a = Accounts::open(config()).await.unwrap();
    let b = Accounts::open(config()).await.unwrap();
    let from = |visitor: &str| PendingCreate {
        address: Some("ip:2001:db8::/64".into()),
        ..create(visitor, 110, NOW)
    };
    let r1 = a.reserve(from("c:1")).await.unwrap();
    b.reserve(from("c:2")).await.unwrap();
    // A third cookie on either replica: the same address, the same budget.
    assert_eq!(b.reserve(from("c:3")).await.unwrap_err(), SpendRefusal::AddressDaily { limit: 250 });
    // The real cost settles the address's counter too.
    a.accepted(r1, "id-1").await;
    b.settle("id-1", 10).await;
    assert_eq!(a.allowance("c:9", Some("ip:2001:db8::/64"), None, 0, NOW).await.unwrap(), 130);
    a.reserve(from("c:3")).await.unwrap();
    // The address's key is hashed and expires like the day's.
    let client = Client::new(&redis.url()).unwrap();
    let address = keys(&client).await.into_iter().find(|k| k.starts_with("ccgw:a:")).expect("an address key");
    assert!(!address.contains("2001"), "{address}");
    let ttl = ttl(&client, &address).await;
    assert!(ttl > 0 && ttl <= 2 * DAY as i64, "TTL {ttl}");
}

#[tokio::test]
async fn every_key_expires_and_refusals_write_none() {
    let redis = RedisServer::start(&[]);
    let client = Client::new(&redis.url()).unwrap();
    let accounts = Accounts::open(config(&redis.url(), 10_000, 1000, 10_000)).await.unwrap();
    let grant = TokenGrant { id: "tok".into(), budget: 500, expires_unix: NOW + 3600 };
    let r =
        accounts.reserve(PendingCreate { token: Some(grant), ..create("t:u", 990, NOW) }).await.unwrap_err();
    assert_eq!(r, SpendRefusal::TokenBudget { limit: 500 });
    let r = accounts.reserve(create("c:a", 990, NOW)).await.unwrap();
    accounts.accepted(r, "id-a").await;
    let before = keys(&client).await;
    assert_eq!(before.len(), 5, "{before:?}"); // day, month, visitor, marker, creation
    for key in &before {
        let ttl = ttl(&client, key).await;
        let most = if key.starts_with("ccgw:m:") { 32 * DAY } else { 7 * DAY } as i64;
        assert!(ttl > 0 && ttl <= most, "{key}: TTL {ttl}");
    }
    // A thousand strangers over the cap leave Redis as it was.
    for i in 0..1000 {
        let r = accounts.reserve(create(&format!("ip:192.0.2.{i}"), 110, NOW)).await.unwrap_err();
        assert_eq!(r, SpendRefusal::GlobalDaily { limit: 1000 });
    }
    let mut after = keys(&client).await;
    let mut before = before;
    before.sort();
    after.sort();
    assert_eq!(before, after);
    // Keys carry no visitor or creation id in clear.
    assert!(after.iter().all(|k| !k.contains("c:a") && !k.contains("id-a")), "{after:?}");
}

#[tokio::test]
async fn days_and_months_roll_over_in_utc() {
    let redis = RedisServer::start(&[]);
    let accounts = Accounts::open(config(&redis.url(), 300, 300, 500)).await.unwrap();
    let last_second = 1_796_083_199; // 2026-11-30T23:59:59Z
    accounts.reserve(create("c:a", 300, last_second)).await.unwrap();
    assert_eq!(
        accounts.reserve(create("c:b", 1, last_second)).await.unwrap_err(),
        SpendRefusal::GlobalDaily { limit: 300 }
    );
    let next = last_second + 1;
    accounts.reserve(create("c:a", 300, next)).await.unwrap();
    assert_eq!(accounts.spent(next).await.unwrap(), (300, 300));
    accounts.reserve(create("c:a", 200, next + DAY)).await.unwrap();
    assert_eq!(
        accounts.reserve(create("c:b", 1, next + DAY)).await.unwrap_err(),
        SpendRefusal::GlobalMonthly { limit: 500 }
    );
    let jan_1 = next + 31 * DAY;
    accounts.reserve(create("c:b", 300, jan_1)).await.unwrap();
    assert_eq!(accounts.spent(jan_1).await.unwrap(), (300, 300));
}

#[tokio::test]
async fn redis_down_fails_closed_and_a_restart_reconnects() {
    let redis = RedisServer::start(&[]);
    let accounts = Accounts::open(config(&redis.url(), 10_000, 10_000, 10_000)).await.unwrap();
    let r = accounts.reserve(create("c:a", 110, NOW)).await.unwrap();
    accounts.accepted(r, "id-a").await;

    let port = redis.stop();
    assert_eq!(accounts.reserve(create("c:a", 110, NOW)).await.unwrap_err(), SpendRefusal::Unavailable);
    // The owner is still known from this replica's own ledger.
    assert_eq!(accounts.owner("id-a").await.as_deref(), Some("c:a"));

    // The same port again: the pooled connections are dead, the client reconnects.
    let _redis = RedisServer::start_on(port, &[]).expect("the port is free again");
    for _ in 0..8 {
        accounts.reserve(create("c:a", 110, NOW)).await.unwrap();
    }
    // A fresh server without persistence starts from zero: 8 × 1.10.
    assert_eq!(accounts.spent(NOW).await.unwrap().0, 880);
}

#[tokio::test]
async fn database_number_and_password() {
    let redis = RedisServer::start(&["--requirepass", "s3cret-pw"]);
    let url = format!("redis://:s3cret-pw@127.0.0.1:{}/3", redis.port);
    let accounts = Accounts::open(config(&url, 10_000, 10_000, 10_000)).await.unwrap();
    accounts.reserve(create("c:a", 110, NOW)).await.unwrap();
    let db0 = Client::new(&format!("redis://:s3cret-pw@127.0.0.1:{}", redis.port)).unwrap();
    assert_eq!(db0.query::<i64>(&cmd("DBSIZE")).await.unwrap(), 0);
    let db3 = Client::new(&url).unwrap();
    assert_eq!(db3.query::<i64>(&cmd("DBSIZE")).await.unwrap(), 4);

    let wrong = format!("redis://:not-it@127.0.0.1:{}/3", redis.port);
    let err = Accounts::open(config(&wrong, 1, 1, 1)).await.unwrap_err();
    assert!(err.contains("--redis") && !err.contains("not-it") && !err.contains("s3cret"), "{err}");
    let none = format!("redis://127.0.0.1:{}/3", redis.port);
    let err = Accounts::open(config(&none, 1, 1, 1)).await.unwrap_err();
    // The server's words (NOAUTH), as the `redis` crate words them.
    assert!(err.contains("Authentication required"), "{err}");
}

/// A connection refused for another reason than the network (here `AUTH`, while the
/// server's password is changed and changed back) does not stick: once the server takes the
/// password again, so do the counters.
#[tokio::test]
async fn a_refused_login_is_retried_at_the_next_call() {
    let redis = RedisServer::start(&["--requirepass", "first-pw"]);
    let url = format!("redis://:first-pw@127.0.0.1:{}", redis.port);
    let accounts = Accounts::open(config(&url, 10_000, 10_000, 10_000)).await.unwrap();
    accounts.reserve(create("c:a", 110, NOW)).await.unwrap();

    let admin = Client::new(&url).unwrap();
    admin.query::<()>(cmd("CONFIG").arg("SET").arg("requirepass").arg("second-pw")).await.unwrap();
    // Every connection closed: the gateway's next login uses the old password.
    let _: i64 = admin.query(cmd("CLIENT").arg("KILL").arg("TYPE").arg("normal")).await.unwrap_or(0);
    for _ in 0..2 {
        assert_eq!(accounts.reserve(create("c:a", 110, NOW)).await.unwrap_err(), SpendRefusal::Unavailable);
    }
    let admin = Client::new(&format!("redis://:second-pw@127.0.0.1:{}", redis.port)).unwrap();
    admin.query::<()>(cmd("CONFIG").arg("SET").arg("requirepass").arg("first-pw")).await.unwrap();
    accounts.reserve(create("c:a", 110, NOW)).await.unwrap();
    assert_eq!(accounts.spent(NOW).await.unwrap().0, 220);
}
