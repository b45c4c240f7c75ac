//! Value types that validate on construction, so that the rest of the code cannot hold
//! an invalid one.

pub mod credit_code;
pub mod divisions;
mod id_number;
pub mod licence;
pub mod permit_rules;
pub mod residence_years;

pub use credit_code::CreditCode;
pub use id_number::{Gender, IdNumber, IdNumberError, check_char};
