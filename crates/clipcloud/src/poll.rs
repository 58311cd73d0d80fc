//! When to check a running creation next. Pure: given how many checks were made and
//! how long the creation has run, the schedule says how long to sleep, or that the
//! deadline has passed.

use core::time::Duration;

/// Quick first checks, then a geometric back-off up to a cap, within a total deadline.
///
/// Why this shape: most creations finish within seconds, so early checks find them
/// soon; a long one should not cost a request every half second for minutes. The
/// benchmark (a later issue) tunes the numbers against fixed-interval polling.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PollSchedule {
    /// Sleep before the first check.
    pub first_delay: Duration,
    /// Each following sleep is the previous one times this.
    pub growth: f64,
    /// No sleep is shorter than this...
    pub min_interval: Duration,
    /// ...or longer than this.
    pub max_interval: Duration,
    /// Give up waiting this long after the creation was accepted.
    pub deadline: Duration,
}

impl Default for PollSchedule {
    fn default() -> Self {
        Self {
            first_delay: Duration::from_millis(500),
            growth: 1.5,
            min_interval: Duration::from_millis(200),
            max_interval: Duration::from_secs(3),
            deadline: Duration::from_secs(300),
        }
    }
}

impl PollSchedule {
    /// The sleep before check number `checks_done + 1`, given the time since the
    /// creation was accepted; `None` once the deadline has passed.
    pub fn next_delay(&self, checks_done: u32, elapsed: Duration) -> Option<Duration> {
        let left = self.deadline.checked_sub(elapsed).filter(|left| !left.is_zero())?;
        let max = self.max_interval.max(self.min_interval);
        // In f64 seconds: a long wait grows past what a Duration can hold.
        let grown = self.first_delay.as_secs_f64() * self.growth.max(1.0).powi(checks_done.min(1_000) as i32);
        let delay = Duration::try_from_secs_f64(grown).unwrap_or(max).clamp(self.min_interval, max);
        // The last check lands on the deadline rather than past it.
        Some(delay.min(left))
    }
}

// Native only: proptest needs an OS random source.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn starts_quick_then_backs_off_to_the_cap() {
        let s = PollSchedule::default();
        let delays: Vec<u128> =
            (0..8).map(|n| s.next_delay(n, Duration::ZERO).unwrap().as_millis()).collect();
        assert_eq!(delays, [500, 750, 1125, 1687, 2531, 3000, 3000, 3000]);
    }

    #[test]
    fn stops_at_the_deadline() {
        let s = PollSchedule { deadline: Duration::from_secs(10), ..PollSchedule::default() };
        assert_eq!(s.next_delay(20, Duration::from_millis(9_000)), Some(Duration::from_secs(1)));
        assert_eq!(s.next_delay(20, Duration::from_secs(10)), None);
        assert_eq!(s.next_delay(0, Duration::from_secs(11)), None);
    }

    proptest! {
        #[test]
        fn never_past_deadline_never_faster_than_minimum(
            checks in 0u32..1_000,
            elapsed_ms in 0u64..400_000,
            first_ms in 0u64..5_000,
            growth in 0.5f64..4.0,
        ) {
            let s = PollSchedule { first_delay: Duration::from_millis(first_ms), growth, ..PollSchedule::default() };
            let elapsed = Duration::from_millis(elapsed_ms);
            match s.next_delay(checks, elapsed) {
                Some(d) => {
                    prop_assert!(elapsed + d <= s.deadline);
                    let left = s.deadline - elapsed;
                    prop_assert!(d >= s.min_interval || d == left);
                    prop_assert!(d <= s.max_interval);
                }
                None => prop_assert!(elapsed >= s.deadline),
            }
        }
    }
}
