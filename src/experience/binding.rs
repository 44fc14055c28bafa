//! The binding steps of an interaction (Logto's `/profile/mfa…`): a verified new factor, or
//! an address a code proved, staged to bind at submit; MFA turned on; a prompt declined.
//!
//! Invariant: only the identified user's own verified factors are staged (an address only
//! while no user has it, and never over the user's own), after any factor the user already
//! has was verified; nothing is written here: `mfa_gate` writes it with the session.
use super::factors::{bound, enabled, guard_verified, own, user_of};
use super::interaction::Current;
use super::mfa_codes;
use super::state::{StepError, Verification};
use super::Failure;
use crate::ctx::Ctx;
use crate::mfa::Factor;
use crate::store::mfa as repo;
use crate::store::{Db, Kv};

/// `POST /profile/mfa {type, verificationId}`: binds a verified new factor at submit.
pub async fn bind<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    factor: Factor,
    verification_id: &str,
) -> Result<(), Failure> {
    let user_id = user_of(c)?;
    guard_verified(ctx, c, &user_id).await?;
    enabled(c, factor)?;
    // An email address or phone number a code proved: the factor, once it is the user's.
    if let Ok(Verification::Code {
        channel,
        identifier,
        verified,
        ..
    }) = c.state.verification(verification_id)
    {
        if mfa_codes::factor_of(*channel) != factor {
            return Err(Failure::Step(StepError::UnknownVerification));
        }
        if !*verified {
            return Err(Failure::Step(StepError::NotVerified));
        }
        let user = crate::store::users::get(ctx.db, &user_id)
            .await?
            .ok_or(Failure::UserNotFound)?;
        let mine = match channel {
            crate::identity::Channel::Email => user.primary_email,
            crate::identity::Channel::Phone => user.primary_phone,
        };
        // Binding never replaces the user's address: that is an account change.
        if mine.is_some() {
            return Err(Failure::BindMfaExisted);
        }
        let kind = channel.identifier().into();
        if crate::store::users::find_by_identifier(ctx.db, kind, identifier)
            .await?
            .is_some()
        {
            return Err(Failure::EmailTaken);
        }
        stage(c, factor, verification_id);
        return Ok(());
    }
    let v = own(c, verification_id).ok_or(Failure::Step(StepError::UnknownVerification))?;
    match (factor, v) {
        (
            Factor::Totp,
            Verification::Totp {
                new_secret: Some(_),
                verified: true,
                ..
            },
        ) => {
            if repo::totp_of(ctx.db, &user_id).await?.is_some() {
                return Err(Failure::TotpAlreadyInUse);
            }
        }
        (Factor::Totp, Verification::Totp { .. }) => {
            return Err(Failure::Step(StepError::NotVerified))
        }
        (
            Factor::WebAuthn,
            Verification::WebAuthn {
                new_passkey: Some(_),
                ..
            },
        ) => {}
        (
            Factor::BackupCode,
            Verification::BackupCode {
                new_codes: Some(_), ..
            },
        ) => {
            let others = bound(ctx, c, &user_id).await?.factors;
            let binding_other = bindings(c).iter().any(|f| *f != Factor::BackupCode);
            if !others.iter().any(|f| *f != Factor::BackupCode) && !binding_other {
                return Err(Failure::BackupCodeAlone);
            }
        }
        _ => return Err(Failure::Step(StepError::UnknownVerification)),
    }
    stage(c, factor, verification_id);
    Ok(())
}

/// Stages verification `id` to bind as `factor` at submit: one of each factor, a later
/// binding of the same kind replacing an earlier one.
fn stage(c: &mut Current, factor: Factor, id: &str) {
    let keep: Vec<String> = c
        .state
        .mfa
        .bind
        .iter()
        .filter(|x| binding_kind(c, x) != Some(factor))
        .cloned()
        .collect();
    c.state.mfa.bind = keep;
    c.state.mfa.bind.push(id.to_owned());
}

/// The factor verification `id` binds: the user's own new factor, or an address a code
/// proved.
fn binding_kind(c: &Current, id: &str) -> Option<Factor> {
    if let Ok(Verification::Code { channel, .. }) = c.state.verification(id) {
        return Some(mfa_codes::factor_of(*channel));
    }
    match own(c, id)? {
        Verification::Totp { .. } => Some(Factor::Totp),
        Verification::BackupCode { .. } => Some(Factor::BackupCode),
        Verification::WebAuthn { .. } => Some(Factor::WebAuthn),
        _ => None,
    }
}

/// The factors this interaction is binding.
pub(super) fn bindings(c: &Current) -> Vec<Factor> {
    c.state
        .mfa
        .bind
        .iter()
        .filter_map(|id| binding_kind(c, id))
        .collect()
}

/// `POST /profile/mfa/mfa-enabled`: MFA on for the user (`logto_config.mfa.enabled`), with
/// what is bound already, written at submit.
pub fn enable(c: &mut Current) -> Result<(), Failure> {
    user_of(c)?;
    c.state.mfa.enabled = true;
    Ok(())
}

/// `POST /profile/mfa/mfa-skipped`.
pub fn skip(c: &mut Current) -> Result<(), Failure> {
    user_of(c)?;
    if !c.settings.mfa.policy.skippable() {
        return Err(Failure::MfaNotSkippable);
    }
    c.state.mfa.skipped = true;
    Ok(())
}

/// `POST /profile/mfa/mfa-suggestion-skipped`: no further factor now (this interaction only).
pub fn skip_suggestion(c: &mut Current) -> Result<(), Failure> {
    user_of(c)?;
    c.state.mfa.suggestion_skipped = true;
    Ok(())
}

/// `POST /profile/mfa/passkey-skipped`: no passkey for passkey sign-in (kept with the user).
pub fn skip_passkey(c: &mut Current) -> Result<(), Failure> {
    user_of(c)?;
    if !c.settings.passkey_sign_in.enabled {
        return Err(Failure::Refused(super::Refusal::SignInMethod));
    }
    c.state.mfa.passkey_skipped = true;
    Ok(())
}
