//! Requests being served: how many now and at most, overall and per key (the benchmark's
//! `GET /emulator/stats`), and the checks held open (`Prefer: wait`) with their cap.

use crate::lock::lock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Checks held open at once at most ([`Traffic::hold`]); more are answered at once.
pub const MAX_HELD: usize = 10_000;

/// Cheap to clone: clones share the counts.
#[derive(Clone, Debug, Default)]
pub struct Traffic(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    in_flight: Mutex<InFlight>,
    held: AtomicUsize,
}

#[derive(Debug, Default)]
struct InFlight {
    now: u64,
    peak: u64,
    /// Key → (now, peak).
    by_key: HashMap<String, (u64, u64)>,
}

/// A held check's place, given back when it is answered (or abandoned: dropped with the
/// handler's future when the client goes away).
#[derive(Debug)]
pub struct Held {
    traffic: Traffic,
    pub wait: Duration,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.traffic.0.held.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Traffic {
    /// A request (with this key, if any) starts being served.
    pub fn request_started(&self, key: Option<&str>) {
        let mut flight = lock(&self.0.in_flight);
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
        let mut flight = lock(&self.0.in_flight);
        flight.now = flight.now.saturating_sub(1);
        if let Some((now, _)) = key.and_then(|k| flight.by_key.get_mut(k)) {
            *now = now.saturating_sub(1);
        }
    }

    /// The most requests served at once with this key, and with any key or none.
    pub fn peaks(&self, key: &str) -> (u64, u64) {
        let flight = lock(&self.0.in_flight);
        (flight.by_key.get(key).map_or(0, |&(_, peak)| peak), flight.peak)
    }

    /// A place among the held checks, for `wait`; `None` at [`MAX_HELD`] held at once.
    pub fn hold(&self, wait: Duration) -> Option<Held> {
        let held = self.0.held.fetch_add(1, Ordering::SeqCst);
        if held >= MAX_HELD {
            self.0.held.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(Held { traffic: self.clone(), wait })
    }

    /// Checks held open right now.
    pub fn held_now(&self) -> usize {
        self.0.held.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_per_key_and_overall() {
        let traffic = Traffic::default();
        traffic.request_started(Some("a"));
        traffic.request_started(Some("a"));
        traffic.request_started(None);
        traffic.request_finished(Some("a"));
        traffic.request_started(Some("b"));
        assert_eq!(traffic.peaks("a"), (2, 3));
        assert_eq!(traffic.peaks("b"), (1, 3));
        assert_eq!(traffic.peaks("nobody"), (0, 3));
    }

    #[test]
    fn held_places_are_capped_and_given_back() {
        let traffic = Traffic::default();
        let places: Vec<Held> = (0..MAX_HELD).map_while(|_| traffic.hold(Duration::ZERO)).collect();
        assert_eq!(places.len(), MAX_HELD);
        assert!(traffic.hold(Duration::ZERO).is_none(), "one beyond the cap");
        drop(places);
        assert_eq!(traffic.held_now(), 0);
        assert!(traffic.hold(Duration::ZERO).is_some());
    }
}
