//! The signing-key service: the current key exists from the first request on, rotation keeps
//! the previous key published, and concurrent first requests create exactly one key.
//!
//! Warm requests take the keys from the isolate's [`Cache`](crate::cache::Cache): opened
//! once, they sign without a D1 round trip. A token whose `kid` the cached set lacks (signed
//! by a key rotated in after the cache was filled) makes the set load again.
use crate::cache::Keys;
use crate::crypto::b64url;
use crate::crypto::jwt::{self, JwtError, Verified};
use crate::crypto::keys::{self, Jwk, KeySealer};
use crate::ctx::Ctx;
use crate::error::InternalError;
use crate::store::keys::{self as repo, KeyRow};
use crate::store::{Db, Kv, StoreError};
use sha2::{Digest, Sha256};
use std::rc::Rc;

fn decode(row: &KeyRow) -> Result<Jwk, InternalError> {
    crate::store::parse_object(&row.public_jwk)
        .map_err(|e| StoreError::Decode(format!("signing key {}: {e}", row.id)).into())
}

async fn create_in_slot<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    sealer: &KeySealer<'_>,
    generation: i64,
) -> Result<(), InternalError> {
    let k = keys::generate(sealer, ctx.crypto).await?;
    let jwk = serde_json::to_string(&k.public).map_err(|e| StoreError::Decode(e.to_string()))?;
    // Losing the race for the slot is fine: the winner's key is used.
    repo::insert_if_free(
        ctx.db,
        generation,
        &k.kid,
        &k.sealed_private,
        &jwk,
        ctx.now_ms,
    )
    .await?;
    Ok(())
}

/// The published keys, newest (current) first; creates the first key when there is none.
/// Read from a replica (keys change rarely) unless `primary`; the first key is made and
/// read on the primary.
pub async fn published<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    primary: bool,
) -> Result<Vec<KeyRow>, InternalError> {
    if !primary {
        let rows = repo::published(ctx.lag_tolerant()).await?;
        if !rows.is_empty() {
            return Ok(rows);
        }
    }
    let rows = repo::published(ctx.db).await?;
    if !rows.is_empty() {
        return Ok(rows);
    }
    create_in_slot(ctx, &ctx.sealer()?, 1).await?;
    let rows = repo::published(ctx.db).await?;
    if rows.is_empty() {
        return Err(StoreError::Backend("the first signing key was not stored".into()).into());
    }
    Ok(rows)
}

/// The keys: the current one opened, the public set, and the JWKS body with its `ETag`.
pub async fn keys<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> Result<Rc<Keys>, InternalError> {
    match ctx.cache.keys(ctx.now_ms) {
        Some(k) => Ok(k),
        None => load(ctx, false).await,
    }
}

/// Reads, opens and caches the keys.
async fn load<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, primary: bool) -> Result<Rc<Keys>, InternalError> {
    let rows = published(ctx, primary).await?;
    let public: Vec<Jwk> = rows.iter().map(decode).collect::<Result<_, _>>()?;
    let (Some(row), Some(current_public)) = (rows.first(), public.first()) else {
        return Err(StoreError::Backend("no signing key".into()).into());
    };
    let current = keys::open(
        &ctx.sealer()?,
        &row.id,
        &row.private_key,
        current_public.clone(),
    )
    .await?;
    let jwks_body = crate::json::text(&crate::jv!({ "keys": public }));
    let digest = Sha256::digest(jwks_body.as_bytes());
    let etag = format!("\"{}\"", b64url(digest.get(..12).unwrap_or_default()));
    let k = Rc::new(Keys {
        current,
        public,
        jwks_body,
        etag,
    });
    ctx.cache.put_keys(k.clone(), ctx.now_ms);
    Ok(k)
}

/// Verifies a token against the published keys (an expired one too, when `now` is
/// `i64::MIN`). A `kid` the cached set lacks loads the set again, at most every few seconds.
pub async fn verify<D: Db, K: Kv, T: crate::store::FromRow>(
    ctx: &Ctx<'_, D, K>,
    token: &str,
    now: i64,
) -> Result<Result<Verified<T>, JwtError>, InternalError> {
    let k = keys(ctx).await?;
    let verified = jwt::verify(ctx.crypto, token, &k.public, now).await;
    if matches!(verified, Err(JwtError::UnknownKey))
        && ctx.cache.may_reload_for_unknown_key(ctx.now_ms)
    {
        let k = load(ctx, true).await?;
        return Ok(jwt::verify(ctx.crypto, token, &k.public, now).await);
    }
    Ok(verified)
}

/// Makes a new current key; the old current key stays published as the previous one, and
/// older keys are deleted. Returns the published keys, newest first.
pub async fn rotate<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> Result<Vec<KeyRow>, InternalError> {
    let newest = repo::published(ctx.db)
        .await?
        .first()
        .map_or(0, |r| r.generation);
    create_in_slot(ctx, &ctx.sealer()?, newest + 1).await?;
    repo::prune(ctx.db, newest + 1).await?;
    ctx.cache.forget_keys(ctx.now_ms);
    Ok(repo::published(ctx.db).await?)
}
