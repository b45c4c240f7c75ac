//! Reminder sweep benchmark: seeds N permits with raw multi-row INSERTs, then times
//! `reminders::sweep` against a hand-written SQL doing the same selection and insert on the
//! same database, and a sweep on a day when nothing is due (the cost of not-due permits).
//!
//! ```sh
//! cargo run --release -p service --example sweep_bench -- --permits 100000 \
//!     [--database-url postgres://…] [--data-dir DIR]
//! ```
//!
//! Prints one line of `key=value` pairs (read by `bench/run`). With `--data-dir` and no
//! `--database-url`, the SQLite database stays in DIR for the RSS measurement.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::time::Instant;

use chrono::{Days, NaiveDate, Utc};
use entity::outbox;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement, TransactionTrait, Value};
use service::config::Settings;
use service::{Context, notices::reminders};
use uuid::Uuid;

/// Permits expire evenly over this many days after `as_of`.
const SPREAD_DAYS: u64 = 3 * 365;
const BATCH: usize = 1000;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

async fn insert_rows(
    db: &impl ConnectionTrait,
    backend: DbBackend,
    head: &str,
    width: usize,
    rows: Vec<Vec<Value>>,
) {
    for chunk in rows.chunks(BATCH) {
        let mut sql = String::from(head);
        let mut values = Vec::with_capacity(chunk.len() * width);
        let mut n = 0;
        for (i, row) in chunk.iter().enumerate() {
            sql.push_str(if i == 0 { " (" } else { ", (" });
            for j in 0..width {
                n += 1;
                if j > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("${n}"));
            }
            sql.push(')');
            values.extend(row.iter().cloned());
        }
        db.execute_raw(Statement::from_sql_and_values(backend, &sql, values))
            .await
            .unwrap();
    }
}

/// Seeds `n` persons, permits and first versions with three INSERT … SELECT statements over
/// a generated series (no per-row round trip). Expiry is spread evenly over SPREAD_DAYS after
/// `as_of`; the endorsement is due a year before expiry.
async fn seed(ctx: &Context, n: usize, as_of: NaiveDate) {
    let backend = ctx.db.get_database_backend();
    let pg = backend == DbBackend::Postgres;
    let last = n.saturating_sub(1);
    let series = if pg {
        format!("generate_series(0, {last}) AS s(i)")
    } else {
        format!(
            "(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {last}) SELECT i FROM s)"
        )
    };
    let id = |tag: u8| {
        if pg {
            format!("('{tag}0000000-0000-0000-0000-' || lpad(to_hex(i), 12, '0'))::uuid")
        } else {
            format!("unhex(printf('{tag}%031x', i))")
        }
    };
    let blob = |len: usize| {
        if pg {
            format!("decode(repeat('00', {len}), 'hex')")
        } else {
            format!("zeroblob({len})")
        }
    };
    let until = |offset: i64| {
        let days = format!("(1 + (CAST(i AS BIGINT) * 7919) % {SPREAD_DAYS} + ({offset}))");
        if pg {
            format!("($1::date + CAST({days} AS INTEGER))")
        } else {
            format!("date($1, printf('%+d days', {days}))")
        }
    };
    let from = format!("FROM {series}");
    let sqls = [
        format!(
            "INSERT INTO persons (id, id_number_blind, id_number_enc, name_enc, reminders_enabled, created_at, updated_at) \
             SELECT {}, 'bench-blind-' || i, {}, {}, TRUE, $1, $1 {from}",
            id(1),
            blob(48),
            blob(32)
        ),
        format!(
            "INSERT INTO permits (id, person_id, permit_no, city_code, created_at, current_version_id) \
             SELECT {}, {}, '4401002026' || lpad(CAST(i AS TEXT), 7, '0'), '440100', $1, {} {from}",
            id(2),
            id(1),
            id(3)
        ),
        format!(
            "INSERT INTO permit_versions (id, permit_id, version, kind, licence_id, payload_enc, signature, kid, valid_from, valid_until, endorsement_due, continuous_since, created_at) \
             SELECT {}, {}, 1, 'issue', 'bench-licence-' || i, {}, 'sig', 'ed25519-000000000000', {}, {}, {}, {}, $2 {from}",
            id(3),
            id(2),
            blob(600),
            until(-3 * 365),
            until(0),
            until(-365),
            until(-4 * 365)
        ),
    ];
    let txn = ctx.db.begin().await.unwrap();
    let now = Utc::now();
    for (k, sql) in sqls.iter().enumerate() {
        let sql = if pg {
            sql.clone()
        } else {
            // SQLite has no lpad.
            sql.replace("lpad(CAST(i AS TEXT), 7, '0')", "printf('%07d', i)")
        };
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            &sql,
            if k < 2 {
                vec![now.into()]
            } else {
                vec![as_of.into(), now.into()]
            },
        ))
        .await
        .unwrap();
    }
    txn.commit().await.unwrap();
    ctx.db.execute_unprepared("ANALYZE").await.unwrap();
}

/// The same selection and insert as `reminders::sweep`, as three INSERT … SELECT statements.
/// It cannot seal the payload (that needs the vault), so it stores the plain key instead.
async fn hand_written(ctx: &Context, as_of: NaiveDate) -> u64 {
    let backend = ctx.db.get_database_backend();
    let pg = backend == DbBackend::Postgres;
    let new_id = if pg {
        "gen_random_uuid()"
    } else {
        "randomblob(16)"
    };
    let days_left = if pg {
        "(v.valid_until - $1::date)"
    } else {
        "CAST(julianday(v.valid_until) - julianday($1) AS INTEGER)"
    };
    let (vu, ed, text_id, payload) = if pg {
        (
            "v.valid_until::text",
            "v.endorsement_due::text",
            "pe.id::text",
            "convert_to",
        )
    } else {
        ("v.valid_until", "v.endorsement_due", "hex(pe.id)", "CAST")
    };
    let blob = |expr: &str| {
        if pg {
            format!("{payload}({expr}, 'UTF8')")
        } else {
            format!("{payload}({expr} AS BLOB)")
        }
    };
    let current = "p.revoked_at IS NULL AND pe.reminders_enabled = $3";
    let cols = "INSERT INTO outbox (id, person_id, kind, payload_enc, dedupe_key, status, attempts, next_attempt_at, created_at)";
    let end = "ON CONFLICT (dedupe_key) DO NOTHING";
    let window_end = as_of + Days::new(u64::from(ctx.settings.permit.endorsement_window_days));
    let endorsement_key = format!("'endorsement:' || p.permit_no || ':' || {ed}");
    let endorsement = format!(
        "{cols} SELECT {new_id}, p.person_id, 'endorsement_due', {}, {endorsement_key}, 'pending', 0, $4, $4 \
         FROM permit_versions v JOIN permits p ON p.id = v.permit_id AND p.current_version_id = v.id JOIN persons pe ON pe.id = p.person_id \
         WHERE v.endorsement_due >= $1 AND v.endorsement_due <= $2 AND v.endorsement_due < v.valid_until AND {current} {end}",
        blob(&endorsement_key)
    );
    let thresholds = &ctx.settings.reminders.expiry_days;
    let mut sorted = thresholds.clone();
    sorted.sort_unstable();
    let max = sorted.last().copied().unwrap_or(0);
    let mut case = String::from("CASE");
    for t in &sorted {
        case.push_str(&format!(" WHEN {days_left} <= {t} THEN '{t}'"));
    }
    case.push_str(" END");
    let expiry_key = format!("'expiry:' || p.permit_no || ':' || {vu} || ':' || {case}");
    let expiry = format!(
        "{cols} SELECT {new_id}, p.person_id, 'expiry_near', {}, {expiry_key}, 'pending', 0, $4, $4 \
         FROM permit_versions v JOIN permits p ON p.id = v.permit_id AND p.current_version_id = v.id JOIN persons pe ON pe.id = p.person_id \
         WHERE v.valid_until >= $1 AND v.valid_until <= $2 AND {current} {end}",
        blob(&expiry_key)
    );
    let reached_on = as_of
        .checked_sub_months(chrono::Months::new(ctx.settings.permit.residence_months))
        .unwrap();
    let eligible_key = format!("'eligible:' || {text_id}");
    let eligible = format!(
        "{cols} SELECT {new_id}, pe.id, 'eligible_now', {}, {eligible_key}, 'pending', 0, $4, $4 \
         FROM gov_residence_registrations r JOIN persons pe ON pe.id_number_blind = r.id_number_blind \
         WHERE r.since <= $1 AND r.since > $2 AND pe.reminders_enabled = $3 \
           AND NOT EXISTS (SELECT 1 FROM permits p WHERE p.person_id = pe.id) {end}",
        blob(&eligible_key)
    );
    let now = Utc::now();
    let txn = ctx.db.begin().await.unwrap();
    let mut queued = 0;
    for (sql, a, b) in [
        (&endorsement, as_of, window_end),
        (&expiry, as_of, as_of + Days::new(u64::from(max))),
        (&eligible, reached_on, reached_on - Days::new(30)),
    ] {
        let r = txn
            .execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [a.into(), b.into(), true.into(), now.into()],
            ))
            .await
            .unwrap();
        queued += r.rows_affected();
    }
    txn.commit().await.unwrap();
    queued
}

/// What the outbox holds, as (dedupe key, person, kind), sorted: the sweep and the hand-written
/// SQL must write the same rows (the bench seeds no residence registrations, whose key the
/// SQL would spell differently).
async fn outbox_rows(ctx: &Context) -> Vec<(String, Option<Uuid>, String)> {
    let mut rows: Vec<_> = outbox::Entity::find()
        .all(&ctx.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.dedupe_key, r.person_id, r.kind))
        .collect();
    rows.sort();
    rows
}

/// Every payload the sweep wrote opens to a notice of the row's kind.
async fn check_sealed(ctx: &Context) {
    for row in outbox::Entity::find().all(&ctx.db).await.unwrap() {
        let notice = service::notices::outbox::open_notice(ctx, &row).unwrap();
        assert_eq!(notice.kind(), row.kind, "{}", row.dedupe_key);
    }
}

async fn clear_outbox(ctx: &Context) {
    ctx.db
        .execute_unprepared("DELETE FROM outbox")
        .await
        .unwrap();
}

/// Raw transactions doing the writes of apply -> issue (application, permit-number counter,
/// permit, first signed version, application marked issued), one after another on one
/// connection: what the database alone allows. Answers transactions per second.
async fn apply_raw(ctx: &Context, n: usize) -> f64 {
    let backend = ctx.db.get_database_backend();
    let now = Utc::now();
    let persons: Vec<Uuid> = (0..n).map(|_| Uuid::new_v4()).collect();
    let rows = persons
        .iter()
        .enumerate()
        .map(|(i, p)| {
            vec![
                (*p).into(),
                format!("apply-blind-{i}").into(),
                vec![0u8; 48].into(),
                vec![0u8; 32].into(),
                true.into(),
                now.into(),
                now.into(),
            ]
        })
        .collect();
    insert_rows(&ctx.db, backend, "INSERT INTO persons (id, id_number_blind, id_number_enc, name_enc, reminders_enabled, created_at, updated_at) VALUES", 7, rows).await;
    let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let t = Instant::now();
    for (i, person) in persons.iter().enumerate() {
        let txn = ctx.db.begin().await.unwrap();
        let app = Uuid::new_v4();
        let permit = Uuid::new_v4();
        let exec = |sql: &str, values: Vec<Value>| {
            Statement::from_sql_and_values(backend, sql.to_owned(), values)
        };
        txn.execute_raw(exec(
            "INSERT INTO applications (id, person_id, account_id, status, open_for_person, city_code, city, district_code, district, address_enc, residence_since, basis, missing, reasons, created_at, updated_at) \
             VALUES ($1,$2,$3,'verifying',$2,'440100','广州市','440106','天河区',$4,$5,'employment','[]','[]',$6,$6)",
            vec![app.into(), (*person).into(), Uuid::new_v4().into(), vec![0u8; 60].into(), day.into(), now.into()],
        ))
        .await
        .unwrap();
        txn.execute_raw(exec(
            "INSERT INTO counters (name, value) VALUES ('permit_no:440100', 0) ON CONFLICT (name) DO NOTHING",
            vec![],
        ))
        .await
        .unwrap();
        txn.execute_raw(exec(
            "UPDATE counters SET value = value + 1 WHERE name = 'permit_no:440100'",
            vec![],
        ))
        .await
        .unwrap();
        txn.query_one_raw(exec(
            "SELECT value FROM counters WHERE name = 'permit_no:440100'",
            vec![],
        ))
        .await
        .unwrap();
        txn.execute_raw(exec(
            "INSERT INTO permits (id, person_id, permit_no, city_code, created_at) VALUES ($1,$2,$3,'440100',$4)",
            vec![permit.into(), (*person).into(), format!("4401002099{i:07}").into(), now.into()],
        ))
        .await
        .unwrap();
        let version = Uuid::new_v4();
        txn.execute_raw(exec(
            "INSERT INTO permit_versions (id, permit_id, version, kind, licence_id, payload_enc, signature, kid, valid_from, valid_until, endorsement_due, continuous_since, created_at) \
             VALUES ($1,$2,1,'issue',$3,$4,$5,'ed25519-000000000000',$6,$6,$6,$6,$7)",
            vec![version.into(), permit.into(), format!("apply-licence-{i}").into(), vec![0u8; 600].into(), "s".repeat(86).into(), day.into(), now.into()],
        ))
        .await
        .unwrap();
        txn.execute_raw(exec(
            "UPDATE permits SET current_version_id = $1 WHERE id = $2 AND current_version_id IS NULL",
            vec![version.into(), permit.into()],
        ))
        .await
        .unwrap();
        txn.execute_raw(exec(
            "UPDATE applications SET status = 'issued', open_for_person = NULL, permit_id = $1, decided_at = $2, updated_at = $2 WHERE id = $3",
            vec![permit.into(), now.into(), app.into()],
        ))
        .await
        .unwrap();
        txn.commit().await.unwrap();
    }
    n as f64 / t.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let n: usize = arg("--permits").map_or(100_000, |s| s.parse().unwrap());
    let runs: usize = arg("--runs").map_or(3, |s| s.parse().unwrap());
    let data_dir = arg("--data-dir").map_or_else(
        || std::env::temp_dir().join(format!("yueju-sweep-{}", Uuid::new_v4())),
        std::path::PathBuf::from,
    );
    let database_url = arg("--database-url");
    let settings = Settings::from_lookup(|k| match k {
        "YUEJU_DATA_DIR" => Some(data_dir.display().to_string()),
        "DATABASE_URL" => database_url.clone(),
        "YUEJU_DEMO_DATA" => Some("false".into()),
        _ => None,
    })
    .unwrap();
    let ctx = Context::init(settings).await.unwrap();
    let as_of = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    if let Some(m) = arg("--apply-raw") {
        let tps = apply_raw(&ctx, m.parse().unwrap()).await;
        println!(
            "backend={:?} apply_raw_tps={tps:.0}",
            ctx.db.get_database_backend()
        );
        return;
    }

    let t = Instant::now();
    seed(&ctx, n, as_of).await;
    let seed_s = t.elapsed().as_secs_f64();

    // Best of `runs`, the outbox emptied before each run.
    let mut sweep_ms = f64::MAX;
    let mut queued = 0;
    for _ in 0..runs {
        clear_outbox(&ctx).await;
        let t = Instant::now();
        let report = reminders::sweep(&ctx, as_of).await.unwrap();
        sweep_ms = sweep_ms.min(t.elapsed().as_secs_f64() * 1e3);
        queued = report.queued;
    }
    check_sealed(&ctx).await;
    let sweep_rows = outbox_rows(&ctx).await;
    let mut sql_ms = f64::MAX;
    let mut sql_queued = 0;
    for _ in 0..runs {
        clear_outbox(&ctx).await;
        let t = Instant::now();
        sql_queued = hand_written(&ctx, as_of).await;
        sql_ms = sql_ms.min(t.elapsed().as_secs_f64() * 1e3);
    }
    assert!(
        sweep_rows == outbox_rows(&ctx).await,
        "the sweep and the hand-written SQL wrote different rows"
    );
    // A day on which nothing is due: what all the not-due permits cost.
    clear_outbox(&ctx).await;
    let quiet_day = as_of + Days::new(SPREAD_DAYS + 400);
    let mut idle_ms = f64::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        let report = reminders::sweep(&ctx, quiet_day).await.unwrap();
        assert_eq!(report.queued, 0);
        idle_ms = idle_ms.min(t.elapsed().as_secs_f64() * 1e3);
    }
    clear_outbox(&ctx).await;
    println!(
        "backend={:?} permits={n} seed_s={seed_s:.1} due={queued} sql_due={sql_queued} sweep_ms={sweep_ms:.1} sql_ms={sql_ms:.1} ratio={:.2} idle_sweep_ms={idle_ms:.2} sweep_us_per_due={:.1}",
        ctx.db.get_database_backend(),
        sweep_ms / sql_ms,
        sweep_ms * 1e3 / queued.max(1) as f64,
    );
}
