//! The bounds of a request's head, and the answers hyper gives by itself to heads it
//! refuses, made the gateway's own.
//!
//! hyper answers before any service sees the request when it cannot read a head (400), when
//! the head is over [`MAX_HEAD`] bytes or [`MAX_HEADERS`] lines (431), or when its target is
//! too long (414): an empty answer, without the security headers every other answer carries
//! (nothing of the router runs). [`OwnAnswers`], around the socket hyper writes to, follows
//! the answers it writes — each head, then its body by `Content-Length` or by chunks — and
//! replaces such an answer with the gateway's own ([`raw_refusal`]): the same status, the
//! API's error shape, the security headers, and `Connection: close` (hyper closes the
//! connection after it). Any other answer without the security headers gets them added.

use crate::edge::headers::{self, SecurityHeaders};
use crate::refusal::error_body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most a request's head (request line, headers and the blank line) may weigh.
pub const MAX_HEAD: usize = 32 * 1024;
/// The most header lines a request may have (hyper's own default).
pub const MAX_HEADERS: usize = 100;
/// An answer's head longer than this is not followed (the gateway writes none).
const MAX_ANSWER_HEAD: usize = 64 * 1024;
/// Requests whose answers are not written yet, beyond which no more are noted.
const MAX_WAITING: usize = 1024;

/// A whole HTTP/1.1 answer in the API's error shape with the security headers, after which
/// the connection closes: for the answers the router never sees.
pub fn raw_refusal(
    security: &SecurityHeaders,
    status: StatusCode,
    message: &str,
    retry_after: Option<u64>,
    date: Option<&[u8]>,
) -> Vec<u8> {
    let body = error_body(message);
    let mut fields = HeaderMap::new();
    fields.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    fields.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    fields.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    fields.insert(header::CONNECTION, HeaderValue::from_static("close"));
    if let Some(secs) = retry_after {
        fields.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    if let Some(date) = date.and_then(|d| HeaderValue::from_bytes(d).ok()) {
        fields.insert(header::DATE, date);
    }
    security.apply(headers::Answer::File, &mut fields);
    let reason = status.canonical_reason().unwrap_or("");
    let mut out = format!("HTTP/1.1 {} {reason}\r\n", status.as_u16()).into_bytes();
    for (name, value) in &fields {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&body);
    out
}

/// What a refused head is told.
fn message(status: u16) -> String {
    match status {
        431 => format!("the request's head is over {MAX_HEAD} bytes or {MAX_HEADERS} header lines"),
        414 => "the request's target is too long".to_owned(),
        400 => "the request is not HTTP this gateway can read".to_owned(),
        _ => "the request could not be read".to_owned(),
    }
}

/// The requests of one connection whose answers are not written yet, in order: whether each
/// is a `HEAD` (its answer has no body, whatever its `Content-Length` says). The service
/// notes each request; [`OwnAnswers`] takes one per answer.
#[derive(Clone, Default)]
pub struct Waiting(Arc<Mutex<VecDeque<bool>>>);

impl Waiting {
    pub fn asked(&self, method: &Method) {
        let mut waiting = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // hyper answers requests in order, one at a time: a few at most are waiting.
        if waiting.len() < MAX_WAITING {
            waiting.push_back(method == Method::HEAD);
        }
    }

    fn answered_head_request(&self) -> bool {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).pop_front().unwrap_or(false)
    }
}

/// Where the stream of answers is.
#[derive(Clone, Debug, PartialEq)]
enum At {
    /// The start of an answer: its head, gathered until the blank line.
    Head(Vec<u8>),
    /// A body of known length: the bytes to go.
    Body(u64),
    /// A chunked body.
    Chunks(Chunk),
    /// No longer followed (a body that runs to the close, or the connection's last answer):
    /// everything passes as it is.
    Through,
}

#[derive(Clone, Debug, PartialEq)]
enum Chunk {
    /// The size line, so far.
    Size(Vec<u8>),
    /// The chunk's data: the bytes to go.
    Data(u64),
    /// The CRLF after the data: the bytes to go.
    DataEnd(u8),
    /// After the last chunk, the trailer lines: the length of the current one.
    Trailers(usize),
}

impl At {
    /// Follows `bytes` of a body; how many of them belong to it (fewer than all when it ends
    /// among them, and the state is then the next answer's head).
    fn advance(&mut self, bytes: &[u8]) -> usize {
        let mut used = 0;
        while used < bytes.len() {
            let rest = &bytes[used..];
            match self {
                At::Head(_) => return used,
                At::Through => return bytes.len(),
                At::Body(left) => {
                    let n = (*left).min(rest.len() as u64);
                    used += n as usize;
                    *left -= n;
                    if *left == 0 {
                        *self = At::Head(Vec::new());
                    }
                }
                At::Chunks(Chunk::Data(left)) => {
                    let n = (*left).min(rest.len() as u64);
                    used += n as usize;
                    *left -= n;
                    if *left == 0 {
                        *self = At::Chunks(Chunk::DataEnd(2));
                    }
                }
                At::Chunks(Chunk::Size(line)) => {
                    used += 1;
                    if rest[0] == b'\n' {
                        *self = match chunk_size(line) {
                            Some(0) => At::Chunks(Chunk::Trailers(0)),
                            Some(size) => At::Chunks(Chunk::Data(size)),
                            None => At::Through,
                        };
                    } else if line.len() >= 256 {
                        *self = At::Through;
                    } else {
                        line.push(rest[0]);
                    }
                }
                At::Chunks(Chunk::DataEnd(left)) => {
                    used += 1;
                    if *left <= 1 {
                        *self = At::Chunks(Chunk::Size(Vec::new()));
                    } else {
                        *left -= 1;
                    }
                }
                At::Chunks(Chunk::Trailers(line)) => {
                    used += 1;
                    if rest[0] != b'\n' {
                        *line += 1;
                    } else if *line <= 1 {
                        // A line that ends empty (only its CR before) ends the trailers.
                        *self = At::Head(Vec::new());
                    } else {
                        *line = 0;
                    }
                }
            }
        }
        used
    }
}

/// A chunk-size line's size (`HEX[;extensions]\r`).
fn chunk_size(line: &[u8]) -> Option<u64> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let hex = line.split(|&b| b == b';').next()?;
    let hex = std::str::from_utf8(hex).ok()?.trim();
    u64::from_str_radix(hex, 16).ok()
}

/// A socket whose answers hyper wrote itself get the gateway's own in their place (see the
/// module's documentation).
pub struct OwnAnswers<S> {
    inner: S,
    security: Arc<SecurityHeaders>,
    waiting: Waiting,
    at: At,
    /// Bytes taken from hyper and not yet written on: a head, or the answer in its place.
    out: Vec<u8>,
    out_written: usize,
}

impl<S> OwnAnswers<S> {
    pub fn new(inner: S, security: Arc<SecurityHeaders>, waiting: Waiting) -> Self {
        Self { inner, security, waiting, at: At::Head(Vec::new()), out: Vec::new(), out_written: 0 }
    }

    /// A whole head: what goes out for it, and where the stream is after it.
    fn finish_head(&mut self, head: Vec<u8>) {
        let Some(read) = read_head(&head) else {
            self.out.extend_from_slice(&head);
            self.at = At::Through;
            return;
        };
        if read.status < 200 {
            // Interim (100 Continue): the answer's own head follows.
            self.out.extend_from_slice(&head);
            self.at = At::Head(Vec::new());
        } else if read.hypers_own() {
            let status = StatusCode::from_u16(read.status).unwrap_or(StatusCode::BAD_REQUEST);
            let refusal = raw_refusal(&self.security, status, &message(read.status), None, read.date);
            self.out.extend_from_slice(&refusal);
            self.at = At::Through;
        } else {
            let head_request = self.waiting.answered_head_request();
            self.at = if head_request || read.status == 204 || read.status == 304 {
                At::Head(Vec::new())
            } else if read.chunked {
                At::Chunks(Chunk::Size(Vec::new()))
            } else {
                match read.length {
                    Some(0) => At::Head(Vec::new()),
                    Some(length) => At::Body(length),
                    None => At::Through,
                }
            };
            if read.secured {
                self.out.extend_from_slice(&head);
            } else {
                // Made without the router's layers (nothing the gateway has does that yet):
                // the headers are added here, before the blank line.
                let mut fields = HeaderMap::new();
                self.security.apply(headers::Answer::File, &mut fields);
                self.out.extend_from_slice(&head[..head.len() - 2]);
                for (name, value) in &fields {
                    self.out.extend_from_slice(
                        &[name.as_str().as_bytes(), b": ", value.as_bytes(), b"\r\n"].concat(),
                    );
                }
                self.out.extend_from_slice(b"\r\n");
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> OwnAnswers<S> {
    /// Writes on what was taken from hyper and not yet written.
    fn poll_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.out_written < self.out.len() {
            match ready!(Pin::new(&mut self.inner).poll_write(cx, &self.out[self.out_written..])) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => self.out_written += n,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        self.out.clear();
        self.out_written = 0;
        Poll::Ready(Ok(()))
    }

    /// A head held when hyper flushes is sent as it is, and no longer followed.
    fn release_partial_head(&mut self) {
        if let At::Head(head) = &mut self.at {
            if !head.is_empty() {
                self.out.append(head);
                self.at = At::Through;
            }
        }
    }
}

/// What the gateway needs of an answer's head.
struct Head<'a> {
    status: u16,
    /// It carries the security headers: the router made it.
    secured: bool,
    chunked: bool,
    length: Option<u64>,
    date: Option<&'a [u8]>,
    /// It has a header other than the three hyper writes on its own answers.
    more: bool,
}

impl Head<'_> {
    /// What hyper writes by itself to a head it refuses: one of its three statuses, empty,
    /// with a date and maybe `Connection: close`, nothing else.
    fn hypers_own(&self) -> bool {
        matches!(self.status, 400 | 414 | 431) && self.length == Some(0) && !self.secured && !self.more
    }
}

fn read_head(head: &[u8]) -> Option<Head<'_>> {
    let mut lines = head.split(|&b| b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let status_line = lines.next()?;
    if !status_line.starts_with(b"HTTP/1.") {
        return None;
    }
    let status = std::str::from_utf8(status_line.get(9..12)?).ok()?.parse().ok()?;
    let mut read = Head { status, secured: false, chunked: false, length: None, date: None, more: false };
    for line in lines.take_while(|line| !line.is_empty()) {
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if name.eq_ignore_ascii_case(b"x-content-type-options") {
            read.secured = true;
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            read.chunked = value.to_ascii_lowercase().windows(7).any(|w| w == b"chunked");
        } else if name.eq_ignore_ascii_case(b"content-length") {
            read.length = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
        } else if name.eq_ignore_ascii_case(b"date") {
            read.date = Some(value);
        } else if !name.eq_ignore_ascii_case(b"connection") {
            read.more = true;
        }
    }
    Some(read)
}

/// How many of `bytes` complete a head that has `gathered` so far: through its blank line.
fn head_end(gathered: &[u8], bytes: &[u8]) -> Option<usize> {
    const BLANK: &[u8; 4] = b"\r\n\r\n";
    // A blank line begun in `gathered` ends first (its last k bytes, then 4 - k of `bytes`).
    for k in (1..=3.min(gathered.len())).rev() {
        let (begun, rest) = BLANK.split_at(k);
        if gathered.ends_with(begun) && bytes.starts_with(rest) {
            return Some(rest.len());
        }
    }
    bytes.windows(4).position(|w| w == BLANK).map(|at| at + 4)
}

impl<S: AsyncRead + Unpin> AsyncRead for OwnAnswers<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for OwnAnswers<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_out(cx))?;
        match &mut this.at {
            At::Through => Pin::new(&mut this.inner).poll_write(cx, buf),
            At::Head(gathered) => {
                let taken = match head_end(gathered, buf) {
                    Some(end) => {
                        gathered.extend_from_slice(&buf[..end]);
                        let head = std::mem::take(gathered);
                        this.finish_head(head);
                        end
                    }
                    None if gathered.len() + buf.len() > MAX_ANSWER_HEAD => {
                        this.out.append(gathered);
                        this.out.extend_from_slice(buf);
                        this.at = At::Through;
                        buf.len()
                    }
                    None => {
                        gathered.extend_from_slice(buf);
                        buf.len()
                    }
                };
                // Taken: written on now if the socket has room, else before anything else.
                if let Poll::Ready(Err(e)) = this.poll_out(cx) {
                    return Poll::Ready(Err(e));
                }
                Poll::Ready(Ok(taken))
            }
            body => {
                let this_body = body.clone().advance(buf);
                let written = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..this_body]))?;
                this.at.advance(&buf[..written]);
                Poll::Ready(Ok(written))
            }
        }
    }

    /// Vectored, so hyper queues a body's own buffers rather than copying them into one:
    /// a head is taken from the first buffer that has bytes, a body written as far as it goes.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_out(cx))?;
        match &this.at {
            At::Through => Pin::new(&mut this.inner).poll_write_vectored(cx, bufs),
            At::Head(_) => match bufs.iter().find(|buf| !buf.is_empty()) {
                Some(first) => Pin::new(this).poll_write(cx, first),
                None => Poll::Ready(Ok(0)),
            },
            body => {
                // The body's bytes among the buffers: up to where the answer ends.
                let mut probe = body.clone();
                let mut slices = Vec::with_capacity(bufs.len());
                for buf in bufs.iter().filter(|buf| !buf.is_empty()) {
                    let used = probe.advance(buf);
                    slices.push(IoSlice::new(&buf[..used]));
                    if used < buf.len() || matches!(probe, At::Head(_)) {
                        break;
                    }
                }
                let written = ready!(Pin::new(&mut this.inner).poll_write_vectored(cx, &slices))?;
                let mut left = written;
                for slice in &slices {
                    let n = left.min(slice.len());
                    this.at.advance(&slice[..n]);
                    left -= n;
                }
                Poll::Ready(Ok(written))
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.release_partial_head();
        ready!(this.poll_out(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.release_partial_head();
        ready!(this.poll_out(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    const OURS: &str = "HTTP/1.1 200 OK\r\nx-content-type-options: nosniff\r\ncontent-length: 5\r\n\r\nhello";
    const HYPERS: &str =
        "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: Tue, 01 Jul 2025 00:00:00 GMT\r\n\r\n";

    /// What reaches the socket when hyper writes `answers` in pieces of `piece` bytes, after
    /// requests that were HEADs as `heads` says.
    fn written(answers: &[&str], piece: usize, heads: &[bool]) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let waiting = Waiting::default();
        for &head in heads {
            waiting.asked(if head { &Method::HEAD } else { &Method::GET });
        }
        let security = Arc::new(SecurityHeaders::new(None, false));
        let mut socket = OwnAnswers::new(Vec::new(), security, waiting);
        let bytes = answers.concat().into_bytes();
        runtime.block_on(async {
            for part in bytes.chunks(piece) {
                socket.write_all(part).await.unwrap();
            }
            socket.flush().await.unwrap();
        });
        String::from_utf8(socket.inner).unwrap()
    }

    fn refusal_400() -> String {
        let security = SecurityHeaders::new(None, false);
        let date = Some(&b"Tue, 01 Jul 2025 00:00:00 GMT"[..]);
        String::from_utf8(raw_refusal(&security, StatusCode::BAD_REQUEST, &message(400), None, date)).unwrap()
    }

    #[test]
    fn hypers_own_answer_is_replaced_and_the_routers_pass() {
        for piece in [1, 3, 7, 1000] {
            assert_eq!(
                written(&[OURS, OURS, HYPERS], piece, &[false, false]),
                [OURS, OURS, &refusal_400()].concat()
            );
        }
        let refusal = refusal_400();
        assert!(refusal.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{refusal}");
        for needle in [
            "x-content-type-options: nosniff",
            "content-security-policy: default-src 'none'",
            "connection: close",
            "date: Tue, 01 Jul 2025",
            r#"{"success":false,"message":"the request is not HTTP"#,
        ] {
            assert!(refusal.contains(needle), "{needle}: {refusal}");
        }
    }

    #[test]
    fn bodies_are_skipped_by_length_by_chunks_and_not_at_all_for_head() {
        // Bodies that look like hyper's answer are bodies.
        let sized = format!(
            "HTTP/1.1 200 OK\r\nx-content-type-options: nosniff\r\ncontent-length: {}\r\n\r\n{HYPERS}",
            HYPERS.len()
        );
        let chunked = format!(
            "HTTP/1.1 200 OK\r\nx-content-type-options: nosniff\r\ntransfer-encoding: chunked\r\n\r\n{:x};x=1\r\n{HYPERS}\r\n3\r\nabc\r\n0\r\nx-trailer: 1\r\n\r\n",
            HYPERS.len()
        );
        let head_answer =
            "HTTP/1.1 200 OK\r\nx-content-type-options: nosniff\r\ncontent-length: 9999\r\n\r\n";
        let no_content =
            "HTTP/1.1 304 Not Modified\r\nx-content-type-options: nosniff\r\ncontent-length: 9999\r\n\r\n";
        let interim = "HTTP/1.1 100 Continue\r\n\r\n";
        for piece in [1, 5, 4096] {
            let answers = [sized.as_str(), &chunked, head_answer, no_content, interim, OURS, HYPERS];
            let out = written(&answers, piece, &[false, false, true, false, false]);
            assert_eq!(out, [&answers[..6].concat(), refusal_400().as_str()].concat(), "pieces of {piece}");
        }
    }

    #[test]
    fn vectored_writes_are_followed_the_same() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let security = Arc::new(SecurityHeaders::new(None, false));
        let mut socket = OwnAnswers::new(Vec::new(), security, Waiting::default());
        let (head, body) = OURS.split_at(OURS.len() - 5);
        let parts: Vec<&[u8]> =
            vec![head.as_bytes(), &body.as_bytes()[..2], &body.as_bytes()[2..], HYPERS.as_bytes()];
        runtime.block_on(async {
            let mut queue: Vec<&[u8]> = parts.clone();
            while !queue.is_empty() {
                let slices: Vec<IoSlice<'_>> = queue.iter().map(|b| IoSlice::new(b)).collect();
                let mut written = socket.write_vectored(&slices).await.unwrap();
                while written > 0 {
                    let n = written.min(queue[0].len());
                    queue[0] = &queue[0][n..];
                    written -= n;
                    if queue[0].is_empty() {
                        queue.remove(0);
                    }
                }
            }
            socket.flush().await.unwrap();
        });
        assert_eq!(String::from_utf8(socket.inner).unwrap(), [OURS, &refusal_400()].concat());
    }

    #[test]
    fn any_other_answer_without_the_headers_gets_them() {
        let redirect = "HTTP/1.1 301 Moved Permanently\r\nlocation: /x\r\ncontent-length: 2\r\n\r\nok";
        let out = written(&[redirect, HYPERS], 3, &[false]);
        let (head, rest) = out.split_once("\r\n\r\n").unwrap();
        assert!(
            head.starts_with("HTTP/1.1 301 Moved Permanently\r\nlocation: /x\r\ncontent-length: 2\r\n"),
            "{head}"
        );
        assert!(head.contains("x-content-type-options: nosniff"), "{head}");
        assert_eq!(rest, ["ok", &refusal_400()].concat());
    }

    #[test]
    fn what_cannot_be_followed_passes_as_it_is() {
        let to_the_close = "HTTP/1.1 200 OK\r\nx-content-type-options: nosniff\r\n\r\nuntil the close";
        assert_eq!(written(&[to_the_close, HYPERS], 4, &[false]), [to_the_close, HYPERS].concat());
        assert_eq!(written(&["garbage\r\n\r\n", HYPERS], 4, &[]), ["garbage\r\n\r\n", HYPERS].concat());
        assert_eq!(chunk_size(b"1F;ext=1\r"), Some(31));
        assert_eq!(chunk_size(b"zz\r"), None);
    }
}
