//! `Idempotency-Key` for requests that create something: the first answer is saved, sealed,
//! in the same transaction as what it created; a repeat with the same key and the same request
//! gets that answer again, a repeat with a different request is refused.

use entity::idempotency_key;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::Context;
use crate::error::{FieldProblem, Refusal, Result, invalid};
use crate::keys::privacy::Kind;
use crate::keys::signing::canonical_json;

pub const MAX_KEY_LEN: usize = 128;

pub struct Key {
    scope: String,
    key: String,
    request_hash: String,
}

impl Key {
    /// `scope` separates callers (e.g. `person:<id>:applications`); `request` is what was asked.
    pub fn new(scope: String, key: &str, request: &Value) -> Result<Key> {
        let key = key.trim();
        if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid("idempotency_key", FieldProblem::BadFormat));
        }
        let request_hash = hex::encode(Sha256::digest(canonical_json(request)));
        Ok(Key {
            scope,
            key: key.to_owned(),
            request_hash,
        })
    }
}

/// The saved answer for this key, if any; a different request under the same key is refused.
pub async fn replay<T: DeserializeOwned, C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    key: &Key,
) -> Result<Option<T>> {
    let Some(row) = idempotency_key::Entity::find_by_id((key.scope.clone(), key.key.clone()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if row.request_hash != key.request_hash {
        return Err(Refusal::IdempotencyKeyReused.into());
    }
    let bytes = ctx.vault.open(Kind::Response, &row.response_enc)?;
    Ok(Some(
        serde_json::from_slice(&bytes).map_err(anyhow::Error::from)?,
    ))
}

/// Saves the answer; call inside the transaction that created the thing.
pub async fn save<T: Serialize, C: ConnectionTrait>(
    ctx: &Context,
    db: &C,
    key: &Key,
    answer: &T,
) -> Result<()> {
    let bytes = serde_json::to_vec(answer).map_err(anyhow::Error::from)?;
    idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        scope: Set(key.scope.clone()),
        key: Set(key.key.clone()),
        request_hash: Set(key.request_hash.clone()),
        response_enc: Set(ctx.vault.seal(Kind::Response, &bytes)?),
        created_at: Set(ctx.clock.now()),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}
