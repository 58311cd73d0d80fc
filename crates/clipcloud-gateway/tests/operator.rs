//! The gateway over real sockets in operator-key mode, in front of the emulator: visitors
//! send no key; origins, identity, rate limits, spend caps, ownership, tokens and the
//! passphrase are enforced; the ledger survives a restart.

mod common;

use clipcloud_gateway::operator::visitor::Token;
use clipcloud_gateway::secret::Secret;
use clipcloud_gateway::Running;
use common::*;

#[test]
fn visitors_send_no_key_and_see_only_their_own_creations() {
    let emulator = emulator(200);
    let key = fresh_key(&emulator, 20.0);
    let (config, _) = operator(&emulator.base_url(), &key, &[]);
    let gateway = Running::start(config).unwrap();
    let addr = gateway.addr();

    let info = get(addr, "/gateway/info").json();
    assert_eq!((info["mode"].as_str(), info["apikey"].as_str()), (Some("operator"), Some("none")));

    let mut alice = Visitor::from("203.0.113.1");
    let page = alice.load_page(addr);
    assert_eq!(page.status, 200, "{page:?}");
    let set_cookie = page.header("set-cookie").expect("a visitor cookie");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"), "{set_cookie}");

    // Her balance here is what she may still spend today, not the operator's balance.
    assert_eq!(alice.send(addr, "GET", "/api/balance", None).json()["balance"].as_f64(), Some(10.0));
    let created = alice.create(addr);
    assert_eq!(created.status, 200, "{created:?}");
    let id = created.json()["creation_id"].as_str().unwrap().to_owned();
    let done = wait_done(&mut alice, addr, &id);
    assert_eq!(done.json()["cost"].as_f64(), Some(1.1));
    assert!((balance(&emulator, &key) - 18.9).abs() < 1e-9, "the operator's key paid");
    assert_eq!(alice.send(addr, "GET", "/api/balance", None).json()["balance"].as_f64(), Some(8.9));

    // Another visitor (another address, no cookie), or a forged cookie, learns nothing.
    let mut mallory = Visitor::from("198.51.100.7");
    let stolen = mallory.send(addr, "GET", &format!("/api/creation/{id}"), None);
    assert_eq!(stolen.status, 404, "{stolen:?}");
    mallory.cookie = alice.cookie.as_ref().map(|c| c.replacen("cc_visitor=", "cc_visitor=0", 1));
    assert_eq!(mallory.send(addr, "GET", &format!("/api/creation/{id}"), None).status, 404);
    // A key the visitor sends is not the operator's and changes nothing.
    let with_key = alice.send(addr, "GET", &format!("/api/creation/{id}?apikey=whatever"), None);
    assert_eq!(with_key.status, 200, "{with_key:?}");
}

#[test]
fn pages_from_other_sites_are_refused() {
    let upstream = Recorder::start(200, "application/json", r#"{"success":true,"styles":[]}"#);
    let (config, _) = operator(&upstream.url, "op-key-123", &[]);
    let gateway = Running::start(config).unwrap();
    let addr = gateway.addr();
    let evil = request(
        addr,
        "POST",
        "/api/creation",
        &["Origin: https://evil.example"],
        Some(r#"{"prompt":"a","styleName":"standard"}"#),
    );
    assert_eq!(evil.status, 403, "{evil:?}");
    assert!(evil.message().contains("evil.example"), "{evil:?}");
    assert_eq!(request(addr, "GET", "/api/styles", &["Origin: null"], None).status, 403);
    let preflight = request(
        addr,
        "OPTIONS",
        "/api/creation",
        &["Origin: https://blog.example", "Access-Control-Request-Method: POST"],
        None,
    );
    assert_eq!(preflight.status, 204, "{preflight:?}");
    assert_eq!(preflight.header("access-control-allow-origin").as_deref(), Some("https://blog.example"));
    let info = request(addr, "GET", "/gateway/info", &["Origin: https://blog.example"], None);
    assert_eq!(info.header("access-control-allow-origin").as_deref(), Some("https://blog.example"));
    let info = request(addr, "GET", "/gateway/info", &["Origin: https://evil.example"], None);
    assert_eq!((info.status, info.header("access-control-allow-origin")), (200, None));
    let listed = request(addr, "GET", "/api/styles", &["Origin: https://blog.example"], None);
    assert_eq!(listed.header("access-control-allow-origin").as_deref(), Some("https://blog.example"));
    let own = request(addr, "GET", "/api/styles", &[&format!("Origin: http://{addr}")], None);
    assert_eq!(own.status, 200, "the gateway's own pages: {own:?}");
    // The styles answer is kept a minute: the service was asked once.
    assert_eq!(upstream.seen(), ["GET /api/styles?apikey=op-key-123"]);
}

#[test]
fn the_visitors_key_in_any_spelling_never_replaces_the_operators() {
    let upstream = Recorder::start(200, "application/json", r#"{"success":true,"styles":["standard"]}"#);
    let (config, _) = operator(&upstream.url, "op-key-123", &[]);
    let gateway = Running::start(config).unwrap();
    for target in
        ["/api/styles?APIKEY=mine", "/api/styles?api%6Bey=mine", "/api/styles?apikey=mine&apikey=mine"]
    {
        assert_eq!(get(gateway.addr(), target).status, 200, "{target}");
    }
    assert!(
        upstream.seen().iter().all(|s| s == "GET /api/styles?apikey=op-key-123"),
        "{:?}",
        upstream.seen()
    );
}

#[test]
fn creates_are_rate_limited_per_visitor_with_retry_after() {
    let emulator = emulator(200);
    let key = fresh_key(&emulator, 50.0);
    let (config, _) =
        operator(&emulator.base_url(), &key, &["--creates-per-minute", "2", ONE_PRICE[0], ONE_PRICE[1]]);
    let gateway = Running::start(config).unwrap();
    let mut visitor = Visitor::from("203.0.113.9");
    // As the app does: the page first (the gateway's cookie comes with it), then creates.
    assert_eq!(visitor.load_page(gateway.addr()).status, 200);
    assert_eq!(visitor.create(gateway.addr()).status, 200);
    assert_eq!(visitor.create(gateway.addr()).status, 200);
    let limited = visitor.create(gateway.addr());
    assert_eq!(limited.status, 429, "{limited:?}");
    let wait: u64 = limited.header("retry-after").and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((1..=30).contains(&wait), "{wait}");
    assert!(limited.message().contains("2 a minute"), "{limited:?}");
    // Someone else is not held back; a visitor without cookies is one address.
    let mut curl = Visitor::from("203.0.113.10");
    for _ in 0..2 {
        assert_eq!(curl.create(gateway.addr()).status, 200);
        curl.cookie = None;
    }
    assert_eq!(curl.create(gateway.addr()).status, 429);
}

/// The issue's abuse run: 1,000 creates from 50 visitors (25 with cookies, 25 by address
/// only) against a daily cap of 10 credits.
#[test]
fn an_abuse_run_spends_at_most_the_daily_cap() {
    let emulator = emulator(100);
    let key = fresh_key(&emulator, 100.0);
    let flags = [&["--daily-cap", "10", "--creates-per-minute", "10"], ONE_PRICE, WHOLE_CAP].concat();
    let (config, _) = operator(&emulator.base_url(), &key, &flags);
    let gateway = Running::start(config).unwrap();
    let addr = gateway.addr();
    let statuses: Vec<(u16, String)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..10)
            .map(|worker| {
                scope.spawn(move || {
                    let mut seen = Vec::new();
                    for v in (worker * 5)..(worker * 5 + 5) {
                        let mut visitor = Visitor::from(&format!("192.0.2.{}", v + 1));
                        if v % 2 == 0 {
                            // A cookie first, then every create with it.
                            assert_eq!(visitor.load_page(addr).status, 200);
                            assert!(visitor.cookie.is_some());
                        }
                        for _ in 0..20 {
                            let answer = visitor.create(addr);
                            if v % 2 == 1 {
                                visitor.cookie = None;
                            }
                            let message = if answer.status == 200 { String::new() } else { answer.message() };
                            seen.push((answer.status, message));
                        }
                    }
                    seen
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(statuses.len(), 1000);
    let accepted = statuses.iter().filter(|(s, _)| *s == 200).count();
    let spent = 100.0 - balance(&emulator, &key);
    assert!(spent <= 10.0 + 1e-9, "spent {spent} over a cap of 10");
    assert_eq!(accepted, 9, "9 × 1.1 fit under 10");
    assert!((spent - 9.9).abs() < 1e-9, "spent {spent}");
    for (status, message) in statuses.iter().filter(|(s, _)| *s != 200) {
        assert!(*status == 402 || *status == 429, "{status} {message}");
        assert!(message.len() > 20, "a clear message: {message:?}");
    }
    assert!(
        statuses.iter().any(|(s, m)| *s == 402 && m.contains("day")),
        "a budget refusal names the day's cap"
    );
}

#[test]
fn a_restart_keeps_the_days_spend() {
    let emulator = emulator(100);
    let key = fresh_key(&emulator, 100.0);
    let flags = [&["--daily-cap", "2.2"], ONE_PRICE, WHOLE_CAP].concat();
    let (config, ledger) = operator(&emulator.base_url(), &key, &flags);
    let gateway = Running::start(config).unwrap();
    let mut visitor = Visitor::from("203.0.113.20");
    assert_eq!(visitor.create(gateway.addr()).status, 200);
    assert_eq!(visitor.create(gateway.addr()).status, 200);
    gateway.stop();

    let (mut config, _) = operator(&emulator.base_url(), &key, &flags);
    config.operator_mut().expect("operator mode").ledger = ledger.into();
    let gateway = Running::start(config).unwrap();
    let refused = Visitor::from("203.0.113.21").create(gateway.addr());
    assert_eq!(refused.status, 402, "{refused:?}");
    assert!((balance(&emulator, &key) - 97.8).abs() < 1e-9);
}

#[test]
fn visitor_tokens_carry_their_own_budget() {
    let emulator = emulator(100);
    let key = fresh_key(&emulator, 100.0);
    let secret_path = secret_file("token-secret", "site-shared-secret");
    let (config, _) = operator(
        &emulator.base_url(),
        &key,
        &["--token-secret-file", &secret_path, ONE_PRICE[0], ONE_PRICE[1]],
    );
    let gateway = Running::start(config).unwrap();
    let addr = gateway.addr();
    let secret = Secret::new("site-shared-secret");
    let now = clipcloud_gateway::clock::unix_now();
    let token = Token::sign(&secret, "user-1", now + 600, 110);
    let create = |key: &str| {
        post(addr, &format!("/api/creation?apikey={key}"), r#"{"prompt":"a","styleName":"standard"}"#)
    };

    assert_eq!(get(addr, "/gateway/info").json()["apikey"], "token");
    assert_eq!(create("").status, 401);
    assert_eq!(get(addr, &format!("/api/balance?apikey={token}")).json()["balance"].as_f64(), Some(1.1));
    assert_eq!(create(&token).status, 200);
    assert_eq!(get(addr, &format!("/api/balance?apikey={token}")).json()["balance"].as_f64(), Some(0.0));
    let spent = create(&token);
    assert_eq!(spent.status, 402, "{spent:?}");
    assert!(spent.message().contains("allowance of 1.10"), "{spent:?}");
    assert_eq!(create(&Token::sign(&secret, "user-1", now - 1, 1000)).status, 403, "expired");
    assert_eq!(create(&Token::sign(&Secret::new("guess"), "user-1", now + 600, 1000)).status, 403, "forged");
    // The same user with a new allowance from the site.
    assert_eq!(create(&Token::sign(&secret, "user-1", now + 601, 110)).status, 200);
}

#[test]
fn a_passphrase_stands_in_for_the_key() {
    let upstream = Recorder::start(200, "application/json", r#"{"success":true,"styles":["standard"]}"#);
    let passphrase = secret_file("passphrase", "open sesame");
    let (config, _) = operator(&upstream.url, "op-key-123", &["--passphrase-file", &passphrase]);
    let gateway = Running::start(config).unwrap();
    assert_eq!(get(gateway.addr(), "/api/styles").status, 401);
    assert_eq!(get(gateway.addr(), "/api/styles?apikey=open%20sesamE").status, 401);
    assert_eq!(get(gateway.addr(), "/api/styles?apikey=open%20sesame").status, 200);
    assert_eq!(upstream.seen(), ["GET /api/styles?apikey=op-key-123"]);
}

#[test]
fn usage_is_for_the_operator_only() {
    let emulator = emulator(100);
    let key = fresh_key(&emulator, 100.0);
    let admin = secret_file("admin", "admin-token-xyz");
    let (config, _) = operator(&emulator.base_url(), &key, &["--admin-token-file", &admin]);
    let gateway = Running::start(config).unwrap();
    assert_eq!(Visitor::from("203.0.113.30").create(gateway.addr()).status, 200);
    assert_eq!(get(gateway.addr(), "/gateway/usage").status, 401);
    let wrong = request(gateway.addr(), "GET", "/gateway/usage", &["Authorization: Bearer nope"], None);
    assert_eq!(wrong.status, 401);
    let usage =
        request(gateway.addr(), "GET", "/gateway/usage", &["Authorization: Bearer admin-token-xyz"], None);
    assert_eq!(usage.status, 200, "{usage:?}");
    assert!(usage.body.contains("203.0.113.30"), "per visitor: {}", usage.body);
    // A bad `days` is refused in the API's error shape (schemathesis found axum's plain text).
    for days in ["4294967296", "-1", "x"] {
        let target = format!("/gateway/usage?days={days}");
        let bad = request(gateway.addr(), "GET", &target, &["Authorization: Bearer admin-token-xyz"], None);
        assert_eq!(bad.status, 400, "{bad:?}");
        assert_eq!(bad.header("content-type").as_deref(), Some("application/json"), "{days}");
        assert_eq!(bad.json()["success"], false);
    }
}

/// Two gateways (replicas behind one load balancer) sharing one real `redis-server` stay
/// under one daily cap together.
#[test]
fn two_replicas_on_one_redis_share_one_cap() {
    let redis = RedisServer::start(&[]);
    let emulator = emulator(100);
    let key = fresh_key(&emulator, 100.0);
    let url = redis.url();
    let args =
        [&["--daily-cap", "5", "--creates-per-minute", "100", "--redis", url.as_str()], ONE_PRICE, WHOLE_CAP]
            .concat();
    let replicas: Vec<Running> =
        (0..2).map(|_| Running::start(operator(&emulator.base_url(), &key, &args).0).unwrap()).collect();
    let accepted: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|i| {
                let addr = replicas[i % 2].addr();
                scope.spawn(move || {
                    let mut visitor = Visitor::from(&format!("198.51.100.{}", i + 1));
                    (0..5).filter(|_| visitor.create(addr).status == 200).count()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    assert_eq!(accepted, 4, "4 × 1.1 fit under 5, across both replicas");
    assert!((100.0 - balance(&emulator, &key) - 4.4).abs() < 1e-9);
}

#[test]
fn two_replicas_on_one_redis_share_one_rate_limit() {
    let redis = RedisServer::start(&[]);
    let emulator = emulator(100);
    let key = fresh_key(&emulator, 100.0);
    let url = redis.url();
    let args = [&["--creates-per-minute", "2", "--redis", url.as_str()], ONE_PRICE].concat();
    let replicas: Vec<Running> =
        (0..2).map(|_| Running::start(operator(&emulator.base_url(), &key, &args).0).unwrap()).collect();
    // A visitor without cookies (one address) behind a load balancer that alternates.
    let mut curl = Visitor::from("203.0.113.20");
    let mut statuses = Vec::new();
    for i in 0..4 {
        statuses.push(curl.create(replicas[i % 2].addr()).status);
        curl.cookie = None;
    }
    assert_eq!(statuses, [200, 200, 429, 429], "2 a minute across both replicas, not 2 each");
    // The buckets live in Redis, under names that do not show the address.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let keys: Vec<String> = runtime.block_on(async {
        let client = clipcloud_gateway::store::redis::Client::new(&url).unwrap();
        client.query(clipcloud_gateway::store::redis::cmd("KEYS").arg("ccgw:rate:*")).await.unwrap()
    });
    assert!(keys.iter().any(|k| k.starts_with("ccgw:rate:visitor:")), "{keys:?}");
    assert!(keys.iter().all(|k| !k.contains("203.0.113.20")), "{keys:?}");
}

/// The issue's ownership attack: someone behind the same address (an office, a phone
/// network) checks another's creation. The app gets its cookie with the page, before its
/// first create; a client that keeps no cookie (a server, a page of another site) is its
/// address, and sees only what was created without a cookie from there.
#[test]
fn a_second_client_from_the_same_address_cannot_check_the_firsts_creation() {
    let emulator = emulator(200);
    let key = fresh_key(&emulator, 20.0);
    let (config, _) = operator(&emulator.base_url(), &key, ONE_PRICE);
    let gateway = Running::start(config).unwrap();
    let addr = gateway.addr();

    let mut app = Visitor::from("203.0.113.77");
    let loaded = app.send(addr, "GET", "/", None);
    assert_eq!(loaded.status, 200, "{loaded:?}");
    assert!(app.cookie.is_some(), "the page brings the cookie: {loaded:?}");
    // A page load with the cookie gets no other.
    assert_eq!(app.send(addr, "GET", "/", None).header("set-cookie"), None);
    let id = app.create(addr).json()["creation_id"].as_str().expect("an id").to_owned();
    let check = format!("/api/creation/{id}");

    let mut neighbour = Visitor::from("203.0.113.77");
    assert_eq!(neighbour.send(addr, "GET", &check, None).status, 404, "no cookie: the address owns nothing");
    neighbour.send(addr, "GET", "/", None);
    assert!(neighbour.cookie.is_some());
    assert_eq!(neighbour.send(addr, "GET", &check, None).status, 404, "its own cookie: someone else");
    assert_eq!(wait_done(&mut app, addr, &id).json()["cost"].as_f64(), Some(1.1));

    // A client that keeps no cookie (a server, a page of another site): no API answer gives
    // one (it would be someone else with it), and what it created is its address's.
    let mut server = Visitor::from("203.0.113.78");
    let created = server.create(addr);
    assert_eq!(created.header("set-cookie"), None);
    assert_eq!(server.send(addr, "GET", "/api/styles", None).header("set-cookie"), None);
    let id = created.json()["creation_id"].as_str().expect("an id").to_owned();
    let done = wait_done(&mut server, addr, &id);
    assert!(server.cookie.is_none(), "{done:?}");
    let mut app = Visitor::from("203.0.113.78");
    app.send(addr, "GET", "/", None);
    assert_eq!(app.send(addr, "GET", &format!("/api/creation/{id}"), None).status, 404);

    // New cookies with pages: at most 20 a minute per address.
    let given = (0..25)
        .filter(|_| Visitor::from("203.0.113.79").send(addr, "GET", "/", None).header("set-cookie").is_some())
        .count();
    assert!((20..25).contains(&given), "{given} cookies");
}

/// `rediss://` against a real `redis-server` that speaks only TLS, with a CA this test made
/// and an ACL user whose password is only in the `--redis-url-file`: the gateway binary
/// admits a create and counts it in Redis; given another CA it refuses to start, saying
/// why, without the password.
#[test]
fn counts_in_a_tls_redis_with_an_acl_user_and_refuses_a_wrong_ca() {
    let pki = TestPki::make();
    let password = "tls-pw-5f0c9e";
    let acl =
        ["--user", "default", "off", "--user", "gateway", "on", &format!(">{password}"), "~ccgw:*", "+@all"];
    let redis = RedisServer::start_tls(&pki, &acl);
    let url_file =
        secret_file("redis-url", &format!("rediss://gateway:{password}@127.0.0.1:{}/2\n", redis.port));
    let emulator = emulator(100);
    let key = fresh_key(&emulator, 100.0);
    let key_file = secret_file("key", &key);
    let ledger = temp_dir("ledger").join("l.sqlite3");
    let upstream = emulator.base_url();
    let args = |ca: &str| {
        [
            "--upstream",
            &upstream,
            "--key-file",
            &key_file,
            "--ledger",
            ledger.to_str().unwrap(),
            "--max-price-per-image",
            "1.1",
            "--redis-url-file",
            &url_file,
            "--redis-ca-file",
            ca,
        ]
        .map(str::to_owned)
    };

    let mut gateway = GatewayProcess::start(&args(&pki.ca).each_ref().map(String::as_str), &[]);
    let created = post(gateway.addr, "/api/creation", r#"{"prompt":"a","styleName":"standard"}"#);
    assert_eq!(created.status, 200, "{created:?}");
    // Read back over TLS, as the same ACL user: today's counter holds the estimate.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (keys, spent): (Vec<String>, Vec<i64>) = runtime.block_on(async {
        use clipcloud_gateway::store::redis::{cmd, Client, Options};
        let ca_pem = Some(std::fs::read(&pki.ca).unwrap());
        let url = format!("rediss://gateway:{password}@127.0.0.1:{}/2", redis.port);
        let client = Client::open(&url, Options { ca_pem, ..Options::default() }).unwrap();
        let days: Vec<String> = client.query(cmd("KEYS").arg("ccgw:d:*")).await.unwrap();
        let spent = client.query(cmd("MGET").arg(&days)).await.unwrap();
        (days, spent)
    });
    assert_eq!((keys.len(), spent), (1, vec![110]), "one day counter, 1.10 credits: {keys:?}");
    assert_eq!(gateway.terminate().code(), Some(0));
    assert!(!gateway.log().contains(password), "{}", gateway.log());

    // A CA that did not sign the server's certificate: no start, and the reason.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_clipcloud-gateway"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args(&pki.other_ca))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    assert!(said.contains("certificate") && said.contains("--redis-ca-file"), "{said}");
    assert!(said.contains("rediss://gateway:[redacted]@127.0.0.1"), "{said}");
    assert!(!said.contains(password), "{said}");
}
