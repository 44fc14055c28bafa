//! The MFA check at submit: in Logto's order, verify a bound factor, bind one when the
//! policy asks, backup codes when enabled; then what the session's transaction writes for it.
//!
//! Invariant: what is bound is written only with the session it opens, and only factors
//! proven by the identified user count (see `factors::own`).
use super::factors::{bindings, bound, own, sealer, verified, Bound};
use super::interaction::Current;
use super::state::{Event, Verification};
use super::Failure;
use crate::crypto::random;
use crate::ctx::Ctx;
use crate::identity::Identifier;
use crate::mfa::{self, backup, totp, Facts, Gate, UserMfaConfig};
use crate::store::mfa as repo;
use crate::store::{Db, Kv, Statement};

/// What MFA adds to a session that may start.
pub struct Cleared {
    /// Writes for the submit's transaction (each only with the session `sid`).
    pub statements: Vec<Statement>,
    /// RFC 8176 methods the second factor (or a passkey sign-in) adds to the session's `amr`.
    pub amr: Vec<String>,
}

/// The check at submit, Logto's order: verify a bound factor, bind one when the policy asks,
/// backup codes when enabled. On success, the bindings (sealed) and the user's MFA
/// preferences, as statements that write only with the session `sid`.
pub async fn clear<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
    user_id: &str,
    sid: &str,
) -> Result<Cleared, Failure> {
    // Passkey sign-in on and not declined: the user is asked to make a passkey (Logto's
    // `user.passkey_preferred`), once the second factor is verified.
    let wants_passkey = c.settings.passkey_sign_in.enabled && !c.state.mfa.passkey_skipped;
    // No factor enabled, no passkey to bind or ask for: nothing to verify or bind, and
    // nothing to read (the common case, on every sign-in).
    let passkey_sign_in = c.settings.passkey_sign_in.enabled;
    if c.settings.mfa.factors.is_empty() && c.state.mfa.bind.is_empty() && !passkey_sign_in {
        return Ok(Cleared {
            statements: Vec::new(),
            amr: amr_of(c),
        });
    }
    let registering = c.state.event == Some(Event::Register);
    let raw_config = repo::config_of(ctx.db, user_id).await?.unwrap_or_default();
    let config = UserMfaConfig::of_config(&raw_config);
    let have = if registering {
        Bound {
            factors: registrant_factors(c),
            masked: Vec::new(),
        }
    } else {
        bound(ctx, c, user_id).await?
    };
    let ids = &c.settings.sign_up.identifiers;
    let facts = Facts {
        bound: have.factors,
        verified: verified(c),
        // A passkey bound for passkey sign-in alone is not an MFA factor here.
        binding: bindings(c)
            .into_iter()
            .filter(|f| c.settings.mfa.enabled(*f))
            .collect(),
        skipped: c.state.mfa.skipped || config.skipped,
        config: config.clone(),
        registering,
        turned_on: c.state.mfa.enabled,
        suggestion_skipped: c.state.mfa.suggestion_skipped,
        passkey_sign_in,
        sign_up_email: ids.contains(&Identifier::Email),
        sign_up_phone: ids.contains(&Identifier::Phone),
    };
    let gate = mfa::gate(&c.settings.mfa, &facts);
    if let Gate::VerifyFirst(available) = gate {
        return Err(Failure::MfaRequired {
            available,
            masked: have.masked,
        });
    }
    // A user who has factors and passed without one (MFA turned off for them) could not
    // make a passkey here (that needs a verified factor): not asked.
    let unverified = !facts.bound.is_empty() && !facts.verified;
    if wants_passkey
        && !unverified
        && !config.passkey_skipped
        && !has_passkey(ctx, c, user_id).await?
    {
        return Err(Failure::PasskeyPreferred);
    }
    match gate {
        Gate::Pass | Gate::VerifyFirst(_) => {}
        Gate::Bind {
            available,
            skippable,
        } => {
            return Err(Failure::MissingMfa {
                available,
                skippable,
            })
        }
        Gate::BackupCodeRequired => return Err(Failure::BackupCodeRequired),
        Gate::Suggest(available) => return Err(Failure::SuggestMfa(available)),
        Gate::SuggestAdditional { available, passkey } => {
            return Err(Failure::SuggestAdditionalMfa {
                available,
                masked: have.masked,
                passkey,
            })
        }
    }
    let mut statements = Vec::new();
    for id in &c.state.mfa.bind {
        if let Ok(Verification::Code {
            channel,
            identifier,
            verified: true,
            ..
        }) = c.state.verification(id)
        {
            let phone = *channel == crate::identity::Channel::Phone;
            statements.push(crate::store::users::set_address(
                user_id,
                (phone, identifier),
                ctx.now_ms,
                sid,
            ));
            continue;
        }
        match own(c, id) {
            Some(Verification::Totp {
                new_secret: Some(secret),
                step,
                verified: true,
                ..
            }) => {
                let raw = totp::decode(secret).ok_or(Failure::InvalidTotp)?;
                let row_id = random::id()?;
                let sealed = sealer(ctx)?.seal(&format!("totp:{row_id}"), &raw).await?;
                statements.push(repo::bind_totp(
                    &row_id,
                    user_id,
                    &sealed,
                    (*step, ctx.now_ms),
                    sid,
                ));
            }
            Some(Verification::BackupCode {
                new_codes: Some(codes),
                ..
            }) => {
                let hashes = codes
                    .iter()
                    .map(|code| backup::hash(&ctx.config.key_encryption_secret, user_id, code))
                    .collect::<Result<Vec<_>, _>>()?;
                statements.extend(repo::bind_backup_codes(
                    &random::id()?,
                    user_id,
                    &hashes,
                    ctx.now_ms,
                    sid,
                ));
            }
            Some(Verification::WebAuthn {
                new_passkey: Some(p),
                ..
            }) => {
                statements.push(super::passkeys::bind_statement(
                    ctx,
                    (user_id, sid),
                    p,
                    None,
                )?);
            }
            _ => {}
        }
    }
    let mut next = config;
    // Logto: a passkey bound for passkey sign-in alone does not turn MFA on.
    if facts.binding.iter().any(|f| c.settings.mfa.enabled(*f)) || c.state.mfa.enabled {
        next.enabled = Some(true);
    }
    if c.state.mfa.skipped {
        next.skipped = true;
    }
    if c.state.mfa.passkey_skipped {
        next.passkey_skipped = true;
    }
    if next != facts.config {
        statements.push(repo::set_config(
            user_id,
            &next.merged_into(&raw_config),
            sid,
        ));
    }
    Ok(Cleared {
        statements,
        amr: amr_of(c),
    })
}

/// Whether the user has a passkey, or is binding one now.
async fn has_passkey<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
    user_id: &str,
) -> Result<bool, Failure> {
    if bindings(c).contains(&mfa::Factor::WebAuthn) {
        return Ok(true);
    }
    Ok(!crate::store::passkeys::of_user(ctx.db, user_id)
        .await?
        .is_empty())
}

/// A new account's factors: the email address or phone number its registration proved,
/// when that factor is enabled (Logto's `getProfileMfaFactors`), so that a policy of codes
/// alone does not ask a registrant for what they just gave.
fn registrant_factors(c: &Current) -> Vec<mfa::Factor> {
    let p = &c.state.profile;
    [
        (
            mfa::Factor::EmailVerificationCode,
            p.primary_email.is_some(),
        ),
        (
            mfa::Factor::PhoneVerificationCode,
            p.primary_phone.is_some(),
        ),
    ]
    .into_iter()
    .filter(|(f, has)| *has && c.settings.mfa.enabled(*f))
    .map(|(f, _)| f)
    .collect()
}

/// RFC 8176 methods the interaction's own factors add: `otp` for an authenticator app,
/// `hwk` or `swk` for a passkey, and `mfa` for any second factor or a passkey (which has
/// user verification built in).
fn amr_of(c: &Current) -> Vec<String> {
    let mut amr: Vec<String> = Vec::new();
    let mine = |u: &String| Some(u.as_str()) == c.state.user_id.as_deref();
    for v in &c.state.verifications {
        match v {
            Verification::Totp {
                user_id,
                new_secret: None,
                verified: true,
                ..
            } if mine(user_id) => amr.extend(["otp".into(), "mfa".into()]),
            Verification::BackupCode {
                user_id,
                new_codes: None,
                ..
            } if mine(user_id) => amr.push("mfa".into()),
            Verification::WebAuthn {
                user_id,
                new_passkey: None,
                amr: method,
                ..
            } if mine(user_id) => amr.extend([method.clone(), "mfa".into()]),
            // RFC 8176: `sms` for a code by text message, `otp` for one by email.
            Verification::MfaCode {
                user_id,
                channel,
                verified: true,
                ..
            } if mine(user_id) => {
                let by = if *channel == crate::identity::Channel::Phone {
                    "sms"
                } else {
                    "otp"
                };
                amr.extend([by.into(), "mfa".into()]);
            }
            _ => {}
        }
    }
    // Each method once, in the order they were proven.
    let mut once: Vec<String> = Vec::new();
    for m in amr {
        if !once.contains(&m) {
            once.push(m);
        }
    }
    once
}
