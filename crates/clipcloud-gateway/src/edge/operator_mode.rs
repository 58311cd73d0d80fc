//! Operator-key mode: visitors send no key (or the passphrase, or a token the embedding
//! site signed); the gateway adds its own. Deny by default, in this order: access, identity,
//! then per call — a create is rate-limited, reserved against every spend cap at its
//! estimate and recorded; a check is answered only to the visitor who created it, and its
//! real cost settles the estimate.

use crate::config::Access;
use crate::edge::access_log::LogNote;
use crate::edge::state::Gateway;
use crate::forward::call::{ApiRequest, Call};
use crate::operator::accounts::{PendingCreate, TokenGrant};
use crate::operator::rate_limit::Verdict;
use crate::operator::visitor::{client_ip, cookie_visitor, new_cookie, Token};
use crate::operator::OperatorState;
use crate::refusal::Refusal;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clipcloud::model::wire::{Amount, BalanceBody};
use clipcloud::server::{create_outcome, image_count, style_name, CreateOutcome};
use std::net::SocketAddr;
use std::time::Instant;

/// Who is calling, as far as this gateway can tell.
struct Visitor {
    id: String,
    /// `ip:ADDRESS`, also an owner of what was created before the visitor had a cookie.
    address: String,
    token: Option<Token>,
    set_cookie: Option<HeaderValue>,
}

pub async fn handle(
    gateway: &Gateway,
    call: Call<'_>,
    peer: SocketAddr,
    headers: &HeaderMap,
    note: &mut LogNote,
) -> Response {
    let Some(operator) = &gateway.operator else {
        return Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "operator-key mode is off").into_response();
    };
    let visitor = match identify(gateway, operator, call.given_key.as_deref(), peer, headers).await {
        Ok(visitor) => visitor,
        Err(refusal) => return refusal.into_response(),
    };
    note.visitor = Some(visitor.id.clone());
    let key = operator.settings.api_key.expose_str();
    let mut response = match &call.request {
        ApiRequest::Create(request) => create(gateway, operator, request, &visitor, key).await,
        ApiRequest::Check(id) => check(gateway, operator, &call, &visitor, id, key).await,
        ApiRequest::Balance => allowance(operator, &visitor).await,
        ApiRequest::Styles => {
            gateway.forwarder.forward(&call.request.upstream(key), &[key], None).await.map(|(r, _)| r)
        }
    }
    .unwrap_or_else(IntoResponse::into_response);
    if let Some(cookie) = visitor.set_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The shared rate limits could not be read (Redis): one error line, as for the caps.
fn log_unavailable(error: &crate::store::redis::Error) {
    crate::operator::accounts::log("rate-limits-unavailable", &error.to_string());
}

async fn identify(
    gateway: &Gateway,
    operator: &OperatorState,
    given_key: Option<&str>,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<Visitor, Refusal> {
    let now = crate::clock::unix_now();
    let unauthorized = |message: &str| Refusal::new(StatusCode::UNAUTHORIZED, message);
    let token = match &operator.settings.access {
        Access::Open => None,
        Access::Passphrase(passphrase) => {
            if !given_key.is_some_and(|k| passphrase.matches(k.as_bytes())) {
                return Err(unauthorized("this gateway asks for its passphrase in place of the API key"));
            }
            None
        }
        Access::Tokens(secret) => {
            let Some(text) = given_key else {
                return Err(unauthorized(
                    "this gateway asks for a visitor token from the site, in place of the API key",
                ));
            };
            Some(
                Token::verify(text, secret, now)
                    .map_err(|e| Refusal::new(StatusCode::FORBIDDEN, e.message()))?,
            )
        }
    };
    let ip = client_ip(peer.ip(), headers, &gateway.config.trusted_proxies);
    let address = format!("ip:{ip}");
    if let Some(token) = token {
        return Ok(Visitor {
            id: format!("t:{}", token.subject),
            address,
            token: Some(token),
            set_cookie: None,
        });
    }
    if let Some(id) = cookie_visitor(headers, &operator.settings.cookie_secret) {
        return Ok(Visitor { id: format!("c:{id}"), address, token: None, set_cookie: None });
    }
    // No cookie yet: the address stands for the visitor until the next request brings one.
    let set_cookie = match operator.cookies.take(&address).await {
        Ok(Verdict::Allowed) => {
            new_cookie(&operator.settings.cookie_secret, gateway.config.https).map(|(v, _)| v)
        }
        // No cookie this time: the address stands for the visitor a while longer.
        Ok(Verdict::Wait(_)) => None,
        Err(error) => {
            log_unavailable(&error);
            None
        }
    };
    Ok(Visitor { id: address.clone(), address, token: None, set_cookie })
}

async fn create(
    gateway: &Gateway,
    operator: &OperatorState,
    request: &clipcloud::CreateRequest,
    visitor: &Visitor,
    key: &str,
) -> Result<Response, Refusal> {
    // Shared buckets out of reach: nothing is created, as when the spend caps cannot be read.
    let unavailable = |error: crate::store::redis::Error| {
        log_unavailable(&error);
        let refusal = crate::operator::accounts::SpendRefusal::Unavailable;
        Refusal::new(StatusCode::SERVICE_UNAVAILABLE, refusal.message()).retry_after(10)
    };
    let mut verdict = operator.visitors.take(&visitor.id).await.map_err(unavailable)?;
    // Token holders are vouched for by the site; everyone else also shares the address's bucket.
    if verdict == Verdict::Allowed && visitor.token.is_none() && visitor.id != visitor.address {
        verdict = operator.addresses.take(&visitor.address).await.map_err(unavailable)?;
    }
    if let Verdict::Wait(wait) = verdict {
        let per_minute = operator.settings.creates_per_minute;
        return Err(Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many creations: this gateway allows {per_minute} a minute per visitor; try again shortly"),
        )
        .retry_after(wait.as_secs_f64().ceil() as u64));
    }
    let count = image_count(request);
    let pending = PendingCreate {
        visitor: visitor.id.clone(),
        token: visitor.token.as_ref().map(grant),
        style: style_name(request).map(str::to_owned),
        count,
        estimate: operator.settings.price_per_image.saturating_mul(i64::from(count)),
        now_unix: crate::clock::unix_now(),
    };
    let reservation = operator.accounts.reserve(pending).await.map_err(|refusal| {
        let status = if matches!(refusal, crate::operator::accounts::SpendRefusal::Unavailable) {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::PAYMENT_REQUIRED
        };
        let refused = Refusal::new(status, refusal.message());
        if status == StatusCode::SERVICE_UNAVAILABLE {
            refused.retry_after(10)
        } else {
            refused
        }
    })?;
    let upstream = ApiRequest::Create(request.clone()).upstream(key);
    // The creation's start as its held checks time it: when the create leaves for the service.
    let sent = Instant::now();
    let (response, answer) = match gateway.forwarder.forward(&upstream, &[key], None).await {
        Ok(sent) => sent,
        Err(refusal) => {
            // 503: not sent; anything else may have reached the service.
            if refusal.status == StatusCode::SERVICE_UNAVAILABLE {
                operator.accounts.refused(reservation).await;
            } else {
                operator.accounts.unknown(reservation).await;
            }
            return Err(refusal);
        }
    };
    gateway.forwarder.holds.created(request, &answer, sent);
    match create_outcome(&answer) {
        CreateOutcome::Accepted(id) => operator.accounts.accepted(reservation, &id).await,
        CreateOutcome::Refused => operator.accounts.refused(reservation).await,
        CreateOutcome::Unknown => operator.accounts.unknown(reservation).await,
    }
    Ok(response)
}

/// A visitor's balance here is what it may still spend: the operator's own balance is
/// none of its business.
async fn allowance(operator: &OperatorState, visitor: &Visitor) -> Result<Response, Refusal> {
    let grant = visitor.token.as_ref().map(grant);
    let cents =
        operator.accounts.allowance(&visitor.id, grant.as_ref(), crate::clock::unix_now()).await.map_err(
            |_| {
                Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "the allowance cannot be read right now")
                    .retry_after(10)
            },
        )?;
    let body = BalanceBody { success: true, balance: Amount::Number(cents as f64 / 100.0) };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    Ok(([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], json)
        .into_response())
}

fn grant(token: &Token) -> TokenGrant {
    TokenGrant { id: token.id.clone(), budget: token.budget, expires_unix: token.expires_unix }
}

async fn check(
    gateway: &Gateway,
    operator: &OperatorState,
    call: &Call<'_>,
    visitor: &Visitor,
    id: &str,
    key: &str,
) -> Result<Response, Refusal> {
    let owner = operator.accounts.owner(id).await;
    // What a visitor did before it had a cookie, it did from its address.
    if !owner.is_some_and(|o| o == visitor.id || o == visitor.address) {
        return Err(Refusal::not_found(format!(
            "no creation {id} was made through this gateway by you (a visitor can check only its own)"
        )));
    }
    let (response, answer) = gateway.forwarder.check(call, id, key).await?;
    if let Ok(clipcloud::Status::Done(done)) = clipcloud::codec::decode_check(&answer, id) {
        let cost = (done.cost * 100.0).round();
        if cost.is_finite() && cost >= 0.0 {
            operator.accounts.settle(id, cost as i64).await;
        }
    }
    Ok(response)
}
