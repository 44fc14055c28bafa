//! The MFA screens by path, and which one a submit that stopped for MFA goes to.
use crate::experience::Failure;
use crate::identity::Channel;
use crate::mfa::Factor;

#[derive(Clone, Copy, PartialEq)]
pub enum Screen {
    /// A code of the user's authenticator app.
    Verify,
    /// One of the user's backup codes.
    BackupCode,
    /// Bind an authenticator app.
    BindTotp,
    /// Save new backup codes.
    BackupCodes,
    /// Skip binding (POST only).
    Skip,
    /// Bind a passkey.
    BindPasskey,
    /// A passkey was verified as the second factor (POST only, by the page's script).
    Passkey,
    /// A passkey signed in (POST only, by the sign-in page's script).
    SignInPasskey,
    /// Send a code to the user's primary email address or phone number (POST only).
    SendCode(Channel),
    /// The code that was sent.
    Code,
    /// An email address or phone number to bind as the second factor: a code goes there.
    BindAddress(Channel),
    /// Make a passkey for passkey sign-in, or decline (Logto's `user.passkey_preferred`).
    PreferPasskey,
    /// Decline the passkey (POST only).
    SkipPasskey,
    /// Add a factor that is not also a way in, or decline (Logto's
    /// `session.mfa.suggest_additional_mfa`).
    More,
    /// Decline the further factor (POST only).
    SkipMore,
}

impl Screen {
    pub fn of(path: &str) -> Option<Screen> {
        Some(match path {
            "/mfa/verify" => Screen::Verify,
            "/mfa/backup-code" => Screen::BackupCode,
            "/mfa/totp/bind" => Screen::BindTotp,
            "/mfa/backup-codes" => Screen::BackupCodes,
            "/mfa/skip" => Screen::Skip,
            "/mfa/passkey/bind" => Screen::BindPasskey,
            "/mfa/passkey" => Screen::Passkey,
            "/sign-in/passkey" => Screen::SignInPasskey,
            "/mfa/email/send" => Screen::SendCode(Channel::Email),
            "/mfa/phone/send" => Screen::SendCode(Channel::Phone),
            "/mfa/code" => Screen::Code,
            "/mfa/email/bind" => Screen::BindAddress(Channel::Email),
            "/mfa/phone/bind" => Screen::BindAddress(Channel::Phone),
            "/mfa/passkey/create" => Screen::PreferPasskey,
            "/mfa/passkey/skip" => Screen::SkipPasskey,
            "/mfa/more" => Screen::More,
            "/mfa/more/skip" => Screen::SkipMore,
            _ => return None,
        })
    }
    pub fn action(self) -> &'static str {
        match self {
            Screen::Verify => "/mfa/verify",
            Screen::BackupCode => "/mfa/backup-code",
            Screen::BindTotp => "/mfa/totp/bind",
            Screen::BackupCodes => "/mfa/backup-codes",
            Screen::Skip => "/mfa/skip",
            Screen::BindPasskey => "/mfa/passkey/bind",
            Screen::Passkey => "/mfa/passkey",
            Screen::SignInPasskey => "/sign-in/passkey",
            Screen::SendCode(Channel::Email) => "/mfa/email/send",
            Screen::SendCode(Channel::Phone) => "/mfa/phone/send",
            Screen::Code => "/mfa/code",
            Screen::BindAddress(Channel::Email) => "/mfa/email/bind",
            Screen::BindAddress(Channel::Phone) => "/mfa/phone/bind",
            Screen::PreferPasskey => "/mfa/passkey/create",
            Screen::SkipPasskey => "/mfa/passkey/skip",
            Screen::More => "/mfa/more",
            Screen::SkipMore => "/mfa/more/skip",
        }
    }
    /// Whether the screen has a page to `GET` (the others only take a post).
    pub fn has_page(self) -> bool {
        !matches!(
            self,
            Screen::Skip
                | Screen::Passkey
                | Screen::SignInPasskey
                | Screen::SendCode(_)
                | Screen::SkipPasskey
                | Screen::SkipMore
        )
    }
}

/// Where a submit that stopped for MFA goes next, if it did.
pub fn next_screen(f: &Failure) -> Option<&'static str> {
    match f {
        Failure::MfaRequired { available, .. }
            if available.iter().any(|f| *f != Factor::BackupCode) =>
        {
            Some("/mfa/verify")
        }
        Failure::MfaRequired { .. } => Some("/mfa/backup-code"),
        Failure::MissingMfa { available, .. } | Failure::SuggestMfa(available)
            if available.contains(&Factor::Totp) =>
        {
            Some("/mfa/totp/bind")
        }
        Failure::MissingMfa { available, .. } | Failure::SuggestMfa(available)
            if available.contains(&Factor::WebAuthn) =>
        {
            Some("/mfa/passkey/bind")
        }
        Failure::MissingMfa { available, .. } | Failure::SuggestMfa(available)
            if available.contains(&Factor::EmailVerificationCode) =>
        {
            Some("/mfa/email/bind")
        }
        Failure::MissingMfa { available, .. } | Failure::SuggestMfa(available)
            if available.contains(&Factor::PhoneVerificationCode) =>
        {
            Some("/mfa/phone/bind")
        }
        Failure::BackupCodeRequired => Some("/mfa/backup-codes"),
        Failure::PasskeyPreferred => Some("/mfa/passkey/create"),
        Failure::SuggestAdditionalMfa { .. } => Some("/mfa/more"),
        _ => None,
    }
}
