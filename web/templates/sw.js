// The chair app's service worker: it keeps every file of the app on the phone (PRECACHE, above,
// lists them with their content-hash names) so the app opens in a basement with no signal. API
// calls are never cached: they go to the network, and the page's outbox (IndexedDB) retries them.
const CACHE = "caucus-" + PRECACHE.join(",").length + "-" + PRECACHE[PRECACHE.length - 1];

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== location.origin || url.pathname.includes("/api/")) return;
  if (url.pathname.startsWith("/static/")) {
    // Immutable: the cache first, the network only for a file not kept yet.
    e.respondWith(caches.match(e.request).then((r) => r || fetch(e.request)));
    return;
  }
  if (url.pathname === "/" || url.pathname === "/practice/") {
    // The page: the kept copy at once (a cached reload is instant), refreshed in the background
    // so the next visit gets a new version.
    e.respondWith(caches.open(CACHE).then(async (c) => {
      const kept = await c.match(url.pathname);
      const net = fetch(e.request).then((r) => { if (r.ok) c.put(url.pathname, r.clone()); return r; });
      if (kept) { net.catch(() => {}); return kept; }
      return net;
    }));
  }
});
