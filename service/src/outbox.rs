//! The notifier port's outbox: a notice is written in the same transaction as the event that
//! causes it (a decision, a revocation, an agency's request), with a key that makes a second
//! write of the same notice a no-op. The delivery worker (e-mail, chat) reads it from here.

use chrono::Utc;
use entity::outbox;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Context;
use crate::error::Result;
use crate::privacy::Kind;

/// What a person is told. Messages are written at delivery time, in Chinese, from these facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    ApplicationDecided {
        application_id: Uuid,
        approved: bool,
        permit_no: Option<String>,
        reason: Option<String>,
    },
    PermitRevoked {
        permit_no: String,
        reason: String,
    },
    /// An agency asks the holder for access to the permit.
    AccessRequested {
        request_id: Uuid,
        agency: String,
        purpose: String,
    },
    /// The yearly endorsement window is open.
    EndorsementDue {
        permit_no: String,
        due: chrono::NaiveDate,
    },
    /// The permit expires soon.
    ExpiryNear {
        permit_no: String,
        valid_until: chrono::NaiveDate,
        days_left: i64,
    },
    /// Six months of residence are reached and no permit is held.
    EligibleNow {
        city: String,
    },
}

impl Notice {
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::ApplicationDecided { .. } => "application_decided",
            Notice::PermitRevoked { .. } => "permit_revoked",
            Notice::AccessRequested { .. } => "access_requested",
            Notice::EndorsementDue { .. } => "endorsement_due",
            Notice::ExpiryNear { .. } => "expiry_near",
            Notice::EligibleNow { .. } => "eligible_now",
        }
    }
}

pub const PENDING: &str = "pending";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";
/// Nobody to deliver to (no e-mail and no chat link, or the account was closed).
pub const UNDELIVERABLE: &str = "undeliverable";

impl Notice {
    /// Reminders respect the holder's opt-out; service notices (decisions, requests) do not.
    pub fn is_reminder(&self) -> bool {
        matches!(
            self,
            Notice::EndorsementDue { .. } | Notice::ExpiryNear { .. } | Notice::EligibleNow { .. }
        )
    }
}

/// Queues a notice for a person; `dedupe_key` names the event so it is queued once. Answers
/// whether this call queued it (false: it was already there).
pub async fn enqueue<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    person_id: Uuid,
    dedupe_key: &str,
    notice: &Notice,
) -> Result<bool> {
    let payload = serde_json::to_vec(notice).map_err(anyhow::Error::from)?;
    let now = Utc::now();
    let inserted = outbox::Entity::insert(outbox::ActiveModel {
        id: Set(Uuid::new_v4()),
        person_id: Set(Some(person_id)),
        kind: Set(notice.kind().into()),
        payload_enc: Set(ctx.vault.seal(Kind::Notice, &payload)?),
        dedupe_key: Set(dedupe_key.to_owned()),
        status: Set(PENDING.into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
    })
    .on_conflict(
        OnConflict::column(outbox::Column::DedupeKey)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

/// [`enqueue`] for many notices in one multi-row INSERT (the reminder sweep writes thousands).
/// Answers how many were new; the ones whose key is already queued are skipped.
pub async fn enqueue_many<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    notices: &[(Uuid, &str, &Notice)],
) -> Result<u64> {
    if notices.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    let mut rows = Vec::with_capacity(notices.len());
    for (person_id, dedupe_key, notice) in notices {
        let payload = serde_json::to_vec(notice).map_err(anyhow::Error::from)?;
        rows.push(outbox::ActiveModel {
            id: Set(Uuid::new_v4()),
            person_id: Set(Some(*person_id)),
            kind: Set(notice.kind().into()),
            payload_enc: Set(ctx.vault.seal(Kind::Notice, &payload)?),
            dedupe_key: Set((*dedupe_key).to_owned()),
            status: Set(PENDING.into()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            locked_until: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            sent_at: Set(None),
        });
    }
    let inserted = outbox::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(outbox::Column::DedupeKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(inserted)
}

/// Reads a queued notice back (for the delivery worker and tests).
pub fn open_notice(ctx: &Context, row: &outbox::Model) -> Result<Notice> {
    let bytes = ctx.vault.open(Kind::Notice, &row.payload_enc)?;
    Ok(serde_json::from_slice(&bytes).map_err(anyhow::Error::from)?)
}
