//! Operator-key mode: visitors send no key (or the passphrase, or a token the embedding
//! site signed); the gateway adds its own. Deny by default, in this order: access, identity,
//! then per call — a create must name an allowed style (or advanced creates be allowed), is
//! rate-limited, reserved against every spend cap at the most its kind was seen to cost
//! (the caps lowered by what the service charged beyond the counters) and recorded, then
//! followed to its end by the gateway itself so that its real cost settles the reservation
//! without a visitor's check; a check is answered only to the visitor who created it; every
//! other call is rate-limited too; the styles answer is kept a minute; a balance is what
//! the visitor may still spend.

use crate::config::{Access, Config};
use crate::forward::call::{ApiRequest, Call};
use crate::forward::hold::Followed;
use crate::forward::Forwarder;
use crate::forwarded::client_ip;
use crate::operator::accounts::{Accounts, PendingCreate, Reservation, SpendRefusal, TokenGrant};
use crate::operator::prices::Prices;
use crate::operator::rate_limit::{Limiter, Verdict};
use crate::operator::visitor::{cookie_visitor, network, new_cookie, Token, VisitorId};
use crate::operator::{OperatorState, READS_PER_MINUTE};
use crate::pipeline::{Caller, Forwarded, Policy};
use crate::refusal::Refusal;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clipcloud::model::wire::{Amount, BalanceBody};
use clipcloud::server::{create_outcome, image_count, style_name, CreateOutcome};
use clipcloud::{CreateRequest, Finished};
use std::net::SocketAddr;

/// Operator-key mode's rules, over what the mode keeps ([`OperatorState`]).
pub struct OperatorMode<'a> {
    operator: &'a OperatorState,
    /// `--https` (the cookie is `Secure`), `--trust-proxy` (whose `X-Forwarded-For`
    /// counts) and the prefixes that make one address.
    config: &'a Config,
}

impl<'a> OperatorMode<'a> {
    pub fn new(operator: &'a OperatorState, config: &'a Config) -> Self {
        Self { operator, config }
    }
}

/// What admit learned of a call: who is calling and, for a create, what it reserved; what
/// forward started for it: the gateway's own follow of the creation.
#[derive(Default)]
pub struct Admission {
    visitor: Option<Visitor>,
    reservation: Option<Reservation>,
    followed: Option<Followed>,
}

/// Who is calling, as far as this gateway can tell.
struct Visitor {
    /// `t:<token subject>`, `c:<cookie id>`, or `ip:ADDRESS` for a caller with neither: what
    /// it creates is its own, and only its own is what it may check.
    id: String,
    /// Its network address (`ip:...`, see [`network`]): its creates and calls count against
    /// it too, unless a token vouches for the visitor.
    network: String,
    token: Option<Token>,
}

/// Which rate a call counts against.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rate {
    Creates,
    Reads,
}

impl Policy for OperatorMode<'_> {
    type Context = Admission;

    async fn admit(
        &self,
        call: &Call<'_>,
        caller: &Caller<'_>,
        admission: &mut Admission,
    ) -> Result<(), Refusal> {
        let visitor = admission.visitor.insert(self.identify(call, caller).await?);
        match &call.request {
            ApiRequest::Create(request) => {
                self.allowed(request)?;
                self.limit_rate(visitor, Rate::Creates).await?;
                admission.reservation = Some(self.reserve(request, visitor).await?);
            }
            ApiRequest::Check(id) => {
                self.limit_rate(visitor, Rate::Reads).await?;
                // Exactly its own: a caller behind the same address with another cookie (or
                // none) is someone else.
                if self.operator.accounts.owner(id).await.as_deref() != Some(visitor.id.as_str()) {
                    return Err(Refusal::not_found(format!(
                        "no creation {id} was made through this gateway by you (a visitor can check only its own)"
                    )));
                }
            }
            ApiRequest::Balance | ApiRequest::Styles => self.limit_rate(visitor, Rate::Reads).await?,
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
        admission: &mut Admission,
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
            (ApiRequest::Styles, _) => {
                let fetch = async { forwarder.call(call, key).await.map(|(response, _)| response) };
                let response = self.operator.styles.answer(fetch).await?;
                Ok(Forwarded { response, answer: None })
            }
            (ApiRequest::Create(_), _) => {
                let (response, answer) = forwarder.call(call, key).await?;
                // Followed to its end, so that its real cost settles without a visitor.
                if let CreateOutcome::Accepted(id) = create_outcome(&answer) {
                    admission.followed = forwarder.holds.follow(&forwarder.upstream, &id, key);
                }
                Ok(Forwarded { response, answer: Some(answer) })
            }
            (ApiRequest::Check(_), _) => forwarder.call(call, key).await.map(Forwarded::from),
        }
    }

    async fn settle(
        &self,
        call: &Call<'_>,
        admission: Admission,
        outcome: Result<Forwarded, Refusal>,
    ) -> Response {
        let Admission { visitor, reservation, followed } = admission;
        let accounts = &self.operator.accounts;
        let answer = outcome.as_ref().ok().and_then(|forwarded| forwarded.answer.as_ref());
        match (&call.request, reservation) {
            (ApiRequest::Create(_), Some(reservation)) => match (&outcome, answer) {
                (_, Some(answer)) => match create_outcome(answer) {
                    CreateOutcome::Accepted(id) => {
                        accounts.accepted(reservation, &id).await;
                        self.settle_when_finished(id, followed);
                    }
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
                if let Some(Ok(clipcloud::Status::Done(finished))) =
                    answer.map(|answer| clipcloud::codec::decode_check(answer, id))
                {
                    record_cost(accounts, &self.operator.prices, id, &finished).await;
                }
            }
            _ => {}
        }
        let mut response = outcome.map_or_else(IntoResponse::into_response, |forwarded| forwarded.response);
        if let Some(visitor) = visitor {
            // For the access log.
            response.extensions_mut().insert(VisitorId(visitor.id));
        }
        response
    }
}

impl OperatorMode<'_> {
    /// A fresh visitor cookie for a page answer to a request that brought none (not with
    /// tokens: a token is the visitor there), so that the app has its cookie before its
    /// first create. At most 20 a minute per address. Only pages give one: a client's
    /// identity never changes between a create and its checks.
    pub async fn page_cookie(&self, peer: SocketAddr, headers: &HeaderMap) -> Option<HeaderValue> {
        let settings = &self.operator.settings;
        if matches!(settings.access, Access::Tokens(_))
            || cookie_visitor(headers, &settings.cookie_secret).is_some()
        {
            return None;
        }
        let ip = client_ip(peer.ip(), headers, &self.config.trusted_proxies);
        match self.operator.cookies.take(&network(ip, self.config.prefixes)).await {
            Ok(Verdict::Allowed) => {
                new_cookie(&self.operator.settings.cookie_secret, self.config.https).map(|(v, _)| v)
            }
            Ok(Verdict::Wait(_)) => None,
            Err(error) => {
                log_unavailable(&error);
                None
            }
        }
    }

    async fn identify(&self, call: &Call<'_>, caller: &Caller<'_>) -> Result<Visitor, Refusal> {
        let operator = self.operator;
        let now = crate::clock::unix_now();
        let given_key = call.given_key.as_deref();
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
        let network = call.network.clone();
        if let Some(token) = token {
            return Ok(Visitor { id: format!("t:{}", token.subject), network, token: Some(token) });
        }
        if let Some(id) = cookie_visitor(caller.headers, &operator.settings.cookie_secret) {
            return Ok(Visitor { id: format!("c:{id}"), network, token: None });
        }
        // No cookie (the page gives it): the address is the visitor, for this call and, for a
        // client that keeps no cookie (a server, a page of another site), every other.
        let ip = client_ip(caller.peer.ip(), caller.headers, &self.config.trusted_proxies);
        Ok(Visitor { id: format!("ip:{ip}"), network, token: None })
    }

    /// What this site lets visitors create: by style (advanced creates with
    /// `--allow-advanced`), of the styles `--allow-style` lists if it does.
    fn allowed(&self, request: &CreateRequest) -> Result<(), Refusal> {
        let settings = &self.operator.settings;
        let refused = |message: String| Err(Refusal::new(StatusCode::BAD_REQUEST, message));
        match style_name(request) {
            None if !settings.allow_advanced => refused(
                "this site creates by style only: name one of its styles (styleName), not a size or model"
                    .to_owned(),
            ),
            Some(style)
                if !settings.allowed_styles.is_empty()
                    && !settings.allowed_styles.iter().any(|s| s == style) =>
            {
                refused(format!(
                    "this site does not offer the style \"{}\"; choose one of: {}",
                    style.chars().take(64).collect::<String>(),
                    settings.allowed_styles.join(", ")
                ))
            }
            _ => Ok(()),
        }
    }

    /// A call takes a token from the visitor's bucket (of creates, or of the other calls)
    /// and, unless a token vouches for the visitor, from its address's.
    async fn limit_rate(&self, visitor: &Visitor, rate: Rate) -> Result<(), Refusal> {
        let operator = self.operator;
        let (own, address, per_minute, what): (&Limiter, &Limiter, u32, &str) = match rate {
            Rate::Creates => {
                (&operator.visitors, &operator.addresses, operator.settings.creates_per_minute, "creations")
            }
            Rate::Reads => (&operator.reads, &operator.address_reads, READS_PER_MINUTE, "calls"),
        };
        // Shared buckets out of reach: nothing is created, as when the spend caps cannot be read.
        let unavailable = |error: crate::store::redis::Error| {
            log_unavailable(&error);
            Refusal::new(StatusCode::SERVICE_UNAVAILABLE, SpendRefusal::Unavailable.message()).retry_after(10)
        };
        let mut verdict = own.take(&visitor.id).await.map_err(unavailable)?;
        // Token holders are vouched for by the site; everyone else also shares the address's
        // bucket (a caller known by its whole address only once, when that is the network).
        if verdict == Verdict::Allowed && visitor.token.is_none() && visitor.id != visitor.network {
            verdict = address.take(&visitor.network).await.map_err(unavailable)?;
        }
        if let Verdict::Wait(wait) = verdict {
            return Err(Refusal::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many {what}: this gateway allows {per_minute} a minute per visitor; try again shortly"),
            )
            .retry_after(wait.as_secs_f64().ceil() as u64));
        }
        Ok(())
    }

    /// The create's reservation (the most its kind was seen to cost) against every spend
    /// cap, the global ones less what the service charged beyond the counters.
    async fn reserve(&self, request: &CreateRequest, visitor: &Visitor) -> Result<Reservation, Refusal> {
        let operator = self.operator;
        let now_unix = crate::clock::unix_now();
        let refused = |refusal: SpendRefusal| {
            let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let answer = Refusal::new(status, refusal.message());
            if status == StatusCode::SERVICE_UNAVAILABLE {
                answer.retry_after(10)
            } else {
                answer
            }
        };
        let unexplained = operator
            .reconciler
            .unexplained(now_unix)
            .await
            .map_err(|_| refused(SpendRefusal::Unavailable))?;
        let pending = PendingCreate {
            visitor: visitor.id.clone(),
            token: visitor.token.as_ref().map(grant),
            // A token's holder is vouched for by the site: its own budget, not its address's.
            address: visitor.token.is_none().then(|| visitor.network.clone()),
            style: style_name(request).map(str::to_owned),
            kind: clipcloud::operation::kind_of(request),
            count: image_count(request),
            estimate: operator.prices.reservation(request),
            unexplained,
            now_unix,
        };
        operator.accounts.reserve(pending).await.map_err(refused)
    }

    /// Once `followed` finds the creation `id` finished, its real cost replaces its
    /// reservation. Without a follow (the pollers' cap), the reservation stays, until a
    /// visitor's check settles it.
    fn settle_when_finished(&self, id: String, followed: Option<Followed>) {
        let Some(followed) = followed else { return };
        let (accounts, prices) = (self.operator.accounts.clone(), self.operator.prices.clone());
        tokio::spawn(async move {
            if let Some(finished) = followed.finished().await {
                record_cost(&accounts, &prices, &id, &finished).await;
            }
        });
    }

    /// What the visitor may still spend, as the API's balance answer.
    async fn allowance(&self, visitor: &Visitor) -> Result<Response, Refusal> {
        let grant = visitor.token.as_ref().map(grant);
        let address = visitor.token.is_none().then_some(visitor.network.as_str());
        let now = crate::clock::unix_now();
        let unexplained = self.operator.reconciler.last_unexplained(now);
        let cents = self
            .operator
            .accounts
            .allowance(&visitor.id, address, grant.as_ref(), unexplained, now)
            .await
            .map_err(|_| {
                Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "the allowance cannot be read right now")
                    .retry_after(10)
            })?;
        let body = BalanceBody { success: true, balance: Amount::Number(cents as f64 / 100.0) };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        Ok(([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], json)
            .into_response())
    }
}

/// A finished creation's real cost replaces its reservation, once, and (when this replica
/// settled it) teaches its kind's price.
async fn record_cost(accounts: &Accounts, prices: &Prices, id: &str, finished: &Finished) {
    let cost = (finished.cost * 100.0).round();
    if !(cost.is_finite() && (0.0..1e15).contains(&cost)) {
        return;
    }
    if let Some(kind) = accounts.settle(id, cost as i64).await {
        prices.learn(&kind, cost as i64, finished.censored).await;
    }
}

/// The shared rate limits could not be read (Redis): one error line, as for the caps.
fn log_unavailable(error: &crate::store::redis::Error) {
    crate::operator::accounts::log("rate-limits-unavailable", &error.to_string());
}

fn grant(token: &Token) -> TokenGrant {
    TokenGrant { id: token.id.clone(), budget: token.budget, expires_unix: token.expires_unix }
}
