// 粤居码 H5: the code with its countdown, refreshed before it expires.
"use strict";
(() => {
  const { $, call, say } = Yj;
  const KIND = "yjm";
  let expiresAt = 0;
  let timer = null;

  async function login() {
    const r = await call("POST", "/api/v1/auth/miniprogram/login", { body: { app: KIND, code: "dev:" + $("#login-code").value.trim() } });
    if (!r.ok) return say($("#login-msg"), Yj.errorText(r));
    Yj.setToken(KIND, r.data.access_token);
    start();
  }

  async function refresh() {
    const r = await call("GET", "/api/v1/me/code", { token: Yj.token(KIND) });
    if (r.status === 401) { Yj.setToken(KIND, null); location.reload(); return; }
    if (!r.ok) { say($("#code-msg"), Yj.errorText(r)); return; }
    say($("#code-msg"), "");
    // The SVG comes from our own server and holds only the QR drawing.
    $("#qr").innerHTML = r.data.qr_svg;
    $("#token").value = r.data.token;
    expiresAt = new Date(r.data.expires_at).getTime();
    tick();
  }

  function tick() {
    const left = Math.round((expiresAt - Date.now()) / 1000);
    $("#countdown").textContent = left > 0 ? left + " 秒后自动更新" : "正在更新…";
    // Refresh a little before expiry, so a shown code is always valid.
    if (left <= 10) { refresh(); return; }
    clearTimeout(timer);
    timer = setTimeout(tick, 1000);
  }

  function start() {
    $("#login-card").classList.add("hidden");
    $("#code-card").classList.remove("hidden");
    refresh();
  }

  $("#login-btn").addEventListener("click", login);
  $("#refresh-btn").addEventListener("click", refresh);
  if (Yj.token(KIND)) start();
})();
