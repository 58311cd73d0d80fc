//! The operator layer: what operator-key mode adds around a call. Who is calling
//! ([`visitor`]), how often it may create ([`rate_limit`]), and what it may spend
//! ([`accounts`]: a reservation against every cap before a create is forwarded, settled by
//! the real cost, counted in SQLite or Redis: [`counters`]). The Redis scripts are the
//! `.lua` files in `lua/`.

pub mod accounts;
pub mod counters;
pub mod rate_limit;
pub mod visitor;

use crate::config::Operator;
use accounts::Accounts;
use rate_limit::Limiter;

/// At most this many visitors (and as many addresses) rate-limited at once.
const TRACKED_VISITORS: usize = 100_000;
/// Visitors behind one address (an office, a phone network) share a bucket this much larger.
const ADDRESS_SHARE: u32 = 4;
/// New cookies an address may be given a minute.
const COOKIES_PER_MINUTE: u32 = 20;

/// What operator-key mode keeps besides its settings.
pub struct OperatorState {
    pub settings: Operator,
    pub accounts: Accounts,
    pub visitors: Limiter,
    pub addresses: Limiter,
    /// New cookies per address, so that a script cannot mint itself fresh identities.
    pub cookies: Limiter,
}

impl OperatorState {
    pub fn new(settings: Operator, accounts: Accounts) -> Self {
        let per_minute = settings.creates_per_minute;
        // With Redis, every replica draws from the same buckets.
        let shared = accounts.shared();
        let limiter = |name, per_minute| Limiter::new(shared.as_ref(), name, per_minute, TRACKED_VISITORS);
        Self {
            visitors: limiter("visitor", per_minute),
            addresses: limiter("address", per_minute.saturating_mul(ADDRESS_SHARE)),
            cookies: limiter("cookie", COOKIES_PER_MINUTE),
            settings,
            accounts,
        }
    }
}
