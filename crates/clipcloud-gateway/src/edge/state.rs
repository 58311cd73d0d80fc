//! What every handler shares: the settings, the forward layer (the upstream clients and the
//! held checks), the app's files, the metrics, and in operator-key mode the limits and the
//! accounts.

use crate::config::{Config, Mode};
use crate::edge::statics::Site;
use crate::forward::hold::Holds;
use crate::forward::scrub::Secrets;
use crate::forward::upstream::Upstream;
use crate::forward::Forwarder;
use crate::metrics::{Metrics, Readings};
use crate::operator::accounts::{Accounts, AccountsConfig};
use crate::operator::OperatorState;
use crate::store::ledger::Ledger;
use crate::store::redis;
use std::sync::Arc;

pub struct Gateway {
    pub config: Config,
    pub forwarder: Forwarder,
    /// The app's files (`--static-dir`).
    pub site: Option<Site>,
    pub operator: Option<OperatorState>,
    pub metrics: Arc<Metrics>,
}

/// What the metrics read at each scrape.
struct Scraped {
    holds: Holds,
    ledger: Option<Ledger>,
    redis: Option<Arc<redis::Client>>,
}

impl Readings for Scraped {
    fn holds(&self) -> (u64, u64) {
        let load = self.holds.load();
        (load.held as u64, load.pollers as u64)
    }

    fn storage_errors(&self) -> (u64, u64) {
        let ledger = self.ledger.as_ref().map_or(0, Ledger::errors);
        (ledger, self.redis.as_ref().map_or(0, |redis| redis.errors()))
    }
}

impl Gateway {
    /// Opens the ledger (and Redis) in operator-key mode; fails with a message for the
    /// operator if they cannot be opened.
    pub async fn open(config: Config) -> Result<Self, String> {
        let limits = &config.limits;
        let mut metrics = Metrics::new();
        let upstream =
            Upstream::new(config.upstream.clone(), limits.upstream_timeout).timed(metrics.upstream_times());
        let images = Upstream::new(config.images_upstream.clone(), limits.upstream_timeout)
            .timed(metrics.upstream_times());
        let site = config.static_dir.as_deref().map(Site::open).transpose()?;
        let operator = match &config.mode {
            Mode::Relay => None,
            Mode::Operator(settings) => {
                let accounts = Accounts::open(AccountsConfig {
                    ledger: settings.ledger.clone(),
                    redis: settings.redis.as_ref().map(|url| url.expose_str().to_owned()),
                    redis_ca_file: settings.redis_ca_file.clone(),
                    visitor_daily_spend: settings.visitor_daily_spend,
                    address_daily: settings.address_daily(),
                    daily_cap: settings.daily_cap,
                    monthly_cap: settings.monthly_cap,
                })
                .await?;
                Some(OperatorState::open((**settings).clone(), accounts, upstream.clone()).await?)
            }
        };
        // What the held checks learned is kept with the ledger, when there is one.
        let store = operator.as_ref().map(|o| o.accounts.ledger().clone());
        let holds = Holds::open(limits.max_held, limits.max_pollers, store.clone()).await;
        let redis = operator.as_ref().and_then(|o| o.accounts.shared());
        metrics.read_at_scrape(Arc::new(Scraped { holds: holds.clone(), ledger: store, redis }));
        let forwarder = Forwarder {
            upstream,
            images,
            holds,
            max_image_bytes: limits.max_image_bytes,
            image_timeout: limits.request_timeout,
            secrets: Secrets::of_upstream(&[&config.upstream, &config.images_upstream]),
        };
        Ok(Self { config, forwarder, site, operator, metrics: Arc::new(metrics) })
    }
}
