//! The client's composition (validation → codec → retry → polling) over a scripted
//! transport with a fake clock. The real fetch is tested in browsers against the emulator.

use super::*;
use crate::codec::{HttpRequest, HttpResponse};
use crate::error::ErrorCode;
use crate::model::StyleRequest;
use crate::poll::PollSchedule;
use crate::retry::RetryPolicy;
use crate::transport::TransportError;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::time::Duration;
use std::collections::VecDeque;

type Reply = Result<HttpResponse, TransportError>;

#[derive(Default)]
struct Script {
    replies: RefCell<VecDeque<Reply>>,
    sent: RefCell<Vec<HttpRequest>>,
    sleeps: RefCell<Vec<Duration>>,
    clock: Cell<Duration>,
    /// How long a server holds a check that asks to be held (`Prefer`).
    held_for: Cell<Duration>,
    timeouts: RefCell<Vec<Duration>>,
}

impl Script {
    fn new(replies: impl IntoIterator<Item = Reply>) -> Self {
        Self { replies: RefCell::new(replies.into_iter().collect()), ..Self::default() }
    }
    fn sent_paths(&self) -> Vec<String> {
        self.sent.borrow().iter().map(|r| r.url.split('?').next().unwrap_or_default().to_owned()).collect()
    }
}

impl Transport for &Script {
    async fn send(&self, request: &HttpRequest, timeout: Duration) -> Reply {
        self.sent.borrow_mut().push(request.clone());
        self.timeouts.borrow_mut().push(timeout);
        let held = if request.prefer.is_some() { self.held_for.get() } else { Duration::ZERO };
        self.clock.set(self.clock.get() + Duration::from_millis(10) + held);
        self.replies.borrow_mut().pop_front().expect("the script ran out of replies")
    }
    async fn sleep(&self, duration: Duration) {
        self.sleeps.borrow_mut().push(duration);
        self.clock.set(self.clock.get() + duration);
    }
    fn now(&self) -> Duration {
        self.clock.get()
    }
    fn random(&self) -> f64 {
        0.5
    }
}

/// Every future here completes without waiting: the script answers at once.
fn run<F: Future>(future: F) -> F::Output {
    let mut future = core::pin::pin!(future);
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        core::task::Poll::Ready(out) => out,
        core::task::Poll::Pending => panic!("scripted futures never pend"),
    }
}

const KEY: &str = "secret-key-42";
const ID: &str = "12345678-abcd-ef12-3456-7890abcdef12";

fn ok(body: &str) -> Reply {
    status(200, body)
}
fn status(code: u16, body: &str) -> Reply {
    Ok(HttpResponse { status: code, retry_after: None, body: body.into(), received_unix_secs: 0 })
}
fn created() -> Reply {
    ok(&format!(r#"{{"success":true,"creation_id":"{ID}"}}"#))
}
fn running() -> Reply {
    ok(&format!(r#"{{"success":true,"message":"In progress","creation_id":"{ID}"}}"#))
}
fn done() -> Reply {
    ok(&format!(
        r#"{{"success":true,"message":"Images processed succesfully","creation_id":"{ID}","cost":2.2,"censored":0,"results":["http://e/images/a.webp","http://e/images/b.webp"]}}"#
    ))
}
fn dropped() -> Reply {
    Err(TransportError::Network {
        message: format!("connection reset for /api?apikey={KEY}"),
        not_sent: false,
    })
}

fn client(script: &Script) -> Client<&Script> {
    Client::with_transport(Config::new(KEY).base_url("http://emulator.test"), script).unwrap()
}

#[test]
fn generate_creates_then_polls_on_schedule_until_done() {
    let script = Script::new([created(), running(), running(), done()]);
    let mut progress = Vec::new();
    let finished = run(client(&script).generate(StyleRequest::new("a red apple", "standard"), |p| {
        progress.push((p.checks, p.transient_error))
    }))
    .unwrap();
    assert_eq!((finished.images.len(), finished.cost, finished.creation_id.as_str()), (2, 2.2, ID));
    assert_eq!(
        script.sent_paths(),
        [
            "http://emulator.test/api/creation",
            &format!("http://emulator.test/api/creation/{ID}"),
            &format!("http://emulator.test/api/creation/{ID}"),
            &format!("http://emulator.test/api/creation/{ID}"),
        ]
    );
    let schedule = PollSchedule::default();
    let expected: Vec<Duration> = (0..3).map(|n| schedule.next_delay(n, Duration::ZERO).unwrap()).collect();
    assert_eq!(*script.sleeps.borrow(), expected);
    assert_eq!(progress, [(0, None), (1, None), (2, None)]);
}

#[test]
fn wait_checks_at_once() {
    let script = Script::new([done()]);
    let finished = run(client(&script).wait(ID, |_| {})).unwrap();
    assert_eq!(finished.images.len(), 2);
    assert!(script.sleeps.borrow().is_empty());
}

#[test]
fn a_create_that_may_have_started_is_never_retried() {
    let boom = status(500, r#"{"success":false,"message":"boom"}"#);
    let garbled = status(200, "<html>proxy error</html>");
    for reply in [dropped(), boom, Err(TransportError::Timeout), garbled] {
        let script = Script::new([reply]);
        let err = run(client(&script).create(StyleRequest::new("x", "standard"))).unwrap_err();
        assert_eq!(script.sent.borrow().len(), 1, "{err:?}");
        assert!(err.may_have_started(), "{err:?}");
        assert!(err.to_string().contains("may have been started"), "{err}");
    }
}

#[test]
fn a_refused_create_is_retried_after_the_wait_asked_for() {
    let mut limited = status(429, r#"{"success":false,"message":"Too many requests"}"#);
    if let Ok(r) = &mut limited {
        r.retry_after = Some("2".into());
    }
    let script = Script::new([limited, created()]);
    assert_eq!(run(client(&script).create(StyleRequest::new("x", "standard"))).unwrap(), ID);
    assert_eq!(*script.sleeps.borrow(), [Duration::from_secs(2)]);
}

#[test]
fn reads_are_retried_then_give_up_with_the_last_error() {
    let unavailable = || status(503, r#"{"success":false,"message":"busy"}"#);
    let script = Script::new([unavailable(), ok(r#"{"success":true,"balance":97.8}"#)]);
    assert_eq!(run(client(&script).balance()).unwrap(), 97.8);

    let script = Script::new([unavailable(), unavailable(), unavailable()]);
    let err = run(client(&script).balance()).unwrap_err();
    assert_eq!((err.code(), err.api_message()), (ErrorCode::Server, Some("busy")));
    assert_eq!(script.sent.borrow().len(), 1 + RetryPolicy::default().max_retries as usize);
}

#[test]
fn errors_never_carry_the_key() {
    let script = Script::new([dropped(), dropped(), dropped()]);
    let err = run(client(&script).styles()).unwrap_err();
    assert!(!format!("{err} {err:?}").contains(KEY), "{err:?}");
    let echo = status(401, &format!(r#"{{"success":false,"message":"unknown key {KEY}"}}"#));
    let script = Script::new([echo]);
    let err = run(client(&script).balance()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthorized);
    assert!(!err.to_string().contains(KEY), "{err}");
}

#[test]
fn invalid_input_sends_nothing() {
    let script = Script::new([]);
    let c = client(&script);
    let err = run(c.create(StyleRequest::new("   ", "standard"))).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let mut many = StyleRequest::new("x", "standard");
    many.count = Some(5);
    assert!(run(c.create(many)).is_err());
    assert!(run(c.check("../balance")).is_err());
    assert!(script.sent.borrow().is_empty());
}

#[test]
fn unknown_style_is_caught_once_the_list_is_known() {
    let script = Script::new([ok(r#"{"success":true,"styles":[{"name":"standard"}]}"#)]);
    let c = client(&script);
    assert_eq!(run(c.styles()).unwrap().len(), 1);
    let err = run(c.create(StyleRequest::new("x", "HD-HQ"))).unwrap_err();
    assert!(err.to_string().contains("unknown style \"HD-HQ\""), "{err}");
    assert_eq!(script.sent.borrow().len(), 1);
}

#[test]
fn soft_id_comes_from_the_config_unless_set() {
    let script = Script::new([created(), created()]);
    let c =
        Client::with_transport(Config::new(KEY).base_url("http://e.test").soft_id(1742), &script).unwrap();
    run(c.create(StyleRequest::new("x", "standard"))).unwrap();
    let mut own = StyleRequest::new("x", "standard");
    own.soft_id = Some(7);
    run(c.create(own)).unwrap();
    let bodies: Vec<String> = script.sent.borrow().iter().filter_map(|r| r.body.clone()).collect();
    assert!(bodies[0].contains(r#""soft_id":1742"#) && bodies[1].contains(r#""soft_id":7"#), "{bodies:?}");
}

#[test]
fn polling_rides_out_a_failed_check() {
    let failing = || status(502, "<html>Bad Gateway</html>");
    // The check after "running" fails three times (one attempt + two retries), then succeeds.
    let script = Script::new([created(), running(), failing(), failing(), failing(), done()]);
    let mut transient = Vec::new();
    let finished =
        run(client(&script)
            .generate(StyleRequest::new("x", "standard"), |p| transient.push(p.transient_error)));
    assert!(finished.is_ok(), "{finished:?}");
    assert_eq!(transient, [None, None, Some(ErrorCode::Server)]);
}

#[test]
fn waiting_stops_at_the_deadline() {
    let replies = std::iter::repeat_with(running).take(200);
    let script = Script::new(replies);
    let mut config = Config::new(KEY).base_url("http://e.test");
    config.poll.deadline = Duration::from_secs(10);
    let c = Client::with_transport(config, &script).unwrap();
    let err = run(c.wait(ID, |_| {})).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Timeout);
    assert!(script.clock.get() <= Duration::from_secs(11), "{:?}", script.clock.get());
}

#[test]
fn a_final_error_ends_the_wait() {
    let script = Script::new([status(404, r#"{"success":false,"message":"Creation not found"}"#)]);
    let err = run(client(&script).wait(ID, |_| {})).unwrap_err();
    assert_eq!((err.code(), err.api_message()), (ErrorCode::NotFound, Some("Creation not found")));
}

#[test]
fn generate_learns_how_long_a_style_takes_and_checks_where_it_ends() {
    let mut replies = Vec::new();
    for _ in 0..3 {
        replies.extend([created(), running(), running(), done()]);
    }
    replies.extend([created(), running(), done()]);
    let script = Script::new(replies);
    let client = client(&script);
    let generate = || run(client.generate(StyleRequest::new("a red apple", "standard"), |_| {})).unwrap();
    for _ in 0..3 {
        generate();
    }
    // Cold: 500, 750, 1125 ms. Each time the 2nd check (sent at 1270 ms) found it running
    // and the 3rd (sent at 2405 ms) found it done: one steady duration between the two.
    assert_eq!(script.sleeps.borrow()[..3], [500, 750, 1125].map(Duration::from_millis));
    script.sleeps.borrow_mut().clear();
    generate();
    // Now: a probe halfway (1837.5 ms, after the 10 ms create), which finds it running,
    // then straight to 2405 ms, where all were ready: two checks instead of three.
    assert_eq!(*script.sleeps.borrow(), [Duration::from_micros(1_827_500), Duration::from_micros(557_500)]);
}

#[test]
fn a_new_client_takes_up_what_an_earlier_one_learned() {
    let mut replies = Vec::new();
    for _ in 0..3 {
        replies.extend([created(), running(), running(), done()]);
    }
    let earlier = Script::new(replies);
    let earlier_client = client(&earlier);
    for _ in 0..3 {
        run(earlier_client.generate(StyleRequest::new("a red apple", "standard"), |_| {})).unwrap();
    }
    let text = earlier_client.learned_text();
    assert_eq!(text.lines().count(), 1, "{text}");

    // A page load later: the first creation is already probed between the learned bounds,
    // as in the test above, instead of starting cold at 500 ms.
    let later = Script::new([created(), running(), done()]);
    let later_client = client(&later);
    later_client.restore_learned(&text);
    run(later_client.generate(StyleRequest::new("a red apple", "standard"), |_| {})).unwrap();
    assert_eq!(*later.sleeps.borrow(), [Duration::from_micros(1_827_500), Duration::from_micros(557_500)]);
    let now = later_client.learned_text();
    let seen = now.split_once('\t').map_or(0, |(_, seen)| seen.split(' ').count());
    assert_eq!(seen, 4, "and it goes on learning: {now}");
}

fn held_client(script: &Script) -> Client<&Script> {
    let config = Config::new(KEY).base_url("http://gateway.test").held_checks(Duration::from_secs(30));
    Client::with_transport(config, script).unwrap()
}

#[test]
fn with_held_checks_offered_each_check_is_held_and_the_next_follows_at_once() {
    let script = Script::new([created(), running(), done()]);
    script.held_for.set(Duration::from_secs(30));
    let mut reports = Vec::new();
    let finished =
        run(held_client(&script).generate(StyleRequest::new("x", "standard"), |p| reports.push(p.checks)));
    assert_eq!(finished.unwrap().images.len(), 2);
    let prefer: Vec<Option<String>> = script.sent.borrow().iter().map(|r| r.prefer.clone()).collect();
    assert_eq!(prefer, [None, Some("wait=30".into()), Some("wait=30".into())]);
    // No waiting of its own: the server's hold is the wait.
    assert_eq!(*script.sleeps.borrow(), [Duration::ZERO, Duration::ZERO]);
    assert_eq!(reports, [0, 1]);
    // A held check's time limit covers the hold.
    let timeouts = script.timeouts.borrow();
    assert_eq!(timeouts[1], Config::new(KEY).request_timeout + Duration::from_secs(30));
}

#[test]
fn a_check_answered_at_once_falls_back_to_the_schedule() {
    // A server that does not hold (the plain service, or a gateway at its cap) answers
    // at once: the client's own schedule decides when to ask again.
    let script = Script::new([created(), running(), running(), done()]);
    run(held_client(&script).generate(StyleRequest::new("x", "standard"), |_| {})).unwrap();
    let schedule = PollSchedule::default();
    let sleeps = script.sleeps.borrow();
    assert_eq!(sleeps[0], Duration::ZERO, "the first check at once");
    assert_eq!(
        sleeps[1..],
        [schedule.next_delay(1, Duration::ZERO).unwrap(), schedule.next_delay(2, Duration::ZERO).unwrap()]
    );
    // Each check still asks: the next one may be held again.
    assert!(script.sent.borrow()[1..].iter().all(|r| r.prefer.is_some()));
}

#[test]
fn without_an_offer_no_check_asks_to_be_held() {
    let script = Script::new([created(), running(), done()]);
    run(client(&script).generate(StyleRequest::new("x", "standard"), |_| {})).unwrap();
    assert!(script.sent.borrow().iter().all(|r| r.prefer.is_none()));
    // And a gateway's info turns held checks on for the calls after it.
    let info = crate::gateway::decode_info(&HttpResponse {
        status: 200,
        retry_after: None,
        body: r#"{"service":"clipcloud-gateway","mode":"relay","apikey":"required","hold":30}"#.into(),
        received_unix_secs: 0,
    })
    .unwrap();
    let script = Script::new([done()]);
    let c = client(&script);
    c.set_hold(info.config_hold());
    run(c.wait(ID, |_| {})).unwrap();
    assert_eq!(script.sent.borrow()[0].prefer.as_deref(), Some("wait=30"));
}

#[test]
fn to_a_gateway_the_key_goes_in_a_header_and_in_no_url() {
    let script = Script::new([created(), running(), done(), ok(r#"{"success":true,"balance":7}"#)]);
    let c = client(&script);
    // Before the client knows: the plain service's way, in the URL.
    run(c.create(StyleRequest::new("x", "standard"))).unwrap();
    c.set_key_as_bearer(true);
    run(c.wait(ID, |_| {})).unwrap();
    run(c.balance()).unwrap();
    let sent = script.sent.borrow();
    assert!(sent[0].url.contains(&["apikey=", KEY].concat()) && sent[0].authorization.is_none());
    for request in &sent[1..] {
        assert!(!request.url.contains("apikey") && !request.url.contains(KEY), "{}", request.url);
        let bearer = ["Bearer ", KEY].concat();
        assert_eq!(
            request.headers().find(|(name, _)| *name == "Authorization"),
            Some(("Authorization", bearer.as_str()))
        );
        assert!(!format!("{request:?}").contains(KEY), "{request:?}");
    }
}

#[test]
fn an_aborted_call_ends_with_aborted_and_a_time_limit_with_timeout() {
    let abort = Abort::new();
    abort.abort();
    let script = Script::new([]);
    let options = CallOptions::new().abort(&abort);
    let err =
        run(client(&script).generate_with(StyleRequest::new("x", "standard"), &options, |_| {})).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Aborted);
    assert!(script.sent.borrow().is_empty(), "nothing sent once aborted");

    // The limit passes while polling an accepted creation: a timeout, which says it started.
    let script = Script::new(std::iter::once(created()).chain(std::iter::repeat_with(running).take(50)));
    let options = CallOptions::new().time_limit(Duration::from_secs(3));
    let err =
        run(client(&script).generate_with(StyleRequest::new("x", "standard"), &options, |_| {})).unwrap_err();
    assert_eq!((err.code(), err.may_have_started()), (ErrorCode::Timeout, true), "{err:?}");
    // The cold schedule's checks at 0.5, 1.25 and 2.4 s; the next would be at 4.1 s, past
    // the limit: not sent. (This script's sleeps never pend, so its timer cannot cut one
    // short; a real transport's does.)
    assert_eq!(script.sent.borrow().len(), 4);
}
