//! Reading a whole message for everything the application needs: one message in, candidate
//! slots out (city, district, address, the date the stay began, basis), each with how sure
//! the reading is. Rules over the readers in [`crate::parse`] and the province's division
//! table; nothing remote. The dialogue decides what to do with each slot (see
//! `dialogue::apply`).
//!
//! What is read, in a sentence such as "我2023年3月来的广州番禺，在学校读书，想办居住证":
//! - places: city and district names anywhere, with or without 市/区, run together (广州天河);
//!   a district unique in Guangdong names its city (番禺 → 广州市); road names built on a
//!   place (天河路, 中山大道) and the place someone comes from (从湛江来, 湛江人, 老家湛江)
//!   are not where they live;
//! - the date: the part of the message that is a date (二〇二三年三月, 前年九月, 去年底,
//!   23.3.5), read relative to the service clock's `today`;
//! - the address: the clause with a road, building or house number, without the city and
//!   district in front of it;
//! - the basis from purpose words (上班/打工/开店 → employment, 租房/买房 → residence,
//!   读书/上学 → study).

mod places;
mod talk;

use chrono::NaiveDate;
use service::domain::divisions::{City, District};

use crate::parse;

pub use talk::{Correction, Question, SlotName, correction, question};

/// How sure a reading is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    /// Read through a typo or from a message that is nothing but a near name (番禹 → 番禺区):
    /// said back to the resident, who may correct it.
    Guessed,
    /// Completed by a rule: the city of a district unique in Guangdong, a relative date.
    Inferred,
    /// Written out plainly.
    Stated,
}

/// One candidate value and how sure its reading is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot<T> {
    pub value: T,
    pub confidence: Confidence,
}

impl<T> Slot<T> {
    fn new(value: T, confidence: Confidence) -> Slot<T> {
        Slot { value, confidence }
    }
}

/// Everything one message held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slots {
    pub city: Option<Slot<&'static City>>,
    pub district: Option<Slot<&'static District>>,
    pub address: Option<Slot<String>>,
    pub since: Option<Slot<NaiveDate>>,
    pub basis: Option<Slot<&'static str>>,
    /// Shenzhen was named as where the resident lives (it runs its own permits).
    pub shenzhen: bool,
    /// Only the province was named ("广东").
    pub province_only: bool,
}

impl Slots {
    /// How many slots hold a value.
    pub fn count(&self) -> usize {
        usize::from(self.city.is_some())
            + usize::from(self.district.is_some())
            + usize::from(self.address.is_some())
            + usize::from(self.since.is_some())
            + usize::from(self.basis.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }
}

/// The question the message answers, which lets a bare answer be read: "番禹" alone at the
/// district step is a district with a typo, "3" at the basis step is the third basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asking {
    /// Nothing in particular: the first message, a correction, the summary.
    Nothing,
    City,
    District,
    Address,
    Since,
    Basis,
}

/// What the message is read against.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// The service clock's day (never the system clock): 去年 is relative to it.
    pub today: NaiveDate,
    /// The city already known, whose districts win over same-named ones elsewhere.
    pub city: Option<&'static City>,
    pub asking: Asking,
}

/// Reads one message.
pub fn extract(text: &str, cx: Context) -> Slots {
    let flat = flat(text);
    let mut slots = Slots::default();

    let dates = dates_in(&flat, cx.today);
    if let Some((_, _, date, confidence)) = dates.first() {
        slots.since = Some(Slot::new(*date, *confidence));
    }
    // The date's text is taken out before places and addresses are looked for: 2023.3.5
    // holds no house number.
    let mut rest: Vec<char> = flat.chars().collect();
    for (start, end, _, _) in &dates {
        for c in &mut rest[*start..*end] {
            *c = '，';
        }
    }
    let rest: String = rest.into_iter().collect();

    let place = places::read(&rest, cx);
    slots.city = place.city;
    slots.district = place.district;
    slots.shenzhen = place.shenzhen;
    slots.province_only = place.province_only;

    slots.address = address_in(&rest, &place.spans).map(|a| Slot::new(a, Confidence::Stated));
    slots.basis = basis_in(&rest).map(|b| Slot::new(b, Confidence::Stated));

    let whole = parse::compact(text);
    match cx.asking {
        Asking::Since if slots.since.is_none() => {
            slots.since = parse::date(text, cx.today).map(|d| Slot::new(d, Confidence::Stated));
        }
        Asking::Basis if slots.basis.is_none() => {
            slots.basis = match whole.as_str() {
                "1" => Some("employment"),
                "2" => Some("residence"),
                "3" => Some("study"),
                _ => parse::basis(text),
            }
            .map(|b| Slot::new(b, Confidence::Stated));
        }
        _ => {}
    }
    slots
}

/// Full-width folded, blanks turned into clause breaks.
fn flat(text: &str) -> String {
    parse::normalize(text)
        .chars()
        .map(|c| if c.is_whitespace() { '，' } else { c })
        .collect()
}

/// Clause breaks.
fn is_break(c: char) -> bool {
    matches!(
        c,
        '，' | ',' | '。' | '；' | ';' | '！' | '!' | '？' | '?' | '、' | '：' | ':' | '~' | '～'
    ) || c.is_whitespace()
}

const CN_NUMERALS: &str = "〇零一二三四五六七八九十两";

/// The spans of `text` (char offsets) that read as a date, with the date and how sure it is.
fn dates_in(text: &str, today: NaiveDate) -> Vec<(usize, usize, NaiveDate, Confidence)> {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or(' ');
    let is_num = |c: char| c.is_ascii_digit() || CN_NUMERALS.contains(c);
    let prev = |i: usize| if i == 0 { ' ' } else { at(i - 1) };
    let is_date_char = |i: usize| {
        let c = at(i);
        match c {
            _ if is_num(c) => true,
            '年' | '月' | '日' | '号' => true,
            '-' | '/' | '.' => prev(i).is_ascii_digit() && at(i + 1).is_ascii_digit(),
            '前' => at(i + 1) == '年' || matches!(prev(i), '年' | '月'),
            '去' | '今' => at(i + 1) == '年',
            '大' => at(i + 1) == '前' && at(i + 2) == '年',
            '个' => at(i + 1) == '月',
            '半' => matches!(at(i + 1), '年' | '个'),
            '上' => at(i + 1) == '个' || at(i + 1) == '月' || at(i + 1) == '旬',
            '下' => at(i + 1) == '旬',
            '底' | '初' | '末' => matches!(prev(i), '年' | '月'),
            '中' => matches!(prev(i), '年' | '月') && !matches!(at(i + 1), '山'),
            '旬' => matches!(prev(i), '上' | '中' | '下'),
            '以' => at(i + 1) == '前' && matches!(prev(i), '年' | '月'),
            _ => false,
        }
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !is_date_char(i) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_date_char(i) {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        let digits = run.chars().filter(char::is_ascii_digit).count();
        let separated = run.chars().filter(|c| matches!(c, '-' | '/' | '.')).count();
        let dated = run.contains('年')
            || run.contains('月')
            || (separated >= 1 && digits >= 4 && !run.contains('号'))
            || (digits == 8 && run.chars().all(|c| c.is_ascii_digit()));
        if !dated {
            continue;
        }
        // A house number run into the date ("100号2023年3月"): the date after it.
        let starts = std::iter::once(0).chain(
            run.char_indices()
                .filter(|(_, c)| matches!(c, '号' | '日'))
                .map(|(at, c)| at + c.len_utf8()),
        );
        let read = starts
            .filter_map(|at| {
                let part = &run[at..];
                (part.contains('年') || part.contains('月') || at == 0)
                    .then(|| parse::date(part, today).map(|d| (part, d)))
                    .flatten()
            })
            .next();
        if let Some((part, date)) = read {
            let skipped = run.chars().count() - part.chars().count();
            let run = part.to_owned();
            let relative = ["去年", "前年", "今年", "前", "上"]
                .iter()
                .any(|w| run.contains(w))
                || !run.contains('年') && !run.contains(['-', '/', '.']) && digits != 8;
            let confidence = if relative {
                Confidence::Inferred
            } else {
                Confidence::Stated
            };
            found.push((start + skipped, i, date, confidence));
        }
    }
    found
}

/// Words around an address that are not part of it.
const ADDRESS_LEAD: [&str; 16] = [
    "详细地址是",
    "详细地址",
    "地址是",
    "地址在",
    "地址",
    "住址",
    "家住",
    "住在",
    "现住",
    "住",
    "就在",
    "目前在",
    "现在在",
    "在",
    "是",
    "的",
];
const ADDRESS_TAIL: [&str; 8] = [
    "那边住",
    "这边住",
    "居住",
    "那边",
    "这边",
    "那里",
    "这里",
    "住",
];
/// What makes a clause an address: a place in a street plan and a number.
const ADDRESS_MARKS: [&str; 22] = [
    "路", "街", "巷", "道", "村", "号", "栋", "座", "幢", "楼", "房", "室", "弄", "里", "坊", "苑",
    "园", "小区", "大厦", "公寓", "宿舍", "社区",
];

/// The address in `text`: the first clause with a street-plan word and a number, from just
/// after the last place name in front of it (the city and district are slots of their own).
fn address_in(text: &str, places: &[(usize, usize)]) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut start = 0;
    while start < chars.len() {
        let mut end = start;
        while end < chars.len() && !is_break(chars[end]) {
            end += 1;
        }
        let clause_start = places
            .iter()
            .filter(|(s, e)| *s >= start && *e <= end)
            .map(|(_, e)| *e)
            .max()
            .unwrap_or(start);
        let clause: String = chars[clause_start..end].iter().collect();
        if let Some(address) = address_of(&clause) {
            return Some(address);
        }
        start = end + 1;
    }
    None
}

fn address_of(clause: &str) -> Option<String> {
    if !clause.chars().any(|c| c.is_ascii_digit())
        || !ADDRESS_MARKS.iter().any(|m| clause.contains(m))
    {
        return None;
    }
    // Purpose words in the same clause end the address: "天河路1号上班".
    let mut text = clause;
    for w in ["我", "现在", "目前", "一直", "租房", "租了", "买了"] {
        text = text.strip_prefix(w).unwrap_or(text);
    }
    loop {
        let before = text;
        for lead in ADDRESS_LEAD {
            if let Some(rest) = text.strip_prefix(lead)
                && !rest.is_empty()
            {
                text = rest;
                break;
            }
        }
        if before == text {
            break;
        }
    }
    let mut text = text.to_owned();
    for tail in ADDRESS_TAIL {
        if let Some(rest) = text.strip_suffix(tail) {
            text = rest.to_owned();
            break;
        }
    }
    // The address runs to its last number and the building word after it.
    let chars: Vec<char> = text.chars().collect();
    let last_digit = chars.iter().rposition(char::is_ascii_digit)?;
    let mut end = last_digit + 1;
    while end < chars.len() && "号栋座幢楼房室层单元弄AaBbCc-".contains(chars[end]) {
        end += 1;
    }
    // 1688号之一: a house number's sub-number.
    if chars.get(end) == Some(&'之') && chars.get(end + 1).is_some_and(|c| CN_NUMERALS.contains(*c))
    {
        end += 2;
    }
    let address: String = chars[..end].iter().collect();
    let has_mark = ADDRESS_MARKS.iter().any(|m| address.contains(m));
    (has_mark && address.chars().count() >= 3).then_some(address)
}

/// Purpose words, by basis. The earliest word in the message wins.
const BASIS_WORDS: [(&str, &[&str]); 3] = [
    (
        "employment",
        &[
            "上班",
            "打工",
            "开店",
            "工作",
            "就业",
            "务工",
            "经商",
            "做生意",
            "生意",
            "做买卖",
            "社保",
            "进厂",
            "厂里",
            "公司",
            "个体户",
            "上斑",
            "打零工",
            "干活",
            "开了家",
            "开了个",
            "当老师",
            "外卖",
            "快递",
            "厂",
            "做工",
        ],
    ),
    (
        "residence",
        &[
            "租房",
            "买房",
            "买了房",
            "租了房",
            "租了一套",
            "租的房",
            "租住",
            "住房",
            "房子",
            "房产",
            "自有",
            "有房",
            "自己的房",
            "买了套",
            "买的房",
            "住所",
            "房东",
        ],
    ),
    (
        "study",
        &[
            "读书",
            "上学",
            "念书",
            "读大学",
            "读研",
            "学生",
            "就读",
            "上大学",
            "读高中",
            "读中专",
            "研究生",
            "读博",
            "上课",
            "读初中",
            "入学",
            "开学",
        ],
    ),
];

fn basis_in(text: &str) -> Option<&'static str> {
    let mut best: Option<(usize, &'static str)> = None;
    for (basis, words) in BASIS_WORDS {
        for w in words {
            for (at, _) in text.match_indices(w) {
                // "不是学生", "没上班": a purpose denied is none.
                let before = &text[..at];
                let denied = ["不是", "不", "没有", "没", "不在"]
                    .iter()
                    .any(|n| before.ends_with(n));
                if !denied && best.is_none_or(|(b, _)| at < b) {
                    best = Some((at, basis));
                }
            }
        }
    }
    best.map(|(_, b)| b)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
    }

    fn read(text: &str) -> Slots {
        extract(
            text,
            Context {
                today: today(),
                city: None,
                asking: Asking::Nothing,
            },
        )
    }

    #[test]
    fn the_issues_sentence_yields_every_slot_it_holds() {
        let s = read("我2023年3月来的广州番禺，在学校读书，想办居住证");
        assert_eq!(s.city.unwrap().value.name, "广州市");
        assert_eq!(s.district.unwrap().value.name, "番禺区");
        assert_eq!(
            s.since.unwrap().value,
            NaiveDate::from_ymd_opt(2023, 3, 1).unwrap()
        );
        assert_eq!(s.basis.unwrap().value, "study");
        assert!(s.address.is_none());
    }

    #[test]
    fn a_district_unique_in_guangdong_names_its_city_as_an_inference() {
        let s = read("番禺");
        let city = s.city.unwrap();
        assert_eq!(city.value.name, "广州市");
        assert_eq!(city.confidence, Confidence::Inferred);
    }

    #[test]
    fn an_address_loses_the_places_in_front_of_it() {
        let s = read("住在广州市天河区天河路385号501房，2024年1月15日搬来的，在公司上班");
        assert_eq!(s.address.unwrap().value, "天河路385号501房");
        assert_eq!(s.district.unwrap().value.name, "天河区");
        assert_eq!(s.basis.unwrap().value, "employment");
    }

    #[test]
    fn relative_dates_follow_the_given_today() {
        let s = read("前年九月来的");
        assert_eq!(
            s.since.unwrap().value,
            NaiveDate::from_ymd_opt(2024, 9, 1).unwrap()
        );
        let s = read("去年底来佛山南海打工");
        assert_eq!(
            s.since.unwrap().value,
            NaiveDate::from_ymd_opt(2025, 12, 1).unwrap()
        );
        assert_eq!(s.city.unwrap().value.name, "佛山市");
    }

    proptest::proptest! {
        // Residents type anything: reading a message never panics, at any step.
        #[test]
        fn reading_any_message_never_panics(s in "\\PC{0,80}") {
            for asking in [Asking::Nothing, Asking::City, Asking::District, Asking::Address, Asking::Since, Asking::Basis] {
                let city = service::domain::divisions::find_city("广州");
                let _ = extract(&s, Context { today: today(), city, asking });
            }
            let _ = correction(&s);
            let _ = question(&s);
        }
    }

    #[test]
    fn a_city_named_at_the_district_step_is_never_a_district() {
        let jiangmen = service::domain::divisions::find_city("江门").unwrap();
        let s = extract(
            "江门",
            Context {
                today: today(),
                city: Some(jiangmen),
                asking: Asking::District,
            },
        );
        assert!(s.district.is_none(), "{s:?}");
        assert_eq!(s.city.unwrap().value.name, "江门市");
    }
}
