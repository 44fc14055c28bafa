//! Password steps: verifying a password to sign in, and setting a new one after a
//! forgot-password code.
use super::interaction::Current;
use super::password_policy::{self, UserInfo};
use super::policy::Way;
use super::state::{Event, StepError, Verification};
use super::{audit, sign_in_with_password, unlock, Failure, Origin, SignInError};
use crate::account;
use crate::crypto::random;
use crate::ctx::Ctx;
use crate::i18n::Lang;
use crate::identity::Identifier;
use crate::store::users;
use crate::store::{Db, Kv};

/// `POST /experience/verification/password`.
pub async fn verify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    identifier: Identifier,
    value: &str,
    secret: &str,
    ip: Option<&str>,
    lang: Lang,
) -> Result<String, Failure> {
    if c.state.event().map_err(Failure::Step)? != Event::SignIn {
        return Err(Failure::Step(StepError::WrongEvent));
    }
    c.allow(Way::Password(identifier))?;
    if identifier == Identifier::Email {
        super::sso::guard(ctx, c, value).await?;
    }
    let from = Origin {
        ip,
        application_id: Some(&c.client_id),
    };
    let unlocked = c.state.unlocked_user().map(str::to_owned);
    match sign_in_with_password(ctx, identifier, value, secret, &from, unlocked.as_deref()).await? {
        Ok(user) => {
            let id = random::id()?;
            c.state.add(Verification::Password {
                id: id.clone(),
                user_id: user.id,
                valid_after: user.sessions_valid_after,
            });
            Ok(id)
        }
        Err(SignInError::InvalidCredentials) => Err(Failure::InvalidCredentials),
        Err(SignInError::Locked { until }) => Err(Failure::Locked { until }),
        Err(SignInError::TooLong) => Err(Failure::TooLong),
        // The soft lockout: a code to the account's own address first.
        Err(SignInError::SecondProofNeeded { user, person }) => {
            let verification_id =
                unlock::challenge(ctx, c, user.as_deref(), &person, lang, ip).await?;
            Err(Failure::SecondProof { verification_id })
        }
    }
}

/// `PUT /experience/profile/password` (forgot password): the identified user's new password.
pub async fn reset<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    new_password: &str,
) -> Result<(), Failure> {
    if c.state.event().map_err(Failure::Step)? != Event::ForgotPassword {
        return Err(Failure::Step(StepError::WrongEvent));
    }
    let user_id = c
        .state
        .user_id
        .clone()
        .ok_or(Failure::Step(StepError::NotIdentified))?;
    let user = users::get(ctx.db, &user_id)
        .await?
        .ok_or(Failure::UserNotFound)?;
    let info = UserInfo {
        username: user.username.as_deref(),
        email: user.primary_email.as_deref(),
        phone: user.primary_phone.as_deref(),
        name: user.name.as_deref(),
    };
    let broken = password_policy::check(&c.settings.password_policy, new_password, &info);
    if !broken.is_empty() {
        return Err(Failure::WeakPassword(broken));
    }
    // Every session and token the old password opened ends with it.
    if !account::change_password(ctx, &user_id, new_password, ctx.config.password_hash, None)
        .await?
    {
        return Err(Failure::UserNotFound);
    }
    c.state.password_reset = true;
    audit::record(
        ctx.db,
        audit::Entry {
            key: "Interaction.ForgotPassword.Submit",
            ok: true,
            user_id: Some(&user_id),
            application_id: Some(&c.client_id),
            ip: None,
            payload: crate::jv!({}),
        },
        ctx.now_ms,
    )
    .await;
    Ok(())
}
