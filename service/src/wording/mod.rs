//! Every Chinese word the service's users read about its vocabularies, in one place.
//!
//! A tour: [`refusals`] words each [`crate::Refusal`] (the API's error message and the bot's
//! reply are the same sentence) and the details refusals carry (ID-number problems, request
//! fields, verification reasons, materials, reasons for a rejection). [`labels`] gives the short
//! label of every value of the closed sets the screens show (statuses, bases, permit fields,
//! access-log actions, subscription kinds, ...) and [`labels::vocabularies`] lists them all for
//! `GET /api/v1/labels`, so the H5 pages hold no table of their own.
//!
//! Every table is an exhaustive `match` without a catch-all arm: a new variant does not compile
//! until it is worded.

pub mod labels;
pub mod refusals;

pub use labels::vocabularies;
pub use refusals::refusal_message;
