//! What every handler shares: the settings, the upstream client, and in operator-key mode
//! the limits and the accounts.

use crate::budget::{Accounts, AccountsConfig};
use crate::config::{Config, Mode, Operator};
use crate::hold::Holds;
use crate::limits::Limiter;
use crate::statics::Site;
use crate::upstream::Upstream;

pub struct Gateway {
    pub config: Config,
    pub upstream: Upstream,
    /// Where `/images/...` comes from.
    pub images: Upstream,
    /// The app's files (`--static-dir`).
    pub site: Option<Site>,
    pub operator: Option<OperatorState>,
    /// Held checks and their upstream pollers.
    pub holds: Holds,
}

impl Gateway {
    /// Opens the ledger (and Redis) in operator-key mode; fails with a message for the
    /// operator if they cannot be opened.
    pub async fn open(config: Config) -> Result<Self, String> {
        let upstream = Upstream::new(config.upstream.clone(), config.limits.upstream_timeout);
        let images = Upstream::new(config.images_upstream.clone(), config.limits.upstream_timeout);
        let site = config.static_dir.as_deref().map(Site::open).transpose()?;
        let operator = match &config.mode {
            Mode::Relay => None,
            Mode::Operator(settings) => {
                let accounts = Accounts::open(AccountsConfig {
                    ledger: settings.ledger.clone(),
                    redis: settings.redis.as_ref().map(|url| url.expose_str().to_owned()),
                    visitor_daily_spend: settings.visitor_daily_spend,
                    daily_cap: settings.daily_cap,
                    monthly_cap: settings.monthly_cap,
                })
                .await?;
                Some(OperatorState::new((**settings).clone(), accounts))
            }
        };
        // What the held checks learned is kept with the ledger, when there is one.
        let store = operator.as_ref().map(|o| o.accounts.ledger().clone());
        let holds = Holds::open(&config.limits, store).await;
        Ok(Self { config, upstream, images, site, operator, holds })
    }
}

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
