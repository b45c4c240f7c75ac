//! Every status list, held in memory by every instance: 2 bits per entry (50M permits in
//! about 17 MB), read without locks on the hot path (verification), kept in step with the
//! database by following the change log, and signed into Status List Tokens on demand.
//!
//! Consistency. A change is committed with its row in `status_changes` (see
//! [`super::places::set_state`]); the instance that made it applies it at once
//! ([`StatusRegistry::apply`]), the others within [`StatusRegistry::spawn_follower`]'s
//! interval. A change carries the absolute state, so applying one twice, or an old one
//! before a newer one of the same entry, settles on the right state.
//!
//! On PostgreSQL, change numbers are drawn at insert and committed in any order, so the log
//! can show change 11 before change 10 commits. The follower therefore remembers what it saw
//! above the highest number below which it has seen everything (`floor`), and keeps
//! re-reading from there until the gap fills or [`GAP_WAIT`] passes (a rolled-back
//! transaction leaves a gap for ever).

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use entity::{status_change, status_list, status_place};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use super::bits::{Status, StatusBits};
use super::places::{Place, from_sql_int};
use super::token::{StatusListClaim, StatusListClaims, encode_lst, sign};
use crate::error::Result;
use crate::keys::signing::KeyRing;
use crate::keys::signing::SignError;

mod follower;
mod live;

use follower::{Follow, watermark};
pub use live::SignedList;
use live::{CachedToken, List};

/// Bits per entry: VALID 0, INVALID (revoked) 1, SUSPENDED 2.
pub const BITS: u8 = 2;
const ENTRIES_PER_BYTE: u32 = 4;
const MASK: u8 = 0b11;
/// Changes read per query while catching up.
const CHANGE_BATCH: u64 = 10_000;
/// How long a gap in the change numbers is waited for before it is taken for a rollback.
/// Far longer than any transaction between logging a change and committing it.
pub const GAP_WAIT: Duration = Duration::from_secs(60);
/// A follower that could not catch up for this long reloads every state instead: the log
/// it missed may have been deleted by retention (after a day).
const RELOAD_AFTER: Duration = Duration::from_secs(3600);
/// List ids are max + 1 from 1; an id beyond this is not one of ours, and is not allocated
/// room for.
const MAX_LIST_ID: u32 = 1 << 20;

/// All status lists of the service, in memory. See the module documentation.
pub struct StatusRegistry {
    /// Indexed by list id (0 unused); `None` for an id not known here (yet).
    lists: RwLock<Vec<Option<Arc<List>>>>,
    follow: tokio::sync::Mutex<Follow>,
    /// When the lists last caught up with the log (or were loaded), for the status-list age.
    caught_up_at: Mutex<Instant>,
}

impl Default for StatusRegistry {
    fn default() -> Self {
        StatusRegistry::new()
    }
}

impl StatusRegistry {
    /// A registry with no lists, following the log from its start.
    pub fn new() -> StatusRegistry {
        StatusRegistry {
            lists: RwLock::new(Vec::new()),
            follow: tokio::sync::Mutex::new(Follow::new(0)),
            caught_up_at: Mutex::new(Instant::now()),
        }
    }

    /// Every list and every entry that is not VALID, from the database. The log position is
    /// read first (and kept [`GAP_WAIT`] back, for changes numbered earlier but committed
    /// later), so a change committed while the states are read is applied again by the
    /// next [`StatusRegistry::catch_up`], never missed.
    pub async fn load<C: ConnectionTrait>(db: &C) -> Result<StatusRegistry> {
        let floor = watermark(db).await?;
        let registry = StatusRegistry::new();
        registry.reload(db).await?;
        *registry.follow.lock().await = Follow::new(floor);
        Ok(registry)
    }

    /// Adds an empty list of `size` entries unless the id is known; answers whether it was
    /// added. Used when a list is learnt of, and by tests and benchmarks.
    pub fn add_list(&self, list_id: u32, size: u32) -> bool {
        self.insert_list(list_id, List::new(size))
    }

    fn insert_list(&self, list_id: u32, list: List) -> bool {
        if list_id == 0 || list_id > MAX_LIST_ID {
            tracing::warn!(list_id, "status list id out of range; ignored");
            return false;
        }
        let mut lists = self.lists.write().unwrap_or_else(PoisonError::into_inner);
        let slot = list_id as usize;
        if lists.len() <= slot {
            lists.resize(slot + 1, None);
        }
        match lists.get_mut(slot) {
            Some(entry @ None) => {
                *entry = Some(Arc::new(list));
                true
            }
            _ => false,
        }
    }

    fn get(&self, list_id: u32) -> Option<Arc<List>> {
        let lists = self.lists.read().unwrap_or_else(PoisonError::into_inner);
        lists.get(list_id as usize).and_then(Clone::clone)
    }

    /// The ids of the lists known here, in order.
    pub fn list_ids(&self) -> Vec<u32> {
        let lists = self.lists.read().unwrap_or_else(PoisonError::into_inner);
        (0..lists.len() as u32)
            .filter(|id| lists.get(*id as usize).is_some_and(Option::is_some))
            .collect()
    }

    /// The status at a place; `None` when the list is not known here (created on another
    /// instance a moment ago: catch up, then answer "undetermined") or the index is past
    /// its end.
    pub fn status(&self, place: Place) -> Option<Status> {
        // Read under the guard rather than through a cloned Arc: no shared counter is
        // written on this path, only the lock's (uncontended unless a list is being added).
        let lists = self.lists.read().unwrap_or_else(PoisonError::into_inner);
        let list = lists.get(place.list_id as usize)?.as_ref()?;
        list.get(place.idx).map(Status::from_u8)
    }

    /// Applies a committed change here at once (other instances follow the log). Answers
    /// whether the place's list is known here and the status fits in 2 bits.
    pub fn apply(&self, place: Place, status: Status) -> bool {
        let value = status.as_u8();
        if value > MASK {
            tracing::warn!(value, "status does not fit in 2 bits; not applied");
            return false;
        }
        match self.get(place.list_id) {
            Some(list) if list.get(place.idx).is_some() => {
                list.set(place.idx, value);
                true
            }
            _ => false,
        }
    }

    /// The entries of one list, as signed into its token.
    pub fn list(&self, list_id: u32) -> Option<StatusBits> {
        self.get(list_id)?.status_bits()
    }

    /// The Status List Token of a list (`sub` = `uri`, `iat` = `now`, `exp` = `iat + ttl`)
    /// with its `exp`, for saying how long a cache may keep it (a cached token is older than
    /// `now`). Signed again only when the list changed, the cached token is `ttl / 2` old, or
    /// the URI, TTL or signing key differ, so one change re-signs one list. `None` when the
    /// list is unknown here (or, never in practice, could not be compressed); an error when
    /// the signer could not sign.
    ///
    /// The cache's lock is not held while signing (a remote signer takes milliseconds): two
    /// requests for a stale list may both sign, and the later token stays cached; both are
    /// current.
    pub async fn signed(
        &self,
        keys: &KeyRing,
        list_id: u32,
        uri: &str,
        now: DateTime<Utc>,
        ttl_secs: u64,
    ) -> Result<Option<SignedList>, SignError> {
        let Some(list) = self.get(list_id) else {
            return Ok(None);
        };
        let now_secs = now.timestamp();
        let version = list.version.load(Ordering::Acquire);
        {
            let cached = list.token.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(c) = cached.as_ref() {
                let age = now_secs.saturating_sub(c.iat);
                let fresh = age >= 0 && age.unsigned_abs() < ttl_secs / 2;
                if fresh
                    && c.version == version
                    && c.ttl == ttl_secs
                    && c.uri == uri
                    && c.kid == keys.signing_kid()
                {
                    return Ok(Some(c.signed()));
                }
            }
        }
        // Read after the version: a change racing with the snapshot bumps the version
        // again, and the next call signs anew.
        let Some(bits) = list.status_bits() else {
            return Ok(None);
        };
        let lst = match encode_lst(&bits) {
            Ok(lst) => lst,
            Err(e) => {
                tracing::error!(error = %e, list_id, "status list could not be compressed");
                return Ok(None);
            }
        };
        let ttl = i64::try_from(ttl_secs).unwrap_or(i64::MAX);
        let claims = StatusListClaims {
            sub: uri.to_owned(),
            iat: now_secs,
            exp: now_secs.saturating_add(ttl),
            ttl: ttl_secs,
            status_list: StatusListClaim { bits: BITS, lst },
        };
        let token = CachedToken {
            version,
            iat: now_secs,
            ttl: ttl_secs,
            uri: uri.to_owned(),
            kid: keys.signing_kid().to_owned(),
            token: sign(keys, &claims).await?,
        };
        let signed = token.signed();
        *list.token.lock().unwrap_or_else(PoisonError::into_inner) = Some(token);
        Ok(Some(signed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::status_list::token::{Lookup, decode_lst, verify};
    use ed25519_dalek::SigningKey;

    const URI: &str = "https://yueju.example/api/v1/status-lists/1";

    fn ring(seed: u8) -> KeyRing {
        KeyRing::from_keys(vec![SigningKey::from_bytes(&[seed; 32])], vec![]).unwrap()
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    fn place(list_id: u32, idx: u32) -> Place {
        Place { list_id, idx }
    }

    #[test]
    fn states_applied_to_the_registry_read_back_and_leave_their_neighbours_alone() {
        let registry = StatusRegistry::new();
        assert!(registry.add_list(1, 64));
        assert!(!registry.add_list(1, 8), "a known list is kept");
        assert!((0..64).all(|i| registry.status(place(1, i)) == Some(Status::Valid)));
        assert!(registry.apply(place(1, 5), Status::Revoked));
        assert!(registry.apply(place(1, 6), Status::Suspended));
        assert!(registry.apply(place(1, 7), Status::Unknown(3)));
        assert!(registry.apply(place(1, 63), Status::Revoked));
        for (idx, expected) in [
            (4, Status::Valid),
            (5, Status::Revoked),
            (6, Status::Suspended),
            (7, Status::Unknown(3)),
            (8, Status::Valid),
            (62, Status::Valid),
            (63, Status::Revoked),
        ] {
            assert_eq!(registry.status(place(1, idx)), Some(expected), "{idx}");
        }
        // A lifted suspension.
        assert!(registry.apply(place(1, 6), Status::Valid));
        assert_eq!(registry.status(place(1, 6)), Some(Status::Valid));
        assert_eq!(registry.status(place(1, 5)), Some(Status::Revoked));

        // Unknown lists, indices past the end and values wider than 2 bits say nothing.
        assert_eq!(registry.status(place(2, 0)), None);
        assert_eq!(registry.status(place(0, 0)), None);
        assert_eq!(registry.status(place(1, 64)), None);
        assert!(!registry.apply(place(2, 0), Status::Revoked));
        assert!(!registry.apply(place(1, 64), Status::Revoked));
        assert!(!registry.apply(place(1, 0), Status::Unknown(4)));
        assert_eq!(registry.status(place(1, 0)), Some(Status::Valid));

        let bits = registry.list(1).unwrap();
        assert_eq!((bits.bits(), bits.len()), (2, 64));
        assert_eq!(bits.status(5), Some(Status::Revoked));
        assert_eq!(bits.status(63), Some(Status::Revoked));
        assert_eq!(registry.list(2), None);
        assert!(registry.add_list(3, 4));
        assert_eq!(registry.list_ids(), vec![1, 3]);
    }

    #[tokio::test]
    async fn a_change_re_signs_only_its_own_list() {
        let keys = ring(1);
        let registry = StatusRegistry::new();
        for id in 1..=3 {
            registry.add_list(id, 1024);
        }
        let token = async |id: u32, now: i64, uri: &str| {
            registry
                .signed(&keys, id, uri, at(now), 300)
                .await
                .unwrap()
                .map(|s| s.token)
        };
        let mut first: Vec<String> = Vec::new();
        for id in 1..=3 {
            first.push(token(id, 1_000, URI).await.unwrap());
        }
        // Nothing changed, less than ttl/2 later: the same tokens.
        for id in 1..=3 {
            assert_eq!(token(id, 1_010, URI).await.unwrap(), first[id as usize - 1]);
        }
        registry.apply(place(2, 100), Status::Revoked);
        assert_eq!(token(1, 1_020, URI).await.unwrap(), first[0]);
        assert_eq!(token(3, 1_020, URI).await.unwrap(), first[2]);
        let changed = token(2, 1_020, URI).await.unwrap();
        assert_ne!(changed, first[1]);
        let verified = verify(&changed, &keys.published(), at(1_020)).unwrap();
        assert_eq!(verified.claims().iat, 1_020);
        assert_eq!(verified.status(100), Lookup::Known(Status::Revoked));
        // Applying a state an entry already has changes nothing.
        registry.apply(place(2, 100), Status::Revoked);
        assert_eq!(token(2, 1_030, URI).await.unwrap(), changed);
        // Half the TTL later every list is signed again, with a new iat.
        let later = token(1, 1_150, URI).await.unwrap();
        assert_ne!(later, first[0]);
        assert_eq!(
            verify(&later, &keys.published(), at(1_150))
                .unwrap()
                .claims()
                .iat,
            1_150
        );
        // Another URI, TTL or signing key is another token.
        assert_ne!(
            token(1, 1_151, "https://other.example/1").await.unwrap(),
            later
        );
        let rotated = ring(2);
        let resigned = registry
            .signed(&rotated, 1, URI, at(1_152), 300)
            .await
            .unwrap()
            .map(|s| s.token)
            .unwrap();
        assert!(verify(&resigned, &rotated.published(), at(1_152)).is_ok());
        assert!(
            registry
                .signed(&keys, 9, URI, at(1_000), 300)
                .await
                .unwrap()
                .map(|s| s.token)
                .is_none()
        );
    }

    #[tokio::test]
    async fn a_list_snapshot_round_trips_through_the_token_codec() {
        let keys = ring(1);
        let registry = StatusRegistry::new();
        registry.add_list(1, 4096);
        // A fixed pseudo-random spread of states.
        let mut x: u32 = 0x9E37_79B9;
        let mut expected = vec![Status::Valid; 4096];
        for _ in 0..300 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let idx = x % 4096;
            let status = Status::from_u8((x >> 20) as u8 % 3);
            registry.apply(place(1, idx), status);
            expected[idx as usize] = status;
        }
        let token = registry
            .signed(&keys, 1, URI, at(5_000), 300)
            .await
            .unwrap()
            .map(|s| s.token)
            .unwrap();
        let verified = verify(&token, &keys.published(), at(5_001)).unwrap();
        let claims = verified.claims();
        assert_eq!(claims.sub, URI);
        assert_eq!((claims.iat, claims.exp, claims.ttl), (5_000, 5_300, 300));
        assert_eq!(claims.status_list.bits, 2);
        assert_eq!(verified.len(), 4096);
        for (idx, status) in expected.iter().enumerate() {
            assert_eq!(verified.status(idx), Lookup::Known(*status), "{idx}");
        }
        let snapshot = registry.list(1).unwrap();
        let decoded = decode_lst(2, &claims.status_list.lst, 1 << 20).unwrap();
        assert_eq!(decoded, snapshot);
        assert!(
            verify(&token, &keys.published(), at(5_300))
                .unwrap()
                .expired()
        );
    }

    #[test]
    fn the_follower_waits_for_a_gap_in_the_log_then_gives_up_on_it() {
        let start = Instant::now();
        let mut follow = Follow::new(10);
        follow.seen.extend([11, 12, 14, 15]);
        follow.advance(start);
        assert_eq!(follow.floor, 12);
        assert_eq!(follow.seen.iter().copied().collect::<Vec<_>>(), [14, 15]);
        follow.advance(start + GAP_WAIT / 2);
        assert_eq!(follow.floor, 12, "13 may still commit");
        follow.seen.insert(13);
        follow.advance(start + GAP_WAIT / 2);
        assert_eq!(follow.floor, 15);
        assert!(follow.seen.is_empty() && follow.gap_since.is_none());

        // Change 16 never commits (rolled back).
        follow.seen.extend([17, 18]);
        follow.advance(start);
        assert_eq!(follow.floor, 15);
        follow.advance(start + GAP_WAIT);
        assert_eq!(follow.floor, 18);
        assert!(follow.seen.is_empty());
    }
}
