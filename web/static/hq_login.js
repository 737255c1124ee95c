// The headquarters login page: posts {user, password, otp} to /api/v1/staff/login, which sets
// the session cookie (HttpOnly: this script never sees or keeps the token), then goes to the
// board, or to the headquarters page named by ?next= (a path under /hq only).
"use strict";

(() => {
  const form = document.getElementById("login");
  const msg = document.getElementById("msg");
  const button = document.getElementById("login-button");

  // next is where to go after logging in: /hq, or a /hq/… path given in ?next=.
  const next = () => {
    const n = new URLSearchParams(location.search).get("next") || "";
    return /^\/hq(\/[A-Za-z0-9_\-\/]*)?$/.test(n) ? n : "/hq";
  };

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    msg.textContent = "";
    const user = form.user.value.trim();
    if (user === "" || form.password.value === "") {
      msg.textContent = "Type your user name and password.";
      (user === "" ? form.user : form.password).focus();
      return;
    }
    button.disabled = true;
    try {
      const res = await fetch("/api/v1/staff/login", {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({user, password: form.password.value, otp: form.otp.value.replace(/\s+/g, "")}),
      });
      const body = await res.json().catch(() => ({}));
      if (res.ok) {
        form.password.value = "";
        form.otp.value = "";
        location.assign(next());
        return;
      }
      let text = body.error || `Login failed (${res.status}).`;
      const wait = Number(res.headers.get("Retry-After"));
      if (res.status === 429 && wait > 0) {
        text += ` Try again in ${wait < 90 ? wait + " seconds" : Math.ceil(wait / 60) + " minutes"}.`;
      }
      msg.textContent = text;
      form.otp.value = "";
      form.password.focus();
    } catch (e) {
      msg.textContent = "The server cannot be reached: check the connection and try again.";
    } finally {
      button.disabled = false;
    }
  });
})();
