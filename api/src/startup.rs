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

pub struct Application {
    address: SocketAddr,
    server: Server,
    context: web::Data<Context>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        let address = listener.local_addr()?;
        let workers = settings.workers;
        let context = web::Data::new(Context::init(settings).await?);
        let bot = web::Data::from(crate::routes::bot::bot(&context)?);
        crate::jobs::spawn(context.clone());
        let server = build_server(listener, context.clone(), bot, workers)?;
        Ok(Application {
            address,
            server,
            context,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
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
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap_fn(|req, srv| {
                // Echo the request id that TracingLogger put on every log line, and log one
                // line per request (inside its span) with status and duration.
                let request_id = req.extensions().get::<RequestId>().copied();
                let started = std::time::Instant::now();
                let fut = srv.call(req);
                async move {
                    let mut res = fut.await?;
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
            .app_data(bot.clone())
            .app_data(json_config(max_json))
            // Raw bodies (`web::Bytes`) get the JSON limit too, not actix's 256 KiB default.
            .app_data(web::PayloadConfig::new(max_json))
            .app_data(BodyLimit(max_json))
            .app_data(path_config())
            .app_data(query_config())
            .app_data(multipart_config(max_upload))
            .configure(|cfg| crate::routes::configure(cfg, max_bulk))
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(ApiError::not_found())
            }))
    })
    .listen(listener)?;
    if let Some(n) = workers {
        server = server.workers(n);
    }
    Ok(server.run())
}
