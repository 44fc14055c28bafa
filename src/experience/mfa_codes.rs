//! Email and SMS codes as the second factor (Logto's `/verification/mfa-verification-code…`
//! and the `EmailVerificationCode` / `PhoneVerificationCode` factors): a code to the
//! identified user's own primary address, and its check. A user with such an address has
//! that factor implicitly (see `factors::bound`); one without binds it by verifying a new
//! address, which becomes the primary one only with the session it opens.
//!
//! Invariant: a code only ever goes to the address on the user's own account (never one the
//! client names); sends are metered like every code (per address, client network and site),
//! wrong codes count like every code, and a code is good once.
use super::factors;
use super::interaction::Current;
use super::messages::Usage;
use super::state::{StepError, Verification};
use super::Failure;
use crate::ctx::Ctx;
use crate::i18n::Lang;
use crate::identity::Channel;
use crate::mfa::Factor;
use crate::store::{users, Db, Kv};

/// The factor a code on `channel` is.
pub fn factor_of(channel: Channel) -> Factor {
    match channel {
        Channel::Email => Factor::EmailVerificationCode,
        Channel::Phone => Factor::PhoneVerificationCode,
    }
}

/// `POST /verification/mfa-verification-code {identifierType}`: sends a code to the user's
/// primary email address or phone number.
pub async fn send<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    channel: Channel,
    lang: Lang,
    ip: Option<&str>,
) -> Result<String, Failure> {
    let user_id = factors::user_of(c)?;
    if !c.settings.mfa.enabled(factor_of(channel)) {
        return Err(Failure::MfaFactorNotEnabled);
    }
    let user = users::get(ctx.db, &user_id)
        .await?
        .ok_or(Failure::UserNotFound)?;
    let address = match channel {
        Channel::Email => user.primary_email,
        Channel::Phone => user.primary_phone,
    }
    .ok_or_else(|| {
        Failure::Invalid(format!(
            "The user has no primary {} to send a code to.",
            if channel == Channel::Email {
                "email address"
            } else {
                "phone number"
            }
        ))
    })?;
    let id = super::codes::deliver(
        ctx,
        &c.interaction_id,
        channel,
        &address,
        Usage::Generic,
        lang,
        ip,
    )
    .await?;
    c.state.add(Verification::MfaCode {
        id: id.clone(),
        user_id,
        channel,
        identifier: address,
        verified: false,
    });
    Ok(id)
}

/// `POST /verification/mfa-verification-code/verify {verificationId, code, identifierType}`.
pub async fn verify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    verification_id: &str,
    code: &str,
    ip: Option<&str>,
) -> Result<String, Failure> {
    let user_id = factors::user_of(c)?;
    let key = factors::not_locked(ctx, &user_id).await?;
    match c.state.verification(verification_id) {
        Ok(Verification::MfaCode { user_id: owner, .. }) if *owner == user_id => {}
        _ => return Err(Failure::Step(StepError::UnknownVerification)),
    }
    match super::codes::check(ctx, c, (verification_id, true), code, ip).await {
        Err(Failure::WrongCode) => {
            crate::store::throttle::record_failure(ctx.db, &key, factors::FACTOR_POLICY, ctx.now())
                .await?;
            Err(Failure::WrongCode)
        }
        other => other.map(|()| verification_id.to_owned()),
    }
}
