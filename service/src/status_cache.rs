//! What one instance briefly remembers of permits' status, so that the two hot reads of
//! verification do not go to the database on every request: the facts an anonymous
//! `POST /verify` shows for a permit (masked name, dates, revoked or not), and the signed
//! status list that offline verifiers fetch.
//!
//! Only what an anonymous verifier is told anyway is kept (no ID number, no full name).
//! A change made through this instance (revocation, endorsement, renewal) calls [`forget`]
//! and is seen at once; a change made through another instance is seen once the entry is
//! older than `max_age` (`YUEJU_STATUS_CACHE_SECS`). The status today is always computed from
//! the remembered dates, so a permit that expires or falls due overnight is never shown as
//! valid from memory.
//!
//! [`forget`]: StatusCache::forget

use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::domain::permit_rules::{self, PermitStatus, StatusFacts};
use crate::error::Result;

/// What online verification shows of a permit, without its sealed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermitFacts {
    pub permit_no: String,
    pub masked_name: String,
    pub revoked: bool,
    pub valid_until: NaiveDate,
    pub endorsement_due: NaiveDate,
}

impl PermitFacts {
    pub fn status(&self, today: NaiveDate) -> PermitStatus {
        permit_rules::status(
            &StatusFacts {
                revoked: self.revoked,
                valid_until: self.valid_until,
                endorsement_due: self.endorsement_due,
            },
            today,
        )
    }
}

/// The signed status list as served, and when verifiers are to fetch a new one.
#[derive(Debug, Clone)]
pub struct BuiltList {
    pub body: Bytes,
    pub next_update: DateTime<Utc>,
}

/// A built list and what decides whether it may still be served.
struct RememberedList {
    at: Instant,
    /// The change count when the build started.
    epoch: u64,
    list: BuiltList,
}

pub struct StatusCache {
    /// Facts and when they were read; a change through this instance removes the entry.
    facts: quick_cache::sync::Cache<String, (Instant, Arc<PermitFacts>)>,
    /// The signed status list as served; one build at a time, the others wait for it.
    list: tokio::sync::Mutex<Option<RememberedList>>,
    /// Counts changes made through this instance. A read that started before a change must
    /// not be remembered after it: it may have seen the old row.
    changes: AtomicU64,
    max_age: Duration,
}

impl StatusCache {
    /// `max_age` zero turns remembering off (every read goes to the database).
    pub fn new(capacity: usize, max_age: Duration) -> StatusCache {
        StatusCache {
            facts: quick_cache::sync::Cache::new(capacity.max(1)),
            list: tokio::sync::Mutex::new(None),
            changes: AtomicU64::new(0),
            max_age,
        }
    }

    /// Taken before reading the database; hand it back to [`StatusCache::remember`].
    pub fn epoch(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// The remembered facts of a permit, when still fresh.
    pub fn facts(&self, permit_no: &str) -> Option<Arc<PermitFacts>> {
        let (at, facts) = self.facts.get(permit_no)?;
        // Forgetting removes the entry itself, so a change elsewhere only ages it out.
        (at.elapsed() < self.max_age).then_some(facts)
    }

    /// Remembers facts read from the database, unless something changed since `epoch`.
    pub fn remember(&self, epoch: u64, facts: Arc<PermitFacts>) {
        if self.max_age.is_zero() || epoch != self.epoch() {
            return;
        }
        let permit_no = facts.permit_no.clone();
        self.facts
            .insert(permit_no.clone(), (Instant::now(), facts));
        // A change may have come between the check above and the insert: `forget` counts
        // before it removes, so either it removed this entry or the count shows it here.
        if epoch != self.epoch() {
            self.facts.remove(&permit_no);
        }
    }

    /// A permit's status changed through this instance: forget its facts and the list.
    pub fn forget(&self, permit_no: &str) {
        self.changes.fetch_add(1, Ordering::AcqRel);
        self.facts.remove(permit_no);
    }

    /// Forgets the permit when the guard goes: after the commit it is made for, whether the
    /// commit answered, failed, or the request was dropped while waiting for it.
    pub fn forget_when_done<'a>(&'a self, permit_no: &'a str) -> ForgetGuard<'a> {
        ForgetGuard {
            cache: self,
            permit_no,
        }
    }

    /// The signed status list: the remembered one while fresh (younger than `max_age`,
    /// nothing changed through this instance, and not past its own `next_update`), else a
    /// new one from `build`. Concurrent callers share one build, so a burst of offline
    /// verifiers costs one pass over the permits. The age counts from before the build, so
    /// what is served never reflects the database as of more than `max_age` ago.
    pub async fn list_or_build<F, Fut>(&self, build: F) -> Result<BuiltList>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<BuiltList>>,
    {
        let mut slot = self.list.lock().await;
        if let Some(entry) = slot.as_ref()
            && entry.at.elapsed() < self.max_age
            && entry.epoch == self.epoch()
            && entry.list.next_update > Utc::now()
        {
            return Ok(entry.list.clone());
        }
        let (at, epoch) = (Instant::now(), self.epoch());
        let list = build().await?;
        *slot = (!self.max_age.is_zero()).then(|| RememberedList {
            at,
            epoch,
            list: list.clone(),
        });
        Ok(list)
    }
}

pub struct ForgetGuard<'a> {
    cache: &'a StatusCache,
    permit_no: &'a str,
}

impl Drop for ForgetGuard<'_> {
    fn drop(&mut self) {
        self.cache.forget(self.permit_no);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(no: &str) -> Arc<PermitFacts> {
        let d = |m| NaiveDate::from_ymd_opt(2027, m, 1).unwrap();
        Arc::new(PermitFacts {
            permit_no: no.into(),
            masked_name: "陈*强".into(),
            revoked: false,
            valid_until: d(12),
            endorsement_due: d(6),
        })
    }

    #[test]
    fn remembered_facts_are_found_until_forgotten() {
        let cache = StatusCache::new(10, Duration::from_secs(60));
        cache.remember(cache.epoch(), facts("1"));
        assert_eq!(cache.facts("1"), Some(facts("1")));
        cache.forget("1");
        assert_eq!(cache.facts("1"), None);
    }

    #[test]
    fn a_read_that_started_before_a_change_is_not_remembered() {
        let cache = StatusCache::new(10, Duration::from_secs(60));
        let before = cache.epoch();
        cache.forget("1");
        cache.remember(before, facts("1"));
        assert_eq!(cache.facts("1"), None);
        cache.remember(cache.epoch(), facts("1"));
        assert!(cache.facts("1").is_some());
    }

    #[test]
    fn nothing_is_remembered_when_the_age_is_zero_or_past() {
        let off = StatusCache::new(10, Duration::ZERO);
        off.remember(off.epoch(), facts("1"));
        assert_eq!(off.facts("1"), None);
        let short = StatusCache::new(10, Duration::from_millis(20));
        short.remember(short.epoch(), facts("1"));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(short.facts("1"), None);
    }

    #[test]
    fn the_cache_holds_no_more_than_its_capacity() {
        let cache = StatusCache::new(100, Duration::from_secs(60));
        for i in 0..1000 {
            cache.remember(cache.epoch(), facts(&i.to_string()));
        }
        let kept = (0..1000)
            .filter(|i| cache.facts(&i.to_string()).is_some())
            .count();
        assert!(kept <= 110, "{kept} entries kept");
    }

    #[tokio::test]
    async fn the_list_is_built_once_while_fresh_and_again_after_a_change() {
        let cache = StatusCache::new(10, Duration::from_secs(60));
        let builds = AtomicU64::new(0);
        let next_update = Utc::now() + chrono::Duration::minutes(5);
        let build = || async {
            builds.fetch_add(1, Ordering::SeqCst);
            Ok(BuiltList {
                body: Bytes::from_static(b"list"),
                next_update,
            })
        };
        assert_eq!(cache.list_or_build(build).await.unwrap().body, "list");
        assert_eq!(cache.list_or_build(build).await.unwrap().body, "list");
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        cache.forget("1");
        cache.list_or_build(build).await.unwrap();
        assert_eq!(builds.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_list_past_its_next_update_is_built_again() {
        let cache = StatusCache::new(10, Duration::from_secs(600));
        let builds = AtomicU64::new(0);
        let build = || async {
            builds.fetch_add(1, Ordering::SeqCst);
            Ok(BuiltList {
                body: Bytes::from_static(b"list"),
                next_update: Utc::now() - chrono::Duration::seconds(1),
            })
        };
        cache.list_or_build(build).await.unwrap();
        cache.list_or_build(build).await.unwrap();
        assert_eq!(builds.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn the_guard_forgets_when_it_goes() {
        let cache = StatusCache::new(10, Duration::from_secs(60));
        cache.remember(cache.epoch(), facts("1"));
        {
            let _guard = cache.forget_when_done("1");
            assert!(cache.facts("1").is_some());
        }
        assert_eq!(cache.facts("1"), None);
    }
}
