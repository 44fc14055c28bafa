//! The Account API's rows: verification records and the account center settings.
use super::{query_one, Db, StoreError};

/// A verification record: the user's recent proof of who they are.
pub struct Record {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub identifier: Option<String>,
    pub verified: bool,
    pub expires_at: i64,
}
crate::from_row!(Record {
    id,
    user_id,
    kind,
    identifier,
    verified,
    expires_at
});

pub async fn insert(db: &impl Db, r: &Record) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO verification_records (id, user_id, kind, identifier, verified, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[
            r.id.as_str().into(),
            r.user_id.as_str().into(),
            r.kind.as_str().into(),
            r.identifier.clone().into(),
            r.verified.into(),
            r.expires_at.into(),
        ],
    )
    .await
    .map(|_| ())
}

/// The record `id` of user `user_id`, if it has not expired.
pub async fn get(
    db: &impl Db,
    id: &str,
    user_id: &str,
    now: i64,
) -> Result<Option<Record>, StoreError> {
    query_one(
        db,
        "SELECT id, user_id, kind, identifier, verified, expires_at FROM verification_records \
         WHERE id = ?1 AND user_id = ?2 AND expires_at > ?3",
        &[id.into(), user_id.into(), now.into()],
    )
    .await
}

/// Record `id` verified, with what it proved as its `identifier`; false if it was already.
pub async fn settle(db: &impl Db, id: &str, identifier: &str) -> Result<bool, StoreError> {
    db.execute(
        "UPDATE verification_records SET verified = 1, identifier = ?2 WHERE id = ?1 AND verified = 0",
        &[id.into(), identifier.into()],
    )
    .await
    .map(|n| n > 0)
}

pub async fn mark_verified(db: &impl Db, id: &str) -> Result<(), StoreError> {
    db.execute(
        "UPDATE verification_records SET verified = 1 WHERE id = ?1",
        &[id.into()],
    )
    .await
    .map(|_| ())
}

/// The account center settings, as JSON.
pub async fn center(db: &impl Db) -> Result<Option<String>, StoreError> {
    struct Row {
        settings: String,
    }
    crate::from_row!(Row { settings });
    Ok(
        query_one::<Row>(db, "SELECT settings FROM account_center WHERE id = 1", &[])
            .await?
            .map(|r| r.settings),
    )
}

pub async fn put_center(db: &impl Db, settings: &str, now: i64) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO account_center (id, settings, updated_at) VALUES (1, ?1, ?2) \
         ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
        &[settings.into(), now.into()],
    )
    .await
    .map(|_| ())
}
