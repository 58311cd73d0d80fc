//! What a reverse proxy in front says about the request it passed on: the client's address
//! (`X-Forwarded-For`, or `for=` in RFC 7239's `Forwarded`) and the host and scheme the
//! visitor reached (`X-Forwarded-Host` and `X-Forwarded-Proto`, or `host=` and `proto=`).
//! Believed only from the proxies the operator trusts (`--trust-proxy`, addresses or CIDR
//! ranges): from anyone else these headers are whatever a client chose to send.

use axum::http::{HeaderMap, HeaderName};
use ipnet::IpNet;
use std::net::IpAddr;

/// `--trust-proxy`: the addresses whose forwarding headers are believed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// A forwarding header holds at most this many hops that are read.
const MAX_HOPS: usize = 32;

impl TrustedProxies {
    /// Each entry an address (`10.0.0.5`, `::1`) or a CIDR range (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.as_ref().trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("--trust-proxy: not an IP address or CIDR range: {entry:?}"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is one of them; an IPv4 peer on an IPv6 socket (`::ffff:10.0.0.1`)
    /// counts as its IPv4 address.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// One proxy's account of the request it received: a `Forwarded` element, or the
/// `X-Forwarded-*` headers taken as one.
#[derive(Debug, Default, PartialEq, Eq)]
struct Hop {
    /// Who sent it that request.
    client: Option<IpAddr>,
    host: Option<String>,
    https: Option<bool>,
}

/// The client's address: the connection's peer, or, when the peer is a trusted proxy, the
/// last forwarded hop that is not itself a trusted proxy (`Forwarded` first, else
/// `X-Forwarded-For`).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    if !trusted.trusts(peer) {
        return peer;
    }
    let mut clients: Vec<IpAddr> = forwarded(headers).iter().filter_map(|hop| hop.client).collect();
    if clients.is_empty() {
        clients = values(headers, "x-forwarded-for").filter_map(parse_ip).collect();
    }
    clients.into_iter().rev().find(|ip| !trusted.trusts(*ip)).unwrap_or(peer)
}

/// `scheme://host` as the visitor reached it, when the peer is a trusted proxy that says
/// so: the `Forwarded` element of the proxy nearest the visitor (walking back over hops
/// from trusted proxies), else the last `X-Forwarded-Host` and `X-Forwarded-Proto`
/// values. Without a scheme, `https_default` chooses. A host that is not a plain name or
/// address counts as none.
pub fn original_origin(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
    https_default: bool,
) -> Option<String> {
    if !trusted.trusts(peer) {
        return None;
    }
    let hops = forwarded(headers);
    let hop = match hops.iter().rposition(|hop| !hop.client.is_some_and(|ip| trusted.trusts(ip))) {
        // The hop of the proxy that heard from an untrusted client: the visitor's side.
        Some(nearest_visitor) => hops.into_iter().nth(nearest_visitor),
        // Every hop's client trusted (or none named): the first proxy's account.
        None => hops.into_iter().next(),
    };
    let hop = hop.filter(|hop| hop.host.is_some()).unwrap_or_else(|| Hop {
        client: None,
        host: values(headers, "x-forwarded-host").last().map(str::to_owned),
        https: values(headers, "x-forwarded-proto").last().and_then(parse_proto),
    });
    let host = hop.host.filter(|host| is_plain_host(host))?;
    let scheme = if hop.https.unwrap_or(https_default) { "https://" } else { "http://" };
    Some([scheme, &host].concat())
}

/// A `Host`-like value made of the characters a host name, an address and a port use.
pub fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// The comma-separated values of every `name` header, trimmed, at most [`MAX_HOPS`].
fn values<'a>(headers: &'a HeaderMap, name: &'static str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(HeaderName::from_static(name))
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .take(MAX_HOPS)
}

/// The elements of RFC 7239 `Forwarded` headers, in order.
fn forwarded(headers: &HeaderMap) -> Vec<Hop> {
    values(headers, "forwarded")
        .map(|element| {
            let mut hop = Hop::default();
            for pair in element.split(';') {
                let Some((name, value)) = pair.split_once('=') else { continue };
                let value = value.trim().trim_matches('"');
                match name.trim().to_ascii_lowercase().as_str() {
                    "for" => hop.client = parse_ip(value),
                    "host" => hop.host = Some(value.to_owned()),
                    "proto" => hop.https = parse_proto(value),
                    _ => {}
                }
            }
            hop
        })
        .collect()
}

fn parse_proto(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "https" => Some(true),
        "http" => Some(false),
        _ => None,
    }
}

/// An address as forwarding headers write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:5678`.
fn parse_ip(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (ip, port) = text.rsplit_once(':')?;
    port.bytes().all(|b| b.is_ascii_digit()).then(|| ip.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn trusted(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(entries).unwrap()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn addresses_and_ranges() {
        let proxies = trusted(&["10.0.0.0/8", "::1", " 192.168.1.7 ", "fd00::/8"]);
        for yes in ["10.1.2.3", "::1", "192.168.1.7", "fd12::1", "::ffff:10.9.9.9"] {
            assert!(proxies.trusts(ip(yes)), "{yes}");
        }
        for no in ["11.0.0.1", "127.0.0.1", "192.168.1.8", "fe80::1"] {
            assert!(!proxies.trusts(ip(no)), "{no}");
        }
        for bad in ["nope", "10.0.0.0/33", "10.0.0.0/", ""] {
            let err = TrustedProxies::parse(&[bad]).unwrap_err();
            assert!(err.contains("not an IP address or CIDR range"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_client_is_the_last_hop_no_trusted_proxy_added() {
        let peer = ip("10.0.0.1");
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.0.0.2")]);
        assert_eq!(client_ip(peer, &h, &TrustedProxies::default()), peer);
        assert_eq!(client_ip(peer, &h, &trusted(&["10.0.0.0/8"])), ip("1.2.3.4"));
        assert_eq!(
            client_ip(peer, &headers(&[("x-forwarded-for", "garbage")]), &trusted(&["10.0.0.1"])),
            peer
        );
        // RFC 7239 wins over X-Forwarded-For; ports and brackets are read.
        let h = headers(&[
            ("forwarded", "for=6.6.6.6, for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.2:99"),
            ("x-forwarded-for", "5.5.5.5"),
        ]);
        assert_eq!(client_ip(peer, &h, &trusted(&["10.0.0.0/8"])), ip("2001:db8::7"));
    }

    #[test]
    fn the_origin_only_from_a_trusted_proxy() {
        let proxies = trusted(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-host", "images.example"), ("x-forwarded-proto", "https")]);
        assert_eq!(
            original_origin(ip("10.0.0.1"), &h, &proxies, false).as_deref(),
            Some("https://images.example")
        );
        assert_eq!(original_origin(ip("6.6.6.6"), &h, &proxies, false), None, "a stranger's claim");
        let host_only = headers(&[("x-forwarded-host", "images.example:8443")]);
        assert_eq!(
            original_origin(ip("10.0.0.1"), &host_only, &proxies, true).as_deref(),
            Some("https://images.example:8443")
        );
        let bad = headers(&[("x-forwarded-host", "evil.example/path")]);
        assert_eq!(original_origin(ip("10.0.0.1"), &bad, &proxies, false), None);
        assert_eq!(original_origin(ip("10.0.0.1"), &HeaderMap::new(), &proxies, false), None);
    }

    #[test]
    fn forwarded_names_the_proxy_nearest_the_visitor() {
        let proxies = trusted(&["10.0.0.0/8"]);
        // A client forged the first element; the edge proxy (which heard from 1.2.3.4)
        // appended the second, an inner proxy the third.
        let h = headers(&[(
            "forwarded",
            "for=9.9.9.9;host=evil.example;proto=http, for=1.2.3.4;host=images.example;proto=https, for=10.0.0.9;host=10.0.0.2:8080;proto=http",
        )]);
        assert_eq!(
            original_origin(ip("10.0.0.2"), &h, &proxies, false).as_deref(),
            Some("https://images.example")
        );
        let h = headers(&[("forwarded", "host=images.example;proto=https")]);
        assert_eq!(
            original_origin(ip("10.0.0.2"), &h, &proxies, false).as_deref(),
            Some("https://images.example")
        );
        // An element without a host: the X-Forwarded-* headers say it.
        let h = headers(&[("forwarded", "for=1.2.3.4"), ("x-forwarded-host", "images.example")]);
        assert_eq!(
            original_origin(ip("10.0.0.2"), &h, &proxies, true).as_deref(),
            Some("https://images.example")
        );
    }
}
