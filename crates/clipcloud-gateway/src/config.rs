//! The gateway's settings: what [`crate::flags`] reads (flags, else `CLIPCLOUD_GATEWAY_*`
//! environment variables, else the `--config` file), checked together, with the safe
//! defaults filled in. Secrets come only from files.

use crate::flags::{self, Flags};
use crate::forward::upstream::Origin;
use crate::forwarded::TrustedProxies;
use crate::secret::Secret;
use crate::telemetry::LogFormat;
use clipcloud::gateway::KeyNeed;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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

/// The settings of this process: its command line, its `CLIPCLOUD_GATEWAY_*` environment
/// variables and the `--config` file. `--help` and `--version` come back as errors of their
/// kinds: [`clap::Error::exit`] prints them and every other error alike.
pub fn from_process() -> Result<Config, clap::Error> {
    let command = flags::command();
    let settings = flags::read(command.clone(), std::env::args_os())?;
    // After reading: `--help` and `--version` work whatever the environment holds.
    flags::check_variables(&command, std::env::vars_os().map(|(name, _)| name))?;
    build(settings).map_err(|message| flags::fail(&command, message))
}

/// The settings `args` give (no program name first), the environment left out: for tests
/// and for starting a gateway from code.
pub fn parse<I, T>(args: I) -> Result<Config, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let command = flags::args_only();
    let settings = flags::read(command.clone(), args)?;
    build(settings).map_err(|message| flags::fail(&command, message))
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

/// The settings checked together, the defaults filled in.
fn build(settings: Flags) -> Result<Config, String> {
    let upstream = settings.upstream.as_deref().ok_or_else(|| {
        format!(
            "--upstream URL is required: the service to relay to (the real one is {}, which needs the \
             gateway built with `--features tls`)",
            clipcloud::model::DEFAULT_BASE_URL
        )
    })?;
    let upstream = Origin::parse(upstream)?;
    let images_upstream = match &settings.images_upstream {
        Some(url) => Origin::parse(url).map_err(|e| e.replace("--upstream", "--images-upstream"))?,
        None => upstream.clone(),
    };
    let allowed_origins = settings.allow_origin;
    let trusted_proxies = TrustedProxies::parse(&settings.trust_proxy)?;
    let public_url = settings.public_url;
    let log_format = LogFormat::parse(settings.log_format.as_deref().unwrap_or("json"))?;
    let https = settings.https.unwrap_or(false)
        || public_url.as_deref().is_some_and(|url| url.starts_with("https://"));
    let default = Limits::default();
    let limits = Limits {
        max_body: settings.max_body.unwrap_or(default.max_body),
        max_image_bytes: settings.max_image_bytes.unwrap_or(default.max_image_bytes),
        header_timeout: settings.header_timeout.unwrap_or(default.header_timeout),
        request_timeout: settings.request_timeout.unwrap_or(default.request_timeout),
        upstream_timeout: settings.upstream_timeout.unwrap_or(default.upstream_timeout),
        max_connections: settings.max_connections.unwrap_or(default.max_connections),
        hold_max: settings.hold_max.map_or(default.hold_max, Duration::from_secs),
        max_held: settings.max_held.unwrap_or(default.max_held),
        max_pollers: settings.max_pollers.unwrap_or(default.max_pollers),
        write_timeout: settings.write_timeout.unwrap_or(default.write_timeout),
        min_write_rate: settings.min_write_rate.unwrap_or(default.min_write_rate),
        max_connections_per_address: settings
            .max_connections_per_address
            .unwrap_or(default.max_connections_per_address),
        request_rate_per_address: settings
            .request_rate_per_address
            .unwrap_or(default.request_rate_per_address),
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
        ("creates-per-minute", settings.creates_per_minute.is_some()),
        ("visitor-daily-spend", settings.visitor_daily_spend.is_some()),
        ("daily-cap", settings.daily_cap.is_some()),
        ("monthly-cap", settings.monthly_cap.is_some()),
        ("passphrase-file", settings.passphrase_file.is_some()),
        ("token-secret-file", settings.token_secret_file.is_some()),
        ("cookie-secret-file", settings.cookie_secret_file.is_some()),
        ("ledger", settings.ledger.is_some()),
        ("redis", settings.redis.is_some()),
        ("admin-token-file", settings.admin_token_file.is_some()),
        ("max-price-per-image", settings.max_price_per_image.is_some()),
        ("allow-advanced", settings.allow_advanced.is_some()),
        ("allow-style", !settings.allow_style.is_empty()),
        ("address-share", settings.address_share.is_some()),
        ("redis-url-file", settings.redis_url_file.is_some()),
        ("redis-ca-file", settings.redis_ca_file.is_some()),
    ];
    let mode = match &settings.key_file {
        None => {
            if let Some((name, _)) = operator_only.iter().find(|(_, given)| *given) {
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
            let file = |name: &str, path: &Option<String>| {
                path.as_deref().map(|path| Secret::from_file(&format!("--{name}"), path))
            };
            let access = match (
                file("passphrase-file", &settings.passphrase_file).transpose()?,
                file("token-secret-file", &settings.token_secret_file).transpose()?,
            ) {
                (Some(_), Some(_)) => {
                    return Err("--passphrase-file and --token-secret-file: choose one".into())
                }
                (Some(passphrase), None) => Access::Passphrase(passphrase),
                (None, Some(secret)) => Access::Tokens(secret),
                (None, None) => Access::Open,
            };
            let redis = match (
                settings.redis.as_deref(),
                file("redis-url-file", &settings.redis_url_file).transpose()?,
            ) {
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
            let redis_ca_file = settings.redis_ca_file.map(PathBuf::from);
            if redis_ca_file.is_some()
                && !redis.as_ref().is_some_and(|url| url.expose_str().starts_with("rediss://"))
            {
                return Err("--redis-ca-file: only for a rediss:// (TLS) --redis URL".into());
            }
            let mut allowed_styles: Vec<String> = Vec::new();
            for name in settings.allow_style {
                if !allowed_styles.contains(&name) {
                    allowed_styles.push(name);
                }
            }
            Mode::Operator(Box::new(Operator {
                api_key: Secret::from_file("--key-file", path)?,
                access,
                creates_per_minute: settings.creates_per_minute.unwrap_or(6),
                visitor_daily_spend: settings.visitor_daily_spend.unwrap_or(1000),
                daily_cap: settings.daily_cap.unwrap_or(10_000),
                monthly_cap: settings.monthly_cap.unwrap_or(100_000),
                cookie_secret: match file("cookie-secret-file", &settings.cookie_secret_file) {
                    Some(secret) => secret?,
                    None => Secret::random()?,
                },
                ledger: PathBuf::from(settings.ledger.as_deref().unwrap_or("clipcloud-gateway.sqlite3")),
                redis,
                redis_ca_file,
                admin_token: file("admin-token-file", &settings.admin_token_file).transpose()?,
                max_price_per_image: settings.max_price_per_image.unwrap_or(550),
                allow_advanced: settings.allow_advanced.unwrap_or(false),
                allowed_styles,
                address_share: settings.address_share.unwrap_or(1000),
            }))
        }
    };
    let listen = settings.listen.unwrap_or_else(|| "127.0.0.1:8080".to_owned());
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
    let prefixes = Prefixes::default();
    Ok(Config {
        listen,
        upstream,
        images_upstream,
        static_dir: settings.static_dir.map(PathBuf::from),
        allowed_origins,
        https,
        trusted_proxies,
        public_url,
        log_format,
        admin_listen: settings.admin_listen,
        mode,
        limits,
        prefixes: Prefixes {
            v4: settings.ipv4_prefix.unwrap_or(prefixes.v4),
            v6: settings.ipv6_prefix.unwrap_or(prefixes.v6),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    /// The settings `line` gives (with an upstream unless it names one), or the error's text.
    fn run(line: &str) -> Result<Config, String> {
        let line = if line.contains("--upstream") || line.is_empty() {
            line.to_owned()
        } else {
            format!("{line} --upstream http://u")
        };
        parse(args(&line)).map_err(|e| e.to_string())
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
        let config = run("--upstream http://127.0.0.1:9").unwrap();
        assert!(matches!(config.mode, Mode::Relay));
        assert_eq!(config.listen, "127.0.0.1:8080");
        assert_eq!(config.upstream.to_string(), "http://127.0.0.1:9");
        assert!(run("").unwrap_err().contains("--upstream URL is required"));
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.admin_listen, None);
        let help = parse(["--help"]).unwrap_err();
        assert_eq!(help.kind(), clap::error::ErrorKind::DisplayHelp);
        assert!(help.to_string().contains("--max-connections-per-address <N>"), "{help}");
        let limits = &config.limits;
        assert_eq!(limits.write_timeout, Duration::from_secs(30));
        assert_eq!((limits.min_write_rate, limits.max_connections_per_address), (1024, 64));
    }

    #[test]
    fn flags_win_over_the_file() {
        let file = temp_file(
            "gw.conf",
            "# settings\ndaily-cap = 5\nmonthly-cap = \"7\"\nlisten = 0.0.0.0:1\npublic-url = https://gw.example\n\
             allow-origin = https://b.example\nallow-origin = https://c.example\nallow-advanced = yes\n",
        );
        let key = temp_file("key", "# the key\n\n  sk-1  \n");
        let redis = temp_file("redis-url", "redis://:pw123@h:1\n");
        let line = format!("--key-file {key} --config {file} --daily-cap=3 --allow-origin https://a.example --upstream http://u --redis-url-file {redis}");
        let config = run(&line).unwrap();
        let operator = config.operator().unwrap();
        assert_eq!((operator.daily_cap, operator.monthly_cap), (300, 700));
        assert!(operator.allow_advanced);
        assert_eq!(config.listen, "0.0.0.0:1");
        assert_eq!(operator.api_key.expose(), b"sk-1");
        assert_eq!(operator.redis.as_ref().map(Secret::expose_str), Some("redis://:pw123@h:1"));
        // A flag replaces, not extends, the file's list.
        assert_eq!(config.allowed_origins, ["https://a.example"]);
        let config = run(&format!("--key-file {key} --config {file}")).unwrap();
        assert_eq!(config.allowed_origins, ["https://b.example", "https://c.example"]);
        let debug = format!("{config:?}");
        assert!(!debug.contains("sk-1") && !debug.contains("pw123"), "{debug}");
    }

    #[test]
    fn a_bad_config_file_names_its_line() {
        for (text, needle) in [
            ("listen = 127.0.0.1:1\nbogus = 1\n", "line 2: unknown setting `bogus`"),
            ("# c\nhttps\n", "line 2: expected `name = value`"),
            (
                "header-timeout = 0\n",
                "line 1: invalid value '0' for '--header-timeout <SECS>': between 1 and 3600",
            ),
            ("daily-cap = 1\ndaily-cap = 2\n", "'--daily-cap <X>' cannot be used multiple times"),
            ("help = 1\n", "unknown setting `help`"),
        ] {
            let file = temp_file("bad.conf", text);
            let err = run(&format!("--config {file}")).unwrap_err();
            assert!(err.contains(&format!("--config {file}")) && err.contains(needle), "{text}: {err}");
        }
        let err = run("--config /nonexistent/gw.conf").unwrap_err();
        assert!(err.contains("--config /nonexistent/gw.conf: "), "{err}");
    }

    #[test]
    fn a_flag_is_given_once() {
        for (line, needle) in [
            ("--upstream http://a --upstream http://b", "'--upstream <URL>' cannot be used multiple times"),
            ("--https --https=false", "'--https[=<BOOL>]' cannot be used multiple times"),
            ("--max-body 1 --max-body=2", "'--max-body <BYTES>' cannot be used multiple times"),
            ("--hold-max 1 --hold-max 1", "'--hold-max <SECS>' cannot be used multiple times"),
        ] {
            let err = run(line).unwrap_err();
            assert!(err.contains(needle), "{line}: {err}");
        }
        // The repeatable ones add up, one by one or as a comma list.
        let config = run("--trust-proxy 10.0.0.1 --trust-proxy 10.0.0.2,::1").unwrap();
        for ip in ["10.0.0.1", "10.0.0.2", "::1"] {
            assert!(config.trusted_proxies.trusts(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn unknown_variables_are_refused() {
        let command = flags::args_only();
        let names = |names: &[&str]| names.iter().map(OsString::from).collect::<Vec<_>>();
        let err = flags::check_variables(&command, names(&["PATH", "CLIPCLOUD_GATEWAY_NOPE"])).unwrap_err();
        assert!(err.to_string().contains("CLIPCLOUD_GATEWAY_NOPE: unknown setting `nope`"), "{err}");
        // The variables are the flags' (the command without the environment still names them).
        let command = flags::command();
        assert!(flags::check_variables(&command, names(&["CLIPCLOUD_GATEWAY_DAILY_CAP", "HOME"])).is_ok());
    }

    #[test]
    fn unsafe_or_unclear_settings_are_refused() {
        let key = temp_file("key2", "sk-2\n");
        for (line, needle) in [
            (format!("--key-file {key} --allow-origin *"), "refused in operator-key mode"),
            ("--daily-cap 5".to_owned(), "needs operator-key mode"),
            ("--allow-origin https://a.example/path".to_owned(), "not an origin"),
            ("--upstream ftp://x".to_owned(), "upstream"),
            ("--upstream http://u --listen".to_owned(), "a value is required for '--listen"),
            ("--bogus 1".to_owned(), "unexpected argument '--bogus'"),
            ("--header-timeout 0".to_owned(), "between 1 and 3600"),
            ("--trust-proxy nope".to_owned(), "not an IP"),
            ("--public-url https://images.example/app".to_owned(), "for '--public-url <URL>': not an origin"),
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
            ("--log-format yaml".to_owned(), "[possible values: json, text, off]"),
            ("--https true".to_owned(), "unexpected argument 'true'"),
        ] {
            let err = run(&line).unwrap_err();
            assert!(err.contains(needle), "{line}: {err}");
        }
        for line in [
            format!("--key-file {key} --redis redis://:pw-secret@h:1/0"),
            format!("--key-file {key} --redis=redis://user:pw-secret@h --redis-url-file {key}"),
        ] {
            assert!(!run(&line).unwrap_err().contains("pw-secret"), "an error repeats the password");
        }
        assert!(run("--allow-origin *").is_ok(), "relay mode takes *");
    }

    #[test]
    fn spending_settings() {
        let key = temp_file("key3", "sk-3\n");
        let config = run(&format!("--key-file {key}")).unwrap();
        let operator = config.operator().unwrap();
        assert_eq!((operator.max_price_per_image, operator.allow_advanced), (550, false));
        assert!(operator.allowed_styles.is_empty());
        assert_eq!(operator.address_daily(), 1000, "10 % of 100 credits");
        assert_eq!(config.prefixes, Prefixes { v4: 32, v6: 64 });
        let line = format!(
            "--key-file {key} --max-price-per-image 2.2 --allow-advanced --allow-style standard,HD-HQ \
             --allow-style graffiti --allow-style standard --address-share 2.5 --daily-cap 40 \
             --ipv4-prefix 24 --ipv6-prefix 48"
        );
        let config = run(&line).unwrap();
        let operator = config.operator().unwrap();
        assert_eq!((operator.max_price_per_image, operator.allow_advanced), (220, true));
        assert_eq!(operator.allowed_styles, ["standard", "HD-HQ", "graffiti"]);
        assert_eq!(operator.address_daily(), 100, "2.5 % of 40 credits");
        assert_eq!(config.prefixes, Prefixes { v4: 24, v6: 48 });
        let config =
            parse(["--upstream", "http://u", "--key-file", &key, "--allow-style", "standard, smallHQ"])
                .unwrap();
        assert_eq!(config.operator().unwrap().allowed_styles, ["standard", "smallHQ"]);
        let config = run(&format!("--key-file {key} --allow-advanced=false")).unwrap();
        assert!(!config.operator().unwrap().allow_advanced);
        for (flags, needle) in [
            ("--address-share 0", "above 0"),
            ("--address-share 101", "at most 100"),
            ("--ipv4-prefix 33", "between 1 and 32"),
            ("--ipv6-prefix 0", "between 1 and 128"),
            ("--allow-style ,", "style must not be empty"),
            ("--allow-advanced=maybe", "true or false"),
            ("--daily-cap=-1", "not an amount of credits"),
        ] {
            let err = run(&format!("--key-file {key} {flags}")).unwrap_err();
            assert!(err.contains(needle), "{flags}: {err}");
        }
        assert!(run("--allow-advanced").unwrap_err().contains("needs operator-key mode"));
    }

    #[test]
    fn behind_a_proxy_the_public_url_or_a_trusted_proxy_is_needed() {
        let key = temp_file("key3", "sk-3\n");
        let config =
            run("--public-url https://images.example/ --trust-proxy 10.0.0.0/8 --trust-proxy ::1").unwrap();
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
            assert!(run(&line).is_ok(), "{line}");
        }
        let err = run(&format!("--key-file {key} --listen [::]:8080")).unwrap_err();
        assert!(err.contains("--public-url") && err.contains("--trust-proxy"), "{err}");
    }
}
