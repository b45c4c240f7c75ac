//! Value types that validate on construction, so that the rest of the code cannot hold
//! an invalid one.

mod id_number;

pub use id_number::{Gender, IdNumber, IdNumberError, check_char};
