//! The face verification behind a binding (人脸核身 2.0). [`start`] opens a session with the
//! platform for the login's openid and a name and number that match the government data, and
//! keeps it (name and number sealed); the mini-program then has the resident's face checked.
//! [`bind`] binds the login when the platform says that session passed: once, for the login
//! that started it, for the same name and number, before it expires.
//!
//! Every refusal of a session is the same `FACE_VERIFICATION_FAILED`, whatever the reason (a
//! verify_id of another login must not reveal that it exists); the reason goes to the log.

use chrono::{DateTime, Duration, Utc};
use entity::{account, face_verification as session, person};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    TransactionTrait,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::Context;
use crate::domain::IdNumber;
use crate::error::{Refusal, Result};
use crate::identity::binding::{self, Assurance};
use crate::identity::sessions::ResidentPrincipal;
use crate::identity::wechat::MiniApp;
use crate::identity::wechat::face::{Cert, FaceResult, MAX_VERIFY_ID_CHARS, VERIFY_PASSED};
use crate::keys::privacy::Kind;
use crate::keys::secrets::random_bytes;

/// Outcomes of a used session.
pub const PASSED: &str = "passed";
/// The platform answered a verify_ret other than 10000.
pub const NOT_PASSED: &str = "not_passed";
/// The platform answered an error code for the session.
pub const REFUSED: &str = "refused";

/// A session opened for the mini-program's `wx.requestFacialVerify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub verify_id: String,
    pub expires_in: u64,
}

/// Opens a face-verification session for this login and the name and number given, once
/// they match the government data and the login is not bound to someone else.
pub async fn start(
    ctx: &Context,
    principal: &ResidentPrincipal,
    name: &str,
    id_number: &str,
) -> Result<Started> {
    let (name, id) = binding::parse_claim(name, id_number, ctx.clock.today())?;
    let household = binding::match_household(ctx, &name, &id).await?;
    let account = account::Entity::find_by_id(principal.account_id)
        .one(&ctx.db)
        .await?
        .ok_or(Refusal::Unauthenticated)?;
    let blind = ctx.vault.blind_index(Kind::IdNumber, id.as_str());
    if let Some(person_id) = account.person_id {
        let bound = person::Entity::find_by_id(person_id).one(&ctx.db).await?;
        if bound.is_some_and(|p| p.id_number_blind != blind) {
            return Err(Refusal::IdentityAlreadyBound.into());
        }
    }
    let app = MiniApp::parse(&account.app)
        .ok_or_else(|| anyhow::anyhow!("account {} has an unknown app", account.id))?;
    // Unique per appid, 5 to 32 characters of the platform's alphabet: 32 hex digits.
    let out_seq_no = hex::encode(random_bytes::<16>()?);
    let cert = Cert {
        name: &household,
        id_number: id.as_str(),
    };
    let started = ctx
        .wechat
        .get_verify_id(app, &out_seq_no, cert, &account.openid)
        .await?;
    let now = ctx.clock.now();
    let lifetime = i64::try_from(started.expires_in).unwrap_or(i64::MAX);
    session::ActiveModel {
        id: Set(Uuid::new_v4()),
        account_id: Set(account.id),
        app: Set(account.app.clone()),
        openid: Set(account.openid.clone()),
        out_seq_no: Set(out_seq_no),
        verify_id_hash: Set(verify_id_hash(&started.verify_id)),
        id_number_blind: Set(blind),
        id_number_enc: Set(ctx.vault.seal_str(Kind::IdNumber, id.as_str())?),
        name_enc: Set(ctx.vault.seal_str(Kind::Name, &household)?),
        expires_at: Set(now + Duration::seconds(lifetime)),
        used_at: Set(None),
        outcome: Set(None),
        verify_ret: Set(None),
        created_at: Set(now),
    }
    .insert(&ctx.db)
    .await?;
    tracing::info!(account_id = %account.id, app = app.as_str(), "face verification started");
    Ok(Started {
        verify_id: started.verify_id,
        expires_in: started.expires_in,
    })
}

/// Binds the login to `id` when the session `verify_id` passed: asks the platform with what
/// opened the session, and marks the session used in the binding's transaction.
pub(crate) async fn bind(
    ctx: &Context,
    principal: &ResidentPrincipal,
    name: &str,
    id: &IdNumber,
    verify_id: &str,
) -> Result<Uuid> {
    let refuse = |reason: &'static str| {
        tracing::info!(account_id = %principal.account_id, reason, "face verification refused");
        Refusal::FaceVerificationFailed
    };
    if verify_id.is_empty() || verify_id.chars().count() > MAX_VERIFY_ID_CHARS {
        return Err(refuse("malformed verify_id").into());
    }
    let row = session::Entity::find()
        .filter(session::Column::VerifyIdHash.eq(verify_id_hash(verify_id)))
        .one(&ctx.db)
        .await?
        .filter(|row| row.account_id == principal.account_id)
        .ok_or_else(|| refuse("unknown, or another login's"))?;
    if row.used_at.is_some() {
        return Err(refuse("used before").into());
    }
    if row.expires_at <= ctx.clock.now() {
        return Err(refuse("expired").into());
    }
    if row.id_number_blind != ctx.vault.blind_index(Kind::IdNumber, id.as_str()) {
        return Err(refuse("started for another ID number").into());
    }
    let started_name = ctx.vault.open_string(Kind::Name, &row.name_enc)?;
    if started_name != name {
        return Err(refuse("started for another name").into());
    }
    let household = binding::match_household(ctx, name, id).await?;
    let app = MiniApp::parse(&row.app)
        .ok_or_else(|| anyhow::anyhow!("face verification {} has an unknown app", row.id))?;
    let started_id = ctx.vault.open_string(Kind::IdNumber, &row.id_number_enc)?;
    let cert = Cert {
        name: &started_name,
        id_number: &started_id,
    };
    let result = ctx
        .wechat
        .query_verify_info(app, verify_id, &row.out_seq_no, cert, &row.openid)
        .await?;
    match result {
        FaceResult::Passed => {}
        FaceResult::NotPassed(ret) => {
            finish(&ctx.db, row.id, NOT_PASSED, Some(ret), ctx.clock.now()).await?;
            return Err(refuse("did not pass").into());
        }
        FaceResult::Refused(_) => {
            finish(&ctx.db, row.id, REFUSED, None, ctx.clock.now()).await?;
            return Err(refuse("refused by the platform").into());
        }
    }
    let txn = ctx.db.begin().await?;
    // Write first, and only if still unused: of two uses at once, one binds.
    if !finish(&txn, row.id, PASSED, Some(VERIFY_PASSED), ctx.clock.now()).await? {
        return Err(refuse("used meanwhile").into());
    }
    let person_id = binding::bind_verified(
        ctx,
        &txn,
        principal.account_id,
        id,
        &household,
        Assurance::WxFace,
    )
    .await?;
    txn.commit().await?;
    Ok(person_id)
}

/// Marks a session used with its outcome, if it was unused; answers whether it was.
async fn finish<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    outcome: &str,
    verify_ret: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let verify_ret = verify_ret.and_then(|r| i32::try_from(r).ok());
    let marked = session::Entity::update_many()
        .col_expr(session::Column::UsedAt, Expr::value(Some(now)))
        .col_expr(session::Column::Outcome, Expr::value(Some(outcome)))
        .col_expr(session::Column::VerifyRet, Expr::value(verify_ret))
        .filter(session::Column::Id.eq(id))
        .filter(session::Column::UsedAt.is_null())
        .exec(db)
        .await?
        .rows_affected;
    Ok(marked == 1)
}

/// Sessions are found by a digest of their verify_id: the id itself is the client's to hold.
fn verify_id_hash(verify_id: &str) -> String {
    hex::encode(Sha256::digest(verify_id.as_bytes()))
}
