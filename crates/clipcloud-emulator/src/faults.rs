//! Fault injection's data: the failures a client meets on a busy service and a flaky
//! network, the plans that pick them, and the book of what was injected. The middleware
//! that answers with them is `inject`.
//!
//! A fault replaces the whole answer, *before* the endpoint runs: the request never
//! reaches the "service", so an injected failure never starts (or charges) a creation.
//! That keeps the books exact for the chaos test: what the balance lost is what the
//! client was told it cost. (`slow` is the exception: it delays, then serves — unless
//! the client gave up first, which drops the request unserved.)
//!
//! Sources, first match wins: the header `x-emulator-fault: KIND` or the query parameter
//! `emulator_fault=KIND` (forces one fault on one request); the key's own plan (set by
//! `POST /emulator/keys`); the global plan (`--fault-rate`, `--faults`, `--slow-ms`).

use crate::ids;
use crate::lock::lock;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const HEADER: &str = "x-emulator-fault";
pub const QUERY_PARAM: &str = "emulator_fault";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// 500, 502 or 503 with the API's JSON error body (503 carries `Retry-After: 1`).
    Status(u16),
    /// 429 with `Retry-After: 1`.
    RateLimited,
    /// The connection closes without an answer.
    Drop,
    /// The answer comes only after the plan's `slow` delay.
    Slow,
    /// 200 with JSON cut off in the middle.
    Truncated,
    /// 200 with a proxy's HTML error page.
    HtmlPage,
    /// 200 with a body that is not JSON and says so in its content type.
    WrongContentType,
    /// An image link that has expired: 404.
    ExpiredImage,
}

/// Every fault that applies to API calls (`/api/...`).
pub const API_FAULTS: [Fault; 9] = [
    Fault::Status(500),
    Fault::Status(502),
    Fault::Status(503),
    Fault::RateLimited,
    Fault::Drop,
    Fault::Slow,
    Fault::Truncated,
    Fault::HtmlPage,
    Fault::WrongContentType,
];

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Self::Status(500) => "500",
            Self::Status(502) => "502",
            Self::Status(_) => "503",
            Self::RateLimited => "429",
            Self::Drop => "drop",
            Self::Slow => "slow",
            Self::Truncated => "truncated",
            Self::HtmlPage => "html",
            Self::WrongContentType => "content-type",
            Self::ExpiredImage => "expired-image",
        }
    }

    pub fn parse(name: &str) -> Result<Self, String> {
        Ok(match name.trim() {
            "500" => Self::Status(500),
            "502" => Self::Status(502),
            "503" => Self::Status(503),
            "429" => Self::RateLimited,
            "drop" => Self::Drop,
            "slow" => Self::Slow,
            "truncated" => Self::Truncated,
            "html" => Self::HtmlPage,
            "content-type" => Self::WrongContentType,
            "expired-image" => Self::ExpiredImage,
            other => {
                return Err(format!(
                    "unknown fault {other:?}; known: 500, 502, 503, 429, drop, slow, truncated, html, content-type, expired-image"
                ))
            }
        })
    }

    /// Comma-separated names, e.g. `500,429,drop`.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, String> {
        text.split(',').filter(|s| !s.trim().is_empty()).map(Self::parse).collect()
    }

    fn applies_to(self, path: &str) -> bool {
        if path.starts_with("/images/") {
            self == Self::ExpiredImage
        } else {
            path.starts_with("/api/") && self != Self::ExpiredImage
        }
    }
}

/// How often and which faults to inject.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultPlan {
    /// Share of requests that get a fault, 0.0..=1.0.
    pub rate: f64,
    /// The faults drawn from, uniformly (only those that apply to the path).
    pub kinds: Vec<Fault>,
    /// Delay of a `slow` answer.
    pub slow: Duration,
}

impl Default for FaultPlan {
    fn default() -> Self {
        let mut kinds = API_FAULTS.to_vec();
        kinds.push(Fault::ExpiredImage);
        Self { rate: 0.0, kinds, slow: Duration::from_secs(10) }
    }
}

impl FaultPlan {
    /// Picks a fault for `path` given a uniform `random` in [0, 1) and a second draw.
    pub fn pick(&self, path: &str, random: f64, which: u64) -> Option<Fault> {
        if self.rate <= 0.0 || random >= self.rate {
            return None;
        }
        let applicable: Vec<Fault> = self.kinds.iter().copied().filter(|f| f.applies_to(path)).collect();
        if applicable.is_empty() {
            return None;
        }
        applicable.get((which % applicable.len() as u64) as usize).copied()
    }
}

/// Which faults each key meets, the draws that decide, and the faults injected so far.
/// Cheap to clone: clones share the book.
#[derive(Clone, Debug)]
pub struct FaultBook(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    seed: String,
    /// `--fault-rate` and friends (rate 0: no faults unless forced).
    global: FaultPlan,
    /// Keys' own plans (`POST /emulator/keys`, `POST /emulator/faults`), over the global one.
    plans: Mutex<HashMap<String, FaultPlan>>,
    /// Counter behind the deterministic draws.
    draws: AtomicU64,
    /// Injected faults by key (`None`: requests without a known key) and name.
    injected: Mutex<HashMap<Option<String>, BTreeMap<&'static str, u64>>>,
}

impl FaultBook {
    /// `global` for every key without a plan of its own; draws from `seed`.
    pub fn new(seed: &str, global: FaultPlan) -> Self {
        Self(Arc::new(Inner {
            seed: seed.to_owned(),
            global,
            plans: Mutex::default(),
            draws: AtomicU64::new(0),
            injected: Mutex::default(),
        }))
    }

    /// The fault plan for a request made with this key (or on this key's image).
    pub fn plan(&self, key: Option<&str>) -> FaultPlan {
        let own = key.and_then(|k| lock(&self.0.plans).get(k).cloned());
        own.unwrap_or_else(|| self.0.global.clone())
    }

    /// This key's plan from now on.
    pub fn set_plan(&self, key: &str, plan: FaultPlan) {
        lock(&self.0.plans).insert(key.to_owned(), plan);
    }

    /// Two deterministic pseudo-random draws (a uniform [0, 1) and an integer), from
    /// the seed and a counter: the same request sequence meets the same faults.
    pub fn random_draw(&self) -> (f64, u64) {
        let n = self.0.draws.fetch_add(1, Ordering::Relaxed);
        let digest = ids::digest(&[self.0.seed.as_bytes(), &n.to_le_bytes()]);
        let word = |i: usize| u64::from_le_bytes(digest[i..i + 8].try_into().unwrap_or_default());
        ((word(0) >> 11) as f64 / (1u64 << 53) as f64, word(8))
    }

    /// Counts a fault injected on a request of this known key (`None`: no known key).
    pub fn count(&self, key: Option<&str>, fault: Fault) {
        let mut injected = lock(&self.0.injected);
        *injected.entry(key.map(str::to_owned)).or_default().entry(fault.name()).or_default() += 1;
    }

    /// The faults injected on this key's requests, by name.
    pub fn injected(&self, key: &str) -> BTreeMap<&'static str, u64> {
        lock(&self.0.injected).get(&Some(key.to_owned())).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for fault in API_FAULTS.into_iter().chain([Fault::ExpiredImage]) {
            assert_eq!(Fault::parse(fault.name()), Ok(fault));
        }
        assert!(Fault::parse("teapot").is_err());
        assert_eq!(Fault::parse_list("500, drop,").unwrap(), [Fault::Status(500), Fault::Drop]);
    }

    #[test]
    fn plans_pick_only_applicable_faults_at_their_rate() {
        let plan = FaultPlan { rate: 0.5, ..FaultPlan::default() };
        assert_eq!(plan.pick("/api/balance", 0.6, 0), None);
        assert_eq!(plan.pick("/images/x.webp", 0.1, 3), Some(Fault::ExpiredImage));
        assert_eq!(plan.pick("/emulator/keys", 0.1, 3), None);
        for which in 0..20 {
            assert_ne!(plan.pick("/api/balance", 0.1, which), Some(Fault::ExpiredImage));
        }
    }

    #[test]
    fn own_plans_over_the_global_one_and_counts_per_key() {
        let book = FaultBook::new("seed", FaultPlan { rate: 0.5, ..FaultPlan::default() });
        book.set_plan("k", FaultPlan { rate: 1.0, ..FaultPlan::default() });
        assert_eq!(
            (book.plan(Some("k")).rate, book.plan(Some("other")).rate, book.plan(None).rate),
            (1.0, 0.5, 0.5)
        );
        book.count(Some("k"), Fault::Drop);
        book.count(Some("k"), Fault::Drop);
        book.count(None, Fault::Drop);
        assert_eq!(book.injected("k"), BTreeMap::from([("drop", 2)]));
        assert_eq!(book.injected("other"), BTreeMap::new());
        // The same seed draws the same sequence.
        let again = FaultBook::new("seed", FaultPlan::default());
        assert_eq!(
            (0..3).map(|_| book.random_draw()).collect::<Vec<_>>(),
            (0..3).map(|_| again.random_draw()).collect::<Vec<_>>()
        );
    }
}
