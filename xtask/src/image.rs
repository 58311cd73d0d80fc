//! `cargo xtask image`: the container image of `deploy/Containerfile`, built and run here
//! offline, measured. No image registry is reachable, so the image is `FROM scratch` around
//! static binaries (`x86_64-unknown-linux-musl`; musl-tools compiles the bundled SQLite),
//! and the tools are Debian's: buildah builds it (vfs storage, chroot isolation), podman runs
//! it with runc and cgroupfs (crun and `--cgroups disabled` fail in this sandbox; podman needs
//! a `containers.conf` without default ulimits or a pids limit).
//!
//! The check: the image's gateway prints this version and commit; a container from it,
//! read-only root, in operator-key mode (the emulator's demo key mounted as a file, the
//! ledger written to the image's volume) in front of an emulator on the host network, serves
//! the packed app at `/` and answers `/healthz`, and its own HEALTHCHECK passes
//! (`podman healthcheck run`).

use crate::dist::{check_serves_app, check_version, copy_file, copy_tree, git, release_build};
use crate::files::fresh_dir;
use crate::{emulator, root, run};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const TARGET: &str = "x86_64-unknown-linux-musl";
const BINARIES: [&str; 2] = ["clipcloud-gateway", "clipcloud-healthcheck"];
const READY_PREFIX: &str = "clipcloud-gateway listening on ";
/// Where containers.conf's settings are the ones this sandbox needs.
const CONTAINERS_CONF: &str = "[containers]\ndefault_ulimits = []\npids_limit = 0\n";

/// `cargo xtask image`: builds the app, then the image, and checks it.
pub fn command() -> Result<(), String> {
    let dist = crate::spa::build()?;
    test(&dist)
}

/// Builds the image around the app in `dist` (already built), runs it and checks it.
pub fn test(dist: &Path) -> Result<(), String> {
    setup()?;
    let began = Instant::now();
    println!("\n== image: static gateway ({TARGET}, release profile, --features tls) ==");
    let binaries = release_build(Some(TARGET))?;
    let compiled = began.elapsed();

    let context = root().join("target").join("image").join("context");
    fresh_dir(&context)?;
    for name in BINARIES {
        copy_file(&binaries.join(name), &context.join(name))?;
    }
    copy_tree(dist, &context.join("dist"))?;
    fresh_dir(&context.join("state"))?;

    let version = env!("CARGO_PKG_VERSION");
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let tag = format!("localhost/clipcloud-gateway:{version}");
    println!("\n== image: buildah bud {tag} (offline, FROM scratch) ==");
    let built_at = Instant::now();
    // A rebuild replaces the tag; the old image would stay as an unnamed copy (vfs copies whole).
    let _ = buildah().args(["rmi", "--force", &tag]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    run(buildah()
        .args(["bud", "--isolation", "chroot", "--format", "docker", "--quiet"])
        .arg("--file")
        .arg(root().join("deploy").join("Containerfile"))
        .args(["--build-arg", &format!("VERSION={version}"), "--build-arg", &format!("COMMIT={commit}")])
        .args(["--tag", &tag])
        .arg(&context))?;
    let built = built_at.elapsed();
    let size = output(podman().args(["image", "inspect", "--format", "{{.Size}}", &tag]))?;

    println!("\n== image: running {tag} ==");
    check_version(podman().args(["run", "--rm", "--network", "none", &tag, "--version"]))?;
    let emulator_binary = emulator::build()?;
    let log_dir = root().join("target").join("image");
    let emulator = emulator::start(&emulator_binary, &["--quiet"], &log_dir.join("emulator.log"))?;
    let started_at = Instant::now();
    let container = Container::start(&tag, &emulator.url, &log_dir.join("container.log"))?;
    let ready = started_at.elapsed();
    check_serves_app(&container.url, &context.join("dist").join("index.html"))?;
    run(podman().args(["healthcheck", "run", &container.name]))?;
    println!(
        "\nimage {tag}: {} bytes ({}), {commit}; static build {} s, buildah {} s, ready {} ms after `podman run`; \
         served / and /healthz at {}, its HEALTHCHECK passed",
        size.trim(),
        human_size(size.trim()),
        compiled.as_secs(),
        built.as_secs(),
        ready.as_millis(),
        container.url
    );
    Ok(())
}

/// A container of the image, in front of `upstream`, on a free loopback port of the host
/// network; removed when dropped.
struct Container {
    name: String,
    url: String,
    /// `podman run`, attached: the container's stdout (its ready line) comes through it.
    process: Option<emulator::Running>,
}

impl Container {
    fn start(tag: &str, upstream: &str, log: &Path) -> Result<Self, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let name = format!("clipcloud-image-check-{}", std::process::id());
        let log_file =
            std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        // The emulator's demo key, no secret: readable by the image's user.
        let key_file = log.with_file_name("operator-key.txt");
        std::fs::write(&key_file, format!("{}\n", crate::DEMO_KEY))
            .map_err(|e| format!("cannot write {}: {e}", key_file.display()))?;
        let mut command = podman();
        command
            .args(["run", "--rm", "--name", &name, "--network", "host", "--read-only"])
            // The listen address as the image sets it (an environment variable), so that the
            // HEALTHCHECK, which reads it too, finds this port.
            .args(["--env", &format!("CLIPCLOUD_GATEWAY_LISTEN=127.0.0.1:{port}")])
            .arg("--volume")
            .arg(format!("{}:/run/secrets/clipcloud-key:ro", key_file.display()))
            .args([tag, "--upstream", upstream, "--key-file", "/run/secrets/clipcloud-key"]);
        // From here on, dropping `container` removes the container, whatever fails.
        let mut container = Self { name, url: String::new(), process: None };
        let process = emulator::spawn(command, "the container", READY_PREFIX, Stdio::from(log_file))?;
        container.url = process.url.clone();
        container.process = Some(process);
        Ok(container)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        // Before `podman run` is stopped: killing it alone would leave the container running.
        let _ = podman()
            .args(["rm", "--force", "--volumes", "--time", "10", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        drop(self.process.take());
    }
}

/// Debian's buildah, podman, runc and musl-tools, and the musl target, when missing.
fn setup() -> Result<(), String> {
    let missing: Vec<&str> =
        [("buildah", "buildah"), ("podman", "podman"), ("runc", "runc"), ("musl-gcc", "musl-tools")]
            .into_iter()
            .filter(|(program, _)| Command::new(program).arg("--version").output().is_err())
            .map(|(_, package)| package)
            .collect();
    if !missing.is_empty() {
        crate::setup::apt_install(&missing)?;
    }
    crate::setup::rust_target(TARGET)?;
    std::fs::create_dir_all(conf_path().parent().unwrap_or(Path::new(".")))
        .and_then(|()| std::fs::write(conf_path(), CONTAINERS_CONF))
        .map_err(|e| format!("cannot write {}: {e}", conf_path().display()))
}

fn conf_path() -> PathBuf {
    root().join("target").join("image").join("containers.conf")
}

fn buildah() -> Command {
    let mut command = Command::new("buildah");
    command.args(["--storage-driver", "vfs"]).env("CONTAINERS_CONF", conf_path());
    command
}

fn podman() -> Command {
    let mut command = Command::new("podman");
    command
        .args(["--storage-driver", "vfs", "--runtime", "runc", "--cgroup-manager", "cgroupfs"])
        .env("CONTAINERS_CONF", conf_path());
    command
}

/// A command's stdout; its stderr passes through.
fn output(command: &mut Command) -> Result<String, String> {
    let out =
        command.stderr(Stdio::inherit()).output().map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{command:?} failed ({})", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `12345678` → `11.8 MiB`.
fn human_size(bytes: &str) -> String {
    bytes.parse::<f64>().map_or_else(|_| "?".into(), |b| format!("{:.1} MiB", b / 1024.0 / 1024.0))
}
