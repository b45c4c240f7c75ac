//! Every route, in one place. Handlers stay thin: parse into domain types, call `service`,
//! map the result.

mod auth;
mod health;
mod me;
mod pages;
mod staff;

use actix_web::web;

use crate::extract::json_config;

pub fn configure(cfg: &mut web::ServiceConfig, max_bulk_bytes: usize) {
    cfg.route("/", web::get().to(pages::index))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .service(
            web::scope("/api/v1")
                .route(
                    "/auth/miniprogram/login",
                    web::post().to(auth::miniprogram_login),
                )
                .route("/auth/refresh", web::post().to(auth::refresh))
                .route("/auth/logout", web::post().to(auth::logout))
                .route("/me", web::get().to(me::show))
                .route("/me", web::patch().to(me::update))
                .route("/me/identity", web::post().to(me::bind_identity))
                .route("/staff/login", web::post().to(staff::login))
                .service(
                    web::resource("/staff/gov-records")
                        .app_data(json_config(max_bulk_bytes))
                        .route(web::post().to(staff::upsert_gov_records)),
                ),
        );
}
