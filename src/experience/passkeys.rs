//! The passkey steps of an interaction, over `crate::mfa::webauthn`: registering one to bind
//! (Logto's `/verification/web-authn/registration…`), verifying one as the second factor
//! (`/verification/web-authn/authentication…`), and signing in with one instead of a
//! password (`/preflight/sign-in-passkey/…` and `/verification/sign-in-passkey/…`). The
//! hosted pages and the Experience API both drive these.
//!
//! Invariant: every ceremony's challenge is issued for this interaction (and its user, when
//! one is known), lives five minutes and is consumed before the response is checked, so a
//! response counts once; the relying party is the provider's own host and the origin its
//! own; a passkey proves only the user it was bound to; a refused second-factor assertion
//! counts against that user like a wrong code; a refused passkey sign-in counts against the
//! sender's network and that passkey together, never the passkey alone (its id is no
//! secret: a lock on it would let anyone shut its owner out); a passkey sign-in needs
//! `passkeySignIn.enabled`.
use super::factors::{self, FACTOR_POLICY};
use super::interaction::Current;
use super::state::{Event, NewPasskey, StepError, Verification};
use super::Failure;
use crate::crypto::{b64url, random};
use crate::ctx::Ctx;
use crate::identity::Identifier;
use crate::mfa::webauthn::{self, Credential, Expected};
use crate::mfa::Factor;
use crate::store::passkeys::{self as repo, NewChallenge, PasskeyRow, Purpose};
use crate::store::throttle::{self, Policy};
use crate::store::{Db, Kv};
use serde_json::Value;

/// A ceremony begun: the verification to answer with, and the options for
/// `navigator.credentials`.
pub struct Ceremony {
    pub verification_id: String,
    pub options: Value,
}

/// The relying-party id: the provider's public host.
pub fn rp_id<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> String {
    ctx.host().unwrap_or_default()
}

pub(crate) fn credential(row: &PasskeyRow) -> Credential {
    Credential {
        id: row.credential_id.clone(),
        public_key: row.public_key.clone(),
        counter: row.counter,
        transports: crate::store::from_json(&row.transports).unwrap_or_default(),
    }
}

async fn issue<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
    user_id: Option<&str>,
    purpose: Purpose,
) -> Result<(String, String), Failure> {
    let verification_id = random::id()?;
    let challenge = b64url(&random::bytes::<32>()?);
    let stored = repo::issue(
        ctx.db,
        &NewChallenge {
            verification_id: &verification_id,
            challenge: &challenge,
            interaction_id: &c.interaction_id,
            user_id,
            purpose,
            expires_at: ctx.now() + webauthn::CHALLENGE_TTL,
        },
        ctx.now(),
    )
    .await?;
    if !stored {
        // Too many ceremonies begun and not answered: wait for some to expire.
        return Err(Failure::ResendTooSoon {
            seconds: webauthn::CHALLENGE_TTL,
        });
    }
    Ok((verification_id, challenge))
}

/// Takes the challenge the response answers; the caller checks the response against it.
async fn consume<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
    purpose: Purpose,
    verification_id: Option<&str>,
    payload: &Value,
) -> Result<Option<repo::Consumed>, Failure> {
    let claimed = webauthn::challenge_of(payload).unwrap_or_default();
    Ok(repo::consume(
        ctx.db,
        &c.interaction_id,
        purpose,
        (verification_id, &claimed),
        ctx.now(),
    )
    .await?)
}

/// `POST /verification/web-authn/registration`: options to make a passkey for the
/// identified user (its existing ones excluded).
pub async fn registration<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
) -> Result<Ceremony, Failure> {
    let user_id = factors::user_of(c)?;
    bindable(c)?;
    factors::guard_verified(ctx, c, &user_id).await?;
    let user = crate::store::users::get(ctx.db, &user_id)
        .await?
        .ok_or(Failure::UserNotFound)?;
    let existing: Vec<Credential> = repo::of_user(ctx.db, &user_id)
        .await?
        .iter()
        .map(credential)
        .collect();
    let (verification_id, challenge) = issue(ctx, c, Some(&user_id), Purpose::Registration).await?;
    let label = user.label();
    let options = webauthn::registration_options(
        &rp_id(ctx),
        (&user_id, &label, &label),
        &challenge,
        &existing,
    );
    Ok(Ceremony {
        verification_id,
        options,
    })
}

/// The statement that binds the proven passkey `p` to the user, named `name`: written only
/// while session `sid` lasts (the sign-in's submit, the Account API's caller).
pub(crate) fn bind_statement<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    (user_id, sid): (&str, &str),
    p: &NewPasskey,
    name: Option<&str>,
) -> Result<crate::store::Statement, crate::crypto::CryptoError> {
    let transports = crate::json::text(&p.transports);
    Ok(repo::bind(
        &repo::NewPasskeyRow {
            id: &random::id()?,
            user_id,
            credential_id: &p.credential_id,
            public_key: &p.public_key,
            counter: p.counter,
            transports: &transports,
            rp_id: &rp_id(ctx),
            agent: &p.agent,
            name,
            now_ms: ctx.now_ms,
        },
        sid,
    ))
}

/// A passkey may be bound as a factor, or for passkey sign-in.
fn bindable(c: &Current) -> Result<(), Failure> {
    if c.settings.passkeys_bindable() {
        Ok(())
    } else {
        Err(Failure::MfaFactorNotEnabled)
    }
}

/// `POST /verification/web-authn/registration/verify`: the new passkey, to bind at submit
/// (`agent` is the browser's user agent, for the user to recognise it later).
pub async fn registration_verify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    verification_id: &str,
    payload: &Value,
    agent: &str,
) -> Result<String, Failure> {
    let user_id = factors::user_of(c)?;
    let consumed = consume(
        ctx,
        c,
        Purpose::Registration,
        Some(verification_id),
        payload,
    )
    .await?
    .filter(|x| x.user_id.as_deref() == Some(user_id.as_str()))
    .ok_or(Failure::Step(StepError::UnknownVerification))?;
    let origins = [ctx.origin.clone()];
    let rp = rp_id(ctx);
    let expected = Expected {
        challenge: &consumed.challenge,
        origins: &origins,
        rp_id: &rp,
    };
    let registered = webauthn::verify_registration(ctx.crypto, payload, &expected)
        .await
        .map_err(|e| Failure::WebAuthnFailed(e.to_string()))?;
    let cred = registered.credential;
    if repo::by_credential(ctx.db, &cred.id).await?.is_some() {
        return Err(Failure::WebAuthnFailed(
            "this passkey is registered already".into(),
        ));
    }
    c.state.add(Verification::WebAuthn {
        id: consumed.verification_id.clone(),
        user_id,
        new_passkey: Some(NewPasskey {
            credential_id: cred.id,
            public_key: cred.public_key,
            counter: cred.counter,
            transports: cred.transports,
            agent: agent.chars().take(256).collect(),
        }),
        sign_in: false,
        valid_after: 0,
        amr: String::new(),
    });
    Ok(consumed.verification_id)
}

/// `POST /verification/web-authn/authentication`: options to verify one of the identified
/// user's passkeys as the second factor.
pub async fn authentication<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
) -> Result<Ceremony, Failure> {
    let user_id = factors::user_of(c)?;
    if !c.settings.mfa.enabled(Factor::WebAuthn) {
        return Err(Failure::MfaFactorNotEnabled);
    }
    let mine: Vec<Credential> = repo::of_user(ctx.db, &user_id)
        .await?
        .iter()
        .map(credential)
        .collect();
    if mine.is_empty() {
        return Err(Failure::NoPasskey);
    }
    let (verification_id, challenge) =
        issue(ctx, c, Some(&user_id), Purpose::Authentication).await?;
    Ok(Ceremony {
        verification_id,
        options: webauthn::authentication_options(&rp_id(ctx), &challenge, &mine),
    })
}

/// `POST /verification/web-authn/authentication/verify`: one of the user's passkeys, as
/// this sign-in's second factor.
pub async fn authentication_verify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    verification_id: &str,
    payload: &Value,
) -> Result<String, Failure> {
    let user_id = factors::user_of(c)?;
    if !c.settings.mfa.enabled(Factor::WebAuthn) {
        return Err(Failure::MfaFactorNotEnabled);
    }
    let key = factors::not_locked(ctx, &user_id).await?;
    let consumed = consume(
        ctx,
        c,
        Purpose::Authentication,
        Some(verification_id),
        payload,
    )
    .await?
    .filter(|x| x.user_id.as_deref() == Some(user_id.as_str()))
    .ok_or(Failure::Step(StepError::UnknownVerification))?;
    let (row, handle) = passkey_of(ctx, payload).await?;
    if row.user_id != user_id {
        return Err(Failure::IdentityConflict);
    }
    let amr = assert(
        ctx,
        payload,
        &consumed.challenge,
        (&row, handle, false),
        Some((&key, FACTOR_POLICY)),
    )
    .await?;
    c.state.add(Verification::WebAuthn {
        id: consumed.verification_id.clone(),
        user_id,
        new_passkey: None,
        sign_in: false,
        valid_after: 0,
        amr,
    });
    Ok(consumed.verification_id)
}

/// The stored passkey an assertion names, and the user handle it carries.
async fn passkey_of<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    payload: &Value,
) -> Result<(PasskeyRow, Option<String>), Failure> {
    let (credential_id, handle) =
        webauthn::assertion_ids(payload).map_err(|e| Failure::WebAuthnFailed(e.to_string()))?;
    let row = repo::by_credential(ctx.db, &credential_id)
        .await?
        .ok_or(Failure::NoPasskey)?;
    Ok((row, handle))
}

/// Checks an assertion against the stored passkey `row` (its `handle` must name the
/// passkey's user; `handle_required` when the ceremony named no user, WebAuthn §7.2 step 6)
/// and moves its counter; a refusal counts against `lock` (a key and its policy), if any.
/// Returns the `amr` value.
async fn assert<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    payload: &Value,
    challenge: &str,
    (row, handle, handle_required): (&PasskeyRow, Option<String>, bool),
    lock: Option<(&str, Policy)>,
) -> Result<String, Failure> {
    let origins = [ctx.origin.clone()];
    let rp = rp_id(ctx);
    let expected = Expected {
        challenge,
        origins: &origins,
        rp_id: &rp,
    };
    let stored = credential(row);
    let checked = match handle {
        // The authenticator says whom the passkey was made for: it must be its user.
        Some(h) if h != row.user_id => Err(webauthn::WebAuthnError::Malformed("userHandle")),
        None if handle_required => Err(webauthn::WebAuthnError::Malformed("userHandle")),
        _ => webauthn::verify_authentication(ctx.crypto, payload, &expected, &stored).await,
    };
    let fail = |why: String| async move {
        if let Some((key, policy)) = lock {
            throttle::record_failure(ctx.db, key, policy, ctx.now()).await?;
        }
        Err::<String, Failure>(Failure::WebAuthnFailed(why))
    };
    let asserted = match checked {
        Ok(a) => a,
        Err(e) => return fail(e.to_string()).await,
    };
    if !repo::use_passkey(ctx.db, &row.id, (row.counter, asserted.counter), ctx.now_ms).await? {
        return fail("another sign-in used this passkey meanwhile".into()).await;
    }
    let amr = if asserted.backup_eligible {
        "swk"
    } else {
        "hwk"
    };
    Ok(amr.to_owned())
}

/// `POST /preflight/sign-in-passkey/authentication`: options for a passkey sign-in without
/// a username (discoverable credentials, and the browser's autofill).
pub async fn sign_in_options<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
) -> Result<Ceremony, Failure> {
    passkey_sign_in(c)?;
    let (verification_id, challenge) = issue(ctx, c, None, Purpose::SignIn).await?;
    Ok(Ceremony {
        verification_id,
        options: webauthn::authentication_options(&rp_id(ctx), &challenge, &[]),
    })
}

/// `POST /verification/sign-in-passkey/authentication {identifier}`: options listing that
/// account's passkeys. An identifier of no account (or of one without passkeys) gets the
/// same kind of answer: one stable made-up credential.
pub async fn sign_in_options_for<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
    kind: Identifier,
    identifier: &str,
) -> Result<Ceremony, Failure> {
    passkey_sign_in(c)?;
    let user = super::find_by_identifier(ctx.db, kind, identifier).await?;
    let mut allow: Vec<Credential> = match &user {
        Some(u) => repo::of_user(ctx.db, &u.id)
            .await?
            .iter()
            .map(credential)
            .collect(),
        None => Vec::new(),
    };
    if allow.is_empty() {
        // No account, or none with a passkey: a stable made-up credential, so that the
        // answer does not tell which (WebAuthn §14.6.3).
        allow.push(Credential {
            id: crate::crypto::secret::code_hash(
                &ctx.config.key_encryption_secret,
                "passkey-decoy",
                &identifier.trim().to_lowercase(),
            )?,
            public_key: String::new(),
            counter: 0,
            transports: Vec::new(),
        });
    }
    // No transport hints: the made-up credential has none to give, and real ones must look
    // the same.
    for c in &mut allow {
        c.transports.clear();
    }
    let user_id = user.as_ref().map(|u| u.id.as_str());
    let (verification_id, challenge) = issue(ctx, c, user_id, Purpose::SignIn).await?;
    Ok(Ceremony {
        verification_id,
        options: webauthn::authentication_options(&rp_id(ctx), &challenge, &allow),
    })
}

fn passkey_sign_in(c: &Current) -> Result<(), Failure> {
    if c.settings.passkey_sign_in.enabled {
        Ok(())
    } else {
        Err(Failure::Refused(super::Refusal::SignInMethod))
    }
}

/// Refused passkey sign-ins per network and passkey within an hour before that passkey's
/// sign-ins from that network are refused for an hour. A real authenticator's answers are rarely refused; a
/// signature cannot be guessed, so this only stops a network from spending the provider's
/// work on forgeries.
pub const PASSKEY_NETWORK_POLICY: Policy = Policy::hourly(100);

/// `POST /verification/sign-in-passkey/authentication/verify`: a passkey signs the user in
/// (identify with the returned verification next). `ip` is the sender's address.
pub async fn sign_in_verify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    verification_id: Option<&str>,
    payload: &Value,
    ip: Option<&str>,
) -> Result<String, Failure> {
    passkey_sign_in(c)?;
    if c.state.event().map_err(Failure::Step)? != Event::SignIn {
        return Err(Failure::Step(StepError::WrongEvent));
    }
    // Failures count against the sender's network and the passkey together: anyone may
    // start a passkey sign-in, and must lock neither the user's codes, nor the passkey for
    // its owner elsewhere, nor the network's other passkeys. Checked before the ceremony is
    // spent.
    let (credential_id, _) =
        webauthn::assertion_ids(payload).map_err(|e| Failure::WebAuthnFailed(e.to_string()))?;
    let key = ip.map(|ip| format!("passkey-ip:{}:{credential_id}", super::network_key(ip)));
    if let Some(k) = &key {
        if let Some(until) =
            throttle::locked_until(ctx.db, std::slice::from_ref(k), ctx.now()).await?
        {
            return Err(Failure::MfaBlocked { until });
        }
    }
    let consumed = consume(ctx, c, Purpose::SignIn, verification_id, payload)
        .await?
        .ok_or(Failure::PasskeyPending)?;
    let (row, handle) = passkey_of(ctx, payload).await?;
    if consumed
        .user_id
        .as_deref()
        .is_some_and(|u| u != row.user_id)
    {
        return Err(Failure::IdentityConflict);
    }
    let discoverable = consumed.user_id.is_none();
    let amr = assert(
        ctx,
        payload,
        &consumed.challenge,
        (&row, handle, discoverable),
        key.as_deref().map(|k| (k, PASSKEY_NETWORK_POLICY)),
    )
    .await?;
    let user_id = row.user_id;
    let user = crate::store::users::get(ctx.db, &user_id)
        .await?
        .filter(|u| !u.is_suspended)
        .ok_or(Failure::NoPasskey)?;
    c.state.add(Verification::WebAuthn {
        id: consumed.verification_id.clone(),
        user_id,
        new_passkey: None,
        sign_in: true,
        valid_after: user.sessions_valid_after,
        amr,
    });
    Ok(consumed.verification_id)
}
