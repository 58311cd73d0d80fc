//! The app's state, shared by every component through context, and the actions that
//! talk to the API (all through the core crate's `Client`).

use crate::device::storage;
use crate::logic::form::Form;
use crate::logic::history::Entry;
use crate::logic::pending::{self, Pending};
use crate::logic::request;
use crate::logic::settings::Settings;
use crate::ui::gallery::Gallery;
use clipcloud::fetch::FetchTransport;
use clipcloud::{Abort, CallOptions, Client, Config, CreateRequest, Error, Finished, Style};
use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::Poll;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Clone, Debug, PartialEq)]
pub enum Connection {
    /// No key yet.
    Idle,
    Connecting,
    Connected,
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum JobState {
    Sending,
    Running {
        creation_id: String,
        started_ms: f64,
        checks: u32,
        hiccup: Option<&'static str>,
    },
    Done(Finished),
    /// `creation_id` is set when the create was accepted: a retry then waits again
    /// instead of creating (and paying) twice.
    Failed {
        creation_id: Option<String>,
        message: String,
    },
    /// The user stopped waiting. The service has no cancel call: a creation it
    /// received may still finish and be charged. `creation_id` as in `Failed`.
    Cancelled {
        creation_id: Option<String>,
    },
}

/// Stops a job's current run at once, through the client's own abort handle (as the npm
/// package's `signal`): its pending fetch is aborted and its timer cleared, so no further
/// request is sent. A new handle for every run, so stopping one run never reaches the next.
#[derive(Clone, Default)]
pub struct Stop(Arc<Mutex<Abort>>);

impl Stop {
    fn current(&self) -> std::sync::MutexGuard<'_, Abort> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new run: the options its client call carries.
    fn arm(&self) -> CallOptions {
        let abort = Abort::new();
        *self.current() = abort.clone();
        CallOptions::new().abort(&abort)
    }

    /// Stops the current run (its call ends with `aborted`, which the run leaves unsaid:
    /// the card already says it was cancelled).
    pub fn fire(&self) {
        self.current().abort();
    }
}

/// One creation in the queue. Its state is a reference-counted signal, so a card
/// updates alone while the list stays put.
#[derive(Clone)]
pub struct Job {
    pub seq: u64,
    pub request: CreateRequest,
    pub size: Option<(u32, u32)>,
    pub state: ArcRwSignal<JobState>,
    pub stop: Stop,
}

/// An image shown large.
#[derive(Clone, Debug, PartialEq)]
pub struct Viewed {
    pub url: String,
    pub alt: String,
    pub file_name: String,
}

/// The app's shared state, provided by [`crate::ui::app::App`]. Components take it from
/// here, not from `app`, which imports them.
pub fn ctx() -> Ctx {
    use_context::<Ctx>().unwrap_or_default()
}

#[derive(Clone, Copy)]
pub struct Ctx {
    pub settings: RwSignal<Settings>,
    pub connection: RwSignal<Connection>,
    pub balance: RwSignal<Option<f64>>,
    pub styles: RwSignal<Vec<Style>>,
    pub form: RwSignal<Form>,
    pub jobs: RwSignal<Vec<Job>>,
    /// Past creations (the gallery's: saved with their pictures).
    pub history: RwSignal<Vec<Entry>>,
    pub gallery: Gallery,
    /// Ticks every second, for elapsed times.
    pub now: RwSignal<f64>,
    pub viewed: RwSignal<Option<Viewed>>,
    /// A short notice ("Link copied").
    pub notice: RwSignal<Option<String>>,
    pub show_settings: RwSignal<bool>,
    next_seq: StoredValue<u64>,
    resumed: StoredValue<bool>,
    /// The client for the settings it was made with, shared by every call: the polling
    /// schedule learns from all creations, and creates know the live styles list.
    client: StoredValue<Option<(ClientSettings, SharedClient)>, LocalStorage>,
}

/// What a client is made from: key (none for a gateway that adds its own), base URL, soft_id,
/// the hold its gateway offers, the key in a header.
type ClientSettings = (Option<String>, String, Option<u64>, Option<core::time::Duration>, bool);
type SharedClient = Rc<Client<FetchTransport>>;

impl Default for Ctx {
    fn default() -> Self {
        Self::new()
    }
}

pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl Ctx {
    /// State as this page finds it: saved settings, key, form, history.
    pub fn new() -> Self {
        let location = window().location();
        let origin = location.origin().unwrap_or_default();
        let hostname = location.hostname().unwrap_or_default();
        let mut settings = Settings::from_json(&storage::load(storage::SETTINGS));
        if !clipcloud::codec::is_http_url(&settings.base_url) {
            settings.base_url = request::default_base_url(&origin);
        }
        match storage::load_key() {
            Some((key, remember)) => {
                settings.key = key;
                settings.remember = remember;
            }
            None if request::is_local_host(&hostname) => settings.key = "demo-key".into(),
            None => {}
        }
        let mut form = Form::from_json(&storage::load(storage::FORM));
        if form.style.is_empty() {
            form.style = storage::get(storage::local(), storage::STYLE).unwrap_or_else(|| "standard".into());
        }
        // The history and its pictures are read from IndexedDB once the gallery's module is
        // there (see `gallery`).
        let gallery = Gallery::new();
        Self {
            settings: RwSignal::new(settings),
            connection: RwSignal::new(Connection::Idle),
            balance: RwSignal::new(None),
            styles: RwSignal::new(Vec::new()),
            form: RwSignal::new(form),
            jobs: RwSignal::new(Vec::new()),
            history: gallery.history,
            gallery,
            now: RwSignal::new(now_ms()),
            viewed: RwSignal::new(None),
            notice: RwSignal::new(None),
            show_settings: RwSignal::new(false),
            next_seq: StoredValue::new(0),
            resumed: StoredValue::new(false),
            client: StoredValue::new_local(None),
        }
    }

    /// The client for the current settings: the one made before while they are the same,
    /// else a new one that takes up what earlier page loads learned.
    pub fn client(&self) -> Result<SharedClient, Error> {
        let s = self.settings.get_untracked();
        let keyless = s.gateway == Some(clipcloud::gateway::KeyNeed::None);
        let key = (!keyless).then(|| s.key.trim().to_owned());
        let bearer = s.key_as_bearer(&window().location().origin().unwrap_or_default());
        let wanted = (key, s.base_url.trim().to_owned(), s.soft_id().ok().flatten(), s.hold, bearer);
        if let Some((made_with, client)) = self.client.get_value() {
            if made_with == wanted {
                return Ok(client);
            }
        }
        let config = wanted.0.clone().map_or_else(Config::keyless, Config::new);
        let mut config = config.base_url(wanted.1.as_str());
        if let Some(id) = wanted.2 {
            config = config.soft_id(id);
        }
        if let Some(max) = wanted.3 {
            config = config.held_checks(max);
        }
        config = config.key_as_bearer(wanted.4);
        let client = Rc::new(Client::new(config)?);
        if let Some(text) = storage::get(storage::local(), storage::LEARNED) {
            client.restore_learned(&text);
        }
        self.client.set_value(Some((wanted, client.clone())));
        Ok(client)
    }

    /// Shows `text` for a moment (a `String`, not `impl Into<String>`: one copy of this code).
    pub fn notify(&self, text: String) {
        self.notice.try_set(Some(text));
        let notice = self.notice;
        let shown = notice.try_get_untracked().flatten();
        set_timeout(
            move || {
                if notice.try_get_untracked() == Some(shown) {
                    notice.try_set(None);
                }
            },
            core::time::Duration::from_millis(2500),
        );
    }

    /// Saves the settings and key, then checks them with a balance and a styles call.
    /// `from_panel`: the connection panel asked, so it closes once connected; on start-up
    /// it is left as the visitor has it (opened meanwhile, it stays open).
    pub fn connect(self, from_panel: bool) {
        let s = self.settings.get_untracked();
        if let Err(e) = s.soft_id() {
            self.connection.set(Connection::Failed(e));
            return;
        }
        storage::save(storage::SETTINGS, &s.to_json());
        storage::save_key(s.key.trim(), s.remember);
        self.connection.set(Connection::Connecting);
        spawn_local(async move {
            let client = match self.client() {
                Ok(c) => c,
                Err(e) => {
                    self.connection.try_set(Connection::Failed(e.to_string()));
                    return;
                }
            };
            // Both calls at once: one round trip before the app is ready, not two.
            match both(client.balance(), client.styles()).await {
                (Ok(balance), Ok(styles)) => {
                    self.balance.try_set(Some(balance));
                    self.styles.try_set(styles);
                    self.connection.try_set(Connection::Connected);
                    if from_panel {
                        self.show_settings.try_set(false);
                    }
                    self.resume_pending();
                }
                (Err(e), _) | (_, Err(e)) => {
                    self.balance.try_set(None);
                    self.connection.try_set(Connection::Failed(e.to_string()));
                    self.show_settings.try_set(true);
                }
            }
        });
    }

    pub fn forget_key(self) {
        storage::forget_key();
        self.settings.update(|s| s.key.clear());
        self.balance.set(None);
        self.connection.set(Connection::Idle);
        self.show_settings.set(true);
    }

    pub fn refresh_balance(self) {
        spawn_local(async move {
            if let Ok(client) = self.client() {
                if let Ok(balance) = client.balance().await {
                    self.balance.try_set(Some(balance));
                }
            }
        });
    }

    /// Queues a creation: it appears at once, then runs on its own.
    pub fn submit(self, request: CreateRequest) {
        let size = request::image_size(&request, &self.styles.get_untracked());
        let job = self.push_job(request, size, JobState::Sending);
        self.start(job, None);
    }

    /// Runs the job (see `run`) until it ends or is cancelled.
    fn start(self, job: Job, existing: Option<(String, f64)>) {
        let options = job.stop.arm();
        spawn_local(run(self, job, existing, options));
    }

    fn push_job(self, request: CreateRequest, size: Option<(u32, u32)>, state: JobState) -> Job {
        let seq = self.next_seq.get_value();
        self.next_seq.set_value(seq + 1);
        let job = Job { seq, request, size, state: ArcRwSignal::new(state), stop: Stop::default() };
        self.jobs.try_update(|jobs| jobs.insert(0, job.clone()));
        job
    }

    pub fn retry(self, job: Job) {
        let creation_id = match job.state.get_untracked() {
            JobState::Failed { creation_id, .. } | JobState::Cancelled { creation_id } => creation_id,
            _ => return,
        };
        let existing = creation_id.map(|id| (id, now_ms()));
        // Waiting on an accepted creation shows as running at once, so a cancel in
        // between can never lose its id (and offer to create, and pay, again).
        job.state.set(match &existing {
            Some((id, started_ms)) => JobState::Running {
                creation_id: id.clone(),
                started_ms: *started_ms,
                checks: 0,
                hiccup: None,
            },
            None => JobState::Sending,
        });
        self.start(job, existing);
    }

    /// Stops waiting for a creation still sending or running: no request for it is
    /// sent from now on, and a reload does not pick it up again.
    pub fn cancel(self, job: &Job) {
        let creation_id = match job.state.get_untracked() {
            JobState::Sending => None,
            JobState::Running { creation_id, .. } => Some(creation_id),
            _ => return,
        };
        job.stop.fire();
        if let Some(id) = &creation_id {
            update_pending(|list| pending::remove(list, id));
        }
        job.state.set(JobState::Cancelled { creation_id });
    }

    pub fn dismiss(self, seq: u64) {
        self.jobs.update(|jobs| jobs.retain(|j| j.seq != seq));
    }

    /// Picks up the creations that were running when the page was left (once).
    pub fn resume_pending(self) {
        if self.resumed.try_get_value() != Some(false) {
            return;
        }
        self.resumed.set_value(true);
        let list = pending::from_json(&storage::load(storage::PENDING));
        for p in list.into_iter().rev() {
            let state = JobState::Running {
                creation_id: p.creation_id.clone(),
                started_ms: p.started_ms,
                checks: 0,
                hiccup: None,
            };
            let job = self.push_job(p.request, p.size, state);
            self.start(job, Some((p.creation_id, p.started_ms)));
        }
    }

    /// Deletes every creation and picture kept on this device.
    pub fn clear_history(self) {
        self.gallery.delete_all();
    }

    /// Adds a finished creation to the history; its pictures are saved (`Gallery::add`).
    fn add_history(self, entry: Entry) {
        self.gallery.add(entry);
    }
}

fn update_pending(f: impl FnOnce(&mut Vec<Pending>)) {
    let mut list = pending::from_json(&storage::load(storage::PENDING));
    f(&mut list);
    storage::save(storage::PENDING, &pending::to_json(&list));
}

/// Creates and waits for the images (`generate`, whose schedule learns how long this
/// style takes), or waits for a creation already accepted (`existing`: after a reload, or
/// "Check again"); the card follows every step.
async fn run(ctx: Ctx, job: Job, existing: Option<(String, f64)>, options: CallOptions) {
    let fail = |creation_id: Option<String>, e: Error| {
        job.state.set(JobState::Failed { creation_id, message: e.to_string() });
    };
    let client = match ctx.client() {
        Ok(c) => c,
        Err(e) => return fail(existing.map(|(id, _)| id), e),
    };
    // The creation once accepted: its id and when it started.
    let created = RefCell::new(existing.clone());
    let on_progress = |p: clipcloud::Progress<'_>| {
        let known = created.borrow().as_ref().map(|(_, started_ms)| *started_ms);
        let started_ms = match known {
            Some(started_ms) => started_ms,
            None => {
                // Just accepted: kept at once, so a reload picks it up again.
                let started_ms = now_ms() - p.elapsed.as_secs_f64() * 1000.0;
                keep_pending(&job, p.creation_id, started_ms);
                *created.borrow_mut() = Some((p.creation_id.to_owned(), started_ms));
                started_ms
            }
        };
        job.state.set(JobState::Running {
            creation_id: p.creation_id.to_owned(),
            started_ms,
            checks: p.checks,
            hiccup: p.transient_error.map(|c| c.as_str()),
        });
    };
    let result = match &existing {
        Some((creation_id, started_ms)) => {
            job.state.set(JobState::Running {
                creation_id: creation_id.clone(),
                started_ms: *started_ms,
                checks: 0,
                hiccup: None,
            });
            keep_pending(&job, creation_id, *started_ms);
            client.wait_with(creation_id, &options, on_progress).await
        }
        None => client.generate_with(job.request.clone(), &options, on_progress).await,
    };
    match (result, created.into_inner()) {
        // Cancelled: `cancel` has set the card's state already.
        (Err(e), _) if e.code() == clipcloud::ErrorCode::Aborted => {}
        (Ok(done), _) => {
            let creation_id = done.creation_id.clone();
            update_pending(|list| pending::remove(list, &creation_id));
            storage::save(storage::LEARNED, &client.learned_text());
            ctx.add_history(Entry {
                creation_id,
                request: job.request.clone(),
                cost: done.cost,
                censored: done.censored,
                images: done.images.clone(),
                finished_ms: now_ms(),
                size: job.size,
                pinned: false,
            });
            job.state.set(JobState::Done(done));
            ctx.refresh_balance();
        }
        (Err(e), Some((creation_id, _))) => {
            // A creation the service does not know (or this key cannot see) will never finish.
            if matches!(e.code(), clipcloud::ErrorCode::NotFound | clipcloud::ErrorCode::Unauthorized) {
                update_pending(|list| pending::remove(list, &creation_id));
            }
            fail(Some(creation_id), e);
        }
        (Err(e), None) => fail(None, e),
    }
}

/// Puts a creation on the list of those a reload picks up again.
fn keep_pending(job: &Job, creation_id: &str, started_ms: f64) {
    update_pending(|list| {
        pending::add(
            list,
            Pending {
                creation_id: creation_id.to_owned(),
                request: job.request.clone(),
                started_ms,
                size: job.size,
            },
        )
    });
}

/// Runs two futures at once; their outputs once both are done (a join without the
/// futures crate).
async fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut out_a, mut out_b) = (None, None);
    poll_fn(move |cx| {
        // A future is polled until it is done, never after.
        if out_a.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                out_a = Some(v);
            }
        }
        if out_b.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                out_b = Some(v);
            }
        }
        match (out_a.take(), out_b.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            (a, b) => {
                (out_a, out_b) = (a, b);
                Poll::Pending
            }
        }
    })
    .await
}
