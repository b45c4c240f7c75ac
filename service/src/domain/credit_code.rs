//! The unified social credit code (统一社会信用代码, GB 32100-2015) of an organisation:
//! 18 characters from a 31-character alphabet, the last a weighted MOD 31 check character.

use std::fmt;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditCode(String);

fn value_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|a| *a == c).map(|p| p as u32)
}

/// The check character for the first 17 characters, or `None` when one is not allowed.
pub fn check_char(first17: &[u8]) -> Option<char> {
    let mut sum = 0;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value_of(*c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(char::from(ALPHABET[check as usize]))
}

impl CreditCode {
    /// Accepts upper or lower case and surrounding blanks; refuses anything else that is wrong.
    pub fn parse(input: &str) -> Option<CreditCode> {
        let code = input.trim().to_ascii_uppercase();
        let bytes = code.as_bytes();
        if bytes.len() != 18 {
            return None;
        }
        let expected = check_char(&bytes[..17])?;
        (char::from(bytes[17]) == expected).then_some(CreditCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_codes_are_accepted() {
        // Codes printed on business licences.
        for code in [
            "91350100M000100Y43",
            "91110000802100433B",
            "914403001922038216",
        ] {
            assert!(CreditCode::parse(code).is_some(), "{code}");
        }
        assert!(CreditCode::parse(" 91350100m000100y43 ").is_some());
    }

    #[test]
    fn a_changed_character_or_length_is_refused() {
        assert!(CreditCode::parse("91350100M000100Y44").is_none());
        assert!(CreditCode::parse("91350100M000100Y4").is_none());
        assert!(CreditCode::parse("91350100M000100I43").is_none());
        assert!(CreditCode::parse("").is_none());
    }

    proptest::proptest! {
        #[test]
        fn parsing_any_text_never_panics(s in "\\PC{0,40}") {
            let _ = CreditCode::parse(&s);
        }
    }
}
