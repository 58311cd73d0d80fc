//! The emulator's memory: API keys and balances, creations, and the encoded-image cache.
//!
//! Readiness is decided by the clock when someone asks, so nothing runs in the
//! background: a creation is done once `now >= ready_at`, and the first look after that
//! settles it (refunds the images the content filter withheld).

use crate::config::Config;
use crate::create::Order;
use crate::error::ApiError;
use crate::faults::{Fault, FaultPlan};
use crate::ids;
use crate::images::ImageSpec;
use crate::money::Money;
use crate::pricing;
use axum::body::Bytes;
use clipcloud::model::Style;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Encoded images kept in memory; older ones are re-rendered on demand (they are deterministic).
const IMAGE_CACHE_CAPACITY: usize = 128;

pub struct AppState {
    delay: Duration,
    public_url: Option<String>,
    seed: String,
    log_requests: bool,
    styles: Vec<Style>,
    started: Instant,
    /// `started` on the wall clock (Unix ms), so that the benchmark's times compare with
    /// the browser's `Date.now()`.
    started_unix_ms: u64,
    /// Requests being served now and the most at once, overall and per key.
    in_flight: Mutex<InFlight>,
    /// `http://<listening address>`, for requests without a usable `Host` header.
    fallback_origin: OnceLock<String>,
    store: Mutex<Store>,
    image_cache: Mutex<ImageCache>,
    /// `--fault-rate` and friends (rate 0: no faults unless forced).
    global_faults: FaultPlan,
    /// Counter behind the deterministic fault draws.
    draws: AtomicU64,
    /// Checks held open now ([`AppState::hold`]).
    held: std::sync::atomic::AtomicUsize,
    /// Faults injected on requests without a known key.
    keyless_faults: Mutex<BTreeMap<&'static str, u64>>,
}

/// Checks held open at once at most ([`AppState::hold`]); more are answered at once.
pub const MAX_HELD: usize = 10_000;

/// A held check's place, given back when it is answered (or abandoned: dropped with the
/// handler's future when the client goes away).
pub struct Held<'a> {
    state: &'a AppState,
    pub wait: Duration,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.state.held.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What happened to one key, for tests and benchmarks (`GET /emulator/stats`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct KeyStats {
    pub balance: f64,
    /// Creations accepted.
    pub creates: u64,
    /// Creations accepted whose request body equals an earlier one of this key: a
    /// client that retried a create it should not have.
    pub duplicate_creates: u64,
    /// Injected faults by name.
    pub faults: BTreeMap<&'static str, u64>,
    /// Most requests with this key served at the same time.
    pub peak_in_flight: u64,
    /// Most requests (any key, or none) served at the same time since the emulator started.
    pub peak_in_flight_all: u64,
}

/// How long a key's creations take (`POST /emulator/keys` with `"delay_ms"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DelayPlan {
    Fixed(Duration),
    /// Uniform in `min..=max`, drawn per creation from the seed (deterministic).
    Range {
        min: Duration,
        max: Duration,
    },
}

/// One creation's timeline, for benchmarks (`GET /emulator/creations`), in Unix ms.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CreationRecord {
    pub creation_id: String,
    pub created_ms: u64,
    pub ready_ms: u64,
    /// When each check of it was answered (ready or not).
    pub checks_ms: Vec<u64>,
}

#[derive(Default)]
struct InFlight {
    now: u64,
    peak: u64,
    /// Key → (now, peak).
    by_key: HashMap<String, (u64, u64)>,
}

/// What a check finds.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    InProgress,
    Done {
        /// Price of the delivered images (what the balance lost).
        cost: Money,
        censored: u32,
        /// Image ids (64 hex) of the delivered images.
        images: Vec<String>,
    },
}

#[derive(Default)]
struct Account {
    balance: Money,
    /// Creations of this key not settled yet.
    pending: Vec<String>,
    /// This key's own fault plan (`POST /emulator/keys`), over the global one.
    faults: Option<FaultPlan>,
    /// This key's own generation time (`POST /emulator/keys`), over `--delay-ms`.
    delay: Option<DelayPlan>,
    /// Draws made from `delay` so far (the next creation's draw index).
    delay_draws: u64,
    /// Creation ids in the order they were made.
    created: Vec<String>,
    /// Digests of the create bodies seen, to count duplicates.
    fingerprints: HashSet<[u8; 32]>,
    stats: KeyStats,
}

struct Creation {
    owner: String,
    prompt: String,
    width: u32,
    height: u32,
    count: u32,
    /// Images the content filter withholds (refunded when the creation completes).
    censored: u32,
    unit_price: Money,
    ready_at: Instant,
    settled: bool,
    created_ms: u64,
    /// Unix ms of each check.
    checks_ms: Vec<u64>,
}

impl Creation {
    fn delivered(&self) -> u32 {
        self.count - self.censored
    }
}

#[derive(Default)]
struct Store {
    accounts: HashMap<String, Account>,
    creations: HashMap<String, Creation>,
    /// Image id → (creation id, index).
    images: HashMap<String, (String, u32)>,
    next_creation: u64,
    next_key: u64,
}

#[derive(Default)]
struct ImageCache {
    bytes: HashMap<String, Bytes>,
    order: VecDeque<String>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data stays consistent even if a holder panicked: every update is a few
    // plain assignments after all checks passed.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppState {
    pub fn new(config: &Config) -> Self {
        let mut store = Store::default();
        for (key, balance) in &config.keys {
            store.accounts.insert(key.clone(), Account { balance: *balance, ..Account::default() });
        }
        Self {
            delay: config.delay,
            public_url: config.public_url.clone(),
            seed: config.seed.clone(),
            log_requests: config.log_requests,
            styles: pricing::styles(),
            started: Instant::now(),
            started_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            in_flight: Mutex::new(InFlight::default()),
            fallback_origin: OnceLock::new(),
            store: Mutex::new(store),
            image_cache: Mutex::new(ImageCache::default()),
            global_faults: config.faults.clone(),
            draws: AtomicU64::new(0),
            held: std::sync::atomic::AtomicUsize::new(0),
            keyless_faults: Mutex::new(BTreeMap::new()),
        }
    }

    /// The fault plan for a request made with this key (or on this key's image).
    pub fn fault_plan(&self, key: Option<&str>) -> FaultPlan {
        let own = key.and_then(|k| lock(&self.store).accounts.get(k).and_then(|a| a.faults.clone()));
        own.unwrap_or_else(|| self.global_faults.clone())
    }

    /// Two deterministic pseudo-random draws (a uniform [0, 1) and an integer), from
    /// the seed and a counter: the same request sequence meets the same faults.
    pub fn random_draw(&self) -> (f64, u64) {
        let n = self.draws.fetch_add(1, Ordering::Relaxed);
        let digest = ids::digest(&[self.seed.as_bytes(), &n.to_le_bytes()]);
        let word = |i: usize| u64::from_le_bytes(digest[i..i + 8].try_into().unwrap_or_default());
        ((word(0) >> 11) as f64 / (1u64 << 53) as f64, word(8))
    }

    pub fn count_fault(&self, key: Option<&str>, fault: Fault) {
        let mut store = lock(&self.store);
        match key.and_then(|k| store.accounts.get_mut(k)) {
            Some(account) => *account.stats.faults.entry(fault.name()).or_default() += 1,
            None => *lock(&self.keyless_faults).entry(fault.name()).or_default() += 1,
        }
    }

    /// The key that created the image at this path (`/images/<id>.webp`), if any.
    pub fn image_owner(&self, path: &str) -> Option<String> {
        let id = path.strip_prefix("/images/")?.strip_suffix(".webp")?;
        let store = lock(&self.store);
        let (creation, _) = store.images.get(id)?;
        store.creations.get(creation).map(|c| c.owner.clone())
    }

    /// Counts an accepted create of `key` with this request body.
    pub fn record_create(&self, key: &str, body: &[u8]) {
        let fingerprint = ids::digest(&[body]);
        let mut store = lock(&self.store);
        if let Some(account) = store.accounts.get_mut(key) {
            account.stats.creates += 1;
            if !account.fingerprints.insert(fingerprint) {
                account.stats.duplicate_creates += 1;
            }
        }
    }

    /// 401 for a bad key.
    pub fn stats(&self, key: Option<&str>, now: Instant) -> Result<KeyStats, ApiError> {
        let mut store = lock(&self.store);
        store.account(key)?;
        store.settle_key(key.unwrap_or_default(), now);
        let account = store.account(key)?;
        let flight = lock(&self.in_flight);
        Ok(KeyStats {
            balance: account.balance.as_f64(),
            peak_in_flight: flight.by_key.get(key.unwrap_or_default()).map_or(0, |&(_, peak)| peak),
            peak_in_flight_all: flight.peak,
            ..account.stats.clone()
        })
    }

    /// The wall-clock time (Unix ms) of an instant of this emulator.
    pub fn unix_ms(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.started).as_millis();
        self.started_unix_ms.saturating_add(u64::try_from(since).unwrap_or(u64::MAX))
    }

    /// A request (with this key, if any) starts being served.
    pub fn request_started(&self, key: Option<&str>) {
        let mut flight = lock(&self.in_flight);
        flight.now += 1;
        flight.peak = flight.peak.max(flight.now);
        if let Some(key) = key {
            let (now, peak) = flight.by_key.entry(key.to_owned()).or_default();
            *now += 1;
            *peak = (*peak).max(*now);
        }
    }

    /// The request counted by `request_started` has its answer.
    pub fn request_finished(&self, key: Option<&str>) {
        let mut flight = lock(&self.in_flight);
        flight.now = flight.now.saturating_sub(1);
        if let Some((now, _)) = key.and_then(|k| flight.by_key.get_mut(k)) {
            *now = now.saturating_sub(1);
        }
    }

    /// The generation time of this key's next creation: its own plan, else `--delay-ms`.
    /// A range is drawn from the seed, the key and the draw's index (deterministic).
    pub fn next_delay(&self, key: &str) -> Duration {
        let mut store = lock(&self.store);
        let Some(account) = store.accounts.get_mut(key) else { return self.delay };
        match account.delay {
            None => self.delay,
            Some(DelayPlan::Fixed(delay)) => delay,
            Some(DelayPlan::Range { min, max }) => {
                let n = account.delay_draws;
                account.delay_draws += 1;
                let digest = ids::digest(&[self.seed.as_bytes(), b"delay", key.as_bytes(), &n.to_le_bytes()]);
                let word = u64::from_le_bytes(digest[..8].try_into().unwrap_or_default());
                let span = max.saturating_sub(min).as_millis() as u64;
                min + Duration::from_millis(word % (span + 1))
            }
        }
    }

    /// Every creation of this key, oldest first, with its timeline (401 for a bad key).
    pub fn creations(&self, key: Option<&str>) -> Result<Vec<CreationRecord>, ApiError> {
        let mut store = lock(&self.store);
        let ids = store.account(key)?.created.clone();
        Ok(ids
            .into_iter()
            .filter_map(|id| {
                let c = store.creations.get(&id)?;
                Some(CreationRecord {
                    created_ms: c.created_ms,
                    ready_ms: self.unix_ms(c.ready_at),
                    checks_ms: c.checks_ms.clone(),
                    creation_id: id,
                })
            })
            .collect())
    }

    /// Generation time unless a create overrides it.
    pub fn default_delay(&self) -> Duration {
        self.delay
    }

    /// The styles list, in the docs' order.
    pub fn styles(&self) -> &[Style] {
        &self.styles
    }

    pub fn log_requests(&self) -> bool {
        self.log_requests
    }

    /// Time since the state was made (log timestamps).
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Tells the state where it listens, for image URLs of requests without `Host`.
    pub fn set_local_addr(&self, addr: SocketAddr) {
        // Only the first call counts; later calls (a second listener) keep the first origin.
        let _ = self.fallback_origin.set(format!("http://{addr}"));
    }

    /// Origin of image URLs: `--public-url`, else `http://{Host}`, else the listening address.
    pub fn origin(&self, host_header: Option<&str>) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        match host_header {
            Some(host) if is_plausible_host(host) => format!("http://{host}"),
            _ => self.fallback_origin.get().cloned().unwrap_or_else(|| "http://127.0.0.1".into()),
        }
    }

    /// 401 unless the key exists.
    pub fn authorize(&self, key: Option<&str>) -> Result<(), ApiError> {
        let mut store = lock(&self.store);
        store.account(key).map(|_| ())
    }

    /// Charges the full price and records the creation; 402 if the balance is short.
    pub fn create(&self, key: &str, order: Order, delay: Duration, now: Instant) -> Result<String, ApiError> {
        let ready_at =
            now.checked_add(delay).ok_or_else(|| ApiError::bad_request("generation delay too large"))?;
        let unit_price = pricing::price_per_image(order.width, order.height);
        let total = unit_price.saturating_mul(order.count);
        let censored = if order.censored { order.count } else { 0 };

        let mut store = lock(&self.store);
        store.settle_key(key, now);
        let account = store.account(Some(key))?;
        if account.balance < total {
            return Err(ApiError::payment_required(format!(
                "balance too low: this creation costs {total}, the balance is {}",
                account.balance
            )));
        }
        account.balance = account.balance.saturating_sub(total);

        let mut id = ids::creation_id(&self.seed, store.next_creation);
        store.next_creation += 1;
        while store.creations.contains_key(&id) {
            id = ids::creation_id(&self.seed, store.next_creation);
            store.next_creation += 1;
        }
        for index in censored..order.count {
            store.images.insert(ids::image_id(&id, index), (id.clone(), index));
        }
        store.creations.insert(
            id.clone(),
            Creation {
                owner: key.to_string(),
                prompt: order.prompt,
                width: order.width,
                height: order.height,
                count: order.count,
                censored,
                unit_price,
                ready_at,
                settled: false,
                created_ms: self.unix_ms(now),
                checks_ms: Vec::new(),
            },
        );
        if let Some(account) = store.accounts.get_mut(key) {
            account.pending.push(id.clone());
            account.created.push(id.clone());
        }
        Ok(id)
    }

    /// When `key`'s creation `id` is (or was) ready; `None` for an unknown id or another
    /// key's. Records nothing: a held check counts once, when it is answered.
    pub fn ready_at(&self, key: Option<&str>, id: &str) -> Option<Instant> {
        let store = lock(&self.store);
        store.creations.get(id).filter(|c| Some(c.owner.as_str()) == key).map(|c| c.ready_at)
    }

    /// A place among the held checks, for `wait`; `None` at [`MAX_HELD`] held at once.
    pub fn hold(&self, wait: Duration) -> Option<Held<'_>> {
        let held = self.held.fetch_add(1, Ordering::SeqCst);
        if held >= MAX_HELD {
            self.held.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Held { state: self, wait })
    }

    /// Checks held open right now.
    pub fn held_now(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    /// 401 for a bad key, 404 for an unknown id or another key's.
    pub fn check(&self, key: Option<&str>, id: &str, now: Instant) -> Result<Progress, ApiError> {
        let mut store = lock(&self.store);
        store.account(key)?;
        let key = key.unwrap_or_default();
        match store.creations.get(id) {
            Some(c) if c.owner == key => {}
            _ => return Err(ApiError::not_found(format!("no creation with id {id} for this key"))),
        }
        store.settle_key(key, now);
        let now_ms = self.unix_ms(now);
        let Some(creation) = store.creations.get_mut(id) else {
            return Err(ApiError::not_found(format!("no creation with id {id} for this key")));
        };
        creation.checks_ms.push(now_ms);
        if now < creation.ready_at {
            return Ok(Progress::InProgress);
        }
        Ok(Progress::Done {
            cost: creation.unit_price.saturating_mul(creation.delivered()),
            censored: creation.censored,
            images: (creation.censored..creation.count).map(|i| ids::image_id(id, i)).collect(),
        })
    }

    pub fn balance(&self, key: Option<&str>, now: Instant) -> Result<Money, ApiError> {
        let mut store = lock(&self.store);
        store.account(key)?;
        store.settle_key(key.unwrap_or_default(), now);
        Ok(store.account(key)?.balance)
    }

    /// A fresh key with this balance and optionally its own fault plan (`POST /emulator/keys`).
    pub fn add_key(&self, balance: Money, faults: Option<FaultPlan>) -> String {
        self.add_key_with(balance, faults, None)
    }

    /// Gives an existing key this fault plan (`POST /emulator/faults`); 401 for an unknown key.
    pub fn set_faults(&self, key: Option<&str>, faults: FaultPlan) -> Result<(), ApiError> {
        let mut store = lock(&self.store);
        let account = key
            .and_then(|k| store.accounts.get_mut(k))
            .ok_or_else(|| ApiError::unauthorized("unknown API key"))?;
        account.faults = Some(faults);
        Ok(())
    }

    /// [`Self::add_key`], with the key's own generation time.
    pub fn add_key_with(
        &self,
        balance: Money,
        faults: Option<FaultPlan>,
        delay: Option<DelayPlan>,
    ) -> String {
        let mut store = lock(&self.store);
        loop {
            let key = ids::api_key(&self.seed, store.next_key);
            store.next_key += 1;
            if !store.accounts.contains_key(&key) {
                store.accounts.insert(key.clone(), Account { balance, faults, delay, ..Account::default() });
                return key;
            }
        }
    }

    /// What to draw for an image id, once its creation is done; `None` if unknown or not ready.
    pub fn image_spec(&self, image_id: &str, now: Instant) -> Option<ImageSpec> {
        let store = lock(&self.store);
        let (creation_id, index) = store.images.get(image_id)?;
        let creation = store.creations.get(creation_id)?;
        if now < creation.ready_at {
            return None;
        }
        Some(ImageSpec {
            prompt: creation.prompt.clone(),
            index: *index,
            width: creation.width,
            height: creation.height,
        })
    }

    pub fn cached_image(&self, image_id: &str) -> Option<Bytes> {
        lock(&self.image_cache).bytes.get(image_id).cloned()
    }

    pub fn cache_image(&self, image_id: &str, bytes: Bytes) {
        let mut cache = lock(&self.image_cache);
        if cache.bytes.insert(image_id.to_string(), bytes).is_none() {
            cache.order.push_back(image_id.to_string());
        }
        while cache.order.len() > IMAGE_CACHE_CAPACITY {
            if let Some(old) = cache.order.pop_front() {
                cache.bytes.remove(&old);
            }
        }
    }
}

impl Store {
    fn account(&mut self, key: Option<&str>) -> Result<&mut Account, ApiError> {
        let key = match key {
            Some(k) if !k.is_empty() => k,
            _ => {
                return Err(ApiError::unauthorized("missing API key: pass it as the query parameter apikey"))
            }
        };
        self.accounts.get_mut(key).ok_or_else(|| ApiError::unauthorized("unknown API key"))
    }

    /// Completes this key's creations whose time has come: refunds withheld images.
    fn settle_key(&mut self, key: &str, now: Instant) {
        let Some(account) = self.accounts.get_mut(key) else { return };
        let creations = &mut self.creations;
        account.pending.retain(|id| {
            let Some(creation) = creations.get_mut(id) else { return false };
            if now < creation.ready_at {
                return true;
            }
            if !creation.settled {
                creation.settled = true;
                account.balance =
                    account.balance.saturating_add(creation.unit_price.saturating_mul(creation.censored));
            }
            false
        });
    }
}

/// A `Host` header safe to paste into a URL: host name or address and optional port.
fn is_plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(prompt: &str, count: u32) -> Order {
        Order { prompt: prompt.into(), width: 512, height: 512, count, censored: prompt.contains("nsfw") }
    }

    #[test]
    fn charge_then_refund_withheld_at_completion() {
        let state = AppState::new(&Config::default());
        let t0 = Instant::now();
        let key = Some("demo-key");
        let id = state.create("demo-key", order("nsfw cat", 2), Duration::from_secs(1), t0).unwrap();
        assert_eq!(state.balance(key, t0).unwrap(), Money::from_cents(10_000 - 220));
        assert_eq!(state.check(key, &id, t0).unwrap(), Progress::InProgress);
        let later = t0 + Duration::from_secs(2);
        assert_eq!(
            state.check(key, &id, later).unwrap(),
            Progress::Done { cost: Money::ZERO, censored: 2, images: vec![] }
        );
        assert_eq!(state.balance(key, later).unwrap(), Money::from_cents(10_000));
        // Settled once only.
        state.check(key, &id, later).unwrap();
        assert_eq!(state.balance(key, later).unwrap(), Money::from_cents(10_000));
    }

    #[test]
    fn keys_and_owners() {
        let state = AppState::new(&Config::default());
        let now = Instant::now();
        let other = state.add_key(Money::from_cents(110), None);
        assert_ne!(other, state.add_key(Money::from_cents(110), None));
        let id = state.create("demo-key", order("cat", 1), Duration::ZERO, now).unwrap();
        assert_eq!(state.check(Some(&other), &id, now).unwrap_err().status, 404);
        assert_eq!(state.check(Some("nope"), &id, now).unwrap_err().status, 401);
        assert_eq!(state.check(None, &id, now).unwrap_err().status, 401);
        assert_ne!(state.create(&other, order("cat", 1), Duration::ZERO, now).unwrap(), id);
        assert_eq!(state.create(&other, order("cat", 1), Duration::ZERO, now).unwrap_err().status, 402);
    }

    #[test]
    fn origin_prefers_public_url_then_host() {
        let mut config = Config::default();
        let state = AppState::new(&config);
        state.set_local_addr(SocketAddr::from(([127, 0, 0, 1], 9)));
        assert_eq!(state.origin(Some("localhost:8787")), "http://localhost:8787");
        assert_eq!(state.origin(Some("evil/path")), "http://127.0.0.1:9");
        assert_eq!(state.origin(None), "http://127.0.0.1:9");
        config.public_url = Some("https://emu.test".into());
        assert_eq!(AppState::new(&config).origin(Some("x")), "https://emu.test");
    }
}
