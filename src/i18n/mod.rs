//! The user's language and every sentence Gatehouse shows a person, by message id.
//!
//! Invariant: each language has one catalog (`en.rs`, `de.rs`), an exhaustive `match` over
//! [`Msg`]; a message without a text in some language does not compile, and the tests below
//! check that every text keeps the placeholders (`{app}`, `{n}`, …) of the English one. The
//! core names what happened with a `Msg`; the faces put it into words with [`Lang::t`].
mod de;
mod en;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag
            .trim()
            .split(['-', '_', ';'])
            .next()?
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "de" => Some(Lang::De),
            _ => None,
        }
    }

    /// `ui_locales` (space-separated, in order of preference), then the browser's languages
    /// (`accepted`, most preferred first, as the face read them from `Accept-Language`), then
    /// `fallback`.
    pub fn pick(ui_locales: Option<&str>, accepted: &[String], fallback: &str) -> Lang {
        ui_locales
            .and_then(|u| u.split(' ').find_map(Lang::from_tag))
            .or_else(|| accepted.iter().find_map(|t| Lang::from_tag(t)))
            .or_else(|| Lang::from_tag(fallback))
            .unwrap_or(Lang::En)
    }

    /// The text of `m` in this language.
    pub fn t(self, m: Msg) -> &'static str {
        match self {
            Lang::En => en::text(m),
            Lang::De => de::text(m),
        }
    }

    /// The text of `m` with its `{name}` placeholders filled.
    pub fn fill(self, m: Msg, args: &[(&str, &str)]) -> String {
        let mut s = self.t(m).to_owned();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }
}

macro_rules! messages {
    ($($id:ident),* $(,)?) => {
        /// Every sentence shown to a person, by id.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Msg { $($id),* }
        impl Msg {
            pub const ALL: &'static [Msg] = &[$(Msg::$id),*];
        }
    };
}

messages! {
    // Sign-in and registration forms
    SignIn, ContinueTo, Identifier, Password, SubmitSignIn, NoAccount, CreateAccount,
    RegisterTitle, Username, NewPassword, SubmitRegister, HaveAccount, AgreePrefix, Terms,
    Privacy, And, Email, Phone, EmailOrPhone, SendCode, SignInWithCode, UsePassword,
    ForgotPassword, ResetTitle, ResetIntro, VerifyTitle, VerifyIntro, Code, Continue,
    NewPasswordTitle, SavePassword, PasswordChanged, CodeHint, AddEmail, AddEmailIntro,
    AddUsername, AddUsernameIntro,
    // What went wrong in a step
    WrongCredentials, Locked, UsernameTaken, InvalidUsername, UsernameLength, WeakPassword, TermsRequired,
    RegistrationClosed, SignInClosed, SomethingWrong, WrongCode, CodeExpired, ResendWait,
    CannotSend, NoAccountFound, EmailTaken, InvalidEmail, InvalidPhone, MethodNotEnabled,
    SignUpMethodNotEnabled, ResetNotEnabled, NeedsVerification, TooLong, BodyTooLarge,
    UnlockTitle, UnlockIntro, Unlocked, MfaVerifyTitle, MfaVerifyIntro, TotpCodeLabel, InvalidTotp,
    InvalidBackupCode, BindTotpTitle, BindTotpIntro, SecretKey, BackupCodesTitle, BackupCodesIntro,
    UseBackupCode, BackupCodeLabel, SkipForNow, SavedCodes, MfaNotPossible,
    // Passkeys
    PasskeyFailed, PasskeyUnknown, MfaEmailCode, MfaPhoneCode, PasskeySignIn, UsePasskey, BindPasskeyTitle, BindPasskeyIntro, CreatePasskey,
    PreferPasskeyIntro, MoreFactorsTitle, MoreFactorsIntro, AddPhone, BindAddressIntro,
    // Social sign-in
    SocialContinue, SocialFailed, SocialInUse, LinkTitle, LinkIntro, LinkAccount, SsoRequired, SsoHint,
    // Password rules
    PwTooShort, PwTooLong, PwCharacterTypes, PwRepetition, PwUserInfo, PwWord,
    // Consent and sign-out
    ConsentHeading, SignedInAs, ConsentIntro, Cancel, Authorize, SignOut, SignOutQuestion,
    SignOutOf, StaySignedIn, SignedOut, StillSignedIn, CloseWindow, ChooseAuthorizeOrCancel,
    ScopeOpenid, ScopeProfile, ScopeEmail, ScopePhone, ScopeAddress, ScopeOfflineAccess,
    ScopeCustomData, ScopeIdentities, ScopeRoles, ScopeSessions, ScopeOther,
    // Error pages
    ErrorHeading, NotFoundHeading, NotFoundDetail, InternalHeading, InternalDetail, ErrorId,
    InteractionExpired, FormExpired, NotSignedIn, UnknownClient, MissingClientId,
    MissingRedirectUri, RepeatedParameter, RedirectUriNotRegistered, RedirectUriMalformed,
    ClientCannotSignIn, PostLogoutUriNotRegistered, PostLogoutUriMalformed, IdTokenHintInvalid,
    ClientIdHintMismatch,
    // The account page
    YourAccount, AccountName, Save, Saved, ChangePassword, CurrentPassword, WrongPassword,
    Sessions, SignedInSince, ThisSession, EndSession, SessionEnded, DeleteAccount,
    DeleteAccountWarning, AccountDeleted, AccountCenterOff, ChangeEmail, ChangePhone, AddressChanged,
    LinkedAccounts, Remove, Removed, LastWay, AuthenticatorApp, BackupCodes, Passkey,
    NewBackupCodes, BackupCodesRefused, AppRefused, LinkAnother, Link,
    // Messages with a code
    MailSignInSubject, MailSignInBody, MailRegisterSubject, MailRegisterBody,
    MailResetSubject, MailResetBody,
}

impl Msg {
    /// The consent page's words for an OIDC scope, if it is one.
    pub fn for_scope(scope: &str) -> Option<Msg> {
        Some(match scope {
            "openid" => Msg::ScopeOpenid,
            "profile" => Msg::ScopeProfile,
            "email" => Msg::ScopeEmail,
            "phone" => Msg::ScopePhone,
            "address" => Msg::ScopeAddress,
            "offline_access" => Msg::ScopeOfflineAccess,
            "custom_data" => Msg::ScopeCustomData,
            "identities" => Msg::ScopeIdentities,
            "roles" => Msg::ScopeRoles,
            "urn:logto:scope:sessions" => Msg::ScopeSessions,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Lang, Msg};

    #[test]
    fn picks_ui_locales_then_the_browser_languages_then_fallback() {
        let tags = |t: &[&str]| t.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(Lang::pick(Some("fr de-CH"), &tags(&["en"]), "en"), Lang::De);
        assert_eq!(Lang::pick(None, &tags(&["fr", "de", "en"]), "en"), Lang::De);
        assert_eq!(Lang::pick(Some("fr"), &tags(&["fr"]), "de"), Lang::De);
        assert_eq!(Lang::pick(None, &[], "xx"), Lang::En);
    }

    fn placeholders(s: &str) -> Vec<&str> {
        let mut out: Vec<&str> = s
            .match_indices('{')
            .filter_map(|(i, _)| {
                let rest = s.get(i + 1..)?;
                let end = rest.find('}')?;
                rest.get(..end)
            })
            .collect();
        out.sort_unstable();
        out
    }

    #[test]
    fn every_message_has_a_text_in_every_language_with_the_same_placeholders() {
        for m in Msg::ALL {
            let en = Lang::En.t(*m);
            assert!(!en.trim().is_empty(), "{m:?} has no English text");
            for lang in Lang::ALL {
                let text = lang.t(*m);
                assert!(!text.trim().is_empty(), "{m:?} has no {lang:?} text");
                assert_eq!(
                    placeholders(text),
                    placeholders(en),
                    "{m:?} in {lang:?} has other placeholders than in English"
                );
            }
        }
    }

    #[test]
    fn german_texts_are_translated_not_copied() {
        // Words that are the same in both languages.
        let same = [Msg::Code, Msg::AccountName, Msg::Passkey];
        for m in Msg::ALL.iter().filter(|m| !same.contains(m)) {
            assert_ne!(
                Lang::De.t(*m),
                Lang::En.t(*m),
                "{m:?} is English on the German pages"
            );
        }
    }

    #[test]
    fn fill_replaces_named_placeholders() {
        assert_eq!(
            Lang::De.fill(Msg::ContinueTo, &[("app", "Shots App")]),
            "Weiter zu Shots App"
        );
        assert_eq!(
            Lang::En.fill(Msg::Locked, &[("n", "5")]),
            "Too many failed attempts. Try again in 5 min."
        );
    }
}
