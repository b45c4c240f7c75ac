//! JSON Schema of the values the answering types hold as plain strings or JSON, for the
//! OpenAPI document the api crate derives with utoipa: `#[schema(schema_with = …)]` on those
//! types names one of these. Each list comes from the code that writes the values, so the
//! document cannot list a value the server never sends or miss one it does.

use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use crate::consent::access_log::Action;
use crate::domain::permit_rules::PermitStatus;
use crate::identity::wechat::MiniApp;
use crate::identity::wechat::subscribe::{Mode, TemplateKind};
use crate::verify::verification::VerifyReason;

/// A string, one of `values`.
pub fn one_of<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.into_iter().map(Into::into)))
        .build()
}

fn string() -> Object {
    ObjectBuilder::new().schema_type(Type::String).build()
}

/// An object with these string properties, all required.
fn strings(names: &[&str]) -> ObjectBuilder {
    names.iter().fold(
        ObjectBuilder::new().schema_type(Type::Object),
        |object, name| object.property(*name, string()).required(*name),
    )
}

/// The signature algorithm of a key and of what it signed: `EdDSA` (Ed25519) or `SM2`.
pub fn signature_alg() -> Object {
    use crate::keys::signing::Alg;
    one_of(Alg::ALL.map(Alg::as_str))
}

/// A published key's JWK `kty`: `OKP` (Ed25519) or `EC` (SM2).
pub fn jwk_kty() -> Object {
    use crate::keys::signing::Alg;
    one_of(Alg::ALL.map(Alg::jwk_kty))
}

/// A published key's JWK `crv`: `Ed25519` or `SM2`.
pub fn jwk_crv() -> Object {
    use crate::keys::signing::Alg;
    one_of(Alg::ALL.map(Alg::jwk_crv))
}

/// The mini-programs, by the names the API takes and answers.
pub fn mini_app() -> Object {
    one_of([MiniApp::Yss, MiniApp::Yjm].map(MiniApp::as_str))
}

pub fn template_kind() -> Object {
    one_of(TemplateKind::ALL.map(TemplateKind::as_str))
}

pub fn subscription_mode() -> Object {
    one_of([Mode::OneTime, Mode::LongTerm].map(Mode::as_str))
}

/// What a stored subscription says (a filtered template leaves none).
pub fn subscription_status() -> Object {
    use crate::notices::subscriptions::{ACCEPT, BAN, REJECT};
    one_of([ACCEPT, REJECT, BAN])
}

/// Who acted, in the access log.
pub fn actor_kind() -> Object {
    one_of(["agency", "holder", "staff"])
}

pub fn access_action() -> Object {
    one_of(Action::ALL.map(Action::as_str))
}

/// Why a verification is not valid.
pub fn verify_reason() -> Object {
    one_of(VerifyReason::ALL.map(VerifyReason::code))
}

/// A verdict's status: the permit's, or `undetermined` when it could not be read.
pub fn verdict_status() -> Object {
    let statuses = PermitStatus::ALL.map(PermitStatus::as_str);
    one_of(
        statuses
            .into_iter()
            .chain([crate::verify::verification::UNDETERMINED]),
    )
}

/// The annotated copy an agency downloads: the permit fields it may see and the annotation.
pub fn annotated_copy() -> Object {
    use crate::consent::annotated_copy::COPY_TYPE;
    let annotation = strings(&[
        "agency",
        "purpose",
        "authorization_id",
        "expires_at",
        "downloaded_at",
        "text",
    ]);
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("type", one_of([COPY_TYPE]))
        .required("type")
        .property("permit_no", string())
        .required("permit_no")
        .property("licence_id", string())
        .property("permit", ObjectBuilder::new().schema_type(Type::Object))
        .required("permit")
        .property("annotation", annotation)
        .required("annotation")
        .build()
}
