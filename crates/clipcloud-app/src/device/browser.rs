//! The clipboard and downloads, done by `copyText` and `savePicture` in `web/browser.js`;
//! their answers in words here.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/web/browser.js")]
extern "C" {
    #[wasm_bindgen(js_name = copyText)]
    fn js_copy_text(text: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = savePicture)]
    fn js_save_picture(link: &str, file: &str, fetchable: bool) -> js_sys::Promise;
}

/// Puts `text` on the clipboard: done when it is there, an error when the browser refused.
/// The promise's own future, not an `async fn`: one state machine fewer in the wasm.
pub fn copy_text(text: &str) -> JsFuture {
    JsFuture::from(js_copy_text(text))
}

/// Saves the image at `url` as `file`: the copy saved in the browser when there is one
/// (it outlives the link), else fetched (http(s) links only).
pub async fn download(url: &str, file: &str) -> Result<(), String> {
    let saved = js_save_picture(url, file, clipcloud::codec::is_http_url(url));
    JsFuture::from(saved).await.map(drop).map_err(|code| {
        if let Some(status) = code.as_f64() {
            return "Download failed (HTTP ".to_owned()
                + &(status as u16).to_string()
                + "): the temporary link has probably expired.";
        }
        match code.as_string().as_deref() {
            Some("NotWeb") => "Download failed: not a web link.",
            Some("Unread") => "Download failed: the image could not be read.",
            _ => {
                "Download failed: the image could not be fetched (offline, or its server does not allow it)."
            }
        }
        .into()
    })
}
