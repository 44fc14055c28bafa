//! The sign-in experience: its settings, the password policy, the audit log, and the
//! sign-in service that the hosted pages and the Experience API drive.
pub mod audit;
pub mod messages;
pub mod password_policy;
pub mod service;
pub mod settings;
pub mod state;
use crate::crypto::password;
use crate::error::InternalError;
use crate::store::throttle::{self, Policy};
use crate::store::users::{self, User};
use crate::store::StoreError;
use crate::store::{query_one, Db};
use serde_json::json;
use settings::{Identifier, Settings};

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
pub const IDENTIFIER_POLICY: Policy = Policy::hourly(100);
/// One address may try more identifiers, but not without bound.
pub const IP_POLICY: Policy = Policy::hourly(1000);

fn identifier_key(identifier: &str) -> String {
    format!("id:{}", identifier.trim().to_lowercase())
}

/// An Argon2id hash of a random password, verified when the user does not exist so that
/// both cases cost the same.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$pWFFM9bgsOdzhDIznuje7g$UwdKOIcFnoIqhJe08lnEHD8W/PYDy3c3yUJ7eWTCmMQ";

/// The user with this identifier, by the kind the caller claims (never guessed from the
/// value, so that a disabled kind cannot be used under another's name).
async fn find_by_identifier(
    db: &impl Db,
    kind: Identifier,
    identifier: &str,
) -> Result<Option<User>, InternalError> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
    }
    let identifier = identifier.trim();
    let (sql, value) = match kind {
        Identifier::Email => (
            "SELECT id FROM users WHERE primary_email = ?1",
            identifier.to_lowercase(),
        ),
        Identifier::Phone => match crate::api::users::phone(identifier) {
            Ok(p) => ("SELECT id FROM users WHERE primary_phone = ?1", p),
            Err(_) => return Ok(None),
        },
        Identifier::Username => (
            "SELECT id FROM users WHERE username = ?1",
            identifier.to_owned(),
        ),
    };
    let row: Option<Id> = query_one(db, sql, &[value.into()]).await?;
    match row {
        Some(r) => Ok(users::get(db, &r.id).await?),
        None => Ok(None),
    }
}

/// The settings in force: the stored ones, or the defaults.
pub async fn load_settings(db: &impl Db) -> Result<Settings, InternalError> {
    match crate::store::settings::get(db).await? {
        Some(raw) => serde_json::from_str(&raw)
            .map_err(|e| StoreError::Decode(format!("sign-in experience: {e}")).into()),
        None => Ok(Settings::default()),
    }
}

/// Where a sign-in attempt comes from, for throttling and the audit log.
pub struct Origin<'a> {
    pub ip: Option<&'a str>,
    pub application_id: Option<&'a str>,
}

/// Verifies an identifier (username or email) and password; records the sign-in time.
/// Failures count per identifier and per client address; a locked key is refused before any
/// password is checked. Every outcome goes to the audit log.
pub async fn sign_in_with_password(
    db: &impl Db,
    kind: Identifier,
    identifier: &str,
    secret: &str,
    from: &Origin<'_>,
    now_ms: i64,
) -> Result<Result<User, SignInError>, InternalError> {
    let now = now_ms.div_euclid(1000);
    let id_key = identifier_key(identifier);
    let ip_key = from.ip.map(|ip| format!("ip:{ip}"));
    let keys: Vec<String> = std::iter::once(id_key.clone())
        .chain(ip_key.clone())
        .collect();
    let entry = |ok: bool, user_id: Option<&'static str>, payload| audit::Entry {
        key: "Interaction.SignIn.Verification.Password",
        ok,
        user_id,
        application_id: from.application_id,
        ip: from.ip,
        payload,
    };
    if let Some(until) = throttle::locked_until(db, &keys, now).await? {
        let payload = json!({"identifier": identifier, "error": "locked", "lockedUntil": until});
        audit::record(db, entry(false, None, payload), now_ms).await;
        return Ok(Err(SignInError::Locked { until }));
    }
    let user = if identifier.len() > 256 || secret.len() > 1024 {
        None
    } else {
        find_by_identifier(db, kind, identifier).await?
    };
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash.as_deref())
        .unwrap_or(DUMMY_HASH);
    let matches = password::verify(secret, hash);
    match user {
        Some(mut u) if matches && u.password_hash.is_some() && !u.is_suspended => {
            throttle::clear(db, &id_key, now).await?;
            u.last_sign_in_at = Some(now_ms);
            users::update(db, &u).await?;
            let mut e = entry(true, None, json!({"identifier": identifier}));
            e.user_id = Some(&u.id);
            audit::record(db, e, now_ms).await;
            Ok(Ok(u))
        }
        user => {
            throttle::record_failure(db, &id_key, IDENTIFIER_POLICY, now).await?;
            if let Some(k) = &ip_key {
                throttle::record_failure(db, k, IP_POLICY, now).await?;
            }
            let mut e = entry(
                false,
                None,
                json!({"identifier": identifier, "error": "invalid_credentials"}),
            );
            e.user_id = user.as_ref().map(|u| u.id.as_str());
            audit::record(db, e, now_ms).await;
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
