//! The counters the spend caps are checked against, behind one trait ([`Counters`]) with two
//! implementations:
//!
//! - **SQLite** ([`ledger::LedgerCounters`], one gateway): the ledger's rows are the
//!   counters; sums are indexed queries inside the transaction that inserts the row.
//! - **Redis** ([`redis::RedisCounters`], `--redis`: several replicas, one budget): the
//!   counters live in Redis and one Lua script checks and adds them; each replica still
//!   records its own creates in its ledger.
//!
//! Either way the ledger holds every create: the counters record it when they reserve it (in
//! the same transaction with SQLite), and [`crate::operator::accounts`] records its outcome
//! and real cost; a counter implementation does what counting needs beyond that record.

pub mod ledger;
pub mod redis;

use crate::store::ledger::{day_of, Caps, Cents, Entry, Over, Spender, SpentBy};
use std::future::Future;
use std::pin::Pin;

/// What the counters' methods return: boxed, so that one gateway can hold either
/// implementation as a `dyn Counters`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A reserved estimate, to be resolved by `accepted`, `refused` or `unknown`. Dropped
/// without one, the estimate simply stays spent.
#[derive(Debug)]
pub struct Reservation {
    /// The create's row in the ledger.
    row: i64,
    /// Names this reservation in Redis, so resending a script changes nothing.
    nonce: String,
    visitor: String,
    address: Option<String>,
    estimate: Cents,
    day: i64,
    token: Option<String>,
}

impl Reservation {
    /// A reservation of `entry`'s estimate, its row and nonce still to be set.
    fn of(entry: &Entry) -> Self {
        Self {
            row: 0,
            nonce: String::new(),
            visitor: entry.visitor.clone(),
            address: entry.address.clone(),
            estimate: entry.estimate,
            day: day_of(entry.at_unix),
            token: entry.token.clone(),
        }
    }

    /// The create's row in the ledger.
    pub fn row(&self) -> i64 {
        self.row
    }
}

/// Why the counters took no reservation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotReserved {
    /// The estimate would cross this cap.
    Over(Over),
    /// The counters cannot be read or written (logged already): fail closed.
    Unavailable,
}

/// Where the spend is counted. `Send + Sync`: one is shared by every request.
pub trait Counters: Send + Sync {
    /// Checks every cap of `caps` with `entry`'s estimate added and, if each holds, adds it
    /// and records `entry` in the ledger: all or nothing, atomically, so that no number of
    /// concurrent requests (or replicas) can push a counter over its cap.
    /// `token_expires_unix`: when the token in `entry` (if any) expires.
    fn reserve(
        &self,
        entry: Entry,
        caps: Caps,
        token_expires_unix: Option<u64>,
    ) -> BoxFuture<'_, Result<Reservation, NotReserved>>;

    /// The service accepted the reserved create as `creation_id` (the ledger has recorded
    /// it): the estimate stays counted until [`Counters::settle`].
    fn accepted<'a>(&'a self, reservation: &'a Reservation, creation_id: &'a str) -> BoxFuture<'a, ()>;

    /// The service surely did not start the reserved create (the ledger has recorded it):
    /// its estimate is given back.
    fn refund<'a>(&'a self, reservation: &'a Reservation) -> BoxFuture<'a, ()>;

    /// A check reported `creation_id`'s real cost: it replaces the estimate in the counters,
    /// once, however many checks and replicas report it (the ledger's row is settled after).
    fn settle<'a>(&'a self, creation_id: &'a str, cost: Cents) -> BoxFuture<'a, ()>;

    /// The visitor who created `creation_id`, as far as the counters know (every replica's
    /// creates with Redis); `None` leaves it to this replica's ledger.
    fn owner<'a>(&'a self, creation_id: &'a str) -> BoxFuture<'a, Option<String>>;

    /// The spend counted against the global caps on the UTC day and month of `now_unix`.
    fn spent(&self, now_unix: u64) -> BoxFuture<'_, Result<(Cents, Cents), String>>;

    /// What `who` spent: its visitor and address on the UTC day of `now_unix`, its token in all.
    fn spent_by(&self, who: Spender, now_unix: u64) -> BoxFuture<'_, Result<SpentBy, String>>;
}
