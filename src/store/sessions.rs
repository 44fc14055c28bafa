//! The browser sessions of each user in D1: where each one lives in KV, so that a password
//! change or a suspension can end all of them. The session itself is in KV
//! (`crate::session`); an ended one is also recorded in `oidc_ended_sessions`, which a
//! lagging KV read cannot undo.
use super::users::{self, User};
use super::{decode_rows, query_as, Db, Query, Statement, StoreError};

/// A session about to be listed under its user.
pub struct NewSession<'a> {
    pub sid: &'a str,
    pub user_id: &'a str,
    pub kv_key: &'a str,
    pub created_ms: i64,
    pub expires_at: i64,
}

/// Records a new session of its user (a statement for the sign-in's transaction), only if
/// the user exists, is not suspended, and (when `valid_after` is given: the value seen when
/// the password was proven) has not changed its password or been suspended since. Changes
/// no row otherwise, and the transaction's writes that follow it check for its row.
pub fn record(s: &NewSession<'_>, valid_after: Option<i64>) -> Statement {
    Statement::new(
        "INSERT INTO user_sessions (id, user_id, kv_key, created_at, expires_at) SELECT ?1, ?2, ?3, ?4, ?5 \
         WHERE EXISTS (SELECT 1 FROM users WHERE id = ?2 AND is_suspended = 0 \
         AND (?6 IS NULL OR sessions_valid_after = ?6))",
        vec![
            s.sid.into(),
            s.user_id.into(),
            s.kv_key.into(),
            s.created_ms.into(),
            s.expires_at.into(),
            valid_after.into(),
        ],
    )
}

/// A session of a user that has not expired.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveSession {
    pub id: String,
    pub kv_key: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}
crate::from_row!(LiveSession {
    id,
    kv_key,
    created_at,
    expires_at
});

/// The user's sessions that have not expired, oldest first.
pub async fn live_of_user(
    db: &impl Db,
    user_id: &str,
    now: i64,
) -> Result<Vec<LiveSession>, StoreError> {
    query_as(
        db,
        "SELECT id, kv_key, created_at, expires_at FROM user_sessions WHERE user_id = ?1 AND expires_at > ?2 ORDER BY created_at, id",
        &[user_id.into(), now.into()],
    )
    .await
}

/// The statements that end the user's session `sid` and revoke every token family it issued.
pub fn end_one(user_id: &str, sid: &str, now: i64) -> Vec<Statement> {
    vec![
        Statement::new(
            "INSERT OR IGNORE INTO oidc_ended_sessions (session_id, ended_at) \
             SELECT id, ?3 FROM user_sessions WHERE user_id = ?1 AND id = ?2",
            vec![user_id.into(), sid.into(), now.into()],
        ),
        Statement::new(
            "DELETE FROM user_sessions WHERE user_id = ?1 AND id = ?2",
            vec![user_id.into(), sid.into()],
        ),
        Statement::new(
            "DELETE FROM oidc_token_families WHERE user_id = ?1 AND session_id = ?2",
            vec![user_id.into(), sid.into()],
        ),
    ]
}

/// The statements that end every session of the user but `keep` and revoke every token
/// family of the user (its refresh and opaque access tokens). They go in one transaction
/// with the change that caused them (a new password, a suspension), which also moves the
/// user's `sessions_valid_after`.
pub fn end_all_of_user(user_id: &str, keep: Option<&str>, now: i64) -> Vec<Statement> {
    vec![
        Statement::new(
            "INSERT OR IGNORE INTO oidc_ended_sessions (session_id, ended_at) \
             SELECT id, ?3 FROM user_sessions WHERE user_id = ?1 AND (?2 IS NULL OR id <> ?2)",
            vec![user_id.into(), keep.into(), now.into()],
        ),
        Statement::new(
            "DELETE FROM user_sessions WHERE user_id = ?1 AND (?2 IS NULL OR id <> ?2)",
            vec![user_id.into(), keep.into()],
        ),
        Statement::new(
            "DELETE FROM oidc_token_families WHERE user_id = ?1",
            vec![user_id.into()],
        ),
    ]
}

/// Records a session as ended (a statement, for the transaction that ends it).
pub fn end_session(session_id: &str, now: i64) -> Statement {
    Statement::new(
        "INSERT OR IGNORE INTO oidc_ended_sessions (session_id, ended_at) VALUES (?1, ?2)",
        vec![session_id.into(), now.into()],
    )
}

/// Forgets one session (at its sign-out, which records it as ended).
pub fn forget(sid: &str) -> Statement {
    Statement::new("DELETE FROM user_sessions WHERE id = ?1", vec![sid.into()])
}

/// What decides whether a session from KV still counts, read in one round trip: whether it
/// was ended, and its user (if the user still exists).
pub struct Check {
    pub ended: bool,
    pub user: Option<User>,
}

pub async fn check(db: &impl Db, sid: &str, user_id: &str) -> Result<Check, StoreError> {
    struct N {
        n: i64,
    }
    crate::from_row!(N { n });
    let (user_sql, _) = users::by_subquery("?1");
    let mut results = db
        .query_many(&[
            Query {
                sql: "SELECT COUNT(*) AS n FROM oidc_ended_sessions WHERE session_id = ?1",
                params: vec![sid.into()],
            },
            Query {
                sql: &user_sql,
                params: vec![user_id.into()],
            },
        ])
        .await?
        .into_iter();
    let (Some(ended), Some(user)) = (results.next(), results.next()) else {
        return Err(StoreError::Backend("a read of the batch is missing".into()));
    };
    let ended = decode_rows::<N>(ended)?.first().is_some_and(|r| r.n > 0);
    let (user, _) = users::from_subquery_rows(user, Vec::new())?;
    Ok(Check { ended, user })
}
