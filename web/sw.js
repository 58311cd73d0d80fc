// Offline use: with the network gone, the page and its files come from the cache the app fills
// (clipcloud-app/src/device/offline.rs), and the gallery shows the pictures it saved in
// IndexedDB. Online, this worker stays out of the way: the browser loads everything as usual.
// (The worker makes no requests of its own: the CSP its script is served with forbids them.)
const CACHE = "clipcloud-app";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (navigator.onLine || request.method !== "GET" || new URL(request.url).origin !== location.origin) return;
  const kept = request.mode === "navigate" ? "/" : request;
  event.respondWith(caches.open(CACHE)
    .then((cache) => cache.match(kept, { ignoreSearch: true }))
    .then((response) => response ?? Response.error()));
});
