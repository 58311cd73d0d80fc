//! The API's four paths, their methods and its key parameter, spelled once. Clients build
//! URLs from them ([`crate::codec::Endpoint`]); servers in front of the service (the gateway)
//! parse an incoming request with [`Route::parse`], which accepts exactly what a client sends
//! and nothing else: no `.`/`..` segments, no percent-escapes, no doubled or trailing slashes.

/// The HTTP methods the API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// The query parameter that carries the API key on every call.
pub const API_KEY_PARAM: &str = "apikey";

/// `POST` creates; `GET CREATION_PATH/{id}` checks.
pub const CREATION_PATH: &str = "/api/creation";
pub const BALANCE_PATH: &str = "/api/balance";
pub const STYLES_PATH: &str = "/api/styles";

/// One of the API's calls, as a request line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route<'a> {
    Create,
    /// The id has passed [`crate::validate::creation_id`].
    Check(&'a str),
    Balance,
    Styles,
}

impl<'a> Route<'a> {
    /// The call a method and (already split from its query) path name, or `None` for
    /// anything a client of this API would not send.
    pub fn parse(method: &str, path: &'a str) -> Option<Self> {
        let route = match path {
            CREATION_PATH => Self::Create,
            BALANCE_PATH => Self::Balance,
            STYLES_PATH => Self::Styles,
            _ => {
                let id = path.strip_prefix(CREATION_PATH)?.strip_prefix('/')?;
                crate::validate::creation_id(id).ok()?;
                Self::Check(id)
            }
        };
        (route.method().as_str() == method).then_some(route)
    }

    pub const fn method(self) -> Method {
        match self {
            Self::Create => Method::Post,
            Self::Check(_) | Self::Balance | Self::Styles => Method::Get,
        }
    }

    /// A short name for logs and metrics (never the id).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Check(_) => "check",
            Self::Balance => "balance",
            Self::Styles => "styles",
        }
    }

    /// The path as a client sends it.
    pub fn path(self) -> String {
        match self {
            Self::Create => CREATION_PATH.to_owned(),
            Self::Check(id) => [CREATION_PATH, "/", id].concat(),
            Self::Balance => BALANCE_PATH.to_owned(),
            Self::Styles => STYLES_PATH.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_calls_and_nothing_else() {
        assert_eq!(Route::parse("POST", "/api/creation"), Some(Route::Create));
        assert_eq!(Route::parse("GET", "/api/creation/ab-1_C"), Some(Route::Check("ab-1_C")));
        assert_eq!(Route::parse("GET", "/api/balance"), Some(Route::Balance));
        assert_eq!(Route::parse("GET", "/api/styles"), Some(Route::Styles));
        for (method, path) in [
            ("GET", "/api/creation"),
            ("DELETE", "/api/creation/abc"),
            ("PUT", "/api/balance"),
            ("POST", "/api/styles"),
            ("GET", "/api/creation/"),
            ("GET", "/api/creation/a/b"),
            ("GET", "/api/creation/.."),
            ("GET", "/api/creation/%2e%2e"),
            ("GET", "/api/creation/..;"),
            ("GET", "/api/../../x"),
            ("GET", "/api//balance"),
            ("GET", "/api/balance/"),
            ("GET", "//evil.example/api/balance"),
            ("GET", "http://evil.example/api/balance"),
            ("GET", "/API/balance"),
            ("GET", "/api/creation\\x"),
        ] {
            assert_eq!(Route::parse(method, path), None, "{method} {path}");
        }
    }

    #[test]
    fn paths_round_trip() {
        for route in [Route::Create, Route::Check("x-1"), Route::Balance, Route::Styles] {
            assert_eq!(Route::parse(route.method().as_str(), &route.path()), Some(route));
        }
    }
}
