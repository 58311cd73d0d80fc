//! The API's endpoints in the forms docs/api.md decides, plus the images and `POST /emulator/keys`.
//!
//! Order of checks on a create: key (401) → content type (415) → body (400) → balance (402).

use crate::accounts::DelayPlan;
use crate::clock::Clock;
use crate::config::parse_delay_ms;
use crate::create;
use crate::creations::Progress;
use crate::error::ApiError;
use crate::faults::{Fault, FaultBook, FaultPlan};
use crate::ids;
use crate::image_cache::ImageCache;
use crate::images;
use crate::ledger::Ledger;
use crate::money::Money;
use crate::origin::Origin;
use crate::pricing::Styles;
use crate::state::AppState;
use crate::stats::KeyStats;
use crate::traffic::Traffic;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clipcloud::model::wire::{
    Amount, BalanceBody, CheckBody, CreatedBody, StyleEntry, StylesBody, MESSAGE_DONE, MESSAGE_IN_PROGRESS,
};
use std::collections::HashMap;
use std::time::Duration;

/// Query parameter that overrides the generation time of one creation (emulator-only).
pub const DELAY_PARAM: &str = "emulator_delay_ms";

type ApiResult<T> = Result<T, ApiError>;

/// All endpoints; unknown paths and methods answer the JSON error body too. Each handler
/// takes only the parts of the state it uses.
pub fn api() -> Router<AppState> {
    Router::new()
        .route("/api/creation", post(create))
        .route("/api/creation/{id}", get(check))
        .route("/api/balance", get(balance))
        .route("/api/styles", get(styles))
        .route("/images/{file}", get(image))
        .route(clipcloud::openapi::PATH, get(openapi))
        .route("/emulator/keys", post(new_key))
        .route("/emulator/faults", post(set_faults))
        .route("/emulator/stats", get(stats))
        .route("/emulator/creations", get(creations))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// The query parameters (last one wins for repeated names).
fn params(uri: &Uri) -> ApiResult<HashMap<String, String>> {
    Query::<HashMap<String, String>>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| ApiError::bad_request(format!("bad query string: {}", e.body_text())))
}

fn api_key(params: &HashMap<String, String>) -> Option<&str> {
    params.get("apikey").map(String::as_str)
}

/// `application/json`, parameters such as `; charset=utf-8` allowed.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

fn read_body(body: Result<Bytes, BytesRejection>) -> ApiResult<Bytes> {
    body.map_err(|e| ApiError::new(e.status(), format!("could not read the request body: {}", e.body_text())))
}

/// `POST /api/creation?apikey=KEY[&emulator_delay_ms=N]`
async fn create(
    State(ledger): State<Ledger>,
    State(styles): State<Styles>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<CreatedBody>> {
    let params = params(&uri)?;
    let key = api_key(&params);
    ledger.authorize(key)?;
    let key = key.unwrap_or_default();
    if !is_json(&headers) {
        return Err(ApiError::unsupported_media_type(
            "the request body must be JSON, sent with Content-Type: application/json",
        ));
    }
    let body = read_body(body)?;
    let order = create::order_from_body(&body, styles.as_slice()).map_err(ApiError::bad_request)?;
    let delay = match params.get(DELAY_PARAM) {
        Some(text) => {
            parse_delay_ms(text).map_err(|e| ApiError::bad_request(format!("{DELAY_PARAM}: {e}")))?
        }
        None => ledger.next_delay(key),
    };
    let creation_id = ledger.create(key, order, delay)?;
    ledger.record_create(key, &body);
    Ok(Json(CreatedBody { success: true, creation_id }))
}

/// `GET /api/creation/{id}?apikey=KEY`, held until the creation is ready (at most the
/// wait asked for) when it carries `Prefer: wait=N` ([`clipcloud::hold`]): the reference
/// for what a held check can give, an answer the moment the creation is ready.
async fn check(
    State(ledger): State<Ledger>,
    State(traffic): State<Traffic>,
    State(clock): State<Clock>,
    State(origin): State<Origin>,
    uri: Uri,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let params = params(&uri)?;
    let key = api_key(&params);
    ledger.authorize(key)?;
    let Ok(Path(id)) = id else {
        return Err(ApiError::not_found("no such creation for this key"));
    };
    let asked = headers
        .get(clipcloud::hold::PREFER)
        .and_then(|v| v.to_str().ok())
        .and_then(clipcloud::hold::requested);
    // Beyond the cap of held checks, an answer at once (and no Preference-Applied).
    let held = asked.and_then(|wait| traffic.hold(wait));
    if let Some(hold) = &held {
        let until = clock.now() + hold.wait;
        // Unknown ids and other keys' creations are answered (404) without waiting.
        if let Some(ready_at) = ledger.ready_at(key, &id) {
            clock.sleep_until(ready_at.min(until)).await;
        }
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let mut response = Json(check_body(&ledger, &origin, key, id, host)?).into_response();
    if let Some(hold) = held {
        let value = clipcloud::hold::applied(hold.wait);
        if let Ok(value) = axum::http::HeaderValue::from_str(&value) {
            response.headers_mut().insert(clipcloud::hold::PREFERENCE_APPLIED, value);
        }
    }
    Ok(response)
}

/// What a check of `id` finds now.
fn check_body(
    ledger: &Ledger,
    origin: &Origin,
    key: Option<&str>,
    id: String,
    host: Option<&str>,
) -> ApiResult<CheckBody> {
    let body = match ledger.check(key, &id)? {
        Progress::InProgress => CheckBody {
            success: true,
            message: Some(MESSAGE_IN_PROGRESS.into()),
            creation_id: Some(id),
            cost: None,
            censored: None,
            results: None,
        },
        Progress::Done { cost, censored, images } => {
            let origin = origin.for_host(host);
            CheckBody {
                success: true,
                message: Some(MESSAGE_DONE.into()),
                creation_id: Some(id),
                cost: Some(cost.as_f64()),
                censored: Some(censored),
                results: Some(images.iter().map(|image| format!("{origin}/images/{image}.webp")).collect()),
            }
        }
    };
    Ok(body)
}

/// `GET /api/balance?apikey=KEY`
async fn balance(State(ledger): State<Ledger>, uri: Uri) -> ApiResult<Json<BalanceBody>> {
    let params = params(&uri)?;
    let balance = ledger.balance(api_key(&params))?;
    Ok(Json(BalanceBody { success: true, balance: Amount::Number(balance.as_f64()) }))
}

/// `GET /api/styles?apikey=KEY`
async fn styles(
    State(ledger): State<Ledger>,
    State(styles): State<Styles>,
    uri: Uri,
) -> ApiResult<Json<StylesBody>> {
    let params = params(&uri)?;
    ledger.authorize(api_key(&params))?;
    let styles = styles.as_slice().iter().cloned().map(StyleEntry::Full).collect();
    Ok(Json(StylesBody::Wrapped { success: true, styles }))
}

/// `GET /images/<64 hex>.webp`: no key needed, like the service's temporary links.
async fn image(
    State(ledger): State<Ledger>,
    State(cache): State<ImageCache>,
    file: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let unknown = || ApiError::not_found("no such image");
    let Ok(Path(file)) = file else { return Err(unknown()) };
    let id = file.strip_suffix(".webp").filter(|id| ids::is_image_id(id)).ok_or_else(unknown)?;
    let bytes = match cache.get(id) {
        Some(bytes) => bytes,
        None => {
            let spec = ledger.image_spec(id).ok_or_else(unknown)?;
            let encoded = tokio::task::spawn_blocking(move || images::render_webp(&spec))
                .await
                .map_err(|e| ApiError::internal(format!("image rendering failed: {e}")))?
                .map_err(ApiError::internal)?;
            let bytes = Bytes::from(encoded);
            cache.put(id, bytes.clone());
            bytes
        }
    };
    Ok(([(header::CONTENT_TYPE, "image/webp"), (header::CACHE_CONTROL, "public, max-age=3600")], bytes)
        .into_response())
}

/// `GET /openapi.json`: the API as an OpenAPI 3.1 document (the core's), no key needed.
async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], clipcloud::openapi::OPENAPI).into_response()
}

/// `POST /emulator/keys` (emulator-only, no key needed) with
/// `{"balance": 50, "faults": {"rate": 0.2, "kinds": ["500", "drop"], "slow_ms": 3000},
/// "delay_ms": 2000}` (every field optional; `"delay_ms": {"min": 500, "max": 30000}` draws
/// each creation's time from the seed) → `{"apikey": "<fresh key>", "balance": 50}`.
/// An empty body means the demo balance and no faults of its own.
async fn new_key(
    State(ledger): State<Ledger>,
    State(book): State<FaultBook>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let body = read_body(body)?;
    let value: serde_json::Value = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::json!({})
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?
    };
    if !value.is_object() {
        return Err(ApiError::bad_request("the request body must be a JSON object"));
    }
    let balance = match value.get("balance") {
        None => crate::config::DEMO_BALANCE,
        Some(b) => b
            .as_f64()
            .and_then(Money::from_units)
            .ok_or_else(|| ApiError::bad_request("balance must be a non-negative number"))?,
    };
    let faults = value.get("faults").map(fault_plan).transpose().map_err(ApiError::bad_request)?;
    let delay = value.get("delay_ms").map(delay_plan).transpose().map_err(ApiError::bad_request)?;
    let apikey = ledger.add_key(balance, delay);
    if let Some(plan) = faults {
        book.set_plan(&apikey, plan);
    }
    Ok(Json(serde_json::json!({ "apikey": apikey, "balance": balance.as_f64() })))
}

/// `POST /emulator/faults?apikey=KEY` with a fault plan (as `faults` of `/emulator/keys`): the
/// key's plan from now on, e.g. `{"rate": 1, "kinds": ["expired-image"]}` expires the links of
/// its finished images, as the service's temporary links expire.
async fn set_faults(
    State(ledger): State<Ledger>,
    State(book): State<FaultBook>,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let params = params(&uri)?;
    let body = read_body(body)?;
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
    let plan = fault_plan(&value).map_err(ApiError::bad_request)?;
    // Only keys the emulator knows have plans of their own.
    let key = api_key(&params).filter(|key| ledger.knows(key));
    book.set_plan(key.ok_or_else(|| ApiError::unauthorized("unknown API key"))?, plan);
    Ok(Json(serde_json::json!({ "success": true })))
}

/// `2000` or `{"min": 500, "max": 30000}` (ms, at most a day).
fn delay_plan(value: &serde_json::Value) -> Result<DelayPlan, String> {
    const BAD: &str = "delay_ms must be a whole number of ms or {\"min\": N, \"max\": N} with min <= max";
    let ms = |v: Option<&serde_json::Value>| {
        v.and_then(serde_json::Value::as_u64)
            .map(Duration::from_millis)
            .filter(|d| *d <= crate::config::MAX_DELAY)
            .ok_or(BAD)
    };
    if value.is_object() {
        let (min, max) = (ms(value.get("min"))?, ms(value.get("max"))?);
        if min > max {
            return Err(BAD.into());
        }
        Ok(DelayPlan::Range { min, max })
    } else {
        Ok(DelayPlan::Fixed(ms(Some(value))?))
    }
}

fn fault_plan(value: &serde_json::Value) -> Result<FaultPlan, String> {
    let mut plan = FaultPlan::default();
    if let Some(rate) = value.get("rate") {
        plan.rate =
            rate.as_f64().filter(|r| (0.0..=1.0).contains(r)).ok_or("faults.rate must be within 0..=1")?;
    }
    if let Some(kinds) = value.get("kinds") {
        let names = kinds.as_array().ok_or("faults.kinds must be an array of fault names")?;
        plan.kinds = names
            .iter()
            .map(|n| {
                n.as_str().ok_or_else(|| "faults.kinds must be strings".to_owned()).and_then(Fault::parse)
            })
            .collect::<Result<_, _>>()?;
    }
    if let Some(ms) = value.get("slow_ms") {
        plan.slow = Duration::from_millis(ms.as_u64().ok_or("faults.slow_ms must be a whole number")?);
    }
    Ok(plan)
}

/// `GET /emulator/stats?apikey=KEY` (emulator-only): creates, duplicate creates,
/// injected faults and the balance of this key.
async fn stats(
    State(ledger): State<Ledger>,
    State(book): State<FaultBook>,
    State(traffic): State<Traffic>,
    uri: Uri,
) -> ApiResult<Json<KeyStats>> {
    let params = params(&uri)?;
    Ok(Json(KeyStats::gather(api_key(&params), &ledger, &book, &traffic)?))
}

/// `GET /emulator/creations?apikey=KEY` (emulator-only): every creation of this key,
/// oldest first, with the Unix ms it was created and ready and of each check:
/// `{"creations": [{"creation_id": "…", "created_ms": 1, "ready_ms": 2, "checks_ms": [2]}]}`.
async fn creations(State(ledger): State<Ledger>, uri: Uri) -> ApiResult<Json<serde_json::Value>> {
    let params = params(&uri)?;
    let creations = ledger.creations(api_key(&params))?;
    Ok(Json(serde_json::json!({ "creations": creations })))
}

pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no such endpoint: {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}
