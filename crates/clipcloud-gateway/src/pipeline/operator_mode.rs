//! Operator-key mode: visitors send no key (or the passphrase, or a token the embedding
//! site signed); the gateway adds its own. Deny by default, in this order: access, identity,
//! then per call — a create is rate-limited, reserved against every spend cap at its
//! estimate and recorded; a check is answered only to the visitor who created it, and its
//! real cost settles the estimate; a balance is what the visitor may still spend.

use crate::config::{Access, Config};
use crate::forward::call::{ApiRequest, Call};
use crate::forward::Forwarder;
use crate::operator::accounts::{PendingCreate, Reservation, SpendRefusal, TokenGrant};
use crate::operator::rate_limit::Verdict;
use crate::operator::visitor::{client_ip, cookie_visitor, new_cookie, Token, VisitorId};
use crate::operator::OperatorState;
use crate::pipeline::{Caller, Forwarded, Policy};
use crate::refusal::Refusal;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clipcloud::model::wire::{Amount, BalanceBody};
use clipcloud::server::{create_outcome, image_count, style_name, CreateOutcome};
use std::net::IpAddr;

/// Operator-key mode's rules, over what the mode keeps ([`OperatorState`]).
pub struct OperatorMode<'a> {
    operator: &'a OperatorState,
    /// Behind https (`--https`): the cookie is `Secure`.
    https: bool,
    /// `--trust-proxy`: the peers whose `X-Forwarded-For` counts.
    trusted_proxies: &'a [IpAddr],
}

impl<'a> OperatorMode<'a> {
    pub fn new(operator: &'a OperatorState, config: &'a Config) -> Self {
        Self { operator, https: config.https, trusted_proxies: &config.trusted_proxies }
    }
}

/// What admit learned of a call: who is calling and, for a create, what it reserved.
#[derive(Default)]
pub struct Admission {
    visitor: Option<Visitor>,
    reservation: Option<Reservation>,
}

/// Who is calling, as far as this gateway can tell.
struct Visitor {
    id: String,
    /// `ip:ADDRESS`, also an owner of what was created before the visitor had a cookie.
    address: String,
    token: Option<Token>,
    set_cookie: Option<HeaderValue>,
}

impl Policy for OperatorMode<'_> {
    type Context = Admission;

    async fn admit(
        &self,
        call: &Call<'_>,
        caller: &Caller<'_>,
        admission: &mut Admission,
    ) -> Result<(), Refusal> {
        let visitor = admission.visitor.insert(self.identify(call.given_key.as_deref(), caller).await?);
        match &call.request {
            ApiRequest::Create(request) => {
                self.limit_rate(visitor).await?;
                admission.reservation = Some(self.reserve(request, visitor).await?);
            }
            ApiRequest::Check(id) => {
                let owner = self.operator.accounts.owner(id).await;
                // What a visitor did before it had a cookie, it did from its address.
                if !owner.is_some_and(|o| o == visitor.id || o == visitor.address) {
                    return Err(Refusal::not_found(format!(
                        "no creation {id} was made through this gateway by you (a visitor can check only its own)"
                    )));
                }
            }
            ApiRequest::Balance | ApiRequest::Styles => {}
        }
        Ok(())
    }

    fn key<'a>(&'a self, _: &'a Call<'_>) -> Result<&'a str, Refusal> {
        Ok(self.operator.settings.api_key.expose_str())
    }

    async fn forward(
        &self,
        forwarder: &Forwarder,
        call: &Call<'_>,
        key: &str,
        admission: &Admission,
    ) -> Result<Forwarded, Refusal> {
        match (&call.request, &admission.visitor) {
            // A visitor's balance here is what it may still spend: the operator's own
            // balance is none of its business.
            (ApiRequest::Balance, Some(visitor)) => {
                Ok(Forwarded { response: self.allowance(visitor).await?, answer: None })
            }
            // Never the operator's balance, even to a call admit let through unidentified.
            (ApiRequest::Balance, None) => {
                Err(Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "the visitor is unknown"))
            }
            _ => forwarder.call(call, key).await.map(Forwarded::from),
        }
    }

    async fn settle(
        &self,
        call: &Call<'_>,
        admission: Admission,
        outcome: Result<Forwarded, Refusal>,
    ) -> Response {
        let accounts = &self.operator.accounts;
        let answer = outcome.as_ref().ok().and_then(|forwarded| forwarded.answer.as_ref());
        match (&call.request, admission.reservation) {
            (ApiRequest::Create(_), Some(reservation)) => match (&outcome, answer) {
                (_, Some(answer)) => match create_outcome(answer) {
                    CreateOutcome::Accepted(id) => accounts.accepted(reservation, &id).await,
                    CreateOutcome::Refused => accounts.refused(reservation).await,
                    CreateOutcome::Unknown => accounts.unknown(reservation).await,
                },
                // 503: not sent; anything else may have reached the service.
                (Err(refusal), _) if refusal.status == StatusCode::SERVICE_UNAVAILABLE => {
                    accounts.refused(reservation).await
                }
                _ => accounts.unknown(reservation).await,
            },
            (ApiRequest::Check(id), _) => {
                if let Some(Ok(clipcloud::Status::Done(done))) =
                    answer.map(|answer| clipcloud::codec::decode_check(answer, id))
                {
                    let cost = (done.cost * 100.0).round();
                    if cost.is_finite() && cost >= 0.0 {
                        accounts.settle(id, cost as i64).await;
                    }
                }
            }
            _ => {}
        }
        let mut response = outcome.map_or_else(IntoResponse::into_response, |forwarded| forwarded.response);
        if let Some(visitor) = admission.visitor {
            if let Some(cookie) = visitor.set_cookie {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            // For the access log.
            response.extensions_mut().insert(VisitorId(visitor.id));
        }
        response
    }
}

impl OperatorMode<'_> {
    async fn identify(&self, given_key: Option<&str>, caller: &Caller<'_>) -> Result<Visitor, Refusal> {
        let operator = self.operator;
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
        let ip = client_ip(caller.peer.ip(), caller.headers, self.trusted_proxies);
        let address = format!("ip:{ip}");
        if let Some(token) = token {
            return Ok(Visitor {
                id: format!("t:{}", token.subject),
                address,
                token: Some(token),
                set_cookie: None,
            });
        }
        if let Some(id) = cookie_visitor(caller.headers, &operator.settings.cookie_secret) {
            return Ok(Visitor { id: format!("c:{id}"), address, token: None, set_cookie: None });
        }
        // No cookie yet: the address stands for the visitor until the next request brings one.
        let set_cookie = match operator.cookies.take(&address).await {
            Ok(Verdict::Allowed) => new_cookie(&operator.settings.cookie_secret, self.https).map(|(v, _)| v),
            // No cookie this time: the address stands for the visitor a while longer.
            Ok(Verdict::Wait(_)) => None,
            Err(error) => {
                log_unavailable(&error);
                None
            }
        };
        Ok(Visitor { id: address.clone(), address, token: None, set_cookie })
    }

    /// A create takes a token from the visitor's bucket and, unless a token vouches for the
    /// visitor, from its address's.
    async fn limit_rate(&self, visitor: &Visitor) -> Result<(), Refusal> {
        let operator = self.operator;
        // Shared buckets out of reach: nothing is created, as when the spend caps cannot be read.
        let unavailable = |error: crate::store::redis::Error| {
            log_unavailable(&error);
            Refusal::new(StatusCode::SERVICE_UNAVAILABLE, SpendRefusal::Unavailable.message()).retry_after(10)
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
        Ok(())
    }

    /// The create's estimate reserved against every spend cap.
    async fn reserve(
        &self,
        request: &clipcloud::CreateRequest,
        visitor: &Visitor,
    ) -> Result<Reservation, Refusal> {
        let operator = self.operator;
        let count = image_count(request);
        let pending = PendingCreate {
            visitor: visitor.id.clone(),
            token: visitor.token.as_ref().map(grant),
            style: style_name(request).map(str::to_owned),
            count,
            estimate: operator.settings.price_per_image.saturating_mul(i64::from(count)),
            now_unix: crate::clock::unix_now(),
        };
        operator.accounts.reserve(pending).await.map_err(|refusal| {
            let status = if matches!(refusal, SpendRefusal::Unavailable) {
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
        })
    }

    /// What the visitor may still spend, as the API's balance answer.
    async fn allowance(&self, visitor: &Visitor) -> Result<Response, Refusal> {
        let grant = visitor.token.as_ref().map(grant);
        let accounts = &self.operator.accounts;
        let cents = accounts.allowance(&visitor.id, grant.as_ref(), crate::clock::unix_now()).await.map_err(
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
}

/// The shared rate limits could not be read (Redis): one error line, as for the caps.
fn log_unavailable(error: &crate::store::redis::Error) {
    crate::operator::accounts::log("rate-limits-unavailable", &error.to_string());
}

fn grant(token: &Token) -> TokenGrant {
    TokenGrant { id: token.id.clone(), budget: token.budget, expires_unix: token.expires_unix }
}
