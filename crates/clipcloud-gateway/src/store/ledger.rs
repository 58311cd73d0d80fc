//! The ledger: every create the gateway forwarded with the operator's key — who (visitor,
//! token, network address), when, which style and kind, how many images, the estimate
//! reserved, the real cost once a check reported it, the creation id and the outcome — in
//! one SQLite file, so the caps and the history survive a restart. Beside them: the prices
//! learned per kind of create, and the day's readings of the operator's balance.
//!
//! SQLite is blocking, so one dedicated thread owns the connection and runs the jobs sent
//! to it in order over a bounded channel (a burst of requests waits for room instead of
//! piling up threads). Sums are indexed queries over the rows; a reservation checks every
//! cap and inserts its row inside one `BEGIN IMMEDIATE` transaction, so two reservations
//! (even from two processes sharing the file) can never both squeeze under a cap.
//!
//! Day and month boundaries are UTC, computed from unix seconds ([`civil_from_days`]).

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Amounts in hundredths of a credit (the API's costs have two decimals, e.g. 1.1 per image → 110).
pub type Cents = i64;

/// Seconds in a day.
pub const DAY: u64 = 86_400;

/// Days since 1970-01-01 (UTC) of a unix time.
pub fn day_of(unix: u64) -> i64 {
    (unix / DAY) as i64
}

/// Months since year 0 (`year * 12 + month - 1`) of a day number: one number per UTC
/// calendar month.
pub fn month_of_day(day: i64) -> i64 {
    let (y, m, _) = civil_from_days(day);
    y * 12 + i64::from(m) - 1
}

/// The proleptic Gregorian date (year, month 1..=12, day 1..=31) of a day number counted
/// from 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March first
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DD` of a day number.
pub fn day_label(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM` of a month number ([`month_of_day`]).
pub fn month_label(month: i64) -> String {
    format!("{:04}-{:02}", month.div_euclid(12), month.rem_euclid(12) + 1)
}

/// What the ledger records for a create before it is forwarded.
#[derive(Clone, Debug)]
pub struct Entry {
    pub visitor: String,
    pub token: Option<String>,
    /// The network address whose daily budget it counts against; `None`: none does (a
    /// token's holder, or no budget per address).
    pub address: Option<String>,
    pub style: Option<String>,
    /// The kind of create (`clipcloud::operation::kind_of`): what its price is learned by.
    pub kind: String,
    pub count: u32,
    pub estimate: Cents,
    pub at_unix: u64,
}

/// The caps a reservation must stay within, each with the estimate added.
#[derive(Clone, Copy, Debug)]
pub struct Caps {
    pub visitor_daily: Cents,
    /// Per network address, when the entry names one.
    pub address_daily: Cents,
    pub daily: Cents,
    pub monthly: Cents,
    /// The token's own budget, when the create carries a token.
    pub token: Option<Cents>,
}

/// Which cap a reservation would have crossed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Over {
    Token,
    Address,
    Visitor,
    Daily,
    Monthly,
}

/// What became of a forwarded create.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The service answered with a creation id; the estimate stays until the real cost.
    Accepted,
    /// The service surely did not start it; nothing is charged.
    Refused,
    /// Nobody knows (timeout, 5xx, an answer that could not be read); the estimate stays.
    Unknown,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Refused => "refused",
            Self::Unknown => "unknown",
        }
    }
}

/// The operator's balance at the service as read on one UTC day (hundredths of a credit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    pub day: i64,
    /// The last reading.
    pub last: Cents,
    /// What it dropped since the day's first reading; rises (a top-up, a refund) not counted.
    pub dropped: Cents,
    /// The day's spend as the counters had it at the first reading.
    pub base: Cents,
}

/// Whose spend [`Ledger::spent_by`] sums.
#[derive(Clone, Debug)]
pub struct Spender {
    pub visitor: String,
    /// Its network address, when its creates count against one.
    pub address: Option<String>,
    pub token: Option<String>,
}

/// What one spender spent: its visitor and its address on a UTC day, its token in all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpentBy {
    pub visitor: Cents,
    pub address: Cents,
    pub token: Cents,
}

/// The spend that counts against the caps, from this ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Totals {
    pub day: Cents,
    pub month: Cents,
}

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The handle to the ledger's thread. Cheap to clone; the thread (and the connection)
/// ends when the last handle is dropped, after the jobs already sent.
#[derive(Clone)]
pub struct Ledger {
    jobs: mpsc::Sender<Job>,
    /// Jobs that failed since the start, all handles together.
    errors: Arc<AtomicU64>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ledger")
    }
}

/// Rows: one per create forwarded (or about to be). `charge` is what counts against the
/// caps: the estimate, 0 once refused, the real cost once settled.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS creates (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    day         INTEGER NOT NULL,
    month       INTEGER NOT NULL,
    visitor     TEXT NOT NULL,
    token       TEXT,
    address     TEXT,
    style       TEXT,
    kind        TEXT,
    count       INTEGER NOT NULL,
    estimate    INTEGER NOT NULL,
    cost        INTEGER,
    charge      INTEGER NOT NULL,
    creation_id TEXT,
    outcome     TEXT NOT NULL DEFAULT 'pending'
);
CREATE INDEX IF NOT EXISTS creates_day_visitor ON creates (day, visitor, charge);
CREATE INDEX IF NOT EXISTS creates_month ON creates (month, charge);
CREATE INDEX IF NOT EXISTS creates_token ON creates (token, charge) WHERE token IS NOT NULL;
CREATE INDEX IF NOT EXISTS creates_creation ON creates (creation_id) WHERE creation_id IS NOT NULL;
-- What the held checks' polling schedule learned (clipcloud::poll::Learned as text), so
-- that a restart does not start it cold.
CREATE TABLE IF NOT EXISTS learned (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    text TEXT NOT NULL
);
-- The most each kind of create was seen to cost (hundredths), reserved for the next ones.
CREATE TABLE IF NOT EXISTS prices (
    kind  TEXT PRIMARY KEY,
    cents INTEGER NOT NULL
);
-- The operator's balance at the service, per UTC day: the last reading, what it dropped
-- since the day's first reading (rises such as top-ups not counted), and the day's spend
-- as the counters had it at that first reading (hundredths).
CREATE TABLE IF NOT EXISTS readings (
    day     INTEGER PRIMARY KEY,
    last    INTEGER NOT NULL,
    dropped INTEGER NOT NULL,
    base    INTEGER NOT NULL
);
";

/// What schema 2 adds once its columns are there (`open_connection` adds them to a ledger
/// of schema 1).
const SCHEMA_2: &str = "
CREATE INDEX IF NOT EXISTS creates_day_address ON creates (day, address, charge) WHERE address IS NOT NULL;
PRAGMA user_version = 2;
";

/// The ledger's schema version; a newer one is refused.
const VERSION: i64 = 2;

/// Jobs waiting for the ledger's thread at most; more callers wait for room.
const QUEUE: usize = 256;

impl Ledger {
    /// Opens (or creates) the ledger at `path`; `:memory:` keeps nothing after the process.
    pub async fn open(path: &Path) -> Result<Ledger, String> {
        let shown = path.display().to_string();
        let path = path.to_owned();
        let (jobs, mut queue) = mpsc::channel::<Job>(QUEUE);
        let (ready, opened) = oneshot::channel::<Result<(), String>>();
        std::thread::Builder::new()
            .name("clipcloud-ledger".into())
            .spawn(move || {
                let mut conn = match open_connection(&path) {
                    Ok(conn) => {
                        let _ = ready.send(Ok(()));
                        conn
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                while let Some(job) = queue.blocking_recv() {
                    job(&mut conn);
                }
            })
            .map_err(|e| format!("--ledger {shown}: cannot start its thread: {e}"))?;
        match opened.await {
            Ok(Ok(())) => Ok(Ledger { jobs, errors: Arc::default() }),
            Ok(Err(e)) => Err(format!("--ledger {shown}: {e}")),
            Err(_) => Err(format!("--ledger {shown}: its thread ended")),
        }
    }

    /// Jobs that failed since the start.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Whether the ledger answers a query now (for `/readyz`).
    pub async fn ping(&self) -> Result<(), String> {
        self.run(|conn| conn.query_row("SELECT 1", [], |_| Ok(()))).await
    }

    /// Runs `f` on the ledger's thread and waits for its answer.
    async fn run<R, F>(&self, f: F) -> Result<R, String>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let result = self.run_job(f).await;
        if result.is_err() {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        result
    }

    async fn run_job<R, F>(&self, f: F) -> Result<R, String>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            // A panic inside SQLite glue must not take the thread (and every later job) down.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn)));
            let _ = tx.send(match result {
                Ok(Ok(r)) => Ok(r),
                Ok(Err(e)) => Err(format!("ledger: {e}")),
                Err(_) => Err("ledger: a job panicked".to_owned()),
            });
        });
        self.jobs.send(job).await.map_err(|_| "ledger: its thread has ended".to_owned())?;
        rx.await.map_err(|_| "ledger: its thread has ended".to_owned())?
    }

    /// Inserts a pending row for `entry`. With `caps`, first checks every cap with the
    /// estimate added, in the same IMMEDIATE transaction: `Ok(Err(over))` inserts nothing.
    /// Without `caps` (Redis keeps the counters), only records.
    pub async fn reserve(&self, entry: Entry, caps: Option<Caps>) -> Result<Result<i64, Over>, String> {
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let day = day_of(entry.at_unix);
            let month = month_of_day(day);
            if let Some(caps) = caps {
                let est = entry.estimate;
                let sum = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> rusqlite::Result<Cents> {
                    tx.query_row(sql, p, |r| r.get::<_, Cents>(0))
                };
                if let (Some(token), Some(budget)) = (&entry.token, caps.token) {
                    let spent =
                        sum("SELECT COALESCE(SUM(charge), 0) FROM creates WHERE token = ?1", &[token])?;
                    if spent.saturating_add(est) > budget {
                        return Ok(Err(Over::Token));
                    }
                }
                if let Some(address) = &entry.address {
                    let spent = sum(
                        "SELECT COALESCE(SUM(charge), 0) FROM creates WHERE day = ?1 AND address = ?2",
                        &[&day, address],
                    )?;
                    if spent.saturating_add(est) > caps.address_daily {
                        return Ok(Err(Over::Address));
                    }
                }
                let spent = sum(
                    "SELECT COALESCE(SUM(charge), 0) FROM creates WHERE day = ?1 AND visitor = ?2",
                    &[&day, &entry.visitor],
                )?;
                if spent.saturating_add(est) > caps.visitor_daily {
                    return Ok(Err(Over::Visitor));
                }
                let spent = sum("SELECT COALESCE(SUM(charge), 0) FROM creates WHERE day = ?1", &[&day])?;
                if spent.saturating_add(est) > caps.daily {
                    return Ok(Err(Over::Daily));
                }
                let spent = sum("SELECT COALESCE(SUM(charge), 0) FROM creates WHERE month = ?1", &[&month])?;
                if spent.saturating_add(est) > caps.monthly {
                    return Ok(Err(Over::Monthly));
                }
            }
            tx.execute(
                "INSERT INTO creates (at, day, month, visitor, token, address, style, kind, count, estimate, charge)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
                params![
                    entry.at_unix as i64,
                    day,
                    month,
                    entry.visitor,
                    entry.token,
                    entry.address,
                    entry.style,
                    entry.kind,
                    entry.count,
                    entry.estimate
                ],
            )?;
            let row = tx.last_insert_rowid();
            tx.commit()?;
            Ok(Ok(row))
        })
        .await
    }

    /// Records what became of the create in `row`; `creation_id` with [`Outcome::Accepted`].
    pub async fn outcome(
        &self,
        row: i64,
        outcome: Outcome,
        creation_id: Option<String>,
    ) -> Result<(), String> {
        self.run(move |conn| {
            let charge = if outcome == Outcome::Refused { "0" } else { "charge" };
            let sql = format!(
                "UPDATE creates SET outcome = ?2, creation_id = COALESCE(?3, creation_id), charge = {charge}
                 WHERE id = ?1 AND outcome = 'pending'"
            );
            conn.execute(&sql, params![row, outcome.as_str(), creation_id])?;
            Ok(())
        })
        .await
    }

    /// Replaces the estimate of the accepted create `creation_id` by its real cost, once:
    /// `Ok(Some(kind))` the first time (the create's kind, `""` for a row written before
    /// kinds were kept), `Ok(None)` when already settled or unknown here.
    pub async fn settle(&self, creation_id: &str, cost: Cents) -> Result<Option<String>, String> {
        let creation_id = creation_id.to_owned();
        self.run(move |conn| {
            conn.query_row(
                "UPDATE creates SET cost = ?2, charge = ?2
                 WHERE creation_id = ?1 AND cost IS NULL AND outcome = 'accepted'
                 RETURNING COALESCE(kind, '')",
                params![creation_id, cost],
                |r| r.get(0),
            )
            .optional()
        })
        .await
    }

    /// The prices learned so far: the most each kind was seen to cost.
    pub async fn prices(&self) -> Result<Vec<(String, Cents)>, String> {
        self.run(|conn| {
            let mut stmt = conn.prepare("SELECT kind, cents FROM prices")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        })
        .await
    }

    /// Keeps `cents` as the price of `kind` if it is more than the one kept.
    pub async fn save_price(&self, kind: String, cents: Cents) -> Result<(), String> {
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO prices (kind, cents) VALUES (?1, ?2)
                 ON CONFLICT (kind) DO UPDATE SET cents = MAX(cents, excluded.cents)",
                params![kind, cents],
            )?;
            Ok(())
        })
        .await
    }

    /// The operator's balance as read on the UTC day `day`, if it was.
    pub async fn reading(&self, day: i64) -> Result<Option<Reading>, String> {
        self.run(move |conn| {
            conn.query_row("SELECT last, dropped, base FROM readings WHERE day = ?1", [day], |r| {
                Ok(Reading { day, last: r.get(0)?, dropped: r.get(1)?, base: r.get(2)? })
            })
            .optional()
        })
        .await
    }

    /// Keeps a day's balance readings (and forgets those of days long past).
    pub async fn save_reading(&self, reading: Reading) -> Result<(), String> {
        self.run(move |conn| {
            let Reading { day, last, dropped, base } = reading;
            conn.execute(
                "INSERT OR REPLACE INTO readings (day, last, dropped, base) VALUES (?1, ?2, ?3, ?4)",
                params![day, last, dropped, base],
            )?;
            conn.execute("DELETE FROM readings WHERE day < ?1", [day - 400])?;
            Ok(())
        })
        .await
    }

    /// What the polling schedule learned, as saved last ([`Self::save_learned`]).
    pub async fn learned(&self) -> Result<Option<String>, String> {
        self.run(|conn| conn.query_row("SELECT text FROM learned WHERE id = 1", [], |r| r.get(0)).optional())
            .await
    }

    /// Keeps what the polling schedule learned (bounded: the core keeps a few kinds, a
    /// few dozen creations each), in place of what was kept before.
    pub async fn save_learned(&self, text: String) -> Result<(), String> {
        self.run(move |conn| {
            conn.execute("INSERT OR REPLACE INTO learned (id, text) VALUES (1, ?1)", [text])?;
            Ok(())
        })
        .await
    }

    /// The visitor who created `creation_id`, if this ledger has it.
    pub async fn owner(&self, creation_id: &str) -> Result<Option<String>, String> {
        let creation_id = creation_id.to_owned();
        self.run(move |conn| {
            conn.query_row(
                "SELECT visitor FROM creates WHERE creation_id = ?1 ORDER BY id DESC LIMIT 1",
                [creation_id],
                |r| r.get(0),
            )
            .optional()
        })
        .await
    }

    /// The spend counted against the caps on the UTC day and month of `now_unix`.
    pub async fn totals(&self, now_unix: u64) -> Result<Totals, String> {
        self.run(move |conn| {
            let day = day_of(now_unix);
            let month = month_of_day(day);
            let sum = |sql: &str, v: i64| conn.query_row(sql, [v], |r| r.get::<_, Cents>(0));
            Ok(Totals {
                day: sum("SELECT COALESCE(SUM(charge), 0) FROM creates WHERE day = ?1", day)?,
                month: sum("SELECT COALESCE(SUM(charge), 0) FROM creates WHERE month = ?1", month)?,
            })
        })
        .await
    }

    /// What `who` spent: its visitor and network address on the UTC day of `now_unix`, its
    /// token in all.
    pub async fn spent_by(&self, who: Spender, now_unix: u64) -> Result<SpentBy, String> {
        self.run(move |conn| {
            let day = day_of(now_unix);
            let by_visitor = conn.query_row(
                "SELECT COALESCE(SUM(charge), 0) FROM creates WHERE day = ?1 AND visitor = ?2",
                params![day, who.visitor],
                |r| r.get::<_, Cents>(0),
            )?;
            let by_address = match who.address {
                None => 0,
                Some(address) => conn.query_row(
                    "SELECT COALESCE(SUM(charge), 0) FROM creates WHERE day = ?1 AND address = ?2",
                    params![day, address],
                    |r| r.get::<_, Cents>(0),
                )?,
            };
            let by_token = match who.token {
                None => 0,
                Some(token) => conn.query_row(
                    "SELECT COALESCE(SUM(charge), 0) FROM creates WHERE token = ?1",
                    [token],
                    |r| r.get::<_, Cents>(0),
                )?,
            };
            Ok(SpentBy { visitor: by_visitor, address: by_address, token: by_token })
        })
        .await
    }

    /// Per UTC day (newest first) and per visitor, for the `days` days up to `now_unix`:
    /// creates, images, refused creates, estimated, real and counted cost (in credits).
    pub async fn usage(&self, now_unix: u64, days: u32) -> Result<serde_json::Value, String> {
        let days = days.clamp(1, USAGE_MAX_DAYS);
        self.run(move |conn| {
            let last = day_of(now_unix);
            let first = last - i64::from(days) + 1;
            let mut stmt = conn.prepare(
                "SELECT day, visitor,
                        COUNT(*),
                        COALESCE(SUM(CASE WHEN outcome = 'refused' THEN 0 ELSE count END), 0),
                        COALESCE(SUM(outcome = 'refused'), 0),
                        COALESCE(SUM(CASE WHEN outcome = 'refused' THEN 0 ELSE estimate END), 0),
                        COALESCE(SUM(cost), 0),
                        COALESCE(SUM(cost IS NOT NULL), 0),
                        COALESCE(SUM(charge), 0)
                 FROM creates WHERE day BETWEEN ?1 AND ?2
                 GROUP BY day, visitor
                 ORDER BY day DESC, SUM(charge) DESC, visitor",
            )?;
            let mut rows = stmt.query([first, last])?;
            let mut out: Vec<serde_json::Value> = Vec::new();
            let mut current: Option<(i64, Sums, Vec<serde_json::Value>, u64)> = None;
            while let Some(row) = rows.next()? {
                let day: i64 = row.get(0)?;
                let visitor: String = row.get(1)?;
                let sums = Sums {
                    creates: row.get(2)?,
                    images: row.get(3)?,
                    refused: row.get(4)?,
                    estimated: row.get(5)?,
                    cost: row.get(6)?,
                    settled: row.get(7)?,
                    spent: row.get(8)?,
                };
                if let Some(finished) = current.take_if(|c| c.0 != day) {
                    out.push(day_json(finished));
                }
                let entry = current.get_or_insert_with(|| (day, Sums::default(), Vec::new(), 0));
                entry.1.add(&sums);
                if entry.2.len() < USAGE_MAX_VISITORS {
                    let mut v = sums.json();
                    v["visitor"] = visitor.into();
                    entry.2.push(v);
                } else {
                    entry.3 += 1;
                }
            }
            if let Some(c) = current {
                out.push(day_json(c));
            }
            Ok(serde_json::json!({
                "from": day_label(first),
                "to": day_label(last),
                "days": out,
            }))
        })
        .await
    }
}

/// `usage` covers at most this many days, and lists at most this many visitors per day
/// (the biggest spenders; the rest are counted in `visitors_omitted` and in the day's sums).
pub const USAGE_MAX_DAYS: u32 = 400;
pub const USAGE_MAX_VISITORS: usize = 1000;

#[derive(Default)]
struct Sums {
    creates: i64,
    images: i64,
    refused: i64,
    estimated: Cents,
    cost: Cents,
    settled: i64,
    spent: Cents,
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.creates += o.creates;
        self.images += o.images;
        self.refused += o.refused;
        self.estimated += o.estimated;
        self.cost += o.cost;
        self.settled += o.settled;
        self.spent += o.spent;
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "creates": self.creates,
            "images": self.images,
            "refused": self.refused,
            "estimated": credits(self.estimated),
            "cost": credits(self.cost),
            "settled": self.settled,
            "spent": credits(self.spent),
        })
    }
}

fn day_json((day, sums, visitors, omitted): (i64, Sums, Vec<serde_json::Value>, u64)) -> serde_json::Value {
    let mut v = sums.json();
    v["day"] = day_label(day).into();
    v["visitors"] = visitors.into();
    v["visitors_omitted"] = omitted.into();
    v
}

/// Hundredths of a credit as a JSON number of credits (110 → 1.1).
pub fn credits(cents: Cents) -> serde_json::Value {
    serde_json::Number::from_f64(cents as f64 / 100.0)
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}

fn open_connection(path: &Path) -> Result<Connection, String> {
    let conn = Connection::open(path).map_err(|e| format!("cannot open it: {e}"))?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| e.to_string())?;
    // WAL: readers do not block the writer; NORMAL: durable across a process crash, and
    // across power loss up to the last checkpoint. `:memory:` answers "memory" and is fine.
    let _mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(|e| format!("cannot set its journal mode: {e}"))?;
    conn.execute_batch("PRAGMA synchronous = NORMAL;").map_err(|e| e.to_string())?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| e.to_string())?;
    if version > VERSION {
        return Err(format!("it was written by a newer gateway (schema {version})"));
    }
    conn.execute_batch(SCHEMA).map_err(|e| format!("cannot create its tables: {e}"))?;
    // A ledger of schema 1: its creates lack the columns added since.
    for column in ["address", "kind"] {
        let present: bool = conn
            .query_row(
                "SELECT COUNT(*) > 0 FROM pragma_table_info('creates') WHERE name = ?1",
                [column],
                |r| r.get(0),
            )
            .map_err(|e| e.to_string())?;
        if !present {
            conn.execute_batch(&format!("ALTER TABLE creates ADD COLUMN {column} TEXT"))
                .map_err(|e| format!("cannot add the column {column}: {e}"))?;
        }
    }
    conn.execute_batch(SCHEMA_2).map_err(|e| format!("cannot update its tables: {e}"))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Days from 1970-01-01 counted the slow way, month by month.
    fn days_from_civil_slow(y: i64, m: u32, d: u32) -> i64 {
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let month_len = |y: i64, m: u32| match m {
            2 if leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let mut days = 0i64;
        for year in 1970..y {
            days += if leap(year) { 366 } else { 365 };
        }
        for month in 1..m {
            days += month_len(y, month);
        }
        days + i64::from(d) - 1
    }

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(day_label(day_of(1_796_083_199)), "2026-11-30"); // 2026-11-30T23:59:59Z
        assert_eq!(day_label(day_of(1_796_083_200)), "2026-12-01");
        assert_eq!(day_label(day_of(951_868_800)), "2000-03-01");
        // Every day from 1970 to 2200 against the slow count, and months change on the 1st.
        let mut prev_month = month_of_day(-1);
        for day in 0..(230 * 366) {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil_slow(y, m, d), day, "{y}-{m}-{d}");
            let month = month_of_day(day);
            assert_eq!(month != prev_month, d == 1, "{y}-{m}-{d}");
            assert_eq!(month_label(month), format!("{y:04}-{m:02}"));
            prev_month = month;
        }
    }

    fn entry(visitor: &str, estimate: Cents, at: u64) -> Entry {
        Entry {
            visitor: visitor.into(),
            token: None,
            address: None,
            style: Some("standard".into()),
            kind: "standard *".into(),
            count: 1,
            estimate,
            at_unix: at,
        }
    }

    const NOW: u64 = 1_794_744_000; // 2026-11-15T12:00:00Z

    #[tokio::test]
    async fn rows_record_outcomes_and_settle_once() {
        let ledger = Ledger::open(Path::new(":memory:")).await.unwrap();
        let a = ledger.reserve(entry("ip:1", 110, NOW), None).await.unwrap().unwrap();
        let b = ledger.reserve(entry("ip:2", 220, NOW), None).await.unwrap().unwrap();
        let c = ledger.reserve(entry("ip:2", 330, NOW), None).await.unwrap().unwrap();
        ledger.outcome(a, Outcome::Accepted, Some("id-a".into())).await.unwrap();
        ledger.outcome(b, Outcome::Refused, None).await.unwrap();
        ledger.outcome(c, Outcome::Unknown, None).await.unwrap();
        // A second outcome for the same row changes nothing.
        ledger.outcome(c, Outcome::Refused, None).await.unwrap();
        assert_eq!(ledger.totals(NOW).await.unwrap(), Totals { day: 440, month: 440 });
        assert_eq!(ledger.settle("id-a", 100).await.unwrap().as_deref(), Some("standard *"));
        assert_eq!(ledger.settle("id-a", 900).await.unwrap(), None);
        assert_eq!(ledger.settle("nobody", 900).await.unwrap(), None);
        assert_eq!(ledger.totals(NOW).await.unwrap().day, 430);
        assert_eq!(ledger.owner("id-a").await.unwrap().as_deref(), Some("ip:1"));
        assert_eq!(ledger.owner("id-b").await.unwrap(), None);

        let usage = ledger.usage(NOW, 7).await.unwrap();
        let day = &usage["days"][0];
        assert_eq!(day["day"], "2026-11-15");
        assert_eq!(day["creates"], 3);
        assert_eq!(day["refused"], 1);
        assert_eq!(day["images"], 2);
        assert_eq!(day["estimated"], 4.4);
        assert_eq!(day["cost"], 1.0);
        assert_eq!(day["spent"], 4.3);
        assert_eq!(day["visitors"][0]["visitor"], "ip:2");
        assert_eq!(day["visitors"][0]["spent"], 3.3);
        assert_eq!(day["visitors"][1]["visitor"], "ip:1");
        assert_eq!(usage["days"].as_array().unwrap().len(), 1);
        // Out of the window: nothing.
        let later = ledger.usage(NOW + 10 * DAY, 7).await.unwrap();
        assert_eq!(later["days"].as_array().unwrap().len(), 0);
    }

    #[tokio::test]
    async fn caps_are_checked_inside_the_insert() {
        let ledger = Ledger::open(Path::new(":memory:")).await.unwrap();
        let caps = Caps { visitor_daily: 300, address_daily: 10_000, daily: 500, monthly: 700, token: None };
        assert!(ledger.reserve(entry("a", 200, NOW), Some(caps)).await.unwrap().is_ok());
        assert_eq!(ledger.reserve(entry("a", 200, NOW), Some(caps)).await.unwrap(), Err(Over::Visitor));
        assert!(ledger.reserve(entry("b", 300, NOW), Some(caps)).await.unwrap().is_ok());
        assert_eq!(ledger.reserve(entry("c", 10, NOW), Some(caps)).await.unwrap(), Err(Over::Daily));
        let tomorrow = NOW + DAY;
        assert!(ledger.reserve(entry("c", 200, tomorrow), Some(caps)).await.unwrap().is_ok());
        assert_eq!(ledger.reserve(entry("d", 10, tomorrow), Some(caps)).await.unwrap(), Err(Over::Monthly));
        // Refused attempts left no rows.
        assert_eq!(ledger.totals(NOW).await.unwrap(), Totals { day: 500, month: 700 });
        // One address, one budget, whichever visitors it has.
        let caps = Caps { address_daily: 250, daily: 10_000, monthly: 10_000, ..caps };
        let from = |visitor: &str, address: &str, estimate| Entry {
            address: Some(address.into()),
            ..entry(visitor, estimate, tomorrow + DAY)
        };
        assert!(ledger.reserve(from("c:1", "ip:10.0.0.0/24", 200), Some(caps)).await.unwrap().is_ok());
        let over = ledger.reserve(from("c:2", "ip:10.0.0.0/24", 100), Some(caps)).await.unwrap();
        assert_eq!(over, Err(Over::Address));
        assert!(ledger.reserve(from("c:2", "ip:10.0.1.0/24", 100), Some(caps)).await.unwrap().is_ok());
        let who = Spender { visitor: "c:1".into(), address: Some("ip:10.0.0.0/24".into()), token: None };
        let by = ledger.spent_by(who, tomorrow + DAY).await.unwrap();
        assert_eq!(by, SpentBy { visitor: 200, address: 200, token: 0 });
    }

    #[tokio::test]
    async fn prices_and_readings_are_kept() {
        let ledger = Ledger::open(Path::new(":memory:")).await.unwrap();
        ledger.save_price("standard *".into(), 110).await.unwrap();
        ledger.save_price("standard *".into(), 100).await.unwrap();
        ledger.save_price("HD-HQ *2".into(), 440).await.unwrap();
        let mut prices = ledger.prices().await.unwrap();
        prices.sort();
        assert_eq!(prices, [("HD-HQ *2".to_owned(), 440), ("standard *".to_owned(), 110)], "the most seen");
        let day = day_of(NOW);
        assert_eq!(ledger.reading(day).await.unwrap(), None);
        let reading = Reading { day, last: 9_000, dropped: 1_000, base: 50 };
        ledger.save_reading(reading).await.unwrap();
        ledger.save_reading(Reading { day: day - 1, ..reading }).await.unwrap();
        assert_eq!(ledger.reading(day).await.unwrap(), Some(reading));
        ledger.save_reading(Reading { day: day + 401, ..reading }).await.unwrap();
        assert_eq!(ledger.reading(day).await.unwrap(), None, "days long past are forgotten");
    }

    #[tokio::test]
    async fn a_ledger_of_schema_1_is_brought_up_to_date() {
        let dir = std::env::temp_dir().join(format!("ccgw-ledger-v1-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("v1.sqlite3");
        let _ = std::fs::remove_file(&path);
        {
            // The creates table as schema 1 had it, with one accepted create.
            let old = Connection::open(&path).unwrap();
            old.execute_batch(
                "CREATE TABLE creates (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, day INTEGER NOT NULL,
                   month INTEGER NOT NULL, visitor TEXT NOT NULL, token TEXT, style TEXT, count INTEGER NOT NULL,
                   estimate INTEGER NOT NULL, cost INTEGER, charge INTEGER NOT NULL, creation_id TEXT,
                   outcome TEXT NOT NULL DEFAULT 'pending');
                 INSERT INTO creates (at, day, month, visitor, style, count, estimate, charge, creation_id, outcome)
                   VALUES (0, 0, 0, 'ip:1', 'standard', 1, 110, 110, 'old-1', 'accepted');
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let ledger = Ledger::open(&path).await.unwrap();
        assert_eq!(ledger.settle("old-1", 100).await.unwrap().as_deref(), Some(""), "no kind kept then");
        let caps = Caps { visitor_daily: 1000, address_daily: 100, daily: 1000, monthly: 1000, token: None };
        let entry = Entry { address: Some("ip:2".into()), ..entry("c:x", 110, NOW) };
        assert_eq!(ledger.reserve(entry, Some(caps)).await.unwrap(), Err(Over::Address));
        drop(ledger);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[tokio::test]
    async fn a_broken_file_is_an_error_not_a_panic() {
        let dir = std::env::temp_dir().join(format!("ccgw-ledger-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("not-a-db.sqlite3");
        std::fs::write(&path, vec![b'x'; 4096]).unwrap();
        let err = Ledger::open(&path).await.unwrap_err();
        assert!(err.contains("--ledger"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
