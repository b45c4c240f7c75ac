//! The H5 screens, embedded in the binary (no build step, no CDN): the index, 粤省事, 粤居码,
//! the agency desk and the staff console, with their shared script and style.

use actix_web::{HttpResponse, ResponseError, get, web};
use utoipa_actix_web::service_config::ServiceConfig;

/// The document of the API and its page.
pub fn configure_api(cfg: &mut ServiceConfig) {
    cfg.service(openapi).service(docs);
}

/// The screens, outside the API's document.
pub fn configure_h5(cfg: &mut ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/h5/{name:.*}", web::get().to(h5));
}

const INDEX: &str = include_str!("../../static/index.html");

/// Name, content type and content of every embedded file under `/h5/`.
const FILES: &[(&str, &str, &str)] = &[
    ("yss.html", HTML, include_str!("../../static/h5/yss.html")),
    ("yss.js", JS, include_str!("../../static/h5/yss.js")),
    ("years.js", JS, include_str!("../../static/h5/years.js")),
    ("yjm.html", HTML, include_str!("../../static/h5/yjm.html")),
    ("yjm.js", JS, include_str!("../../static/h5/yjm.js")),
    (
        "agency.html",
        HTML,
        include_str!("../../static/h5/agency.html"),
    ),
    ("agency.js", JS, include_str!("../../static/h5/agency.js")),
    (
        "staff.html",
        HTML,
        include_str!("../../static/h5/staff.html"),
    ),
    ("staff.js", JS, include_str!("../../static/h5/staff.js")),
    (
        "overview.js",
        JS,
        include_str!("../../static/h5/overview.js"),
    ),
    // uPlot 1.6.32 (MIT), the staff console's charts; see static/h5/vendor/README.md.
    (
        "vendor/uplot.min.js",
        JS,
        include_str!("../../static/h5/vendor/uplot.min.js"),
    ),
    (
        "vendor/uplot.min.css",
        CSS,
        include_str!("../../static/h5/vendor/uplot.min.css"),
    ),
    (
        "vendor/uplot.LICENSE.txt",
        "text/plain; charset=utf-8",
        include_str!("../../static/h5/vendor/uplot.LICENSE.txt"),
    ),
    ("api.js", JS, include_str!("../../static/h5/api.js")),
    ("docs.html", HTML, include_str!("../../static/h5/docs.html")),
    ("docs.js", JS, include_str!("../../static/h5/docs.js")),
    ("app.css", CSS, include_str!("../../static/h5/app.css")),
];

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Scripts only from here; images also from blobs (the card and copies are fetched with the
/// bearer token) and data URIs (photos inside SVG); the camera for scanning codes.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' blob: data:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; \
    frame-ancestors 'none'; form-action 'self'";

fn page(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Security-Policy", CSP))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("Cache-Control", "no-cache"))
        .body(body)
}

pub async fn index() -> HttpResponse {
    page(HTML, INDEX)
}

/// The OpenAPI document, built once.
#[utoipa::path(
    tag = "运维",
    summary = "本接口文档（OpenAPI 3.1）",
    responses((status = 200, body = Object)),
)]
#[get("/openapi.json")]
pub async fn openapi() -> HttpResponse {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOC.get_or_init(|| crate::openapi::document().to_string());
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(body.as_str())
}

/// The documentation page, rendering the OpenAPI document without anything from outside.
#[utoipa::path(
    tag = "运维",
    summary = "接口文档页面（离线可用）",
    responses((status = 200)),
)]
#[get("/docs")]
pub async fn docs() -> HttpResponse {
    page(HTML, include_str!("../../static/h5/docs.html"))
}

pub async fn h5(name: web::Path<String>) -> HttpResponse {
    let name = name.into_inner();
    let name = if name.is_empty() {
        "yss.html"
    } else {
        name.as_str()
    };
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => page(content_type, body),
        None => crate::error::ApiError::not_found().error_response(),
    }
}
