//! The app's main scenarios through Debian's nginx and Caddy (proxies.rs), each in front of
//! gateways run as the systemd unit runs them behind a TLS proxy on the same host
//! (`--https --trust-proxy 127.0.0.1`). Afterwards each proxy's access log must name the
//! scenarios' requests and hold none of their secrets (access_logs.rs).

use crate::access_logs::{self, Secret};
use crate::browser::Browser;
use crate::browsers::Browsers;
use crate::proxies::{self, Proxy};
use crate::scenarios::{self, Urls};
use crate::{gateway, root};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The scenarios run through the proxies (`node --test-name-pattern`): the app's main one in
/// relay mode (the visitor's key) and operator-key mode's (a held check, image links
/// rewritten to the public origin).
const SCENARIOS: &str = "^(enter the key, pick a style, create|operator-key mode)";
/// How many scenarios that pattern names: a pattern that matches none passes nothing.
const SCENARIO_COUNT: usize = 2;
/// What each log must name: the relay gateway's and the operator-key gateway's proxies.
const RELAY_PATHS: [&str; 5] = ["/gateway/info", "/api/styles", "/api/balance", "/api/creation", "/images/"];
const OPERATOR_PATHS: [&str; 3] = ["/gateway/info", "/api/creation", "/images/"];
/// The unit's flags for a gateway behind a TLS proxy on its host (deploy/clipcloud-gateway.service).
const BEHIND_A_PROXY: [&str; 3] = ["--https", "--trust-proxy", "127.0.0.1"];
/// The engines that run them: the proxies' part is the same in every engine, and Firefox and
/// WebKitGTK keep their trusted certificates elsewhere than Chromium's NSS database.
const ENGINES: [Browser; 1] = [Browser::Chromium];

/// Each proxy in each engine, with fresh gateways in front of `emulator`, serving `dist`.
pub fn end_to_end(
    browsers: &mut Browsers,
    gateway_binary: &Path,
    emulator: &str,
    dist: &Path,
) -> Result<(), String> {
    let dir = root().join("target").join("proxies");
    crate::files::fresh_dir(&dir)?;
    let key_file = scenarios::operator_key_file()?;
    for browser in ENGINES {
        for kind in proxies::BOTH {
            let name = format!("{}-{}", kind.id(), browser.id());
            let gateway = |mode: &str, flags: &[String]| {
                let log = dir.join(format!("gateway-{mode}-{name}.log"));
                let log = std::fs::File::create(&log)
                    .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
                let flags: Vec<&str> = flags.iter().map(String::as_str).chain(BEHIND_A_PROXY).collect();
                gateway::start(gateway_binary, "127.0.0.1:0", emulator, dist, &flags, Stdio::from(log))
            };
            let relay = gateway("relay", &[])?;
            // A fresh one per run: its day's budget is one image.
            let operator = gateway("operator", &scenarios::operator_flags(&key_file))?;
            let relay_proxy = proxies::start(kind, &format!("relay-{}", browser.id()), &relay.url)?;
            let operator_proxy = proxies::start(kind, &format!("operator-{}", browser.id()), &operator.url)?;
            println!(
                "\n== SPA through {} in {}: {} to {} (relay), {} to {} (operator key) ==",
                kind.name(),
                browser.name(),
                relay_proxy.url,
                relay.url,
                operator_proxy.url,
                operator.url
            );
            // The proxies' certificates trusted as a visitor's machine trusts a real one:
            // Node's requests through NODE_EXTRA_CA_CERTS, Chromium's through the NSS
            // database in its home folder.
            let certificates = [&relay_proxy.certificate, &operator_proxy.certificate];
            let pem = dir.join(format!("certificates-{name}.pem"));
            let text = certificates
                .iter()
                .map(|file| {
                    std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
                })
                .collect::<Result<String, String>>()?;
            std::fs::write(&pem, text).map_err(|e| format!("cannot write {}: {e}", pem.display()))?;
            let home = trusting_home(&dir.join(format!("home-{name}")), &certificates)?;
            let keys_file = dir.join(format!("keys-{name}.txt"));
            std::fs::write(&keys_file, "")
                .map_err(|e| format!("cannot write {}: {e}", keys_file.display()))?;
            let urls = Urls { spa: &relay_proxy.url, operator: &operator_proxy.url, emulator };
            let env: [(&str, &Path); 4] = [
                ("NODE_EXTRA_CA_CERTS", &pem),
                ("HOME", &home),
                ("CLIPCLOUD_E2E_KEYS_FILE", &keys_file),
                ("CLIPCLOUD_ARTIFACTS", &dir.join("artifacts")),
            ];
            browsers.timed(browser, &format!("app through {}", kind.name()), |b| {
                let tally = scenarios::run(b, browser, &urls, &name, Some(SCENARIOS), &env)?;
                if tally.passed != SCENARIO_COUNT {
                    return Err(format!(
                        "{} scenarios passed through {}, not {SCENARIO_COUNT}",
                        tally.passed,
                        kind.name()
                    ));
                }
                Ok(Some(format!("{} scenarios, their access log checked", tally.passed)))
            })?;
            let secrets = secrets(&keys_file, &key_file)?;
            check_log(relay_proxy, &RELAY_PATHS, &secrets)?;
            check_log(operator_proxy, &OPERATOR_PATHS, &secrets)?;
        }
    }
    Ok(())
}

/// A home folder whose NSS database (Chromium's on Linux) trusts `certificates` for TLS
/// servers, and nothing else.
fn trusting_home(home: &Path, certificates: &[&PathBuf]) -> Result<PathBuf, String> {
    let nssdb = home.join(".pki").join("nssdb");
    std::fs::create_dir_all(&nssdb).map_err(|e| format!("cannot create {}: {e}", nssdb.display()))?;
    let database = format!("sql:{}", nssdb.display());
    let certutil = || {
        let mut command = Command::new("certutil");
        command.args(["-d", &database]);
        command
    };
    crate::run(certutil().args(["-N", "--empty-password"]))?;
    for (n, certificate) in certificates.iter().enumerate() {
        // C: a trusted issuer (Caddy's authority); P: a trusted peer (nginx's, signed by itself).
        crate::run(
            certutil().args(["-A", "-t", "CP,,", "-n", &format!("proxy {n}"), "-i"]).arg(certificate),
        )?;
    }
    Ok(home.to_path_buf())
}

/// The keys the scenarios made (one a line in `keys_file`) and the operator's (`key_file`).
fn secrets(keys_file: &Path, key_file: &Path) -> Result<Vec<Secret>, String> {
    let read = |file: &Path| {
        std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
    };
    let keys = read(keys_file)?;
    let visitors = keys.lines().filter(|k| !k.is_empty()).enumerate().map(|(n, key)| Secret {
        what: format!("visitor key {} of the scenarios", n + 1),
        value: key.to_owned(),
    });
    let operator = Secret { what: "the operator's key".into(), value: read(key_file)?.trim().to_owned() };
    Ok(visitors.chain([operator]).collect())
}

/// Checks the proxy's access log (nginx and Caddy write each request as it ends), then stops it.
fn check_log(proxy: Proxy, paths: &[&str], secrets: &[Secret]) -> Result<(), String> {
    let lines = proxy.access_lines()?;
    let log = proxy.access_log.display().to_string();
    drop(proxy);
    access_logs::check(&log, &lines, paths, secrets)?;
    println!("{log}: {} requests, none with a key or a secret parameter", lines.len());
    Ok(())
}
