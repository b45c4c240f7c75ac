//! Comparing secrets and MACs without telling, through timing, how much of a guess was right.

use subtle::ConstantTimeEq;

/// Whether `presented` equals `expected`, in time that depends only on their lengths (which
/// are public: digests and signatures have a fixed size).
pub fn same_secret(presented: &[u8], expected: &[u8]) -> bool {
    presented.ct_eq(expected).into()
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn equal_bytes_match_and_any_difference_or_length_does_not() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
        assert!(!same_secret(b"", b"a"));
    }
}
