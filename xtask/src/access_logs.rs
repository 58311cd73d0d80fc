//! What a proxy's access log may hold after the app has run through it: the requests, and no
//! secret. A log is kept for months and read by whoever runs the proxy; a key in a URL (or
//! in a header the proxy logs) ends up there.

/// Query parameters that carry a secret: the service's `apikey` (the gateway takes a header),
/// and the names a passphrase or a token would come under.
const SECRET_PARAMETERS: [&str; 3] = ["apikey=", "passphrase=", "token="];

/// One secret the scenario used, named for errors (which never print the secret itself).
pub struct Secret {
    pub what: String,
    pub value: String,
}

/// Fails unless `lines` (one request each) name each of `paths` and hold none of `secrets`,
/// as written or percent-encoded, nor a secret's query parameter. `log` names the log in errors.
pub fn check(log: &str, lines: &[String], paths: &[&str], secrets: &[Secret]) -> Result<(), String> {
    if lines.is_empty() {
        return Err(format!("{log} holds no request: the scenario did not go through it"));
    }
    for path in paths {
        if !lines.iter().any(|line| line.contains(path)) {
            return Err(format!("{log} holds no request to {path} ({} requests)", lines.len()));
        }
    }
    if secrets.is_empty() {
        return Err(format!("no secret to look for in {log}: the scenario made no key"));
    }
    for (number, line) in lines.iter().enumerate() {
        for secret in secrets {
            let encoded = clipcloud::percent::encode(&secret.value);
            if line.contains(&secret.value) || line.contains(&encoded) {
                return Err(format!("{log}, request {}: holds {}", number + 1, secret.what));
            }
        }
        let lower = line.to_ascii_lowercase();
        if let Some(parameter) = SECRET_PARAMETERS.iter().find(|p| lower.contains(*p)) {
            return Err(format!("{log}, request {}: a `{parameter}` query parameter", number + 1));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NGINX: &str = r#"127.0.0.1 - - [07/Dec/2026:18:40:01 +0000] "GET /api/balance HTTP/2.0" 200 17 "https://localhost:4000/" "Mozilla/5.0""#;
    const CADDY: &str = r#"{"level":"info","logger":"http.log.access","msg":"handled request","request":{"method":"GET","uri":"/images/ab.webp","headers":{"Authorization":["REDACTED"]}},"status":200}"#;

    fn key(value: &str) -> Vec<Secret> {
        vec![Secret { what: "the visitor's key".into(), value: value.into() }]
    }

    #[test]
    fn requests_without_secrets_pass() {
        let lines = [NGINX.to_owned(), CADDY.to_owned()];
        check("log", &lines, &["/api/balance", "/images/"], &key("k-12345678")).unwrap();
    }

    #[test]
    fn a_key_in_a_url_or_a_logged_header_fails_without_being_printed() {
        let in_url = NGINX.replace("/api/balance", "/api/balance?apikey=k-12345678");
        let err = check("log", std::slice::from_ref(&in_url), &[], &key("k-12345678")).unwrap_err();
        assert_eq!(err, "log, request 1: holds the visitor's key");
        // Another secret than the scenario's, where a key goes.
        let err = check("log", &[in_url], &[], &key("k-other")).unwrap_err();
        assert_eq!(err, "log, request 1: a `apikey=` query parameter");
        let in_header = CADDY.replace("REDACTED", "Bearer k-12345678");
        let err = check("log", &[in_header], &[], &key("k-12345678")).unwrap_err();
        assert_eq!(err, "log, request 1: holds the visitor's key");
        let encoded = NGINX.replace("/api/balance", "/api/balance?k=a%2Fb");
        assert!(check("log", &[encoded], &[], &key("a/b")).is_err());
    }

    #[test]
    fn an_empty_log_a_missing_path_or_no_secret_fails() {
        assert!(check("log", &[], &[], &key("k")).unwrap_err().contains("holds no request"));
        let lines = [NGINX.to_owned()];
        assert!(check("log", &lines, &["/api/creation"], &key("k")).unwrap_err().contains("/api/creation"));
        assert!(check("log", &lines, &[], &[]).unwrap_err().contains("no secret"));
    }
}
