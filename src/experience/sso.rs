//! Enterprise SSO in the experience: which connectors an email's domain routes to, the rule
//! that such an email signs in and registers only through them (Logto's
//! `session.sso_enabled`), and identification by an SSO identity (linked user, user with the
//! verified email, or a new one); and SAML's assertion consumer service, which checks the
//! IdP's answer for the sign-in its `RelayState` names.
//!
//! Invariant: an SSO identity is keyed by its issuer and subject (`sso:<issuer>`), so it
//! signs in the same user whatever connector carries that issuer.
use super::interaction::Current;
use super::state::{Event, SocialIdentity, StepError, Verification};
use super::Failure;
use crate::ctx::Ctx;
use crate::saml;
use crate::social::{self, oidc::SocialError};
use crate::store::messages as connectors;
use crate::store::users::User;
use crate::store::{Db, Kv, StoreError};
use serde_json::Value;

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

/// How long a SAML sign-in may take at the IdP (seconds).
pub(super) const RELAY_TTL: u64 = 600;

pub(super) fn relay_key(relay_state: &str) -> String {
    format!("saml-relay:{relay_state}")
}

/// The assertion consumer service (`POST /api/authn/single-sign-on/saml/{connectorId}`):
/// the IdP's `SAMLResponse` for the sign-in its `RelayState` names, checked
/// (`saml::response::check` against this connector's certificate, entity ids and the
/// request's id), its assertion consumed once, the identity kept in the verification.
/// Where the browser goes next: the sign-in's redirect URI with its `state`.
pub async fn assertion<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    connector_id: &str,
    (response, relay): (&str, &str),
) -> Result<String, Failure> {
    let not_pending = Failure::SamlSessionNotFound;
    let key = relay_key(relay);
    if relay.is_empty() {
        return Err(not_pending);
    }
    let interaction = ctx.kv.get(&key).await?.ok_or(not_pending)?;
    let mut c = super::interaction::load(ctx, Some(&interaction)).await?;
    let pending = c.state.verifications.iter().find_map(|v| match v {
        Verification::Social {
            id,
            connector_id: of,
            nonce,
            verifier,
            state,
            redirect_uri,
            identity: None,
            ..
        } if of == connector_id && verifier == relay => Some((
            id.clone(),
            nonce.clone(),
            state.clone(),
            redirect_uri.clone(),
        )),
        _ => None,
    });
    let (vid, request_id, state, redirect_uri) = pending.ok_or(Failure::SamlSessionNotFound)?;
    let (_, config, domains) = super::social::connector(ctx, connector_id, true).await?;
    let bad = |m: String| Failure::Social(SocialError::BadAssertion(m));
    let cert = config.get("x509Certificate").and_then(Value::as_str);
    let key_of_idp = cert
        .and_then(|c| saml::cert::rsa_key(c.as_bytes()))
        .ok_or_else(|| bad("the connector has no usable certificate".into()))?;
    let compact: String = response.split_whitespace().collect();
    let xml = crate::crypto::base64::std_decode(&compact)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| bad("`SAMLResponse` is not base64 of UTF-8 text".into()))?;
    let (audience, acs) = (
        saml::sp::entity_id(&ctx.origin, connector_id),
        saml::sp::acs_url(&ctx.origin, connector_id),
    );
    let expected = saml::response::Expected {
        issuer: config
            .get("entityId")
            .and_then(Value::as_str)
            .unwrap_or_default(),
        audience: &audience,
        acs_url: &acs,
        in_response_to: Some(&request_id),
        now: ctx.now(),
    };
    let mapping = saml::sp::mapping(&config);
    let found = saml::response::check(ctx.crypto, &xml, &key_of_idp, &expected, &mapping)
        .await
        .map_err(|e| bad(e.to_string()))?;
    if !crate::store::saml::consume_assertion(ctx.db, &found.assertion_id, found.expires_at).await?
    {
        return Err(bad("the assertion was used before".into()));
    }
    let ours = found
        .email
        .as_deref()
        .and_then(social::sso::domain_of)
        .is_some_and(|d| domains.contains(&d));
    if !domains.is_empty() && !ours {
        return Err(Failure::Social(SocialError::Declined(
            "the account's email is not of this organization's domains".into(),
        )));
    }
    if let Ok(Verification::Social { identity, .. }) = c.state.verification_mut(&vid) {
        *identity = Some(SocialIdentity {
            id: found.id,
            email: found.email,
            email_verified: ours,
            phone: None,
            name: found.name,
            avatar: None,
        });
    }
    super::interaction::save(ctx, &c).await?;
    ctx.kv.delete(&key).await?;
    Ok(crate::uri::with_query(
        &redirect_uri,
        [("state", state.as_str())],
    ))
}
