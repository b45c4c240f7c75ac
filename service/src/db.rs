//! Connecting to the database (SQLite or PostgreSQL, by URL) and migrating it.

use anyhow::Context as _;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use std::time::Duration;

pub async fn connect_and_migrate(url: &str) -> anyhow::Result<DatabaseConnection> {
    if let Some(path) = sqlite_file(url)
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating database directory {}", dir.display()))?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .max_connections(if url.starts_with("sqlite:") { 8 } else { 16 })
        // Statement logging would print bound values, which include personal data.
        .sqlx_logging(false)
        // Deleted rows (closed accounts, expired logs) are overwritten, not left in free pages.
        .map_sqlx_sqlite_opts(|o| o.pragma("secure_delete", "ON"))
        // A safety net for a known sqlx 0.9.0 bug (transact-rs/sqlx#4385): a request dropped
        // during `begin()` (its client went away) can return a connection to the pool inside
        // a transaction that nobody ends, holding its row locks. No transaction of ours waits
        // between statements (outside calls come before `begin`), so PostgreSQL may end a
        // session that sits idle inside one.
        .map_sqlx_postgres_opts(|o| o.options([("idle_in_transaction_session_timeout", "5s")]));
    let db = Database::connect(options)
        .await
        .context("connecting to the database")?;
    Migrator::up(&db, None)
        .await
        .context("running migrations")?;
    Ok(db)
}

fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}
