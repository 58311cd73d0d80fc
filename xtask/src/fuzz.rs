//! `cargo xtask fuzz [SECONDS]`: runs each fuzz target of the core for a bounded time
//! (default 60 s each). Not part of `test`: fuzzing wants minutes to hours, CI has not.
//!
//! New inputs go to a working corpus under target/; the committed seed corpus stays
//! small. A crash lands in crates/clipcloud/fuzz/artifacts/: copy it to
//! `crates/clipcloud/fuzz/regressions/<target>/` and `cargo test` replays it forever.

use crate::run;
use std::process::Command;

const TARGETS: [&str; 2] = ["decode", "validate"];

pub fn all(args: &[String]) -> Result<(), String> {
    let seconds: u64 = match args {
        [] => 60,
        [n] => n.parse().map_err(|_| format!("not a number of seconds: {n}"))?,
        _ => return Err("usage: cargo xtask fuzz [SECONDS per target]".into()),
    };
    install_cargo_fuzz()?;
    let crate_dir = crate::root().join("crates").join("clipcloud");
    for target in TARGETS {
        let work = crate::root().join("target").join("fuzz-corpus").join(target);
        std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
        let seeds = crate_dir.join("fuzz").join("corpus").join(target);
        println!("\n== fuzzing {target} for {seconds} s ==");
        run(Command::new("cargo")
            .current_dir(&crate_dir)
            // libFuzzer needs sanitizer flags that stable rustc accepts only with this.
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", target])
            .arg(&work)
            .arg(&seeds)
            .arg("--")
            .arg(format!("-max_total_time={seconds}")))?;
    }
    Ok(())
}

fn install_cargo_fuzz() -> Result<(), String> {
    let found = Command::new("cargo").args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success());
    if found {
        return Ok(());
    }
    println!("setup: installing cargo-fuzz");
    run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))
}
