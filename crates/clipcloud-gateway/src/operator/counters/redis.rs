//! The counters in Redis (`--redis`), shared by every replica: one Lua script checks and adds
//! every counter a reservation must fit, and each replica still records its own creates in its
//! ledger. Keys expire (days and addresses' days after ~2 days, months after ~32, creation
//! owners after 7), and only admitted creates write any, so Redis memory is bounded by the
//! caps, not by traffic.
//! Every script is safe to run twice (a reservation carries a random id), so the client may
//! resend one after a broken connection. Scripts go by `EVALSHA` (`redis::Script`), loaded
//! once per server. The scripts are the `.lua` files in
//! `operator/lua/`.

use crate::error_log;
use crate::operator::counters::{BoxFuture, Counters, NotReserved, Reservation};
use crate::secret::hex;
use crate::store::ledger::{day_of, Caps, Cents, Entry, Ledger, Over, Spender, SpentBy, DAY};
use crate::store::redis::{self, cmd, Script, Value};
use std::sync::{Arc, LazyLock};

/// Redis key names. Visitors, tokens and creation ids are hashed: keys have a fixed size
/// whatever a caller sends.
mod keys {
    use crate::operator::counters::Reservation;
    use crate::store::ledger::{day_label, month_label, month_of_day, DAY};

    pub use crate::secret::short_hash;
    pub use crate::store::redis::KEY_PREFIX as PREFIX;

    pub const DAY_TTL: u64 = 2 * DAY;
    pub const MONTH_TTL: u64 = 32 * DAY;
    pub const OWNER_TTL: u64 = 7 * DAY;
    pub const MARKER_TTL: u64 = 2 * DAY;

    pub fn day(day: i64) -> String {
        format!("{PREFIX}d:{}", day_label(day))
    }
    pub fn month(day: i64) -> String {
        format!("{PREFIX}m:{}", month_label(month_of_day(day)))
    }
    pub fn visitor(day: i64, visitor: &str) -> String {
        format!("{PREFIX}v:{}:{}", day_label(day), short_hash(visitor))
    }
    pub fn token(id: &str) -> String {
        format!("{PREFIX}t:{}", short_hash(id))
    }
    pub fn address(day: i64, address: &str) -> String {
        format!("{PREFIX}a:{}:{}", day_label(day), short_hash(address))
    }
    pub fn marker(nonce: &str) -> String {
        format!("{PREFIX}r:{nonce}")
    }
    pub fn creation(id: &str) -> String {
        format!("{PREFIX}c:{}", short_hash(id))
    }
    /// The counters a reservation added to, in order: day, month, visitor, then its
    /// token's and its address's, if any.
    pub fn counters(r: &Reservation) -> Vec<String> {
        let mut k = vec![day(r.day), month(r.day), visitor(r.day, &r.visitor)];
        k.extend(r.token.as_deref().map(token));
        k.extend(r.address.as_deref().map(|a| address(r.day, a)));
        k
    }
}

/// KEYS: day, month, visitor-day, marker, then the token's and the address-day's, if any.
/// ARGV: estimate, visitor limit, daily cap, monthly cap, day TTL, month TTL, marker TTL,
/// then for each optional key its cap, its TTL and the code for it.
/// 0 = reserved (or already reserved under this marker); else which cap (see [`OVER`]).
static RESERVE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../lua/reserve.lua")));

/// The caps the reserve script names by code, from 1.
const OVER: [Over; 5] = [Over::Visitor, Over::Daily, Over::Monthly, Over::Token, Over::Address];

/// KEYS: marker, counters…. ARGV: estimate, marker TTL. Gives the estimate back once.
static REFUND: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../lua/refund.lua")));

/// KEYS: creation, marker. ARGV: visitor, estimate, owner TTL, marker TTL, the counters
/// (space-separated). Records the owner and what a settle must adjust; ends refunds.
static ACCEPTED: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../lua/accepted.lua")));

/// KEYS: creation. ARGV: real cost. Replaces the estimate in every counter still alive,
/// once: 1 = settled now, 0 = already settled, -1 = unknown creation.
static SETTLE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("../lua/settle.lua")));

pub struct RedisCounters {
    client: Arc<redis::Client>,
    /// Where this replica records its creates.
    ledger: Ledger,
}

impl RedisCounters {
    pub fn new(client: Arc<redis::Client>, ledger: Ledger) -> Self {
        Self { client, ledger }
    }

    /// Runs a script whose reply only says it ran.
    async fn eval(&self, script: &Script, keys: &[String], args: &[String]) -> Result<(), redis::Error> {
        self.client.eval::<Value>(script, keys, args).await.map(drop)
    }

    /// A counter; one that does not exist (expired, or never added to) is 0.
    async fn get(&self, key: String) -> Result<Cents, String> {
        let spent: Option<Cents> = self.client.query(cmd("GET").arg(key)).await.map_err(|e| e.to_string())?;
        Ok(spent.unwrap_or(0))
    }

    async fn refund_shared(&self, reservation: &Reservation) {
        let mut k = vec![keys::marker(&reservation.nonce)];
        k.extend(keys::counters(reservation));
        let a = [reservation.estimate.to_string(), keys::MARKER_TTL.to_string()];
        if let Err(e) = self.eval(&REFUND, &k, &a).await {
            // The estimate stays spent: safe, if pessimistic.
            log("refund", &e.to_string());
        }
    }
}

fn log(event: &str, detail: &str) {
    error_log::write("accounts", event, detail);
}

impl Counters for RedisCounters {
    fn reserve(
        &self,
        entry: Entry,
        caps: Caps,
        token_expires_unix: Option<u64>,
    ) -> BoxFuture<'_, Result<Reservation, NotReserved>> {
        Box::pin(async move {
            let mut reservation = Reservation::of(&entry);
            let mut nonce = [0u8; 16];
            if let Err(e) = getrandom::getrandom(&mut nonce) {
                log("reserve", &format!("no randomness: {e}"));
                return Err(NotReserved::Unavailable);
            }
            reservation.nonce = hex(&nonce);
            let day = reservation.day;
            let mut k = vec![
                keys::day(day),
                keys::month(day),
                keys::visitor(day, &entry.visitor),
                keys::marker(&reservation.nonce),
            ];
            let mut a = vec![
                entry.estimate.to_string(),
                caps.visitor_daily.to_string(),
                caps.daily.to_string(),
                caps.monthly.to_string(),
                keys::DAY_TTL.to_string(),
                keys::MONTH_TTL.to_string(),
                keys::MARKER_TTL.to_string(),
            ];
            // Checked in this order, as the ledger does: the token's, then the address's.
            if let (Some(id), Some(budget)) = (&entry.token, caps.token) {
                k.push(keys::token(id));
                a.push(budget.to_string());
                // A day past the token's expiry.
                a.push((token_expires_unix.unwrap_or(0).saturating_sub(entry.at_unix) + DAY).to_string());
                a.push("4".into());
            }
            if let Some(address) = &entry.address {
                k.push(keys::address(day, address));
                a.push(caps.address_daily.to_string());
                a.push(keys::DAY_TTL.to_string());
                a.push("5".into());
            }
            match self.client.eval::<i64>(&RESERVE, &k, &a).await {
                Ok(0) => {}
                Ok(code @ 1..=5) => return Err(NotReserved::Over(OVER[code as usize - 1])),
                Ok(other) => {
                    log("reserve", &format!("the reserve script answered {other:?}"));
                    return Err(NotReserved::Unavailable);
                }
                Err(e) => {
                    log("reserve", &e.to_string());
                    return Err(NotReserved::Unavailable);
                }
            }
            match self.ledger.reserve(entry, None).await {
                Ok(Ok(row)) => {
                    reservation.row = row;
                    Ok(reservation)
                }
                Ok(Err(_)) | Err(_) => {
                    // No record, no create: give the counters back.
                    log("reserve", "the ledger cannot record the create; refused");
                    self.refund_shared(&reservation).await;
                    Err(NotReserved::Unavailable)
                }
            }
        })
    }

    fn accepted<'a>(&'a self, reservation: &'a Reservation, creation_id: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let k = [keys::creation(creation_id), keys::marker(&reservation.nonce)];
            let a = [
                reservation.visitor.clone(),
                reservation.estimate.to_string(),
                keys::OWNER_TTL.to_string(),
                keys::MARKER_TTL.to_string(),
                keys::counters(reservation).join(" "),
            ];
            if let Err(e) = self.eval(&ACCEPTED, &k, &a).await {
                log("accepted", &e.to_string());
            }
        })
    }

    fn refund<'a>(&'a self, reservation: &'a Reservation) -> BoxFuture<'a, ()> {
        Box::pin(self.refund_shared(reservation))
    }

    fn settle<'a>(&'a self, creation_id: &'a str, cost: Cents) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if let Err(e) = self.eval(&SETTLE, &[keys::creation(creation_id)], &[cost.to_string()]).await {
                log("settle", &e.to_string());
            }
        })
    }

    fn owner<'a>(&'a self, creation_id: &'a str) -> BoxFuture<'a, Option<String>> {
        Box::pin(async move {
            match self.client.query(cmd("HGET").arg(keys::creation(creation_id)).arg("v")).await {
                Ok(owner) => owner,
                Err(e) => {
                    log("owner", &e.to_string());
                    None
                }
            }
        })
    }

    fn spent(&self, now_unix: u64) -> BoxFuture<'_, Result<(Cents, Cents), String>> {
        Box::pin(async move {
            let day = day_of(now_unix);
            Ok((self.get(keys::day(day)).await?, self.get(keys::month(day)).await?))
        })
    }

    fn spent_by(&self, who: Spender, now_unix: u64) -> BoxFuture<'_, Result<SpentBy, String>> {
        Box::pin(async move {
            let day = day_of(now_unix);
            let visitor = self.get(keys::visitor(day, &who.visitor)).await?;
            let address = match &who.address {
                Some(address) => self.get(keys::address(day, address)).await?,
                None => 0,
            };
            let token = match &who.token {
                Some(id) => self.get(keys::token(id)).await?,
                None => 0,
            };
            Ok(SpentBy { visitor, address, token })
        })
    }
}
