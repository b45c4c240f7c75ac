use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn data_that_proves_everything_issues_the_permit_at_once() {
    let app = spawn_app().await;
    let tokens = app.login_dev("demo-chen").await;
    let r = app.apply(&tokens.access, &chen_application(), None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "issued");
    assert_eq!(r.body["missing"], json!([]));
    let permit_no = r.body["permit_no"].as_str().unwrap();
    assert!(permit_no.starts_with("440100"), "{permit_no}");
    let permit = app.get("/api/v1/me/permit", Some(&tokens.access)).await;
    assert_eq!(permit.body["permit_no"], permit_no);
    assert_eq!(permit.body["status"], "valid");
}

#[tokio::test]
async fn unproved_conditions_ask_for_exactly_the_missing_kinds() {
    let app = spawn_app().await;
    let tokens = app.login_dev("demo-li").await;
    let body = json!({"city": "佛山", "district": "南海", "address": "桂城街道南海大道北45号", "residence_since": "2025-09-01", "basis": "employment"});
    let r = app.apply(&tokens.access, &body, None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "needs_materials");
    assert_eq!(r.body["missing"], json!(["employment_proof"]));
    assert!(
        r.body["missing_materials"][0]["label"]
            .as_str()
            .unwrap()
            .contains("就业证明")
    );
    assert_eq!(
        r.body["city"], "佛山市",
        "names are normalised to the official ones"
    );
    assert_eq!(r.body["district"], "南海区");
    assert_eq!(r.body["permit_no"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_stay_under_six_months_is_rejected_with_the_reason() {
    let app = spawn_app().await;
    let tokens = app
        .newcomer(
            "new-arrival",
            "110105199001010010",
            "周杰",
            "male",
            &days_ago(40),
            true,
        )
        .await;
    let body = json!({"city": "广州市", "district": "白云区", "address": "某路2号", "residence_since": days_ago(40), "basis": "employment"});
    let r = app.apply(&tokens.access, &body, None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "rejected");
    assert_eq!(r.body["reasons"][0]["code"], "RESIDENCE_TOO_SHORT");
    assert!(
        r.body["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("半年")
    );
}

#[tokio::test]
async fn living_in_the_household_city_is_rejected_with_every_reason() {
    let app = spawn_app().await;
    let tokens = app.bound_resident("liu", "刘洋", LIU_ID).await;
    let body = json!({"city": "广州市", "district": "海珠区", "address": "新港中路397号", "residence_since": days_ago(10), "basis": "employment"});
    let r = app.apply(&tokens.access, &body, None).await;
    assert_eq!(r.body["status"], "rejected", "{}", r.text);
    let codes: Vec<&str> = r.body["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["HUKOU_SAME_CITY", "RESIDENCE_TOO_SHORT"]);
}

#[tokio::test]
async fn shenzhen_is_refused_kindly() {
    let app = spawn_app().await;
    let tokens = app.login_dev("demo-chen").await;
    let body = json!({"city": "深圳市", "district": "南山区", "address": "科技园1号", "residence_since": "2024-01-01", "basis": "employment"});
    let r = app.apply(&tokens.access, &body, None).await;
    r.assert_error(422, "REGION_NOT_SUPPORTED");
    assert!(r.message().contains("深圳"));
}

#[tokio::test]
async fn bad_input_is_refused_with_a_clear_error_and_nothing_is_written() {
    let app = spawn_app().await;
    let tokens = app.login_dev("demo-chen").await;
    let base = chen_application();
    let with = |field: &str, value: serde_json::Value| {
        let mut b = base.clone();
        b[field] = value;
        b
    };
    let cases = [
        (with("city", json!("长沙市")), "UNKNOWN_CITY"),
        (with("district", json!("南山区")), "UNKNOWN_DISTRICT"),
        (
            with("residence_since", json!(days_ahead(3))),
            "VALIDATION_FAILED",
        ),
        (
            with("residence_since", json!("2024-02-30")),
            "VALIDATION_FAILED",
        ),
        (
            with("residence_since", json!("去年三月")),
            "VALIDATION_FAILED",
        ),
        (with("basis", json!("marriage")), "VALIDATION_FAILED"),
        (with("address", json!("  ")), "VALIDATION_FAILED"),
        (
            with("address", json!("长".repeat(121))),
            "VALIDATION_FAILED",
        ),
        (with("email", json!("not-an-email")), "VALIDATION_FAILED"),
    ];
    for (body, code) in cases {
        app.apply(&tokens.access, &body, None)
            .await
            .assert_error(422, code);
    }
    let mut missing = base.clone();
    missing.as_object_mut().unwrap().remove("basis");
    app.apply(&tokens.access, &missing, None)
        .await
        .assert_error(400, "INVALID_JSON");
    let list = app.get("/api/v1/applications", Some(&tokens.access)).await;
    assert_eq!(
        list.body["items"],
        json!([]),
        "no application may be half-written"
    );
}

#[tokio::test]
async fn applying_needs_a_bound_identity() {
    let app = spawn_app().await;
    let tokens = app.login_dev("not-bound").await;
    app.apply(&tokens.access, &chen_application(), None)
        .await
        .assert_error(403, "IDENTITY_REQUIRED");
    app.apply("garbage-token", &chen_application(), None)
        .await
        .assert_error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_repeat_with_the_same_idempotency_key_returns_the_first_answer() {
    let app = spawn_app().await;
    let tokens = app.login_dev("demo-li").await;
    let body = json!({"city": "佛山市", "district": "南海区", "address": "x路1号", "residence_since": "2025-09-01", "basis": "employment"});
    let first = app.apply(&tokens.access, &body, Some("key-1")).await;
    let again = app.apply(&tokens.access, &body, Some("key-1")).await;
    assert_eq!(first.status, 201);
    assert_eq!(again.status, 201);
    assert_eq!(first.body, again.body);
    let mut other = body.clone();
    other["address"] = json!("y路2号");
    app.apply(&tokens.access, &other, Some("key-1"))
        .await
        .assert_error(422, "IDEMPOTENCY_KEY_REUSED");
    app.apply(&tokens.access, &other, Some("key-2"))
        .await
        .assert_error(409, "APPLICATION_OPEN");
    app.apply(&tokens.access, &other, None)
        .await
        .assert_error(409, "APPLICATION_OPEN");
    let list = app.get("/api/v1/applications", Some(&tokens.access)).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_permit_holder_cannot_apply_again() {
    let app = spawn_app().await;
    let tokens = app.chen_with_permit().await;
    app.apply(&tokens.access, &chen_application(), None)
        .await
        .assert_error(409, "PERMIT_ALREADY_HELD");
}

#[tokio::test]
async fn other_residents_applications_answer_404() {
    let app = spawn_app().await;
    let li = app.login_dev("demo-li").await;
    let body = json!({"city": "佛山市", "district": "南海区", "address": "x路1号", "residence_since": "2025-09-01", "basis": "employment"});
    let id = app.apply(&li.access, &body, None).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let chen = app.login_dev("demo-chen").await;
    app.get(&format!("/api/v1/applications/{id}"), Some(&chen.access))
        .await
        .assert_error(404, "APPLICATION_NOT_FOUND");
    app.upload(&chen.access, &id, "employment_proof", PDF, "x.pdf")
        .await
        .assert_error(404, "APPLICATION_NOT_FOUND");
    let random = uuid::Uuid::new_v4();
    app.get(&format!("/api/v1/applications/{random}"), Some(&li.access))
        .await
        .assert_error(404, "APPLICATION_NOT_FOUND");
    app.get("/api/v1/applications/not-a-uuid", Some(&li.access))
        .await
        .assert_error(404, "NOT_FOUND");
    assert_eq!(
        app.get(&format!("/api/v1/applications/{id}"), Some(&li.access))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn applications_are_listed_a_page_at_a_time() {
    let app = spawn_app().await;
    let tokens = app.bound_resident("pager", "刘洋", LIU_ID).await;
    let body = json!({"city": "广州市", "district": "海珠区", "address": "x", "residence_since": "2020-05-01", "basis": "employment"});
    for _ in 0..3 {
        assert_eq!(
            app.apply(&tokens.access, &body, None).await.body["status"],
            "rejected"
        );
    }
    let first = app
        .get("/api/v1/applications?limit=2", Some(&tokens.access))
        .await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(
            &format!("/api/v1/applications?limit=2&cursor={cursor}"),
            Some(&tokens.access),
        )
        .await;
    assert_eq!(second.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(second.body["next_cursor"], serde_json::Value::Null);
    assert_ne!(first.body["items"][0]["id"], second.body["items"][0]["id"]);
    app.get("/api/v1/applications?cursor=bogus", Some(&tokens.access))
        .await
        .assert_error(422, "VALIDATION_FAILED");
}

async fn li_needing_materials(app: &TestApp) -> (Tokens, String) {
    let tokens = app.login_dev("demo-li").await;
    let body = json!({"city": "佛山市", "district": "南海区", "address": "桂城街道南海大道北45号", "residence_since": "2025-09-01", "basis": "employment", "email": "li@example.com"});
    let r = app.apply(&tokens.access, &body, None).await;
    assert_eq!(r.body["status"], "needs_materials", "{}", r.text);
    (tokens, r.body["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn materials_then_review_then_approval_issue_the_permit_and_notify_the_applicant() {
    let app = spawn_app().await;
    let (tokens, id) = li_needing_materials(&app).await;
    let r = app
        .upload(&tokens.access, &id, "employment_proof", PDF, "contract.pdf")
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "pending_review");
    assert_eq!(r.body["materials"][0]["mime"], "application/pdf");
    assert_eq!(r.body["materials"][0]["size_bytes"], PDF.len());
    let reviewer = app.staff_token("demo-reviewer", "demo-reviewer-pass").await;
    let queue = app
        .get(
            "/api/v1/staff/applications?status=pending_review",
            Some(&reviewer),
        )
        .await;
    assert_eq!(queue.status, 200, "{}", queue.text);
    let item = &queue.body["items"][0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["applicant_name"], "李*英");
    assert_eq!(item["applicant_id_number"], "4304**********2464");
    let detail = app
        .get(&format!("/api/v1/staff/applications/{id}"), Some(&reviewer))
        .await;
    assert_eq!(detail.body["applicant_id_number"], LI_ID);
    let material_id = detail.body["materials"][0]["id"].as_str().unwrap();
    let file = app
        .client
        .get(app.url(&format!(
            "/api/v1/staff/applications/{id}/materials/{material_id}"
        )))
        .bearer_auth(&reviewer)
        .send()
        .await
        .unwrap();
    assert_eq!(file.headers()["content-type"], "application/pdf");
    assert_eq!(file.bytes().await.unwrap().as_ref(), PDF);
    let decision = app
        .post(
            &format!("/api/v1/staff/applications/{id}/decision"),
            &json!({"approve": true, "reason": "劳动合同有效"}),
            Some(&reviewer),
        )
        .await;
    assert_eq!(decision.status, 200, "{}", decision.text);
    assert_eq!(decision.body["status"], "issued");
    let mine = app
        .get(&format!("/api/v1/applications/{id}"), Some(&tokens.access))
        .await;
    assert_eq!(mine.body["status"], "issued");
    assert!(
        mine.body["permit_no"]
            .as_str()
            .unwrap()
            .starts_with("440600")
    );
    assert_eq!(app.permit_status(&tokens.access).await, "valid");
    assert_eq!(app.outbox_kinds().await, ["application_decided"]);
    // A decided application cannot be decided again.
    app.post(
        &format!("/api/v1/staff/applications/{id}/decision"),
        &json!({"approve": false, "reason": "x"}),
        Some(&reviewer),
    )
    .await
    .assert_error(409, "APPLICATION_NOT_PENDING");
}

#[tokio::test]
async fn a_refusal_by_the_reviewer_needs_a_reason_and_is_told_to_the_applicant() {
    let app = spawn_app().await;
    let (tokens, id) = li_needing_materials(&app).await;
    app.upload(&tokens.access, &id, "employment_proof", PDF, "contract.pdf")
        .await;
    let reviewer = app.staff_token("demo-reviewer", "demo-reviewer-pass").await;
    let path = format!("/api/v1/staff/applications/{id}/decision");
    app.post(&path, &json!({"approve": false}), Some(&reviewer))
        .await
        .assert_error(422, "VALIDATION_FAILED");
    let r = app
        .post(
            &path,
            &json!({"approve": false, "reason": "合同已过期"}),
            Some(&reviewer),
        )
        .await;
    assert_eq!(r.body["status"], "rejected", "{}", r.text);
    let mine = app
        .get(&format!("/api/v1/applications/{id}"), Some(&tokens.access))
        .await;
    assert_eq!(mine.body["reasons"][0]["code"], "REVIEW_REJECTED");
    assert_eq!(app.outbox_kinds().await, ["application_decided"]);
    app.get("/api/v1/me/permit", Some(&tokens.access))
        .await
        .assert_error(404, "PERMIT_NOT_FOUND");
    // Refused, the resident may apply again.
    let again = json!({"city": "佛山市", "district": "南海区", "address": "x", "residence_since": "2025-09-01", "basis": "employment"});
    assert_eq!(app.apply(&tokens.access, &again, None).await.status, 201);
}

#[tokio::test]
async fn uploads_are_checked_by_content_size_kind_and_form() {
    let app = spawn_app_with(&[("YUEJU_MAX_UPLOAD_BYTES", "2048")]).await;
    let (tokens, id) = li_needing_materials(&app).await;
    app.upload(
        &tokens.access,
        &id,
        "employment_proof",
        b"just text, named like a PDF",
        "lie.pdf",
    )
    .await
    .assert_error(415, "UNSUPPORTED_FILE_TYPE");
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(10_000, b'a');
    app.upload(&tokens.access, &id, "employment_proof", &big, "big.pdf")
        .await
        .assert_error(413, "FILE_TOO_LARGE");
    app.upload(&tokens.access, &id, "study_proof", PDF, "x.pdf")
        .await
        .assert_error(422, "MATERIAL_NOT_NEEDED");
    app.upload(&tokens.access, &id, "diploma", PDF, "x.pdf")
        .await
        .assert_error(422, "VALIDATION_FAILED");
    let not_multipart = app
        .post(
            &format!("/api/v1/applications/{id}/materials"),
            &json!({"kind": "employment_proof"}),
            Some(&tokens.access),
        )
        .await;
    not_multipart.assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    let no_file = reqwest::multipart::Form::new().text("kind", "employment_proof");
    let r = app
        .client
        .post(app.url(&format!("/api/v1/applications/{id}/materials")))
        .bearer_auth(&tokens.access)
        .multipart(no_file)
        .send()
        .await
        .unwrap();
    reply(r).await.assert_error(400, "INVALID_REQUEST");
    let mine = app
        .get(&format!("/api/v1/applications/{id}"), Some(&tokens.access))
        .await;
    assert_eq!(mine.body["status"], "needs_materials");
    assert_eq!(mine.body["materials"], json!([]));
    // A real PNG is accepted whatever its name says.
    let png = png_image(4, 4);
    let r = app
        .upload(&tokens.access, &id, "employment_proof", &png, "scan.pdf")
        .await;
    assert_eq!(r.body["materials"][0]["mime"], "image/png", "{}", r.text);
    // The stored file is sealed, not the clear upload.
    let uploads = app.data_dir.path().join("uploads").join(&id);
    let stored = std::fs::read_dir(&uploads)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(stored).unwrap();
    assert!(!bytes.windows(4).any(|w| w == b"IHDR"));
}

#[tokio::test]
async fn the_review_queue_is_for_staff_only() {
    let app = spawn_app().await;
    let resident = app.login_dev("demo-li").await;
    app.get("/api/v1/staff/applications", Some(&resident.access))
        .await
        .assert_error(403, "FORBIDDEN");
    app.get("/api/v1/staff/applications", None)
        .await
        .assert_error(401, "UNAUTHENTICATED");
    let reviewer = app.staff_token("demo-reviewer", "demo-reviewer-pass").await;
    app.get("/api/v1/staff/applications?status=weird", Some(&reviewer))
        .await
        .assert_error(422, "VALIDATION_FAILED");
    let r = app
        .get(
            &format!("/api/v1/staff/applications/{}", uuid::Uuid::new_v4()),
            Some(&reviewer),
        )
        .await;
    r.assert_error(404, "APPLICATION_NOT_FOUND");
}
