//! Browser sign-in sessions, in KV behind the `__Host-gh_session` cookie. The cookie holds a
//! random secret; KV is keyed by its hash. A session ended at sign-out is also recorded in
//! D1, so that a stale KV replica cannot bring it back.
use crate::crypto::{random, secret};
use crate::error::InternalError;
use crate::store::{oidc as repo, Db, Kv};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The session id that goes into tokens (`sid`); not the cookie secret.
    pub sid: String,
    pub user_id: String,
    /// When the user last authenticated, in seconds.
    pub auth_time: i64,
    pub amr: Vec<String>,
    /// Client ids that got a code in this session (for back-channel logout).
    pub clients: Vec<String>,
    pub expires_at: i64,
}

/// A loaded session and the KV key it lives under.
pub struct Loaded {
    pub key: String,
    pub session: Session,
}

fn key_of(cookie_secret: &str) -> String {
    format!("session:{}", secret::hash(cookie_secret))
}

/// The live session whose cookie secret is `token`, if any.
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
    let Some(raw) = kv.get(&key).await? else {
        return Ok(None);
    };
    let Ok(session) = crate::json::parse::<Session>(&raw) else {
        log::warn!("discarding an unreadable session record");
        return Ok(None);
    };
    if session.expires_at <= now || repo::session_ended(db, &session.sid).await? {
        return Ok(None);
    }
    Ok(Some(Loaded { key, session }))
}

/// Starts a session for the app the user is signing in to (listed at once, so that issuing
/// its code needs no second KV write); returns the cookie secret and the stored session.
pub async fn create(
    kv: &impl Kv,
    user_id: &str,
    amr: &[&str],
    client_id: &str,
    now: i64,
    ttl: i64,
) -> Result<(String, Loaded), InternalError> {
    let token = random::secret()?;
    let session = Session {
        sid: random::id()?,
        user_id: user_id.to_owned(),
        auth_time: now,
        amr: amr.iter().map(|s| (*s).to_owned()).collect(),
        clients: vec![client_id.to_owned()],
        expires_at: now + ttl,
    };
    let loaded = Loaded {
        key: key_of(&token),
        session,
    };
    save(kv, &loaded, now).await?;
    Ok((token, loaded))
}

pub async fn save(kv: &impl Kv, loaded: &Loaded, now: i64) -> Result<(), InternalError> {
    let raw = serde_json::to_string(&loaded.session)
        .map_err(|e| crate::store::StoreError::Decode(e.to_string()))?;
    let ttl = u64::try_from(loaded.session.expires_at - now).unwrap_or(0);
    kv.put(&loaded.key, &raw, ttl).await?;
    Ok(())
}

/// Ends the session in KV and records it as ended in D1.
pub async fn end(
    db: &impl Db,
    kv: &impl Kv,
    loaded: &Loaded,
    now: i64,
) -> Result<(), InternalError> {
    repo::end_session(db, &loaded.session.sid, now).await?;
    kv.delete(&loaded.key).await?;
    Ok(())
}
