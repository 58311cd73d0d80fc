//! This gateway's own origin as its visitors reach it: `--public-url` when the operator
//! gave one; else what a trusted proxy forwards (`X-Forwarded-Host` and `-Proto`, or
//! `Forwarded`: [`crate::forwarded`]); else the `Host` header, with `--https`'s scheme. The
//! app's pages come from this origin (so they may call the API: [`crate::edge::cors`]),
//! and finished checks' image links point at it.

use crate::config::Config;
use crate::forwarded::{self, is_plain_host};
use axum::extract::ConnectInfo;
use axum::http::{header, Extensions, HeaderMap};
use std::net::SocketAddr;

/// `scheme://host[:port]` of this gateway for a request with these headers and
/// extensions (where the connection loop put the peer's address); `None` when neither the
/// settings nor the request say.
pub fn own_origin(config: &Config, headers: &HeaderMap, extensions: &Extensions) -> Option<String> {
    if let Some(url) = &config.public_url {
        return Some(url.clone());
    }
    let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let forwarded = peer
        .and_then(|peer| forwarded::original_origin(peer, headers, &config.trusted_proxies, config.https));
    forwarded.or_else(|| {
        let host = headers.get(header::HOST)?.to_str().ok().filter(|host| is_plain_host(host))?;
        Some([if config.https { "https://" } else { "http://" }, host].concat())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forward::upstream::Origin;
    use crate::forwarded::TrustedProxies;
    use axum::http::HeaderValue;

    fn request(peer: &str, pairs: &[(&'static str, &'static str)]) -> (HeaderMap, Extensions) {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        (headers, extensions)
    }

    #[test]
    fn settings_then_a_trusted_proxy_then_the_host() {
        let mut config = Config::relay(Origin::parse("http://up").unwrap());
        // What nginx's plain proxy_pass sends, plus the headers a proxy adds.
        let (headers, extensions) = request(
            "10.0.0.2:5000",
            &[
                ("host", "127.0.0.1:8080"),
                ("x-forwarded-host", "images.example"),
                ("x-forwarded-proto", "https"),
            ],
        );
        let origin = |config: &Config| own_origin(config, &headers, &extensions);
        assert_eq!(
            origin(&config).as_deref(),
            Some("http://127.0.0.1:8080"),
            "an untrusted peer: the Host header"
        );
        config.trusted_proxies = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        assert_eq!(origin(&config).as_deref(), Some("https://images.example"));
        config.public_url = Some("https://pictures.example".into());
        assert_eq!(origin(&config).as_deref(), Some("https://pictures.example"), "the settings win");
        let (bad, no_peer) = (request("1.1.1.1:1", &[("host", "a b")]).0, Extensions::new());
        config.public_url = None;
        assert_eq!(own_origin(&config, &bad, &no_peer), None);
    }
}
