// The app's calls to browser APIs that take many steps, called from the wasm: the gallery's
// IndexedDB, its pictures' object URLs and the storage manager (src/device/idb.rs), downloads
// and the clipboard (src/device/browser.rs), the gallery's ZIP module (src/device/archive.rs),
// the offline cache and worker (src/device/offline.rs). Plain JS, bundled into the page's
// glue: the same calls through web-sys cost the wasm more (issue 16, docs/sizes.md). Every
// failure rejects with a short code (a DOMException's name, or one of the codes below), which
// the wasm puts in words.
//
// The database: "clipcloud", stores "images" (an image's link -> its Blob, or `{ bytes, type }`:
// its bytes as an ArrayBuffer and its media type) and "records" (a name -> JSON text, e.g.
// "history"). web/lazy/zip.js reads and writes it too. A picture is kept as a Blob where the
// browser takes one: engines keep a Blob as a file of its own, whose space comes back the moment
// it is deleted (Chromium's space for bytes inside a record comes back later, so removing old
// pictures to make room would not make it at once). WebKit (Safari) refuses to store a Blob in a
// private window and in automation ("Error preparing Blob/File data to be stored in object
// store"): there the bytes are kept.

/** No IndexedDB here (switched off, or a private window that refuses it). */
const UNAVAILABLE = "Unavailable";
/** A picture's link did not load (offline, or expired): no storage problem. */
const FETCH_FAILED = "FetchFailed";
/** A download's image could not be fetched (offline, or its server does not allow it). */
const UNREACHABLE = "Unreachable";
/** A download's image could not be read. */
const UNREAD = "Unread";
/** A download of a link that is not http(s), with no copy saved. */
const NOT_WEB = "NotWeb";
/** The gallery's ZIP module did not load. */
const UNLOADED = "Unloaded";

let db;
/** The database's name, for a new connection (see `write`). */
let dbName;

const done = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});
const committed = (tx) => new Promise((resolve, reject) => {
  tx.oncomplete = () => resolve();
  tx.onabort = () => reject(tx.error);
});
// The code the wasm reads: a DOMException's name, or one of ours.
const code = (e) => {
  throw typeof e === "string" ? e : e?.name ?? "UnknownError";
};
const store = (name) => db.transaction(name).objectStore(name);
/** A stored picture as a Blob (kept as one, or as `{ bytes, type }`); else null. */
const picture = (value) =>
  value instanceof Blob ? value : value?.bytes instanceof ArrayBuffer ? new Blob([value.bytes], { type: value.type }) : null;
// One write transaction on the stores `names`: all of it is written, or none (a full quota
// aborts it whole). Resolves on its `complete`, not on its requests' success: only then does a
// reload find it (a page unloaded earlier aborts it).
// After a full quota, Firefox lets the connection's next write transaction only delete (a put
// there throws InvalidStateError; measured in Firefox 153 ESR): the writes go on through a new
// connection, so that removing pictures and keeping the history stay one transaction.
const write = async (names, fill) => {
  const tx = db.transaction(names, "readwrite");
  fill(tx);
  await committed(tx).catch(async (e) => {
    if (e?.name === "QuotaExceededError") {
      const old = db;
      db = await connect(dbName).catch(() => old);
      if (db !== old) old.close();
    }
    throw e;
  });
};

/** Opens the database `name` (creating its stores on first use) and reads nothing; a failure is
 * told by the next call that needs it. */
export function idbOpen(name) {
  open(name).catch(() => {});
}

/** Opens the database `name` (creating it on first use; once), then reads the history's JSON
 * text ("" when there is none) and every saved picture: `[text, link, object URL, link, …]`. */
export function idbLoad(name) {
  return open(name)
    .then(() => {
      const s = db.transaction(["records", "images"]);
      const images = s.objectStore("images");
      return Promise.all([done(s.objectStore("records").get("history")), done(images.getAllKeys()), done(images.getAll())]);
    })
    .then(([text, links, values]) => [text ?? "", ...links.flatMap((link, i) => {
      const blob = picture(values[i]);
      return blob ? [link, URL.createObjectURL(blob)] : [];
    })])
    .catch(code);
}

/** The connection on its way, if any: a second call meanwhile waits for it (one connection). */
let opening;

function open(name) {
  if (db) return Promise.resolve();
  dbName = name;
  opening ??= connect(name)
    .then((opened) => {
      db = opened;
    })
    .finally(() => {
      opening = undefined;
    });
  return opening;
}

/** A connection to the database `name`, with its stores (created on the first open). */
function connect(name) {
  let request;
  try {
    request = indexedDB.open(name, 1);
  } catch {
    return Promise.reject(UNAVAILABLE);
  }
  // Runs once, on the first open: creates the stores.
  request.onupgradeneeded = () => {
    for (const store of ["images", "records"]) {
      if (!request.result.objectStoreNames.contains(store)) request.result.createObjectStore(store);
    }
  };
  return done(request);
}

const ready = () => (db ? Promise.resolve() : Promise.reject(UNAVAILABLE));

/** Keeps the history's JSON `text`. */
export function idbSaveHistory(text) {
  return ready().then(() => write("records", (tx) => tx.objectStore("records").put(text, "history"))).catch(code);
}


/** Whether this browser refused to store a Blob (then pictures are kept as bytes). */
let blobsRefused = false;

/** Keeps `blob` under `link`: as a Blob, or as its bytes where the browser refuses Blobs. */
const keep = async (link, blob) => {
  if (!blobsRefused) {
    try {
      return await write("images", (tx) => tx.objectStore("images").put(blob, link));
    } catch (e) {
      if (e?.name === "QuotaExceededError") throw e;
      blobsRefused = true;
    }
  }
  const bytes = await blob.arrayBuffer();
  await write("images", (tx) => tx.objectStore("images").put({ bytes, type: blob.type }, link));
};

/** Fetches the picture at `from`, saves it under `link`, and gives an object URL of it. */
export function idbKeep(link, from) {
  return ready()
    .then(() => fetch(from).catch(() => Promise.reject(FETCH_FAILED)))
    .then((response) => (response.ok ? response.blob() : Promise.reject(FETCH_FAILED)))
    .then((blob) => keep(link, blob).then(() => URL.createObjectURL(blob)))
    .catch(code);
}

/** Deletes the pictures at `links` (one a line; none when empty), or every picture when `all`,
 * and keeps the history's JSON `text` (the history without them), in one transaction: a reload
 * finds both or neither, and a history saved after this call is written after it. */
export function idbDelete(links, all, text) {
  return ready()
    .then(() => write(["images", "records"], (tx) => {
      const images = tx.objectStore("images");
      if (all) images.clear();
      else if (links) links.split("\n").forEach((link) => images.delete(link));
      tx.objectStore("records").put(text, "history");
    }))
    .catch(code);
}

/** `[bytes used, bytes allowed, persisted]` from `navigator.storage`, each undefined when the
 * browser cannot tell; when `ask`, persistent storage is asked for first and `persisted` is
 * the browser's answer. */
export async function storageInfo(ask) {
  const s = navigator.storage;
  if (!s) return [];
  const persisted = await (ask ? s.persist() : s.persisted()).catch(() => undefined);
  const { usage, quota } = await s.estimate().catch(() => ({}));
  return [usage, quota, persisted];
}

/** Saves the picture at `link` as the file `file`: the copy kept in the browser when there is
 * one (it outlives the link), else fetched (only when `fetchable`, an http(s) link). Browsers
 * ignore `download` on links to other origins (the service's images), so either is saved from
 * a blob: URL of our own. Rejects with a code, or the HTTP status. */
export async function savePicture(link, file, fetchable) {
  let blob = await ready()
    .then(() => done(store("images").get(link)))
    .then(picture, () => null);
  if (!blob) {
    if (!fetchable) throw NOT_WEB;
    const response = await fetch(link).catch(() => Promise.reject(UNREACHABLE));
    if (!response.ok) throw response.status;
    blob = await response.blob().catch(() => Promise.reject(UNREAD));
  }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = file;
  a.click();
  // Revoked later, not at once: the browser may still be reading the blob.
  setTimeout(() => URL.revokeObjectURL(a.href), 30_000);
}

/** Copies `text` to the clipboard. */
export function copyText(text) {
  return navigator.clipboard.writeText(text);
}

/** Calls `name` of the gallery's ZIP module at `module` (web/lazy/zip.js, loaded the first
 * time: a first visit never downloads it) with `arg`; its errors are `Error`s in words. */
export async function zipCall(module, name, arg) {
  await import(module).catch(() => Promise.reject(UNLOADED));
  return globalThis.clipcloudZip[name](arg);
}

/** Offline use: keeps the page's own files (those its `<link>`s name with an `integrity` hash,
 * and the page) in the cache `name`, each fetched only when missing (their names change with their content, so a
 * file kept is current; the page is fetched again when its files are new: a new deploy),
 * drops an earlier deploy's, then registers the service worker at `worker`, which opens the
 * app from this copy when the site cannot be reached. The page fills the cache, the worker
 * only reads it. Offline use is a bonus: any failure just leaves it out. */
export function keepOffline(name, worker) {
  (async () => {
    // Service workers and caches exist only in secure contexts (https, localhost).
    if (!navigator.serviceWorker || !self.caches) return;
    const cache = await caches.open(name);
    // The build gives each of its files an `integrity` hash; the preload of an API answer
    // (`/gateway/info`) has none, and keeping it would ask for it a second time.
    const files = [...document.querySelectorAll("link[integrity][href^='/']")].map((l) => l.getAttribute("href")).filter((h) => !h.startsWith("//"));
    files.push("/");
    let deployed = false;
    for (const file of files) {
      if (!(await cache.match(file)) || (file === "/" && deployed)) {
        await cache.add(file);
        deployed = true;
      }
    }
    for (const request of await cache.keys()) {
      if (!files.includes(request.url.slice(location.origin.length))) await cache.delete(request).catch(() => {});
    }
    await navigator.serviceWorker.register(worker);
  })().catch(() => {});
}
