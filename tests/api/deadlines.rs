//! Outside systems that stall: every call runs under a deadline, so a peer that connects and
//! then stops answering costs one failed attempt (retried later), never the worker.

use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

/// An SMTP peer that greets and then never answers another word.
async fn stalled_smtp_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = socket.write_all(b"220 stall.localhost ESMTP\r\n").await;
                let mut buf = [0u8; 1024];
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    port
}

/// A server whose e-mail goes to a stalled SMTP peer, with a one-second deadline.
async fn app_with_stalled_smtp(extra: &[(&str, &str)]) -> TestApp {
    let port = stalled_smtp_server().await;
    let url = format!("smtp://127.0.0.1:{port}");
    let mut vars = vec![
        ("YUEJU_SMTP_URL", url.as_str()),
        ("YUEJU_HTTP_TIMEOUT_SECS", "1"),
    ];
    vars.extend_from_slice(extra);
    spawn_app_with(&vars).await
}

#[tokio::test]
async fn an_smtp_server_that_greets_and_then_stalls_costs_one_attempt_within_the_deadline() {
    let app = app_with_stalled_smtp(&[]).await;
    app.chen_with_notices(1).await;
    let (r, took) = staff_delivery(&app).await;
    assert_eq!(r.body["sent"], 0, "{}", r.text);
    assert!(r.body["failed"].as_u64().unwrap() >= 1, "{}", r.text);
    assert!(took < Duration::from_secs(15), "took {took:?}");
    use sea_orm::EntityTrait;
    let notices = entity::outbox::Entity::find()
        .all(&app.app.db)
        .await
        .unwrap();
    assert!(
        notices
            .iter()
            .any(|n| n.status == entity::statuses::OutboxStatus::Pending
                && n.last_error.as_deref().unwrap_or("").contains("timed out")),
        "{:?}",
        notices.iter().map(|n| &n.last_error).collect::<Vec<_>>()
    );
}

async fn staff_delivery(app: &TestApp) -> (Reply, Duration) {
    let admin = app.admin_token().await;
    let started = Instant::now();
    let r = app
        .post(
            "/api/v1/staff/reminders/run",
            &json!({"deliver": true}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    (r, started.elapsed())
}

#[tokio::test]
async fn a_stalled_peer_holds_one_delivery_slot_at_a_time_not_the_whole_run() {
    let app = app_with_stalled_smtp(&[]).await;
    app.chen_with_notices(16).await;
    let (r, took) = staff_delivery(&app).await;
    assert_eq!(r.body["failed"], 16, "{}", r.text);
    assert_eq!(r.body["unfinished"], 0, "{}", r.text);
    // Sixteen one-second deadlines, eight at a time: about two seconds, not sixteen.
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

#[tokio::test]
async fn the_staff_trigger_answers_within_its_budget_and_reports_what_it_left() {
    let app = app_with_stalled_smtp(&[("YUEJU_STAFF_RUN_BUDGET_SECS", "1")]).await;
    app.chen_with_notices(40).await;
    let (r, took) = staff_delivery(&app).await;
    assert!(took < Duration::from_secs(6), "took {took:?}");
    let failed = r.body["failed"].as_u64().unwrap();
    let unfinished = r.body["unfinished"].as_u64().unwrap();
    assert!(unfinished > 0, "{}", r.text);
    assert_eq!(failed + unfinished, 40, "{}", r.text);
}
