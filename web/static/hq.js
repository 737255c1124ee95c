// Headquarters' progress board (/hq): renders the board from GET /api/v1/hq/events (a `board`
// event at once, then one each time it changes), or by polling /api/v1/hq/board when the
// stream is refused. Everything is written with textContent: names and phones from
// contacts.csv never become markup.
(function () {
  "use strict";
  const STATUS = { not_reported: "Not reported", accepted: "Accepted", under_review: "Under review", corrected: "Corrected", certified: "Certified" };
  const $ = (id) => document.getElementById(id);
  const fmt = (n) => Number(n).toLocaleString("en-US");

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function row(cells) {
    const tr = document.createElement("tr");
    cells.forEach((c) => tr.appendChild(c));
    return tr;
  }
  function wide(text, n) { const e = el("td", text); e.colSpan = n; return e; }
  function th(text) { const e = el("th", text); e.scope = "row"; return e; }
  function num(n) { return el("td", fmt(n), "num"); }
  function when(t) {
    if (!t) return null;
    const d = new Date(t);
    return isNaN(d) ? t : d.toLocaleString("en-US", { month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
  }
  function phone(c) {
    const td = document.createElement("td");
    if (c && c.phone) {
      const a = el("a", c.phone);
      a.href = "tel:" + c.phone;
      td.appendChild(a);
    } else td.textContent = "–";
    return td;
  }
  function chair(c, loaded) { return el("td", c ? c.name : (loaded ? "not in contacts.csv" : "no contacts.csv")); }

  function render(b) {
    const total = b.precincts_total || 0;
    $("t-reporting").textContent = fmt(b.precincts_reporting) + " / " + fmt(total);
    $("t-progress").value = total ? b.precincts_reporting / total : 0;
    $("t-review").textContent = fmt(b.review_waiting);
    $("t-missing").textContent = fmt(b.missing.length);
    $("t-attacks").textContent = fmt(b.login_attacks.length);
    const h = b.hotline;
    $("t-hotline-tile").hidden = !h;
    if (h) {
      $("t-calls").textContent = fmt(h.calls_waiting);
      $("t-hotline").textContent = fmt(h.calls_in_progress) + " being called · " + fmt(h.operators_busy) + " operators busy · average wait " +
        Math.round(h.average_wait_seconds / 60) + " min · " + fmt(h.mismatches_waiting) + " copies that differ";
    }
    const p = b.publication_policy || {};
    $("policy").textContent = p.under_review === "withheld"
      ? "Publication policy: a precinct under review is published without numbers (" + fmt(b.precincts_withheld) + " withheld now)."
      : "Publication policy: a precinct under review is published with its first accepted numbers, marked “under review”.";

    $("by-status").replaceChildren(...Object.keys(STATUS).map((s) => row([th(STATUS[s]), num(b.by_status[s] || 0)])));
    const ch = b.by_channel || {};
    $("by-channel").replaceChildren(row([th("App"), num(ch.app)]), row([th("Hotline"), num(ch.hotline)]), row([th("Paper"), num(ch.paper)]));
    const r = b.readiness || {};
    $("readiness").replaceChildren(
      row([th("Chairs who have logged in"), el("td", fmt(r.logged_in) + " / " + fmt(r.total), "num")]),
      row([th("Practice reports sent"), el("td", fmt(r.practice_reported) + " / " + fmt(r.total), "num")]));

    const shown = showAll ? b.missing : b.missing.slice(0, MISSING_SHOWN);
    $("missing").replaceChildren(...shown.map((m) => {
      const seen = m.last_seen ? el("td", when(m.last_seen)) : el("td", "never", "never");
      return row([th(m.precinct_id), el("td", m.county_id), chair(m.chair_contact, b.contacts_loaded), phone(m.chair_contact), seen, el("td", m.practice_reported ? "sent" : "none")]);
    }));
    if (!b.missing.length) $("missing").replaceChildren(row([wide("Every precinct has reported.", 6)]));
    const more = $("missing-more");
    more.hidden = b.missing.length <= MISSING_SHOWN;
    more.textContent = showAll ? "Show the first " + MISSING_SHOWN + " only" : "Show all " + fmt(b.missing.length) + " missing precincts";
    more.setAttribute("aria-expanded", showAll ? "true" : "false");

    $("attacks").replaceChildren(...b.login_attacks.map((a) => row([th(a.precinct_id), num(a.failures),
      el("td", fmt(a.budget_spent) + " / " + fmt(a.budget), "num"), a.closed ? el("td", "closed", "closed") : el("td", "open"),
      chair(a.chair_contact, b.contacts_loaded), phone(a.chair_contact)])));
    if (!b.login_attacks.length) $("attacks").replaceChildren(row([wide("No wrong PINs.", 6)]));

    $("counties").replaceChildren(...b.counties.map((c) => {
      const name = th(c.name);
      const tr = row([name, el("td", fmt(c.reporting) + " / " + fmt(c.total), "num"), num(c.flagged), num(c.under_review)]);
      tr.id = "c-" + c.county_id;
      const m = $("m-" + c.county_id);
      if (m) {
        const share = c.total ? c.reporting / c.total : 0;
        const cls = c.reporting === 0 ? "r0" : share >= 1 ? "r3" : share >= 0.5 ? "r2" : "r1";
        m.setAttribute("class", cls + (c.flagged || c.under_review ? " flag" : ""));
        const label = c.name + ": " + fmt(c.reporting) + " of " + fmt(c.total) + " precincts reporting" +
          (c.under_review ? ", " + fmt(c.under_review) + " under review" : "") + (c.flagged ? ", " + fmt(c.flagged) + " flagged" : "");
        m.setAttribute("aria-label", label);
        const t = m.querySelector("title");
        if (t) t.textContent = label;
      }
      return tr;
    }));
    if (form) {
      form.querySelectorAll("input, button").forEach((i) => { i.disabled = b.log_size > 0; });
      form.querySelectorAll("input").forEach((i) => { if (b.log_size > 0) i.checked = i.value === p.under_review; });
    }
    $("board").dataset.logSize = b.log_size;
    $("board").dataset.reporting = b.precincts_reporting;
    document.querySelector(".live").textContent = "Live: updated " + new Date().toLocaleTimeString("en-US");
  }

  // The missing list shows the first MISSING_SHOWN (the ones to call first) unless asked for all.
  const MISSING_SHOWN = 100;
  let showAll = false, last = null;
  $("missing-more").addEventListener("click", () => { showAll = !showAll; if (last) render(last); });

  function onBoard(data) {
    try { last = JSON.parse(data); render(last); } catch (e) { /* the next board */ }
  }

  let timer = null;
  function poll() {
    if (timer) return;
    const once = async () => {
      try {
        const res = await fetch("/api/v1/hq/board", { cache: "no-store", credentials: "same-origin" });
        if (res.status === 401) { location.href = "/hq/login?next=/hq"; return; }
        if (res.ok) onBoard(await res.text());
      } catch (e) { /* next time */ }
    };
    once();
    timer = setInterval(once, 5000);
  }

  // An admin's policy form (before the night): PUT /api/v1/hq/policy.
  const form = $("policy-form");
  if (form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const choice = form.querySelector("input[name=under_review]:checked");
      const out = $("policy-result");
      if (!choice) return;
      out.textContent = "Saving…";
      try {
        const res = await fetch("/api/v1/hq/policy", { method: "PUT", credentials: "same-origin",
          headers: { "Content-Type": "application/json" }, body: JSON.stringify({ under_review: choice.value }) });
        const body = await res.json().catch(() => ({}));
        out.textContent = res.ok ? "Saved: precincts under review are " + body.under_review + "." : (body.error || "Not saved (" + res.status + ").");
      } catch (e) {
        out.textContent = "Not saved: the server did not answer.";
      }
    });
  }

  if (!("EventSource" in window)) { poll(); return; }
  let es = null;
  function listen() {
    es = new EventSource("/api/v1/hq/events");
    es.addEventListener("board", (ev) => onBoard(ev.data));
    es.addEventListener("error", () => {
      // The browser reconnects by itself, except after a refusal (no session, too many streams).
      if (es.readyState === EventSource.CLOSED) poll();
    });
  }
  window.addEventListener("pagehide", () => { if (es) { es.close(); es = null; } });
  window.addEventListener("pageshow", (ev) => { if (ev.persisted && !es) listen(); });
  listen();
})();
