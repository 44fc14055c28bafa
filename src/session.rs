//! Browser sign-in sessions, in KV behind the `__Host-gh_session` cookie. The cookie holds a
//! random secret; KV is keyed by its hash. Each session is also listed in D1 under its user
//! (`store::sessions`), so that a password change or a suspension can end all of them.
//!
//! Invariant: a session counts only if KV holds it, it has not expired, D1 does not record
//! it as ended, and its user exists, is not suspended and has not changed the password
//! since the session began (`sessions_valid_after`). The D1 checks are what a stale KV
//! replica cannot undo; they cost one round trip, which also brings the user.
use crate::crypto::{random, secret};
use crate::error::InternalError;
use crate::store::users::User;
use crate::store::{sessions, Db, Kv, Statement};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    /// The session id that goes into tokens (`sid`); not the cookie secret.
    pub sid: String,
    pub user_id: String,
    /// When the user last authenticated, in seconds.
    pub auth_time: i64,
    /// When the session began, in Unix ms (compared with the user's `sessions_valid_after`).
    pub created_ms: i64,
    pub amr: Vec<String>,
    /// Client ids that got a code in this session (for back-channel logout).
    pub clients: Vec<String>,
    pub expires_at: i64,
}

impl crate::store::FromRow for Session {
    fn from_row(r: &crate::store::Row) -> Result<Self, crate::store::StoreError> {
        // Sessions from before `created_ms` count as created at the epoch.
        crate::cols!(
            r,
            Session {
                sid,
                user_id,
                auth_time,
                created_ms: or_default,
                amr,
                clients,
                expires_at
            }
        )
    }
}

/// A loaded session, the KV key it lives under, and its user.
pub struct Loaded {
    pub key: String,
    pub session: Session,
    pub user: User,
}

/// The KV key of the session whose cookie secret is `cookie_secret`.
pub fn key_of(cookie_secret: &str) -> String {
    format!("session:{}", secret::hash(cookie_secret))
}

/// Reads a session record from KV; an unreadable one is discarded.
pub async fn read(kv: &impl Kv, key: &str) -> Result<Option<Session>, InternalError> {
    let Some(raw) = kv.get(key).await? else {
        return Ok(None);
    };
    match crate::store::parse_object::<Session>(&raw) {
        Ok(s) => Ok(Some(s)),
        Err(_) => {
            log::warn!("discarding an unreadable session record");
            Ok(None)
        }
    }
}

/// The live session whose cookie secret is `token`, with its user, if any.
pub async fn load(
    db: &impl Db,
    kv: &impl Kv,
    token: Option<&str>,
    now: i64,
) -> Result<Option<Loaded>, InternalError> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let key = key_of(token);
    let Some(session) = read(kv, &key).await? else {
        return Ok(None);
    };
    if session.expires_at <= now {
        return Ok(None);
    }
    let check = sessions::check(db, &session.sid, &session.user_id).await?;
    let user = check
        .user
        .filter(|u| !check.ended && !u.is_suspended)
        .filter(|u| session.created_ms >= u.sessions_valid_after);
    Ok(user.map(|user| Loaded { key, session, user }))
}

/// A session begun but not yet stored.
pub struct Begun {
    /// The cookie secret.
    pub token: String,
    pub key: String,
    pub session: Session,
    /// The D1 statement that lists the session under its user.
    pub listed: Statement,
}

/// A new session for the app the user is signing in to (listed at once, so that issuing
/// its code needs no second KV write). The caller runs [`Begun::listed`] first in a
/// transaction with its other D1 writes, then [`save`]s the session to KV. `valid_after` is
/// the user's `sessions_valid_after` when the password was proven: if it has moved since (a
/// password change, a suspension), the listing writes nothing and the session must not start.
pub fn begin(
    user_id: &str,
    amr: &[&str],
    client_id: &str,
    (now_ms, ttl): (i64, i64),
    valid_after: Option<i64>,
) -> Result<Begun, InternalError> {
    let now = now_ms.div_euclid(1000);
    let token = random::secret()?;
    let session = Session {
        sid: random::id()?,
        user_id: user_id.to_owned(),
        auth_time: now,
        created_ms: now_ms,
        amr: amr.iter().map(|s| (*s).to_owned()).collect(),
        clients: vec![client_id.to_owned()],
        expires_at: now + ttl,
    };
    let key = key_of(&token);
    let listed = sessions::record(
        &sessions::NewSession {
            sid: &session.sid,
            user_id,
            kv_key: &key,
            created_ms: now_ms,
            expires_at: session.expires_at,
        },
        valid_after,
    );
    Ok(Begun {
        token,
        key,
        session,
        listed,
    })
}

/// Writes the session to KV under `key`, to expire with it.
pub async fn save(
    kv: &impl Kv,
    key: &str,
    session: &Session,
    now: i64,
) -> Result<(), InternalError> {
    let raw = serde_json::to_string(session)
        .map_err(|e| crate::store::StoreError::Decode(e.to_string()))?;
    let ttl = u64::try_from(session.expires_at - now).unwrap_or(0);
    kv.put(key, &raw, ttl).await?;
    Ok(())
}

/// Ends the session: recorded as ended in D1 (and no longer listed), then gone from KV.
pub async fn end(
    db: &impl Db,
    kv: &impl Kv,
    loaded: &Loaded,
    now: i64,
) -> Result<(), InternalError> {
    crate::store::transaction(
        db,
        &[
            sessions::end_session(&loaded.session.sid, now),
            sessions::forget(&loaded.session.sid),
        ],
    )
    .await?;
    kv.delete(&loaded.key).await?;
    Ok(())
}
