//! The OpenAPI document cannot drift from the server: utoipa derives it from the handlers
//! as they are registered, the resource map actix builds holds exactly its paths, each path
//! serves exactly its methods, and real answers of a full flow validate against the schemas it
//! gives for them.

use serde_json::{Value, json};
use std::collections::BTreeSet;

use crate::helpers::*;

/// The screens: registered, and not part of the API.
const H5: [&str; 2] = ["/", "/h5/{name:.*}"];

/// The full pattern of every resource in actix's resource map, read from its `Debug` form
/// (actix offers no other way to list them): each `patterns` line is a resource or a scope,
/// nested by indentation, and `nodes: None` closes a resource. The `named` index repeats
/// resources and is skipped.
fn patterns_in(resource_map: &str) -> BTreeSet<String> {
    let mut scopes: Vec<(usize, String)> = Vec::new();
    let mut in_named: Option<usize> = None;
    let mut resources = BTreeSet::new();
    let mut lines = resource_map.lines();
    while let Some(line) = lines.next() {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if let Some(at) = in_named {
            if indent == at && text.starts_with('}') {
                in_named = None;
            }
            continue;
        }
        match text {
            "named: {" => in_named = Some(indent),
            "patterns: Single(" => {
                let pattern = lines.next().unwrap().trim().trim_end_matches(',');
                let pattern: String = serde_json::from_str(pattern).unwrap();
                scopes.retain(|(at, _)| *at < indent);
                scopes.push((indent, pattern));
            }
            "nodes: None," => {
                resources.insert(scopes.iter().map(|(_, p)| p.as_str()).collect());
            }
            _ => {}
        }
    }
    resources
}

/// What the server registers: `api::routes::register` on an app of its own, whose unmatched
/// requests answer with the resource map.
async fn registered_patterns() -> BTreeSet<String> {
    use actix_web::{App, HttpRequest, HttpResponse, test, web};
    let app = test::init_service(
        App::new()
            .configure(|cfg| api::routes::register(cfg, 1024))
            .default_service(web::to(|req: HttpRequest| async move {
                HttpResponse::Ok().body(format!("{:#?}", req.resource_map()))
            })),
    )
    .await;
    let dump =
        test::call_and_read_body(&app, test::TestRequest::get().uri("/-").to_request()).await;
    patterns_in(std::str::from_utf8(&dump).unwrap())
}

#[actix_web::test]
async fn every_registered_path_is_in_the_spec_and_every_path_of_the_spec_is_registered() {
    let registered = registered_patterns().await;
    assert!(registered.len() > 50, "{registered:?}");
    for page in H5 {
        assert!(
            registered.contains(page),
            "{page} not registered: {registered:?}"
        );
    }
    let registered: BTreeSet<String> = registered
        .into_iter()
        .filter(|p| !H5.contains(&p.as_str()))
        .collect();
    let described: BTreeSet<String> = api::openapi::document()["paths"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let missing: Vec<_> = registered.difference(&described).collect();
    let extra: Vec<_> = described.difference(&registered).collect();
    assert!(
        missing.is_empty(),
        "registered without a description: {missing:?}"
    );
    assert!(extra.is_empty(), "described but not registered: {extra:?}");
}

/// The methods each path of the spec is tried with.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"];

#[tokio::test]
async fn each_path_of_the_spec_serves_exactly_the_methods_it_lists() {
    // With the official account configured, so that the webhook routes are on.
    let app = spawn_app_with(&wechat_vars()).await;
    let r = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["openapi"], "3.1.0");
    let paths = r.body["paths"].as_object().unwrap();
    assert!(paths.len() > 50);
    for (path, item) in paths {
        let described: BTreeSet<String> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|m| m.to_uppercase())
            .collect();
        let concrete = path
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{material_id}", "00000000-0000-0000-0000-000000000000")
            .replace("{permit_no}", "4401002026000001");
        for method in METHODS {
            let req = app
                .client
                .request(method.parse().unwrap(), app.url(&concrete));
            let res = reply(req.send().await.unwrap()).await;
            let unmatched = res.status == 405 && res.code() == "METHOD_NOT_ALLOWED";
            let not_found = res.status == 404 && res.code() == "NOT_FOUND";
            if described.contains(method) {
                // Answered by its own handler, not the catch-all.
                assert!(
                    !unmatched && !not_found,
                    "{method} {path} fell through to the catch-all"
                );
            } else {
                assert!(
                    unmatched,
                    "{method} {path} is served but not described: {}",
                    res.status
                );
                let allow: BTreeSet<String> = res.headers["allow"]
                    .to_str()
                    .unwrap()
                    .split(", ")
                    .map(str::to_owned)
                    .collect();
                assert_eq!(allow, described, "Allow of {path}");
            }
        }
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
pub(crate) fn check(spec: &Value, method: &str, path: &str, status: u16, body: &Value) {
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
