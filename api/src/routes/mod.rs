//! Every route, composed here from the modules: each registers its own handlers in its
//! `configure`, and each handler's `#[utoipa::path]` describes it in the OpenAPI document as it
//! is registered (see [`crate::openapi`]). Handlers stay thin: parse into domain types, call
//! `service`, map the result.

mod applications;
mod auth;
pub mod bot;
mod code;
mod consent;
mod health;
mod labels;
mod me;
mod miniprogram;
pub mod oauth;
mod pages;
mod payments;
mod permit;
pub(crate) mod residence;
mod staff;
mod subscriptions;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route on an actix app: the server's, and any a test builds.
pub fn register(cfg: &mut actix_web::web::ServiceConfig, max_bulk_bytes: usize) {
    configure(&mut ServiceConfig::new(cfg), max_bulk_bytes);
}

/// Every route, each handler's operation collected as it is registered (see
/// [`crate::openapi::collected`]).
pub fn configure(cfg: &mut ServiceConfig, max_bulk_bytes: usize) {
    // The API scope comes first so that `/verify` is the first pattern tried.
    cfg.service(
        scope("/api/v1")
            // First: the route under the heaviest load is matched before any other.
            .service(code::verify)
            .configure(pages::configure_api)
            .configure(labels::configure)
            .configure(auth::configure)
            .configure(me::configure)
            .configure(subscriptions::configure)
            .configure(bot::configure)
            .configure(miniprogram::configure)
            .configure(permit::configure)
            .configure(payments::configure)
            .configure(residence::configure)
            .configure(applications::configure)
            .configure(code::configure)
            .configure(consent::configure)
            .configure(|cfg| staff::configure(cfg, max_bulk_bytes)),
    )
    .configure(health::configure)
    .configure(oauth::configure)
    // The H5 screens are not part of the API, nor of its document.
    .configure(pages::configure_h5);
}
