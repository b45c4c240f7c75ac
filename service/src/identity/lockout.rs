//! Lock-outs after failed attempts at a secret, counted in the database (`login_failures`) so
//! they hold across instances. Every persisted brute-force limit goes through here, each kind
//! in its own scope: staff logins (per username and per source address), agency client
//! secrets (per agency) and chat binding codes (per chat user). A key of a scope is locked for
//! a while once it has failed `limit` times; each failure is one atomic upsert, so concurrent
//! attempts on several instances are all counted. A run of failures is forgotten when no new
//! one came for the lock-out's length.

use chrono::{DateTime, Duration, Utc};
use entity::login_failure::{self, Column};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, TransactionTrait,
};

use crate::error::{Refusal, Result};

/// Staff logins per (normalised) username.
pub const STAFF_USER: &str = "staff_user";
/// Staff logins per source address.
pub const STAFF_SOURCE: &str = "staff_source";
/// Agency client secrets per agency (its id).
pub const AGENCY_SECRET: &str = "agency_secret";
/// Chat binding codes per chat user (channel and chat user id).
pub const BINDING_CODE: &str = "binding_code";

/// Longest key kept: usernames come from the client.
const MAX_KEY_CHARS: usize = 128;

/// One counted key and the failures that lock it (0: never locked).
#[derive(Debug, Clone)]
pub struct Key {
    pub scope: &'static str,
    pub key: String,
    pub limit: u32,
}

impl Key {
    pub fn new(scope: &'static str, key: &str, limit: u32) -> Key {
        Key {
            scope,
            key: key.chars().take(MAX_KEY_CHARS).collect(),
            limit,
        }
    }
}

/// Refuses with [`Refusal::TooManyAttempts`] when any of the keys is locked at `now`, naming
/// the longest wait.
pub async fn check<C: ConnectionTrait>(db: &C, keys: &[Key], now: DateTime<Utc>) -> Result<()> {
    let keys: Vec<&Key> = keys.iter().filter(|k| k.limit > 0).collect();
    if keys.is_empty() {
        return Ok(());
    }
    let any = keys.iter().fold(Condition::any(), |c, k| {
        c.add(
            Condition::all()
                .add(Column::Scope.eq(k.scope))
                .add(Column::Key.eq(k.key.as_str())),
        )
    });
    let locked = login_failure::Entity::find()
        .filter(any)
        .filter(Column::LockedUntil.gt(now))
        .all(db)
        .await?;
    match locked.iter().filter_map(|r| r.locked_until).max() {
        Some(until) => {
            let scopes: Vec<&str> = locked.iter().map(|r| r.scope.as_str()).collect();
            tracing::warn!(?scopes, %until, "attempt refused: locked out");
            Err(Refusal::TooManyAttempts {
                retry_after_secs: std::cmp::max((until - now).num_seconds(), 1) as u64,
            }
            .into())
        }
        None => Ok(()),
    }
}

/// Where one key stands after a counted failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub scope: &'static str,
    /// Failures in the current run (0 once the key is locked: the next run starts afresh).
    pub failures: u32,
    /// Whether the key is locked now.
    pub locked: bool,
}

/// Counts one failure for each key, in one transaction; a key reaching its limit is locked for
/// `lock_secs` and its count starts again. Answers the keys this failure locked.
pub async fn record_failure(
    db: &DatabaseConnection,
    keys: &[Key],
    lock_secs: u32,
    now: DateTime<Utc>,
) -> Result<Vec<&'static str>> {
    let counted = count_failure(db, keys, lock_secs, now).await?;
    Ok(counted
        .into_iter()
        .filter(|c| c.locked)
        .map(|c| c.scope)
        .collect())
}

/// As [`record_failure`], answering where each counted key stands (for a caller that says
/// how many tries are left).
pub async fn count_failure(
    db: &DatabaseConnection,
    keys: &[Key],
    lock_secs: u32,
    now: DateTime<Utc>,
) -> Result<Vec<Counted>> {
    let lock_end = now + Duration::seconds(i64::from(lock_secs));
    let window_start = now - Duration::seconds(i64::from(lock_secs));
    let txn = db.begin().await?;
    let mut counted = Vec::new();
    for k in keys.iter().filter(|k| k.limit > 0) {
        let limit = i32::try_from(k.limit).unwrap_or(i32::MAX);
        let first_locks = limit <= 1;
        // The count after this failure, from the stored row: a stale run starts again.
        let count = Expr::case(
            Expr::col((login_failure::Entity, Column::UpdatedAt)).lt(window_start),
            Expr::value(1),
        )
        .finally(Expr::col((login_failure::Entity, Column::FailedAttempts)).add(1));
        let reaches = Expr::expr(count.clone()).gte(limit);
        login_failure::Entity::insert(login_failure::ActiveModel {
            scope: Set(k.scope.to_owned()),
            key: Set(k.key.clone()),
            failed_attempts: Set(if first_locks { 0 } else { 1 }),
            locked_until: Set(first_locks.then_some(lock_end)),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([Column::Scope, Column::Key])
                .values([
                    (
                        Column::FailedAttempts,
                        Expr::case(reaches.clone(), Expr::value(0))
                            .finally(count)
                            .into(),
                    ),
                    (
                        Column::LockedUntil,
                        Expr::case(reaches, Expr::value(lock_end))
                            .finally(Expr::col((login_failure::Entity, Column::LockedUntil)))
                            .into(),
                    ),
                    (Column::UpdatedAt, Expr::value(now)),
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        let row = login_failure::Entity::find_by_id((k.scope.to_owned(), k.key.clone()))
            .one(&txn)
            .await?;
        counted.push(Counted {
            scope: k.scope,
            failures: row
                .as_ref()
                .map_or(0, |r| u32::try_from(r.failed_attempts).unwrap_or(0)),
            locked: row.and_then(|r| r.locked_until).is_some_and(|u| u > now),
        });
    }
    txn.commit().await?;
    Ok(counted)
}

/// The keys of a scope with failures counted or locked at `now` (rows go a day after their
/// last failure, see [`delete_stale`]).
pub async fn counting_keys<C: ConnectionTrait>(
    db: &C,
    scope: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let keys = login_failure::Entity::find()
        .filter(Column::Scope.eq(scope))
        .filter(
            Condition::any()
                .add(Column::FailedAttempts.gt(0))
                .add(Column::LockedUntil.gt(now)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.key)
        .collect();
    Ok(keys)
}

/// Forgets the failures of one key (after a successful login), unless it is locked at `now`.
pub async fn clear<C: ConnectionTrait>(
    db: &C,
    scope: &str,
    key: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let key: String = key.chars().take(MAX_KEY_CHARS).collect();
    login_failure::Entity::delete_many()
        .filter(Column::Scope.eq(scope))
        .filter(Column::Key.eq(key))
        .filter(
            Condition::any()
                .add(Column::LockedUntil.is_null())
                .add(Column::LockedUntil.lte(now)),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes the rows of keys not locked at `now` and without a failure since `before`.
pub async fn delete_stale<C: ConnectionTrait>(
    db: &C,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64> {
    let deleted = login_failure::Entity::delete_many()
        .filter(Column::UpdatedAt.lt(before))
        .filter(
            Condition::any()
                .add(Column::LockedUntil.is_null())
                .add(Column::LockedUntil.lte(now)),
        )
        .exec(db)
        .await?
        .rows_affected;
    Ok(deleted)
}
