//! The gateway's command line, read by `clap`: every setting is a flag, else its
//! `CLIPCLOUD_GATEWAY_*` environment variable, else a `name = value` line of the `--config`
//! file (a flag's name without `--`). A setting none of them gives stays `None` (or empty):
//! [`crate::config`] checks the settings together and fills in the defaults. Each value is
//! checked here, so a file's line and a flag fail alike, naming the flag; no value that can
//! hold a secret is checked here (clap's messages repeat the value): secrets come from files.

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches, Parser};
use std::ffi::OsString;
use std::time::Duration;

/// What `--version` prints after the name: the version and the git commit it was built from
/// (git_commit_build.rs).
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("CLIPCLOUD_COMMIT"), ")");

const ABOUT: &str = "\
clipcloud-gateway: the server in front of the ClipCloud API, for the internet.

Serves the app (--static-dir) and relays /api/creation, /api/creation/{id},
/api/balance, /api/styles and /images/... to one upstream service, nothing else.

Modes:
  relay (default)       visitors bring their own API key; the gateway forwards it
  operator key          --key-file F: visitors send no key, the gateway adds its
                        own, behind origin checks, per-visitor limits, spend caps
                        and an optional passphrase or signed visitor tokens";

const AFTER_HELP: &str = "\
Each setting comes from its flag, else its environment variable, else the --config
file (`name = value` lines, the flag's name without --, # comments), else its default.
A flag is given once; a repeatable one (--allow-origin, --trust-proxy, --allow-style)
also takes a comma list, as its environment variable does. Secrets come only from
files (the --*-file flags). The first line on stdout is
`clipcloud-gateway listening on http://HOST:PORT`.";

/// Environment variables with this prefix are settings: an unknown one is refused.
pub const ENV_PREFIX: &str = "CLIPCLOUD_GATEWAY_";

const OPERATOR: &str = "Operator-key mode";
const LIMITS: &str = "Limits (both modes)";
const HELD: &str = "Held checks (both modes; see docs/gateway.md)";
const SPENDING: &str = "Spending (operator-key mode; see docs/gateway.md)";
const CONNECTIONS: &str = "Connections (both modes)";
const PRODUCTION: &str = "In production (behind a proxy, with Redis, watched)";

/// Every setting as given. The fields' docs are `--help`'s text (URLs and brackets as typed).
#[allow(rustdoc::bare_urls, rustdoc::broken_intra_doc_links)]
#[derive(Parser, Default)]
#[command(
    name = "clipcloud-gateway",
    version = VERSION,
    about = ABOUT,
    long_about = None,
    after_help = AFTER_HELP,
    next_line_help = true
)]
pub struct Flags {
    /// where to listen (default 127.0.0.1:8080; port 0 picks one)
    #[arg(long, value_name = "HOST:PORT", env = "CLIPCLOUD_GATEWAY_LISTEN")]
    pub listen: Option<String>,

    /// the service, required: https://clipcloud.clipai.pro (https needs the build
    /// feature `tls`), or an emulator
    #[arg(long, value_name = "URL", env = "CLIPCLOUD_GATEWAY_UPSTREAM", verbatim_doc_comment)]
    pub upstream: Option<String>,

    /// where the service's image links point, if not --upstream; /images/... is
    /// relayed from there, and links to it in finished checks are rewritten to this
    /// gateway's /images/
    #[arg(long, value_name = "URL", env = "CLIPCLOUD_GATEWAY_IMAGES_UPSTREAM", verbatim_doc_comment)]
    pub images_upstream: Option<String>,

    /// serve the built app (dist/) from this folder
    #[arg(long, value_name = "DIR", env = "CLIPCLOUD_GATEWAY_STATIC_DIR")]
    pub static_dir: Option<String>,

    /// a page origin allowed to call the API from the browser, exact
    /// (https://example.com); repeat for more. Relay mode also takes `*`. The
    /// gateway's own origin is always allowed
    #[arg(
        long,
        value_name = "ORIGIN",
        env = "CLIPCLOUD_GATEWAY_ALLOW_ORIGIN",
        value_delimiter = ',',
        value_parser = allowed_origin,
        verbatim_doc_comment
    )]
    pub allow_origin: Vec<String>,

    /// the gateway sits behind https: HSTS, Secure cookies (=false turns it off)
    #[arg(long, env = "CLIPCLOUD_GATEWAY_HTTPS", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = switch, value_name = "BOOL")]
    pub https: Option<bool>,

    /// a reverse proxy (address or range: 10.0.0.0/8, ::1) whose X-Forwarded-For,
    /// -Host, -Proto and Forwarded are believed; repeat
    #[arg(
        long,
        value_name = "IP|CIDR",
        env = "CLIPCLOUD_GATEWAY_TRUST_PROXY",
        value_delimiter = ',',
        verbatim_doc_comment
    )]
    pub trust_proxy: Vec<String>,

    /// the log on stderr: one JSON object a line (default), text for a terminal, or
    /// off: JSON without the access log. No keys, tokens or queries in it
    #[arg(long, value_name = "FORMAT", env = "CLIPCLOUD_GATEWAY_LOG_FORMAT",
          value_parser = ["json", "text", "off"], verbatim_doc_comment)]
    pub log_format: Option<String>,

    /// more settings, `name = value` per line (flags and the environment win)
    #[arg(long, value_name = "FILE", env = "CLIPCLOUD_GATEWAY_CONFIG")]
    pub config: Option<String>,

    /// the service's API key (first non-comment line); turns operator-key mode on
    #[arg(long, value_name = "FILE", env = "CLIPCLOUD_GATEWAY_KEY_FILE", help_heading = OPERATOR)]
    pub key_file: Option<String>,

    /// per visitor, a token bucket (default 6)
    #[arg(long, value_name = "N", env = "CLIPCLOUD_GATEWAY_CREATES_PER_MINUTE", help_heading = OPERATOR)]
    pub creates_per_minute: Option<u32>,

    /// per visitor and UTC day, in credits (default 10)
    #[arg(long, value_name = "X", env = "CLIPCLOUD_GATEWAY_VISITOR_DAILY_SPEND", value_parser = credits,
          help_heading = OPERATOR)]
    pub visitor_daily_spend: Option<i64>,

    /// all visitors, per UTC day, in credits (default 100)
    #[arg(long, value_name = "X", env = "CLIPCLOUD_GATEWAY_DAILY_CAP", value_parser = credits,
          help_heading = OPERATOR)]
    pub daily_cap: Option<i64>,

    /// all visitors, per UTC month, in credits (default 1000)
    #[arg(long, value_name = "X", env = "CLIPCLOUD_GATEWAY_MONTHLY_CAP", value_parser = credits,
          help_heading = OPERATOR)]
    pub monthly_cap: Option<i64>,

    /// visitors must send this passphrase as their key
    #[arg(long, value_name = "FILE", env = "CLIPCLOUD_GATEWAY_PASSPHRASE_FILE", help_heading = OPERATOR)]
    pub passphrase_file: Option<String>,

    /// visitors must send a token your backend signed with this secret as their key
    /// (see docs/gateway.md)
    #[arg(long, value_name = "FILE", env = "CLIPCLOUD_GATEWAY_TOKEN_SECRET_FILE", help_heading = OPERATOR,
          verbatim_doc_comment)]
    pub token_secret_file: Option<String>,

    /// signs the visitor cookie (default: random per start)
    #[arg(long, value_name = "FILE", env = "CLIPCLOUD_GATEWAY_COOKIE_SECRET_FILE", help_heading = OPERATOR)]
    pub cookie_secret_file: Option<String>,

    /// SQLite ledger of every create (default clipcloud-gateway.sqlite3; `:memory:`
    /// keeps none)
    #[arg(long, value_name = "FILE", env = "CLIPCLOUD_GATEWAY_LEDGER", help_heading = OPERATOR,
          verbatim_doc_comment)]
    pub ledger: Option<String>,

    /// redis://HOST:PORT[/DB] (rediss:// for TLS): spend counters, creation owners,
    /// rate limits in Redis, shared by every replica (no password here: see
    /// --redis-url-file)
    #[arg(long, value_name = "URL", env = "CLIPCLOUD_GATEWAY_REDIS", help_heading = OPERATOR,
          verbatim_doc_comment)]
    pub redis: Option<String>,

    /// the CA (PEM) that signed a rediss:// server's certificate, when it is not a
    /// public one
    #[arg(long, value_name = "FILE", env = "CLIPCLOUD_GATEWAY_REDIS_CA_FILE", help_heading = OPERATOR,
          verbatim_doc_comment)]
    pub redis_ca_file: Option<String>,

    /// enables GET /gateway/usage with `Authorization: Bearer`
    #[arg(long, value_name = "FILE", env = "CLIPCLOUD_GATEWAY_ADMIN_TOKEN_FILE", help_heading = OPERATOR)]
    pub admin_token_file: Option<String>,

    /// request body (default 65536)
    #[arg(long, value_name = "BYTES", env = "CLIPCLOUD_GATEWAY_MAX_BODY", help_heading = LIMITS)]
    pub max_body: Option<usize>,

    /// one relayed image (default 16777216)
    #[arg(long, value_name = "BYTES", env = "CLIPCLOUD_GATEWAY_MAX_IMAGE_BYTES", help_heading = LIMITS)]
    pub max_image_bytes: Option<u64>,

    /// to receive a request's headers (default 10)
    #[arg(long, value_name = "SECS", env = "CLIPCLOUD_GATEWAY_HEADER_TIMEOUT", value_parser = seconds,
          help_heading = LIMITS)]
    pub header_timeout: Option<Duration>,

    /// a whole request, body and upstream included (default 60)
    #[arg(long, value_name = "SECS", env = "CLIPCLOUD_GATEWAY_REQUEST_TIMEOUT", value_parser = seconds,
          help_heading = LIMITS)]
    pub request_timeout: Option<Duration>,

    /// one upstream call (default 30)
    #[arg(long, value_name = "SECS", env = "CLIPCLOUD_GATEWAY_UPSTREAM_TIMEOUT", value_parser = seconds,
          help_heading = LIMITS)]
    pub upstream_timeout: Option<Duration>,

    /// open connections at once (default 1024)
    #[arg(long, value_name = "N", env = "CLIPCLOUD_GATEWAY_MAX_CONNECTIONS", help_heading = LIMITS)]
    pub max_connections: Option<usize>,

    /// hold a check with `Prefer: wait=N` up to this long, answering the moment the
    /// creation is ready (default 30, at most 30; 0 turns held checks off)
    #[arg(long, value_name = "SECS", env = "CLIPCLOUD_GATEWAY_HOLD_MAX", help_heading = HELD,
          verbatim_doc_comment)]
    pub hold_max: Option<u64>,

    /// checks held open at once; beyond, answered at once (default 512)
    #[arg(long, value_name = "N", env = "CLIPCLOUD_GATEWAY_MAX_HELD", help_heading = HELD)]
    pub max_held: Option<usize>,

    /// creations polled upstream for held checks at once (one poller per creation,
    /// shared by its waiters); beyond, answered at once (default 256)
    #[arg(long, value_name = "N", env = "CLIPCLOUD_GATEWAY_MAX_POLLERS", help_heading = HELD,
          verbatim_doc_comment)]
    pub max_pollers: Option<usize>,

    /// reserved per image for a kind of create (style and count, or advanced size and
    /// count) whose real price this gateway has not seen yet; once seen, the most seen
    /// is reserved. Set it to the dearest image the service may charge (default 5.5: a
    /// 2048x2048 image in the emulator's list, docs/api.md)
    #[arg(long, value_name = "X", env = "CLIPCLOUD_GATEWAY_MAX_PRICE_PER_IMAGE", value_parser = credits,
          help_heading = SPENDING, verbatim_doc_comment)]
    pub max_price_per_image: Option<i64>,

    /// let visitors make advanced creates (size, model...); off by default: creates
    /// name a style
    #[arg(long, env = "CLIPCLOUD_GATEWAY_ALLOW_ADVANCED", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = switch, value_name = "BOOL",
          help_heading = SPENDING, verbatim_doc_comment)]
    pub allow_advanced: Option<bool>,

    /// only these styles may be created (repeat, or a comma list; default: any);
    /// /api/styles lists only these
    #[arg(long, value_name = "NAME", env = "CLIPCLOUD_GATEWAY_ALLOW_STYLE", value_delimiter = ',',
          value_parser = style, help_heading = SPENDING, verbatim_doc_comment)]
    pub allow_style: Vec<String>,

    /// the most one address (or network, below) may spend a day, as a share of
    /// --daily-cap (default 10); visitor tokens are exempt: they carry their own budget
    #[arg(long, value_name = "PERCENT", env = "CLIPCLOUD_GATEWAY_ADDRESS_SHARE", value_parser = share,
          help_heading = SPENDING, verbatim_doc_comment)]
    pub address_share: Option<i64>,

    /// which addresses count as one, for the budgets, rate limits and held checks
    /// (both modes: one address holds at most an eighth of --max-held, at least 4)
    /// (default 32: each address)
    #[arg(long, value_name = "BITS", env = "CLIPCLOUD_GATEWAY_IPV4_PREFIX", value_parser = ipv4_prefix,
          help_heading = SPENDING, verbatim_doc_comment)]
    pub ipv4_prefix: Option<u8>,

    /// likewise for IPv6 (default 64: one /64, one host)
    #[arg(long, value_name = "BITS", env = "CLIPCLOUD_GATEWAY_IPV6_PREFIX", value_parser = ipv6_prefix,
          help_heading = SPENDING)]
    pub ipv6_prefix: Option<u8>,

    /// an answer the client does not read for this long closes its connection
    /// (default 30)
    #[arg(long, value_name = "SECS", env = "CLIPCLOUD_GATEWAY_WRITE_TIMEOUT", value_parser = seconds,
          help_heading = CONNECTIONS, verbatim_doc_comment)]
    pub write_timeout: Option<Duration>,

    /// beyond --write-timeout, an answer must be read at this many bytes a second on
    /// average, or its connection closes (default 1024)
    #[arg(long, value_name = "BYTES", env = "CLIPCLOUD_GATEWAY_MIN_WRITE_RATE", help_heading = CONNECTIONS,
          verbatim_doc_comment)]
    pub min_write_rate: Option<u64>,

    /// open connections from one address (or network, as --ipv4-prefix and
    /// --ipv6-prefix say; --trust-proxy addresses excepted); beyond it, and beyond
    /// --max-connections, a connection is refused at once with a 503 (default 64)
    #[arg(long, value_name = "N", env = "CLIPCLOUD_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS",
          help_heading = CONNECTIONS, verbatim_doc_comment)]
    pub max_connections_per_address: Option<usize>,

    /// requests a second from one address (or network, as for connections; behind
    /// --trust-proxy, the visitor's own), in bursts of up to 5 seconds' worth; beyond it
    /// a request is answered 429 and its connection closed (default 100; 0: no limit)
    #[arg(long, value_name = "N", env = "CLIPCLOUD_GATEWAY_REQUEST_RATE_PER_ADDRESS",
          help_heading = CONNECTIONS, verbatim_doc_comment)]
    pub request_rate_per_address: Option<u32>,

    /// the origin visitors reach the gateway at (https://images.example.com): its own
    /// pages' origin, the base of image links, Secure cookies when https. Without it,
    /// a --trust-proxy's X-Forwarded-Host/-Proto (or Forwarded) say it, else the Host
    /// header. Operator-key mode on a non-loopback --listen needs one of the two
    #[arg(long, value_name = "URL", env = "CLIPCLOUD_GATEWAY_PUBLIC_URL", value_parser = origin,
          help_heading = PRODUCTION, verbatim_doc_comment)]
    pub public_url: Option<String>,

    /// --redis's URL read from a file, for one with a password
    /// (redis[s]://[USER]:PASSWORD@HOST:PORT[/DB]); a flag shows in `ps`
    #[arg(long, value_name = "FILE", env = "CLIPCLOUD_GATEWAY_REDIS_URL_FILE", help_heading = PRODUCTION,
          verbatim_doc_comment)]
    pub redis_url_file: Option<String>,

    /// a second listener for operators only: GET /metrics (Prometheus), /readyz,
    /// /healthz. Keep it off the internet
    #[arg(long, value_name = "HOST:PORT", env = "CLIPCLOUD_GATEWAY_ADMIN_LISTEN", help_heading = PRODUCTION,
          verbatim_doc_comment)]
    pub admin_listen: Option<String>,
}

/// The command `--help` describes, reading the environment.
pub fn command() -> clap::Command {
    // No value of the environment in `--help`: a shared terminal or a support ticket.
    Flags::command().mut_args(|arg| arg.hide_env_values(true))
}

/// The same without the environment: settings from `args` alone (tests, embedding).
pub fn args_only() -> clap::Command {
    Flags::command().mut_args(|arg| arg.env(None)).no_binary_name(true)
}

/// The settings `args` (with the program's name first, unless `command` says none) and
/// `command`'s environment give, then those of the `--config` file that neither gives.
/// `--help` and `--version` come back as errors of their kinds (their `exit` prints them).
pub fn read<I, T>(command: clap::Command, args: I) -> Result<Flags, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = command.clone().try_get_matches_from(args)?;
    let mut flags = match matches.get_one::<String>("config") {
        Some(path) => from_file(command, path)?,
        None => Flags::default(),
    };
    flags.update_from_arg_matches(&matches)?;
    Ok(flags)
}

/// Refuses a `CLIPCLOUD_GATEWAY_*` variable no setting has (a typo would otherwise be a
/// setting silently left at its default).
pub fn check_variables(
    command: &clap::Command,
    names: impl IntoIterator<Item = OsString>,
) -> Result<(), clap::Error> {
    for name in names {
        let name = name.to_string_lossy();
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else { continue };
        if !command.get_arguments().any(|arg| arg.get_env().is_some_and(|env| *env == *name)) {
            let setting = rest.to_ascii_lowercase().replace('_', "-");
            return Err(fail(command, format!("{name}: unknown setting `{setting}` (see --help)")));
        }
    }
    Ok(())
}

/// A settings error that is not clap's own, printed the way clap prints its errors.
pub fn fail(command: &clap::Command, message: String) -> clap::Error {
    command.clone().error(ErrorKind::ValueValidation, message)
}

/// The `--config` file's settings, each line read as the flag it names (no environment,
/// no `--help`), so its values are checked as a flag's are.
fn from_file(command: clap::Command, path: &str) -> Result<Flags, clap::Error> {
    let text = std::fs::read_to_string(path).map_err(|e| fail(&command, format!("--config {path}: {e}")))?;
    let mut parser = command
        .clone()
        .mut_args(|arg| arg.env(None))
        .disable_help_flag(true)
        .disable_version_flag(true)
        .no_binary_name(true);
    let mut lines = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let at = format!("--config {path}, line {}", number + 1);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(fail(&command, format!("{at}: expected `name = value`")));
        };
        let (name, value) = (name.trim(), value.trim().trim_matches('"'));
        if !parser.get_arguments().any(|arg| arg.get_long() == Some(name)) {
            return Err(fail(&command, format!("{at}: unknown setting `{name}` (see --help)")));
        }
        let flag = format!("--{name}={value}");
        parser
            .try_get_matches_from_mut([&flag])
            .map_err(|e| fail(&command, format!("{at}: {}", message(&e))))?;
        lines.push(flag);
    }
    // Each line alone was fine: what is left is a setting given twice.
    let matches = parser
        .try_get_matches_from_mut(lines)
        .map_err(|e| fail(&command, format!("--config {path}: {}", message(&e))))?;
    Flags::from_arg_matches(&matches)
}

/// A clap error's own words, without its `error: ` and the usage after them.
fn message(error: &clap::Error) -> String {
    let text = error.to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    text.split("\n\n").next().unwrap_or_default().trim().to_owned()
}

/// `--https`, `--allow-advanced`: alone, `=true`, `=false` (or 1/0, yes/no).
fn switch(text: &str) -> Result<bool, String> {
    match text.trim() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err("true or false".into()),
    }
}

/// 1 to 3600 seconds.
fn seconds(text: &str) -> Result<Duration, String> {
    let secs: u64 = text.trim().parse().map_err(|_| "not a whole number of seconds".to_owned())?;
    if secs == 0 || secs > 3600 {
        return Err("between 1 and 3600 seconds".into());
    }
    Ok(Duration::from_secs(secs))
}

/// Credits with up to two decimals, as hundredths.
fn credits(text: &str) -> Result<i64, String> {
    parse_credits(text).ok_or_else(|| "not an amount of credits ≥ 0".to_owned())
}

/// Credits (up to two decimals) as hundredths; `None` for a negative or absurd amount.
pub fn parse_credits(text: &str) -> Option<i64> {
    let value: f64 = text.trim().parse().ok()?;
    (value.is_finite() && (0.0..=1e12).contains(&value)).then(|| (value * 100.0).round() as i64)
}

/// `--address-share`, in hundredths of a percent: more than 0, at most 100 %.
fn share(text: &str) -> Result<i64, String> {
    match parse_credits(text) {
        Some(share) if share > 0 && share <= 10_000 => Ok(share),
        _ => Err("a percentage of --daily-cap above 0 and at most 100".into()),
    }
}

fn ipv4_prefix(text: &str) -> Result<u8, String> {
    prefix_length(text, 32)
}

fn ipv6_prefix(text: &str) -> Result<u8, String> {
    prefix_length(text, 128)
}

/// A prefix length from 1 to `most` (the address's length in bits).
fn prefix_length(text: &str, most: u8) -> Result<u8, String> {
    match text.trim().parse::<u8>() {
        Ok(length) if (1..=most).contains(&length) => Ok(length),
        _ => Err(format!("between 1 and {most} bits")),
    }
}

/// `--allow-origin`: an origin, or `*` (which only relay mode takes).
fn allowed_origin(text: &str) -> Result<String, String> {
    match text.trim() {
        "*" => Ok("*".into()),
        _ => origin(text),
    }
}

/// An origin as a browser sends it in `Origin`: scheme, host, optional port; nothing else.
fn origin(text: &str) -> Result<String, String> {
    let origin = text.trim().trim_end_matches('/');
    let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    let ok = rest.is_some_and(|host| {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    });
    if ok {
        Ok(origin.to_owned())
    } else {
        Err("not an origin (scheme://host[:port], no path)".into())
    }
}

/// `--allow-style`: one style's name.
fn style(text: &str) -> Result<String, String> {
    let name = text.trim();
    clipcloud::validate::style_name(name, None).map_err(|e| e.to_string())?;
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ArgAction;

    /// Each flag's environment variable is its name under the prefix, so the two never
    /// drift apart; every setting has one.
    #[test]
    fn every_flag_has_its_variable() {
        let command = command();
        let mut count = 0;
        for arg in command
            .get_arguments()
            .filter(|arg| !matches!(arg.get_action(), ArgAction::Help | ArgAction::Version))
        {
            let long = arg.get_long().unwrap();
            let expected = format!("{ENV_PREFIX}{}", long.to_ascii_uppercase().replace('-', "_"));
            assert_eq!(arg.get_env().and_then(|env| env.to_str()), Some(expected.as_str()), "--{long}");
            count += 1;
        }
        assert_eq!(count, 43);
        command.debug_assert();
    }

    #[test]
    fn credits_are_hundredths() {
        assert_eq!(parse_credits("1.1"), Some(110));
        assert_eq!(parse_credits("10"), Some(1000));
        assert_eq!(parse_credits("-1"), None);
        assert_eq!(parse_credits("NaN"), None);
    }
}
