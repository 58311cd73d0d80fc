//! When to try a failed call again. Pure: the caller supplies the attempt number,
//! the time left and a random number, and gets a decision.
//!
//! Reads (check, balance, styles) are idempotent and retried on transient trouble.
//! A create is retried only when the service clearly did not accept it — retrying one
//! that may have been accepted would start (and charge) a second creation.

use crate::error::Error;
use crate::poll::{from_secs_nanos, nanos, secs_f64, Nanos};
use core::time::Duration;

/// What kind of call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// check, balance, styles: safe to repeat.
    Read,
    /// create: costs money; repeat only when it certainly did not start.
    Create,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    RetryAfter(Duration),
    GiveUp,
}

/// Exponential back-off with full jitter, honouring `Retry-After`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Upper bound of the first back-off; doubles each retry.
    pub base_delay: Duration,
    /// No back-off (nor `Retry-After`) longer than this is waited for.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_retries: 2, base_delay: Duration::from_millis(300), max_delay: Duration::from_secs(10) }
    }
}

impl RetryPolicy {
    pub const NEVER: Self = Self { max_retries: 0, base_delay: Duration::ZERO, max_delay: Duration::ZERO };

    /// `retries_done`: how many retries already happened for this call.
    /// `time_left`: until the caller's deadline, if it has one.
    /// `random`: uniform in [0, 1), for the jitter.
    pub fn decide(
        &self,
        kind: CallKind,
        retries_done: u32,
        error: &Error,
        time_left: Option<Duration>,
        random: f64,
    ) -> Decision {
        if retries_done >= self.max_retries || !is_retryable(kind, error) {
            return Decision::GiveUp;
        }
        let delay = match error {
            Error::Api { retry_after: Some(wait), .. } => *wait,
            _ => {
                // In nanoseconds, as the polling schedule computes (less code in the wasm).
                let (base, doublings) = (nanos(self.base_delay), retries_done.min(16));
                let doubled = if base > Nanos::MAX >> doublings { Nanos::MAX } else { base << doublings };
                let ceiling = doubled.min(nanos(self.max_delay));
                // Full jitter. Not `mul_f64`: it panics on NaN, and the wasm would die with it.
                let jittered = secs_f64(ceiling) * random.clamp(0.0, 1.0);
                Duration::from_nanos(from_secs_nanos(jittered, ceiling))
            }
        };
        if delay > self.max_delay || time_left.is_some_and(|left| delay >= left) {
            return Decision::GiveUp;
        }
        Decision::RetryAfter(delay)
    }
}

/// Statuses that say "not now" rather than "no".
const TRANSIENT_STATUSES: [u16; 6] = [408, 429, 500, 502, 503, 504];

pub fn is_retryable(kind: CallKind, error: &Error) -> bool {
    match (kind, error) {
        (CallKind::Read, Error::Api { status, .. }) => TRANSIENT_STATUSES.contains(status),
        // A cut-off or garbled body is a transport accident; reading again is harmless.
        (CallKind::Read, Error::Network { .. } | Error::Timeout { .. } | Error::BadResponse { .. }) => true,
        // 429 and a 503 that names a time to come back are refusals: nothing was started.
        (CallKind::Create, Error::Api { status: 429, .. }) => true,
        (CallKind::Create, Error::Api { status: 503, retry_after: Some(_), .. }) => true,
        (CallKind::Create, Error::Network { may_have_started: false, .. }) => true,
        _ => false,
    }
}

// Native only: proptest needs an OS random source.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn api(status: u16, retry_after: Option<u64>) -> Error {
        Error::Api {
            status,
            message: String::new(),
            retry_after: retry_after.map(Duration::from_secs),
            may_have_started: false,
        }
    }

    fn network(may_have_started: bool) -> Error {
        Error::Network { message: "reset".into(), may_have_started }
    }

    #[test]
    fn reads_retry_transient_failures_only() {
        for e in
            [api(500, None), api(502, None), api(503, None), api(504, None), api(429, None), api(408, None)]
        {
            assert!(is_retryable(CallKind::Read, &e), "{e:?}");
        }
        assert!(is_retryable(CallKind::Read, &network(false)));
        assert!(is_retryable(CallKind::Read, &Error::Timeout { may_have_started: false }));
        for e in [
            api(400, None),
            api(401, None),
            api(402, None),
            api(404, None),
            Error::Aborted,
            Error::Internal("x"),
        ] {
            assert!(!is_retryable(CallKind::Read, &e), "{e:?}");
        }
    }

    #[test]
    fn creates_retry_only_clear_refusals() {
        assert!(is_retryable(CallKind::Create, &api(429, None)));
        assert!(is_retryable(CallKind::Create, &api(503, Some(2))));
        assert!(is_retryable(CallKind::Create, &network(false)));
        // Might have been accepted: retrying could charge twice.
        assert!(!is_retryable(CallKind::Create, &api(503, None)));
        assert!(!is_retryable(CallKind::Create, &api(500, None)));
        assert!(!is_retryable(CallKind::Create, &api(502, None)));
        assert!(!is_retryable(CallKind::Create, &network(true)));
        assert!(!is_retryable(CallKind::Create, &Error::Timeout { may_have_started: true }));
        assert!(!is_retryable(
            CallKind::Create,
            &Error::BadResponse {
                status: 200,
                reason: String::new(),
                excerpt: String::new(),
                may_have_started: true
            }
        ));
    }

    #[test]
    fn retry_after_is_honoured_and_bounded_by_the_deadline() {
        let p = RetryPolicy::default();
        let e = api(429, Some(2));
        assert_eq!(p.decide(CallKind::Read, 0, &e, None, 0.5), Decision::RetryAfter(Duration::from_secs(2)));
        assert_eq!(p.decide(CallKind::Read, 0, &e, Some(Duration::from_secs(1)), 0.5), Decision::GiveUp);
        assert_eq!(p.decide(CallKind::Read, 0, &api(429, Some(60)), None, 0.5), Decision::GiveUp);
        assert_eq!(p.decide(CallKind::Read, 2, &e, None, 0.5), Decision::GiveUp);
    }

    proptest! {
        #[test]
        fn backoff_stays_within_its_ceiling(retries in 0u32..2, random in 0.0f64..1.0) {
            let p = RetryPolicy::default();
            match p.decide(CallKind::Read, retries, &api(500, None), None, random) {
                Decision::RetryAfter(d) => prop_assert!(d <= p.base_delay * (1 << retries)),
                Decision::GiveUp => prop_assert!(false, "should retry"),
            }
        }

        /// The back-off in nanoseconds is what it was in `Duration`s (before 2026-12-07).
        #[test]
        fn backoff_as_durations_gave_it(
            retries in 0u32..20,
            base_us in 0u64..100_000_000,
            max_us in 0u64..1_000_000_000,
            random in proptest::num::f64::ANY,
        ) {
            let (base_delay, max_delay) = (Duration::from_micros(base_us), Duration::from_micros(max_us));
            let p = RetryPolicy { max_retries: 30, base_delay, max_delay };
            let ceiling = base_delay.saturating_mul(1u32 << retries.min(16)).min(max_delay);
            let jittered = ceiling.as_secs_f64() * random.clamp(0.0, 1.0);
            let expected = if (0.0..1e12).contains(&jittered) {
                Duration::from_micros((jittered * 1e6 + 0.5) as u64)
            } else {
                ceiling
            };
            let expected = if expected > max_delay { Decision::GiveUp } else { Decision::RetryAfter(expected) };
            prop_assert_eq!(p.decide(CallKind::Read, retries, &api(500, None), None, random), expected);
        }

        #[test]
        fn any_random_number_is_safe(random in proptest::num::f64::ANY) {
            // NaN, infinities, negatives, huge: still a retry within the first back-off.
            let policy = RetryPolicy::default();
            match policy.decide(CallKind::Read, 0, &api(500, None), None, random) {
                Decision::RetryAfter(d) => prop_assert!(d <= policy.base_delay, "{d:?} for {random}"),
                Decision::GiveUp => prop_assert!(false, "gave up on the first 500 for {random}"),
            }
        }

        #[test]
        fn never_retries_past_the_deadline(left_ms in 0u64..2_000, random in 0.0f64..1.0, retry_after in proptest::option::of(0u64..5)) {
            let left = Duration::from_millis(left_ms);
            if let Decision::RetryAfter(d) = RetryPolicy::default().decide(CallKind::Read, 0, &api(503, retry_after), Some(left), random) {
                prop_assert!(d < left);
            }
        }
    }
}
