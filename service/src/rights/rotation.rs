//! Data-key rotation: re-seals every sealed value (`*_enc` columns) and every stored material
//! file that is not under the current sealing key (the first of `YUEJU_DATA_KEYS`).
//!
//! It walks each table in key order, a batch at a time, each batch its own transaction; a
//! value already under the current key is left alone, so a run stopped anywhere is finished
//! by running it again. Each update is conditional on the value read, so a value the service
//! changed meanwhile (which it seals under the current key anyway) is never overwritten.
//! The blind-index key is not rotated here (see `rotate-keys --help`).
//!
//! [`SEALED`] lists the sealed columns of the tables `service` owns; a crate with tables of
//! its own (the bot's dialogues) declares its [`SealedTable`]s and passes them to
//! [`rotate_with`], so one resumable run with one batch allowance covers the whole schema.

use anyhow::Context as _;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait, Value,
};
use serde::Serialize;
use std::path::Path;
use uuid::Uuid;

use crate::error::Result;
use crate::keys::privacy::{Kind, Vault};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Uuid,
    Text,
}

/// A table with sealed columns: its primary key and each sealed column with its kind.
#[derive(Debug)]
pub struct SealedTable {
    pub table: &'static str,
    pub key: &'static [(&'static str, KeyType)],
    pub columns: &'static [(&'static str, Kind)],
}

const ID: &[(&str, KeyType)] = &[("id", KeyType::Uuid)];

/// Every sealed column of the tables `service` owns. A test compares this list, with those of
/// the other crates, with the database, so a new `*_enc` column cannot be forgotten.
pub const SEALED: &[SealedTable] = &[
    SealedTable {
        table: "persons",
        key: ID,
        columns: &[
            ("id_number_enc", Kind::IdNumber),
            ("name_enc", Kind::Name),
            ("email_enc", Kind::Email),
        ],
    },
    SealedTable {
        table: "gov_people",
        key: ID,
        columns: &[
            ("id_number_enc", Kind::IdNumber),
            ("name_enc", Kind::Name),
            ("hukou_address_enc", Kind::Address),
            ("photo_enc", Kind::Photo),
        ],
    },
    SealedTable {
        table: "gov_residence_registrations",
        key: ID,
        columns: &[("address_enc", Kind::Address)],
    },
    SealedTable {
        table: "gov_housing",
        key: ID,
        columns: &[("address_enc", Kind::Address)],
    },
    SealedTable {
        table: "permits",
        key: ID,
        columns: &[
            ("photo_enc", Kind::Photo),
            ("revoke_reason_enc", Kind::Note),
        ],
    },
    SealedTable {
        table: "permit_versions",
        key: ID,
        columns: &[("payload_enc", Kind::Permit)],
    },
    SealedTable {
        table: "applications",
        key: ID,
        columns: &[
            ("address_enc", Kind::Address),
            ("review_note_enc", Kind::Note),
        ],
    },
    SealedTable {
        table: "outbox",
        key: ID,
        columns: &[("payload_enc", Kind::Notice)],
    },
    SealedTable {
        table: "idempotency_keys",
        key: &[("scope", KeyType::Text), ("key", KeyType::Text)],
        columns: &[("response_enc", Kind::Response)],
    },
    SealedTable {
        table: "face_verifications",
        key: ID,
        columns: &[("id_number_enc", Kind::IdNumber), ("name_enc", Kind::Name)],
    },
    SealedTable {
        table: "inbound_messages",
        key: &[("message_key", KeyType::Text)],
        columns: &[("reply_enc", Kind::Dialogue)],
    },
];

/// The label under which material files are reported.
pub const MATERIAL_FILES: &str = "materials (files)";

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Rows (or files) per batch and transaction.
    pub batch: u64,
    /// Stop after this many batches (to spread the work, or in tests); `None` runs to the end.
    pub max_batches: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            batch: 500,
            max_batches: None,
        }
    }
}

/// Where a run is, after each batch.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub table: &'static str,
    pub scanned: u64,
    pub resealed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub scanned: u64,
    /// Values re-sealed (a row with two old values counts two).
    pub resealed: u64,
    pub files_resealed: u64,
    /// False when the run stopped at `max_batches` before the end.
    pub complete: bool,
}

struct Run<'a> {
    vault: &'a Vault,
    options: Options,
    batches: u64,
    report: Report,
}

impl Run<'_> {
    /// Counts a batch; false once the allowed number of batches is used up.
    fn may_continue(&mut self) -> bool {
        self.batches += 1;
        self.options
            .max_batches
            .is_none_or(|max| self.batches <= max)
    }

    fn is_stale(&self, sealed: &[u8]) -> anyhow::Result<bool> {
        Ok(Vault::key_id_of(sealed)? != self.vault.sealing_kid())
    }
}

/// Re-seals everything in [`SEALED`] and the material files not under the current key;
/// `progress` is called after each batch.
pub async fn rotate(
    db: &DatabaseConnection,
    vault: &Vault,
    data_dir: &Path,
    options: Options,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Report> {
    rotate_with(db, vault, data_dir, &[], options, progress).await
}

/// As [`rotate`], and the tables of other crates (`others`) after those of `service`.
pub async fn rotate_with(
    db: &DatabaseConnection,
    vault: &Vault,
    data_dir: &Path,
    others: &[&'static [SealedTable]],
    options: Options,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Report> {
    let options = Options {
        batch: Ord::max(options.batch, 1),
        ..options
    };
    let mut run = Run {
        vault,
        options,
        batches: 0,
        report: Report::default(),
    };
    let tables = std::iter::once(SEALED)
        .chain(others.iter().copied())
        .flatten();
    for table in tables {
        if !rotate_table(db, &mut run, table, progress).await? {
            return Ok(run.report);
        }
    }
    if !rotate_files(db, &mut run, data_dir, progress).await? {
        return Ok(run.report);
    }
    run.report.complete = true;
    tracing::info!(
        scanned = run.report.scanned,
        resealed = run.report.resealed,
        files = run.report.files_resealed,
        kid = vault.sealing_kid(),
        "data-key rotation finished"
    );
    Ok(run.report)
}

fn key_value(row: &sea_orm::QueryResult, index: usize, kind: KeyType) -> anyhow::Result<Value> {
    Ok(match kind {
        KeyType::Uuid => Value::from(row.try_get_by_index::<Uuid>(index)?),
        KeyType::Text => Value::from(row.try_get_by_index::<String>(index)?),
    })
}

fn key_matches(stmt: &mut impl KeyFilter, table: &SealedTable, key: &[Value]) {
    for ((name, _), value) in table.key.iter().zip(key) {
        stmt.where_eq(name, value.clone());
    }
}

trait KeyFilter {
    fn where_eq(&mut self, column: &str, value: Value);
}

impl KeyFilter for sea_orm::sea_query::UpdateStatement {
    fn where_eq(&mut self, column: &str, value: Value) {
        self.and_where(Expr::col(Alias::new(column)).eq(value));
    }
}

/// Rows after `last` in key order (a composite key compares as a tuple).
fn page(table: &SealedTable, last: Option<&[Value]>, limit: u64) -> SelectStatement {
    let mut q = Query::select();
    for (name, _) in table.key {
        q.column(Alias::new(*name));
    }
    for (name, _) in table.columns {
        q.column(Alias::new(*name));
    }
    q.from(Alias::new(table.table));
    if let Some(last) = last {
        let cols = table.key.iter().map(|(n, _)| Expr::col(Alias::new(*n)));
        let vals = last.iter().map(|v| Expr::val(v.clone()));
        q.and_where(Expr::tuple(cols).gt(Expr::tuple(vals)));
    }
    for (name, _) in table.key {
        q.order_by(Alias::new(*name), sea_orm::Order::Asc);
    }
    q.limit(limit);
    q
}

/// One table; false when the batch allowance ran out.
async fn rotate_table(
    db: &DatabaseConnection,
    run: &mut Run<'_>,
    table: &'static SealedTable,
    progress: &mut dyn FnMut(&Progress),
) -> Result<bool> {
    let mut last: Option<Vec<Value>> = None;
    let mut done = Progress {
        table: table.table,
        scanned: 0,
        resealed: 0,
    };
    loop {
        if !run.may_continue() {
            return Ok(false);
        }
        let txn = db.begin().await?;
        let rows = txn
            .query_all(&page(table, last.as_deref(), run.options.batch))
            .await?;
        for row in &rows {
            let mut key = Vec::with_capacity(table.key.len());
            for (i, (_, kind)) in table.key.iter().enumerate() {
                key.push(key_value(row, i, *kind)?);
            }
            for (j, (column, kind)) in table.columns.iter().enumerate() {
                let index = table.key.len() + j;
                let Some(old) = row.try_get_by_index::<Option<Vec<u8>>>(index)? else {
                    continue;
                };
                let stale = run
                    .is_stale(&old)
                    .with_context(|| format!("{}.{column}", table.table))?;
                if !stale {
                    continue;
                }
                let clear = run
                    .vault
                    .open(*kind, &old)
                    .with_context(|| format!("opening {}.{column}", table.table))?;
                let new = run.vault.seal(*kind, &clear)?;
                let mut update = Query::update();
                update
                    .table(Alias::new(table.table))
                    .value(Alias::new(*column), new);
                key_matches(&mut update, table, &key);
                update.and_where(Expr::col(Alias::new(*column)).eq(old));
                let changed = txn.execute(&update).await?.rows_affected();
                done.resealed += changed;
                run.report.resealed += changed;
            }
            last = Some(key);
        }
        txn.commit().await?;
        done.scanned += rows.len() as u64;
        run.report.scanned += rows.len() as u64;
        progress(&done);
        if (rows.len() as u64) < run.options.batch {
            return Ok(true);
        }
    }
}

/// Stored material files (not yet purged), each re-sealed into a temporary file that then
/// replaces it, so an interruption never leaves a half-written file.
async fn rotate_files(
    db: &DatabaseConnection,
    run: &mut Run<'_>,
    data_dir: &Path,
    progress: &mut dyn FnMut(&Progress),
) -> Result<bool> {
    use entity::material;
    let mut last: Option<Uuid> = None;
    let mut done = Progress {
        table: MATERIAL_FILES,
        scanned: 0,
        resealed: 0,
    };
    loop {
        if !run.may_continue() {
            return Ok(false);
        }
        let mut query = material::Entity::find()
            .filter(material::Column::PurgedAt.is_null())
            .order_by_asc(material::Column::Id)
            .limit(run.options.batch);
        if let Some(last) = last {
            query = query.filter(material::Column::Id.gt(last));
        }
        let rows = query.all(db).await?;
        for m in &rows {
            last = Some(m.id);
            let path = data_dir.join(&m.stored_path);
            let sealed = match tokio::fs::read(&path).await {
                Ok(bytes) => bytes,
                // Purged since the query: nothing to re-seal.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(anyhow::Error::from(e)
                        .context(format!("reading material {}", m.id))
                        .into());
                }
            };
            if !run
                .is_stale(&sealed)
                .with_context(|| format!("material {}", m.id))?
            {
                continue;
            }
            let clear = run
                .vault
                .open(Kind::Document, &sealed)
                .with_context(|| format!("opening material {}", m.id))?;
            let resealed = run.vault.seal(Kind::Document, &clear)?;
            let tmp = path.with_extension("sealed.rotating");
            tokio::fs::write(&tmp, resealed)
                .await
                .with_context(|| format!("writing material {}", m.id))?;
            tokio::fs::rename(&tmp, &path)
                .await
                .with_context(|| format!("replacing material {}", m.id))?;
            done.resealed += 1;
            run.report.files_resealed += 1;
        }
        done.scanned += rows.len() as u64;
        run.report.scanned += rows.len() as u64;
        progress(&done);
        if (rows.len() as u64) < run.options.batch {
            return Ok(true);
        }
    }
}
