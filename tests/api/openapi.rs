//! The OpenAPI document cannot drift from the server: its paths are exactly the routes
//! registered in api/src/routes/mod.rs, and real answers of a full flow validate against
//! the schemas it gives for them.

use serde_json::{Value, json};
use std::collections::BTreeSet;

use crate::helpers::*;

/// (METHOD, path) of every route in api/src/routes/mod.rs, read from its source.
fn registered_routes() -> BTreeSet<(String, String)> {
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("api/src/routes/mod.rs"),
    )
    .unwrap();
    let compact: String = source.split_whitespace().collect();
    let top_level = ["/", "/h5/{name:.*}", "/healthz", "/readyz", "/oauth/token"];
    let mut routes = BTreeSet::new();
    for part in compact.split(".route(\"").skip(1) {
        let (path, rest) = part.split_once('"').unwrap();
        let method = rest
            .trim_start_matches(',')
            .strip_prefix("web::")
            .and_then(|r| r.split_once("()"))
            .map(|(m, _)| m.to_uppercase())
            .unwrap();
        let full = if top_level.contains(&path) {
            path.to_owned()
        } else {
            format!("/api/v1{path}")
        };
        routes.insert((method, full));
    }
    for part in compact.split("web::resource(\"").skip(1) {
        let (path, rest) = part.split_once('"').unwrap();
        let end = rest.find(".service(").unwrap_or(rest.len());
        for m in rest[..end].split(".route(web::").skip(1) {
            let method = m.split_once("()").unwrap().0.to_uppercase();
            routes.insert((method, format!("/api/v1{path}")));
        }
    }
    routes
}

#[tokio::test]
async fn the_spec_describes_exactly_the_routes_the_server_registers() {
    // With the official account configured, so that the webhook routes are on.
    let app = spawn_app_with(&wechat_vars()).await;
    let r = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["openapi"], "3.1.0");
    let mut described = BTreeSet::new();
    for (path, item) in r.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            described.insert((method.to_uppercase(), path.clone()));
        }
    }
    let mut registered = registered_routes();
    // The H5 pages are not part of the API.
    registered.remove(&("GET".into(), "/".into()));
    registered.remove(&("GET".into(), "/h5/{name:.*}".into()));
    assert!(registered.len() > 50, "{registered:?}");
    let missing: Vec<_> = registered.difference(&described).collect();
    let extra: Vec<_> = described.difference(&registered).collect();
    assert!(
        missing.is_empty(),
        "routes without a description: {missing:?}"
    );
    assert!(extra.is_empty(), "described but not served: {extra:?}");

    // Every described operation answers from its own handler (not the catch-all 404).
    for (method, path) in &described {
        let concrete = path
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{material_id}", "00000000-0000-0000-0000-000000000000")
            .replace("{permit_no}", "4401002026000001");
        let req = app
            .client
            .request(method.parse().unwrap(), app.url(&concrete));
        let res = reply(req.send().await.unwrap()).await;
        assert!(
            !(res.status == 404 && res.code() == "NOT_FOUND"),
            "{method} {path} fell through to the catch-all"
        );
    }
}

fn errors(spec: &Value, method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
    let response = &spec["paths"][path][method]["responses"][status.to_string()];
    let schema = &response["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "no schema for {method} {path} {status}");
    let root = json!({"$ref": schema["$ref"].as_str().map(str::to_owned), "components": spec["components"]});
    let root = if schema.get("$ref").is_some() {
        root
    } else {
        let mut inline = schema.clone();
        inline["components"] = spec["components"].clone();
        inline
    };
    let validator = jsonschema::draft202012::new(&root).expect("a valid schema");
    validator
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// Validates `body` against the schema the spec gives for this answer.
#[track_caller]
fn check(spec: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let errors = errors(spec, method, path, status, body);
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {errors:?}\n{body}"
    );
}

#[tokio::test]
async fn the_schemas_refuse_answers_of_the_wrong_shape() {
    let app = spawn_app().await;
    let spec = app.get("/api/v1/openapi.json", None).await.body;
    let wrong = json!({"permit_no": 5, "status": "lost"});
    assert!(!errors(&spec, "get", "/api/v1/me/permit", 200, &wrong).is_empty());
    let wrong_error = json!({"error": {"code": "not upper", "message": "x"}});
    assert!(!errors(&spec, "get", "/api/v1/me", 401, &wrong_error).is_empty());
}

#[tokio::test]
async fn answers_of_a_full_flow_match_their_schemas() {
    let app = spawn_app().await;
    let spec = app.get("/api/v1/openapi.json", None).await.body;
    let labels = app.get("/api/v1/labels", None).await;
    check(&spec, "get", "/api/v1/labels", 200, &labels.body);

    let login = app
        .post(
            "/api/v1/auth/miniprogram/login",
            &json!({"app": "yss", "code": "dev:demo-chen"}),
            None,
        )
        .await;
    check(
        &spec,
        "post",
        "/api/v1/auth/miniprogram/login",
        200,
        &login.body,
    );
    let token = login.body["access_token"].as_str().unwrap().to_owned();
    let t = Some(token.as_str());
    check(
        &spec,
        "get",
        "/api/v1/me",
        200,
        &app.get("/api/v1/me", t).await.body,
    );
    let applied = app.apply(&token, &chen_application(), None).await;
    check(&spec, "post", "/api/v1/applications", 201, &applied.body);
    check(
        &spec,
        "get",
        "/api/v1/applications",
        200,
        &app.get("/api/v1/applications", t).await.body,
    );
    check(
        &spec,
        "get",
        "/api/v1/me/permit",
        200,
        &app.get("/api/v1/me/permit", t).await.body,
    );
    check(
        &spec,
        "get",
        "/api/v1/me/permit/document",
        200,
        &app.get("/api/v1/me/permit/document", t).await.body,
    );
    let code = app.get("/api/v1/me/code", t).await;
    check(&spec, "get", "/api/v1/me/code", 200, &code.body);
    let code = code.body["token"].as_str().unwrap().to_owned();
    check(
        &spec,
        "get",
        "/api/v1/keys",
        200,
        &app.get("/api/v1/keys", None).await.body,
    );
    check(
        &spec,
        "post",
        "/api/v1/verify",
        200,
        &app.verify(&code, None).await.body,
    );
    check(
        &spec,
        "post",
        "/api/v1/verify",
        200,
        &app.verify("garbage", None).await.body,
    );

    let agency = app
        .agency(
            41,
            "广州市越秀区人社局",
            &["permit:verify", "permit:download"],
            &ALL_FIELDS,
        )
        .await;
    let asked = app.ask_access(&agency, &code, "办理社保卡", 30).await;
    check(
        &spec,
        "post",
        "/api/v1/agency/authorization-requests",
        201,
        &asked.body,
    );
    let id = asked.body["id"].as_str().unwrap();
    let mine = app.get("/api/v1/me/authorization-requests", t).await;
    check(
        &spec,
        "get",
        "/api/v1/me/authorization-requests",
        200,
        &mine.body,
    );
    let grant = app
        .post(
            &format!("/api/v1/me/authorization-requests/{id}/approve"),
            &json!({}),
            t,
        )
        .await;
    check(
        &spec,
        "post",
        "/api/v1/me/authorization-requests/{id}/approve",
        201,
        &grant.body,
    );
    let followed = app
        .get(
            &format!("/api/v1/agency/authorization-requests/{id}"),
            Some(&agency.token),
        )
        .await;
    check(
        &spec,
        "get",
        "/api/v1/agency/authorization-requests/{id}",
        200,
        &followed.body,
    );
    let grant_id = grant.body["id"].as_str().unwrap();
    let copy = app
        .get(
            &format!("/api/v1/agency/authorizations/{grant_id}/annotated-copy"),
            Some(&agency.token),
        )
        .await;
    check(
        &spec,
        "get",
        "/api/v1/agency/authorizations/{id}/annotated-copy",
        200,
        &copy.body,
    );
    check(
        &spec,
        "get",
        "/api/v1/me/authorizations",
        200,
        &app.get("/api/v1/me/authorizations", t).await.body,
    );
    check(
        &spec,
        "get",
        "/api/v1/me/access-log",
        200,
        &app.get("/api/v1/me/access-log", t).await.body,
    );
    check(
        &spec,
        "get",
        "/api/v1/me/access-log/check",
        200,
        &app.get("/api/v1/me/access-log/check", t).await.body,
    );
    let order = app
        .post(
            "/api/v1/me/physical-card",
            &json!({"pickup_station": "天河区石牌街派出所"}),
            t,
        )
        .await;
    check(&spec, "post", "/api/v1/me/physical-card", 201, &order.body);
    check(
        &spec,
        "get",
        "/api/v1/me/permit",
        200,
        &app.get("/api/v1/me/permit", t).await.body,
    );

    let subs = app
        .post(
            "/api/v1/me/subscriptions",
            &json!({"app": "yss", "results": {"tpl-endorsement-due": "accept", "tpl-expiry": "accept"}}),
            t,
        )
        .await;
    check(&spec, "post", "/api/v1/me/subscriptions", 200, &subs.body);
    check(
        &spec,
        "get",
        "/api/v1/me/subscriptions",
        200,
        &app.get("/api/v1/me/subscriptions", t).await.body,
    );

    // Errors have the one shape, OAuth errors the RFC's.
    let missing = app
        .get(
            "/api/v1/applications/00000000-0000-0000-0000-000000000000",
            t,
        )
        .await;
    check(
        &spec,
        "get",
        "/api/v1/applications/{id}",
        404,
        &missing.body,
    );
    let bad = app
        .post(
            "/api/v1/me/identity",
            &json!({"name": "x", "id_number": "1"}),
            t,
        )
        .await;
    check(&spec, "post", "/api/v1/me/identity", 422, &bad.body);
    let oauth = reply(
        app.client
            .post(app.url("/oauth/token"))
            .form(&[("grant_type", "password")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    check(&spec, "post", "/oauth/token", 400, &oauth.body);

    let admin = app.admin_token().await;
    let run = app
        .post("/api/v1/staff/reminders/run", &json!({}), Some(&admin))
        .await;
    check(&spec, "post", "/api/v1/staff/reminders/run", 200, &run.body);
    let staff = app
        .post(
            "/api/v1/staff/login",
            &json!({"username": STAFF_ADMIN.0, "password": STAFF_ADMIN.1}),
            None,
        )
        .await;
    check(&spec, "post", "/api/v1/staff/login", 200, &staff.body);
}

#[tokio::test]
async fn the_docs_page_works_offline_from_the_binary() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/api/v1/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("/h5/docs.js"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from outside"
    );
    let js = app
        .client
        .get(app.url("/h5/docs.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(js.contains("/api/v1/openapi.json"));
}

#[tokio::test]
async fn a_path_of_the_contract_under_a_method_it_does_not_take_is_405_with_allow() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        ("TRACE", "/api/v1/me", "GET, PATCH, DELETE"),
        ("PUT", "/api/v1/verify", "POST"),
        ("TRACE", "/api/v1/staff/gov-records", "POST"),
        (
            "DELETE",
            "/api/v1/applications/3f6c1a52-0000-4000-8000-000000000000",
            "GET",
        ),
    ] {
        let r = app
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                app.url(path),
            )
            .send()
            .await
            .unwrap();
        let r = reply(r).await;
        r.assert_error(405, "METHOD_NOT_ALLOWED");
        let mut got: Vec<&str> = r.headers["allow"].to_str().unwrap().split(", ").collect();
        let mut want: Vec<&str> = allow.split(", ").collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{method} {path}");
    }
    // A path outside the contract stays 404.
    let r = app.get("/api/v1/nothing-here", None).await;
    r.assert_error(404, "NOT_FOUND");
}
