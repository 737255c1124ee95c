// The chair's reporting app. Plain JavaScript, no framework, no build step.
//
// The math is internal/rules compiled to WebAssembly (rules.wasm, caucusCalc): the page never
// computes a delegate itself. A report is put in the outbox (IndexedDB) the moment the chair
// taps Send, and sent from there, with the same report_id, until the server answers with a
// receipt — so a dead network, a busy server or a reloaded page never loses or doubles it.
"use strict";

const $ = (id) => document.getElementById(id);
const root = document.documentElement;
const base = location.pathname.startsWith("/practice") ? "/practice" : "";
const STEPS = ["login", "signin", "first", "final", "delegates", "worksheet", "photo", "review", "receipt"];

// The page's own script (app.boot.js) ran first: it made the login form work, started the word
// lists and perhaps a login; this script takes over from it.
const boot = window.caucusBoot || { words: {} };

// ---- words (English and Spanish) ----
let lang = boot.lang || localStorage.getItem("caucus.lang") || ((navigator.language || "").startsWith("es") ? "es" : "en");
const dicts = {}, wordsLoading = {};
function t(key, vars) {
  let s = (dicts[lang] && dicts[lang][key]) || (dicts.en && dicts.en[key]) || key;
  for (const k in vars || {}) s = s.split("{" + k + "}").join(String(vars[k]));
  return s;
}
function loadWords(l) {
  if (!wordsLoading[l]) {
    const early = boot.words[l];
    delete boot.words[l];
    wordsLoading[l] = (early || fetch(root.dataset["locale" + l[0].toUpperCase() + l.slice(1)]).then((r) => r.ok ? r.json() : Promise.reject(r.status)))
      .then((d) => { dicts[l] = d; }, (e) => { delete wordsLoading[l]; throw e; });
  }
  return wordsLoading[l];
}
async function setLang(l) {
  lang = l;
  localStorage.setItem("caucus.lang", l);
  await Promise.all([loadWords("en"), loadWords(l)]);
  root.lang = l;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  const other = l === "es" ? "en" : "es";
  $("lang").textContent = other === "es" ? "Español" : "English";
  $("lang").lang = other;
  document.title = t("title");
  $("mode-link").textContent = t(base ? "to_real" : "to_practice");
  if (loginErr && !$("login-error").hidden) $("login-error").textContent = loginErr();
  showCallback();
  showComing();
  render();
}

// ---- the math (rules.wasm; the server's POST /api/v1/calc while it loads) ----
// On a slow line the wasm takes a while; the chair types meanwhile and, when online, the server
// answers with the same math (the same rules.CalcJSON) for the same input. One question is in
// flight at a time; when it comes back the page renders again and asks for what is typed now.
let mathReady = false;
const served = new Map(); // calc input as sent → the server's answer
let asking = false;
window.onCaucusReady = () => { mathReady = true; render(); };
function loadMath() {
  const s = document.createElement("script");
  s.src = root.dataset.wasmExec;
  s.onload = async () => {
    const go = new Go();
    try {
      const res = await WebAssembly.instantiateStreaming(fetch(root.dataset.wasm), go.importObject);
      go.run(res.instance);
    } catch (e) {
      showStatus(t("math_failed"), "bad");
    }
  };
  document.head.appendChild(s);
}
function calc(input) {
  const inp = JSON.stringify(input);
  if (mathReady) return JSON.parse(window.caucusCalc(inp));
  if (served.has(inp)) return served.get(inp);
  askServer(inp);
  return null;
}
function askServer(inp) {
  if (asking || !session || !navigator.onLine) return;
  asking = true;
  fetch(base + "/api/v1/calc", { method: "POST", body: inp,
    headers: { "Content-Type": "application/json", Authorization: "Bearer " + session.token } })
    .then((r) => r.ok ? r.json() : null)
    .then((res) => {
      asking = false;
      if (!res) return; // refused or offline: the next keystroke asks again, or the wasm answers
      if (served.size > 100) served.clear();
      served.set(inp, res);
      if (!mathReady) render();
    }, () => { asking = false; });
}

// ---- storage: session and draft in localStorage, outbox in IndexedDB ----
const store = {
  get(k) { try { return JSON.parse(localStorage.getItem("caucus." + k)); } catch (e) { return null; } },
  set(k, v) { localStorage.setItem("caucus." + k, JSON.stringify(v)); },
  del(k) { localStorage.removeItem("caucus." + k); },
};
let dbp;
function db() {
  dbp = dbp || new Promise((res, rej) => {
    const r = indexedDB.open("caucus", 1);
    r.onupgradeneeded = () => { r.result.createObjectStore("outbox", { keyPath: "report_id" }); r.result.createObjectStore("photos"); };
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
  return dbp;
}
async function idb(storeName, mode, f) {
  const d = await db();
  return new Promise((res, rej) => {
    const tx = d.transaction(storeName, mode);
    const req = f(tx.objectStore(storeName));
    tx.oncomplete = () => res(req && req.result);
    tx.onerror = tx.onabort = () => rej(tx.error);
  });
}
const outbox = {
  all: () => idb("outbox", "readonly", (s) => s.getAll()),
  get: (id) => idb("outbox", "readonly", (s) => s.get(id)),
  put: (rec) => idb("outbox", "readwrite", (s) => s.put(rec)),
};

function newID() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

let session = store.get("session"); // {token, precinct_id}
let info = null; // the precinct's facts from /api/v1/precinct-info
let draft = null; // the worksheet being typed: {report_id, step, attendees, first, final, delegates, tiebreaks, photo}
const draftKey = () => "draft" + base + ":" + (session && session.precinct_id);
function saveDraft() { store.set(draftKey(), draft); }
function freshDraft() { return { report_id: newID(), step: "signin", first: {}, final: {}, delegates: {}, tiebreaks: [], touchedFinal: false }; }

// ---- screens ----
function go(step) {
  if (draft && step !== "login") { draft.step = step; saveDraft(); }
  for (const s of STEPS) $("step-" + s).hidden = s !== step;
  current = step;
  render();
  const h = $("step-" + step).querySelector("h1");
  if (h) { h.tabIndex = -1; h.focus(); }
  window.scrollTo(0, 0);
}
let current = "login";

function showStatus(msg, kind) {
  const el = $("status");
  el.hidden = !msg;
  el.textContent = msg || "";
  el.className = "status " + (kind || "");
}

function num(v) {
  if (v === "" || v == null) return undefined;
  return /^\d{1,7}$/.test(String(v).trim()) ? parseInt(v, 10) : NaN;
}
function name(id) {
  const c = info && info.candidates.find((c) => c.id === id);
  return c ? candName(c) : id;
}
// candName is a candidate's name on the ballot; "other" and "uncommitted", when the election
// names them by their id ("Other", "Uncommitted"), are words of the page's language.
function candName(c) {
  if ((c.id === "other" || c.id === "uncommitted") && (c.name || c.id).toLowerCase() === c.id) return t("cand_" + c.id);
  return c.name || c.id;
}

// ---- check messages: checks.js (loaded before this script: checkText, checkSentence, checkNode, checkCands) ----

function counts(m) {
  const out = {};
  for (const k in m) if (m[k] !== undefined && m[k] !== "" && !Number.isNaN(m[k])) out[k] = m[k];
  return out;
}
function input(withWorksheet) {
  const inp = { rules: info.rules, attendees: draft.attendees, first: counts(draft.first), final: counts(draft.final),
    candidates: info.candidates.map((c) => c.id) };
  if (info.delegates_to_elect != null) inp.delegates_to_elect = info.delegates_to_elect;
  if (info.satellite) inp.satellite = true;
  if (info.sde_ratio) inp.sde_ratio = info.sde_ratio;
  if (draft.tiebreaks.length) inp.tiebreaks = draft.tiebreaks;
  if (withWorksheet && Object.keys(counts(draft.delegates)).length) inp.delegates = counts(draft.delegates);
  return inp;
}
// checksHTML shows the checks of a step (ids; all when none) and marks the rows of the candidates
// they name in rowsEl. A step's checks wait until the chair has typed in it and left its boxes
// (shown, true), so nothing is said about numbers still being typed.
function checksHTML(el, res, ids, rowsEl, shown) {
  el.replaceChildren();
  const flagged = {};
  for (const c of (shown === false ? [] : (res && res.checks) || [])) {
    if (ids && !ids.includes(c.id)) continue;
    el.appendChild(checkNode(c));
    for (const id of checkCands(c.args)) flagged[id] = flagged[id] === "error" ? "error" : c.severity;
  }
  for (const inp of rowsEl ? rowsEl.querySelectorAll("input") : []) {
    inp.closest(".row").dataset.flag = flagged[inp.dataset.id] || "";
  }
}
// typedIn says whether the chair has typed in a step's rows and is no longer in one of them.
function typedIn(rowsEl, values) {
  return Object.keys(counts(values)).length > 0 && !rowsEl.contains(document.activeElement);
}
const hasError = (res, ids) => !res || res.checks.some((c) => c.severity === "error" && (!ids || ids.includes(c.id)));
function group(res, id) { return res && res.groups.find((g) => g.candidate_id === id); }

function rows(el, kind, values, note) {
  if (el.dataset.built !== info.precinct_id + lang) {
    el.replaceChildren();
    for (const c of info.candidates) {
      const row = document.createElement("div");
      row.className = "row";
      const lab = document.createElement("label");
      lab.htmlFor = kind + "-" + c.id;
      lab.textContent = candName(c);
      const inp = document.createElement("input");
      inp.id = kind + "-" + c.id;
      inp.inputMode = "numeric";
      inp.autocomplete = "off";
      inp.dataset.id = c.id;
      inp.addEventListener("input", () => {
        const v = num(inp.value);
        values()[c.id] = v;
        if (kind === "final") draft.touchedFinal = true;
        inp.setAttribute("aria-invalid", Number.isNaN(v) ? "true" : "false");
        saveDraft();
        render();
      });
      const n = document.createElement("span");
      n.className = "note";
      n.id = kind + "-note-" + c.id;
      inp.setAttribute("aria-describedby", n.id);
      row.append(lab, inp, n);
      el.appendChild(row);
    }
    el.dataset.built = info.precinct_id + lang;
  }
  for (const inp of el.querySelectorAll("input")) {
    const v = values()[inp.dataset.id];
    if (document.activeElement !== inp) inp.value = v === undefined || Number.isNaN(v) ? "" : v;
    const n = $(kind + "-note-" + inp.dataset.id);
    const [text, cls] = note(inp.dataset.id);
    n.textContent = text;
    n.className = "note " + (cls || "");
  }
}

function render() {
  if (!dicts.en || !dicts[lang]) return;
  if (session && info) $("where").textContent = info.name + " · " + info.precinct_id;
  $("practice-banner").hidden = !base;
  $("logout").hidden = !session || current === "login";
  renderStatus();
  if (!draft || !info || current === "login") return;
  const d = info.delegates_to_elect;
  const res = draft.attendees !== undefined && !Number.isNaN(draft.attendees) ? calc(input(true)) : null;
  const waiting = mathReady || res ? "" : t("math_loading");
  switch (current) {
    case "signin": {
      const a = draft.attendees;
      $("attendees").setAttribute("aria-invalid", Number.isNaN(a) ? "true" : "false");
      $("signin-math").textContent = waiting || (res && res.threshold != null
        ? t("threshold_is", { t: res.threshold, d: res.delegates_to_elect })
        : Number.isNaN(a) ? t("whole_numbers") : t("type_attendees"));
      // 0 or a number no precinct holds is asked about before the chair goes on.
      const odd = a === 0 || a >= 10000;
      $("signin-warn").hidden = $("signin-confirm-box").hidden = !odd;
      $("signin-warn").textContent = a === 0 ? t("signin_zero") : odd ? t("signin_huge", { n: a.toLocaleString(lang) }) : "";
      if (!odd) $("signin-confirm").checked = false;
      next("signin").disabled = !(a >= 0) || !res || (odd && !$("signin-confirm").checked);
      $("already").hidden = !reported;
      $("already-text").textContent = reported ? t("already_reported", { status: t("status_" + reported) }) : "";
      $("already-link").href = base + "/results/precincts/" + encodeURIComponent(info.precinct_id);
      break;
    }
    case "first": {
      $("first-threshold").textContent = res && res.threshold != null ? t("threshold_is", { t: res.threshold, d: res.delegates_to_elect }) : waiting;
      rows($("first-rows"), "first", () => draft.first, (id) => {
        const g = group(res, id);
        if (!g) return ["", ""];
        return g.viable_first ? [t("viable"), "viable"] : [t("not_viable", { t: res.threshold }), "notviable"];
      });
      const sum = Object.values(counts(draft.first)).reduce((a, b) => a + b, 0);
      $("first-total").textContent = t("in_groups", { n: sum, a: draft.attendees });
      checksHTML($("first-checks"), res, ["C01", "C02", "C03", "C05"], $("first-rows"), typedIn($("first-rows"), draft.first));
      next("first").disabled = hasError(res, ["C01", "C02", "C03"]) || sum === 0;
      break;
    }
    case "final": {
      rows($("final-rows"), "final", () => draft.final, (id) => {
        const g = group(res, id);
        if (!g) return [t("may_join"), "locked"];
        const lock = g.viable_first ? t("locked") : t("may_realign");
        const v = g.viable ? t("viable") : t("not_viable", { t: res.threshold });
        return [lock + " · " + v, g.viable ? "viable" : "notviable"];
      });
      const sum = Object.values(counts(draft.final)).reduce((a, b) => a + b, 0);
      $("final-total").textContent = t("in_final", { n: sum, f: Object.values(counts(draft.first)).reduce((a, b) => a + b, 0) });
      checksHTML($("final-checks"), res, ["C01", "C04", "C06", "C07", "C08", "C16", "C21"], $("final-rows"), draft.touchedFinal && typedIn($("final-rows"), draft.final));
      next("final").disabled = hasError(res, ["C01", "C02", "C03", "C04", "C07"]);
      break;
    }
    case "delegates": renderDelegates(res); break;
    case "worksheet": {
      rows($("worksheet-rows"), "worksheet", () => draft.delegates, (id) => {
        const g = group(res, id);
        if (!g) return ["", ""];
        // The math is shown only beside a number the chair typed, so it is never copied from here.
        const mine = draft.delegates[id];
        if (mine === undefined || Number.isNaN(mine) || document.activeElement === $("worksheet-" + id)) return ["", ""];
        return mine === g.delegates ? [t("matches"), "viable"] : [t("math_says", { n: g.delegates }), "notviable"];
      });
      checksHTML($("worksheet-checks"), res, ["C09", "C10", "C11", "C12"], $("worksheet-rows"), typedIn($("worksheet-rows"), draft.delegates));
      break;
    }
    case "review": renderReview(res); break;
    case "receipt": renderReceipt(); break;
  }
}
function next(step) { return $("step-" + step).querySelector(".next"); }

function renderDelegates(res) {
  const tb = $("delegates-rows");
  tb.replaceChildren();
  for (const g of (res && res.groups) || []) {
    if (!g.final && !g.delegates) continue;
    const tr = document.createElement("tr");
    for (const v of [name(g.candidate_id), g.final, g.delegates]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.appendChild(td);
    }
    tb.appendChild(tr);
  }
  // A tie still open: its delegates are in no group's column yet, so say where they went.
  for (const tie of (res && res.tiebreaks_needed) || []) {
    const tr = document.createElement("tr");
    tr.className = "undecided";
    const td = document.createElement("td");
    td.colSpan = 2;
    td.textContent = t((tie.kind === "card" ? "undecided_card" : "undecided_coin") + (tie.delegates === 1 ? "_one" : "_other"), { n: tie.delegates });
    const n = document.createElement("td");
    n.textContent = tie.delegates;
    tr.append(td, n);
    tb.appendChild(tr);
  }
  if (res && res.groups && res.delegates_to_elect != null) {
    const tr = document.createElement("tr");
    tr.className = "total";
    for (const v of [t("total"), res.groups.reduce((a, g) => a + g.final, 0), res.delegates_to_elect]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.appendChild(td);
    }
    tb.appendChild(tr);
  }
  const ties = $("ties");
  ties.replaceChildren();
  for (const tie of (res && res.tiebreaks_needed) || []) {
    const box = document.createElement("div");
    box.className = "tie";
    box.setAttribute("role", "group");
    // One box says it all: who tosses, what is at stake, and how many winners are still to pick.
    const names = tie.between.map(name), picked = draft.tiebreaks.filter((x) => same(x.between, tie.between)).length;
    const left = Math.max(0, tie.delegates - picked);
    const h = document.createElement("p");
    h.className = "tie-head";
    h.textContent = t(tie.kind === "card" ? "tie_card" : "tie_coin", { names: names.slice(0, -1).join(", ") + " " + t("and") + " " + names[names.length - 1] });
    const stake = document.createElement("p");
    stake.textContent = t(tie.delegates === 1 ? "tie_stake_one" : "tie_stake", { n: tie.delegates });
    const q = document.createElement("p");
    q.className = "tie-left";
    q.setAttribute("aria-live", "polite");
    q.textContent = left === 0 ? "" : picked === 0 ? t(tie.delegates === 1 ? "tie_pick_one" : "tie_pick", { n: tie.delegates }) : t(left === 1 ? "tie_more_one" : "tie_more", { n: left });
    box.append(h, stake, q);
    for (const id of tie.between) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "tie-winner";
      b.dataset.id = id;
      const chosen = draft.tiebreaks.some((x) => x.winner === id && same(x.between, tie.between));
      b.setAttribute("aria-pressed", chosen ? "true" : "false");
      b.textContent = (chosen ? "✓ " : "") + name(id);
      b.addEventListener("click", () => {
        draft.tiebreaks = draft.tiebreaks.filter((x) => !(x.winner === id && same(x.between, tie.between)));
        if (!chosen) draft.tiebreaks.push({ kind: tie.kind, between: tie.between.slice(), winner: id });
        saveDraft();
        render();
      });
      box.appendChild(b);
    }
    ties.appendChild(box);
  }
  const recorded = draft.tiebreaks.filter((x) => !(res && res.tiebreaks_needed.some((tie) => same(x.between, tie.between))));
  if (recorded.length) {
    const p = document.createElement("p");
    p.className = "math";
    p.textContent = t("tie_recorded", { list: recorded.map((x) => name(x.winner)).join(", ") });
    const undo = document.createElement("button");
    undo.type = "button";
    undo.textContent = t("tie_undo");
    undo.addEventListener("click", () => { draft.tiebreaks = []; saveDraft(); render(); });
    ties.append(p, undo);
  }
  checksHTML($("delegates-checks"), res, ["C13", "C14", "C15", "C16"], null, true);
  next("delegates").disabled = hasError(res);
}
const same = (a, b) => a.length === b.length && a.every((x) => b.includes(x));

function renderReview(res) {
  const tb = $("review-rows");
  tb.replaceChildren();
  for (const g of (res && res.groups) || []) {
    const tr = document.createElement("tr");
    const mine = draft.delegates[g.candidate_id];
    const del = mine !== undefined && mine !== g.delegates ? g.delegates + " (" + t("yours") + " " + mine + ")" : g.delegates;
    for (const v of [name(g.candidate_id), g.first, g.final, del]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.appendChild(td);
    }
    tb.appendChild(tr);
  }
  $("review-summary").textContent = t("review_summary", { a: draft.attendees, d: res ? res.delegates_to_elect : "?" }) +
    (draft.photo ? " " + t("photo_attached") : "");
  checksHTML($("review-checks"), res);
  $("submit").disabled = hasError(res) || submitting;
}

// ---- submit and the outbox ----
let submitting = false;
async function submit() {
  if (submitting) return;
  submitting = true;
  $("submit").disabled = true;
  try {
    const res = calc(input(true));
    if (hasError(res)) return;
    if (!(await outbox.get(draft.report_id))) {
      const body = { report_id: draft.report_id, precinct_id: info.precinct_id, attendees: draft.attendees,
        first: counts(draft.first), final: counts(draft.final), channel: "app" };
      const ws = counts(draft.delegates);
      if (Object.keys(ws).length) body.delegates = ws;
      if (draft.tiebreaks.length) body.tiebreaks = draft.tiebreaks;
      const photo = draft.photo ? await idb("photos", "readonly", (s) => s.get(draftKey())) : null;
      // The delegates the chair saw are kept with the report, for the receipt.
      const delegates = {};
      for (const g of res.groups) delegates[g.candidate_id] = g.delegates;
      await outbox.put({ report_id: draft.report_id, base, precinct_id: info.precinct_id, token: session.token,
        body, delegates, photo: photo || null, state: "saved", attempts: 0, next_at: 0, saved_at: Date.now() });
    }
    draft.submitted = true;
    saveDraft();
    go("receipt");
    pump();
  } finally {
    submitting = false;
  }
}

let latest = null; // the outbox record shown
async function refreshLatest() {
  if (!draft || !draft.report_id) { latest = null; return; }
  latest = (await outbox.get(draft.report_id)) || null;
}

let pumping = false, timer = 0;
async function pump() {
  if (pumping) return;
  pumping = true;
  clearTimeout(timer);
  try {
    for (const rec of await outbox.all()) {
      if ((rec.state === "saved" || rec.state === "sent") && rec.next_at <= Date.now()) await send(rec);
    }
  } catch (e) {
    // IndexedDB itself failed; the next pump tries again
  } finally {
    pumping = false;
    await refreshLatest();
    render();
    const waits = (await outbox.all()).filter((r) => r.state === "saved" || r.state === "sent").map((r) => r.next_at);
    if (waits.length) timer = setTimeout(pump, Math.max(500, Math.min(...waits) - Date.now()));
  }
}

function backoff(rec, why, retryAfter) {
  rec.attempts++;
  const wait = Math.min(30, 2 ** Math.min(rec.attempts, 5)) * (0.5 + Math.random() / 2);
  rec.next_at = Date.now() + 1000 * Math.max(wait, retryAfter || 0);
  rec.state = "saved";
  rec.why = why;
}

async function send(rec) {
  const auth = { Authorization: "Bearer " + rec.token };
  try {
    if (rec.photo && !rec.body.photo_sha256) {
      const r = await fetch(rec.base + "/api/v1/photos", { method: "POST", headers: { ...auth, "Content-Type": rec.photo.type }, body: rec.photo });
      const pb = await r.json().catch(() => ({}));
      if (r.ok) rec.body.photo_sha256 = pb.sha256;
      else if (r.status === 401) { rec.state = "login"; return outbox.put(rec); }
      else if (r.status >= 500 || (r.status === 429 && pb.code !== "quota")) { backoff(rec, "busy", +r.headers.get("Retry-After")); return outbox.put(rec); }
      // A photo the server will not take (not an image, too large, past the precinct's quota of
      // photos) never holds the report back: it goes without, and the receipt says why.
      else rec.photo_error = pb.error || String(r.status);
      rec.photo = null;
      await outbox.put(rec);
    }
    rec.state = "sent";
    await outbox.put(rec);
    render();
    const r = await fetch(rec.base + "/api/v1/reports", { method: "POST", headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify(rec.body) });
    const body = await r.json().catch(() => ({}));
    if (r.status === 200 || r.status === 201) {
      rec.receipt = body;
      rec.state = body.status === "accepted" ? "accepted" : "review";
    } else if (r.status === 409) {
      rec.receipt = body.receipt || body;
      rec.state = "review";
      rec.message = body.error;
    } else if (r.status === 422 || r.status === 400 || r.status === 413) {
      rec.state = "refused";
      rec.message = body.error;
      rec.checks = body.checks || [];
    } else if (r.status === 401) {
      rec.state = "login";
    } else {
      backoff(rec, "busy", +r.headers.get("Retry-After"));
    }
  } catch (e) {
    backoff(rec, navigator.onLine === false ? "offline" : "unreachable");
  }
  rec.answered_at = Date.now();
  await outbox.put(rec);
}

function stateText(rec) {
  switch (rec.state) {
    case "saved": return [rec.why ? t("why_" + rec.why) : t("state_saved") + " " + t("why_queued"), "warn"];
    case "sent": return [t("state_sent"), "warn"];
    case "accepted": return [t("state_accepted"), "ok"];
    case "review": return [t("state_review"), "warn"];
    case "refused": return [t("state_refused"), "bad"];
    case "login": return [t("state_login"), "bad"];
  }
  return ["", ""];
}
function renderStatus() {
  if (latest) {
    const [text, kind] = stateText(latest);
    showStatus(t("report") + ": " + text, kind);
  } else if (session && navigator.onLine === false) {
    showStatus(t("offline_note"), "warn");
  } else if (!$("status").classList.contains("bad")) {
    showStatus("");
  }
}

function renderReceipt() {
  const rec = latest;
  $("receipt-state").textContent = rec ? stateText(rec)[0] : t("state_saved");
  const dl = $("receipt");
  dl.replaceChildren();
  const add = (k, v) => {
    const dt = document.createElement("dt");
    dt.textContent = t(k);
    const dd = document.createElement("dd");
    dd.textContent = v;
    dl.append(dt, dd);
  };
  if (rec) {
    add("receipt_time", when(rec.receipt ? rec.answered_at : rec.saved_at));
    add("report_id", rec.report_id);
    if (rec.receipt && rec.receipt.log_index !== undefined) {
      add("log_index", rec.receipt.log_index);
      add("leaf_hash", base64(rec.receipt.leaf_hash)); // as the precinct's page and the log write hashes
    }
    add("receipt_signed_in", rec.body.attendees);
    if (rec.message) add("server_says", rec.message);
    if (rec.photo_error) add("photo_not_sent", rec.photo_error);
    for (const c of rec.checks || []) add(c.id, checkSentence(c));
    receiptNumbers(rec);
    const link = $("receipt-link");
    link.hidden = !rec.receipt;
    link.href = rec.base + "/results/precincts/" + encodeURIComponent(rec.precinct_id);
  }
  $("receipt-numbers").hidden = !rec;
  const waiting = !!rec && (rec.state === "saved" || rec.state === "sent" || rec.state === "login");
  $("send-now").hidden = !rec || rec.state === "login" || !waiting;
  $("new-report").hidden = waiting; // a report still on its way stays on screen until it arrives
}

// base64 writes a hash the server gives in hex as the public pages and the log's checkpoints
// write hashes (standard base64), so the chair compares like with like.
function base64(hex) {
  if (!/^([0-9a-f]{2})+$/.test(hex || "")) return hex;
  return btoa(String.fromCharCode(...hex.match(/../g).map((b) => parseInt(b, 16))));
}

// when is a moment as the chair reads it: date, time and zone, in the page's language.
function when(ms) {
  return new Date(ms || Date.now()).toLocaleString(lang, { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short" });
}
// receiptNumbers is the table of the numbers as sent: each group's first and final alignment
// and the delegates the math gave it.
function receiptNumbers(rec) {
  const tb = $("receipt-rows");
  tb.replaceChildren();
  const ids = info ? info.candidates.map((c) => c.id) : Object.keys(rec.body.first);
  for (const id of ids) {
    const first = rec.body.first[id], final = rec.body.final[id], del = rec.delegates ? rec.delegates[id] : undefined;
    if (!first && !final && !del) continue;
    const tr = document.createElement("tr");
    for (const v of [name(id), first || 0, final || 0, del === undefined ? "" : del]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.appendChild(td);
    }
    tb.appendChild(tr);
  }
}

// ---- login ----
// loginMessage is what a failed login tells the chair, as a function of the page's language (it
// is written again when the language changes), or null for a login that succeeded.
let loginErr = null;
function loginMessage(r, body, isToken) {
  if (r && r.ok && body.token) return null;
  const retry = r && (r.headers.get("Retry-After") || "60");
  return () => {
    if (!r) return t("login_unreachable");
    if (body.code === "pin_typo") return t("login_typo");
    if (body.code === "bad_credentials") return t(isToken ? "login_bad_link" : "login_wrong"); // a QR link: nothing was typed
    if (body.code === "bad_login_link") return t("login_bad_link");
    if (body.code === "throttled") return t("login_throttled", { s: retry });
    if (body.code === "pin_closed") return t("login_closed");
    if (body.code === "pin_not_open") return t("login_not_open");
    if (r.status >= 500 || r.status === 429) return t("login_busy");
    return t("login_other", { s: r.status });
  };
}
// sent is a login app.boot.js already sent (a tap before this script arrived): its answer.
async function login(precinct, secret, isToken, sent) {
  const err = $("login-error");
  err.hidden = true;
  $("login-button").disabled = true;
  let r, body;
  try {
    [r, body] = await (sent || fetch(base + "/api/v1/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(isToken ? { precinct_id: precinct, token: secret } : { precinct_id: precinct, pin: secret }) })
      .then(async (r) => [r, await r.json().catch(() => ({}))], () => [null, {}]));
    await Promise.all([loadWords("en"), loadWords(lang)]).catch(() => {});
  } finally {
    $("login-button").disabled = false;
  }
  loginErr = loginMessage(r, body, isToken);
  if (loginErr) {
    err.textContent = loginErr();
    err.hidden = false;
    return;
  }
  session = { token: body.token, precinct_id: body.precinct_id };
  store.set("session", session);
  // Reports waiting for a login go out again with the new token.
  for (const rec of await outbox.all()) {
    if (rec.state === "login" && rec.precinct_id === session.precinct_id) {
      rec.state = "saved"; rec.token = session.token; rec.next_at = 0;
      await outbox.put(rec);
    }
  }
  await start();
}

// logout forgets the session (the drafts and the outbox stay on the phone: a report on its way
// still goes, and the precinct's draft is there on the next login) and shows the login screen,
// where the practice caucus links to the real one. The server ends the session too, unless a
// report or call-back still waiting on the phone needs its token.
async function logout() {
  const token = session && session.token;
  const waiting = (await outbox.all().catch(() => [])).some((r) => r.token === token && r.state !== "accepted" && r.state !== "review" && r.state !== "refused") ||
    callbackQueue().some((cb) => cb.token === token);
  if (token && !waiting) fetch("/api/v1/logout", { method: "POST", headers: { Authorization: "Bearer " + token } }).catch(() => {});
  session = null; info = null; draft = null; latest = null;
  clearTimeout(cbWatch); cbShown = null; showComing();
  store.del("session");
  $("where").textContent = "";
  $("pin").value = "";
  go("login");
}

// alreadyReported tells a chair whose precinct has a report on the server (from this phone or
// another) what its status is, with a link to its public page, before a second one is typed.
let reported = "";
async function alreadyReported() {
  reported = "";
  // Revalidated (ETag), never the copy from an earlier login.
  const r = await fetch(base + "/api/v1/results/precincts/" + encodeURIComponent(session.precinct_id), { cache: "no-cache" });
  const b = r.ok ? await r.json() : {};
  if (b.status && b.status !== "not_reported") reported = b.status;
  render();
}

// The precinct typed on the login screen (its ID or its name, in any case, with spaces or
// hyphens: the server matches it as at login) is looked up, and its name shown before the PIN.
let lookupSeq = 0;
async function showPrecinctName() {
  const key = $("precinct").value.trim(), seq = ++lookupSeq, out = $("precinct-name");
  let found = null;
  if (key) {
    try {
      const r = await fetch(base + "/api/v1/precinct-info/" + encodeURIComponent(key));
      if (r.ok) found = await r.json();
    } catch (e) { /* offline: nothing to show */ }
  }
  if (seq !== lookupSeq) return;
  out.textContent = found ? t("precinct_found", { name: found.name }) : "";
}

async function loadInfo() {
  const key = "info" + base + ":" + session.precinct_id;
  try {
    const r = await fetch(base + "/api/v1/precinct-info/" + encodeURIComponent(session.precinct_id));
    if (r.ok) { info = await r.json(); store.set(key, info); return; }
  } catch (e) { /* offline: the copy kept below */ }
  info = store.get(key);
}

async function start() {
  await loadInfo();
  if (!info) {
    $("login-error").textContent = t("info_unreachable");
    $("login-error").hidden = false;
    return go("login");
  }
  draft = store.get(draftKey()) || freshDraft();
  saveDraft();
  $("attendees").value = draft.attendees === undefined || Number.isNaN(draft.attendees) ? "" : draft.attendees;
  await refreshLatest();
  alreadyReported().catch(() => {});
  go(draft.submitted ? "receipt" : draft.step || "signin");
  pump();
  if (callbackQueue().length) sendCallbacks();
  watchCallbacks();
}

// ---- wiring ----
function wire() {
  $("lang").addEventListener("click", () => setLang(lang === "es" ? "en" : "es"));
  $("mode-link").href = base ? "/" : "/practice/";
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    login($("precinct").value.trim(), $("pin").value.replace(/[\s-]/g, ""), false);
  });
  $("attendees").addEventListener("input", () => { draft.attendees = num($("attendees").value); saveDraft(); render(); });
  for (const b of document.querySelectorAll(".next")) {
    b.addEventListener("click", () => {
      const i = STEPS.indexOf(current);
      if (current === "first" && !draft.touchedFinal) draft.final = { ...counts(draft.first) };
      go(STEPS[i + 1]);
    });
  }
  for (const b of document.querySelectorAll(".back")) b.addEventListener("click", () => go(STEPS[STEPS.indexOf(current) - 1]));
  $("submit").addEventListener("click", submit);
  $("send-now").addEventListener("click", async () => {
    for (const rec of await outbox.all()) if (rec.state === "saved") { rec.next_at = 0; await outbox.put(rec); }
    pump();
  });
  $("new-report").addEventListener("click", () => {
    if (latest && latest.state === "refused") { // fix the numbers: same worksheet, a new report_id
      draft.report_id = newID(); draft.submitted = false; saveDraft(); latest = null; return go("review");
    }
    draft = freshDraft(); saveDraft(); latest = null; $("attendees").value = ""; go("signin");
  });
  for (const id of ["first-rows", "final-rows", "worksheet-rows"]) {
    $(id).addEventListener("focusin", () => render());
    $(id).addEventListener("focusout", () => setTimeout(render, 0));
  }
  $("signin-confirm").addEventListener("change", render);
  let nameTimer = 0; // looked up when the chair pauses or leaves the field
  $("precinct").addEventListener("input", () => { clearTimeout(nameTimer); nameTimer = setTimeout(showPrecinctName, 600); });
  $("precinct").addEventListener("change", () => { clearTimeout(nameTimer); showPrecinctName(); });
  $("logout").addEventListener("click", logout);
  $("photo").addEventListener("change", takePhoto);
  $("callback-form").addEventListener("submit", callMeBack);
  window.addEventListener("online", () => {
    outbox.all().then(async (recs) => {
      for (const rec of recs) if (rec.state === "saved") { rec.next_at = 0; await outbox.put(rec); }
      pump();
    });
    if (callbackQueue().length) sendCallbacks();
  });
  window.addEventListener("offline", render);
}

// The worksheet photo is resized in the page (long side ≤ 1600 px, JPEG) before it is kept.
async function takePhoto() {
  const file = $("photo").files[0];
  if (!file) return;
  $("photo-info").textContent = t("photo_working");
  let blob = file;
  try {
    const img = await createImageBitmap(file);
    const scale = Math.min(1, 1600 / Math.max(img.width, img.height));
    const c = $("photo-preview");
    c.width = Math.round(img.width * scale);
    c.height = Math.round(img.height * scale);
    c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
    c.hidden = false;
    blob = await new Promise((res) => c.toBlob(res, "image/jpeg", 0.8));
  } catch (e) {
    if (!/^image\/(jpeg|png)$/.test(file.type)) { $("photo-info").textContent = t("photo_bad"); return; }
  }
  await idb("photos", "readwrite", (s) => s.put(blob, draftKey()));
  draft.photo = true;
  saveDraft();
  $("photo-info").textContent = t("photo_ready", { kb: Math.round(blob.size / 1024) });
}

// ---- call me back ----
// A request is kept on the phone (localStorage, "callbacks") until the server has it, and sent
// again when the connection comes back, like a report; the chair is told which state it is in.
let cbState = ""; // the last word shown under the form
function showCallback() {
  const out = $("cb-result");
  out.textContent = cbState ? t(cbState) : "";
  out.className = cbState === "callback_ok" ? "ok" : /offline|unreachable|busy|quota/.test(cbState) ? "warning" : cbState ? "error" : "";
}
function callbackQueue() { return store.get("callbacks" + base) || []; }
async function callMeBack(e) {
  e.preventDefault();
  // Before login the precinct is the one typed on the login screen, matched by the server as
  // login matches it; the request goes without a session.
  const precinct = session ? session.precinct_id : $("precinct").value.trim();
  if (!precinct) { cbState = "callback_precinct"; return showCallback(); }
  const phone = $("cb-phone").value.trim();
  if ((phone.match(/\d/g) || []).length < 7) { cbState = "callback_bad_phone"; return showCallback(); }
  store.set("callbacks" + base, [...callbackQueue(), { id: newID(), token: session ? session.token : null,
    body: { precinct_id: precinct, phone, note: $("cb-note").value.trim() } }]);
  await sendCallbacks();
}
let cbTimer = 0, cbSending = false, cbTries = 0;
async function sendCallbacks() {
  if (cbSending) return;
  cbSending = true;
  clearTimeout(cbTimer);
  try {
    for (const cb of callbackQueue()) {
      let r = null;
      try {
        r = await fetch(base + (cb.token ? "/api/v1/callbacks" : "/api/v1/callbacks/anonymous"), { method: "POST",
          headers: cb.token ? { Authorization: "Bearer " + cb.token, "Content-Type": "application/json" } : { "Content-Type": "application/json" },
          body: JSON.stringify(cb.body) });
      } catch (err) { /* no answer: kept, and sent again below */ }
      // Past the precinct's hourly quota headquarters already has its requests: answered, not
      // retried (the quota would refuse every retry).
      const code = r && r.status >= 400 && r.status < 500 ? (await r.clone().json().catch(() => ({}))).code : "";
      // Past the limits of requests without a login the same is true (throttled, an hour long).
      const quota = r && r.status === 429 && (code === "quota" || (!cb.token && code === "throttled"));
      if (!r || r.status >= 500 || (r.status === 429 && !quota) || r.status === 408) {
        cbState = !r ? (navigator.onLine === false ? "callback_offline" : "callback_unreachable") : "callback_busy";
        cbTries++;
        break;
      }
      // Answered: done with it, whatever the answer.
      cbTries = 0;
      store.set("callbacks" + base, callbackQueue().filter((x) => x.id !== cb.id));
      if (r.ok && cb.token) watchCallbacks();
      cbState = r.ok ? "callback_ok" : quota ? "callback_quota" : code === "unknown_precinct" ? "callback_unknown_precinct" :
        r.status === 400 ? "callback_bad_phone" : r.status === 401 ? "callback_login" : "callback_failed";
    }
  } finally {
    cbSending = false;
    showCallback();
    if (callbackQueue().length) cbTimer = setTimeout(sendCallbacks, 1000 * Math.min(30, 2 ** Math.min(cbTries, 5)) * (0.5 + Math.random() / 2));
  }
}

// Once headquarters has a logged-in chair's request, the phone shows where it stands (waiting
// with its place in the queue, being called, missed and to be tried again) until it is done,
// asking every cbPollMs. The practice caucus has no headquarters.
const cbPollMs = 20000;
let cbWatch = 0, cbShown = null;
async function watchCallbacks() {
  clearTimeout(cbWatch);
  if (!session || base) return;
  let r = null;
  try { r = await fetch("/api/v1/callbacks/mine", { headers: { Authorization: "Bearer " + session.token } }); } catch (e) { /* offline: asked again */ }
  if (r && r.status === 401) return;
  const mine = r && r.ok ? (await r.json()).callbacks || [] : null;
  if (mine) {
    const open = mine.filter((c) => c.state !== "done");
    const c = open.find((x) => x.state === "claimed") || open[0];
    cbShown = !c ? null : c.state === "claimed" ? ["callback_calling", {}] :
      c.attempts > 0 ? ["callback_missed", {}] : ["callback_waiting", { n: c.position }];
    showComing();
    if (!open.length) return;
  }
  cbWatch = setTimeout(watchCallbacks, cbPollMs);
}
function showComing() {
  const p = $("cb-coming");
  p.hidden = !cbShown;
  p.textContent = cbShown ? t(cbShown[0], cbShown[1]) : "";
}

// A newer version of the app took this page over when the worker in charge does not keep the
// files this page may still load (the math, the words): that worker deleted this version's
// files, and the server has only the new ones. The page reloads into the new version; the
// session, the draft and the outbox are kept on the phone, so nothing typed is lost. It reloads
// once for a given missing file, so a phone whose storage is short never loops.
async function followNewVersion() {
  const sw = navigator.serviceWorker.controller;
  if (!sw) return;
  // A worker takes a page over as it starts activating, and deletes the older caches before it is
  // activated: only then does the check below see what it keeps.
  if (sw.state === "activating") await new Promise((ok) => sw.addEventListener("statechange", ok, { once: true }));
  const urls = [root.dataset.wasm, root.dataset.wasmExec, root.dataset.localeEn, root.dataset.localeEs];
  const kept = await Promise.all(urls.map((u) => caches.match(u)));
  const missing = urls.find((u, i) => !kept[i]);
  if (!missing || sessionStorage.getItem("caucus.reloaded") === missing) return;
  sessionStorage.setItem("caucus.reloaded", missing);
  location.reload();
}

// A newer worker that has installed takes over at once (it calls skipWaiting), but Chromium
// lets it only once the worker in charge has gone idle and stopped; when the older worker was
// starting up at the moment the newer one installed, that waits for its 30 s idle timer, or
// up to 5 minutes with its event queue never empty. The page asks the waiting worker to skip
// waiting again, which makes the browser retry at once, and if it is still waiting 3 s later
// reloads once (a navigation makes the browser retry too); a phone reloads this way at most
// once a minute. Nothing is lost by the reload (see followNewVersion).
function watchInstall(reg) {
  const track = (w) => {
    if (!w) return;
    if (w.state === "installed") return nudge(reg);
    w.addEventListener("statechange", () => { if (w.state === "installed") nudge(reg); });
  };
  track(reg.installing || reg.waiting);
  reg.addEventListener("updatefound", () => track(reg.installing));
}
function nudge(reg) {
  const w = reg.waiting;
  if (!w || !navigator.serviceWorker.controller) return;
  w.postMessage("skip-waiting");
  setTimeout(() => {
    if (reg.waiting !== w || w.state !== "installed") return;
    if (Date.now() - (Number(sessionStorage.getItem("caucus.nudged")) || 0) < 60000) return;
    sessionStorage.setItem("caucus.nudged", String(Date.now()));
    location.reload();
  }, 3000);
}

async function main() {
  // The login form already works (app.boot.js, in the page); the math and the rest load behind.
  wire();
  window.caucusApp = true;
  window.caucusAppAt = performance.now();
  root.dataset.ready = "1";
  loadMath();
  if ("serviceWorker" in navigator) {
    // register() alone does not look for a newer worker, and the browser's own check after a
    // page load may be put off while the page keeps the worker busy (an outbox retrying): the
    // explicit update() asks the server for /sw.js now, so a new version installs on this load.
    navigator.serviceWorker.register("/sw.js").then((reg) => { watchInstall(reg); return reg.update(); }).catch(() => {});
    navigator.serviceWorker.addEventListener("controllerchange", () => followNewVersion().catch(() => {}));
    followNewVersion().catch(() => {});
  }
  if (boot.login) { // the chair tapped Log in before this script arrived
    setLang(lang).catch(() => {});
    return login($("precinct").value.trim(), "", false, boot.login);
  }
  await setLang(lang).catch(() => {});
  const h = new URLSearchParams(location.hash.slice(1));
  if (h.get("p")) $("precinct").value = h.get("p");
  if (h.get("p") && h.get("t")) {
    history.replaceState(null, "", location.pathname); // the token leaves the address bar
    await login(h.get("p"), h.get("t"), true);
  } else if (h.has("p") || h.has("t")) {
    // A QR link cut short (no precinct, or no token): it says so, since nothing was typed.
    history.replaceState(null, "", location.pathname);
    loginErr = () => t("login_bad_link");
    $("login-error").textContent = loginErr();
    $("login-error").hidden = false;
  } else if (session) {
    $("precinct").value = session.precinct_id;
    await start();
  }
}
main();
