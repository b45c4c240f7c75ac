//! The whole HTTP contract as OpenAPI 3.1 (`GET /api/v1/openapi.json`), derived with utoipa:
//! each handler's `#[utoipa::path]` gives its operation (tag, summary, who may call it, the
//! body, the answers) and the request and answer types give their schemas (`ToSchema`,
//! `IntoParams`). utoipa-actix-web collects the operations from the same `service(...)` calls
//! that register the routes ([`crate::routes::configure`]), so the document lists exactly
//! what is served. What every operation shares (the error answers, operation ids) is added
//! once by [`conventions`]. Schemas are JSON Schema 2020-12, so tests validate real answers
//! against them; objects allow fields beyond those listed: the contract grows by adding fields.

mod conventions;
pub mod schemas;

use std::sync::OnceLock;

use serde_json::Value;
use utoipa::OpenApi as _;
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa_actix_web::AppExt as _;

/// The document's root: what is not an operation.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "yueju: 广东省电子居住证",
        version = "1",
        description = "粤省事、粤居码小程序，用证部门与工作人员使用的接口。错误统一为 {\"error\": {\"code\", \"message\"}}，message 为简体中文。",
    ),
    components(schemas(crate::error::ErrorBody, crate::routes::oauth::OAuthErrorBody)),
    modifiers(&SecuritySchemes),
)]
struct Root;

/// Who may call what: `security(...)` on an operation names one of these.
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let bearer = |description: &str, jwt: bool| {
            let scheme = HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(description));
            let scheme = if jwt {
                scheme.bearer_format("JWT")
            } else {
                scheme
            };
            SecurityScheme::Http(scheme.build())
        };
        let scopes = Scopes::from_iter([
            ("permit:verify", "核验粤居码"),
            ("permit:download", "经授权下载加注件"),
            ("residence:proof", "经授权获取居住年限证明"),
        ]);
        let agency = SecurityScheme::OAuth2(OAuth2::new([Flow::ClientCredentials(
            ClientCredentials::new("/oauth/token", scopes),
        )]));
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("resident", bearer("居民（小程序登录）", true));
        components.add_security_scheme("staff", bearer("工作人员", true));
        components.add_security_scheme("agency", agency);
        components.add_security_scheme(
            "bot_gateway",
            bearer("聊天网关密钥（YUEJU_BOT_API_SECRET）", false),
        );
    }
}

/// The operations and schemas utoipa collects while the routes are registered, before the
/// shared conventions: what [`crate::routes::configure`] serves, as registered.
pub fn collected() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(Root::openapi())
        // The body limit only configures the gov-records route; the document does not show it.
        .configure(|cfg| crate::routes::configure(cfg, 0))
        .split_for_parts();
    // utoipa fills the licence from Cargo.toml, which names none.
    doc.info.license = None;
    doc
}

/// The document served at `GET /api/v1/openapi.json`, built once.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        // Serialising the document's own types cannot fail; an empty document would only show
        // up in the tests that read it.
        let mut doc = serde_json::to_value(collected()).unwrap_or_default();
        conventions::apply(&mut doc);
        doc
    })
}

/// The methods the contract lists for a concrete request path (`/api/v1/applications/3f…`),
/// or None when no path of the contract matches it.
pub fn allowed_methods(path: &str) -> Option<Vec<&'static str>> {
    let matches = |template: &str| {
        let (mut t, mut p) = (template.split('/'), path.split('/'));
        loop {
            match (t.next(), p.next()) {
                (None, None) => return true,
                (Some(ts), Some(ps)) if ts.starts_with('{') && !ps.is_empty() => {}
                (Some(ts), Some(ps)) if ts == ps => {}
                _ => return false,
            }
        }
    };
    // The (path, method) pairs of the contract, built once: unmatched requests come at any
    // rate and must not walk the whole document each time.
    static ROUTES: OnceLock<Vec<(&'static str, &'static str)>> = OnceLock::new();
    let routes = ROUTES.get_or_init(|| conventions::operations(document()).collect());
    let methods: Vec<&'static str> = routes
        .iter()
        .filter(|(p, _)| matches(p))
        .map(|(_, m)| *m)
        .collect();
    (!methods.is_empty()).then_some(methods)
}
