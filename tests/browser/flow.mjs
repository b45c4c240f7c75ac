// The whole product in a real browser (Debian's Chromium through playwright-core), at a phone's
// width: a resident logs in, applies (accepting WeChat reminders) and sees the permit and
// code, orders a card and sees a replacement's payment notice; an agency verifies that code
// and asks for access; the resident approves; the agency downloads the copy; the resident
// revokes; staff see the queue, the agencies and the overview's charts. Also: the tabs by keyboard, a double click that files once, and 长辈模式. Screenshots go to the artifact directory. Fails on any console error.
//
// usage: node flow.mjs BASE_URL ARTIFACT_DIR
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [base, artifacts] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const problems = [];
const viewport = { width: 375, height: 812 };

async function open(path) {
  const context = await browser.newContext({ viewport, locale: "zh-CN" });
  const page = await context.newPage();
  // The one refusal the flow provokes on purpose (a move to another city, 422) is not a problem.
  const expected = (m) => m.text().includes("status of 422") && (m.location().url || "").endsWith("/api/v1/me/permit/address-change");
  page.on("console", (m) => { if (m.type() === "error" && !expected(m)) problems.push(path + ": " + m.text() + " " + (m.location().url || "")); });
  page.on("pageerror", (e) => problems.push(path + ": " + e.message));
  await page.goto(base + path);
  return page;
}
const shot = (page, name) => page.screenshot({ path: join(artifacts, name + ".png"), fullPage: true });
const step = (name) => console.log("step: " + name);

try {
  step("resident logs in and applies");
  const yss = await open("/h5/yss.html");
  await yss.getByLabel("演示登录码（dev:后面的部分）").fill("demo-chen");
  await yss.getByRole("button", { name: "登录" }).click();
  await yss.getByText("已登录：陈*强").waitFor();

  step("the tabs follow the WAI-ARIA tabs pattern, by keyboard too");
  const selected = async (name) => {
    const tab = yss.getByRole("tab", { name, exact: true });
    if ((await tab.getAttribute("aria-selected")) !== "true") throw new Error(name + " is not the selected tab");
    if ((await tab.getAttribute("tabindex")) !== "0") throw new Error(name + " is not in the Tab order");
    if (!(await tab.evaluate((t) => t === document.activeElement))) throw new Error(name + " does not have focus");
    await yss.getByRole("tabpanel", { name }).waitFor();
  };
  await yss.getByRole("tab", { name: "我的" }).focus();
  await yss.keyboard.press("ArrowRight");
  await selected("申领");
  await yss.keyboard.press("End");
  await selected("设置");
  await yss.keyboard.press("ArrowRight");
  await selected("我的");
  await yss.keyboard.press("ArrowLeft");
  await selected("设置");
  await yss.keyboard.press("Home");
  await selected("我的");
  if ((await yss.getByRole("tab").evaluateAll((ts) => ts.filter((t) => t.tabIndex === 0).length)) !== 1)
    throw new Error("more than one tab in the Tab order");

  await yss.getByRole("tab", { name: "申领" }).click();
  await yss.locator("#tab-apply").getByLabel("居住城市", { exact: true }).fill("广州市");
  await yss.locator("#tab-apply").getByLabel("区县", { exact: true }).fill("天河区");
  await yss.locator("#tab-apply").getByLabel("详细地址", { exact: true }).fill("天河路385号501房");
  await yss.locator("#tab-apply").getByLabel("开始居住日期", { exact: true }).fill("2024-01-15");
  await yss.locator("#tab-apply").getByLabel("申领条件", { exact: true }).selectOption("employment");
  await yss.getByRole("button", { name: "提交申请" }).click();
  await yss.getByText(/电子居住证已签发/).waitFor();
  await shot(yss, "01-applied");

  step("resident accepts WeChat reminders when asked, and sees them in the settings");
  await yss.getByRole("button", { name: "接收提醒", exact: true }).click();
  await yss.locator("#apply-subs").getByText(/已开启微信提醒/).waitFor();
  await yss.getByRole("tab", { name: "设置" }).click();
  await yss.locator("#subs").getByText("签注提醒").waitFor();
  await yss.locator("#subs").getByText("还可接收 1 条").first().waitFor();
  await shot(yss, "01b-reminders");

  step("resident sees the permit");
  await yss.getByRole("tab", { name: "电子证" }).click();
  await yss.locator("#permit-fields").getByText("4405**********1234").waitFor();
  await yss.waitForFunction(() => document.querySelector("#card-img").naturalWidth > 0);
  await yss.getByRole("button", { name: "显示完整证件号码" }).click();
  await yss.locator("#permit-fields").getByText("440511199003071234").waitFor();
  await shot(yss, "02-permit");

  step("resident orders a card; a replacement shows its payment notice");
  await yss.getByLabel("领证地点").fill("天河区石牌街派出所");
  await yss.getByRole("button", { name: "申领实体证件" }).click();
  await yss.getByText("已申领，首次申领免费").waitFor();
  // Staff hand the free card over (through the API), so the next one is a replacement with a fee.
  const api = async (method, path, body, token) => {
    const headers = { "content-type": "application/json" };
    if (token) headers.authorization = "Bearer " + token;
    const r = await fetch(base + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const json = await r.json();
    if (!r.ok) throw new Error(method + " " + path + ": " + JSON.stringify(json));
    return json;
  };
  const reviewer = (await api("POST", "/api/v1/staff/login", { username: "demo-reviewer", password: "demo-reviewer-pass" })).access_token;
  const chen = await yss.evaluate(() => sessionStorage.getItem("yueju.yss.token"));
  const first = await api("GET", "/api/v1/me/physical-card", null, chen);
  for (const status of ["produced", "ready", "collected"])
    await api("POST", "/api/v1/staff/card-orders/" + first.id + "/status", { status }, reviewer);
  await yss.getByRole("button", { name: "申领实体证件" }).click();
  await yss.getByText("已申领，请按缴款书缴纳工本费 20.00 元").waitFor();
  const notice = yss.getByRole("group", { name: "缴款书" });
  await notice.getByText(/^DEV[0-9A-F]{16}$/).waitFor();
  await notice.getByText("20.00 元").waitFor();
  const link = notice.getByRole("link", { name: "前往非税支付平台缴费" });
  if (!(await link.getAttribute("href")).startsWith("https://")) throw new Error("no address to pay at");
  await shot(yss, "02b-card-payment");

  step("resident shows the code");
  const yjm = await open("/h5/yjm.html");
  await yjm.getByLabel("演示登录码（dev:后面的部分）").fill("demo-chen");
  await yjm.getByRole("button", { name: "登录" }).click();
  await yjm.locator("#qr svg").waitFor();
  await yjm.getByText(/秒后自动更新/).waitFor();
  const code = await yjm.locator("#token").inputValue();
  if (!code.startsWith("YJ2")) throw new Error("no code shown: " + code);
  await shot(yjm, "03-code");

  step("agency verifies and asks for access");
  const agency = await open("/h5/agency.html");
  await agency.getByLabel("客户端标识").fill("demo-agency");
  await agency.getByLabel("客户端密钥").fill("demo-agency-secret");
  await agency.getByRole("button", { name: "登录" }).click();
  await agency.getByLabel("粤居码或居住年限证明码（粘贴码文本，或扫码）").fill(code);
  await agency.getByRole("button", { name: "核验", exact: true }).click();
  await agency.getByText("核验通过：居住证真实有效").waitFor();
  await agency.getByLabel("用途").fill("办理社会保障卡");
  // A double click files one request: the button is disabled while it runs, and the form's
  // Idempotency-Key is the same for the same form.
  await agency.getByRole("button", { name: "发送授权请求" }).dblclick();
  await agency.getByText(/已发送，等待持证人/).waitFor();
  await shot(agency, "04-requested");

  step("resident approves");
  await yss.getByRole("tab", { name: "授权" }).click();
  await yss.getByText("办理社会保障卡").first().waitFor();
  await yss.getByLabel("授权说明").first().waitFor();
  const asked = await yss.getByRole("button", { name: "同意" }).count();
  if (asked !== 1) throw new Error("a double click filed " + asked + " requests");
  await yss.getByRole("button", { name: "同意" }).click();
  await yss.getByText("已同意授权").waitFor();
  await shot(yss, "05-approved");

  step("agency downloads the annotated copy");
  await agency.getByRole("button", { name: "查看加注件" }).waitFor({ timeout: 15000 });
  await agency.getByRole("button", { name: "查看加注件" }).click();
  await agency.waitForFunction(() => document.querySelector("#copy-img").naturalWidth > 0);
  await agency.getByText("已下载加注件").waitFor();
  await shot(agency, "06-copy");

  step("resident revokes; the agency sees it");
  await yss.getByRole("tab", { name: "授权" }).click();
  await yss.getByRole("button", { name: "撤回授权" }).click();
  await yss.getByText("已撤回授权，该部门不能再下载").waitFor();
  await agency.locator("#requests").getByText("已撤回").waitFor({ timeout: 15000 });
  await shot(agency, "07-revoked");

  step("the access log lists it all and checks");
  await yss.getByRole("tab", { name: "查询记录" }).click();
  await yss.locator("#access-log").getByText("撤回授权").waitFor();
  await yss.getByRole("button", { name: "校验记录完整性" }).click();
  await yss.locator("#log-msg").getByText(/记录完整（共/).waitFor();
  await shot(yss, "08-access-log");

  step("resident sees the residence years and makes a proof; the agency checks it");
  await yss.getByRole("tab", { name: "居住年限" }).click();
  await yss.locator("#years-continuous").getByText("广州市").waitFor();
  await yss.locator("#proof-city").fill("广州市");
  await yss.locator("#proof-years").fill("1");
  await yss.getByRole("button", { name: "开具证明" }).click();
  await yss.locator("#proof-qr svg").waitFor();
  await yss.getByText(/已在广州市连续居住满 1 年/).waitFor();
  const proof = await yss.locator("#proof-token").inputValue();
  if (!proof.startsWith("YJRP1.")) throw new Error("no proof token shown: " + proof);
  await shot(yss, "08b-residence-years");
  await agency.locator("#code").fill(proof);
  await agency.getByRole("button", { name: "核验", exact: true }).click();
  await agency.getByText(/证明真实有效/).waitFor();
  await shot(agency, "08c-proof-checked");

  step("resident changes the address within the city; another city leads to a new application");
  await yss.getByRole("tab", { name: "电子证" }).click();
  // The server's today is China's (UTC+8).
  const chinaToday = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
  await yss.locator("#mv-district").fill("海珠区");
  await yss.locator("#mv-address").fill("新港中路397号");
  await yss.locator("#mv-since").fill(chinaToday);
  await yss.getByRole("button", { name: "提交地址变更" }).click();
  await yss.locator("#move-msg").getByText(/地址已变更/).waitFor();
  await yss.locator("#mv-city").fill("佛山市");
  await yss.locator("#mv-district").fill("禅城区");
  await yss.getByRole("button", { name: "提交地址变更" }).click();
  await yss.locator("#apply-msg").getByText(/已为您填好新城市的申请/).waitFor();
  await shot(yss, "08d-address-change");

  step("staff see the queue and the registered agencies");
  const staff = await open("/h5/staff.html");
  await staff.getByLabel("用户名").fill("demo-admin");
  await staff.getByLabel("密码").fill("demo-admin-pass");
  await staff.getByRole("button", { name: "登录" }).click();
  await staff.getByRole("heading", { name: "待审核的申请" }).waitFor();
  await staff.getByRole("tab", { name: "用证部门" }).click();
  await staff.locator("#agencies").getByText("广州市天河区人力资源和社会保障局（演示）").waitFor();
  await shot(staff, "09-staff");

  step("staff see the overview drawn as charts, each with its caption and data table");
  await staff.getByRole("tab", { name: "概览" }).click();
  const appsChart = staff.getByRole("figure", { name: "每日申请数（按受理结果）" });
  await appsChart.locator("canvas").first().waitFor();
  if ((await staff.getByRole("figure").count()) < 6) throw new Error("fewer than six charts in 概览");
  for (const canvas of await staff.locator("#ov-charts canvas").all()) {
    if (!((await canvas.evaluate((c) => c.width)) > 0)) throw new Error("a chart's canvas was not sized");
  }
  // Today's row: the application filed in this flow, issued at once.
  const todayIssued = await appsChart.locator("table.data tbody tr").last().locator("td").first().textContent();
  if (!(Number(todayIssued) >= 1)) throw new Error("today's applications issued at once: " + todayIssued);
  // The series is drawn: pixels of its colour (#1a7f37) on the canvas, not just the axes.
  const seriesPixels = await appsChart.locator("canvas").first().evaluate((c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4)
      if (Math.abs(d[i] - 0x1a) < 40 && Math.abs(d[i + 1] - 0x7f) < 40 && Math.abs(d[i + 2] - 0x37) < 40 && d[i + 3] > 150) n++;
    return n;
  });
  if (seriesPixels < 10) throw new Error("the applications chart drew no series (" + seriesPixels + " pixels)");
  // The agency's verification earlier in this flow, in the table under its chart.
  const verifyChart = staff.getByRole("figure", { name: "每日用证部门核验次数" });
  await verifyChart.getByText("查看数据表").click();
  const verified = (await verifyChart.locator("table.data tbody td").allTextContents()).reduce((a, b) => a + Number(b), 0);
  if (!(verified >= 1)) throw new Error("no agency verification in the overview: " + verified);
  await staff.locator("#ov-summary").getByText("待审核", { exact: true }).waitFor();
  await shot(staff, "12-overview");

  step("长辈模式: large type and high contrast, kept after a reload");
  const elder = await open("/h5/yjm.html");
  const toggle = elder.getByRole("button", { name: "长辈模式" });
  if ((await toggle.getAttribute("aria-pressed")) !== "false") throw new Error("elder mode on by default");
  const fontSize = () => elder.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
  const before = await fontSize();
  await toggle.click();
  if ((await toggle.getAttribute("aria-pressed")) !== "true") throw new Error("the toggle is not pressed");
  if (!((await fontSize()) >= 20 && (await fontSize()) > before)) throw new Error("elder mode did not enlarge the type");
  await elder.reload();
  await elder.locator("html.elder").waitFor({ state: "attached" });
  if ((await elder.getByRole("button", { name: "长辈模式" }).getAttribute("aria-pressed")) !== "true")
    throw new Error("elder mode was not kept");
  await shot(elder, "11-elder");
  await elder.getByRole("button", { name: "长辈模式" }).click();
  if ((await fontSize()) !== before) throw new Error("elder mode did not turn off");

  step("the API docs render offline");
  const docs = await open("/api/v1/docs");
  await docs.getByRole("heading", { name: "申领" }).waitFor();
  await docs.getByText("POST /api/v1/verify", { exact: true }).waitFor();
  await shot(docs, "10-docs");

  if (problems.length) throw new Error("console errors:\n" + problems.join("\n"));
  console.log("browser flow passed");
} finally {
  await browser.close();
}
