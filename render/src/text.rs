//! Text before it becomes SVG: which characters may be printed ([`is_allowed_char`],
//! [`clean`]), how wide a character is in em ([`char_em`], [`text_em`]), and how a value is
//! broken into lines that fit ([`wrap`], [`wrap_checked`]) with the last one cut by `…`.
//!
//! Widths come from the East Asian Width property (`unicode-width`): a wide character (CJK,
//! full-width forms, emoji) is one em, a narrow one (Latin letters, digits) is
//! [`HALF_WIDTH_EM`]. The estimate errs towards wrapping rather than overflowing.

use unicode_width::UnicodeWidthChar as _;

/// Advance of a narrow character in em. A little over half an em: digits and lower-case
/// letters of the CJK sans fonts are about 0.55 em and capitals wider, so estimates err
/// towards wrapping.
const HALF_WIDTH_EM: f32 = 0.6;

/// Whether `c` may appear in the output: XML 1.0 characters, minus C1
/// controls and the bidirectional overrides that could reorder a name.
pub(crate) fn is_allowed_char(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => true,
        '\u{7F}'..='\u{9F}' => false,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => false,
        '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}' => true,
        _ => false,
    }
}

/// Drops disallowed characters, turns whitespace runs into one space and
/// trims.
pub(crate) fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars().filter(|c| is_allowed_char(*c)) {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// Estimated advance of `c` in em for the CJK sans fonts of the font stack.
///
/// Characters of ambiguous East Asian width are read two ways: letters (Latin with accents,
/// Greek, Cyrillic) are proportional even in CJK fonts, so they count as narrow; symbols such
/// as the middle dot in 买买提·艾力, `…` and `—` are full width in CJK fonts, so they count as
/// wide. Zero-width and control characters take no room.
pub(crate) fn char_em(c: char) -> f32 {
    let columns = if c.is_alphabetic() {
        c.width()
    } else {
        c.width_cjk()
    };
    match columns.unwrap_or(0) {
        0 => 0.0,
        1 => HALF_WIDTH_EM,
        _ => 1.0,
    }
}

/// Estimated advance of `s` in em.
pub(crate) fn text_em(s: &str) -> f32 {
    s.chars().map(char_em).sum()
}

fn chars_em(chars: &[char]) -> f32 {
    chars.iter().copied().map(char_em).sum()
}

/// Characters that should not start a line.
fn is_closing_punctuation(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '、'
            | '；'
            | '：'
            | '？'
            | '！'
            | '）'
            | '》'
            | '」'
            | '』'
            | '”'
            | '’'
            | '…'
            | ','
            | '.'
            | ';'
            | ':'
            | '?'
            | '!'
            | ')'
    )
}

/// Breaks `text` into at most `max_lines` lines of at most `max_em` each;
/// what does not fit is cut with `…` at the end of the last line. Breaks
/// fall between any two characters (Chinese has no spaces), except that a
/// short run of Latin letters or digits (a house number, say) is kept
/// together and closing punctuation does not start a line.
pub(crate) fn wrap(text: &str, max_em: f32, max_lines: usize) -> Vec<String> {
    wrap_checked(text, max_em, max_lines).0
}

/// [`wrap`], also telling whether the text had to be cut.
pub(crate) fn wrap_checked(text: &str, max_em: f32, max_lines: usize) -> (Vec<String>, bool) {
    let chars: Vec<char> = clean(text).chars().collect();
    let max_lines = max_lines.max(1);
    let mut lines = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        if chars_em(rest) <= max_em {
            lines.push(rest.iter().collect::<String>());
            break;
        }
        if lines.len() + 1 >= max_lines {
            lines.push(ellipsize(rest, max_em));
            return (lines, true);
        }
        let mut end = i;
        let mut width = 0.0;
        while end < chars.len() {
            let w = char_em(chars[end]);
            if width + w > max_em {
                break;
            }
            width += w;
            end += 1;
        }
        if end == i {
            end = i + 1;
        }
        let end = adjust_break(&chars, i, end);
        let line: String = chars[i..end].iter().collect();
        lines.push(line.trim_end().to_owned());
        i = end;
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
    }
    (lines, false)
}

/// Moves a break at `end` (start of the next line, `start < end <
/// chars.len()`) back to keep short alphanumeric runs whole and to keep
/// closing punctuation off the start of a line.
fn adjust_break(chars: &[char], start: usize, end: usize) -> usize {
    if end >= chars.len() || end <= start {
        return end;
    }
    let word = |c: char| c.is_ascii_alphanumeric();
    if word(chars[end]) && word(chars[end - 1]) {
        let mut k = end;
        while k > start && word(chars[k - 1]) {
            k -= 1;
        }
        let run_end = chars[end..]
            .iter()
            .position(|c| !word(*c))
            .map_or(chars.len(), |p| end + p);
        if k > start && run_end - k <= 12 {
            return k;
        }
        return end;
    }
    if is_closing_punctuation(chars[end]) && end - start >= 2 {
        return end - 1;
    }
    end
}

/// The longest prefix of `chars` that fits `max_em` together with `…`.
fn ellipsize(chars: &[char], max_em: f32) -> String {
    let budget = max_em - char_em('…');
    let mut width = 0.0;
    let mut out = String::new();
    for &c in chars {
        let w = char_em(c);
        if width + w > budget {
            break;
        }
        width += w;
        out.push(c);
    }
    let mut out = out.trim_end().to_owned();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::card_svg;
    use crate::rows::EMPTY_VALUE;
    use crate::test_support::{parse, sample_card};

    #[test]
    fn wrapping_breaks_chinese_text_by_width() {
        let lines = wrap("一二三四五六七八九十", 4.0, 3);
        assert_eq!(lines, ["一二三四", "五六七八", "九十"]);
    }

    #[test]
    fn wrapping_cuts_the_last_allowed_line_with_an_ellipsis() {
        let lines = wrap("一二三四五六七八九十", 4.0, 2);
        assert_eq!(lines, ["一二三四", "五六七…"]);
        assert_eq!(wrap("一二三四五", 3.0, 1), ["一二…"]);
    }

    #[test]
    fn wrapping_keeps_a_house_number_together() {
        let lines = wrap("天河路一二385号", 5.2, 2);
        assert_eq!(lines, ["天河路一二", "385号"]);
    }

    #[test]
    fn wrapping_keeps_closing_punctuation_off_the_start_of_a_line() {
        let lines = wrap("一二三四，五六", 4.0, 3);
        assert_eq!(lines, ["一二三", "四，五六"]);
    }

    #[test]
    fn wrapping_empty_text_gives_no_lines_and_the_card_shows_a_dash() {
        assert!(wrap("  \n ", 10.0, 2).is_empty());
        let mut card = sample_card();
        card.ethnicity = "";
        let text = parse(&card_svg(&card, "x", None).unwrap()).text;
        assert!(text.contains(EMPTY_VALUE));
    }

    #[test]
    fn wide_characters_are_one_em_and_narrow_ones_a_little_over_half() {
        assert_eq!(text_em("广东省"), 3.0);
        assert_eq!(text_em("ＡＢ"), 2.0);
        assert_eq!(text_em("385"), 3.0 * HALF_WIDTH_EM);
        assert_eq!(text_em("Zoë"), 3.0 * HALF_WIDTH_EM);
    }

    #[test]
    fn cjk_punctuation_of_ambiguous_width_counts_as_full_width() {
        for c in ['·', '…', '—', '“', '”'] {
            assert_eq!(char_em(c), 1.0, "{c}");
        }
    }

    #[test]
    fn zero_width_characters_take_no_room() {
        assert_eq!(char_em('\u{200B}'), 0.0);
        assert_eq!(text_em("e\u{301}"), HALF_WIDTH_EM);
    }
}
