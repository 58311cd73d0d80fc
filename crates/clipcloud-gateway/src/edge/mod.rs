//! The HTTP edge: what faces the browser. The routes and the connection loop with its
//! bounds ([`server`]: who may connect, [`connections`]; how often an address may ask,
//! [`request_rate`]; answers that must be read,
//! [`write_deadline`]; hyper's own refusals made the gateway's, [`parse_refusals`]), the
//! state every handler shares ([`state`]), the `/api/...` handler that reads a call and
//! runs it through the mode's policy ([`api`]), the images route ([`images`]), the
//! gateway's own endpoints ([`info`]), the app's files ([`statics`], with the headers each
//! page's `<head>` asks for: [`page`]), the gateway's own origin as visitors reach it
//! ([`public_url`]), and what every answer passes through: the origin rules ([`cors`]), the
//! security headers ([`headers`]) and the access log ([`access_log`]).

pub mod access_log;
pub mod admin;
pub mod api;
pub mod connections;
pub mod cors;
pub mod headers;
pub mod images;
pub mod info;
pub mod page;
pub mod parse_refusals;
pub mod public_url;
pub mod readiness;
pub mod request_rate;
pub mod server;
pub mod state;
pub mod statics;
pub mod write_deadline;
