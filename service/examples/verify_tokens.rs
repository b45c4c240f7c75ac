//! Prepares a `POST /verify` load over distinct permits on a database seeded by
//! `sweep_bench`: gives every seeded permit that has none a place in the status lists, seals
//! a real permit document into the current version of the first `--seal` permits (the seed
//! writes zero bytes there, which an agency's verification could not open) and writes one
//! code token for each of the first N permits, signed by the data directory's key ring, one
//! per line.
//!
//! ```sh
//! cargo run --release -p service --example verify_tokens -- --data-dir DIR --count 100000 \
//!     --out tokens.txt [--seal 100000] [--database-url postgres://…]
//! ```
//!
//! Start the server on the same data directory afterwards: it signs and opens with the same
//! keys, and loads the lists (with the places given here) at start. Each token names a
//! different permit, so a load that cycles through them verifies each permit once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use sea_orm::{ConnectionTrait, Statement};
use service::config::Settings;
use service::keys::privacy::Kind;
use service::permit::permits::PermitDocument;
use service::{Context, verify::codes, verify::status_list, verify::verification};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn document(permit_no: &str, valid_until: NaiveDate) -> PermitDocument {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    PermitDocument {
        doc_type: service::permit::permits::DOCUMENT_TYPE.into(),
        licence_id: format!("bench-licence-{permit_no}"),
        permit_no: permit_no.into(),
        version: 1,
        kind: "issue".into(),
        previous_licence_id: None,
        name: "陈志强".into(),
        gender: "男".into(),
        ethnicity: "汉族".into(),
        id_number: "440511199003071234".into(),
        photo_sha256: None,
        hukou_address: "广东省汕头市金平区".into(),
        residence_address: "广州市天河区天河路385号501房".into(),
        residence_since: None,
        issuing_authority: "广州市公安局".into(),
        issued_on: d(2026, 3, 1),
        valid_from: d(2026, 3, 1),
        valid_until,
        endorsement_due: d(2027, 3, 1),
        continuous_since: d(2024, 1, 15),
        signed_at: Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap(),
    }
}

/// Entries of a list taken before the next is opened, as `status_list::allocate` fills them.
const FILLED: u32 = status_list::DEFAULT_LIST_SIZE / 4 * 3;

/// Gives every permit without a place one, as issuing would have: new lists of the default
/// size filled to three quarters, the permits in random order. Set-based (two statements,
/// as the migration's backfill), not one `allocate` per permit: a million permits take
/// seconds. The index of the k-th permit of a list is `k * 77617 mod size`, a bijection on
/// the list (the multiplier is odd, the size a power of two), so places are distinct and
/// spread over the whole list; revoked permits get state 1. Answers how many were placed.
async fn place_all(ctx: &Context) -> u64 {
    let size = status_list::DEFAULT_LIST_SIZE;
    assert!(size.is_power_of_two());
    let backend = ctx.db.get_database_backend();
    let next = ctx
        .db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COALESCE(MAX(id), 0) AS last FROM status_lists",
        ))
        .await
        .unwrap()
        .unwrap();
    let base: i64 = next
        .try_get::<i32>("", "last")
        .map(i64::from)
        .or_else(|_| next.try_get::<i64>("", "last"))
        .unwrap();
    let now = match backend {
        sea_orm::DbBackend::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        _ => "CURRENT_TIMESTAMP",
    };
    let unplaced = "FROM permits p WHERE NOT EXISTS \
                    (SELECT 1 FROM status_places s WHERE s.permit_id = p.id)";
    let txn = sea_orm::TransactionTrait::begin(&ctx.db).await.unwrap();
    txn.execute_unprepared(&format!(
        "INSERT INTO status_lists (id, size, allocated, created_at) \
         SELECT {base} + k + 1, {size}, n, {now} \
         FROM (SELECT (rn - 1) / {FILLED} AS k, COUNT(*) AS n \
               FROM (SELECT ROW_NUMBER() OVER (ORDER BY p.id) AS rn {unplaced}) AS numbered \
               GROUP BY (rn - 1) / {FILLED}) AS per_list"
    ))
    .await
    .unwrap();
    let placed = txn
        .execute_unprepared(&format!(
            "INSERT INTO status_places (list_id, idx, permit_id, state) \
             SELECT {base} + (rn - 1) / {FILLED} + 1, (((rn - 1) % {FILLED}) * 77617) % {size}, id, \
                    CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END \
             FROM (SELECT p.id AS id, p.revoked_at AS revoked_at, \
                          ROW_NUMBER() OVER (ORDER BY random()) AS rn {unplaced}) AS shuffled"
        ))
        .await
        .unwrap()
        .rows_affected();
    txn.commit().await.unwrap();
    placed
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let data_dir = arg("--data-dir").expect("--data-dir DIR");
    let count: usize = arg("--count").map_or(100_000, |s| s.parse().unwrap());
    let seal: usize = arg("--seal").map_or(count, |s| s.parse().unwrap());
    let out = arg("--out").expect("--out FILE");
    let database_url = arg("--database-url");
    let settings = Settings::from_lookup(|k| match k {
        "YUEJU_DATA_DIR" => Some(data_dir.clone()),
        "DATABASE_URL" => database_url.clone(),
        "YUEJU_DEMO_DATA" => Some("false".into()),
        _ => None,
    })
    .unwrap();
    let ctx = Context::init(settings).await.unwrap();
    let backend = ctx.db.get_database_backend();
    let started = Instant::now();
    let placed = place_all(&ctx).await;
    let place_s = started.elapsed().as_secs_f64();
    let rows = ctx
        .db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            "SELECT p.permit_no AS permit_no, v.id AS version_id, \
                    v.valid_until AS valid_until, v.endorsement_due AS endorsement_due, \
                    s.list_id AS list_id, s.idx AS idx \
             FROM permits p JOIN permit_versions v ON v.id = p.current_version_id AND v.permit_id = p.id \
             JOIN status_places s ON s.permit_id = p.id \
             WHERE p.permit_no LIKE '4401002026%' ORDER BY p.permit_no LIMIT $1",
            [(count as i64).into()],
        ))
        .await
        .unwrap();
    assert!(!rows.is_empty(), "no seeded permits: run sweep_bench first");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out).unwrap());
    let update = "UPDATE permit_versions SET payload_enc = $1 WHERE id = $2";
    let started = Instant::now();
    let mut sealed = 0;
    let mut written = 0;
    for chunk in rows.chunks(1000) {
        let txn = sea_orm::TransactionTrait::begin(&ctx.db).await.unwrap();
        for row in chunk {
            let permit_no: String = row.try_get("", "permit_no").unwrap();
            let version_id: uuid::Uuid = row.try_get("", "version_id").unwrap();
            let valid_until: NaiveDate = row.try_get("", "valid_until").unwrap();
            let endorsement_due: NaiveDate = row.try_get("", "endorsement_due").unwrap();
            let list_id: i32 = row.try_get("", "list_id").unwrap();
            let idx: i32 = row.try_get("", "idx").unwrap();
            let doc = document(&permit_no, valid_until);
            if sealed < seal {
                let payload = serde_json::to_vec(&doc).unwrap();
                let blob = ctx.vault.seal(Kind::Permit, &payload).unwrap();
                txn.execute_raw(Statement::from_sql_and_values(
                    backend,
                    update,
                    [blob.into(), version_id.into()],
                ))
                .await
                .unwrap();
                sealed += 1;
            }
            let subject = codes::CodeSubject {
                permit_no: &permit_no,
                name: &doc.name,
                valid_until,
                endorsement_due,
                place: status_list::Place {
                    list_id: u32::try_from(list_id).unwrap(),
                    idx: u32::try_from(idx).unwrap(),
                },
            };
            let (token, _) = codes::issue(&ctx.keys, &subject, 3600, ctx.clock.now())
                .await
                .unwrap();
            writeln!(file, "{token}").unwrap();
            written += 1;
        }
        txn.commit().await.unwrap();
    }
    file.flush().unwrap();

    let write_s = started.elapsed().as_secs_f64();

    // The raw cost of the read an agency's verification makes (anonymous verification makes
    // none): the query, open the sealed document, mask the name; on as many tasks as cores,
    // 3 s, over the permits sealed above.
    let permit_nos: Vec<String> = rows
        .iter()
        .take(sealed.max(1))
        .map(|r| r.try_get::<String>("", "permit_no").unwrap())
        .collect();
    let ctx = std::sync::Arc::new(ctx);
    let permit_nos = std::sync::Arc::new(permit_nos);
    let tasks = std::thread::available_parallelism().map_or(2, |n| n.get());
    let started = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (ctx, nos) = (ctx.clone(), permit_nos.clone());
        handles.push(tokio::spawn(async move {
            let mut reads = 0u64;
            let mut i = t * nos.len() / tasks;
            while started.elapsed() < Duration::from_secs(3) {
                let facts = verification::read_permit_facts(&ctx, &nos[i % nos.len()]).await;
                assert!(facts.unwrap().is_some());
                reads += 1;
                i += 1;
            }
            reads
        }));
    }
    let mut reads = 0;
    for h in handles {
        reads += h.await.unwrap();
    }
    let per_s = reads as f64 / started.elapsed().as_secs_f64();
    println!(
        "tokens={written} sealed={sealed} placed={placed} place_s={place_s:.1} write_s={write_s:.1} out={out} raw_reads_per_s={per_s:.0} read_tasks={tasks}"
    );
}
