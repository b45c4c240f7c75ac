// 粤省事 H5: residence years (居住年限) and the proofs of them, on the tab-years panel.
"use strict";
(() => {
  const { $, el, call, say } = Yj;
  const tok = () => Yj.token("yss");

  const day = (d) => (d ? d.replace(/^(\d{4})-(\d{2})-(\d{2})$/, "$1年$2月$3日") : "至今");

  async function load() {
    const asOf = $("#years-as-of").value;
    const r = await call("GET", "/api/v1/me/residence-years" + (asOf ? "?as_of=" + asOf : ""), { token: tok() });
    if (!r.ok) return say($("#years-msg"), Yj.errorText(r));
    say($("#years-msg"), "");
    const counts = r.data.continuous;
    $("#years-continuous").replaceChildren(
      ...(counts.length
        ? counts.map((c) => el("li", {}, el("strong", {}, c.city), "：自 " + day(c.since) + " 起连续居住满 ", el("strong", {}, String(c.years)), " 年"))
        : [el("li", { class: "hint" }, "截至" + day(r.data.as_of) + "，没有正在连续计算的居住年限。")]),
    );
    $("#years-periods").replaceChildren(
      ...r.data.periods.map((p) => el("li", {},
        p.city + "：" + day(p.from) + " 至 " + day(p.to),
        p.ended_by ? el("span", { class: "badge " + p.ended_by }, Yj.label("residence_ended_by", p.ended_by)) : null)),
    );
  }

  async function prove() {
    const body = {
      city: $("#proof-city").value.trim(),
      min_years: Number($("#proof-years").value),
    };
    if ($("#proof-as-of").value) body.as_of = $("#proof-as-of").value;
    const r = await call("POST", "/api/v1/me/residence-proofs", { token: tok(), body });
    if (!r.ok) return say($("#proof-msg"), Yj.errorText(r));
    const s = r.data.statement;
    say($("#proof-msg"), "证明已开具，" + day(s.expires_at.slice(0, 10)) + "前有效。", true);
    $("#proof-answer").textContent = "截至" + day(s.as_of) + "，" + s.name + (s.holds ? " 已" : " 未") + "在" + s.city + "连续居住满 " + s.min_years + " 年。";
    $("#proof-qr").innerHTML = r.data.qr_svg;
    $("#proof-token").value = r.data.token;
    $("#proof-view").classList.remove("hidden");
  }

  document.addEventListener("yj:tab", (e) => { if (e.detail === "tab-years") load(); });
  $("#years-btn").addEventListener("click", load);
  $("#proof-btn").addEventListener("click", prove);
})();
