//! The Experience API's state machine: what an interaction has proven and collected, and
//! which step may come next. Pure: the caller loads and saves the state with its interaction.
use crate::identity::Channel;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Event {
    SignIn,
    Register,
    ForgotPassword,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
// Externally tagged (`{"Password": {…}}`): an internally tagged enum buffers every value
// through serde's `Content`, which costs the module more than it is worth.
pub enum Verification {
    /// A password matched this user, whose `sessions_valid_after` was `valid_after` then: a
    /// session starts from it only while that is unchanged (no password change or
    /// suspension in between).
    Password {
        id: String,
        user_id: String,
        valid_after: i64,
    },
    /// A one-time code was sent to this email address or phone number; `verified` once the
    /// right code came back.
    Code {
        id: String,
        channel: Channel,
        identifier: String,
        verified: bool,
    },
    /// The second proof asked for once a person is locked by failed passwords (see
    /// `experience::unlock`). `person` is the lockout key; a code went to `identifier` on
    /// `channel` only if the account has such an address (else nothing was sent, and no code
    /// is accepted). Verified, it lets `user_id`'s password be checked again; it proves no
    /// identity by itself.
    Unlock {
        id: String,
        person: String,
        user_id: Option<String>,
        channel: Option<Channel>,
        identifier: Option<String>,
        sent_at: i64,
        /// Codes tried against an unlock that sent nothing (a sent one counts in D1).
        tries: i64,
        verified: bool,
    },
    /// An authenticator-app code. `new_secret` (base32) when it binds a new app: verified
    /// once a code for that secret came back. Without it, a code of the user's bound app
    /// was accepted: the second factor of this sign-in.
    Totp {
        id: String,
        user_id: String,
        new_secret: Option<String>,
        /// The time step of the code that confirmed a new secret: stored as its last used
        /// one, so that the same code does not also pass as a sign-in's second factor.
        step: Option<i64>,
        verified: bool,
    },
    /// Backup codes: `new_codes` just generated to bind (shown once), or, without them, one
    /// of the user's codes used: the second factor of this sign-in.
    BackupCode {
        id: String,
        user_id: String,
        new_codes: Option<Vec<String>>,
    },
    /// A code sent to the identified user's own primary address (`identifier`) as the second
    /// factor (Logto's `MfaEmailVerificationCode` / `MfaPhoneVerificationCode`); `verified`
    /// once the right code came back.
    MfaCode {
        id: String,
        user_id: String,
        channel: Channel,
        identifier: String,
        verified: bool,
    },
    /// A WebAuthn ceremony that succeeded: `new_passkey` registered to bind, or, without it,
    /// an assertion by one of the user's passkeys. `sign_in`: the assertion was the first
    /// step (a passkey with user verification is two factors in one, and identifies the
    /// user, whose `sessions_valid_after` was `valid_after` then); otherwise it is this
    /// sign-in's second factor. `amr` is RFC 8176's `hwk` (a device-bound key) or `swk` (a
    /// synced one).
    WebAuthn {
        id: String,
        user_id: String,
        new_passkey: Option<NewPasskey>,
        sign_in: bool,
        valid_after: i64,
        amr: String,
    },
    /// A sign-in at a social identity provider, through connector `connector_id` (whose
    /// `target` names the identity): begun with the provider's authorization URL (`state`,
    /// `nonce` and the PKCE `verifier` kept here, for `redirect_uri`), then, once the
    /// provider's answer checked out, the `identity` it vouches for.
    Social {
        id: String,
        connector_id: String,
        target: String,
        state: String,
        nonce: String,
        verifier: String,
        redirect_uri: String,
        identity: Option<SocialIdentity>,
    },
}

/// Who a social identity provider says the user is (Logto's `SocialUserInfo`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SocialIdentity {
    /// The provider's subject: stable, unique at that provider.
    pub id: String,
    pub email: Option<String>,
    /// Only an address the provider says it verified is ever used.
    pub email_verified: bool,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub avatar: Option<String>,
}

/// A passkey the registration ceremony proved, to bind at submit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewPasskey {
    pub credential_id: String,
    /// The COSE key, base64url.
    pub public_key: String,
    pub counter: i64,
    pub transports: Vec<String>,
    /// The browser's user agent when it was made (Logto's `agent`).
    pub agent: String,
}

/// MFA in this interaction: the verifications to bind at submit, and a skip.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaProgress {
    pub bind: Vec<String>,
    pub skipped: bool,
    /// The user turned MFA on without binding now (Logto's `mfa-enabled`).
    pub enabled: bool,
    /// The user declined to make a passkey for passkey sign-in (Logto's `passkey-skipped`,
    /// kept with the user at submit).
    pub passkey_skipped: bool,
    /// The user declined a second factor besides a sign-in method, for this interaction
    /// only (Logto's `mfa-suggestion-skipped`).
    pub suggestion_skipped: bool,
}

impl Verification {
    pub fn id(&self) -> &str {
        match self {
            Verification::Password { id, .. }
            | Verification::Code { id, .. }
            | Verification::Unlock { id, .. }
            | Verification::Totp { id, .. }
            | Verification::BackupCode { id, .. }
            | Verification::WebAuthn { id, .. }
            | Verification::MfaCode { id, .. }
            | Verification::Social { id, .. } => id,
        }
    }
}

/// A profile collected for a new account (or a new password).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub username: Option<String>,
    pub primary_email: Option<String>,
    pub primary_phone: Option<String>,
    /// Argon2id hash; the password itself is never kept.
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub event: Option<Event>,
    pub verifications: Vec<Verification>,
    /// The user this interaction has identified (sign-in) or created (registration).
    pub user_id: Option<String>,
    pub profile: Profile,
    /// The code verification the hosted pages wait for.
    pub pending: Option<String>,
    /// Forgot-password: the new password has been set.
    pub password_reset: bool,
    /// The hosted registration page's terms checkbox was ticked.
    pub agreed_terms: bool,
    /// The identified user's `sessions_valid_after` when its password was proven: the
    /// session starts only if it is still the same.
    pub valid_after: Option<i64>,
    pub mfa: MfaProgress,
    /// The verification that identified the signing-in user (a password or a passkey): the
    /// session's first `amr` comes from it.
    pub identified_by: Option<String>,
    /// A social verification whose identity is linked to the identified user at submit
    /// (Logto's `linkSocialIdentity`).
    pub link_social: Option<String>,
}

// Read back from the interaction's JSON column by column (`store::FromRow`): a derived
// `Deserialize` for these types would cost the module more than this.
mod read;

/// A profile field a new account (or a signing-in one) must have under the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileField {
    Username,
    Email,
    Phone,
    /// `signUp.identifiers` of `[email, phone]`: either will do.
    EmailOrPhone,
    Password,
}

impl ProfileField {
    /// The name in Logto's `user.missing_profile` messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileField::Username => "username",
            ProfileField::Email => "email",
            ProfileField::Phone => "phone",
            ProfileField::EmailOrPhone => "email_or_phone",
            ProfileField::Password => "password",
        }
    }
}

/// What a verification proved.
#[derive(Debug, Clone, PartialEq)]
pub enum Proof {
    User(String),
    /// `(channel, identifier)`, e.g. `(Channel::Email, "a@example.com")`.
    Identifier(Channel, String),
}

/// Why a step is not possible now.
#[derive(Debug, Clone, PartialEq)]
pub enum StepError {
    NoEvent,
    UnknownVerification,
    WrongEvent,
    AlreadyIdentified,
    NotIdentified,
    MissingProfile(Vec<ProfileField>),
    NotVerified,
}

impl State {
    /// `PUT /experience`: starts (or switches) the event; what was proven for another event
    /// does not carry over.
    pub fn start(&mut self, event: Event) {
        if self.event != Some(event) {
            *self = State {
                event: Some(event),
                ..State::default()
            };
        }
    }

    /// `PUT /experience/interaction-event`: another event for the same interaction; only a
    /// social identity already checked carries over (it proves the same person whatever the
    /// event: Logto's "no account yet: register with it"), and the answer to the terms.
    pub fn switch(&mut self, event: Event) {
        if self.event == Some(event) {
            return;
        }
        let mut kept = std::mem::take(&mut self.verifications);
        kept.retain(|v| {
            matches!(
                v,
                Verification::Social {
                    identity: Some(_),
                    ..
                }
            )
        });
        let agreed = self.agreed_terms;
        self.start(event);
        self.verifications = kept;
        self.agreed_terms = agreed;
    }

    pub fn event(&self) -> Result<Event, StepError> {
        self.event.ok_or(StepError::NoEvent)
    }

    pub fn add(&mut self, v: Verification) {
        self.verifications.push(v);
    }

    pub fn verification(&self, id: &str) -> Result<&Verification, StepError> {
        self.verifications
            .iter()
            .find(|v| v.id() == id)
            .ok_or(StepError::UnknownVerification)
    }

    pub fn verification_mut(&mut self, id: &str) -> Result<&mut Verification, StepError> {
        self.verifications
            .iter_mut()
            .find(|v| v.id() == id)
            .ok_or(StepError::UnknownVerification)
    }

    /// What a verification proves: a user (password), or an identifier (verified code).
    pub fn proven(&self, id: &str) -> Result<Proof, StepError> {
        match self.verification(id)? {
            Verification::Password { user_id, .. }
            | Verification::WebAuthn {
                user_id,
                sign_in: true,
                ..
            } => Ok(Proof::User(user_id.clone())),
            Verification::Code {
                channel,
                identifier,
                verified: true,
                ..
            } => Ok(Proof::Identifier(*channel, identifier.clone())),
            Verification::Code { .. } => Err(StepError::NotVerified),
            Verification::Unlock {
                verified: false, ..
            } => Err(StepError::NotVerified),
            Verification::Unlock { .. }
            | Verification::Totp { .. }
            | Verification::BackupCode { .. }
            | Verification::MfaCode { .. }
            | Verification::WebAuthn { .. }
            | Verification::Social { .. } => Err(StepError::WrongEvent),
        }
    }

    /// The user whose lock a verified [`Verification::Unlock`] of this interaction lifts.
    pub fn unlocked_user(&self) -> Option<&str> {
        self.verifications.iter().find_map(|v| match v {
            Verification::Unlock {
                user_id: Some(user_id),
                verified: true,
                ..
            } => Some(user_id.as_str()),
            _ => None,
        })
    }

    /// Sign-in identification by a password verification.
    pub fn identify_by(&mut self, verification_id: &str) -> Result<String, StepError> {
        if self.event()? != Event::SignIn {
            return Err(StepError::WrongEvent);
        }
        match self.proven(verification_id)? {
            Proof::User(user_id) => {
                let valid_after = match self.verification(verification_id) {
                    Ok(
                        Verification::Password { valid_after, .. }
                        | Verification::WebAuthn { valid_after, .. },
                    ) => Some(*valid_after),
                    _ => None,
                };
                self.identify_as(user_id.clone(), verification_id, valid_after);
                Ok(user_id)
            }
            Proof::Identifier(..) => Err(StepError::WrongEvent),
        }
    }

    /// Identifies `user_id` by verification `verification_id` (its `sessions_valid_after`
    /// then, when known); another account than before drops what was proven for that one.
    pub fn identify_as(
        &mut self,
        user_id: String,
        verification_id: &str,
        valid_after: Option<i64>,
    ) {
        if self.user_id.as_ref().is_some_and(|u| *u != user_id) {
            // Another account now: nothing proven or chosen for the first one carries over
            // (its second factor, its bindings, its skip).
            self.verifications.retain(|v| match v {
                Verification::Password { user_id: u, .. }
                | Verification::WebAuthn {
                    user_id: u,
                    sign_in: true,
                    ..
                } => *u == user_id,
                Verification::Social { .. } => true,
                _ => false,
            });
            self.mfa = MfaProgress::default();
            self.pending = None;
        }
        if valid_after.is_some() {
            self.valid_after = valid_after;
        }
        // A link staged for an earlier identification is not this one's.
        self.link_social = None;
        self.user_id = Some(user_id);
        self.identified_by = Some(verification_id.to_owned());
    }

    /// Registration: which profile fields `required` still lacks.
    pub fn missing(&self, required: &[ProfileField]) -> Vec<ProfileField> {
        let p = &self.profile;
        required
            .iter()
            .copied()
            .filter(|f| match f {
                ProfileField::Username => p.username.is_none(),
                ProfileField::Email => p.primary_email.is_none(),
                ProfileField::Phone => p.primary_phone.is_none(),
                ProfileField::EmailOrPhone => {
                    p.primary_email.is_none() && p.primary_phone.is_none()
                }
                ProfileField::Password => p.password_hash.is_none(),
            })
            .collect()
    }

    /// Whether registration may create the user now.
    pub fn ready_to_register(&self, required: &[ProfileField]) -> Result<(), StepError> {
        if self.event()? != Event::Register {
            return Err(StepError::WrongEvent);
        }
        if self.user_id.is_some() {
            return Err(StepError::AlreadyIdentified);
        }
        let missing = self.missing(required);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(StepError::MissingProfile(missing))
        }
    }

    /// Whether the interaction may finish.
    pub fn ready_to_submit(&self) -> Result<&str, StepError> {
        let event = self.event()?;
        let user = self.user_id.as_deref().ok_or(StepError::NotIdentified)?;
        if event == Event::ForgotPassword && !self.password_reset {
            return Err(StepError::MissingProfile(vec![ProfileField::Password]));
        }
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_needs_a_verification_before_submit() {
        let mut s = State::default();
        assert_eq!(s.ready_to_submit(), Err(StepError::NoEvent));
        s.start(Event::SignIn);
        assert_eq!(s.ready_to_submit(), Err(StepError::NotIdentified));
        assert_eq!(s.identify_by("v1"), Err(StepError::UnknownVerification));
        s.add(Verification::Password {
            id: "v1".into(),
            user_id: "u1".into(),
            valid_after: 0,
        });
        assert_eq!(s.identify_by("v1"), Ok("u1".into()));
        assert_eq!(s.ready_to_submit(), Ok("u1"));
    }

    #[test]
    fn identifying_another_account_drops_what_was_proven_for_the_first() {
        let mut s = State::default();
        s.start(Event::SignIn);
        s.add(Verification::Password {
            id: "b".into(),
            user_id: "user-b".into(),
            valid_after: 0,
        });
        assert_eq!(s.identify_by("b"), Ok("user-b".into()));
        s.add(Verification::Totp {
            id: "t".into(),
            user_id: "user-b".into(),
            new_secret: None,
            step: None,
            verified: true,
        });
        s.mfa.skipped = true;
        s.add(Verification::Password {
            id: "a".into(),
            user_id: "user-a".into(),
            valid_after: 0,
        });
        assert_eq!(s.identify_by("a"), Ok("user-a".into()));
        assert_eq!(s.verification("t"), Err(StepError::UnknownVerification));
        assert!(!s.mfa.skipped);
    }

    #[test]
    fn switching_the_event_forgets_what_was_proven() {
        let mut s = State::default();
        s.start(Event::SignIn);
        s.add(Verification::Password {
            id: "v1".into(),
            user_id: "u1".into(),
            valid_after: 0,
        });
        s.start(Event::Register);
        assert!(s.verifications.is_empty());
        assert_eq!(s.identify_by("v1"), Err(StepError::WrongEvent));
    }

    #[test]
    fn registration_needs_the_whole_profile() {
        let mut s = State::default();
        s.start(Event::Register);
        assert_eq!(
            s.ready_to_register(&[ProfileField::Username, ProfileField::Password]),
            Err(StepError::MissingProfile(vec![
                ProfileField::Username,
                ProfileField::Password
            ]))
        );
        s.profile.username = Some("bob".into());
        s.profile.password_hash = Some("$argon2id$…".into());
        assert_eq!(
            s.ready_to_register(&[ProfileField::Username, ProfileField::Password]),
            Ok(())
        );
        s.user_id = Some("u".into());
        assert_eq!(
            s.ready_to_register(&[ProfileField::Username, ProfileField::Password]),
            Err(StepError::AlreadyIdentified)
        );
    }
}
crate::to_value_via_serde!(SocialIdentity);
