//! What the service actually charged the operator today, from the operator's own balance
//! (the API's balance call with the operator's key), held against what the spend counters
//! know. Before each create the balance is read (creates that arrive while a reading is on
//! its way share it); what it dropped since the day's first reading, less what the
//! counters' day total grew by meanwhile, is spending the counters do not explain — the key
//! used elsewhere, a price above what was reserved — and it is taken off the global caps'
//! room ([`crate::operator::accounts::PendingCreate::unexplained`]).
//!
//! The gateway's own creates are never counted twice: the counters hold each at its
//! reservation until its real cost settles it, and they are read after the balance, so a
//! create the balance already shows is in them. A rise of the balance (a top-up, images
//! withheld and refunded) is not counted back. What a reading misses until the next one:
//! charges made elsewhere since, and what reservations above the real cost (not settled
//! yet at the reading) hid of them.
//!
//! The day's readings are kept in the ledger, so a restart keeps what the day dropped.

use crate::error_log;
use crate::forward::upstream::Upstream;
use crate::operator::accounts::Accounts;
use crate::secret::Secret;
use crate::store::ledger::{day_of, Cents, Ledger, Reading};
use axum::http::Method;
use clipcloud::codec::Endpoint;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::watch;

/// A reading's outcome for the creates waiting on it: the unexplained spend, or none (the
/// balance could not be read; logged).
type Outcome = Option<Option<Cents>>;

pub struct Reconciler {
    state: Mutex<State>,
    accounts: Arc<Accounts>,
    ledger: Ledger,
    upstream: Upstream,
    key: Secret,
}

#[derive(Default)]
struct State {
    /// The latest day's readings.
    reading: Option<Reading>,
    /// What the last reading found unexplained.
    unexplained: Cents,
    /// The reading on its way, if one is.
    in_flight: Option<watch::Receiver<Outcome>>,
}

/// The balance cannot be read, and there is no reading of today to go by.
#[derive(Debug, PartialEq, Eq)]
pub struct Unreadable;

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Reconciler {
    /// Reads the balance of `key` from `upstream` and holds it against `accounts`, with
    /// today's readings from an earlier run if the ledger has them.
    pub async fn open(accounts: Arc<Accounts>, upstream: Upstream, key: Secret, now_unix: u64) -> Self {
        let ledger = accounts.ledger().clone();
        let reading = ledger.reading(day_of(now_unix)).await.unwrap_or_else(|e| {
            log("load", &e);
            None
        });
        let state = State { reading, ..State::default() };
        Self { state: Mutex::new(state), accounts, ledger, upstream, key }
    }

    /// The spend today that the counters do not explain, from a reading of the balance
    /// sent now (or on its way now). When the balance cannot be read: the last reading's,
    /// if there was one today, else [`Unreadable`] (the caller refuses: fail closed).
    pub async fn unexplained(self: &Arc<Self>, now_unix: u64) -> Result<Cents, Unreadable> {
        let mut outcome = {
            let mut state = lock(&self.state);
            match &state.in_flight {
                Some(outcome) => outcome.clone(),
                None => {
                    let (tx, rx) = watch::channel(None);
                    state.in_flight = Some(rx.clone());
                    // Its own task: a create that gives up waiting does not end the reading
                    // the others wait on.
                    tokio::spawn(self.clone().read(tx, now_unix));
                    rx
                }
            }
        };
        let read = outcome.wait_for(Option::is_some).await.map(|read| *read);
        let read = match read {
            Ok(read) => read,
            // The reading's task ended without a word: the next create starts another.
            Err(_) => {
                let mut state = lock(&self.state);
                if state.in_flight.as_ref().is_some_and(|other| other.same_channel(&outcome)) {
                    state.in_flight = None;
                }
                None
            }
        };
        match read.flatten() {
            Some(unexplained) => Ok(unexplained),
            None => self.last(now_unix).ok_or(Unreadable),
        }
    }

    /// What the last reading found unexplained, when it was today (0 otherwise): for what
    /// a visitor may still spend, without a call to the service.
    pub fn last_unexplained(&self, now_unix: u64) -> Cents {
        self.last(now_unix).unwrap_or(0)
    }

    fn last(&self, now_unix: u64) -> Option<Cents> {
        let state = lock(&self.state);
        state.reading.filter(|r| r.day == day_of(now_unix)).map(|_| state.unexplained)
    }

    /// One reading: the balance, then the counters' day total, then what the day dropped.
    async fn read(self: Arc<Self>, tx: watch::Sender<Outcome>, now_unix: u64) {
        let unexplained = match self.balance().await {
            Ok(balance) => match self.accounts.spent(now_unix).await {
                Ok((counted, _)) => Some(self.record(balance, counted, now_unix).await),
                Err(e) => {
                    log("counters", &e);
                    None
                }
            },
            Err(e) => {
                log("balance", &e);
                None
            }
        };
        lock(&self.state).in_flight = None;
        tx.send_replace(Some(unexplained));
    }

    /// The operator's balance at the service, in hundredths of a credit.
    async fn balance(&self) -> Result<Cents, String> {
        let url = Endpoint { base_url: "", api_key: Some(self.key.expose_str()) }.balance().url;
        let answer = self.upstream.call(Method::GET, &url, None).await.map_err(|f| f.message().to_owned())?;
        let balance = clipcloud::codec::decode_balance(&answer.as_core()).map_err(|e| {
            format!("the service's balance answer (HTTP {}): {}", answer.status.as_u16(), e.code().as_str())
        })?;
        let cents = (balance * 100.0).round();
        if !cents.is_finite() || cents.abs() > 1e15 {
            return Err("the service's balance is not a number of credits".into());
        }
        Ok(cents as Cents)
    }

    /// Adds a reading of `balance` with the counters at `counted`; the unexplained spend.
    async fn record(&self, balance: Cents, counted: Cents, now_unix: u64) -> Cents {
        let day = day_of(now_unix);
        let (reading, unexplained) = {
            let mut state = lock(&self.state);
            let reading = match state.reading.filter(|r| r.day == day) {
                Some(r) => Reading { last: balance, dropped: r.dropped + (r.last - balance).max(0), ..r },
                // The day's first reading.
                None => Reading { day, last: balance, dropped: 0, base: counted },
            };
            let unexplained = (reading.dropped - (counted - reading.base)).max(0);
            (state.reading, state.unexplained) = (Some(reading), unexplained);
            (reading, unexplained)
        };
        if let Err(e) = self.ledger.save_reading(reading).await {
            log("save", &e);
        }
        unexplained
    }
}

/// One error line on stderr ([`error_log`]); never the key.
fn log(event: &str, detail: &str) {
    error_log::write("reconcile", event, detail);
}
