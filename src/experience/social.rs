//! The social sign-in steps of an interaction (Logto's `/verification/social/{connectorId}/…`
//! and the identification that follows): the provider's authorization URL, its answer
//! checked (`social::oidc`), then the user found by the identity, linked to the user with the
//! same verified email on request, or created.
//!
//! Invariant: an identity counts only once its answer came back with this sign-in's `state`
//! and passed every check of the ID token; it signs in only the user it is linked to; a link
//! to another user is written only with the session it opens.
use super::interaction::Current;
use super::provider::{answer, check_start, connector, Begun};
use super::state::{Event, SocialIdentity, StepError, Verification};
use super::Failure;
use crate::crypto::{b64url, random};
use crate::ctx::Ctx;
use crate::identity::Identifier;
use crate::saml;
use crate::social::{self, oidc};
use crate::store::identities;
use crate::store::messages as connectors;
use crate::store::users::{self, User};
use crate::store::{Db, Kv, StoreError};
use serde_json::{Map, Value};

/// `POST /verification/social/{connectorId}/authorization-uri {state, redirectUri}`: where
/// to send the browser, and the verification its answer completes. With `idp_initiated`
/// (the browser's token from a SAML IdP-initiated response for this connector), the
/// identity kept under it completes the verification at once, and the browser goes
/// straight back to `redirectUri` with `state`.
pub async fn authorization_uri<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    (connector_id, sso): (&str, bool),
    (state, redirect_uri): (&str, &str),
    idp_initiated: Option<&str>,
) -> Result<(String, String), Failure> {
    c.state.event().map_err(Failure::Step)?;
    check_start(state, redirect_uri)?;
    // Enterprise SSO is off: its connectors take no one.
    if sso && !c.settings.single_sign_on_enabled {
        return Err(Failure::NoSocialConnector);
    }
    let (target, config, _) = connector(ctx, connector_id, sso).await?;
    if let (true, Some(token)) = (sso, idp_initiated) {
        let at = (connector_id, target.as_str(), state, redirect_uri);
        if let Some(done) = super::sso::idp_initiated_verification(ctx, c, token, at).await? {
            return Ok(done);
        }
    }
    let mut nonce = b64url(&random::bytes::<16>()?);
    let verifier = b64url(&random::bytes::<32>()?);
    let url = if sso && saml::sp::is_saml(&config) {
        // SAML: the nonce is the AuthnRequest's id (the response's InResponseTo), the
        // verifier its RelayState, which finds this interaction when the IdP posts back.
        nonce = format!("{}{nonce}", super::sso::SAML_MARK);
        let url = saml::sp::authn_request_url(
            &config,
            (&ctx.origin, connector_id),
            (&nonce, &verifier),
            ctx.now(),
        )
        .ok_or(Failure::NoSocialConnector)?;
        ctx.kv
            .put(
                &super::sso::relay_key(&verifier),
                &c.interaction_id,
                super::sso::RELAY_TTL,
            )
            .await?;
        url
    } else {
        oidc::authorization_url(&config, (state, &nonce, &verifier), redirect_uri)
            .map_err(Failure::Social)?
    };
    let id = random::id()?;
    c.state.add(Verification::Social {
        id: id.clone(),
        connector_id: connector_id.to_owned(),
        target,
        state: state.to_owned(),
        nonce,
        verifier,
        redirect_uri: redirect_uri.to_owned(),
        identity: None,
    });
    Ok((url, id))
}

/// `POST /verification/social/{connectorId}/verify {verificationId, connectorData}`: the
/// provider's answer (the callback's query: `code` and `state`, or `error`) checked; the
/// identity kept in the verification.
pub async fn verify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    connector_id: &str,
    verification_id: &str,
    data: &Value,
) -> Result<String, Failure> {
    if let Some(done) = super::sso::checked_by_acs(c, connector_id, verification_id, data) {
        return done;
    }
    let Ok(Verification::Social {
        connector_id: of,
        target,
        state,
        nonce,
        verifier,
        redirect_uri,
        identity: None,
        ..
    }) = c.state.verification(verification_id)
    else {
        return Err(Failure::Step(StepError::UnknownVerification));
    };
    if of != connector_id {
        return Err(Failure::Step(StepError::UnknownVerification));
    }
    let (state, nonce, verifier, redirect_uri) = (
        state.clone(),
        nonce.clone(),
        verifier.clone(),
        redirect_uri.clone(),
    );
    let sso = target.starts_with("sso:");
    let (_, config, metadata) = connector(ctx, connector_id, sso).await?;
    let domains = social::sso::domains_in(&metadata);
    let begun = Begun {
        state: &state,
        nonce: &nonce,
        verifier: &verifier,
        redirect_uri: &redirect_uri,
    };
    let mut found = answer(ctx, &config, begun, data).await?;
    if sso {
        // An organization's provider speaks for its own domains only: an email elsewhere is
        // not taken as the person's (no link, not copied), whatever the provider says, and
        // with domains set, a person without an email of them is not the organization's.
        // `trustUnverifiedEmail` trusts an unverified email of those domains.
        let trust = config.get("trustUnverifiedEmail") == Some(&Value::Bool(true));
        let ours = found
            .email
            .as_deref()
            .and_then(social::sso::domain_of)
            .is_some_and(|d| domains.contains(&d));
        found.email_verified = ours && (found.email_verified || trust);
        if !domains.is_empty() && !ours {
            return Err(Failure::Social(oidc::SocialError::Declined(
                "the account's email is not of this organization's domains".into(),
            )));
        }
    }
    if let Ok(Verification::Social { identity, .. }) = c.state.verification_mut(verification_id) {
        *identity = Some(found);
    }
    Ok(verification_id.to_owned())
}

/// The verified identity of social verification `id`, with its target.
fn proven(c: &Current, id: &str) -> Result<Option<(String, SocialIdentity)>, Failure> {
    match c.state.verification(id) {
        Ok(Verification::Social {
            target,
            identity: Some(identity),
            ..
        }) => Ok(Some((target.clone(), identity.clone()))),
        Ok(Verification::Social { .. }) => Err(Failure::Step(StepError::NotVerified)),
        _ => Ok(None),
    }
}

/// The user with the identity's verified email address, or its phone number.
pub(super) async fn related<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    identity: &SocialIdentity,
) -> Result<Option<(User, &'static str, String)>, Failure> {
    if let (Some(email), true) = (&identity.email, identity.email_verified) {
        if let Some(u) = users::find_by_identifier(ctx.db, Identifier::Email.into(), email).await? {
            return Ok(Some((u, "email", email.clone())));
        }
    }
    Ok(None)
}

/// `POST /identification {verificationId, linkSocialIdentity?}` for a social verification:
/// signing in, the user the identity is linked to (or, with `link`, the user with the same
/// verified email, the link written at submit); registering, a new user from the profile.
/// `None` when the verification is not a social one; `Some(true)` when a user was created.
pub async fn identify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    verification_id: &str,
    link: bool,
) -> Result<Option<bool>, Failure> {
    let Some((target, identity)) = proven(c, verification_id)? else {
        return Ok(None);
    };
    let linked = identities::user_of(ctx.db, &target, &identity.id).await?;
    if target.starts_with("sso:") {
        return super::sso::identify(ctx, c, verification_id, (&target, &identity), linked)
            .await
            .map(Some);
    }
    // A (verified) email of a domain that signs in through enterprise SSO does so only there.
    if let (Some(email), true) = (&identity.email, identity.email_verified) {
        super::sso::guard(ctx, c, email).await?;
    }
    match c.state.event().map_err(Failure::Step)? {
        Event::SignIn => {
            let (user, staged) = match linked {
                Some(u) => (u, false),
                None => match related(ctx, &identity).await? {
                    Some((u, _, _)) if link => (u, true),
                    other => {
                        return Err(Failure::IdentityNotExist {
                            related: other.map(|(_, kind, value)| (kind, value)),
                        })
                    }
                },
            };
            sign_in_as(c, verification_id, user, staged)?;
            Ok(Some(false))
        }
        Event::Register => {
            if linked.is_some() {
                return Err(Failure::IdentityInUse);
            }
            // The account is written now: the terms first, as the registration form asks.
            if c.settings.terms_required(true) && !c.state.agreed_terms {
                return Err(Failure::TermsNotAgreed);
            }
            // The provider's email joins the new account only if it verified it and no one
            // has it.
            let email = match (&identity.email, identity.email_verified) {
                (Some(e), true) => users::find_by_identifier(ctx.db, Identifier::Email.into(), e)
                    .await?
                    .is_none()
                    .then(|| e.clone()),
                _ => None,
            };
            create(ctx, c, verification_id, (&target, &identity), email).await?;
            Ok(Some(true))
        }
        Event::ForgotPassword => Err(Failure::Step(StepError::WrongEvent)),
    }
}

/// Identifies `user` by the social verification (not a suspended one); with `staged`, its
/// identity is linked to the user at submit.
pub(super) fn sign_in_as(
    c: &mut Current,
    verification_id: &str,
    user: User,
    staged: bool,
) -> Result<(), Failure> {
    if user.is_suspended {
        return Err(Failure::InvalidCredentials);
    }
    c.state
        .identify_as(user.id, verification_id, Some(user.sessions_valid_after));
    if staged {
        c.state.link_social = Some(verification_id.to_owned());
    }
    Ok(())
}

/// A new user from the provider's profile (with `email`, if it may have it) and its
/// identity, in one transaction; the interaction identifies it.
pub(super) async fn create<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    verification_id: &str,
    (target, identity): (&str, &SocialIdentity),
    email: Option<String>,
) -> Result<(), Failure> {
    let user = User {
        primary_email: email,
        name: identity.name.clone(),
        avatar: identity.avatar.clone(),
        ..User::new(random::id()?, ctx.now_ms)
    };
    identities::insert_user_with(ctx.db, &user, (target, &identity.id), ctx.now_ms)
        .await
        .map_err(|e| match e {
            StoreError::Unique(_) => Failure::IdentityInUse,
            e => e.into(),
        })?;
    c.state.identify_as(user.id, verification_id, Some(0));
    Ok(())
}

/// The statements that link the staged social identity at submit (only with session `sid`).
pub fn link_statements(
    c: &Current,
    user_id: &str,
    now_ms: i64,
    sid: &str,
) -> Vec<crate::store::Statement> {
    let Some(id) = c.state.link_social.as_deref() else {
        return Vec::new();
    };
    match c.state.verification(id) {
        Ok(Verification::Social {
            target,
            identity: Some(identity),
            ..
        }) => identities::link(
            user_id,
            (target, &identity.id),
            &crate::jv!({"email": identity.email, "name": identity.name}),
            now_ms,
            Some(sid),
        ),
        _ => Vec::new(),
    }
}

/// Whether verification `id` is an enterprise SSO sign-in.
pub fn is_sso(c: &Current, id: &str) -> bool {
    matches!(c.state.verification(id), Ok(Verification::Social { target, .. }) if target.starts_with("sso:"))
}

/// Whether verification `id` is a social sign-in.
pub fn is_social(c: &Current, id: &str) -> bool {
    matches!(c.state.verification(id), Ok(Verification::Social { .. }))
}

/// A social sign-in button of the hosted pages: the connector and its display name.
#[derive(Debug, Clone, PartialEq)]
pub struct Button {
    pub connector_id: String,
    pub name: String,
    pub logo: Option<String>,
}

/// The social connector with `target`, if one is set up: `(connector id, metadata)`.
/// Whether `r` is the social connector of `target`.
fn serves(r: &connectors::ConnectorRow, target: &str) -> bool {
    social::is_social(&r.connector_id) && r.target.as_deref() == Some(target)
}

/// The buttons the sign-in page shows: the settings' `socialSignInConnectorTargets` that a
/// social connector serves, in that order. A name given per language is shown in `lang`,
/// else in English, else the target.
pub async fn buttons<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    targets: &[String],
    lang: &str,
) -> Result<Vec<Button>, StoreError> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let rows = connectors::connectors(ctx.db).await?;
    Ok(targets
        .iter()
        .filter_map(|t| {
            let r = rows.iter().find(|r| serves(r, t))?;
            let meta: Value = crate::json::parse(&r.metadata).unwrap_or(Value::Null);
            let name = match meta.get("name") {
                Some(Value::String(n)) => Some(n.clone()),
                Some(Value::Object(o)) => o
                    .get(lang)
                    .or_else(|| o.get("en"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                _ => None,
            };
            Some(Button {
                connector_id: r.id.clone(),
                name: name.unwrap_or_else(|| t.clone()),
                logo: meta.get("logo").and_then(Value::as_str).map(str::to_owned),
            })
        })
        .collect())
}

/// The connector `direct_sign_in` names (`social:<target>` or `sso:<connector id>`), if there
/// is one; true for an SSO connector.
pub async fn direct<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    settings: &super::settings::Settings,
    value: &str,
) -> Result<Option<(String, bool)>, Failure> {
    if let Some(t) = value.strip_prefix("social:") {
        let rows = connectors::connectors(ctx.db).await?;
        return Ok(rows
            .into_iter()
            .find(|r| serves(r, t))
            .map(|r| (r.id, false)));
    }
    if let Some(id) = value.strip_prefix("sso:") {
        if !settings.single_sign_on_enabled {
            return Ok(None);
        }
        let row = connectors::connector(ctx.db, id).await?;
        let sso = row.is_some_and(|r| r.channel == social::sso::TYPE);
        return Ok(sso.then(|| (id.to_owned(), true)));
    }
    Ok(None)
}

/// The hosted pages' redirect URI for a connector: Logto's `/callback/{connectorId}`.
pub fn callback_uri(origin: &str, connector_id: &str) -> String {
    format!("{origin}/callback/{connector_id}")
}

/// The hosted pages' start of a social sign-in: a fresh `state`, the answer expected at
/// [`callback_uri`]. Where to send the browser.
pub async fn start<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    (connector_id, sso): (&str, bool),
    idp_initiated: Option<&str>,
) -> Result<String, Failure> {
    if c.state.event.is_none() {
        super::interaction::start(c, Event::SignIn)?;
    }
    let state = b64url(&random::bytes::<24>()?);
    let redirect_uri = callback_uri(&ctx.origin, connector_id);
    let (url, _) = authorization_uri(
        ctx,
        c,
        (connector_id, sso),
        (&state, &redirect_uri),
        idp_initiated,
    )
    .await?;
    Ok(url)
}

/// The hosted pages' callback: the provider's answer (`query`) checked against the pending
/// social verification of this connector with the same `state`. Its verification id.
pub async fn callback<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    connector_id: &str,
    query: &[(String, String)],
) -> Result<String, Failure> {
    let given = query
        .iter()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.as_str());
    let pending = c.state.verifications.iter().rev().find_map(|v| match v {
        Verification::Social {
            id,
            connector_id: of,
            state,
            identity,
            nonce,
            ..
        } if of == connector_id
            && Some(state.as_str()) == given
            && (identity.is_none() || nonce.starts_with(super::sso::SAML_MARK)) =>
        {
            Some(id.clone())
        }
        _ => None,
    });
    let id = pending.ok_or(Failure::SocialStateMismatch)?;
    let mut data = Map::new();
    for (k, v) in query {
        data.insert(k.clone(), Value::String(v.clone()));
    }
    verify(ctx, c, connector_id, &id, &Value::Object(data)).await
}

/// The checked social verification of `connector_id` in this interaction, newest first.
pub fn checked(c: &Current, connector_id: &str) -> Option<String> {
    c.state.verifications.iter().rev().find_map(|v| match v {
        Verification::Social {
            id,
            connector_id: of,
            identity: Some(_),
            ..
        } if of == connector_id => Some(id.clone()),
        _ => None,
    })
}
