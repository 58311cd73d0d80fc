import { ClipCloud } from "clipcloud";

const cc = new ClipCloud({
  apiKey: process.env.CLIPCLOUD_API_KEY,
  baseUrl: process.env.CLIPCLOUD_BASE_URL, // unset: the service itself
});
const { images, cost, censored } = await cc.generate({ prompt: "a red apple", style: "HD-HQ" });
console.log(images, cost, censored);
