//! The MFA check at submit: in Logto's order, verify a bound factor, bind one when the
//! policy asks, backup codes when enabled; then what the session's transaction writes for it.
//!
//! Invariant: what is bound is written only with the session it opens, and only factors
//! proven by the identified user count (see `factors::own`).
use super::factors::{bindings, bound, own, sealer, verified};
use super::interaction::Current;
use super::state::{Event, Verification};
use super::Failure;
use crate::crypto::random;
use crate::ctx::Ctx;
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
    // No factor enabled and no passkey to bind (for passkey sign-in): nothing to verify or
    // bind, and nothing to read (the common case, on every sign-in).
    if c.settings.mfa.factors.is_empty() && c.state.mfa.bind.is_empty() {
        return Ok(Cleared {
            statements: Vec::new(),
            amr: amr_of(c),
        });
    }
    let registering = c.state.event == Some(Event::Register);
    let config = repo::config_of(ctx.db, user_id)
        .await?
        .map(|raw| UserMfaConfig::of_config(&raw))
        .unwrap_or_default();
    let facts = Facts {
        bound: if registering {
            Vec::new()
        } else {
            bound(ctx, c, user_id).await?
        },
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
    };
    match mfa::gate(&c.settings.mfa, &facts) {
        Gate::Pass => {}
        Gate::VerifyFirst(f) => return Err(Failure::MfaRequired(f)),
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
    }
    let mut statements = Vec::new();
    for id in &c.state.mfa.bind {
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
                let transports = serde_json::to_string(&p.transports).unwrap_or_default();
                statements.push(crate::store::passkeys::bind(
                    &crate::store::passkeys::NewPasskeyRow {
                        id: &random::id()?,
                        user_id,
                        credential_id: &p.credential_id,
                        public_key: &p.public_key,
                        counter: p.counter,
                        transports: &transports,
                        rp_id: &super::passkeys::rp_id(ctx),
                        agent: &p.agent,
                        now_ms: ctx.now_ms,
                    },
                    sid,
                ));
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
    if next != facts.config {
        let json = serde_json::json!({ "mfa": next }).to_string();
        statements.push(repo::set_config(user_id, &json, sid));
    }
    Ok(Cleared {
        statements,
        amr: amr_of(c),
    })
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
    amr.sort_unstable();
    amr.dedup();
    amr
}
