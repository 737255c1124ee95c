// Headquarters' review queue (/hq/review). It reads the queue and one precinct's item from the
// review API with the page's staff cookie, shows the entries side by side with their worksheet
// photo, computed math, every check and the history, and sends a reviewer's decision: accept one
// entry, or a correction (a whole report, its math live from POST /api/v1/hq/calc). An observer
// or admin sees the same, read-only: the server renders no decision form for them, and refuses
// their decisions anyway.
"use strict";
(() => {
  const body = document.body;
  const readOnly = body.dataset.readonly === "1";
  const candidates = JSON.parse(body.dataset.candidates || "[]");
  const names = Object.fromEntries(candidates.map((c) => [c.id, c.name]));
  const $ = (id) => document.getElementById(id);
  const reasonWords = {
    conflict: "conflicting reports",
    delegates_differ: "worksheet delegates differ from the computed ones",
    warnings: "warnings",
    flagged: "kept under review by a reviewer",
    under_review: "under review",
    hotline_mismatch: "hotline copies differ",
    recanvass_difference: "recanvass differs",
  };
  let current = null; // the item shown
  let calcTimer = 0;

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
  const num = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US"));
  const groupName = (id) => names[id] || id;

  function say(msg) {
    $("status").textContent = msg;
  }
  function fail(msg) {
    const e = $("error");
    e.textContent = msg;
    e.hidden = !msg;
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
    if (resp.status === 401) {
      location.assign("/hq/login?next=" + encodeURIComponent(location.pathname));
    }
    return { status: resp.status, data };
  }

  async function loadQueue() {
    const { status, data } = await api("GET", "/api/v1/hq/review");
    if (status !== 200) {
      fail((data && data.error) || "The queue could not be read (" + status + ").");
      return [];
    }
    const items = data.items || [];
    $("count").textContent = String(items.length);
    const list = $("queue");
    list.replaceChildren();
    for (const it of items) {
      const why = it.reasons.map((r) => reasonWords[r] || r).join(", ");
      const b = el("button", { type: "button", "data-precinct": it.precinct_id, "aria-current": current && current.precinct_id === it.precinct_id ? "true" : "false" },
        el("strong", { text: it.precinct_id }), el("small", { text: why + " · " + it.entries.length + (it.entries.length === 1 ? " entry" : " entries") }));
      b.addEventListener("click", () => openItem(it.precinct_id));
      list.append(el("li", null, b));
    }
    if (items.length === 0) list.append(el("li", { class: "none", text: "Nothing waits for a decision." }));
    return items;
  }

  async function openItem(id) {
    fail("");
    const { status, data } = await api("GET", "/api/v1/hq/review/" + encodeURIComponent(id));
    if (status !== 200) {
      fail((data && data.error) || "Precinct " + id + " could not be read (" + status + ").");
      return;
    }
    current = data;
    for (const b of document.querySelectorAll("#queue button")) b.setAttribute("aria-current", b.dataset.precinct === id ? "true" : "false");
    render(data);
  }

  function checksList(checks) {
    if (!checks || checks.length === 0) return el("p", { class: "none", text: "No check fired." });
    return el("ul", { class: "checks" }, ...checks.map((c) => el("li", { class: "sev-" + c.severity }, el("strong", { text: c.id }), " (" + c.severity + "): " + c.message)));
  }

  // mathTable is a report's numbers and computed math per group; cells that differ from other
  // (the counted entry's report, for the entries beside it) are marked, in words too.
  function mathTable(report, math, caption, other) {
    const groups = new Map((math.groups || []).map((g) => [g.candidate_id, g]));
    const ids = candidates.map((c) => c.id);
    for (const id of Object.keys(report.final || {})) if (!ids.includes(id)) ids.push(id);
    const rows = [];
    for (const id of ids) {
      const g = groups.get(id) || {};
      const first = (report.first || {})[id] || 0, final = (report.final || {})[id] || 0;
      const chair = report.delegates ? report.delegates[id] || 0 : null;
      if (first === 0 && final === 0 && !g.delegates && !chair) continue;
      const differs = chair !== null && g.delegates !== undefined && g.delegates !== null && chair !== g.delegates;
      const cmp = (v, kind) => {
        const changed = other && ((other[kind] || {})[id] || 0) !== v;
        return el("td", { class: "num" + (changed ? " changed" : "") }, num(v), changed ? el("span", { class: "vh", text: " (differs from the counted entry)" }) : null);
      };
      rows.push(el("tr", null, el("th", { scope: "row", text: groupName(id) }), cmp(first, "first"), cmp(final, "final"),
        el("td", { text: g.viable === true ? "yes" : g.viable === false ? "no" : "–" }),
        el("td", { class: "num", text: num(g.delegates) }), el("td", { class: "num" + (differs ? " differs" : ""), text: chair === null ? "–" : num(chair) })));
    }
    return el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": caption }, el("table", null, el("caption", { text: caption }),
      el("thead", null, el("tr", null, ...["Group", "First", "Final", "Viable", "Delegates", "Sheet"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", null, ...rows)));
  }

  function entryCard(it, e) {
    const title = e.kind === "correction" ? "Correction" : "Report";
    const card = el("article", { class: "entry" + (e.counted ? " counted" : ""), "data-log-index": e.log_index, "aria-labelledby": "entry-h-" + e.log_index });
    card.append(el("h4", { id: "entry-h-" + e.log_index }, title + " · log entry " + e.log_index, e.counted ? el("span", { class: "badge counted", text: "counted" }) : null));
    card.append(el("p", { class: "meta", text: "by " + e.submitter + " via " + e.channel + " · " + e.received_at + (e.report_id ? " · report " + e.report_id : "") }));
    if (e.reason) card.append(el("p", null, el("strong", { text: "Reason: " }), e.reason));
    const m = e.math || {};
    card.append(el("p", { class: "meta", text: "Signed in " + num(e.report.attendees) + " · delegates to elect " + num(m.delegates_to_elect) + " · viability threshold " + num(m.threshold) }));
    const counted = it.entries.find((x) => x.counted);
    const other = counted && counted !== e ? counted.report : null;
    card.append(mathTable(e.report, m, "The computed math" + (other ? " (marked: differs from the counted entry)" : ""), other));
    card.append(el("h5", { text: "Checks" }), checksList(e.checks));
    const photo = el("div", { class: "photo" });
    if (e.photo_sha256) {
      photo.append(el("img", { src: "/api/v1/hq/photos/" + e.photo_sha256, alt: "Worksheet photo sent with log entry " + e.log_index, loading: "lazy" }));
    } else {
      photo.append(el("p", { text: "No worksheet photo was sent with this entry." }));
    }
    card.append(photo);
    if (!readOnly) {
      const own = e.submitter === body.dataset.user;
      const b = el("button", { type: "button", class: "accept", "data-log-index": e.log_index, text: "Accept log entry " + e.log_index, disabled: own,
        "aria-describedby": own ? "own-" + e.log_index : null });
      b.addEventListener("click", () => decide({ action: "accept", log_index: e.log_index }));
      card.append(b);
      if (own) card.append(el("p", { id: "own-" + e.log_index, class: "help", text: "You entered this entry: another reviewer must accept it." }));
    }
    return card;
  }

  // hotlineCard is a precinct's hotline copies that disagree: who keyed what, field by field.
  // Nothing of them counts; a correction with the right numbers settles them.
  function hotlineCard(h) {
    const ops = h.copies.map((c) => c.operator);
    const rows = h.differences.map((d) => el("tr", null,
      el("th", { scope: "row", text: d.field + (d.candidate_id ? " · " + groupName(d.candidate_id) : "") }),
      ...(d.copies || [d.first_copy, d.second_copy]).map((v) => el("td", { class: "num", text: v === null || v === undefined ? "–" : String(v) }))));
    return el("article", { class: "entry", "aria-labelledby": "hotline-h" },
      el("h4", { id: "hotline-h", text: "Hotline copies that differ · round " + h.round }),
      el("p", { class: "meta", text: "Keyed by " + ops.join(", ") + ". Not counted: call the chair back, then enter the right numbers as a correction." }),
      el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "Hotline copies, field by field" }, el("table", null,
        el("caption", { text: "What each operator keyed, where the copies differ" }),
        el("thead", null, el("tr", null, el("th", { scope: "col", text: "Field" }), ...ops.map((o) => el("th", { scope: "col", text: o })))),
        el("tbody", null, ...rows))));
  }

  function render(it) {
    $("item").hidden = false;
    $("item-h").textContent = "Precinct " + it.precinct_id;
    const why = it.reasons.length ? " Waiting for a decision: " + it.reasons.map((r) => reasonWords[r] || r).join(", ") + "." : " Nothing waits for a decision.";
    $("item-state").textContent = "Status: " + it.status.replace("_", " ") + (it.counted_entry === null ? "; nothing counts yet." : "; log entry " + it.counted_entry + " counts.") + why;
    const box = $("entries");
    box.replaceChildren(...it.entries.map((e) => entryCard(it, e)));
    if (it.entries.length === 0 && !it.hotline) box.append(el("p", { class: "none", text: "No report yet." }));
    if (it.hotline) box.append(hotlineCard(it.hotline));
    const hist = $("history");
    hist.replaceChildren(...it.history.map((h) => {
      let what = h.kind + " (" + h.channel + ") by " + h.submitter;
      if (h.kind === "review") what += ": " + h.decision + (h.counts !== undefined && h.counts !== null ? ", log entry " + h.counts + " counts" : "");
      return el("li", null, el("strong", { text: "Log entry " + h.log_index + ": " }), what, " · " + h.received_at + " · status after: " + h.status.replace("_", " "),
        h.reason ? el("span", null, " · reason: ", el("q", { text: h.reason })) : null, el("span", { class: "hash", text: " leaf " + h.leaf_hash }));
    }));
    if (!readOnly) fillCorrection(it);
  }

  // The correction form starts from the counted entry's numbers (or the latest entry's, or the
  // first hotline copy's).
  function fillCorrection(it) {
    const base = it.entries.find((e) => e.counted) || it.entries[it.entries.length - 1];
    // A precinct with nothing in the log but hotline copies that differ starts from the first copy.
    const r = base ? base.report : it.hotline && it.hotline.copies.length ? it.hotline.copies[0].report : { attendees: "", first: {}, final: {} };
    $("c-attendees").value = r.attendees === "" ? "" : String(r.attendees);
    const rows = $("c-rows");
    rows.replaceChildren(...candidates.map((c) => {
      const cell = (kind, v) => el("td", null, el("input", { id: "c-" + kind + "-" + c.id, type: "number", inputmode: "numeric", min: "0", step: "1",
        value: v === undefined || v === null ? "" : String(v), "aria-label": c.name + ": " + (kind === "first" ? "first alignment" : kind === "final" ? "final alignment" : "worksheet delegates") }));
      return el("tr", null, el("th", { scope: "row", text: c.name }), cell("first", (r.first || {})[c.id]), cell("final", (r.final || {})[c.id]), cell("delegates", r.delegates ? r.delegates[c.id] : ""));
    }));
    for (const i of document.querySelectorAll("#correct input")) i.addEventListener("input", scheduleCalc);
    calc();
  }

  function correctionReport() {
    const counts = (kind) => {
      const m = {};
      let any = false;
      for (const c of candidates) {
        const v = $("c-" + kind + "-" + c.id).value.trim();
        if (v !== "") {
          m[c.id] = Number(v);
          any = true;
        }
      }
      return any ? m : kind === "delegates" ? null : {};
    };
    const r = { report_id: "hq-" + current.precinct_id + "-" + randomID(), precinct_id: current.precinct_id, attendees: Number($("c-attendees").value || 0),
      first: counts("first"), final: counts("final"), channel: "paper" };
    const d = counts("delegates");
    if (d) r.delegates = d;
    const base = current.entries.find((e) => e.counted);
    if (base && base.photo_sha256) r.photo_sha256 = base.photo_sha256;
    return r;
  }

  function randomID() {
    const b = new Uint8Array(8);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  function scheduleCalc() {
    clearTimeout(calcTimer);
    calcTimer = setTimeout(calc, 250);
  }

  async function calc() {
    if (!current) return;
    const r = correctionReport();
    const input = { attendees: r.attendees, first: r.first, final: r.final };
    if (r.delegates) input.delegates = r.delegates;
    const { status, data } = await api("POST", "/api/v1/hq/calc/" + encodeURIComponent(current.precinct_id), input);
    const box = $("c-math");
    if (status !== 200) {
      box.replaceChildren(el("p", { class: "error", text: (data && data.error) || "The math could not be computed (" + status + ")." }));
      return;
    }
    box.replaceChildren(el("p", { text: "Viability threshold " + num(data.threshold) + " · delegates to elect " + num(data.delegates_to_elect) }),
      mathTable(r, data, "The correction's math, live", null), checksList(data.checks));
    $("c-submit").disabled = (data.checks || []).some((c) => c.severity === "error");
  }

  async function decide(payload) {
    fail("");
    const reason = $("reason").value.trim();
    if (!reason) {
      fail("Give the reason for your decision first: the audit will read it.");
      $("reason").focus();
      return;
    }
    payload.reason = reason;
    payload.last_index = current.last_index;
    for (const b of document.querySelectorAll("#item button")) b.disabled = true;
    const { status, data } = await api("POST", "/api/v1/hq/review/" + encodeURIComponent(current.precinct_id), payload);
    for (const b of document.querySelectorAll("#item button")) b.disabled = false;
    if (status !== 201) {
      let msg = (data && data.error) || "The decision was refused (" + status + ").";
      if (data && data.checks && data.checks.length) msg += " " + data.checks.map((c) => c.message).join(" ");
      fail(msg);
      if (status === 409) await openItem(current.precinct_id);
      return;
    }
    $("reason").value = "";
    say("Decision recorded for precinct " + data.precinct_id + ": log entry " + data.log_index + ", status " + data.status.replace("_", " ") + ".");
    const id = current.precinct_id;
    await loadQueue();
    await openItem(id);
  }

  async function start() {
    if (!readOnly) {
      $("c-submit").addEventListener("click", () => decide({ action: "correct", report: correctionReport() }));
    }
    $("lookup").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const id = $("lookup-id").value.trim();
      if (id) openItem(id);
    });
    const items = await loadQueue();
    say(items.length === 0 ? "Nothing waits for a decision." : items.length + (items.length === 1 ? " precinct waits" : " precincts wait") + " for a decision.");
    if (items.length > 0) await openItem(items[0].precinct_id);
    document.documentElement.dataset.ready = "1";
  }
  start();
})();
