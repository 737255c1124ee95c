// Headquarters' certification page (/hq/certify). It reads the board (per county: settled or
// what is unsettled, certified or not) from GET /api/v1/hq/certify with the page's staff cookie,
// and a certifier certifies a county or the state, or withdraws a certification, each with a
// one-time code that the server checks again. Others see the same, read-only.
"use strict";
(() => {
  const readOnly = document.body.dataset.readonly === "1";
  const $ = (id) => document.getElementById(id);

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

  function unsettledList(un) {
    const shown = un.slice(0, 8).map((p) => el("li", { text: p.precinct_id + ": " + p.status.replace("_", " ") }));
    if (un.length > 8) shown.push(el("li", { text: "and " + (un.length - 8) + " more" }));
    return el("ul", null, ...shown);
  }

  function actButton(label, scope, withdraw) {
    const b = el("button", { type: "button", class: withdraw ? "withdraw" : null, "data-scope": scope, text: label });
    b.addEventListener("click", () => act(scope, withdraw));
    return b;
  }

  async function act(scope, withdraw) {
    fail("");
    const otp = $("otp").value.trim();
    const reason = $("reason").value.trim();
    if (!/^[0-9]{6}$/.test(otp)) {
      fail("Enter the 6-digit one-time code from your authenticator first.");
      $("otp").focus();
      return;
    }
    if (withdraw && !reason) {
      fail("A withdrawal needs its reason: say why, in words the record will keep.");
      $("reason").focus();
      return;
    }
    const { status, data } = await api("POST", withdraw ? "/api/v1/hq/certify/withdraw" : "/api/v1/hq/certify", { scope, otp, reason });
    $("otp").value = "";
    if (status === 201) {
      $("reason").value = "";
      say(withdraw ? "Withdrew the certification of " + scope + " (log entry " + data.log_index + ")."
        : "Certified " + scope + " at the checkpoint of " + data.log_size + " entries, root " + data.root_hash + " (log entry " + data.log_index + ").");
      await load(true);
      return;
    }
    fail((data && data.error) || "Refused (" + status + ").");
    await load(true);
  }

  async function load(quiet) {
    const { status, data } = await api("GET", "/api/v1/hq/certify");
    if (status !== 200) {
      fail((data && data.error) || "The counties could not be read (" + status + ").");
      return;
    }
    const rows = [];
    let settled = 0, certified = 0;
    for (const c of data.counties) {
      if (c.settled) settled++;
      if (c.certified) certified++;
      const state = c.settled ? el("td", { class: "ok", text: "settled" })
        : el("td", { class: "wait" }, el("span", { text: c.unsettled.length + " unsettled" }), unsettledList(c.unsettled));
      const cert = el("td", null, el("span", { class: c.certified ? "ok" : null, text: c.certified ? "certified" : "not certified" }));
      if (!readOnly) {
        if (c.certified) cert.append(" ", actButton("Withdraw " + c.name, c.scope, true));
        else if (c.settled) cert.append(" ", actButton("Certify " + c.name, c.scope, false));
      }
      rows.push(el("tr", null, el("th", { scope: "row", text: c.name }), el("td", { class: "num", text: String(c.precincts) }), state, cert));
    }
    $("counties").replaceChildren(...rows);
    $("summary").textContent = settled + " of " + data.counties.length + " settled, " + certified + " certified";
    const st = $("state");
    st.replaceChildren(data.state_certified ? "The state is certified." : data.state_ready ? "Every county is certified: the state may be certified."
      : "The state waits for " + (data.counties.length - certified) + (data.counties.length - certified === 1 ? " county" : " counties") + " to be certified.");
    if (!readOnly && data.state_certified) st.append(" ", actButton("Withdraw the state", "state", true));
    if (!readOnly && !data.state_certified && data.state_ready) st.append(" ", actButton("Certify the state", "state", false));
    const certs = (data.certifications || []).slice().reverse().map((c) => el("li", null,
      el("strong", { text: c.scope }), " " + c.decision + " by " + c.certifier + " at " + c.at + " (log entry " + c.log_index + ")",
      c.log_size !== null ? el("span", null, ": checkpoint of " + c.log_size + " entries, ", el("code", { class: "hash", text: c.root_hash }), " · ",
        el("a", { href: "/certifications/" + c.log_index, text: "printable results" }), " · ",
        el("a", { href: "/api/v1/certifications/" + c.log_index + "/results.csv", text: "CSV" })) : null,
      c.reason ? " — " + c.reason : null));
    $("certs").replaceChildren(...(certs.length ? certs : [el("li", { class: "none", text: "Nothing is certified yet." })]));
    if (!quiet) say("Log size " + data.log_size + ".");
    document.documentElement.dataset.ready = "1";
  }

  load(false);
})();
