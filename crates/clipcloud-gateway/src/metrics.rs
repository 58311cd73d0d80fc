//! What `/metrics` on the admin listener (`--admin-listen`) tells, in Prometheus's text
//! format (OpenMetrics): requests by route and status, upstream latency by call, creates
//! admitted and refused by reason, and, read at each scrape, the spend of the day and the
//! month, held checks and their pollers, and storage (ledger, Redis) errors. Counts only:
//! no visitor, key or creation is ever a label.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

/// `Content-Type` of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteStatus {
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabel {
    call: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CreateOutcome {
    outcome: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Period {
    period: &'static str,
}

/// Seconds, from a quick loopback answer to the longest upstream call.
const LATENCY_BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The gateway's metrics; one per gateway (tests run several in one process).
pub struct Metrics {
    registry: Registry,
    requests: Family<RouteStatus, Counter>,
    creates: Family<CreateOutcome, Counter>,
    upstream: UpstreamTimes,
    spend: Family<Period, Gauge<f64, AtomicU64>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// What a scrape reads from the rest of the gateway, at that moment.
pub trait Readings: Send + Sync + 'static {
    /// Checks held open now, and their upstream pollers.
    fn holds(&self) -> (u64, u64);
    /// Errors of the ledger and of Redis since the start.
    fn storage_errors(&self) -> (u64, u64);
}

/// Where the upstream client records its latency (a handle on [`Metrics`]'s histogram).
#[derive(Clone, Debug)]
pub struct UpstreamTimes(Family<CallLabel, Histogram>);

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS.iter().copied())
}

impl Default for UpstreamTimes {
    fn default() -> Self {
        Self(Family::new_with_constructor(latency_histogram))
    }
}

impl UpstreamTimes {
    /// An upstream `call` (a route's name, or `image`) whose answer's head came after `took`.
    pub fn observe(&self, call: &'static str, took: Duration) {
        self.0.get_or_create(&CallLabel { call }).observe(took.as_secs_f64());
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("clipcloud_gateway");
        let requests = Family::<RouteStatus, Counter>::default();
        registry.register("requests", "Requests answered, by route and status", requests.clone());
        let creates = Family::<CreateOutcome, Counter>::default();
        registry.register(
            "creates",
            "Creates admitted (sent upstream) and refused before, by reason",
            creates.clone(),
        );
        let upstream = UpstreamTimes::default();
        registry.register(
            "upstream_seconds",
            "Time to the upstream answer's head, by call",
            upstream.0.clone(),
        );
        let spend = Family::<Period, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "spend_credits",
            "Credits spent this UTC day and month (operator-key mode)",
            spend.clone(),
        );
        Self { registry, requests, creates, upstream, spend }
    }

    /// What the upstream client records its latency with.
    pub fn upstream_times(&self) -> UpstreamTimes {
        self.upstream.clone()
    }

    /// Reads `readings` at each scrape from now on.
    pub fn read_at_scrape(&mut self, readings: Arc<dyn Readings>) {
        self.registry.register_collector(Box::new(Scraped(readings)));
    }

    /// One answered request (`route`: the call, or what else was asked for).
    pub fn request(&self, route: &'static str, status: u16) {
        self.requests.get_or_create(&RouteStatus { route, status }).inc();
    }

    /// A create that went upstream.
    pub fn create_admitted(&self) {
        self.creates.get_or_create(&CreateOutcome { outcome: "admitted", reason: "" }).inc();
    }

    /// A create refused before it went upstream, with the refusal's status.
    pub fn create_refused(&self, status: u16) {
        let reason = match status {
            429 => "rate",
            402 => "budget",
            401 | 403 => "access",
            400 | 413 | 415 => "invalid",
            503 => "unavailable",
            _ => "other",
        };
        self.creates.get_or_create(&CreateOutcome { outcome: "refused", reason }).inc();
    }

    /// The spend so far this UTC day and month, in hundredths of a credit.
    pub fn set_spend(&self, day: i64, month: i64) {
        for (period, cents) in [("day", day), ("month", month)] {
            self.spend.get_or_create(&Period { period }).set(cents as f64 / 100.0);
        }
    }

    /// Everything, in the text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// The metrics read at each scrape, from [`Readings`].
struct Scraped(Arc<dyn Readings>);

impl std::fmt::Debug for Scraped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scraped")
    }
}

impl Collector for Scraped {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let (held, pollers) = self.0.holds();
        let (ledger, redis) = self.0.storage_errors();
        for (name, help, value) in [
            ("held_checks", "Checks held open now", held),
            ("pollers", "Upstream pollers of held checks now", pollers),
        ] {
            let gauge = ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        for (name, help, value) in [
            ("ledger_errors", "Ledger (SQLite) errors since the start", ledger),
            ("redis_errors", "Redis errors since the start", redis),
        ] {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(name, help, None, counter.metric_type())?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;

    impl Readings for Fixed {
        fn holds(&self) -> (u64, u64) {
            (3, 2)
        }
        fn storage_errors(&self) -> (u64, u64) {
            (1, 4)
        }
    }

    #[test]
    fn every_family_in_the_text() {
        let mut metrics = Metrics::new();
        metrics.read_at_scrape(Arc::new(Fixed));
        metrics.request("balance", 200);
        metrics.request("balance", 200);
        metrics.create_admitted();
        metrics.create_refused(429);
        metrics.upstream_times().observe("create", Duration::from_millis(30));
        metrics.set_spend(250, 1_000);
        let text = metrics.encode();
        for line in [
            r#"clipcloud_gateway_requests_total{route="balance",status="200"} 2"#,
            r#"clipcloud_gateway_creates_total{outcome="admitted",reason=""} 1"#,
            r#"clipcloud_gateway_creates_total{outcome="refused",reason="rate"} 1"#,
            r#"clipcloud_gateway_upstream_seconds_bucket{le="0.05",call="create"} 1"#,
            r#"clipcloud_gateway_upstream_seconds_count{call="create"} 1"#,
            r#"clipcloud_gateway_spend_credits{period="day"} 2.5"#,
            r#"clipcloud_gateway_spend_credits{period="month"} 10.0"#,
            "clipcloud_gateway_held_checks 3",
            "clipcloud_gateway_pollers 2",
            "clipcloud_gateway_ledger_errors_total 1",
            "clipcloud_gateway_redis_errors_total 4",
            "# EOF",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
    }
}
