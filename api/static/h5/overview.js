// Staff H5, the 概览 tab: GET /api/v1/staff/dashboard drawn with uPlot (vendored, served from
// /h5/vendor/). Every chart is a <figure> with a caption, a text summary for screen readers
// (the canvas itself is hidden from them) and its numbers as a table under <details>.
"use strict";
(() => {
  const { $, el, call, say } = Yj;
  const tok = () => Yj.token("staff");
  const COLORS = { green: "#1a7f37", amber: "#a15c00", red: "#d0312d", blue: "#0b5fd8", grey: "#5c6370", purple: "#7b3fb5" };
  const charts = [];

  // "2026-12-01" → "12/1"
  const shortDate = (d) => String(Number(d.slice(5, 7))) + "/" + String(Number(d.slice(8, 10)));
  const pct = (v) => (v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%");
  const duration = (seconds) => {
    if (seconds === null || seconds === undefined) return "—";
    const h = Math.floor(seconds / 3600);
    if (h >= 48) return Math.floor(h / 24) + " 天 " + (h % 24) + " 小时";
    if (h >= 1) return h + " 小时 " + Math.floor((seconds % 3600) / 60) + " 分钟";
    return Math.max(1, Math.floor(seconds / 60)) + " 分钟";
  };

  // A figure: caption, summary, the chart's box and its data table.
  function figure(id, caption, summary, columns, rows) {
    const table = el("table", { class: "data" },
      el("caption", {}, caption + "（数据表）"),
      el("thead", {}, el("tr", {}, ...columns.map((c) => el("th", { scope: "col" }, c)))),
      el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((v, i) => (i === 0 ? el("th", { scope: "row" }, v) : el("td", {}, v)))))));
    const box = el("div", { class: "chart", id: id + "-chart", "aria-hidden": "true" });
    return el("figure", { class: "card chart-card", id, "aria-labelledby": id + "-cap", "aria-describedby": id + "-sum" },
      el("figcaption", { id: id + "-cap" }, caption),
      el("p", { class: "hint", id: id + "-sum" }, summary),
      box,
      el("details", {}, el("summary", {}, "查看数据表"), table));
  }

  // A chart of one value per day (x = the day's index), lines or bars.
  function plot(box, labels, series, opts = {}) {
    const width = Math.max(280, box.clientWidth || box.parentElement.clientWidth - 28);
    const x = labels.map((_, i) => i);
    const bars = opts.bars && uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 40] }) : null;
    const u = new uPlot({
      width, height: 200,
      legend: { show: true },
      cursor: { show: true, drag: { x: false, y: false } },
      scales: { x: { time: false, range: [-0.5, Math.max(0.5, labels.length - 0.5)] }, y: { range: opts.range || ((_u, _min, max) => [0, Math.max(1, max)]) } },
      axes: [
        { values: (_u, splits) => splits.map((i) => (Number.isInteger(i) && labels[i] !== undefined ? labels[i] : "")), stroke: COLORS.grey, grid: { show: false } },
        { values: opts.yValues || ((_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : ""))), stroke: COLORS.grey, size: 48 },
      ],
      series: [{ label: opts.xLabel || "日期", value: (_u, i) => (i === null || labels[i] === undefined ? "" : labels[i]) },
        ...series.map((s) => ({ label: s.label, stroke: s.color, fill: bars ? s.color + "99" : undefined, width: 2,
          points: { show: labels.length <= 14 }, paths: bars || undefined, value: opts.format ? (_u, v) => opts.format(v) : undefined }))],
    }, [x, ...series.map((s) => s.values)], box);
    charts.push(u);
  }

  async function load() {
    const days = $("#ov-days").value;
    const r = await call("GET", "/api/v1/staff/dashboard?days=" + encodeURIComponent(days), { token: tok() });
    if (!r.ok) return say($("#ov-msg"), Yj.errorText(r));
    $("#ov-msg").textContent = "";
    $("#ov-msg").className = "msg";
    draw(r.data);
  }

  function draw(d) {
    charts.splice(0).forEach((u) => u.destroy());
    const days = d.days;
    const dates = days.map((x) => shortDate(x.date));
    const t = d.totals;
    const q = d.review_queue;
    $("#ov-summary").replaceChildren(...[
      ["统计期间", d.from + " 至 " + d.to],
      ["申请总数", String(t.applications.issued_at_once + t.applications.needs_materials + t.applications.rejected)],
      ["即时办结率", pct(t.issued_at_once_share)],
      ["待审核", q.length + " 件，最久已等待 " + duration(q.oldest_age_seconds)],
      ["待补充材料", q.awaiting_materials + " 件"],
      ["用证部门核验", t.agency_verifications + " 次"],
    ].flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));

    const apps = [
      { label: "即时办结", color: COLORS.green, values: days.map((x) => x.applications.issued_at_once) },
      { label: "需补充材料", color: COLORS.amber, values: days.map((x) => x.applications.needs_materials) },
      { label: "不予办理", color: COLORS.red, values: days.map((x) => x.applications.rejected) },
    ];
    const share = days.map((x) => (x.issued_at_once_share === null ? null : Math.round(x.issued_at_once_share * 1000) / 10));
    const notices = [
      { label: "订阅消息", color: COLORS.blue, values: days.map((x) => x.notices.subscribe) },
      { label: "客服消息", color: COLORS.green, values: days.map((x) => x.notices.wechat) },
      { label: "电子邮件", color: COLORS.purple, values: days.map((x) => x.notices.email) },
      { label: "未送达", color: COLORS.red, values: days.map((x) => x.notices.not_delivered) },
    ];
    const verifications = [{ label: "核验次数", color: COLORS.blue, values: days.map((x) => x.agency_verifications) }];
    const decisions = [
      { label: "审核通过", color: COLORS.green, values: days.map((x) => x.decisions.approved) },
      { label: "审核不通过", color: COLORS.red, values: days.map((x) => x.decisions.rejected) },
    ];
    const ages = q.by_age.map((g) => ({ "0": "不足 1 天", "1": "1 天", "2-4": "2–4 天", "5+": "5 天及以上" }[g.days] || g.days + " 天"));
    const sum = (vs) => vs.reduce((a, b) => a + (b || 0), 0);
    const perDay = (series) => days.map((x, i) => [x.date, ...series.map((s) => String(s.values[i] === null ? "—" : s.values[i]))]);

    const figures = [
      ["ov-apps", "每日申请数（按受理结果）",
        "共 " + apps.map((s) => s.label + " " + sum(s.values) + " 件").join("，") + "。",
        ["日期", ...apps.map((s) => s.label)], perDay(apps), (box) => plot(box, dates, apps, { bars: false })],
      ["ov-share", "即时办结率（当日申请中无需补充材料即发证的比例）",
        "期间即时办结率 " + pct(t.issued_at_once_share) + "；没有申请的日子不计。",
        ["日期", "即时办结率"], days.map((x) => [x.date, pct(x.issued_at_once_share)]),
        (box) => plot(box, dates, [{ label: "即时办结率", color: COLORS.green, values: share }],
          { range: [0, 100], format: (v) => (v === null ? "—" : v + "%"), yValues: (_u, s) => s.map((v) => v + "%") })],
      ["ov-queue", "审核队列等待时长",
        "当前待审核 " + q.length + " 件，最久已等待 " + duration(q.oldest_age_seconds) + "。",
        ["等待时长", "件数"], q.by_age.map((g, i) => [ages[i], String(g.count)]),
        (box) => plot(box, ages, [{ label: "件数", color: COLORS.amber, values: q.by_age.map((g) => g.count) }], { bars: true, xLabel: "等待时长" })],
      ["ov-decisions", "每日审核决定",
        "共通过 " + t.decisions.approved + " 件，不通过 " + t.decisions.rejected + " 件。",
        ["日期", ...decisions.map((s) => s.label)], perDay(decisions), (box) => plot(box, dates, decisions)],
      ["ov-notices", "每日提醒与通知送达（按渠道）",
        "共 " + notices.map((s) => s.label + " " + sum(s.values) + " 条").join("，") + "。",
        ["日期", ...notices.map((s) => s.label)], perDay(notices), (box) => plot(box, dates, notices)],
      ["ov-verify", "每日用证部门核验次数",
        "共 " + t.agency_verifications + " 次。",
        ["日期", "核验次数"], perDay(verifications), (box) => plot(box, dates, verifications, { bars: true })],
    ];
    $("#ov-charts").replaceChildren(...figures.map(([id, caption, summary, columns, rows]) => figure(id, caption, summary, columns, rows)));
    // Drawn once in the document, so each box knows its width.
    figures.forEach(([id, , , , , draw]) => draw($("#" + id + "-chart")));
  }

  $("#ov-days").addEventListener("change", load);
  document.addEventListener("yj:tab", (e) => { if (e.detail === "tab-overview") load(); });
})();
