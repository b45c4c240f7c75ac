//! Every route, in one place. Handlers stay thin: parse into domain types, call `service`,
//! map the result.

mod applications;
mod auth;
pub mod bot;
mod code;
mod consent;
mod health;
mod labels;
mod me;
mod miniprogram;
mod oauth;
mod pages;
mod permit;
mod staff;
mod subscriptions;

use actix_web::web;

use crate::extract::json_config;

pub fn configure(cfg: &mut web::ServiceConfig, max_bulk_bytes: usize) {
    // The API scope comes first so that `/verify` is the first pattern tried.
    cfg.service(
        web::scope("/api/v1")
            // First: the route under the heaviest load is matched before any other.
            .route("/verify", web::post().to(code::verify))
            .route("/openapi.json", web::get().to(pages::openapi))
            .route("/docs", web::get().to(pages::docs))
            .route("/labels", web::get().to(labels::show))
            .route(
                "/auth/miniprogram/login",
                web::post().to(auth::miniprogram_login),
            )
            .route("/auth/refresh", web::post().to(auth::refresh))
            .route("/auth/logout", web::post().to(auth::logout))
            .route("/me", web::get().to(me::show))
            .route("/me", web::patch().to(me::update))
            .route("/me", web::delete().to(me::close))
            .route("/me/export", web::get().to(me::export))
            .route("/me/identity", web::post().to(me::bind_identity))
            .route(
                "/me/identity/face-verification",
                web::post().to(me::start_face_verification),
            )
            .route("/me/bot-binding-code", web::post().to(bot::binding_code))
            .route("/me/subscriptions", web::get().to(subscriptions::list))
            .route("/me/subscriptions", web::post().to(subscriptions::record))
            .route("/bot/messages", web::post().to(bot::messages))
            .service(
                web::resource("/bot/wechat")
                    .app_data(bot::wechat_payload_config())
                    .route(web::get().to(bot::wechat_check))
                    .route(web::post().to(bot::wechat_push)),
            )
            .service(
                web::resource("/wechat/miniprogram/{app}")
                    .app_data(miniprogram::payload_config())
                    .route(web::get().to(miniprogram::check))
                    .route(web::post().to(miniprogram::receive)),
            )
            .route("/keys", web::get().to(permit::keys))
            .route("/applications", web::post().to(applications::create))
            .route("/applications", web::get().to(applications::list))
            .route("/applications/{id}", web::get().to(applications::show))
            .route(
                "/applications/{id}/materials",
                web::post().to(applications::add_material),
            )
            .route("/me/permit", web::get().to(permit::show))
            .route("/me/permit/document", web::get().to(permit::document))
            .route("/me/permit/photo", web::get().to(permit::photo))
            .route("/me/permit/card.svg", web::get().to(code::card_svg))
            .route("/me/code", web::get().to(code::my_code))
            .route("/status-lists/{list_id}", web::get().to(code::status_list))
            .route(
                "/agency/authorization-requests",
                web::post().to(consent::request_access),
            )
            .route(
                "/agency/authorization-requests/{id}",
                web::get().to(consent::agency_request),
            )
            .route(
                "/agency/authorizations/{id}/annotated-copy",
                web::get().to(consent::annotated_copy),
            )
            .route(
                "/me/authorization-requests",
                web::get().to(consent::my_requests),
            )
            .route(
                "/me/authorization-requests/{id}/approve",
                web::post().to(consent::approve),
            )
            .route(
                "/me/authorization-requests/{id}/deny",
                web::post().to(consent::deny),
            )
            .route("/me/authorizations", web::get().to(consent::my_grants))
            .route("/me/authorizations/{id}", web::delete().to(consent::revoke))
            .route("/me/access-log", web::get().to(consent::access_log))
            .route(
                "/me/access-log/check",
                web::get().to(consent::access_log_check),
            )
            .route("/staff/agencies", web::post().to(staff::register_agency))
            .route("/staff/agencies", web::get().to(staff::agencies))
            .route("/staff/reminders/run", web::post().to(staff::run_reminders))
            .route("/me/permit/endorsements", web::post().to(permit::endorse))
            .route("/me/physical-card", web::post().to(permit::order_card))
            .route("/me/physical-card", web::get().to(permit::card_order))
            .route("/staff/login", web::post().to(staff::login))
            .route("/staff/retention/run", web::post().to(staff::run_retention))
            .route("/staff/applications", web::get().to(staff::queue))
            .route(
                "/staff/applications/{id}",
                web::get().to(staff::application),
            )
            .route(
                "/staff/applications/{id}/materials/{material_id}",
                web::get().to(staff::material),
            )
            .route(
                "/staff/applications/{id}/decision",
                web::post().to(staff::decide),
            )
            .route(
                "/staff/permits/{permit_no}/revoke",
                web::post().to(staff::revoke_permit),
            )
            .route(
                "/staff/card-orders/{id}/status",
                web::post().to(staff::advance_card_order),
            )
            .service(
                web::resource("/staff/gov-records")
                    .app_data(json_config(max_bulk_bytes))
                    .app_data(crate::extract::BodyLimit(max_bulk_bytes))
                    .route(web::post().to(staff::upsert_gov_records)),
            ),
    )
    .route("/", web::get().to(pages::index))
    .route("/h5/{name:.*}", web::get().to(pages::h5))
    .route("/healthz", web::get().to(health::healthz))
    .route("/readyz", web::get().to(health::readyz))
    .route("/oauth/token", web::post().to(oauth::token));
}
