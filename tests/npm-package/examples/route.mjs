// A server route that draws with the server's key: the browser sends a prompt and gets
// back only the finished image links, never the key. Plain node:http, no framework.
//   CLIPCLOUD_API_KEY=… PORT=8080 node route.mjs
//   curl -d '{"prompt":"a red apple","style":"HD-HQ"}' http://127.0.0.1:8080/api/picture
import { ClipCloud, ClipCloudError } from "clipcloud";
import { createServer } from "node:http";

const cc = new ClipCloud({ apiKey: process.env.CLIPCLOUD_API_KEY, baseUrl: process.env.CLIPCLOUD_BASE_URL });

const server = createServer(async (req, res) => {
  const reply = (status, body) => {
    res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  };
  if (req.method !== "POST" || req.url !== "/api/picture") return reply(404, { error: "not found" });
  let body = "";
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) return reply(413, { error: "too large" });
  }
  try {
    const { prompt, style } = JSON.parse(body);
    // Only what the browser may choose; the package checks it before anything is sent.
    const done = await cc.generate({ prompt, style }, { timeoutMs: 120_000 });
    reply(200, { images: done.images });
  } catch (e) {
    if (e instanceof SyntaxError) return reply(400, { error: "the body must be JSON" });
    if (!(e instanceof ClipCloudError)) throw e;
    // The message never holds the key; say what went wrong, not how the server is set up.
    const status = e.code === "invalid_input" ? 400 : e.code === "rate_limited" ? 429 : 502;
    reply(status, { error: e.code, message: status === 400 ? e.message : "the image service failed" });
  }
});

server.listen(Number(process.env.PORT ?? 8080), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
