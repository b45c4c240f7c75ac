//! sea-orm entities, one module per table, in the shape `sea-orm-cli generate entity` writes.
//! No logic lives here; the domain is in `service`.
//!
//! Columns ending in `_enc` hold personal data sealed by `service::keys::privacy::Vault`;
//! columns ending in `_blind` hold its keyed blind index, used for lookups instead of the clear value.

pub mod prelude;
pub mod statuses;

pub mod access_log_anchor;
pub mod access_log_entry;
pub mod account;
pub mod agency;
pub mod application;
pub mod authorization;
pub mod authorization_request;
pub mod bot_dialogue;
pub mod card_order;
pub mod card_payment;
pub mod chat_binding_code;
pub mod chat_link;
pub mod counter;
pub mod face_verification;
pub mod gov_employment;
pub mod gov_housing;
pub mod gov_import_checkpoint;
pub mod gov_person;
pub mod gov_residence_registration;
pub mod gov_schooling;
pub mod idempotency_key;
pub mod inbound_message;
pub mod login_failure;
pub mod material;
pub mod outbox;
pub mod permit;
pub mod permit_version;
pub mod person;
pub mod refresh_token;
pub mod session;
pub mod staff_user;
pub mod status_change;
pub mod status_list;
pub mod status_place;
pub mod subscription;
pub mod subscription_choice;
