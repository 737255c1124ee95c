// The chair app's service worker: it keeps every file of the app on the phone (PRECACHE, above,
// lists them with their content-hash names) so the app opens in a basement with no signal. API
// calls are never cached: they go to the network, and the page's outbox (IndexedDB, which no
// version change touches) retries them.
//
// Each version of the app has a cache of its own, named by VERSION (above: a hash of every file
// kept). The worker's caches are the ones named "caucus-…"; the older ones, those of earlier
// versions and of the worker that named its cache otherwise, are deleted once this version is
// active, so a phone holds one copy of the app, not one per version.
const CACHE = "caucus-app-" + VERSION;

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => Promise.all(PRECACHE.map(async (url) => {
    // A /static/ file's name carries its content hash, so a copy an earlier version kept is
    // these very bytes: an upgrade downloads only the files that changed (rules.wasm is 3.9 MB).
    const kept = url.startsWith("/static/") ? await caches.match(url) : undefined;
    const r = kept || await fetch(url);
    if (!r.ok) throw new Error("precache " + url + ": " + r.status);
    await c.put(url, r);
  }))).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("caucus-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// The page asks a worker that installed but still waits to skip waiting again (app.js, nudge):
// the browser then retries handing it the page at once.
self.addEventListener("message", (e) => {
  if (e.data === "skip-waiting") self.skipWaiting();
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
    // The page: the kept copy (a reload is instant, and works with no signal). It is never
    // replaced from the network: the page is part of this version (VERSION hashes it), and a
    // newer page comes with the newer worker, with the files it names, in that worker's cache.
    e.respondWith(caches.open(CACHE).then((c) => c.match(url.pathname)).then((r) => r || fetch(e.request)));
  }
});
