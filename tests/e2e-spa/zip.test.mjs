// The gallery's ZIP module (web/lazy/zip.js), run in Node: what it writes is a valid stored-only
// ZIP with the right CRC-32s, and it reads back what it wrote; damaged or foreign archives are
// refused with a message. (The app's export and import of it run end to end in spa.test.mjs.)

import { test } from "node:test";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

await import(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "web", "lazy", "zip.js"));
const { write, read } = globalThis.clipcloudZip;

const bytes = async (blob) => new Uint8Array(await blob.arrayBuffer());

test("writes stored entries with the standard CRC-32 and reads them back", async () => {
  const files = [["gallery.json", new Blob(['{"a":1}'])], ["images/é-1.webp", new Blob([new Uint8Array([0, 1, 2, 255])])], ["check", new Blob(["123456789"])]];
  const zip = await bytes(await write(files));
  const view = new DataView(zip.buffer);
  assert.equal(view.getUint32(0, true), 0x04034b50);
  // The third entry's CRC-32: the check value of "123456789" is 0xCBF43926.
  const third = zip.length - 22 - (46 + 5);
  assert.equal(view.getUint32(third, true), 0x02014b50);
  assert.equal(view.getUint32(third + 16, true), 0xcbf43926);
  assert.equal(view.getUint16(third + 10, true), 0, "stored, not deflated");
  const back = await read(new Blob([zip]));
  assert.deepEqual(back.map(([name]) => name), files.map(([name]) => name));
  for (let i = 0; i < files.length; i++) assert.deepEqual(await bytes(back[i][1]), await bytes(files[i][1]));
});

test("refuses a damaged archive and a file that is no ZIP, in words", async () => {
  const zip = await bytes(await write([["a.txt", new Blob(["hello"])]]));
  zip[30 + "a.txt".length] ^= 0xff; // the first byte of the data
  await assert.rejects(read(new Blob([zip])), /the archive is damaged \(a\.txt: wrong checksum\)/);
  await assert.rejects(read(new Blob(["not a zip at all, just text that is long enough"])), /this file is not a ZIP archive/);
});
