use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_answers_ok_in_plain_text() {
    let app = spawn_app().await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, "ok");
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
}

#[tokio::test]
async fn readyz_reports_the_database_ready() {
    let app = spawn_app().await;
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["database"], "ok");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let a = app.get("/healthz", None).await;
    let b = app.get("/healthz", None).await;
    let id_a = a.headers["x-request-id"].to_str().unwrap().to_owned();
    let id_b = b.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id_a.len(), 36);
    assert_ne!(id_a, id_b);
}

#[tokio::test]
async fn unknown_paths_answer_404_in_the_error_shape() {
    let app = spawn_app().await;
    let r = app.get("/api/v1/no-such-thing", None).await;
    r.assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn the_start_page_is_served_in_chinese() {
    let app = spawn_app().await;
    let r = app.get("/", None).await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("广东省电子居住证"));
    assert!(r.text.contains("dev:demo-chen"));
}
