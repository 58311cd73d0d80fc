// Offline use: the app opens whenever its site cannot be reached (no network, the site down, a
// network that answers nothing), from the copy of the page and its files the app keeps in a
// cache (clipcloud-app/src/device/offline.rs); the gallery then shows the pictures it saved in
// IndexedDB. Online it is as fast as without this worker:
// - opening the app (a navigation to a page of the app) takes the network's answer, which the
//   browser fetches while the worker starts (Navigation Preload; in Firefox the worker asks
//   for it), and the kept page when the network fails, answers 5xx, or is silent for WAIT_MS;
// - the app's files named by their content's hash never change: from the cache when it holds
//   them (no request at all), else from the network;
// - everything else (the API, /images/, /gateway/, other origins) is left to the browser.
// The page fills the cache, the worker only reads it. The gateway serves this script with
// `connect-src 'self'` (edge/headers.rs): its own requests, and WebKit's preload, need it.
const CACHE = "clipcloud-app";
// Long enough for a slow network's first byte; short enough that a site answering nothing is
// not a blank screen.
const WAIT_MS = 3000;
// As the gateway's `is_service_path` and its files kept a year (`name-<16 hex>.ext`).
const SERVICE = /^\/(api|images|gateway)(\/|$)/;
const HASHED = /-[0-9a-f]{16}(_bg)?\.[a-z]+$/;

// Firefox (153 ESR, as since 107: workbox issue 3134) fails a navigation whose preload fails
// even when the worker answers it: there the worker asks the network itself.
const PRELOAD = !/ Firefox\//.test(navigator.userAgent);

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(Promise.all([
  PRELOAD ? self.registration.navigationPreload?.enable() : self.registration.navigationPreload?.disable(),
  self.clients.claim(),
])));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin) return;
  if (request.mode === "navigate") {
    // A page of the app, as the gateway serves `index.html` for a path without an extension.
    const app = !SERVICE.test(url.pathname) && !url.pathname.split("/").pop().includes(".");
    if (!app && !PRELOAD) return;
    // Any other navigation gets the browser's own preloaded answer, passed on as it is.
    const network = Promise.resolve(event.preloadResponse).then((answer) => answer ?? fetch(request));
    event.respondWith(app ? page(network) : network);
  } else if (!SERVICE.test(url.pathname) && HASHED.test(url.pathname)) {
    event.respondWith(caches.open(CACHE)
      .then((cache) => cache.match(request))
      .then((kept) => kept ?? fetch(request)));
  }
});

/** The network's page unless it fails, answers 5xx or is late: then the kept page, if any. */
async function page(network) {
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(resolve, WAIT_MS)));
  try {
    const answer = await Promise.race([network, late]);
    if (answer && answer.status < 500) return answer;
  } catch {
    // Unreachable: the kept page.
  } finally {
    clearTimeout(timer);
  }
  const kept = await caches.open(CACHE).then((cache) => cache.match("/")).catch(() => undefined);
  return kept ?? network;
}
