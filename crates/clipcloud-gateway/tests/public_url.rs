//! The gateway behind a reverse proxy that, like nginx's plain `proxy_pass`, sends
//! `Host: 127.0.0.1:PORT` (the address the proxy connects to, not the visitor's): with
//! `--public-url`, or the forwarded host and scheme from a `--trust-proxy`, the app's own
//! create is admitted and image links point at the public origin; without either, the
//! gateway cannot tell its own pages from another site's.

mod common;

use clipcloud_gateway::Running;
use common::*;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const PUBLIC: &str = "https://images.example";

/// Operator-key mode in front of `upstream` ([`operator`], which trusts `127.0.0.1` as a
/// proxy), with `extra` flags.
fn gateway(upstream: &str, key: &str, extra: &[&str]) -> Running {
    let flags: Vec<&str> = extra.iter().chain(ONE_PRICE).copied().collect();
    Running::start(operator(upstream, key, &flags).0).unwrap()
}

/// The app's create and its checks until done, as the proxy passes them on (`Host` is the
/// gateway's own address, see [`request`]), with the page's `Origin` and `proxy` headers.
fn create_and_wait(addr: SocketAddr, proxy: &[&str]) -> Result<Vec<String>, Answer> {
    let mut headers = vec!["Origin: https://images.example"];
    headers.extend(proxy);
    let created =
        request(addr, "POST", "/api/creation", &headers, Some(r#"{"prompt":"a","styleName":"standard"}"#));
    if created.status != 200 {
        return Err(created);
    }
    let id = created.json()["creation_id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let check = request(addr, "GET", &format!("/api/creation/{id}"), &headers, None);
        assert_eq!(check.status, 200, "{check:?}");
        if let Some(links) = check.json()["results"].as_array() {
            return Ok(links.iter().map(|l| l.as_str().unwrap_or_default().to_owned()).collect());
        }
        assert!(Instant::now() < deadline, "never finished");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn behind_a_plain_proxy_the_apps_create_is_admitted_and_links_are_public() {
    let emulator = emulator(100);
    let key = fresh_key(&emulator, 100.0);
    let upstream = emulator.base_url();
    let forwarded =
        ["X-Forwarded-Host: images.example", "X-Forwarded-Proto: https", "X-Forwarded-For: 203.0.113.9"];
    let rfc7239 = ["Forwarded: for=203.0.113.9;host=images.example;proto=https"];
    for (flags, proxy) in [
        (&["--public-url", PUBLIC][..], &[][..]),
        (&["--trust-proxy", "127.0.0.0/8"], &forwarded[..]),
        (&["--trust-proxy", "::1", "--trust-proxy", "127.0.0.1"], &rfc7239[..]),
    ] {
        let gateway = gateway(&upstream, &key, flags);
        let links =
            create_and_wait(gateway.addr(), proxy).unwrap_or_else(|refused| panic!("{flags:?}: {refused:?}"));
        assert!(!links.is_empty());
        for link in links {
            assert!(link.starts_with("https://images.example/images/"), "{flags:?}: {link}");
        }
    }
    // The same headers from a proxy nobody said to trust are a client's claim: the page's
    // origin is not this gateway's, as the Host header names it.
    let untrusting = Running::start(relay_config(&upstream)).unwrap();
    let refused = create_and_wait(untrusting.addr(), &forwarded).unwrap_err();
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(refused.message().contains("https://images.example may not use this gateway"), "{refused:?}");
}

#[test]
fn an_https_public_url_makes_the_cookie_secure() {
    let upstream = Recorder::start(200, "application/json", r#"{"success":true,"styles":[]}"#);
    let gateway = gateway(&upstream.url, "op-key", &["--public-url", PUBLIC]);
    let page = Visitor::from("203.0.113.5").load_page(gateway.addr());
    assert_eq!(page.status, 200, "{page:?}");
    let cookie = page.header("set-cookie").expect("a visitor cookie with the page");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(page.header("strict-transport-security").is_some(), "{page:?}");
}
