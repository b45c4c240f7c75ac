//! Chinese numerals and dates written many ways (2024年3月, 24.3.5, 二〇二四年三月五日, 去年三月…).

use chrono::{Datelike, Months, NaiveDate};

use super::*;

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
    if t.contains("上个月") || t.contains("上月") {
        let last = today.checked_sub_months(Months::new(1))?;
        return last.with_day(1);
    }
    // A part of a year or month read as a day: 年底 is December (its first day, as a month
    // alone is), 月底 the month's last day, 月中/中旬 the 15th.
    let mut month_end = false;
    for (word, with) in [
        ("年底", "年12月"),
        ("年末", "年12月"),
        ("年初", "年1月"),
        ("年中", "年7月"),
        ("月初", "月1日"),
        ("月中", "月15日"),
        ("上旬", "1日"),
        ("中旬", "15日"),
        ("下旬", "21日"),
    ] {
        t = t.replace(word, with);
    }
    for word in ["月底", "月末"] {
        if t.contains(word) {
            t = t.replace(word, "月");
            month_end = true;
        }
    }
    let t = arabic_numerals(&t.replace("半年", "6个月"));
    let found = date_of(&t, today)?;
    if month_end {
        let next = found.checked_add_months(Months::new(1))?;
        return next.pred_opt();
    }
    Some(found)
}

fn date_of(t: &str, today: NaiveDate) -> Option<NaiveDate> {
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
    let toks = tokens(t);
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
