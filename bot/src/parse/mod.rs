//! Reading what people type: full-width characters, Chinese numerals, dates written many
//! ways, city and district names with small typos, yes/no, and the menu's intents.

mod dates;
mod places;

pub use dates::date;
pub use places::{CityAnswer, city, district};

/// Full-width ASCII and the ideographic space folded to ASCII, blanks collapsed, trimmed.
pub fn normalize(input: &str) -> String {
    let folded: String = input
        .chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text without blanks and trailing punctuation, lower-cased, for matching words.
pub fn compact(input: &str) -> String {
    normalize(input)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .trim_end_matches(['。', '！', '!', '？', '?', '.', '~', '～', '，', ','])
        .to_lowercase()
}

fn is_any(text: &str, words: &[&str]) -> bool {
    words.contains(&text)
}

fn contains_any(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| text.contains(w))
}

pub fn is_cancel(text: &str) -> bool {
    is_any(
        &compact(text),
        &["取消", "退出", "算了", "不办了", "结束", "cancel", "quit"],
    )
}

pub fn is_back(text: &str) -> bool {
    is_any(&compact(text), &["返回", "上一步", "后退", "back"])
}

pub fn is_menu(text: &str) -> bool {
    is_any(&compact(text), &["菜单", "主菜单", "menu", "0"])
}

pub fn is_handoff(text: &str) -> bool {
    contains_any(
        &compact(text),
        &["人工", "客服", "热线", "投诉", "转人工", "打电话"],
    ) || compact(text) == "8"
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YesNo {
    Yes,
    No,
}

pub fn yes_no(text: &str) -> Option<YesNo> {
    let t = compact(text);
    if is_any(
        &t,
        &[
            "不是",
            "不",
            "否",
            "没有",
            "不在",
            "不对",
            "no",
            "n",
            "错",
            "不确认",
        ],
    ) || t.starts_with("不是")
    {
        return Some(YesNo::No);
    }
    if is_any(
        &t,
        &[
            "是",
            "是的",
            "对",
            "对的",
            "在",
            "嗯",
            "好",
            "好的",
            "确认",
            "确定",
            "提交",
            "yes",
            "y",
            "ok",
            "可以",
            "没错",
            "确认提交",
        ],
    ) {
        return Some(YesNo::Yes);
    }
    None
}

/// What a message in the main menu asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Greeting,
    Apply,
    Eligibility,
    Status,
    Endorse,
    Card,
    /// A change of address (搬家, 改地址).
    AddressChange,
    /// "我在广州住满几年了？": the residence years, in the city named if any.
    ResidenceYears(Option<&'static service::domain::divisions::City>),
    Reminders,
    RemindersOff,
    Help,
    Handoff,
    /// A binding code (digits only) or `绑定` alone (`None`).
    Link(Option<String>),
    /// `绑定 dev:<openid>`, dev mode only.
    DevLink(String),
    Unlink,
    Unknown,
}

/// The first city of Guangdong named anywhere in `text`, by full or short name.
fn city_named(text: &str) -> Option<&'static service::domain::divisions::City> {
    service::domain::divisions::cities()
        .iter()
        .find(|c| text.contains(c.name) || text.contains(c.short_name()))
}

pub fn intent(text: &str) -> Intent {
    let t = compact(text);
    if let Some(rest) = t.strip_prefix("绑定") {
        if let Some(openid) = rest.trim_start_matches([':', '：']).strip_prefix("dev:") {
            return Intent::DevLink(openid.to_owned());
        }
        let digits: String = rest
            .chars()
            .filter(|c| !matches!(c, '-' | ':' | '：'))
            .collect();
        return if digits.is_empty() {
            Intent::Link(None)
        } else {
            Intent::Link(Some(digits))
        };
    }
    let digits: String = t.chars().filter(|c| *c != '-').collect();
    if digits.len() == service::identity::chat_links::CODE_LEN
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Intent::Link(Some(digits));
    }
    match t.as_str() {
        "1" => return Intent::Apply,
        "2" => return Intent::Eligibility,
        "3" => return Intent::Status,
        "4" => return Intent::Endorse,
        "5" => return Intent::Card,
        "6" => return Intent::Reminders,
        "7" => return Intent::Help,
        "8" => return Intent::Handoff,
        _ => {}
    }
    if is_handoff(&t) {
        Intent::Handoff
    } else if contains_any(&t, &["解除绑定", "解绑", "取消绑定"]) {
        Intent::Unlink
    } else if contains_any(&t, &["退订", "关闭提醒", "不要提醒", "别提醒"]) {
        Intent::RemindersOff
    } else if contains_any(&t, &["提醒", "邮箱", "邮件"]) {
        Intent::Reminders
    } else if contains_any(
        &t,
        &[
            "改地址",
            "地址变更",
            "变更地址",
            "更改地址",
            "修改地址",
            "换地址",
            "住址变更",
            "变更住址",
            "改住址",
            "搬家",
            "新地址",
        ],
    ) {
        Intent::AddressChange
    } else if contains_any(
        &t,
        &[
            "住满",
            "几年",
            "多少年",
            "居住年限",
            "连续居住",
            "住了多久",
            "住多久",
        ],
    ) {
        Intent::ResidenceYears(city_named(&t))
    } else if contains_any(&t, &["签注", "续期", "续签"]) {
        Intent::Endorse
    } else if contains_any(&t, &["实体", "卡", "制证"]) {
        Intent::Card
    } else if contains_any(
        &t,
        &["条件", "资格", "能不能", "能否", "可以办", "符合", "能办"],
    ) {
        Intent::Eligibility
    } else if contains_any(
        &t,
        &[
            "进度",
            "状态",
            "查询",
            "结果",
            "我的居住证",
            "查一下",
            "到哪",
        ],
    ) {
        Intent::Status
    } else if contains_any(&t, &["申请", "申领", "办理", "办证", "办居住证", "要办"])
    {
        Intent::Apply
    } else if contains_any(&t, &["帮助", "怎么用", "help", "说明"]) || t == "?" {
        Intent::Help
    } else if contains_any(
        &t,
        &[
            "你好",
            "您好",
            "hi",
            "hello",
            "在吗",
            "菜单",
            "开始",
            "嗨",
            "哈喽",
            "早上好",
            "下午好",
            "晚上好",
        ],
    ) || t.is_empty()
        || t == "0"
    {
        Intent::Greeting
    } else {
        Intent::Unknown
    }
}

/// Basis of the application: 1/2/3 or words.
pub fn basis(text: &str) -> Option<&'static str> {
    let t = compact(text);
    match t.as_str() {
        "1" => return Some("employment"),
        "2" => return Some("residence"),
        "3" => return Some("study"),
        _ => {}
    }
    if contains_any(
        &t,
        &[
            "就业",
            "工作",
            "上班",
            "打工",
            "经商",
            "社保",
            "务工",
            "做生意",
        ],
    ) {
        Some("employment")
    } else if contains_any(&t, &["就读", "上学", "读书", "学生", "学校", "念书"]) {
        Some("study")
    } else if contains_any(
        &t,
        &["住所", "住房", "房子", "租房", "买房", "房产", "自有"],
    ) {
        Some("residence")
    } else {
        None
    }
}

/// An ID number as typed: blanks dropped, full-width folded, a final x upper-cased.
pub fn id_number(text: &str) -> String {
    normalize(text)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::NaiveDate;
    use service::domain::divisions;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn dates_written_many_ways_are_read() {
        let today = d(2026, 11, 25);
        for (text, want) in [
            ("2024年3月1日", d(2024, 3, 1)),
            ("2024-3-1", d(2024, 3, 1)),
            ("２０２４－０３－０１", d(2024, 3, 1)),
            ("2024/03/01", d(2024, 3, 1)),
            ("24.3.1", d(2024, 3, 1)),
            ("20240301", d(2024, 3, 1)),
            ("2024年3月", d(2024, 3, 1)),
            ("从2024年3月1号开始", d(2024, 3, 1)),
            ("二〇二四年三月一日", d(2024, 3, 1)),
            ("去年三月", d(2025, 3, 1)),
            ("前年十二月二十三日", d(2024, 12, 23)),
            ("今年1月5号", d(2026, 1, 5)),
            ("12月1日", d(2025, 12, 1)),
            ("3月1日", d(2026, 3, 1)),
            ("半年前", d(2026, 5, 25)),
            ("8个月前", d(2026, 3, 25)),
            ("2年前", d(2024, 11, 25)),
            ("去年底", d(2025, 12, 1)),
            ("前年九月", d(2024, 9, 1)),
            ("3月底", d(2026, 3, 31)),
            ("上个月", d(2026, 10, 1)),
            ("二〇二三年三月", d(2023, 3, 1)),
            ("２０２３年３月５日", d(2023, 3, 5)),
        ] {
            assert_eq!(date(text, today), Some(want), "{text}");
        }
        for text in ["明天", "2024年", "2024-13-01", "abc", "2024年2月30日"] {
            assert_eq!(date(text, today), None, "{text}");
        }
    }

    #[test]
    fn cities_are_found_with_or_without_suffix_and_with_one_typo() {
        let name = |a: CityAnswer| match a {
            CityAnswer::Found(c, d) => (c.name, d.map(|d| d.name)),
            other => panic!("{other:?}"),
        };
        assert_eq!(name(city("广州")), ("广州市", None));
        assert_eq!(name(city("广州市")), ("广州市", None));
        assert_eq!(name(city("广东省佛山市")), ("佛山市", None));
        assert_eq!(name(city("广洲")), ("广州市", None));
        assert_eq!(name(city("广州天河")), ("广州市", Some("天河区")));
        assert_eq!(city("深圳"), CityAnswer::Shenzhen);
        assert_eq!(city("深圳市南山区"), CityAnswer::Shenzhen);
        assert_eq!(city("广东"), CityAnswer::Province);
        assert_eq!(city("北京"), CityAnswer::Unknown);
    }

    #[test]
    fn districts_are_found_with_or_without_suffix_and_with_one_typo() {
        let gz = divisions::find_city("广州").unwrap();
        assert_eq!(district(gz, "天河").unwrap().name, "天河区");
        assert_eq!(district(gz, "天河区").unwrap().name, "天河区");
        assert_eq!(district(gz, "番禹区").unwrap().name, "番禺区");
        assert_eq!(district(gz, "广州市海珠区").unwrap().name, "海珠区");
        assert!(district(gz, "朝阳区").is_none());
        let jm = divisions::find_city("江门").unwrap();
        assert!(district(jm, "江门").is_none(), "a city is not a district");
        assert!(district(jm, "江门市").is_none());
        assert_eq!(district(jm, "江海").unwrap().name, "江海区");
    }

    #[test]
    fn intents_and_answers_are_recognised() {
        assert_eq!(intent("１"), Intent::Apply);
        assert_eq!(intent("我想办居住证"), Intent::Apply);
        assert_eq!(intent("申请进度"), Intent::Status);
        assert_eq!(intent("申请条件是什么？"), Intent::Eligibility);
        assert_eq!(
            intent("绑定 1234 5678"),
            Intent::Link(Some("12345678".into()))
        );
        assert_eq!(intent("12345678"), Intent::Link(Some("12345678".into())));
        assert_eq!(
            intent("绑定 dev:demo-chen"),
            Intent::DevLink("demo-chen".into())
        );
        assert_eq!(intent("今天天气怎么样"), Intent::Unknown);
        assert_eq!(intent("我要改地址"), Intent::AddressChange);
        assert_eq!(intent("我搬家了，要办理地址变更"), Intent::AddressChange);
        assert_eq!(
            intent("我在广州住满几年了？"),
            Intent::ResidenceYears(service::domain::divisions::find_city("广州市"))
        );
        assert_eq!(intent("我的居住年限"), Intent::ResidenceYears(None));
        assert_eq!(yes_no("不是"), Some(YesNo::No));
        assert_eq!(yes_no("是的"), Some(YesNo::Yes));
        assert_eq!(basis("我在这边上班"), Some("employment"));
        assert_eq!(
            id_number("４４０５１１ １９９００３０７１２３x"),
            "44051119900307123X"
        );
    }

    // Residents type anything: every reader answers a value or nothing, never a panic.
    proptest::proptest! {
        #[test]
        fn reading_any_message_never_panics(s in "\\PC{0,80}") {
            let today = d(2026, 11, 30);
            let _ = date(&s, today);
            let _ = intent(&s);
            let _ = basis(&s);
            let _ = yes_no(&s);
            let _ = id_number(&s);
            if let CityAnswer::Found(city, _) = city(&s) {
                let _ = district(city, &s);
            }
        }

        #[test]
        fn reading_any_date_like_message_never_panics(y in 0u32..100_000, m in 0u32..100, day in 0u32..100, sep in "[年月日./\\- ]") {
            let today = d(2026, 11, 30);
            let _ = date(&format!("{y}{sep}{m}{sep}{day}"), today);
            let _ = date(&format!("{y}年{m}月{day}日"), today);
        }
    }
}
