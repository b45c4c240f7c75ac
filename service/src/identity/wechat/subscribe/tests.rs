#![allow(clippy::unwrap_used)]
use super::*;

/// [`super::fit`] for a notice queued at a fixed time.
fn fit(key: &str, value: &FieldValue) -> String {
    super::fit(key, value, queued())
}

fn queued() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2027-03-05T01:30:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// The platform's rules, written independently of [`fit`], to check what it produces.
fn accepted(key: &str, v: &str) -> bool {
    let n = v.chars().count();
    let date_ok = |s: &str| NaiveDate::parse_from_str(s, "%Y年%m月%d日").is_ok();
    !v.is_empty()
        && match field_type(key) {
            FieldType::Thing => n <= 20 && v.chars().all(is_plain),
            FieldType::Phrase => n <= 5 && v.chars().all(is_chinese),
            FieldType::Date => date_ok(v),
            FieldType::Time => v.split_once(' ').is_some_and(|(d, t)| {
                date_ok(d) && chrono::NaiveTime::parse_from_str(t, "%H:%M").is_ok()
            }),
            FieldType::CharacterString => n <= 32 && v.chars().all(|c| c.is_ascii_graphic()),
            FieldType::Number => n <= 32 && v.chars().all(|c| c.is_ascii_digit() || c == '.'),
            FieldType::Name => {
                (n <= 10 && v.chars().all(is_chinese))
                    || (n <= 20 && v.chars().all(|c| c.is_ascii_alphabetic()))
            }
        }
}

const LONG: &str = "您好！您的广东省居住证申请已审核通过，电子居住证已签发，请打开粤省事小程序查看";

#[test]
fn a_long_chinese_thing_is_cut_with_an_ellipsis_to_twenty_characters() {
    let v = fit("thing3", &FieldValue::Text(LONG.into()));
    assert_eq!(v.chars().count(), 20, "{v}");
    assert!(v.ends_with('…'), "{v}");
    assert!(LONG.starts_with(v.trim_end_matches('…')));
    assert!(accepted("thing3", &v));
    // Exactly twenty stays whole.
    let twenty: String = LONG.chars().take(20).collect();
    assert_eq!(fit("thing1", &FieldValue::Text(twenty.clone())), twenty);
}

#[test]
fn emoji_and_control_characters_leave_a_thing() {
    let v = fit(
        "thing2",
        &FieldValue::Text("办理社保卡😀👍🏽\n第二行☀️\u{200D}完".into()),
    );
    assert_eq!(v, "办理社保卡 第二行完");
    assert!(accepted("thing2", &v));
    assert_eq!(fit("thing2", &FieldValue::Text("🎉🎉".into())), "无");
}

#[test]
fn a_phrase_keeps_five_chinese_characters_and_nothing_else() {
    assert_eq!(fit("phrase2", &FieldValue::Text("已通过".into())), "已通过");
    let v = fit("phrase2", &FieldValue::Text("审核已经通过了OK✅".into()));
    assert_eq!(v, "审核已经通");
    assert!(accepted("phrase2", &v));
    assert_eq!(fit("phrase2", &FieldValue::Text("OK".into())), "无");
}

#[test]
fn dates_and_times_are_written_as_the_platform_reads_them() {
    let d = NaiveDate::from_ymd_opt(2027, 3, 5).unwrap();
    assert_eq!(fit("date3", &FieldValue::Date(d)), "2027年03月05日");
    // 01:30 UTC is 09:30 in China.
    let t = DateTime::parse_from_rfc3339("2027-03-05T01:30:00Z")
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(fit("time4", &FieldValue::Time(t)), "2027年03月05日 09:30");
    assert_eq!(fit("date1", &FieldValue::Time(t)), "2027年03月05日");
    assert!(accepted("time4", &fit("time4", &FieldValue::Date(d))));
    assert!(accepted(
        "date9",
        &fit("date9", &FieldValue::Text("明天".into()))
    ));
    // A date field fed no date shows the day the notice was queued.
    assert_eq!(
        fit("date9", &FieldValue::Text("明天".into())),
        "2027年03月05日"
    );
}

#[test]
fn character_strings_numbers_and_names_keep_within_their_limits() {
    let long = "4401002026000001-ABCDEFGHIJKLMNOPQRSTUVWXYZ 居住证";
    let v = fit("character_string2", &FieldValue::Text(long.into()));
    assert_eq!(v.chars().count(), 32, "{v}");
    assert!(v.ends_with("..."));
    assert!(accepted("character_string2", &v));
    assert_eq!(
        fit(
            "character_string2",
            &FieldValue::Text("4401002026000001".into())
        ),
        "4401002026000001"
    );
    assert_eq!(fit("number4", &FieldValue::Number(7)), "7");
    assert_eq!(fit("number4", &FieldValue::Number(-3)), "0");
    let digits = "1".repeat(40);
    let v = fit("number4", &FieldValue::Text(digits));
    assert_eq!(v.len(), 32);
    assert_eq!(fit("number1", &FieldValue::Text("3.5.1天".into())), "3.51");
    let v = fit(
        "name1",
        &FieldValue::Text("欧阳娜娜娜娜娜娜娜娜娜娜".into()),
    );
    assert_eq!(v.chars().count(), 10);
    assert_eq!(
        fit("name1", &FieldValue::Text("Christopher Alexander".into())),
        "ChristopherAlexander"
    );
    assert!(accepted(
        "name1",
        &fit("name1", &FieldValue::Text("😀".into()))
    ));
}

#[test]
fn every_notice_fills_its_template_with_data_the_platform_accepts() {
    let now = queued();
    let due = NaiveDate::from_ymd_opt(2027, 1, 31).unwrap();
    let notices = [
        Notice::EndorsementDue {
            permit_no: "4401002026000001".into(),
            due,
        },
        Notice::ExpiryNear {
            permit_no: "4401002026000001".into(),
            valid_until: due,
            days_left: 30,
        },
        Notice::ApplicationDecided {
            application_id: uuid::Uuid::nil(),
            approved: false,
            permit_no: None,
            reason: Some(LONG.repeat(3)),
        },
        Notice::ApplicationDecided {
            application_id: uuid::Uuid::nil(),
            approved: true,
            permit_no: Some("4401002026000001".into()),
            reason: None,
        },
        Notice::AccessRequested {
            request_id: uuid::Uuid::nil(),
            agency: "广州市天河区人力资源和社会保障局社会保险基金管理中心".into(),
            purpose: "办理社保卡🎉".into(),
        },
        Notice::EligibleNow {
            city: "广州市".into(),
        },
        Notice::RegistrationEnded {
            permit_no: "4401002026000001".into(),
            city: "广州市".into(),
            until: due,
            days: 30,
            register_by: due,
        },
    ];
    for notice in &notices {
        let (kind, data) = template_data(notice, now).unwrap();
        assert_eq!(Some(kind), TemplateKind::of_notice(notice));
        for (key, v) in data.as_object().unwrap() {
            let v = v["value"].as_str().unwrap();
            assert!(accepted(key, v), "{kind:?} {key} = {v:?}");
        }
    }
    let revoked = Notice::PermitRevoked {
        permit_no: "x".into(),
        reason: "y".into(),
    };
    assert!(template_data(&revoked, now).is_none());
}

#[test]
fn errcodes_are_sorted_into_refused_misconfigured_undeliverable_and_transient() {
    let refused = |code| PlatformError::Refused {
        code,
        message: String::new(),
    };
    assert!(matches!(
        classify(refused(43101)),
        SubscribeFailure::Refused(_)
    ));
    assert!(matches!(
        classify(refused(40003)),
        SubscribeFailure::Undeliverable(_)
    ));
    for code in [40037, 47003, 41030] {
        assert!(matches!(
            classify(refused(code)),
            SubscribeFailure::Misconfigured(_)
        ));
    }
    assert!(matches!(
        classify(refused(-1)),
        SubscribeFailure::Transient(_)
    ));
    assert!(matches!(
        classify(PlatformError::Timeout("x")),
        SubscribeFailure::Transient(_)
    ));
    assert!(matches!(
        classify(PlatformError::Http(502)),
        SubscribeFailure::Transient(_)
    ));
}
