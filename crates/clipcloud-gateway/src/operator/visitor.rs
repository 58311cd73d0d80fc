//! Who is calling, in operator-key mode: a signed visitor token (the embedding site's
//! backend vouches for its user), else the gateway's own signed cookie, else the client's
//! IP address (what a trusted proxy forwards: [`crate::forwarded`]).

use crate::config::Prefixes;
use crate::secret::{hex, Secret};
use axum::http::{header, HeaderMap, HeaderValue};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const COOKIE_NAME: &str = "cc_visitor";

/// A visitor identity, as kept in the ledger and the limits (`t:`, `c:` or `ip:` first);
/// beside an answer, for the access log.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VisitorId(pub String);

/// What a valid token grants: its own budget until it expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub subject: String,
    pub expires_unix: u64,
    /// Hundredths of a credit.
    pub budget: i64,
    /// Names this token (not its subject) for its budget: a new token is a new allowance.
    pub id: String,
}

/// Why a token is refused; the message is for the visitor.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    BadSignature,
    Expired,
}

impl TokenError {
    pub fn message(&self) -> &'static str {
        match self {
            Self::Malformed => {
                "the visitor token is not one this gateway issues (v1.SUBJECT.EXPIRES.BUDGET.SIGNATURE)"
            }
            Self::BadSignature => "the visitor token's signature does not match",
            Self::Expired => "the visitor token has expired; ask the site for a new one",
        }
    }
}

impl Token {
    /// `v1.SUBJECT.EXPIRES_UNIX.BUDGET_HUNDREDTHS.HMAC_HEX`, the HMAC-SHA256 under the shared
    /// secret of everything before the last dot. SUBJECT: 1–64 of `A-Za-z0-9_-`.
    pub fn verify(text: &str, secret: &Secret, now_unix: u64) -> Result<Self, TokenError> {
        let (signed, signature) = text.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let mut parts = signed.split('.');
        let (Some("v1"), Some(subject), Some(expires), Some(budget), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let subject_ok = (1..=64).contains(&subject.len())
            && subject.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let expires_unix: u64 = expires.parse().map_err(|_| TokenError::Malformed)?;
        let budget: i64 = budget.parse().map_err(|_| TokenError::Malformed)?;
        if !subject_ok || budget < 0 || signature.len() != 64 {
            return Err(TokenError::Malformed);
        }
        if !secret.verify(signed.as_bytes(), signature) {
            return Err(TokenError::BadSignature);
        }
        if expires_unix <= now_unix {
            return Err(TokenError::Expired);
        }
        Ok(Self { subject: subject.to_owned(), expires_unix, budget, id: signature[..16].to_owned() })
    }

    /// A token as the site's backend makes it (here for tests and the docs' example).
    pub fn sign(secret: &Secret, subject: &str, expires_unix: u64, budget: i64) -> String {
        let signed = format!("v1.{subject}.{expires_unix}.{budget}");
        let signature = hex(&secret.sign(signed.as_bytes()));
        format!("{signed}.{signature}")
    }
}

/// The gateway's cookie: a random id and its signature. A cookie not signed with this
/// gateway's secret counts as none.
pub fn cookie_visitor(headers: &HeaderMap, secret: &Secret) -> Option<String> {
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            let Some((name, value)) = pair.trim().split_once('=') else { continue };
            if name != COOKIE_NAME {
                continue;
            }
            let Some((id, signature)) = value.split_once('.') else { continue };
            if id.len() == 32
                && id.bytes().all(|b| b.is_ascii_hexdigit())
                && secret.verify(cookie_message(id).as_bytes(), signature)
            {
                return Some(id.to_owned());
            }
        }
    }
    None
}

fn cookie_message(id: &str) -> String {
    ["visitor:", id].concat()
}

/// A fresh signed cookie: the `Set-Cookie` value and the new id.
pub fn new_cookie(secret: &Secret, https: bool) -> Option<(HeaderValue, String)> {
    let id = hex(Secret::random().ok()?.expose().get(..16)?);
    let signature = hex(&secret.sign(cookie_message(&id).as_bytes()));
    // SameSite=Strict: other sites' pages never spend as this visitor.
    let secure = if https { "; Secure" } else { "" };
    let value = format!(
        "{COOKIE_NAME}={id}.{signature}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict{secure}"
    );
    Some((HeaderValue::try_from(value).ok()?, id))
}

/// The network `ip` counts as, for what is kept per address (spend, rate, held checks):
/// `ip:ADDRESS` for a whole address, `ip:NETWORK/BITS` for a shorter prefix. An IPv4 address
/// mapped into IPv6 counts as IPv4.
pub fn network(ip: IpAddr, prefixes: Prefixes) -> String {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    };
    match ip {
        IpAddr::V4(v4) if prefixes.v4 >= 32 => format!("ip:{v4}"),
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefixes.v4)).unwrap_or(0);
            format!("ip:{}/{}", Ipv4Addr::from(u32::from(v4) & mask), prefixes.v4)
        }
        IpAddr::V6(v6) if prefixes.v6 >= 128 => format!("ip:{v6}"),
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefixes.v6)).unwrap_or(0);
            format!("ip:{}/{}", Ipv6Addr::from(u128::from(v6) & mask), prefixes.v6)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked_whole() {
        let secret = Secret::new("site-secret");
        let token = Token::sign(&secret, "user-42", 2_000, 550);
        let ok = Token::verify(&token, &secret, 1_000).unwrap();
        assert_eq!((ok.subject.as_str(), ok.expires_unix, ok.budget), ("user-42", 2_000, 550));
        assert_eq!(Token::verify(&token, &secret, 2_000), Err(TokenError::Expired));
        assert_eq!(Token::verify(&token, &Secret::new("other"), 1_000), Err(TokenError::BadSignature));
        let forged = token.replace(".550.", ".99999.");
        assert_eq!(Token::verify(&forged, &secret, 1_000), Err(TokenError::BadSignature));
        for bad in [
            "",
            "v1",
            "v1.a.b.c.d",
            "v2.u.2000.5.ab",
            "v1.u/x.2000.5.ab",
            "v1.u.2000.-5.ab",
            "v1.u.2000.5.x.y",
        ] {
            assert_eq!(Token::verify(bad, &secret, 1_000), Err(TokenError::Malformed), "{bad}");
        }
    }

    #[test]
    fn only_our_cookie_counts() {
        let secret = Secret::new("cookie-secret");
        let (set_cookie, id) = new_cookie(&secret, true).unwrap();
        let set_cookie = set_cookie.to_str().unwrap().to_owned();
        assert!(
            set_cookie.contains("HttpOnly")
                && set_cookie.contains("SameSite=Strict")
                && set_cookie.contains("Secure")
        );
        let value = set_cookie.split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::try_from(format!("a=b; {value}")).unwrap());
        assert_eq!(cookie_visitor(&headers, &secret), Some(id.clone()));
        assert_eq!(cookie_visitor(&headers, &Secret::new("other")), None);
        // Another first character (a fixed "ff" was no forgery for an id that starts with it).
        let other = if id.starts_with('0') { "1" } else { "0" };
        let forged = value.replacen(&id, &[other, &id[1..]].concat(), 1);
        headers.insert(header::COOKIE, HeaderValue::try_from(forged).unwrap());
        assert_eq!(cookie_visitor(&headers, &secret), None);
    }

    /// A token and a cookie signed before the gateway used the `hmac` crate (computed by
    /// the hand-written HMAC it replaced): what sites and browsers hold stays valid.
    #[test]
    fn tokens_and_cookies_issued_earlier_stay_valid() {
        let token = "v1.user-42.2000.550.fa9115f70d1822c0787fbab2ac2e8713d8b87059071b7eba6dbefa7606e01ff4";
        assert_eq!(Token::sign(&Secret::new("site-secret"), "user-42", 2_000, 550), token);
        let ok = Token::verify(token, &Secret::new("site-secret"), 1_000).unwrap();
        assert_eq!((ok.subject.as_str(), ok.id.as_str()), ("user-42", "fa9115f70d1822c0"));
        // The same signature in capitals was never accepted, and is not now.
        let shouted = token.replace("fa9115f70d", "FA9115F70D");
        assert_eq!(
            Token::verify(&shouted, &Secret::new("site-secret"), 1_000),
            Err(TokenError::BadSignature)
        );

        let id = "00112233445566778899aabbccddeeff";
        let signature = "9145e345318c1a2b20826136cb72c3d8f109b8fd6e2d90bdf63505c4db096acc";
        let mut headers = HeaderMap::new();
        let cookie = format!("{COOKIE_NAME}={id}.{signature}");
        headers.insert(header::COOKIE, HeaderValue::try_from(cookie).unwrap());
        assert_eq!(cookie_visitor(&headers, &Secret::new("cookie-secret")).as_deref(), Some(id));
    }

    #[test]
    fn addresses_count_by_network() {
        let of = |ip: &str, v4, v6| network(ip.parse().unwrap(), Prefixes { v4, v6 });
        assert_eq!(of("203.0.113.7", 32, 64), "ip:203.0.113.7");
        assert_eq!(of("203.0.113.7", 24, 64), "ip:203.0.113.0/24");
        assert_eq!(of("2001:db8:1:2:aaaa::1", 32, 64), "ip:2001:db8:1:2::/64");
        assert_eq!(of("2001:db8:1:2:bbbb::9", 32, 64), "ip:2001:db8:1:2::/64");
        assert_eq!(of("2001:db8:1:3::1", 32, 64), "ip:2001:db8:1:3::/64");
        assert_eq!(of("2001:db8::1", 32, 128), "ip:2001:db8::1");
        assert_eq!(of("::ffff:203.0.113.7", 24, 64), "ip:203.0.113.0/24");
        assert_eq!(of("10.1.2.3", 1, 1), "ip:0.0.0.0/1");
    }
}
