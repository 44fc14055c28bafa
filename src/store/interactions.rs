//! In-flight authorization requests (interactions): the validated request, who signed in
//! within it, its consent answer and the Experience API's state. Each lives at most an hour.
use super::{query_one, Db, Statement, StoreError};

// ---- interactions

#[derive(Debug, Clone)]
pub struct InteractionRow {
    pub id: String,
    pub client_id: String,
    pub request: String,
    pub user_id: Option<String>,
    pub login_at: Option<i64>,
    pub consented: i64,
    /// The Experience API's state (JSON), once a step has saved it.
    pub experience: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}
crate::from_row!(InteractionRow {
    id,
    client_id,
    request,
    user_id,
    login_at,
    consented,
    experience,
    created_at,
    expires_at
});

pub async fn insert_interaction(
    db: &impl Db,
    id: &str,
    client_id: &str,
    request: &str,
    now: i64,
    ttl: i64,
) -> Result<InteractionRow, StoreError> {
    db.execute(
        "INSERT INTO oidc_interactions (id, client_id, request, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[id.into(), client_id.into(), request.into(), now.into(), (now + ttl).into()],
    )
    .await?;
    Ok(InteractionRow {
        id: id.to_owned(),
        client_id: client_id.to_owned(),
        request: request.to_owned(),
        user_id: None,
        login_at: None,
        consented: 0,
        experience: None,
        created_at: now,
        expires_at: now + ttl,
    })
}

pub async fn interaction(
    db: &impl Db,
    id: &str,
    now: i64,
) -> Result<Option<InteractionRow>, StoreError> {
    query_one(
        db,
        "SELECT id, client_id, request, user_id, login_at, consented, experience, created_at, expires_at \
         FROM oidc_interactions WHERE id = ?1 AND expires_at > ?2",
        &[id.into(), now.into()],
    )
    .await
}

/// Marks the interaction as signed in by `user_id`, if session `sid` was listed earlier in
/// the same transaction (a statement for the sign-in's transaction).
pub fn login_statement(id: &str, user_id: &str, now: i64, sid: &str) -> Statement {
    Statement::new(
        "UPDATE oidc_interactions SET user_id = ?2, login_at = ?3 WHERE id = ?1 \
         AND EXISTS (SELECT 1 FROM user_sessions WHERE id = ?4)",
        vec![id.into(), user_id.into(), now.into(), sid.into()],
    )
}

pub async fn set_interaction_consented(db: &impl Db, id: &str) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            "UPDATE oidc_interactions SET consented = 1 WHERE id = ?1",
            &[id.into()],
        )
        .await?
        > 0)
}

pub async fn delete_interaction(db: &impl Db, id: &str) -> Result<(), StoreError> {
    db.execute("DELETE FROM oidc_interactions WHERE id = ?1", &[id.into()])
        .await
        .map(|_| ())
}

/// Saves the Experience API's state of an interaction.
pub async fn set_interaction_experience(
    db: &impl Db,
    id: &str,
    experience: &str,
) -> Result<(), StoreError> {
    db.batch(&[experience_statement(id, experience)])
        .await
        .map(|_| ())
}

/// [`set_interaction_experience`] as a statement, for a transaction of the caller's.
pub fn experience_statement(id: &str, experience: &str) -> Statement {
    Statement::new(
        "UPDATE oidc_interactions SET experience = ?2 WHERE id = ?1",
        vec![id.into(), experience.into()],
    )
}
