//! `clipcloud-healthcheck [URL]`: exits 0 when `GET URL` answers 200, else 1 and says why
//! on stderr. Without a URL: `/healthz` of the gateway beside it, at the address in
//! `CLIPCLOUD_GATEWAY_LISTEN` (the variable the container image sets; a wildcard host is
//! reached on loopback), else at the gateway's default `127.0.0.1:8080`.

#![forbid(unsafe_code)]

use clipcloud_healthcheck::{get, local_url, DEFAULT_LISTEN};
use std::process::ExitCode;
use std::time::Duration;

/// Longer than any answer of `/healthz` takes; shorter than the image's HEALTHCHECK timeout.
const TIMEOUT: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let url = match (args.next(), args.next()) {
        (None, _) => {
            let listen =
                std::env::var("CLIPCLOUD_GATEWAY_LISTEN").unwrap_or_else(|_| DEFAULT_LISTEN.to_owned());
            local_url(&listen, "/healthz")
        }
        (Some(flag), None) if flag == "--help" || flag == "-h" => {
            println!(
                "usage: clipcloud-healthcheck [http://HOST:PORT/PATH]  (default: the gateway's /healthz)"
            );
            return ExitCode::SUCCESS;
        }
        (Some(url), None) => url,
        (Some(_), Some(_)) => {
            eprintln!("clipcloud-healthcheck: one URL at most (see --help)");
            return ExitCode::from(2);
        }
    };
    match get(&url, TIMEOUT) {
        Ok(answer) if answer.status == 200 => ExitCode::SUCCESS,
        Ok(answer) => {
            eprintln!("clipcloud-healthcheck: {url} answered {}", answer.status);
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("clipcloud-healthcheck: {e}");
            ExitCode::FAILURE
        }
    }
}
