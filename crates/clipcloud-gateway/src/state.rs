//! What every handler shares: the settings, the upstream client, and in operator-key mode
//! the limits and the accounts.

use crate::budget::{Accounts, AccountsConfig};
use crate::config::{Config, Mode};
use crate::hold::Holds;
use crate::operator::OperatorState;
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
