//! How the emulator is set up: the command line (hand-parsed) and the API keys.

use crate::faults::{Fault, FaultPlan};
use crate::money::Money;
use std::time::Duration;

/// The key that works out of the box.
pub const DEMO_KEY: &str = "demo-key";
/// Its balance.
pub const DEMO_BALANCE: Money = Money::from_cents(10_000);
/// Longest generation time accepted (CLI or `emulator_delay_ms`): one day.
pub const MAX_DELAY: Duration = Duration::from_secs(24 * 60 * 60);

pub const USAGE: &str = "\
clipcloud-emulator: a local ClipCloud API for tests, demos and benchmarks

USAGE: clipcloud-emulator [OPTIONS]

OPTIONS:
  --host HOST          address to listen on (default 127.0.0.1)
  --port PORT          port to listen on (default 8787; 0 picks a free one)
  --delay-ms N         generation time per creation in ms (default 2000; 0 = ready at once);
                       a create may override it with the query parameter emulator_delay_ms=N
  --key KEY=BALANCE    add an API key with this balance (repeatable)
  --keys-file FILE     add keys from FILE, one KEY=BALANCE per line, # comments
  --public-url URL     origin for image URLs in results (default: http://<Host header>)
  --seed TEXT          seed for creation ids and keys (default clipcloud-emulator)
  --fault-rate R       share of requests answered with an injected fault (0..=1, default 0)
  --faults LIST        which faults, comma-separated (default all): 500, 502, 503, 429, drop,
                       slow, truncated, html, content-type, expired-image
  --slow-ms N          delay of a `slow` fault (default 10000)
  --quiet              do not log requests to stderr
  --help               print this help

The key demo-key (balance 100) always exists.
The emulator is the test double: the app's files and the real service are served by
clipcloud-gateway (--static-dir, --upstream, --key-file), in front of this emulator for tests.
Emulator-only endpoints: POST /emulator/keys with {\"balance\": 50} returns a fresh key
(add \"faults\": {\"rate\": 0.2, \"kinds\": [\"500\"], \"slow_ms\": 3000} for its own faults,
\"delay_ms\": 2000 or {\"min\": 500, \"max\": 30000} for its own generation time);
GET /emulator/stats?apikey=KEY counts its creates, duplicate creates, faults and the
peak of requests in flight; GET /emulator/creations?apikey=KEY lists its creations with
the Unix ms each was created, ready and checked (for benchmarks).
One request can force a fault with the header x-emulator-fault: KIND or emulator_fault=KIND.

The first line on stdout is `clipcloud-emulator listening on http://HOST:PORT`.
";

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub host: String,
    /// 0 = ephemeral.
    pub port: u16,
    /// Generation time of a creation unless the create overrides it.
    pub delay: Duration,
    /// Keys and their starting balances; a later entry for the same key wins.
    /// The default holds the demo key.
    pub keys: Vec<(String, Money)>,
    /// Origin of image URLs (e.g. `http://emulator:8787`); `None` uses the request's `Host`.
    pub public_url: Option<String>,
    /// Seed for creation ids and fresh keys (same seed, same ids).
    pub seed: String,
    /// One line per request on stderr.
    pub log_requests: bool,
    /// Faults for every key without a plan of its own (rate 0: none).
    pub faults: FaultPlan,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8787,
            delay: Duration::from_millis(2000),
            keys: vec![(DEMO_KEY.into(), DEMO_BALANCE)],
            public_url: None,
            seed: "clipcloud-emulator".into(),
            log_requests: true,
            faults: FaultPlan::default(),
        }
    }
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Run(Box<Config>),
    Help,
}

/// Parses the arguments (without the program name). `--flag value` and `--flag=value`.
pub fn parse_args<I, S>(args: I) -> Result<Command, String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut config = Config::default();
    let mut args = args.into_iter().map(Into::into);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_string(), Some(value.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args.next().ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match flag.as_str() {
            "--help" | "-h" => return Ok(Command::Help),
            "--quiet" => config.log_requests = false,
            "--host" => {
                let host = value("--host")?;
                if host.trim().is_empty() {
                    return Err("--host must not be empty".into());
                }
                config.host = host;
            }
            "--port" => {
                let text = value("--port")?;
                config.port = text.parse().map_err(|_| format!("--port: not a port number: {text}"))?;
            }
            "--delay-ms" => {
                config.delay =
                    parse_delay_ms(&value("--delay-ms")?).map_err(|e| format!("--delay-ms: {e}"))?
            }
            "--key" => config.keys.push(parse_key(&value("--key")?).map_err(|e| format!("--key: {e}"))?),
            "--keys-file" => {
                let path = value("--keys-file")?;
                let text = std::fs::read_to_string(&path).map_err(|e| format!("--keys-file {path}: {e}"))?;
                config.keys.extend(parse_keys_file(&text).map_err(|e| format!("--keys-file {path}: {e}"))?);
            }
            "--public-url" => config.public_url = Some(parse_public_url(&value("--public-url")?)?),
            "--seed" => config.seed = value("--seed")?,
            "--static-dir" | "--upstream" | "--key-file" => {
                return Err(format!(
                    "{flag}: serving the app and relaying to the real service moved to clipcloud-gateway \
                     (see its --help); the emulator is only the test double"
                ))
            }
            "--fault-rate" => {
                let text = value("--fault-rate")?;
                config.faults.rate = text
                    .parse::<f64>()
                    .ok()
                    .filter(|r| (0.0..=1.0).contains(r))
                    .ok_or_else(|| format!("--fault-rate: not a number within 0..=1: {text}"))?;
            }
            "--faults" => {
                config.faults.kinds =
                    Fault::parse_list(&value("--faults")?).map_err(|e| format!("--faults: {e}"))?
            }
            "--slow-ms" => {
                let text = value("--slow-ms")?;
                let ms: u64 = text.parse().map_err(|_| format!("--slow-ms: not a whole number: {text}"))?;
                config.faults.slow = Duration::from_millis(ms);
            }
            other => return Err(format!("unknown argument: {other} (see --help)")),
        }
    }
    Ok(Command::Run(Box::new(config)))
}

/// Milliseconds, at most [`MAX_DELAY`].
pub fn parse_delay_ms(text: &str) -> Result<Duration, String> {
    let ms: u64 = text.trim().parse().map_err(|_| format!("not a whole number of milliseconds: {text}"))?;
    let delay = Duration::from_millis(ms);
    if delay > MAX_DELAY {
        return Err(format!("at most {} ms", MAX_DELAY.as_millis()));
    }
    Ok(delay)
}

/// `KEY=BALANCE`.
pub fn parse_key(text: &str) -> Result<(String, Money), String> {
    let (key, balance) = text.rsplit_once('=').ok_or_else(|| format!("expected KEY=BALANCE, got {text}"))?;
    let key = key.trim();
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic() && b != b'&' && b != b'#') {
        return Err(format!("a key must be printable ASCII without spaces, & or #: {key:?}"));
    }
    let balance = Money::parse(balance).ok_or_else(|| format!("not a balance: {balance:?}"))?;
    Ok((key.to_string(), balance))
}

/// Lines `KEY=BALANCE`; blank lines and `#` comments are skipped.
pub fn parse_keys_file(text: &str) -> Result<Vec<(String, Money)>, String> {
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        keys.push(parse_key(line).map_err(|e| format!("line {}: {e}", n + 1))?);
    }
    Ok(keys)
}

fn parse_public_url(text: &str) -> Result<String, String> {
    let url = text.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("--public-url must start with http:// or https://, got {text}"))?;
    if rest.is_empty() || rest.bytes().any(|b| !b.is_ascii_graphic()) {
        return Err(format!("--public-url: not a URL: {text}"));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Config {
        match parse_args(args.iter().copied()) {
            Ok(Command::Run(config)) => *config,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let config = run(&[]);
        assert_eq!(config, Config::default());
        assert_eq!(config.keys, [("demo-key".to_string(), Money::from_cents(10000))]);
    }

    #[test]
    fn flags_both_forms() {
        let config = run(&[
            "--host",
            "0.0.0.0",
            "--port=0",
            "--delay-ms",
            "0",
            "--key",
            "a=5",
            "--key=b=1.5",
            "--public-url",
            "http://example.test:9/",
            "--quiet",
        ]);
        assert_eq!(config.host, "0.0.0.0");
        assert_eq!(config.port, 0);
        assert_eq!(config.delay, Duration::ZERO);
        assert_eq!(
            config.keys[1..],
            [("a".into(), Money::from_cents(500)), ("b".into(), Money::from_cents(150))]
        );
        assert_eq!(config.public_url.as_deref(), Some("http://example.test:9"));
        assert!(!config.log_requests);
        assert_eq!(parse_args(["--help"]), Ok(Command::Help));
    }

    #[test]
    fn bad_flags_are_errors() {
        for args in [
            &["--port"][..],
            &["--port", "x"],
            &["--delay-ms", "-1"],
            &["--delay-ms", "999999999999"],
            &["--key", "nobalance"],
            &["--key", "=5"],
            &["--key", "a b=5"],
            &["--public-url", "ftp://x"],
            &["--frobnicate"],
            &["--static-dir", "dist"],
            &["--upstream", "http://127.0.0.1:1"],
            &["--key-file", "key.txt"],
        ] {
            assert!(parse_args(args.iter().copied()).is_err(), "{args:?}");
        }
    }

    #[test]
    fn keys_file() {
        let keys = parse_keys_file("# test keys\nalice=10\n\n bob = 2.5 # poor bob\n").unwrap();
        assert_eq!(keys, [("alice".into(), Money::from_cents(1000)), ("bob".into(), Money::from_cents(250))]);
        assert!(parse_keys_file("alice=10\nbroken\n").unwrap_err().starts_with("line 2:"));
    }
}
