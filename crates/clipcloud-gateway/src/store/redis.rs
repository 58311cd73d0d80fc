//! A minimal Redis client: RESP2 over tokio's `TcpStream`, enough for the shared spend
//! counters (`EVALSHA` of a few scripts, plain commands for the rest).
//!
//! `redis://[:PASSWORD@]HOST[:PORT][/DB]` (port 6379, database 0 by default; the password
//! goes out with `AUTH` and never appears in an error or `Debug`). A handful of
//! connections, each behind its own mutex, are opened lazily and shared round-robin. Every
//! connect and every command has a timeout. A connection found closed (the server
//! restarted, or dropped it idle) is replaced before use, and a command that fails on a
//! broken connection is sent once more on a fresh one — so callers send only commands that
//! are safe to repeat (the gateway's scripts are written to be).

use crate::secret::Secret;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// What every key the gateway writes starts with.
pub const KEY_PREFIX: &str = "ccgw:";

/// A reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Nil,
    /// `+OK` and the like.
    Status(String),
    /// `-ERR ...` inside an array (a top-level error is [`Error::Server`]).
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    Array(Vec<Value>),
}

impl Value {
    /// An integer reply, or a bulk/status string holding one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bulk(b) => std::str::from_utf8(b).ok()?.parse().ok(),
            Value::Status(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// A bulk or status string as text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Bulk(b) => std::str::from_utf8(b).ok(),
            Value::Status(s) => Some(s),
            _ => None,
        }
    }
}

/// Why a command did not get a reply. The text never holds the password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Cannot connect, or the connection broke.
    Io(String),
    /// No connection or no reply in time.
    Timeout,
    /// The server answered with an error (`-ERR ...`).
    Server(String),
    /// The reply was not RESP2, or exceeded the client's bounds.
    Protocol(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "redis: {e}"),
            Error::Timeout => f.write_str("redis: timed out"),
            Error::Server(e) => write!(f, "redis answered: {e}"),
            Error::Protocol(e) => write!(f, "redis: unreadable reply: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// Where to connect: the parsed `redis://` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub db: u32,
    password: Option<Secret>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Target {
    /// The URL without the password: safe to log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = if self.password.is_some() { ":[redacted]@" } else { "" };
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        write!(f, "redis://{auth}{host}:{}/{}", self.port, self.db)
    }
}

impl Target {
    /// Parses `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` (IPv6 hosts in brackets).
    pub fn parse(url: &str) -> Result<Target, String> {
        let bad = |why: &str| format!("--redis: {why} (expected redis://HOST:PORT[/DB])");
        let rest = url.strip_prefix("redis://").ok_or_else(|| bad("not a redis:// URL"))?;
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (password, hostport) = match authority.rfind('@') {
            Some(i) => {
                let userinfo = &authority[..i];
                let password = userinfo.split_once(':').map_or(userinfo, |(_, p)| p);
                if password.is_empty() {
                    (None, &authority[i + 1..])
                } else {
                    (Some(Secret::new(clipcloud::percent::decode(password))), &authority[i + 1..])
                }
            }
            None => (None, authority),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed [ in the host"))?;
            (host, after.strip_prefix(':'))
        } else {
            match hostport.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')) {
            return Err(bad("a host name has only letters, digits, '.', '-' and ':'"));
        }
        let port = match port {
            None | Some("") => 6379,
            Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| bad("a bad port"))?,
        };
        let db = match path.trim_start_matches('/') {
            "" => 0,
            p => p.parse::<u32>().map_err(|_| bad("the path is a database number"))?,
        };
        Ok(Target { host: host.to_owned(), port, db, password })
    }
}

/// A Lua script, sent by its SHA-1 (`EVALSHA`) once the server knows it.
pub struct Script {
    source: &'static str,
    sha: OnceLock<String>,
}

impl Script {
    pub const fn new(source: &'static str) -> Script {
        Script { source, sha: OnceLock::new() }
    }
}

type Conn = BufReader<TcpStream>;

/// Connections at most.
const POOL: usize = 4;
/// Reply bounds: the gateway's replies are tiny; these only stop a confused peer.
const MAX_LINE: usize = 64 * 1024;
const MAX_BULK: usize = 1024 * 1024;
const MAX_ITEMS: usize = 64 * 1024;
const MAX_DEPTH: usize = 16;

/// The client: a small pool of connections to one server.
pub struct Client {
    target: Target,
    connect_timeout: Duration,
    command_timeout: Duration,
    slots: Vec<Mutex<Option<Conn>>>,
    next: AtomicUsize,
    /// Commands that got no reply (unreachable, timed out, unreadable) since the start.
    errors: AtomicU64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redis::Client({})", self.target)
    }
}

impl Client {
    /// A client for `url` (nothing is connected yet), with 2-second timeouts.
    pub fn new(url: &str) -> Result<Client, String> {
        Ok(Client {
            target: Target::parse(url)?,
            connect_timeout: Duration::from_secs(2),
            command_timeout: Duration::from_secs(2),
            slots: (0..POOL).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
            errors: AtomicU64::new(0),
        })
    }

    pub fn with_timeouts(mut self, connect: Duration, command: Duration) -> Client {
        self.connect_timeout = connect;
        self.command_timeout = command;
        self
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Commands that got no reply since the start (an error the server answered with, such
    /// as `NOSCRIPT`, is a reply).
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// Sends one command (its words as bulk strings) and reads its reply.
    pub async fn command(&self, args: &[&[u8]]) -> Result<Value, Error> {
        let reply = self.reply_to(args).await;
        if matches!(reply, Err(Error::Io(_) | Error::Timeout | Error::Protocol(_))) {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        reply
    }

    async fn reply_to(&self, args: &[&[u8]]) -> Result<Value, Error> {
        let frame = encode(args);
        let slot = &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len()];
        let mut guard = slot.lock().await;
        for attempt in 0..2 {
            let fresh = match guard.as_mut() {
                Some(conn) if alive(conn) => false,
                _ => {
                    *guard = None;
                    *guard = Some(self.connect().await?);
                    true
                }
            };
            let Some(conn) = guard.as_mut() else {
                return Err(Error::Io("no connection".into()));
            };
            match tokio::time::timeout(self.command_timeout, exchange(conn, &frame)).await {
                Ok(Ok(Reply::Value(v))) => return Ok(v),
                // The connection is fine; the command was refused.
                Ok(Ok(Reply::Error(e))) => return Err(Error::Server(e)),
                Ok(Err(Error::Io(e))) => {
                    *guard = None;
                    // Once more on a fresh connection, unless this one was fresh already.
                    if fresh || attempt == 1 {
                        return Err(Error::Io(e));
                    }
                }
                Ok(Err(e)) => {
                    *guard = None;
                    return Err(e);
                }
                Err(_) => {
                    // Half a reply may be on its way: this connection cannot be reused.
                    *guard = None;
                    return Err(Error::Timeout);
                }
            }
        }
        Err(Error::Io("the connection broke twice".into()))
    }

    /// Runs `script` with `keys` and `args`: `EVALSHA`, loading the script first when
    /// this server does not know it yet.
    pub async fn eval(&self, script: &Script, keys: &[&[u8]], args: &[&[u8]]) -> Result<Value, Error> {
        let numkeys = keys.len().to_string();
        let run = |sha: &str| {
            let mut words: Vec<Vec<u8>> =
                vec![b"EVALSHA".to_vec(), sha.as_bytes().to_vec(), numkeys.clone().into_bytes()];
            words.extend(keys.iter().chain(args).map(|w| w.to_vec()));
            words
        };
        if let Some(sha) = script.sha.get() {
            let words = run(sha);
            match self.command(&words.iter().map(Vec::as_slice).collect::<Vec<_>>()).await {
                Err(Error::Server(e)) if e.starts_with("NOSCRIPT") => {}
                other => return other,
            }
        }
        let loaded = self.command(&[b"SCRIPT", b"LOAD", script.source.as_bytes()]).await?;
        let sha =
            loaded.as_str().ok_or_else(|| Error::Protocol("SCRIPT LOAD gave no SHA".into()))?.to_owned();
        let words = run(&sha);
        let _ = script.sha.set(sha);
        self.command(&words.iter().map(Vec::as_slice).collect::<Vec<_>>()).await
    }

    async fn connect(&self) -> Result<Conn, Error> {
        let t = &self.target;
        let stream =
            tokio::time::timeout(self.connect_timeout, TcpStream::connect((t.host.as_str(), t.port)))
                .await
                .map_err(|_| Error::Timeout)?
                .map_err(|e| Error::Io(format!("cannot connect to {}:{}: {e}", t.host, t.port)))?;
        let _ = stream.set_nodelay(true);
        let mut conn = BufReader::new(stream);
        let mut hello = Vec::new();
        if let Some(password) = &t.password {
            hello.push(encode(&[b"AUTH", password.expose()]));
        }
        if t.db != 0 {
            hello.push(encode(&[b"SELECT", t.db.to_string().as_bytes()]));
        }
        for frame in hello {
            match tokio::time::timeout(self.command_timeout, exchange(&mut conn, &frame)).await {
                Ok(Ok(Reply::Value(_))) => {}
                // The server's own words (e.g. WRONGPASS, DB index out of range) hold no secret.
                Ok(Ok(Reply::Error(e))) => return Err(Error::Server(e)),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(Error::Timeout),
            }
        }
        Ok(conn)
    }
}

/// Whether a pooled connection still looks usable: nothing unread, and the peer has not
/// closed it (a read would block rather than return end-of-file or stray bytes).
fn alive(conn: &Conn) -> bool {
    if !conn.buffer().is_empty() {
        return false;
    }
    let mut probe = [0u8; 1];
    matches!(conn.get_ref().try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

enum Reply {
    Value(Value),
    Error(String),
}

async fn exchange(conn: &mut Conn, frame: &[u8]) -> Result<Reply, Error> {
    conn.get_mut().write_all(frame).await.map_err(|e| Error::Io(format!("send: {e}")))?;
    read_reply(conn).await
}

/// A command as RESP2: an array of bulk strings.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

async fn read_line<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<Vec<u8>, Error> {
    let mut line = Vec::new();
    loop {
        let buf = r.fill_buf().await.map_err(|e| Error::Io(format!("receive: {e}")))?;
        if buf.is_empty() {
            return Err(Error::Io("the server closed the connection".into()));
        }
        let (taken, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        line.extend_from_slice(&buf[..taken]);
        r.consume(taken);
        if line.len() > MAX_LINE {
            return Err(Error::Protocol("a line too long".into()));
        }
        if done {
            break;
        }
    }
    if !line.ends_with(b"\r\n") {
        return Err(Error::Protocol("a line without CRLF".into()));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

fn number(digits: &[u8]) -> Result<i64, Error> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::Protocol("a bad number".into()))
}

/// Reads one reply; a top-level error reply is `Reply::Error`.
async fn read_reply<R: AsyncBufRead + Unpin>(r: &mut R) -> Result<Reply, Error> {
    // Arrays being filled: (expected length, items so far).
    let mut stack: Vec<(usize, Vec<Value>)> = Vec::new();
    loop {
        let line = read_line(r).await?;
        let (&kind, rest) = line.split_first().ok_or_else(|| Error::Protocol("an empty line".into()))?;
        let text = || String::from_utf8_lossy(rest).into_owned();
        let mut value = match kind {
            b'+' => Value::Status(text()),
            b'-' if stack.is_empty() => return Ok(Reply::Error(text())),
            b'-' => Value::Error(text()),
            b':' => Value::Int(number(rest)?),
            b'$' => match number(rest)? {
                -1 => Value::Nil,
                n if n < 0 || n as usize > MAX_BULK => {
                    return Err(Error::Protocol("a bad bulk length".into()))
                }
                n => {
                    let mut data = vec![0; n as usize + 2];
                    r.read_exact(&mut data).await.map_err(|e| Error::Io(format!("receive: {e}")))?;
                    if !data.ends_with(b"\r\n") {
                        return Err(Error::Protocol("a bulk string without CRLF".into()));
                    }
                    data.truncate(n as usize);
                    Value::Bulk(data)
                }
            },
            b'*' => match number(rest)? {
                -1 => Value::Nil,
                0 => Value::Array(Vec::new()),
                n if n < 0 || n as usize > MAX_ITEMS => {
                    return Err(Error::Protocol("a bad array length".into()))
                }
                n => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(Error::Protocol("arrays nested too deep".into()));
                    }
                    stack.push((n as usize, Vec::with_capacity((n as usize).min(64))));
                    continue;
                }
            },
            _ => return Err(Error::Protocol("an unknown reply type".into())),
        };
        loop {
            match stack.last_mut() {
                None => return Ok(Reply::Value(value)),
                Some((want, items)) => {
                    items.push(value);
                    if items.len() < *want {
                        break;
                    }
                    let Some((_, items)) = stack.pop() else {
                        return Err(Error::Protocol("an array ended twice".into()));
                    };
                    value = Value::Array(items);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(bytes: &[u8]) -> Result<Value, Error> {
        let mut r = bytes;
        match read_reply(&mut r).await? {
            Reply::Value(v) => Ok(v),
            Reply::Error(e) => Err(Error::Server(e)),
        }
    }

    #[tokio::test]
    async fn reads_every_reply_type() {
        assert_eq!(parse(b"+OK\r\n").await, Ok(Value::Status("OK".into())));
        assert_eq!(parse(b"-ERR nope\r\n").await, Err(Error::Server("ERR nope".into())));
        assert_eq!(parse(b":-42\r\n").await, Ok(Value::Int(-42)));
        assert_eq!(parse(b"$5\r\nhe\r\no\r\n").await, Ok(Value::Bulk(b"he\r\no".to_vec())));
        assert_eq!(parse(b"$0\r\n\r\n").await, Ok(Value::Bulk(Vec::new())));
        assert_eq!(parse(b"$-1\r\n").await, Ok(Value::Nil));
        assert_eq!(parse(b"*-1\r\n").await, Ok(Value::Nil));
        assert_eq!(parse(b"*0\r\n").await, Ok(Value::Array(vec![])));
        assert_eq!(
            parse(b"*3\r\n:1\r\n*2\r\n$1\r\na\r\n-ERR inner\r\n$-1\r\n").await,
            Ok(Value::Array(vec![
                Value::Int(1),
                Value::Array(vec![Value::Bulk(b"a".to_vec()), Value::Error("ERR inner".into())]),
                Value::Nil,
            ]))
        );
        assert_eq!(Value::Bulk(b"17".to_vec()).as_i64(), Some(17));
    }

    #[tokio::test]
    async fn refuses_broken_or_oversized_replies() {
        for bad in [
            &b"+OK\n"[..],
            b"?x\r\n",
            b":12a\r\n",
            b"$3\r\nabcd\r\n",
            b"$99999999\r\n",
            b"*99999999\r\n",
            b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
        ] {
            assert!(matches!(parse(bad).await, Err(Error::Protocol(_))), "{:?}", String::from_utf8_lossy(bad));
        }
        // Cut short: the connection's end, not a value.
        assert!(matches!(parse(b"*2\r\n:1\r\n").await, Err(Error::Io(_))));
        assert!(matches!(parse(b"$5\r\nab").await, Err(Error::Io(_))));
        let long = [b"+".as_slice(), &vec![b'a'; MAX_LINE + 10], b"\r\n"].concat();
        assert!(matches!(parse(&long).await, Err(Error::Protocol(_))));
    }

    #[test]
    fn encodes_arrays_of_bulk_strings() {
        assert_eq!(encode(&[b"GET", b"k\r\n"]), b"*2\r\n$3\r\nGET\r\n$3\r\nk\r\n\r\n");
        assert_eq!(encode(&[]), b"*0\r\n");
    }

    #[test]
    fn parses_urls_and_hides_the_password() {
        let t = Target::parse("redis://127.0.0.1:6380/2").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.db, t.password.is_none()), ("127.0.0.1", 6380, 2, true));
        let t = Target::parse("redis://cache.internal").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.db), ("cache.internal", 6379, 0));
        let t = Target::parse("redis://[::1]:7000").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 7000));
        assert_eq!(t.to_string(), "redis://[::1]:7000/0");
        let t = Target::parse("redis://:s3cr%21t@h:1/").unwrap();
        assert_eq!(t.password.as_ref().map(|p| p.expose().to_vec()), Some(b"s3cr!t".to_vec()));
        assert_eq!(format!("{t:?}"), "redis://:[redacted]@h:1/0");
        let t = Target::parse("redis://default:pw@h").unwrap();
        assert_eq!(t.password.as_ref().map(|p| p.expose().to_vec()), Some(b"pw".to_vec()));
        let client = Client::new("redis://:hunter2@h:1").unwrap();
        assert!(!format!("{client:?}").contains("hunter2"));
        for bad in [
            "http://h",
            "redis://",
            "redis://h:0",
            "redis://h:99999",
            "redis://h/x",
            "redis://:pw@",
            "redis://h h",
        ] {
            let err = Target::parse(bad).unwrap_err();
            assert!(err.starts_with("--redis:"), "{bad}: {err}");
        }
        assert!(!Target::parse("redis://:hunter2@h:x").unwrap_err().contains("hunter2"));
    }

    #[tokio::test]
    async fn a_closed_port_is_an_io_error_quickly() {
        // A port nobody listens on: bind one, learn it, close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let client = Client::new(&format!("redis://127.0.0.1:{port}")).unwrap();
        let err = client.command(&[b"PING"]).await.unwrap_err();
        assert!(matches!(err, Error::Io(_)), "{err:?}");
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
        let client = Client::new(&format!("redis://127.0.0.1:{port}"))
            .unwrap()
            .with_timeouts(Duration::from_secs(1), Duration::from_millis(200));
        let started = std::time::Instant::now();
        assert_eq!(client.command(&[b"PING"]).await, Err(Error::Timeout));
        assert!(started.elapsed() < Duration::from_secs(2));
        hold.abort();
    }
}
