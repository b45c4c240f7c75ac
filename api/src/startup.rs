//! Building and running the server. Binding a `TcpListener` first lets tests ask for port 0.

use actix_web::dev::{Server, Service as _};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{App, HttpMessage as _, HttpServer, web};
use anyhow::Context as _;
use service::Context;
use service::config::Settings;
use std::net::{SocketAddr, TcpListener};
use tracing_actix_web::{RequestId, TracingLogger};

use crate::error::ApiError;
use crate::extract::{
    BodyLimit, envelope_bare_errors, json_config, multipart_config, path_config, query_config,
};
use crate::rate_limit::RateLimits;

pub struct Application {
    address: SocketAddr,
    metrics_address: Option<SocketAddr>,
    server: Server,
    context: web::Data<Context>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        let address = listener.local_addr()?;
        let metrics_listener = match &settings.metrics_bind {
            Some(bind) => Some(
                TcpListener::bind(bind)
                    .with_context(|| format!("binding YUEJU_METRICS_BIND {bind}"))?,
            ),
            None => None,
        };
        let metrics_address = metrics_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?;
        let workers = settings.workers;
        let context = web::Data::new(Context::init(settings).await?);
        let bot = web::Data::from(crate::routes::bot::bot(&context)?);
        crate::jobs::spawn(context.clone());
        let server = build_server(listener, context.clone(), bot, workers)?;
        if let Some(listener) = metrics_listener {
            // Stops with the process (on the same signals as the main server).
            tokio::spawn(crate::metrics::server(listener, context.clone())?);
        }
        Ok(Application {
            address,
            metrics_address,
            server,
            context,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where `GET /metrics` is served, when `YUEJU_METRICS_BIND` is set.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The shared context, for tests that look at the database or drive workers directly.
    pub fn context(&self) -> web::Data<Context> {
        self.context.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn build_server(
    listener: TcpListener,
    context: web::Data<Context>,
    bot: web::Data<bot::Bot>,
    workers: Option<usize>,
) -> anyhow::Result<Server> {
    let max_json = context.settings.max_json_bytes;
    let max_bulk = context.settings.max_bulk_bytes;
    let max_upload = context.settings.max_upload_bytes;
    let limits = web::Data::new(RateLimits::new(&context.settings.rate_limits)?);
    let sweeper = limits.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            sweeper.shrink();
        }
    });
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(limit_rate))
            .wrap_fn(|req, srv| {
                // Echo the request id that TracingLogger put on every log line, and log one
                // line per request (inside its span) with status and duration.
                let request_id = req.extensions().get::<RequestId>().copied();
                let started = std::time::Instant::now();
                let fut = srv.call(req);
                async move {
                    let mut res = fut.await?;
                    crate::metrics::http_request(res.request(), res.status(), started.elapsed());
                    tracing::info!(
                        status = res.status().as_u16(),
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "request finished"
                    );
                    if let Some(id) = request_id
                        && let Ok(value) = HeaderValue::from_str(&id.to_string())
                    {
                        res.headers_mut()
                            .insert(HeaderName::from_static("x-request-id"), value);
                    }
                    Ok(res)
                }
            })
            .wrap(
                actix_web::middleware::ErrorHandlers::new()
                    .default_handler_client(envelope_bare_errors),
            )
            .wrap(TracingLogger::default())
            .app_data(context.clone())
            .app_data(limits.clone())
            .app_data(bot.clone())
            .app_data(json_config(max_json))
            // Raw bodies (`web::Bytes`) get the JSON limit too, not actix's 256 KiB default.
            .app_data(web::PayloadConfig::new(max_json))
            .app_data(BodyLimit(max_json))
            .app_data(path_config())
            .app_data(query_config())
            .app_data(multipart_config(max_upload))
            .configure(|cfg| crate::routes::register(cfg, max_bulk))
            .default_service(web::to(unmatched))
    })
    .listen(listener)?;
    if let Some(n) = workers {
        server = server.workers(n);
    }
    Ok(server.run())
}

/// Answers 429 before any work when the source has used up its budget for the route.
async fn limit_rate(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let refused = req
        .app_data::<web::Data<RateLimits>>()
        .and_then(|limits| limits.check(&req));
    match refused {
        Some(res) => Ok(req.into_response(res).map_into_right_body()),
        None => next.call(req).await.map(|res| res.map_into_left_body()),
    }
}

/// No route took the request: 405 with `Allow` when the path is the contract's under another
/// method, 404 otherwise.
async fn unmatched(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    use actix_web::ResponseError as _;
    let Some(methods) = crate::openapi::allowed_methods(req.path()) else {
        return Err(ApiError::not_found());
    };
    let allow = methods
        .iter()
        .map(|m| m.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(", ");
    let mut res = ApiError::new(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "该地址不支持此请求方法",
    )
    .error_response();
    if let Ok(value) = HeaderValue::from_str(&allow) {
        res.headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    Ok(res)
}
