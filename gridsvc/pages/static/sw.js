// The patrol app's service worker: the app shell and its assets are kept on the phone,
// so the app opens in a basement. Pages and assets: network first, the cache when
// offline. The API is never cached here (the outbox in IndexedDB keeps the reports),
// except the grid boundaries and the category list, which change with a new version.

const CACHE = "gridsvc-patrol-v3";
const SHELL = [
  "/patrol",
  "/pages/static/pages.css",
  "/pages/static/patrol.css",
  "/pages/static/common.js",
  "/pages/static/outbox.js",
  "/pages/static/cases.js",
  "/pages/static/patrol.js",
  "/pages/static/icon.svg",
  "/patrol/manifest.webmanifest",
  "/ogc/collections/grids/items?limit=10000",
  "/open311/v2/services.json?lang=zh",
  `${self.location.origin}/static/vendor/leaflet@1.9.3/dist/leaflet.js`,
  `${self.location.origin}/static/vendor/leaflet@1.9.3/dist/leaflet.css`,
  // the pin: without them offline, the map shows no marker where the problem is
  "/static/vendor/leaflet@1.9.3/dist/images/marker-icon.png",
  "/static/vendor/leaflet@1.9.3/dist/images/marker-icon-2x.png",
  "/static/vendor/leaflet@1.9.3/dist/images/marker-shadow.png",
];
const KEPT = [/^\/patrol/, /^\/pages\/static\//, /^\/static\/vendor\//, /^\/ogc\/collections\/grids\/items/, /^\/open311\/v2\/services\.json/];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!KEPT.some((pattern) => pattern.test(url.pathname))) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(() => caches.match(event.request, { ignoreSearch: url.pathname === "/patrol" })
        .then((hit) => hit || Response.error())),
  );
});
