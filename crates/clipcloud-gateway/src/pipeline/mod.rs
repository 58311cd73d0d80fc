//! The phases of an API call, named once: **admit → key → forward → settle**. A mode is a
//! [`Policy`], what each phase does in it, and [`run`] calls the phases in that order for
//! every `/api/...` call (after the edge has read the call and checked its origin), so relay
//! mode ([`relay_mode`]) and operator-key mode ([`operator_mode`]) read side by side. As in
//! pingora's phases, a context of the policy's own carries what one phase learned to the
//! next.
//!
//! - **admit**: may this caller make this call? (In operator-key mode: who it is, its rate
//!   and its budget, whether the creation it asks about is its own.)
//! - **key**: the API key that goes upstream.
//! - **forward**: the answer, from the service through the forward layer or, for a call the
//!   policy answers itself, from here.
//! - **settle**: what the outcome means for the accounts, and the last touches on the
//!   answer. It runs whatever came before, a refusal too, so what admit reserved is always
//!   resolved.

pub mod operator_mode;
pub mod relay_mode;

use crate::forward::call::Call;
use crate::forward::Forwarder;
use crate::refusal::Refusal;
use axum::http::HeaderMap;
use axum::response::Response;
use clipcloud::codec::HttpResponse;
use std::future::Future;
use std::net::SocketAddr;

/// Who sent the call, as its connection shows it.
pub struct Caller<'a> {
    /// The connection's peer (a proxy's address, when there is one in front).
    pub peer: SocketAddr,
    pub headers: &'a HeaderMap,
}

/// What the forward phase gives the caller.
pub struct Forwarded {
    pub response: Response,
    /// The service's answer as the core reads it; `None` when the policy answered itself.
    pub answer: Option<HttpResponse>,
}

impl From<(Response, HttpResponse)> for Forwarded {
    fn from((response, answer): (Response, HttpResponse)) -> Self {
        Self { response, answer: Some(answer) }
    }
}

/// Beside a call's answer: whether it passed admit and key (and so went on to forward),
/// for the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admitted(pub bool);

/// One mode's rules for an API call, phase by phase; [`run`] calls them in order.
pub trait Policy: Sync {
    /// What the phases of one call learn and hand on.
    type Context: Default + Send;

    /// Admit: `Ok` when this caller may make this call.
    fn admit(
        &self,
        call: &Call<'_>,
        caller: &Caller<'_>,
        context: &mut Self::Context,
    ) -> impl Future<Output = Result<(), Refusal>> + Send;

    /// Key: the API key that goes upstream.
    fn key<'a>(&'a self, call: &'a Call<'_>) -> Result<&'a str, Refusal>;

    /// Forward: the answer for an admitted call, sent upstream with `key`; what it starts
    /// that settle must see goes into `context`.
    fn forward(
        &self,
        forwarder: &Forwarder,
        call: &Call<'_>,
        key: &str,
        context: &mut Self::Context,
    ) -> impl Future<Output = Result<Forwarded, Refusal>> + Send;

    /// Settle: accounts for `outcome` (a refusal from any phase, or what was forwarded)
    /// and makes the answer.
    fn settle(
        &self,
        call: &Call<'_>,
        context: Self::Context,
        outcome: Result<Forwarded, Refusal>,
    ) -> impl Future<Output = Response> + Send;
}

/// One API call through `policy`: admit → key → forward → settle; the answer carries
/// [`Admitted`].
pub async fn run<P: Policy>(
    policy: &P,
    forwarder: &Forwarder,
    call: &Call<'_>,
    caller: &Caller<'_>,
) -> Response {
    let mut context = P::Context::default();
    let mut admitted = false;
    let outcome = match policy.admit(call, caller, &mut context).await {
        Ok(()) => match policy.key(call) {
            Ok(key) => {
                admitted = true;
                policy.forward(forwarder, call, key, &mut context).await
            }
            Err(refusal) => Err(refusal),
        },
        Err(refusal) => Err(refusal),
    };
    let mut response = policy.settle(call, context, outcome).await;
    response.extensions_mut().insert(Admitted(admitted));
    response
}
