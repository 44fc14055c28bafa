//! The scheduled sweep: deletes expired flow state, and what has outlived its retention.
use super::{Db, Statement, StoreError, Value};

/// How long the scheduled sweep keeps what has no expiry of its own, in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub ended_sessions: i64,
    pub audit_log: i64,
    pub dev_mailbox: i64,
}

/// Deletes expired rows, and rows older than their retention; run by the scheduled trigger.
pub async fn sweep(db: &impl Db, now: i64, keep: Retention) -> Result<u64, StoreError> {
    let before_ms = |secs: i64| Value::from((now - secs) * 1000);
    let counts = db
        .batch(&[
            Statement::new(
                "DELETE FROM oidc_interactions WHERE expires_at <= ?1",
                vec![now.into()],
            ),
            Statement::new(
                "DELETE FROM oidc_codes WHERE expires_at <= ?1 - 86400",
                vec![now.into()],
            ),
            Statement::new(
                "DELETE FROM saml_assertions WHERE expires_at <= ?1 - 600",
                vec![now.into()],
            ),
            Statement::new(
                "DELETE FROM oidc_token_families WHERE expires_at <= ?1",
                vec![now.into()],
            ),
            Statement::new(
                "DELETE FROM oidc_access_tokens WHERE expires_at <= ?1",
                vec![now.into()],
            ),
            Statement::new(
                "DELETE FROM oidc_refresh_tokens WHERE expires_at <= ?1",
                vec![now.into()],
            ),
            Statement::new(
                "DELETE FROM oidc_grants WHERE expires_at <= ?1",
                vec![now.into()],
            ),
            Statement::new(
                "DELETE FROM verification_codes WHERE expires_at <= ?1 - 86400",
                vec![now.into()],
            ),
            Statement::new(
                "DELETE FROM sign_in_failures WHERE (locked_until IS NULL OR locked_until <= ?1) AND window_start <= ?1 - 86400",
                vec![now.into()],
            ),
            Statement::new(
                "DELETE FROM oidc_ended_sessions WHERE ended_at <= ?1",
                vec![(now - keep.ended_sessions).into()],
            ),
            Statement::new(
                "DELETE FROM user_sessions WHERE expires_at <= ?1",
                vec![now.into()],
            ),
            Statement::new(
                "DELETE FROM webauthn_challenges WHERE expires_at <= ?1",
                vec![now.into()],
            ),
            Statement::new(
                "DELETE FROM verification_records WHERE expires_at <= ?1",
                vec![now.into()],
            ),
            Statement::new(
                "DELETE FROM logs WHERE created_at <= ?1",
                vec![before_ms(keep.audit_log)],
            ),
            Statement::new(
                "DELETE FROM dev_mailbox WHERE created_at <= ?1",
                vec![before_ms(keep.dev_mailbox)],
            ),
        ])
        .await?;
    Ok(counts.iter().sum())
}
