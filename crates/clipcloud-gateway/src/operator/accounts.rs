//! Spend accounting for operator-key mode: [`Accounts`], which the operator's policy calls
//! around every create — [`Accounts::reserve`] before forwarding it, then exactly one of
//! [`Accounts::accepted`], [`Accounts::refused`] or [`Accounts::unknown`], and
//! [`Accounts::settle`] when a check reports the real cost.
//!
//! A reservation adds the create's estimate (the most its kind was seen to cost, see
//! [`crate::operator::prices`]) to every counter it must fit: the visitor's UTC day, its
//! network address's UTC day (unless a signed visitor token vouches for it), all visitors'
//! UTC day and UTC calendar month, and a signed visitor token's own budget. The global caps
//! are lowered by what the service charged today that the counters do not explain
//! ([`crate::operator::reconcile`]). It is all-or-nothing and atomic, so no number of concurrent
//! requests can push a counter over its cap. The counters are the ledger's rows (one
//! gateway) or Redis (`--redis`, several replicas, one budget): see
//! [`crate::operator::counters`].
//!
//! Storage trouble fails closed: `reserve` answers [`SpendRefusal::Unavailable`] and nothing
//! is forwarded; later steps log to stderr and keep the estimate spent (never less).

use crate::error_log;
use crate::operator::counters::ledger::LedgerCounters;
use crate::operator::counters::redis::RedisCounters;
use crate::operator::counters::{Counters, NotReserved};
use crate::store::ledger::{self, Caps, Entry, Ledger, Outcome, Over, Spender};
use crate::store::redis;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

pub use crate::operator::counters::Reservation;
pub use crate::store::ledger::Cents;

#[derive(Clone)]
pub struct AccountsConfig {
    /// The SQLite file; `:memory:` keeps nothing.
    pub ledger: PathBuf,
    /// `redis[s]://[[USER]:PASSWORD@]HOST:PORT[/DB]`: the counters shared by every replica.
    pub redis: Option<String>,
    /// The CA (PEM) that signed a `rediss://` server's certificate, when not a public one.
    pub redis_ca_file: Option<PathBuf>,
    /// Per visitor per UTC day.
    pub visitor_daily_spend: Cents,
    /// Per network address per UTC day (visitor tokens exempt).
    pub address_daily: Cents,
    /// All visitors, per UTC day.
    pub daily_cap: Cents,
    /// All visitors, per UTC calendar month.
    pub monthly_cap: Cents,
}

impl fmt::Debug for AccountsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The Redis URL may hold a password: shown without it.
        let redis = self
            .redis
            .as_deref()
            .map(|u| redis::Target::parse(u).map_or("(invalid)".to_owned(), |t| t.to_string()));
        f.debug_struct("AccountsConfig")
            .field("ledger", &self.ledger)
            .field("redis", &redis)
            .field("redis_ca_file", &self.redis_ca_file)
            .field("visitor_daily_spend", &self.visitor_daily_spend)
            .field("address_daily", &self.address_daily)
            .field("daily_cap", &self.daily_cap)
            .field("monthly_cap", &self.monthly_cap)
            .finish()
    }
}

/// A create about to be forwarded.
#[derive(Clone, Debug)]
pub struct PendingCreate {
    /// Who: e.g. `c:<cookie id>`, `ip:1.2.3.4`, `t:<token subject>`.
    pub visitor: String,
    /// A signed visitor token's own budget.
    pub token: Option<TokenGrant>,
    /// The network address whose budget it counts against; `None` for a token holder.
    pub address: Option<String>,
    pub style: Option<String>,
    /// Its kind (`clipcloud::operation::kind_of`), by which its real price is learned.
    pub kind: String,
    pub count: u32,
    /// What is reserved: the most this kind was seen to cost, else the configured maximum.
    pub estimate: Cents,
    /// What the service charged today beyond what the counters know
    /// ([`crate::operator::reconcile`]): taken off the global caps' room.
    pub unexplained: Cents,
    pub now_unix: u64,
}

/// A signed visitor token's allowance: `budget` over the token's whole life.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenGrant {
    pub id: String,
    pub budget: Cents,
    pub expires_unix: u64,
}

/// Why a create is not forwarded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpendRefusal {
    VisitorDaily {
        limit: Cents,
    },
    AddressDaily {
        limit: Cents,
    },
    GlobalDaily {
        limit: Cents,
    },
    GlobalMonthly {
        limit: Cents,
    },
    TokenBudget {
        limit: Cents,
    },
    /// The counters cannot be read or written: fail closed, never forward.
    Unavailable,
}

impl SpendRefusal {
    /// 402 for a budget, 503 when storage is down.
    pub fn status(&self) -> u16 {
        match self {
            SpendRefusal::Unavailable => 503,
            _ => 402,
        }
    }

    /// For the visitor: what happened and when it changes. No internals.
    pub fn message(&self) -> String {
        match self {
            SpendRefusal::VisitorDaily { limit } => format!(
                "This would go over your daily allowance of {} credits on this site. It renews at 00:00 UTC.",
                show(*limit)
            ),
            SpendRefusal::AddressDaily { limit } => format!(
                "This would go over the daily allowance of {} credits for your network address on this site. It renews at 00:00 UTC.",
                show(*limit)
            ),
            SpendRefusal::GlobalDaily { limit } => format!(
                "This site has reached its spending limit for today ({} credits). Please try again after 00:00 UTC.",
                show(*limit)
            ),
            SpendRefusal::GlobalMonthly { limit } => format!(
                "This site has reached its spending limit for this month ({} credits). Please try again next month.",
                show(*limit)
            ),
            SpendRefusal::TokenBudget { limit } => {
                format!("This would go over your allowance of {} credits.", show(*limit))
            }
            SpendRefusal::Unavailable => {
                "The site cannot check its spending limits right now, so nothing was created. Please try again in a minute."
                    .to_owned()
            }
        }
    }
}

/// `1234` → `"12.34"`.
fn show(cents: Cents) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// The spend accounts. `Send + Sync`: share one behind an `Arc`.
pub struct Accounts {
    ledger: Ledger,
    counters: Box<dyn Counters>,
    /// With `--redis`: the server the counters use, shared with the rate limits.
    shared: Option<Arc<redis::Client>>,
    visitor_daily: Cents,
    address_daily: Cents,
    daily: Cents,
    monthly: Cents,
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts")
            .field("redis", &self.shared.as_ref().map(|r| r.target().to_string()))
            .field("visitor_daily", &self.visitor_daily)
            .field("address_daily", &self.address_daily)
            .field("daily", &self.daily)
            .field("monthly", &self.monthly)
            .finish()
    }
}

/// One error line on stderr ([`error_log`]).
pub(crate) fn log(event: &str, detail: &str) {
    error_log::write("accounts", event, detail);
}

impl Accounts {
    /// Opens the ledger and, with `redis`, checks that the server answers.
    pub async fn open(config: AccountsConfig) -> Result<Accounts, String> {
        let ledger = Ledger::open(&config.ledger).await?;
        let (counters, shared): (Box<dyn Counters>, _) = match &config.redis {
            None => (Box::new(LedgerCounters::new(ledger.clone())), None),
            Some(url) => {
                let read_ca = |path: &PathBuf| {
                    std::fs::read(path)
                        .map_err(|e| format!("--redis-ca-file {}: cannot read it: {e}", path.display()))
                };
                let ca_pem = config.redis_ca_file.as_ref().map(read_ca).transpose()?;
                let client =
                    redis::Client::open(url, redis::Options { ca_pem, ..redis::Options::default() })?;
                client.ping().await.map_err(|e| format!("--redis {}: {e}", client.target()))?;
                let client = Arc::new(client);
                (Box::new(RedisCounters::new(client.clone(), ledger.clone())), Some(client))
            }
        };
        Ok(Accounts {
            ledger,
            counters,
            shared,
            visitor_daily: config.visitor_daily_spend,
            address_daily: config.address_daily,
            daily: config.daily_cap,
            monthly: config.monthly_cap,
        })
    }

    /// Whether an address has a budget of its own: not when it may spend the whole day's
    /// (`--address-share 100`), which the daily cap bounds already.
    fn address_budget(&self) -> bool {
        self.address_daily < self.daily
    }

    /// The Redis shared by every replica (`--redis`), for the other shared counters (the
    /// rate limits).
    pub fn shared(&self) -> Option<Arc<redis::Client>> {
        self.shared.clone()
    }

    /// The ledger, for what else the gateway keeps across restarts (the held checks'
    /// learned schedule).
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    fn refusal(&self, over: Over, token: Option<&TokenGrant>) -> SpendRefusal {
        match over {
            Over::Visitor => SpendRefusal::VisitorDaily { limit: self.visitor_daily },
            Over::Address => SpendRefusal::AddressDaily { limit: self.address_daily },
            Over::Daily => SpendRefusal::GlobalDaily { limit: self.daily },
            Over::Monthly => SpendRefusal::GlobalMonthly { limit: self.monthly },
            Over::Token => SpendRefusal::TokenBudget { limit: token.map_or(0, |t| t.budget) },
        }
    }

    /// Atomically: every cap checked with the estimate added, and the estimate reserved.
    /// Never over a cap, whatever the concurrency and however many replicas share Redis.
    pub async fn reserve(&self, create: PendingCreate) -> Result<Reservation, SpendRefusal> {
        let unexplained = create.unexplained.max(0);
        let entry = Entry {
            visitor: create.visitor,
            token: create.token.as_ref().map(|t| t.id.clone()),
            address: create.address.filter(|_| self.address_budget()),
            style: create.style,
            kind: create.kind,
            count: create.count,
            estimate: create.estimate.max(0),
            at_unix: create.now_unix,
        };
        let caps = Caps {
            visitor_daily: self.visitor_daily,
            address_daily: self.address_daily,
            daily: self.daily - unexplained,
            monthly: self.monthly - unexplained,
            token: create.token.as_ref().map(|t| t.budget),
        };
        let expires = create.token.as_ref().map(|t| t.expires_unix);
        self.counters.reserve(entry, caps, expires).await.map_err(|not| match not {
            NotReserved::Over(over) => self.refusal(over, create.token.as_ref()),
            NotReserved::Unavailable => SpendRefusal::Unavailable,
        })
    }

    /// The service accepted it: the estimate stays reserved until `settle`, and the
    /// creation id is recorded with its owner.
    pub async fn accepted(&self, reservation: Reservation, creation_id: &str) {
        let id = Some(creation_id.to_owned());
        if let Err(e) = self.ledger.outcome(reservation.row(), Outcome::Accepted, id).await {
            log("accepted", &e);
        }
        self.counters.accepted(&reservation, creation_id).await;
    }

    /// The service surely did not start it (a 4xx): the estimate is given back.
    pub async fn refused(&self, reservation: Reservation) {
        if let Err(e) = self.ledger.outcome(reservation.row(), Outcome::Refused, None).await {
            log("refused", &e);
        }
        self.counters.refund(&reservation).await;
    }

    /// Unknown outcome (timeout, 5xx, an unreadable answer): the estimate stays spent.
    pub async fn unknown(&self, reservation: Reservation) {
        if let Err(e) = self.ledger.outcome(reservation.row(), Outcome::Unknown, None).await {
            log("unknown", &e);
        }
    }

    /// A check reported the real cost: it replaces the estimate, once per creation,
    /// however many checks and replicas report it. The create's kind when this replica
    /// settled its row now (`None`: settled before, or made by another replica).
    pub async fn settle(&self, creation_id: &str, cost: Cents) -> Option<String> {
        let cost = cost.max(0);
        self.counters.settle(creation_id, cost).await;
        self.ledger.settle(creation_id, cost).await.unwrap_or_else(|e| {
            log("settle", &e);
            None
        })
    }

    /// The visitor who created `creation_id`, if known: a visitor may check only its own.
    pub async fn owner(&self, creation_id: &str) -> Option<String> {
        if let Some(owner) = self.counters.owner(creation_id).await {
            return Some(owner);
        }
        // This replica's own rows (and the only source without Redis).
        match self.ledger.owner(creation_id).await {
            Ok(owner) => owner,
            Err(e) => {
                log("owner", &e);
                None
            }
        }
    }

    /// For `GET /gateway/usage`: per UTC day (newest first) and per visitor, the creates,
    /// images, refused creates, estimated, real and counted (`spent`) cost in credits, from
    /// this replica's ledger, for the `days` days up to `now_unix` (at most 400). When the
    /// ledger cannot be read: `{"success": false, "message": ...}` (see [`Self::try_usage`]).
    pub async fn usage(&self, now_unix: u64, days: u32) -> serde_json::Value {
        self.try_usage(now_unix, days).await.unwrap_or_else(
            |_| serde_json::json!({ "success": false, "message": "the ledger cannot be read right now" }),
        )
    }

    /// [`Self::usage`], with the ledger's trouble as an error (logged already).
    pub async fn try_usage(&self, now_unix: u64, days: u32) -> Result<serde_json::Value, String> {
        let mut usage = self.ledger.usage(now_unix, days).await.inspect_err(|e| log("usage", e))?;
        usage["success"] = true.into();
        usage["caps"] = serde_json::json!({
            "visitor_daily": ledger::credits(self.visitor_daily),
            "address_daily": ledger::credits(self.address_daily),
            "daily": ledger::credits(self.daily),
            "monthly": ledger::credits(self.monthly),
        });
        Ok(usage)
    }

    /// What `visitor` (from `address`, with its token, if any) may still spend now: the
    /// least room left under its day, its address's day, its token's budget, and everyone's
    /// day and month less what the service charged beyond the counters (`unexplained`).
    pub async fn allowance(
        &self,
        visitor: &str,
        address: Option<&str>,
        token: Option<&TokenGrant>,
        unexplained: Cents,
        now_unix: u64,
    ) -> Result<Cents, String> {
        let (day_total, month_total) = self.spent(now_unix).await?;
        let who = Spender {
            visitor: visitor.to_owned(),
            address: address.map(str::to_owned),
            token: token.map(|t| t.id.clone()),
        };
        let by = self.counters.spent_by(who, now_unix).await?;
        let unexplained = unexplained.max(0);
        let mut room = [
            self.visitor_daily - by.visitor,
            self.daily - unexplained - day_total,
            self.monthly - unexplained - month_total,
        ]
        .into_iter()
        .min()
        .unwrap_or(0);
        if address.is_some() && self.address_budget() {
            room = room.min(self.address_daily - by.address);
        }
        if let Some(t) = token {
            room = room.min(t.budget - by.token);
        }
        Ok(room.max(0))
    }

    /// The spend counted against the global caps now (the shared counters with Redis,
    /// else this ledger): `(today, this month)`.
    pub async fn spent(&self, now_unix: u64) -> Result<(Cents, Cents), String> {
        self.counters.spent(now_unix).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ledger::{day_label, day_of, DAY};
    use std::sync::Arc;

    /// 2026-11-15T12:00:00Z
    const NOW: u64 = 1_794_744_000;

    fn config(ledger: &str, visitor: Cents, daily: Cents, monthly: Cents) -> AccountsConfig {
        AccountsConfig {
            ledger: ledger.into(),
            redis: None,
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

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ccgw-budget-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_reserves_never_pass_the_cap() {
        let dir = temp_dir("concurrent");
        let path = dir.join("ledger.sqlite3");
        let accounts =
            Arc::new(Accounts::open(config(path.to_str().unwrap(), 100_000, 1000, 100_000)).await.unwrap());
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let accounts = accounts.clone();
                tokio::spawn(async move {
                    accounts.reserve(create(&format!("ip:10.0.0.{}", i % 50), 110, NOW)).await
                })
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
        assert_eq!(accounts.spent(NOW).await.unwrap(), (990, 990));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn refused_gives_back_unknown_keeps() {
        let accounts = Accounts::open(config(":memory:", 250, 10_000, 10_000)).await.unwrap();
        let a = accounts.reserve(create("c:a", 110, NOW)).await.unwrap();
        let b = accounts.reserve(create("c:a", 110, NOW)).await.unwrap();
        assert_eq!(
            accounts.reserve(create("c:a", 110, NOW)).await.unwrap_err(),
            SpendRefusal::VisitorDaily { limit: 250 }
        );
        accounts.refused(a).await;
        let c = accounts.reserve(create("c:a", 110, NOW)).await.unwrap();
        accounts.unknown(b).await;
        accounts.unknown(c).await;
        assert_eq!(
            accounts.reserve(create("c:a", 110, NOW)).await.unwrap_err(),
            SpendRefusal::VisitorDaily { limit: 250 }
        );
        // Another visitor has its own allowance.
        assert!(accounts.reserve(create("c:b", 110, NOW)).await.is_ok());
        assert_eq!(accounts.spent(NOW).await.unwrap().0, 330);
    }

    #[tokio::test]
    async fn an_address_has_one_budget_and_a_token_its_own() {
        let config = AccountsConfig { address_daily: 250, ..config(":memory:", 10_000, 10_000, 10_000) };
        // An address may spend the whole day: no budget of its own (the day's cap says more).
        let whole = Accounts::open(config.clone()).await.unwrap();
        let whole = Accounts { address_daily: 10_000, ..whole };
        let big = |visitor| PendingCreate {
            address: Some("ip:2001:db8::/64".into()),
            ..create(visitor, 10_000, NOW)
        };
        assert!(whole.reserve(big("c:1")).await.is_ok());
        assert_eq!(whole.reserve(big("c:2")).await.unwrap_err(), SpendRefusal::GlobalDaily { limit: 10_000 });
        let accounts = Accounts::open(config).await.unwrap();
        let from = |visitor: &str, address: &str| PendingCreate {
            address: Some(address.into()),
            ..create(visitor, 110, NOW)
        };
        // Each fresh cookie is a new visitor, and buys nothing: the address's budget is one.
        accounts.reserve(from("c:1", "ip:2001:db8::/64")).await.unwrap();
        accounts.reserve(from("c:2", "ip:2001:db8::/64")).await.unwrap();
        assert_eq!(
            accounts.reserve(from("c:3", "ip:2001:db8::/64")).await.unwrap_err(),
            SpendRefusal::AddressDaily { limit: 250 }
        );
        assert_eq!(accounts.allowance("c:4", Some("ip:2001:db8::/64"), None, 0, NOW).await.unwrap(), 30);
        // Another network, and a token's holder behind the same one (the site vouches for it).
        accounts.reserve(from("c:3", "ip:2001:db8:0:1::/64")).await.unwrap();
        let grant = TokenGrant { id: "tok".into(), budget: 500, expires_unix: NOW + 60 };
        accounts.reserve(PendingCreate { token: Some(grant), ..create("t:u", 110, NOW) }).await.unwrap();
        assert!(SpendRefusal::AddressDaily { limit: 250 }
            .message()
            .contains("2.50 credits for your network"));
    }

    #[tokio::test]
    async fn charges_the_counters_do_not_explain_lower_the_global_caps() {
        let accounts = Accounts::open(config(":memory:", 10_000, 1000, 1500)).await.unwrap();
        accounts.reserve(create("c:a", 300, NOW)).await.unwrap();
        let charged_elsewhere = |estimate| PendingCreate { unexplained: 500, ..create("c:b", estimate, NOW) };
        assert_eq!(
            accounts.reserve(charged_elsewhere(300)).await.unwrap_err(),
            SpendRefusal::GlobalDaily { limit: 1000 }
        );
        accounts.reserve(charged_elsewhere(200)).await.unwrap();
        assert_eq!(accounts.allowance("c:c", None, None, 500, NOW).await.unwrap(), 0);
        assert_eq!(accounts.allowance("c:c", None, None, 0, NOW).await.unwrap(), 500);
    }

    #[tokio::test]
    async fn settle_replaces_the_estimate_once() {
        let accounts = Accounts::open(config(":memory:", 10_000, 10_000, 10_000)).await.unwrap();
        let r = accounts.reserve(create("c:a", 440, NOW)).await.unwrap();
        accounts.accepted(r, "id-1").await;
        assert_eq!(accounts.spent(NOW).await.unwrap().0, 440);
        accounts.settle("id-1", 220).await;
        assert_eq!(accounts.spent(NOW).await.unwrap().0, 220);
        accounts.settle("id-1", 330).await;
        accounts.settle("id-1", 0).await;
        assert_eq!(accounts.spent(NOW).await.unwrap().0, 220);
        assert_eq!(accounts.settle("unknown-id", 999).await, None);
        assert_eq!(accounts.spent(NOW).await.unwrap().0, 220);
        let usage = accounts.usage(NOW, 1).await;
        assert_eq!(usage["success"], true);
        assert_eq!(usage["days"][0]["cost"], 2.2);
        assert_eq!(usage["days"][0]["estimated"], 4.4);
        assert_eq!(usage["days"][0]["visitors"][0]["visitor"], "c:a");
        assert_eq!(usage["caps"]["daily"], 100.0);
    }

    #[tokio::test]
    async fn owners_are_recorded() {
        let accounts = Accounts::open(config(":memory:", 10_000, 10_000, 10_000)).await.unwrap();
        let r = accounts.reserve(create("c:alice", 110, NOW)).await.unwrap();
        accounts.accepted(r, "id-alice").await;
        let r = accounts.reserve(create("ip:1.2.3.4", 110, NOW)).await.unwrap();
        accounts.refused(r).await;
        assert_eq!(accounts.owner("id-alice").await.as_deref(), Some("c:alice"));
        assert_eq!(accounts.owner("id-bob").await, None);
    }

    #[tokio::test]
    async fn a_reopened_ledger_keeps_the_days_spend() {
        let dir = temp_dir("reopen");
        let path = dir.join("ledger.sqlite3");
        let cfg = config(path.to_str().unwrap(), 10_000, 500, 10_000);
        {
            let accounts = Accounts::open(cfg.clone()).await.unwrap();
            let r = accounts.reserve(create("c:a", 220, NOW)).await.unwrap();
            accounts.accepted(r, "id-a").await;
            let r = accounts.reserve(create("c:b", 220, NOW)).await.unwrap();
            accounts.unknown(r).await;
        }
        let accounts = Accounts::open(cfg).await.unwrap();
        assert_eq!(accounts.spent(NOW).await.unwrap(), (440, 440));
        assert_eq!(
            accounts.reserve(create("c:c", 110, NOW)).await.unwrap_err(),
            SpendRefusal::GlobalDaily { limit: 500 }
        );
        assert_eq!(accounts.owner("id-a").await.as_deref(), Some("c:a"));
        // The settle of a create made before the restart still lands, once.
        accounts.settle("id-a", 110).await;
        accounts.settle("id-a", 110).await;
        assert_eq!(accounts.spent(NOW).await.unwrap().0, 330);
        assert!(accounts.reserve(create("c:c", 110, NOW)).await.is_ok());
        drop(accounts);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn days_and_months_roll_over_in_utc() {
        // 2026-11-30T23:59:59Z, then one second later: a new day and a new month.
        let last_second = 1_796_083_199;
        let accounts = Accounts::open(config(":memory:", 300, 300, 500)).await.unwrap();
        accounts.reserve(create("c:a", 300, last_second)).await.unwrap();
        assert_eq!(
            accounts.reserve(create("c:a", 1, last_second)).await.unwrap_err(),
            SpendRefusal::VisitorDaily { limit: 300 }
        );
        assert_eq!(
            accounts.reserve(create("c:b", 1, last_second)).await.unwrap_err(),
            SpendRefusal::GlobalDaily { limit: 300 }
        );
        let next = last_second + 1;
        accounts.reserve(create("c:a", 300, next)).await.unwrap();
        assert_eq!(accounts.spent(next).await.unwrap(), (300, 300));
        // Within December: a new day, but the month's cap (5.00) is nearly used.
        let dec_2 = next + DAY;
        accounts.reserve(create("c:a", 200, dec_2)).await.unwrap();
        assert_eq!(
            accounts.reserve(create("c:b", 1, dec_2)).await.unwrap_err(),
            SpendRefusal::GlobalMonthly { limit: 500 }
        );
        // January: the month's cap is free again.
        let jan_1 = next + 31 * DAY;
        assert_eq!(day_label(day_of(jan_1)), "2027-01-01");
        accounts.reserve(create("c:b", 300, jan_1)).await.unwrap();
        assert_eq!(accounts.spent(jan_1).await.unwrap(), (300, 300));
    }

    #[tokio::test]
    async fn a_token_has_its_own_budget() {
        let accounts = Accounts::open(config(":memory:", 10_000, 10_000, 10_000)).await.unwrap();
        let grant = TokenGrant { id: "tok-1".into(), budget: 250, expires_unix: NOW + 3600 };
        let with = |visitor: &str, grant: &TokenGrant| PendingCreate {
            token: Some(grant.clone()),
            ..create(visitor, 110, NOW)
        };
        accounts.reserve(with("t:u1", &grant)).await.unwrap();
        // The token's budget spans days and visitors.
        accounts.reserve(PendingCreate { now_unix: NOW + DAY, ..with("t:u1", &grant) }).await.unwrap();
        assert_eq!(
            accounts.reserve(with("t:u2", &grant)).await.unwrap_err(),
            SpendRefusal::TokenBudget { limit: 250 }
        );
        let other = TokenGrant { id: "tok-2".into(), ..grant };
        accounts.reserve(with("t:u1", &other)).await.unwrap();
    }

    #[tokio::test]
    async fn storage_trouble_fails_closed() {
        let dir = temp_dir("broken");
        let path = dir.join("ledger.sqlite3");
        let accounts = Accounts::open(config(path.to_str().unwrap(), 10_000, 10_000, 10_000)).await.unwrap();
        accounts.reserve(create("c:a", 110, NOW)).await.unwrap();
        // Someone breaks the file under the running gateway.
        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("DROP TABLE creates").unwrap();
        drop(other);
        assert_eq!(accounts.reserve(create("c:a", 110, NOW)).await.unwrap_err(), SpendRefusal::Unavailable);
        assert_eq!(accounts.owner("x").await, None);
        assert!(accounts.try_usage(NOW, 1).await.is_err());
        assert_eq!(accounts.usage(NOW, 1).await["success"], false);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn messages_are_clear_and_statuses_right() {
        let r = SpendRefusal::VisitorDaily { limit: 1000 };
        assert_eq!((r.status(), r.message().contains("10.00 credits")), (402, true));
        assert!(SpendRefusal::GlobalDaily { limit: 5 }.message().contains("0.05 credits"));
        assert!(SpendRefusal::GlobalMonthly { limit: 100_000 }
            .message()
            .contains("this month (1000.00 credits)"));
        assert!(SpendRefusal::TokenBudget { limit: 250 }.message().contains("2.50"));
        assert_eq!(SpendRefusal::Unavailable.status(), 503);
        assert!(!SpendRefusal::Unavailable.message().to_lowercase().contains("redis"));
        assert!(!SpendRefusal::Unavailable.message().to_lowercase().contains("sqlite"));
        let cfg =
            AccountsConfig { redis: Some("redis://:hunter2@h:1/0".into()), ..config(":memory:", 1, 1, 1) };
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("hunter2") && shown.contains("redis://:[redacted]@h:1/0"), "{shown}");
    }
}
