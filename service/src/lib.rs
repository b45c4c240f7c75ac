//! The domain of yueju, free of HTTP.
//!
//! A tour, one folder a part of the domain; imports run downward in this list:
//! - [`operations`]: what staff read about the service as a whole: the dashboard's daily
//!   counts over the tables of the parts below.
//! - [`rights`]: what a person can ask of their data: export, closure, retention, key rotation.
//! - [`verify`]: the 粤居码, status lists, and the one verification path.
//! - [`consent`]: agencies, their access requests, the holder's grants, the annotated copy and
//!   the access log.
//! - [`applying`]: filing, eligibility on government data, materials, idempotency.
//! - [`permit`]: the permit's life once issued: versions, endorsement, renewal, address
//!   changes, an ended residence registration, cards and the card fee.
//! - [`notices`]: reminders, the outbox and delivery by the channel that reaches the person.
//! - [`identity`]: logins, sessions, tokens, real-name binding, staff, the WeChat platform.
//! - [`govdata`]: the government-data port and its adapters.
//! - [`domain`]: value types that parse, and the permit's date rules
//!   ([`domain::permit_rules`]): the one place that says when a permit is in force.
//! - [`keys`]: signing keys, sealing and masking personal data, key material.
//!
//! Beside them: [`clock`] is the one time every date rule reads; [`config`] reads the
//! settings; [`context::Context`] holds everything a request needs; [`db`] connects and
//! migrates; [`demo`] seeds the demo data set in dev mode. Drawing the card, the copy and the
//! QR code is the `render` crate's. [`api_schema`] gives the OpenAPI schema of values the
//! answering types hold as plain strings. [`wording`] gives the Chinese text of every refusal
//! and the label of every value the screens and the card show. Every fallible call answers
//! [`Error`]: a [`Refusal`] the client caused, or an internal cause.

pub mod api_schema;
pub mod applying;
pub mod clock;
pub mod config;
pub mod consent;
pub mod context;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod govdata;
pub mod identity;
pub mod keys;
pub mod metrics;
pub mod notices;
pub mod operations;
pub mod permit;
pub mod residence;
pub mod rights;
pub mod verify;
pub mod wording;

pub use context::Context;
pub use error::{Error, Refusal};
