// Shared helpers of the H5 screens: calls to /api/v1 with the bearer token kept in this tab's
// sessionStorage, errors shown with the server's Chinese message, the server's labels of
// statuses, fields and kinds (GET /api/v1/labels), and small DOM helpers.
"use strict";

const Yj = {
  tokenKey(kind) { return "yueju." + kind + ".token"; },
  token(kind) { return sessionStorage.getItem(Yj.tokenKey(kind)); },
  setToken(kind, value) {
    if (value) sessionStorage.setItem(Yj.tokenKey(kind), value);
    else sessionStorage.removeItem(Yj.tokenKey(kind));
  },

  // Answers {ok, status, data} where data is the parsed JSON (or a Blob when blob is true).
  async call(method, path, { body, token, form, blob, headers } = {}) {
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

  // Tabs: buttons with data-tab show the section with the same id.
  tabs(onShow) {
    const buttons = document.querySelectorAll("nav.tabs button");
    const show = (id) => {
      buttons.forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === id)));
      document.querySelectorAll("[data-panel]").forEach((p) => p.classList.toggle("hidden", p.id !== id));
      if (onShow) onShow(id);
    };
    buttons.forEach((b) => b.addEventListener("click", () => show(b.dataset.tab)));
    return show;
  },
};

Yj.ready = Yj.loadLabels();
