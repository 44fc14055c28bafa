//! The sign-in service the hosted pages (and, later, the Experience API) drive. For now:
//! identifier + password.
use crate::crypto::password;
use crate::error::InternalError;
use crate::store::users::{self, User};
use crate::store::{query_one, Db};

/// Why a sign-in failed. One message for all, so the page never tells which part was wrong.
#[derive(Debug, PartialEq)]
pub enum SignInError {
    InvalidCredentials,
}

/// An Argon2id hash of a random password, verified when the user does not exist so that
/// both cases cost the same.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$pWFFM9bgsOdzhDIznuje7g$UwdKOIcFnoIqhJe08lnEHD8W/PYDy3c3yUJ7eWTCmMQ";

async fn find_by_identifier(db: &impl Db, identifier: &str) -> Result<Option<User>, InternalError> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
    }
    let identifier = identifier.trim();
    let row: Option<Id> = if identifier.contains('@') {
        query_one(
            db,
            "SELECT id FROM users WHERE primary_email = ?1",
            &[identifier.to_lowercase().into()],
        )
        .await?
    } else {
        query_one(
            db,
            "SELECT id FROM users WHERE username = ?1",
            &[identifier.into()],
        )
        .await?
    };
    match row {
        Some(r) => Ok(users::get(db, &r.id).await?),
        None => Ok(None),
    }
}

/// Verifies an identifier (username or email) and password; records the sign-in time.
pub async fn sign_in_with_password(
    db: &impl Db,
    identifier: &str,
    secret: &str,
    now_ms: i64,
) -> Result<Result<User, SignInError>, InternalError> {
    if identifier.len() > 256 || secret.len() > 1024 {
        return Ok(Err(SignInError::InvalidCredentials));
    }
    let user = find_by_identifier(db, identifier).await?;
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash.as_deref())
        .unwrap_or(DUMMY_HASH);
    let matches = password::verify(secret, hash);
    match user {
        Some(mut u) if matches && u.password_hash.is_some() && !u.is_suspended => {
            u.last_sign_in_at = Some(now_ms);
            users::update(db, &u).await?;
            Ok(Ok(u))
        }
        _ => Ok(Err(SignInError::InvalidCredentials)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        use argon2::password_hash::PasswordHash;
        let parsed = PasswordHash::new(super::DUMMY_HASH).expect("a PHC string");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let real = crate::crypto::password::hash("x").unwrap();
        let real = PasswordHash::new(&real).unwrap();
        assert_eq!(parsed.params, real.params);
        assert!(!crate::crypto::password::verify("", super::DUMMY_HASH));
    }
}
