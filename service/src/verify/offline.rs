//! What verifiers without a connection to us use: the signed Status List Tokens they fetch
//! (`GET /api/v1/status-lists/{id}`), and offline verification of a code with the published
//! keys and those lists, by the same rules as online.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::verification::{UNDETERMINED, VerifyReason, list_entry};
use crate::Context;
use crate::config::day_in_china;
use crate::domain::permit_rules::{self, ListEntry, PermitStatus};
use crate::error::Result;
use crate::keys::signing::PublishedKey;
use crate::verify::codes::{self, CodeClaims};
use crate::verify::status_list::{self, Lookup, Place};

// ---------------------------------------------------------------------------
// Status lists
// ---------------------------------------------------------------------------

/// A Status List Token as served, and how many seconds a cache may keep it.
pub struct ServedList {
    pub token: String,
    pub max_age_secs: i64,
}

/// The signed Status List Token of one list (`GET /api/v1/status-lists/{list_id}`), from the
/// entries in memory; `None` for a list that does not exist; refused when the signer fails.
pub async fn status_list_token(ctx: &Context, list_id: u32) -> Result<Option<ServedList>> {
    let now = ctx.clock.now();
    let ttl = u64::from(ctx.settings.agencies.status_list_ttl_secs);
    let Some(signed) = ctx
        .status_lists
        .signed(
            &ctx.keys,
            list_id,
            &status_list::list_uri(list_id),
            now,
            ttl,
        )
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(ServedList {
        token: signed.token,
        max_age_secs: (signed.exp - now.timestamp()).max(0),
    }))
}

// ---------------------------------------------------------------------------
// Offline verification
// ---------------------------------------------------------------------------

/// What an offline verifier can say. `valid` is `None` when the code is genuine but the
/// permit's status is not known (no list for its place, a stale one, or one that does not
/// verify): "undetermined", never "revoked". `reason` is a [`VerifyReason::code`].
#[derive(Debug, Clone, Serialize)]
pub struct OfflineVerdict {
    pub valid: Option<bool>,
    pub genuine: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<CodeClaims>,
}

/// The entry for `place` in the first of `lists` (Status List Tokens as served) that is
/// genuine, current and the list the place names; `None` when none is.
fn offline_entry(
    published: &[PublishedKey],
    lists: &[String],
    place: Place,
    now: DateTime<Utc>,
) -> Option<ListEntry> {
    let uri = status_list::list_uri(place.list_id);
    lists.iter().find_map(|token| {
        let list = status_list::verify(token, published, now).ok()?;
        if list.claims().sub != uri {
            return None;
        }
        match list.status(place.idx as usize) {
            Lookup::Known(status) => list_entry(status),
            Lookup::Undetermined(_) => None,
        }
    })
}

/// Offline verification: the code with the published keys, then the permit's status by the
/// rules from the code's dates and the entry of its list. Without a usable list only expiry
/// can be seen; anything else is undetermined.
pub fn verify_offline(
    published: &[PublishedKey],
    token: &str,
    lists: &[String],
    now: DateTime<Utc>,
) -> OfflineVerdict {
    let claims = match codes::verify_offline(published, token, now) {
        Ok(claims) => claims,
        Err(e) => {
            return OfflineVerdict {
                valid: Some(false),
                genuine: false,
                reason: Some(VerifyReason::Code(e).code()),
                status: "unknown",
                claims: None,
            };
        }
    };
    let today = day_in_china(now);
    let status = match offline_entry(published, lists, claims.status_list, now) {
        Some(entry) => Some(permit_rules::status_from_entry(
            entry,
            claims.valid_until,
            claims.endorsement_due,
            today,
        )),
        // Expiry needs no list: the code carries the last valid day.
        None => {
            permit_rules::is_expired(claims.valid_until, today).then_some(PermitStatus::Expired)
        }
    };
    let (valid, reason, status) = match status {
        Some(status) => (
            Some(status == PermitStatus::Valid),
            VerifyReason::of_status(status),
            status.as_str(),
        ),
        None => (None, Some(VerifyReason::StatusUndetermined), UNDETERMINED),
    };
    OfflineVerdict {
        valid,
        genuine: true,
        reason: reason.map(VerifyReason::code),
        status,
        claims: Some(claims),
    }
}
