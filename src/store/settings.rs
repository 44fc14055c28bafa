//! The sign-in experience settings row, as JSON.
use super::{query_one, Db, StoreError};

pub async fn get(db: &impl Db) -> Result<Option<String>, StoreError> {
    struct Row {
        settings: String,
    }
    crate::from_row!(Row { settings });
    Ok(query_one::<Row>(
        db,
        "SELECT settings FROM sign_in_experience WHERE id = 1",
        &[],
    )
    .await?
    .map(|r| r.settings))
}

pub async fn put(db: &impl Db, settings: &str, now: i64) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO sign_in_experience (id, settings, updated_at) VALUES (1, ?1, ?2) \
         ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at",
        &[settings.into(), now.into()],
    )
    .await
    .map(|_| ())
}
