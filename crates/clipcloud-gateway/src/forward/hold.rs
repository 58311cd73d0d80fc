//! Held checks: `GET /api/creation/{id}` with `Prefer: wait=N` ([`clipcloud::hold`]) is
//! held open until the creation is ready, or N seconds (at most `--hold-max`), then
//! answered with `Preference-Applied: wait=N`.
//!
//! Behind the holds, one poller per creation (and key) checks the service on the core's
//! schedule for servers ([`PollSchedule::held`]), learned from every visitor's creations per kind (style and
//! count, [`clipcloud::operation::kind_of`]) — the gateway sees the creates it relays, so
//! it knows each creation's kind and start. Every held check of that creation subscribes to
//! its poller's latest answer. A poller ends when its creation is ready (or gone), at the
//! schedule's deadline, or as soon as no held check waits on it any more (a tab closed, a
//! fetch aborted): what a visitor abandons stops costing upstream calls, at most after the
//! one in flight. What was learned is kept in the ledger (operator-key mode), so a restart
//! does not start cold.
//!
//! The gateway can also follow a creation itself ([`Holds::follow`]): a subscription like a
//! held check's, with no time limit, so that the poller runs to the creation's end (or the
//! schedule's deadline) with nobody waiting. Operator-key mode follows every creation it
//! made, to settle its real cost without a visitor's check.
//!
//! Bounded: at most `--max-held` checks held, an eighth of them (at least 4) per holder
//! (the client's network address), and `--max-pollers` pollers at once (beyond, a check is
//! answered at once, as without `Prefer`), the creations remembered for their kind and
//! start ([`RECENT`]), and the learned schedule (the core's own bounds).

use crate::error_log;
use crate::forward::upstream::{Answer, Failure, Upstream};
use crate::store::ledger::Ledger;
use axum::http::Method;
use clipcloud::codec::{Endpoint, HttpResponse};
use clipcloud::poll::{Learned, PollSchedule};
use clipcloud::retry::CallKind;
use clipcloud::server::{create_outcome, CreateOutcome};
use clipcloud::{CreateRequest, Finished, Status};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Creations made through this gateway remembered for their kind and start, at most.
pub const RECENT: usize = 4_096;

/// A poller's latest upstream answer, shared with its waiters.
type Latest = Option<Arc<Result<Answer, Failure>>>;

/// The held checks' shared state. One per gateway (clones share it).
#[derive(Clone)]
pub struct Holds {
    shared: Arc<Shared>,
    max_held: usize,
    /// Checks one holder may have held at once.
    share: usize,
    max_pollers: usize,
}

struct Shared {
    schedule: PollSchedule,
    learned: Mutex<Learned>,
    recent: Mutex<Recent>,
    /// By creation id and key digest.
    pollers: Mutex<HashMap<String, Arc<watch::Sender<Latest>>>>,
    held: AtomicUsize,
    /// Checks held now, per holder (none listed with none held).
    held_by: Mutex<HashMap<String, usize>>,
    /// Upstream checks the pollers have in flight now.
    upstream: AtomicUsize,
    /// Upstream checks the pollers sent since the start.
    upstream_total: AtomicUsize,
    store: Option<Ledger>,
}

/// Creations seen created here: id → (kind, start), oldest first.
#[derive(Default)]
struct Recent {
    by_id: HashMap<String, (String, Instant)>,
    order: VecDeque<String>,
}

/// How busy the held checks are now (`/healthz`, the benchmark).
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Load {
    pub held: usize,
    pub pollers: usize,
    pub upstream_in_flight: usize,
    pub upstream_checks: usize,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update under these locks is a few plain assignments: consistent even after a panic.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Gives a held place back when the held check ends, however it ends.
struct Place<'a> {
    shared: &'a Shared,
    holder: String,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        let mut held_by = lock(&self.shared.held_by);
        if let Some(held) = held_by.get_mut(&self.holder) {
            *held -= 1;
            if *held == 0 {
                held_by.remove(&self.holder);
            }
        }
        self.shared.held.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The share of `max_held` one holder may take: an eighth, at least 4.
fn share_of(max_held: usize) -> usize {
    (max_held / 8).max(4)
}

impl Holds {
    /// At most `max_held` checks held and `max_pollers` pollers at once, with what `store`
    /// (the ledger) kept from an earlier run, if there is one.
    pub async fn open(max_held: usize, max_pollers: usize, store: Option<Ledger>) -> Self {
        let mut learned = Learned::default();
        if let Some(ledger) = &store {
            match ledger.learned().await {
                Ok(Some(text)) => learned = Learned::from_text(&text),
                Ok(None) => {}
                Err(e) => log("load", &e),
            }
        }
        let shared = Shared {
            schedule: PollSchedule::held(),
            learned: Mutex::new(learned),
            recent: Mutex::default(),
            pollers: Mutex::default(),
            held: AtomicUsize::new(0),
            held_by: Mutex::default(),
            upstream: AtomicUsize::new(0),
            upstream_total: AtomicUsize::new(0),
            store,
        };
        Self { shared: Arc::new(shared), max_held, share: share_of(max_held), max_pollers }
    }

    /// A create this gateway relayed: once accepted, its kind and start are remembered, so
    /// that its held checks follow (and teach) the schedule of its kind.
    pub fn created(&self, request: &CreateRequest, answer: &HttpResponse, sent: Instant) {
        let CreateOutcome::Accepted(id) = create_outcome(answer) else { return };
        // The service started it between the send and the answer: the middle is the best guess.
        let started = sent + sent.elapsed() / 2;
        let kind = clipcloud::operation::kind_of(request);
        let mut recent = lock(&self.shared.recent);
        // Past the deadline nobody polls it any more; and never more than RECENT.
        let deadline = self.shared.schedule.deadline;
        while let Some(oldest) = recent.order.front() {
            let stale = recent.by_id.get(oldest).is_none_or(|(_, at)| at.elapsed() > deadline);
            if !stale && recent.order.len() < RECENT {
                break;
            }
            if let Some(oldest) = recent.order.pop_front() {
                recent.by_id.remove(&oldest);
            }
        }
        if recent.by_id.insert(id.clone(), (kind, started)).is_none() {
            recent.order.push_back(id);
        }
    }

    pub fn load(&self) -> Load {
        Load {
            held: self.shared.held.load(Ordering::SeqCst),
            pollers: lock(&self.shared.pollers).len(),
            upstream_in_flight: self.shared.upstream.load(Ordering::SeqCst),
            upstream_checks: self.shared.upstream_total.load(Ordering::SeqCst),
        }
    }

    /// What the schedule learned so far, as the core writes it.
    pub fn learned_text(&self) -> String {
        lock(&self.shared.learned).to_text()
    }

    /// A held place for `holder`; `None` at the cap, or at the holder's share of it.
    fn place(&self, holder: &str) -> Option<Place<'_>> {
        let mut held_by = lock(&self.shared.held_by);
        let mine = held_by.get(holder).copied().unwrap_or(0);
        if self.shared.held.load(Ordering::SeqCst) >= self.max_held || mine >= self.share {
            return None;
        }
        held_by.insert(holder.to_owned(), mine + 1);
        self.shared.held.fetch_add(1, Ordering::SeqCst);
        Some(Place { shared: &self.shared, holder: holder.to_owned() })
    }

    /// Follows the creation `id` (with `key`) to its end: its poller keeps polling with no
    /// held check waiting, until the creation is ready or gone, or the schedule's deadline.
    /// `None` at the pollers' cap (nothing is followed then).
    pub fn follow(&self, upstream: &Upstream, id: &str, key: &str) -> Option<Followed> {
        let latest = self.subscribe(upstream, id, key)?;
        Some(Followed { latest, id: id.to_owned() })
    }

    /// The latest answers of the poller of `id` for `key`, started if there is none;
    /// `None` at the pollers' cap.
    fn subscribe(&self, upstream: &Upstream, id: &str, key: &str) -> Option<watch::Receiver<Latest>> {
        let name = [id, "\n", &clipcloud::hex::encode(&Sha256::digest(key.as_bytes()))].concat();
        let mut pollers = lock(&self.shared.pollers);
        if let Some(poller) = pollers.get(&name) {
            return Some(poller.subscribe());
        }
        if pollers.len() >= self.max_pollers {
            return None;
        }
        let (tx, rx) = watch::channel(None);
        let tx = Arc::new(tx);
        pollers.insert(name.clone(), tx.clone());
        drop(pollers);
        let known = lock(&self.shared.recent).by_id.get(id).cloned();
        let job = Poller {
            shared: self.shared.clone(),
            upstream: upstream.clone(),
            url: Endpoint { base_url: "", api_key: Some(key) }.check(id).url,
            id: id.to_owned(),
            name,
            tx,
        };
        tokio::spawn(job.run(known));
        Some(rx)
    }
}

impl Holds {
    /// Holds a check of `id` (with `key`) for `holder` up to `wait`: the poller's final
    /// answer as soon as there is one, else its latest when `wait` is over. `None` when it
    /// cannot be held (at the caps, or the holder's share) or nothing came from upstream yet
    /// (its first check is slow): the caller then relays the check at once, as without a hold.
    pub async fn wait(
        &self,
        upstream: &Upstream,
        id: &str,
        key: &str,
        wait: Duration,
        holder: &str,
    ) -> Option<Arc<Result<Answer, Failure>>> {
        let _place = self.place(holder)?;
        let mut latest = self.subscribe(upstream, id, key)?;
        let until = tokio::time::Instant::now() + wait;
        let mut answer = None;
        loop {
            let current = latest.borrow_and_update().clone();
            if current.as_deref().is_some_and(|a| is_final(a, id)) {
                return current;
            }
            answer = current.or(answer);
            tokio::select! {
                changed = latest.changed() => if changed.is_err() {
                    // The poller ended (ready, gone, or its deadline): its last word stands.
                    return latest.borrow().clone().or(answer);
                },
                () = tokio::time::sleep_until(until) => return answer,
            }
        }
    }
}

/// The gateway's own wait for a creation ([`Holds::follow`]).
pub struct Followed {
    latest: watch::Receiver<Latest>,
    id: String,
}

impl Followed {
    /// The creation, once a check finds it finished; `None` when its poller ended without
    /// that (the creation is gone or unreadable, or the schedule's deadline passed).
    pub async fn finished(mut self) -> Option<Finished> {
        loop {
            let current = self.latest.borrow_and_update().clone();
            if let Some(answer) = current.as_deref().filter(|answer| is_final(answer, &self.id)) {
                return finished(answer, &self.id);
            }
            if self.latest.changed().await.is_err() {
                // The poller ended: its last word stands.
                return self.latest.borrow().as_deref().and_then(|answer| finished(answer, &self.id));
            }
        }
    }
}

fn finished(answer: &Result<Answer, Failure>, id: &str) -> Option<Finished> {
    match clipcloud::codec::decode_check(&answer.as_ref().ok()?.as_core(), id) {
        Ok(Status::Done(finished)) => Some(finished),
        _ => None,
    }
}

/// What a check's upstream answer means for the ones waiting on it.
enum Found {
    Ready,
    Running,
    /// An answer that ends the wait: unknown id, bad key...
    Final,
    /// A failure polling rides out (5xx, 429, timeout, unreadable).
    Transient,
}

fn found(answer: &Result<Answer, Failure>, id: &str) -> Found {
    let Ok(answer) = answer else { return Found::Transient };
    match clipcloud::codec::decode_check(&answer.as_core(), id) {
        Ok(Status::Done(_)) => Found::Ready,
        Ok(Status::InProgress) => Found::Running,
        Err(e) if clipcloud::retry::is_retryable(CallKind::Read, &e) => Found::Transient,
        Err(_) => Found::Final,
    }
}

fn is_final(answer: &Result<Answer, Failure>, id: &str) -> bool {
    matches!(found(answer, id), Found::Ready | Found::Final)
}

/// One creation's upstream polling.
struct Poller {
    shared: Arc<Shared>,
    upstream: Upstream,
    /// Path and query, with the key: never logged.
    url: String,
    id: String,
    name: String,
    tx: Arc<watch::Sender<Latest>>,
}

impl Poller {
    /// `known`: the creation's kind and start, when it was created through here.
    async fn run(self, known: Option<(String, Instant)>) {
        let (kind, started) = match known {
            Some((kind, started)) => (Some(kind), started),
            None => (None, Instant::now()),
        };
        let (mut checks, mut not_ready_at) = (0u32, None);
        loop {
            // Unknown here: checked at once, then the cold schedule (as the core's `wait`).
            let delay = if kind.is_none() && checks == 0 {
                Some(Duration::ZERO)
            } else {
                let scheduled = checks.saturating_sub(u32::from(kind.is_none()));
                let mut learned = lock(&self.shared.learned);
                let durations = kind.as_deref().and_then(|k| learned.get_mut(k));
                self.shared.schedule.next_delay_learned(scheduled, started.elapsed(), durations)
            };
            let Some(delay) = delay else { break };
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.tx.closed() => if self.leave() { return },
            }
            let sent_at = started.elapsed();
            let answer = {
                let _in_flight = Counted::new(&self.shared.upstream);
                self.shared.upstream_total.fetch_add(1, Ordering::SeqCst);
                self.upstream.call(Method::GET, &self.url, None).await
            };
            checks += 1;
            let found = found(&answer, &self.id);
            self.tx.send_replace(Some(Arc::new(answer)));
            match found {
                Found::Ready => {
                    if let Some(kind) = &kind {
                        self.learn(kind, not_ready_at, sent_at).await;
                    }
                    break;
                }
                Found::Final => break,
                Found::Running => not_ready_at = Some(sent_at),
                Found::Transient => {}
            }
            if self.tx.receiver_count() == 0 && self.leave() {
                return;
            }
        }
        lock(&self.shared.pollers).remove(&self.name);
    }

    /// Leaves the pollers if nobody waits; `false` when a held check came meanwhile.
    fn leave(&self) -> bool {
        let mut pollers = lock(&self.shared.pollers);
        if self.tx.receiver_count() > 0 {
            return false;
        }
        pollers.remove(&self.name);
        true
    }

    async fn learn(&self, kind: &str, not_ready_at: Option<Duration>, ready_at: Duration) {
        let text = {
            let mut learned = lock(&self.shared.learned);
            learned.record(kind, not_ready_at, ready_at);
            learned.to_text()
        };
        if let Some(store) = &self.shared.store {
            if let Err(e) = store.save_learned(text).await {
                log("save", &e);
            }
        }
    }
}

/// Counts itself in while it lives.
struct Counted<'a>(&'a AtomicUsize);

impl<'a> Counted<'a> {
    fn new(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One error line on stderr ([`error_log`]); ledger errors name no secret.
fn log(event: &str, detail: &str) {
    error_log::write("held-checks", event, detail);
}
