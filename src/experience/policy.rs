//! Which ways in the sign-in experience allows, decided in one place for the hosted pages
//! and the Experience API alike.
//!
//! Invariant: every step that sends or uses a one-time code, checks a password or adds a
//! username to a new account asks [`allow`] first, with the settings in force and the
//! authorization request's `identifier` restriction; the pages ask the same function which
//! links and fields to show. A way the settings disable is refused by every face with the
//! same [`Refusal`].
use super::profile::required_profile;
use super::settings::{ForgotPasswordMethod, Settings};
use super::state::{Event, ProfileField};
use crate::identity::{Channel, Identifier};

/// A way into an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// Sign in with a password, identified by this kind of identifier.
    Password(Identifier),
    /// A one-time code sent to an address, for `event`. `completing`: the signing-in user is
    /// already identified, and the code proves an address the settings now require.
    Code {
        event: Event,
        channel: Channel,
        completing: bool,
    },
    /// Register a new account under a username.
    Username,
}

/// Why a way is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `signInMode` is `Register`: only registration is open.
    SignInClosed,
    /// `signInMode` is `SignIn`: registration is closed.
    RegistrationClosed,
    /// The settings, or the request's `identifier`, do not offer this way to sign in.
    SignInMethod,
    /// … to register.
    SignUpMethod,
    /// … to reset a forgotten password.
    ForgotPasswordMethod,
}

/// The identifier kinds the authorization request's `identifier` parameter allows (all when
/// it names none).
fn requested(identifiers: &[String], kind: Identifier) -> bool {
    identifiers.is_empty() || identifiers.iter().any(|i| i == kind.as_str())
}

fn sign_in_method(s: &Settings, kind: Identifier, code: bool) -> bool {
    s.sign_in.methods.iter().any(|m| {
        m.identifier == kind
            && if code {
                m.verification_code
            } else {
                m.password
            }
    })
}

/// Whether `signInMode` lets `event` start at all.
pub fn event_open(settings: &Settings, event: Event) -> Result<(), Refusal> {
    match event {
        Event::Register if !settings.registration_allowed() => Err(Refusal::RegistrationClosed),
        Event::SignIn | Event::ForgotPassword if !settings.sign_in_allowed() => {
            Err(Refusal::SignInClosed)
        }
        _ => Ok(()),
    }
}

/// Whether `way` is open under `settings` for a request restricted to `identifiers`.
pub fn allow(settings: &Settings, identifiers: &[String], way: Way) -> Result<(), Refusal> {
    let event = match way {
        Way::Password(_) => Event::SignIn,
        Way::Code { event, .. } => event,
        Way::Username => Event::Register,
    };
    event_open(settings, event)?;
    let ok = match way {
        Way::Password(kind) => {
            requested(identifiers, kind) && sign_in_method(settings, kind, false)
        }
        Way::Code {
            event: Event::SignIn,
            channel,
            completing: true,
        } => {
            // Only an email the settings now require, or an address to bind as the second
            // factor its codes are enabled as, can be added while signing in.
            let factor = match channel {
                Channel::Email => crate::mfa::Factor::EmailVerificationCode,
                Channel::Phone => crate::mfa::Factor::PhoneVerificationCode,
            };
            (channel == Channel::Email && required_profile(settings).contains(&ProfileField::Email))
                || settings.mfa.enabled(factor)
        }
        Way::Code {
            event: Event::SignIn,
            channel,
            completing: false,
        } => {
            let kind = channel.identifier();
            requested(identifiers, kind) && sign_in_method(settings, kind, true)
        }
        Way::Code {
            event: Event::Register,
            channel,
            ..
        } => {
            let kind = channel.identifier();
            requested(identifiers, kind) && settings.sign_up.identifiers.contains(&kind)
        }
        Way::Code {
            event: Event::ForgotPassword,
            channel,
            ..
        } => settings.forgot_password_methods.contains(&match channel {
            Channel::Email => ForgotPasswordMethod::EmailVerificationCode,
            Channel::Phone => ForgotPasswordMethod::PhoneVerificationCode,
        }),
        Way::Username => {
            requested(identifiers, Identifier::Username)
                && settings.sign_up.identifiers.contains(&Identifier::Username)
        }
    };
    if ok {
        return Ok(());
    }
    Err(match event {
        Event::SignIn => Refusal::SignInMethod,
        Event::Register => Refusal::SignUpMethod,
        Event::ForgotPassword => Refusal::ForgotPasswordMethod,
    })
}

/// The channels a code for `event` may go to (identification, not profile completion):
/// what the pages offer.
pub fn code_channels(settings: &Settings, identifiers: &[String], event: Event) -> Vec<Channel> {
    [Channel::Email, Channel::Phone]
        .into_iter()
        .filter(|&channel| {
            allow(
                settings,
                identifiers,
                Way::Code {
                    event,
                    channel,
                    completing: false,
                },
            )
            .is_ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experience::settings::SignInMode;

    fn code(event: Event, channel: Channel) -> Way {
        Way::Code {
            event,
            channel,
            completing: false,
        }
    }

    #[test]
    fn the_defaults_allow_email_codes_for_sign_in_and_reset_but_not_phone() {
        let s = Settings::default();
        assert_eq!(allow(&s, &[], code(Event::SignIn, Channel::Email)), Ok(()));
        assert_eq!(
            allow(&s, &[], code(Event::SignIn, Channel::Phone)),
            Err(Refusal::SignInMethod)
        );
        assert_eq!(
            allow(&s, &[], code(Event::ForgotPassword, Channel::Email)),
            Ok(())
        );
        assert_eq!(
            allow(&s, &[], code(Event::ForgotPassword, Channel::Phone)),
            Err(Refusal::ForgotPasswordMethod)
        );
        // Sign-up is by username by default.
        assert_eq!(
            allow(&s, &[], code(Event::Register, Channel::Email)),
            Err(Refusal::SignUpMethod)
        );
        assert_eq!(allow(&s, &[], Way::Username), Ok(()));
    }

    #[test]
    fn the_identifier_parameter_narrows_what_the_settings_allow() {
        let s = Settings::default();
        let only_username = ["username".to_owned()];
        assert_eq!(
            allow(&s, &only_username, code(Event::SignIn, Channel::Email)),
            Err(Refusal::SignInMethod)
        );
        assert_eq!(
            allow(&s, &only_username, Way::Password(Identifier::Email)),
            Err(Refusal::SignInMethod)
        );
        assert_eq!(
            allow(&s, &only_username, Way::Password(Identifier::Username)),
            Ok(())
        );
        assert!(code_channels(&s, &only_username, Event::SignIn).is_empty());
        assert_eq!(code_channels(&s, &[], Event::SignIn), vec![Channel::Email]);
    }

    #[test]
    fn the_sign_in_mode_closes_every_way_of_the_closed_event() {
        let mut s = Settings {
            sign_in_mode: SignInMode::SignIn,
            ..Settings::default()
        };
        assert_eq!(
            allow(&s, &[], Way::Username),
            Err(Refusal::RegistrationClosed)
        );
        s.sign_in_mode = SignInMode::Register;
        assert_eq!(
            allow(&s, &[], Way::Password(Identifier::Username)),
            Err(Refusal::SignInClosed)
        );
        assert_eq!(
            allow(&s, &[], code(Event::ForgotPassword, Channel::Email)),
            Err(Refusal::SignInClosed)
        );
    }

    #[test]
    fn only_a_required_email_may_be_added_while_signing_in() {
        let mut s = Settings::default();
        let completing = Way::Code {
            event: Event::SignIn,
            channel: Channel::Email,
            completing: true,
        };
        assert_eq!(allow(&s, &[], completing), Err(Refusal::SignInMethod));
        s.sign_up.identifiers = vec![Identifier::Email];
        s.sign_up.verify = true;
        assert_eq!(allow(&s, &[], completing), Ok(()));
    }
}
