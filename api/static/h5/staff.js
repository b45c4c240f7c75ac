// Staff H5: the review queue with materials and decisions, and agency registration (the
// 概览 tab with its charts is overview.js).
"use strict";
(() => {
  const { $, el, call, say } = Yj;
  const KIND = "staff";
  const tok = () => Yj.token(KIND);
  let current = null;

  async function login() {
    const r = await call("POST", "/api/v1/staff/login", { body: { username: $("#username").value.trim(), password: $("#password").value } });
    if (!r.ok) return say($("#login-msg"), Yj.errorText(r));
    Yj.setToken(KIND, r.data.access_token);
    Yj.ready.then(start);
  }

  async function loadQueue() {
    const r = await call("GET", "/api/v1/staff/applications?status=pending_review", { token: tok() });
    if (r.status === 401) { Yj.setToken(KIND, null); location.reload(); return; }
    if (!r.ok) return say($("#queue-msg"), Yj.errorText(r));
    const items = r.data.items;
    $("#queue").replaceChildren(...(items.length ? items.map((a) => el("li", {},
      el("div", { class: "row" }, Yj.badge(a.status, "application_status"), el("strong", {}, a.applicant_name), el("span", {}, a.city + a.district)),
      el("div", { class: "hint" }, Yj.label("basis", a.basis) + " · 材料 " + a.materials + " 份 · " + Yj.time(a.created_at)),
      el("button", { class: "secondary", onclick: () => open(a.id) }, "审核"),
    )) : [el("li", { class: "hint" }, "暂无待审核的申请")]));
  }

  async function open(id) {
    const r = await call("GET", "/api/v1/staff/applications/" + id, { token: tok() });
    if (!r.ok) return say($("#queue-msg"), Yj.errorText(r));
    current = r.data;
    $("#detail-card").classList.remove("hidden");
    const rows = [["申请人", current.applicant_name], ["证件号码", current.applicant_id_number], ["居住地", current.city + current.district + current.address],
      ["居住起始", current.residence_since], ["申领条件", Yj.label("basis", current.basis)], ["缺少证明", (current.missing || []).join("、") || "—"]];
    $("#detail").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
    $("#materials").replaceChildren(...(current.materials || []).map((m) => el("li", {},
      el("span", {}, m.kind + " · " + m.mime + " · " + Math.round(m.size_bytes / 1024) + " KB "),
      el("button", { class: "secondary", onclick: () => showMaterial(m) }, "查看"))));
    $("#material-img").classList.add("hidden");
  }

  async function showMaterial(m) {
    const r = await call("GET", "/api/v1/staff/applications/" + current.id + "/materials/" + m.id, { token: tok(), blob: true });
    if (!r.ok) return say($("#detail-msg"), Yj.errorText(r));
    const url = URL.createObjectURL(r.data);
    if (m.mime === "application/pdf") { window.open(url, "_blank", "noopener"); return; }
    const img = $("#material-img");
    img.src = url;
    img.classList.remove("hidden");
  }

  async function decide(approve) {
    if (!current) return;
    const r = await call("POST", "/api/v1/staff/applications/" + current.id + "/decision", {
      token: tok(), body: { approve, reason: $("#reason").value.trim() },
    });
    if (!r.ok) return say($("#detail-msg"), Yj.errorText(r));
    say($("#detail-msg"), approve ? "已通过，证件编号 " + (r.data.permit_no || "") : "已作出不通过决定", true);
    $("#detail-card").classList.add("hidden");
    loadQueue();
  }

  async function register() {
    const scopes = [...document.querySelectorAll("input[name=scope]:checked")].map((i) => i.value);
    const fields = [...document.querySelectorAll("#ag-fields input:checked")].map((i) => i.value);
    const r = await call("POST", "/api/v1/staff/agencies", { token: tok(), body: {
      name: $("#ag-name").value.trim(), credit_code: $("#ag-code").value.trim(), contact: $("#ag-contact").value.trim(), scopes, fields } });
    if (!r.ok) return say($("#register-msg"), Yj.errorText(r));
    say($("#register-msg"), "登记成功。客户端密钥只显示这一次，请立即交给该部门妥善保管。", true);
    $("#secret").textContent = "client_id: " + r.data.client_id + "\nclient_secret: " + r.data.client_secret;
    $("#secret").classList.remove("hidden");
    loadAgencies();
  }

  async function loadAgencies() {
    const r = await call("GET", "/api/v1/staff/agencies", { token: tok() });
    const items = r.ok ? r.data.items : [];
    $("#agencies").replaceChildren(...(items.length ? items.map((a) => el("li", {},
      el("strong", {}, a.name), el("div", { class: "hint" }, a.credit_code + " · " + a.client_id + " · " + a.scopes.join(" ")))) :
      [el("li", { class: "hint" }, r.ok ? "暂无" : Yj.errorText(r))]));
  }

  const show = Yj.tabs((id) => {
    if (id === "tab-queue") loadQueue();
    else if (id === "tab-agencies") loadAgencies();
  });
  function start() {
    $("#login-card").classList.add("hidden");
    $("#app").classList.remove("hidden");
    $("#ag-fields").append(...Yj.entries("permit_field").map(([k, label]) => el("label", {},
      el("input", { type: "checkbox", value: k, checked: "", style: "width:auto" }), " " + label)));
    show("tab-queue");
  }

  $("#login-btn").addEventListener("click", login);
  $("#approve-btn").addEventListener("click", () => decide(true));
  $("#reject-btn").addEventListener("click", () => decide(false));
  $("#register-btn").addEventListener("click", register);
  Yj.ready.then(() => { if (tok()) start(); });
})();
