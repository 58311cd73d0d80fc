//! The books: accounts and their creations under one lock, so that a create charges and
//! records at once and a refund is paid once.
//!
//! Readiness is decided by the clock when someone asks, so nothing runs in the
//! background: a creation is done once `now >= ready_at`, and the first look at its
//! key after that settles it (refunds the images the content filter withheld).

use crate::accounts::{Account, Accounts, DelayPlan};
use crate::clock::Clock;
use crate::config::Config;
use crate::create::Order;
use crate::creations::{Creation, CreationRecord, Creations, Progress};
use crate::error::ApiError;
use crate::images::ImageSpec;
use crate::lock::lock;
use crate::money::Money;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Cheap to clone: clones share the books.
#[derive(Clone, Debug)]
pub struct Ledger(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// Behind creation ids, fresh keys and drawn generation times.
    seed: String,
    /// `--delay-ms`: the generation time unless a key or a create says otherwise.
    delay: Duration,
    clock: Clock,
    books: Mutex<Books>,
}

#[derive(Debug, Default)]
struct Books {
    accounts: Accounts,
    creations: Creations,
}

/// A key's own counts for `GET /emulator/stats`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AccountStats {
    pub balance: Money,
    pub creates: u64,
    pub duplicate_creates: u64,
}

impl Books {
    /// Completes this key's creations whose time has come: refunds withheld images.
    fn settle_key(&mut self, key: &str, now: Instant) {
        let Ok(account) = self.accounts.get(Some(key)) else { return };
        let creations = &mut self.creations;
        account.pending.retain(|id| {
            let Some(refund) = creations.get_mut(id).map(|c| c.settle(now)) else { return false };
            match refund {
                None => true,
                Some(refund) => {
                    account.balance = account.balance.saturating_add(refund);
                    false
                }
            }
        });
    }

    /// The key's account with its due refunds paid; 401 for a bad key.
    fn settled(&mut self, key: Option<&str>, now: Instant) -> Result<&mut Account, ApiError> {
        self.accounts.get(key)?;
        self.settle_key(key.unwrap_or_default(), now);
        self.accounts.get(key)
    }
}

impl Ledger {
    /// The keys of the configuration with their balances, nothing created yet.
    pub fn new(config: &Config, clock: Clock) -> Self {
        let mut books = Books::default();
        for (key, balance) in &config.keys {
            books.accounts.insert(key, *balance);
        }
        Self(Arc::new(Inner {
            seed: config.seed.clone(),
            delay: config.delay,
            clock,
            books: Mutex::new(books),
        }))
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        lock(&self.0.books)
    }

    /// 401 unless the key exists.
    pub fn authorize(&self, key: Option<&str>) -> Result<(), ApiError> {
        self.books().accounts.get(key).map(|_| ())
    }

    pub fn knows(&self, key: &str) -> bool {
        self.books().accounts.knows(key)
    }

    /// A fresh key with this balance and optionally its own generation time.
    pub fn add_key(&self, balance: Money, delay: Option<DelayPlan>) -> String {
        self.books().accounts.mint(&self.0.seed, Account::new(balance, delay))
    }

    /// The generation time of this key's next creation: its own plan, else `--delay-ms`.
    pub fn next_delay(&self, key: &str) -> Duration {
        match self.books().accounts.get(Some(key)) {
            Ok(account) => account.next_delay(&self.0.seed, key, self.0.delay),
            Err(_) => self.0.delay,
        }
    }

    /// Charges the full price and records the creation; 402 if the balance is short.
    pub fn create(&self, key: &str, order: Order, delay: Duration) -> Result<String, ApiError> {
        let now = self.0.clock.now();
        let ready_at =
            now.checked_add(delay).ok_or_else(|| ApiError::bad_request("generation delay too large"))?;
        let creation = Creation::new(key, order, ready_at, self.0.clock.unix_ms(now));
        let total = creation.price();

        let mut books = self.books();
        let account = books.settled(Some(key), now)?;
        if account.balance < total {
            return Err(ApiError::payment_required(format!(
                "balance too low: this creation costs {total}, the balance is {}",
                account.balance
            )));
        }
        account.balance = account.balance.saturating_sub(total);
        let id = books.creations.insert(&self.0.seed, creation);
        if let Ok(account) = books.accounts.get(Some(key)) {
            account.pending.push(id.clone());
            account.created.push(id.clone());
        }
        Ok(id)
    }

    /// Counts an accepted create of `key` with this request body.
    pub fn record_create(&self, key: &str, body: &[u8]) {
        if let Ok(account) = self.books().accounts.get(Some(key)) {
            account.record_create(body);
        }
    }

    /// When `key`'s creation `id` is (or was) ready; `None` for an unknown id or another
    /// key's. Records nothing: a held check counts once, when it is answered.
    pub fn ready_at(&self, key: Option<&str>, id: &str) -> Option<Instant> {
        self.books().creations.owned_by(key, id).map(|c| c.ready_at)
    }

    /// What a check of `id` finds now, recorded; 401 for a bad key, 404 for an unknown id
    /// or another key's.
    pub fn check(&self, key: Option<&str>, id: &str) -> Result<Progress, ApiError> {
        let now = self.0.clock.now();
        let not_found = || ApiError::not_found(format!("no creation with id {id} for this key"));
        let mut books = self.books();
        books.accounts.get(key)?;
        books.creations.owned_by(key, id).ok_or_else(not_found)?;
        books.settle_key(key.unwrap_or_default(), now);
        let creation = books.creations.get_mut(id).ok_or_else(not_found)?;
        creation.checks_ms.push(self.0.clock.unix_ms(now));
        Ok(creation.progress(id, now))
    }

    /// The balance, with the refunds due by now; 401 for a bad key.
    pub fn balance(&self, key: Option<&str>) -> Result<Money, ApiError> {
        let now = self.0.clock.now();
        Ok(self.books().settled(key, now)?.balance)
    }

    /// [`Self::balance`] and the counts of creates; 401 for a bad key.
    pub fn account_stats(&self, key: Option<&str>) -> Result<AccountStats, ApiError> {
        let now = self.0.clock.now();
        let mut books = self.books();
        let account = books.settled(key, now)?;
        Ok(AccountStats {
            balance: account.balance,
            creates: account.creates,
            duplicate_creates: account.duplicate_creates,
        })
    }

    /// Every creation of this key, oldest first, with its timeline (401 for a bad key).
    pub fn creations(&self, key: Option<&str>) -> Result<Vec<CreationRecord>, ApiError> {
        let mut books = self.books();
        let ids = books.accounts.get(key)?.created.clone();
        let clock = &self.0.clock;
        Ok(ids
            .into_iter()
            .filter_map(|id| {
                let c = books.creations.owned_by(key, &id)?;
                Some(CreationRecord {
                    created_ms: c.created_ms,
                    ready_ms: clock.unix_ms(c.ready_at),
                    checks_ms: c.checks_ms.clone(),
                    creation_id: id,
                })
            })
            .collect())
    }

    /// The key that created the image at this path (`/images/<id>.webp`), if any.
    pub fn image_owner(&self, path: &str) -> Option<String> {
        let id = path.strip_prefix("/images/")?.strip_suffix(".webp")?;
        self.books().creations.image_owner(id).map(str::to_owned)
    }

    /// What to draw for an image id, once its creation is done; `None` if unknown or not ready.
    pub fn image_spec(&self, image_id: &str) -> Option<ImageSpec> {
        self.books().creations.image_spec(image_id, self.0.clock.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(prompt: &str, count: u32) -> Order {
        Order { prompt: prompt.into(), width: 512, height: 512, count, censored: prompt.contains("nsfw") }
    }

    fn ledger() -> (Ledger, Clock) {
        let clock = Clock::manual();
        (Ledger::new(&Config::default(), clock.clone()), clock)
    }

    #[test]
    fn charge_then_refund_withheld_at_completion() {
        let (ledger, clock) = ledger();
        let key = Some("demo-key");
        let id = ledger.create("demo-key", order("nsfw cat", 2), Duration::from_secs(1)).unwrap();
        assert_eq!(ledger.balance(key).unwrap(), Money::from_cents(10_000 - 220));
        assert_eq!(ledger.check(key, &id).unwrap(), Progress::InProgress);
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            ledger.check(key, &id).unwrap(),
            Progress::Done { cost: Money::ZERO, censored: 2, images: vec![] }
        );
        assert_eq!(ledger.balance(key).unwrap(), Money::from_cents(10_000));
        // Settled once only.
        ledger.check(key, &id).unwrap();
        assert_eq!(ledger.balance(key).unwrap(), Money::from_cents(10_000));
    }

    #[test]
    fn keys_and_owners() {
        let (ledger, _) = ledger();
        let other = ledger.add_key(Money::from_cents(110), None);
        assert_ne!(other, ledger.add_key(Money::from_cents(110), None));
        let id = ledger.create("demo-key", order("cat", 1), Duration::ZERO).unwrap();
        assert_eq!(ledger.check(Some(&other), &id).unwrap_err().status, 404);
        assert_eq!(ledger.check(Some("nope"), &id).unwrap_err().status, 401);
        assert_eq!(ledger.check(None, &id).unwrap_err().status, 401);
        assert_ne!(ledger.create(&other, order("cat", 1), Duration::ZERO).unwrap(), id);
        assert_eq!(ledger.create(&other, order("cat", 1), Duration::ZERO).unwrap_err().status, 402);
        assert_eq!(
            ledger.image_owner(&format!("/images/{}.webp", crate::ids::image_id(&id, 0))).as_deref(),
            Some("demo-key")
        );
    }

    #[test]
    fn timelines_in_unix_ms_of_the_clock() {
        let (ledger, clock) = ledger();
        let created_ms = clock.unix_ms(clock.now());
        let id = ledger.create("demo-key", order("cat", 1), Duration::from_millis(300)).unwrap();
        ledger.check(Some("demo-key"), &id).unwrap();
        clock.advance(Duration::from_millis(300));
        ledger.check(Some("demo-key"), &id).unwrap();
        assert_eq!(
            ledger.creations(Some("demo-key")).unwrap(),
            [CreationRecord {
                creation_id: id,
                created_ms,
                ready_ms: created_ms + 300,
                checks_ms: vec![created_ms, created_ms + 300],
            }]
        );
    }
}
