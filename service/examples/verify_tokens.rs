//! Prepares a cold-cache `POST /verify` load on a database seeded by `sweep_bench`: seals a
//! real permit document into the current version of the first N seeded permits (the seed
//! writes zero bytes there, which verification could not open) and writes one code token per
//! permit, signed by the data directory's key ring, one per line.
//!
//! ```sh
//! cargo run --release -p service --example verify_tokens -- --data-dir DIR --count 100000 \
//!     --out tokens.txt [--database-url postgres://…]
//! ```
//!
//! Start the server on the same data directory afterwards: it signs and opens with the same
//! keys. Each token names a different permit, so a load that cycles through them measures
//! verification that has to read the database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use sea_orm::{ConnectionTrait, Statement};
use service::config::Settings;
use service::permits::PermitDocument;
use service::privacy::Kind;
use service::{Context, codes, status_list, verification};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn document(permit_no: &str, valid_until: NaiveDate) -> PermitDocument {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    PermitDocument {
        doc_type: service::permits::DOCUMENT_TYPE.into(),
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
        issuing_authority: "广州市公安局".into(),
        issued_on: d(2026, 3, 1),
        valid_from: d(2026, 3, 1),
        valid_until,
        endorsement_due: d(2027, 3, 1),
        continuous_since: d(2024, 1, 15),
        signed_at: Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap(),
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let data_dir = arg("--data-dir").expect("--data-dir DIR");
    let count: usize = arg("--count").map_or(100_000, |s| s.parse().unwrap());
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
    let rows = ctx
        .db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            "SELECT p.id AS permit_id, p.permit_no AS permit_no, v.id AS version_id, \
                    v.valid_until AS valid_until, v.endorsement_due AS endorsement_due \
             FROM permits p JOIN permit_versions v ON v.id = p.current_version_id AND v.permit_id = p.id \
             WHERE p.permit_no LIKE '4401002026%' ORDER BY p.permit_no LIMIT $1",
            [(count as i64).into()],
        ))
        .await
        .unwrap();
    assert!(!rows.is_empty(), "no seeded permits: run sweep_bench first");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out).unwrap());
    let update = "UPDATE permit_versions SET payload_enc = $1 WHERE id = $2";
    let mut sealed = 0;
    for chunk in rows.chunks(1000) {
        let txn = sea_orm::TransactionTrait::begin(&ctx.db).await.unwrap();
        for row in chunk {
            let permit_no: String = row.try_get("", "permit_no").unwrap();
            let version_id: uuid::Uuid = row.try_get("", "version_id").unwrap();
            let valid_until: NaiveDate = row.try_get("", "valid_until").unwrap();
            let endorsement_due: NaiveDate = row.try_get("", "endorsement_due").unwrap();
            let permit_id: uuid::Uuid = row.try_get("", "permit_id").unwrap();
            let doc = document(&permit_no, valid_until);
            let payload = serde_json::to_vec(&doc).unwrap();
            let blob = ctx.vault.seal(Kind::Permit, &payload).unwrap();
            txn.execute_raw(Statement::from_sql_and_values(
                backend,
                update,
                [blob.into(), version_id.into()],
            ))
            .await
            .unwrap();
            // Seeded permits may predate their places: give them one as issuing would.
            let place = match status_list::place_of(&txn, permit_id).await.unwrap() {
                Some(place) => place,
                None => status_list::allocate(&txn, permit_id, status_list::DEFAULT_LIST_SIZE)
                    .await
                    .unwrap(),
            };
            let subject = codes::CodeSubject {
                permit_no: &permit_no,
                name: &doc.name,
                valid_until,
                endorsement_due,
                place,
            };
            let (token, _) = codes::issue(&ctx.keys, &subject, 3600).unwrap();
            writeln!(file, "{token}").unwrap();
            sealed += 1;
        }
        txn.commit().await.unwrap();
    }
    file.flush().unwrap();

    // The raw cost of what a cold verification adds to the signature check: the one read
    // (query, open the sealed document, mask the name), on as many tasks as cores, 3 s.
    let permit_nos: Vec<String> = rows
        .iter()
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
    println!("tokens={sealed} out={out} raw_reads_per_s={per_s:.0} read_tasks={tasks}");
}
