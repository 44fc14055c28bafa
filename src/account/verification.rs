//! Verification records (Logto's `/api/verifications`): a signed-in user's recent proof of
//! who they are, which the Account API's sensitive changes ask for in the
//! `logto-verification-id` header.
//!
//! Invariants:
//! - a record counts only for its own user, for [`RECORD_TTL`] after it was made, and only
//!   once verified;
//! - a password record is made only after the password checked, through the sign-in's own
//!   check: the same per-person and per-network throttle, the same audit log;
//! - a code record proves the address the code went to: the user's current address (then it
//!   permits sensitive changes, as a password does) or a new one (then it only lets that
//!   address become the primary one), never both; code guesses count as the sign-in's do;
//! - a passkey record proves a new passkey of the user, made on this provider's origin (or
//!   one of the account center's related origins) for the challenge it issued, once; it
//!   only lets that passkey be bound;
//! - a social record proves an identity at a social provider, checked as a social sign-in's
//!   answer is (`state`, PKCE, the ID token's `nonce`), once; it only lets that identity be
//!   linked, and never permits anything else.
use crate::crypto::{b64url, random};
use crate::ctx::Ctx;
use crate::error::InternalError;
use crate::experience::messages::Usage;
use crate::experience::provider as social;
use crate::experience::state::{NewPasskey, SocialIdentity};
use crate::experience::{codes, sign_in_with_password, Failure, Origin, SignInError};
use crate::i18n::Lang;
use crate::identity::{self, Channel, Identifier};
use crate::json::Obj;
use crate::mfa::webauthn;
use crate::store::account::{self as repo, Record};
use crate::store::throttle;
use crate::store::users::User;
use crate::store::Column;
use crate::store::{Db, Kv};

/// How long a record is good for (Logto's ten minutes).
pub const RECORD_TTL: i64 = 600;

pub const PASSWORD: &str = "Password";
pub const SOCIAL: &str = "Social";
pub const PASSKEY: &str = "WebAuthn";

/// The record kind of a code sent through `channel`.
pub fn code_kind(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "EmailVerificationCode",
        Channel::Phone => "PhoneVerificationCode",
    }
}

/// The code rows of the Account API belong to this "interaction" (for the resend wait).
fn code_scope(user_id: &str) -> String {
    format!("account:{user_id}")
}

/// A verified password record for `user`; the record's id and expiry (seconds).
pub async fn by_password<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user: &User,
    password: &str,
    from: &Origin<'_>,
) -> Result<(String, i64), Failure> {
    // The user's own identifier, so that failures count for the person as a sign-in's do.
    let (kind, identifier) = match (&user.username, &user.primary_email, &user.primary_phone) {
        (Some(u), _, _) => (Identifier::Username, u),
        (None, Some(e), _) => (Identifier::Email, e),
        (None, None, Some(p)) => (Identifier::Phone, p),
        (None, None, None) => return Err(Failure::InvalidCredentials),
    };
    let now = ctx.now();
    match sign_in_with_password(ctx, kind, identifier, password, from, None).await? {
        Ok(u) if u.id == user.id => {}
        Ok(_) | Err(SignInError::InvalidCredentials) => return Err(Failure::InvalidCredentials),
        Err(SignInError::Locked { until }) => return Err(Failure::Locked { until }),
        Err(SignInError::TooLong) => return Err(Failure::TooLong),
        // The Account API has no second proof: a locked person waits.
        Err(SignInError::SecondProofNeeded { person, .. }) => {
            let until = throttle::locked_until(ctx.db, &[person], now).await?;
            return Err(Failure::Locked {
                until: until.unwrap_or(now),
            });
        }
    }
    insert(ctx, random::id()?, user, (PASSWORD, None), true).await
}

async fn insert<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: String,
    user: &User,
    (kind, identifier): (&str, Option<String>),
    verified: bool,
) -> Result<(String, i64), Failure> {
    let expires_at = ctx.now() + RECORD_TTL;
    let r = Record {
        id,
        user_id: user.id.clone(),
        kind: kind.to_owned(),
        identifier,
        verified,
        expires_at,
    };
    repo::insert(ctx.db, &r).await?;
    Ok((r.id, expires_at))
}

/// Sends a code to `value` (the user's own address, or a new one) and makes its record, not
/// yet verified. Sends are metered as the sign-in's are.
pub async fn send_code<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user: &User,
    (channel, value): (Channel, &str),
    lang: Lang,
    ip: Option<&str>,
) -> Result<(String, i64), Failure> {
    let value = identity::address(channel, value)?;
    let id = codes::deliver(
        ctx,
        &code_scope(&user.id),
        channel,
        &value,
        Usage::Generic,
        lang,
        ip,
    )
    .await?;
    insert(ctx, id, user, (code_kind(channel), Some(value)), false).await
}

/// Checks the code of the user's code record `id`. `Ok(false)` when there is no such record
/// (another user's, expired, or not a code record).
pub async fn verify_code<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    id: &str,
    code: &str,
    ip: Option<&str>,
) -> Result<bool, Failure> {
    let Some(r) = repo::get(ctx.db, id, user_id, ctx.now()).await? else {
        return Ok(false);
    };
    let is_code = [Channel::Email, Channel::Phone]
        .map(code_kind)
        .contains(&r.kind.as_str());
    let Some(identifier) = r.identifier.filter(|_| is_code) else {
        return Ok(false);
    };
    codes::check_code(ctx, (id, &identifier), Some(code), ip).await?;
    repo::mark_verified(ctx.db, id).await?;
    Ok(true)
}

/// Whether record `id` lets `user` make a sensitive change now: a verified password record,
/// or a verified code to the user's current address.
pub async fn permits<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user: &User,
    id: Option<&str>,
) -> Result<bool, InternalError> {
    let Some(id) = id else { return Ok(false) };
    let Some(r) = repo::get(ctx.db, id, &user.id, ctx.now()).await? else {
        return Ok(false);
    };
    let own = |channel: Channel| {
        let current = match channel {
            Channel::Email => &user.primary_email,
            Channel::Phone => &user.primary_phone,
        };
        r.kind == code_kind(channel) && current.is_some() && *current == r.identifier
    };
    Ok(r.verified && (r.kind == PASSWORD || own(Channel::Email) || own(Channel::Phone)))
}

/// Whether record `id` is the user's verified code to `value` (a new address to take).
pub async fn proves_address<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    id: &str,
    (channel, value): (Channel, &str),
) -> Result<bool, InternalError> {
    Ok(repo::get(ctx.db, id, user_id, ctx.now())
        .await?
        .is_some_and(|r| {
            r.verified && r.kind == code_kind(channel) && r.identifier.as_deref() == Some(value)
        }))
}

/// `POST /api/verifications/social {connectorId, state, redirectUri}`: where to send the
/// browser, and the record (not yet verified) that the provider's answer completes. Without
/// a `state` (the account page), the record's id is the state.
pub async fn social_start<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user: &User,
    connector_id: &str,
    (state, redirect_uri): (Option<&str>, &str),
) -> Result<(String, String, i64), Failure> {
    let id = random::id()?;
    let state = state.unwrap_or(&id);
    social::check_start(state, redirect_uri)?;
    let (target, config, _) = social::connector(ctx, connector_id, false).await?;
    let nonce = b64url(&random::bytes::<16>()?);
    let verifier = b64url(&random::bytes::<32>()?);
    let url =
        crate::social::oidc::authorization_url(&config, (state, &nonce, &verifier), redirect_uri)
            .map_err(Failure::Social)?;
    let begun = Obj::new()
        .str("connectorId", connector_id)
        .str("target", &target)
        .str("state", state)
        .str("nonce", &nonce)
        .str("verifier", &verifier)
        .str("redirectUri", redirect_uri)
        .end()
        .into_string();
    let (id, expires_at) = insert(ctx, id, user, (SOCIAL, Some(begun)), false).await?;
    Ok((url, id, expires_at))
}

/// `POST /api/verifications/social/verify {verificationRecordId, connectorData}`: the
/// provider's answer checked; the identity kept in the record. `Ok(false)` when the user has
/// no such social record waiting (another user's, expired, or already verified).
pub async fn social_verify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    id: &str,
    data: &serde_json::Value,
) -> Result<bool, Failure> {
    let Some(r) = repo::get(ctx.db, id, user_id, ctx.now()).await? else {
        return Ok(false);
    };
    let begun = match (r.kind == SOCIAL && !r.verified, r.identifier) {
        (true, Some(text)) => crate::json::parse(text).unwrap_or_default(),
        _ => return Ok(false),
    };
    let s = |k: &str| {
        begun
            .get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
    };
    let (_, config, _) = social::connector(ctx, s("connectorId"), false).await?;
    let at = social::Begun {
        state: s("state"),
        nonce: s("nonce"),
        verifier: s("verifier"),
        redirect_uri: s("redirectUri"),
    };
    let found = social::answer(ctx, &config, at, data).await?;
    let proved = Obj::new()
        .str("target", s("target"))
        .json("identity", crate::json::Json::of(&found))
        .end();
    Ok(repo::settle(ctx.db, id, proved.as_str()).await?)
}

/// The identity that the user's verified social record `id` proved, with its target.
pub async fn social_identity<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    id: &str,
) -> Result<Option<(String, SocialIdentity)>, InternalError> {
    let Some(r) = repo::get(ctx.db, id, user_id, ctx.now()).await? else {
        return Ok(None);
    };
    let Some(text) = r.identifier.filter(|_| r.kind == SOCIAL && r.verified) else {
        return Ok(None);
    };
    let v = crate::json::parse(text).unwrap_or_default();
    let target = v.get("target").and_then(serde_json::Value::as_str);
    let identity = v
        .get("identity")
        .and_then(|i| SocialIdentity::column(Some(i)));
    Ok(target.zip(identity).map(|(t, i)| (t.to_owned(), i)))
}

/// `POST /api/verifications/web-authn/registration`: options for `navigator.credentials
/// .create()` (the user's passkeys excluded), and the record its answer completes.
pub async fn passkey_start<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user: &User,
) -> Result<(serde_json::Value, String, i64), Failure> {
    let mut existing = Vec::new();
    for row in crate::store::passkeys::of_user(ctx.db, &user.id).await? {
        existing.push(crate::experience::passkeys::credential(&row));
    }
    let challenge = b64url(&random::bytes::<32>()?);
    let label = user.label();
    let rp = crate::experience::passkeys::rp_id(ctx);
    let options =
        webauthn::registration_options(&rp, (&user.id, &label, &label), &challenge, &existing);
    let (id, expires_at) =
        insert(ctx, random::id()?, user, (PASSKEY, Some(challenge)), false).await?;
    Ok((options, id, expires_at))
}

/// `POST /api/verifications/web-authn/registration/verify {verificationRecordId, payload}`:
/// the new passkey checked against the record's challenge and kept in it. `Ok(false)` when
/// the user has no such passkey record waiting.
pub async fn passkey_verify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    (id, payload): (&str, &serde_json::Value),
    (agent, related_origins): (&str, &[String]),
) -> Result<bool, Failure> {
    let Some(r) = repo::get(ctx.db, id, user_id, ctx.now()).await? else {
        return Ok(false);
    };
    let Some(challenge) = r.identifier.filter(|_| r.kind == PASSKEY && !r.verified) else {
        return Ok(false);
    };
    let mut origins = vec![ctx.origin.clone()];
    origins.extend_from_slice(related_origins);
    let rp = crate::experience::passkeys::rp_id(ctx);
    let expected = webauthn::Expected {
        challenge: &challenge,
        origins: &origins,
        rp_id: &rp,
    };
    let cred = webauthn::verify_registration(ctx.crypto, payload, &expected)
        .await
        .map_err(|e| Failure::WebAuthnFailed(e.to_string()))?
        .credential;
    if crate::store::passkeys::by_credential(ctx.db, &cred.id)
        .await?
        .is_some()
    {
        return Err(Failure::WebAuthnFailed(
            "this passkey is registered already".into(),
        ));
    }
    let made = NewPasskey {
        credential_id: cred.id,
        public_key: cred.public_key,
        counter: cred.counter,
        transports: cred.transports,
        agent: agent.chars().take(256).collect(),
    };
    Ok(repo::settle(ctx.db, id, &crate::json::text(&made)).await?)
}

/// The passkey that the user's verified passkey record `id` proved.
pub async fn passkey_of<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    id: &str,
) -> Result<Option<NewPasskey>, InternalError> {
    let Some(r) = repo::get(ctx.db, id, user_id, ctx.now()).await? else {
        return Ok(None);
    };
    let text = r.identifier.filter(|_| r.kind == PASSKEY && r.verified);
    Ok(text.and_then(|t| crate::store::parse_object(&t).ok()))
}
