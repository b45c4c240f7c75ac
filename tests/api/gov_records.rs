use base64::Engine as _;
use serde_json::json;
use service::domain::IdNumber;

use crate::helpers::*;

const NEW_ID: &str = "11010519491231002X";
const PNG_1X1: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82";

fn person(id: &str, name: &str) -> serde_json::Value {
    json!({"id_number": id, "name": name, "gender": "female", "ethnicity": "满族", "hukou_address": "北京市西城区某街1号"})
}

#[tokio::test]
async fn a_batch_writes_the_valid_records_and_reports_each_invalid_one() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let batch = json!({
        "people": [
            person(NEW_ID, "赵丽"),
            {"id_number": "123", "name": "坏号码", "gender": "male", "ethnicity": "汉族", "hukou_address": "某地"},
            {"id_number": WANG_ID, "name": WANG_NAME, "gender": "female", "ethnicity": "壮族", "hukou_address": "某地"},
            {"id_number": ZHANG_ID, "gender": "female", "ethnicity": "汉族", "hukou_address": "某地"}
        ],
        "residence_registrations": [
            {"id_number": NEW_ID, "city": "广州市", "district": "越秀区", "address": "广州市越秀区北京路1号", "since": "2024-03-01"},
            {"id_number": NEW_ID, "city": "广州市", "district": "越秀区", "address": "x", "since": "2999-01-01"},
            {"id_number": NEW_ID, "city": "广州市", "district": "越秀区", "address": "x", "since": "2024/03/01"}
        ],
        "employment": [{"id_number": NEW_ID, "employer": "某公司", "city": "广州市", "since": "2024-03-02"}],
        "housing": [
            {"id_number": NEW_ID, "city": "广州市", "address": "广州市越秀区北京路1号", "kind": "rented", "since": "2024-03-01"},
            {"id_number": NEW_ID, "city": "广州市", "address": "x", "kind": "castle", "since": "2024-03-01"}
        ],
        "schooling": [{"id_number": NEW_ID, "school": "某大学", "city": "广州市", "since": "2024-09-01"}]
    });
    let r = app
        .post("/api/v1/staff/gov-records", &batch, Some(&admin))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["upserted"], 5, "{}", r.text);
    let errors: Vec<(String, u64, String)> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(
                e["message"]
                    .as_str()
                    .unwrap()
                    .chars()
                    .any(|c| c > '\u{4e00}')
            );
            (
                e["list"].as_str().unwrap().to_owned(),
                e["index"].as_u64().unwrap(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("people", 1, "ID_NUMBER_INVALID"),
        ("people", 2, "GENDER_MISMATCH"),
        ("people", 3, "FIELD_MISSING"),
        ("residence_registrations", 1, "DATE_IN_FUTURE"),
        ("residence_registrations", 2, "FIELD_INVALID"),
        ("housing", 1, "FIELD_INVALID"),
    ];
    assert_eq!(errors.len(), expected.len(), "{errors:?}");
    for (list, index, code) in expected {
        assert!(
            errors.contains(&(list.to_owned(), index, code.to_owned())),
            "missing {list}[{index}] {code} in {errors:?}"
        );
    }
    // The new person can now bind; the refused change to Wang left his record as it was.
    let tokens = app.login_dev("imported").await;
    assert_eq!(app.bind(&tokens.access, "赵丽", NEW_ID).await.status, 200);
    let id = IdNumber::parse_at(NEW_ID, today()).unwrap();
    assert_eq!(
        app.app
            .gov
            .residence_registrations(&id)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(app.app.gov.housing(&id).await.unwrap().len(), 1);
    let wang = app
        .app
        .gov
        .household(&IdNumber::parse_at(WANG_ID, today()).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(wang.ethnicity, "壮族");
    assert_eq!(wang.gender, service::domain::Gender::Male);
}

#[tokio::test]
async fn sending_a_batch_again_replaces_records_instead_of_duplicating_them() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let batch = |address: &str| {
        json!({
            "people": [person(NEW_ID, "赵丽")],
            "residence_registrations": [{"id_number": NEW_ID, "city": "佛山市", "district": "禅城区", "address": address, "since": "2024-01-01"}]
        })
    };
    assert_eq!(
        app.post(
            "/api/v1/staff/gov-records",
            &batch("旧地址1号"),
            Some(&admin)
        )
        .await
        .status,
        200
    );
    assert_eq!(
        app.post(
            "/api/v1/staff/gov-records",
            &batch("新地址2号"),
            Some(&admin)
        )
        .await
        .status,
        200
    );
    let id = IdNumber::parse_at(NEW_ID, today()).unwrap();
    let regs = app.app.gov.residence_registrations(&id).await.unwrap();
    assert_eq!(regs.len(), 1);
    assert_eq!(regs[0].address, "新地址2号");
    // Updating the household record changes the name a binding must match.
    let renamed = json!({"people": [person(NEW_ID, "赵丽华")]});
    assert_eq!(
        app.post("/api/v1/staff/gov-records", &renamed, Some(&admin))
            .await
            .body["upserted"],
        1
    );
    let tokens = app.login_dev("renamed").await;
    app.bind(&tokens.access, "赵丽", NEW_ID)
        .await
        .assert_error(422, "IDENTITY_MISMATCH");
    assert_eq!(app.bind(&tokens.access, "赵丽华", NEW_ID).await.status, 200);
}

#[tokio::test]
async fn photos_must_really_be_jpeg_or_png() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut good = person(NEW_ID, "赵丽");
    good["photo_base64"] = json!(b64(PNG_1X1));
    let mut lying = person("110105194912310046", "钱芳");
    lying["photo_base64"] = json!(b64(b"%PDF-1.4 pretending to be a photo"));
    let mut not_base64 = person("110105194912310062", "孙红");
    not_base64["photo_base64"] = json!("***");
    let r = app
        .post(
            "/api/v1/staff/gov-records",
            &json!({"people": [good, lying, not_base64]}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.body["upserted"], 1, "{}", r.text);
    let codes: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["PHOTO_INVALID", "PHOTO_INVALID"], "{}", r.text);
    let household = app
        .app
        .gov
        .household(&IdNumber::parse_at(NEW_ID, today()).unwrap())
        .await
        .unwrap()
        .unwrap();
    let photo = household.photo.unwrap();
    assert_eq!(photo.mime, "image/png");
    assert_eq!(photo.bytes, PNG_1X1);
}

#[tokio::test]
async fn an_unknown_list_or_a_non_list_is_a_400() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.post(
        "/api/v1/staff/gov-records",
        &json!({"pets": []}),
        Some(&admin),
    )
    .await
    .assert_error(400, "INVALID_JSON");
    app.post(
        "/api/v1/staff/gov-records",
        &json!({"people": "everyone"}),
        Some(&admin),
    )
    .await
    .assert_error(400, "INVALID_JSON");
}

#[tokio::test]
async fn a_large_batch_lands_in_one_request() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let people: Vec<_> = (1..=700u32)
        .map(|n| {
            let first17 = format!("44010619900101{:03}", n);
            let id = with_check(&first17);
            let gender = if (n % 10) % 2 == 1 { "male" } else { "female" };
            json!({"id_number": id, "name": format!("测试{n}"), "gender": gender, "ethnicity": "汉族", "hukou_address": "广州市"})
        })
        .collect();
    let r = app
        .post(
            "/api/v1/staff/gov-records",
            &json!({"people": people}),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["upserted"], 700, "{}", r.text);
    assert_eq!(r.body["errors"].as_array().unwrap().len(), 0);
}

fn with_check(first17: &str) -> String {
    let c = service::domain::check_char(first17.as_bytes()) as char;
    format!("{first17}{c}")
}
