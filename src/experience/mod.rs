//! The sign-in service the hosted pages (and, later, the Experience API) drive. For now:
//! identifier + password.
use crate::crypto::password;
use crate::error::InternalError;
use crate::store::throttle::{self, Policy};
use crate::store::users::{self, User};
use crate::store::{query_one, Db};

/// Why a sign-in failed. Wrong identifier and wrong password are one error, so the page
/// never tells which part was wrong.
#[derive(Debug, PartialEq)]
pub enum SignInError {
    InvalidCredentials,
    /// Too many failures for this identifier or address; retry after this time (seconds).
    Locked {
        until: i64,
    },
}

/// Logto's default: 100 failures within an hour lock for 60 minutes.
pub const IDENTIFIER_POLICY: Policy = Policy {
    limit: 100,
    window: 3600,
    lock: 3600,
};
/// One address may try more identifiers, but not without bound.
pub const IP_POLICY: Policy = Policy {
    limit: 1000,
    window: 3600,
    lock: 3600,
};

fn identifier_key(identifier: &str) -> String {
    format!("id:{}", identifier.trim().to_lowercase())
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

/// Verifies an identifier (username or email) and password from client address `ip`;
/// records the sign-in time. Failures count per identifier and per address; a locked key
/// is refused before any password is checked.
pub async fn sign_in_with_password(
    db: &impl Db,
    identifier: &str,
    secret: &str,
    ip: Option<&str>,
    now_ms: i64,
) -> Result<Result<User, SignInError>, InternalError> {
    let now = now_ms.div_euclid(1000);
    let id_key = identifier_key(identifier);
    let ip_key = ip.map(|ip| format!("ip:{ip}"));
    let keys: Vec<String> = std::iter::once(id_key.clone())
        .chain(ip_key.clone())
        .collect();
    if let Some(until) = throttle::locked_until(db, &keys, now).await? {
        return Ok(Err(SignInError::Locked { until }));
    }
    let user = if identifier.len() > 256 || secret.len() > 1024 {
        None
    } else {
        find_by_identifier(db, identifier).await?
    };
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash.as_deref())
        .unwrap_or(DUMMY_HASH);
    let matches = password::verify(secret, hash);
    match user {
        Some(mut u) if matches && u.password_hash.is_some() && !u.is_suspended => {
            throttle::clear(db, &id_key).await?;
            u.last_sign_in_at = Some(now_ms);
            users::update(db, &u).await?;
            Ok(Ok(u))
        }
        _ => {
            throttle::record_failure(db, &id_key, IDENTIFIER_POLICY, now).await?;
            if let Some(k) = &ip_key {
                throttle::record_failure(db, k, IP_POLICY, now).await?;
            }
            Ok(Err(SignInError::InvalidCredentials))
        }
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
