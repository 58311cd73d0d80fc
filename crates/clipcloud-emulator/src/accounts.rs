//! API keys and what each owns: its balance, its creations in order, its own generation
//! time, and the counts of its creates.

use crate::error::ApiError;
use crate::ids;
use crate::money::Money;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

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

#[derive(Debug, Default)]
pub struct Account {
    pub balance: Money,
    /// Creations of this key not settled yet.
    pub pending: Vec<String>,
    /// Creation ids in the order they were made.
    pub created: Vec<String>,
    /// This key's own generation time (`POST /emulator/keys`), over `--delay-ms`.
    delay: Option<DelayPlan>,
    /// Draws made from `delay` so far (the next creation's draw index).
    delay_draws: u64,
    /// Digests of the create bodies seen, to count duplicates.
    fingerprints: HashSet<[u8; 32]>,
    /// Creations accepted.
    pub creates: u64,
    /// Creations accepted whose request body equals an earlier one of this key: a
    /// client that retried a create it should not have.
    pub duplicate_creates: u64,
}

impl Account {
    pub fn new(balance: Money, delay: Option<DelayPlan>) -> Self {
        Self { balance, delay, ..Self::default() }
    }

    /// The generation time of this key's next creation: its own plan, else `default`.
    /// A range is drawn from the seed, the key and the draw's index (deterministic).
    pub fn next_delay(&mut self, seed: &str, key: &str, default: Duration) -> Duration {
        match self.delay {
            None => default,
            Some(DelayPlan::Fixed(delay)) => delay,
            Some(DelayPlan::Range { min, max }) => {
                let n = self.delay_draws;
                self.delay_draws += 1;
                let digest = ids::digest(&[seed.as_bytes(), b"delay", key.as_bytes(), &n.to_le_bytes()]);
                let word = u64::from_le_bytes(digest[..8].try_into().unwrap_or_default());
                let span = max.saturating_sub(min).as_millis() as u64;
                min + Duration::from_millis(word % (span + 1))
            }
        }
    }

    /// Counts an accepted create with this request body.
    pub fn record_create(&mut self, body: &[u8]) {
        self.creates += 1;
        if !self.fingerprints.insert(ids::digest(&[body])) {
            self.duplicate_creates += 1;
        }
    }
}

/// Every key the emulator knows.
#[derive(Debug, Default)]
pub struct Accounts {
    by_key: HashMap<String, Account>,
    next_key: u64,
}

impl Accounts {
    /// Adds (or replaces) a key with this balance, e.g. from `--key`.
    pub fn insert(&mut self, key: &str, balance: Money) {
        self.by_key.insert(key.to_owned(), Account::new(balance, None));
    }

    /// A fresh key (deterministic from the seed) for this account.
    pub fn mint(&mut self, seed: &str, account: Account) -> String {
        loop {
            let key = ids::api_key(seed, self.next_key);
            self.next_key += 1;
            if !self.by_key.contains_key(&key) {
                self.by_key.insert(key.clone(), account);
                return key;
            }
        }
    }

    pub fn knows(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    /// The key's account; 401 for a missing or unknown key.
    pub fn get(&mut self, key: Option<&str>) -> Result<&mut Account, ApiError> {
        let key = match key {
            Some(k) if !k.is_empty() => k,
            _ => {
                return Err(ApiError::unauthorized("missing API key: pass it as the query parameter apikey"))
            }
        };
        self.by_key.get_mut(key).ok_or_else(|| ApiError::unauthorized("unknown API key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_is_drawn_within_its_bounds_and_a_fixed_plan_wins_over_the_default() {
        let default = Duration::from_secs(1);
        let (min, max) = (Duration::from_millis(500), Duration::from_millis(700));
        let mut ranged = Account::new(Money::ZERO, Some(DelayPlan::Range { min, max }));
        let draws: Vec<Duration> = (0..20).map(|_| ranged.next_delay("seed", "k", default)).collect();
        assert!(draws.iter().all(|d| (min..=max).contains(d)), "{draws:?}");
        assert!(draws.iter().any(|d| *d != draws[0]), "{draws:?}");
        let mut fixed = Account::new(Money::ZERO, Some(DelayPlan::Fixed(Duration::ZERO)));
        assert_eq!(fixed.next_delay("seed", "k", default), Duration::ZERO);
        assert_eq!(Account::default().next_delay("seed", "k", default), default);
    }

    #[test]
    fn missing_and_unknown_keys_are_401() {
        let mut accounts = Accounts::default();
        accounts.insert("alice", Money::from_cents(5));
        assert_eq!(accounts.get(Some("alice")).unwrap().balance, Money::from_cents(5));
        for key in [None, Some(""), Some("bob")] {
            assert_eq!(accounts.get(key).unwrap_err().status, 401, "{key:?}");
        }
        let fresh = accounts.mint("seed", Account::default());
        assert!(accounts.knows(&fresh) && fresh != accounts.mint("seed", Account::default()));
    }
}
