//! IndexedDB, the little the app needs, as futures: one database, `clipcloud`, with two
//! stores of string keys: `images` (an image's link → its Blob) and `records` (a name →
//! JSON text, e.g. the history). Errors are typed, and a full quota is told apart.

use js_sys::{Array, Function, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{DomException, IdbDatabase, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode};

pub const IMAGES: &str = "images";
pub const RECORDS: &str = "records";
const NAME: &str = "clipcloud";
const VERSION: u32 = 1;

/// Why the browser's storage did not do what was asked.
#[derive(Clone, Debug, PartialEq)]
pub enum StoreError {
    /// No IndexedDB here (switched off, or a private window that refuses it).
    Unavailable,
    /// The quota the browser gives this site is used up.
    Full,
    /// Anything else, by the browser's name for it.
    Failed(String),
}

impl StoreError {
    fn from_dom(error: Option<DomException>) -> Self {
        match error.map(|e| e.name()) {
            Some(name) if name == "QuotaExceededError" => Self::Full,
            Some(name) => Self::Failed(name),
            None => Self::Failed("UnknownError".into()),
        }
    }
}

impl StoreError {
    /// The problem in words, for the Storage panel. (No `Display`: its formatting code
    /// would cost the wasm more than these few strings.)
    pub fn message(&self) -> String {
        match self {
            Self::Unavailable => {
                "This browser does not let the site keep pictures (storage is off or refused): \
                                  they show only while their links last."
                    .into()
            }
            Self::Full => "Storage is full: the browser's space for this site is used up, so new pictures \
                           cannot be kept."
                .into(),
            Self::Failed(name) => "The browser could not keep the pictures (".to_owned() + name + ").",
        }
    }
}

/// The request's or transaction's events settle a promise: the handlers are the
/// promise's own resolve and reject functions, so no Rust closure is kept alive.
async fn settle(on: impl FnOnce(&Function, &Function)) -> Result<(), ()> {
    let mut on = Some(on);
    let promise = Promise::new(&mut |resolve, reject| {
        if let Some(on) = on.take() {
            on(&resolve, &reject);
        }
    });
    JsFuture::from(promise).await.map(drop).map_err(drop)
}

async fn request(req: IdbRequest) -> Result<JsValue, StoreError> {
    settle(|ok, fail| {
        req.set_onsuccess(Some(ok));
        req.set_onerror(Some(fail));
    })
    .await
    .map_err(|()| StoreError::from_dom(req.error().ok().flatten()))?;
    req.result().map_err(|_| StoreError::Failed("ReadError".into()))
}

#[derive(Clone, Debug)]
pub struct Db(IdbDatabase);

/// Opens (creating on first use) the app's database.
pub async fn open() -> Result<Db, StoreError> {
    let factory =
        web_sys::window().and_then(|w| w.indexed_db().ok().flatten()).ok_or(StoreError::Unavailable)?;
    let req = factory.open_with_u32(NAME, VERSION).map_err(|_| StoreError::Unavailable)?;
    // Runs once, on the first open: creates the stores.
    let upgrade = wasm_bindgen::closure::Closure::once_into_js(move |event: web_sys::Event| {
        let db = event
            .target()
            .and_then(|t| t.dyn_into::<IdbRequest>().ok())
            .and_then(|r| r.result().ok())
            .and_then(|r| r.dyn_into::<IdbDatabase>().ok());
        if let Some(db) = db {
            for store in [IMAGES, RECORDS] {
                if !db.object_store_names().contains(store) {
                    let _ = db.create_object_store(store);
                }
            }
        }
    });
    req.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    let db = request(req.into()).await?;
    db.dyn_into().map(Db).map_err(|_| StoreError::Unavailable)
}

impl Db {
    fn store(
        &self,
        name: &str,
        mode: IdbTransactionMode,
    ) -> Result<(IdbTransaction, IdbObjectStore), StoreError> {
        let tx = self
            .0
            .transaction_with_str_and_mode(name, mode)
            .map_err(|_| StoreError::Failed("TransactionError".into()))?;
        let store = tx.object_store(name).map_err(|_| StoreError::Failed("TransactionError".into()))?;
        Ok((tx, store))
    }

    /// The value under `key`, `None` when there is none.
    pub async fn get(&self, store: &str, key: &str) -> Result<Option<JsValue>, StoreError> {
        let (_, s) = self.store(store, IdbTransactionMode::Readonly)?;
        let req = s.get(&key.into()).map_err(|_| StoreError::Failed("ReadError".into()))?;
        Ok(Some(request(req).await?).filter(|v| !v.is_undefined()))
    }

    /// Every key and its value, in key order.
    pub async fn all(&self, store: &str) -> Result<Vec<(String, JsValue)>, StoreError> {
        let (_, s) = self.store(store, IdbTransactionMode::Readonly)?;
        let read = |r: Result<IdbRequest, JsValue>| r.map_err(|_| StoreError::Failed("ReadError".into()));
        let keys = read(s.get_all_keys())?;
        let values = read(s.get_all())?;
        let keys: Array = request(keys).await?.unchecked_into();
        let values: Array = request(values).await?.unchecked_into();
        Ok(keys.iter().zip(values.iter()).filter_map(|(k, v)| Some((k.as_string()?, v))).collect())
    }

    /// Puts `items` and deletes `gone` in one transaction: all of it is written, or none
    /// (a full quota aborts it whole).
    pub async fn write(
        &self,
        store: &str,
        items: &[(String, JsValue)],
        gone: &[String],
    ) -> Result<(), StoreError> {
        let (tx, s) = self.store(store, IdbTransactionMode::Readwrite)?;
        for (key, value) in items {
            if s.put_with_key(value, &key.into()).is_err() {
                let _ = tx.abort();
                return Err(StoreError::Failed("DataCloneError".into()));
            }
        }
        for key in gone {
            let _ = s.delete(&key.into());
        }
        settle(|ok, fail| {
            tx.set_oncomplete(Some(ok));
            tx.set_onabort(Some(fail));
        })
        .await
        .map_err(|()| StoreError::from_dom(tx.error()))
    }

    pub async fn clear(&self, store: &str) -> Result<(), StoreError> {
        let (tx, s) = self.store(store, IdbTransactionMode::Readwrite)?;
        s.clear().map_err(|_| StoreError::Failed("ClearError".into()))?;
        settle(|ok, fail| {
            tx.set_oncomplete(Some(ok));
            tx.set_onabort(Some(fail));
        })
        .await
        .map_err(|()| StoreError::from_dom(tx.error()))
    }
}
