// Every call of the package, type-checked against its shipped index.d.ts
// (`tsc --noEmit`, run by package.test.mjs). Not run: the browser tests do that.
import {
  ClipCloud,
  ClipCloudError,
  init,
  type CheckResult,
  type ClipCloudOptions,
  type CreateInput,
  type ErrorCode,
  type Finished,
  type KnownStyle,
  type Progress,
  type Style,
  type StyleName,
} from "clipcloud";

export async function example(apiKey: string): Promise<void> {
  await init();
  await init(new URL("clipcloud/clipcloud_bg.wasm", import.meta.url));

  const options: ClipCloudOptions = { apiKey, baseUrl: "http://127.0.0.1:8787", softId: 1742, timeoutMs: 30_000 };
  const cc = new ClipCloud(options);
  new ClipCloud({ apiKey });

  const controller = new AbortController();
  const onProgress = (p: Progress): void => {
    const state: "in_progress" | "retrying" = p.state;
    const n: number = p.elapsedMs + p.checks;
    const why: ErrorCode | undefined = p.error;
    console.log(state, n, why, p.creationId);
  };

  const done: Finished = await cc.generate(
    { prompt: "a red apple", style: "HD-HQ", negativePrompt: "blur", count: 2, softId: 7 },
    { signal: controller.signal, onProgress, timeoutMs: 60_000 },
  );
  const images: string[] = done.images;
  const cost: number = done.cost;
  const censored: number = done.censored;
  console.log(images, cost, censored, done.creationId);

  const advanced: CreateInput = {
    prompt: "a red apple",
    model: "m",
    width: 512,
    height: 768,
    quality: 90,
    steps: 30,
    seed: 1,
    extra: { sampler: "euler", cfg: { scale: 7.5 } },
  };
  const id: string = await cc.create(advanced, { signal: controller.signal, timeoutMs: 10_000 });
  await cc.create({ prompt: "a cat", styleName: "pixel-art" });
  await cc.create({ prompt: "a cat", style: "a-style-added-later" });

  const status: CheckResult = await cc.check(id, { signal: controller.signal });
  if (status.state === "done") {
    console.log(status.images, status.cost, status.censored);
  } else {
    const running: "in_progress" = status.state;
    console.log(running, status.creationId);
  }

  const later: Finished = await cc.wait(id, { onProgress, signal: controller.signal, timeoutMs: 300_000 });
  const balance: number = await cc.balance({ timeoutMs: 5_000 });
  const styles: Style[] = await cc.styles();
  const name: StyleName = styles[0].name;
  const known: KnownStyle = "FullHD-HQ-h";
  console.log(later, balance, name, known, styles[0].description, styles[0].width, styles[0].height);

  try {
    await cc.balance();
  } catch (e) {
    if (e instanceof ClipCloudError) {
      const code: ErrorCode = e.code;
      const status: number | undefined = e.status;
      const started: boolean = e.mayHaveStarted;
      const named: "ClipCloudError" = e.name;
      const asError: Error = e;
      console.log(code, status, started, named, asError.message);
    }
  }

  // What the types refuse:
  // @ts-expect-error the prompt is required
  await cc.generate({ style: "HD-HQ" });
  // @ts-expect-error count is a number
  await cc.create({ prompt: "x", style: "standard", count: "2" });
  // @ts-expect-error advanced fields do not go with a style
  await cc.create({ prompt: "x", style: "standard", width: 512 });
  // @ts-expect-error style and styleName are one field
  await cc.create({ prompt: "x", style: "standard", styleName: "HD-HQ" });
  // @ts-expect-error create does not wait, so it has no onProgress
  await cc.create({ prompt: "x", style: "standard" }, { onProgress });
  // Without a key: a gateway that adds its own.
  const keyless: ClipCloudOptions = { baseUrl: "https://images.example.org", timeoutMs: 10_000 };
  new ClipCloud(keyless);
  // @ts-expect-error without a key, the gateway's baseUrl is required
  new ClipCloud({ softId: 1742 });
  // @ts-expect-error the key is a string
  new ClipCloud({ apiKey: 42, baseUrl: "http://127.0.0.1:8787" });
  // @ts-expect-error not an error code
  const wrong: ErrorCode = "forbidden";
  console.log(wrong);
}
