//! A local fake of a seal server / HSM front (电子签章服务), on `wiremock`.
//!
//! It holds private keys and answers `POST /sign` as the service expects of a real one:
//! `{"kid", "alg": "SM2", "digest"}` (base64 of `e = SM3(Z ‖ M)`) is signed as a digest, the
//! way GM/T 0018 devices sign, with the RustCrypto SM2 signer rather than the server's own
//! code path (`sign_prehash`, not `sign`); `{"kid", "alg": "EdDSA", "message"}` is signed
//! with Ed25519. An unknown key or a request that does not read is a 400 with its error JSON.
//! Each call can be made to go wrong ([`SignerFault`]): slow past the server's deadline, an
//! error status, a signature by another key, or a DER-encoded SM2 signature (which a real
//! device may answer, and which is fine).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use service::keys::signing::algs::{sm2_sign_digest, sm2_signature_der};
use service::keys::signing::{PrivateKey, PublicKey};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// How the next `POST /sign` goes wrong.
#[derive(Debug, Clone)]
pub enum SignerFault {
    /// The real answer, after this long.
    Slow(Duration),
    /// An HTTP error status with the device's error JSON.
    Down(u16),
    /// A well-formed signature by a key the server does not know for this kid.
    WrongKey,
    /// The real SM2 signature, DER-encoded (not a fault: the server accepts it).
    Der,
}

#[derive(Default)]
struct State {
    faults: VecDeque<SignerFault>,
    /// Every request body that reached the fake.
    requests: Vec<Value>,
}

#[derive(Clone)]
pub struct FakeSigner {
    pub base: String,
    keys: Arc<Vec<PrivateKey>>,
    state: Arc<Mutex<State>>,
    _server: Arc<MockServer>,
}

struct Sign {
    keys: Arc<Vec<PrivateKey>>,
    state: Arc<Mutex<State>>,
}

fn refused(message: &str) -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({"code": "BAD_REQUEST", "message": message}))
}

impl Respond for Sign {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let fault = {
            let mut s = self.state.lock().unwrap();
            s.requests.push(body.clone());
            s.faults.pop_front()
        };
        if let Some(SignerFault::Down(status)) = fault {
            return ResponseTemplate::new(status)
                .set_body_json(json!({"code": "DEVICE_BUSY", "message": "签名设备忙"}));
        }
        let Some(key) = self
            .keys
            .iter()
            .find(|k| Some(k.public().kid().as_str()) == body["kid"].as_str())
        else {
            return refused("unknown kid");
        };
        if body["alg"].as_str() != Some(key.alg().as_str()) {
            return refused("alg is not the key's");
        }
        let signer = match fault {
            Some(SignerFault::WrongKey) => PrivateKey::generate(key.alg()).unwrap(),
            _ => key.clone(),
        };
        let signature: Vec<u8> = match (key.public(), &body["digest"], &body["message"]) {
            (PublicKey::Sm2(_), Value::String(digest), Value::Null) => {
                let Ok(digest) = B64.decode(digest) else {
                    return refused("digest is not base64");
                };
                if digest.len() != 32 {
                    return refused("an SM3 digest is 32 bytes");
                }
                let raw = sm2_sign_digest(&signer, &digest).unwrap();
                match fault {
                    Some(SignerFault::Der) => sm2_signature_der(&raw).unwrap(),
                    _ => raw.to_vec(),
                }
            }
            (PublicKey::Ed25519(_), Value::Null, Value::String(message)) => {
                let Ok(message) = B64.decode(message) else {
                    return refused("message is not base64");
                };
                signer.sign(&message).to_vec()
            }
            _ => return refused("SM2 takes a digest, EdDSA a message"),
        };
        let answer =
            ResponseTemplate::new(200).set_body_json(json!({"signature": B64.encode(signature)}));
        match fault {
            Some(SignerFault::Slow(delay)) => answer.set_delay(delay),
            _ => answer,
        }
    }
}

impl FakeSigner {
    /// A signing service holding one SM2 and one Ed25519 key.
    pub async fn start() -> FakeSigner {
        let keys = Arc::new(vec![
            PrivateKey::generate(service::keys::signing::Alg::Sm2).unwrap(),
            PrivateKey::generate(service::keys::signing::Alg::EdDsa).unwrap(),
        ]);
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State::default()));
        Mock::given(method("POST"))
            .and(path("/sign"))
            .respond_with(Sign {
                keys: keys.clone(),
                state: state.clone(),
            })
            .mount(&server)
            .await;
        FakeSigner {
            base: server.uri(),
            keys,
            state,
            _server: Arc::new(server),
        }
    }

    /// Writes the public keys it holds as SPKI PEM files into `dir`: the value of
    /// `YUEJU_SIGNER_KEYS`.
    pub fn public_key_files(&self, dir: &std::path::Path) -> String {
        self.keys
            .iter()
            .map(|k| {
                let path = dir.join(format!("signer-{}.pem", k.public().kid()));
                std::fs::write(&path, k.public().to_spki_pem().unwrap()).unwrap();
                path.display().to_string()
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The id of the key it holds of `alg`.
    pub fn kid(&self, alg: service::keys::signing::Alg) -> String {
        self.keys
            .iter()
            .find(|k| k.alg() == alg)
            .unwrap()
            .public()
            .kid()
    }

    /// The next calls go wrong in this order.
    pub fn fail_next(&self, faults: impl IntoIterator<Item = SignerFault>) {
        self.state.lock().unwrap().faults.extend(faults);
    }

    /// Makes every call go wrong (until [`Self::heal`]).
    pub fn fail_all(&self, fault: SignerFault) {
        self.fail_next(std::iter::repeat_n(fault, 1000));
    }

    pub fn heal(&self) {
        self.state.lock().unwrap().faults.clear();
    }

    /// Every request body received so far.
    pub fn requests(&self) -> Vec<Value> {
        self.state.lock().unwrap().requests.clone()
    }
}
