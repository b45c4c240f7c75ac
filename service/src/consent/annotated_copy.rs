//! The annotated copy (加注件): what an agency downloads under a grant. A JSON envelope with
//! the permit data the grant allows (the name and ID number masked when not allowed; other
//! fields left out), the annotation (agency, purpose, time, grant, expiry) and a detached
//! signature (`alg` EdDSA or SM2, by key `kid`), verifiable with `GET /api/v1/keys`.
//!
//! The signature covers the RFC 8785 (JCS) canonical form of the envelope without its
//! `signature` member, so `alg` and `kid` are signed too, and any JCS implementation can
//! rebuild the signed bytes from the JSON as served. Envelopes signed before (Ed25519 over
//! `yueju-annotated-copy-v1`, a newline and the sorted JSON of `copy`) are never made again
//! but keep verifying: an agency may archive a copy for longer than its grant lives.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use entity::{agency, authorization};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::Context;
use crate::consent::access_log::{self, Action, Actor};
use crate::consent::agencies::{AgencyPrincipal, Scope};
use crate::consent::grants::{GrantStatus, grant_status};
use crate::domain::permit_rules::PermitStatus;
use crate::error::{Missing, Refusal, Result};
use crate::keys::privacy::{Kind, mask_id_number, mask_name};
use crate::keys::signing::{Alg, PublishedKey, jcs, verify_published_alg, verify_value_alg};
use crate::permit::fields::{self, PermitField};
use crate::permit::permits;
use crate::verify::verification::field_value;

pub const SIGNATURE_PURPOSE: &str = "yueju-annotated-copy-v1";
pub const COPY_TYPE: &str = "gd-residence-permit-annotated-copy";

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignedCopy {
    #[schema(schema_with = crate::api_schema::annotated_copy)]
    pub copy: Value,
    #[schema(schema_with = crate::api_schema::signature_alg)]
    pub alg: String,
    pub kid: String,
    pub signature: String,
}

/// The annotation printed across the copy.
pub fn annotation_text(agency: &str, purpose: &str, expires_at: DateTime<Utc>) -> String {
    let day = expires_at
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .format("%Y年%m月%d日");
    format!("仅供{agency}用于{purpose}，{day}前有效")
}

/// What an envelope's signature covers: the RFC 8785 (JCS) form of the envelope without its
/// `signature` member.
pub fn signed_bytes(copy: &SignedCopy) -> anyhow::Result<Vec<u8>> {
    let mut envelope = serde_json::to_value(copy)?;
    if let Some(members) = envelope.as_object_mut() {
        members.remove("signature");
    }
    jcs(&envelope)
}

/// Checks a copy's signature with published keys, as the agency (or anyone it passes the
/// copy to) does: the key of the envelope's `alg` named by its `kid`, over [`signed_bytes`].
/// An Ed25519 envelope of the first form (see the module documentation) also verifies.
pub fn verify(published: &[PublishedKey], copy: &SignedCopy) -> bool {
    let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(&copy.signature) else {
        return false;
    };
    let current = signed_bytes(copy).is_ok_and(|message| {
        verify_published_alg(published, &copy.alg, &copy.kid, &message, &signature).is_ok()
    });
    current
        || (copy.alg == Alg::EdDsa.as_str()
            && verify_value_alg(
                published,
                &copy.alg,
                &copy.kid,
                SIGNATURE_PURPOSE,
                &copy.copy,
                &copy.signature,
            ))
}

/// One download: checks the grant (the agency's own, not revoked, not expired, downloads
/// left) and the permit (still in force), counts the download, records it in the holder's
/// access log and signs the copy, all in one transaction.
pub async fn download(
    ctx: &Context,
    principal: &AgencyPrincipal,
    grant_id: Uuid,
) -> Result<(SignedCopy, Option<render::OwnedPhoto>)> {
    principal.require(Scope::Download)?;
    let now = ctx.clock.now();
    let txn = ctx.db.begin().await?;
    let grant = authorization::Entity::find_by_id(grant_id)
        .filter(authorization::Column::AgencyId.eq(principal.agency_id))
        .one(&txn)
        .await?
        .ok_or(Refusal::NotFound(Missing::Authorization))?;
    if grant.proof_city.is_some() {
        return Err(Refusal::AuthorizationNotForCopy.into());
    }
    match grant_status(&grant, now) {
        GrantStatus::Revoked => return Err(Refusal::AuthorizationRevoked.into()),
        GrantStatus::Expired => return Err(Refusal::AuthorizationExpired.into()),
        GrantStatus::Exhausted => return Err(Refusal::DownloadLimitReached.into()),
        GrantStatus::Active => {}
    }
    super::grants::count_download(&txn, &grant).await?;
    let agency = agency::Entity::find_by_id(grant.agency_id)
        .one(&txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("agency {} vanished", grant.agency_id))?;
    let permit = entity::permit::Entity::find_by_id(grant.permit_id)
        .one(&txn)
        .await?
        .ok_or(Refusal::NotFound(Missing::Authorization))?;
    let version = permits::current_version(&txn, &permit).await?;
    let status = permits::status(&permit, &version, ctx.clock.today());
    if status != PermitStatus::Valid {
        return Err(Refusal::PermitNotValid.into());
    }
    let document = permits::open_document(ctx, &version)?;
    let allowed = fields::parse_list(&grant.fields);
    let mut data = Map::new();
    for field in PermitField::ALL {
        if field == PermitField::Photo {
            continue;
        }
        if allowed.contains(&field) {
            data.insert(field.as_str().into(), json!(field_value(&document, field)));
        } else if field == PermitField::Name {
            data.insert(field.as_str().into(), json!(mask_name(&document.name)));
        } else if field == PermitField::IdNumber {
            data.insert(
                field.as_str().into(),
                json!(mask_id_number(&document.id_number)),
            );
        }
    }
    let photo = match (
        allowed.contains(&PermitField::Photo),
        &permit.photo_enc,
        &permit.photo_mime,
    ) {
        (true, Some(sealed), Some(mime)) => Some(render::OwnedPhoto {
            mime: mime.clone(),
            bytes: ctx.vault.open(Kind::Photo, sealed)?,
        }),
        _ => None,
    };
    if let Some(p) = &photo {
        data.insert(
            "photo".into(),
            json!({"mime": p.mime, "base64": base64::engine::general_purpose::STANDARD.encode(&p.bytes)}),
        );
    }
    let download_no = grant.downloads + 1;
    let copy = json!({
        "type": COPY_TYPE,
        "permit_no": document.permit_no,
        "licence_id": document.licence_id,
        "version": document.version,
        "permit": Value::Object(data),
        "fields": allowed.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        "annotation": {
            "agency": agency.name,
            "agency_credit_code": agency.credit_code,
            "purpose": grant.purpose,
            "authorization_id": grant.id.to_string(),
            "granted_at": grant.created_at,
            "expires_at": grant.expires_at,
            "downloaded_at": now,
            "download_no": download_no,
            "retention_days": grant.retention_days,
            "text": annotation_text(&agency.name, &grant.purpose, grant.expires_at),
        },
    });
    // Serialise through the same canonical form that is signed (timestamps as strings).
    let copy: Value = serde_json::from_slice(&crate::keys::signing::canonical_json(&copy))
        .map_err(anyhow::Error::from)?;
    let mut signed = SignedCopy {
        copy,
        alg: ctx.keys.signing_alg().as_str().into(),
        kid: ctx.keys.signing_kid().to_owned(),
        signature: String::new(),
    };
    // A signer that fails returns before the commit: the counted download is rolled back.
    let signature = ctx.keys.sign(&signed_bytes(&signed)?).await?;
    if signature.kid != signed.kid {
        return Err(anyhow::anyhow!(
            "the key ring signed with {} instead of {}",
            signature.kid,
            signed.kid
        )
        .into());
    }
    signed.signature = signature.b64();
    access_log::record(
        &txn,
        access_log::Event {
            person_id: grant.person_id,
            at: now,
            actor: Actor::Agency {
                id: agency.id,
                name: agency.name.clone(),
            },
            action: Action::Download,
            purpose: Some(&grant.purpose),
            detail: json!({
                "authorization_id": grant.id.to_string(),
                "fields": allowed.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
                "download_no": download_no,
            }),
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(authorization_id = %grant.id, download_no, "annotated copy downloaded");
    Ok((signed, photo))
}

/// The rendered copy, with the annotation printed across it.
pub fn svg(signed: &SignedCopy, photo: Option<&render::OwnedPhoto>) -> String {
    let printed = Printed::of(signed);
    render::annotated_copy_svg(&printed.copy(signed, photo))
}

/// What a rendered copy prints, read from the signed envelope: the same for the SVG and the
/// PDF ([`super::copy_pdf`]).
pub(crate) struct Printed {
    rows: Vec<(&'static str, String)>,
    pub(crate) watermark: String,
    details: Vec<(&'static str, String)>,
}

impl Printed {
    pub(crate) fn of(signed: &SignedCopy) -> Printed {
        let permit = signed.copy.get("permit").and_then(Value::as_object);
        let text_of = |key: &str| {
            permit
                .and_then(|p| p.get(key))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let mut rows: Vec<(&'static str, String)> = Vec::new();
        for field in PermitField::ALL {
            if field == PermitField::Photo {
                continue;
            }
            let value = text_of(field.as_str());
            if !value.is_empty() {
                let shown = if field == PermitField::Gender {
                    crate::wording::labels::gender_of(&value).to_owned()
                } else {
                    value
                };
                rows.push((field.label(), shown));
            }
        }
        let copy_str = |path: &[&str]| {
            let mut v = &signed.copy;
            for p in path {
                v = v.get(*p).unwrap_or(&Value::Null);
            }
            match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            }
        };
        rows.insert(0, ("证件编号", copy_str(&["permit_no"])));
        let watermark = copy_str(&["annotation", "text"]);
        let details = vec![
            ("用证部门", copy_str(&["annotation", "agency"])),
            (
                "统一社会信用代码",
                copy_str(&["annotation", "agency_credit_code"]),
            ),
            ("用途", copy_str(&["annotation", "purpose"])),
            ("授权编号", copy_str(&["annotation", "authorization_id"])),
            ("下载时间", copy_str(&["annotation", "downloaded_at"])),
            ("授权有效期至", copy_str(&["annotation", "expires_at"])),
            ("电子证照标识", copy_str(&["licence_id"])),
        ];
        Printed {
            rows,
            watermark,
            details,
        }
    }

    /// The copy for the renderer, borrowing from `self`, the envelope and the photo.
    pub(crate) fn copy<'a>(
        &'a self,
        signed: &'a SignedCopy,
        photo: Option<&'a render::OwnedPhoto>,
    ) -> render::AnnotatedCopy<'a> {
        render::AnnotatedCopy {
            fields: self
                .rows
                .iter()
                .map(|(label, value)| (*label, value.clone()))
                .collect(),
            photo: photo.map(|p| render::Photo {
                mime: &p.mime,
                bytes: &p.bytes,
            }),
            watermark: &self.watermark,
            details: self
                .details
                .iter()
                .map(|(label, value)| (*label, value.clone()))
                .collect(),
            key_id: &signed.kid,
            signature_b64: &signed.signature,
        }
    }
}
