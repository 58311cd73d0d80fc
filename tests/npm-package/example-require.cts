// A CommonJS TypeScript file requiring the package (Node's require of ES modules), type-
// checked by package.test.mjs with `module: nodenext` (TypeScript 5.8+; `node16` refuses
// any ES-module-only package here, TS1479). Not run: require.cjs is.
import { ClipCloud, ClipCloudError, type Finished } from "clipcloud";

export async function one(apiKey: string): Promise<Finished | ClipCloudError> {
  const cc = new ClipCloud({ apiKey });
  return cc.generate({ prompt: "a red apple", style: "HD-HQ" }).catch((e: ClipCloudError) => e);
}
