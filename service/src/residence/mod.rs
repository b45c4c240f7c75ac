//! Residence years (居住年限) and the signed yes-or-no proofs of them.
//!
//! - [`years`]: the periods and counts of continuous residence of a person, read from the
//!   history of their permits; the rules are [`crate::domain::residence_years`].
//! - [`proofs`]: a signed statement that the holder has, or has not, lived continuously in a
//!   city for at least N years as of a date, and its check, online and offline. It says
//!   nothing else of the history.

pub mod proofs;
pub mod years;
