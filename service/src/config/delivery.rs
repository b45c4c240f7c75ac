//! When things happen on their own: the reminder sweep and the delivery of the outbox, and
//! the daily retention run that deletes what is kept no longer.

use anyhow::Context as _;
use chrono::NaiveTime;

use super::vars::Vars;

/// When reminders are swept and how the outbox is delivered.
#[derive(Debug, Clone)]
pub struct ReminderRules {
    /// Sender of e-mails, e.g. `广东省电子居住证 <no-reply@example.gov.cn>`.
    pub mail_from: String,
    /// Local time (Asia/Shanghai) of the daily sweep.
    pub sweep_at: NaiveTime,
    /// Days before expiry at which a reminder goes out, largest first.
    pub expiry_days: Vec<u32>,
    /// Seconds between delivery runs of the background worker.
    pub delivery_interval_secs: u64,
    /// Attempts before a notice is marked failed.
    pub max_attempts: u32,
    /// First retry delay in seconds; doubled after each failure.
    pub backoff_secs: u64,
    /// How long a claimed notice stays locked; a worker that dies mid-send leaves it to be
    /// claimed again after this. One attempt is cut off at two thirds of it, so a lease never
    /// runs out under a worker that is still sending.
    pub lease_secs: u64,
    /// Run the daily sweep and the delivery worker inside the server.
    pub background: bool,
    /// How long the staff trigger delivers before it answers, seconds; what is left is
    /// reported as unfinished and goes with the background worker's next run.
    pub staff_run_budget_secs: u64,
}

impl ReminderRules {
    pub(super) fn from_vars(vars: &Vars) -> anyhow::Result<ReminderRules> {
        let at = &vars.reminder_at;
        Ok(ReminderRules {
            mail_from: vars.mail_from.clone(),
            sweep_at: NaiveTime::parse_from_str(at, "%H:%M").map_err(|_| {
                anyhow::anyhow!("YUEJU_REMINDER_AT must be a time like 09:00, got {at:?}")
            })?,
            expiry_days: parse_days_list(&vars.expiry_reminder_days)?,
            delivery_interval_secs: vars.delivery_interval_secs,
            max_attempts: vars.delivery_max_attempts,
            backoff_secs: vars.delivery_backoff_secs,
            lease_secs: vars.delivery_lease_secs.max(1),
            background: vars.background_jobs,
            staff_run_budget_secs: vars.staff_run_budget_secs,
        })
    }
}

/// `30,7,1` → `[30, 7, 1]`, largest first, without repeats.
fn parse_days_list(value: &str) -> anyhow::Result<Vec<u32>> {
    let mut days = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let d: u32 = part.parse().map_err(|_| {
            anyhow::anyhow!("YUEJU_EXPIRY_REMINDER_DAYS: {part:?} is not a number of days")
        })?;
        if d == 0 || d > 366 {
            anyhow::bail!("YUEJU_EXPIRY_REMINDER_DAYS: {d} is out of range 1..=366");
        }
        days.push(d);
    }
    days.sort_unstable_by(|a, b| b.cmp(a));
    days.dedup();
    Ok(days)
}

/// How long personal data is kept, and when the daily retention job runs.
#[derive(Debug, Clone)]
pub struct RetentionRules {
    /// Days after the decision on an application before its uploaded materials are deleted.
    pub materials_days: u32,
    /// Days an access-log entry is kept (the law asks for three years).
    pub access_log_days: u32,
    /// Time of day (Asia/Shanghai) of the daily run; `None` when the schedule is off.
    pub daily_at: Option<NaiveTime>,
}

impl RetentionRules {
    pub(super) fn from_vars(vars: &Vars) -> anyhow::Result<RetentionRules> {
        Ok(RetentionRules {
            materials_days: vars.materials_retention_days,
            access_log_days: vars.access_log_retention_days,
            daily_at: match vars.retention_at.as_str() {
                "off" => None,
                at => Some(
                    NaiveTime::parse_from_str(at, "%H:%M")
                        .context("YUEJU_RETENTION_AT must be `HH:MM` or `off`")?,
                ),
            },
        })
    }
}
