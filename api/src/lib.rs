//! The HTTP face of yueju (actix-web).
//!
//! A tour: the root package's `yueju` binary starts it; [`startup::Application`] binds the
//! listener and builds the server around one shared [`service::Context`]; [`routes`] composes
//! every route from its modules, and [`openapi`] serves the contract utoipa derives from those
//! same handlers and types; [`extract`] holds the principal extractors and the body-error handlers;
//! [`error::ApiError`] is the one error type of this layer; [`telemetry`] sets up logs;
//! [`metrics`] serves `GET /metrics` on a listener of its own.

pub mod error;
pub mod extract;
mod jobs;
pub mod metrics;
pub mod openapi;
pub mod rate_limit;
pub mod routes;
pub mod startup;
pub mod telemetry;
