//! The signing-key service: the current key exists from the first request on, rotation keeps
//! the previous key published, and concurrent first requests create exactly one key.
use crate::crypto::keys::{self, ActiveKey, Jwk, KeySealer};
use crate::error::InternalError;
use crate::store::keys::{self as repo, KeyRow};
use crate::store::{Db, StoreError};

fn decode(row: &KeyRow) -> Result<Jwk, InternalError> {
    crate::json::parse(&row.public_jwk)
        .map_err(|e| StoreError::Decode(format!("signing key {}: {e}", row.id)).into())
}

async fn create_in_slot(
    db: &impl Db,
    sealer: &KeySealer,
    generation: i64,
    now_ms: i64,
) -> Result<(), InternalError> {
    let k = keys::generate(sealer)?;
    let jwk = serde_json::to_string(&k.public).map_err(|e| StoreError::Decode(e.to_string()))?;
    // Losing the race for the slot is fine: the winner's key is used.
    repo::insert_if_free(db, generation, &k.kid, &k.sealed_private, &jwk, now_ms).await?;
    Ok(())
}

/// The published keys, newest (current) first; creates the first key when there is none.
pub async fn published(
    db: &impl Db,
    sealer: &KeySealer,
    now_ms: i64,
) -> Result<Vec<KeyRow>, InternalError> {
    let rows = repo::published(db).await?;
    if !rows.is_empty() {
        return Ok(rows);
    }
    create_in_slot(db, sealer, 1, now_ms).await?;
    let rows = repo::published(db).await?;
    if rows.is_empty() {
        return Err(StoreError::Backend("the first signing key was not stored".into()).into());
    }
    Ok(rows)
}

/// The JWK set of the published keys.
pub fn jwks(rows: &[KeyRow]) -> Result<Vec<Jwk>, InternalError> {
    rows.iter().map(decode).collect()
}

/// The current private key, opened.
pub async fn current(
    db: &impl Db,
    sealer: &KeySealer,
    now_ms: i64,
) -> Result<ActiveKey, InternalError> {
    let rows = published(db, sealer, now_ms).await?;
    let row = rows
        .first()
        .ok_or_else(|| StoreError::Backend("no signing key".into()))?;
    Ok(keys::open(sealer, &row.id, &row.private_key)?)
}

/// Makes a new current key; the old current key stays published as the previous one, and
/// older keys are deleted. Returns the published keys, newest first.
pub async fn rotate(
    db: &impl Db,
    sealer: &KeySealer,
    now_ms: i64,
) -> Result<Vec<KeyRow>, InternalError> {
    let newest = published(db, sealer, now_ms)
        .await?
        .first()
        .map_or(0, |r| r.generation);
    create_in_slot(db, sealer, newest + 1, now_ms).await?;
    repo::prune(db, newest + 1).await?;
    Ok(repo::published(db).await?)
}
