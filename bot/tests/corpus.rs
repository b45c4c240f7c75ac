//! The corpus of phrased messages (tests/corpus/apply_sentences.tsv): each message read by the
//! extraction layer must yield exactly the slots written beside it. Prints the share read all
//! right and fails under the floor.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bot::understand::{Asking, Context, Slots, extract};
use chrono::NaiveDate;
use service::domain::divisions;

/// The share of messages whose slots must all be right.
const FLOOR: f64 = 0.95;

struct Case {
    line: usize,
    asking: Asking,
    city: Option<&'static divisions::City>,
    text: String,
    want: [String; 5],
}

fn cases() -> Vec<Case> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/corpus/apply_sentences.tsv"
    );
    let body = std::fs::read_to_string(path).expect("corpus file");
    let mut cases = Vec::new();
    for (i, line) in body.lines().enumerate() {
        if line.starts_with('#') || line.starts_with("asking\t") || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
        assert_eq!(cols.len(), 7, "line {}: 7 columns expected: {line}", i + 1);
        let (asking, city) = match cols[0].split_once('@') {
            Some((a, c)) => (a, Some(divisions::find_city(c).expect("known city"))),
            None => (cols[0], None),
        };
        let asking = match asking {
            "-" => Asking::Nothing,
            "city" => Asking::City,
            "district" => Asking::District,
            "address" => Asking::Address,
            "since" => Asking::Since,
            "basis" => Asking::Basis,
            other => panic!("line {}: unknown step {other}", i + 1),
        };
        cases.push(Case {
            line: i + 1,
            asking,
            city,
            text: cols[1].to_owned(),
            want: [cols[2], cols[3], cols[4], cols[5], cols[6]].map(str::to_owned),
        });
    }
    cases
}

/// The slots as the corpus writes them: city, district, address, since, basis.
fn got(s: &Slots) -> [String; 5] {
    let city = if s.shenzhen {
        "深圳".to_owned()
    } else {
        s.city
            .as_ref()
            .map_or(String::new(), |c| c.value.name.to_owned())
    };
    [
        city,
        s.district
            .as_ref()
            .map_or(String::new(), |d| d.value.name.to_owned()),
        s.address
            .as_ref()
            .map_or(String::new(), |a| a.value.clone()),
        s.since
            .as_ref()
            .map_or(String::new(), |d| d.value.format("%Y-%m-%d").to_string()),
        s.basis
            .as_ref()
            .map_or(String::new(), |b| b.value.to_owned()),
    ]
}

#[test]
fn the_corpus_of_phrased_messages_is_read_right_above_the_floor() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let cases = cases();
    assert!(cases.len() >= 200, "only {} messages", cases.len());
    let mut wrong = Vec::new();
    for case in &cases {
        let slots = extract(
            &case.text,
            Context {
                today,
                city: case.city,
                asking: case.asking,
            },
        );
        let got = got(&slots);
        if got != case.want {
            wrong.push(format!(
                "line {}: {}\n  want {:?}\n  got  {:?}",
                case.line, case.text, case.want, got
            ));
        }
    }
    let right = cases.len() - wrong.len();
    let share = right as f64 / cases.len() as f64;
    println!(
        "corpus: {right} of {} messages read with every slot right ({:.1}%)",
        cases.len(),
        share * 100.0
    );
    for w in &wrong {
        println!("{w}");
    }
    assert!(
        share >= FLOOR,
        "{:.1}% read right, under the floor of {:.0}%",
        share * 100.0,
        FLOOR * 100.0
    );
}
