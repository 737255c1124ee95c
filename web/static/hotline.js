// The hotline console (/hq/hotline): the call-back queue, the caller's verification, the
// worksheet with the chair app's live math (POST /api/v1/calc, the same rules as the phone's
// wasm) and check messages (checks.js), the report already counted, and a mismatch field by
// field. The staff session is the page's cookie; every request is same-origin.
"use strict";

// checks.js reads these globals.
const lang = "en";
const dicts = {};
let info = null; // the precinct's facts from /api/v1/precinct-info
function candName(c) { return c.name || c.id; }

const $ = (id) => document.getElementById(id);
const POLL_MS = 5000; // the queue and figures refresh this often: a call-back waits minutes, not seconds

async function api(method, path, body) {
  const opts = { method, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    opts.body = JSON.stringify(body);
    opts.headers["Content-Type"] = "application/json";
  }
  let r;
  try { r = await fetch(path, opts); } catch (e) { return { status: 0, body: { error: "the server cannot be reached" } }; }
  if (r.status === 401) { location.assign("/hq/login?next=/hq/hotline"); }
  let b = null;
  try { b = await r.json(); } catch (e) { b = {}; }
  return { status: r.status, body: b };
}

function el(tag, props, ...kids) {
  const e = document.createElement(tag);
  for (const k in props || {}) {
    if (k === "class") e.className = props[k];
    else if (k === "text") e.textContent = props[k];
    else if (k.startsWith("data-") || k.startsWith("aria-")) e.setAttribute(k, props[k]);
    else e[k] = props[k];
  }
  for (const k of kids) if (k != null) e.append(k);
  return e;
}

function minutes(sec) {
  if (sec < 60) return sec + " s";
  return Math.floor(sec / 60) + " min " + (sec % 60) + " s";
}

// ---- figures and queue ----
async function refresh() {
  const [st, q] = await Promise.all([api("GET", "/api/v1/hotline/stats"), api("GET", "/api/v1/hotline/callbacks")]);
  if (st.status === 200) {
    const s = st.body;
    $("stats").textContent = s.calls_waiting + " call(s) waiting · average wait " + minutes(s.average_wait_seconds) +
      " · " + s.operators_busy + " operator(s) on a call · " + s.mismatches_waiting + " mismatch(es) waiting";
  }
  if (q.status !== 200) {
    $("queue-error").hidden = false;
    $("queue-error").textContent = q.body.error || "the queue could not be read";
    return;
  }
  $("queue-error").hidden = true;
  renderQueue(q.body.callbacks);
}

const operator = () => $("operator").textContent;

function renderQueue(list) {
  const tb = $("queue").tBodies[0];
  // The queue is redrawn as it polls: what the operator was typing or choosing in a row (its
  // outcome and note) and where the focus was survive the redraw.
  const kept = {};
  for (const i of tb.querySelectorAll("input[id], select[id]")) kept[i.id] = i.value;
  const focused = tb.contains(document.activeElement) ? document.activeElement.id : "";
  tb.replaceChildren();
  $("queue-empty").hidden = list.length > 0;
  for (const c of list) {
    const mine = c.state === "claimed" && c.operator === operator();
    const state = c.state === "claimed" ? (mine ? "you are calling" : "called by " + c.operator) :
      (c.attempts ? "waiting (no answer " + c.attempts + "×)" : "waiting");
    const action = el("td");
    if (c.state === "waiting") {
      action.append(el("button", { type: "button", text: "Claim", "data-claim": c.callback_id, onclick: () => claim(c) }));
    } else if (mine) {
      const sel = el("select", { id: "outcome-" + c.callback_id, "aria-label": "Outcome of the call to " + c.precinct_id },
        el("option", { value: "reported", text: "reported" }), el("option", { value: "no_answer", text: "no answer" }),
        el("option", { value: "wrong_number", text: "wrong number" }));
      const note = el("input", { id: "note-" + c.callback_id, "aria-label": "Note on the call to " + c.precinct_id, placeholder: "note" });
      action.append(sel, " ", note, " ", el("button", { type: "button", text: "Record", "data-outcome": c.callback_id,
        onclick: () => outcome(c, sel.value, note.value) }), " ",
        el("button", { type: "button", text: "Key worksheet", onclick: () => keyFor(c.precinct_id, "callback") }));
    }
    tb.append(el("tr", { class: mine ? "mine" : "", "data-callback": c.callback_id },
      el("td", { text: minutes(c.wait_seconds) }),
      el("td", { text: c.precinct_id + " — " + c.precinct_name }),
      el("td", {}, el("a", { href: "tel:" + c.phone, text: c.phone })),
      el("td", { text: c.note }),
      el("td", { text: state }), action));
  }
  for (const [id, v] of Object.entries(kept)) {
    const e = document.getElementById(id);
    if (e) e.value = v;
  }
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
}

async function claim(c) {
  const r = await api("POST", "/api/v1/hotline/callbacks/" + c.callback_id + "/claim");
  if (r.status !== 200) { $("queue-error").hidden = false; $("queue-error").textContent = r.body.error; }
  refresh();
}

async function outcome(c, value, note) {
  const r = await api("POST", "/api/v1/hotline/callbacks/" + c.callback_id + "/outcome", { outcome: value, note });
  if (r.status !== 200) { $("queue-error").hidden = false; $("queue-error").textContent = r.body.error; }
  refresh();
}

function keyFor(precinct, verified) {
  $("precinct").value = precinct;
  for (const r of document.querySelectorAll("input[name=verified_by]")) r.checked = r.value === verified;
  showPin();
  lookup();
}

// ---- the precinct and its worksheet ----
let current = null; // the precinct looked up

async function lookup(ev) {
  if (ev) ev.preventDefault();
  const id = $("precinct").value.trim();
  $("lookup-error").hidden = true;
  if (!id) return;
  const [pi, hv] = await Promise.all([api("GET", "/api/v1/precinct-info/" + encodeURIComponent(id)),
    api("GET", "/api/v1/hotline/precincts/" + encodeURIComponent(id))]);
  if (pi.status !== 200 || hv.status !== 200) {
    $("lookup-error").hidden = false;
    $("lookup-error").textContent = (hv.body && hv.body.error) || (pi.body && pi.body.error) || "no such precinct";
    $("precinct-view").hidden = true;
    return;
  }
  info = pi.body;
  current = hv.body;
  $("precinct-view").hidden = false;
  $("precinct-title").textContent = info.precinct_id + " — " + info.name + (info.county_name ? ", " + info.county_name : "");
  $("result").replaceChildren();
  showExisting(current);
  buildSheet();
  recalc();
}

function showExisting(v) {
  const box = $("existing");
  box.replaceChildren();
  if (!v.counted) {
    box.className = "existing none";
    box.append(el("p", { text: "Nothing is counted for this precinct yet." }));
  } else {
    const c = v.counted, rep = c.report;
    box.className = "existing";
    box.append(el("p", { class: "warning", "data-existing": c.channel,
      text: "Already counted: a report by " + c.channel + " (" + c.submitter + ", " + c.received_at + "), status " + v.status +
        ". Key the caller's worksheet only if their numbers differ: the same numbers count once, different numbers go to review." }));
    const t = el("table", {}, el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Candidate" }),
      el("th", { scope: "col", class: "num", text: "First" }), el("th", { scope: "col", class: "num", text: "Final" }))));
    const tb = el("tbody");
    for (const cand of info.candidates) {
      tb.append(el("tr", {}, el("td", { text: candName(cand) }), el("td", { class: "num", text: String((rep.first || {})[cand.id] ?? "") }),
        el("td", { class: "num", text: String((rep.final || {})[cand.id] ?? "") })));
    }
    t.append(tb);
    box.append(el("p", { text: "Attendees: " + rep.attendees }), t);
  }
  let round;
  switch (v.round_state) {
    case "open": round = "Round " + v.round + ": no copy keyed yet — you key the first."; break;
    case "waiting_second": round = "Round " + v.round + ": one copy keyed by " + v.operators.join(", ") +
      (v.keyed_by_you ? " (you): another operator keys the second." : ": you key the second copy, without seeing the first."); break;
    default: round = "Round " + v.round + ": " + v.copies + " copies disagree (" + v.operators.join(", ") + ")" +
      (v.keyed_by_you ? "." : ": key a third copy; the copy that matches one of them settles it.");
  }
  $("round").textContent = round;
  if (v.differences) showDifferences(v.differences, $("round"));
}

function buildSheet() {
  const tb = $("sheet").tBodies[0];
  tb.replaceChildren();
  $("attendees").value = "";
  ties = [];
  $("ties").replaceChildren();
  for (const c of info.candidates) {
    const cell = (kind) => el("td", {}, el("input", { id: kind + "-" + c.id, inputmode: "numeric", autocomplete: "off",
      "aria-label": kind + " alignment, " + candName(c), "data-kind": kind, "data-cand": c.id, oninput: recalc }));
    const del = el("td", {}, el("input", { id: "delegates-" + c.id, inputmode: "numeric", autocomplete: "off",
      "aria-label": "delegates on the worksheet, " + candName(c), oninput: recalc }));
    del.firstChild.setAttribute("aria-label", "Delegates on the worksheet, " + candName(c));
    tb.append(el("tr", { "data-cand": c.id }, el("th", { scope: "row", text: candName(c) }), cell("first"), cell("final"), del,
      el("td", { id: "math-" + c.id })));
  }
  for (const i of tb.querySelectorAll("input[data-kind]")) i.setAttribute("aria-label", (i.dataset.kind === "first" ? "First" : "Final") +
    " alignment, " + candName(info.candidates.find((c) => c.id === i.dataset.cand)));
}

const num = (v) => (v.trim() === "" ? undefined : Number(v.trim()));

// sheet is the worksheet as keyed: the report's counts (empty cells left out).
function sheet() {
  const out = { attendees: num($("attendees").value), first: {}, final: {} };
  let dels = null;
  for (const c of info.candidates) {
    for (const kind of ["first", "final"]) {
      const v = num($(kind + "-" + c.id).value);
      if (v !== undefined) out[kind][c.id] = v;
    }
    const d = num($("delegates-" + c.id).value);
    if (d !== undefined) (dels = dels || {})[c.id] = d;
  }
  if (dels) out.delegates = dels;
  if (ties.length) out.tiebreaks = ties.map((x) => ({ kind: x.kind, between: x.between.slice(), winner: x.winner }));
  return out;
}

// ties are the games of chance the caller read out: one winner each, as the chair app records
// them (the math asks for them in tiebreaks_needed).
let ties = [];
const same = (a, b) => a.length === b.length && a.every((x) => b.includes(x));
function showTies(res) {
  const box = $("ties");
  box.replaceChildren();
  const cname = (id) => candName(info.candidates.find((c) => c.id === id) || { id });
  for (const tie of res.tiebreaks_needed || []) {
    const g = el("div", { class: "tie", role: "group", "aria-label": "Game of chance" },
      el("p", { class: "warning", text: (tie.kind === "card" ? "Card draw" : "Coin toss") + " between " +
        tie.between.map(cname).join(" and ") + " for " + tie.delegates + " delegate(s): who won?" }));
    for (const id of tie.between) {
      g.append(el("button", { type: "button", class: "tie-winner", "data-id": id, text: cname(id),
        onclick: () => { ties.push({ kind: tie.kind, between: tie.between.slice(), winner: id }); recalc(); } }), " ");
    }
    box.append(g);
  }
  const recorded = ties.filter((x) => !(res.tiebreaks_needed || []).some((tie) => same(x.between, tie.between)));
  if (recorded.length) {
    box.append(el("p", { class: "info", text: "Games of chance recorded, won by: " + recorded.map((x) => cname(x.winner)).join(", ") + " " }),
      el("button", { type: "button", text: "Undo the games of chance", onclick: () => { ties = []; recalc(); } }));
  }
}

let calcTimer = null, calcSeq = 0;
function recalc() {
  clearTimeout(calcTimer);
  calcTimer = setTimeout(async () => {
    if (!info) return;
    const s = sheet();
    if (s.attendees === undefined) { $("math").textContent = "Type the attendees to see the math."; $("checks").replaceChildren(); return; }
    const seq = ++calcSeq;
    const r = await api("POST", "/api/v1/calc", Object.assign({ precinct_id: info.precinct_id }, s));
    if (seq !== calcSeq || r.status !== 200) return;
    showMath(r.body);
  }, 250);
}

function showMath(res) {
  $("math").textContent = res.threshold != null ? "Viability threshold: " + res.threshold +
    " · delegates to elect: " + (res.delegates_to_elect ?? "–") : "";
  for (const c of info.candidates) {
    const g = (res.groups || []).find((x) => x.candidate_id === c.id);
    const cell = $("math-" + c.id);
    if (!cell) continue;
    cell.replaceChildren();
    if (!g) continue;
    if (g.viable) cell.append(el("span", { class: "viable", text: "viable" }), " ");
    if (g.delegates != null) cell.append(g.delegates + " delegate(s)");
    if (g.sde != null) cell.append(" · SDE " + g.sde);
  }
  $("checks").replaceChildren(...(res.checks || []).map((c) => checkNode(c)));
  showTies(res);
}

function showPin() {
  const v = document.querySelector("input[name=verified_by]:checked").value;
  $("pin-row").hidden = v !== "pin";
  if (v === "paper") $("channel").value = "paper";
  $("scan-row").hidden = $("channel").value !== "paper";
}

// uploadScan stores the paper worksheet's photo or scan (POST /api/v1/photos) and returns its
// SHA-256, or null with the reason shown.
async function uploadScan() {
  const f = $("scan").files[0];
  if (!f) return null;
  let r;
  try {
    r = await fetch("/api/v1/photos", { method: "POST", credentials: "same-origin", headers: { "Content-Type": f.type }, body: f });
  } catch (e) { r = null; }
  const b = r ? await r.json().catch(() => ({})) : {};
  if (!r || !r.ok) {
    $("result").replaceChildren(el("p", { class: "bad", "data-state": "error", text: b.error || "the scan could not be stored" }));
    return undefined;
  }
  return b.sha256;
}

async function submitEntry(ev) {
  ev.preventDefault();
  if (!info) return;
  const verified = document.querySelector("input[name=verified_by]:checked").value;
  const rep = Object.assign({ precinct_id: info.precinct_id, channel: $("channel").value }, sheet());
  if (rep.channel === "paper") {
    const sha = await uploadScan();
    if (sha === undefined) return;
    if (sha) rep.photo_sha256 = sha;
  }
  const body = { precinct_id: info.precinct_id, verified_by: verified, report: rep };
  if (verified === "pin") body.pin = $("pin").value.trim();
  $("submit").disabled = true;
  const r = await api("POST", "/api/v1/hotline/entries", body);
  $("submit").disabled = false;
  const out = $("result");
  out.replaceChildren();
  const b = r.body || {};
  if (r.status === 422 && b.checks) {
    out.append(el("p", { class: "bad", text: b.message || b.error || "The worksheet has errors: nothing was stored." }),
      ...b.checks.map((c) => checkNode(c)));
    return;
  }
  if (r.status >= 400 || r.status === 0) {
    out.append(el("p", { class: "bad", "data-state": "error", text: b.error || "not stored" }));
    return;
  }
  if (b.state === "waiting_second") {
    out.append(el("p", { class: "wait", "data-state": b.state, text: "Your copy is stored. Another operator keys the second copy; when the two match, the report is counted." }));
  } else if (b.state === "matched") {
    const rc = b.receipt || {};
    out.append(el("p", { class: "ok", "data-state": b.state, text: "Matched (" + (b.operators || []).join(" and ") + "): " +
      (b.counted === "same_numbers" ? "these numbers are already counted, counted once" :
        b.counted === "conflict" ? "the precinct counts other numbers; both go to review" : "counted") +
      ". Log index " + rc.log_index + ", status " + rc.status + "." }));
  } else if (b.state === "mismatch") {
    out.append(el("p", { class: "bad", "data-state": b.state, text: b.message || "The copies differ: nothing is counted." }));
    showDifferences(b.differences || [], out);
  }
  // The form is cleared: the next copy is typed afresh.
  buildSheet();
  $("pin").value = "";
  $("scan").value = "";
  $("checks").replaceChildren();
  $("math").textContent = "";
  const hv = await api("GET", "/api/v1/hotline/precincts/" + encodeURIComponent(info.precinct_id));
  if (hv.status === 200) { current = hv.body; showExisting(current); }
  refresh();
}

function showDifferences(diffs, where) {
  for (const old of document.querySelectorAll("#differences")) old.remove();
  const n = Math.max(2, ...diffs.map((d) => (d.copies || []).length));
  const head = el("tr", {}, el("th", { scope: "col", text: "Field" }), el("th", { scope: "col", text: "Candidate" }));
  for (let i = 0; i < n; i++) head.append(el("th", { scope: "col", class: "num", text: ["First", "Second", "Third", "Fourth"][i] + " copy" }));
  const tb = el("tbody");
  for (const d of diffs) {
    const tr = el("tr", { class: "differs", "data-field": d.field + (d.candidate_id ? "." + d.candidate_id : "") },
      el("td", { text: d.field }), el("td", { text: d.candidate_id ? candName((info && info.candidates.find((c) => c.id === d.candidate_id)) || { id: d.candidate_id }) : "" }));
    const vals = d.copies || [d.first_copy, d.second_copy];
    for (let i = 0; i < n; i++) tr.append(el("td", { class: "num", text: vals[i] == null ? "–" : typeof vals[i] === "object" ? JSON.stringify(vals[i]) : String(vals[i]) }));
    tb.append(tr);
  }
  where.after(el("table", { id: "differences", "aria-label": "Differences between the copies" }, el("thead", {}, head), tb));
}

async function start() {
  const url = document.documentElement.dataset.localeEn;
  try { dicts.en = await (await fetch(url)).json(); } catch (e) { dicts.en = {}; }
  $("lookup-form").addEventListener("submit", lookup);
  $("entry-form").addEventListener("submit", submitEntry);
  $("attendees").addEventListener("input", recalc);
  for (const r of document.querySelectorAll("input[name=verified_by]")) r.addEventListener("change", showPin);
  $("channel").addEventListener("change", showPin);
  showPin();
  refresh();
  setInterval(refresh, POLL_MS);
}
start();
