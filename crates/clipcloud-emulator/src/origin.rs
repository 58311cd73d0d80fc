//! Where image links point: `--public-url`, else the request's `Host`, else the
//! listening address.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

/// Cheap to clone: clones share the listening address once it is known.
#[derive(Clone, Debug, Default)]
pub struct Origin(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    public_url: Option<String>,
    /// `http://<listening address>`, for requests without a usable `Host` header.
    fallback: OnceLock<String>,
}

impl Origin {
    pub fn new(public_url: Option<String>) -> Self {
        Self(Arc::new(Inner { public_url, fallback: OnceLock::new() }))
    }

    /// Tells where the emulator listens, for image URLs of requests without `Host`.
    pub fn set_local_addr(&self, addr: SocketAddr) {
        // Only the first call counts; later calls (a second listener) keep the first origin.
        let _ = self.0.fallback.set(format!("http://{addr}"));
    }

    /// Origin of image URLs for a request with this `Host` header.
    pub fn for_host(&self, host_header: Option<&str>) -> String {
        if let Some(url) = &self.0.public_url {
            return url.clone();
        }
        match host_header {
            Some(host) if is_plausible_host(host) => format!("http://{host}"),
            _ => self.0.fallback.get().cloned().unwrap_or_else(|| "http://127.0.0.1".into()),
        }
    }
}

/// A `Host` header safe to paste into a URL: host name or address and optional port.
fn is_plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_public_url_then_host_then_the_listening_address() {
        let origin = Origin::new(None);
        origin.set_local_addr(SocketAddr::from(([127, 0, 0, 1], 9)));
        assert_eq!(origin.for_host(Some("localhost:8787")), "http://localhost:8787");
        assert_eq!(origin.for_host(Some("evil/path")), "http://127.0.0.1:9");
        assert_eq!(origin.for_host(None), "http://127.0.0.1:9");
        assert_eq!(Origin::new(Some("https://emu.test".into())).for_host(Some("x")), "https://emu.test");
    }
}
