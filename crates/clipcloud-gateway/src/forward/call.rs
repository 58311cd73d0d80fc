//! One API call as the gateway read it ([`Call`]): the route, the key the caller gave, and
//! (for a create) the request as the core reads it; and the request the core builds for it
//! with the key that goes upstream ([`ApiRequest::upstream`]).

use clipcloud::codec::{Endpoint, HttpRequest};
use clipcloud::route::Route;

/// A request read whole and checked: the route, the key the caller gave, and (for a
/// create) the request as the core reads it.
pub struct Call<'a> {
    pub request: ApiRequest<'a>,
    pub given_key: Option<String>,
    /// `scheme://host` of this gateway as the caller reached it, for image links.
    pub own_origin: Option<String>,
    /// A check that asks to be held (`Prefer: wait=N`), within this gateway's `--hold-max`.
    pub wait: Option<std::time::Duration>,
    /// The caller's network address (`ip:...`, see `operator::visitor::network`): what its
    /// held checks count against.
    pub network: String,
}

/// One of the four calls, a create with its (valid) request.
pub enum ApiRequest<'a> {
    Create(clipcloud::CreateRequest),
    Check(&'a str),
    Balance,
    Styles,
}

impl ApiRequest<'_> {
    pub fn route(&self) -> Route<'_> {
        match self {
            Self::Create(_) => Route::Create,
            Self::Check(id) => Route::Check(id),
            Self::Balance => Route::Balance,
            Self::Styles => Route::Styles,
        }
    }

    /// The request to send upstream, built by the core with `key`.
    pub fn upstream(&self, key: &str) -> HttpRequest {
        let endpoint = Endpoint { base_url: "", api_key: Some(key) };
        match self {
            Self::Create(request) => endpoint.create(request),
            Self::Check(id) => endpoint.check(id),
            Self::Balance => endpoint.balance(),
            Self::Styles => endpoint.styles(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_core_builds_what_goes_upstream() {
        let request = ApiRequest::Check("ab-1").upstream("k&1");
        assert_eq!(request.url, "/api/creation/ab-1?apikey=k%261");
        let request = ApiRequest::Create(clipcloud::StyleRequest::new("a", "standard").into()).upstream("k");
        assert_eq!(request.url, "/api/creation?apikey=k");
        assert_eq!(request.body.as_deref(), Some(r#"{"prompt":"a","styleName":"standard"}"#));
    }
}
