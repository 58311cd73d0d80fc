//! The emulator's state: one cheap-to-clone handle on each part, so that a handler takes
//! only the parts it needs (`State<Ledger>`, `State<Clock>`, … through [`FromRef`]).
//!
//! The parts are plain data and know nothing of HTTP handlers or of each other beyond
//! what they hold: the books ([`Ledger`]: keys, balances, creations), the fault plans and
//! draws ([`FaultBook`]), the encoded images ([`ImageCache`]), the requests in flight and
//! held ([`Traffic`]), where image links point ([`Origin`]), the styles, and the clock.

use crate::clock::Clock;
use crate::config::Config;
use crate::faults::FaultBook;
use crate::image_cache::ImageCache;
use crate::ledger::Ledger;
use crate::origin::Origin;
use crate::pricing::Styles;
use crate::traffic::Traffic;
use axum::extract::FromRef;

#[derive(Clone, Debug)]
pub struct AppState {
    pub clock: Clock,
    pub ledger: Ledger,
    pub faults: FaultBook,
    pub images: ImageCache,
    pub traffic: Traffic,
    pub origin: Origin,
    pub styles: Styles,
    /// One line per request on stderr.
    pub log_requests: bool,
}

impl AppState {
    /// The state for this configuration, on real time.
    pub fn new(config: &Config) -> Self {
        Self::with_clock(config, Clock::real())
    }

    /// The state for this configuration on `clock` (a [`Clock::manual`] in tests).
    pub fn with_clock(config: &Config, clock: Clock) -> Self {
        Self {
            ledger: Ledger::new(config, clock.clone()),
            faults: FaultBook::new(&config.seed, config.faults.clone()),
            images: ImageCache::default(),
            traffic: Traffic::default(),
            origin: Origin::new(config.public_url.clone()),
            styles: Styles::default(),
            log_requests: config.log_requests,
            clock,
        }
    }
}

/// `impl FromRef<AppState> for Part` for each part: `State<Part>` in a handler.
macro_rules! parts {
    ($($field:ident: $part:ty),* $(,)?) => {$(
        impl FromRef<AppState> for $part {
            fn from_ref(state: &AppState) -> Self {
                state.$field.clone()
            }
        }
    )*};
}

parts!(
    clock: Clock,
    ledger: Ledger,
    faults: FaultBook,
    images: ImageCache,
    traffic: Traffic,
    origin: Origin,
    styles: Styles,
);
