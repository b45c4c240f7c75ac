//! One local fake of the WeChat platform for every test, started by `spawn_app`. It keeps
//! the platform's rules that the service relies on: access tokens from `stable_token` that
//! every API checks (40001 unknown or cancelled, 42001 expired), the old `cgi-bin/token` that
//! cancels the tokens it issued before, and each API's own error codes. Any path can be made
//! to fail on demand ([`Fault`]): an errcode, an HTTP status, garbage, or an answer that
//! comes only after a delay.
//!
//! One file per part of the platform: [`token`] (access tokens), [`login`]
//! (`jscode2session`), [`oa`] (the official account's customer messages and user info).

pub mod face;
pub mod login;
pub mod oa;
pub mod subscribe;
pub mod token;

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{Service, ServiceResponse};
use actix_web::{HttpResponse, HttpServer};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use oa::FakeOa;
pub use token::FakeTokens;

/// A way the next call of a path fails.
#[derive(Debug, Clone)]
pub enum Fault {
    /// HTTP 200 with `{"errcode": n, "errmsg": …}`.
    Errcode(i64),
    /// An HTTP error status with a plain body.
    Http(u16),
    /// HTTP 200 with a body that is not JSON.
    Garbage,
    /// The real answer, after this long (a slow or stalled platform).
    Delay(Duration),
}

/// Everything the fake platform knows, behind one lock.
#[derive(Default)]
pub struct PlatformState {
    pub tokens: FakeTokens,
    pub oa: FakeOa,
    pub subscribe: subscribe::FakeSubscribe,
    pub face: face::FakeFace,
    /// Queued faults per path, used up one call at a time.
    pub faults: HashMap<String, VecDeque<Fault>>,
    /// Faults per path that hold for every call until cleared.
    pub standing_faults: HashMap<String, Fault>,
    /// The path of every call, in order.
    pub paths: Vec<String>,
}

pub type Shared = Arc<Mutex<PlatformState>>;

#[derive(Clone)]
pub struct FakePlatform {
    pub base: String,
    /// The query of every `jscode2session` call.
    pub calls: Arc<Mutex<Vec<HashMap<String, String>>>>,
    pub state: Shared,
}

/// The platform's error body.
pub fn errcode(code: i64, message: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({"errcode": code, "errmsg": message}))
}

fn fault_response(fault: &Fault) -> Option<HttpResponse> {
    match fault {
        Fault::Errcode(code) => Some(errcode(*code, "fake fault")),
        Fault::Http(status) => Some(
            HttpResponse::build(
                actix_web::http::StatusCode::from_u16(*status)
                    .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
            )
            .body("upstream broke"),
        ),
        Fault::Garbage => Some(
            HttpResponse::Ok()
                .content_type("text/html")
                .body("<html>not json</html>"),
        ),
        Fault::Delay(_) => None,
    }
}

impl FakePlatform {
    pub async fn start() -> FakePlatform {
        let calls: Arc<Mutex<Vec<HashMap<String, String>>>> = Arc::default();
        let state: Shared = Arc::default();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake platform");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let app_state = state.clone();
        let app_calls = calls.clone();
        let server = HttpServer::new(move || {
            let faults = app_state.clone();
            actix_web::App::new()
                .wrap_fn(move |req, srv| {
                    let path = req.path().to_owned();
                    let fault = {
                        let mut s = faults.lock().unwrap();
                        s.paths.push(path.clone());
                        let queued = s.faults.get_mut(&path).and_then(VecDeque::pop_front);
                        queued.or_else(|| s.standing_faults.get(&path).cloned())
                    };
                    let call = srv.call(req);
                    async move {
                        if let Some(fault) = fault {
                            if let Fault::Delay(d) = fault {
                                tokio::time::sleep(d).await;
                            } else if let Some(answer) = fault_response(&fault) {
                                // The request is not handled at all, as when the platform fails.
                                let res: ServiceResponse<EitherBody<BoxBody>> = call
                                    .await?
                                    .into_response(answer.map_into_boxed_body())
                                    .map_into_right_body();
                                return Ok(res);
                            }
                        }
                        call.await.map(ServiceResponse::map_into_left_body)
                    }
                })
                .configure(|cfg| token::routes(cfg, app_state.clone()))
                .configure(|cfg| login::routes(cfg, app_calls.clone()))
                .configure(|cfg| oa::routes(cfg, app_state.clone()))
                .configure(|cfg| subscribe::routes(cfg, app_state.clone()))
                .configure(|cfg| face::routes(cfg, app_state.clone()))
        })
        .workers(2)
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        FakePlatform { base, calls, state }
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, PlatformState> {
        self.state.lock().unwrap()
    }

    pub fn call_count(&self) -> usize {
        self.calls.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// The next call of `path` fails with `fault` (queued after earlier ones).
    pub fn fail_next(&self, path: &str, fault: Fault) {
        self.state()
            .faults
            .entry(path.to_owned())
            .or_default()
            .push_back(fault);
    }

    /// Every call of `path` fails with `fault` until [`FakePlatform::heal`].
    pub fn fail_always(&self, path: &str, fault: Fault) {
        self.state().standing_faults.insert(path.to_owned(), fault);
    }

    pub fn heal(&self, path: &str) {
        let mut s = self.state();
        s.standing_faults.remove(path);
        s.faults.remove(path);
    }

    /// How many calls reached `path`.
    pub fn calls_to(&self, path: &str) -> usize {
        self.state().paths.iter().filter(|p| *p == path).count()
    }

    /// The customer messages the official account sent, as (token, touser, content).
    pub fn customer_messages(&self) -> Vec<(String, String, String)> {
        self.state()
            .oa
            .sent
            .iter()
            .map(|(token, body): &(String, Value)| {
                (
                    token.clone(),
                    body["touser"].as_str().unwrap_or("").to_owned(),
                    body["text"]["content"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }
}
