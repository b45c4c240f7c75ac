//! Reading what people type: full-width characters, Chinese numerals, dates written many
//! ways, city and district names with small typos, yes/no, and the menu's intents.

use chrono::{Datelike, Months, NaiveDate};
use service::domain::divisions::{self, City, District};

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

// --- Chinese numerals and dates.

fn cn_digit(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' | 'O' | 'o' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// Replaces runs of Chinese numerals with Arabic ones: 三 → 3, 十二 → 12, 二十三 → 23,
/// 二〇二四 → 2024.
fn arabic_numerals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let is_num = |c: char| c == '十' || (cn_digit(c).is_some() && !c.is_ascii());
        if !is_num(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_num(chars[i]) {
            i += 1;
        }
        let run = &chars[start..i];
        let value = if run.contains(&'十') {
            let (tens, ones) = match run.iter().position(|c| *c == '十') {
                Some(p) => (&run[..p], &run[p + 1..]),
                None => (run, &run[..0]),
            };
            let t = match tens {
                [] => 1,
                [c] => cn_digit(*c).unwrap_or(0),
                _ => 0,
            };
            let o = match ones {
                [] => 0,
                [c] => cn_digit(*c).unwrap_or(0),
                _ => 0,
            };
            t * 10 + o
        } else {
            run.iter()
                .filter_map(|c| cn_digit(*c))
                .fold(0, |acc, d| acc * 10 + d)
        };
        out.push_str(&value.to_string());
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Num(u32, usize),
    Year,
    Month,
    Day,
    Sep,
}

fn tokens(text: &str) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut digits = String::new();
    let flush = |digits: &mut String, toks: &mut Vec<Tok>| {
        if !digits.is_empty() {
            toks.push(Tok::Num(digits.parse().unwrap_or(u32::MAX), digits.len()));
            digits.clear();
        }
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        flush(&mut digits, &mut toks);
        match c {
            '年' => toks.push(Tok::Year),
            '月' => toks.push(Tok::Month),
            '日' | '号' => toks.push(Tok::Day),
            '-' | '/' | '.' | '、' | '_' => toks.push(Tok::Sep),
            _ => {}
        }
    }
    flush(&mut digits, &mut toks);
    toks
}

fn full_year(y: u32, len: usize, today: NaiveDate) -> Option<i32> {
    match len {
        4 => i32::try_from(y).ok(),
        1 | 2 => {
            let this = (today.year() % 100) as u32;
            let century = today.year() - today.year() % 100;
            Some(if y <= this {
                century + y as i32
            } else {
                century - 100 + y as i32
            })
        }
        _ => None,
    }
}

/// A date as people write it, relative to `today`: 2024年3月1日, 2024-3-1, 2024/03/01,
/// 24.3.1, 20240301, 2024年3月, 去年三月, 今年1月5号, 3月1日 (the latest such day not after
/// today), 半年前, 8个月前, 2年前. A month without a day means its first day.
pub fn date(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    let mut t = compact(text);
    for (word, back) in [("大前年", 3), ("前年", 2), ("去年", 1), ("今年", 0)] {
        if t.contains(word) {
            t = t.replacen(word, &format!("{}年", today.year() - back), 1);
        }
    }
    let t = arabic_numerals(&t.replace("半年", "6个月"));
    if let Some(before) = t.strip_suffix("前").or_else(|| t.strip_suffix("以前")) {
        let toks = tokens(before);
        if let [Tok::Num(n, _), ..] = toks.as_slice() {
            let months = if before.contains('年') {
                n.checked_mul(12)?
            } else if before.contains('月') {
                *n
            } else {
                return None;
            };
            return today.checked_sub_months(Months::new(months));
        }
        return None;
    }
    let toks = tokens(&t);
    let has_units = toks
        .iter()
        .any(|k| matches!(k, Tok::Year | Tok::Month | Tok::Day));
    let (year, month, day) = if has_units {
        let before = |unit: Tok| {
            toks.windows(2).find_map(|w| match (w[0], w[1]) {
                (Tok::Num(n, len), u) if u == unit => Some((n, len)),
                _ => None,
            })
        };
        let month = before(Tok::Month)?.0;
        let day = before(Tok::Day).map_or(1, |d| d.0);
        match before(Tok::Year) {
            Some((y, len)) => (full_year(y, len, today)?, month, day),
            None => {
                let this_year = NaiveDate::from_ymd_opt(today.year(), month, day)?;
                let year = if this_year > today {
                    today.year() - 1
                } else {
                    today.year()
                };
                (year, month, day)
            }
        }
    } else {
        let nums: Vec<(u32, usize)> = toks
            .iter()
            .filter_map(|k| match k {
                Tok::Num(n, len) => Some((*n, *len)),
                _ => None,
            })
            .collect();
        match nums.as_slice() {
            [(n, 8)] => (i32::try_from(n / 10_000).ok()?, (n / 100) % 100, n % 100),
            [(y, ylen), (m, _), (d, _)] => (full_year(*y, *ylen, today)?, *m, *d),
            [(y, ylen @ (2 | 4)), (m, _)] => (full_year(*y, *ylen, today)?, *m, 1),
            _ => return None,
        }
    };
    NaiveDate::from_ymd_opt(year, month, day)
}

// --- Places.

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The one candidate within one typo of the input, if exactly one is.
fn closest<T: Copy>(
    input: &str,
    candidates: impl Iterator<Item = (T, [&'static str; 2])>,
) -> Option<T> {
    if input.chars().count() < 2 {
        return None;
    }
    let mut found: Vec<T> = Vec::new();
    let mut seen_names: Vec<&str> = Vec::new();
    for (item, names) in candidates {
        if names
            .iter()
            .any(|n| n.chars().count() >= 2 && distance(input, n) <= 1)
            && !seen_names.contains(&names[0])
        {
            seen_names.push(names[0]);
            found.push(item);
        }
    }
    match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CityAnswer {
    /// A city, and a district named in the same message ("广州天河").
    Found(&'static City, Option<&'static District>),
    Shenzhen,
    /// Only the province was named.
    Province,
    Unknown,
}

fn strip_province(text: &str) -> &str {
    text.strip_prefix("广东省")
        .or_else(|| text.strip_prefix("广东"))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(text)
}

pub fn city(text: &str) -> CityAnswer {
    let t = compact(text);
    if is_any(&t, &["广东", "广东省"]) {
        return CityAnswer::Province;
    }
    let t = strip_province(&t);
    let found = divisions::find_city(t)
        .map(|c| (c, None))
        .or_else(|| {
            // A city followed by its district in one message.
            divisions::cities().iter().find_map(|c| {
                let rest = t
                    .strip_prefix(c.name)
                    .or_else(|| t.strip_prefix(c.short_name()))?;
                Some((c, Some(c.find_district(rest)?)))
            })
        })
        .or_else(|| {
            closest(
                t,
                divisions::cities()
                    .iter()
                    .map(|c| (c, [c.name, c.short_name()])),
            )
            .map(|c| (c, None))
        });
    match found {
        Some((c, _)) if c.is_shenzhen() => CityAnswer::Shenzhen,
        Some((c, d)) => CityAnswer::Found(c, d),
        None if t.contains("深圳") => CityAnswer::Shenzhen,
        None => CityAnswer::Unknown,
    }
}

pub fn district(city: &'static City, text: &str) -> Option<&'static District> {
    let t = compact(text);
    let t = strip_province(&t);
    let t = t
        .strip_prefix(city.name)
        .or_else(|| t.strip_prefix(city.short_name()))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(t);
    city.find_district(t).or_else(|| {
        closest(
            t,
            city.districts.iter().map(|d| (d, [d.name, d.short_name()])),
        )
    })
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
