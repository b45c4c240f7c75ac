//! City and district names with small typos, with or without the province.

use service::domain::divisions::{self, City, District};

use super::*;

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
        // A city's name is never read as a district one typo away (江门 is not 江海区).
        let a_city = divisions::cities()
            .iter()
            .any(|c| distance(t, c.name) <= 1 || distance(t, c.short_name()) <= 1);
        if a_city {
            return None;
        }
        closest(
            t,
            city.districts.iter().map(|d| (d, [d.name, d.short_name()])),
        )
    })
}
