//! A connection's socket with a bound on writing: an answer the client does not read ends
//! the connection. hyper sets no time limit on writing (hyperium/hyper#3852), so a client
//! that sends requests and never reads what comes back would hold its connection, and the
//! answers buffered for it, forever.
//!
//! A write starts the clock when it has to wait (the socket's buffers are full: the client
//! is not reading). From then on the wait may last `limit`, plus one second per
//! `min_rate` bytes the client does read meanwhile; past that, the write fails with
//! `TimedOut` and hyper closes the connection. A write that goes through without waiting
//! (the client has caught up) stops the clock.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// `S` with writes bounded in time: see the module's documentation.
pub struct WriteDeadline<S> {
    inner: S,
    limit: Duration,
    /// Bytes a second.
    min_rate: u64,
    /// Since when writes have waited on the client, and what it has read since.
    stall: Option<Stall>,
    /// Whether the last write had to wait.
    waited: bool,
    timer: Pin<Box<Sleep>>,
}

#[derive(Clone, Copy)]
struct Stall {
    since: Instant,
    written: u64,
}

impl<S> WriteDeadline<S> {
    pub fn new(inner: S, limit: Duration, min_rate: u64) -> Self {
        Self {
            inner,
            limit,
            min_rate: min_rate.max(1),
            stall: None,
            waited: false,
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
        }
    }

    /// When the stalled writes must have gone out.
    fn deadline(&self, stall: Stall) -> Instant {
        let bought = Duration::from_millis(stall.written.saturating_mul(1000) / self.min_rate);
        let allowance = self.limit.saturating_add(bought);
        stall.since.checked_add(allowance).unwrap_or(stall.since + self.limit)
    }

    /// A write went through (`written` bytes): the clock keeps running if it had waited,
    /// else it stops.
    fn wrote(&mut self, written: usize) {
        if !self.waited {
            self.stall = None;
        } else if let Some(stall) = &mut self.stall {
            stall.written = stall.written.saturating_add(written as u64);
        }
        self.waited = false;
    }

    /// A write must wait: `Pending` until the client reads, or the time is up.
    fn wait<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        self.waited = true;
        let stall = *self.stall.get_or_insert_with(|| Stall { since: Instant::now(), written: 0 });
        let deadline = self.deadline(stall);
        if self.timer.deadline() != deadline {
            self.timer.as_mut().reset(deadline);
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client did not read its answer in time",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(Ok(written)) => {
                this.wrote(written);
                Poll::Ready(Ok(written))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.wait(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(written)) => {
                this.wrote(written);
                Poll::Ready(Ok(written))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => this.wait(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.wait(cx),
            ready => ready,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Pending => this.wait(cx),
            ready => ready,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// A client that reads `per_second` bytes each second (after a first `room` bytes).
    struct Client {
        room: usize,
        per_second: usize,
        next_read: Pin<Box<Sleep>>,
    }

    impl Client {
        fn reading(room: usize, per_second: usize) -> Self {
            Self { room, per_second, next_read: Box::pin(tokio::time::sleep(Duration::from_secs(1))) }
        }
    }

    impl AsyncWrite for Client {
        fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            if self.room == 0 && self.per_second > 0 && self.next_read.as_mut().poll(cx).is_ready() {
                self.room = self.per_second;
                let next = self.next_read.deadline() + Duration::from_secs(1);
                self.next_read.as_mut().reset(next);
            }
            if self.room == 0 {
                return Poll::Pending;
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Poll::Ready(Ok(n))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    async fn send(client: Client, bytes: usize) -> (io::Result<()>, Duration) {
        let mut socket = WriteDeadline::new(client, Duration::from_secs(2), 100);
        let started = Instant::now();
        let sent = socket.write_all(&vec![0; bytes]).await;
        (sent, started.elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn an_unread_answer_fails_after_the_limit() {
        let (sent, took) = send(Client::reading(10, 0), 100).await;
        assert_eq!(sent.unwrap_err().kind(), io::ErrorKind::TimedOut);
        assert_eq!(took, Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_reading_at_the_minimum_rate_gets_its_answer() {
        // 150 bytes a second against a minimum of 100: 3,000 bytes in 20 s, never cut.
        let (sent, took) = send(Client::reading(0, 150), 3_000).await;
        assert!(sent.is_ok(), "{sent:?}");
        assert_eq!(took, Duration::from_secs(20));
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_reading_slower_is_cut_off() {
        // 50 bytes a second: each read, at 1, 2 and 3 s, buys half a second beyond the 2 s.
        let (sent, took) = send(Client::reading(0, 50), 3_000).await;
        assert_eq!(sent.unwrap_err().kind(), io::ErrorKind::TimedOut);
        assert_eq!(took, Duration::from_millis(3_500));
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_that_goes_through_at_once_stops_the_clock() {
        let mut socket = WriteDeadline::new(Client::reading(1_000, 0), Duration::from_secs(2), 100);
        for _ in 0..10 {
            socket.write_all(&[0; 100]).await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        assert!(socket.stall.is_none());
    }
}
