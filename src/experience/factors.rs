//! The MFA steps of an interaction (Logto's `/verification/totp…`, `/backup-code…`,
//! `/profile/mfa…` and the check at submit), over the verifiers of `crate::mfa`. The hosted
//! pages and the Experience API both drive these.
//!
//! Invariant: a factor verified here is the user's own and accepted once (the TOTP step and
//! the backup code are consumed by a conditional write); wrong codes count against the user
//! like wrong passwords; what is bound is written only with the session it opens.
use super::interaction::Current;
use super::mfa_codes;
use super::state::{Event, StepError, Verification};
use super::Failure;
use crate::crypto::keys::KeySealer;
use crate::crypto::random;
use crate::ctx::Ctx;
use crate::mfa::{self, backup, totp, Factor};
use crate::store::mfa as repo;
use crate::store::throttle::{self, Policy};
use crate::store::{Db, Kv};

/// Wrong second-factor codes per user within an hour before the user's codes are refused
/// for an hour: 30 guesses against a million codes.
pub const FACTOR_POLICY: Policy = Policy::hourly(30);

pub(super) fn user_of(c: &Current) -> Result<String, Failure> {
    if c.state.event().map_err(Failure::Step)? == Event::ForgotPassword {
        return Err(Failure::NotForForgotPassword);
    }
    c.state
        .user_id
        .clone()
        .ok_or(Failure::Step(StepError::NotIdentified))
}

pub(super) fn enabled(c: &Current, f: Factor) -> Result<(), Failure> {
    // A passkey is bound for passkey sign-in too.
    let passkey = f == Factor::WebAuthn && c.settings.passkey_sign_in.enabled;
    if c.settings.mfa.enabled(f) || passkey {
        Ok(())
    } else {
        Err(Failure::MfaFactorNotEnabled)
    }
}

pub(super) fn sealer<'a, D: Db, K: Kv>(ctx: &'a Ctx<'_, D, K>) -> Result<KeySealer<'a>, Failure> {
    Ok(KeySealer::new(
        &ctx.config.key_encryption_secret,
        ctx.crypto,
    )?)
}

/// What the user has bound, by factor (backup codes only while some are unused), among the
/// factors the settings enable; and where their codes would go, masked.
#[derive(Debug, Default)]
pub(super) struct Bound {
    pub factors: Vec<Factor>,
    pub masked: Vec<(Factor, String)>,
}

pub(super) async fn bound<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
    user_id: &str,
) -> Result<Bound, Failure> {
    let rows = repo::factors_of(ctx.db, user_id).await?;
    let mut out: Vec<Factor> = rows
        .iter()
        .filter_map(|r| match r.kind.as_str() {
            "Totp" => Some(Factor::Totp),
            "BackupCode" if r.remain_codes > 0 => Some(Factor::BackupCode),
            "WebAuthn" => Some(Factor::WebAuthn),
            _ => None,
        })
        .filter(|f| c.settings.mfa.enabled(*f))
        .collect();
    // Email and SMS codes: a user with that primary address has the factor (Logto's rule).
    let mut masked = Vec::new();
    let email = c.settings.mfa.enabled(Factor::EmailVerificationCode);
    let phone = c.settings.mfa.enabled(Factor::PhoneVerificationCode);
    if email || phone {
        if let Some(u) = crate::store::users::get(ctx.db, user_id).await? {
            for (on, f, address) in [
                (email, Factor::EmailVerificationCode, u.primary_email),
                (phone, Factor::PhoneVerificationCode, u.primary_phone),
            ] {
                if let (true, Some(a)) = (on, address) {
                    out.push(f);
                    masked.push((f, mfa::masked(&a)));
                }
            }
        }
    }
    // Logto's order of factors, without a sort (a sort is a few KiB of module).
    let factors = Factor::ALL
        .iter()
        .copied()
        .filter(|f| out.contains(f))
        .collect();
    Ok(Bound { factors, masked })
}

/// The factors the identified user has bound (for the pages' choice of forms).
pub async fn bound_factors<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
) -> Result<Vec<Factor>, Failure> {
    let user_id = user_of(c)?;
    Ok(bound(ctx, c, &user_id).await?.factors)
}

/// Whether this interaction verified one of the user's own factors (not a new binding).
pub(super) fn verified(c: &Current) -> bool {
    let me = c.state.user_id.as_deref();
    // A factor counts only while the settings enable it (they may change mid-interaction).
    let on =
        |f: Factor, user_id: &String| c.settings.mfa.enabled(f) && Some(user_id.as_str()) == me;
    c.state.verifications.iter().any(|v| match v {
        Verification::Totp {
            user_id,
            new_secret: None,
            verified: true,
            ..
        } => on(Factor::Totp, user_id),
        Verification::BackupCode {
            user_id,
            new_codes: None,
            ..
        } => on(Factor::BackupCode, user_id),
        Verification::MfaCode {
            user_id,
            channel,
            verified: true,
            ..
        } => on(mfa_codes::factor_of(*channel), user_id),
        // A passkey counts only while its use is on: passkey sign-in for one that signed in,
        // WebAuthn as an MFA factor for one asserted as the second factor.
        Verification::WebAuthn {
            user_id,
            new_passkey: None,
            sign_in,
            ..
        } => {
            let on = if *sign_in {
                c.settings.passkey_sign_in.enabled
            } else {
                c.settings.mfa.enabled(Factor::WebAuthn)
            };
            on && Some(user_id.as_str()) == me
        }
        _ => false,
    })
}

/// Verification `id`, if it belongs to the identified user.
pub(super) fn own<'a>(c: &'a Current, id: &str) -> Option<&'a Verification> {
    let v = c.state.verification(id).ok()?;
    let owner = match v {
        Verification::Totp { user_id, .. }
        | Verification::BackupCode { user_id, .. }
        | Verification::WebAuthn { user_id, .. }
        | Verification::MfaCode { user_id, .. } => user_id,
        _ => return None,
    };
    (Some(owner.as_str()) == c.state.user_id.as_deref()).then_some(v)
}

/// A user who has factors must verify one before changing them (Logto's
/// `guardMfaVerificationStatus`).
pub(super) async fn guard_verified<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
    user_id: &str,
) -> Result<(), Failure> {
    if c.state.event == Some(Event::SignIn) && !verified(c) {
        let have = bound(ctx, c, user_id).await?;
        if !have.factors.is_empty() {
            return Err(Failure::MfaRequired {
                available: have.factors,
                masked: have.masked,
            });
        }
    }
    Ok(())
}

/// `POST /verification/totp/secret`: a new secret to bind, its `otpauth://` URI as a QR
/// code, and the verification to confirm it with.
pub struct NewTotp {
    pub verification_id: String,
    pub secret: String,
    pub qr_data_url: String,
}

pub async fn totp_secret<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
) -> Result<NewTotp, Failure> {
    let user_id = user_of(c)?;
    enabled(c, Factor::Totp)?;
    guard_verified(ctx, c, &user_id).await?;
    if repo::totp_of(ctx.db, &user_id).await?.is_some() {
        return Err(Failure::TotpAlreadyInUse);
    }
    // The account the app lists: the user's name, username, email or phone.
    let user = crate::store::users::get(ctx.db, &user_id)
        .await?
        .ok_or(Failure::UserNotFound)?;
    // A secret already offered in this interaction and not confirmed yet is offered again
    // (a reloaded page shows the same QR code).
    let pending = c.state.verifications.iter().rev().find_map(|v| match v {
        Verification::Totp {
            id,
            new_secret: Some(s),
            verified: false,
            ..
        } => Some((id.clone(), s.clone())),
        _ => None,
    });
    let (id, secret, fresh) = match pending {
        Some((id, s)) => (id, s, false),
        None => (random::id()?, totp::new_secret()?.1, true),
    };
    let qr_data_url = mfa::qr_code(ctx.host(), &user.label(), &secret);
    if fresh {
        c.state.add(Verification::Totp {
            id: id.clone(),
            user_id,
            new_secret: Some(secret.clone()),
            step: None,
            verified: false,
        });
    }
    Ok(NewTotp {
        verification_id: id,
        secret,
        qr_data_url,
    })
}

/// Refuses while the user's second-factor attempts are locked; returns the lock key.
pub(super) async fn not_locked<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
) -> Result<String, Failure> {
    let key = format!("mfa:{user_id}");
    if let Some(until) =
        throttle::locked_until(ctx.db, std::slice::from_ref(&key), ctx.now()).await?
    {
        return Err(Failure::MfaBlocked { until });
    }
    Ok(key)
}

/// `POST /verification/totp/verify`: with `verification_id`, confirms a new secret; without,
/// checks a code of the user's bound app (good once) as this sign-in's second factor.
pub async fn totp_verify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    code: &str,
    verification_id: Option<&str>,
) -> Result<String, Failure> {
    let user_id = user_of(c)?;
    let key = not_locked(ctx, &user_id).await?;
    let now = ctx.now();
    if let Some(id) = verification_id {
        let Ok(Verification::Totp {
            user_id: owner,
            new_secret: Some(secret),
            step,
            verified,
            ..
        }) = c.state.verification_mut(id)
        else {
            return Err(Failure::Step(StepError::UnknownVerification));
        };
        if *owner != user_id {
            return Err(Failure::Step(StepError::UnknownVerification));
        }
        let raw = totp::decode(secret).ok_or(Failure::InvalidTotp)?;
        let Some(accepted) = totp::accept(&raw, code, now, None) else {
            throttle::record_failure(ctx.db, &key, FACTOR_POLICY, now).await?;
            return Err(Failure::InvalidTotp);
        };
        *step = Some(accepted);
        *verified = true;
        return Ok(id.to_owned());
    }
    let app = repo::totp_of(ctx.db, &user_id)
        .await?
        .ok_or(Failure::MfaFactorNotEnabled)?;
    let raw = sealer(ctx)?
        .open(&format!("totp:{}", app.id), &app.secret)
        .await?;
    let accepted = match totp::accept(&raw, code, now, app.last_used_step) {
        Some(step) => repo::use_totp_step(ctx.db, &app.id, step, ctx.now_ms).await?,
        None => false,
    };
    if !accepted {
        throttle::record_failure(ctx.db, &key, FACTOR_POLICY, now).await?;
        return Err(Failure::InvalidTotp);
    }
    let id = random::id()?;
    c.state.add(Verification::Totp {
        id: id.clone(),
        user_id,
        new_secret: None,
        step: None,
        verified: true,
    });
    Ok(id)
}

/// `POST /verification/backup-code/generate`: ten new codes to bind (shown once).
pub async fn backup_generate<D: Db, K: Kv>(
    _ctx: &Ctx<'_, D, K>,
    c: &mut Current,
) -> Result<(String, Vec<String>), Failure> {
    let user_id = user_of(c)?;
    enabled(c, Factor::BackupCode)?;
    // Codes generated in this interaction and not bound yet are shown again.
    if let Some((id, codes)) = c.state.verifications.iter().rev().find_map(|v| match v {
        Verification::BackupCode {
            id,
            new_codes: Some(codes),
            ..
        } if !c.state.mfa.bind.contains(id) => Some((id.clone(), codes.clone())),
        _ => None,
    }) {
        return Ok((id, codes));
    }
    let codes = backup::generate()?;
    let id = random::id()?;
    c.state.add(Verification::BackupCode {
        id: id.clone(),
        user_id,
        new_codes: Some(codes.clone()),
    });
    Ok((id, codes))
}

/// `POST /verification/backup-code/verify`: uses one of the user's backup codes as this
/// sign-in's second factor.
pub async fn backup_verify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    code: &str,
) -> Result<String, Failure> {
    let user_id = user_of(c)?;
    let key = not_locked(ctx, &user_id).await?;
    let code = code.trim();
    let used = backup::well_formed(code)
        && repo::use_backup_code(
            ctx.db,
            &user_id,
            &backup::hash(&ctx.config.key_encryption_secret, &user_id, code)?,
            ctx.now_ms,
        )
        .await?;
    if !used {
        throttle::record_failure(ctx.db, &key, FACTOR_POLICY, ctx.now()).await?;
        return Err(Failure::InvalidBackupCode);
    }
    let id = random::id()?;
    c.state.add(Verification::BackupCode {
        id: id.clone(),
        user_id,
        new_codes: None,
    });
    Ok(id)
}

pub(super) use super::binding::bindings;
pub use super::binding::{bind, enable, skip, skip_passkey, skip_suggestion};
