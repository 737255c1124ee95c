// Headquarters' audit hand counts (/hq/audit). It reads the audit (GET /api/v1/audit) with the
// page's staff cookie, lists the precincts the current rounds drew that are not counted yet, and
// sends one operator's keying of a precinct's cards (POST /api/v1/hq/audit/hand-counts/{id}).
// Two operators key each precinct on their own: the page never shows another operator's copy,
// only which of this keying's fields differ from it. An admin starts the audit with the seed.
"use strict";
(() => {
  const body = document.body;
  const candidates = JSON.parse(body.dataset.candidates || "[]");
  const role = body.dataset.role;
  const names = Object.fromEntries(candidates.map((c) => [c.id, c.name]));
  const $ = (id) => document.getElementById(id);
  const fieldWords = { first: "first alignment", final: "final alignment" };
  let current = "";

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k === "class") e.className = v;
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }
  const say = (msg) => ($("status").textContent = msg);
  function fail(msg) {
    $("error").textContent = msg;
    $("error").hidden = !msg;
  }

  async function api(method, path, payload) {
    const opts = { method, credentials: "same-origin", headers: {} };
    if (payload !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(payload);
    }
    const resp = await fetch(path, opts);
    let data = null;
    try {
      data = await resp.json();
    } catch (_) {
      data = null;
    }
    if (resp.status === 401) location.assign("/hq/login?next=" + encodeURIComponent(location.pathname));
    return { status: resp.status, data };
  }

  async function load() {
    const { status, data } = await api("GET", "/api/v1/audit");
    if (status !== 200) {
      fail((data && data.error) || "The audit could not be read (" + status + ").");
      return;
    }
    const start = $("start");
    if (start) start.hidden = data.status !== "not_started";
    if (data.status === "not_started") {
      say("The audit has not started." + (role === "admin" ? " Start it below with the seed." : " An admin starts it with the seed."));
    } else {
      say("Audit from seed " + data.seed + " at a risk limit of " + data.risk_limit + " %: " + data.status.replace(/_/g, " ") + ".");
    }
    const todo = data.precincts_to_count || [];
    $("count").textContent = String(todo.length);
    const list = $("queue");
    list.replaceChildren();
    for (const id of todo) {
      const b = el("button", { type: "button", "data-precinct": id, "aria-current": id === current ? "true" : "false" }, el("strong", { text: id }));
      b.addEventListener("click", () => open(id));
      list.append(el("li", null, b));
    }
    if (todo.length === 0) list.append(el("li", { class: "none", text: data.status === "not_started" ? "Nothing yet." : "Nothing waits for a hand count." }));
    const done = $("done");
    done.replaceChildren();
    for (const h of data.hand_counts || []) {
      done.append(el("li", null, el("strong", { text: h.precinct_id }), " · log entry " + h.log_index + " · keyed by " + h.keyed_by.join(" and ")));
    }
    if ((data.hand_counts || []).length === 0) done.append(el("li", { class: "none", text: "No hand count yet." }));
  }

  function open(id) {
    current = id;
    fail("");
    $("outcome").replaceChildren();
    for (const b of document.querySelectorAll("#queue button")) b.setAttribute("aria-current", b.dataset.precinct === id ? "true" : "false");
    $("item-h").textContent = "Precinct " + id;
    $("item").hidden = false;
    const rows = $("rows");
    if (!rows) return;
    rows.replaceChildren();
    for (const c of candidates) {
      const cell = (kind) =>
        el("td", null, el("input", { id: kind + "-" + c.id, "data-kind": kind, "data-candidate": c.id, type: "number", inputmode: "numeric", min: "0", step: "1", "aria-label": c.name + ", " + fieldWords[kind] }));
      rows.append(el("tr", null, el("th", { scope: "row", text: c.name }), cell("first"), cell("final")));
    }
    const first = rows.querySelector("input");
    if (first) first.focus();
  }

  async function submitCount(ev) {
    ev.preventDefault();
    fail("");
    const counts = { first: {}, final: {} };
    for (const input of $("rows").querySelectorAll("input")) {
      const v = input.value.trim();
      if (!/^\d+$/.test(v)) {
        fail("Key a whole number for every candidate (0 when no card): " + input.getAttribute("aria-label") + ".");
        input.focus();
        return;
      }
      counts[input.dataset.kind][input.dataset.candidate] = Number(v);
    }
    $("submit").disabled = true;
    const { status, data } = await api("POST", "/api/v1/hq/audit/hand-counts/" + encodeURIComponent(current), counts);
    $("submit").disabled = false;
    const out = $("outcome");
    out.replaceChildren();
    if (data && data.state === "waiting_second") {
      out.append(el("p", { text: "Saved. Another operator now counts and keys the cards of " + current + " on their own." }));
    } else if (data && data.state === "matched") {
      out.append(el("p", { text: "Matched another operator's count: entered in the log as entry " + data.log_index + "." }));
    } else if (data && data.state === "mismatch") {
      out.append(el("p", { class: "error", text: "Your count differs from another operator's. Count the cards again: a third operator keys them. Differences:" }));
      out.append(el("ul", null, ...data.differences.map((d) => el("li", { text: (names[d.candidate_id] || d.candidate_id) + ", " + fieldWords[d.field] + ": you keyed " + d.yours }))));
    } else {
      fail((data && data.error) || "The count was not entered (" + status + ").");
      return;
    }
    await load();
  }

  async function startAudit(ev) {
    ev.preventDefault();
    fail("");
    const { status, data } = await api("POST", "/api/v1/hq/audit", { seed: $("seed").value.trim(), risk_limit: $("risk-limit").value.trim() });
    if (status !== 201) {
      fail((data && data.error) || "The audit did not start (" + status + ").");
      return;
    }
    await load();
  }

  const key = $("key");
  if (key) key.addEventListener("submit", submitCount);
  const start = $("start");
  if (start) start.addEventListener("submit", startAudit);
  load().then(() => {
    document.documentElement.dataset.ready = "1";
  });
})();
