//! Sign-in experience settings (`/api/sign-in-exp`), with Logto's field names and defaults.
use serde::Serialize;

pub use crate::identity::Identifier;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignUp {
    /// Which identifiers a new account needs; `[email, phone]` means email or phone.
    pub identifiers: Vec<Identifier>,
    pub password: bool,
    pub verify: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInMethod {
    pub identifier: Identifier,
    pub password: bool,
    pub verification_code: bool,
    pub is_password_primary: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignIn {
    pub methods: Vec<SignInMethod>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SignInMode {
    SignIn,
    Register,
    SignInAndRegister,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AgreeToTermsPolicy {
    Automatic,
    ManualRegistrationOnly,
    Manual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ForgotPasswordMethod {
    EmailVerificationCode,
    PhoneVerificationCode,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Range {
    pub min: u32,
    pub max: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CharacterTypes {
    pub min: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejects {
    /// Accepted for compatibility; checking breached passwords needs a network service
    /// and is not done.
    pub pwned: bool,
    pub repetition_and_sequence: bool,
    pub user_info: bool,
    pub words: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordPolicy {
    pub length: Range,
    pub character_types: CharacterTypes,
    pub rejects: Rejects,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Color {
    pub primary_color: String,
    pub is_dark_mode_enabled: bool,
    pub dark_primary_color: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Branding {
    /// The product name shown in page titles (ours; Logto takes it from the tenant).
    pub name: Option<String>,
    pub logo_url: Option<String>,
    pub dark_logo_url: Option<String>,
    pub favicon: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LanguageInfo {
    pub auto_detect: bool,
    pub fallback_language: String,
}

/// Gatehouse's username rule (Logto's is fixed; this makes its length configurable).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsernamePolicy {
    pub min_length: u32,
    pub max_length: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub id: String,
    pub color: Color,
    pub branding: Branding,
    pub language_info: LanguageInfo,
    pub terms_of_use_url: Option<String>,
    pub privacy_policy_url: Option<String>,
    pub agree_to_terms_policy: AgreeToTermsPolicy,
    pub sign_in: SignIn,
    pub sign_up: SignUp,
    pub sign_in_mode: SignInMode,
    pub forgot_password_methods: Vec<ForgotPasswordMethod>,
    pub password_policy: PasswordPolicy,
    pub username_policy: UsernamePolicy,
    pub custom_css: Option<String>,
    /// Multi-factor authentication: the factors offered and the policy (Logto's `mfa`).
    pub mfa: crate::mfa::MfaSettings,
    /// Passkeys as a first factor (Logto's `passkeySignIn`): off by default.
    pub passkey_sign_in: PasskeySignIn,
    /// Logto's `socialSignInConnectorTargets`: the social connectors whose buttons the
    /// sign-in page shows, by target, in this order.
    pub social_sign_in_connector_targets: Vec<String>,
    /// Logto's `singleSignOnEnabled`: email domains route users to enterprise SSO.
    pub single_sign_on_enabled: bool,
}

/// Logto's `passkeySignIn`: whether a passkey signs in without a password, whether the
/// sign-in page shows its button, and whether the browser may offer passkeys in the
/// identifier field's autofill (conditional UI).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeySignIn {
    pub enabled: bool,
    pub show_passkey_button: bool,
    pub allow_autofill: bool,
}

// Read column by column (`store::FromRow`), by their JSON (camelCase) names: a derived
// `Deserialize` for these fifteen types costs the module about 10 KiB. Unknown fields are
// refused by `unknown_field`, which compares the input with what was read.
mod read {
    use super::*;
    use crate::store::{FromRow, Row, StoreError};
    crate::column_enum!(SignInMode { SignIn = "SignIn", Register = "Register", SignInAndRegister = "SignInAndRegister" });
    crate::column_enum!(AgreeToTermsPolicy { Automatic = "Automatic", ManualRegistrationOnly = "ManualRegistrationOnly", Manual = "Manual" });
    crate::column_enum!(ForgotPasswordMethod { EmailVerificationCode = "EmailVerificationCode", PhoneVerificationCode = "PhoneVerificationCode" });
    crate::from_row!(SignUp {
        identifiers,
        password,
        verify
    });
    crate::column_via_from_row!(SignUp);
    crate::from_row!(SignInMethod {
        identifier,
        password,
        verification_code = "verificationCode",
        is_password_primary = "isPasswordPrimary",
    });
    crate::column_via_from_row!(SignInMethod);
    crate::from_row!(SignIn { methods });
    crate::column_via_from_row!(SignIn);
    crate::from_row!(Range { min, max });
    crate::column_via_from_row!(Range);
    crate::from_row!(CharacterTypes { min });
    crate::column_via_from_row!(CharacterTypes);
    crate::from_row!(Rejects {
        pwned,
        repetition_and_sequence = "repetitionAndSequence",
        user_info = "userInfo",
        words,
    });
    crate::column_via_from_row!(Rejects);
    crate::from_row!(PasswordPolicy {
        length,
        character_types = "characterTypes",
        rejects,
    });
    crate::column_via_from_row!(PasswordPolicy);
    crate::from_row!(Color {
        primary_color = "primaryColor",
        is_dark_mode_enabled = "isDarkModeEnabled",
        dark_primary_color = "darkPrimaryColor",
    });
    crate::column_via_from_row!(Color);
    crate::from_row!(Branding {
        name,
        logo_url = "logoUrl",
        dark_logo_url = "darkLogoUrl",
        favicon,
    });
    crate::column_via_from_row!(Branding);
    crate::from_row!(LanguageInfo {
        auto_detect = "autoDetect",
        fallback_language = "fallbackLanguage",
    });
    crate::column_via_from_row!(LanguageInfo);
    crate::from_row!(UsernamePolicy {
        min_length = "minLength",
        max_length = "maxLength",
    });
    crate::column_via_from_row!(UsernamePolicy);
    impl FromRow for PasskeySignIn {
        fn from_row(r: &Row) -> Result<Self, StoreError> {
            crate::cols!(r, PasskeySignIn { enabled: or_default, show_passkey_button = "showPasskeyButton": or_default, allow_autofill = "allowAutofill": or_default })
        }
    }
    crate::column_via_from_row!(PasskeySignIn);
    impl crate::store::StandIn for PasskeySignIn {
        fn stand_in() -> Self {
            Self::default()
        }
    }

    impl FromRow for Settings {
        fn from_row(r: &Row) -> Result<Self, StoreError> {
            crate::cols!(r, Settings { id, color, branding: or_default, language_info = "languageInfo", terms_of_use_url = "termsOfUseUrl", privacy_policy_url = "privacyPolicyUrl", agree_to_terms_policy = "agreeToTermsPolicy", sign_in = "signIn", sign_up = "signUp", sign_in_mode = "signInMode", forgot_password_methods = "forgotPasswordMethods", password_policy = "passwordPolicy", username_policy = "usernamePolicy", custom_css = "customCss", mfa: or_default, passkey_sign_in = "passkeySignIn": or_default, social_sign_in_connector_targets = "socialSignInConnectorTargets": or_default, single_sign_on_enabled = "singleSignOnEnabled": or_default })
        }
    }
}

/// The first field of `input` that `read` (the same settings, read and written back) does
/// not have: a field nobody knows, which a typo would otherwise lose silently.
pub fn unknown_field(input: &serde_json::Value, read: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match (input, read) {
        (Value::Object(i), Value::Object(r)) => i.iter().find_map(|(k, v)| match r.get(k) {
            None if !v.is_null() => Some(k.clone()),
            None => None,
            Some(rv) => unknown_field(v, rv).map(|inner| format!("{k}.{inner}")),
        }),
        (Value::Array(i), Value::Array(r)) => i
            .iter()
            .zip(r)
            .enumerate()
            .find_map(|(n, (a, b))| unknown_field(a, b).map(|inner| format!("{n}.{inner}"))),
        _ => None,
    }
}

impl Default for Settings {
    fn default() -> Self {
        let method = |identifier, verification_code| SignInMethod {
            identifier,
            password: true,
            verification_code,
            is_password_primary: true,
        };
        Settings {
            id: "default".into(),
            color: Color {
                primary_color: "#3B3BD4".into(),
                is_dark_mode_enabled: true,
                dark_primary_color: "#9D9DFF".into(),
            },
            branding: Branding::default(),
            language_info: LanguageInfo {
                auto_detect: true,
                fallback_language: "en".into(),
            },
            terms_of_use_url: None,
            privacy_policy_url: None,
            agree_to_terms_policy: AgreeToTermsPolicy::Automatic,
            sign_in: SignIn {
                methods: vec![
                    method(Identifier::Username, false),
                    method(Identifier::Email, true),
                ],
            },
            sign_up: SignUp {
                identifiers: vec![Identifier::Username],
                password: true,
                verify: false,
            },
            sign_in_mode: SignInMode::SignInAndRegister,
            forgot_password_methods: vec![ForgotPasswordMethod::EmailVerificationCode],
            password_policy: PasswordPolicy {
                length: Range { min: 8, max: 256 },
                character_types: CharacterTypes { min: 1 },
                rejects: Rejects {
                    pwned: false,
                    repetition_and_sequence: true,
                    user_info: true,
                    words: Vec::new(),
                },
            },
            username_policy: UsernamePolicy {
                min_length: 1,
                max_length: 128,
            },
            custom_css: None,
            mfa: crate::mfa::MfaSettings::default(),
            passkey_sign_in: PasskeySignIn::default(),
            social_sign_in_connector_targets: Vec::new(),
            single_sign_on_enabled: false,
        }
    }
}

pub const LANGUAGES: &[&str] = &["en", "de"];

fn is_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s.bytes().skip(1).all(|b| b.is_ascii_hexdigit())
}

impl Settings {
    /// Whether a user may bind a passkey: as a second factor, or for passkey sign-in (every
    /// face asks this one question).
    pub fn passkeys_bindable(&self) -> bool {
        self.mfa.enabled(crate::mfa::Factor::WebAuthn) || self.passkey_sign_in.enabled
    }

    /// Checks what the types cannot; returns the first problem in words.
    /// Logto's rule: an email (phone) code cannot be the second factor while it is also a way
    /// to sign in (it would prove the same thing twice). The error code and its words.
    pub fn validate_mfa_codes(&self) -> Result<(), (&'static str, String)> {
        use crate::mfa::Factor;
        let checks = [
            (
                Factor::EmailVerificationCode,
                Identifier::Email,
                "sign_in_experiences.email_verification_code_cannot_be_used_for_mfa",
            ),
            (
                Factor::PhoneVerificationCode,
                Identifier::Phone,
                "sign_in_experiences.phone_verification_code_cannot_be_used_for_mfa",
            ),
        ];
        for (factor, identifier, code) in checks {
            let signs_in = self
                .sign_in
                .methods
                .iter()
                .any(|m| m.identifier == identifier && m.verification_code);
            if self.mfa.enabled(factor) && signs_in {
                return Err((
                    code,
                    format!(
                        "{} cannot be an MFA factor while a code sent to the {} signs in (signIn.methods)",
                        factor.as_str(),
                        identifier.as_str()
                    ),
                ));
            }
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), String> {
        let p = &self.password_policy;
        if p.length.min < 1 || p.length.max > 256 || p.length.min > p.length.max {
            return Err("passwordPolicy.length must satisfy 1 ≤ min ≤ max ≤ 256".into());
        }
        if !(1..=4).contains(&p.character_types.min) {
            return Err("passwordPolicy.characterTypes.min must be from 1 to 4".into());
        }
        if p.rejects.words.len() > 1000
            || p.rejects
                .words
                .iter()
                .any(|w| w.is_empty() || w.len() > 128)
        {
            return Err(
                "passwordPolicy.rejects.words takes at most 1000 words of 1 to 128 characters"
                    .into(),
            );
        }
        let targets = &self.social_sign_in_connector_targets;
        if targets.len() > 32 || targets.iter().any(|t| t.is_empty() || t.len() > 64) {
            return Err(
                "socialSignInConnectorTargets takes at most 32 targets of 1 to 64 characters"
                    .into(),
            );
        }
        let u = &self.username_policy;
        if u.min_length < 1 || u.max_length > 128 || u.min_length > u.max_length {
            return Err("usernamePolicy must satisfy 1 ≤ minLength ≤ maxLength ≤ 128".into());
        }
        let ids = &self.sign_up.identifiers;
        if ids.is_empty() && self.sign_in_mode != SignInMode::SignIn {
            return Err("signUp.identifiers must name at least one identifier".into());
        }
        if ids.contains(&Identifier::Username) && !self.sign_up.password {
            return Err("a username sign-up needs signUp.password".into());
        }
        if (ids.contains(&Identifier::Email) || ids.contains(&Identifier::Phone))
            && !self.sign_up.verify
        {
            return Err("an email or phone sign-up needs signUp.verify".into());
        }
        if self.sign_in.methods.is_empty() {
            return Err("signIn.methods must not be empty".into());
        }
        for m in &self.sign_in.methods {
            if !m.password && !m.verification_code {
                return Err("each sign-in method needs password or verificationCode".into());
            }
            if m.identifier == Identifier::Username && !m.password {
                return Err("username sign-in needs a password".into());
            }
        }
        if self
            .branding
            .name
            .as_ref()
            .is_some_and(|n| n.trim().is_empty() || n.chars().count() > 64)
        {
            return Err("branding.name must be 1 to 64 characters".into());
        }
        if !is_color(&self.color.primary_color) || !is_color(&self.color.dark_primary_color) {
            return Err("colors must be #RRGGBB".into());
        }
        if !LANGUAGES.contains(&self.language_info.fallback_language.as_str()) {
            return Err(format!(
                "languageInfo.fallbackLanguage must be one of {}",
                LANGUAGES.join(", ")
            ));
        }
        if self
            .custom_css
            .as_ref()
            .is_some_and(|c| c.len() > 16 * 1024 || c.contains("</"))
        {
            return Err("customCss must be at most 16 KiB and must not contain `</`".into());
        }
        for url in [
            &self.terms_of_use_url,
            &self.privacy_policy_url,
            &self.branding.logo_url,
            &self.branding.dark_logo_url,
            &self.branding.favicon,
        ]
        .into_iter()
        .flatten()
        {
            match crate::uri::Uri::parse(url) {
                Some(u) if u.is_web() && url.len() <= 2048 => {}
                _ => return Err(format!("`{url}` is not an http(s) URL")),
            }
        }
        Ok(())
    }

    pub fn registration_allowed(&self) -> bool {
        self.sign_in_mode != SignInMode::SignIn
    }

    pub fn sign_in_allowed(&self) -> bool {
        self.sign_in_mode != SignInMode::Register
    }

    /// Whether the terms must be ticked for this event.
    pub fn terms_required(&self, registering: bool) -> bool {
        let has_terms = self.terms_of_use_url.is_some() || self.privacy_policy_url.is_some();
        has_terms
            && match self.agree_to_terms_policy {
                AgreeToTermsPolicy::Automatic => false,
                AgreeToTermsPolicy::ManualRegistrationOnly => registering,
                AgreeToTermsPolicy::Manual => true,
            }
    }
}

/// Deep-merges a JSON patch into `base` (objects merge, everything else replaces).
pub fn merge(base: &mut serde_json::Value, patch: serde_json::Value) {
    match (base, patch) {
        (serde_json::Value::Object(b), serde_json::Value::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (b, p) => *b = p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_logto_shaped() {
        let s = Settings::default();
        assert_eq!(s.validate(), Ok(()));
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["signInMode"], "SignInAndRegister");
        assert_eq!(v["signUp"]["identifiers"][0], "username");
        assert_eq!(v["passwordPolicy"]["length"]["min"], 8);
        assert_eq!(v["agreeToTermsPolicy"], "Automatic");
        assert_eq!(v["forgotPasswordMethods"][0], "EmailVerificationCode");
    }

    #[test]
    fn settings_read_back_what_they_wrote_and_name_an_unknown_field() {
        let mut s = Settings::default();
        s.branding.name = Some("Acme".into());
        s.terms_of_use_url = Some("https://example.com/terms".into());
        s.mfa.factors = vec![crate::mfa::Factor::Totp];
        let v = serde_json::to_value(&s).unwrap();
        let back: Settings = crate::store::FromRow::from_row(v.as_object().unwrap()).unwrap();
        assert_eq!(back, s);
        let mut typo = v.clone();
        typo["passwordPolicy"]["lenght"] = serde_json::json!({"min": 1});
        assert_eq!(
            unknown_field(&typo, &v).as_deref(),
            Some("passwordPolicy.lenght")
        );
        let mut nested = v.clone();
        nested["signIn"]["methods"][1]["extra"] = serde_json::json!(true);
        assert_eq!(
            unknown_field(&nested, &v).as_deref(),
            Some("signIn.methods.1.extra")
        );
        assert_eq!(unknown_field(&v, &v), None);
    }

    #[test]
    fn merge_patches_nested_fields_only() {
        let mut base = serde_json::to_value(Settings::default()).unwrap();
        merge(
            &mut base,
            serde_json::json!({"passwordPolicy": {"length": {"min": 12}}, "signInMode": "SignIn"}),
        );
        let s: Settings = crate::store::FromRow::from_row(base.as_object().unwrap()).unwrap();
        assert_eq!(s.password_policy.length, Range { min: 12, max: 256 });
        assert_eq!(s.sign_in_mode, SignInMode::SignIn);
        assert!(!s.registration_allowed());
    }

    #[test]
    #[allow(clippy::field_reassign_with_default)]
    fn inconsistent_settings_are_refused() {
        let mut s = Settings::default();
        s.sign_up = SignUp {
            identifiers: vec![Identifier::Username],
            password: false,
            verify: false,
        };
        assert!(s.validate().is_err());
        let mut s = Settings::default();
        s.password_policy.length = Range { min: 10, max: 5 };
        assert!(s.validate().is_err());
        let mut s = Settings::default();
        s.custom_css = Some("</style><script>".into());
        assert!(s.validate().is_err());
        let mut s = Settings::default();
        s.terms_of_use_url = Some("javascript:alert(1)".into());
        assert!(s.validate().is_err());
    }

    #[test]
    fn terms_policy() {
        let mut s = Settings::default();
        assert!(!s.terms_required(true));
        s.terms_of_use_url = Some("https://example.com/terms".into());
        s.agree_to_terms_policy = AgreeToTermsPolicy::ManualRegistrationOnly;
        assert!(s.terms_required(true));
        assert!(!s.terms_required(false));
        s.agree_to_terms_policy = AgreeToTermsPolicy::Manual;
        assert!(s.terms_required(false));
    }
}
