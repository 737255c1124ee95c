// The login screen before app.js arrives (so a chair on slow 3G can log in within 3 s). This
// script is inside the page, allowed by its hash in the CSP, so the form works after one round
// trip: it shows the chair's language, takes a tap on Log in and sends it at once, and starts
// the word lists; app.js takes over from caucusBoot when it runs.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const root = document.documentElement;
  const practice = location.pathname.startsWith("/practice");
  const boot = window.caucusBoot = { words: {}, login: null, toggled: false };
  let lang = localStorage.getItem("caucus.lang") || ((navigator.language || "").startsWith("es") ? "es" : "en");
  boot.lang = lang;
  const words = (l) => fetch(root.dataset["locale" + l[0].toUpperCase() + l[1]]).then((r) => r.ok ? r.json() : Promise.reject(r.status));
  for (const l of new Set(["en", lang])) boot.words[l] = words(l);
  for (const p of Object.values(boot.words)) p.catch(() => {});

  const w = JSON.parse($("login-words").textContent); // {en: {…}, es: {…}}: the login screen's words
  function show(l) {
    for (const el of document.querySelectorAll("[data-i18n]")) if (el.dataset.i18n in w[l]) el.textContent = w[l][el.dataset.i18n];
    root.lang = l;
    document.title = w[l].title;
    $("lang").textContent = l === "es" ? "English" : "Español";
    $("lang").lang = l === "es" ? "en" : "es";
  }
  $("practice-banner").hidden = !practice;
  $("mode-link").href = practice ? "/" : "/practice/";
  if (practice) $("mode-link").dataset.i18n = "to_real";
  show(lang);
  const h = new URLSearchParams(location.hash.slice(1));
  if (h.get("p")) $("precinct").value = h.get("p");

  $("lang").addEventListener("click", () => {
    if (window.caucusApp) return;
    lang = lang === "es" ? "en" : "es";
    boot.lang = lang;
    boot.toggled = true;
    localStorage.setItem("caucus.lang", lang);
    show(lang);
  });
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if (window.caucusApp || boot.login) return; // app.js answers it, or a double tap
    $("login-button").disabled = true;
    const body = { precinct_id: $("precinct").value.trim(), pin: $("pin").value.replace(/[\s-]/g, "") };
    boot.login = fetch((practice ? "/practice" : "") + "/api/v1/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(async (r) => [r, await r.json().catch(() => ({}))], () => [null, {}]);
  });
  root.dataset.ready = "1";
  window.caucusUsableAt = performance.now();
})();
