//! The gateway's settings: flags, else `CLIPCLOUD_GATEWAY_*` environment variables, else
//! a `--config` file of `name = value` lines (a flag's name without `--`); else the safe
//! defaults below. Secrets come only from files. See [`USAGE`].

use crate::forward::upstream::Origin;
use crate::forwarded::TrustedProxies;
use crate::secret::Secret;
use crate::telemetry::LogFormat;
use clipcloud::gateway::KeyNeed;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
clipcloud-gateway: the server in front of the ClipCloud API, for the internet.

Serves the app (--static-dir) and relays /api/creation, /api/creation/{id},
/api/balance, /api/styles and /images/... to one upstream service, nothing else.

MODES
  relay (default)       visitors bring their own API key; the gateway forwards it
  operator key          --key-file F: visitors send no key, the gateway adds its
                        own, behind origin checks, per-visitor limits, spend caps
                        and an optional passphrase or signed visitor tokens

GENERAL
  --listen HOST:PORT            where to listen (default 127.0.0.1:8080; port 0 picks one)
  --upstream URL                the service, required: https://clipcloud.clipai.pro
                                (https needs the build feature `tls`), or an emulator
  --images-upstream URL         where the service's image links point, if not --upstream;
                                /images/... is relayed from there, and links to it in
                                finished checks are rewritten to this gateway's /images/
  --static-dir DIR              serve the built app (dist/) from this folder
  --allow-origin ORIGIN         a page origin allowed to call the API from the browser,
                                exact (https://example.com); repeat for more. Relay mode
                                also takes `*`. The gateway's own origin is always allowed.
  --https                       the gateway sits behind https: HSTS, Secure cookies
  --trust-proxy IP|CIDR         a reverse proxy (address or range: 10.0.0.0/8, ::1) whose
                                X-Forwarded-For/-Host/-Proto and Forwarded are believed;
                                repeat
  --log-format json|text|off    the log on stderr: one JSON object a line (default), text
                                for a terminal, or off: JSON without the access log. No
                                keys, tokens or queries in it
  --config FILE                 more settings, `name = value` per line (flags win)

OPERATOR-KEY MODE
  --key-file FILE               the service's API key (first non-comment line)
  --creates-per-minute N        per visitor, a token bucket (default 6)
  --visitor-daily-spend X       per visitor and UTC day, in credits (default 10)
  --daily-cap X                 all visitors, per UTC day (default 100)
  --monthly-cap X               all visitors, per UTC month (default 1000)
  --passphrase-file FILE        visitors must send this passphrase as their key
  --token-secret-file FILE      visitors must send a token your backend signed with this
                                secret as their key (see docs/gateway.md)
  --cookie-secret-file FILE     signs the visitor cookie (default: random per start)
  --ledger FILE                 SQLite ledger of every create (default
                                clipcloud-gateway.sqlite3; `:memory:` keeps none)
  --redis URL                   redis://HOST:PORT[/DB] (rediss:// for TLS): spend counters,
                                creation owners, rate limits in Redis, shared by every
                                replica (no password here: see --redis-url-file)
  --redis-ca-file FILE          the CA (PEM) that signed a rediss:// server's certificate,
                                when it is not a public one
  --admin-token-file FILE       enables GET /gateway/usage with `Authorization: Bearer`

LIMITS (both modes)
  --max-body BYTES              request body (default 65536)
  --max-image-bytes BYTES       one relayed image (default 16777216)
  --header-timeout SECS         to receive a request's headers (default 10)
  --request-timeout SECS        a whole request, body and upstream included (default 60)
  --upstream-timeout SECS       one upstream call (default 30)
  --max-connections N           open connections at once (default 1024)

HELD CHECKS (both modes; see docs/gateway.md)
  --hold-max SECS               hold a check with `Prefer: wait=N` up to this long,
                                answering the moment the creation is ready (default 30,
                                at most 30; 0 turns held checks off)
  --max-held N                  checks held open at once; beyond, answered at once
                                (default 512)
  --max-pollers N               creations polled upstream for held checks at once (one
                                poller per creation, shared by its waiters); beyond,
                                answered at once (default 256)

SPENDING (operator-key mode; see docs/gateway.md)
  --max-price-per-image X       reserved per image for a kind of create (style and
                                count, or advanced size and count) whose real price
                                this gateway has not seen yet; once seen, the most seen
                                is reserved. Set it to the dearest image the service
                                may charge (default 5.5: a 2048x2048 image in the
                                emulator's list, docs/api.md)
  --allow-advanced              let visitors make advanced creates (size, model...);
                                off by default: creates name a style
  --allow-style NAME            only these styles may be created (repeat, or a comma
                                list; default: any); /api/styles lists only these
  --address-share PERCENT       the most one address (or network, below) may spend a
                                day, as a share of --daily-cap (default 10); visitor
                                tokens are exempt: they carry their own budget
  --ipv4-prefix BITS            which addresses count as one, for the budgets, rate
                                limits and held checks (both modes: one address holds
                                at most an eighth of --max-held, at least 4)
                                (default 32: each address)
  --ipv6-prefix BITS            likewise for IPv6 (default 64: one /64, one host)

CONNECTIONS (both modes)
  --write-timeout SECS          an answer the client does not read for this long closes
                                its connection (default 30)
  --min-write-rate BYTES        beyond --write-timeout, an answer must be read at this
                                many bytes a second on average, or its connection closes
                                (default 1024)
  --max-connections-per-address N
                                open connections from one address (or network, as
                                --ipv4-prefix and --ipv6-prefix say; --trust-proxy
                                addresses excepted); beyond it, and beyond
                                --max-connections, a connection is refused at once with a
                                503 (default 64)
  --request-rate-per-address N  requests a second from one address (or network, as for
                                connections; behind --trust-proxy, the visitor's own), in
                                bursts of up to 5 seconds' worth; beyond it a request is
                                answered 429 and its connection closed (default 100;
                                0: no limit)

IN PRODUCTION (behind a proxy, with Redis, watched)
  --public-url URL              the origin visitors reach the gateway at
                                (https://images.example.com): its own pages' origin,
                                the base of image links, Secure cookies when https.
                                Without it, a --trust-proxy's X-Forwarded-Host/-Proto
                                (or Forwarded) say it, else the Host header. Operator-key
                                mode on a non-loopback --listen needs one of the two
  --redis-url-file FILE         --redis's URL read from a file, for one with a password
                                (redis[s]://[USER]:PASSWORD@HOST:PORT[/DB]); a flag shows
                                in `ps`
  --admin-listen HOST:PORT      a second listener for operators only: GET /metrics
                                (Prometheus), /readyz, /healthz. Keep it off the internet

Every flag can also be set as CLIPCLOUD_GATEWAY_<NAME> (--daily-cap → CLIPCLOUD_GATEWAY_DAILY_CAP).
The first line on stdout is `clipcloud-gateway listening on http://HOST:PORT`.
";

/// Whose key goes upstream.
#[derive(Clone, Debug)]
pub enum Mode {
    /// The visitor's own key, forwarded.
    Relay,
    /// The operator's key, behind [`Operator`]'s rules.
    Operator(Box<Operator>),
}

/// Who may call, how much, and what proves it: operator-key mode only.
#[derive(Clone, Debug)]
pub struct Operator {
    pub api_key: Secret,
    pub access: Access,
    pub creates_per_minute: u32,
    /// In hundredths of a credit.
    pub visitor_daily_spend: i64,
    pub daily_cap: i64,
    pub monthly_cap: i64,
    pub cookie_secret: Secret,
    pub ledger: PathBuf,
    /// `redis[s]://[[USER]:PASSWORD@]HOST[:PORT][/DB]`: a secret, since it may hold a password.
    pub redis: Option<Secret>,
    /// `--redis-ca-file`: the CA a `rediss://` server's certificate must chain to.
    pub redis_ca_file: Option<PathBuf>,
    pub admin_token: Option<Secret>,
    /// Hundredths of a credit per image, for a kind of create whose price is not known yet.
    pub max_price_per_image: i64,
    /// Advanced creates (size, model) allowed.
    pub allow_advanced: bool,
    /// The styles that may be created; empty: any.
    pub allowed_styles: Vec<String>,
    /// What one address (network) may spend a day, in hundredths of a percent of `daily_cap`.
    pub address_share: i64,
}

impl Operator {
    /// What one address (network) may spend a UTC day, in hundredths of a credit (at 100 %,
    /// the daily cap: no budget of its own).
    pub fn address_daily(&self) -> i64 {
        (i128::from(self.daily_cap) * i128::from(self.address_share) / 10_000) as i64
    }
}

/// What a visitor must show to spend the operator's key.
#[derive(Clone, Debug)]
pub enum Access {
    Open,
    Passphrase(Secret),
    /// Tokens signed by the embedding site's backend (see `visitor::Token`).
    Tokens(Secret),
}

impl Access {
    /// What `/gateway/info` tells a client to send as its key.
    pub fn key_need(&self) -> KeyNeed {
        match self {
            Self::Open => KeyNeed::None,
            Self::Passphrase(_) => KeyNeed::Passphrase,
            Self::Tokens(_) => KeyNeed::Token,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Limits {
    pub max_body: usize,
    pub max_image_bytes: u64,
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    pub upstream_timeout: Duration,
    pub max_connections: usize,
    /// The longest hold of a check (`Prefer: wait=N`); zero: held checks off.
    pub hold_max: Duration,
    /// Checks held open at once.
    pub max_held: usize,
    /// Upstream pollers (one per creation held for) at once.
    pub max_pollers: usize,
    /// How long an answer may wait on a client that does not read it.
    pub write_timeout: Duration,
    /// Bytes a second an answer must be read at, on average, once it has waited
    /// `write_timeout`.
    pub min_write_rate: u64,
    /// Open connections from one address or network (`Config::prefixes`; trusted proxies
    /// excepted).
    pub max_connections_per_address: usize,
    /// Requests a second from one address or network (bursts of 5 s' worth); 0: no limit.
    pub request_rate_per_address: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body: 64 * 1024,
            max_image_bytes: 16 * 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            upstream_timeout: Duration::from_secs(30),
            max_connections: 1024,
            hold_max: clipcloud::hold::MAX,
            max_held: 512,
            max_pollers: 256,
            write_timeout: Duration::from_secs(30),
            min_write_rate: 1024,
            max_connections_per_address: 64,
            request_rate_per_address: 100,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: String,
    pub upstream: Origin,
    /// The origin of the service's image links (default: `upstream`).
    pub images_upstream: Origin,
    pub static_dir: Option<PathBuf>,
    /// Exact origins; `*` only in relay mode.
    pub allowed_origins: Vec<String>,
    /// `--public-url`: `scheme://host[:port]`, the origin visitors reach this gateway at.
    pub public_url: Option<String>,
    /// Behind https: HSTS and `Secure` cookies (`--https`, or an https `--public-url`).
    pub https: bool,
    pub trusted_proxies: TrustedProxies,
    pub log_format: LogFormat,
    /// `--admin-listen`: where `/metrics` and `/readyz` are served, apart from visitors.
    pub admin_listen: Option<String>,
    pub mode: Mode,
    pub limits: Limits,
    /// Which addresses count as one (for spend budgets, rate limits and held checks).
    pub prefixes: Prefixes,
}

/// The prefix lengths that make one "address": a client's network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefixes {
    pub v4: u8,
    pub v6: u8,
}

impl Default for Prefixes {
    fn default() -> Self {
        Self { v4: 32, v6: 64 }
    }
}

impl Config {
    /// Relay mode to `upstream`, on a free loopback port: a start for tests.
    pub fn relay(upstream: Origin) -> Self {
        Self {
            listen: "127.0.0.1:0".into(),
            images_upstream: upstream.clone(),
            upstream,
            static_dir: None,
            allowed_origins: Vec::new(),
            public_url: None,
            https: false,
            trusted_proxies: TrustedProxies::default(),
            log_format: LogFormat::Off,
            admin_listen: None,
            mode: Mode::Relay,
            limits: Limits::default(),
            prefixes: Prefixes::default(),
        }
    }

    pub fn operator(&self) -> Option<&Operator> {
        match &self.mode {
            Mode::Operator(operator) => Some(operator),
            Mode::Relay => None,
        }
    }

    pub fn operator_mut(&mut self) -> Option<&mut Operator> {
        match &mut self.mode {
            Mode::Operator(operator) => Some(operator),
            Mode::Relay => None,
        }
    }
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    Run(Box<Config>),
    Help,
}

/// Every setting's name (a flag without `--`).
pub const FLAGS: &[&str] = &[
    "listen",
    "upstream",
    "images-upstream",
    "static-dir",
    "allow-origin",
    "https",
    "trust-proxy",
    "log-format",
    "config",
    "key-file",
    "creates-per-minute",
    "visitor-daily-spend",
    "daily-cap",
    "monthly-cap",
    "passphrase-file",
    "token-secret-file",
    "cookie-secret-file",
    "ledger",
    "redis",
    "admin-token-file",
    "max-body",
    "max-image-bytes",
    "header-timeout",
    "request-timeout",
    "upstream-timeout",
    "max-connections",
    "hold-max",
    "max-held",
    "max-pollers",
    "max-price-per-image",
    "allow-advanced",
    "allow-style",
    "address-share",
    "ipv4-prefix",
    "ipv6-prefix",
    "write-timeout",
    "min-write-rate",
    "max-connections-per-address",
    "request-rate-per-address",
    "public-url",
    "redis-url-file",
    "redis-ca-file",
    "admin-listen",
];
const REPEATABLE: &[&str] = &["allow-origin", "trust-proxy", "allow-style"];
const SWITCHES: &[&str] = &["https", "allow-advanced"];

/// Settings by name, each with every value given, from all three sources.
#[derive(Default)]
struct Settings(Vec<(String, Vec<String>)>);

impl Settings {
    fn get(&self, name: &str) -> Option<&str> {
        self.all(name).last().map(String::as_str)
    }

    fn all(&self, name: &str) -> &[String] {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice()).unwrap_or_default()
    }

    /// Keeps what is set already (a source read earlier wins).
    fn add_source(&mut self, source: Vec<(String, String)>) {
        let mut fresh: Vec<(String, Vec<String>)> = Vec::new();
        for (name, value) in source {
            if self.0.iter().any(|(n, _)| *n == name) {
                continue;
            }
            match fresh.iter_mut().find(|(n, _)| *n == name) {
                Some((_, values)) => values.push(value),
                None => fresh.push((name, vec![value])),
            }
        }
        self.0.extend(fresh);
    }
}

fn check_name(name: &str, source: &str) -> Result<(), String> {
    if FLAGS.contains(&name) {
        Ok(())
    } else {
        Err(format!("{source}: unknown setting `{name}` (see --help)"))
    }
}

fn from_flags(args: impl IntoIterator<Item = String>) -> Result<Option<Vec<(String, String)>>, String> {
    let mut out = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            return Ok(None);
        }
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(format!("unexpected argument `{arg}` (flags start with --)"));
        };
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (flag, None),
        };
        check_name(name, "flag")?;
        let value = if SWITCHES.contains(&name) {
            inline.unwrap_or_else(|| "true".into())
        } else {
            match inline.or_else(|| args.next()) {
                Some(value) => value,
                None => return Err(format!("--{name} needs a value")),
            }
        };
        out.push((name.to_owned(), value));
    }
    Ok(Some(out))
}

fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (key, value) in vars {
        let Some(rest) = key.strip_prefix("CLIPCLOUD_GATEWAY_") else { continue };
        let name = rest.to_ascii_lowercase().replace('_', "-");
        check_name(&name, &key)?;
        // A repeatable setting takes a comma-separated list here.
        if REPEATABLE.contains(&name.as_str()) {
            out.extend(value.split(',').map(|v| (name.clone(), v.trim().to_owned())));
        } else {
            out.push((name, value));
        }
    }
    Ok(out)
}

fn from_file(path: &str) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("--config {path}: {e}"))?;
    let mut out = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line
            .split_once('=')
            .ok_or_else(|| format!("--config {path}, line {}: expected `name = value`", number + 1))?;
        let (name, value) = (name.trim(), value.trim().trim_matches('"'));
        check_name(name, &format!("--config {path}, line {}", number + 1))?;
        out.push((name.to_owned(), value.to_owned()));
    }
    Ok(out)
}

/// Reads the command line, then the environment, then `--config`.
pub fn parse(
    args: impl IntoIterator<Item = String>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Command, String> {
    let Some(flags) = from_flags(args)? else { return Ok(Command::Help) };
    let mut settings = Settings::default();
    settings.add_source(flags);
    settings.add_source(from_env(env)?);
    if let Some(path) = settings.get("config").map(str::to_owned) {
        settings.add_source(from_file(&path)?);
    }
    build(&settings).map(|config| Command::Run(Box::new(config)))
}

fn number<T: std::str::FromStr>(settings: &Settings, name: &str, default: T) -> Result<T, String> {
    match settings.get(name) {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|_| format!("--{name}: not a whole number: {text:?}")),
    }
}

fn seconds(settings: &Settings, name: &str, default: u64) -> Result<Duration, String> {
    let secs = number(settings, name, default)?;
    if secs == 0 || secs > 3600 {
        return Err(format!("--{name}: between 1 and 3600 seconds"));
    }
    Ok(Duration::from_secs(secs))
}

/// Credits with up to two decimals, as hundredths.
fn credits(settings: &Settings, name: &str, default: i64) -> Result<i64, String> {
    let Some(text) = settings.get(name) else { return Ok(default) };
    parse_credits(text).ok_or_else(|| format!("--{name}: not an amount of credits ≥ 0: {text:?}"))
}

pub fn parse_credits(text: &str) -> Option<i64> {
    let value: f64 = text.trim().parse().ok()?;
    (value.is_finite() && (0.0..=1e12).contains(&value)).then(|| (value * 100.0).round() as i64)
}

/// An origin as a browser sends it in `Origin`: scheme, host, optional port; nothing else.
fn check_origin(flag: &str, origin: &str) -> Result<(), String> {
    let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    let ok = rest.is_some_and(|host| {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    });
    if ok {
        Ok(())
    } else {
        Err(format!("--{flag}: not an origin (scheme://host[:port], no path): {origin:?}"))
    }
}

/// Whether `url` is one the `redis` client takes: plain or TLS.
fn is_redis_url(url: &str) -> bool {
    url.starts_with("redis://") || url.starts_with("rediss://")
}

/// Whether a `scheme://` URL has a `user:password@` part.
fn has_credentials(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().is_some_and(|authority| authority.contains('@'))
}

/// Whether `--listen` is on a loopback address only (`127.0.0.1:8080`, `[::1]:0`,
/// `localhost:8080`), where only this machine (a proxy on it) can connect.
fn is_loopback(listen: &str) -> bool {
    match listen.parse::<SocketAddr>() {
        Ok(addr) => addr.ip().is_loopback(),
        Err(_) => listen.rsplit_once(':').is_some_and(|(host, _)| host.eq_ignore_ascii_case("localhost")),
    }
}

fn build(settings: &Settings) -> Result<Config, String> {
    let upstream = settings.get("upstream").ok_or_else(|| {
        format!(
            "--upstream URL is required: the service to relay to (the real one is {}, which needs the \
             gateway built with `--features tls`)",
            clipcloud::model::DEFAULT_BASE_URL
        )
    })?;
    let upstream = Origin::parse(upstream)?;
    let images_upstream = match settings.get("images-upstream") {
        Some(url) => Origin::parse(url).map_err(|e| e.replace("--upstream", "--images-upstream"))?,
        None => upstream.clone(),
    };
    let allowed_origins: Vec<String> =
        settings.all("allow-origin").iter().map(|o| o.trim().trim_end_matches('/').to_owned()).collect();
    for origin in allowed_origins.iter().filter(|o| *o != "*") {
        check_origin("allow-origin", origin)?;
    }
    let trusted_proxies = TrustedProxies::parse(settings.all("trust-proxy"))?;
    let public_url = settings.get("public-url").map(|url| url.trim().trim_end_matches('/').to_owned());
    if let Some(url) = &public_url {
        check_origin("public-url", url)?;
    }
    let log_format = LogFormat::parse(settings.get("log-format").unwrap_or("json"))?;
    let https =
        switch(settings, "https")? || public_url.as_deref().is_some_and(|url| url.starts_with("https://"));
    let limits = Limits {
        max_body: number(settings, "max-body", 64 * 1024)?,
        max_image_bytes: number(settings, "max-image-bytes", 16 * 1024 * 1024)?,
        header_timeout: seconds(settings, "header-timeout", 10)?,
        request_timeout: seconds(settings, "request-timeout", 60)?,
        upstream_timeout: seconds(settings, "upstream-timeout", 30)?,
        max_connections: number(settings, "max-connections", 1024)?,
        hold_max: Duration::from_secs(number(settings, "hold-max", 30u64)?),
        max_held: number(settings, "max-held", 512)?,
        max_pollers: number(settings, "max-pollers", 256)?,
        write_timeout: seconds(settings, "write-timeout", 30)?,
        min_write_rate: number(settings, "min-write-rate", 1024)?,
        max_connections_per_address: number(settings, "max-connections-per-address", 64)?,
        request_rate_per_address: number(settings, "request-rate-per-address", 100)?,
    };
    if limits.hold_max > clipcloud::hold::MAX {
        return Err("--hold-max: at most 30 seconds".into());
    }
    // A hold must end well within the whole request's time limit, with an upstream call after it.
    if limits.hold_max.saturating_add(limits.upstream_timeout) > limits.request_timeout {
        return Err("--hold-max: at most --request-timeout minus --upstream-timeout".into());
    }
    if limits.max_connections == 0 || limits.max_body == 0 {
        return Err("--max-connections and --max-body must be at least 1".into());
    }
    if limits.max_connections_per_address == 0 || limits.min_write_rate == 0 {
        return Err("--max-connections-per-address and --min-write-rate must be at least 1".into());
    }
    let operator_only = [
        "creates-per-minute",
        "visitor-daily-spend",
        "daily-cap",
        "monthly-cap",
        "passphrase-file",
        "token-secret-file",
        "cookie-secret-file",
        "ledger",
        "redis",
        "admin-token-file",
        "max-price-per-image",
        "allow-advanced",
        "allow-style",
        "address-share",
        "redis-url-file",
        "redis-ca-file",
    ];
    let mode = match settings.get("key-file") {
        None => {
            if let Some(name) = operator_only.iter().find(|n| settings.get(n).is_some()) {
                return Err(format!("--{name} needs operator-key mode (--key-file)"));
            }
            Mode::Relay
        }
        Some(path) => {
            if allowed_origins.iter().any(|o| o == "*") {
                return Err(
                    "--allow-origin *: refused in operator-key mode (any site could spend your key); \
                            list the exact origins"
                        .into(),
                );
            }
            let file =
                |name: &str| settings.get(name).map(|path| Secret::from_file(&format!("--{name}"), path));
            let access = match (file("passphrase-file").transpose()?, file("token-secret-file").transpose()?)
            {
                (Some(_), Some(_)) => {
                    return Err("--passphrase-file and --token-secret-file: choose one".into())
                }
                (Some(passphrase), None) => Access::Passphrase(passphrase),
                (None, Some(secret)) => Access::Tokens(secret),
                (None, None) => Access::Open,
            };
            let redis = match (settings.get("redis"), file("redis-url-file").transpose()?) {
                (Some(_), Some(_)) => return Err("--redis and --redis-url-file: choose one".into()),
                (Some(url), None) => {
                    if !is_redis_url(url) {
                        return Err("--redis: a redis://HOST[:PORT][/DB] (or rediss://) URL".into());
                    }
                    if has_credentials(url) {
                        return Err("--redis: this URL carries a password, which a flag shows to every \
                                    user of the machine (`ps`): put the URL in a file and give \
                                    --redis-url-file FILE"
                            .into());
                    }
                    Some(Secret::new(url))
                }
                (None, Some(url)) => {
                    if !is_redis_url(url.expose_str()) {
                        return Err("--redis-url-file: the file's first line is not a redis:// \
                                    (or rediss://) URL: redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]"
                            .into());
                    }
                    Some(url)
                }
                (None, None) => None,
            };
            let redis_ca_file = settings.get("redis-ca-file").map(PathBuf::from);
            if redis_ca_file.is_some()
                && !redis.as_ref().is_some_and(|url| url.expose_str().starts_with("rediss://"))
            {
                return Err("--redis-ca-file: only for a rediss:// (TLS) --redis URL".into());
            }
            Mode::Operator(Box::new(Operator {
                api_key: Secret::from_file("--key-file", path)?,
                access,
                creates_per_minute: number(settings, "creates-per-minute", 6)?,
                visitor_daily_spend: credits(settings, "visitor-daily-spend", 1000)?,
                daily_cap: credits(settings, "daily-cap", 10_000)?,
                monthly_cap: credits(settings, "monthly-cap", 100_000)?,
                cookie_secret: match file("cookie-secret-file") {
                    Some(secret) => secret?,
                    None => Secret::random()?,
                },
                ledger: PathBuf::from(settings.get("ledger").unwrap_or("clipcloud-gateway.sqlite3")),
                redis,
                redis_ca_file,
                admin_token: file("admin-token-file").transpose()?,
                max_price_per_image: credits(settings, "max-price-per-image", 550)?,
                allow_advanced: switch(settings, "allow-advanced")?,
                allowed_styles: allowed_styles(settings)?,
                address_share: address_share(settings)?,
            }))
        }
    };
    let listen = settings.get("listen").unwrap_or("127.0.0.1:8080").to_owned();
    if matches!(mode, Mode::Operator(_))
        && public_url.is_none()
        && trusted_proxies.is_empty()
        && !is_loopback(&listen)
    {
        return Err(format!(
            "operator-key mode on {listen} (not a loopback address) needs --public-url URL (the \
             address visitors reach, e.g. https://images.example.com) or --trust-proxy ADDRESS (the \
             reverse proxy that sends X-Forwarded-Host and X-Forwarded-Proto): behind a proxy the Host \
             header names the proxy's upstream, so the app's own pages would be refused and image links \
             would point at an address no visitor can reach"
        ));
    }
    Ok(Config {
        listen,
        upstream,
        images_upstream,
        static_dir: settings.get("static-dir").map(PathBuf::from),
        allowed_origins,
        https,
        trusted_proxies,
        public_url,
        log_format,
        admin_listen: settings.get("admin-listen").map(str::to_owned),
        mode,
        limits,
        prefixes: Prefixes {
            v4: prefix_length(settings, "ipv4-prefix", 32, 32)?,
            // One /64: what one host (or home) is usually given.
            v6: prefix_length(settings, "ipv6-prefix", 64, 128)?,
        },
    })
}

fn switch(settings: &Settings, name: &str) -> Result<bool, String> {
    match settings.get(name).unwrap_or("false") {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        other => Err(format!("--{name}: true or false, not {other:?}")),
    }
}

/// `--allow-style`, each value a name or a comma list of names.
fn allowed_styles(settings: &Settings) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = Vec::new();
    for name in settings.all("allow-style").iter().flat_map(|v| v.split(',')).map(str::trim) {
        clipcloud::validate::style_name(name, None)
            .map_err(|e| format!("--allow-style: {e} ({:?})", name.chars().take(64).collect::<String>()))?;
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// `--address-share` in hundredths of a percent: more than 0, at most 100 %.
fn address_share(settings: &Settings) -> Result<i64, String> {
    let share = credits(settings, "address-share", 1000)?;
    if share == 0 || share > 10_000 {
        return Err("--address-share: a percentage of --daily-cap above 0 and at most 100".into());
    }
    Ok(share)
}

/// A prefix length from 1 to `most` (the address's length in bits).
fn prefix_length(settings: &Settings, name: &str, default: u8, most: u8) -> Result<u8, String> {
    let length: u8 = number(settings, name, default)?;
    if length == 0 || length > most {
        return Err(format!("--{name}: between 1 and {most} bits"));
    }
    Ok(length)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn run(line: &str, env: &[(&str, &str)]) -> Result<Config, String> {
        let line = if line.contains("--upstream") || line.is_empty() {
            line.to_owned()
        } else {
            format!("{line} --upstream http://u")
        };
        let line = line.as_str();
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        match parse(args(line), env)? {
            Command::Run(config) => Ok(*config),
            Command::Help => Err("help".into()),
        }
    }

    fn temp_file(name: &str, text: &str) -> String {
        let dir = std::env::temp_dir().join(format!("clipcloud-gateway-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    #[test]
    fn defaults_are_relay_mode_on_loopback() {
        let config = run("--upstream http://127.0.0.1:9", &[]).unwrap();
        assert!(matches!(config.mode, Mode::Relay));
        assert_eq!(config.listen, "127.0.0.1:8080");
        assert_eq!(config.upstream.to_string(), "http://127.0.0.1:9");
        assert!(run("", &[]).unwrap_err().contains("--upstream URL is required"));
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.admin_listen, None);
        assert!(matches!(parse(args("--help"), []), Ok(Command::Help)));
        let limits = &config.limits;
        assert_eq!(limits.write_timeout, Duration::from_secs(30));
        assert_eq!((limits.min_write_rate, limits.max_connections_per_address), (1024, 64));
    }

    #[test]
    fn flags_win_over_env_over_file() {
        let file = temp_file(
            "gw.conf",
            "# settings\ndaily-cap = 5\nmonthly-cap = 7\nlisten = 0.0.0.0:1\npublic-url = https://gw.example\n",
        );
        let key = temp_file("key", "# the key\n\n  sk-1  \n");
        let redis = temp_file("redis-url", "redis://:pw123@h:1\n");
        let line = format!("--key-file {key} --config {file} --daily-cap=3 --allow-origin https://a.example --upstream http://u --redis-url-file {redis}");
        let env =
            [("CLIPCLOUD_GATEWAY_MONTHLY_CAP", "9"), ("CLIPCLOUD_GATEWAY_ALLOW_ORIGIN", "https://b.example")];
        let config = run(&line, &env).unwrap();
        let operator = config.operator().unwrap();
        assert_eq!((operator.daily_cap, operator.monthly_cap), (300, 900));
        assert_eq!(config.listen, "0.0.0.0:1");
        assert_eq!(operator.api_key.expose(), b"sk-1");
        assert_eq!(operator.redis.as_ref().map(Secret::expose_str), Some("redis://:pw123@h:1"));
        // A flag replaces, not extends, the environment's list.
        assert_eq!(config.allowed_origins, ["https://a.example"]);
        let debug = format!("{config:?}");
        assert!(!debug.contains("sk-1") && !debug.contains("pw123"), "{debug}");
    }

    #[test]
    fn unsafe_or_unclear_settings_are_refused() {
        let key = temp_file("key2", "sk-2\n");
        for (line, needle) in [
            (format!("--key-file {key} --allow-origin *"), "refused in operator-key mode"),
            ("--daily-cap 5".to_owned(), "needs operator-key mode"),
            ("--allow-origin https://a.example/path".to_owned(), "not an origin"),
            ("--upstream ftp://x".to_owned(), "upstream"),
            ("--upstream http://u --listen".to_owned(), "needs a value"),
            ("--bogus 1".to_owned(), "unknown setting"),
            ("--header-timeout 0".to_owned(), "between 1 and 3600"),
            ("--trust-proxy nope".to_owned(), "not an IP"),
            ("--public-url https://images.example/app".to_owned(), "--public-url: not an origin"),
            (format!("--key-file {key} --listen 0.0.0.0:8080"), "needs --public-url URL"),
            (format!("--key-file {key} --redis http://x"), "redis://"),
            (format!("--key-file {key} --redis redis://:pw@h:1/0"), "--redis-url-file FILE"),
            (format!("--key-file {key} --redis redis://user:pw@h"), "carries a password"),
            (format!("--key-file {key} --redis-url-file {key}"), "not a redis://"),
            (format!("--key-file {key} --redis redis://h --redis-ca-file {key}"), "only for a rediss://"),
            ("--redis-ca-file /ca.pem".to_owned(), "needs operator-key mode"),
            ("--key-file /nonexistent/key".to_owned(), "cannot read"),
            ("--max-connections-per-address 0".to_owned(), "at least 1"),
            ("--min-write-rate 0".to_owned(), "at least 1"),
            ("--write-timeout 0".to_owned(), "between 1 and 3600"),
        ] {
            let err = run(&line, &[]).unwrap_err();
            assert!(err.contains(needle), "{line}: {err}");
        }
        let err = run("--upstream http://u", &[("CLIPCLOUD_GATEWAY_NOPE", "1")]).unwrap_err();
        assert!(err.contains("unknown setting"), "{err}");
        assert!(run("--allow-origin *", &[]).is_ok(), "relay mode takes *");
    }

    #[test]
    fn spending_settings() {
        let key = temp_file("key3", "sk-3\n");
        let config = run(&format!("--key-file {key}"), &[]).unwrap();
        let operator = config.operator().unwrap();
        assert_eq!((operator.max_price_per_image, operator.allow_advanced), (550, false));
        assert!(operator.allowed_styles.is_empty());
        assert_eq!(operator.address_daily(), 1000, "10 % of 100 credits");
        assert_eq!(config.prefixes, Prefixes { v4: 32, v6: 64 });
        let line = format!(
            "--key-file {key} --max-price-per-image 2.2 --allow-advanced --allow-style standard,HD-HQ \
             --allow-style graffiti --address-share 2.5 --daily-cap 40 --ipv4-prefix 24 --ipv6-prefix 48"
        );
        let config = run(&line, &[]).unwrap();
        let operator = config.operator().unwrap();
        assert_eq!((operator.max_price_per_image, operator.allow_advanced), (220, true));
        assert_eq!(operator.allowed_styles, ["standard", "HD-HQ", "graffiti"]);
        assert_eq!(operator.address_daily(), 100, "2.5 % of 40 credits");
        assert_eq!(config.prefixes, Prefixes { v4: 24, v6: 48 });
        let env = [("CLIPCLOUD_GATEWAY_ALLOW_STYLE", "standard, smallHQ")];
        let config = run(&format!("--key-file {key}"), &env).unwrap();
        assert_eq!(config.operator().unwrap().allowed_styles, ["standard", "smallHQ"]);
        for (flags, needle) in [
            ("--address-share 0", "above 0"),
            ("--address-share 101", "at most 100"),
            ("--ipv4-prefix 33", "between 1 and 32"),
            ("--ipv6-prefix 0", "between 1 and 128"),
            ("--allow-style ,", "style must not be empty"),
            ("--allow-advanced=maybe", "true or false"),
        ] {
            let err = run(&format!("--key-file {key} {flags}"), &[]).unwrap_err();
            assert!(err.contains(needle), "{flags}: {err}");
        }
        assert!(run("--allow-advanced", &[]).unwrap_err().contains("needs operator-key mode"));
    }

    #[test]
    fn behind_a_proxy_the_public_url_or_a_trusted_proxy_is_needed() {
        let key = temp_file("key3", "sk-3\n");
        let config =
            run("--public-url https://images.example/ --trust-proxy 10.0.0.0/8 --trust-proxy ::1", &[])
                .unwrap();
        assert_eq!(config.public_url.as_deref(), Some("https://images.example"));
        assert!(config.https, "an https public URL means Secure cookies and HSTS");
        assert!(config.trusted_proxies.trusts("10.2.3.4".parse().unwrap()));
        assert!(config.trusted_proxies.trusts("::1".parse().unwrap()));
        for line in [
            format!("--key-file {key} --listen 0.0.0.0:8080 --public-url https://images.example"),
            format!("--key-file {key} --listen 0.0.0.0:8080 --trust-proxy 10.0.0.0/8"),
            format!("--key-file {key} --listen [::1]:8080"),
            format!("--key-file {key} --listen localhost:8080"),
            // Relay mode spends no key of the operator's: nothing to refuse.
            "--listen 0.0.0.0:8080".to_owned(),
        ] {
            assert!(run(&line, &[]).is_ok(), "{line}");
        }
        let err = run(&format!("--key-file {key} --listen [::]:8080"), &[]).unwrap_err();
        assert!(err.contains("--public-url") && err.contains("--trust-proxy"), "{err}");
    }

    #[test]
    fn credits_are_hundredths() {
        assert_eq!(parse_credits("1.1"), Some(110));
        assert_eq!(parse_credits("10"), Some(1000));
        assert_eq!(parse_credits("-1"), None);
        assert_eq!(parse_credits("NaN"), None);
    }
}
