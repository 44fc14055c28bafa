//! The sign-in experience: its settings and policy, the password policy, the audit log, and
//! the steps of an interaction (identify, verify, complete the profile, submit) that the
//! hosted pages and the Experience API both drive. The faces parse their input into typed
//! values and turn a [`Failure`] into words (pages) or `{code, message}` (API); the rules
//! live here, once.
pub mod audit;
pub mod binding;
pub mod codes;
pub mod factors;
mod failure;
pub mod interaction;
pub mod messages;
pub mod mfa_codes;
pub mod mfa_gate;
pub mod passkeys;
pub mod password;
pub mod password_policy;
pub mod policy;
pub mod profile;
pub mod provider;
pub mod settings;
pub mod social;
pub mod sso;
pub mod state;
pub mod submit;
pub mod unlock;
use crate::crypto::password as hashing;
use crate::ctx::Ctx;
use crate::error::InternalError;
use crate::identity::{self, Identifier};
use crate::store::throttle::{self, Policy};
use crate::store::users::{self, User};
use crate::store::StoreError;
use crate::store::{Db, Kv};
use policy::Refusal;
use settings::Settings;

pub use failure::Failure;

/// Why a sign-in failed. Wrong identifier and wrong password are one error, so the page
/// never tells which part was wrong.
#[derive(Debug, PartialEq)]
pub enum SignInError {
    InvalidCredentials,
    /// Too many failures for this person or network; retry after this time (seconds).
    Locked {
        until: i64,
    },
    /// Too many failures for this person: the password is not even checked until a code
    /// sent to the account's own address comes back (the soft lockout, [`unlock`]). `user`
    /// is the account the identifier names, if any; `person` the lockout key.
    SecondProofNeeded {
        user: Option<Box<User>>,
        person: String,
    },
    /// The identifier or the password is longer than any real one: refused before any
    /// work or write.
    TooLong,
}

/// Logto's default: 100 failures within an hour lock for 60 minutes.
pub const IDENTIFIER_POLICY: Policy = Policy::hourly(100);
/// One network may try more identifiers, but not without bound.
pub const IP_POLICY: Policy = Policy::hourly(1000);

/// The longest identifier (bytes) and password (characters; 1 KiB in bytes) a sign-in
/// takes.
pub const MAX_IDENTIFIER_BYTES: usize = 256;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Whether a password is within the bounds every face accepts.
pub fn password_in_bounds(password: &str) -> bool {
    password.len() <= 4 * MAX_PASSWORD_CHARS && password.chars().count() <= MAX_PASSWORD_CHARS
}

/// The throttling key of a client address: an IPv4 address as it is, an IPv6 address by
/// its /64 (one customer's network, whose other 64 bits the customer may rotate freely).
pub fn network_key(ip: &str) -> String {
    use std::net::IpAddr;
    match ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let prefix: Vec<String> = s.iter().take(4).map(|x| format!("{x:x}")).collect();
                format!("{}::/64", prefix.join(":"))
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.chars().take(64).collect(),
    }
}

/// The lockout key of the person signing in: the user's id once found, else the identifier
/// in the normal form the lookup uses (`+1 555-0109999` and `15550109999` are one phone).
fn person_key(kind: Identifier, identifier: &str, user: Option<&User>) -> String {
    match (user, identity::normalize(kind, identifier)) {
        (Some(u), _) => format!("user:{}", u.id),
        (None, Ok(normal)) => format!("id:{}:{normal}", kind.as_str()),
        (None, Err(_)) => format!("id:{}:{}", kind.as_str(), identifier.trim().to_lowercase()),
    }
}

/// An Argon2id hash of a random password, verified when the user does not exist so that
/// both cases cost the same.
/// The hash an unknown user is checked against: made with the configured parameters (once
/// per isolate), so that an unknown identifier costs what a known one does.
fn dummy_hash(params: hashing::Params) -> String {
    thread_local! {
        static DUMMY: std::cell::RefCell<Option<(hashing::Params, String)>> =
            const { std::cell::RefCell::new(None) };
    }
    if params == hashing::DEFAULT {
        return DUMMY_HASH.to_owned();
    }
    DUMMY.with(|d| {
        let cached = d
            .borrow()
            .as_ref()
            .filter(|(p, _)| *p == params)
            .map(|(_, h)| h.clone());
        if let Some(h) = cached {
            return h;
        }
        let h = hashing::hash_with("not a password anyone has", params)
            .unwrap_or_else(|_| DUMMY_HASH.to_owned());
        *d.borrow_mut() = Some((params, h.clone()));
        h
    })
}

const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$pWFFM9bgsOdzhDIznuje7g$UwdKOIcFnoIqhJe08lnEHD8W/PYDy3c3yUJ7eWTCmMQ";

/// The user with this identifier, by the kind the caller claims (never guessed from the
/// value, so that a disabled kind cannot be used under another's name).
pub async fn find_by_identifier(
    db: &impl Db,
    kind: Identifier,
    identifier: &str,
) -> Result<Option<User>, InternalError> {
    match identity::normalize(kind, identifier) {
        Ok(value) => Ok(users::find_by_identifier(db, kind.into(), &value).await?),
        Err(_) => Ok(None),
    }
}

/// The stored settings, or the defaults, read from `db` (the primary, for a change).
pub async fn load_settings_from(db: &impl Db) -> Result<Settings, InternalError> {
    Ok(match crate::store::settings::get(db).await? {
        Some(raw) => crate::store::parse_object(&raw)
            .map_err(|e| StoreError::Decode(format!("sign-in experience: {e}")))?,
        None => Settings::default(),
    })
}

/// The settings in force: the stored ones, or the defaults. From the isolate's cache, else
/// from a replica.
pub async fn load_settings<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> Result<Settings, InternalError> {
    if let Some(s) = ctx.cache.settings(ctx.now_ms) {
        return Ok((*s).clone());
    }
    let s = load_settings_from(ctx.lag_tolerant()).await?;
    ctx.cache
        .put_settings(std::rc::Rc::new(s.clone()), ctx.now_ms);
    Ok(s)
}

/// Where a sign-in attempt comes from, for throttling and the audit log.
pub struct Origin<'a> {
    pub ip: Option<&'a str>,
    pub application_id: Option<&'a str>,
}

/// Verifies an identifier (username, email or phone) and password; records the sign-in
/// time. Failures count per person ([`person_key`]) and per network ([`network_key`]); a
/// locked key is refused before any password is checked, without a write. Input longer than
/// any real identifier or password is refused before any work. Every other outcome goes to
/// the audit log.
///
/// The soft lockout: a person locked by failures is asked for a second proof
/// ([`SignInError::SecondProofNeeded`], see [`unlock`]) instead of being refused outright, so
/// that someone else's failures cannot lock the owner out. `unlocked` names the user whose code
/// this interaction has verified: that user's password is checked despite the lock. The
/// password of a locked account is never checked without that code, so the lock still
/// stops guessing.
pub async fn sign_in_with_password<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    kind: Identifier,
    identifier: &str,
    secret: &str,
    from: &Origin<'_>,
    unlocked: Option<&str>,
) -> Result<Result<User, SignInError>, InternalError> {
    if identifier.len() > MAX_IDENTIFIER_BYTES || !password_in_bounds(secret) {
        return Ok(Err(SignInError::TooLong));
    }
    let (db, now_ms) = (ctx.db, ctx.now_ms);
    let now = now_ms.div_euclid(1000);
    let user = find_by_identifier(db, kind, identifier).await?;
    let person = person_key(kind, identifier, user.as_ref());
    let network = from.ip.map(|ip| format!("ip:{}", network_key(ip)));
    let keys: Vec<String> = std::iter::once(person.clone())
        .chain(network.clone())
        .collect();
    // Already refused: no write, so that a locked key cannot be used to fill the log.
    let locks = throttle::locks(db, &keys, now).await?;
    let until = |k: &str| locks.iter().find(|(key, _)| key == k).map(|(_, u)| *u);
    if let Some(u) = network.as_deref().and_then(until) {
        return Ok(Err(SignInError::Locked { until: u }));
    }
    let locked = until(&person).is_some();
    match user {
        Some(found) if !locked || unlocked == Some(found.id.as_str()) => {
            check_password(
                ctx,
                found,
                identifier,
                secret,
                from,
                (&person, network.as_deref()),
            )
            .await
        }
        // The same answer whether or not the identifier names an account.
        user if locked => Ok(Err(SignInError::SecondProofNeeded {
            user: user.map(Box::new),
            person,
        })),
        _ => {
            // An unknown identifier costs what a known one does.
            hashing::verify(secret, &dummy_hash(ctx.config.password_hash));
            fail(ctx, None, identifier, from, (&person, network.as_deref())).await
        }
    }
}

/// Checks the password of a found user; on success clears the person's failures, records
/// the sign-in (upgrading the hash if its parameters are old) and logs it.
async fn check_password<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    mut u: User,
    identifier: &str,
    secret: &str,
    from: &Origin<'_>,
    (person, network): (&str, Option<&str>),
) -> Result<Result<User, SignInError>, InternalError> {
    let (db, now_ms) = (ctx.db, ctx.now_ms);
    let dummy = dummy_hash(ctx.config.password_hash);
    let matches = hashing::verify(secret, u.password_hash.as_deref().unwrap_or(&dummy));
    if !matches || u.password_hash.is_none() || u.is_suspended {
        return fail(ctx, Some(&u.id), identifier, from, (person, network)).await;
    }
    u.last_sign_in_at = Some(now_ms);
    // A hash made under other parameters is upgraded in the same write.
    let params = ctx.config.password_hash;
    let old = u.password_hash.clone().unwrap_or_default();
    let new = if hashing::needs_rehash(&old, params) {
        Some(hashing::hash_with(secret, params)?)
    } else {
        None
    };
    // One round trip: the failures cleared, the sign-in recorded, the log written.
    let logged = audit::Entry {
        key: PASSWORD_LOG_KEY,
        ok: true,
        user_id: Some(&u.id),
        application_id: from.application_id,
        ip: from.ip,
        payload: crate::jv!({"identifier": identifier}),
    };
    crate::store::transaction(
        db,
        &[
            throttle::clear_statement(person),
            users::record_sign_in(&u.id, now_ms, &old, new.as_deref()),
            audit::statement(logged, now_ms)?,
        ],
    )
    .await?;
    if let Some(h) = new {
        u.password_hash = Some(h);
    }
    Ok(Ok(u))
}

const PASSWORD_LOG_KEY: &str = "Interaction.SignIn.Verification.Password";

/// Counts a failed password for the person and the network, and logs it.
async fn fail<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: Option<&str>,
    identifier: &str,
    from: &Origin<'_>,
    (person, network): (&str, Option<&str>),
) -> Result<Result<User, SignInError>, InternalError> {
    let now = ctx.now_ms.div_euclid(1000);
    let mut counted = vec![(person, IDENTIFIER_POLICY)];
    if let Some(k) = network {
        counted.push((k, IP_POLICY));
    }
    throttle::record_failures(ctx.db, &counted, now).await?;
    audit::record(
        ctx.db,
        audit::Entry {
            key: PASSWORD_LOG_KEY,
            ok: false,
            user_id,
            application_id: from.application_id,
            ip: from.ip,
            payload: crate::jv!({"identifier": identifier, "error": "invalid_credentials"}),
        },
        ctx.now_ms,
    )
    .await;
    Ok(Err(SignInError::InvalidCredentials))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_ipv6_network_counts_as_one_by_its_64_bit_prefix() {
        use super::network_key;
        assert_eq!(network_key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(
            network_key("2001:0db8:0001:0002:ffff:eeee:dddd:cccc"),
            network_key("2001:db8:1:2::1")
        );
        assert_ne!(
            network_key("2001:db8:1:3::1"),
            network_key("2001:db8:1:2::1")
        );
        assert_eq!(network_key("203.0.113.7"), "203.0.113.7");
        assert_eq!(network_key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(network_key(&"x".repeat(500)).len(), 64);
    }

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
