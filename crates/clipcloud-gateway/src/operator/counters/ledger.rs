//! The counters in SQLite, for one gateway: the ledger's rows are the counters. A
//! reservation checks every cap and inserts its row in one `BEGIN IMMEDIATE` transaction;
//! what becomes of the create (refused: charge 0; settled: the real cost) is the ledger's
//! own record, so there is nothing more to count.

use crate::error_log;
use crate::operator::counters::{BoxFuture, Counters, NotReserved, Reservation};
use crate::store::ledger::{Caps, Cents, Entry, Ledger, Spender, SpentBy};

pub struct LedgerCounters {
    ledger: Ledger,
}

impl LedgerCounters {
    pub fn new(ledger: Ledger) -> Self {
        Self { ledger }
    }
}

impl Counters for LedgerCounters {
    fn reserve(
        &self,
        entry: Entry,
        caps: Caps,
        _: Option<u64>,
    ) -> BoxFuture<'_, Result<Reservation, NotReserved>> {
        Box::pin(async move {
            let mut reservation = Reservation::of(&entry);
            match self.ledger.reserve(entry, Some(caps)).await {
                Ok(Ok(row)) => {
                    reservation.row = row;
                    Ok(reservation)
                }
                Ok(Err(over)) => Err(NotReserved::Over(over)),
                Err(e) => {
                    error_log::write("accounts", "reserve", &e);
                    Err(NotReserved::Unavailable)
                }
            }
        })
    }

    fn accepted<'a>(&'a self, _: &'a Reservation, _: &'a str) -> BoxFuture<'a, ()> {
        // The row's outcome is the record.
        Box::pin(async {})
    }

    fn refund<'a>(&'a self, _: &'a Reservation) -> BoxFuture<'a, ()> {
        // A refused row counts nothing.
        Box::pin(async {})
    }

    fn settle<'a>(&'a self, _: &'a str, _: Cents) -> BoxFuture<'a, ()> {
        // The settled row counts its real cost.
        Box::pin(async {})
    }

    fn owner<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Option<String>> {
        // The ledger is the only record of owners here.
        Box::pin(async { None })
    }

    fn spent(&self, now_unix: u64) -> BoxFuture<'_, Result<(Cents, Cents), String>> {
        Box::pin(async move {
            let totals = self.ledger.totals(now_unix).await?;
            Ok((totals.day, totals.month))
        })
    }

    fn spent_by(&self, who: Spender, now_unix: u64) -> BoxFuture<'_, Result<SpentBy, String>> {
        Box::pin(self.ledger.spent_by(who, now_unix))
    }
}
