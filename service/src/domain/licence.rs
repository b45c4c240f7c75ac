//! Identifiers of the electronic licence.
//!
//! The licence identifier follows the shape of GB/T 36904-2018 (电子证照标识):
//! `1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>`, where `1.2.156.3005.2` is the
//! root of electronic licences, `<type>` the licence-type code, `<issuer>` the issuing
//! authority's unified social credit code, `<serial>` the licence serial number, `<version>`
//! the version of the licence, and `<check>` an ISO 7064 MOD 37,36 check character computed
//! over the preceding characters with the dots left out.

const ROOT: &str = "1.2.156.3005.2";
const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const M: u32 = 36;

fn value(c: char) -> Option<u32> {
    let c = c.to_ascii_uppercase();
    ALPHABET
        .iter()
        .position(|&a| a as char == c)
        .map(|p| p as u32)
}

/// The ISO 7064 MOD 37,36 (hybrid) check character of an alphanumeric string; `None` when it
/// holds anything but 0-9 and A-Z (either case).
pub fn mod37_36_check(s: &str) -> Option<char> {
    let mut p = M;
    for c in s.chars() {
        let mut sum = (p + value(c)?) % M;
        if sum == 0 {
            sum = M;
        }
        p = (sum * 2) % (M + 1);
    }
    let check = (M + 1 - p) % M;
    Some(ALPHABET[check as usize] as char)
}

fn body_chars(id_without_check: &str) -> String {
    id_without_check.chars().filter(|c| *c != '.').collect()
}

/// Builds the identifier. Segments must be alphanumeric.
pub fn licence_id(type_code: &str, issuer: &str, serial: &str, version: u32) -> Option<String> {
    let without_check = format!("{ROOT}.{type_code}.{issuer}.{serial}.{version}");
    let check = mod37_36_check(&body_chars(&without_check))?;
    Some(format!("{without_check}.{check}"))
}

/// Whether an identifier has the shape above and a correct check character.
pub fn is_valid_licence_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix(ROOT).and_then(|r| r.strip_prefix('.')) else {
        return false;
    };
    let Some((without_check, check)) = id.rsplit_once('.') else {
        return false;
    };
    let parts: Vec<&str> = rest.split('.').collect();
    if parts.len() != 5 || parts.iter().any(|p| p.is_empty()) || check.chars().count() != 1 {
        return false;
    }
    mod37_36_check(&body_chars(without_check)).map(|c| c.to_string())
        == Some(check.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_identifier_validates() {
        let id = licence_id("JZZ44", "11440000DEV0000000", "4401002026000001", 1).unwrap();
        assert!(id.starts_with("1.2.156.3005.2.JZZ44.11440000DEV0000000.4401002026000001.1."));
        assert!(is_valid_licence_id(&id), "{id}");
    }

    #[test]
    fn every_single_character_change_is_detected() {
        let id = licence_id("JZZ44", "11440000DEV0000000", "4401002026000001", 2).unwrap();
        let (without_check, _) = id.rsplit_once('.').unwrap();
        for (i, original) in without_check.char_indices().filter(|(_, c)| *c != '.') {
            for replacement in ALPHABET.iter().map(|b| *b as char) {
                if replacement == original || i < ROOT.len() {
                    continue;
                }
                let mut changed: Vec<char> = id.chars().collect();
                changed[i] = replacement;
                let changed: String = changed.into_iter().collect();
                assert!(!is_valid_licence_id(&changed), "{changed} passed");
            }
        }
    }

    #[test]
    fn adjacent_transpositions_are_detected() {
        let body = "11440000DEV00000004401002026000001";
        let check = mod37_36_check(body).unwrap();
        let chars: Vec<char> = body.chars().collect();
        for i in 0..chars.len() - 1 {
            if chars[i] == chars[i + 1] {
                continue;
            }
            let mut swapped = chars.clone();
            swapped.swap(i, i + 1);
            let swapped: String = swapped.into_iter().collect();
            assert_ne!(mod37_36_check(&swapped), Some(check), "swap at {i}");
        }
    }

    #[test]
    fn malformed_identifiers_are_refused() {
        assert!(!is_valid_licence_id(""));
        assert!(!is_valid_licence_id("1.2.156.3005.2.A.B.C"));
        assert!(!is_valid_licence_id("9.9.9.JZZ.X.1.1.0"));
        assert_eq!(mod37_36_check("ab-c"), None);
    }
}
