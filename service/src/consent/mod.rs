//! Agencies (用证部门) and what they may see with the holder's consent.
//!
//! [`agencies`] registers agencies with their scopes and permit fields, and checks their
//! credentials. [`consents`] carries an agency's access request to the holder and the holder's
//! decision, [`request_views`] what each side is shown of it and the consent text; [`grants`] keeps what an approval allows, where each grant
//! stands and the holder's revocation. [`annotated_copy`] is what a grant lets an agency
//! download (加注件), signed; [`copy_pdf`] lays it out as a PDF with the envelope attached, and
//! verifies such a PDF. [`access_log`] records every verification, request, decision and
//! download, so that the holder sees who looked. [`proof_grants`] lets an agency ask for a
//! signed yes-or-no residence proof instead of the copy.

pub mod access_log;
pub mod agencies;
pub mod annotated_copy;
pub mod consents;
pub mod copy_pdf;
pub mod grants;
pub mod proof_grants;
pub mod request_views;
