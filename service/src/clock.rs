//! The one clock every date rule reads: when a permit may be endorsed, expires, is reminded
//! about, when a code, a grant or a stored row has lapsed.
//!
//! Reading the time in one place, reached through the [`crate::Context`], lets a test move the
//! clock to the reminder day or past an expiry instead of rewriting database rows, and lets
//! clippy forbid `Utc::now()` everywhere else (`clippy.toml`). In production the offset stays
//! zero and [`Clock::now`] is the system time.
//!
//! What another party checks against its own clock keeps the system time,
//! [`system_now`]: the expiry of our JWT access tokens (jsonwebtoken validates `exp` against
//! the system time, so a moved clock neither logs anyone out nor keeps a token alive) and the
//! timestamps of WeChat's signed messages. Everything stored in the database (sessions,
//! refresh tokens, codes, grants) follows the [`Clock`].
#![allow(clippy::disallowed_methods)]

use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

/// The system time plus an offset that tests may move.
#[derive(Debug, Default)]
pub struct Clock {
    /// Microseconds added to the system time.
    offset_micros: AtomicI64,
}

impl Clock {
    /// The system clock, not moved.
    pub fn system() -> Clock {
        Clock::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::microseconds(self.offset_micros.load(Ordering::Relaxed))
    }

    /// The calendar date in China (Asia/Shanghai), which every date rule uses.
    pub fn today(&self) -> NaiveDate {
        crate::config::day_in_china(self.now())
    }

    /// Moves the clock by `by` (backwards when negative).
    pub fn advance(&self, by: Duration) {
        let micros = by.num_microseconds().unwrap_or(i64::MAX);
        let _ = self
            .offset_micros
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |offset| {
                Some(offset.saturating_add(micros))
            });
    }

    /// Moves the clock so that [`Clock::now`] reads `at` now and runs on from there.
    pub fn set(&self, at: DateTime<Utc>) {
        let micros = (at - Utc::now()).num_microseconds().unwrap_or(i64::MAX);
        self.offset_micros.store(micros, Ordering::Relaxed);
    }
}

/// The system time, never moved: only for what other parties check against their own
/// clocks (see the module documentation). Date rules read [`Clock::now`].
pub fn system_now() -> DateTime<Utc> {
    Utc::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unmoved_clock_reads_the_system_time() {
        let clock = Clock::system();
        let gap = clock.now() - Utc::now();
        assert!(gap.num_seconds().abs() < 2, "{gap}");
    }

    #[test]
    fn advancing_moves_now_and_today_forward() {
        let clock = Clock::system();
        let today = clock.today();
        clock.advance(Duration::days(30));
        assert_eq!(clock.today(), today + Duration::days(30));
        let ahead = clock.now() - Utc::now();
        assert!(
            (ahead - Duration::days(30)).num_seconds().abs() < 2,
            "{ahead}"
        );
        clock.advance(Duration::days(-31));
        assert_eq!(clock.today(), today - Duration::days(1));
    }

    #[test]
    fn setting_the_clock_reads_that_instant_and_runs_on() {
        let clock = Clock::system();
        let at = DateTime::parse_from_rfc3339("2031-02-28T16:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        clock.set(at);
        let gap = clock.now() - at;
        // The offset is kept in whole microseconds: `now` may read up to one before `at`.
        assert!(
            gap > -Duration::microseconds(2) && gap < Duration::seconds(2),
            "{gap}"
        );
        // 16:30 UTC is half past midnight the next day in China.
        assert_eq!(clock.today(), NaiveDate::from_ymd_opt(2031, 3, 1).unwrap());
    }
}
