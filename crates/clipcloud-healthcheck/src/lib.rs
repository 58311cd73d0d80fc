//! One plain HTTP/1.1 GET, std only: what the container image's `HEALTHCHECK` runs (a
//! `FROM scratch` image has no shell and no curl), and what `cargo xtask dist` and
//! `cargo xtask image` check a started gateway with.

#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The most bytes of an answer read: a probe reads small pages.
const MAX_ANSWER: u64 = 16 * 1024 * 1024;
/// Where the gateway listens when nothing says otherwise (its `--listen` default).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// An answer: its status and its body (a chunked body decoded).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// `GET url` (`http://HOST[:PORT][/PATH]`), each connect, read and write bounded by `timeout`.
pub fn get(url: &str, timeout: Duration) -> Result<Answer, String> {
    let (authority, path) = split_url(url)?;
    let address = if authority.rsplit_once(':').is_some_and(|(_, port)| !port.contains(']')) {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let addrs: Vec<_> =
        address.to_socket_addrs().map_err(|e| format!("cannot resolve {authority}: {e}"))?.collect();
    let mut last_error = format!("{authority} resolves to no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return exchange(stream, authority, path, timeout),
            Err(e) => last_error = format!("cannot connect to {addr}: {e}"),
        }
    }
    Err(last_error)
}

/// The local URL of a gateway listening on `listen` (`HOST:PORT`): a wildcard host is
/// reached on loopback.
pub fn local_url(listen: &str, path: &str) -> String {
    let listen = listen.trim();
    let local = if let Some(port) = listen.strip_prefix("0.0.0.0:") {
        format!("127.0.0.1:{port}")
    } else if let Some(port) = listen.strip_prefix("[::]:") {
        format!("[::1]:{port}")
    } else {
        listen.to_owned()
    };
    format!("http://{local}{path}")
}

/// `http://AUTHORITY/PATH` → (authority, `/PATH`).
fn split_url(url: &str) -> Result<(&str, &str), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url:?}: only http:// URLs (the gateway's own port, not a TLS proxy)"))?;
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains(|c: char| c.is_whitespace() || c == '@') {
        return Err(format!("{url:?}: no usable host"));
    }
    if path.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(format!("{url:?}: a path with spaces or control characters"));
    }
    Ok((authority, path))
}

fn exchange(mut stream: TcpStream, authority: &str, path: &str, timeout: Duration) -> Result<Answer, String> {
    let io = |e: std::io::Error| format!("{authority}: {e}");
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: clipcloud-healthcheck\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut raw = Vec::new();
    stream.take(MAX_ANSWER).read_to_end(&mut raw).map_err(io)?;
    parse(&raw).map_err(|e| format!("{authority}{path}: {e}"))
}

/// An HTTP/1.1 answer read until the connection closed.
fn parse(raw: &[u8]) -> Result<Answer, String> {
    let head_end =
        raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("the answer ends before its headers do")?;
    let head = std::str::from_utf8(&raw[..head_end]).map_err(|_| "headers that are not UTF-8")?;
    let rest = &raw[head_end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|s| s.get(2..5))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not an HTTP/1 status line: {status_line:?}"))?;
    let header = |name: &str| {
        lines.clone().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
        })
    };
    let body = if header("transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else if let Some(length) = header("content-length") {
        let length: usize = length.parse().map_err(|_| format!("a Content-Length of {length:?}"))?;
        rest.get(..length).ok_or("the body is shorter than its Content-Length")?.to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Answer { status, body })
}

/// A chunked body, decoded (extensions and trailers ignored).
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end =
            rest.windows(2).position(|w| w == b"\r\n").ok_or("a chunk size line without its end")?;
        let line = std::str::from_utf8(&rest[..line_end]).map_err(|_| "a chunk size that is not text")?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16).map_err(|_| format!("a chunk size of {size:?}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = rest.get(..size).ok_or("a chunk shorter than its size")?;
        body.extend_from_slice(chunk);
        rest =
            rest.get(size..).and_then(|r| r.strip_prefix(b"\r\n")).ok_or("a chunk without its line end")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A server on a free port that reads one request and answers `answer`; returns the
    /// URL of `path` on it and a handle to the request it received.
    fn serve_once(answer: &'static [u8], path: &str) -> (String, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}{path}", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut byte = [0u8];
            while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
                request.push(byte[0]);
            }
            stream.write_all(answer).unwrap();
            String::from_utf8(request).unwrap()
        });
        (url, server)
    }

    const WAIT: Duration = Duration::from_secs(30);

    #[test]
    fn a_sized_answer_is_read_and_the_request_names_host_and_path() {
        let (url, server) = serve_once(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 15\r\n\r\n{\"status\":\"ok\"}",
            "/healthz",
        );
        let answer = get(&url, WAIT).unwrap();
        assert_eq!((answer.status, answer.body.as_slice()), (200, &b"{\"status\":\"ok\"}"[..]));
        let request = server.join().unwrap();
        let authority = url.trim_start_matches("http://").trim_end_matches("/healthz");
        assert!(request.starts_with(&format!("GET /healthz HTTP/1.1\r\nHost: {authority}\r\n")), "{request}");
        assert!(request.contains("\r\nConnection: close\r\n"), "{request}");
    }

    #[test]
    fn a_chunked_answer_is_decoded_and_a_refusal_keeps_its_status() {
        let (url, server) = serve_once(
            b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnot \r\n5;x=y\r\nready\r\n0\r\n\r\n",
            "",
        );
        let answer = get(&url, WAIT).unwrap();
        assert_eq!((answer.status, answer.body.as_slice()), (503, &b"not ready"[..]));
        assert!(server.join().unwrap().starts_with("GET / HTTP/1.1\r\n"));
    }

    #[test]
    fn broken_answers_are_errors() {
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").is_err());
        assert!(parse(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nshort\r\n").is_err());
        // Without a length, the body is what came before the close.
        let answer = parse(b"HTTP/1.0 204 No Content\r\nServer: x\r\n\r\nrest").unwrap();
        assert_eq!((answer.status, answer.body.as_slice()), (204, &b"rest"[..]));
    }

    #[test]
    fn only_plain_http_urls_with_a_host_are_taken() {
        assert_eq!(split_url("http://127.0.0.1:8080/healthz").unwrap(), ("127.0.0.1:8080", "/healthz"));
        assert_eq!(split_url("http://[::1]:8080").unwrap(), ("[::1]:8080", "/"));
        for bad in [
            "https://example.com/",
            "127.0.0.1:8080/healthz",
            "http:///healthz",
            "http://a@b/",
            "http://h/a b",
        ] {
            assert!(split_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_wildcard_listen_address_is_probed_on_loopback() {
        assert_eq!(local_url("0.0.0.0:8080", "/healthz"), "http://127.0.0.1:8080/healthz");
        assert_eq!(local_url("[::]:9000", "/healthz"), "http://[::1]:9000/healthz");
        assert_eq!(local_url("10.0.0.5:80", "/"), "http://10.0.0.5:80/");
    }
}
