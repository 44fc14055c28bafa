//! Social identities: which user a provider's subject is (the index behind sign-in), kept
//! beside the users' `identities` JSON (Logto's shape, which the claims and the Management
//! API show). Both change in one statement list, so they never disagree.
use super::users::{self, User};
use super::{Db, Statement, StoreError};

/// The user the provider `target` knows as `external_id`.
pub async fn user_of(
    db: &impl Db,
    target: &str,
    external_id: &str,
) -> Result<Option<User>, StoreError> {
    let id: Option<IdRow> = super::query_one(
        db,
        "SELECT user_id FROM user_identities WHERE target = ?1 AND external_id = ?2",
        &[target.into(), external_id.into()],
    )
    .await?;
    match id {
        Some(r) => users::get(db, &r.user_id).await,
        None => Ok(None),
    }
}

struct IdRow {
    user_id: String,
}
crate::from_row!(IdRow { user_id });

/// Links `target`'s `external_id` to the user (replacing the identity it had there), with
/// Logto's `{userId, details}` in the user's `identities`; only with session `sid` when one is given (the submit's transaction). An
/// identity another user has fails on the primary key.
pub fn link(
    user_id: &str,
    (target, external_id): (&str, &str),
    details: &serde_json::Value,
    now_ms: i64,
    sid: Option<&str>,
) -> Vec<Statement> {
    let entry = crate::json::text(&crate::jv!({"userId": external_id, "details": details}));
    let sid = sid.map(str::to_owned);
    let mut out = vec![
        // One identity per provider and user: a new one replaces the old.
        Statement::new(
            "DELETE FROM user_identities WHERE user_id = ?1 AND target = ?2 \
             AND (?3 IS NULL OR EXISTS (SELECT 1 FROM user_sessions WHERE id = ?3))",
            vec![user_id.into(), target.into(), sid.clone().into()],
        ),
        Statement::new(
            "INSERT INTO user_identities (target, external_id, user_id, created_at) \
             SELECT ?1, ?2, ?3, ?4 WHERE ?5 IS NULL OR EXISTS (SELECT 1 FROM user_sessions WHERE id = ?5)",
            vec![
                target.into(),
                external_id.into(),
                user_id.into(),
                now_ms.into(),
                sid.clone().into(),
            ],
        ),
    ];
    // Enterprise SSO identities (`sso:<issuer>`) are kept in the index only: the users'
    // `identities` (and its claim) are the social ones, as in Logto.
    if !target.starts_with("sso:") {
        out.push(Statement::new(
            "UPDATE users SET identities = json_set(identities, '$.\"' || ?2 || '\"', json(?3)), \
                 updated_at = ?4 WHERE id = ?1 \
                 AND (?5 IS NULL OR EXISTS (SELECT 1 FROM user_sessions WHERE id = ?5))",
            vec![
                user_id.into(),
                target.into(),
                entry.into(),
                now_ms.into(),
                sid.into(),
            ],
        ));
    }
    out
}

/// A new user with its first identity, in one transaction.
pub async fn insert_user_with(
    db: &impl Db,
    user: &User,
    (target, external_id): (&str, &str),
    now_ms: i64,
) -> Result<(), StoreError> {
    let mut statements = vec![users::insert_statement(user)?];
    statements.extend(link(
        &user.id,
        (target, external_id),
        &crate::jv!({}),
        now_ms,
        None,
    ));
    super::transaction(db, &statements).await.map(|_| ())
}

/// Sets the user's identity at `target` (replacing the one it had there), as the Management
/// API's `PUT /users/{id}/identities/{target}` does. False when the user does not exist; an
/// identity another user has fails on the primary key.
pub async fn put(
    db: &impl Db,
    user_id: &str,
    (target, external_id): (&str, &str),
    details: &serde_json::Value,
    now_ms: i64,
) -> Result<bool, StoreError> {
    if users::get(db, user_id).await?.is_none() {
        return Ok(false);
    }
    let mut statements = vec![Statement::new(
        "DELETE FROM user_identities WHERE user_id = ?1 AND target = ?2",
        vec![user_id.into(), target.into()],
    )];
    statements.extend(link(user_id, (target, external_id), details, now_ms, None));
    super::transaction(db, &statements).await.map(|_| true)
}

/// Removes the user's identity at `target`. False when it had none there.
pub async fn remove(
    db: &impl Db,
    user_id: &str,
    target: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let statements = [
        Statement::new(
            "UPDATE users SET identities = json_remove(identities, '$.\"' || ?2 || '\"'), \
             updated_at = ?3 WHERE id = ?1 \
             AND EXISTS (SELECT 1 FROM user_identities WHERE user_id = ?1 AND target = ?2)",
            vec![user_id.into(), target.into(), now_ms.into()],
        ),
        Statement::new(
            "DELETE FROM user_identities WHERE user_id = ?1 AND target = ?2",
            vec![user_id.into(), target.into()],
        ),
    ];
    let changed = super::transaction(db, &statements).await?;
    Ok(changed.first().is_some_and(|n| *n > 0))
}
