//! One list in memory: its entries as atomics (readers never lock), a version bumped by
//! every change, and the last token signed for it.

use super::*;

/// One list: its entries as atomics (readers never lock), a version bumped by every change,
/// and the last token signed for it.
pub(super) struct List {
    pub(super) size: u32,
    pub(super) bytes: Box<[AtomicU8]>,
    pub(super) version: AtomicU64,
    pub(super) token: Mutex<Option<CachedToken>>,
}

pub(super) struct CachedToken {
    /// The list's version when the snapshot behind the token was taken.
    pub(super) version: u64,
    pub(super) iat: i64,
    pub(super) ttl: u64,
    pub(super) uri: String,
    pub(super) kid: String,
    pub(super) token: String,
}

/// A Status List Token and its `exp` (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedList {
    pub token: String,
    pub exp: i64,
}

impl CachedToken {
    pub(super) fn signed(&self) -> SignedList {
        SignedList {
            token: self.token.clone(),
            exp: self
                .iat
                .saturating_add(i64::try_from(self.ttl).unwrap_or(i64::MAX)),
        }
    }
}

impl List {
    pub(super) fn new(size: u32) -> List {
        List::from_bytes(size, vec![0; size.div_ceil(ENTRIES_PER_BYTE) as usize])
    }

    pub(super) fn from_bytes(size: u32, bytes: Vec<u8>) -> List {
        List {
            size,
            bytes: bytes.into_iter().map(AtomicU8::new).collect(),
            version: AtomicU64::new(0),
            token: Mutex::new(None),
        }
    }

    pub(super) fn locate(idx: u32) -> (usize, u32) {
        (
            (idx / ENTRIES_PER_BYTE) as usize,
            (idx % ENTRIES_PER_BYTE) * 2,
        )
    }

    pub(super) fn get(&self, idx: u32) -> Option<u8> {
        if idx >= self.size {
            return None;
        }
        let (byte, shift) = List::locate(idx);
        self.bytes
            .get(byte)
            .map(|b| (b.load(Ordering::Relaxed) >> shift) & MASK)
    }

    /// Sets one entry; answers whether it changed. The version is bumped after the byte is
    /// written, so a token builder that reads the new version also reads the new byte.
    pub(super) fn set(&self, idx: u32, value: u8) -> bool {
        if idx >= self.size {
            return false;
        }
        let (byte, shift) = List::locate(idx);
        let Some(cell) = self.bytes.get(byte) else {
            return false;
        };
        let previous = cell.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
            let next = (b & !(MASK << shift)) | ((value & MASK) << shift);
            (next != b).then_some(next)
        });
        let changed = previous.is_ok();
        if changed {
            self.version.fetch_add(1, Ordering::Release);
        }
        changed
    }

    /// Takes every entry from `bytes` (a list read afresh from the database). Bytes are
    /// replaced one by one, never cleared first, so no reader sees a revoked entry as valid
    /// in between.
    pub(super) fn replace(&self, bytes: &[u8]) {
        let mut changed = false;
        for (cell, new) in self.bytes.iter().zip(bytes) {
            if cell.swap(*new, Ordering::Relaxed) != *new {
                changed = true;
            }
        }
        if changed {
            self.version.fetch_add(1, Ordering::Release);
        }
    }

    pub(super) fn snapshot(&self) -> Vec<u8> {
        self.bytes
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect()
    }

    /// The list's entries as the draft packs them.
    pub(super) fn status_bits(&self) -> Option<StatusBits> {
        StatusBits::from_bytes(BITS, self.snapshot()).ok()
    }
}
