//! The holder's access log: every agency verification, request, decision, download and
//! revocation, as a hash chain per person. Each entry's hash covers the previous entry's hash
//! and the entry's canonical form, so an auditor holding the latest hash (the holder sees it
//! in the app) detects any removal, insertion or change.
//!
//! Entries are kept for a limited time (`YUEJU_ACCESS_LOG_RETENTION_DAYS`): [`expire`] deletes
//! a person's oldest entries and moves the person's [`Anchor`] to the first one retained, so the
//! rest still checks as intact while any other removal still shows.

use chrono::{DateTime, SubsecRound, Utc};
use entity::access_log_anchor as anchor;
use entity::access_log_entry as entry;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::Result;
use crate::keys::signing::canonical_json;
use crate::permit::counters;

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Verify,
    Request,
    Approve,
    Deny,
    Download,
    Revoke,
    /// A residence proof made for an agency the holder consented to.
    ResidenceProof,
    /// A residence proof checked by an agency.
    ProofCheck,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::Verify,
        Action::Request,
        Action::Approve,
        Action::Deny,
        Action::Download,
        Action::Revoke,
        Action::ResidenceProof,
        Action::ProofCheck,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Verify => "verify",
            Action::Request => "request",
            Action::Approve => "approve",
            Action::Deny => "deny",
            Action::Download => "download",
            Action::Revoke => "revoke",
            Action::ResidenceProof => "residence_proof",
            Action::ProofCheck => "proof_check",
        }
    }
}

/// Who acted.
#[derive(Debug, Clone)]
pub enum Actor {
    Agency { id: Uuid, name: String },
    Holder,
}

/// One event to record.
pub struct Event<'a> {
    pub person_id: Uuid,
    /// When it happened (the context's clock).
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub action: Action,
    pub purpose: Option<&'a str>,
    pub detail: Value,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AccessLogEntry)]
pub struct EntryView {
    pub seq: i64,
    pub at: DateTime<Utc>,
    #[schema(schema_with = crate::api_schema::actor_kind)]
    pub actor_kind: String,
    pub actor_name: String,
    #[schema(schema_with = crate::api_schema::access_action)]
    pub action: String,
    pub purpose: Option<String>,
    pub detail: Value,
    pub prev_hash: String,
    pub hash: String,
}

/// The fields a hash covers, in canonical JSON.
fn hashed_form(row: &entry::Model) -> Vec<u8> {
    let detail: Value = serde_json::from_str(&row.detail).unwrap_or(Value::Null);
    canonical_json(&json!({
        "person_id": row.person_id.to_string(),
        "seq": row.seq,
        "at": row.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "actor_kind": row.actor_kind,
        "actor_id": row.actor_id.map(|id| id.to_string()),
        "actor_name": row.actor_name,
        "action": row.action,
        "purpose": row.purpose,
        "detail": detail,
    }))
}

pub fn entry_hash(prev_hash: &str, row: &entry::Model) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(hashed_form(row));
    hex::encode(hasher.finalize())
}

/// Appends an entry in the caller's transaction. The per-person counter's row lock orders
/// concurrent appends, so the chain never forks.
pub async fn record<C: ConnectionTrait>(db: &C, event: Event<'_>) -> Result<()> {
    let seq = counters::next(db, &format!("access_log:{}", event.person_id)).await?;
    let prev_hash = if seq <= 1 {
        GENESIS.to_owned()
    } else {
        match entry::Entity::find()
            .filter(entry::Column::PersonId.eq(event.person_id))
            .filter(entry::Column::Seq.eq(seq - 1))
            .one(db)
            .await?
        {
            Some(e) => e.hash,
            // Retention removed every earlier entry: link to where the chain now starts.
            None => anchor_of(db, event.person_id)
                .await?
                .filter(|a| a.seq == seq)
                .map(|a| a.prev_hash)
                .ok_or_else(|| anyhow::anyhow!("access log entry {} is missing", seq - 1))?,
        }
    };
    let (actor_kind, actor_id, actor_name) = match event.actor {
        Actor::Agency { id, name } => ("agency", Some(id), name),
        Actor::Holder => ("holder", None, "本人".to_owned()),
    };
    let mut row = entry::Model {
        id: Uuid::new_v4(),
        person_id: event.person_id,
        seq,
        // Stored precision is microseconds on both databases; hash what is stored.
        at: event.at.trunc_subsecs(6),
        actor_kind: actor_kind.into(),
        actor_id,
        actor_name,
        action: event.action.as_str().into(),
        purpose: event.purpose.map(str::to_owned),
        detail: String::from_utf8(canonical_json(&event.detail)).map_err(anyhow::Error::from)?,
        prev_hash,
        hash: String::new(),
    };
    row.hash = entry_hash(&row.prev_hash, &row);
    entry::Entity::insert(row.into_active_model().reset_all())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

fn view(row: entry::Model) -> EntryView {
    EntryView {
        detail: serde_json::from_str(&row.detail).unwrap_or(Value::Null),
        seq: row.seq,
        at: row.at,
        actor_kind: row.actor_kind,
        actor_name: row.actor_name,
        action: row.action,
        purpose: row.purpose,
        prev_hash: row.prev_hash,
        hash: row.hash,
    }
}

/// A page of the holder's log, oldest first; `after` is the last `seq` already seen.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    person_id: Uuid,
    after: i64,
    limit: u64,
) -> Result<Vec<EntryView>> {
    Ok(entry::Entity::find()
        .filter(entry::Column::PersonId.eq(person_id))
        .filter(entry::Column::Seq.gt(after))
        .order_by_asc(entry::Column::Seq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(view)
        .collect())
}

/// The outcome of checking a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChainCheck {
    pub intact: bool,
    pub entries: u64,
    pub head: String,
    /// The first entry whose sequence, link or hash is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub broken_at: Option<i64>,
}

/// Where a chain starts: `seq` 1 after [`GENESIS`], or, once retention has removed the
/// oldest entries, the first retained `seq` and the hash it must link to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub prev_hash: String,
}

impl Default for Anchor {
    fn default() -> Self {
        Anchor {
            seq: 1,
            prev_hash: GENESIS.to_owned(),
        }
    }
}

/// Recomputes the chain from its anchor: every entry must follow the one before it in
/// sequence, link to its hash, and hash to what it says.
pub fn check_rows(rows: &[entry::Model], anchor: &Anchor) -> ChainCheck {
    let mut prev = anchor.prev_hash.clone();
    for (expected_seq, row) in (anchor.seq..).zip(rows) {
        if row.seq != expected_seq || row.prev_hash != prev || entry_hash(&prev, row) != row.hash {
            return ChainCheck {
                intact: false,
                entries: rows.len() as u64,
                head: prev,
                broken_at: Some(row.seq),
            };
        }
        prev = row.hash.clone();
    }
    ChainCheck {
        intact: true,
        entries: rows.len() as u64,
        head: prev,
        broken_at: None,
    }
}

/// The person's stored anchor, when retention has removed entries.
async fn anchor_of<C: ConnectionTrait>(db: &C, person_id: Uuid) -> Result<Option<Anchor>> {
    Ok(anchor::Entity::find_by_id(person_id)
        .one(db)
        .await?
        .map(|a| Anchor {
            seq: a.seq,
            prev_hash: a.prev_hash,
        }))
}

/// Checks the holder's chain as stored, from its anchor. An auditor compares `head` with the
/// head the holder last saw: an entry removed from the end shows as a different head.
pub async fn check<C: ConnectionTrait>(db: &C, person_id: Uuid) -> Result<ChainCheck> {
    let rows = entry::Entity::find()
        .filter(entry::Column::PersonId.eq(person_id))
        .order_by_asc(entry::Column::Seq)
        .all(db)
        .await?;
    let anchor = anchor_of(db, person_id).await?.unwrap_or_default();
    Ok(check_rows(&rows, &anchor))
}

/// Deletes the person's entries older than `cutoff`, oldest first and only as an unbroken
/// prefix of the chain (an entry is never deleted while an earlier one is kept), and moves
/// the anchor to the first entry retained (stamped `now`). Call in a transaction; answers how
/// many entries were deleted.
pub async fn expire<C: ConnectionTrait>(
    db: &C,
    person_id: Uuid,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64> {
    // Take the person's append lock (the counter row `record` increments), so no entry is
    // appended between reading the chain's end and moving the anchor.
    entity::counter::Entity::update_many()
        .col_expr(
            entity::counter::Column::Value,
            Expr::col(entity::counter::Column::Value),
        )
        .filter(entity::counter::Column::Name.eq(format!("access_log:{person_id}")))
        .exec(db)
        .await?;
    let first_kept = entry::Entity::find()
        .filter(entry::Column::PersonId.eq(person_id))
        .filter(entry::Column::At.gte(cutoff))
        .order_by_asc(entry::Column::Seq)
        .one(db)
        .await?
        .map(|e| e.seq);
    let mut due = entry::Entity::find()
        .filter(entry::Column::PersonId.eq(person_id))
        .order_by_desc(entry::Column::Seq);
    if let Some(seq) = first_kept {
        due = due.filter(entry::Column::Seq.lt(seq));
    }
    // The last entry removed gives the new anchor: the next seq and the hash to link to.
    let Some(last_removed) = due.one(db).await? else {
        return Ok(0);
    };
    let removed = entry::Entity::delete_many()
        .filter(entry::Column::PersonId.eq(person_id))
        .filter(entry::Column::Seq.lte(last_removed.seq))
        .exec(db)
        .await?
        .rows_affected;
    anchor::Entity::insert(anchor::ActiveModel {
        person_id: Set(person_id),
        seq: Set(last_removed.seq + 1),
        prev_hash: Set(last_removed.hash.clone()),
        removed: Set(removed as i64),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(anchor::Column::PersonId)
            .values([
                (anchor::Column::Seq, Expr::value(last_removed.seq + 1)),
                (anchor::Column::PrevHash, Expr::value(last_removed.hash)),
                (
                    anchor::Column::Removed,
                    Expr::col((anchor::Entity, anchor::Column::Removed)).add(removed as i64),
                ),
                (anchor::Column::UpdatedAt, Expr::value(now)),
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<entry::Model> {
        let person = Uuid::new_v4();
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let mut row = entry::Model {
                    id: Uuid::new_v4(),
                    person_id: person,
                    seq,
                    at: crate::clock::system_now().trunc_subsecs(6),
                    actor_kind: "agency".into(),
                    actor_id: Some(Uuid::new_v4()),
                    actor_name: "广州市人力资源和社会保障局".into(),
                    action: "download".into(),
                    purpose: Some("办理社保".into()),
                    detail: r#"{"grant_id":"x"}"#.into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                row.hash = entry_hash(&prev, &row);
                prev = row.hash.clone();
                row
            })
            .collect()
    }

    #[test]
    fn an_untouched_chain_is_intact() {
        let rows = chain(5);
        let check = check_rows(&rows, &Anchor::default());
        assert!(check.intact);
        assert_eq!(check.head, rows[4].hash);
    }

    #[test]
    fn removing_or_changing_an_entry_breaks_the_chain() {
        let mut removed = chain(5);
        removed.remove(2);
        assert_eq!(check_rows(&removed, &Anchor::default()).broken_at, Some(4));

        let mut changed = chain(5);
        changed[1].purpose = Some("别的用途".into());
        assert_eq!(check_rows(&changed, &Anchor::default()).broken_at, Some(2));

        let mut rehashed = chain(5);
        rehashed[1].actor_name = "另一个部门".into();
        rehashed[1].hash = entry_hash(&rehashed[1].prev_hash.clone(), &rehashed[1]);
        assert_eq!(check_rows(&rehashed, &Anchor::default()).broken_at, Some(3));

        let mut head_removed = chain(3);
        head_removed.remove(0);
        assert_eq!(
            check_rows(&head_removed, &Anchor::default()).broken_at,
            Some(2)
        );
        let anchor = Anchor {
            seq: 2,
            prev_hash: chain_prev(&head_removed),
        };
        assert!(check_rows(&head_removed, &anchor).intact);
    }

    fn chain_prev(rows: &[entry::Model]) -> String {
        rows[0].prev_hash.clone()
    }
}
