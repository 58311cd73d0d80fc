//! The app's components in a real browser (wasm-bindgen-test; headless Chromium, and
//! Firefox alike), mounted into the test page, some against the emulator at
//! `CLIPCLOUD_EMULATOR_URL` (set by `cargo xtask test`, which starts one):
//!
//!   CLIPCLOUD_EMULATOR_URL=http://127.0.0.1:8787 CHROMEDRIVER=/usr/bin/chromedriver \
//!     cargo test -p clipcloud-app --target wasm32-unknown-unknown
//!   (or GECKODRIVER=~/.cargo/bin/geckodriver instead of CHROMEDRIVER for Firefox)
#![cfg(target_arch = "wasm32")]

use clipcloud::{Client, Config, StyleRequest};
use clipcloud_app::device::storage;
use clipcloud_app::logic::pending::{self, Pending};
use clipcloud_app::ui::app::App;
use leptos::mount::mount_to;
use leptos::prelude::*;
use std::time::Duration;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// The allocator the app's binary ships with (`src/main.rs`), so the components are
/// tested on it.
#[global_allocator]
static ALLOCATOR: clipcloud_alloc::Allocator = clipcloud_alloc::Allocator::new();

const EMULATOR: &str = match option_env!("CLIPCLOUD_EMULATOR_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8787",
};

/// Clean storage, settings pointing at the emulator, and `key` (if any) for this tab.
fn prepare(key: Option<&str>) {
    for s in [storage::local(), storage::session()].into_iter().flatten() {
        s.clear().unwrap();
    }
    let settings = serde_json::json!({ "base_url": EMULATOR, "soft_id": "" });
    storage::set(storage::local(), storage::SETTINGS, &settings.to_string());
    match key {
        Some(key) => storage::save_key(key, false),
        // An empty key stored keeps the demo key from being pre-filled.
        None => storage::set(storage::session(), storage::KEY, ""),
    }
}

struct Mounted {
    root: web_sys::HtmlElement,
    _handle: leptos::mount::UnmountHandle<leptos::tachys::view::any_view::AnyViewState>,
}

fn mount() -> Mounted {
    let document = document();
    let root: web_sys::HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&root).unwrap();
    let handle = mount_to(root.clone(), || view! { <App/> }.into_any());
    Mounted { root, _handle: handle }
}

impl Mounted {
    fn find(&self, selector: &str) -> Option<web_sys::Element> {
        self.root.query_selector(selector).unwrap()
    }

    fn text(&self, selector: &str) -> String {
        self.find(selector).and_then(|e| e.text_content()).unwrap_or_default()
    }

    fn count(&self, selector: &str) -> u32 {
        self.root.query_selector_all(selector).unwrap().length()
    }

    /// Types into an input or textarea the way a user does (value, then an input event).
    fn type_into(&self, selector: &str, value: &str) {
        let el = self.find(selector).unwrap_or_else(|| panic!("no {selector}"));
        js_sys::Reflect::set(&el, &JsValue::from_str("value"), &JsValue::from_str(value)).unwrap();
        let init = web_sys::EventInit::new();
        init.set_bubbles(true);
        let event = web_sys::Event::new_with_event_init_dict("input", &init).unwrap();
        el.dispatch_event(&event).unwrap();
    }

    fn click(&self, selector: &str) {
        let el = self.find(selector).unwrap_or_else(|| panic!("no {selector}"));
        el.unchecked_into::<web_sys::HtmlElement>().click();
    }

    /// Opens the lazy card titled `title` (`ui::lazy`: its panels' module loads when it is
    /// first opened) as a visitor does, and waits until `ready` is shown.
    async fn open_lazy(&self, title: &str, ready: &str) {
        let cards = self.root.query_selector_all("details.lazy").unwrap();
        let card = (0..cards.length())
            .filter_map(|i| cards.item(i))
            .find(|card| card.text_content().unwrap_or_default().contains(title))
            .unwrap_or_else(|| panic!("no lazy card titled {title}"));
        card.unchecked_into::<web_sys::HtmlDetailsElement>().set_open(true);
        self.until(ready, 5, |a| a.find(ready).is_some()).await;
    }

    /// Waits (up to `secs`) until `ok` holds, letting the app run.
    async fn until(&self, what: &str, secs: u32, ok: impl Fn(&Self) -> bool) {
        for _ in 0..secs * 20 {
            if ok(self) {
                return;
            }
            gloo_timers::future::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}; page text: {}", self.root.text_content().unwrap_or_default());
    }
}

/// JSON from the emulator: a GET, or a POST of `body` (sent as text/plain: no preflight).
async fn emulator_json(path: &str, body: Option<&str>) -> JsValue {
    let init = web_sys::RequestInit::new();
    if let Some(body) = body {
        init.set_method("POST");
        init.set_body(&JsValue::from_str(body));
    }
    let url = EMULATOR.to_owned() + path;
    let response = JsFuture::from(window().fetch_with_str_and_init(&url, &init)).await.unwrap();
    let response: web_sys::Response = response.unchecked_into();
    assert!(response.ok(), "{url}: HTTP {}", response.status());
    JsFuture::from(response.json().unwrap()).await.unwrap()
}

fn field(v: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(v, &JsValue::from_str(name)).unwrap()
}

/// A fresh key whose creations take `delay_ms`.
async fn slow_key(delay_ms: u32) -> String {
    let body = "{\"balance\": 20, \"delay_ms\": ".to_owned() + &delay_ms.to_string() + "}";
    field(&emulator_json("/emulator/keys", Some(&body)).await, "apikey").as_string().unwrap()
}

/// The emulator's record of each creation of `key`: (id, number of checks answered).
async fn creations(key: &str) -> Vec<(String, u32)> {
    let list =
        field(&emulator_json(&("/emulator/creations?apikey=".to_owned() + key), None).await, "creations");
    js_sys::Array::from(&list)
        .iter()
        .map(|c| {
            let id = field(&c, "creation_id").as_string().unwrap();
            (id, js_sys::Array::from(&field(&c, "checks_ms")).length())
        })
        .collect()
}

fn pending_ids() -> Vec<String> {
    let text = storage::get(storage::local(), storage::PENDING).unwrap_or_default();
    pending::from_json(&text).into_iter().map(|p| p.creation_id).collect()
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.root.remove();
    }
}

#[wasm_bindgen_test]
async fn the_key_stays_in_the_tab_unless_remembered() {
    prepare(None);
    storage::save_key("k-tab", false);
    assert_eq!(storage::load_key(), Some(("k-tab".into(), false)));
    assert_eq!(storage::get(storage::local(), storage::KEY), None);
    storage::save_key("k-device", true);
    assert_eq!(storage::load_key(), Some(("k-device".into(), true)));
    assert_eq!(storage::get(storage::session(), storage::KEY), None);
    storage::forget_key();
    assert_eq!(storage::load_key(), Some((String::new(), false)), "forgotten: no demo key pre-filled");
}

#[wasm_bindgen_test]
async fn the_form_shows_the_core_rules_as_you_type() {
    prepare(None);
    let app = mount();
    // Once the page's origin said it is no gateway that adds its own key (see `gateway`).
    app.until("no key: the connection panel is open", 5, |a| a.find("#connect:not([hidden])").is_some())
        .await;
    assert_eq!(app.text("#connect label.field > span"), "API key", "no gateway here: the visitor's own key");
    assert_eq!(app.count(".problem:not([hidden])"), 0, "nothing is flagged before typing");

    app.type_into("textarea[name=prompt]", "   ");
    app.type_into("input[name=count]", "9");
    leptos::task::tick().await;
    assert_eq!(app.text("#prompt-problem"), "prompt must not be empty");
    assert_eq!(app.text("#count-problem"), "count must be between 1 and 4 (got 9)");
    assert_eq!(app.count(".compose .problem:not([hidden])"), 2, "only the fields with a problem");

    app.type_into("textarea[name=prompt]", "A red apple");
    app.type_into("input[name=count]", "2");
    leptos::task::tick().await;
    assert_eq!(app.count(".problem:not([hidden])"), 0, "fixed: no problem shown");

    // The style cards (the docs' names before connecting); a click picks one and is remembered.
    app.click(".style-card[data-style=\"pixel-art\"]");
    leptos::task::tick().await;
    assert_eq!(app.text("#current-style"), "pixel-art");
    assert_eq!(storage::get(storage::local(), storage::STYLE).as_deref(), Some("pixel-art"));
    assert_eq!(
        app.find(".style-card.selected").and_then(|e| e.get_attribute("aria-pressed")).as_deref(),
        Some("true")
    );

    // The code panel shows the same request, key masked.
    app.open_lazy("Writing tools", ".snippet pre").await;
    app.type_into("input[name=apikey]", "sk-secret-key-123");
    leptos::task::tick().await;
    let code = app.text(".snippet pre");
    assert!(code.contains("style: \"pixel-art\"") && code.contains("count: 2"), "{code}");
    assert!(code.contains("\"sk-••••••\"") && !code.contains("secret"), "{code}");
}

#[wasm_bindgen_test]
async fn the_article_helper_checks_the_llm_answer() {
    prepare(None);
    let app = mount();
    app.open_lazy("Writing tools", "input[name=article_title]").await;
    app.type_into("input[name=article_title]", "Apples on a balcony");
    leptos::task::tick().await;
    let request =
        app.find(".article textarea.code").map(|e| js_sys::Reflect::get(&e, &"value".into()).unwrap());
    let request = request.and_then(|v| v.as_string()).unwrap_or_default();
    assert!(request.contains("\"Apples on a balcony\". You need to generate 3 picture prompts"), "{request}");

    app.type_into(
        "textarea[name=article_answer]",
        r#"[{"picture_number": 1, "query": "", "style": "standard"}]"#,
    );
    leptos::task::tick().await;
    assert_eq!(app.text(".article .problem:not([hidden])"), "Picture 1: query must not be empty.");
    assert!(app.find(".article .pictures:not([hidden])").is_none(), "nothing to queue");

    app.type_into(
        "textarea[name=article_answer]",
        r#"```json
[{"picture_number": 1, "query": "An apple tree in a pot", "negative_prompt": "text", "style": "HD-HQ"},
 {"picture_number": 2, "query": "A basket of apples", "style": "standard"}]
```"#,
    );
    leptos::task::tick().await;
    assert_eq!(app.count(".article .pictures li"), 2);
    assert!(app.find(".article .problem:not([hidden])").is_none(), "the problem is gone");
    assert!(app.text(".article .actions .primary").contains("Queue 2 pictures"));
}

#[wasm_bindgen_test]
async fn a_bad_key_says_so_in_words() {
    prepare(Some("no-such-key"));
    let app = mount();
    app.until("the connection error", 20, |a| a.find("#connect-error:not([hidden])").is_some()).await;
    let text = app.text("#connect-error");
    assert!(text.starts_with("The API key was refused (HTTP 401)"), "{text}");
    assert!(!text.contains("no-such-key"));
    assert_eq!(app.text(".balance"), "Not connected");
}

#[wasm_bindgen_test]
async fn create_shows_the_card_then_the_images_and_the_new_balance() {
    prepare(Some("demo-key"));
    let app = mount();
    app.until("connected", 20, |a| a.find("#balance").is_some()).await;
    app.until("the connection panel closed", 5, |a| a.find("#connect[hidden]").is_some()).await;
    let before: f64 = app.text("#balance").parse().unwrap();
    app.click(".style-card[data-style=\"standard\"]");
    app.type_into("textarea[name=prompt]", "A small test apple");
    app.type_into("input[name=count]", "1");
    app.click("#create");
    leptos::task::tick().await;
    assert_eq!(app.count(".job"), 1, "the card appears at once");
    app.until("the images", 30, |a| a.count(".job[data-state=done] .thumbs img") == 1).await;
    let img = app.find(".job .thumbs img").unwrap();
    assert_eq!(img.get_attribute("alt").as_deref(), Some("A small test apple"));
    // The link, until the picture is saved in the browser (IndexedDB); then its saved copy.
    assert!(img.get_attribute("src").is_some_and(|s| s.starts_with("http") || s.starts_with("blob:")));
    assert_eq!(app.text(".job .cost"), "1.1");
    let expected = clipcloud_app::ui::util::money(before - 1.1);
    app.until("the new balance", 10, |a| a.text("#balance") == expected).await;
    // The history is kept in IndexedDB, which `prepare` does not clear: this test's entry.
    app.until("the history entry", 10, |a| a.text(".history").contains("A small test apple")).await;
    app.until("the picture saved", 10, |a| a.find(".job figure[data-saved=true]").is_some()).await;
    assert_eq!(storage::get(storage::local(), storage::PENDING).as_deref(), Some("[]"));

    // What Download saves: the image itself, as a file of its own (a blob: URL and a name,
    // caught here where the browser would save it).
    let src = app.find(".job .download-error a").and_then(|a| a.get_attribute("href")).unwrap();
    js_sys::Function::new_no_args(
        "const click = HTMLAnchorElement.prototype.click;
         HTMLAnchorElement.prototype.click = function () {
           globalThis.savedFile = [this.download, this.href];
           HTMLAnchorElement.prototype.click = click;
         };",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    clipcloud_app::device::browser::download(&src, "test-1.webp").await.unwrap();
    let saved = js_sys::Array::from(&js_sys::Reflect::get(&js_sys::global(), &"savedFile".into()).unwrap());
    assert_eq!(saved.get(0).as_string().as_deref(), Some("test-1.webp"));
    let href = saved.get(1).as_string().unwrap();
    assert!(href.starts_with("blob:"), "{href}");
    let response: web_sys::Response =
        JsFuture::from(window().fetch_with_str(&href)).await.unwrap().unchecked_into();
    let bytes = JsFuture::from(response.array_buffer().unwrap()).await.unwrap();
    let bytes = js_sys::Uint8Array::new(&bytes).to_vec();
    assert!(
        bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        "{:?}",
        &bytes[..bytes.len().min(12)]
    );
    // An expired link (the emulator does not know it, nor the gallery) says so, in words.
    let gone = EMULATOR.to_owned() + "/images/" + &"0".repeat(64) + ".webp";
    let error = clipcloud_app::device::browser::download(&gone, "gone.webp").await.unwrap_err();
    assert_eq!(error, "Download failed (HTTP 404): the temporary link has probably expired.");
}

#[wasm_bindgen_test]
async fn a_creation_can_be_cancelled_while_sending_or_running_and_checked_again() {
    let key = slow_key(60_000).await;
    prepare(Some(&key));
    let app = mount();
    app.until("connected", 20, |a| a.find("#balance").is_some()).await;
    app.click(".style-card[data-style=\"standard\"]");
    app.type_into("textarea[name=prompt]", "A slow snail");
    app.type_into("input[name=count]", "1");

    // Cancelled while sending: nothing to wait for, so "Retry" creates again.
    app.click("#create");
    leptos::task::tick().await;
    assert_eq!(app.find(".job").and_then(|e| e.get_attribute("data-state")).as_deref(), Some("sending"));
    assert!(app.find(".job header .icon:not([hidden])").is_none(), "not removable while sending");
    app.click(".job .cancel");
    leptos::task::tick().await;
    assert_eq!(app.find(".job").and_then(|e| e.get_attribute("data-state")).as_deref(), Some("cancelled"));
    assert!(app.text(".job .status") == "Cancelled" && app.find(".job .error").is_none());
    assert!(app.text(".job .hint").contains("may still finish and charge it"), "{}", app.text(".job"));
    assert_eq!(app.text(".job .actions .primary"), "Retry");
    assert!(
        app.find(".job .cancel").is_none() && app.find(".job header .icon:not([hidden])").is_some(),
        "removable, not cancellable"
    );
    assert!(pending_ids().is_empty());

    // Created again, then cancelled while running: no more checks, no longer pending.
    app.click(".job .actions .primary");
    app.until("the creation running", 20, |a| a.find(".job[data-state=running]").is_some()).await;
    app.until("a first check", 20, |a| a.text(".job .status").contains("checked")).await;
    let running = creations(&key).await.into_iter().last().unwrap();
    assert_eq!(pending_ids(), [running.0.as_str()]);
    app.click(".job .cancel");
    leptos::task::tick().await;
    assert_eq!(app.find(".job").and_then(|e| e.get_attribute("data-state")).as_deref(), Some("cancelled"));
    assert_eq!(app.text(".job .hint"), "Stopped waiting; the service may still finish and charge it.");
    assert_eq!(app.text(".job .actions .primary"), "Check again");
    assert!(pending_ids().is_empty());
    let checks = creations(&key).await.into_iter().find(|c| c.0 == running.0).unwrap().1;
    // Longer than the longest pause between checks (3 s).
    gloo_timers::future::sleep(Duration::from_millis(4000)).await;
    let later = creations(&key).await.into_iter().find(|c| c.0 == running.0).unwrap().1;
    assert_eq!(later, checks, "checked after the cancel");

    // "Check again" waits for the same creation (no second create) and keeps it for a reload.
    let created = creations(&key).await.len();
    app.click(".job .actions .primary");
    leptos::task::tick().await;
    assert_eq!(app.find(".job").and_then(|e| e.get_attribute("data-state")).as_deref(), Some("running"));
    assert_eq!(pending_ids(), [running.0.as_str()]);
    app.until("a check after resuming", 20, |a| a.text(".job .status").contains("checked")).await;
    assert_eq!(creations(&key).await.len(), created);
    app.click(".job .cancel");
    leptos::task::tick().await;
    assert!(pending_ids().is_empty());
}

#[wasm_bindgen_test]
async fn creations_left_running_are_picked_up_again() {
    prepare(Some("demo-key"));
    // A creation made "before the reload": sent, but not collected.
    let client = Client::new(Config::new("demo-key").base_url(EMULATOR)).unwrap();
    let request = StyleRequest::new("A lighthouse", "standard");
    let id = client.create(request.clone()).await.unwrap();
    let saved = [Pending {
        creation_id: id.clone(),
        request: request.into(),
        started_ms: js_sys::Date::now(),
        size: Some((512, 512)),
    }];
    storage::save(storage::PENDING, &pending::to_json(&saved));

    let app = mount();
    app.until("the card of the earlier creation", 20, |a| a.text(".job .prompt") == "A lighthouse").await;
    app.until("its images", 30, |a| a.count(".job[data-state=done] .thumbs img") == 1).await;
    assert_eq!(storage::get(storage::local(), storage::PENDING).as_deref(), Some("[]"));
    assert!(app.text(".history").contains("A lighthouse"));
}

/// What earlier versions saved reads with the browser's own JSON (the core's seam), and
/// reads back the same after it is saved again.
#[wasm_bindgen_test]
fn what_earlier_versions_saved_still_reads() {
    use clipcloud_app::logic::history;
    let old = r#"[{"creation_id":"a","request":{"Style":{"prompt":"p","styleName":"standard","count":2}},"cost":1.1,"images":["http://x/a.webp"],"finished_ms":5.0,"size":[512,512]},{"creation_id":"b"}]"#;
    let entries = history::from_json(old);
    assert_eq!(entries.len(), 1, "the broken entry is left out, not the rest");
    let entry = &entries[0];
    assert_eq!((entry.request.prompt(), entry.request.image_count()), ("p", 2));
    assert_eq!((entry.cost, entry.size, entry.censored, entry.pinned), (1.1, Some((512, 512)), 0, false));
    assert_eq!(history::from_json(&history::to_json(&entries)), entries);
    let old =
        r#"[{"creation_id":"c","request":{"Advanced":{"prompt":"q","width":768,"seed":42}},"started_ms":7}]"#;
    let list = pending::from_json(old);
    let clipcloud::CreateRequest::Advanced(request) = &list[0].request else { panic!("advanced") };
    assert_eq!((request.width, request.seed, list[0].started_ms), (Some(768), Some(42), 7.0));
    assert_eq!(pending::from_json(&pending::to_json(&list)), list);
    assert!(history::from_json("{not json").is_empty() && pending::from_json("").is_empty());
}
