//! The operator layer: what operator-key mode adds around a call. Who is calling
//! ([`visitor`]), how often it may call ([`rate_limit`]), and what it may spend
//! ([`accounts`]: a reservation against every cap before a create is forwarded, settled by
//! the real cost, counted in SQLite or Redis: [`counters`]); what a create reserves
//! ([`prices`]: learned per kind); what the service really charged ([`reconcile`]: the
//! operator's balance); the styles answer kept ([`styles`]). The Redis scripts are the
//! `.lua` files in `lua/`.

pub mod accounts;
pub mod counters;
pub mod prices;
pub mod rate_limit;
pub mod reconcile;
pub mod styles;
pub mod visitor;

use crate::config::Operator;
use crate::forward::upstream::Upstream;
use accounts::Accounts;
use prices::Prices;
use rate_limit::Limiter;
use reconcile::Reconciler;
use std::sync::Arc;
use styles::StylesCache;

/// At most this many visitors (and as many addresses) rate-limited at once.
const TRACKED_VISITORS: usize = 100_000;
/// Visitors behind one address (an office, a phone network) share a bucket this much larger.
const ADDRESS_SHARE: u32 = 4;
/// New cookies an address may be given a minute.
const COOKIES_PER_MINUTE: u32 = 20;
/// Checks, styles and balance calls a minute per visitor (and `ADDRESS_SHARE` times as
/// many per address): an app that holds its checks makes two a minute per creation.
pub const READS_PER_MINUTE: u32 = 120;

/// What operator-key mode keeps besides its settings.
pub struct OperatorState {
    pub settings: Operator,
    pub accounts: Arc<Accounts>,
    pub prices: Arc<Prices>,
    pub reconciler: Arc<Reconciler>,
    pub styles: StylesCache,
    /// Creates per visitor, and per address.
    pub visitors: Limiter,
    pub addresses: Limiter,
    /// Every other call per visitor, and per address.
    pub reads: Limiter,
    pub address_reads: Limiter,
    /// New cookies per address, so that a script cannot mint itself fresh identities.
    pub cookies: Limiter,
}

impl OperatorState {
    /// With `accounts` open, what was learned of prices and today's balance readings read
    /// from the ledger; `upstream` is where the operator's balance is read.
    pub async fn open(settings: Operator, accounts: Accounts, upstream: Upstream) -> Result<Self, String> {
        let per_minute = settings.creates_per_minute;
        // With Redis, every replica draws from the same buckets.
        let shared = accounts.shared();
        let limiter = |name, per_minute| Limiter::new(shared.as_ref(), name, per_minute, TRACKED_VISITORS);
        let prices = Prices::open(accounts.ledger().clone(), settings.max_price_per_image).await?;
        let accounts = Arc::new(accounts);
        let now = crate::clock::unix_now();
        let reconciler = Reconciler::open(accounts.clone(), upstream, settings.api_key.clone(), now).await;
        Ok(Self {
            visitors: limiter("visitor", per_minute),
            addresses: limiter("address", per_minute.saturating_mul(ADDRESS_SHARE)),
            reads: limiter("read", READS_PER_MINUTE),
            address_reads: limiter("address-read", READS_PER_MINUTE * ADDRESS_SHARE),
            cookies: limiter("cookie", COOKIES_PER_MINUTE),
            styles: StylesCache::new(settings.allowed_styles.clone()),
            prices: Arc::new(prices),
            reconciler: Arc::new(reconciler),
            settings,
            accounts,
        })
    }
}
