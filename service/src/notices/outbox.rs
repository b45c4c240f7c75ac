//! The notifier port's outbox: a notice is written in the same transaction as the event that
//! causes it (a decision, a revocation, an agency's request), with a key that makes a second
//! write of the same notice a no-op. The delivery worker (e-mail, chat) reads it from here.

use std::fmt::Write as _;

use anyhow::Context as _;
use entity::outbox;
use entity::statuses::OutboxStatus;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait, Statement, Value,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Context;
use crate::error::Result;
use crate::keys::privacy::Kind;

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
    /// The holder's residence registration in `city` ended on `until`: a new address
    /// registered within `days` days (by `register_by`) keeps the permit in force.
    RegistrationEnded {
        permit_no: String,
        city: String,
        until: chrono::NaiveDate,
        days: u32,
        register_by: chrono::NaiveDate,
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
            Notice::RegistrationEnded { .. } => "registration_ended",
        }
    }
}

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
    enqueue_by(ctx, db, person_id, dedupe_key, notice, None).await
}

/// [`enqueue`], with `channel` naming the only channel the notice may go by (`outbox.channel`
/// set ahead; see [`super::every_channel`]); `None` lets delivery choose the first that works.
pub async fn enqueue_by<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    person_id: Uuid,
    dedupe_key: &str,
    notice: &Notice,
    channel: Option<&str>,
) -> Result<bool> {
    let payload = serde_json::to_vec(notice).map_err(anyhow::Error::from)?;
    let now = ctx.clock.now();
    let inserted = outbox::Entity::insert(outbox::ActiveModel {
        id: Set(Uuid::new_v4()),
        person_id: Set(Some(person_id)),
        kind: Set(notice.kind().into()),
        payload_enc: Set(ctx.vault.seal(Kind::Notice, &payload)?),
        dedupe_key: Set(dedupe_key.to_owned()),
        status: Set(OutboxStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        channel: Set(channel.map(str::to_owned)),
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

/// Parameters one statement may bind. SQLite's limit (`SQLITE_MAX_VARIABLE_NUMBER`, 32766
/// since 3.32; sqlx bundles a newer SQLite) is the smaller of the two backends (PostgreSQL:
/// 65535).
const MAX_BOUND_VALUES: usize = 32_766;
/// Values [`enqueue_many`] binds per notice: id, person, kind, payload, key, and the time as
/// `next_attempt_at` and `created_at`.
const BOUND_PER_NOTICE: usize = 7;
/// The most notices one multi-row INSERT takes (4680).
pub const MAX_NOTICES_PER_INSERT: usize = MAX_BOUND_VALUES / BOUND_PER_NOTICE;

/// A notice serialized and sealed, with its id, ready to insert.
struct SealedNotice {
    id: Uuid,
    person_id: Uuid,
    kind: &'static str,
    payload_enc: Vec<u8>,
    dedupe_key: String,
}

fn seal_many(ctx: &Context, notices: &[(Uuid, &str, &Notice)]) -> Result<Vec<SealedNotice>> {
    // One read of the random source for all the ids instead of one per `Uuid::new_v4` (each a
    // getrandom system call); the ids are the same random (version 4) UUIDs.
    let mut random = vec![0u8; notices.len() * 16];
    getrandom::fill(&mut random)
        .map_err(|e| anyhow::anyhow!("no random source for outbox ids: {e}"))?;
    let mut sealed = Vec::with_capacity(notices.len());
    let mut payload = Vec::new();
    for ((person_id, dedupe_key, notice), bytes) in notices.iter().zip(random.chunks_exact(16)) {
        let mut id = [0u8; 16];
        id.copy_from_slice(bytes);
        payload.clear();
        serde_json::to_writer(&mut payload, notice)
            .with_context(|| format!("serializing a {} notice", notice.kind()))?;
        sealed.push(SealedNotice {
            id: uuid::Builder::from_random_bytes(id).into_uuid(),
            person_id: *person_id,
            kind: notice.kind(),
            payload_enc: ctx.vault.seal(Kind::Notice, &payload)?,
            dedupe_key: (*dedupe_key).to_owned(),
        });
    }
    Ok(sealed)
}

/// [`enqueue`] for many notices (the reminder sweep writes thousands): one multi-row INSERT
/// per [`MAX_NOTICES_PER_INSERT`] notices. Answers how many were new; the ones whose key is
/// already queued are skipped.
///
/// It writes the row [`enqueue`] writes (pending, no attempt yet, due now, the other columns
/// NULL), but the SQL is written out here: built by sea-query from active models, every row
/// bound twelve values, five of them the same constants for every row.
pub async fn enqueue_many<C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    notices: &[(Uuid, &str, &Notice)],
) -> Result<u64> {
    let backend = db.get_database_backend();
    let pg = backend == DbBackend::Postgres;
    let now = ctx.clock.now();
    let mut inserted = 0;
    let pending = OutboxStatus::Pending.to_value();
    for chunk in notices.chunks(MAX_NOTICES_PER_INSERT) {
        let mut sql = String::with_capacity(160 + chunk.len() * 64);
        sql.push_str(
            "INSERT INTO outbox (id, person_id, kind, payload_enc, dedupe_key, next_attempt_at, \
             created_at, status, attempts) VALUES ",
        );
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * BOUND_PER_NOTICE);
        for (i, n) in seal_many(ctx, chunk)?.into_iter().enumerate() {
            sql.push_str(if i == 0 { "(" } else { ",(" });
            for j in 0..BOUND_PER_NOTICE {
                if j > 0 {
                    sql.push(',');
                }
                // SQLite gets anonymous `?` placeholders: it looks a named or numbered one
                // (`$7`, `?7`) up in a list of all the statement's parameters, both when parsing
                // and each time sqlx binds one, which is quadratic in the thousands of
                // parameters here. PostgreSQL needs `$n`.
                if pg {
                    // `write!` into a String cannot fail.
                    let _ = write!(sql, "${}", values.len() + j + 1);
                } else {
                    sql.push('?');
                }
            }
            let _ = write!(sql, ",'{pending}',0)");
            values.extend([
                n.id.into(),
                n.person_id.into(),
                n.kind.into(),
                n.payload_enc.into(),
                n.dedupe_key.into(),
                now.into(),
                now.into(),
            ]);
        }
        sql.push_str(" ON CONFLICT (dedupe_key) DO NOTHING");
        inserted += db
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .context("inserting notices into the outbox")?
            .rows_affected();
    }
    Ok(inserted)
}

/// Reads a queued notice back (for the delivery worker and tests).
pub fn open_notice(ctx: &Context, row: &outbox::Model) -> Result<Notice> {
    let bytes = ctx.vault.open(Kind::Notice, &row.payload_enc)?;
    Ok(serde_json::from_slice(&bytes).map_err(anyhow::Error::from)?)
}
