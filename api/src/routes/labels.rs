//! `GET /api/v1/labels`: the Chinese label of every value the screens show, from
//! [`service::wording`], so the H5 scripts hold no label table of their own. The answer only
//! changes with a release: it is built once, cached publicly and validated by its `ETag`.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get};
use sha2::{Digest, Sha256};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(show);
}

/// The answer's schema: `{"<vocabulary>": {"<value>": "<中文>"}}`, naming every vocabulary the
/// server words and every value of each.
pub struct LabelsSchema;

impl utoipa::PartialSchema for LabelsSchema {
    fn schema() -> RefOr<Schema> {
        service::wording::vocabularies()
            .0
            .iter()
            .fold(ObjectBuilder::new().schema_type(Type::Object), |all, v| {
                let table = v.labels.iter().fold(
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .additional_properties(Some(crate::openapi::schemas::text())),
                    |table, (value, _)| table.required(value.as_str()),
                );
                all.property(v.name, table).required(v.name)
            })
            .into()
    }
}

impl utoipa::ToSchema for LabelsSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "Labels".into()
    }
}

/// The JSON body and its strong validator.
struct Labels {
    body: String,
    etag: String,
}

fn labels() -> &'static Labels {
    static LABELS: OnceLock<Labels> = OnceLock::new();
    LABELS.get_or_init(|| {
        // Serializing maps of strings cannot fail; an empty object would only hide labels.
        let body = serde_json::to_string(&service::wording::vocabularies())
            .unwrap_or_else(|_| "{}".to_owned());
        let digest = Sha256::digest(body.as_bytes());
        let etag = format!(
            "\"{}\"",
            digest[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        Labels { body, etag }
    })
}

/// Whether the client's `If-None-Match` names the current answer (or `*`).
fn still_fresh(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

#[utoipa::path(
    tag = "运维",
    summary = "界面用语：各类状态、理由、信息项等取值的中文名称（可缓存，带 ETag）",
    params(("If-None-Match" = Option<String>, Header, nullable = false, description = "上次应答的 ETag")),
    responses(
        (status = 200, body = LabelsSchema, headers(("ETag" = String, description = "本应答的版本"))),
        (status = 304, description = "未改变（If-None-Match 与当前 ETag 相同）", headers(("ETag" = String))),
    ),
)]
#[get("/labels")]
pub async fn show(req: HttpRequest) -> HttpResponse {
    let labels = labels();
    let fresh = still_fresh(&req, &labels.etag);
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::ETAG, labels.etag.as_str()));
    if fresh {
        return response.finish();
    }
    response
        .content_type("application/json")
        .body(labels.body.as_str())
}
