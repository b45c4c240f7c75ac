//! Delivery is at least once. These tests measure how often a mail goes twice when
//! acknowledgements are lost and when the server is killed mid-delivery, and check that
//! nothing is lost and that every copy carries its notice's Message-ID, so that a mail
//! system or the resident's client can fold the copies into one.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;

use crate::helpers::*;
use crate::smtp::SmtpSink;

async fn pending(app: &TestApp) -> u64 {
    entity::outbox::Entity::find()
        .filter(entity::outbox::Column::Status.eq("pending"))
        .count(&app.app.db)
        .await
        .unwrap()
}

/// What the SMTP server received: mails, distinct Message-IDs, and how many times each id came.
struct Received {
    mails: usize,
    by_id: HashMap<String, usize>,
    acks_dropped: usize,
}

impl Received {
    fn of(sink: &SmtpSink) -> Received {
        let messages = sink.messages();
        let mut by_id = HashMap::new();
        for m in &messages {
            let id = m["message_id"].as_str().unwrap().to_owned();
            assert!(
                id.starts_with("<notice-") && id.ends_with("@yueju.localhost>"),
                "{id}"
            );
            *by_id.entry(id).or_insert(0) += 1;
        }
        Received {
            mails: messages.len(),
            acks_dropped: messages
                .iter()
                .filter(|m| m["ack_dropped"] == Value::Bool(true))
                .count(),
            by_id,
        }
    }

    fn duplicates(&self) -> usize {
        self.mails - self.by_id.len()
    }
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd (apt-get install python3-aiosmtpd); .ci/run installs it and runs ignored tests"]
async fn a_lost_acknowledgement_costs_exactly_one_copy_with_the_same_message_id_and_loses_nothing()
{
    const NOTICES: usize = 200;
    let sink = SmtpSink::start_with(&["--drop-ack-every", "10"]);
    let url = sink.url();
    let app = spawn_app_with(&[("YUEJU_SMTP_URL", url.as_str())]).await;
    app.chen_with_notices(NOTICES).await;

    for _ in 0..10 {
        service::notices::delivery::run_once(&app.app)
            .await
            .unwrap();
        if pending(&app).await == 0 {
            break;
        }
        make_due(&app).await;
    }
    assert_eq!(pending(&app).await, 0, "notices left undelivered");

    let got = Received::of(&sink);
    eprintln!(
        "lost acknowledgements: {NOTICES} notices, {} mails, {} acknowledgements lost, {} duplicates",
        got.mails,
        got.acks_dropped,
        got.duplicates()
    );
    assert_eq!(got.by_id.len(), NOTICES, "every notice arrives");
    assert!(
        got.acks_dropped >= NOTICES / 10,
        "the sink dropped acknowledgements"
    );
    // Each lost acknowledgement is one resend, and only that: the copies are the lost ones.
    assert_eq!(got.duplicates(), got.acks_dropped);
}

/// The server as a separate process over the test's database and data directory, delivering
/// in the background.
fn start_server(app: &TestApp, smtp_url: &str) -> Child {
    let mut vars = app.vars.clone();
    for (k, v) in [
        ("YUEJU_SMTP_URL", smtp_url),
        ("YUEJU_BACKGROUND_JOBS", "true"),
        ("YUEJU_DELIVERY_INTERVAL_SECS", "1"),
        // A killed server's notices are claimed again this soon.
        ("YUEJU_DELIVERY_LEASE_SECS", "2"),
        ("YUEJU_DELIVERY_BACKOFF_SECS", "1"),
        ("YUEJU_DEMO_DATA", "false"),
    ] {
        vars.insert(k.into(), v.into());
    }
    Command::new(env!("CARGO_BIN_EXE_yueju"))
        .env_clear()
        .envs(vars)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server binary")
}

#[tokio::test]
#[ignore = "needs python3 with aiosmtpd (apt-get install python3-aiosmtpd); .ci/run installs it and runs ignored tests"]
async fn killing_the_server_mid_delivery_loses_nothing_and_resends_at_most_what_was_in_flight() {
    const NOTICES: usize = 300;
    const KILLS: usize = 5;
    // 100 ms a mail: with 8 at a time a life of the server ends with mails in flight.
    let sink = SmtpSink::start_with(&["--delay-ms", "100"]);
    let url = sink.url();
    let app = spawn_app_with(&[("YUEJU_SMTP_URL", url.as_str())]).await;
    app.chen_with_notices(NOTICES).await;

    let mut kills = 0;
    for life in 0..KILLS {
        let mut server = start_server(&app, &url);
        tokio::time::sleep(Duration::from_millis(1200 + 150 * life as u64)).await;
        server.kill().expect("kill -9"); // SIGKILL: no shutdown, no cleanup
        server.wait().unwrap();
        kills += 1;
    }
    let delivered_before_last_life = Received::of(&sink).by_id.len();

    let mut server = start_server(&app, &url);
    let deadline = Instant::now() + Duration::from_secs(90);
    while pending(&app).await > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(pending(&app).await, 0, "notices left undelivered");

    let got = Received::of(&sink);
    eprintln!(
        "kill -9: {NOTICES} notices, {kills} kills, {delivered_before_last_life} delivered before the last start, {} mails, {} duplicates",
        got.mails,
        got.duplicates()
    );
    assert!(
        delivered_before_last_life > 0,
        "the killed servers delivered something"
    );
    assert_eq!(got.by_id.len(), NOTICES, "every notice arrives");
    // A kill can only catch the notices one worker has in flight; the rest were marked.
    assert!(
        got.duplicates() <= kills * service::notices::delivery::CONCURRENCY,
        "{} duplicates over {kills} kills",
        got.duplicates()
    );
    assert!(got.by_id.values().all(|&copies| copies <= 1 + kills));
}
