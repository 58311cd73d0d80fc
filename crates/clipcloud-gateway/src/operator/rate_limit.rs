//! Creates per minute, per visitor: a token bucket each. [`RateLimiter`] keeps them in a
//! map whose size strangers cannot grow past a bound: buckets that have refilled are
//! forgotten first (a full bucket and no bucket mean the same); when every tracked visitor
//! is active, a new one is refused rather than admitted unlimited. With `--redis`,
//! [`Limiter::Shared`] keeps them in Redis instead, so that several replicas allow a
//! visitor the limit once, not once each; there a bucket expires a minute after its last
//! use (it is full again by then), so Redis holds only the visitors of the last minute.

use crate::secret::short_hash;
use crate::store::redis::{self, Script, KEY_PREFIX};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct RateLimiter {
    per_minute: f64,
    /// The most a bucket holds.
    burst: f64,
    capacity: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// The answer for one request.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Try again after this long.
    Wait(Duration),
}

impl RateLimiter {
    /// `per_minute` creates a minute, in bursts of up to as many; at most `capacity`
    /// visitors tracked at once.
    pub fn new(per_minute: u32, capacity: usize) -> Self {
        Self::with_burst(per_minute, per_minute, capacity)
    }

    /// `per_minute`, in bursts of up to `burst`.
    pub fn with_burst(per_minute: u32, burst: u32, capacity: usize) -> Self {
        Self {
            per_minute: f64::from(per_minute),
            burst: f64::from(burst),
            capacity,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        (bucket.tokens + elapsed * self.per_minute / 60.0).min(self.burst)
    }

    /// Takes one token from `visitor`'s bucket if it has one.
    pub fn take(&self, visitor: &str, now: Instant) -> Verdict {
        if self.per_minute <= 0.0 {
            return Verdict::Wait(Duration::from_secs(60));
        }
        let Ok(mut buckets) = self.buckets.lock() else { return Verdict::Wait(Duration::from_secs(1)) };
        if !buckets.contains_key(visitor) && buckets.len() >= self.capacity {
            buckets.retain(|_, bucket| self.refilled(*bucket, now) < self.burst);
            if buckets.len() >= self.capacity {
                return Verdict::Wait(Duration::from_secs(60));
            }
        }
        let bucket = buckets.entry(visitor.to_owned()).or_insert(Bucket { tokens: self.burst, at: now });
        let tokens = self.refilled(*bucket, now);
        if tokens >= 1.0 {
            *bucket = Bucket { tokens: tokens - 1.0, at: now };
            Verdict::Allowed
        } else {
            *bucket = Bucket { tokens, at: now };
            let wait = (1.0 - tokens) * 60.0 / self.per_minute;
            Verdict::Wait(Duration::from_secs_f64(wait.max(0.001)))
        }
    }

    /// How many visitors are tracked now.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().map(|b| b.len()).unwrap_or(0)
    }
}

/// A bucket per visitor, here or shared by every replica.
pub enum Limiter {
    Local(RateLimiter),
    Shared { client: Arc<redis::Client>, name: &'static str, per_minute: u32 },
}

impl Limiter {
    /// Buckets in `shared` Redis when there is one (named `name` there), else here.
    pub fn new(
        shared: Option<&Arc<redis::Client>>,
        name: &'static str,
        per_minute: u32,
        capacity: usize,
    ) -> Self {
        match shared {
            Some(client) => Self::Shared { client: client.clone(), name, per_minute },
            None => Self::Local(RateLimiter::new(per_minute, capacity)),
        }
    }

    /// Takes one token from `visitor`'s bucket if it has one. Fails only when the shared
    /// buckets cannot be reached (the caller refuses: limits fail closed).
    pub async fn take(&self, visitor: &str) -> Result<Verdict, redis::Error> {
        let (client, name, per_minute) = match self {
            Self::Local(limiter) => return Ok(limiter.take(visitor, Instant::now())),
            Self::Shared { client, name, per_minute } => (client, name, *per_minute),
        };
        if per_minute == 0 {
            return Ok(Verdict::Wait(Duration::from_secs(60)));
        }
        let key = format!("{KEY_PREFIX}rate:{name}:{}", short_hash(visitor));
        let wait: i64 = client.eval(&TAKE, &[key], &[per_minute.to_string()]).await?;
        match wait {
            0 => Ok(Verdict::Allowed),
            ms if ms > 0 => Ok(Verdict::Wait(Duration::from_millis(ms.unsigned_abs()))),
            _ => Err(redis::Error::Reply("the rate script gave a negative wait".into())),
        }
    }
}

/// KEYS: the bucket. ARGV: creates per minute (also the burst). 0 = allowed, else the
/// milliseconds until a token is back. Redis's clock, so replicas' clocks need not agree.
/// Sent twice after a broken connection, it takes two tokens: stricter, never looser.
static TAKE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/take_token.lua")));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills() {
        let limiter = RateLimiter::new(6, 100);
        let t0 = Instant::now();
        for _ in 0..6 {
            assert_eq!(limiter.take("a", t0), Verdict::Allowed);
        }
        let Verdict::Wait(wait) = limiter.take("a", t0) else { panic!("a 7th create in a burst of 6") };
        assert!(wait > Duration::from_secs(9) && wait <= Duration::from_secs(10), "{wait:?}");
        assert_eq!(limiter.take("b", t0), Verdict::Allowed, "buckets are per visitor");
        assert_eq!(limiter.take("a", t0 + Duration::from_secs(10)), Verdict::Allowed);
        assert!(matches!(limiter.take("a", t0 + Duration::from_secs(10)), Verdict::Wait(_)));
    }

    #[test]
    fn strangers_cannot_grow_the_map() {
        let limiter = RateLimiter::new(6, 50);
        let t0 = Instant::now();
        for i in 0..50 {
            assert_eq!(limiter.take(&format!("v{i}"), t0), Verdict::Allowed);
        }
        // Every tracked visitor is still active: a new one waits rather than growing it.
        assert!(matches!(limiter.take("new", t0), Verdict::Wait(_)));
        assert_eq!(limiter.tracked(), 50);
        // A minute on, their buckets are full again and forgotten.
        assert_eq!(limiter.take("new", t0 + Duration::from_secs(60)), Verdict::Allowed);
        assert_eq!(limiter.tracked(), 1);
    }
}
