//! The `clipcloud-gateway` binary as an operator runs it: settings from flags and the
//! environment, the access log on stderr (which must never hold a key or a token), memory
//! that strangers cannot grow, and a graceful stop on SIGTERM.

mod common;

use clipcloud_gateway::operator::visitor::Token;
use clipcloud_gateway::secret::Secret;
use common::*;
use std::process::Command;
use std::time::Duration;

#[test]
fn no_key_or_token_reaches_the_log_or_an_answer() {
    let emulator = emulator(100);
    let key = fresh_key(&emulator, 100.0);
    let key_file = secret_file("key", &key);
    let token_secret = secret_file("tokens", "site-secret-abc");
    let ledger = temp_dir("ledger").join("l.sqlite3");
    let upstream = emulator.base_url();
    // Settings from the environment as well as flags.
    let mut gateway = GatewayProcess::start(
        &["--upstream", &upstream, "--token-secret-file", &token_secret, "--max-price-per-image", "1.1"],
        &[("CLIPCLOUD_GATEWAY_KEY_FILE", &key_file), ("CLIPCLOUD_GATEWAY_LEDGER", ledger.to_str().unwrap())],
    );
    let token = Token::sign(
        &Secret::new("site-secret-abc"),
        "reader-7",
        clipcloud_gateway::clock::unix_now() + 600,
        500,
    );
    let mut answers = Vec::new();
    let created = post(
        gateway.addr,
        &format!("/api/creation?apikey={token}"),
        r#"{"prompt":"a","styleName":"standard"}"#,
    );
    assert_eq!(created.status, 200, "{created:?}");
    let id = created.json()["creation_id"].as_str().unwrap().to_owned();
    answers.push(created);
    for target in [
        format!("/api/creation/{id}?apikey={token}"),
        format!("/api/balance?apikey={token}"),
        format!("/api/styles?APIKEY={token}"),
        format!("/api/nope?apikey={token}"),
        "/api/balance?apikey=v1.x.1.1.00".to_owned(),
        format!("/images/../x?apikey={token}"),
    ] {
        answers.push(get(gateway.addr, &target));
    }
    // The way the project's clients send it to a gateway: in a header.
    let bearer = format!("Authorization: Bearer {token}");
    answers.push(request(gateway.addr, "GET", "/api/balance", &[&bearer], None));
    assert!(answers.iter().skip(1).take(3).all(|a| a.status == 200), "{answers:?}");
    assert_eq!(answers.last().map(|a| a.status), Some(200), "{answers:?}");
    assert_eq!(gateway.terminate().code(), Some(0), "a graceful stop exits 0");
    let log = gateway.log();
    assert!(
        log.lines().filter(|l| l.starts_with('{')).count() >= answers.len(),
        "one line per request:\n{log}"
    );
    assert!(log.contains("\"visitor\":\"t:reader-7\""), "{log}");
    // Each request's line names its id, as its answer did.
    let id = answers[0].header("x-request-id").unwrap();
    assert!(log.contains(&format!("\"request_id\":\"{id}\"")), "{log}");
    for secret in [key.as_str(), &token, &token[token.len() - 64..], "site-secret-abc"] {
        assert!(!log.contains(secret), "the log holds a secret:\n{log}");
        for answer in &answers {
            assert!(!answer.head.contains(secret) && !answer.body.contains(secret), "{answer:?}");
        }
    }
}

#[test]
fn strangers_cannot_grow_its_memory() {
    let upstream = Recorder::start(401, "application/json", r#"{"success":false,"message":"bad key"}"#);
    // Many strangers, all on loopback: without the rate per address, each request reaches
    // the key's path.
    let unlimited = ["--request-rate-per-address", "0"];
    let gateway = GatewayProcess::start(
        &[&["--upstream", &upstream.url, "--log-format", "off"][..], &unlimited].concat(),
        &[],
    );
    let send_junk = |from: usize, to: usize| {
        for i in from..to {
            let key = format!("junk-key-{i:06}-{}", "x".repeat(200));
            assert_eq!(get(gateway.addr, &format!("/api/balance?apikey={key}")).status, 401);
        }
    };
    // Warm up (runtime threads, buffers, the upstream pool), then measure 3,000 more.
    send_junk(0, 500);
    let before = gateway.rss_kib();
    send_junk(500, 3_500);
    let after = gateway.rss_kib();
    println!("RSS {before} KiB before and {after} KiB after 3,000 requests with distinct keys");
    assert!(after < before + 4 * 1024, "grew from {before} to {after} KiB");
}

#[test]
fn a_stop_lets_requests_in_flight_finish() {
    let upstream = Recorder::slow(
        200,
        "application/json",
        r#"{"success":true,"balance":5}"#,
        Duration::from_millis(1500),
    );
    let mut gateway = GatewayProcess::start(&["--upstream", &upstream.url], &[]);
    let addr = gateway.addr;
    let in_flight = std::thread::spawn(move || get(addr, "/api/balance?apikey=k"));
    // The request is at the upstream, which answers 1.5 s later: a stop now finds it in flight.
    upstream.wait_until_seen(1);
    assert_eq!(gateway.terminate().code(), Some(0));
    let answer = in_flight.join().unwrap();
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(std::net::TcpStream::connect(addr).is_err(), "no longer accepting");
}

/// Every setting's flag, as operators' scripts, unit files and docs name them.
const FLAGS: [&str; 43] = [
    "listen",
    "upstream",
    "images-upstream",
    "static-dir",
    "allow-origin",
    "https",
    "trust-proxy",
    "log-format",
    "config",
    "key-file",
    "creates-per-minute",
    "visitor-daily-spend",
    "daily-cap",
    "monthly-cap",
    "passphrase-file",
    "token-secret-file",
    "cookie-secret-file",
    "ledger",
    "redis",
    "admin-token-file",
    "max-body",
    "max-image-bytes",
    "header-timeout",
    "request-timeout",
    "upstream-timeout",
    "max-connections",
    "hold-max",
    "max-held",
    "max-pollers",
    "max-price-per-image",
    "allow-advanced",
    "allow-style",
    "address-share",
    "ipv4-prefix",
    "ipv6-prefix",
    "write-timeout",
    "min-write-rate",
    "max-connections-per-address",
    "request-rate-per-address",
    "public-url",
    "redis-url-file",
    "redis-ca-file",
    "admin-listen",
];

fn gateway_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_clipcloud-gateway"));
    // Only what the test gives: no setting from the environment the tests run in.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CLIPCLOUD_GATEWAY_") {
            command.env_remove(name);
        }
    }
    command
}

#[test]
fn help_documents_every_flag_and_its_variable_and_bad_settings_exit_2() {
    let help = gateway_command().arg("--help").env("CLIPCLOUD_GATEWAY_DAILY_CAP", "77.5").output().unwrap();
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    // One entry a flag: its line, then its description's lines, indented further.
    let mut entries: Vec<String> = Vec::new();
    for line in text.lines() {
        match entries.last_mut() {
            Some(entry) if line.starts_with("          ") => entry.push_str(line),
            _ => entries.push(line.trim_start().to_owned()),
        }
    }
    for flag in FLAGS {
        let variable = format!("CLIPCLOUD_GATEWAY_{}", flag.to_ascii_uppercase().replace('-', "_"));
        let entry = entries
            .iter()
            .find(|entry| [' ', '['].iter().any(|next| entry.starts_with(&format!("--{flag}{next}"))))
            .unwrap_or_else(|| panic!("--help does not document --{flag}:\n{text}"));
        assert!(entry.contains(&format!("[env: {variable}]")), "--{flag} without {variable}: {entry}");
    }
    assert!(!text.contains("77.5"), "--help shows the environment's values");
    let bad = gateway_command()
        .args(["--upstream", "http://x", "--allow-origin", "*", "--key-file", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--allow-origin *: refused in operator-key mode"));
    let version = gateway_command().arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.starts_with(&format!("clipcloud-gateway {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
}

#[test]
fn a_repeated_flag_is_refused() {
    for args in [
        &["--upstream", "http://a", "--upstream", "http://b"][..],
        &["--upstream", "http://a", "--https", "--https"],
        &["--upstream", "http://a", "--max-held=4", "--max-held", "5"],
    ] {
        let out = gateway_command().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        let flag = args[2];
        let flag = flag.split('=').next().unwrap();
        assert!(stderr.contains(&format!("error: the argument '{flag}")), "{args:?}: {stderr}");
        assert!(stderr.contains("cannot be used multiple times"), "{args:?}: {stderr}");
    }
}

/// A flag beats its environment variable, which beats the `--config` file: the ready lines
/// say which address and upstream the gateway took.
#[test]
fn a_flag_beats_the_environment_which_beats_the_config_file() {
    let file = temp_dir("config").join("gateway.conf");
    let settings = "# listen and log-format only here; upstream here and in the environment\n\
                    listen = 127.0.0.1:0\nlog-format = off\nupstream = http://file.example:1\n";
    std::fs::write(&file, settings).unwrap();
    let mut child = gateway_command()
        .args(["--config", file.to_str().unwrap(), "--max-held", "8"])
        .env("CLIPCLOUD_GATEWAY_UPSTREAM", "http://env.example:2")
        // Were the environment read for a setting a flag gives, this would refuse to start.
        .env("CLIPCLOUD_GATEWAY_MAX_HELD", "many")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let lines: Vec<String> = std::io::BufRead::lines(stdout).take(2).map(Result::unwrap).collect();
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(lines.len(), 2, "{lines:?} {stderr}");
    assert!(lines[0].starts_with("clipcloud-gateway listening on http://127.0.0.1:"), "{lines:?}");
    assert!(lines[1].ends_with("; upstream http://env.example:2"), "{lines:?}");
}

#[test]
fn a_hanging_upstream_is_cut_off_and_a_create_is_sent_once() {
    // An upstream that would answer after a minute: the gateway gives it one second.
    let upstream =
        Recorder::slow(200, "application/json", r#"{"success":true,"balance":5}"#, Duration::from_secs(60));
    let gateway = GatewayProcess::start(&["--upstream", &upstream.url, "--upstream-timeout", "1"], &[]);
    let balance = get(gateway.addr, "/api/balance?apikey=k");
    assert_eq!(balance.status, 504, "{balance:?}");
    assert!(balance.message().contains("did not answer in time"), "{balance:?}");
    // A create that timed out may have been accepted: it is never sent again.
    let created = post(gateway.addr, "/api/creation?apikey=k", r#"{"prompt":"a","styleName":"standard"}"#);
    assert_eq!(created.status, 504, "{created:?}");
    let creates = upstream.seen().iter().filter(|seen| seen.starts_with("POST ")).count();
    assert_eq!(creates, 1, "{:?}", upstream.seen());
}

#[test]
fn beyond_max_connections_a_new_connection_is_refused_at_once() {
    let upstream =
        Recorder::slow(200, "application/json", r#"{"success":true,"balance":5}"#, Duration::from_secs(2));
    let gateway = GatewayProcess::start(&["--upstream", &upstream.url, "--max-connections", "2"], &[]);
    let addr = gateway.addr;
    // Two connections busy with slow upstream calls fill the cap.
    let busy: Vec<_> =
        (0..2).map(|_| std::thread::spawn(move || get(addr, "/api/balance?apikey=k").status)).collect();
    upstream.wait_until_seen(2);
    // The third is answered at once, not queued behind them: a 503 to come back later.
    let refused = get(addr, "/healthz");
    assert_eq!(refused.status, 503, "{refused:?}");
    assert_eq!(refused.header("retry-after").as_deref(), Some("1"));
    assert_eq!(refused.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert!(refused.message().contains("as many connections open as it allows"), "{refused:?}");
    let statuses: Vec<u16> = busy.into_iter().map(|thread| thread.join().unwrap()).collect();
    assert_eq!(statuses, [200, 200]);
    // Their places are free again (the gateway counts a connection until it has closed it).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while get(addr, "/healthz").status != 200 {
        assert!(std::time::Instant::now() < deadline, "the places were never given back");
        std::thread::sleep(Duration::from_millis(20));
    }
}
