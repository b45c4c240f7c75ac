//! Where each permit's status lives: a place (list, index) drawn at random when the permit is
//! issued, inside the issue transaction, and the state an act (revocation, suspension) sets
//! on it, logged in `status_changes` so that every instance follows.
//!
//! Places are random so that a list tells nothing about the order or time of issue, and a
//! verifier who sees one place learns nothing about its neighbours. A list takes new permits
//! until three quarters of it are taken, so a random draw finds a free entry in a few tries;
//! then the next list is opened.

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use entity::{status_change, status_place};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryResult, Statement,
};
use serde::Serialize;
use uuid::Uuid;

use super::bits::Status;
use super::token::MAX_LIST_BYTES;
use crate::error::Result;

/// Entries per list: 32 KiB of entries at 2 bits, a few KiB compressed, a few hundred lists
/// for all of Guangdong's permits.
pub const DEFAULT_LIST_SIZE: u32 = 131_072;
/// The largest list verifiers accept ([`MAX_LIST_BYTES`] at 4 entries a byte); it also keeps
/// `allocated * 4` within a 32-bit integer in SQL.
pub const MAX_LIST_SIZE: u32 = (MAX_LIST_BYTES * 4) as u32;
/// Draws before giving up on a list. With at most 3/4 of it taken, 64 draws all land on
/// taken entries with a probability below 1e-8.
const MAX_DRAWS: usize = 64;
/// Rounds of "claim a list, else open the next" before giving up (each lost round means
/// another transaction filled or opened a list at the same moment).
const MAX_LIST_ROUNDS: usize = 8;
/// The largest state an entry holds: 2 bits.
const MAX_STATE: u8 = 3;

/// One entry of one status list: what a permit's `status.status_list` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Place {
    pub list_id: u32,
    pub idx: u32,
}

/// Gives `permit_id` a free place, drawn uniformly at random in the lowest list that is less
/// than three quarters taken (opening list max + 1, of `list_size` entries, created `now`,
/// when none is; existing lists keep the size they were opened with). Runs in the caller's
/// transaction (the permit's issue), so a rolled-back issue frees its place. Asking again
/// for a permit that has a place answers that place.
///
/// On SQLite the first statement here writes, so a transaction that starts with it waits for
/// the write lock instead of failing on a read-to-write upgrade. On PostgreSQL the claimed
/// list's row stays locked until the caller commits, which orders issues as the permit-number
/// counter already does; no statement can fail on a unique violation (that would abort the
/// caller's transaction): taken entries and racing list creations use ON CONFLICT DO NOTHING.
pub async fn allocate<C: ConnectionTrait>(
    db: &C,
    permit_id: Uuid,
    list_size: u32,
    now: DateTime<Utc>,
) -> Result<Place> {
    if list_size == 0 || list_size > MAX_LIST_SIZE {
        return Err(anyhow!("status list size {list_size} is outside 1..={MAX_LIST_SIZE}").into());
    }
    let (list_id, size) = claim_list(db, list_size, now).await?;
    for _ in 0..MAX_DRAWS {
        let idx = draw(size)?;
        let inserted = db
            .execute_raw(statement(
                db,
                "INSERT INTO status_places (list_id, idx, permit_id, state) \
                 VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING",
                vec![
                    sql_int(list_id)?.into(),
                    sql_int(idx)?.into(),
                    permit_id.into(),
                ],
            ))
            .await
            .with_context(|| format!("taking entry {idx} of status list {list_id}"))?
            .rows_affected();
        if inserted == 1 {
            return Ok(Place { list_id, idx });
        }
        // The entry is taken, or this permit already has a place.
        if let Some(existing) = place_of(db, permit_id).await? {
            db.execute_raw(statement(
                db,
                "UPDATE status_lists SET allocated = allocated - 1 WHERE id = $1",
                vec![sql_int(list_id)?.into()],
            ))
            .await
            .with_context(|| format!("releasing the claim on status list {list_id}"))?;
            return Ok(existing);
        }
    }
    Err(
        anyhow!("no free entry in status list {list_id} (size {size}) after {MAX_DRAWS} draws")
            .into(),
    )
}

/// Counts one more permit in the lowest list with room and answers it (id, size); opens the
/// next list when none has room. The count is taken by one UPDATE that re-checks the room on
/// the row it locks, so concurrent issues never push a list past three quarters.
async fn claim_list<C: ConnectionTrait>(
    db: &C,
    list_size: u32,
    now: DateTime<Utc>,
) -> Result<(u32, u32)> {
    for _ in 0..MAX_LIST_ROUNDS {
        let claimed = db
            .query_one_raw(statement(
                db,
                "UPDATE status_lists SET allocated = allocated + 1 \
                 WHERE id = (SELECT MIN(id) FROM status_lists WHERE allocated * 4 < size * 3) \
                   AND allocated * 4 < size * 3 \
                 RETURNING id, size",
                vec![],
            ))
            .await
            .context("claiming room in a status list")?;
        if let Some(row) = claimed {
            return Ok((column_u32(&row, "id")?, column_u32(&row, "size")?));
        }
        // Every list is three quarters taken: open the next. Instances racing here compute
        // the same id; one inserts it and the others do nothing, then all claim it. Unless
        // a list with room was committed meanwhile: then none is opened ahead of need.
        // (The WHERE also makes SQLite read ON CONFLICT as the upsert clause.)
        db.execute_raw(statement(
            db,
            "INSERT INTO status_lists (id, size, allocated, created_at) \
             SELECT next_id, $1, 0, $2 \
             FROM (SELECT COALESCE(MAX(id), 0) + 1 AS next_id FROM status_lists) AS next \
             WHERE NOT EXISTS (SELECT 1 FROM status_lists WHERE allocated * 4 < size * 3) \
             ON CONFLICT DO NOTHING",
            vec![sql_int(list_size)?.into(), now.into()],
        ))
        .await
        .context("opening a new status list")?;
    }
    Err(anyhow!("could not claim room in a status list after {MAX_LIST_ROUNDS} rounds").into())
}

/// A uniformly random index below `size`. The modulo of a 64-bit draw is biased by less
/// than `size / 2^64`, far below anything observable.
fn draw(size: u32) -> Result<u32> {
    let value = u64::from_le_bytes(crate::keys::secrets::random_bytes::<8>()?);
    u32::try_from(value % u64::from(size.max(1)))
        .map_err(|_| anyhow!("a draw below {size} does not fit 32 bits").into())
}

/// The place of a permit, if it has one.
pub async fn place_of<C: ConnectionTrait>(db: &C, permit_id: Uuid) -> Result<Option<Place>> {
    let row = status_place::Entity::find()
        .filter(status_place::Column::PermitId.eq(permit_id))
        .one(db)
        .await
        .with_context(|| format!("reading the status place of permit {permit_id}"))?;
    row.map(|r| {
        Ok(Place {
            list_id: from_sql_int(r.list_id, "list_id")?,
            idx: from_sql_int(r.idx, "idx")?,
        })
    })
    .transpose()
}

/// Sets the state of a place and logs the change, in the caller's transaction. The caller
/// applies it to its own [`super::StatusRegistry`] after the commit; other instances pick it
/// up from the log.
///
/// The entry is updated before the change is logged: the update locks the row until commit,
/// so two changes of one entry are logged (numbered) in the order they commit, and a
/// follower applying the log in number order ends with the last state.
///
/// The log is stamped with the system time, not the context's clock: it orders commits
/// between instances (each with its own clock) and is read by followers within seconds,
/// so its times are plumbing, never a date rule.
pub async fn set_state<C: ConnectionTrait>(db: &C, place: Place, status: Status) -> Result<()> {
    let state = status.as_u8();
    if state > MAX_STATE {
        return Err(anyhow!("status value {state} does not fit in 2 bits").into());
    }
    let list_id = sql_int(place.list_id)?;
    let idx = sql_int(place.idx)?;
    let updated = status_place::Entity::update_many()
        .col_expr(status_place::Column::State, Expr::value(i16::from(state)))
        .filter(status_place::Column::ListId.eq(list_id))
        .filter(status_place::Column::Idx.eq(idx))
        .exec(db)
        .await
        .with_context(|| format!("setting entry {idx} of status list {list_id}"))?
        .rows_affected;
    if updated == 0 {
        return Err(anyhow!("entry {idx} of status list {list_id} is not taken").into());
    }
    status_change::Entity::insert(status_change::ActiveModel {
        seq: NotSet,
        list_id: Set(list_id),
        idx: Set(idx),
        state: Set(i16::from(state)),
        changed_at: Set(crate::clock::system_now()),
    })
    .exec_without_returning(db)
    .await
    .with_context(|| format!("logging the change of entry {idx} of status list {list_id}"))?;
    Ok(())
}

/// Deletes logged changes made before `before` (retention: followers read the log within
/// seconds, and one that fell behind for long reloads the states instead).
pub async fn expire_changes<C: ConnectionTrait>(db: &C, before: DateTime<Utc>) -> Result<u64> {
    let deleted = status_change::Entity::delete_many()
        .filter(status_change::Column::ChangedAt.lt(before))
        .exec(db)
        .await
        .context("deleting old status changes")?
        .rows_affected;
    Ok(deleted)
}

/// Raw SQL with `$n` placeholders, which sqlx accepts on SQLite as on PostgreSQL.
fn statement<C: ConnectionTrait>(db: &C, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

/// Lists, indices and sizes are stored as SQL INTEGER (32-bit signed).
pub(crate) fn sql_int(value: u32) -> Result<i32> {
    i32::try_from(value).map_err(|_| anyhow!("{value} does not fit an SQL INTEGER").into())
}

pub(crate) fn from_sql_int(value: i32, what: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| anyhow!("negative {what} {value} in the database").into())
}

fn column_u32(row: &QueryResult, column: &str) -> Result<u32> {
    let value: i32 = row
        .try_get("", column)
        .with_context(|| format!("reading {column} of a status list"))?;
    from_sql_int(value, column)
}

/// The number of entries of a list, `None` for a list that does not exist.
pub async fn list_size<C: ConnectionTrait>(db: &C, list_id: u32) -> Result<Option<u32>> {
    let row = db
        .query_one_raw(statement(
            db,
            "SELECT size FROM status_lists WHERE id = $1",
            vec![sql_int(list_id)?.into()],
        ))
        .await
        .with_context(|| format!("reading the size of status list {list_id}"))?;
    row.map(|r| -> Result<u32> { from_sql_int(r.try_get("", "size")?, "list size") })
        .transpose()
}
