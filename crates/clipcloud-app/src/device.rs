//! What the browser keeps and does for the app: IndexedDB (pictures and the history,
//! [`idb`]), localStorage and sessionStorage ([`storage`]), the offline copy
//! ([`offline`]), the gallery's ZIP export and import ([`archive`]), the clipboard and
//! downloads ([`browser`]). The calls themselves are a small JS module
//! (`web/browser.js`); these modules give them typed Rust signatures. No view here.

pub mod archive;
pub mod browser;
pub mod idb;
pub mod offline;
pub mod storage;
