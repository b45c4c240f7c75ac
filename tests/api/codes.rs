//! The 粤居码: showing it, verifying it online and offline, and the attacks on it.

use chrono::{Duration, Utc};
use serde_json::Value;
use service::keys::signing::{KeyRing, PublishedKey};
use service::verify::offline::verify_offline;

use crate::helpers::*;

async fn published(app: &TestApp) -> Vec<PublishedKey> {
    serde_json::from_value(app.get("/api/v1/keys", None).await.body["keys"].clone()).unwrap()
}

#[tokio::test]
async fn the_code_is_a_short_signed_token_shown_as_svg_or_png() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let r = app.get("/api/v1/me/code", Some(&chen.access)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.body["token"].as_str().unwrap();
    assert!(token.starts_with("YJ2") && token.len() <= 178, "{token}");
    let expires_at: chrono::DateTime<Utc> = r.body["expires_at"].as_str().unwrap().parse().unwrap();
    let ttl = expires_at - Utc::now();
    assert!(
        ttl > Duration::seconds(100) && ttl <= Duration::seconds(120),
        "{ttl}"
    );
    assert!(r.body["qr_svg"].as_str().unwrap().starts_with("<svg"));
    assert_eq!(r.headers["cache-control"], "no-store");

    let png = app
        .client
        .get(app.url("/api/v1/me/code?format=png"))
        .bearer_auth(&chen.access)
        .send()
        .await
        .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    let bytes = png.bytes().await.unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");

    app.get("/api/v1/me/code?format=gif", Some(&chen.access))
        .await
        .assert_error(400, "INVALID_REQUEST");
    let stranger = app.login_dev("nobody").await;
    app.get("/api/v1/me/code", Some(&stranger.access))
        .await
        .assert_error(403, "IDENTITY_REQUIRED");
}

#[tokio::test]
async fn each_new_code_differs_and_the_lifetime_is_configurable() {
    let app = spawn_app_with(&[("YUEJU_CODE_TTL_SECS", "300")]).await;
    let chen = app.chen_with_permit().await;
    let a = app.get("/api/v1/me/code", Some(&chen.access)).await;
    let b = app.get("/api/v1/me/code", Some(&chen.access)).await;
    assert_ne!(a.body["token"], b.body["token"]);
    let expires_at: chrono::DateTime<Utc> = a.body["expires_at"].as_str().unwrap().parse().unwrap();
    assert!(expires_at - Utc::now() > Duration::seconds(280));
}

#[tokio::test]
async fn the_card_svg_shows_the_permit_with_the_id_number_masked_and_a_code() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let r = app
        .client
        .get(app.url("/api/v1/me/permit/card.svg"))
        .bearer_auth(&chen.access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/svg+xml")
    );
    let svg = r.text().await.unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(svg.contains(CHEN_NAME));
    assert!(svg.contains("4405**********1234"));
    assert!(!svg.contains(CHEN_ID));
    assert!(svg.contains("广州市公安局"));
    assert!(svg.contains("粤居码"));
}

#[tokio::test]
async fn anyone_verifies_a_fresh_code_and_learns_only_the_masked_name() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let token = app.code(&chen.access).await;
    let r = app.verify(&token, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["valid"], true);
    assert_eq!(r.body["status"], "valid");
    assert_eq!(r.body["permit"]["name"], "陈*强");
    assert_eq!(
        r.body["permit"]["permit_no"],
        app.permit_no(&chen.access).await
    );
    assert!(r.body["permit"].get("issuing_authority").is_none());
    assert!(!r.text.contains(CHEN_ID));
    assert!(r.body.get("reason").is_none());
}

#[tokio::test]
async fn an_agency_with_the_verify_scope_sees_more_and_the_holder_sees_the_verification() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let agency = app
        .agency(1, "广州市天河区人社局", &["permit:verify"], &ALL_FIELDS)
        .await;
    let token = app.code(&chen.access).await;
    let r = app.verify(&token, Some(&agency.token)).await;
    assert_eq!(r.body["valid"], true, "{}", r.text);
    assert_eq!(r.body["permit"]["issuing_authority"], "广州市公安局");
    assert!(r.body["permit"].get("id_number").is_none());
    let log = app.get("/api/v1/me/access-log", Some(&chen.access)).await;
    assert_eq!(log.body["items"][0]["action"], "verify");
    assert_eq!(log.body["items"][0]["actor_name"], "广州市天河区人社局");

    // A token that is present but not an agency's is refused, not silently ignored.
    app.verify(&token, Some(&chen.access))
        .await
        .assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn every_altered_character_of_a_code_is_refused_with_a_reason() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let token = app.code(&chen.access).await;
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    for i in 3..token.len() {
        let mut chars: Vec<char> = token.chars().collect();
        chars[i] = alphabet.chars().find(|c| *c != chars[i]).unwrap();
        let altered: String = chars.into_iter().collect();
        let r = app.verify(&altered, None).await;
        assert_eq!(r.status, 200, "position {i}: {}", r.text);
        assert_eq!(r.body["valid"], false, "position {i}");
        let reason = r.body["reason"].as_str().unwrap();
        assert!(
            ["MALFORMED", "UNKNOWN_KEY", "BAD_SIGNATURE"].contains(&reason),
            "position {i}: {reason}"
        );
        assert!(r.body.get("permit").is_none());
    }
}

#[tokio::test]
async fn garbage_of_any_kind_is_a_clean_not_valid() {
    let app = spawn_app().await;
    for body in [
        "",
        "not json",
        "{}",
        r#"{"token": 5}"#,
        r#"{"token": null}"#,
        r#"{"token": ""}"#,
        r#"{"token": "YJ1"}"#,
        r#"{"token": "YJ1!!!!!!!!"}"#,
        r#"{"token": "粤居码"}"#,
        r#"[1,2,3]"#,
    ] {
        let r = reply(
            app.client
                .post(app.url("/api/v1/verify"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, 200, "{body}: {}", r.text);
        assert_eq!(r.body["valid"], false, "{body}");
        assert_eq!(r.body["reason"], "MALFORMED", "{body}");
    }
    let long = format!("YJ1{}", "A".repeat(60_000));
    let r = app.verify(&long, None).await;
    assert_eq!(r.body["valid"], false);
    // Past the JSON body limit (64 KiB) the body is not read at all.
    let huge = format!("YJ1{}", "A".repeat(100_000));
    app.verify(&huge, None)
        .await
        .assert_error(413, "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn a_code_signed_by_an_unknown_key_or_expired_is_refused() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let permit_no = app.permit_no(&chen.access).await;
    let stranger = KeyRing::from_keys(
        vec![ed25519_dalek::SigningKey::from_bytes(&[9; 32])],
        vec![],
    )
    .unwrap();
    let forged = app.code_signed_at(&stranger, &permit_no, Utc::now()).await;
    let r = app.verify(&forged, None).await;
    assert_eq!(r.body["valid"], false);
    assert_eq!(r.body["reason"], "UNKNOWN_KEY");

    let long_ago = Utc::now() - Duration::minutes(10);
    let expired = app
        .code_signed_at(&app.app.keys, &permit_no, long_ago)
        .await;
    let r = app.verify(&expired, None).await;
    assert_eq!(r.body["valid"], false);
    assert_eq!(r.body["reason"], "CODE_EXPIRED");
    assert!(
        r.body.get("permit").is_none(),
        "an expired code reveals nothing"
    );

    let future = Utc::now() + Duration::minutes(10);
    let early = app.code_signed_at(&app.app.keys, &permit_no, future).await;
    assert_eq!(
        app.verify(&early, None).await.body["reason"],
        "CODE_NOT_YET_VALID"
    );
}

#[tokio::test]
async fn codes_of_suspended_expired_and_revoked_permits_are_not_valid() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let permit_no = app.permit_no(&chen.access).await;

    app.set_permit_dates(&permit_no, Some(days_ago(1)), None)
        .await;
    let r = app.verify(&app.code(&chen.access).await, None).await;
    assert_eq!(r.body["valid"], false);
    assert_eq!(r.body["reason"], "PERMIT_SUSPENDED");
    assert_eq!(r.body["permit"]["status"], "suspended");

    app.set_permit_dates(&permit_no, Some(days_ago(2)), Some(days_ago(1)))
        .await;
    let r = app.verify(&app.code(&chen.access).await, None).await;
    assert_eq!(r.body["reason"], "PERMIT_EXPIRED");

    app.set_permit_dates(&permit_no, Some(days_ahead(300)), Some(days_ahead(900)))
        .await;
    let token = app.code(&chen.access).await;
    assert_eq!(app.verify(&token, None).await.body["valid"], true);
    app.revoke_permit(&permit_no).await;
    let r = app.verify(&token, None).await;
    assert_eq!(r.body["valid"], false);
    assert_eq!(r.body["reason"], "PERMIT_REVOKED");
}

#[tokio::test]
async fn a_revocation_made_through_another_instance_is_seen_here_within_a_second() {
    let app = spawn_app_with(&[("YUEJU_STATUS_SYNC_MS", "100")]).await;
    let other = app.another_instance().await;
    let chen = app.chen_with_permit().await;
    let permit_no = app.permit_no(&chen.access).await;
    let token = app.code(&chen.access).await;
    assert_eq!(app.verify(&token, None).await.body["valid"], true);

    other.revoke_permit(&permit_no).await;
    let started = std::time::Instant::now();
    loop {
        let r = app.verify(&token, None).await;
        if r.body["reason"] == "PERMIT_REVOKED" {
            break;
        }
        assert_eq!(r.body["valid"], true, "{}", r.text);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "still valid after a second"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn anonymous_verification_answers_from_the_code_and_the_lists_without_the_database() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let permit_no = app.permit_no(&chen.access).await;
    let token = app.code(&chen.access).await;
    // The permit tables gone, the anonymous answer is the same: nothing of them is read.
    // (An agency's verification reads them, and now fails as undetermined.)
    for table in ["access_log", "status_places", "permit_versions"] {
        let _ = app
            .app
            .db
            .execute_unprepared(&format!("ALTER TABLE {table} RENAME TO {table}_away"))
            .await;
    }
    let r = app.verify(&token, None).await;
    assert_eq!(r.body["valid"], true, "{}", r.text);
    assert_eq!(r.body["permit"]["permit_no"], permit_no.as_str());
    assert_eq!(r.body["permit"]["name"], "陈*强");
    let place = &r.body["status_list"];
    assert!(
        place["uri"]
            .as_str()
            .unwrap()
            .starts_with("/api/v1/status-lists/")
    );
    assert!(place["idx"].as_u64().is_some());
}

/// The place the code names, from `GET /me/permit`.
async fn place_of(app: &TestApp, resident: &str) -> (String, u64) {
    let r = app.get("/api/v1/me/permit", Some(resident)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let uri = r.body["status_list"]["uri"].as_str().unwrap().to_owned();
    (uri, r.body["status_list"]["idx"].as_u64().unwrap())
}

#[tokio::test]
async fn the_status_list_is_a_signed_token_that_lets_an_offline_verifier_decide() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let permit_no = app.permit_no(&chen.access).await;
    let keys = published(&app).await;
    let token = app.code(&chen.access).await;
    let (uri, idx) = place_of(&app, &chen.access).await;
    let verdict = app.verify(&token, None).await;
    assert_eq!(verdict.body["status_list"]["uri"], uri.as_str());
    assert_eq!(verdict.body["status_list"]["idx"], idx);

    // Without a list the status is undetermined, never "revoked".
    let offline = verify_offline(&keys, &token, &[], Utc::now());
    assert_eq!(offline.valid, None);
    assert!(offline.genuine);
    assert_eq!(offline.status, "undetermined");

    let r = app.get(&uri, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.headers["content-type"], "application/statuslist+jwt");
    let list = r.text.clone();
    let checked = service::verify::status_list::verify(&list, &keys, Utc::now()).unwrap();
    assert_eq!(checked.claims().sub, uri);
    assert_eq!(checked.claims().status_list.bits, 2);
    assert_eq!(checked.claims().ttl, 300);
    // A cache keeps it no longer than it has left (300 s from when it was signed).
    let cache_control = r.headers["cache-control"].to_str().unwrap();
    let max_age: i64 = cache_control
        .strip_prefix("public, max-age=")
        .unwrap()
        .parse()
        .unwrap();
    let left = checked.claims().exp - Utc::now().timestamp();
    assert!(
        (290..=300).contains(&max_age) && max_age <= left + 1,
        "{cache_control}"
    );
    let offline = verify_offline(&keys, &token, std::slice::from_ref(&list), Utc::now());
    assert_eq!(offline.valid, Some(true));

    app.revoke_permit(&permit_no).await;
    let revoked_list = app.get(&uri, None).await.text;
    assert_ne!(revoked_list, list, "the changed list is signed again");
    let offline = verify_offline(
        &keys,
        &token,
        std::slice::from_ref(&revoked_list),
        Utc::now(),
    );
    assert_eq!(offline.valid, Some(false));
    assert_eq!(offline.reason, Some("PERMIT_REVOKED"));

    // A tampered list, another list, or a stale one is not trusted: undetermined again.
    let mut tampered = revoked_list.clone();
    let at = tampered.len() - 10;
    tampered.replace_range(
        at..at + 1,
        if &tampered[at..at + 1] == "A" {
            "B"
        } else {
            "A"
        },
    );
    assert_eq!(
        verify_offline(&keys, &token, &[tampered], Utc::now()).valid,
        None
    );
    let later = Utc::now() + Duration::seconds(301);
    let fresh_then = app.code_signed_at(&app.app.keys, &permit_no, later).await;
    assert_eq!(
        verify_offline(&keys, &fresh_then, &[revoked_list], later).status,
        "undetermined"
    );
    assert_eq!(
        app.get("/api/v1/status-lists/999999", None).await.status,
        404
    );
    assert_eq!(app.get("/api/v1/status-lists/x", None).await.status, 404);
}

#[tokio::test]
async fn the_offline_verifier_command_needs_only_the_published_keys() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let dir = tempfile::tempdir().unwrap();
    let keys_file = dir.path().join("keys.json");
    std::fs::write(&keys_file, app.get("/api/v1/keys", None).await.text).unwrap();
    let (uri, _) = place_of(&app, &chen.access).await;
    let list_file = dir.path().join("status.jwt");
    std::fs::write(&list_file, app.get(&uri, None).await.text).unwrap();
    let token = app.code(&chen.access).await;

    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_yueju"))
            .arg("verify")
            .args(args)
            .env("YUEJU_DATA_DIR", dir.path())
            .output()
            .unwrap()
    };
    let keys = keys_file.to_str().unwrap();
    let out = run(&[&token, "--keys", keys]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["status"], "undetermined");
    assert_eq!(verdict["genuine"], true);

    let out = run(&[
        &token,
        "--keys",
        keys,
        "--status-list",
        list_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["valid"], true);
    assert_eq!(
        verdict["claims"]["permit_no"],
        app.permit_no(&chen.access).await
    );

    let mut altered = token.clone();
    altered.replace_range(40..41, if &token[40..41] == "A" { "B" } else { "A" });
    let out = run(&[&altered, "--keys", keys]);
    assert_eq!(out.status.code(), Some(1));
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["valid"], false);

    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
}
