//! `GET /metrics` on the second listener (`YUEJU_METRICS_BIND`): a flow moves the counters,
//! the request histogram is there by route pattern, the database gauges follow the outbox,
//! the public port does not serve it, the dashboard and the alert rules only name series
//! the service exports, and the alert rules pass their unit tests in `promtool`.
//!
//! The recorder is the process's (the `metrics` facade has one), shared by every server the
//! tests start: counters are compared before and after, and only grow.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::fake_platform::subscribe::Grant;
use crate::helpers::*;

const CHEN_OPENID: &str = "dev:demo-chen";

/// One sample line: series name, labels, value.
type Sample = (String, Vec<(String, String)>, f64);

/// One scrape, and its sample lines.
struct Scrape {
    text: String,
    samples: Vec<Sample>,
}

impl Scrape {
    fn parse(text: String) -> Scrape {
        let mut samples = Vec::new();
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
            let (name, labels) = match series.split_once('{') {
                None => (series.to_owned(), Vec::new()),
                Some((name, rest)) => {
                    let rest = rest.strip_suffix('}').expect("closing brace");
                    let labels = rest
                        .split("\",")
                        .filter(|p| !p.is_empty())
                        .map(|pair| {
                            let (k, v) = pair.split_once("=\"").expect("label=\"value\"");
                            (k.to_owned(), v.trim_end_matches('"').to_owned())
                        })
                        .collect();
                    (name.to_owned(), labels)
                }
            };
            samples.push((name, labels, value));
        }
        Scrape { text, samples }
    }

    /// The sum of the samples of `name` that carry every label of `with`.
    fn value(&self, name: &str, with: &[(&str, &str)]) -> f64 {
        self.matching(name, with).map(|(_, _, v)| v).sum()
    }

    fn has(&self, name: &str, with: &[(&str, &str)]) -> bool {
        self.matching(name, with).next().is_some()
    }

    fn matching<'a>(
        &'a self,
        name: &'a str,
        with: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |(n, labels, _)| {
            n == name
                && with
                    .iter()
                    .all(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v))
        })
    }

    /// The series families this scrape declares (`# TYPE name kind`), with the names a
    /// histogram's samples take.
    fn names(&self) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for line in self.text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let mut parts = rest.split(' ');
                let name = parts.next().unwrap().to_owned();
                if parts.next() == Some("histogram") {
                    for suffix in ["_bucket", "_count", "_sum"] {
                        names.insert(format!("{name}{suffix}"));
                    }
                }
                names.insert(name);
            }
        }
        names
    }
}

async fn scrape(app: &TestApp) -> Scrape {
    let base = app.metrics_address.as_ref().expect("a metrics listener");
    let r = app
        .client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let kind = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    Scrape::parse(r.text().await.unwrap())
}

async fn metrics_app() -> TestApp {
    let mut vars = wechat_vars();
    vars.push(("YUEJU_METRICS_BIND", "127.0.0.1:0"));
    spawn_app_with(&vars).await
}

async fn reminders_run(app: &TestApp, deliver: bool) -> serde_json::Value {
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/staff/reminders/run",
            &json!({"deliver": deliver}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// The database gauges are read at most once a second.
async fn after_the_read_interval() {
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
}

#[tokio::test]
async fn a_flow_moves_the_counters_and_the_scrape_shows_them_by_route_pattern() {
    let app = metrics_app().await;
    let before = scrape(&app).await;

    // Apply (issued at once), verify the code and a forged one, then a reminder by
    // subscribe message.
    let chen = app.chen_with_permit().await;
    let permit_no = app.permit_no(&chen.access).await;
    let code = app.code(&chen.access).await;
    let r = app.verify(&code, None).await;
    assert_eq!(r.body["valid"], true, "{}", r.text);
    let r = app.verify("not-a-code", None).await;
    assert_eq!(r.body["reason"], "MALFORMED", "{}", r.text);
    let mine = app.get("/api/v1/applications", Some(&chen.access)).await;
    let application_id = mine.body["items"][0]["id"].as_str().unwrap().to_owned();
    let r = app
        .get(
            &format!("/api/v1/applications/{application_id}"),
            Some(&chen.access),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    app.set_permit_dates(&permit_no, Some(days_ahead(10)), None)
        .await;
    let r = app
        .post(
            "/api/v1/me/subscriptions",
            &json!({"app": "yss", "results": {TPL_ENDORSEMENT: "accept"}}),
            Some(&chen.access),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.platform
        .grant_subscription(CHEN_OPENID, TPL_ENDORSEMENT, Grant::Credits(1));
    assert_eq!(reminders_run(&app, false).await["queued"], 1);

    // The reminder waits in the outbox: the gauges read the database at the scrape.
    after_the_read_interval().await;
    let queued = scrape(&app).await;
    assert_eq!(queued.value("yueju_outbox_pending", &[]), 1.0);
    assert!(queued.value("yueju_outbox_oldest_age_seconds", &[]) >= 0.0);
    assert_eq!(queued.value("yueju_review_queue_length", &[]), 0.0);
    assert_eq!(queued.value("yueju_status_list_ttl_seconds", &[]), 300.0);
    let age = queued.value("yueju_status_list_age_seconds", &[]);
    assert!(age < 300.0, "the lists follow the database: {age}");

    assert_eq!(reminders_run(&app, true).await["sent"], 1);
    after_the_read_interval().await;
    let after = scrape(&app).await;
    assert_eq!(after.value("yueju_outbox_pending", &[]), 0.0);
    assert_eq!(after.value("yueju_outbox_oldest_age_seconds", &[]), 0.0);

    let moved = |name: &str, with: &[(&str, &str)]| {
        let (was, is) = (before.value(name, with), after.value(name, with));
        assert!(is > was, "{name}{with:?} did not move: {was} → {is}");
    };
    moved("yueju_applications_total", &[("outcome", "issued_at_once")]);
    moved(
        "yueju_verifications_total",
        &[("verdict", "valid"), ("reason", "none")],
    );
    moved(
        "yueju_verifications_total",
        &[("verdict", "invalid"), ("reason", "MALFORMED")],
    );
    moved(
        "yueju_deliveries_total",
        &[("channel", "subscribe"), ("outcome", "sent")],
    );
    moved(
        "yueju_platform_call_duration_seconds_count",
        &[("call", "message/subscribe/send"), ("outcome", "ok")],
    );
    moved(
        "yueju_platform_call_duration_seconds_count",
        &[("call", "stable_token"), ("outcome", "ok")],
    );
    // Routes by pattern, never by path: no id reaches a label.
    moved(
        "yueju_http_request_duration_seconds_count",
        &[
            ("route", "/api/v1/verify"),
            ("method", "POST"),
            ("status", "200"),
        ],
    );
    moved(
        "yueju_http_request_duration_seconds_count",
        &[
            ("route", "/api/v1/applications/{id}"),
            ("method", "GET"),
            ("status", "200"),
        ],
    );
    assert!(after.has(
        "yueju_http_request_duration_seconds_bucket",
        &[("route", "/api/v1/verify"), ("le", "0.05")]
    ));
    for (name, labels, _) in &after.samples {
        for (key, value) in labels {
            assert!(
                !value.contains(&application_id) && !value.contains(&permit_no),
                "an id in {name} {key}={value}"
            );
        }
    }
}

#[tokio::test]
async fn the_public_port_does_not_serve_metrics() {
    let app = metrics_app().await;
    let r = app.get("/metrics", None).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert!(!r.text.contains("yueju_"), "{}", r.text);
    // And the metrics listener serves nothing but /metrics.
    let base = app.metrics_address.as_ref().unwrap();
    let r = app
        .client
        .get(format!("{base}/api/v1/keys"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn a_call_to_the_government_data_exchange_is_timed_with_its_outcome() {
    use service::domain::IdNumber;
    use service::govdata::{GovDataSource, HttpGovData};
    let app = metrics_app().await;
    let before = scrape(&app).await;
    // Nothing listens there: the call fails, and is counted as failed.
    let gov = HttpGovData::new(
        PROD_PAYMENT_API_BASE,
        None,
        std::time::Duration::from_secs(2),
    )
    .unwrap();
    let id = IdNumber::parse_at(CHEN_ID, chrono::Utc::now().date_naive()).unwrap();
    assert!(gov.household(&id).await.is_err());
    let after = scrape(&app).await;
    let with = [("dataset", "household"), ("outcome", "error")];
    let name = "yueju_govdata_call_duration_seconds_count";
    assert!(after.value(name, &with) > before.value(name, &with));
}

/// Every metric name in a PromQL text: identifiers that start with `yueju_`.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("yueju_") {
        let start = i + at;
        let boundary = start == 0 || {
            let c = bytes[start - 1];
            !(c.is_ascii_alphanumeric() || c == b'_')
        };
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        if boundary {
            names.insert(text[start..end].to_owned());
        }
        i = end;
    }
    names
}

#[tokio::test]
async fn the_dashboard_and_the_alert_rules_name_only_series_the_service_exports() {
    let app = metrics_app().await;
    // A request and a government-data call, so that every histogram has a sample.
    app.get("/healthz", None).await;
    let gov = service::govdata::HttpGovData::new(
        PROD_PAYMENT_API_BASE,
        None,
        std::time::Duration::from_secs(2),
    )
    .unwrap();
    let id = service::domain::IdNumber::parse_at(CHEN_ID, chrono::Utc::now().date_naive()).unwrap();
    let _ = service::govdata::GovDataSource::schooling(&gov, &id).await;
    // A platform call: the official account's token, then its customer message.
    let _ = app.app.wechat.send_customer_text("someone", "你好").await;
    let exported = scrape(&app).await.names();
    let declared: BTreeSet<String> = service::metrics::ALL
        .iter()
        .map(|(name, _, _)| (*name).to_owned())
        .collect();
    for name in &declared {
        assert!(
            exported.contains(name),
            "{name} is declared but not exported"
        );
    }

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ops");
    let dashboard = std::fs::read_to_string(root.join("grafana/yueju.json")).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&dashboard).expect("dashboard is JSON");
    let mut exprs = String::new();
    for panel in parsed["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            exprs.push_str(target["expr"].as_str().unwrap_or(""));
            exprs.push('\n');
        }
    }
    let rules = std::fs::read_to_string(root.join("prometheus/alerts.yml")).unwrap();
    for (file, text) in [
        ("grafana/yueju.json", &exprs),
        ("prometheus/alerts.yml", &rules),
    ] {
        let used = metric_names(text);
        assert!(used.len() >= 5, "{file} names {used:?}");
        for name in used {
            assert!(
                exported.contains(&name),
                "{file} uses {name}, which the service does not export"
            );
        }
    }
    // Each condition an operator must hear about has its rule.
    for alert in [
        "OutboxOldestOver15Minutes",
        "ReviewQueueOldestOver2WorkingDays",
        "PlatformErrorsOver5Percent",
        "VerifyP99Over50ms",
        "StatusListOlderThanTtl",
    ] {
        assert!(rules.contains(&format!("alert: {alert}")), "no {alert}");
    }
}

/// The `promtool` command: `YUEJU_PROMTOOL` names it, else it is looked up on the PATH.
fn promtool() -> String {
    let promtool = std::env::var("YUEJU_PROMTOOL").unwrap_or_else(|_| "promtool".into());
    let found = std::process::Command::new(&promtool)
        .arg("--version")
        .output();
    assert!(
        found.as_ref().is_ok_and(|o| o.status.success()),
        "promtool is needed (Debian package prometheus), or set YUEJU_PROMTOOL to it ({found:?})"
    );
    promtool
}

#[test]
#[ignore = "needs promtool (Debian prometheus); .ci/run extracts it and sets YUEJU_PROMTOOL"]
fn the_alert_rules_load_in_prometheus_and_each_fires_only_past_its_threshold() {
    let promtool = promtool();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/prometheus");
    for args in [
        ["check", "rules", "alerts.yml"],
        ["test", "rules", "alerts.test.yml"],
    ] {
        let out = std::process::Command::new(&promtool)
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "promtool {args:?}: {printed}");
        assert!(printed.contains("SUCCESS"), "promtool {args:?}: {printed}");
    }
    // Every rule has its unit test.
    let tests = std::fs::read_to_string(dir.join("alerts.test.yml")).unwrap();
    let rules = std::fs::read_to_string(dir.join("alerts.yml")).unwrap();
    for line in rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
    {
        assert!(
            tests.contains(&format!("alertname: {line}")),
            "alerts.test.yml does not test {line}"
        );
    }
}

/// What the collector received: each post's content type and body.
type Posts = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A local OpenTelemetry collector: keeps the bodies posted to `/v1/traces` with their
/// content type.
async fn start_collector() -> (String, Posts) {
    use actix_web::{HttpRequest, HttpResponse, HttpServer, web};
    let received: Posts = Arc::default();
    let kept = received.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        let kept = kept.clone();
        actix_web::App::new().route(
            "/v1/traces",
            web::post().to(move |req: HttpRequest, body: web::Bytes| {
                let kept = kept.clone();
                async move {
                    let kind = req
                        .headers()
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    kept.lock().unwrap().push((kind, body.to_vec()));
                    HttpResponse::Ok()
                        .content_type("application/x-protobuf")
                        .finish()
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (base, received)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn with_an_otlp_endpoint_the_spans_reach_the_collector_named_as_the_metrics() {
    use tokio::io::AsyncBufReadExt as _;
    let (collector, received) = start_collector().await;
    let data = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_yueju"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("YUEJU_DATA_DIR", data.path())
        .env("YUEJU_BIND", "127.0.0.1:0")
        .env("YUEJU_WORKERS", "1")
        .env("YUEJU_BACKGROUND_JOBS", "false")
        .env("YUEJU_DEMO_DATA", "false")
        .env("YUEJU_LOG_FORMAT", "json")
        .env("YUEJU_OTLP_ENDPOINT", &collector)
        // Batches go out every 100 ms instead of every 5 s.
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start yueju");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let address = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(at) = line.find("open http://") {
                let rest = &line[at + "open ".len()..];
                return rest[..rest[7..].find('/').unwrap() + 7].to_owned();
            }
        }
        panic!("yueju ended before listening");
    })
    .await
    .expect("yueju listens within a minute");
    // Keep reading its logs, so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    let r = reqwest::Client::new()
        .post(format!("{address}/api/v1/verify"))
        .json(&json!({"token": "not-a-code"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let found = loop {
        let bodies = received.lock().unwrap().clone();
        let all: Vec<u8> = bodies.iter().flat_map(|(_, b)| b.clone()).collect();
        if contains(&all, "yueju_verifications") && contains(&all, "POST /api/v1/verify") {
            break bodies;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no span of the verification reached the collector ({} posts)",
            bodies.len()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    for (kind, _) in &found {
        assert_eq!(kind, "application/x-protobuf");
    }
    let all: Vec<u8> = found.iter().flat_map(|(_, b)| b.clone()).collect();
    // The span's fields are the series' labels; the resource names the service.
    for expected in [
        "verdict",
        "invalid",
        "MALFORMED",
        "http.route",
        "service.name",
        "yueju",
    ] {
        assert!(contains(&all, expected), "{expected} not exported");
    }
    child.kill().await.unwrap();
}
