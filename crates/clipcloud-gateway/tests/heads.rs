//! A request's head is bounded at exactly the documented 32 KiB, and every answer carries the
//! security headers, the ones hyper writes by itself to heads it cannot read included (they
//! never reach the router). Raw sockets against the built binary.

mod common;

use common::*;

const HEAD_LIMIT: usize = 32 * 1024;

/// A `GET /healthz` whose head (request line through the blank line) is `size` bytes.
fn head_of(size: usize) -> String {
    let start = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: ";
    let end = "\r\n\r\n";
    let head = format!("{start}{}{end}", "a".repeat(size - start.len() - end.len()));
    assert_eq!(head.len(), size);
    head
}

/// The gateway's own error answer: the status, the API's error shape, the security headers.
fn assert_refusal(answer: &Answer, status: u16, what: &str) {
    assert_eq!(answer.status, status, "{what}: {answer:?}");
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
        ("content-type", "application/json"),
    ] {
        assert_eq!(answer.header(name).as_deref(), Some(value), "{what}: {name}\n{}", answer.head);
    }
    let csp = answer.header("content-security-policy").unwrap_or_default();
    assert!(csp.starts_with("default-src 'none'"), "{what}: {csp}");
    assert_eq!(answer.json()["success"], false, "{what}: {answer:?}");
}

#[test]
fn the_head_limit_is_exactly_32_kib() {
    let gateway = GatewayProcess::start(&["--upstream", "http://127.0.0.1:9", "--log-format", "off"], &[]);
    for size in [HEAD_LIMIT - 1, HEAD_LIMIT] {
        let answer = raw(gateway.addr, head_of(size).as_bytes());
        assert_eq!(answer.status, 200, "a head of {size} bytes: {}", answer.head);
    }
    let answer = raw(gateway.addr, head_of(HEAD_LIMIT + 1).as_bytes());
    assert_refusal(&answer, 431, "a head of 32 KiB + 1");
    assert!(answer.message().contains("over 32768 bytes"), "{answer:?}");
    // More than 100 header lines, each small.
    let many: String = (0..101).map(|i| format!("X-{i}: 1\r\n")).collect();
    let answer = raw(gateway.addr, format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many}\r\n").as_bytes());
    assert_refusal(&answer, 431, "101 header lines");
}

#[test]
fn hypers_own_answers_carry_the_security_headers() {
    let gateway = GatewayProcess::start(&["--upstream", "http://127.0.0.1:9", "--log-format", "off"], &[]);
    let addr = gateway.addr;
    for (what, request) in [
        ("a request line that is not HTTP", "GARBAGE\r\n\r\n".to_owned()),
        ("a header without a colon", "GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n".to_owned()),
        ("a space in a header name", "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n".to_owned()),
        ("an unknown version", "GET /healthz HTTP/7.1\r\nHost: x\r\n\r\n".to_owned()),
        ("a control character in the target", "GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n".to_owned()),
    ] {
        assert_refusal(&raw(addr, request.as_bytes()), 400, what);
    }
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    assert_refusal(&raw(addr, long_target.as_bytes()), 431, "a target longer than the head limit");

    // After answers the router made on the same connection (one to a HEAD, with a length and
    // no body), hyper's own is still found and replaced.
    let pipelined =
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nHEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n";
    let all = raw(addr, pipelined.as_bytes());
    let text = format!("{}\r\n\r\n{}", all.head, all.body);
    let starts: Vec<usize> = text.match_indices("HTTP/1.1 ").map(|(at, _)| at).collect();
    assert_eq!(starts.len(), 3, "three answers: {text}");
    let last = &text[starts[2]..];
    let (head, body) = last.split_once("\r\n\r\n").unwrap();
    let third = Answer { status: 400, head: head.to_owned(), body: body.to_owned() };
    assert!(head.starts_with("HTTP/1.1 400 "), "{last}");
    assert_refusal(&third, 400, "a malformed request after two good ones");
    assert_eq!(text.matches("x-content-type-options: nosniff").count(), 3, "{text}");
}
