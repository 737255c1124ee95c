// results.js: the results pages' progressive enhancement. The pages are complete
// without it; with it, the map switch works in place, the map names the county pointed at or
// focused, and a live page (data-live on <html>; not the feeds' documentation) follows the
// results: each `results` event of the SSE stream that names a newer log size fetches the page
// again (revalidated with its ETag) and swaps in its <main>. Times are the server's, written in
// the election's zone (data-tz) with its abbreviation, so every reader sees the same clock.
"use strict";
(() => {
  const root = document.documentElement;
  const prefix = root.dataset.prefix || "";
  const live = document.querySelector(".live");
  const tz = root.dataset.tz || "UTC";

  function clock() {
    try {
      return new Date().toLocaleTimeString("en-US", { timeZone: tz, timeZoneName: "short" });
    } catch (e) {
      return new Date().toLocaleTimeString("en-US", { timeZone: "UTC", timeZoneName: "short" });
    }
  }

  // The map's label: the county under the pointer or with the focus, in words.
  function label(ev) {
    const a = ev.target.closest && ev.target.closest("#map a[data-label]");
    const out = document.querySelector(".maplabel");
    if (a && out) out.textContent = a.dataset.label;
  }
  document.addEventListener("mouseover", label);
  document.addEventListener("focusin", label);

  // The map switch: colour by SDE leader or by final-alignment leader, without a reload.
  document.addEventListener("click", (ev) => {
    const a = ev.target.closest && ev.target.closest(".switch a[data-mode]");
    if (!a || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
    ev.preventDefault();
    const final = a.dataset.mode === "final";
    const map = document.getElementById("map");
    if (map) map.classList.toggle("by-final", final);
    for (const b of document.querySelectorAll(".switch a[data-mode]")) {
      if (b === a) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
    }
    const url = new URL(location.href);
    if (final) url.searchParams.set("by", "final"); else url.searchParams.delete("by");
    history.replaceState(null, "", url);
  });

  let fetching = false, again = false;
  async function refresh() {
    if (fetching) { again = true; return; }
    fetching = true;
    try {
      const res = await fetch(location.pathname + location.search, { cache: "no-cache", headers: { Accept: "text/html" } });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      const next = doc.getElementById("live"), main = document.getElementById("live");
      if (!next || !main || next.dataset.logSize === main.dataset.logSize) return;
      const open = [...main.querySelectorAll("details")].map((d) => d.open);
      const focusID = document.activeElement && document.activeElement.id;
      main.dataset.logSize = next.dataset.logSize;
      main.replaceChildren(...next.childNodes);
      main.querySelectorAll("details").forEach((d, i) => { if (open[i] !== undefined) d.open = open[i]; });
      if (focusID && document.getElementById(focusID)) document.getElementById(focusID).focus();
      if (live) live.textContent = "Live: updated " + clock();
    } catch (e) {
      // A failed fetch is retried at the next event.
    } finally {
      fetching = false;
      if (again) { again = false; refresh(); }
    }
  }

  function onResults(data) {
    const main = document.getElementById("live");
    let size;
    try { size = JSON.parse(data).log_size; } catch (e) { return; }
    if (main && size > Number(main.dataset.logSize)) {
      // Spread a crowd's refetches over a second rather than all at the same instant.
      setTimeout(refresh, Math.random() * 1000);
    }
  }

  function poll() {
    setInterval(async () => {
      try {
        const res = await fetch(prefix + "/api/v1/results", { cache: "no-cache" });
        if (res.ok) onResults(await res.text());
      } catch (e) { /* next time */ }
    }, 15000);
  }

  if (!root.dataset.live) return;
  if (!("EventSource" in window)) { poll(); return; }
  // One stream per open page; closed when the page is left (a kept-alive stream would hold one
  // of the browser's few connections to the server, and keep the page out of the back cache).
  let es = null;
  function listen() {
    es = new EventSource(prefix + "/api/v1/events");
    es.addEventListener("results", (ev) => onResults(ev.data));
    es.addEventListener("open", () => { if (live && !live.textContent) live.textContent = "Live: this page updates itself."; });
    es.addEventListener("error", () => {
      // The browser reconnects by itself, except after a refusal (too many streams): then poll.
      if (es.readyState === EventSource.CLOSED) poll();
    });
  }
  window.addEventListener("pagehide", () => { if (es) { es.close(); es = null; } });
  window.addEventListener("pageshow", (ev) => { if (ev.persisted && !es) listen(); });
  listen();
})();
