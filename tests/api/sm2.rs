//! SM2 with SM3 end to end (`YUEJU_SIGNING_ALG=SM2`): every signed thing (permit, 粤居码,
//! status list, annotated copy, residence proof) is signed by the SM2 key and names it, and
//! verifies online, with the published keys and with `yueju verify`; switching the algorithm
//! keeps what the other one signed verifying.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
use chrono::Utc;
use serde_json::{Value, json};
use service::consent::annotated_copy::{self, SignedCopy};
use service::keys::signing::{PublishedKey, jcs, verify_published_alg, verify_value_alg};
use service::verify::{codes, offline, status_list};

use crate::helpers::*;

async fn published(app: &TestApp) -> Vec<PublishedKey> {
    let r = app.get("/api/v1/keys", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    serde_json::from_value(r.body["keys"].clone()).unwrap()
}

fn active(keys: &[PublishedKey]) -> &PublishedKey {
    let active: Vec<_> = keys
        .iter()
        .filter(|k| k.status == service::keys::signing::KeyStatus::Active)
        .collect();
    assert_eq!(active.len(), 1, "{keys:?}");
    active[0]
}

/// An agency with a grant from Chen; answers the agency and the grant id.
async fn grant(app: &TestApp, chen: &Tokens) -> (AgencyClient, String) {
    let agency = app
        .agency(
            21,
            "广州市天河区人力资源和社会保障局",
            &["permit:verify", "permit:download"],
            &["name", "residence_address", "valid_until"],
        )
        .await;
    let code = app.code(&chen.access).await;
    let r = app.ask_access(&agency, &code, "办理就业登记", 30).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let g = app
        .decide(&chen.access, r.body["id"].as_str().unwrap(), "approve")
        .await;
    assert_eq!(g.status, 201, "{}", g.text);
    (agency, g.body["id"].as_str().unwrap().to_owned())
}

async fn download(app: &TestApp, agency: &AgencyClient, grant_id: &str) -> SignedCopy {
    let r = app
        .get(
            &format!("/api/v1/agency/authorizations/{grant_id}/annotated-copy"),
            Some(&agency.token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    serde_json::from_value(r.body).unwrap()
}

async fn proof(app: &TestApp, chen: &Tokens) -> Value {
    let r = app
        .post(
            "/api/v1/me/residence-proofs",
            &json!({"city": "广州市", "min_years": 1}),
            Some(&chen.access),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    json!({
        "statement": r.body["statement"],
        "alg": r.body["alg"],
        "kid": r.body["kid"],
        "signature": r.body["signature"],
    })
}

async fn proof_is_valid(app: &TestApp, proof: &Value) -> bool {
    let r = app
        .post("/api/v1/verify/residence-proof", proof, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["valid"] == true
}

/// The JOSE header of a compact JWS.
fn jws_header(token: &str) -> Value {
    let b64 = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(b64).unwrap()).unwrap()
}

/// What the envelope's signature covers, rebuilt from the JSON as served: RFC 8785 of the
/// envelope without `signature`.
fn envelope_without_signature(copy: &SignedCopy) -> Vec<u8> {
    let mut envelope = serde_json::to_value(copy).unwrap();
    envelope.as_object_mut().unwrap().remove("signature");
    jcs(&envelope).unwrap()
}

#[tokio::test]
async fn with_sm2_chosen_every_signed_thing_is_signed_by_the_sm2_key_and_verifies() {
    let app = spawn_app_with(&[("YUEJU_SIGNING_ALG", "SM2")]).await;
    let keys = published(&app).await;
    // Both algorithms are published; the SM2 key signs.
    let sm2 = active(&keys).clone();
    let jwk = serde_json::to_value(&sm2).unwrap();
    assert_eq!(
        (&jwk["alg"], &jwk["kty"], &jwk["crv"]),
        (&json!("SM2"), &json!("EC"), &json!("SM2"))
    );
    for member in ["kid", "x", "y", "status"] {
        assert!(jwk[member].is_string(), "{member}: {jwk}");
    }
    assert!(
        keys.iter()
            .any(|k| k.alg == "EdDSA" && k.crv == "Ed25519" && k.y.is_none()),
        "{keys:?}"
    );

    // Apply: the permit is issued and its document signed by the SM2 key.
    let chen = app.chen_with_permit().await;
    let document = app.permit_document(&chen.access).await;
    assert_eq!(document["alg"], "SM2", "{document}");
    assert_eq!(document["kid"], sm2.kid.as_str());
    assert!(verify_value_alg(
        &keys,
        "SM2",
        &sm2.kid,
        service::permit::permits::SIGNATURE_PURPOSE,
        &document["document"],
        document["signature"].as_str().unwrap(),
    ));

    // The code: SM2-signed, still a version-7 QR, valid online and offline.
    let code = app.code(&chen.access).await;
    let (claims, _, _) = codes::decode(&code).unwrap();
    assert_eq!(claims.alg, service::keys::signing::Alg::Sm2);
    assert_eq!(claims.kid, sm2.kid);
    assert_eq!(code.len(), 3 + 173);
    let verdict = app.verify(&code, None).await;
    assert_eq!(verdict.body["valid"], true, "{}", verdict.text);

    // The status list: a JWS with alg SM2, checked with the published keys.
    let uri = verdict.body["status_list"]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = app.get(&uri, None).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let header = jws_header(&list.text);
    assert_eq!(header["alg"], "SM2");
    assert_eq!(header["kid"], sm2.kid.as_str());
    let checked = status_list::verify(&list.text, &keys, Utc::now()).unwrap();
    assert_eq!(checked.kid(), sm2.kid);
    let offline =
        offline::verify_offline(&keys, &code, std::slice::from_ref(&list.text), Utc::now());
    assert_eq!(offline.valid, Some(true), "{offline:?}");

    // `yueju verify` with the keys and the list as served.
    let dir = tempfile::tempdir().unwrap();
    let keys_file = dir.path().join("keys.json");
    std::fs::write(&keys_file, app.get("/api/v1/keys", None).await.text).unwrap();
    let list_file = dir.path().join("list.jwt");
    std::fs::write(&list_file, &list.text).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_yueju"))
        .arg("verify")
        .arg(&code)
        .arg("--keys")
        .arg(&keys_file)
        .arg("--status-list")
        .arg(&list_file)
        .env("YUEJU_DATA_DIR", dir.path())
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The annotated copy: alg SM2, over RFC 8785 of the envelope without its signature.
    let (agency, grant_id) = grant(&app, &chen).await;
    let copy = download(&app, &agency, &grant_id).await;
    assert_eq!(
        (copy.alg.as_str(), copy.kid.as_str()),
        ("SM2", sm2.kid.as_str())
    );
    assert!(annotated_copy::verify(&keys, &copy));
    let signature = B64.decode(&copy.signature).unwrap();
    assert_eq!(signature.len(), 64);
    assert!(
        verify_published_alg(
            &keys,
            "SM2",
            &copy.kid,
            &envelope_without_signature(&copy),
            &signature
        )
        .is_ok()
    );
    let mut altered = copy.clone();
    altered.copy["annotation"]["purpose"] = json!("办理其他业务");
    assert!(!annotated_copy::verify(&keys, &altered));
    let mut relabelled = copy.clone();
    relabelled.alg = "EdDSA".into();
    assert!(!annotated_copy::verify(&keys, &relabelled));

    // The residence proof.
    let proof = proof(&app, &chen).await;
    assert_eq!(proof["alg"], "SM2");
    assert!(proof_is_valid(&app, &proof).await);
    let mut relabelled = proof.clone();
    relabelled["alg"] = json!("EdDSA");
    assert!(!proof_is_valid(&app, &relabelled).await);
}

#[tokio::test]
async fn switching_to_sm2_keeps_everything_ed25519_signed_verifying() {
    let app = spawn_app().await;
    let chen = app.chen_with_permit().await;
    let old_keys = published(&app).await;
    let ed_kid = active(&old_keys).kid.clone();
    assert!(ed_kid.starts_with("ed25519-"));
    let old_code = app.code(&chen.access).await;
    let old_proof = proof(&app, &chen).await;
    let (agency, grant_id) = grant(&app, &chen).await;
    let old_copy = download(&app, &agency, &grant_id).await;
    assert_eq!(old_copy.alg, "EdDSA");
    let old_document = app.permit_document(&chen.access).await;
    assert_eq!(old_document["alg"], "EdDSA");

    // The same data directory and database, the setting switched.
    let switched = app.restart_with(&[("YUEJU_SIGNING_ALG", "SM2")]).await;
    let keys = published(&switched).await;
    let sm2_kid = active(&keys).kid.clone();
    assert!(sm2_kid.starts_with("sm2-"), "{keys:?}");
    assert!(
        keys.iter().any(|k| k.kid == ed_kid),
        "the EdDSA key stays published"
    );

    // What EdDSA signed still verifies, everywhere.
    assert_eq!(switched.verify(&old_code, None).await.body["valid"], true);
    assert!(proof_is_valid(&switched, &old_proof).await);
    assert!(annotated_copy::verify(&keys, &old_copy));
    let document = switched.permit_document(&chen.access).await;
    assert_eq!(document["alg"], "EdDSA");
    assert_eq!(document["kid"], ed_kid.as_str());

    // What is signed now is SM2.
    let new_code = switched.code(&chen.access).await;
    assert_eq!(codes::decode(&new_code).unwrap().0.kid, sm2_kid);
    assert_eq!(switched.verify(&new_code, None).await.body["valid"], true);
    let new_copy = download(&switched, &agency, &grant_id).await;
    assert_eq!(new_copy.kid, sm2_kid);
    assert!(annotated_copy::verify(&keys, &new_copy));

    // And back: what SM2 signed keeps verifying under EdDSA.
    let back = switched
        .restart_with(&[("YUEJU_SIGNING_ALG", "EdDSA")])
        .await;
    assert_eq!(back.verify(&new_code, None).await.body["valid"], true);
    assert_eq!(active(&published(&back).await).kid, ed_kid);
}

#[tokio::test]
async fn an_unknown_signing_algorithm_stops_start_up_naming_the_setting() {
    let vars = [("YUEJU_SIGNING_ALG", "RSA"), ("YUEJU_ENV", "dev")];
    let err = service::config::Settings::from_lookup(|k| {
        vars.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect_err("RSA is refused");
    assert!(format!("{err:#}").contains("YUEJU_SIGNING_ALG"), "{err:#}");
}

#[tokio::test]
async fn an_envelope_of_the_first_form_keeps_verifying_and_only_as_ed25519() {
    use service::keys::signing::{Alg, KeyRing, PrivateKey};
    let ring = KeyRing::local(
        vec![
            PrivateKey::generate(Alg::EdDsa).unwrap(),
            PrivateKey::generate(Alg::Sm2).unwrap(),
        ],
        vec![],
        Alg::EdDsa,
    )
    .unwrap();
    let keys = ring.published();
    let copy = json!({"type": annotated_copy::COPY_TYPE, "permit_no": "4401002026000001",
                      "annotation": {"purpose": "办理社保卡", "download_no": 1}});
    // Signed as copies were before RFC 8785: the purpose line and the sorted JSON of `copy`.
    let legacy = ring
        .sign_value(annotated_copy::SIGNATURE_PURPOSE, &copy)
        .await
        .unwrap();
    let old = SignedCopy {
        copy: copy.clone(),
        alg: "EdDSA".into(),
        kid: legacy.kid.clone(),
        signature: legacy.b64(),
    };
    assert!(annotated_copy::verify(&keys, &old));
    let mut changed = old.clone();
    changed.copy["annotation"]["download_no"] = json!(2);
    assert!(!annotated_copy::verify(&keys, &changed));

    // An SM2 envelope is only ever of the current form.
    let sm2_ring = KeyRing::local(
        vec![PrivateKey::sm2_from_bytes(&[5; 32]).unwrap()],
        vec![],
        Alg::Sm2,
    )
    .unwrap();
    let sm2_legacy = sm2_ring
        .sign_value(annotated_copy::SIGNATURE_PURPOSE, &copy)
        .await
        .unwrap();
    let old_sm2 = SignedCopy {
        copy,
        alg: "SM2".into(),
        kid: sm2_legacy.kid.clone(),
        signature: sm2_legacy.b64(),
    };
    assert!(!annotated_copy::verify(&sm2_ring.published(), &old_sm2));
}
