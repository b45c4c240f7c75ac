//! What staff and operators read about the service as a whole, never about a person: the
//! dashboard's daily aggregates ([`dashboard`]).

pub mod dashboard;
