//! Who may hold a connection: at most `--max-connections` at once, and at most
//! `--max-connections-per-address` from one address — one network, as `--ipv4-prefix` and
//! `--ipv6-prefix` say (by default one IPv4 address, one IPv6 /64: what one host is usually
//! given) — so one host cannot take them all. The `--trust-proxy` addresses are not counted
//! per address: every visitor behind them shares their address.
//!
//! A connection beyond either cap is accepted and refused at once, with a 503 written in one
//! non-blocking write, rather than left waiting in the kernel's queue: so accepting never
//! stalls behind a flood, and a refused client learns so at once.

use crate::config::Prefixes;
use crate::edge::headers::SecurityHeaders;
use crate::edge::parse_refusals::raw_refusal;
use crate::forwarded::TrustedProxies;
use crate::operator::visitor::network;
use axum::http::StatusCode;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::net::TcpStream;

/// Why a connection was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// `--max-connections` are open.
    Full,
    /// Its address has `--max-connections-per-address` open.
    Address,
}

/// The open connections, counted.
pub struct Connections {
    max: usize,
    per_address: usize,
    prefixes: Prefixes,
    exempt: TrustedProxies,
    open: Mutex<Open>,
    /// The refusals, written once at start.
    full: Vec<u8>,
    address_full: Vec<u8>,
}

#[derive(Default)]
struct Open {
    total: usize,
    /// Only networks with a connection open: at most `max` entries.
    by_network: HashMap<String, usize>,
}

/// A place among the open connections, given back when dropped.
pub struct Admitted {
    connections: Arc<Connections>,
    network: Option<String>,
}

impl Connections {
    /// `prefixes`: what counts as one address; `exempt`: the trusted proxies, not capped per
    /// address.
    pub fn new(
        max: usize,
        per_address: usize,
        prefixes: Prefixes,
        exempt: TrustedProxies,
        security: &SecurityHeaders,
    ) -> Self {
        let refusal =
            |message| raw_refusal(security, StatusCode::SERVICE_UNAVAILABLE, message, Some(1), None);
        Self {
            max,
            per_address,
            prefixes,
            exempt,
            open: Mutex::new(Open::default()),
            full: refusal("this gateway has as many connections open as it allows; try again shortly"),
            address_full: refusal(
                "too many connections are open from your address; close some and try again",
            ),
        }
    }

    /// A place for a connection from `peer`, or why there is none.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Admitted, Refused> {
        let exempt = self.exempt.trusts(peer);
        let net = (!exempt).then(|| network(peer, self.prefixes));
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.total >= self.max {
            return Err(Refused::Full);
        }
        if let Some(net) = &net {
            let count = open.by_network.get(net).copied().unwrap_or(0);
            if count >= self.per_address {
                return Err(Refused::Address);
            }
            open.by_network.insert(net.clone(), count + 1);
        }
        open.total += 1;
        Ok(Admitted { connections: self.clone(), network: net })
    }

    /// Answers a refused connection with a 503 in one non-blocking write (a fresh socket's
    /// buffer has room for it), reads what it already sent (so closing it is not a reset
    /// that could discard the answer), and closes it.
    pub fn refuse(&self, stream: TcpStream, why: Refused) {
        let answer = match why {
            Refused::Full => &self.full,
            Refused::Address => &self.address_full,
        };
        let _ = stream.try_write(answer);
        let mut sink = [0; 4096];
        for _ in 0..16 {
            if !matches!(stream.try_read(&mut sink), Ok(n) if n > 0) {
                break;
            }
        }
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).total
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.connections.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(net) = &self.network {
            if let Some(count) = open.by_network.get_mut(net) {
                *count -= 1;
                if *count == 0 {
                    open.by_network.remove(net);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connections(max: usize, per_address: usize) -> Arc<Connections> {
        let proxy = TrustedProxies::parse(&["10.0.0.1"]).unwrap();
        let security = SecurityHeaders::new(None, false);
        Arc::new(Connections::new(max, per_address, Prefixes::default(), proxy, &security))
    }

    #[test]
    fn one_address_or_one_64_takes_at_most_its_share() {
        let connections = connections(10, 2);
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let a: Vec<_> = (0..2).map(|_| connections.admit(ip("192.0.2.1")).unwrap()).collect();
        assert_eq!(connections.admit(ip("192.0.2.1")).err(), Some(Refused::Address));
        assert_eq!(connections.admit(ip("::ffff:192.0.2.1")).err(), Some(Refused::Address), "the same host");
        let _b = connections.admit(ip("192.0.2.2")).unwrap();
        let v6: Vec<_> = ["2001:db8:1:2::1", "2001:db8:1:2:ffff::9"]
            .iter()
            .map(|a| connections.admit(ip(a)).unwrap())
            .collect();
        assert_eq!(connections.admit(ip("2001:db8:1:2::77")).err(), Some(Refused::Address), "one /64");
        let _other_64 = connections.admit(ip("2001:db8:1:3::1")).unwrap();
        drop(a);
        let _again = connections.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(connections.open(), 5 + v6.len() - 2);
    }

    #[test]
    fn trusted_proxies_are_not_capped_per_address_but_the_total_is() {
        let connections = connections(3, 1);
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let held: Vec<_> = (0..3).map(|_| connections.admit(proxy).unwrap()).collect();
        assert_eq!(connections.admit(proxy).err(), Some(Refused::Full));
        assert_eq!(connections.admit("192.0.2.9".parse().unwrap()).err(), Some(Refused::Full));
        drop(held);
        assert_eq!(connections.open(), 0);
        assert!(connections.open.lock().unwrap().by_network.is_empty(), "no address kept once closed");
    }

    #[test]
    fn the_refusal_is_a_503_in_the_apis_shape_with_the_security_headers() {
        let text = String::from_utf8(connections(1, 1).address_full.clone()).unwrap();
        assert!(text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{text}");
        for needle in [
            "retry-after: 1",
            "x-content-type-options: nosniff",
            "connection: close",
            r#"{"success":false,"message":"too many connections"#,
        ] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
    }
}
