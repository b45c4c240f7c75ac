//! The uncompressed status list: `len` entries of `bits` bits each, packed from the least
//! significant bit of each byte, and the status values an entry can hold.

/// Why a list cannot be built or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BitsError {
    #[error("bits per entry must be 1, 2, 4 or 8, not {0}")]
    UnsupportedBits(u8),
    #[error("index {idx} is outside the list of {len} entries")]
    OutOfRange { idx: usize, len: usize },
    #[error("value {value} does not fit in {bits} bits")]
    ValueTooWide { value: u8, bits: u8 },
    #[error("a list of {0} bytes has more entries than can be counted")]
    TooLong(usize),
}

/// A status value (draft section "Status Types Values"). 0x03 and 0x0C..=0x0F are reserved to
/// applications and the rest to future registration; we assign none of them, so a verifier
/// must treat them as "no statement", never as valid or revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 0x00 VALID.
    Valid,
    /// 0x01 INVALID: the permit was revoked.
    Revoked,
    /// 0x02 SUSPENDED.
    Suspended,
    /// Any other value.
    Unknown(u8),
}

impl Status {
    pub const fn from_u8(value: u8) -> Status {
        match value {
            0 => Status::Valid,
            1 => Status::Revoked,
            2 => Status::Suspended,
            other => Status::Unknown(other),
        }
    }

    pub const fn as_u8(self) -> u8 {
        match self {
            Status::Valid => 0,
            Status::Revoked => 1,
            Status::Suspended => 2,
            Status::Unknown(value) => value,
        }
    }
}

/// `len` entries of `bits` bits. Entry `i` lives in byte `i * bits / 8` at bit offset
/// `(i * bits) % 8`, counted from the least significant bit; unused high bits of the last
/// byte stay zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusBits {
    bits: u8,
    len: usize,
    bytes: Vec<u8>,
}

/// The draft allows only widths that divide a byte, so no entry straddles two bytes.
fn check_bits(bits: u8) -> Result<u8, BitsError> {
    match bits {
        1 | 2 | 4 | 8 => Ok(bits),
        other => Err(BitsError::UnsupportedBits(other)),
    }
}

impl StatusBits {
    /// `size` entries, all 0 (VALID).
    pub fn new(size: usize, bits: u8) -> Result<StatusBits, BitsError> {
        let per_byte = usize::from(8 / check_bits(bits)?);
        Ok(StatusBits {
            bits,
            len: size,
            bytes: vec![0; size.div_ceil(per_byte)],
        })
    }

    /// A list read back from its bytes. The draft does not carry the entry count, so every
    /// slot of every byte counts: a list made by [`StatusBits::new`] with a size that is not
    /// a multiple of `8 / bits` comes back with a few more entries, all 0.
    pub fn from_bytes(bits: u8, bytes: Vec<u8>) -> Result<StatusBits, BitsError> {
        let per_byte = usize::from(8 / check_bits(bits)?);
        let len = bytes
            .len()
            .checked_mul(per_byte)
            .ok_or(BitsError::TooLong(bytes.len()))?;
        Ok(StatusBits { bits, len, bytes })
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The byte holding entry `idx` and the entry's shift within it.
    fn locate(&self, idx: usize) -> (usize, u32) {
        let per_byte = usize::from(8 / self.bits);
        // `idx % per_byte < 8 / bits`, so the shift is below 8.
        let shift = (idx % per_byte) as u32 * u32::from(self.bits);
        (idx / per_byte, shift)
    }

    fn mask(&self) -> u8 {
        u8::MAX >> (8 - self.bits)
    }

    /// The raw value of entry `idx`, or `None` past the end.
    pub fn get(&self, idx: usize) -> Option<u8> {
        if idx >= self.len {
            return None;
        }
        let (byte, shift) = self.locate(idx);
        self.bytes.get(byte).map(|b| (b >> shift) & self.mask())
    }

    /// The status of entry `idx`, or `None` past the end.
    pub fn status(&self, idx: usize) -> Option<Status> {
        self.get(idx).map(Status::from_u8)
    }

    pub fn set(&mut self, idx: usize, value: u8) -> Result<(), BitsError> {
        if value > self.mask() {
            return Err(BitsError::ValueTooWide {
                value,
                bits: self.bits,
            });
        }
        let len = self.len;
        let (byte, shift) = self.locate(idx);
        let mask = self.mask();
        match self.bytes.get_mut(byte) {
            Some(b) if idx < len => {
                *b = (*b & !(mask << shift)) | (value << shift);
                Ok(())
            }
            _ => Err(BitsError::OutOfRange { idx, len }),
        }
    }

    /// The packed bytes, as the draft compresses them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_drafts_one_bit_example_packs_to_b9_a3() {
        let statuses = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
        let mut list = StatusBits::new(statuses.len(), 1).unwrap();
        for (i, s) in statuses.iter().enumerate() {
            list.set(i, *s).unwrap();
        }
        assert_eq!(list.as_bytes(), [0xB9, 0xA3]);
    }

    #[test]
    fn the_drafts_two_bit_example_packs_to_c9_44_f9() {
        let statuses = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];
        let mut list = StatusBits::new(statuses.len(), 2).unwrap();
        for (i, s) in statuses.iter().enumerate() {
            list.set(i, *s).unwrap();
        }
        assert_eq!(list.as_bytes(), [0xC9, 0x44, 0xF9]);
        let back = StatusBits::from_bytes(2, vec![0xC9, 0x44, 0xF9]).unwrap();
        assert_eq!(back, list);
        assert_eq!(back.status(1), Some(Status::Suspended));
        assert_eq!(back.status(3), Some(Status::Unknown(3)));
    }

    #[test]
    fn widths_other_than_1_2_4_8_are_refused() {
        for bits in [0, 3, 5, 6, 7, 9, 16, 255] {
            assert_eq!(
                StatusBits::new(8, bits),
                Err(BitsError::UnsupportedBits(bits))
            );
            assert_eq!(
                StatusBits::from_bytes(bits, vec![0]),
                Err(BitsError::UnsupportedBits(bits))
            );
        }
    }

    #[test]
    fn too_wide_values_and_indices_past_the_end_are_refused() {
        let mut list = StatusBits::new(5, 2).unwrap();
        assert_eq!(list.as_bytes().len(), 2);
        assert_eq!(
            list.set(0, 4),
            Err(BitsError::ValueTooWide { value: 4, bits: 2 })
        );
        // Index 5 has room in the last byte but is not an entry.
        assert_eq!(
            list.set(5, 1),
            Err(BitsError::OutOfRange { idx: 5, len: 5 })
        );
        assert_eq!(
            list.set(usize::MAX, 1),
            Err(BitsError::OutOfRange {
                idx: usize::MAX,
                len: 5
            })
        );
        assert_eq!(list.get(5), None);
        assert_eq!(list.as_bytes(), [0, 0]);
        let mut eight = StatusBits::new(2, 8).unwrap();
        eight.set(1, 255).unwrap();
        assert_eq!(eight.get(1), Some(255));
        assert_eq!(eight.as_bytes(), [0, 255]);
    }

    #[test]
    fn status_values_follow_the_draft() {
        assert_eq!(Status::from_u8(0), Status::Valid);
        assert_eq!(Status::from_u8(1), Status::Revoked);
        assert_eq!(Status::from_u8(2), Status::Suspended);
        assert_eq!(Status::from_u8(3), Status::Unknown(3));
        for v in 0..=255 {
            assert_eq!(Status::from_u8(v).as_u8(), v);
        }
    }

    proptest! {
        #[test]
        fn set_then_get_matches_a_plain_vector(
            bits in prop::sample::select(vec![1u8, 2, 4, 8]),
            size in 0usize..600,
            writes in prop::collection::vec((any::<usize>(), any::<u8>()), 0..200),
        ) {
            let mut list = StatusBits::new(size, bits).unwrap();
            let mut model = vec![0u8; size];
            let max = u8::MAX >> (8 - bits);
            for (idx, value) in writes {
                // Mostly in-range indices, some past the end.
                let idx = if size == 0 { idx } else { idx % (size + size / 4 + 1) };
                let result = list.set(idx, value);
                if idx < size && value <= max {
                    prop_assert_eq!(result, Ok(()));
                    model[idx] = value;
                } else {
                    prop_assert!(result.is_err());
                }
            }
            for (idx, value) in model.iter().enumerate() {
                prop_assert_eq!(list.get(idx), Some(*value));
            }
            prop_assert_eq!(list.get(size), None);
            // Read back from its bytes, the list has the same entries, then zeros.
            let back = StatusBits::from_bytes(bits, list.as_bytes().to_vec()).unwrap();
            prop_assert!(back.len() >= size && back.len() < size + usize::from(8 / bits));
            for idx in 0..back.len() {
                prop_assert_eq!(back.get(idx), Some(model.get(idx).copied().unwrap_or(0)));
            }
        }
    }
}
