// A stored-only ZIP writer and reader (no compression: WebP is compressed already), with
// CRC-32, and the gallery's export and import built on them. Loaded by the app on first use only
// (crates/clipcloud-app/src/device/archive.rs adds it as a module script), never on a first visit.
// It registers itself as `globalThis.clipcloudZip = { write, read, exportGallery, importGallery }`.

const TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const LOCAL = 0x04034b50, CENTRAL = 0x02014b50, END = 0x06054b50;
const UTF8 = 0x0800; // flag: names are UTF-8
const DOS_DATE = (1 << 5) | 1; // 1980-01-01: the files carry their dates in gallery.json

/** `files`: an array of [name, Blob]. Returns the archive as a Blob. */
async function write(files) {
  if (files.length > 0xffff) throw new Error(`too many files for a ZIP without ZIP64 (${files.length})`);
  const encoder = new TextEncoder();
  const parts = [], central = [];
  let offset = 0;
  for (const [name, blob] of files) {
    const data = new Uint8Array(await blob.arrayBuffer());
    const nameBytes = encoder.encode(name);
    const crc = crc32(data);
    if (offset + data.length > 0xfffffff0) throw new Error("the gallery is over 4 GB: too large for one ZIP file");
    const head = new DataView(new ArrayBuffer(30));
    head.setUint32(0, LOCAL, true);
    head.setUint16(4, 20, true);
    head.setUint16(6, UTF8, true);
    head.setUint16(12, DOS_DATE, true);
    head.setUint32(14, crc, true);
    head.setUint32(18, data.length, true);
    head.setUint32(22, data.length, true);
    head.setUint16(26, nameBytes.length, true);
    const entry = new DataView(new ArrayBuffer(46));
    entry.setUint32(0, CENTRAL, true);
    entry.setUint16(4, 20, true);
    entry.setUint16(6, 20, true);
    entry.setUint16(8, UTF8, true);
    entry.setUint16(14, DOS_DATE, true);
    entry.setUint32(16, crc, true);
    entry.setUint32(20, data.length, true);
    entry.setUint32(24, data.length, true);
    entry.setUint16(28, nameBytes.length, true);
    entry.setUint32(42, offset, true);
    parts.push(head, nameBytes, data);
    central.push(entry, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const centralSize = central.reduce((n, p) => n + p.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, END, true);
  end.setUint16(8, files.length, true);
  end.setUint16(10, files.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  return new Blob([...parts, ...central, end], { type: "application/zip" });
}

/** Reads a stored-only ZIP (as `write` makes them): an array of [name, Blob]. */
async function read(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const view = new DataView(bytes.buffer);
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === END) { end = i; break; }
  }
  if (end < 0) throw new Error("this file is not a ZIP archive");
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const decoder = new TextDecoder();
  const files = [];
  for (let n = 0; n < count; n++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== CENTRAL) throw new Error("the archive is damaged (its table of contents)");
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const size = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const skip = nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    at += 46 + skip;
    if (method !== 0) throw new Error(`${name} is compressed: only archives exported by this app can be imported`);
    if (local + 30 > bytes.length || view.getUint32(local, true) !== LOCAL) throw new Error(`the archive is damaged (${name})`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const data = bytes.subarray(start, start + size);
    if (data.length !== size || crc32(data) !== crc) throw new Error(`the archive is damaged (${name}: wrong checksum)`);
    files.push([name, new Blob([data])]);
  }
  return files;
}

// The gallery's export and import, straight on the app's IndexedDB (crates/clipcloud-app/web/
// browser.js: database "clipcloud", stores "images": link -> Blob, or { bytes: ArrayBuffer, type }
// where the browser refuses Blobs; "records": "history" -> JSON): here rather than in the wasm, so
// a first visit does not download them either.
const FORMAT = "clipcloud-gallery";
const MANIFEST = "gallery.json";
const MAX_ENTRIES = 5000; // as crates/clipcloud-app/src/logic/history.rs

const done = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});
const committed = (tx) => new Promise((resolve, reject) => {
  tx.oncomplete = () => resolve();
  tx.onabort = () => reject(tx.error ?? new Error("the browser did not save it"));
});
const plural = (n, what) => `${n} ${what}${n === 1 ? "" : "s"}`;
/** A stored picture as a Blob (as browser.js reads them), or null. */
const picture = (value) =>
  value instanceof Blob ? value : value?.bytes instanceof ArrayBuffer ? new Blob([value.bytes], { type: value.type }) : null;

async function history(db) {
  const text = await done(db.transaction("records").objectStore("records").get("history"));
  const entries = text ? JSON.parse(text) : [];
  return Array.isArray(entries) ? entries : [];
}

/** Saves the whole gallery as `clipcloud-gallery-YYYY-MM-DD.zip`; a report in words. */
async function exportGallery() {
  const db = await done(indexedDB.open("clipcloud"));
  try {
    const entries = await history(db);
    const links = {}, files = [];
    const images = db.transaction("images").objectStore("images");
    const wanted = entries.flatMap((e) => (e.images ?? []).map((link, i) => ({ link, name: `images/clipcloud-${String(e.creation_id).slice(0, 8)}-${i + 1}.webp` })));
    const blobs = (await Promise.all(wanted.map(({ link }) => done(images.get(link))))).map(picture);
    wanted.forEach(({ link, name }, i) => {
      if (blobs[i]) {
        links[link] = name;
        files.push([name, blobs[i]]);
      }
    });
    const manifest = { format: FORMAT, version: 1, exported_ms: Date.now(), entries, files: links };
    const zip = await write([[MANIFEST, new Blob([JSON.stringify(manifest)])], ...files]);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(zip);
    a.download = `clipcloud-gallery-${new Date().toISOString().slice(0, 10)}.zip`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 30_000); // the browser may still be reading it
    return `Exported ${plural(entries.length, "creation")} and ${plural(files.length, "picture")}.`;
  } finally {
    db.close();
  }
}

/** Adds what an exported file holds to the gallery (creations already there stay as they are). */
async function importGallery(file) {
  const files = new Map(await read(file));
  const notOurs = new Error("this ZIP is not a ClipCloud gallery export (no gallery.json)");
  if (!files.has(MANIFEST)) throw notOurs;
  let manifest;
  try {
    manifest = JSON.parse(await files.get(MANIFEST).text());
  } catch {
    throw notOurs;
  }
  if (manifest?.format !== FORMAT || !Array.isArray(manifest.entries)) throw notOurs;
  const entries = manifest.entries.filter((e) => typeof e?.creation_id === "string" && typeof e.finished_ms === "number");
  const db = await done(indexedDB.open("clipcloud"));
  try {
    const known = await history(db);
    const merged = [...known, ...entries.filter((e) => !known.some((k) => k.creation_id === e.creation_id))]
      .sort((a, b) => b.finished_ms - a.finished_ms).slice(0, MAX_ENTRIES);
    const pictures = [];
    for (const e of entries) {
      for (const link of Array.isArray(e.images) ? e.images : []) {
        const blob = files.get(manifest.files?.[link]);
        if (typeof link === "string" && blob) pictures.push([link, new Blob([blob], { type: "image/webp" })]);
      }
    }
    const save = async (kept) => {
      const tx = db.transaction(["images", "records"], "readwrite");
      pictures.forEach(([link], i) => tx.objectStore("images").put(kept[i], link));
      tx.objectStore("records").put(JSON.stringify(merged), "history");
      await committed(tx);
    };
    // As Blobs; where the browser refuses them (WebKit's private windows), as bytes, read
    // before the transaction (one left waiting on a read commits early). As browser.js keeps them.
    await save(pictures.map(([, blob]) => blob)).catch(async (e) => {
      if (e?.name === "QuotaExceededError") throw e;
      const bytes = await Promise.all(pictures.map(([, blob]) => blob.arrayBuffer()));
      await save(bytes.map((b) => ({ bytes: b, type: "image/webp" })));
    });
    return `Imported ${plural(entries.length, "creation")} and ${plural(pictures.length, "picture")}.`;
  } finally {
    db.close();
  }
}

globalThis.clipcloudZip = { write, read, exportGallery, importGallery };
