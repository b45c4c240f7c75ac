//! The configurable numbers of the regulation and of abuse protection: the permit's periods,
//! agencies' access, lock-outs and rate limits.

use anyhow::bail;

use super::vars::Vars;

/// The regulation's values, configurable.
#[derive(Debug, Clone)]
pub struct PermitRules {
    /// Validity of a permit, in years (Guangdong: at most three).
    pub validity_years: u32,
    /// How many days before each anniversary the yearly endorsement (签注) may be made.
    pub endorsement_window_days: u32,
    /// How many days before expiry the permit may be renewed.
    pub renewal_window_days: u32,
    /// Months of residence required before applying.
    pub residence_months: u32,
    /// Fee of a replacement physical card in fen (the first card is free).
    pub card_fee_cents: i64,
    /// Days a residence proof stays valid after it is made.
    pub residence_proof_days: u32,
    /// Days from the end of a residence registration to register a new address before the
    /// permit is suspended.
    pub reregister_days: u32,
    /// Licence-type code and issuer code in the GB/T 36904 identifier.
    pub licence_type_code: String,
    pub issuer_credit_code: String,
}

impl PermitRules {
    pub(super) fn from_vars(vars: &Vars) -> PermitRules {
        PermitRules {
            validity_years: vars.permit_validity_years,
            endorsement_window_days: vars.endorsement_window_days,
            renewal_window_days: vars.renewal_window_days,
            residence_months: vars.residence_months,
            card_fee_cents: i64::from(vars.card_fee_cents),
            residence_proof_days: vars.residence_proof_days,
            reregister_days: vars.reregister_days,
            licence_type_code: vars.licence_type_code.clone(),
            issuer_credit_code: vars.issuer_credit_code.clone(),
        }
    }

    /// The lengths the date rules read.
    pub fn periods(&self) -> crate::domain::permit_rules::Periods {
        crate::domain::permit_rules::Periods {
            validity_years: self.validity_years,
            endorsement_window_days: self.endorsement_window_days,
            renewal_window_days: self.renewal_window_days,
        }
    }
}

/// Requests per minute and source address on the costly routes without a credential
/// (0: no limit), and the header a load balancer puts the client's address in.
#[derive(Debug, Clone)]
pub struct RateLimitSettings {
    pub login_per_minute: u32,
    pub oauth_per_minute: u32,
    pub bot_per_minute: u32,
    pub identity_per_minute: u32,
    pub client_ip_header: Option<String>,
}

impl RateLimitSettings {
    pub(super) fn from_vars(vars: &Vars) -> RateLimitSettings {
        RateLimitSettings {
            login_per_minute: vars.rate_limit_login_per_minute,
            oauth_per_minute: vars.rate_limit_oauth_per_minute,
            bot_per_minute: vars.rate_limit_bot_per_minute,
            identity_per_minute: vars.rate_limit_identity_per_minute,
            client_ip_header: vars.client_ip_header.clone(),
        }
    }
}

/// Limits on agencies' access to permits.
#[derive(Debug, Clone)]
pub struct AgencyRules {
    /// Longest grant an agency may ask for, in days.
    pub max_grant_days: u32,
    /// Downloads of the annotated copy one grant allows.
    pub max_downloads: u32,
    /// How long a request waits for the holder's decision, in hours.
    pub request_ttl_hours: u32,
    /// How long verifiers may cache the signed status list, in seconds (also the `ttl` of
    /// each Status List Token, whose `exp` is `iat` plus this).
    pub status_list_ttl_secs: u32,
    /// How often each instance reads the status changes the others made, in milliseconds;
    /// 0 turns the follower off (tests that drive it themselves).
    pub status_sync_ms: u64,
    /// Entries of each status list opened from now on (lists keep the size they opened with).
    pub status_list_size: u32,
    /// Wrong client secrets in a row before the client is locked out.
    pub lockout_attempts: u32,
    pub lockout_secs: u32,
}

impl AgencyRules {
    pub(super) fn from_vars(vars: &Vars) -> anyhow::Result<AgencyRules> {
        let status_list_size = vars.status_list_size;
        if !(8..=1 << 26).contains(&status_list_size) || !status_list_size.is_multiple_of(8) {
            bail!("YUEJU_STATUS_LIST_SIZE must be a multiple of 8 from 8 to 67108864");
        }
        Ok(AgencyRules {
            max_grant_days: vars.grant_max_days,
            max_downloads: vars.grant_max_downloads,
            request_ttl_hours: vars.request_ttl_hours,
            status_list_ttl_secs: vars.status_list_ttl_secs,
            status_sync_ms: vars.status_sync_ms,
            status_list_size,
            lockout_attempts: vars.agency_lockout_attempts,
            lockout_secs: vars.agency_lockout_secs,
        })
    }
}

/// Wrong staff passwords before a lock-out, per username and per source address, and how
/// long it lasts (also how long a run of failures is remembered without a new one).
#[derive(Debug, Clone)]
pub struct StaffLockout {
    pub attempts: u32,
    pub source_attempts: u32,
    pub secs: u32,
}

impl StaffLockout {
    pub(super) fn from_vars(vars: &Vars) -> StaffLockout {
        StaffLockout {
            attempts: vars.staff_lockout_attempts,
            source_attempts: vars.staff_source_lockout_attempts,
            secs: vars.staff_lockout_secs,
        }
    }
}
