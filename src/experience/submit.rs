//! The last steps: identification (which creates a new user in one write, once its profile
//! is complete) and submission, which starts the browser session.
use super::codes;
use super::interaction::Current;
use super::mfa_gate;
use super::profile::{self, required_profile};
use super::state::{Event, StepError, Verification};
use super::{audit, Failure};
use crate::crypto::random;
use crate::ctx::Ctx;
use crate::session;
use crate::store::interactions as repo;
use crate::store::users::{self, User};
use crate::store::{Db, Kv, StoreError};

/// `POST /experience/identification`: identifies the signing-in user, or creates the new
/// one in a single write once its profile is complete. True when a user was created.
/// `link_social`: link a social identity no user has to the user with its verified email.
pub async fn identify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    verification_id: Option<&str>,
    link_social: bool,
) -> Result<bool, Failure> {
    if let Some(id) = verification_id {
        if let Some(created) = super::social::identify(ctx, c, id, link_social).await? {
            return Ok(created);
        }
    }
    match c.state.event().map_err(Failure::Step)? {
        Event::SignIn => {
            let id = verification_id.ok_or_else(|| {
                Failure::Invalid("`verificationId` is required to sign in.".into())
            })?;
            if codes::identify(ctx, c, id).await?.is_none() {
                c.state.identify_by(id).map_err(Failure::Step)?;
            }
            Ok(false)
        }
        Event::Register => {
            if let Some(id) = verification_id {
                codes::identify(ctx, c, id)
                    .await?
                    .ok_or(Failure::Step(StepError::WrongEvent))?;
            }
            c.state
                .ready_to_register(&required_profile(&c.settings))
                .map_err(Failure::Step)?;
            let p = &c.state.profile;
            let user = User {
                username: p.username.clone(),
                primary_email: p.primary_email.clone(),
                primary_phone: p.primary_phone.clone(),
                password_hash: p.password_hash.clone(),
                ..User::new(random::id()?, ctx.now_ms)
            };
            users::insert(ctx.db, &user).await.map_err(|e| match e {
                StoreError::Unique(_) => Failure::UsernameTaken,
                e => e.into(),
            })?;
            c.state.user_id = Some(user.id);
            Ok(true)
        }
        Event::ForgotPassword => {
            let id = verification_id.ok_or(Failure::NeedsVerification)?;
            codes::identify(ctx, c, id)
                .await?
                .ok_or(Failure::NeedsVerification)?;
            Ok(false)
        }
    }
}

/// Where the browser goes after a submission, and the new session's cookie secret.
#[derive(Debug)]
pub struct Submitted {
    pub redirect_to: String,
    pub session_token: Option<String>,
}

/// `POST /experience/submit`: starts the browser session (ending the one `old_session`
/// names) and hands back to `/oidc/auth`. `agreed_terms` is what the hosted page's checkbox
/// said (a custom UI is responsible for its own terms, as with Logto). With `unsaved`, the
/// interaction's state is saved in the submission's transaction (one round trip less); the
/// caller saves it itself when the submission fails.
pub async fn submit<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
    old_session: Option<&str>,
    (agreed_terms, unsaved): (bool, bool),
    ip: Option<&str>,
) -> Result<Submitted, Failure> {
    let user_id = c.state.ready_to_submit().map_err(Failure::Step)?.to_owned();
    if c.state.event == Some(Event::ForgotPassword) {
        // The password is new; the user signs in with it next, on the same interaction.
        if unsaved {
            super::interaction::save(ctx, c).await?;
        }
        return Ok(Submitted {
            redirect_to: format!("{}/sign-in?reset=1", ctx.origin),
            session_token: None,
        });
    }
    let registering = c.state.event == Some(Event::Register);
    let now = ctx.now();
    let by_code = c
        .state
        .verifications
        .iter()
        .any(|v| matches!(v, Verification::Code { verified: true, .. }));
    let by_passkey = c.state.identified_by.as_deref().is_some_and(|id| {
        matches!(
            c.state.verification(id),
            Ok(Verification::WebAuthn { sign_in: true, .. })
        )
    });
    let by_social = c
        .state
        .identified_by
        .as_deref()
        .is_some_and(|id| super::social::is_social(c, id));
    let amr: &[&str] = if by_passkey || by_social {
        &[]
    } else if by_code && c.state.profile.password_hash.is_none() {
        &["otp"]
    } else {
        &["pwd"]
    };
    let mut begun = session::begin(
        &user_id,
        amr,
        &c.client_id,
        (ctx.now_ms, ctx.config.session_ttl),
        c.state.valid_after,
    )?;
    // MFA first (Logto's order): nothing is written for a user who has not passed it, not
    // even the profile a sign-in must complete, nor the end of the old session.
    let cleared = mfa_gate::clear(ctx, c, &user_id, &begun.session.sid).await?;
    // A registration by a social identity made the account from the provider's profile:
    // what the settings require that it lacks is asked for here, as for a sign-in. An
    // enterprise SSO user's profile is the organization's: nothing is asked (as in Logto).
    let by_sso = c
        .state
        .identified_by
        .as_deref()
        .is_some_and(|id| super::social::is_sso(c, id));
    if (!registering || by_social) && !by_sso {
        profile::complete(ctx, c, &user_id).await?;
    }
    if c.settings.terms_required(registering) && !agreed_terms {
        return Err(Failure::TermsNotAgreed);
    }
    begun.session.amr.extend(cleared.amr.iter().cloned());
    if let Some(old) = session::load(ctx.db, ctx.kv, old_session, now).await? {
        session::end(ctx.db, ctx.kv, &old, now).await?;
    }
    let key = if registering {
        "Interaction.Register.Submit"
    } else {
        "Interaction.SignIn.Submit"
    };
    let logged = audit::Entry {
        key,
        ok: true,
        user_id: Some(&user_id),
        application_id: Some(&c.client_id),
        ip,
        payload: crate::jv!({}),
    };
    // One transaction: the session listed under its user (only if the password proven is
    // still the user's, and the user not suspended), the interaction's login and the audit
    // row with it. Then the session goes to KV.
    let sid = begun.session.sid.as_str();
    let mut statements = vec![
        begun.listed.clone(),
        repo::login_statement(&c.interaction_id, &user_id, now, sid),
        audit::with_session(logged, ctx.now_ms, sid)?,
    ];
    statements.extend(cleared.statements);
    statements.extend(super::social::link_statements(c, &user_id, ctx.now_ms, sid));
    if unsaved {
        statements.push(super::interaction::save_statement(c)?);
    }
    let counts = crate::store::transaction(ctx.db, &statements)
        .await
        .map_err(|e| match e {
            // Another user took the address being bound meanwhile.
            StoreError::Unique(column) if column.contains("primary_") => Failure::EmailTaken,
            // Another user linked the social identity meanwhile.
            StoreError::Unique(column) if column.contains("user_identities") => {
                Failure::IdentityInUse
            }
            StoreError::Unique(column) if column.contains("credential_id") => {
                Failure::WebAuthnFailed("this passkey is registered already".into())
            }
            // Another interaction bound an authenticator app meanwhile.
            StoreError::Unique(_) => Failure::TotpAlreadyInUse,
            e => e.into(),
        })?;
    if counts.first().copied().unwrap_or(0) == 0 {
        // The password changed (or the user was suspended) since it was proven here.
        return Err(Failure::NoInteraction);
    }
    session::save(ctx.kv, &begun.key, &begun.session, now).await?;
    let token = begun.token;
    Ok(Submitted {
        redirect_to: format!("{}/oidc/auth/resume", ctx.origin),
        session_token: Some(token),
    })
}
