//! How the emulator is set up: the command line (clap) and the API keys.

use crate::faults::{Fault, FaultPlan};
use crate::money::Money;
use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches, Parser};
use std::ffi::OsString;
use std::time::Duration;

/// The key that works out of the box.
pub const DEMO_KEY: &str = "demo-key";
/// Its balance.
pub const DEMO_BALANCE: Money = Money::from_cents(10_000);
/// Longest generation time accepted (CLI or `emulator_delay_ms`): one day.
pub const MAX_DELAY: Duration = Duration::from_secs(24 * 60 * 60);

/// What `--version` prints after the name: the version and the git commit it was built from
/// (git_commit_build.rs).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("CLIPCLOUD_COMMIT"), ")");

const AFTER_HELP: &str = "\
The key demo-key (balance 100) always exists; a later --key for the same key wins
over --keys-file's.
The emulator is the test double: the app's files and the real service are served by
clipcloud-gateway (--static-dir, --upstream, --key-file), in front of this emulator for tests.
Emulator-only endpoints: POST /emulator/keys with {\"balance\": 50} returns a fresh key
(add \"faults\": {\"rate\": 0.2, \"kinds\": [\"500\"], \"slow_ms\": 3000} for its own faults,
\"delay_ms\": 2000 or {\"min\": 500, \"max\": 30000} for its own generation time);
GET /emulator/stats?apikey=KEY counts its creates, duplicate creates, faults and the
peak of requests in flight; GET /emulator/creations?apikey=KEY lists its creations with
the Unix ms each was created, ready and checked (for benchmarks).
One request can force a fault with the header x-emulator-fault: KIND or emulator_fault=KIND.

The first line on stdout is `clipcloud-emulator listening on http://HOST:PORT`.";

/// The command line, read by clap: flags only (no environment: the tests start this binary,
/// and a variable left in a developer's shell would change every test's emulator). Each
/// flag is given once, but for `--key`.
#[derive(Parser)]
#[command(
    name = "clipcloud-emulator",
    version = VERSION,
    about = "clipcloud-emulator: a local ClipCloud API for tests, demos and benchmarks",
    long_about = None,
    after_help = AFTER_HELP,
    next_line_help = true
)]
struct Flags {
    /// address to listen on
    #[arg(long, default_value = "127.0.0.1", value_parser = host)]
    host: String,
    /// port to listen on (0 picks a free one)
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// generation time per creation in ms (0 = ready at once); a create may override it
    /// with the query parameter emulator_delay_ms=N
    #[arg(long, value_name = "N", default_value = "2000", value_parser = parse_delay_ms, verbatim_doc_comment)]
    delay_ms: Duration,
    /// add an API key with this balance (repeatable)
    #[arg(long, value_name = "KEY=BALANCE", value_parser = parse_key)]
    key: Vec<(String, Money)>,
    /// add keys from FILE, one KEY=BALANCE per line, # comments
    #[arg(long, value_name = "FILE")]
    keys_file: Option<String>,
    /// origin for image URLs in results (default: http://<Host header>)
    #[arg(long, value_name = "URL", value_parser = parse_public_url)]
    public_url: Option<String>,
    /// seed for creation ids and keys
    #[arg(long, value_name = "TEXT", default_value = "clipcloud-emulator")]
    seed: String,
    /// share of requests answered with an injected fault (0..=1)
    #[arg(long, value_name = "R", default_value_t = 0.0, value_parser = fault_rate)]
    fault_rate: f64,
    /// which faults, comma-separated (default all): 500, 502, 503, 429, drop, slow,
    /// truncated, html, content-type, expired-image
    #[arg(long, value_name = "LIST", value_parser = fault_list, verbatim_doc_comment)]
    faults: Option<FaultList>,
    /// delay of a `slow` fault in ms
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    slow_ms: u64,
    /// do not log requests to stderr
    #[arg(long)]
    quiet: bool,
    /// Flags that moved to clipcloud-gateway: refused with a pointer there.
    #[arg(long, hide = true)]
    static_dir: Option<String>,
    #[arg(long, hide = true)]
    upstream: Option<String>,
    #[arg(long, hide = true)]
    key_file: Option<String>,
}

/// `--faults`: one value holding the list.
#[derive(Clone)]
struct FaultList(Vec<Fault>);

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

/// Reads the arguments (without the program name). `--help` and `--version` come back as
/// errors of their kinds: [`clap::Error::exit`] prints them and every other error alike.
pub fn parse_args<I, T>(args: I) -> Result<Config, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut command = Flags::command().no_binary_name(true);
    let flags = Flags::from_arg_matches(&command.try_get_matches_from_mut(args)?)?;
    let mut fail = |message: String| command.error(ErrorKind::ValueValidation, message);
    for (flag, given) in [
        ("--static-dir", &flags.static_dir),
        ("--upstream", &flags.upstream),
        ("--key-file", &flags.key_file),
    ] {
        if given.is_some() {
            return Err(fail(format!(
                "{flag}: serving the app and relaying to the real service moved to clipcloud-gateway \
                 (see its --help); the emulator is only the test double"
            )));
        }
    }
    let mut keys = vec![(DEMO_KEY.to_owned(), DEMO_BALANCE)];
    if let Some(path) = &flags.keys_file {
        let text = std::fs::read_to_string(path).map_err(|e| fail(format!("--keys-file {path}: {e}")))?;
        keys.extend(parse_keys_file(&text).map_err(|e| fail(format!("--keys-file {path}: {e}")))?);
    }
    keys.extend(flags.key);
    let mut faults = FaultPlan {
        rate: flags.fault_rate,
        slow: Duration::from_millis(flags.slow_ms),
        ..FaultPlan::default()
    };
    if let Some(FaultList(kinds)) = flags.faults {
        faults.kinds = kinds;
    }
    Ok(Config {
        host: flags.host,
        port: flags.port,
        delay: flags.delay_ms,
        keys,
        public_url: flags.public_url,
        seed: flags.seed,
        log_requests: !flags.quiet,
        faults,
    })
}

fn host(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("must not be empty".into());
    }
    Ok(text.to_owned())
}

fn fault_rate(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|r| (0.0..=1.0).contains(r))
        .ok_or_else(|| "not a number within 0..=1".into())
}

fn fault_list(text: &str) -> Result<FaultList, String> {
    Fault::parse_list(text).map(FaultList)
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
        .ok_or_else(|| "must start with http:// or https://".to_owned())?;
    if rest.is_empty() || rest.bytes().any(|b| !b.is_ascii_graphic()) {
        return Err("not a URL".into());
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Config {
        parse_args(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    fn error(args: &[&str]) -> String {
        match parse_args(args) {
            Ok(_) => panic!("{args:?} accepted"),
            Err(e) => e.to_string(),
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
            "--fault-rate=0.5",
            "--faults",
            "500,drop",
            "--slow-ms",
            "7",
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
        assert_eq!(config.faults.rate, 0.5);
        assert_eq!(config.faults.kinds, [Fault::Status(500), Fault::Drop]);
        assert_eq!(config.faults.slow, Duration::from_millis(7));
        let help = parse_args(["--help"]).unwrap_err();
        assert_eq!(help.kind(), ErrorKind::DisplayHelp);
        assert!(help.to_string().contains("--keys-file <FILE>"), "{help}");
    }

    #[test]
    fn bad_flags_are_errors() {
        for (args, needle) in [
            (&["--port"][..], "a value is required for '--port <PORT>'"),
            (&["--port", "x"], "for '--port <PORT>'"),
            (&["--delay-ms", "-1"], "unexpected argument '-1'"),
            (&["--delay-ms", "999999999999"], "for '--delay-ms <N>': at most"),
            (&["--key", "nobalance"], "for '--key <KEY=BALANCE>': expected KEY=BALANCE"),
            (&["--key", "=5"], "a key must be printable ASCII"),
            (&["--key", "a b=5"], "a key must be printable ASCII"),
            (&["--host", " "], "for '--host <HOST>': must not be empty"),
            (&["--public-url", "ftp://x"], "for '--public-url <URL>': must start with http://"),
            (&["--fault-rate", "2"], "not a number within 0..=1"),
            (&["--faults", "500,nope"], "for '--faults <LIST>'"),
            (&["--frobnicate"], "unexpected argument '--frobnicate'"),
            (&["--static-dir", "dist"], "--static-dir: serving the app"),
            (&["--upstream", "http://127.0.0.1:1"], "moved to clipcloud-gateway"),
            (&["--key-file", "key.txt"], "moved to clipcloud-gateway"),
            (&["--keys-file", "/nonexistent/keys"], "--keys-file /nonexistent/keys: "),
            (&["--port", "1", "--port", "2"], "'--port <PORT>' cannot be used multiple times"),
            (&["--quiet", "--quiet"], "'--quiet' cannot be used multiple times"),
        ] {
            let err = error(args);
            assert!(err.contains(needle), "{args:?}: {err}");
        }
    }

    #[test]
    fn keys_file() {
        let keys = parse_keys_file("# test keys\nalice=10\n\n bob = 2.5 # poor bob\n").unwrap();
        assert_eq!(keys, [("alice".into(), Money::from_cents(1000)), ("bob".into(), Money::from_cents(250))]);
        assert!(parse_keys_file("alice=10\nbroken\n").unwrap_err().starts_with("line 2:"));
        let path = std::env::temp_dir().join(format!("clipcloud-emulator-keys-{}", std::process::id()));
        std::fs::write(&path, "alice=10\nbob=1\n").unwrap();
        // The file's keys, then --key's: a later entry for the same key wins.
        let config = run(&["--key", "alice=3", "--keys-file", path.to_str().unwrap()]);
        let _ = std::fs::remove_file(&path);
        let keys: Vec<(&str, i64)> = config.keys.iter().map(|(k, m)| (k.as_str(), m.cents())).collect();
        assert_eq!(keys, [("demo-key", 10_000), ("alice", 1000), ("bob", 100), ("alice", 300)]);
    }
}
