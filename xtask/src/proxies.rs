//! Debian's nginx and Caddy in front of a gateway, as an operator runs them: each with its
//! site file from `deploy/`, changed only where a test must differ (the name the operator
//! substitutes, the ports, the certificate's folder), run as the current user with every
//! file under `target/` (no root, nothing of the machine's own nginx or Caddy).
//!
//! Both serve TLS, as the site files do: nginx a certificate made here with `openssl`,
//! Caddy its own local authority's (what it does for `localhost`).

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The name a test's proxy serves, put in place of `images.example.com` as docs/deploy.md
/// tells the operator to put theirs.
const TEST_NAME: &str = "localhost";
/// The name in the shipped site files.
const SHIPPED_NAME: &str = "images.example.com";
/// The gateway's address in the shipped site files (and the systemd unit).
const SHIPPED_GATEWAY: &str = "127.0.0.1:8080";
/// How many times a starting proxy is asked whether it passes requests on, 100 ms apart.
const READY_ATTEMPTS: u32 = 300;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Nginx,
    Caddy,
}

pub const BOTH: [Kind; 2] = [Kind::Nginx, Kind::Caddy];

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Nginx => "nginx",
            Kind::Caddy => "Caddy",
        }
    }

    pub fn id(self) -> &'static str {
        match self {
            Kind::Nginx => "nginx",
            Kind::Caddy => "caddy",
        }
    }
}

/// A running proxy; stopped when dropped.
pub struct Proxy {
    kind: Kind,
    child: Child,
    /// Where visitors reach it, e.g. `https://localhost:40123`.
    pub url: String,
    /// The certificate a client must trust to reach it (PEM).
    pub certificate: PathBuf,
    /// Its access log: nginx's (combined format), or Caddy's output, whose access lines
    /// are its `http.log.access` entries.
    pub access_log: PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // nginx's master stops its workers on TERM; killed, it would leave them serving.
        if self.kind == Kind::Nginx {
            let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        } else {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The shipped site file of `kind` in front of the gateway at `gateway` (`http://127.0.0.1:PORT`),
/// its files in `target/proxies/<name>/`; returns once a request through it reaches the gateway.
pub fn start(kind: Kind, name: &str, gateway: &str) -> Result<Proxy, String> {
    let gateway_port = port_of(gateway)?;
    let dir = crate::root().join("target").join("proxies").join(format!("{}-{name}", kind.id()));
    crate::files::fresh_dir(&dir)?;
    let (http, https) = (free_port()?, free_port()?);
    let proxy = match kind {
        Kind::Nginx => nginx(&dir, gateway_port, http, https)?,
        Kind::Caddy => caddy(&dir, gateway_port, http, https)?,
    };
    proxy.wait_ready(&dir)
}

/// `deploy/nginx/clipcloud.conf` included in an `nginx.conf` of the test's own (Debian's
/// main file plays that part: the `http` block that includes `sites-enabled/`), with the
/// certificate at the path certbot would write for the test's name.
fn nginx(dir: &Path, gateway_port: u16, http: u16, https: u16) -> Result<Proxy, String> {
    let live = dir.join("letsencrypt").join("live").join(TEST_NAME);
    std::fs::create_dir_all(&live).map_err(|e| format!("cannot create {}: {e}", live.display()))?;
    let certificate = live.join("fullchain.pem");
    self_signed(&certificate, &live.join("privkey.pem"))?;
    let www = dir.join("www");
    std::fs::create_dir_all(&www).map_err(|e| format!("cannot create {}: {e}", www.display()))?;
    let site = substituted(
        &read(&crate::root().join("deploy").join("nginx").join("clipcloud.conf"))?,
        &[
            (SHIPPED_NAME, TEST_NAME.to_owned()),
            // Loopback only: a test listens on no address other machines reach.
            ("listen 80;", format!("listen 127.0.0.1:{http};")),
            ("listen [::]:80;", format!("listen [::1]:{http};")),
            ("listen 443 ", format!("listen 127.0.0.1:{https} ")),
            ("listen [::]:443 ", format!("listen [::1]:{https} ")),
            (SHIPPED_GATEWAY, format!("127.0.0.1:{gateway_port}")),
            ("/etc/letsencrypt/", format!("{}/", dir.join("letsencrypt").display())),
            ("/var/www/html", www.display().to_string()),
        ],
    )?;
    write(&dir.join("clipcloud.conf"), &site)?;
    let access_log = dir.join("access.log");
    write(&dir.join("nginx.conf"), &main_config(dir, &access_log, "include clipcloud.conf;"))?;
    let child = run_nginx(dir)?;
    let url = format!("https://{TEST_NAME}:{https}");
    Ok(Proxy { kind: Kind::Nginx, child, url, certificate, access_log })
}

/// The shipped nginx site's `upstream` and proxying `location` in a plain-HTTP server on
/// loopback port `listen`, in front of `127.0.0.1:upstream_port` (the bench's nginx).
pub fn plain_http_site(listen: u16, upstream_port: u16) -> Result<String, String> {
    let shipped = read(&crate::root().join("deploy").join("nginx").join("clipcloud.conf"))?;
    let block = |start: &str, end: &str| {
        let from = shipped.find(start).ok_or_else(|| format!("the shipped nginx site has no `{start}`"))?;
        let to =
            from + shipped[from..].find(end).ok_or_else(|| format!("`{start}` is not closed"))? + end.len();
        Ok::<_, String>(&shipped[from..to])
    };
    let upstream = substituted(
        block("upstream clipcloud_gateway {", "\n}\n")?,
        &[(SHIPPED_GATEWAY, format!("127.0.0.1:{upstream_port}"))],
    )?;
    let location = block("    location / {\n        proxy_pass", "\n    }\n")?;
    Ok(format!("{upstream}\nserver {{\n    listen 127.0.0.1:{listen};\n{location}}}\n"))
}

/// nginx's main configuration as Debian's `/etc/nginx/nginx.conf` has it (as many workers as
/// cores, its default access log format), with every path under `dir`, around `http_block`.
pub fn main_config(dir: &Path, access_log: &Path, http_block: &str) -> String {
    let d = dir.display();
    format!(
        "worker_processes auto;\npid {d}/nginx.pid;\nevents {{\n    worker_connections 768;\n}}\nhttp {{\n    \
         sendfile on;\n    tcp_nopush on;\n    access_log {};\n    client_body_temp_path {d}/body;\n    \
         proxy_temp_path {d}/proxy;\n    fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    \
         scgi_temp_path {d}/scgi;\n    {http_block}\n}}\n",
        access_log.display()
    )
}

/// Debian's nginx on `dir/nginx.conf` in the foreground, its prefix, pid file and logs in `dir`.
pub fn run_nginx(dir: &Path) -> Result<Child, String> {
    let error_log = dir.join("error.log");
    let stderr = std::fs::File::create(dir.join("stderr.log")).map_err(|e| e.to_string())?;
    Command::new(NGINX)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(&error_log)
        .args(["-g", "daemon off;"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot start nginx (apt-get install nginx-light): {e}"))
}

/// Debian's nginx, in `/usr/sbin` (which a user's `PATH` may not name).
pub const NGINX: &str = "/usr/sbin/nginx";

/// `deploy/caddy/Caddyfile` after the test's global options (no admin endpoint, the ports,
/// no trust store to install into), Caddy's data (its local authority) under `dir`.
fn caddy(dir: &Path, gateway_port: u16, http: u16, https: u16) -> Result<Proxy, String> {
    let site = substituted(
        &read(&crate::root().join("deploy").join("caddy").join("Caddyfile"))?,
        &[(SHIPPED_NAME, TEST_NAME.to_owned()), (SHIPPED_GATEWAY, format!("127.0.0.1:{gateway_port}"))],
    )?;
    let global = format!(
        "{{\n\tadmin off\n\thttp_port {http}\n\thttps_port {https}\n\tdefault_bind 127.0.0.1\n\tskip_install_trust\n}}\n\n"
    );
    write(&dir.join("Caddyfile"), &(global + &site))?;
    let access_log = dir.join("caddy.log");
    let output = std::fs::File::create(&access_log).map_err(|e| e.to_string())?;
    let child = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(dir.join("Caddyfile"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(output)
        .spawn()
        .map_err(|e| format!("cannot start caddy (apt-get install caddy): {e}"))?;
    let certificate = dir.join("data/caddy/pki/authorities/local/root.crt");
    let url = format!("https://{TEST_NAME}:{https}");
    Ok(Proxy { kind: Kind::Caddy, child, url, certificate, access_log })
}

impl Proxy {
    /// Until `/healthz` answers through the proxy (its certificate trusted), or it has stopped.
    fn wait_ready(mut self, dir: &Path) -> Result<Self, String> {
        for _ in 0..READY_ATTEMPTS {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} stopped at start ({status}); its logs are in {}",
                    self.kind.name(),
                    dir.display()
                ));
            }
            let answered = self.certificate.exists()
                && Command::new("curl")
                    .args(["-sf", "-o", "/dev/null", "--max-time", "5", "--cacert"])
                    .arg(&self.certificate)
                    .arg(format!("{}/healthz", self.url))
                    .status()
                    .is_ok_and(|s| s.success());
            if answered {
                return Ok(self);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Err(format!(
            "{} at {} never passed a request on; its logs are in {}",
            self.kind.name(),
            self.url,
            dir.display()
        ))
    }

    /// Its access log's lines (for Caddy: only the access entries).
    pub fn access_lines(&self) -> Result<Vec<String>, String> {
        let mut text = String::new();
        std::fs::File::open(&self.access_log)
            .and_then(|mut f| f.read_to_string(&mut text))
            .map_err(|e| format!("cannot read {}: {e}", self.access_log.display()))?;
        Ok(text
            .lines()
            .filter(|line| self.kind == Kind::Nginx || line.contains("\"logger\":\"http.log.access"))
            .map(str::to_owned)
            .collect())
    }
}

/// A key and a certificate for the test's name, valid two days, signed by itself.
fn self_signed(certificate: &Path, key: &Path) -> Result<(), String> {
    crate::run(
        Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
            .args(["-days", "2", "-subj", &format!("/CN={TEST_NAME}")])
            .args(["-addext", &format!("subjectAltName=DNS:{TEST_NAME}"), "-keyout"])
            .arg(key)
            .arg("-out")
            .arg(certificate)
            .stderr(Stdio::null()),
    )
}

/// `text` with each `from` replaced by its `to`; each must be there, so that a change to a
/// shipped file fails here instead of leaving the shipped value in place.
fn substituted(text: &str, replacements: &[(&str, String)]) -> Result<String, String> {
    let mut text = text.to_owned();
    for (from, to) in replacements {
        if !text.contains(from) {
            return Err(format!("the shipped site file no longer has `{from}`: update xtask/src/proxies.rs"));
        }
        text = text.replace(from, to);
    }
    Ok(text)
}

/// A port nothing listens on now.
pub fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// The port of `http://HOST:PORT`.
pub fn port_of(url: &str) -> Result<u16, String> {
    url.trim_end_matches('/')
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .ok_or_else(|| format!("no port in {url}"))
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_substitution_must_find_its_text() {
        let out = substituted("a b a", &[("a", "x".into())]).unwrap();
        assert_eq!(out, "x b x");
        let err = substituted("a b", &[("c", "x".into())]).unwrap_err();
        assert!(err.contains("no longer has `c`"), "{err}");
    }

    #[test]
    fn the_bench_proxies_as_the_shipped_site_does() {
        let site = plain_http_site(4000, 5000).unwrap();
        assert!(site.starts_with("upstream clipcloud_gateway {\n    server 127.0.0.1:5000;"), "{site}");
        assert!(site.contains("server {\n    listen 127.0.0.1:4000;\n    location / {\n        proxy_pass http://clipcloud_gateway;"), "{site}");
        assert!(site.ends_with("proxy_read_timeout 75s;\n    }\n}\n"), "{site}");
        assert!(!site.contains("ssl") && !site.contains("acme"), "{site}");
    }

    #[test]
    fn ports_of_urls() {
        assert_eq!(port_of("http://127.0.0.1:8080").unwrap(), 8080);
        assert_eq!(port_of("http://127.0.0.1:8080/").unwrap(), 8080);
        assert!(port_of("http://localhost").is_err());
    }
}
