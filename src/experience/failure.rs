//! Why an experience step failed, and its words for the hosted pages.
use super::identity;
use super::password_policy::Rejection;
use super::policy::Refusal;
use super::state::StepError;
use crate::error::InternalError;
use crate::i18n::Msg;

/// Why an experience step failed. The Experience API answers it as `{code, message}`
/// (`wire.rs`); the hosted pages show [`Failure::msg`] in the user's language, and the API's
/// message is the English text of the same id.
#[derive(Debug)]
pub enum Failure {
    Step(StepError),
    NoInteraction,
    InvalidCredentials,
    Locked {
        until: i64,
    },
    Refused(Refusal),
    UsernameTaken,
    InvalidUsername,
    UsernameLength {
        min: u32,
        max: u32,
    },
    InvalidEmail,
    InvalidPhone,
    WeakPassword(Vec<Rejection>),
    NeedsVerification,
    TermsNotAgreed,
    /// A request the Experience API cannot take (a missing or unknown field).
    Invalid(String),
    ResendTooSoon {
        seconds: i64,
    },
    WrongCode,
    CodeExpiredOrLocked,
    NoConnector,
    UserNotFound,
    EmailTaken,
    /// Input longer than any real value (an identifier, a password): refused before any
    /// work or write.
    TooLong,
    /// The person is locked by failed attempts: a code went to the account's address, if it
    /// has one; once `verification_id` is verified, the password is checked again.
    SecondProof {
        verification_id: String,
    },
    /// A user with MFA must verify one of these factors before the session starts; the
    /// addresses that codes would go to, masked.
    MfaRequired {
        available: Vec<crate::mfa::Factor>,
        masked: Vec<(crate::mfa::Factor, String)>,
    },
    /// A new account's factors are all ways in too: one more is offered (may be declined).
    SuggestAdditionalMfa {
        available: Vec<crate::mfa::Factor>,
        masked: Vec<(crate::mfa::Factor, String)>,
        passkey: bool,
    },
    /// Passkey sign-in is on and the user has no passkey: make one, or decline.
    PasskeyPreferred,
    /// The user has that factor already (an address of that kind, to bind as one).
    BindMfaExisted,
    /// No social connector of that id.
    NoSocialConnector,
    /// The provider's answer was refused (why).
    Social(crate::social::oidc::SocialError),
    /// The answer's `state` is not the one this sign-in sent.
    SocialStateMismatch,
    /// A SAML response names no sign-in waiting for it (its `RelayState`).
    SamlSessionNotFound,
    /// No user has this social identity; `related` is one with the same verified email
    /// (`("email", address)`) or phone, to link it to with `linkSocialIdentity`.
    IdentityNotExist {
        related: Option<(&'static str, String)>,
    },
    /// The social identity is another user's already.
    IdentityInUse,
    /// The email's domain belongs to these enterprise SSO connectors: sign in through one.
    SsoEnabled(Vec<String>),
    /// The policy asks the user to bind one of these factors (`skippable` if it may skip).
    MissingMfa {
        available: Vec<crate::mfa::Factor>,
        skippable: bool,
    },
    BackupCodeRequired,
    /// A prompting policy offers MFA: bind one of these, turn it on, or skip.
    SuggestMfa(Vec<crate::mfa::Factor>),
    InvalidTotp,
    InvalidBackupCode,
    MfaFactorNotEnabled,
    TotpAlreadyInUse,
    BackupCodeAlone,
    MfaNotSkippable,
    /// MFA steps have no place in a password reset.
    NotForForgotPassword,
    /// A WebAuthn response was refused; why (Logto's `data.message`).
    WebAuthnFailed(String),
    /// The user has no passkey to verify with.
    NoPasskey,
    /// A passkey sign-in answered no challenge issued in this interaction.
    PasskeyPending,
    /// The passkey belongs to another user than the one this ceremony was for.
    IdentityConflict,
    /// Too many wrong second-factor codes for this user; retry after this time (seconds).
    MfaBlocked {
        until: i64,
    },
    Internal(InternalError),
}

impl<E: Into<InternalError>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Internal(e.into())
    }
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Self {
        Failure::Refused(r)
    }
}

impl From<identity::IdentityError> for Failure {
    fn from(e: identity::IdentityError) -> Self {
        match e {
            identity::IdentityError::InvalidUsername => Failure::InvalidUsername,
            identity::IdentityError::InvalidEmail => Failure::InvalidEmail,
            identity::IdentityError::InvalidPhone => Failure::InvalidPhone,
        }
    }
}

impl Failure {
    /// What to tell the person, with the placeholders to fill (`now` for the minutes a
    /// lockout has left).
    pub fn msg(&self, now: i64) -> (Msg, Vec<(&'static str, String)>) {
        let plain = |m| (m, Vec::new());
        match self {
            Failure::InvalidCredentials => plain(Msg::WrongCredentials),
            Failure::Locked { until } => {
                let minutes = (until - now + 59).div_euclid(60).max(1);
                (Msg::Locked, vec![("n", minutes.to_string())])
            }
            Failure::Refused(Refusal::SignInMethod) => plain(Msg::MethodNotEnabled),
            Failure::Refused(Refusal::SignUpMethod) => plain(Msg::SignUpMethodNotEnabled),
            Failure::Refused(Refusal::ForgotPasswordMethod) => plain(Msg::ResetNotEnabled),
            Failure::Refused(Refusal::SignInClosed) => plain(Msg::SignInClosed),
            Failure::Refused(Refusal::RegistrationClosed) => plain(Msg::RegistrationClosed),
            Failure::UsernameTaken => plain(Msg::UsernameTaken),
            Failure::InvalidUsername => plain(Msg::InvalidUsername),
            Failure::UsernameLength { min, max } => (
                Msg::UsernameLength,
                vec![("min", min.to_string()), ("max", max.to_string())],
            ),
            Failure::InvalidEmail => plain(Msg::InvalidEmail),
            Failure::InvalidPhone => plain(Msg::InvalidPhone),
            Failure::WeakPassword(_) => plain(Msg::WeakPassword),
            Failure::NeedsVerification => plain(Msg::NeedsVerification),
            Failure::TermsNotAgreed => plain(Msg::TermsRequired),
            Failure::ResendTooSoon { seconds } => {
                (Msg::ResendWait, vec![("n", seconds.to_string())])
            }
            Failure::WrongCode => plain(Msg::WrongCode),
            Failure::CodeExpiredOrLocked => plain(Msg::CodeExpired),
            Failure::NoConnector => plain(Msg::CannotSend),
            Failure::UserNotFound => plain(Msg::NoAccountFound),
            Failure::EmailTaken => plain(Msg::EmailTaken),
            Failure::TooLong => plain(Msg::TooLong),
            Failure::SecondProof { .. } => plain(Msg::UnlockIntro),
            Failure::MfaRequired { .. } => plain(Msg::MfaVerifyIntro),
            Failure::MissingMfa { .. } | Failure::SuggestMfa(_) => plain(Msg::BindTotpIntro),
            Failure::SuggestAdditionalMfa { .. } => plain(Msg::MoreFactorsIntro),
            Failure::PasskeyPreferred => plain(Msg::PreferPasskeyIntro),
            Failure::BindMfaExisted => plain(Msg::MfaNotPossible),
            Failure::NoSocialConnector
            | Failure::Social(_)
            | Failure::SocialStateMismatch
            | Failure::SamlSessionNotFound => plain(Msg::SocialFailed),
            Failure::IdentityNotExist { .. } => plain(Msg::NoAccountFound),
            Failure::IdentityInUse => plain(Msg::SocialInUse),
            Failure::SsoEnabled(_) => plain(Msg::SsoRequired),
            Failure::BackupCodeRequired => plain(Msg::BackupCodesIntro),
            Failure::InvalidTotp => plain(Msg::InvalidTotp),
            Failure::InvalidBackupCode => plain(Msg::InvalidBackupCode),
            Failure::WebAuthnFailed(_) | Failure::PasskeyPending => plain(Msg::PasskeyFailed),
            Failure::NoPasskey | Failure::IdentityConflict => plain(Msg::PasskeyUnknown),
            Failure::MfaFactorNotEnabled
            | Failure::NotForForgotPassword
            | Failure::TotpAlreadyInUse
            | Failure::BackupCodeAlone
            | Failure::MfaNotSkippable => plain(Msg::MfaNotPossible),
            Failure::MfaBlocked { until } => {
                let minutes = (until - now + 59).div_euclid(60).max(1);
                (Msg::Locked, vec![("n", minutes.to_string())])
            }
            Failure::NoInteraction => plain(Msg::InteractionExpired),
            Failure::Step(_) | Failure::Invalid(_) | Failure::Internal(_) => {
                plain(Msg::SomethingWrong)
            }
        }
    }
}
