//! A local fake of the province's non-tax payment platform (非税支付平台), on `wiremock`.
//!
//! It keeps the rules the service relies on: `POST /notices` with `{"order_id",
//! "amount_cents", "item"}` issues a payment notice (缴款书) `{"notice_no", "pay_url",
//! "expires_at"}`, the same one again for the same order; a body it cannot read is a 400 with
//! its error JSON. It can be made slow ([`PaymentFault::Slow`], past the server's deadline) or
//! failing ([`PaymentFault::Down`]: a 5xx with the platform's error JSON), and it delivers the
//! paid callback to the server as the platform does: the raw JSON body signed with
//! `X-Signature`, the lower-hex HMAC-SHA-256 under the shared secret, computed here with the
//! `hmac` crate rather than the server's own code.

use chrono::{DateTime, Duration as Days, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::helpers::{Reply, TestApp, reply};

/// The secret the test servers and the fake share for callbacks.
pub const NOTIFY_SECRET: &str = "test-payment-notify-secret-0123456789";

/// How the next `POST /notices` goes wrong.
#[derive(Debug, Clone)]
pub enum PaymentFault {
    /// An HTTP error status with the platform's error JSON.
    Down(u16),
    /// The real answer, after this long.
    Slow(Duration),
}

/// A notice the fake issued.
#[derive(Debug, Clone)]
pub struct IssuedNotice {
    pub notice_no: String,
    pub order_id: String,
    pub amount_cents: i64,
    pub item: String,
    pub pay_url: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Default)]
struct State {
    notices: Vec<IssuedNotice>,
    faults: VecDeque<PaymentFault>,
    /// Every `POST /notices` that reached the fake, faulty or not.
    calls: usize,
    /// The server's clock, so notices expire relative to the time the server reads.
    clock: Option<Arc<service::clock::Clock>>,
}

#[derive(Clone)]
pub struct FakePayment {
    pub base: String,
    state: Arc<Mutex<State>>,
    _server: Arc<MockServer>,
}

/// How long a notice may be paid.
pub const NOTICE_DAYS: i64 = 3;

struct Notices(Arc<Mutex<State>>, String);

impl Respond for Notices {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut s = self.0.lock().unwrap();
        s.calls += 1;
        let fault = s.faults.pop_front();
        if let Some(PaymentFault::Down(status)) = fault {
            return ResponseTemplate::new(status)
                .set_body_json(json!({"code": "SYSTEM_BUSY", "message": "系统繁忙，请稍后再试"}));
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let (Some(order_id), Some(amount_cents), Some(item)) = (
            body["order_id"].as_str(),
            body["amount_cents"].as_i64(),
            body["item"].as_str(),
        ) else {
            return ResponseTemplate::new(400)
                .set_body_json(json!({"code": "BAD_REQUEST", "message": "缺少必填项"}));
        };
        let notice = match s.notices.iter().find(|n| n.order_id == order_id) {
            Some(same_order) => same_order.clone(),
            None => {
                let now = s.clock.as_ref().map_or_else(Utc::now, |c| c.now());
                let notice_no = format!("4400{:016}", s.notices.len() + 1);
                let notice = IssuedNotice {
                    pay_url: format!("{}/pay/{notice_no}", self.1),
                    notice_no,
                    order_id: order_id.to_owned(),
                    amount_cents,
                    item: item.to_owned(),
                    expires_at: now + Days::days(NOTICE_DAYS),
                };
                s.notices.push(notice.clone());
                notice
            }
        };
        let answer = ResponseTemplate::new(200).set_body_json(json!({
            "notice_no": notice.notice_no,
            "pay_url": notice.pay_url,
            "expires_at": notice.expires_at.to_rfc3339(),
        }));
        match fault {
            Some(PaymentFault::Slow(delay)) => answer.set_delay(delay),
            _ => answer,
        }
    }
}

impl FakePayment {
    pub async fn start() -> FakePayment {
        let server = MockServer::start().await;
        let state: Arc<Mutex<State>> = Arc::default();
        Mock::given(method("POST"))
            .and(path("/notices"))
            .respond_with(Notices(state.clone(), server.uri()))
            .mount(&server)
            .await;
        FakePayment {
            base: server.uri(),
            state,
            _server: Arc::new(server),
        }
    }

    /// Issue notices relative to the server's clock.
    pub fn follow_clock(&self, clock: Arc<service::clock::Clock>) {
        self.state.lock().unwrap().clock = Some(clock);
    }

    /// The next `POST /notices` meets `fault` (queued after earlier ones).
    pub fn fail_next(&self, fault: PaymentFault) {
        self.state.lock().unwrap().faults.push_back(fault);
    }

    pub fn notices(&self) -> Vec<IssuedNotice> {
        self.state.lock().unwrap().notices.clone()
    }

    pub fn calls(&self) -> usize {
        self.state.lock().unwrap().calls
    }

    /// The platform's signature of `body`.
    pub fn sign(body: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(NOTIFY_SECRET.as_bytes()).unwrap();
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    /// The paid callback of `notice_no` for `amount_cents`, signed, delivered to `app`.
    pub async fn deliver_paid(&self, app: &TestApp, notice_no: &str, amount_cents: i64) -> Reply {
        let paid_at = app.clock().now().to_rfc3339();
        let body = json!({"notice_no": notice_no, "status": "paid", "amount_cents": amount_cents, "paid_at": paid_at});
        let raw = serde_json::to_vec(&body).unwrap();
        let signature = Self::sign(&raw);
        deliver_raw(app, raw, Some(&signature)).await
    }
}

/// A callback body as given, with `signature` (or none) in `X-Signature`.
pub async fn deliver_raw(app: &TestApp, raw: Vec<u8>, signature: Option<&str>) -> Reply {
    let mut req = app
        .client
        .post(app.url("/api/v1/payments/notify"))
        .header("content-type", "application/json")
        .body(raw);
    if let Some(sig) = signature {
        req = req.header("x-signature", sig);
    }
    reply(req.send().await.unwrap()).await
}
