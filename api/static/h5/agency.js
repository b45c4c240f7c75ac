// Agency H5: client-credentials login, verify a code (paste or camera), ask for access,
// follow the request and download the annotated copy.
"use strict";
(() => {
  const { $, el, call, say } = Yj;
  const KIND = "agency";
  const tok = () => Yj.token(KIND);
  const requests = JSON.parse(sessionStorage.getItem("yueju.agency.requests") || "[]");

  async function login() {
    const form = new URLSearchParams({ grant_type: "client_credentials", client_id: $("#client-id").value.trim(), client_secret: $("#client-secret").value });
    const r = await call("POST", "/oauth/token", { form, headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    if (!r.ok) return say($("#login-msg"), Yj.errorText(r));
    Yj.setToken(KIND, r.data.access_token);
    Yj.ready.then(start);
  }

  // A residence proof (居住年限证明, YJRP1.…) says yes or no of N years in a city; the check
  // shows what it states, and is written to the holder's access log.
  async function verifyProof(token) {
    const r = await call("POST", "/api/v1/verify/residence-proof", { token: tok(), body: { token } });
    if (!r.ok) return say($("#verify-msg"), Yj.errorText(r));
    const v = r.data;
    if (!v.valid) {
      $("#verify-fields").replaceChildren();
      return say($("#verify-msg"), "证明核验未通过：" + Yj.label("residence_proof_reason", v.reason));
    }
    const s = v.statement;
    say($("#verify-msg"), "证明真实有效：" + s.name + (s.holds ? " 已" : " 未") + "在" + s.city + "连续居住满 " + s.min_years + " 年（截至" + s.as_of + "）", true);
    const rows = [["居住证号", s.permit_no], ["证明有效期至", Yj.time(s.expires_at)]];
    $("#verify-fields").replaceChildren(...rows.flatMap(([k, x]) => [el("dt", {}, k), el("dd", {}, x)]));
  }

  async function verify() {
    const token = $("#code").value.trim();
    if (token.startsWith("YJRP1.")) return verifyProof(token);
    const r = await call("POST", "/api/v1/verify", { token: tok(), body: { token } });
    if (r.status === 401) { Yj.setToken(KIND, null); location.reload(); return; }
    if (!r.ok) return say($("#verify-msg"), Yj.errorText(r));
    const v = r.data;
    if (v.valid) say($("#verify-msg"), "核验通过：居住证真实有效", true);
    else say($("#verify-msg"), "核验未通过：" + Yj.label("verify_reason", v.reason));
    const rows = [];
    if (v.permit) {
      rows.push(["持证人", v.permit.name], ["证件编号", v.permit.permit_no], ["有效期至", v.permit.valid_until], ["状态", Yj.label("permit_status", v.permit.status)]);
      for (const k of ["issuing_authority", "issued_on", "valid_from"]) if (v.permit[k]) rows.push([Yj.label("permit_field", k), v.permit[k]]);
    }
    $("#verify-fields").replaceChildren(...rows.flatMap(([k, x]) => [el("dt", {}, k), el("dd", {}, x)]));
  }

  async function scan() {
    const video = $("#camera");
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = stream;
      video.classList.remove("hidden");
      await video.play();
      const detector = new BarcodeDetector({ formats: ["qr_code"] });
      const loop = async () => {
        const codes = await detector.detect(video).catch(() => []);
        if (codes.length) {
          $("#code").value = codes[0].rawValue;
          stream.getTracks().forEach((t) => t.stop());
          video.classList.add("hidden");
          verify();
        } else requestAnimationFrame(loop);
      };
      loop();
    } catch (e) {
      say($("#verify-msg"), "无法使用摄像头，请粘贴码文本");
    }
  }

  async function requestAccess() {
    const fields = [...document.querySelectorAll("#field-choice input:checked")].map((i) => i.value);
    const body = { token: $("#code").value.trim(), purpose: $("#purpose").value.trim(), days: Number($("#days").value),
      retention_days: Number($("#retention").value), fields };
    const r = await call("POST", "/api/v1/agency/authorization-requests", {
      token: tok(), body, headers: { "Idempotency-Key": Yj.formKey("request", body) },
    });
    if (!r.ok) return say($("#request-msg"), Yj.errorText(r));
    say($("#request-msg"), "已发送，等待持证人 " + r.data.holder + " 同意", true);
    // A repeat of the same form answers the request already filed: list it once.
    if (!requests.includes(r.data.id)) requests.unshift(r.data.id);
    sessionStorage.setItem("yueju.agency.requests", JSON.stringify(requests.slice(0, 20)));
    loadRequests();
  }

  async function download(grantId, svg) {
    const path = "/api/v1/agency/authorizations/" + grantId + "/annotated-copy" + (svg ? "?format=svg" : "");
    const r = await call("GET", path, { token: tok(), blob: svg });
    if (!r.ok) return say($("#copy-msg"), Yj.errorText(r));
    say($("#copy-msg"), "已下载加注件", true);
    if (svg) {
      const img = $("#copy-img");
      img.src = URL.createObjectURL(r.data);
      img.classList.remove("hidden");
    } else {
      $("#copy-json").textContent = JSON.stringify(r.data, null, 2);
      $("#copy-json").classList.remove("hidden");
    }
    loadRequests();
  }

  async function loadRequests() {
    const items = [];
    for (const id of requests) {
      const r = await call("GET", "/api/v1/agency/authorization-requests/" + id, { token: tok() });
      if (!r.ok) continue;
      const x = r.data;
      const g = x.authorization;
      const status = g ? g.status : x.status;
      items.push(el("li", {},
        el("div", { class: "row" }, Yj.badge(status, g ? "grant_status" : "authorization_request_status"), el("span", {}, x.holder + " · " + x.purpose)),
        g ? el("div", { class: "hint" }, "有效期至 " + Yj.time(g.expires_at) + "，已下载 " + g.downloads + "/" + g.max_downloads) : null,
        g && g.status === "active" ? el("div", {},
          el("button", { class: "primary", onclick: () => download(g.id, true) }, "查看加注件"),
          el("button", { class: "secondary", onclick: () => download(g.id, false) }, "下载签名数据")) : null,
      ));
    }
    $("#requests").replaceChildren(...(items.length ? items : [el("li", { class: "hint" }, "暂无请求")]));
  }

  function start() {
    $("#login-card").classList.add("hidden");
    $("#app").classList.remove("hidden");
    $("#field-choice").append(...Yj.entries("permit_field").map(([k, label]) => el("label", {},
      el("input", { type: "checkbox", value: k, style: "width:auto", ...(["name", "id_number", "residence_address", "valid_until"].includes(k) ? { checked: "" } : {}) }), " " + label)));
    if ("BarcodeDetector" in window && navigator.mediaDevices) $("#scan-btn").classList.remove("hidden");
    loadRequests();
    setInterval(loadRequests, 5000);
  }

  $("#login-btn").addEventListener("click", login);
  $("#verify-btn").addEventListener("click", verify);
  $("#scan-btn").addEventListener("click", scan);
  $("#request-btn").addEventListener("click", requestAccess);
  Yj.ready.then(() => { if (tok()) start(); });
})();
