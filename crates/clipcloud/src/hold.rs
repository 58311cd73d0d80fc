//! Held checks: a check that asks the server to hold it open until the creation is ready,
//! or at most `N` seconds, with `Prefer: wait=N` (RFC 7240). A server that holds it
//! answers with `Preference-Applied: wait=N` — the emulator always, a gateway within its
//! caps — and one that does not (the plain service) answers at once, as to any check.
//!
//! The rules are spelled here once: what a server accepts ([`requested`]), what it answers
//! ([`applied`]), what a client sends ([`prefer`]), and how a client tells a held answer
//! from an immediate one ([`was_held`]).
//!
//! ```
//! use clipcloud::hold;
//! use core::time::Duration;
//!
//! assert_eq!(hold::prefer(Duration::from_secs(25)), "wait=25");
//! assert_eq!(hold::requested("respond-async, wait=10"), Some(Duration::from_secs(10)));
//! // At most 30 s, whatever is asked.
//! assert_eq!(hold::requested("wait=600"), Some(hold::MAX));
//! assert_eq!(hold::requested("return=minimal"), None);
//! ```

use core::time::Duration;

/// The request header that asks for a hold.
pub const PREFER: &str = "prefer";
/// The answer's header saying that the hold was applied.
pub const PREFERENCE_APPLIED: &str = "preference-applied";
/// The longest hold a server grants.
pub const MAX: Duration = Duration::from_secs(30);

/// How long a server holds a check whose `Prefer` header is `value`: the `wait=N`
/// preference (whole seconds, at most [`MAX`]), `None` without one, or when it does not
/// read (RFC 7240: a preference a server does not understand is ignored). `wait=0` is none.
pub fn requested(value: &str) -> Option<Duration> {
    // Preferences are comma-separated; each may carry `;` parameters after its value.
    value.split(',').find_map(|preference| {
        let token = preference.split(';').next().unwrap_or_default().trim();
        let (name, number) = token.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("wait") {
            return None;
        }
        let number = number.trim().trim_matches('"');
        // Digits only, and not so many that they could overflow.
        if number.is_empty() || number.len() > 9 || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let seconds: u64 = number.parse().ok()?;
        (seconds > 0).then(|| Duration::from_secs(seconds).min(MAX))
    })
}

/// The `Prefer` value a client sends to be held up to `wait` (whole seconds, at least 1,
/// at most [`MAX`]).
pub fn prefer(wait: Duration) -> String {
    ["wait=", &crate::error::decimal(seconds(wait))].concat()
}

/// The `Preference-Applied` value a server answers a check it held up to `wait`.
pub fn applied(wait: Duration) -> String {
    prefer(wait)
}

/// `wait` in whole seconds within 1..=30, as sent.
pub fn seconds(wait: Duration) -> u64 {
    wait.min(MAX).as_secs().max(1)
}

/// Whether an answer that says "still running" came from a hold: it took at least half
/// of the `wait` asked for. An answer much sooner means the server did not hold (the
/// plain service, or a gateway at its cap), and the client's own schedule applies before
/// the next check. (Timing, not the `Preference-Applied` header: drivers hand the core
/// the status and body only, and a cross-origin page reads only the headers exposed.)
pub fn was_held(wait: Duration, answered_after: Duration) -> bool {
    answered_after >= Duration::from_secs(seconds(wait)) / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Option<Duration> {
        Some(Duration::from_secs(n))
    }

    #[test]
    fn reads_the_wait_preference_among_others() {
        assert_eq!(requested("wait=5"), s(5));
        assert_eq!(requested(" WAIT = 7 "), s(7));
        assert_eq!(requested("respond-async, wait=10"), s(10));
        assert_eq!(requested("wait=12; foo=bar, return=minimal"), s(12));
        assert_eq!(requested("wait=\"3\""), s(3));
        assert_eq!(requested("wait=31"), Some(MAX));
        assert_eq!(requested("wait=99999999"), Some(MAX));
    }

    #[test]
    fn anything_else_is_no_hold() {
        for value in [
            "",
            "wait",
            "wait=",
            "wait=0",
            "wait=-1",
            "wait=1.5",
            "wait=abc",
            "wait=9999999999999",
            "waiting=3",
        ] {
            assert_eq!(requested(value), None, "{value}");
        }
    }

    #[test]
    fn what_a_client_sends_reads_back() {
        for n in [1, 2, 29, 30] {
            let wait = Duration::from_secs(n);
            assert_eq!(requested(&prefer(wait)), Some(wait));
        }
        assert_eq!(prefer(Duration::from_millis(300)), "wait=1");
        assert_eq!(prefer(Duration::from_secs(300)), "wait=30");
        assert_eq!(applied(Duration::from_secs(4)), "wait=4");
    }

    #[test]
    fn an_early_answer_was_not_held() {
        let wait = Duration::from_secs(30);
        assert!(!was_held(wait, Duration::from_millis(40)));
        assert!(was_held(wait, Duration::from_secs(15)));
        assert!(was_held(wait, Duration::from_secs(31)));
    }
}
