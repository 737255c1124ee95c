// The chair app's check messages. Plain JavaScript, loaded before app.js, whose globals (dicts,
// lang, info, candName) it reads when a check is written.
"use strict";

// ---- check messages ----
// A check is written from its ID and args with the templates of internal/rules' check table (in
// the word lists as check.C05.text, check.C05.item.<list>, check.C05.sep.<list>), exactly as
// rules.Check.In writes them: {name} is an argument's value, {name|one|other} chooses by a number
// or a list's length (# is the number, {name|zero|one|other} adds 0), {name|key:text|*:text}
// chooses by a text. A check the table does not know keeps the server's English message.
function checkText(c, l) {
  l = l || lang;
  const words = dicts[l] || {};
  const tpl = words["check." + c.id + ".text"];
  if (!tpl || !c.args) return c.message;
  return c.id + ": " + fill(tpl, c.args, c.id, words, "");
}
// checkSentence is what the chair reads: the message without its ID (shown apart, small, for
// headquarters), as a sentence.
function checkSentence(c, l) {
  let s = checkText(c, l);
  if (s.startsWith(c.id + ": ")) s = s.slice(c.id.length + 2);
  s = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.?!]$/.test(s) ? s : s + ".";
}
// checkNode is one check as the page shows it: the sentence, then the ID in small type.
function checkNode(c, l) {
  const p = document.createElement("p");
  p.className = c.severity;
  p.dataset.check = c.id;
  const id = document.createElement("span");
  id.className = "check-id";
  id.textContent = c.id;
  p.append(checkSentence(c, l) + " ", id);
  return p;
}
// checkCands lists the candidates a check's args name (at any depth), for marking their rows.
function checkCands(a, out) {
  out = out || [];
  if (Array.isArray(a)) for (const x of a) checkCands(x, out);
  else if (a && typeof a === "object") {
    if (typeof a.id === "string" && Object.keys(a).every((k) => k === "id" || k === "name")) out.push(a.id);
    else for (const k in a) checkCands(a[k], out);
  }
  return out;
}
function closing(s, open) {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === "{") depth++;
    else if (s[i] === "}" && --depth === 0) return i;
  }
  return -1;
}
function branches(s) {
  const out = [];
  let depth = 0, start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "{") depth++;
    else if (s[i] === "}") depth--;
    else if (s[i] === "|" && depth === 0) { out.push(s.slice(start, i)); start = i + 1; }
  }
  out.push(s.slice(start));
  return out;
}
function fill(tpl, args, id, words, hash) {
  let out = "";
  for (let i = 0; i < tpl.length; i++) {
    if (tpl[i] === "#" && hash !== "") out += hash;
    else if (tpl[i] === "{") {
      const end = closing(tpl, i);
      if (end < 0) return out + tpl.slice(i);
      out += placeholder(tpl.slice(i + 1, end), args, id, words);
      i = end;
    } else out += tpl[i];
  }
  return out;
}
function placeholder(inside, args, id, words) {
  const parts = branches(inside), key = parts[0];
  const has = Object.prototype.hasOwnProperty.call(args, key), a = args[key];
  if (parts.length === 1) return has ? argText(key, a, id, words) : "{" + inside + "}";
  const choices = parts.slice(1);
  if (typeof a === "string") {
    for (const ch of choices) {
      const k = ch.indexOf(":");
      const [when, text] = k < 0 ? [ch, ""] : [ch.slice(0, k), ch.slice(k + 1)];
      if (when === a || (when === "*" && a !== "")) return fill(text, args, id, words, "");
    }
    return "";
  }
  if (!has) return "";
  const n = Array.isArray(a) ? a.length : typeof a === "number" ? a : 0;
  const pick = choices.length >= 3 && n === 0 ? choices[0] : n === 1 ? choices[choices.length - 2] : choices[choices.length - 1];
  return fill(pick, args, id, words, String(n));
}
function argText(key, a, id, words) {
  if (typeof a === "number" || typeof a === "string") return String(a);
  if (Array.isArray(a)) {
    const item = words["check." + id + ".item." + key] || "";
    const parts = a.map((it) => fill(item, it, id, words, ""));
    if (words["check." + id + ".sep." + key] === ";") return parts.join("; ");
    return parts.length < 2 ? parts.join("") : parts.slice(0, -1).join(", ") + " " + words["check.and"] + " " + parts[parts.length - 1];
  }
  if (a && typeof a === "object") return candName({ id: a.id, name: a.name || (info && (info.candidates.find((c) => c.id === a.id) || {}).name) || "" });
  return "";
}
