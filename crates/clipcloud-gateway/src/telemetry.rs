//! The log: `tracing` events as one JSON object a line on stderr (`--log-format`), written
//! by a thread of their own so that a slow stderr never holds up a request (lines are
//! dropped rather than waited for when it falls behind). The access log is the `access`
//! target (one event per request, in the request's span, which carries its id); errors
//! nothing answers for come from [`crate::error_log`]; a panic is logged here too, in the
//! span of the request it broke.

use tracing::level_filters::LevelFilter;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The target of the access log's events.
pub const ACCESS: &str = "access";

/// `--log-format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object a line (the default).
    #[default]
    Json,
    /// For a person at a terminal.
    Text,
    /// JSON, without the access log.
    Off,
}

impl LogFormat {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "json" => Ok(Self::Json),
            "text" => Ok(Self::Text),
            "off" => Ok(Self::Off),
            other => Err(format!("--log-format: json, text or off, not {other:?}")),
        }
    }
}

/// Makes the process's log; what it returns writes the last lines out when dropped (keep
/// it until the end of `main`). Once per process: later calls change nothing.
pub fn init(format: LogFormat) -> WorkerGuard {
    let (writer, guard) =
        tracing_appender::non_blocking::NonBlockingBuilder::default().lossy(true).finish(std::io::stderr());
    let access = if format == LogFormat::Off { LevelFilter::OFF } else { LevelFilter::INFO };
    let filter = Targets::new().with_default(LevelFilter::INFO).with_target(ACCESS, access);
    let layer = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(false).boxed(),
        LogFormat::Json | LogFormat::Off => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed(),
    };
    if tracing_subscriber::registry().with(layer.with_filter(filter)).try_init().is_ok() {
        std::panic::set_hook(Box::new(log_panic));
    }
    guard
}

/// A panic as one error event (instead of the standard text on stderr): where, and its
/// message (the gateway's own words; keys and tokens are never part of one).
fn log_panic(info: &std::panic::PanicHookInfo<'_>) {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    let shown: String = message.chars().take(300).collect();
    let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
    tracing::error!(component = "panic", location, detail = shown, "panicked");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name() {
        assert_eq!(LogFormat::parse("json"), Ok(LogFormat::Json));
        assert_eq!(LogFormat::parse("text"), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse("off"), Ok(LogFormat::Off));
        assert!(LogFormat::parse("xml").unwrap_err().contains("json, text or off"));
    }
}
