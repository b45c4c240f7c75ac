//! `yueju import-gov-records FILE`, run as a child process against the test app's database:
//! stopped after some batches, killed mid-file, resumed, and every record is there once, the
//! counts add up and the refused lines are listed with their errors.

use sea_orm::{EntityTrait, PaginatorTrait, QuerySelect};
use serde_json::{Value, json};
use service::domain::IdNumber;
use std::path::{Path, PathBuf};

use crate::helpers::*;

/// Valid ID numbers of men born from 1990-01-01 on, 400 a day.
fn id_number(n: u32) -> String {
    let born = chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap()
        + chrono::Duration::days(i64::from(n / 400));
    let first17 = format!("420102{}{:03}", born.format("%Y%m%d"), (n % 400) * 2 + 1);
    let check = service::domain::check_char(first17.as_bytes()) as char;
    format!("{first17}{check}")
}

/// Person `n` with a residence registration in `district`: two records.
fn line(n: u32, district: &str) -> String {
    let id = id_number(n);
    json!({
        "people": [{"id_number": id, "name": format!("导入{n}"), "gender": "male", "ethnicity": "汉族",
                    "hukou_address": "湖北省武汉市某路1号"}],
        "residence_registrations": [{"id_number": id, "city": "广州市", "district": district,
                                     "address": "广州市某路2号", "since": "2024-03-01"}]
    })
    .to_string()
}

/// An extract of `people` people (two records each), with four lines refused or blank placed
/// among them, person 4 sent again on the next line and person 1 near the end, each with
/// another district. Answers the file and the numbers of the refused lines.
fn extract(dir: &Path, people: u32) -> (PathBuf, Vec<u64>) {
    let mut lines: Vec<String> = (1..=people).map(|n| line(n, "天河区")).collect();
    let mut refused = Vec::new();
    let mut put = |lines: &mut Vec<String>, at: usize, text: String, is_refused: bool| {
        lines.insert(at, text);
        if is_refused {
            refused.push(at as u64 + 1);
        }
    };
    put(&mut lines, 2, "{not json".into(), true);
    // Person 4 again on the next line, in the same batch: the later line wins there too.
    put(&mut lines, 5, line(4, "海珠区"), false);
    put(&mut lines, 9, String::new(), false);
    put(&mut lines, 17, json!({"peeple": []}).to_string(), true);
    // One bad record beside a good one: the good one is imported, the line listed.
    let bad = json!({"people": [{"id_number": "420102199001010012", "name": "坏号码", "gender": "male",
                                 "ethnicity": "汉族", "hukou_address": "某地"}],
                     "employment": [{"id_number": id_number(2), "employer": "某公司", "city": "广州市",
                                     "since": "2099-01-01"}],
                     "schooling": [{"id_number": id_number(3), "school": "某大学", "city": "广州市",
                                    "since": "2024-09-01"}]});
    put(&mut lines, 30, bad.to_string(), true);
    let last = lines.len() - 3;
    put(&mut lines, last, line(1, "越秀区"), false);
    let path = dir.join("extract.jsonl");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    (path, refused)
}

impl TestApp {
    fn importer(&self, file: &Path, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_yueju"));
        cmd.arg("import-gov-records")
            .arg(file)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&self.vars)
            .kill_on_drop(true);
        cmd
    }

    async fn import(&self, file: &Path, args: &[&str]) -> String {
        let out = self.importer(file, args).output().await.unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    async fn checkpoint(&self) -> Option<entity::gov_import_checkpoint::Model> {
        entity::gov_import_checkpoint::Entity::find()
            .one(&self.app.db)
            .await
            .unwrap()
    }

    async fn count_rows<E>(&self) -> u64
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        E::find().count(&self.app.db).await.unwrap()
    }

    async fn registration_people(&self) -> u64 {
        let blinds: Vec<String> = entity::gov_residence_registration::Entity::find()
            .select_only()
            .column(entity::gov_residence_registration::Column::IdNumberBlind)
            .distinct()
            .into_tuple()
            .all(&self.app.db)
            .await
            .unwrap();
        blinds.len() as u64
    }
}

fn id(text: &str) -> Result<IdNumber, service::domain::IdNumberError> {
    IdNumber::parse_at(text, today())
}

fn count(stdout: &str, label: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label} in {stdout}"))
        .trim_start_matches(':')
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn an_import_stopped_then_killed_then_resumed_writes_every_record_once() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let people = 1500;
    let (file, refused_lines) = extract(dir.path(), people);
    let total_lines = u64::from(people) + 6;
    let persons_before = app.count_rows::<entity::gov_person::Entity>().await;
    let registrations_before = app
        .count_rows::<entity::gov_residence_registration::Entity>()
        .await;
    let people_registered_before = app.registration_people().await;

    // Two batches of 7 lines, then it stops on its own.
    let out = app
        .import(&file, &["--batch", "7", "--max-batches", "2"])
        .await;
    assert!(out.contains("stopped after the allowed batches"), "{out}");
    assert_eq!(count(&out, "lines read"), 14, "{out}");
    assert_eq!(app.checkpoint().await.unwrap().lines_done, 14);
    // Lines 1-14 hold 11 people (line 3 is not JSON, line 6 is person 4 again, line 10 is
    // blank).
    assert_eq!(
        app.count_rows::<entity::gov_person::Entity>().await,
        persons_before + 11
    );

    // A batch that wrote its refused lines but never committed, as a crash would leave it.
    let refused_file = PathBuf::from(format!("{}.refused.jsonl", file.display()));
    let committed = std::fs::metadata(&refused_file).unwrap().len();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&refused_file)
        .map(|mut f| std::io::Write::write_all(&mut f, b"{\"line\":999999}\n"))
        .unwrap()
        .unwrap();
    assert!(std::fs::metadata(&refused_file).unwrap().len() > committed);

    // Killed mid-file: small batches, and the kill once the checkpoint has moved on.
    let mut child = app.importer(&file, &["--batch", "20"]).spawn().unwrap();
    let mut killed_at = None;
    for _ in 0..2000 {
        let done = app.checkpoint().await.unwrap().lines_done;
        if done > 14 {
            child.start_kill().unwrap();
            killed_at = Some(done);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let status = child.wait().await.unwrap();
    let killed_at = killed_at.expect("the import moved on");
    assert!(!status.success(), "killed at line {killed_at}: {status}");
    let stopped = app.checkpoint().await.unwrap();
    assert!(
        stopped.lines_done < i64::from(people),
        "the kill came after the end: {stopped:?}"
    );
    assert_eq!(stopped.finished_at, None);

    // Resumed: to the end, once.
    let out = app.import(&file, &["--batch", "20"]).await;
    assert!(
        out.contains("done: every line of the file was read"),
        "{out}"
    );
    assert!(
        out.contains(&format!("resumed after line {}", stopped.lines_done)),
        "{out}"
    );
    assert_eq!(count(&out, "lines read"), total_lines, "{out}");
    assert_eq!(count(&out, "lines refused"), 3, "{out}");
    // Every person line twice (person and registration), once more for persons 1 and 4, and
    // the schooling record beside the two refused records.
    assert_eq!(
        count(&out, "records imported"),
        2 * u64::from(people) + 4 + 1,
        "{out}"
    );
    assert_eq!(count(&out, "records refused"), 2, "{out}");
    assert!(out.contains("refused lines:     3, 18, 31"), "{out}");

    // Every record once: one person and one registration a person, person 1's the later one.
    assert_eq!(
        app.count_rows::<entity::gov_person::Entity>().await,
        persons_before + u64::from(people)
    );
    assert_eq!(
        app.count_rows::<entity::gov_residence_registration::Entity>()
            .await,
        registrations_before + u64::from(people)
    );
    assert_eq!(
        app.registration_people().await,
        people_registered_before + u64::from(people)
    );
    let first = id(&id_number(1)).unwrap();
    let registrations = app.app.gov.residence_registrations(&first).await.unwrap();
    assert_eq!(registrations.len(), 1);
    assert_eq!(registrations[0].district, "越秀区");
    let fourth = app
        .app
        .gov
        .residence_registrations(&id(&id_number(4)).unwrap())
        .await
        .unwrap();
    assert_eq!(fourth.len(), 1);
    assert_eq!(fourth[0].district, "海珠区");
    let third = id(&id_number(3)).unwrap();
    assert_eq!(app.app.gov.schooling(&third).await.unwrap().len(), 1);
    assert!(
        app.app
            .gov
            .employment(&id(&id_number(2)).unwrap())
            .await
            .unwrap()
            .is_empty()
    );

    // The refused lines, each once (the uncommitted entry cut off), with their errors.
    let listed: Vec<Value> = std::fs::read_to_string(&refused_file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let numbers: Vec<u64> = listed.iter().map(|l| l["line"].as_u64().unwrap()).collect();
    assert_eq!(numbers, refused_lines);
    assert_eq!(listed[0]["errors"][0]["code"], "INVALID_JSON");
    assert_eq!(listed[0]["text"], "{not json");
    assert_eq!(listed[1]["errors"][0]["code"], "INVALID_JSON");
    let codes: Vec<(&str, &str)> = listed[2]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(
                e["message"]
                    .as_str()
                    .unwrap()
                    .chars()
                    .any(|c| c > '\u{4e00}')
            );
            (e["list"].as_str().unwrap(), e["code"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("people", "ID_NUMBER_INVALID"),
            ("employment", "DATE_IN_FUTURE")
        ]
    );

    // Run again: recognised as done, nothing written.
    let out = app.import(&file, &[]).await;
    assert!(out.contains("imported whole before"), "{out}");
    assert_eq!(
        app.count_rows::<entity::gov_person::Entity>().await,
        persons_before + u64::from(people)
    );
}

#[tokio::test]
async fn a_missing_file_fails_with_its_name_and_a_too_long_line_is_refused_unread() {
    let app = spawn_app_with(&[("YUEJU_MAX_BULK_BYTES", "2000")]).await;
    let dir = tempfile::tempdir().unwrap();
    let out = app
        .importer(&dir.path().join("absent.jsonl"), &[])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("absent.jsonl"),
        "{out:?}"
    );

    let file = dir.path().join("long.jsonl");
    let long = json!({"people": [{"id_number": id_number(1), "name": "长".repeat(1000),
                                  "gender": "male", "ethnicity": "汉族", "hukou_address": "某地"}]});
    std::fs::write(
        &file,
        format!("{}\n{long}\n{}", line(2, "天河区"), line(3, "天河区")),
    )
    .unwrap();
    let out = app.import(&file, &[]).await;
    assert_eq!(count(&out, "lines read"), 3, "{out}");
    assert_eq!(count(&out, "records imported"), 4, "{out}");
    assert!(out.contains("refused lines:     2"), "{out}");
    let refused = std::fs::read_to_string(dir.path().join("long.jsonl.refused.jsonl")).unwrap();
    let entry: Value = serde_json::from_str(refused.trim()).unwrap();
    assert_eq!(entry["errors"][0]["code"], "PAYLOAD_TOO_LARGE");
    assert_eq!(entry["text"], Value::Null);
}
