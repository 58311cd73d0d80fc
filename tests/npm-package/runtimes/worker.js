// A Cloudflare Worker, run by runtimes.test.mjs in workerd (the `workerd` npm package) after
// bundling as wrangler does: `GET /?key=…&base=…` makes one picture and answers JSON.
import { ClipCloud } from "clipcloud";

export default {
  async fetch(request) {
    const params = new URL(request.url).searchParams;
    const cc = new ClipCloud({ apiKey: params.get("key"), baseUrl: params.get("base") });
    try {
      const done = await cc.generate({ prompt: "a red apple", style: "standard" });
      return Response.json({ images: done.images.length, balance: await cc.balance() });
    } catch (e) {
      return Response.json({ code: e.code, message: e.message }, { status: 500 });
    }
  },
};
