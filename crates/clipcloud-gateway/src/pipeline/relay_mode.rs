//! Relay mode: visitors bring their own key, and theirs is the key that goes upstream.
//! Nothing to admit beyond the origin rules (the edge's), nothing to account for.

use crate::forward::call::Call;
use crate::forward::Forwarder;
use crate::pipeline::{Caller, Forwarded, Policy};
use crate::refusal::Refusal;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub struct RelayMode;

impl Policy for RelayMode {
    type Context = ();

    async fn admit(&self, _: &Call<'_>, _: &Caller<'_>, _: &mut ()) -> Result<(), Refusal> {
        Ok(())
    }

    fn key<'a>(&'a self, call: &'a Call<'_>) -> Result<&'a str, Refusal> {
        call.given_key.as_deref().ok_or_else(|| {
            Refusal::new(
                StatusCode::UNAUTHORIZED,
                "an API key is needed: this gateway relays your own ClipCloud key \
                 (Authorization: Bearer YOUR_KEY, or ?apikey=YOUR_KEY)",
            )
        })
    }

    async fn forward(
        &self,
        forwarder: &Forwarder,
        call: &Call<'_>,
        key: &str,
        _: &mut (),
    ) -> Result<Forwarded, Refusal> {
        forwarder.call(call, key).await.map(Forwarded::from)
    }

    async fn settle(&self, _: &Call<'_>, _: (), outcome: Result<Forwarded, Refusal>) -> Response {
        outcome.map_or_else(IntoResponse::into_response, |forwarded| forwarded.response)
    }
}
