// 粤省事 H5: login, identity, applying, the permit, the card, grants, the access log, settings.
"use strict";
(() => {
  const { $, el, call, say } = Yj;
  const KIND = "yss";
  const tok = () => Yj.token(KIND);

  async function login() {
    const code = $("#login-code").value.trim();
    if (!code) return say($("#login-msg"), "请输入登录码");
    const r = await call("POST", "/api/v1/auth/miniprogram/login", { body: { app: KIND, code: "dev:" + code } });
    if (!r.ok) return say($("#login-msg"), Yj.errorText(r));
    Yj.setToken(KIND, r.data.access_token);
    Yj.ready.then(start);
  }

  async function loadMe() {
    const r = await call("GET", "/api/v1/me", { token: tok() });
    if (r.status === 401) { Yj.setToken(KIND, null); location.reload(); return; }
    if (!r.ok) return say($("#me-msg"), Yj.errorText(r));
    const me = r.data;
    $("#who").textContent = me.identity_bound ? "已登录：" + me.masked_name : "已登录，尚未实名认证";
    const f = $("#me-fields");
    f.replaceChildren(
      el("dt", {}, "实名状态"), el("dd", {}, !me.identity_bound ? "未认证" : me.assurance === "wx_face" ? "已认证（人脸核身）" : "已认证（仅核对户籍信息）"),
      el("dt", {}, "姓名"), el("dd", {}, me.masked_name || "—"),
      el("dt", {}, "证件号码"), el("dd", {}, me.masked_id_number || "—"),
    );
    $("#bind-form").classList.toggle("hidden", me.identity_bound);
    $("#set-email").value = me.email || "";
    $("#set-reminders").checked = !!me.reminders_enabled;
  }

  const claim = () => ({ name: $("#bind-name").value.trim(), id_number: $("#bind-id").value.trim() });

  // Binding starts a face verification; the face check itself (wx.requestFacialVerify) exists
  // only in the mini-program, so the browser stops there and, in dev, may bind without it.
  async function bind() {
    $("#face-step").classList.add("hidden");
    const r = await call("POST", "/api/v1/me/identity/face-verification", { token: tok(), body: claim() });
    if (!r.ok && r.status !== 503) return say($("#me-msg"), Yj.errorText(r));
    say($("#me-msg"), r.ok ? "已发起人脸核身，请在粤省事小程序中刷脸完成认证。" : Yj.errorText(r));
    $("#face-step").classList.remove("hidden");
  }

  async function bindWithoutFace() {
    const r = await call("POST", "/api/v1/me/identity", { token: tok(), body: claim() });
    if (!r.ok) return say($("#me-msg"), Yj.errorText(r));
    $("#face-step").classList.add("hidden");
    say($("#me-msg"), "实名认证成功（仅核对户籍信息）：" + r.data.masked_id_number, true);
    loadMe();
  }

  async function apply() {
    const body = {
      city: $("#ap-city").value.trim(), district: $("#ap-district").value.trim(),
      address: $("#ap-address").value.trim(), residence_since: $("#ap-since").value,
      basis: $("#ap-basis").value,
    };
    const email = $("#ap-email").value.trim();
    if (email) body.email = email;
    const r = await call("POST", "/api/v1/applications", {
      token: tok(), body, headers: { "Idempotency-Key": Yj.formKey("apply", body) },
    });
    if (!r.ok) return say($("#apply-msg"), Yj.errorText(r));
    const a = r.data;
    if (a.status === "issued") say($("#apply-msg"), "申请成功，电子居住证已签发（编号 " + a.permit_no + "）", true);
    else if (a.status === "needs_materials") say($("#apply-msg"), "政务数据未能核验全部条件，请在下方上传：" + a.missing_materials.map((m) => m.label).join("；"));
    else say($("#apply-msg"), "不符合申领条件：" + a.reasons.map((x) => x.message).join("；"));
    if (a.status === "issued") offerSubs($("#apply-subs"), "每年签注期开始和证件到期前，是否通过微信提醒您？", ["endorsement_due", "expiry"]);
    else if (a.status !== "rejected") offerSubs($("#apply-subs"), "审核有结果时，是否通过微信通知您？", ["decision", "endorsement_due", "expiry"]);
    loadApplications();
  }

  async function upload(appId, kind, input, msg) {
    if (!input.files.length) return say(msg, "请选择文件");
    const form = new FormData();
    form.append("kind", kind);
    form.append("file", input.files[0]);
    const r = await call("POST", "/api/v1/applications/" + appId + "/materials", { token: tok(), form });
    if (!r.ok) return say(msg, Yj.errorText(r));
    say(msg, "已上传", true);
    loadApplications();
  }

  async function loadApplications() {
    const r = await call("GET", "/api/v1/applications", { token: tok() });
    const list = $("#applications");
    if (!r.ok) { list.replaceChildren(el("li", {}, Yj.errorText(r))); return; }
    if (!r.data.items.length) { list.replaceChildren(el("li", { class: "hint" }, "暂无申请")); return; }
    list.replaceChildren(...r.data.items.map((a) => {
      const li = el("li", {},
        el("div", { class: "row" }, Yj.badge(a.status, "application_status"), el("span", {}, a.city + a.district), el("span", { class: "hint" }, Yj.time(a.created_at))),
      );
      if (a.permit_no) li.append(el("div", {}, "证件编号：" + a.permit_no));
      for (const reason of a.reasons || []) li.append(el("div", { class: "hint" }, reason.message));
      if (a.status === "needs_materials") {
        const uploaded = new Set((a.materials || []).map((m) => m.kind));
        for (const m of a.missing_materials) {
          if (uploaded.has(m.kind)) continue;
          const id = "file-" + a.id + "-" + m.kind;
          const input = el("input", { type: "file", id, accept: "image/jpeg,image/png,application/pdf" });
          const msg = el("div", { class: "msg", role: "status", "aria-live": "polite" });
          li.append(el("label", { for: id }, "上传" + Yj.label("material_kind", m.kind) + "（JPEG/PNG/PDF）：" + m.label), input,
            el("button", { class: "secondary", onclick: () => upload(a.id, m.kind, input, msg) }, "上传"), msg);
        }
      }
      return li;
    }));
  }

  let revealed = false;
  async function loadPermit() {
    const r = await call("GET", "/api/v1/me/permit" + (revealed ? "?reveal=true" : ""), { token: tok() });
    const has = r.ok;
    $("#permit-empty").classList.toggle("hidden", has);
    $("#permit-view").classList.toggle("hidden", !has);
    if (!has) return;
    const p = r.data;
    const gender = Yj.label("gender", p.gender);
    const rows = [["状态", Yj.badge(p.status, "permit_status")], ["证件编号", p.permit_no], ["姓名", p.name], ["性别", gender], ["民族", p.ethnicity],
      ["公民身份号码", p.id_number], ["户籍地址", p.hukou_address], ["居住地址", p.residence_address],
      ["签发机关", p.issuing_authority], ["签发日期", p.issued_on], ["有效期", p.valid_from + " 至 " + p.valid_until],
      ["下次签注", p.next_endorsement_due + "（" + p.endorsement_window_opens + " 起可办理）"]];
    $("#permit-fields").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
    const card = await call("GET", "/api/v1/me/permit/card.svg", { token: tok(), blob: true });
    if (card.ok) {
      const img = $("#card-img");
      if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
      img.dataset.url = URL.createObjectURL(card.data);
      img.src = img.dataset.url;
    }
    showCardOrder(p.physical_card);
  }

  const yuan = (cents) => (cents / 100).toFixed(2) + " 元";

  // The latest card order, and for one waiting for its fee the payment notice (缴款书) of the
  // province's non-tax payment platform: number, amount, until when, and where to pay.
  function showCardOrder(order) {
    if (!order) return $("#card-order").replaceChildren(el("p", { class: "hint" }, "尚未申领实体证件"));
    const parts = [el("p", {}, "实体证件：", Yj.badge(order.status, "card_order_status"),
      " 领证地点 " + order.pickup_station + "，费用 " + (order.fee_cents ? yuan(order.fee_cents) : "免费"))];
    const pay = order.payment;
    if (order.status === "ordered" && pay) {
      parts.push(el("div", { class: "payment-notice", role: "group", "aria-label": "缴款书" },
        el("p", {}, "请在缴款书有效期内缴纳工本费，缴费成功后开始制证；逾期未缴费，本次申领自动取消。"),
        el("dl", { class: "fields" },
          el("dt", {}, "缴款书编号"), el("dd", {}, pay.notice_no),
          el("dt", {}, "应缴金额"), el("dd", {}, yuan(pay.amount_cents)),
          el("dt", {}, "缴费截止"), el("dd", {}, Yj.time(pay.expires_at))),
        el("a", { class: "pay-link", href: pay.pay_url, target: "_blank", rel: "noopener noreferrer" }, "前往非税支付平台缴费")));
    } else if (order.status === "cancelled") {
      parts.push(el("p", { class: "hint" }, "缴款书已过期未缴费，本次申领已取消，可重新申领。"));
    }
    $("#card-order").replaceChildren(...parts);
  }

  async function reveal() {
    revealed = !revealed;
    $("#reveal-btn").setAttribute("aria-pressed", String(revealed));
    $("#reveal-btn").textContent = revealed ? "隐藏完整证件号码" : "显示完整证件号码";
    await loadPermit();
    if (revealed) setTimeout(() => { if (revealed) reveal(); }, 15000);
  }

  async function endorse() {
    const r = await call("POST", "/api/v1/me/permit/endorsements", { token: tok() });
    if (!r.ok) return say($("#permit-msg"), Yj.errorText(r));
    say($("#permit-msg"), r.data.kind === "renewal" ? "换领成功" : "签注成功", true);
    offerSubs($("#permit-subs"), "明年签注期开始和证件到期前，是否通过微信提醒您？", ["endorsement_due", "expiry"]);
    loadPermit();
  }

  // A change of address in the permit's city; another city starts the application there,
  // with what was typed carried over.
  async function changeAddress() {
    const body = { district: $("#mv-district").value.trim(), address: $("#mv-address").value.trim(), since: $("#mv-since").value };
    const city = $("#mv-city").value.trim();
    if (city) body.city = city;
    const r = await call("POST", "/api/v1/me/permit/address-change", { token: tok(), body });
    if (!r.ok && r.data && r.data.error && r.data.error.code === "CITY_CHANGE_NEEDS_NEW_APPLICATION") {
      $("#ap-city").value = city;
      $("#ap-district").value = body.district;
      $("#ap-address").value = body.address;
      $("#ap-since").value = body.since;
      show("tab-apply");
      return say($("#apply-msg"), r.data.error.message + "。已为您填好新城市的申请，请核对后提交。");
    }
    if (!r.ok) return say($("#move-msg"), Yj.errorText(r));
    let text = "地址已变更，新的电子居住证已签发：" + r.data.permit.residence_address;
    if (r.data.restored) text += "。居住证已恢复正常使用";
    if (r.data.card_reissue_offered) text += "。实体证件上的地址已过时，如需要可在下方重新申领";
    say($("#move-msg"), text, true);
    loadPermit();
  }

  async function orderCard() {
    const r = await call("POST", "/api/v1/me/physical-card", { token: tok(), body: { pickup_station: $("#pickup").value.trim() } });
    if (!r.ok) return say($("#order-msg"), Yj.errorText(r));
    say($("#order-msg"), r.data.payment
      ? "已申领，请按缴款书缴纳工本费 " + yuan(r.data.payment.amount_cents)
      : "已申领，首次申领免费", true);
    loadPermit();
  }

  async function decide(id, action, version) {
    const r = await call("POST", "/api/v1/me/authorization-requests/" + id + "/" + action, {
      token: tok(), body: action === "approve" ? { consent_version: version } : {},
    });
    if (!r.ok) return say($("#requests-msg"), Yj.errorText(r));
    say($("#requests-msg"), action === "approve" ? "已同意授权" : "已拒绝", true);
    loadGrants();
  }

  async function revoke(id) {
    const r = await call("DELETE", "/api/v1/me/authorizations/" + id, { token: tok() });
    if (!r.ok) return say($("#requests-msg"), Yj.errorText(r));
    say($("#requests-msg"), "已撤回授权，该部门不能再下载或获取证明", true);
    loadGrants();
  }

  async function loadGrants() {
    const req = await call("GET", "/api/v1/me/authorization-requests", { token: tok() });
    const reqs = req.ok ? req.data.items : [];
    const pending = reqs.filter((x) => x.status === "pending");
    $("#requests").replaceChildren(...(pending.length ? pending.map((x) => el("li", {},
      el("div", { class: "row" }, Yj.badge("pending", "authorization_request_status"), el("strong", {}, x.agency.name)),
      el("div", {}, "用途：" + x.purpose),
      x.residence_proof
        ? el("div", {}, "请求居住年限证明：" + x.residence_proof.text + "（仅回答“是”或“否”，不提供居住经历）")
        : el("div", {}, "信息项：" + x.fields.map((f) => f.label + (f.sensitive ? "（敏感）" : "")).join("、")),
      el("div", { class: "consent", "aria-label": "授权说明" }, x.consent_text),
      el("button", { class: "primary", onclick: () => decide(x.id, "approve", x.consent_version) }, "同意"),
      el("button", { class: "danger", onclick: () => decide(x.id, "deny") }, "拒绝"),
    )) : [el("li", { class: "hint" }, "暂无待处理的请求")]));
    const g = await call("GET", "/api/v1/me/authorizations", { token: tok() });
    const grants = g.ok ? g.data.items : [];
    $("#grants").replaceChildren(...(grants.length ? grants.map((x) => el("li", {},
      el("div", { class: "row" }, Yj.badge(x.status, "grant_status"), el("strong", {}, x.agency.name)),
      el("div", {}, "用途：" + x.purpose + "；有效期至 " + Yj.time(x.expires_at)),
      x.residence_proof ? el("div", {}, "居住年限证明：" + x.residence_proof.text) : null,
      el("div", { class: "hint" }, (x.residence_proof ? "已开具 " : "已下载 ") + x.downloads + "/" + x.max_downloads + " 次"),
      x.status === "active" ? el("button", { class: "danger", onclick: () => revoke(x.id) }, "撤回授权") : null,
    )) : [el("li", { class: "hint" }, "暂无授权")]));
  }

  async function loadLog() {
    const r = await call("GET", "/api/v1/me/access-log?limit=200", { token: tok() });
    const items = r.ok ? r.data.items : [];
    $("#access-log").replaceChildren(...(items.length ? items.slice().reverse().map((e) => el("li", {},
      el("div", { class: "row" }, el("strong", {}, e.actor_name), el("span", {}, Yj.label("access_action", e.action))),
      el("div", { class: "hint" }, Yj.time(e.at) + (e.purpose ? " · 用途：" + e.purpose : "")),
    )) : [el("li", { class: "hint" }, "暂无记录")]));
  }

  async function checkLog() {
    const r = await call("GET", "/api/v1/me/access-log/check", { token: tok() });
    if (!r.ok) return say($("#log-msg"), Yj.errorText(r));
    if (r.data.intact) say($("#log-msg"), "记录完整（共 " + r.data.entries + " 条），校验值 " + r.data.head.slice(0, 16) + "…", true);
    else say($("#log-msg"), "记录校验失败：第 " + r.data.broken_at + " 条被改动或删除");
  }

  async function saveSettings() {
    const email = $("#set-email").value.trim();
    const r = await call("PATCH", "/api/v1/me", {
      token: tok(), body: { email: email || null, reminders_enabled: $("#set-reminders").checked },
    });
    if (!r.ok) return say($("#settings-msg"), Yj.errorText(r));
    say($("#settings-msg"), "已保存", true);
  }

  // Subscribe messages: in the mini-program the button calls wx.requestSubscribeMessage with
  // the templates' ids and posts what it answers; this page, outside WeChat, posts an accept.
  let subs = null;

  function subState(t, s) {
    if (!s) return "未订阅";
    if (s.status === "ban") return "该提醒已被微信停用";
    if (s.status === "reject") return "已拒绝";
    return t.mode === "long_term" ? "已开启（长期）" : "还可接收 " + s.credits + " 条";
  }

  async function loadSubs() {
    const r = await call("GET", "/api/v1/me/subscriptions", { token: tok() });
    const list = $("#subs");
    if (!r.ok) { list.replaceChildren(el("li", { class: "hint" }, Yj.errorText(r))); return null; }
    subs = r.data;
    const held = new Map(subs.items.filter((i) => i.app === subs.app).map((i) => [i.template_id, i]));
    list.replaceChildren(...(subs.templates.length ? subs.templates.map((t) => el("li", {},
      el("div", { class: "row" }, el("strong", {}, Yj.label("subscription_kind", t.kind)), el("span", { class: "hint" }, t.mode === "long_term" ? "长期订阅" : "一次性订阅")),
      el("div", {}, subState(t, held.get(t.template_id))),
    )) : [el("li", { class: "hint" }, "本服务暂未开通微信提醒")]));
    return subs;
  }

  async function subscribe(kinds, msg) {
    const current = subs || await loadSubs();
    if (!current) return say(msg, "暂时无法开启微信提醒");
    // wx.requestSubscribeMessage asks for three templates at most.
    const ids = current.templates.filter((t) => kinds.includes(t.kind)).map((t) => t.template_id).slice(0, 3);
    if (!ids.length) return say(msg, "本服务暂未开通微信提醒");
    const results = Object.fromEntries(ids.map((id) => [id, "accept"]));
    const r = await call("POST", "/api/v1/me/subscriptions", { token: tok(), body: { app: current.app, results } });
    if (!r.ok) return say(msg, Yj.errorText(r));
    say(msg, "已开启微信提醒：" + ids.length + " 项", true);
    loadSubs();
  }

  // A short question at a natural moment (after applying, after endorsing).
  function offerSubs(box, question, kinds) {
    const msg = el("div", { class: "msg", role: "status", "aria-live": "polite" });
    const close = () => box.replaceChildren();
    box.replaceChildren(el("p", { class: "hint" }, question + "（用于签注、到期等办事提醒，不作他用）"),
      el("button", { class: "secondary", onclick: () => subscribe(kinds, msg) }, "接收提醒"),
      el("button", { class: "secondary", onclick: close }, "暂不"), msg);
  }

  async function botCode() {
    const r = await call("POST", "/api/v1/me/bot-binding-code", { token: tok(), body: {} });
    if (!r.ok) { $("#bot-code").textContent = Yj.errorText(r); return; }
    $("#bot-code").textContent = "绑定码：" + r.data.code + "（" + Yj.time(r.data.expires_at) + " 前有效）";
  }

  async function logout() {
    await call("POST", "/api/v1/auth/logout", { token: tok(), body: {} });
    Yj.setToken(KIND, null);
    location.reload();
  }

  const loaders = { "tab-me": loadMe, "tab-apply": loadApplications, "tab-permit": loadPermit, "tab-grants": loadGrants, "tab-log": loadLog, "tab-settings": () => { loadMe(); loadSubs(); } };
  const show = Yj.tabs((id) => loaders[id] && loaders[id]());

  function start() {
    $("#login-card").classList.add("hidden");
    $("#app").classList.remove("hidden");
    show("tab-me");
  }

  $("#login-btn").addEventListener("click", login);
  $("#bind-btn").addEventListener("click", bind);
  $("#face-skip-btn").addEventListener("click", bindWithoutFace);
  $("#apply-btn").addEventListener("click", apply);
  $("#reveal-btn").addEventListener("click", reveal);
  $("#endorse-btn").addEventListener("click", endorse);
  $("#order-btn").addEventListener("click", orderCard);
  $("#move-btn").addEventListener("click", changeAddress);
  $("#check-btn").addEventListener("click", checkLog);
  $("#settings-btn").addEventListener("click", saveSettings);
  $("#logout-btn").addEventListener("click", logout);
  $("#bot-code-btn").addEventListener("click", botCode);
  $("#subs-btn").addEventListener("click", () => subscribe(["endorsement_due", "expiry", "authorization_request"], $("#subs-msg")));
  Yj.ready.then(() => { if (tok()) start(); });
})();
