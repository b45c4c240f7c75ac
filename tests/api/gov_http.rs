//! The HTTP adapter of the government-data port, against a local fake of the exchange.

use actix_web::{HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use service::Refusal;
use service::domain::IdNumber;
use service::govdata::{GovDataSource, HousingKind, HttpGovData};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::*;

const TOKEN: &str = "exchange-token";

#[derive(Default)]
struct Seen {
    paths: Vec<String>,
    auth: Vec<String>,
}

async fn start_exchange() -> (String, Arc<Mutex<Seen>>) {
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let recorded = seen.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        let recorded = recorded.clone();
        actix_web::App::new().route(
            "/v1/{dataset}",
            web::post().to(
                move |req: HttpRequest, path: web::Path<String>, body: web::Json<Value>| {
                    let recorded = recorded.clone();
                    async move {
                        let auth = req
                            .headers()
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        {
                            let mut s = recorded.lock().unwrap();
                            s.paths.push(req.uri().to_string());
                            s.auth.push(auth.clone());
                        }
                        if auth != format!("Bearer {TOKEN}") {
                            return HttpResponse::Unauthorized().finish();
                        }
                        exchange_answer(&path, body["id_number"].as_str().unwrap_or(""))
                    }
                },
            ),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (base, seen)
}

fn exchange_answer(dataset: &str, id: &str) -> HttpResponse {
    if id == "500" {
        return HttpResponse::InternalServerError().finish();
    }
    let known = id == WANG_ID;
    let body = match dataset {
        "household" if known => {
            json!({"record": {"name": WANG_NAME, "gender": "male", "ethnicity": "壮族", "hukou_address": "广西南宁某路1号"}})
        }
        "household" => json!({"record": null}),
        "residence-registrations" if known => {
            json!({"records": [{"city": "东莞市", "district": "南城街道", "address": "东莞某路2号", "since": "2025-01-02"}]})
        }
        "employment" if known => {
            json!({"records": [{"employer": "某厂", "city": "东莞市", "since": "2025-01-03"}]})
        }
        "housing" if known => {
            json!({"records": [{"city": "东莞市", "address": "东莞某路2号", "kind": "rented", "since": "2025-01-04"}]})
        }
        "schooling" if known => {
            json!({"records": [{"school": "东莞理工学院", "city": "东莞市", "since": "2025-09-01"}]})
        }
        "residence-registrations" | "employment" | "housing" | "schooling" => {
            json!({"records": []})
        }
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok().json(body)
}

#[tokio::test]
async fn the_http_adapter_reads_every_dataset_from_the_exchange() {
    let (base, seen) = start_exchange().await;
    let gov = HttpGovData::new(&base, Some(TOKEN.into()), Duration::from_secs(5)).unwrap();
    let wang = IdNumber::parse_at(WANG_ID, today()).unwrap();
    let household = gov.household(&wang).await.unwrap().unwrap();
    assert_eq!(household.name, WANG_NAME);
    assert_eq!(
        household.hukou_region_code, "450103",
        "defaults to the ID number's region"
    );
    assert_eq!(
        gov.residence_registrations(&wang).await.unwrap()[0].district,
        "南城街道"
    );
    assert_eq!(gov.employment(&wang).await.unwrap()[0].employer, "某厂");
    assert_eq!(
        gov.housing(&wang).await.unwrap()[0].kind,
        HousingKind::Rented
    );
    assert_eq!(
        gov.schooling(&wang).await.unwrap()[0].school,
        "东莞理工学院"
    );
    let nobody = IdNumber::parse_at(CHEN_ID, today()).unwrap();
    assert!(gov.household(&nobody).await.unwrap().is_none());
    assert!(gov.employment(&nobody).await.unwrap().is_empty());
    let seen = seen.lock().unwrap();
    assert!(
        seen.paths
            .iter()
            .all(|p| !p.contains(WANG_ID) && !p.contains(CHEN_ID)),
        "ID numbers must not travel in URLs"
    );
    assert!(seen.auth.iter().all(|a| a == &format!("Bearer {TOKEN}")));
}

#[tokio::test]
async fn exchange_failures_are_reported_as_unavailable_never_as_no_record() {
    let (base, _) = start_exchange().await;
    let wang = IdNumber::parse_at(WANG_ID, today()).unwrap();
    let wrong_token =
        HttpGovData::new(&base, Some("wrong".into()), Duration::from_secs(5)).unwrap();
    let err = wrong_token.household(&wang).await.unwrap_err();
    assert!(
        matches!(err, service::Error::Refused(Refusal::GovDataUnavailable)),
        "{err:?}"
    );
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = HttpGovData::new(&dead, None, Duration::from_secs(2)).unwrap();
    let err = unreachable.employment(&wang).await.unwrap_err();
    assert!(
        matches!(err, service::Error::Refused(Refusal::GovDataUnavailable)),
        "{err:?}"
    );
}

#[tokio::test]
async fn binding_through_the_http_adapter_works_end_to_end() {
    let (base, _) = start_exchange().await;
    let app = spawn_app_with(&[
        ("YUEJU_GOV_DATA", "http"),
        ("YUEJU_GOV_API_BASE", &base),
        ("YUEJU_GOV_API_TOKEN", TOKEN),
        ("YUEJU_DEMO_DATA", "false"),
    ])
    .await;
    let tokens = app.login_dev("via-http").await;
    let r = app.bind(&tokens.access, WANG_NAME, WANG_ID).await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.bind(&tokens.access, CHEN_NAME, CHEN_ID)
        .await
        .assert_error(422, "IDENTITY_MISMATCH");
}

#[tokio::test]
async fn an_unreachable_exchange_is_a_503_for_the_resident() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let app = spawn_app_with(&[
        ("YUEJU_GOV_DATA", "http"),
        ("YUEJU_GOV_API_BASE", &dead),
        ("YUEJU_DEMO_DATA", "false"),
    ])
    .await;
    let tokens = app.login_dev("no-exchange").await;
    app.bind(&tokens.access, WANG_NAME, WANG_ID)
        .await
        .assert_error(503, "GOV_DATA_UNAVAILABLE");
}

#[tokio::test]
async fn an_exchange_that_accepts_and_never_answers_is_unavailable_within_the_deadline() {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    let stalled = HttpGovData::new(&base, None, Duration::from_secs(1)).unwrap();
    let wang = IdNumber::parse_at(WANG_ID, today()).unwrap();
    let started = std::time::Instant::now();
    let err = stalled.household(&wang).await.unwrap_err();
    assert!(
        matches!(err, service::Error::Refused(Refusal::GovDataUnavailable)),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
