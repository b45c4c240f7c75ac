//! One local fake of the WeChat platform for every test, started by `spawn_app`, served by
//! `wiremock`'s mock server. It keeps the platform's rules that the service relies on: access
//! tokens from `stable_token` that every API checks (40001 unknown or cancelled, 42001
//! expired), the old `cgi-bin/token` that cancels the tokens it issued before, and each API's
//! own error codes. Any path can be made to fail on demand ([`Fault`]): an errcode, an HTTP
//! status, garbage, or an answer that comes only after a delay.
//!
//! One file per part of the platform, each mounting its routes: [`token`] (access tokens),
//! [`login`] (`jscode2session`), [`oa`] (the official account's customer messages and user
//! info), [`subscribe`] (subscribe messages), [`face`] (face verification 2.0). A route is a
//! plain function from the shared state and the [`Call`] to the answer; [`Route`] applies the
//! faults and records the path before it.

pub mod face;
pub mod login;
pub mod oa;
pub mod subscribe;
pub mod token;

use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

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
    /// The query of every `jscode2session` call.
    pub logins: Vec<HashMap<String, String>>,
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
    pub state: Shared,
    /// Serves while any clone of the fake lives.
    _server: Arc<MockServer>,
}

/// A call as a route reads it: the query and the JSON body (`Null` for a GET).
pub struct Call {
    pub query: HashMap<String, String>,
    pub body: Value,
}

impl Call {
    pub fn query(&self, key: &str) -> &str {
        self.query.get(key).map(String::as_str).unwrap_or_default()
    }
}

/// What a route answers, from the platform's state and the call.
pub type Handler = fn(&Shared, &Call) -> ResponseTemplate;

/// One route of the fake: the faults queued for its path come first, then the handler.
pub struct Route {
    state: Shared,
    handler: Handler,
    /// POST routes take a JSON body; one that does not parse is a 400, as the platform's
    /// gateway answers.
    json_body: bool,
}

impl Respond for Route {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let delay = match take_fault(&self.state, request.url.path()) {
            Some(Fault::Delay(d)) => Some(d),
            Some(fault) => return fault_response(&fault),
            None => None,
        };
        let body = if self.json_body {
            match serde_json::from_slice(&request.body) {
                Ok(body) => body,
                Err(_) => return ResponseTemplate::new(400).set_body_string("bad json body"),
            }
        } else {
            Value::Null
        };
        let call = Call {
            query: request.url.query_pairs().into_owned().collect(),
            body,
        };
        let answer = (self.handler)(&self.state, &call);
        match delay {
            Some(d) => answer.set_delay(d),
            None => answer,
        }
    }
}

/// Records the call of `path` and takes the fault it should meet, if any.
fn take_fault(state: &Shared, path: &str) -> Option<Fault> {
    let mut s = state.lock().unwrap();
    s.paths.push(path.to_owned());
    let queued = s.faults.get_mut(path).and_then(VecDeque::pop_front);
    queued.or_else(|| s.standing_faults.get(path).cloned())
}

/// A path the platform does not have: recorded like any other call, then 404.
struct Unknown(Shared);

impl Respond for Unknown {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match take_fault(&self.0, request.url.path()) {
            Some(Fault::Delay(_)) | None => ResponseTemplate::new(404),
            Some(fault) => fault_response(&fault),
        }
    }
}

/// Mounts `handler` for `verb` (`GET`, `POST`) at `route`.
pub async fn mount(server: &MockServer, state: &Shared, verb: &str, route: &str, handler: Handler) {
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(Route {
            state: state.clone(),
            handler,
            json_body: verb == "POST",
        })
        .with_priority(1)
        .mount(server)
        .await;
}

/// HTTP 200 with a JSON body, as the platform answers everything.
pub fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// The platform's error body.
pub fn errcode(code: i64, message: &str) -> ResponseTemplate {
    ok(json!({"errcode": code, "errmsg": message}))
}

fn fault_response(fault: &Fault) -> ResponseTemplate {
    match fault {
        Fault::Errcode(code) => errcode(*code, "fake fault"),
        Fault::Http(status) => ResponseTemplate::new(*status).set_body_string("upstream broke"),
        Fault::Garbage => ResponseTemplate::new(200)
            .insert_header("content-type", "text/html")
            .set_body_string("<html>not json</html>"),
        // Delays are applied to the real answer by `Route`.
        Fault::Delay(_) => ResponseTemplate::new(200),
    }
}

impl FakePlatform {
    pub async fn start() -> FakePlatform {
        let server = MockServer::start().await;
        let state: Shared = Arc::default();
        token::mount_routes(&server, &state).await;
        login::mount_routes(&server, &state).await;
        oa::mount_routes(&server, &state).await;
        subscribe::mount_routes(&server, &state).await;
        face::mount_routes(&server, &state).await;
        Mock::given(any())
            .respond_with(Unknown(state.clone()))
            .with_priority(u8::MAX)
            .mount(&server)
            .await;
        FakePlatform {
            base: server.uri(),
            state,
            _server: Arc::new(server),
        }
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, PlatformState> {
        self.state.lock().unwrap()
    }

    /// How many `jscode2session` calls reached the platform.
    pub fn call_count(&self) -> usize {
        self.state().logins.len()
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
