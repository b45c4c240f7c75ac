//! City and district names inside a sentence.

use std::sync::LazyLock;

use service::domain::divisions::{self, City, District};

use super::{Asking, Confidence, Context, Slot};
use crate::parse::{self, CityAnswer};

/// A name someone may write for a place: a city (full or short name) or a district.
struct Name {
    text: &'static str,
    city: &'static City,
    district: Option<&'static District>,
    /// The full official name (广州市, 番禺区), not a short one.
    full: bool,
}

/// Every name, longest first so that 南海区 is found before 南海 and 东区街道 before 东区.
static NAMES: LazyLock<Vec<Name>> = LazyLock::new(|| {
    let mut names = Vec::new();
    for city in divisions::cities() {
        names.push(Name {
            text: city.name,
            city,
            district: None,
            full: true,
        });
        names.push(Name {
            text: city.short_name(),
            city,
            district: None,
            full: false,
        });
        for d in city.districts {
            names.push(Name {
                text: d.name,
                city,
                district: Some(d),
                full: true,
            });
            if d.short_name().chars().count() >= 2 && d.short_name() != d.name {
                names.push(Name {
                    text: d.short_name(),
                    city,
                    district: Some(d),
                    full: false,
                });
            }
        }
    }
    names.sort_by_key(|n| std::cmp::Reverse(n.text.chars().count()));
    names
});

/// Short district names that are everyday words too (东区, 桥头, 长安…): read as a district
/// only when the city is known or the full name is written.
const COMMON_WORDS: [&str; 20] = [
    "东区", "西区", "南区", "城区", "桥头", "沙田", "长安", "东城", "南城", "清溪", "大朗", "中堂",
    "光明", "和平", "民众", "港口", "三角", "新兴", "古镇", "龙门",
];

/// Whether the text after a name makes it part of another name: a road (天河路, 中山大道), a
/// university or a station.
fn continues_a_name(after: &str) -> bool {
    let whole = [
        "路", "街", "巷", "大道", "大街", "大学", "学院", "公园", "医院", "广场", "站", "村",
        "花园", "大厦", "桥", "湖", "山", "纪念",
    ];
    // 街道 is a township, 大学城 a part of the district (番禺大学城).
    if after.starts_with("街道") || after.starts_with("大学城") {
        return false;
    }
    if whole.iter().any(|w| after.starts_with(w)) {
        return true;
    }
    // 天河北路, 中山四路, 广州南站: a direction or number, then a road or station.
    let rest = after.trim_start_matches(|c: char| "东西南北中一二三四五六七八九十".contains(c));
    let skipped = after.chars().count() - rest.chars().count();
    (1..=2).contains(&skipped)
        && ["路", "街", "巷", "大道", "大街", "站"]
            .iter()
            .any(|w| rest.starts_with(w))
}

/// Whether the text before a name says it is where the resident comes from.
fn is_origin(before: &str) -> bool {
    let tail: String = before
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    ["从", "户口", "户籍", "老家", "来自", "原籍", "籍贯", "离开"]
        .iter()
        .any(|w| tail.contains(w))
}

#[derive(Debug, Clone, Copy)]
struct Mention {
    start: usize,
    end: usize,
    city: &'static City,
    district: Option<&'static District>,
    full: bool,
    common: bool,
}

/// What the places in a message came to.
#[derive(Debug, Default)]
pub(super) struct Places {
    pub city: Option<Slot<&'static City>>,
    pub district: Option<Slot<&'static District>>,
    pub shenzhen: bool,
    pub province_only: bool,
    /// Where place names were found (char offsets), so that an address starts after them.
    pub spans: Vec<(usize, usize)>,
}

fn mentions(text: &str) -> Vec<Mention> {
    let chars: Vec<char> = text.chars().collect();
    let mut taken = vec![false; chars.len()];
    let mut found = Vec::new();
    for name in NAMES.iter() {
        let len = name.text.chars().count();
        let pattern: Vec<char> = name.text.chars().collect();
        let mut i = 0;
        while i + len <= chars.len() {
            if chars[i..i + len] != pattern[..] || taken[i..i + len].iter().any(|t| *t) {
                i += 1;
                continue;
            }
            let before: String = chars[..i].iter().collect();
            let after: String = chars[i + len..].iter().collect();
            // A short name followed by a road word is that road; a full name is itself.
            let in_other_name = !name.full && continues_a_name(&after)
                || name.full && name.district.is_none() && continues_a_name(&after)
                || after.starts_with('人');
            if !in_other_name && !is_origin(&before) {
                found.push(Mention {
                    start: i,
                    end: i + len,
                    city: name.city,
                    district: name.district,
                    full: name.full,
                    common: !name.full && COMMON_WORDS.contains(&name.text),
                });
            }
            for t in &mut taken[i..i + len] {
                *t = true;
            }
            i += len;
        }
    }
    found.sort_by_key(|m| m.start);
    found
}

/// Districts whose names (full or short) belong to one city only in Guangdong.
fn unique_city_of(district: &District) -> bool {
    let clash = |n: &str| {
        divisions::cities()
            .iter()
            .flat_map(|c| c.districts.iter())
            .filter(|d| d.code != district.code && (d.name == n || d.short_name() == n))
            .count()
    };
    clash(district.name) == 0 && clash(district.short_name()) == 0
}

/// Reads the places of a message (the date already blanked out).
pub(super) fn read(text: &str, cx: Context) -> Places {
    let compact = parse::compact(text);
    let mut out = Places::default();
    if matches!(compact.as_str(), "广东" | "广东省") {
        out.province_only = true;
        return out;
    }
    let found = mentions(text);
    out.spans = found.iter().map(|m| (m.start, m.end)).collect();

    // The city: one written out, preferring one whose district is also named.
    let named_cities: Vec<&Mention> = found.iter().filter(|m| m.district.is_none()).collect();
    let district_of = |city: &City| {
        found
            .iter()
            .find(|m| m.district.is_some() && m.city.code == city.code)
    };
    let city = named_cities
        .iter()
        .find(|m| district_of(m.city).is_some())
        .or(named_cities.first())
        .map(|m| m.city);
    match city {
        Some(city) => {
            out.city = Some(Slot::new(city, Confidence::Stated));
            if let Some(d) = district_of(city) {
                out.district = d.district.map(|d| Slot::new(d, Confidence::Stated));
            }
        }
        None => {
            // No city written: a district of the city already known, else one unique in the
            // province, which names its city.
            let known = cx.city.and_then(|known| {
                found
                    .iter()
                    .find(|m| m.district.is_some() && m.city.code == known.code)
            });
            if let Some(m) = known {
                out.district = m.district.map(|d| Slot::new(d, Confidence::Stated));
            } else if let Some(m) = found
                .iter()
                .find(|m| m.district.is_some_and(unique_city_of) && (m.full || !m.common))
            {
                out.city = Some(Slot::new(m.city, Confidence::Inferred));
                out.district = m.district.map(|d| Slot::new(d, Confidence::Stated));
            }
        }
    }
    if out.district.is_none() {
        let cx = Context {
            city: out.city.as_ref().map(|c| c.value).or(cx.city),
            ..cx
        };
        typo_with_suffix(text, cx, &mut out);
    }
    if out.city.is_none() && out.district.is_none() && compact.chars().count() <= 8 {
        whole_message(&compact, cx, &mut out);
    }
    out.shenzhen = out.city.as_ref().is_some_and(|c| c.value.is_shenzhen())
        || (out.city.is_none() && compact.contains("深圳"));
    if out.shenzhen {
        out.city = None;
        out.district = None;
    }
    out
}

/// "番禹区", "广洲市": a name one typo away, written with its suffix, anywhere in the message.
fn typo_with_suffix(text: &str, cx: Context, out: &mut Places) {
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if !matches!(c, '区' | '市' | '县') || i < 2 {
            continue;
        }
        let stem: String = chars[i - 2..i].iter().collect();
        if *c == '市' && out.city.is_none() {
            let near: Vec<&City> = divisions::cities()
                .iter()
                .filter(|city| distance(&stem, city.short_name()) == 1)
                .collect();
            if let [city] = near.as_slice() {
                out.city = Some(Slot::new(*city, Confidence::Guessed));
                out.spans.push((i - 2, i + 1));
                continue;
            }
        }
        let pool: Vec<(&'static City, &'static District)> = divisions::cities()
            .iter()
            .filter(|city| cx.city.is_none_or(|k| k.code == city.code))
            .flat_map(|city| city.districts.iter().map(move |d| (city, d)))
            .filter(|(_, d)| d.name.ends_with(*c) && distance(&stem, d.short_name()) == 1)
            .collect();
        if let [(city, d)] = pool.as_slice() {
            if out.city.is_none() {
                out.city = Some(Slot::new(
                    *city,
                    if cx.city.is_some() {
                        Confidence::Stated
                    } else {
                        Confidence::Inferred
                    },
                ));
            }
            out.district = Some(Slot::new(*d, Confidence::Guessed));
            out.spans.push((i - 2, i + 1));
            return;
        }
    }
}

/// A short message that is nothing but a name, read against the question asked: a city with
/// a typo at the city step, a district with a typo at the district step. A city name is never
/// taken for a district.
fn whole_message(compact: &str, cx: Context, out: &mut Places) {
    let near_city = divisions::cities()
        .iter()
        .any(|c| distance(compact, c.short_name()) <= 1 || distance(compact, c.name) <= 1);
    match cx.asking {
        Asking::City => {
            if let CityAnswer::Found(city, district) = parse::city(compact) {
                out.city = Some(Slot::new(city, Confidence::Guessed));
                out.district = district.map(|d| Slot::new(d, Confidence::Stated));
            }
        }
        Asking::District => {
            let Some(city) = cx.city else { return };
            if near_city {
                return;
            }
            if let Some(d) = parse::district(city, compact) {
                out.district = Some(Slot::new(d, Confidence::Guessed));
            }
        }
        _ => {}
    }
}

/// Levenshtein distance over characters.
pub(crate) fn distance(a: &str, b: &str) -> usize {
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
