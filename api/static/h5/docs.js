// Renders /api/v1/openapi.json as a readable page, offline (no CDN, no framework).
"use strict";
(async () => {
  const { el } = Yj;
  const root = document.querySelector("#docs");
  const r = await Yj.call("GET", "/api/v1/openapi.json");
  if (!r.ok) { root.textContent = Yj.errorText(r); return; }
  const spec = r.data;
  const schemaText = (schema) => JSON.stringify(schema, null, 2);
  const byTag = new Map();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags || ["其他"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push({ path, method, op });
    }
  }
  root.append(el("p", { class: "hint" }, spec.info.description), el("p", {}, el("a", { href: "/api/v1/openapi.json" }, "下载 openapi.json")));
  for (const [tag, ops] of byTag) {
    const section = el("section", { class: "card" }, el("h2", {}, tag));
    for (const { path, method, op } of ops) {
      const details = el("details", {},
        el("summary", {}, el("code", {}, method.toUpperCase() + " " + path), " ", op.summary,
          op.security ? el("span", { class: "badge" }, Object.keys(op.security[0])[0]) : null));
      const params = (op.parameters || []).map((p) => p.name + "（" + p.in + "）").join("、");
      if (params) details.append(el("p", { class: "hint" }, "参数：" + params));
      if (op.requestBody) {
        const [media, body] = Object.entries(op.requestBody.content)[0];
        details.append(el("p", { class: "hint" }, "请求体（" + media + "）："), el("pre", { class: "mono" }, schemaText(body.schema)));
      }
      for (const [status, res] of Object.entries(op.responses)) {
        if (status >= 400) continue;
        const schema = res.content && res.content["application/json"] && res.content["application/json"].schema;
        details.append(el("p", { class: "hint" }, "成功 " + status), schema ? el("pre", { class: "mono" }, schemaText(schema)) : null);
      }
      section.append(details);
    }
    root.append(section);
  }
  const schemas = el("section", { class: "card" }, el("h2", {}, "数据结构"));
  for (const [name, schema] of Object.entries(spec.components.schemas)) {
    schemas.append(el("details", { id: "schema-" + name }, el("summary", {}, el("code", {}, name)), el("pre", { class: "mono" }, schemaText(schema))));
  }
  root.append(schemas);
})();
