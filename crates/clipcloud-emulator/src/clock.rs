//! The emulator's time: the real one, or one a test moves by hand.
//!
//! Creations become ready by the clock (`ready_at`), and held checks wait on it, so a test
//! on a [`Clock::manual`] checks "in progress, then ready" by [`Clock::advance`] instead of
//! sleeping. Network behaviour (`slow` faults, request durations in the log) stays on
//! real time.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

#[derive(Clone, Debug)]
pub struct Clock {
    /// The clock's start, on both clocks: instants convert to Unix ms from here.
    started: Instant,
    started_unix_ms: u64,
    /// `None`: real time. `Some`: the time a test has set, watched by sleepers.
    manual: Option<Arc<watch::Sender<Instant>>>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::real()
    }
}

impl Clock {
    /// Real time (the default).
    pub fn real() -> Self {
        Self::start(None)
    }

    /// Time that stands still until [`Clock::advance`] moves it; clones share it.
    pub fn manual() -> Self {
        Self::start(Some(Arc::new(watch::Sender::new(Instant::now()))))
    }

    fn start(manual: Option<Arc<watch::Sender<Instant>>>) -> Self {
        let started = manual.as_ref().map_or_else(Instant::now, |time| *time.borrow());
        let started_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self { started, started_unix_ms, manual }
    }

    pub fn now(&self) -> Instant {
        match &self.manual {
            None => Instant::now(),
            Some(time) => *time.borrow(),
        }
    }

    /// Moves a manual clock forward and wakes the sleepers whose time has come.
    /// A real clock cannot be moved: `false`, nothing changes.
    pub fn advance(&self, by: Duration) -> bool {
        let Some(time) = &self.manual else { return false };
        time.send_modify(|now| *now += by);
        true
    }

    /// Returns once `now() >= deadline`.
    pub async fn sleep_until(&self, deadline: Instant) {
        match &self.manual {
            None => tokio::time::sleep_until(deadline.into()).await,
            Some(time) => {
                // Err only if the sender is gone, and this clock holds it.
                let _ = time.subscribe().wait_for(|now| *now >= deadline).await;
            }
        }
    }

    /// The wall-clock time (Unix ms) of an instant of this clock, so that the benchmark's
    /// times compare with the browser's `Date.now()`.
    pub fn unix_ms(&self, at: Instant) -> u64 {
        let since = at.saturating_duration_since(self.started).as_millis();
        self.started_unix_ms.saturating_add(u64::try_from(since).unwrap_or(u64::MAX))
    }

    /// Time since the clock started (log timestamps).
    pub fn uptime(&self) -> Duration {
        self.now().saturating_duration_since(self.started)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_moves_only_when_advanced_and_wakes_sleepers() {
        let clock = Clock::manual();
        let start = clock.now();
        let unix_start = clock.unix_ms(start);
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep_until(start + Duration::from_millis(300)).await }
        });
        tokio::task::yield_now().await;
        assert_eq!(clock.now(), start);
        assert!(clock.advance(Duration::from_millis(299)));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished(), "woke before its time");
        clock.advance(Duration::from_millis(1));
        sleeper.await.unwrap();
        assert_eq!(clock.unix_ms(clock.now()), unix_start + 300);
        assert_eq!(clock.uptime(), Duration::from_millis(300));
    }

    #[test]
    fn a_real_clock_cannot_be_moved() {
        let clock = Clock::real();
        assert!(!clock.advance(Duration::from_secs(1)));
        assert!(clock.now() >= clock.started);
    }
}
