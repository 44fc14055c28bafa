//! Signing keys in D1. Each key has a generation number, its unique slot: the first key is
//! generation 1, each rotation inserts `current + 1`. Concurrent creators race for the same
//! slot with `INSERT OR IGNORE`, and everyone re-reads, so exactly one key wins each slot.
use super::{query_as, Db, StoreError, Value};

#[derive(Debug, Clone)]
pub struct KeyRow {
    pub generation: i64,
    pub id: String,
    pub alg: String,
    pub private_key: String,
    pub public_jwk: String,
    pub created_at: i64,
}
crate::from_row!(KeyRow {
    generation,
    id,
    alg,
    private_key,
    public_jwk,
    created_at
});

/// The published keys, newest first: the current key and, after a rotation, the previous one.
pub async fn published(db: &impl Db) -> Result<Vec<KeyRow>, StoreError> {
    query_as(
        db,
        "SELECT generation, id, alg, private_key, public_jwk, created_at \
         FROM oidc_signing_keys ORDER BY generation DESC LIMIT 2",
        &[],
    )
    .await
}

/// Claims `generation` for a new key; false if another writer took the slot first.
pub async fn insert_if_free(
    db: &impl Db,
    generation: i64,
    id: &str,
    sealed_private: &str,
    public_jwk: &str,
    created_at: i64,
) -> Result<bool, StoreError> {
    let n = db
        .execute(
            "INSERT OR IGNORE INTO oidc_signing_keys \
             (generation, id, alg, private_key, public_jwk, created_at) VALUES (?1, ?2, 'ES256', ?3, ?4, ?5)",
            &[
                Value::from(generation),
                id.into(),
                sealed_private.into(),
                public_jwk.into(),
                created_at.into(),
            ],
        )
        .await?;
    Ok(n > 0)
}

/// Deletes keys older than the previous one.
pub async fn prune(db: &impl Db, newest_generation: i64) -> Result<u64, StoreError> {
    db.execute(
        "DELETE FROM oidc_signing_keys WHERE generation < ?1",
        &[Value::from(newest_generation - 1)],
    )
    .await
}
