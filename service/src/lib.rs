//! The domain of yueju, free of HTTP.
//!
//! A tour: [`config`] reads the settings; [`context::Context`] holds everything a request needs
//! (database, keys, platform clients, ports). [`domain`] has the validated value types such as
//! [`domain::IdNumber`], and the permit's date rules ([`domain::permit_rules`]) that
//! [`permits`], [`verification`] and [`reminders`] all read. [`privacy`] seals personal data
//! at rest and masks it for display.
//! [`sessions`] logs residents in through the WeChat platform ([`wechat`]) and rotates refresh
//! tokens; [`tokens`] signs and checks access tokens. [`identity`] binds a login to a verified
//! citizen, behind the platform's face verification ([`face_verification`]); [`staff`] keeps
//! staff accounts. [`govdata`] is the government-data port with its embedded and HTTP adapters;
//! [`demo`] seeds a demo data set in dev mode. Notices wait in the [`outbox`] (the sweep in
//! [`reminders`] writes the reminders) until [`delivery`] sends each by the first channel that
//! reaches the person: a subscribe message while [`subscriptions`] holds a credit or a
//! long-term subscription, a customer message, or e-mail.
//! [`export`] gives residents all their data and [`closure`] closes their account;
//! [`retention`] deletes what is kept no longer and [`rotation`] re-seals under a new data key.
//! Every fallible call answers [`Error`]: a [`Refusal`] the client caused, or an internal cause.

pub mod access_log;
pub mod agencies;
pub mod annotated_copy;
pub mod applications;
pub mod cards;
pub mod closure;
pub mod codes;
pub mod config;
pub mod consents;
pub mod context;
pub mod counters;
pub mod db;
pub mod delivery;
pub mod demo;
pub mod documents;
pub mod domain;
pub mod eligibility;
pub mod error;
pub mod export;
pub mod face_verification;
pub mod fields;
pub mod govdata;
pub mod idempotency;
pub mod identity;
pub mod lockout;
pub mod mailer;
pub mod notice_text;
pub mod outbox;
pub mod permits;
pub mod privacy;
pub mod reminders;
pub mod render;
pub mod retention;
pub mod rotation;
pub mod secrets;
pub mod sessions;
pub mod signing;
pub mod staff;
pub mod status_list;
pub mod subscriptions;
pub mod tokens;
pub mod verification;
pub mod wechat;

pub use context::Context;
pub use error::{Error, Refusal};
