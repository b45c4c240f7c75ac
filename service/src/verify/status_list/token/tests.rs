use super::*;
use ed25519_dalek::SigningKey;
use flate2::{Compress, FlushCompress};
use proptest::prelude::*;
use serde_json::json;

/// The draft's 1-bit example (section "Compressed Byte Array").
const DRAFT_LST_1: &str = "eNrbuRgAAhcBXQ";
const DRAFT_STATUSES_1: [u8; 16] = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
/// The draft's 2-bit example.
const DRAFT_LST_2: &str = "eNo76fITAAPfAgc";
const DRAFT_STATUSES_2: [u8; 12] = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];

const URI: &str = "https://yueju.gd.gov.cn/api/v1/status-lists/1";

/// Runs a signing future to its end (the tests here are synchronous).
fn block<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

/// [`super::sign`], waited for.
fn sign(keys: &KeyRing, claims: &StatusListClaims) -> String {
    block(super::sign(keys, claims)).unwrap()
}

fn ring(seed: u8) -> KeyRing {
    KeyRing::from_keys(vec![SigningKey::from_bytes(&[seed; 32])], vec![]).unwrap()
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap()
}

fn list_of(bits: u8, statuses: &[u8]) -> StatusBits {
    let mut list = StatusBits::new(statuses.len(), bits).unwrap();
    for (i, s) in statuses.iter().enumerate() {
        list.set(i, *s).unwrap();
    }
    list
}

fn claims_for(list: &StatusBits, iat: i64, exp: i64) -> StatusListClaims {
    StatusListClaims {
        sub: URI.into(),
        iat,
        exp,
        ttl: 3600,
        status_list: StatusListClaim {
            bits: list.bits(),
            lst: encode_lst(list).unwrap(),
        },
    }
}

/// A token with any header and payload, signed by `keys` over the JWS signing input.
fn forge(keys: &KeyRing, header: &Value, payload: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let signature = URL_SAFE_NO_PAD.encode(block(keys.sign(input.as_bytes())).unwrap().to_bytes());
    format!("{input}.{signature}")
}

fn payload(list: &StatusBits, exp: i64) -> Value {
    claims_for(list, 1_800_000_000, exp).to_json()
}

/// A valid zlib stream of `chunks` MiB of zeros, built without holding them: one MiB is
/// deflated once into non-final blocks (a literal zero, then copies at distance 1, so the
/// same bytes stay valid wherever they are repeated), repeated, then closed by an empty
/// final block and the Adler-32 of the zeros.
fn zeros_zlib(chunks: usize) -> Vec<u8> {
    const CHUNK: usize = 1 << 20;
    let mut deflate = Compress::new(Compression::best(), false);
    let mut block = Vec::with_capacity(CHUNK / 8);
    deflate
        .compress_vec(&vec![0; CHUNK], &mut block, FlushCompress::Sync)
        .unwrap();
    assert_eq!(deflate.total_in(), CHUNK as u64);
    let mut out = vec![0x78, 0xDA];
    for _ in 0..chunks {
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&[0x03, 0x00]);
    // Adler-32 of n zeros: a stays 1, b gains 1 per byte.
    let b = ((chunks * CHUNK) % 65521) as u32;
    out.extend_from_slice(&((b << 16) | 1).to_be_bytes());
    out
}

#[test]
fn the_drafts_lsts_decode_to_the_drafts_statuses() {
    for (bits, lst, statuses, bytes) in [
        (1, DRAFT_LST_1, &DRAFT_STATUSES_1[..], &[0xB9, 0xA3][..]),
        (
            2,
            DRAFT_LST_2,
            &DRAFT_STATUSES_2[..],
            &[0xC9, 0x44, 0xF9][..],
        ),
    ] {
        let list = decode_lst(bits, lst, 1024).unwrap();
        assert_eq!(list.as_bytes(), bytes);
        assert_eq!(list.len(), statuses.len());
        for (i, s) in statuses.iter().enumerate() {
            assert_eq!(list.get(i), Some(*s), "{lst} entry {i}");
        }
        assert_eq!(list.get(statuses.len()), None);
    }
    let list = decode_lst(2, DRAFT_LST_2, 1024).unwrap();
    assert_eq!(list.status(0), Some(Status::Revoked));
    assert_eq!(list.status(1), Some(Status::Suspended));
    assert_eq!(list.status(2), Some(Status::Valid));
}

#[test]
fn our_encoding_of_the_drafts_statuses_is_the_drafts_lst() {
    for (bits, lst, statuses) in [
        (1, DRAFT_LST_1, &DRAFT_STATUSES_1[..]),
        (2, DRAFT_LST_2, &DRAFT_STATUSES_2[..]),
    ] {
        let list = list_of(bits, statuses);
        let ours = encode_lst(&list).unwrap();
        assert_eq!(decode_lst(bits, &ours, 1024).unwrap(), list);
        // zlib at level 9 (the draft's generator) and flate2's best agree byte for byte.
        assert_eq!(ours, lst);
    }
}

#[test]
fn a_signed_list_verifies_and_answers_each_entry() {
    let keys = ring(1);
    let list = list_of(2, &DRAFT_STATUSES_2);
    let claims = claims_for(&list, 1_800_000_000, 1_800_003_600);
    let token = sign(&keys, &claims);
    let verified = verify(&token, &keys.published(), at(1_800_000_100)).unwrap();
    assert_eq!(verified.kid(), keys.signing_kid());
    assert_eq!(verified.claims(), &claims);
    assert!(!verified.expired());
    assert_eq!(verified.len(), 12);
    assert_eq!(verified.status(0), Lookup::Known(Status::Revoked));
    assert_eq!(verified.status(1), Lookup::Known(Status::Suspended));
    assert_eq!(verified.status(2), Lookup::Known(Status::Valid));
    assert_eq!(verified.status(3), Lookup::Known(Status::Unknown(3)));
    assert_eq!(
        verified.status(12),
        Lookup::Undetermined(Undetermined::OutOfRange)
    );
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        header,
        json!({"alg": "EdDSA", "typ": "statuslist+jwt", "kid": keys.signing_kid()})
    );
}

#[test]
fn an_sm2_list_is_a_jws_with_alg_sm2_and_verifies_only_with_that_key_as_sm2() {
    use crate::keys::signing::{Alg, PrivateKey};
    let keys = KeyRing::local(
        vec![
            PrivateKey::from(SigningKey::from_bytes(&[1; 32])),
            PrivateKey::sm2_from_bytes(&[3; 32]).unwrap(),
        ],
        vec![],
        Alg::Sm2,
    )
    .unwrap();
    let claims = claims_for(&list_of(2, &DRAFT_STATUSES_2), 1_800_000_000, 1_800_003_600);
    let token = sign(&keys, &claims);
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        header,
        json!({"alg": "SM2", "typ": "statuslist+jwt", "kid": keys.signing_kid()})
    );
    assert!(keys.signing_kid().starts_with("sm2-"));
    let verified = verify(&token, &keys.published(), at(1_800_000_100)).unwrap();
    assert_eq!(verified.status(1), Lookup::Known(Status::Suspended));
    // The same signature under a header that claims EdDSA names no EdDSA key of that id.
    let body = payload(&list_of(2, &[1]), 1_800_003_600);
    let claimed = forge(
        &keys,
        &json!({"alg": "EdDSA", "typ": TYP, "kid": keys.signing_kid()}),
        &body,
    );
    assert_eq!(
        verify(&claimed, &keys.published(), at(1_800_000_100)).unwrap_err(),
        TokenError::UnknownKey
    );
    // Any one bit of the signature flipped fails.
    let (input, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    for bit in (0..512).step_by(7) {
        let mut flipped = signature.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode(&flipped));
        assert!(verify(&forged, &keys.published(), at(1_800_000_100)).is_err());
    }
}

#[test]
fn a_list_signed_by_a_retired_key_still_verifies() {
    let old = ring(1);
    let token = sign(&old, &claims_for(&list_of(2, &[1]), 0, 100));
    let rotated = KeyRing::from_keys(
        vec![
            SigningKey::from_bytes(&[2; 32]),
            SigningKey::from_bytes(&[1; 32]),
        ],
        vec![],
    )
    .unwrap();
    let verified = verify(&token, &rotated.published(), at(50)).unwrap();
    assert_eq!(verified.kid(), old.signing_kid());
}

#[test]
fn any_change_to_the_payload_or_signature_is_refused() {
    let keys = ring(1);
    let published = keys.published();
    let token = sign(&keys, &claims_for(&list_of(2, &DRAFT_STATUSES_2), 0, 100));
    let [header, body, signature]: [&str; 3] =
        token.split('.').collect::<Vec<_>>().try_into().unwrap();
    // A revoked entry turned valid, the signature kept.
    let forged = claims_for(&list_of(2, &[0; 12]), 0, 100).to_json();
    let swapped = format!(
        "{header}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(forged.to_string())
    );
    assert_eq!(
        verify(&swapped, &published, at(50)).unwrap_err(),
        TokenError::BadSignature
    );
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for i in 0..body.len() {
        let mut chars: Vec<char> = body.chars().collect();
        chars[i] = alphabet.chars().find(|c| *c != chars[i]).unwrap();
        let altered = format!(
            "{header}.{}.{signature}",
            chars.into_iter().collect::<String>()
        );
        assert!(
            matches!(
                verify(&altered, &published, at(50)),
                Err(TokenError::BadSignature)
            ),
            "payload position {i}"
        );
    }
    for i in 0..signature.len() {
        let mut chars: Vec<char> = signature.chars().collect();
        chars[i] = alphabet.chars().find(|c| *c != chars[i]).unwrap();
        let altered = format!("{header}.{body}.{}", chars.into_iter().collect::<String>());
        assert!(
            verify(&altered, &published, at(50)).is_err(),
            "signature position {i}"
        );
    }
}

#[test]
fn an_unknown_or_missing_kid_is_refused() {
    let token = sign(&ring(1), &claims_for(&list_of(2, &[1]), 0, 100));
    assert_eq!(
        verify(&token, &ring(2).published(), at(50)).unwrap_err(),
        TokenError::UnknownKey
    );
    assert_eq!(
        verify(&token, &[], at(50)).unwrap_err(),
        TokenError::UnknownKey
    );
    let keys = ring(1);
    let no_kid = forge(
        &keys,
        &json!({"alg": "EdDSA", "typ": TYP}),
        &payload(&list_of(2, &[1]), 100),
    );
    assert_eq!(
        verify(&no_kid, &keys.published(), at(50)).unwrap_err(),
        TokenError::MissingKid
    );
}

#[test]
fn a_wrong_or_missing_typ_is_refused() {
    let keys = ring(1);
    let kid = keys.signing_kid();
    let body = payload(&list_of(2, &[1]), 100);
    for typ in [json!("JWT"), json!("statuslist+cwt"), json!(""), json!(1)] {
        let token = forge(
            &keys,
            &json!({"alg": "EdDSA", "typ": typ, "kid": kid}),
            &body,
        );
        assert!(
            matches!(
                verify(&token, &keys.published(), at(50)),
                Err(TokenError::WrongType | TokenError::Malformed(_))
            ),
            "{typ}"
        );
    }
    let untyped = forge(&keys, &json!({"alg": "EdDSA", "kid": kid}), &body);
    assert_eq!(
        verify(&untyped, &keys.published(), at(50)).unwrap_err(),
        TokenError::WrongType
    );
    // RFC 7515 section 4.1.9: the media type may carry its prefix, in any case.
    let prefixed = forge(
        &keys,
        &json!({"alg": "EdDSA", "typ": "Application/StatusList+JWT", "kid": kid}),
        &body,
    );
    assert!(verify(&prefixed, &keys.published(), at(50)).is_ok());
}

#[test]
fn alg_none_and_every_other_algorithm_are_refused() {
    let keys = ring(1);
    let kid = keys.signing_kid();
    let body = payload(&list_of(2, &[0]), 100);
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": TYP, "kid": kid}).to_string()),
        URL_SAFE_NO_PAD.encode(body.to_string()),
    );
    assert_eq!(
        verify(&unsigned, &keys.published(), at(50)).unwrap_err(),
        TokenError::Algorithm
    );
    for alg in [
        "none", "None", "eddsa", "HS256", "ES256", "RS256", "Ed25519", "",
    ] {
        let token = forge(&keys, &json!({"alg": alg, "typ": TYP, "kid": kid}), &body);
        assert_eq!(
            verify(&token, &keys.published(), at(50)).unwrap_err(),
            TokenError::Algorithm,
            "{alg}"
        );
    }
    let crit = forge(
        &keys,
        &json!({"alg": "EdDSA", "typ": TYP, "kid": kid, "b64": false, "crit": ["b64"]}),
        &body,
    );
    assert_eq!(
        verify(&crit, &keys.published(), at(50)).unwrap_err(),
        TokenError::CriticalHeader
    );
}

#[test]
fn an_expired_list_is_reported_expired_and_states_nothing() {
    let keys = ring(1);
    let token = sign(&keys, &claims_for(&list_of(2, &[1, 0]), 1_000, 2_000));
    let fresh = verify(&token, &keys.published(), at(1_999)).unwrap();
    assert!(!fresh.expired());
    assert_eq!(fresh.status(0), Lookup::Known(Status::Revoked));
    for now in [2_000, 2_001, 1_000_000] {
        let stale = verify(&token, &keys.published(), at(now)).unwrap();
        assert!(stale.expired(), "{now}");
        for idx in [0, 1, 7] {
            assert_eq!(
                stale.status(idx),
                Lookup::Undetermined(Undetermined::Expired)
            );
        }
    }
}

#[test]
fn claims_missing_or_mistyped_are_refused_after_the_signature() {
    let keys = ring(1);
    let header = json!({"alg": "EdDSA", "typ": TYP, "kid": keys.signing_kid()});
    let full = payload(&list_of(2, &[1]), 100);
    for field in ["sub", "iat", "exp", "ttl", "status_list"] {
        let mut body = full.clone();
        body.as_object_mut().unwrap().remove(field);
        let token = forge(&keys, &header, &body);
        assert!(
            matches!(
                verify(&token, &keys.published(), at(50)),
                Err(TokenError::Claims(_))
            ),
            "{field}"
        );
    }
    let mut body = full.clone();
    body["exp"] = json!("tomorrow");
    assert!(matches!(
        verify(&forge(&keys, &header, &body), &keys.published(), at(50)),
        Err(TokenError::Claims(_))
    ));
    let mut body = full.clone();
    body["status_list"]["bits"] = json!(3);
    assert_eq!(
        verify(&forge(&keys, &header, &body), &keys.published(), at(50)).unwrap_err(),
        TokenError::List(LstError::Bits(BitsError::UnsupportedBits(3)))
    );
    let mut body = full;
    body["status_list"]["lst"] = json!("not base64!");
    assert_eq!(
        verify(&forge(&keys, &header, &body), &keys.published(), at(50)).unwrap_err(),
        TokenError::List(LstError::Base64)
    );
}

#[test]
fn a_zip_bomb_is_refused_at_the_bound() {
    // The construction is sound: two MiB inflate to two MiB of zeros.
    let small = URL_SAFE_NO_PAD.encode(zeros_zlib(2));
    let list = decode_lst(2, &small, 2 << 20).unwrap();
    assert_eq!(list.as_bytes().len(), 2 << 20);
    assert!(list.as_bytes().iter().all(|b| *b == 0));
    // 100 MiB of zeros in about 100 KiB refused when the first MiB is passed.
    let bomb = URL_SAFE_NO_PAD.encode(zeros_zlib(100));
    assert!(bomb.len() < 200_000, "{}", bomb.len());
    assert_eq!(
        decode_lst(2, &bomb, 1 << 20).unwrap_err(),
        LstError::TooLarge { limit: 1 << 20 }
    );
    // And inside a properly signed token.
    let keys = ring(1);
    let mut body = payload(&list_of(2, &[0]), 100);
    body["status_list"]["lst"] = json!(bomb);
    let token = forge(
        &keys,
        &json!({"alg": "EdDSA", "typ": TYP, "kid": keys.signing_kid()}),
        &body,
    );
    assert_eq!(
        verify_bounded(&token, &keys.published(), at(50), 1 << 20).unwrap_err(),
        TokenError::List(LstError::TooLarge { limit: 1 << 20 })
    );
}

#[test]
fn the_buffer_never_grows_past_the_bound() {
    let bytes: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let compressed = URL_SAFE_NO_PAD
        .decode(encode_lst(&StatusBits::from_bytes(8, bytes.clone()).unwrap()).unwrap())
        .unwrap();
    let exact = inflate_bounded(&compressed, bytes.len()).unwrap();
    assert_eq!(exact, bytes);
    assert!(exact.capacity() <= bytes.len() + 1, "{}", exact.capacity());
    assert_eq!(
        inflate_bounded(&compressed, bytes.len() - 1).unwrap_err(),
        LstError::TooLarge {
            limit: bytes.len() - 1
        }
    );
    assert_eq!(
        inflate_bounded(&compressed, 0).unwrap_err(),
        LstError::TooLarge { limit: 0 }
    );
}

#[test]
fn truncated_corrupt_or_trailing_streams_are_refused() {
    let compressed = URL_SAFE_NO_PAD.decode(DRAFT_LST_2).unwrap();
    for cut in 0..compressed.len() {
        assert_eq!(
            inflate_bounded(&compressed[..cut], 1024).unwrap_err(),
            LstError::Corrupt,
            "cut at {cut}"
        );
    }
    let mut bad_checksum = compressed.clone();
    *bad_checksum.last_mut().unwrap() ^= 1;
    assert_eq!(
        inflate_bounded(&bad_checksum, 1024).unwrap_err(),
        LstError::Corrupt
    );
    let mut trailing = compressed.clone();
    trailing.push(0);
    assert_eq!(
        inflate_bounded(&trailing, 1024).unwrap_err(),
        LstError::Corrupt
    );
    // Raw deflate without the zlib header is not the draft's format.
    assert_eq!(
        inflate_bounded(&compressed[2..], 1024).unwrap_err(),
        LstError::Corrupt
    );
    for lst in ["eNrbuRgAAhcBXQ==", "eNrbuRgAAhcBXQ+", "eNrbuRgAAhcBX", "*"] {
        assert!(decode_lst(1, lst, 1024).is_err(), "{lst}");
    }
}

#[test]
fn malformed_tokens_are_refused() {
    let keys = ring(1);
    let token = sign(&keys, &claims_for(&list_of(2, &[1]), 0, 100));
    let published = keys.published();
    for bad in [
        String::new(),
        ".".into(),
        "..".into(),
        "a.b.c".into(),
        format!("{token}.extra"),
        token.replacen('.', "", 1),
        format!(" {token}"),
        token.replace('.', ".="),
    ] {
        assert!(verify(&bad, &published, at(50)).is_err(), "{bad}");
    }
}

proptest! {
    #[test]
    fn decoding_any_lst_never_panics(
        s in "\\PC{0,300}",
        bits in any::<u8>(),
        limit in 0usize..4096,
    ) {
        let _ = decode_lst(bits, &s, limit);
    }

    #[test]
    fn decoding_any_zlib_looking_bytes_never_panics(
        body in prop::collection::vec(any::<u8>(), 0..300),
        limit in 0usize..4096,
    ) {
        let mut bytes = vec![0x78, 0xDA];
        bytes.extend_from_slice(&body);
        let _ = decode_lst(2, &URL_SAFE_NO_PAD.encode(&bytes), limit);
    }

    #[test]
    fn any_list_round_trips_through_lst(
        bits in prop::sample::select(vec![1u8, 2, 4, 8]),
        values in prop::collection::vec(any::<u8>(), 0..2000),
    ) {
        let max = u8::MAX >> (8 - bits);
        let values: Vec<u8> = values.into_iter().map(|v| v & max).collect();
        let list = list_of(bits, &values);
        let back = decode_lst(bits, &encode_lst(&list).unwrap(), MAX_LIST_BYTES).unwrap();
        prop_assert_eq!(back.as_bytes(), list.as_bytes());
        for (i, v) in values.iter().enumerate() {
            prop_assert_eq!(back.get(i), Some(*v));
        }
    }

    #[test]
    fn verifying_any_text_never_panics(s in "\\PC{0,400}") {
        let keys = ring(1);
        prop_assert!(verify(&s, &keys.published(), at(0)).is_err());
    }

    #[test]
    fn verifying_any_three_segments_never_panics(
        header in prop::collection::vec(any::<u8>(), 0..120),
        body in prop::collection::vec(any::<u8>(), 0..200),
        signature in prop::collection::vec(any::<u8>(), 0..80),
    ) {
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(&header),
            URL_SAFE_NO_PAD.encode(&body),
            URL_SAFE_NO_PAD.encode(&signature)
        );
        let keys = ring(1);
        prop_assert!(verify(&token, &keys.published(), at(0)).is_err());
    }

    #[test]
    fn verifying_any_signed_payload_never_panics(
        body in prop::collection::vec(any::<u8>(), 0..300),
        lst in "\\PC{0,80}",
        bits in any::<u8>(),
        exp in any::<i64>(),
    ) {
        let keys = ring(1);
        let header = URL_SAFE_NO_PAD.encode(
            json!({"alg": "EdDSA", "typ": TYP, "kid": keys.signing_kid()}).to_string(),
        );
        // Random bytes, then random but well-shaped claims.
        let payloads = [
            URL_SAFE_NO_PAD.encode(&body),
            URL_SAFE_NO_PAD.encode(
                json!({"sub": URI, "iat": 0, "exp": exp, "ttl": 1,
                       "status_list": {"bits": bits, "lst": lst}})
                .to_string(),
            ),
        ];
        for payload in payloads {
            let input = format!("{header}.{payload}");
            let signature = URL_SAFE_NO_PAD.encode(block(keys.sign(input.as_bytes())).unwrap().to_bytes());
            let _ = verify(&format!("{input}.{signature}"), &keys.published(), at(0));
        }
    }
}
