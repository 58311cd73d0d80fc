// Illustrate an article: one picture per prompt an LLM wrote (the docs' template:
// [{ picture_number, query, negative_prompt, style }]). Create them all at once, collect
// them later, write the files to disk.
//   CLIPCLOUD_API_KEY=… node illustrate.mjs pictures.json out/
import { ClipCloud } from "clipcloud";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const [picturesFile, outDir] = process.argv.slice(2);
const pictures = JSON.parse(await readFile(picturesFile, "utf8"));
const cc = new ClipCloud({
  apiKey: process.env.CLIPCLOUD_API_KEY,
  baseUrl: process.env.CLIPCLOUD_BASE_URL, // unset: the service itself
});

// Create early: every creation starts now, and runs while the others are sent.
const created = await Promise.allSettled(
  pictures.map((p) =>
    cc.create({ prompt: p.query, negativePrompt: p.negative_prompt || undefined, style: p.style }),
  ),
);

// Collect later. A failed create is reported, never sent again: it may have been charged.
await mkdir(outDir, { recursive: true });
let failed = 0;
for (const [i, picture] of pictures.entries()) {
  const n = picture.picture_number;
  try {
    if (created[i].status === "rejected") throw created[i].reason;
    const done = await cc.wait(created[i].value);
    for (const [j, url] of done.images.entries()) {
      const file = join(outDir, `picture-${n}-${j + 1}.webp`);
      await writeFile(file, Buffer.from(await (await fetch(url)).arrayBuffer()));
      console.log(`picture ${n}: ${file}`);
    }
  } catch (e) {
    failed++;
    console.error(`picture ${n}: ${e.code ?? "error"}: ${e.message}`);
  }
}
process.exitCode = failed ? 1 : 0;
