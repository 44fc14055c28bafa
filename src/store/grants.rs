//! Grants: what a user consented to give an app (OIDC scopes and resource scopes), kept
//! until they expire or are revoked.
use super::from_json;
use super::oidc::Granted;
use super::{query_as, query_one, Db, StoreError, Value};
use serde::Serialize;

fn to_json(v: &impl Serialize) -> Result<Value, StoreError> {
    serde_json::to_string(v)
        .map(Value::Text)
        .map_err(|e| StoreError::Decode(e.to_string()))
}

#[derive(Debug, Clone)]
pub struct GrantRow {
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    pub scopes: String,
    pub resources: String,
    pub created_at: i64,
    pub expires_at: i64,
}
crate::from_row!(GrantRow {
    id,
    user_id,
    client_id,
    scopes,
    resources,
    created_at,
    expires_at
});

impl GrantRow {
    pub fn granted(&self) -> Result<Granted, StoreError> {
        Ok(Granted {
            scopes: from_json(&self.scopes)?,
            resources: from_json(&self.resources)?,
        })
    }
}

const GRANT: &str =
    "SELECT id, user_id, client_id, scopes, resources, created_at, expires_at FROM oidc_grants";

pub async fn grant(
    db: &impl Db,
    user_id: &str,
    client_id: &str,
    now: i64,
) -> Result<Option<GrantRow>, StoreError> {
    query_one(
        db,
        &format!("{GRANT} WHERE user_id = ?1 AND client_id = ?2 AND expires_at > ?3"),
        &[user_id.into(), client_id.into(), now.into()],
    )
    .await
}

pub async fn grants_of_user(
    db: &impl Db,
    user_id: &str,
    now: i64,
) -> Result<Vec<GrantRow>, StoreError> {
    query_as(
        db,
        &format!("{GRANT} WHERE user_id = ?1 AND expires_at > ?2 ORDER BY created_at"),
        &[user_id.into(), now.into()],
    )
    .await
}

/// Records what the user granted the client, replacing an earlier grant; returns its id.
pub async fn upsert_grant(
    db: &impl Db,
    id: &str,
    user_id: &str,
    client_id: &str,
    granted: &Granted,
    now: i64,
    ttl: i64,
) -> Result<String, StoreError> {
    struct Id {
        id: String,
    }
    crate::from_row!(Id { id });
    let rows: Vec<Id> = query_as(
        db,
        "INSERT INTO oidc_grants (id, user_id, client_id, scopes, resources, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, \
         resources = excluded.resources, expires_at = excluded.expires_at RETURNING id",
        &[id.into(), user_id.into(), client_id.into(), to_json(&granted.scopes)?, to_json(&granted.resources)?, now.into(), (now + ttl).into()],
    )
    .await?;
    rows.into_iter()
        .next()
        .map(|r| r.id)
        .ok_or_else(|| StoreError::Backend("grant upsert returned nothing".into()))
}

pub async fn delete_grant(db: &impl Db, user_id: &str, grant_id: &str) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            "DELETE FROM oidc_grants WHERE user_id = ?1 AND id = ?2",
            &[user_id.into(), grant_id.into()],
        )
        .await?
        > 0)
}
