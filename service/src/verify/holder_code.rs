//! The holder's current code: signed fresh on each request from the current permit's facts,
//! read in one query that does not touch the photo.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{FromQueryResult, Statement};
use serde::Serialize;
use uuid::Uuid;

use crate::Context;
use crate::error::{Missing, Refusal, Result};
use crate::keys::privacy::Kind;
use crate::permit::permits::{PermitDocument, WITH_CURRENT_VERSION};
use crate::verify::codes::{self, CodeSubject};
use crate::verify::status_list::Place;

/// The holder's current code.
#[derive(Debug, Clone, Serialize)]
pub struct CodeView {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub permit_no: String,
}

/// Signs a fresh code for the holder's permit. A code is issued whatever the status: the
/// verifier, not the phone, says whether the permit is in force.
pub async fn current_code(ctx: &Context, person_id: Uuid) -> Result<CodeView> {
    let facts = code_facts(ctx, person_id).await?;
    let document: PermitDocument =
        serde_json::from_slice(&ctx.vault.open(Kind::Permit, &facts.payload_enc)?)
            .map_err(anyhow::Error::from)?;
    let place = Place {
        list_id: u32::try_from(facts.list_id).map_err(anyhow::Error::from)?,
        idx: u32::try_from(facts.idx).map_err(anyhow::Error::from)?,
    };
    let subject = CodeSubject {
        permit_no: &facts.permit_no,
        name: &document.name,
        valid_until: facts.valid_until,
        endorsement_due: facts.endorsement_due,
        place,
    };
    let (token, expires_at) = codes::issue(
        &ctx.keys,
        &subject,
        ctx.settings.code_ttl_secs,
        ctx.clock.now(),
    )
    .await?;
    Ok(CodeView {
        token,
        expires_at,
        permit_no: facts.permit_no,
    })
}

#[derive(FromQueryResult)]
struct CodeFactsRow {
    permit_no: String,
    valid_until: NaiveDate,
    endorsement_due: NaiveDate,
    /// The current version's sealed document, for the name the code shows masked.
    payload_enc: Vec<u8>,
    list_id: i32,
    idx: i32,
}

/// What the person's current permit (as [`crate::permit::permits::current`] chooses it) puts in a
/// code, in one query that does not read the photo: a phone refreshes its code every two
/// minutes.
async fn code_facts(ctx: &Context, person_id: Uuid) -> Result<CodeFactsRow> {
    let sql = format!(
        "SELECT p.permit_no AS permit_no, v.valid_until AS valid_until, \
                v.endorsement_due AS endorsement_due, v.payload_enc AS payload_enc, \
                s.list_id AS list_id, s.idx AS idx \
         FROM {WITH_CURRENT_VERSION} JOIN status_places s ON s.permit_id = p.id \
         WHERE p.person_id = $1 ORDER BY p.created_at DESC LIMIT 1"
    );
    Ok(
        CodeFactsRow::find_by_statement(Statement::from_sql_and_values(
            ctx.db.get_database_backend(),
            sql,
            [person_id.into()],
        ))
        .one(&ctx.db)
        .await?
        .ok_or(Refusal::NotFound(Missing::Permit))?,
    )
}
