//! The profile a new account needs under the settings, collected field by field; and, while
//! signing in, what the settings now require that the account lacks.
use super::interaction::Current;
use super::password_policy::{self, UserInfo};
use super::policy::Way;
use super::settings::Settings;
use super::state::{Event, ProfileField, StepError};
use super::Failure;
use crate::crypto::password;
use crate::ctx::Ctx;
use crate::identity::{self, Identifier};
use crate::store::users;
use crate::store::{Db, Kv, StoreError};

/// The profile fields a new account needs under the settings.
pub fn required_profile(settings: &Settings) -> Vec<ProfileField> {
    let mut out = Vec::new();
    let ids = &settings.sign_up.identifiers;
    let (username, email, phone) = (
        ids.contains(&Identifier::Username),
        ids.contains(&Identifier::Email),
        ids.contains(&Identifier::Phone),
    );
    if username {
        out.push(ProfileField::Username);
    } else if email && phone {
        out.push(ProfileField::EmailOrPhone);
    } else if email {
        out.push(ProfileField::Email);
    } else if phone {
        out.push(ProfileField::Phone);
    }
    if settings.sign_up.password {
        out.push(ProfileField::Password);
    }
    out
}

/// A field the Experience API's `POST /profile` sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Username,
    Password,
    Email,
}

impl Field {
    pub fn parse(s: &str) -> Option<Field> {
        match s {
            "username" => Some(Field::Username),
            "password" => Some(Field::Password),
            "email" => Some(Field::Email),
            _ => None,
        }
    }
}

/// `POST /experience/profile {type, value}`: registration, or a username the settings now
/// require from a signing-in user.
pub async fn set<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    field: Field,
    value: &str,
) -> Result<(), Failure> {
    let event = c.state.event().map_err(Failure::Step)?;
    let completing =
        event == Event::SignIn && field == Field::Username && c.state.user_id.is_some();
    if event != Event::Register && !completing {
        return Err(Failure::Step(StepError::WrongEvent));
    }
    match field {
        Field::Username => {
            // A malformed username is a 400 whatever the settings (Logto's input guard).
            let name = identity::username(value)?;
            if !completing {
                c.allow(Way::Username)?;
            }
            let policy = &c.settings.username_policy;
            let len = u32::try_from(name.chars().count()).unwrap_or(u32::MAX);
            if len < policy.min_length || len > policy.max_length {
                return Err(Failure::UsernameLength {
                    min: policy.min_length,
                    max: policy.max_length,
                });
            }
            if users::find_by_identifier(ctx.db, Identifier::Username.into(), &name)
                .await?
                .is_some()
            {
                return Err(Failure::UsernameTaken);
            }
            c.state.profile.username = Some(name);
        }
        Field::Password => {
            let info = UserInfo {
                username: c.state.profile.username.as_deref(),
                email: c.state.profile.primary_email.as_deref(),
                phone: c.state.profile.primary_phone.as_deref(),
                name: None,
            };
            let broken = password_policy::check(&c.settings.password_policy, value, &info);
            if !broken.is_empty() {
                return Err(Failure::WeakPassword(broken));
            }
            c.state.profile.password_hash =
                Some(password::hash_with(value, ctx.config.password_hash)?);
        }
        Field::Email => {
            // An email joins a new account only once a code has verified it.
            identity::email(value)?;
            return Err(Failure::NeedsVerification);
        }
    }
    Ok(())
}

/// A password for a new account when the settings' sign-up takes one (a sign-up by code may
/// go without).
pub async fn set_password_if_required<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    value: &str,
) -> Result<(), Failure> {
    if c.settings.sign_up.password {
        set(ctx, c, Field::Password, value).await?;
    }
    Ok(())
}

/// Signing in: when the settings now require a username or email that the user lacks, the
/// interaction must supply it (`user.missing_profile`); it is saved to the user here.
pub async fn complete<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
    user_id: &str,
) -> Result<(), Failure> {
    let required = required_profile(&c.settings);
    let mut user = users::get(ctx.db, user_id)
        .await?
        .ok_or(Failure::UserNotFound)?;
    let p = &c.state.profile;
    if required.contains(&ProfileField::Username) && user.username.is_none() {
        let Some(name) = p.username.clone() else {
            return Err(Failure::Step(StepError::MissingProfile(vec![
                ProfileField::Username,
            ])));
        };
        user.username = Some(name);
    } else if required.contains(&ProfileField::Email) && user.primary_email.is_none() {
        // An email joins the account only as a code proved it (see `codes::identify`).
        let Some(email) = p.primary_email.clone() else {
            return Err(Failure::Step(StepError::MissingProfile(vec![
                ProfileField::Email,
            ])));
        };
        user.primary_email = Some(email);
    } else {
        return Ok(());
    }
    user.updated_at = ctx.now_ms;
    users::update(ctx.db, &user).await.map_err(|e| match e {
        StoreError::Unique(_) => Failure::UsernameTaken,
        e => e.into(),
    })?;
    Ok(())
}
