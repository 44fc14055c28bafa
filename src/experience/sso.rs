//! Enterprise SSO in the experience: which connectors an email's domain routes to, the rule
//! that such an email signs in and registers only through them (Logto's
//! `session.sso_enabled`), and identification by an SSO identity (linked user, user with the
//! verified email, or a new one).
//!
//! Invariant: an SSO identity is keyed by its issuer and subject (`sso:<issuer>`), so it
//! signs in the same user whatever connector carries that issuer.
use super::interaction::Current;
use super::state::{Event, SocialIdentity, StepError};
use super::Failure;
use crate::ctx::Ctx;
use crate::social;
use crate::store::messages as connectors;
use crate::store::users::User;
use crate::store::{Db, Kv, StoreError};

/// Enterprise SSO identification, for sign-in and registration alike: the user the identity
/// is linked to; else the user with its email (one of the connector's domains, verified:
/// see `social::verify`), linked at submit automatically, as Logto does for enterprise SSO;
/// else a new user (just-in-time provisioning). True when a user was created.
pub(super) async fn identify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    verification_id: &str,
    (target, identity): (&str, &SocialIdentity),
    linked: Option<User>,
) -> Result<bool, Failure> {
    if c.state.event().map_err(Failure::Step)? == Event::ForgotPassword {
        return Err(Failure::Step(StepError::WrongEvent));
    }
    let (user, staged) = match linked {
        Some(u) => (u, false),
        None => match super::social::related(ctx, identity).await? {
            Some((u, "email", _)) => (u, true),
            _ => {
                let email = match (&identity.email, identity.email_verified) {
                    (Some(e), true) => Some(e.clone()),
                    _ => None,
                };
                super::social::create(ctx, c, verification_id, (target, identity), email).await?;
                return Ok(true);
            }
        },
    };
    super::social::sign_in_as(c, verification_id, user, staged)?;
    Ok(false)
}

/// The enterprise SSO connectors an email's domain routes to (none unless the settings'
/// `singleSignOnEnabled`): Logto's `GET /experience/sso-connectors?email=`.
pub async fn for_email<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    settings: &super::settings::Settings,
    email: &str,
) -> Result<Vec<String>, StoreError> {
    let Some(domain) = social::sso::domain_of(email) else {
        return Ok(Vec::new());
    };
    if !settings.single_sign_on_enabled {
        return Ok(Vec::new());
    }
    Ok(connectors::connectors(ctx.db)
        .await?
        .into_iter()
        .filter(|r| r.channel == social::sso::TYPE)
        .filter(|r| social::sso::domains_of(&r.metadata).contains(&domain))
        .map(|r| r.id)
        .collect())
}

/// An email whose domain belongs to an enterprise SSO connector signs in and registers only
/// through it (Logto's `session.sso_enabled`).
pub async fn guard<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
    email: &str,
) -> Result<(), Failure> {
    let ids = for_email(ctx, &c.settings, email).await?;
    if ids.is_empty() {
        Ok(())
    } else {
        Err(Failure::SsoEnabled(ids))
    }
}
