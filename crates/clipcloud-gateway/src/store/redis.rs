//! The gateway's Redis, for the counters several replicas share: the `redis` crate's
//! [`ConnectionManager`] (one multiplexed connection that every request shares, replaced
//! when it breaks) behind a deadline per call and an address that never shows the password.
//!
//! `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`, or `rediss://…` for TLS (rustls: the
//! public roots, or the operator's CA given by `--redis-ca-file`). The password goes out
//! with `AUTH` (with the ACL user when the URL names one). Nothing is connected until the
//! first call. A call that fails on a broken connection is sent once more on a fresh one,
//! within the same deadline — so callers send only commands that are safe to repeat (the
//! gateway's scripts are written to be).

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, ErrorKind, FromRedisValue, RedisError, TlsCertificates};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::Duration;

pub use redis::{cmd, Script, Value};

/// What every key the gateway writes starts with.
pub const KEY_PREFIX: &str = "ccgw:";

/// Why a call got no usable reply. The text never holds the password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Cannot connect (refused, TLS, authentication), or the connection broke.
    Unreachable(String),
    /// No connection or no reply in time.
    Timeout,
    /// The server refused the command (`-ERR ...`).
    Server(String),
    /// The reply was not what the command gives.
    Reply(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unreachable(e) => write!(f, "redis: {e}"),
            Error::Timeout => f.write_str("redis: timed out"),
            Error::Server(e) => write!(f, "redis answered: {e}"),
            Error::Reply(e) => write!(f, "redis: unexpected reply: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<RedisError> for Error {
    fn from(e: RedisError) -> Self {
        // The crate's texts name the failure (a refused connection, an unknown issuer,
        // WRONGPASS), never the URL it was given.
        let text = e.to_string();
        if e.is_timeout() {
            return Error::Timeout;
        }
        match e.kind() {
            ErrorKind::Server(_) => Error::Server(text),
            ErrorKind::Parse | ErrorKind::UnexpectedReturnType => Error::Reply(text),
            _ => Error::Unreachable(text),
        }
    }
}

/// Where to connect, shown without the password: safe to log.
#[derive(Clone, PartialEq, Eq)]
pub struct Target(String);

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Target {
    /// Checks a `redis://` or `rediss://` URL (host, port, database number) and gives it
    /// back without its password; the error names what is wrong, never the password.
    pub fn parse(url: &str) -> Result<Target, String> {
        let bad =
            |why: &str| format!("--redis: {why} (expected redis[s]://[USER[:PASSWORD]@]HOST[:PORT][/DB])");
        let parsed = redis::parse_redis_url(url).ok_or_else(|| bad("not a redis:// or rediss:// URL"))?;
        let scheme = parsed.scheme();
        if !matches!(scheme, "redis" | "rediss") {
            return Err(bad("not a redis:// or rediss:// URL"));
        }
        if parsed.fragment().is_some() {
            // `#insecure` would skip checking the server's certificate: not offered.
            return Err(bad("no #fragment: a rediss:// server's certificate is always checked"));
        }
        // IPv6 in brackets, as in the URL.
        let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| bad("no host"))?;
        let port = parsed.port().unwrap_or(6379);
        if port == 0 {
            return Err(bad("a bad port"));
        }
        let db = match parsed.path().trim_matches('/') {
            "" => 0,
            p => p.parse::<u32>().map_err(|_| bad("the path is a database number"))?,
        };
        let user = parsed.username();
        let auth = match (user.is_empty(), parsed.password().is_some()) {
            (true, false) => String::new(),
            (true, true) => ":[redacted]@".to_owned(),
            (false, false) => format!("{user}@"),
            (false, true) => format!("{user}:[redacted]@"),
        };
        Ok(Target(format!("{scheme}://{auth}{host}:{port}/{db}")))
    }
}

/// How the client connects; [`Options::default`] is what the gateway uses.
#[derive(Clone)]
pub struct Options {
    /// The CA certificates (PEM) a `rediss://` server's certificate must chain to, instead
    /// of the public roots.
    pub ca_pem: Option<Vec<u8>>,
    /// For one connection attempt (TCP, TLS, `AUTH`).
    pub connect_timeout: Duration,
    /// For one reply.
    pub response_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            ca_pem: None,
            connect_timeout: Duration::from_secs(2),
            response_timeout: Duration::from_secs(2),
        }
    }
}

/// The client: one connection to one server, shared by every caller.
pub struct Client {
    target: Target,
    /// The connection every call shares; replaced whole when it cannot recover by itself.
    manager: RwLock<ConnectionManager>,
    /// What makes a new manager.
    client: redis::Client,
    config: ConnectionManagerConfig,
    /// The most one call may take, its resend and reconnection included.
    deadline: Duration,
    /// Whether `rediss://` certificates chain to the operator's CA, not the public roots.
    own_ca: bool,
    /// Calls that got no reply (unreachable, timed out, unreadable) since the start.
    errors: AtomicU64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redis::Client({})", self.target)
    }
}

impl Client {
    /// A client for `url` with the default [`Options`]. Connects at the first call; must
    /// be made inside the tokio runtime.
    pub fn new(url: &str) -> Result<Client, String> {
        Client::open(url, Options::default())
    }

    /// A client for `url`. Connects at the first call; must be made inside the tokio runtime.
    pub fn open(url: &str, options: Options) -> Result<Client, String> {
        let target = Target::parse(url)?;
        let own_ca = options.ca_pem.is_some();
        let failed = |e: RedisError| format!("--redis {target}: {}", Error::from(e));
        let client = match options.ca_pem {
            Some(ca) => {
                if !url.starts_with("rediss://") {
                    return Err(format!("--redis-ca-file: {target} is not a rediss:// (TLS) URL"));
                }
                let certificates = TlsCertificates { client_tls: None, root_cert: Some(ca) };
                redis::Client::build_with_tls(url, certificates).map_err(failed)?
            }
            None => redis::Client::open(url).map_err(failed)?,
        };
        if url.starts_with("rediss://") {
            // rustls picks its crypto from the process default: ring, as for https
            // upstreams. Already installed (by an earlier client) is as good.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connect_timeout))
            .set_response_timeout(Some(options.response_timeout))
            // No retries in the background: the next call reconnects, within its deadline.
            .set_number_of_retries(0);
        let manager =
            ConnectionManager::new_lazy_with_config(client.clone(), config.clone()).map_err(failed)?;
        Ok(Client {
            target,
            manager: RwLock::new(manager),
            client,
            config,
            deadline: options.connect_timeout * 2 + options.response_timeout,
            own_ca,
            errors: AtomicU64::new(0),
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Calls that got no reply since the start (an error the server answered with is a reply).
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Sends one command and reads its reply as `T`.
    pub async fn query<T: FromRedisValue>(&self, command: &Cmd) -> Result<T, Error> {
        self.bounded(|mut connection| async move { command.query_async(&mut connection).await }).await
    }

    /// `PING`: whether the server answers now.
    pub async fn ping(&self) -> Result<(), Error> {
        self.query::<String>(&cmd("PING")).await.map(drop)
    }

    /// Runs `script` with `keys` and `args`: `EVALSHA`, loading the script first when this
    /// server does not know it yet.
    pub async fn eval<T: FromRedisValue>(
        &self,
        script: &Script,
        keys: &[String],
        args: &[String],
    ) -> Result<T, Error> {
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(key);
        }
        for arg in args {
            invocation.arg(arg);
        }
        let invocation = &invocation;
        self.bounded(|mut connection| async move { invocation.invoke_async(&mut connection).await }).await
    }

    /// Runs `call` on the shared connection, once more if the connection was broken, all
    /// within the deadline.
    async fn bounded<T, F, Fut>(&self, call: F) -> Result<T, Error>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = Result<T, RedisError>>,
    {
        let attempts = async {
            match call(self.connection()).await {
                // The manager replaces a broken connection; the resend goes on the new one.
                Err(e) if broken(&e) => call(self.connection()).await,
                other => other,
            }
        };
        let reply = match tokio::time::timeout(self.deadline, attempts).await {
            Ok(reply) => reply.map_err(|e| self.explained(e)),
            Err(_) => Err(Error::Timeout),
        };
        if matches!(reply, Err(Error::Unreachable(_) | Error::Timeout | Error::Reply(_))) {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        if matches!(reply, Err(Error::Unreachable(_) | Error::Server(_))) {
            self.renew();
        }
        reply
    }

    fn connection(&self) -> ConnectionManager {
        self.manager.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// A fresh manager for the calls to come. The crate's manager reconnects after an I/O
    /// error only: a connection attempt refused otherwise (`AUTH` refused while a password
    /// changes, `SELECT` refused while a script runs) would be its answer to every later
    /// call. A server's refusal of one command costs a reconnection, which is cheap.
    fn renew(&self) {
        if let Ok(fresh) = ConnectionManager::new_lazy_with_config(self.client.clone(), self.config.clone()) {
            *self.manager.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = fresh;
        }
    }

    /// `e` as an [`Error`], with what to do about a certificate no trusted CA signed.
    fn explained(&self, e: RedisError) -> Error {
        match Error::from(e) {
            Error::Unreachable(text) if text.contains("UnknownIssuer") => {
                Error::Unreachable(if self.own_ca {
                    format!("{text} (the CA in --redis-ca-file did not sign the server's certificate)")
                } else {
                    format!(
                        "{text} (no public CA signed the server's certificate: give the one that did \
                         with --redis-ca-file)"
                    )
                })
            }
            other => other,
        }
    }
}

/// Whether `e` says the connection is gone (not that the server was slow, or refused the
/// command): worth one resend on a fresh connection.
fn broken(e: &RedisError) -> bool {
    !e.is_timeout() && (e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_and_hides_the_password() {
        let shown = |url: &str| Target::parse(url).unwrap().to_string();
        assert_eq!(shown("redis://127.0.0.1:6380/2"), "redis://127.0.0.1:6380/2");
        assert_eq!(shown("redis://cache.internal"), "redis://cache.internal:6379/0");
        assert_eq!(shown("redis://[::1]:7000"), "redis://[::1]:7000/0");
        assert_eq!(shown("redis://:s3cr%21t@h:1/"), "redis://:[redacted]@h:1/0");
        assert_eq!(shown("rediss://gateway:pw@h"), "rediss://gateway:[redacted]@h:6379/0");
        assert_eq!(shown("rediss://gateway@h:6380/1"), "rediss://gateway@h:6380/1");
        for bad in [
            "http://h",
            "unix:///run/redis.sock",
            "redis://",
            "redis://h:0",
            "redis://h:99999",
            "redis://h/x",
            "redis://:pw@",
            "redis://h h",
            "rediss://h#insecure",
        ] {
            let err = Target::parse(bad).unwrap_err();
            assert!(err.starts_with("--redis:"), "{bad}: {err}");
        }
        assert!(!Target::parse("redis://:hunter2@h:x").unwrap_err().contains("hunter2"));
    }

    #[tokio::test]
    async fn never_shows_the_password() {
        let client = Client::new("redis://admin:hunter2@h:1").unwrap();
        assert_eq!(format!("{client:?}"), "redis::Client(redis://admin:[redacted]@h:1/0)");
        let err =
            Client::open("redis://:hunter2@h:1", Options { ca_pem: Some(Vec::new()), ..Options::default() })
                .unwrap_err();
        assert!(err.contains("not a rediss://") && !err.contains("hunter2"), "{err}");
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_quickly() {
        // A port nobody listens on: bind one, learn it, close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let client = Client::new(&format!("redis://127.0.0.1:{port}")).unwrap();
        let err = client.ping().await.unwrap_err();
        assert!(matches!(err, Error::Unreachable(_)), "{err:?}");
        assert_eq!(client.errors(), 1);
    }

    #[tokio::test]
    async fn a_silent_server_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        });
        let options = Options {
            connect_timeout: Duration::from_millis(200),
            response_timeout: Duration::from_millis(200),
            ..Options::default()
        };
        let client = Client::open(&format!("redis://127.0.0.1:{port}"), options).unwrap();
        assert_eq!(client.ping().await, Err(Error::Timeout));
        hold.abort();
    }
}
