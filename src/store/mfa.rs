//! Each user's MFA factors in D1: an authenticator app's sealed secret with the last time
//! step it accepted, and backup codes by keyed hash. Single use is a conditional UPDATE.
use super::{query_as, query_one, Db, Statement, StoreError, Value};

/// A bound factor, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct FactorRow {
    pub id: String,
    pub kind: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Backup codes not used yet (0 for other types).
    pub remain_codes: i64,
    /// Passkeys: the name the user gave and the browser that made it.
    pub name: Option<String>,
    pub agent: Option<String>,
}
crate::from_row!(FactorRow { id, kind = "type", created_at, last_used_at, remain_codes, name, agent });

/// Every factor of the user, passkeys included.
pub async fn factors_of(db: &impl Db, user_id: &str) -> Result<Vec<FactorRow>, StoreError> {
    query_as(
        db,
        "SELECT m.id, m.type, m.created_at, m.last_used_at, \
         (SELECT COUNT(*) FROM backup_codes b WHERE b.mfa_id = m.id AND b.used_at IS NULL) AS remain_codes, \
         NULL AS name, NULL AS agent FROM user_mfa m WHERE m.user_id = ?1 \
         UNION ALL SELECT w.id, 'WebAuthn', w.created_at, w.last_used_at, 0, w.name, w.agent \
         FROM webauthn_credentials w WHERE w.user_id = ?1 ORDER BY 3, 1",
        &[user_id.into()],
    )
    .await
}

/// When each of the user's backup codes was used (`None`: not yet), oldest code first.
pub async fn backup_codes_of(db: &impl Db, user_id: &str) -> Result<Vec<Option<i64>>, StoreError> {
    let rows = db
        .query(
            "SELECT b.used_at FROM backup_codes b JOIN user_mfa m ON m.id = b.mfa_id \
             WHERE m.user_id = ?1 ORDER BY b.rowid",
            &[user_id.into()],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(super::column(r, "used_at")?);
    }
    Ok(out)
}

/// The user's authenticator app: its id, sealed secret and last accepted step.
#[derive(Debug, Clone)]
pub struct TotpRow {
    pub id: String,
    pub secret: String,
    pub last_used_step: Option<i64>,
}
crate::from_row!(TotpRow {
    id,
    secret,
    last_used_step
});

pub async fn totp_of(db: &impl Db, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
    query_one(
        db,
        "SELECT id, secret, last_used_step FROM user_mfa WHERE user_id = ?1 AND type = 'Totp'",
        &[user_id.into()],
    )
    .await
}

/// Records that a code for `step` was accepted; false if that step (or a later one) was
/// already used, by this request's rival too.
pub async fn use_totp_step(
    db: &impl Db,
    id: &str,
    step: i64,
    now_ms: i64,
) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            "UPDATE user_mfa SET last_used_step = ?2, last_used_at = ?3 \
             WHERE id = ?1 AND (last_used_step IS NULL OR last_used_step < ?2)",
            &[id.into(), step.into(), now_ms.into()],
        )
        .await?
        > 0)
}

/// Uses one backup code of the user; false if no unused code has that hash.
pub async fn use_backup_code(
    db: &impl Db,
    user_id: &str,
    code_hash: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let n = db
        .execute(
            "UPDATE backup_codes SET used_at = ?3 WHERE code_hash = ?2 AND used_at IS NULL \
             AND mfa_id = (SELECT id FROM user_mfa WHERE user_id = ?1 AND type = 'BackupCode')",
            &[user_id.into(), code_hash.into(), now_ms.into()],
        )
        .await?;
    if n > 0 {
        db.execute(
            "UPDATE user_mfa SET last_used_at = ?2 WHERE user_id = ?1 AND type = 'BackupCode'",
            &[user_id.into(), now_ms.into()],
        )
        .await?;
    }
    Ok(n > 0)
}

/// Binds an authenticator app: a statement for the submit's transaction that writes only if
/// session `sid` was listed earlier in it. The unique index refuses a second app.
pub fn bind_totp(
    id: &str,
    user_id: &str,
    sealed_secret: &str,
    (last_used_step, now_ms): (Option<i64>, i64),
    sid: &str,
) -> Statement {
    Statement::new(
        "INSERT INTO user_mfa (id, user_id, type, secret, last_used_step, created_at) \
         SELECT ?1, ?2, 'Totp', ?3, ?6, ?4 WHERE EXISTS (SELECT 1 FROM user_sessions WHERE id = ?5)",
        vec![
            id.into(),
            user_id.into(),
            sealed_secret.into(),
            now_ms.into(),
            sid.into(),
            last_used_step.into(),
        ],
    )
}

/// Replaces the user's backup codes with new ones (their hashes), only with session `sid`.
pub fn bind_backup_codes(
    id: &str,
    user_id: &str,
    hashes: &[String],
    now_ms: i64,
    sid: &str,
) -> Vec<Statement> {
    let mut out = vec![
        Statement::new(
            "DELETE FROM user_mfa WHERE user_id = ?1 AND type = 'BackupCode' \
             AND EXISTS (SELECT 1 FROM user_sessions WHERE id = ?2)",
            vec![user_id.into(), sid.into()],
        ),
        Statement::new(
            "INSERT INTO user_mfa (id, user_id, type, created_at) SELECT ?1, ?2, 'BackupCode', ?3 \
             WHERE EXISTS (SELECT 1 FROM user_sessions WHERE id = ?4)",
            vec![id.into(), user_id.into(), now_ms.into(), sid.into()],
        ),
    ];
    for h in hashes {
        out.push(Statement::new(
            "INSERT INTO backup_codes (mfa_id, code_hash) SELECT ?1, ?2 \
             WHERE EXISTS (SELECT 1 FROM user_mfa WHERE id = ?1)",
            vec![id.into(), h.as_str().into()],
        ));
    }
    out
}

/// Management API: an authenticator app, inserted at once.
pub fn insert_totp(id: &str, user_id: &str, sealed_secret: &str, now_ms: i64) -> Statement {
    Statement::new(
        "INSERT INTO user_mfa (id, user_id, type, secret, created_at) VALUES (?1, ?2, 'Totp', ?3, ?4)",
        vec![id.into(), user_id.into(), sealed_secret.into(), now_ms.into()],
    )
}

/// Management API: new backup codes replacing the old, at once.
pub fn insert_backup_codes(
    id: &str,
    user_id: &str,
    hashes: &[String],
    now_ms: i64,
) -> Vec<Statement> {
    let mut out = vec![
        Statement::new(
            "DELETE FROM user_mfa WHERE user_id = ?1 AND type = 'BackupCode'",
            vec![user_id.into()],
        ),
        Statement::new(
            "INSERT INTO user_mfa (id, user_id, type, created_at) VALUES (?1, ?2, 'BackupCode', ?3)",
            vec![id.into(), user_id.into(), now_ms.into()],
        ),
    ];
    for h in hashes {
        out.push(Statement::new(
            "INSERT INTO backup_codes (mfa_id, code_hash) VALUES (?1, ?2)",
            vec![id.into(), h.as_str().into()],
        ));
    }
    out
}

/// Deletes factor `id` of the user (a passkey too); false if there is none.
pub async fn delete(db: &impl Db, user_id: &str, id: &str) -> Result<bool, StoreError> {
    let params = vec![user_id.into(), id.into()];
    let n = db
        .batch(&[
            Statement::new(
                "DELETE FROM user_mfa WHERE user_id = ?1 AND id = ?2",
                params.clone(),
            ),
            Statement::new(
                "DELETE FROM webauthn_credentials WHERE user_id = ?1 AND id = ?2",
                params,
            ),
        ])
        .await?;
    Ok(n.iter().sum::<u64>() > 0)
}

/// The user's `logto_config` JSON text, if the user exists.
pub async fn config_of(db: &impl Db, user_id: &str) -> Result<Option<String>, StoreError> {
    struct Row {
        logto_config: String,
    }
    crate::from_row!(Row { logto_config });
    Ok(query_one::<Row>(
        db,
        "SELECT logto_config FROM users WHERE id = ?1",
        &[user_id.into()],
    )
    .await?
    .map(|r| r.logto_config))
}

/// Sets the user's `logto_config` in the submit's transaction, only with session `sid`.
pub fn set_config(user_id: &str, config: &str, sid: &str) -> Statement {
    Statement::new(
        "UPDATE users SET logto_config = ?2 WHERE id = ?1 \
         AND EXISTS (SELECT 1 FROM user_sessions WHERE id = ?3)",
        vec![user_id.into(), Value::from(config), sid.into()],
    )
}

/// Management API: sets the user's `logto_config`; false if the user does not exist.
pub async fn put_config(db: &impl Db, user_id: &str, config: &str) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            "UPDATE users SET logto_config = ?2 WHERE id = ?1",
            &[user_id.into(), config.into()],
        )
        .await?
        > 0)
}
