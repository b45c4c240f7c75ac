//! Materials for an application that government data could not prove: uploaded, checked to
//! be what they claim, sealed and stored under the data directory; purged when their time is
//! up; read back for the reviewer.

use entity::statuses::ApplicationStatus;
use entity::{application, material};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    TransactionTrait,
};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use uuid::Uuid;

use crate::Context;
use crate::applying::documents::{self, Checked, DocumentType};
use crate::applying::eligibility::MaterialKind;
use crate::error::{FieldProblem, Missing, Refusal, Result, invalid};
use crate::identity::sessions::ResidentPrincipal;
use crate::keys::privacy::Kind;

use super::applications::*;

fn uploads_dir(ctx: &Context, application_id: Uuid) -> PathBuf {
    ctx.settings
        .data_dir
        .join("uploads")
        .join(application_id.to_string())
}

/// Adds a document of a missing kind. It must decode as what it claims (images are stored
/// re-encoded, see `documents`); the file is sealed and written under the data directory
/// (never served as a static file); the row and the status change are one transaction, and
/// the file is removed again if that transaction fails.
pub async fn add_material(
    ctx: &Context,
    principal: &ResidentPrincipal,
    application_id: Uuid,
    kind: &str,
    bytes: Vec<u8>,
) -> Result<ApplicationView> {
    let person_id = principal.person()?;
    let kind =
        MaterialKind::parse(kind).ok_or_else(|| invalid("kind", FieldProblem::NotAllowed))?;
    if bytes.len() > ctx.settings.max_upload_bytes {
        return Err(Refusal::FileTooLarge.into());
    }
    // A cheap look at the signature first, so an unknown type costs no decoding slot.
    DocumentType::sniff(&bytes).ok_or(Refusal::FileTypeNotAllowed)?;
    let app = own(&ctx.db, person_id, application_id).await?;
    if app.status != ApplicationStatus::NeedsMaterials {
        return Err(Refusal::NotAwaitingMaterials.into());
    }
    let missing = from_json(&app.missing);
    if !missing.iter().any(|m| m == kind.as_str()) {
        return Err(Refusal::MaterialNotNeeded.into());
    }
    let checked = decode_off_thread(bytes).await?;
    let mime = checked.kind.mime();
    let bytes = checked.bytes;
    let material_id = Uuid::new_v4();
    let dir = uploads_dir(ctx, application_id);
    let path = dir.join(format!("{material_id}.sealed"));
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let sealed = ctx.vault.seal(Kind::Document, &bytes)?;
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(anyhow::Error::from)?;
    tokio::fs::write(&path, sealed)
        .await
        .map_err(anyhow::Error::from)?;
    let result = record_material(
        ctx,
        &app,
        material_id,
        kind,
        mime,
        bytes.len(),
        sha256,
        &path,
        &missing,
    )
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&path).await;
    }
    result
}

/// Decodes never run more than this many at once: each may hold an image's pixels in memory.
static DECODE_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Decoding is CPU work, so it runs on the blocking pool rather than an async worker.
async fn decode_off_thread(bytes: Vec<u8>) -> Result<Checked> {
    let _slot = DECODE_SLOTS
        .acquire()
        .await
        .map_err(|e| anyhow::Error::from(e).context("waiting for a decoding slot"))?;
    let checked = tokio::task::spawn_blocking(move || documents::check(bytes))
        .await
        .map_err(|e| anyhow::Error::from(e).context("decoding a material"))??;
    Ok(checked)
}

#[allow(clippy::too_many_arguments)]
async fn record_material(
    ctx: &Context,
    app: &application::Model,
    material_id: Uuid,
    kind: MaterialKind,
    mime: &str,
    size: usize,
    sha256: String,
    path: &std::path::Path,
    missing: &[String],
) -> Result<ApplicationView> {
    let now = ctx.clock.now();
    let txn = ctx.db.begin().await?;
    material::ActiveModel {
        id: Set(material_id),
        application_id: Set(app.id),
        kind: Set(kind.as_str().into()),
        mime: Set(mime.into()),
        size_bytes: Set(size as i64),
        sha256: Set(sha256),
        stored_path: Set(path
            .strip_prefix(&ctx.settings.data_dir)
            .unwrap_or(path)
            .display()
            .to_string()),
        created_at: Set(now),
        purged_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let present: Vec<String> = material::Entity::find()
        .filter(material::Column::ApplicationId.eq(app.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| m.kind)
        .collect();
    let complete = missing.iter().all(|m| present.contains(m));
    let mut active: application::ActiveModel = app.clone().into();
    if complete {
        active.status = Set(ApplicationStatus::PendingReview);
    }
    active.updated_at = Set(now);
    let row = active.update(&txn).await?;
    let view = view_of(ctx, &txn, &row).await?;
    txn.commit().await?;
    tracing::info!(application_id = %app.id, kind = kind.as_str(), complete, "material added");
    Ok(view)
}

/// Deletes the stored files of these materials and marks them purged (their metadata stays),
/// in the caller's transaction. Files go first: a failed transaction leaves rows a later run
/// purges again, never a file nobody knows about. Answers how many rows were marked.
pub async fn purge_material_files<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    materials: &[material::Model],
) -> Result<u64> {
    let mut ids = Vec::with_capacity(materials.len());
    for m in materials.iter().filter(|m| m.purged_at.is_none()) {
        let path = ctx.settings.data_dir.join(&m.stored_path);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(anyhow::Error::from(e)
                    .context(format!("deleting material {}", m.id))
                    .into());
            }
        }
        ids.push(m.id);
    }
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(material::Entity::update_many()
        .col_expr(
            material::Column::PurgedAt,
            Expr::value(Some(ctx.clock.now())),
        )
        .filter(material::Column::Id.is_in(ids))
        .filter(material::Column::PurgedAt.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// A material's content, opened for a reviewer, with the kind it was stored as (`None` only
/// for a row whose content type is not one this server stores).
pub async fn material_content(
    ctx: &Context,
    application_id: Uuid,
    material_id: Uuid,
) -> Result<(Option<DocumentType>, Vec<u8>)> {
    let m = material::Entity::find_by_id(material_id)
        .filter(material::Column::ApplicationId.eq(application_id))
        .filter(material::Column::PurgedAt.is_null())
        .one(&ctx.db)
        .await?
        .ok_or(Refusal::NotFound(Missing::Material))?;
    let sealed = tokio::fs::read(ctx.settings.data_dir.join(&m.stored_path))
        .await
        .map_err(anyhow::Error::from)?;
    Ok((
        DocumentType::from_mime(&m.mime),
        ctx.vault.open(Kind::Document, &sealed)?,
    ))
}
