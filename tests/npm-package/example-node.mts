// The package's types as a Node.js project sees them (`moduleResolution: node16`,
// @types/node and no DOM library), type-checked by package.test.mjs. Not run.
import { ClipCloud, ClipCloudError, type FetchLike, type Finished } from "clipcloud";
import { writeFile } from "node:fs/promises";

export async function illustrate(apiKey: string): Promise<void> {
  // Any fetch: the global one, or a wrapper that logs.
  const logged: FetchLike = (url, init) => {
    console.log(init.method, new URL(url).pathname);
    return fetch(url, init);
  };
  const cc = new ClipCloud({ apiKey, fetch: logged, timeoutMs: 60_000 });
  new ClipCloud({ apiKey, fetch });
  const ids: string[] = await Promise.all(
    ["a red apple", "a green pear"].map((prompt) => cc.create({ prompt, style: "HD-HQ" })),
  );
  for (const id of ids) {
    const done: Finished = await cc.wait(id, { signal: AbortSignal.timeout(300_000) });
    const bytes = Buffer.from(await (await fetch(done.images[0])).arrayBuffer());
    await writeFile(`${id}.webp`, bytes);
  }
  try {
    await cc.balance();
  } catch (e) {
    if (e instanceof ClipCloudError) console.log(e.code, e.mayHaveStarted);
  }
  // @ts-expect-error fetch is a function
  new ClipCloud({ apiKey, fetch: "fetch" });
}
