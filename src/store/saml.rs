//! SAML assertions consumed once (`saml_assertions`).
//!
//! Invariant: an assertion id is accepted by [`consume_assertion`] at most once while it
//! could still pass the time check; the row is the proof, written before the sign-in uses
//! the assertion.
use super::{Db, StoreError};

/// Records assertion `id` (the issuer's entity id and the assertion's id, so one IdP cannot
/// use up another's ids) as used until `expires_at` (Unix seconds). False when it was used
/// before.
pub async fn consume_assertion(
    db: &impl Db,
    id: &str,
    expires_at: i64,
) -> Result<bool, StoreError> {
    let n = db
        .execute(
            "INSERT OR IGNORE INTO saml_assertions (id, expires_at) VALUES (?1, ?2)",
            &[id.into(), expires_at.into()],
        )
        .await?;
    Ok(n == 1)
}
