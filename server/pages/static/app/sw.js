// The phone page's service worker: the page and its modules come from the network when there
// is one (so a release is seen at once) and from this cache when there is none. The API is never
// cached: codes are made in the page from the offline kit kept in IndexedDB.
const CACHE = "ecredential-app-v2";
const SHELL = [
  "/app/",
  "/app/app.css",
  "/app/main.js",
  "/app/api.js",
  "/app/ec1.js",
  "/app/store.js",
  "/app/qr.js",
  "/app/sections.js",
  "/app/manifest.webmanifest",
  "/app/icon-192.png",
  "/app/icon-512.png",
  "/common/api.js",
  "/common/money.js",
  "/common/labels.js",
  "/vendor/qrcodegen/qrcodegen.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.startsWith("/api/")) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((c) => c.put(event.request, copy));
        }
        return response;
      })
      .catch(async () => {
        const hit = await caches.match(event.request, { ignoreSearch: true });
        if (hit) return hit;
        if (event.request.mode === "navigate") return caches.match("/app/");
        return Response.error();
      }),
  );
});
