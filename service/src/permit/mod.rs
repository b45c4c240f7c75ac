//! The permit's life once issued.
//!
//! [`permits`] issues the permit signed, keeps its versions and current-version pointer, and
//! revokes it; [`endorsement`] endorses and renews it; [`address_change`] moves it to a new
//! address in its city; [`registration_end`] reacts to a residence registration that ended
//! in the government data (the holder told at once, the permit suspended when no new address
//! comes in time). The date rules themselves are pure functions in
//! [`crate::domain::permit_rules`]. [`cards`] handles the voluntary physical card, and [`fees`]
//! collects a replacement's fee through the province's payment platform. [`fields`] names the
//! fields an agency may be allowed to see. [`counters`] hands out serial numbers.

pub mod address;
pub mod address_change;
pub mod cards;
pub mod counters;
pub mod endorsement;
pub mod fees;
pub mod fields;
pub mod permits;
pub mod registration_end;
