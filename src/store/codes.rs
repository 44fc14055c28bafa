//! One-time verification codes in D1: hashed, counted exactly with conditional UPDATEs.
use super::{query_as, query_one, Db, StoreError, Value};

#[derive(Debug, Clone)]
pub struct CodeRow {
    pub id: String,
    pub interaction_id: String,
    pub identifier_type: String,
    pub identifier: String,
    pub usage: String,
    pub code_hash: String,
    pub attempts: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub verified_at: Option<i64>,
}
crate::from_row!(CodeRow {
    id,
    interaction_id,
    identifier_type,
    identifier,
    usage,
    code_hash,
    attempts,
    created_at,
    expires_at,
    verified_at
});

const COLUMNS: &str = "id, interaction_id, identifier_type, identifier, usage, code_hash, attempts, created_at, expires_at, verified_at";

pub async fn insert(db: &impl Db, c: &CodeRow) -> Result<(), StoreError> {
    db.execute(
        &format!("INSERT INTO verification_codes ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, NULL)"),
        &[
            c.id.as_str().into(), c.interaction_id.as_str().into(), c.identifier_type.as_str().into(), c.identifier.as_str().into(),
            c.usage.as_str().into(), c.code_hash.as_str().into(), c.created_at.into(), c.expires_at.into(),
        ],
    )
    .await
    .map(|_| ())
}

/// The newest code sent to `identifier` within this interaction.
pub async fn latest(
    db: &impl Db,
    interaction_id: &str,
    identifier: &str,
) -> Result<Option<CodeRow>, StoreError> {
    query_one(
        db,
        &format!("SELECT {COLUMNS} FROM verification_codes WHERE interaction_id = ?1 AND identifier = ?2 ORDER BY created_at DESC LIMIT 1"),
        &[interaction_id.into(), identifier.into()],
    )
    .await
}

pub async fn get(db: &impl Db, id: &str) -> Result<Option<CodeRow>, StoreError> {
    query_one(
        db,
        &format!("SELECT {COLUMNS} FROM verification_codes WHERE id = ?1"),
        &[id.into()],
    )
    .await
}

/// Takes one attempt: returns the row as it was before, if the code is still open (not
/// verified, not expired, fewer than `max` attempts). The count is exact under concurrency.
pub async fn take_attempt(
    db: &impl Db,
    id: &str,
    now: i64,
    max: i64,
) -> Result<Option<CodeRow>, StoreError> {
    let rows: Vec<CodeRow> = query_as(
        db,
        &format!(
            "UPDATE verification_codes SET attempts = attempts + 1 \
             WHERE id = ?1 AND verified_at IS NULL AND expires_at > ?2 AND attempts < ?3 RETURNING {COLUMNS}"
        ),
        &[id.into(), now.into(), Value::from(max)],
    )
    .await?;
    Ok(rows.into_iter().next())
}

/// Marks the code verified; false if another request did first (single use).
pub async fn mark_verified(db: &impl Db, id: &str, now: i64) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            "UPDATE verification_codes SET verified_at = ?2 WHERE id = ?1 AND verified_at IS NULL",
            &[id.into(), now.into()],
        )
        .await?
        > 0)
}
