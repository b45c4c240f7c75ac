// Shared helpers of the H5 screens: calls to /api/v1 with the bearer token kept in this tab's
// sessionStorage (a button stays disabled while its call runs; one Idempotency-Key per form),
// errors shown with the server's Chinese message, the server's labels of statuses, fields and
// kinds (GET /api/v1/labels), tabs by the WAI-ARIA pattern, 长辈模式, and small DOM helpers.
"use strict";

const Yj = {
  tokenKey(kind) { return "yueju." + kind + ".token"; },
  token(kind) { return sessionStorage.getItem(Yj.tokenKey(kind)); },
  setToken(kind, value) {
    if (value) sessionStorage.setItem(Yj.tokenKey(kind), value);
    else sessionStorage.removeItem(Yj.tokenKey(kind));
  },

  // Answers {ok, status, data} where data is the parsed JSON (or a Blob when blob is true).
  // A call that changes something keeps the button that started it disabled (aria-busy) until
  // the answer comes, so a second click does not send it again.
  async call(method, path, opts = {}) {
    const button = method === "GET" ? null : Yj.clicked;
    if (!button || button.disabled) return Yj.send(method, path, opts);
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      return await Yj.send(method, path, opts);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  },

  // The button of the click being handled, if any (set before any click handler runs).
  clicked: null,

  async send(method, path, { body, token, form, blob, headers } = {}) {
    const init = { method, headers: Object.assign({}, headers || {}) };
    if (token) init.headers["Authorization"] = "Bearer " + token;
    if (form) {
      init.body = form;
    } else if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      return { ok: false, status: 0, data: { error: { code: "NETWORK", message: "网络连接失败，请稍后再试" } } };
    }
    if (blob && res.ok) return { ok: true, status: res.status, data: await res.blob() };
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (res.status === 204) data = {};
    return { ok: res.ok, status: res.status, data };
  },

  errorText(result) {
    const d = result && result.data;
    if (d && d.error && d.error.message) return d.error.message;
    if (d && d.error_description) return d.error_description;
    return "操作失败（" + (result ? result.status : "?") + "）";
  },

  // Shows a message in an aria-live element.
  say(el, text, ok) {
    el.textContent = text || "";
    el.className = "msg " + (ok ? "ok" : "error");
  },

  $(selector, root) { return (root || document).querySelector(selector); },

  el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null) node.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  },

  // {vocabulary: {value: label}} from the server, fetched once per page: screens start after Yj.ready.
  labels: {},
  async loadLabels() {
    const r = await Yj.call("GET", "/api/v1/labels");
    if (r.ok && r.data) Yj.labels = r.data;
  },
  // The label of a value (a status, a field, a kind); the value itself when the server has none.
  label(vocabulary, value) {
    const table = Yj.labels[vocabulary];
    return (table && table[value]) || value;
  },
  // The labels of a vocabulary in the server's order, as [value, label] pairs.
  entries(vocabulary) { return Object.entries(Yj.labels[vocabulary] || {}); },

  badge(status, vocabulary) { return Yj.el("span", { class: "badge " + status }, Yj.label(vocabulary, status)); },

  time(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString("zh-CN", { hour12: false });
  },

  // One Idempotency-Key per filled-in form, not per click: sending the same form again (a
  // double click, a retry after a lost answer) reuses its key, so the server files it once;
  // a change to the form makes a new key.
  formKey(form, body) {
    const fingerprint = JSON.stringify(body);
    const kept = Yj.formKeys[form];
    if (kept && kept.fingerprint === fingerprint) return kept.key;
    const random = crypto.randomUUID ? crypto.randomUUID() : Date.now() + "-" + Math.random().toString(36).slice(2);
    Yj.formKeys[form] = { fingerprint, key: "h5-" + form + "-" + random };
    return Yj.formKeys[form].key;
  },
  formKeys: {},

  // Tabs as the WAI-ARIA tabs pattern: buttons with data-tab in nav.tabs (role tablist) control
  // the panel with that id (role tabpanel); the arrow keys, Home and End move between tabs and
  // show them; only the selected tab is in the Tab order.
  tabs(onShow) {
    const buttons = [...document.querySelectorAll("nav.tabs button")];
    buttons.forEach((b) => {
      const panel = document.getElementById(b.dataset.tab);
      b.id = b.id || "tabbtn-" + b.dataset.tab;
      b.setAttribute("role", "tab");
      b.setAttribute("aria-controls", b.dataset.tab);
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", b.id);
      panel.tabIndex = 0;
    });
    const show = (id) => {
      buttons.forEach((b) => {
        const selected = b.dataset.tab === id;
        b.setAttribute("aria-selected", String(selected));
        b.tabIndex = selected ? 0 : -1;
      });
      document.querySelectorAll("[data-panel]").forEach((p) => p.classList.toggle("hidden", p.id !== id));
      if (onShow) onShow(id);
      // Screens kept in scripts of their own load their panel on this event.
      document.dispatchEvent(new CustomEvent("yj:tab", { detail: id }));
    };
    buttons.forEach((b, i) => {
      b.addEventListener("click", () => show(b.dataset.tab));
      b.addEventListener("keydown", (e) => {
        const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: buttons.length - 1 }[e.key];
        if (to === undefined) return;
        e.preventDefault();
        const next = buttons[(to + buttons.length) % buttons.length];
        show(next.dataset.tab);
        next.focus();
      });
    });
    return show;
  },

  // 长辈模式: large type, high contrast, fewer items a screen; kept on this device. Every page
  // has a header button with id elder-toggle.
  elderMode() {
    const button = document.getElementById("elder-toggle");
    const apply = (on) => {
      document.documentElement.classList.toggle("elder", on);
      if (button) button.setAttribute("aria-pressed", String(on));
    };
    apply(localStorage.getItem("yueju.elder") === "1");
    if (button) button.addEventListener("click", () => {
      const on = !document.documentElement.classList.contains("elder");
      localStorage.setItem("yueju.elder", on ? "1" : "0");
      apply(on);
    });
  },
};

Yj.ready = Yj.loadLabels();

// Remember which button a click came from, before the page's own handlers run.
document.addEventListener("click", (e) => {
  Yj.clicked = e.target instanceof Element ? e.target.closest("button") : null;
  setTimeout(() => { Yj.clicked = null; }, 0);
}, true);
document.addEventListener("DOMContentLoaded", () => Yj.elderMode());
