use super::*;
use serde_json::json;

fn ring(seeds: &[u8]) -> KeyRing {
    KeyRing::from_keys(
        seeds
            .iter()
            .map(|s| ed25519_dalek::SigningKey::from_bytes(&[*s; 32]))
            .collect(),
        vec![],
    )
    .unwrap()
}

fn sm2_key(seed: u8) -> PrivateKey {
    PrivateKey::sm2_from_bytes(&[seed; 32]).unwrap()
}

fn ed_key(seed: u8) -> PrivateKey {
    PrivateKey::from(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
}

/// Both algorithms in one ring, `alg` signing.
fn mixed(alg: Alg) -> KeyRing {
    KeyRing::local(vec![ed_key(1), sm2_key(2)], vec![], alg).unwrap()
}

#[test]
fn canonical_json_sorts_keys_at_every_depth_and_drops_white_space() {
    let v = json!({"b": 1, "a": {"d": [2, {"z": 1, "y": 2}], "c": "中"}});
    assert_eq!(
        String::from_utf8(canonical_json(&v)).unwrap(),
        r#"{"a":{"c":"中","d":[2,{"y":2,"z":1}]},"b":1}"#
    );
}

#[test]
fn jcs_gives_rfc_8785s_canonical_forms() {
    // RFC 8785 §3.2.2 (the sample input, its output in §3.2.3).
    let input: Value = serde_json::from_str(
        r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(jcs(&input).unwrap()).unwrap(),
        r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
    );
    // RFC 8785 §3.2.3: properties sorted by their UTF-16 code units.
    let sorting: Value = serde_json::from_str(
        r#"{"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}"#,
    )
    .unwrap();
    let canonical = String::from_utf8(jcs(&sorting).unwrap()).unwrap();
    let order: Vec<usize> = [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]
    .iter()
    .map(|name| canonical.find(name).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{canonical}");
}

#[tokio::test]
async fn a_signature_verifies_and_fails_after_any_one_bit_change_in_both_algorithms() {
    for alg in Alg::ALL {
        let ring = mixed(alg);
        let message = signed_message("test", &json!({"permit_no": "440100202600001"}));
        let signed = ring.sign(&message).await.unwrap();
        assert_eq!(signed.alg, alg);
        assert_eq!(signed.kid, ring.signing_kid());
        assert_eq!(Alg::of_kid(&signed.kid), Some(alg));
        let sig = signed.to_bytes();
        assert!(ring.verify(ring.signing_kid(), &message, &sig).is_ok());
        assert!(
            ring.verify_alg(alg, ring.signing_kid(), &message, &sig)
                .is_ok()
        );
        for i in 0..message.len() * 8 {
            let mut m = message.clone();
            m[i / 8] ^= 1 << (i % 8);
            assert_eq!(
                ring.verify(ring.signing_kid(), &m, &sig),
                Err(VerifyError::BadSignature),
                "{alg} message bit {i}"
            );
        }
        for i in 0..sig.len() * 8 {
            let mut s = sig;
            s[i / 8] ^= 1 << (i % 8);
            assert!(
                ring.verify(ring.signing_kid(), &message, &s).is_err(),
                "{alg} signature bit {i}"
            );
        }
        // The same key id under the other algorithm is no key.
        let other = Alg::ALL.into_iter().find(|a| *a != alg).unwrap();
        assert_eq!(
            ring.verify_alg(other, ring.signing_kid(), &message, &sig),
            Err(VerifyError::UnknownKey)
        );
        let published = ring.published();
        assert!(verify_with_published(&published, &signed.kid, &message, &sig).is_ok());
        assert!(
            verify_published_alg(&published, alg.as_str(), &signed.kid, &message, &sig).is_ok()
        );
        assert_eq!(
            verify_published_alg(&published, other.as_str(), &signed.kid, &message, &sig),
            Err(VerifyError::UnknownKey)
        );
    }
}

#[tokio::test]
async fn retired_keys_keep_verifying_and_only_the_first_signs() {
    let old = ring(&[1]);
    let message = b"old document";
    let sig = old.sign(message).await.unwrap().to_bytes();
    let rotated = ring(&[2, 1]);
    assert_ne!(rotated.signing_kid(), old.signing_kid());
    assert!(rotated.verify(old.signing_kid(), message, &sig).is_ok());
    let published = rotated.published();
    assert_eq!(published.len(), 2);
    assert_eq!(published[0].status, KeyStatus::Active);
    assert_eq!(published[1].status, KeyStatus::Retired);
    assert!(verify_with_published(&published, old.signing_kid(), message, &sig).is_ok());
    assert_eq!(
        verify_with_published(&published, "ed25519-unknown", message, &sig),
        Err(VerifyError::UnknownKey)
    );
}

#[tokio::test]
async fn switching_the_algorithm_keeps_what_the_other_one_signed_verifying() {
    let ed = mixed(Alg::EdDsa);
    let by_ed = ed.sign(b"issued under EdDSA").await.unwrap();
    let sm = mixed(Alg::Sm2);
    let by_sm = sm.sign(b"issued under SM2").await.unwrap();
    assert_eq!((by_ed.alg, by_sm.alg), (Alg::EdDsa, Alg::Sm2));
    for ring in [&ed, &sm] {
        assert!(
            ring.verify(&by_ed.kid, b"issued under EdDSA", &by_ed.bytes)
                .is_ok()
        );
        assert!(
            ring.verify(&by_sm.kid, b"issued under SM2", &by_sm.bytes)
                .is_ok()
        );
        let published = ring.published();
        let active: Vec<_> = published
            .iter()
            .filter(|k| k.status == KeyStatus::Active)
            .map(|k| k.alg.as_str())
            .collect();
        assert_eq!(active, [ring.signing_alg().as_str()]);
    }
    // A ring told to sign with an algorithm it holds no key of does not start.
    assert!(KeyRing::local(vec![ed_key(1)], vec![], Alg::Sm2).is_err());
}

#[test]
fn an_sm2_key_is_published_as_an_ec_jwk_with_x_and_y() {
    let ring = mixed(Alg::Sm2);
    let published = ring.published();
    let sm2 = published.iter().find(|k| k.alg == "SM2").unwrap();
    let json = serde_json::to_value(sm2).unwrap();
    let mut fields: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["alg", "crv", "kid", "kty", "status", "use", "x", "y"]
    );
    assert_eq!(
        (json["kty"].as_str(), json["crv"].as_str()),
        (Some("EC"), Some("SM2"))
    );
    assert_eq!(URL_SAFE_NO_PAD.decode(sm2.x.as_str()).unwrap().len(), 32);
    assert_eq!(sm2.public_key().unwrap().kid(), sm2.kid);
    let ed = published.iter().find(|k| k.alg == "EdDSA").unwrap();
    assert!(serde_json::to_value(ed).unwrap().get("y").is_none());
    // A JWK whose fields disagree with its algorithm is no key.
    let mut wrong = sm2.clone();
    wrong.crv = "P-256".into();
    assert!(wrong.public_key().is_none());
    let mut swapped = ed.clone();
    swapped.alg = "SM2".into();
    assert!(swapped.public_key().is_none());
}

mod openssl {
    //! SM2 both ways against OpenSSL 3 (`openssl pkeyutl -rawin -digest sm3 -pkeyopt
    //! distid:…`), which signs and verifies with its own SM2 and SM3.
    use super::*;
    use std::process::Command;

    const IGNORED: &str = "needs openssl 3 with SM2 (.ci/run checks it)";

    struct Dir(std::path::PathBuf);

    impl Dir {
        fn new() -> Dir {
            let path = std::env::temp_dir().join(format!(
                "yueju-sm2-{}",
                hex::encode(crate::keys::secrets::random_bytes::<8>().unwrap())
            ));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }
        fn file(&self, name: &str, bytes: &[u8]) -> String {
            let path = self.0.join(name);
            std::fs::write(&path, bytes).unwrap();
            path.display().to_string()
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn openssl(args: &[&str]) -> std::process::Output {
        Command::new("openssl")
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{IGNORED}: {e}"))
    }

    fn verify_there(dir: &Dir, public_pem: &str, message: &[u8], der: &[u8], id: &str) -> bool {
        let key = dir.file("pub.pem", public_pem.as_bytes());
        let msg = dir.file("msg", message);
        let sig = dir.file("sig.der", der);
        let distid = format!("distid:{id}");
        openssl(&[
            "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", &key, "-in",
            &msg, "-sigfile", &sig, "-pkeyopt", &distid,
        ])
        .status
        .success()
    }

    #[test]
    #[ignore = "needs openssl 3 with SM2 (.ci/run checks it)"]
    fn our_sm2_signature_verifies_in_openssl_and_not_under_another_user_id() {
        let dir = Dir::new();
        let key = PrivateKey::generate(Alg::Sm2).unwrap();
        let message = "yueju-code-v2\n粤居码".as_bytes();
        let der = algs::sm2_signature_der(&key.sign(message)).unwrap();
        let public = key.public().to_spki_pem().unwrap();
        assert!(verify_there(&dir, &public, message, &der, SM2_USER_ID));
        assert!(!verify_there(
            &dir,
            &public,
            message,
            &der,
            "1234567812345679"
        ));
        assert!(!verify_there(
            &dir,
            &public,
            b"yueju-code-v2\nanother",
            &der,
            SM2_USER_ID
        ));
    }

    #[test]
    #[ignore = "needs openssl 3 with SM2 (.ci/run checks it)"]
    fn an_openssl_sm2_signature_verifies_here_and_not_with_another_user_id() {
        let dir = Dir::new();
        let key_path = dir.0.join("key.pem").display().to_string();
        assert!(
            openssl(&["genpkey", "-algorithm", "SM2", "-out", &key_path])
                .status
                .success()
        );
        let message = "yueju-annotated-copy\n加注件".as_bytes();
        let msg = dir.file("msg", message);
        let sig_path = dir.0.join("sig.der").display().to_string();
        let distid = format!("distid:{SM2_USER_ID}");
        let signed = openssl(&[
            "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", &key_path, "-in", &msg,
            "-out", &sig_path, "-pkeyopt", &distid,
        ]);
        assert!(
            signed.status.success(),
            "{}",
            String::from_utf8_lossy(&signed.stderr)
        );
        let private =
            PrivateKey::from_pkcs8_pem(&std::fs::read_to_string(&key_path).unwrap()).unwrap();
        assert_eq!(private.alg(), Alg::Sm2);
        let der = std::fs::read(&sig_path).unwrap();
        let signature = algs::sm2_signature_bytes(&der).unwrap();
        let public = private.public();
        assert!(public.verify(message, &signature).is_ok());
        assert!(
            public
                .verify(b"yueju-annotated-copy\nother", &signature)
                .is_err()
        );
        let mut flipped = signature;
        flipped[40] ^= 0x01;
        assert!(public.verify(message, &flipped).is_err());
        // The same key under another user id: the Z it hashes differs, so nothing verifies.
        let other_id =
            sm2::dsa::VerifyingKey::from_sec1_bytes("1234567812345679", &public.raw()).unwrap();
        use sm2::dsa::signature::Verifier as _;
        assert!(
            other_id
                .verify(
                    message,
                    &sm2::dsa::Signature::from_slice(&signature).unwrap()
                )
                .is_err()
        );
        // And the public key OpenSSL derives names the same key.
        let spki = openssl(&["pkey", "-in", &key_path, "-pubout"]);
        let from_openssl =
            PublicKey::from_spki_pem(&String::from_utf8(spki.stdout).unwrap()).unwrap();
        assert_eq!(from_openssl.kid(), public.kid());
    }
}
