//! Applying for a permit.
//!
//! [`applications`] files an application, checks it on government data and either issues the
//! permit at once or queues it for a reviewer. [`eligibility`] decides who may hold a permit
//! from the government records. [`documents`] accepts uploaded materials only when they are
//! what they claim to be; [`materials`] stores them for the application and the reviewer.
//! [`review`] is the reviewer's queue and decision. [`idempotency`] answers a repeated request
//! with its first answer.

pub mod applications;
pub mod documents;
pub mod eligibility;
pub mod idempotency;
pub mod materials;
pub mod review;
