//! Multi-factor authentication: the factors (authenticator-app codes, passkeys and backup
//! codes), the sign-in experience's MFA policy, and the rule that decides, before a session
//! starts, whether the user must verify a factor, bind one, or may go on.
//!
//! The verifiers ([`totp`], [`backup`]) are pure and take `now`; the experience core calls
//! [`gate`] from `submit`, and the pages and the Experience API only show its answer.
//!
//! Invariant: a user who has a factor never gets a session without verifying one of them
//! in the same interaction; under `Mandatory`, a user without one never gets a session
//! without binding one; a backup code is never a user's only factor.
pub mod backup;
pub mod manage;
pub mod qr;
pub mod totp;
pub mod webauthn;

use serde::{Deserialize, Serialize};

/// The QR code (an SVG `data:` URL) of the `otpauth://` URI that binds `secret_b32` to an
/// authenticator app, issued by the provider's `host` for `account`.
pub fn qr_code(host: Option<String>, account: &str, secret_b32: &str) -> String {
    let host = host.unwrap_or_else(|| "Gatehouse".into());
    qr::data_url(&totp::uri(&host, account, secret_b32)).unwrap_or_default()
}

/// Logto's `MfaFactor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Factor {
    Totp,
    WebAuthn,
    BackupCode,
    EmailVerificationCode,
    PhoneVerificationCode,
}

impl Factor {
    /// Every factor, in Logto's order.
    pub const ALL: [Factor; 5] = [
        Factor::Totp,
        Factor::WebAuthn,
        Factor::BackupCode,
        Factor::EmailVerificationCode,
        Factor::PhoneVerificationCode,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Totp => "Totp",
            Factor::WebAuthn => "WebAuthn",
            Factor::BackupCode => "BackupCode",
            Factor::EmailVerificationCode => "EmailVerificationCode",
            Factor::PhoneVerificationCode => "PhoneVerificationCode",
        }
    }
}

/// Logto's `MfaPolicy`. `UserControlled` is deprecated and read as
/// `PromptAtSignInAndSignUp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Policy {
    Mandatory,
    PromptAtSignInAndSignUp,
    PromptOnlyAtSignIn,
    NoPrompt,
    #[serde(rename = "UserControlled")]
    UserControlled,
}

impl Policy {
    fn normal(self) -> Policy {
        match self {
            Policy::UserControlled => Policy::PromptAtSignInAndSignUp,
            p => p,
        }
    }
    /// Whether a user may skip binding a factor.
    pub fn skippable(self) -> bool {
        self.normal() != Policy::Mandatory
    }
}

/// `mfa` of the sign-in experience.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaSettings {
    pub factors: Vec<Factor>,
    pub policy: Policy,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_required_mfa_policy: Option<String>,
}
crate::from_row!(MfaSettings {
    factors,
    policy,
    organization_required_mfa_policy = "organizationRequiredMfaPolicy",
});
crate::column_via_from_row!(MfaSettings);
crate::column_enum!(Factor {
    Totp = "Totp",
    WebAuthn = "WebAuthn",
    BackupCode = "BackupCode",
    EmailVerificationCode = "EmailVerificationCode",
    PhoneVerificationCode = "PhoneVerificationCode",
});
crate::column_enum!(Policy {
    Mandatory = "Mandatory",
    PromptAtSignInAndSignUp = "PromptAtSignInAndSignUp",
    PromptOnlyAtSignIn = "PromptOnlyAtSignIn",
    NoPrompt = "NoPrompt",
    UserControlled = "UserControlled",
});

impl Default for MfaSettings {
    /// Logto's seed: no factors, the prompting policy.
    fn default() -> Self {
        MfaSettings {
            factors: Vec::new(),
            policy: Policy::PromptAtSignInAndSignUp,
            organization_required_mfa_policy: None,
        }
    }
}

impl MfaSettings {
    /// Logto's checks of `PATCH /api/sign-in-exp`: the error code and its words.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let f = &self.factors;
        let repeated = f
            .iter()
            .enumerate()
            .any(|(i, x)| f.iter().take(i).any(|y| y == x));
        if repeated {
            return Err((
                "sign_in_experiences.duplicated_mfa_factors",
                "MFA factors must not repeat".into(),
            ));
        }
        if self.factors == [Factor::BackupCode] {
            return Err((
                "sign_in_experiences.backup_code_cannot_be_enabled_alone",
                "Backup codes cannot be the only MFA factor".into(),
            ));
        }
        Ok(())
    }

    pub fn enabled(&self, f: Factor) -> bool {
        self.factors.contains(&f)
    }
}

/// The user's MFA preferences (Logto's `logto_config.mfa`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserMfaConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    pub skipped: bool,
    pub skip_mfa_on_sign_in: bool,
    /// `passkeySignIn.skipped`: the user declined to make a passkey for passkey sign-in.
    #[serde(skip)]
    pub passkey_skipped: bool,
}

impl UserMfaConfig {
    /// The `mfa` and `passkeySignIn` parts of a user's `logto_config` JSON text (defaults
    /// where absent).
    pub fn of_config(raw: &str) -> Self {
        let v: serde_json::Value = crate::json::parse(raw).unwrap_or_default();
        let flag =
            |part: &str, k: &str| v.get(part).and_then(|m| m.get(k)).and_then(|b| b.as_bool());
        UserMfaConfig {
            enabled: flag("mfa", "enabled"),
            skipped: flag("mfa", "skipped").unwrap_or(false),
            skip_mfa_on_sign_in: flag("mfa", "skipMfaOnSignIn").unwrap_or(false),
            passkey_skipped: flag("passkeySignIn", "skipped").unwrap_or(false),
        }
    }

    /// The user's `logto_config` JSON text `raw` with these preferences in it (every other
    /// key kept as it was).
    pub fn merged_into(&self, raw: &str) -> String {
        use serde_json::Value;
        let mut v: Value = crate::json::parse(raw)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| crate::jv!({}));
        if let Some(o) = v.as_object_mut() {
            let part = |o: &mut serde_json::Map<String, Value>, k: &str| {
                let p = o.entry(k).or_insert_with(|| crate::jv!({}));
                if !p.is_object() {
                    *p = crate::jv!({});
                }
            };
            part(o, "mfa");
            part(o, "passkeySignIn");
            if let Some(m) = o.get_mut("mfa").and_then(Value::as_object_mut) {
                match self.enabled {
                    Some(e) => m.insert("enabled".into(), crate::jv!(e)),
                    None => m.remove("enabled"),
                };
                m.insert("skipped".into(), crate::jv!(self.skipped));
                m.insert(
                    "skipMfaOnSignIn".into(),
                    crate::jv!(self.skip_mfa_on_sign_in),
                );
            }
            if let Some(p) = o.get_mut("passkeySignIn").and_then(Value::as_object_mut) {
                p.insert("skipped".into(), crate::jv!(self.passkey_skipped));
            }
        }
        crate::json::text(&v)
    }
}

/// What the gate knows about the user and the interaction.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Factors the user has bound (backup codes only while some are unused), enabled ones only.
    pub bound: Vec<Factor>,
    /// A factor was verified in this interaction (not a new binding).
    pub verified: bool,
    /// Factors being bound in this interaction.
    pub binding: Vec<Factor>,
    /// The user skipped binding, now or before.
    pub skipped: bool,
    pub config: UserMfaConfig,
    pub registering: bool,
    /// The user turned MFA on in this interaction (`mfa-enabled`).
    pub turned_on: bool,
    /// The user declined a second factor besides a sign-in method, in this interaction.
    pub suggestion_skipped: bool,
    /// Passkey sign-in is on: a passkey is then a way in as well as a factor.
    pub passkey_sign_in: bool,
    /// The sign-up takes an email address, a phone number: a code there is a way in too.
    pub sign_up_email: bool,
    pub sign_up_phone: bool,
}

/// The gate's answer, Logto's order of checks at submit (`classes/mfa.ts`).
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    Pass,
    /// 403 `session.mfa.require_mfa_verification`: verify one of these first.
    VerifyFirst(Vec<Factor>),
    /// 422 `user.missing_mfa`: bind one of these (`skippable` under a prompting policy).
    Bind {
        available: Vec<Factor>,
        skippable: bool,
    },
    /// 422 `session.mfa.backup_code_required`.
    BackupCodeRequired,
    /// 422 `user.suggest_mfa`: a prompting policy offers MFA (bind one of these, turn it on,
    /// or skip).
    Suggest(Vec<Factor>),
    /// 422 `session.mfa.suggest_additional_mfa`: a new account's only factors are also ways
    /// in (its email, phone or passkey); one that is a second factor alone is offered, and
    /// may be declined. `passkey` when the passkey is the one used to sign in.
    SuggestAdditional {
        available: Vec<Factor>,
        passkey: bool,
    },
}

/// Decides what must happen before a session starts.
pub fn gate(settings: &MfaSettings, f: &Facts) -> Gate {
    let policy = settings.policy.normal();
    let enabled: Vec<Factor> = settings.factors.clone();
    // 1. A user with factors verifies one, unless they turned MFA off where that is allowed.
    let user_off =
        (f.config.enabled == Some(false) || f.config.skip_mfa_on_sign_in) && policy.skippable();
    if !f.registering && !f.bound.is_empty() && !f.verified && !user_off {
        return Gate::VerifyFirst(f.bound.clone());
    }
    if enabled.is_empty() || policy == Policy::NoPrompt {
        return Gate::Pass;
    }
    if f.registering && policy == Policy::PromptOnlyAtSignIn {
        return Gate::Pass;
    }
    let available: Vec<Factor> = enabled
        .iter()
        .copied()
        .filter(|x| *x != Factor::BackupCode)
        .collect();
    // 4. A prompting policy suggests MFA to a user who has not turned it on nor skipped it
    //    (a user from before `enabled` existed counts as on when a factor is bound).
    let on = f.config.enabled == Some(true)
        || f.turned_on
        || !f.binding.is_empty()
        || (f.config.enabled.is_none() && !f.bound.is_empty());
    if policy.skippable() && !f.skipped && !on {
        return Gate::Suggest(available);
    }
    // 5. What the policy requires.
    let has_main = |list: &[Factor]| list.iter().any(|x| *x != Factor::BackupCode);
    let fulfilled = has_main(&f.bound) || has_main(&f.binding);
    if !fulfilled {
        if policy.skippable() && f.skipped {
            return Gate::Pass;
        }
        return Gate::Bind {
            available,
            skippable: policy.skippable(),
        };
    }
    if let Some(g) = suggest_additional(f, &available) {
        return g;
    }
    let backup_bound =
        f.bound.contains(&Factor::BackupCode) || f.binding.contains(&Factor::BackupCode);
    if enabled.contains(&Factor::BackupCode) && !backup_bound {
        return Gate::BackupCodeRequired;
    }
    Gate::Pass
}

/// Logto's `guardAdditionalBindingSuggestion`, at registration only (Logto's stated intent;
/// it asks again at every sign-in): a new account whose factors are all ways in as well
/// (an email or phone it signs up with, a passkey that signs in) is offered one that is not.
fn suggest_additional(f: &Facts, available: &[Factor]) -> Option<Gate> {
    if !f.registering || f.suggestion_skipped {
        return None;
    }
    let have: Vec<Factor> = f.bound.iter().chain(&f.binding).copied().collect();
    let has = |x: Factor| have.contains(&x);
    // A factor that is a second factor only (no way in).
    let factor_only = |x: Factor| match x {
        Factor::EmailVerificationCode => !f.sign_up_email,
        Factor::PhoneVerificationCode => !f.sign_up_phone,
        Factor::WebAuthn => !f.passkey_sign_in,
        Factor::Totp | Factor::BackupCode => true,
    };
    if have.iter().any(|x| factor_only(*x)) {
        return None;
    }
    // Only what would end the suggestion is offered; nothing to offer, no suggestion.
    let offer: Vec<Factor> = available
        .iter()
        .copied()
        .filter(|x| factor_only(*x) && !has(*x))
        .collect();
    if offer.is_empty() {
        return None;
    }
    Some(Gate::SuggestAdditional {
        available: offer,
        passkey: f.passkey_sign_in && has(Factor::WebAuthn),
    })
}

/// An address shown to someone who has proven only a password: `a***@example.com`,
/// `***1234` (Logto's `maskedIdentifiers`).
pub fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => {
            let digits: Vec<char> = address.chars().collect();
            let tail: String = digits.iter().skip(digits.len().saturating_sub(4)).collect();
            format!("***{tail}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(policy: Policy, factors: &[Factor]) -> MfaSettings {
        MfaSettings {
            factors: factors.to_vec(),
            policy,
            organization_required_mfa_policy: None,
        }
    }

    #[test]
    fn a_user_with_a_factor_must_verify_it_whatever_the_policy() {
        let s = settings(Policy::NoPrompt, &[Factor::Totp]);
        let f = Facts {
            bound: vec![Factor::Totp],
            ..Facts::default()
        };
        assert_eq!(gate(&s, &f), Gate::VerifyFirst(vec![Factor::Totp]));
        let done = Facts {
            verified: true,
            ..f
        };
        assert_eq!(gate(&s, &done), Gate::Pass);
    }

    #[test]
    fn mandatory_asks_to_bind_then_for_backup_codes_and_cannot_be_skipped() {
        let s = settings(Policy::Mandatory, &[Factor::Totp, Factor::BackupCode]);
        let none = Facts {
            skipped: true,
            ..Facts::default()
        };
        assert_eq!(
            gate(&s, &none),
            Gate::Bind {
                available: vec![Factor::Totp],
                skippable: false
            }
        );
        let binding = Facts {
            binding: vec![Factor::Totp],
            ..Facts::default()
        };
        assert_eq!(gate(&s, &binding), Gate::BackupCodeRequired);
        let both = Facts {
            binding: vec![Factor::Totp, Factor::BackupCode],
            ..Facts::default()
        };
        assert_eq!(gate(&s, &both), Gate::Pass);
    }

    #[test]
    fn a_prompting_policy_suggests_then_asks_to_bind_can_be_skipped_and_spares_registration() {
        let s = settings(Policy::PromptAtSignInAndSignUp, &[Factor::Totp]);
        assert_eq!(
            gate(&s, &Facts::default()),
            Gate::Suggest(vec![Factor::Totp])
        );
        let turned_on = Facts {
            turned_on: true,
            ..Facts::default()
        };
        assert_eq!(
            gate(&s, &turned_on),
            Gate::Bind {
                available: vec![Factor::Totp],
                skippable: true
            }
        );
        let skipped = Facts {
            skipped: true,
            ..Facts::default()
        };
        assert_eq!(gate(&s, &skipped), Gate::Pass);
        let s = settings(Policy::PromptOnlyAtSignIn, &[Factor::Totp]);
        let reg = Facts {
            registering: true,
            ..Facts::default()
        };
        assert_eq!(gate(&s, &reg), Gate::Pass);
        assert_eq!(
            gate(
                &settings(Policy::NoPrompt, &[Factor::Totp]),
                &Facts::default()
            ),
            Gate::Pass
        );
    }

    #[test]
    fn preferences_are_merged_into_the_users_config_keeping_every_other_key() {
        let raw = r#"{"mfa":{"additionalBindingSuggestionSkipped":true,"enabled":true},"other":1,"passkeySignIn":7}"#;
        let mut c = UserMfaConfig::of_config(raw);
        assert_eq!(c.enabled, Some(true));
        c.enabled = None;
        c.passkey_skipped = true;
        let v: serde_json::Value = serde_json::from_str(&c.merged_into(raw)).unwrap();
        assert_eq!(v["other"], 1);
        assert_eq!(v["mfa"]["additionalBindingSuggestionSkipped"], true);
        assert!(v["mfa"].get("enabled").is_none());
        assert_eq!(v["passkeySignIn"]["skipped"], true);
        assert_eq!(UserMfaConfig::of_config(&c.merged_into("not json")), c);
    }

    #[test]
    fn logtos_settings_checks() {
        let bad = |f: &[Factor]| settings(Policy::Mandatory, f).validate().unwrap_err().0;
        assert_eq!(
            bad(&[Factor::Totp, Factor::Totp]),
            "sign_in_experiences.duplicated_mfa_factors"
        );
        assert_eq!(
            bad(&[Factor::BackupCode]),
            "sign_in_experiences.backup_code_cannot_be_enabled_alone"
        );
        assert!(
            settings(Policy::Mandatory, &[Factor::Totp, Factor::BackupCode])
                .validate()
                .is_ok()
        );
        let old: Policy = serde_json::from_str("\"UserControlled\"").unwrap();
        assert!(old.skippable());
    }
}
