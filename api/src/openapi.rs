//! The whole HTTP contract as OpenAPI 3.1 (`GET /api/v1/openapi.json`), written next to the
//! routes. Schemas are JSON Schema 2020-12, so tests validate real answers against them, and
//! a test compares the paths here with the routes the server registers: the spec cannot drift.
//! Objects allow fields beyond those listed: the contract grows by adding fields.

use serde_json::{Map, Value, json};
use service::verify::verification::VerifyReason;

fn s(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn string() -> Value {
    json!({"type": "string"})
}

/// Text the server requires to say something: not empty, not only spaces.
fn text() -> Value {
    json!({"type": "string", "minLength": 1, "pattern": "\\S"})
}

/// A citizen ID number (GB 11643): 17 digits and a check character, blanks around it
/// ignored; the checksum itself is the server's to check (422).
fn id_number() -> Value {
    json!({"type": "string", "pattern": "^\\s*[0-9]{17}[0-9Xx]\\s*$"})
}

/// A unified social credit code (GB 32100) as the server parses it: 18 characters of its
/// alphabet, either case, blanks around it ignored; the check character is the server's.
fn credit_code() -> Value {
    json!({"type": "string", "pattern": "^\\s*[0-9A-HJ-NP-RTUWXYa-hj-np-rtuwxy]{18}\\s*$"})
}

/// A city of Guangdong, by full or short name (广州市 or 广州).
fn city() -> Value {
    let cities = service::domain::divisions::cities();
    let names: Vec<&str> = cities
        .iter()
        .map(|c| c.name)
        .chain(cities.iter().map(|c| c.short_name()))
        .collect();
    json!({"type": "string", "enum": names})
}

/// A page size (any u64): 0 is taken as 1, values above the operation's maximum page as
/// that maximum.
fn page_limit() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": u64::MAX})
}

/// Records of a government-data import: objects of text fields, each record checked by the
/// server (the answer's `errors` names those it refused).
fn records(fields: &[&str]) -> Value {
    let props: Map<String, Value> = fields
        .iter()
        .map(|f| ((*f).to_owned(), nullable("string")))
        .collect();
    json!({"type": "array", "items": {"type": "object", "properties": props}})
}

/// A count of days in a body: `7` or `7.0`, up to what a float holds exactly (2^53 - 1); the
/// range a rule allows is the server's to check (422).
fn whole() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": 9_007_199_254_740_991_u64})
}

/// A date that may be left out or null (meaning today).
fn nullable_date() -> Value {
    json!({"oneOf": [{"type": "string", "format": "date"}, {"type": "null"}]})
}

fn nullable(t: &str) -> Value {
    json!({"type": [t, "null"]})
}

fn obj(required: &[&str], props: Value) -> Value {
    json!({"type": "object", "required": required, "properties": props})
}

fn page(item: &str) -> Value {
    obj(
        &["items", "next_cursor"],
        json!({"items": {"type": "array", "items": s(item)}, "next_cursor": nullable("string")}),
    )
}

fn content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

/// An operation: summary (Chinese for the front-end teams), who may call it, the request body,
/// and the success status with its schema; errors share one shape.
struct Op {
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    auth: Option<&'static str>,
    body: Option<Value>,
    params: Vec<Value>,
    ok: (u16, Option<Value>),
    /// Other media types the success answer may come in (`?format=png`).
    ok_media: Vec<&'static str>,
    errors: &'static [u16],
}

fn path_param(name: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
}

fn query_param(name: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema})
}

fn op(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    auth: Option<&'static str>,
    ok: (u16, Option<Value>),
) -> Op {
    let params = path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|x| x.strip_suffix('}')))
        .map(path_param)
        .collect();
    Op {
        method,
        path,
        tag,
        summary,
        auth,
        body: None,
        params,
        ok,
        ok_media: Vec::new(),
        errors: &[400, 401, 403, 404, 422],
    }
}

impl Op {
    fn body(mut self, schema: Value) -> Op {
        self.body = Some(json!({"required": true, "content": content(schema)}));
        self
    }
    fn raw_body(mut self, media: &str, schema: Value) -> Op {
        self.body = Some(json!({"required": true, "content": {media: {"schema": schema}}}));
        self
    }
    /// The body may be left out (the operation then answers as for an empty one).
    fn body_optional(mut self) -> Op {
        if let Some(body) = self.body.as_mut() {
            body["required"] = json!(false);
        }
        self
    }
    /// Narrows a path parameter to the values the server takes.
    fn path_enum(mut self, name: &str, values: &[&str]) -> Op {
        for p in self
            .params
            .iter_mut()
            .filter(|p| p["name"] == name && p["in"] == "path")
        {
            p["schema"] = json!({"enum": values});
        }
        self
    }
    /// Narrows a path parameter to a pattern (ids the server parses).
    fn path_pattern(mut self, name: &str, pattern: &str) -> Op {
        for p in self
            .params
            .iter_mut()
            .filter(|p| p["name"] == name && p["in"] == "path")
        {
            p["schema"] = json!({"type": "string", "pattern": pattern});
        }
        self
    }
    fn query(mut self, name: &str, schema: Value) -> Op {
        self.params.push(query_param(name, schema));
        self
    }
    fn ok_also_as(mut self, media: &'static str) -> Op {
        self.ok_media.push(media);
        self
    }
    fn header(mut self, name: &str) -> Op {
        self.params.push(
            json!({"name": name, "in": "header", "required": false, "schema": {"type": "string"}}),
        );
        self
    }
}

/// Operations that wait on the WeChat platform and answer 503 when it is away.
const CALLS_THE_PLATFORM: [&str; 3] = [
    "/api/v1/auth/miniprogram/login",
    "/api/v1/me/identity",
    "/api/v1/me/identity/face-verification",
];

/// The methods the contract lists for a concrete request path (`/api/v1/applications/3f…`),
/// or None when no path of the contract matches it.
pub fn allowed_methods(path: &str) -> Option<Vec<&'static str>> {
    let matches = |template: &str| {
        let (mut t, mut p) = (template.split('/'), path.split('/'));
        loop {
            match (t.next(), p.next()) {
                (None, None) => return true,
                (Some(ts), Some(ps)) if ts.starts_with('{') && !ps.is_empty() => {}
                (Some(ts), Some(ps)) if ts == ps => {}
                _ => return false,
            }
        }
    };
    // The (path, method) pairs of the contract, built once: unmatched requests come at any
    // rate and must not rebuild the whole spec each time.
    static ROUTES: std::sync::OnceLock<Vec<(&'static str, &'static str)>> =
        std::sync::OnceLock::new();
    let routes = ROUTES.get_or_init(|| ops().into_iter().map(|o| (o.path, o.method)).collect());
    let methods: Vec<&'static str> = routes
        .iter()
        .filter(|(p, _)| matches(p))
        .map(|(_, m)| *m)
        .collect();
    (!methods.is_empty()).then_some(methods)
}

const RESIDENT: Option<&str> = Some("resident");
const STAFF: Option<&str> = Some("staff");
const AGENCY: Option<&str> = Some("agency");

fn ops() -> Vec<Op> {
    let ok = |schema: &str| (200, Some(s(schema)));
    let created = |schema: &str| (201, Some(s(schema)));
    vec![
        op("get", "/healthz", "运维", "存活检查（纯文本 ok）", None, (200, None)),
        op("get", "/readyz", "运维", "就绪检查（含数据库）", None, (200, Some(obj(&["status"], json!({"status": string()}))))),
        op("get", "/api/v1/openapi.json", "运维", "本接口文档（OpenAPI 3.1）", None, (200, Some(json!({"type": "object"})))),
        op("get", "/api/v1/docs", "运维", "接口文档页面（离线可用）", None, (200, None)),
        op("get", "/api/v1/labels", "运维", "界面用语：各类状态、理由、信息项等取值的中文名称（可缓存，带 ETag）", None, ok("Labels")),
        op("post", "/oauth/token", "用证部门", "客户端凭据换取部门访问令牌（RFC 6749 §4.4）", None, ok("OAuthToken"))
            .raw_body("application/x-www-form-urlencoded", obj(&["grant_type"], json!({"grant_type": {"const": "client_credentials"}, "client_id": string(), "client_secret": string(), "scope": string()}))),
        op("post", "/api/v1/auth/miniprogram/login", "会话", "小程序登录（jscode2session；开发模式 dev:<openid>）", None, ok("TokenPair"))
            .body(obj(&["app", "code"], json!({"app": {"enum": ["yss", "yjm"]}, "code": text()}))),
        op("post", "/api/v1/auth/refresh", "会话", "刷新令牌轮换（重用将注销整个登录）", None, ok("TokenPair"))
            .body(obj(&["refresh_token"], json!({"refresh_token": text()}))),
        op("post", "/api/v1/auth/logout", "会话", "退出登录", RESIDENT, (204, None)),
        op("get", "/api/v1/me", "我的", "账号、实名状态、联系设置", RESIDENT, ok("Me")),
        op("patch", "/api/v1/me", "我的", "修改邮箱、提醒开关", RESIDENT, ok("Me"))
            .body(json!({"type": "object", "properties": {"email": nullable("string"), "reminders_enabled": {"type": "boolean"}}})),
        op("delete", "/api/v1/me", "我的", "注销账号（说明删除与保留的内容）", RESIDENT, ok("Closing")),
        op("get", "/api/v1/me/export", "我的", "导出本人全部数据", RESIDENT, (200, Some(json!({"type": "object"})))),
        op("post", "/api/v1/me/identity", "我的", "实名认证（人脸核身结果与户籍信息核对；仅开发环境可不带 verify_id）", RESIDENT, ok("IdentityBound"))
            .body(obj(&["name", "id_number"], json!({"name": text(), "id_number": id_number(), "verify_id": text()}))),
        op("post", "/api/v1/me/identity/face-verification", "我的", "发起人脸核身（获取 wx.requestFacialVerify 的 verify_id）", RESIDENT, created("FaceVerification"))
            .body(obj(&["name", "id_number"], json!({"name": text(), "id_number": id_number()}))),
        op("post", "/api/v1/me/bot-binding-code", "聊天机器人", "获取聊天绑定码", RESIDENT, created("BindingCode")),
        op("get", "/api/v1/me/subscriptions", "我的", "订阅消息（提醒）的订阅情况及可订阅的模板", RESIDENT, ok("Subscriptions")),
        op("post", "/api/v1/me/subscriptions", "我的", "记录 wx.requestSubscribeMessage 的结果（一次性订阅每次同意增加一次）", RESIDENT, ok("Subscriptions"))
            .body(obj(&["app", "results"], json!({"app": {"enum": ["yss", "yjm"]}, "results": {"type": "object", "additionalProperties": {"enum": ["accept", "reject", "ban", "filter"]}}}))),
        op("get", "/api/v1/wechat/miniprogram/{app}", "小程序消息推送", "小程序消息推送服务器地址校验", None, (200, None))
            .path_enum("app", &["yss", "yjm"])
            .query("signature", string()).query("timestamp", string()).query("nonce", string()).query("echostr", string()),
        op("post", "/api/v1/wechat/miniprogram/{app}", "小程序消息推送", "小程序消息推送（订阅消息弹窗、变更、发送结果事件，XML）", None, (200, None))
            .raw_body("text/xml", string())
            .path_enum("app", &["yss", "yjm"])
            .query("signature", string()).query("timestamp", string()).query("nonce", string()),
        op("get", "/api/v1/keys", "证照", "签发机关公钥（JWK）", None, ok("Keys")),
        op("post", "/api/v1/applications", "申领", "申领居住证（政务数据即时核验）", RESIDENT, created("Application"))
            .header("Idempotency-Key")
            .body(obj(&["city", "district", "address", "residence_since", "basis"], json!({"city": city(), "district": text(), "address": text(), "residence_since": {"type": "string", "format": "date"}, "basis": {"enum": ["employment", "residence", "study"]}, "email": string()}))),
        op("get", "/api/v1/applications", "申领", "我的申请", RESIDENT, (200, Some(page("Application"))))
            .query("limit", page_limit()).query("cursor", json!({"type": "string", "format": "uuid"})),
        op("get", "/api/v1/applications/{id}", "申领", "申请详情", RESIDENT, ok("Application")),
        op("post", "/api/v1/applications/{id}/materials", "申领", "上传材料（JPEG/PNG/PDF）", RESIDENT, created("Application"))
            .raw_body("multipart/form-data", obj(&["kind", "file"], json!({"kind": {"enum": ["residence_proof", "employment_proof", "housing_proof", "study_proof"]}, "file": {"type": "string", "contentMediaType": "application/octet-stream"}}))),
        op("get", "/api/v1/me/permit", "证照", "我的电子居住证（证件号码默认遮挡）", RESIDENT, ok("Permit"))
            .query("reveal", json!({"type": "boolean"})),
        op("get", "/api/v1/me/permit/document", "证照", "当前版本的签名证照数据", RESIDENT, ok("SignedDocument")),
        op("get", "/api/v1/me/permit/photo", "证照", "证照相片（仅本人）", RESIDENT, (200, None)),
        op("get", "/api/v1/me/permit/card.svg", "证照", "电子证卡面（SVG，含粤居码）", RESIDENT, (200, None)),
        op("post", "/api/v1/me/permit/endorsements", "证照", "年度签注或到期换领", RESIDENT, created("Endorsement")),
        op("post", "/api/v1/me/physical-card", "证照", "自愿申领实体证件", RESIDENT, created("CardOrder"))
            .body(obj(&["pickup_station"], json!({"pickup_station": text()}))),
        op("get", "/api/v1/me/physical-card", "证照", "实体证件进度", RESIDENT, ok("CardOrder")),
        op("get", "/api/v1/me/code", "粤居码", "粤居码（SVG；?format=png 返回 PNG）", RESIDENT, ok("Code"))
            .query("format", json!({"enum": ["svg", "png"]}))
            .ok_also_as("image/png"),
        op("post", "/api/v1/verify", "粤居码", "核验粤居码（任何人；部门令牌可见更多字段）", None, ok("Verdict"))
            // Any body at all: what is not a code is `valid: false, reason: MALFORMED`.
            .body(json!({"description": "{\"token\": \"YJ2…\"}；其他任何内容视为无效粤居码"}))
            .body_optional(),
        op("get", "/api/v1/status-lists/{list_id}", "粤居码", "证件状态清单（IETF Token Status List，JWT；离线核验用）", None, (200, None))
            .path_pattern("list_id", "^[0-9]{1,10}$")
            .ok_also_as("application/statuslist+jwt"),
        op("post", "/api/v1/agency/authorization-requests", "用证部门", "扫码后请求持证人授权", AGENCY, created("AgencyRequest"))
            .header("Idempotency-Key")
            .body(obj(&["token", "purpose", "days"], json!({"token": text(), "purpose": text(), "days": whole(), "fields": {"type": "array", "items": string()}, "retention_days": whole()}))),
        op("get", "/api/v1/agency/authorization-requests/{id}", "用证部门", "授权请求进度", AGENCY, ok("AgencyRequest")),
        op("get", "/api/v1/agency/authorizations/{id}/annotated-copy", "用证部门", "下载加注件（?format=svg 返回渲染件）", AGENCY, ok("SignedCopy"))
            .query("format", json!({"enum": ["json", "svg"]})),
        op("get", "/api/v1/me/authorization-requests", "授权", "待我决定的授权请求", RESIDENT, (200, Some(page("HolderRequest")))),
        op("post", "/api/v1/me/authorization-requests/{id}/approve", "授权", "同意授权（单独同意，记录同意书版本）", RESIDENT, created("Grant"))
            .body(json!({"type": "object", "properties": {"consent_version": string()}}))
            .body_optional(),
        op("post", "/api/v1/me/authorization-requests/{id}/deny", "授权", "拒绝授权", RESIDENT, ok("HolderRequest")),
        op("get", "/api/v1/me/authorizations", "授权", "我的授权", RESIDENT, (200, Some(page("Grant")))),
        op("delete", "/api/v1/me/authorizations/{id}", "授权", "撤回授权（立即停止下载）", RESIDENT, ok("Grant")),
        op("get", "/api/v1/me/access-log", "授权", "查询记录（哈希链）", RESIDENT, (200, Some(page("AccessLogEntry"))))
            .query("limit", page_limit()).query("cursor", json!({"type": "string", "pattern": "^[0-9]{0,18}$"})),
        op("get", "/api/v1/me/access-log/check", "授权", "校验查询记录哈希链", RESIDENT, ok("ChainCheck")),
        op("get", "/api/v1/bot/wechat", "聊天机器人", "公众号服务器地址校验", None, (200, None))
            .query("signature", string()).query("timestamp", string()).query("nonce", string()).query("echostr", string()),
        op("post", "/api/v1/bot/wechat", "聊天机器人", "公众号消息推送（XML，被动回复；安全模式下加密）", None, (200, None))
            .raw_body("text/xml", string())
            .query("signature", string()).query("timestamp", string()).query("nonce", string())
            .query("encrypt_type", json!({"enum": ["aes", "raw"]})).query("msg_signature", string()),
        op("post", "/api/v1/bot/messages", "聊天机器人", "渠道无关的聊天接口（网页聊天、测试）", Some("bot_gateway"), ok("BotReplies"))
            .body(obj(&["user", "text"], json!({"user": {"type": "string", "pattern": "^[A-Za-z0-9._:@-]{1,64}$"}, "text": {"type": "string", "minLength": 1, "maxLength": 2000, "pattern": "\\S"}}))),
        op("post", "/api/v1/staff/login", "工作人员", "工作人员登录（密码错误过多时暂时锁定，429 并带 Retry-After）", None, ok("StaffToken"))
            .body(obj(&["username", "password"], json!({"username": text(), "password": text()}))),
        op("post", "/api/v1/staff/gov-records", "工作人员", "批量导入政务数据（一个事务）", STAFF, ok("GovImport"))
            .body(json!({"type": "object", "additionalProperties": false, "properties": {
                "people": records(&["id_number", "name", "gender", "ethnicity", "hukou_address", "hukou_region_code", "photo_base64"]),
                "residence_registrations": records(&["id_number", "city", "district", "address", "since"]),
                "employment": records(&["id_number", "employer", "city", "since"]),
                "housing": records(&["id_number", "city", "address", "kind", "since"]),
                "schooling": records(&["id_number", "school", "city", "since"]),
            }})),
        op("get", "/api/v1/staff/applications", "工作人员", "审核队列", STAFF, (200, Some(json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array"}}}))))
            .query("status", string()).query("limit", page_limit()).query("cursor", json!({"type": "string", "format": "uuid"})),
        op("get", "/api/v1/staff/applications/{id}", "工作人员", "申请详情（审核用）", STAFF, ok("Application")),
        op("get", "/api/v1/staff/applications/{id}/materials/{material_id}", "工作人员", "查看申请材料", STAFF, (200, None)),
        op("post", "/api/v1/staff/applications/{id}/decision", "工作人员", "审核决定", STAFF, ok("Application"))
            .body(obj(&["approve"], json!({"approve": {"type": "boolean"}, "reason": string()}))),
        op("post", "/api/v1/staff/permits/{permit_no}/revoke", "工作人员", "注销居住证", STAFF, (204, None))
            .body(obj(&["reason"], json!({"reason": text()}))),
        op("post", "/api/v1/staff/card-orders/{id}/status", "工作人员", "推进实体证件状态", STAFF, ok("CardOrder"))
            .body(obj(&["status"], json!({"status": {"enum": ["paid", "produced", "ready", "collected"]}}))),
        op("post", "/api/v1/staff/agencies", "工作人员", "登记用证部门（密钥只显示一次）", STAFF, created("AgencyRegistered"))
            .body(obj(&["name", "credit_code", "contact", "scopes"], json!({"name": text(), "credit_code": credit_code(), "contact": text(), "scopes": {"type": "array", "minItems": 1, "items": {"enum": ["permit:verify", "permit:download"]}}, "fields": {"type": "array", "items": string()}}))),
        op("get", "/api/v1/staff/agencies", "工作人员", "已登记的用证部门", STAFF, (200, Some(json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array"}}})))),
        op("post", "/api/v1/staff/reminders/run", "工作人员", "立即执行提醒扫描（可指定日期）并投递", STAFF, ok("ReminderRun"))
            .body(json!({"type": "object", "properties": {"as_of": nullable_date(), "deliver": nullable("boolean")}}))
            .body_optional(),
        op("post", "/api/v1/staff/retention/run", "工作人员", "立即执行保存期限清理（可指定日期）", STAFF, (200, Some(json!({"type": "object"}))))
            .body(json!({"type": "object", "properties": {"as_of": nullable_date()}}))
            .body_optional(),
    ]
}

fn schemas() -> Value {
    let ts = json!({"type": "string", "format": "date-time"});
    let date = json!({"type": "string", "format": "date"});
    let agency_info = obj(
        &["id", "name", "credit_code", "contact"],
        json!({"id": string(), "name": string(), "credit_code": string(), "contact": string()}),
    );
    json!({
        "Error": obj(&["error"], json!({"error": obj(&["code", "message"], json!({"code": {"type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"}, "message": string()}))})),
        "OAuthToken": obj(&["access_token", "token_type", "expires_in", "scope"], json!({"access_token": string(), "token_type": {"const": "Bearer"}, "expires_in": {"type": "integer"}, "scope": string()})),
        "OAuthError": obj(&["error"], json!({"error": {"enum": ["invalid_request", "invalid_client", "unsupported_grant_type", "invalid_scope", "server_error"]}, "error_description": string()})),
        "TokenPair": obj(&["access_token", "token_type", "expires_in", "refresh_token"], json!({"access_token": string(), "token_type": {"const": "Bearer"}, "expires_in": {"type": "integer"}, "refresh_token": string()})),
        "StaffToken": obj(&["access_token", "token_type", "expires_in"], json!({"access_token": string(), "token_type": {"const": "Bearer"}, "expires_in": {"type": "integer"}})),
        "Me": obj(&["account_id", "app", "identity_bound", "reminders_enabled"], json!({"account_id": string(), "app": string(), "identity_bound": {"type": "boolean"}, "masked_id_number": nullable("string"), "masked_name": nullable("string"), "assurance": {"enum": ["wx_face", "gov_data", null]}, "email": nullable("string"), "reminders_enabled": {"type": "boolean"}})),
        "IdentityBound": obj(&["verified", "masked_id_number", "assurance"], json!({"verified": {"const": true}, "masked_id_number": string(), "assurance": {"enum": ["wx_face", "gov_data"]}})),
        "FaceVerification": obj(&["verify_id", "expires_in"], json!({"verify_id": string(), "expires_in": {"type": "integer", "minimum": 1}})),
        "Closing": obj(&["closed", "deleted", "kept"], json!({"closed": {"type": "boolean"}, "deleted": {"type": "array"}, "kept": {"type": "array"}})),
        "Subscriptions": obj(&["items", "app", "templates"], json!({"items": {"type": "array", "items": obj(&["kind", "template_id", "mode", "credits", "status"], json!({"app": {"enum": ["yss", "yjm"]}, "kind": string(), "template_id": string(), "mode": {"enum": ["one_time", "long_term"]}, "credits": {"type": "integer", "minimum": 0}, "status": {"enum": ["accept", "reject", "ban"]}, "updated_at": ts}))}, "app": {"enum": ["yss", "yjm"]}, "templates": {"type": "array", "items": obj(&["kind", "template_id", "mode"], json!({"kind": {"enum": ["endorsement_due", "expiry", "decision", "authorization_request", "eligible_now", "registration_ended"]}, "template_id": string(), "mode": {"enum": ["one_time", "long_term"]}}))}})),
        "BindingCode": obj(&["code", "expires_at"], json!({"code": string(), "expires_at": ts})),
        "Keys": obj(&["keys"], json!({"keys": {"type": "array", "items": obj(&["kid", "kty", "alg", "crv", "x", "status"], json!({"kid": string(), "kty": {"const": "OKP"}, "alg": {"const": "EdDSA"}, "crv": {"const": "Ed25519"}, "x": string(), "status": {"enum": ["active", "retired"]}}))}})),
        "Application": obj(&["id", "status", "city", "district", "residence_since", "basis"], json!({"id": string(), "status": {"enum": ["issued", "needs_materials", "pending_review", "rejected"]}, "city": string(), "district": string(), "address": string(), "residence_since": date, "basis": string(), "missing": {"type": "array", "items": string()}, "reasons": {"type": "array", "items": obj(&["code"], json!({"code": string(), "message": string()}))}, "permit_no": nullable("string")})),
        "Permit": obj(&["permit_no", "name", "gender", "ethnicity", "id_number", "hukou_address", "residence_address", "issuing_authority", "issued_on", "valid_from", "valid_until", "next_endorsement_due", "status"], json!({"permit_no": string(), "licence_id": string(), "name": string(), "gender": string(), "ethnicity": string(), "id_number": string(), "photo_url": nullable("string"), "hukou_address": string(), "residence_address": string(), "issuing_authority": string(), "issued_on": date, "valid_from": date, "valid_until": date, "next_endorsement_due": date, "status": {"enum": ["valid", "suspended", "expired", "revoked"]}, "status_list": s("StatusListRef"), "physical_card": {"oneOf": [{"type": "null"}, s("CardOrder")]}})),
        "SignedDocument": obj(&["document", "alg", "kid", "signature"], json!({"document": {"type": "object"}, "alg": {"const": "EdDSA"}, "kid": string(), "signature": string()})),
        "Endorsement": obj(&["kind", "permit"], json!({"kind": {"enum": ["endorsement", "renewal"]}, "permit": s("Permit")})),
        "CardOrder": obj(&["id", "permit_no", "pickup_station", "fee_cents", "status"], json!({"id": string(), "permit_no": string(), "pickup_station": string(), "fee_cents": {"type": "integer"}, "status": {"enum": ["ordered", "paid", "produced", "ready", "collected"]}})),
        "Code": obj(&["token", "expires_at", "qr_svg"], json!({"token": {"type": "string", "pattern": "^YJ2[A-Z2-7]+$"}, "expires_at": ts, "permit_no": string(), "qr_svg": string()})),
        "Verdict": obj(&["valid", "checked_at"], json!({"valid": {"type": "boolean"}, "reason": {"enum": VerifyReason::ALL.map(VerifyReason::code)}, "status": {"enum": ["valid", "suspended", "expired", "revoked", "undetermined"]}, "permit": obj(&["name", "permit_no", "valid_until", "status"], json!({"name": string(), "permit_no": string(), "valid_until": date, "status": string()})), "status_list": s("StatusListRef"), "code_expires_at": ts, "kid": string(), "checked_at": ts})),
        "StatusListRef": obj(&["uri", "idx"], json!({"uri": {"type": "string", "pattern": "^/api/v1/status-lists/[0-9]+$"}, "idx": {"type": "integer", "minimum": 0}})),
        "AgencyRegistered": obj(&["id", "client_id", "client_secret"], json!({"id": string(), "client_id": string(), "client_secret": string(), "scopes": {"type": "array"}, "fields": {"type": "array"}})),
        "AgencyRequest": obj(&["id", "status", "holder", "permit_no", "purpose", "fields", "expires_at"], json!({"id": string(), "status": {"enum": ["pending", "approved", "denied", "expired"]}, "holder": string(), "permit_no": string(), "purpose": string(), "fields": {"type": "array", "items": string()}, "expires_at": ts, "authorization": s("Grant")})),
        "HolderRequest": obj(&["id", "status", "agency", "purpose", "fields", "days", "retention_days", "max_downloads", "sensitive", "consent_version", "consent_text", "expires_at"], json!({"id": string(), "status": string(), "agency": agency_info, "purpose": string(), "fields": {"type": "array", "items": obj(&["field", "label", "sensitive"], json!({"field": string(), "label": string(), "sensitive": {"type": "boolean"}}))}, "days": {"type": "integer"}, "retention_days": {"type": "integer"}, "max_downloads": {"type": "integer"}, "sensitive": {"type": "boolean"}, "consent_version": string(), "consent_text": string(), "created_at": ts, "expires_at": ts})),
        "Grant": obj(&["id", "agency", "purpose", "fields", "expires_at", "max_downloads", "status"], json!({"id": string(), "request_id": string(), "agency": agency_info, "purpose": string(), "fields": {"type": "array", "items": string()}, "expires_at": ts, "max_downloads": {"type": "integer"}, "downloads": {"type": "integer"}, "status": {"enum": ["active", "revoked", "expired", "exhausted"]}, "consent_version": string()})),
        "SignedCopy": obj(&["copy", "alg", "kid", "signature"], json!({"copy": obj(&["type", "permit_no", "permit", "annotation"], json!({"type": {"const": "gd-residence-permit-annotated-copy"}, "permit_no": string(), "licence_id": string(), "permit": {"type": "object"}, "annotation": obj(&["agency", "purpose", "authorization_id", "expires_at", "downloaded_at", "text"], json!({"agency": string(), "purpose": string(), "authorization_id": string(), "expires_at": string(), "downloaded_at": string(), "text": string()}))})), "alg": {"const": "EdDSA"}, "kid": string(), "signature": string()})),
        "AccessLogEntry": obj(&["seq", "at", "actor_kind", "actor_name", "action", "detail", "prev_hash", "hash"], json!({"seq": {"type": "integer"}, "at": ts, "actor_kind": {"enum": ["agency", "holder", "staff"]}, "actor_name": string(), "action": {"enum": ["verify", "request", "approve", "deny", "download", "revoke"]}, "purpose": nullable("string"), "detail": {}, "prev_hash": string(), "hash": string()})),
        "ChainCheck": obj(&["intact", "entries", "head"], json!({"intact": {"type": "boolean"}, "entries": {"type": "integer"}, "head": string(), "broken_at": {"type": "integer"}})),
        "BotReplies": obj(&["replies"], json!({"replies": {"type": "array", "items": string()}})),
        "GovImport": obj(&["upserted", "errors"], json!({"upserted": {"type": "integer"}, "errors": {"type": "array"}})),
        "Labels": labels_schema(),
        "ReminderRun": obj(&["as_of", "queued", "sent", "failed"], json!({"as_of": date, "queued": {"type": "integer"}, "sent": {"type": "integer"}, "failed": {"type": "integer"}, "undeliverable": {"type": "integer"}, "unfinished": {"type": "integer"}})),
    })
}

/// `{"<vocabulary>": {"<value>": "<中文>"}}`, naming every vocabulary the server words.
fn labels_schema() -> Value {
    let vocabularies = service::wording::vocabularies();
    let names: Vec<&str> = vocabularies.0.iter().map(|v| v.name).collect();
    let tables: Map<String, Value> = vocabularies
        .0
        .iter()
        .map(|v| {
            let values: Vec<&str> = v.labels.iter().map(|(value, _)| value.as_str()).collect();
            let table =
                json!({"type": "object", "required": values, "additionalProperties": text()});
            (v.name.to_owned(), table)
        })
        .collect();
    obj(&names, Value::Object(tables))
}

/// The document served at `GET /api/v1/openapi.json`.
pub fn document() -> Value {
    let mut paths = Map::new();
    for o in ops() {
        let mut responses = Map::new();
        let mut ok = match o.ok.1 {
            Some(schema) => json!({"description": "成功", "content": content(schema)}),
            None => json!({"description": "成功"}),
        };
        for media in &o.ok_media {
            ok["content"][*media] =
                json!({"schema": {"type": "string", "contentMediaType": *media}});
        }
        responses.insert(o.ok.0.to_string(), ok);
        let error_schema = if o.path == "/oauth/token" {
            s("OAuthError")
        } else {
            s("Error")
        };
        // Statuses every operation of a kind can answer: a body over its limit or of another
        // media type, the rate limit (and lock-outs), the platform being away.
        let mut errors = o.errors.to_vec();
        if o.body.is_some() {
            errors.extend([413, 415]);
        }
        // A write can meet the state another write left: already applied for, already
        // ordered, a request already decided.
        if o.method != "get" {
            errors.push(409);
        }
        let method = actix_web::http::Method::from_bytes(o.method.to_uppercase().as_bytes())
            .unwrap_or(actix_web::http::Method::GET);
        if crate::rate_limit::class_of(&method, o.path).is_some() {
            errors.push(429);
        }
        if CALLS_THE_PLATFORM.contains(&o.path) {
            errors.push(503);
        }
        for code in errors {
            let mut response =
                json!({"description": "错误", "content": content(error_schema.clone())});
            if code == 429 {
                response["headers"] = json!({"Retry-After": {
                    "description": "多少秒后可以再试",
                    "schema": {"type": "integer", "minimum": 1},
                }});
            }
            responses.insert(code.to_string(), response);
        }
        let mut operation = json!({
            "tags": [o.tag],
            "summary": o.summary,
            "operationId": format!("{}_{}", o.method, o.path.trim_start_matches('/').replace(['/', '{', '}', '.', '-'], "_")),
            "parameters": o.params,
            "responses": responses,
        });
        if let Some(body) = o.body {
            operation["requestBody"] = body;
        }
        if let Some(scheme) = o.auth {
            operation["security"] = json!([{ scheme: [] }]);
        }
        let entry = paths.entry(o.path.to_owned()).or_insert_with(|| json!({}));
        entry[o.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "yueju: 广东省电子居住证",
            "version": "1",
            "description": "粤省事、粤居码小程序，用证部门与工作人员使用的接口。错误统一为 {\"error\": {\"code\", \"message\"}}，message 为简体中文。",
        },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "resident": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "居民（小程序登录）"},
                "staff": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "工作人员"},
                "agency": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {"permit:verify": "核验粤居码", "permit:download": "经授权下载加注件"}}}},
                "bot_gateway": {"type": "http", "scheme": "bearer", "description": "聊天网关密钥（YUEJU_BOT_API_SECRET）"},
            },
        },
    })
}
