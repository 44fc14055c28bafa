//! WebAuthn in D1: each user's passkeys, and each ceremony's challenge. A challenge is
//! consumed by a `DELETE … RETURNING` (good once, on the primary); a passkey's counter moves
//! by a conditional `UPDATE` (two assertions racing with the same counter: one wins).
use super::{query_as, query_one, Db, Statement, StoreError};

/// A stored passkey.
#[derive(Debug, Clone, PartialEq)]
pub struct PasskeyRow {
    pub id: String,
    pub user_id: String,
    pub credential_id: String,
    pub public_key: String,
    pub counter: i64,
    /// JSON array of transport names.
    pub transports: String,
    pub rp_id: String,
    pub agent: String,
    pub name: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}
crate::from_row!(PasskeyRow {
    id,
    user_id,
    credential_id,
    public_key,
    counter,
    transports,
    rp_id,
    agent,
    name,
    created_at,
    last_used_at
});

const COLUMNS: &str = "id, user_id, credential_id, public_key, counter, transports, rp_id, \
                       agent, name, created_at, last_used_at";

pub async fn of_user(db: &impl Db, user_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
    query_as(
        db,
        &format!(
            "SELECT {COLUMNS} FROM webauthn_credentials WHERE user_id = ?1 ORDER BY created_at, id"
        ),
        &[user_id.into()],
    )
    .await
}

pub async fn by_credential(
    db: &impl Db,
    credential_id: &str,
) -> Result<Option<PasskeyRow>, StoreError> {
    query_one(
        db,
        &format!("SELECT {COLUMNS} FROM webauthn_credentials WHERE credential_id = ?1"),
        &[credential_id.into()],
    )
    .await
}

/// The ceremony a challenge belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Registration,
    Authentication,
    SignIn,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Registration => "Registration",
            Purpose::Authentication => "Authentication",
            Purpose::SignIn => "SignIn",
        }
    }
}

pub struct NewChallenge<'a> {
    pub verification_id: &'a str,
    pub challenge: &'a str,
    pub interaction_id: &'a str,
    pub user_id: Option<&'a str>,
    pub purpose: Purpose,
    pub expires_at: i64,
}

/// Live challenges one interaction may hold at once: ceremonies are few, and the routes that
/// start them need no credentials.
pub const MAX_LIVE_CHALLENGES: i64 = 20;

/// Stores a challenge; false (nothing stored) when the interaction already holds
/// [`MAX_LIVE_CHALLENGES`] live ones.
pub async fn issue(db: &impl Db, c: &NewChallenge<'_>, now: i64) -> Result<bool, StoreError> {
    let n = db
        .execute(
            "INSERT INTO webauthn_challenges (verification_id, challenge, interaction_id, user_id, purpose, expires_at) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE (SELECT COUNT(*) FROM webauthn_challenges \
             WHERE interaction_id = ?3 AND expires_at > ?7) < ?8",
            &[
                c.verification_id.into(),
                c.challenge.into(),
                c.interaction_id.into(),
                c.user_id.into(),
                c.purpose.as_str().into(),
                c.expires_at.into(),
                now.into(),
                MAX_LIVE_CHALLENGES.into(),
            ],
        )
        .await?;
    Ok(n > 0)
}

/// A consumed challenge.
#[derive(Debug, Clone, PartialEq)]
pub struct Consumed {
    pub verification_id: String,
    pub challenge: String,
    pub user_id: Option<String>,
}
crate::from_row!(Consumed {
    verification_id,
    challenge,
    user_id
});

/// Takes the live challenge of `purpose` in interaction `interaction_id` that
/// `verification_id` (or else `challenge`) names; `None` if there is none (never issued,
/// expired, or already taken).
pub async fn consume(
    db: &impl Db,
    interaction_id: &str,
    purpose: Purpose,
    (verification_id, challenge): (Option<&str>, &str),
    now: i64,
) -> Result<Option<Consumed>, StoreError> {
    query_one(
        db,
        "DELETE FROM webauthn_challenges WHERE interaction_id = ?1 AND purpose = ?2 \
         AND (verification_id = ?3 OR (?3 IS NULL AND challenge = ?4)) AND expires_at > ?5 \
         RETURNING verification_id, challenge, user_id",
        &[
            interaction_id.into(),
            purpose.as_str().into(),
            verification_id.into(),
            challenge.into(),
            now.into(),
        ],
    )
    .await
}

/// Records an assertion: the counter moves from `old` to `new`; false if another assertion
/// moved it first.
pub async fn use_passkey(
    db: &impl Db,
    id: &str,
    (old, new): (i64, i64),
    now_ms: i64,
) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            "UPDATE webauthn_credentials SET counter = ?3, last_used_at = ?4 \
             WHERE id = ?1 AND counter = ?2",
            &[id.into(), old.into(), new.into(), now_ms.into()],
        )
        .await?
        > 0)
}

pub struct NewPasskeyRow<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub credential_id: &'a str,
    pub public_key: &'a str,
    pub counter: i64,
    pub transports: &'a str,
    pub rp_id: &'a str,
    pub agent: &'a str,
    /// The name the user gave it, if any.
    pub name: Option<&'a str>,
    pub now_ms: i64,
}

/// Binds a passkey: a statement for the submit's transaction that writes only if session
/// `sid` was listed earlier in it. The unique credential id refuses a passkey bound twice.
pub fn bind(p: &NewPasskeyRow<'_>, sid: &str) -> Statement {
    Statement::new(
        "INSERT INTO webauthn_credentials (id, user_id, credential_id, public_key, counter, transports, rp_id, agent, created_at, name) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?11 WHERE EXISTS (SELECT 1 FROM user_sessions WHERE id = ?10)",
        vec![
            p.id.into(),
            p.user_id.into(),
            p.credential_id.into(),
            p.public_key.into(),
            p.counter.into(),
            p.transports.into(),
            p.rp_id.into(),
            p.agent.into(),
            p.now_ms.into(),
            sid.into(),
            p.name.into(),
        ],
    )
}

/// Names the user's passkey `id` (Logto's passkey name); false if the user has no such passkey.
pub async fn rename(db: &impl Db, user_id: &str, id: &str, name: &str) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            "UPDATE webauthn_credentials SET name = ?3 WHERE user_id = ?1 AND id = ?2",
            &[user_id.into(), id.into(), name.into()],
        )
        .await?
        > 0)
}
