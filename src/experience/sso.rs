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

/// How a SAML verification's `nonce` (the AuthnRequest's id) begins: `_.` is a valid start
/// of an `xs:ID`, and no OpenID Connect nonce (base64url) holds a `.`.
pub(super) const SAML_MARK: &str = "_.";

/// The longest `RelayState` or IdP-initiated token taken (ours are 43 characters); longer
/// ones are no sign-in's, and are not looked up.
const MAX_TOKEN: usize = 128;

/// How long a SAML sign-in may take at the IdP (seconds).
pub(super) const RELAY_TTL: u64 = 600;
/// How long an IdP-initiated response waits for its sign-in (seconds).
pub const IDP_INITIATED_TTL: i64 = 600;

pub(super) fn relay_key(relay_state: &str) -> String {
    format!("saml-relay:{relay_state}")
}

/// What the assertion consumer service does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed {
    /// Back to the sign-in that asked: its redirect URI with its `state`.
    SignIn(String),
    /// An IdP-initiated sign-in: the browser keeps `token` (a cookie) and goes to `next`,
    /// a sign-in that `direct_sign_in=sso:<id>` sends to this connector, which takes the
    /// identity kept under `token` instead of asking the IdP again.
    IdpInitiated { token: String, next: String },
}

fn idp_key(token: &str) -> String {
    format!("saml-idp:{token}")
}

/// Succeeds when `connector_id` is a SAML connector (whose SP metadata may be shown).
pub async fn saml_connector_exists<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    connector_id: &str,
) -> Result<(), Failure> {
    let (_, config, _) = super::provider::connector(ctx, connector_id, true).await?;
    match crate::saml::sp::is_saml(&config) {
        true => Ok(()),
        false => Err(Failure::NoSocialConnector),
    }
}

/// The assertion consumer service (`POST /api/authn/single-sign-on/saml/{connectorId}`):
/// the IdP's `SAMLResponse` checked (`saml::response::check` against this connector's
/// certificate and entity ids), its assertion consumed once. With a `RelayState`, it must
/// answer the request of the sign-in that state names, which keeps the identity; without,
/// it is IdP-initiated, taken only when the connector's `idpInitiatedAuthConfig` allows,
/// and kept for [`RELAY_TTL`] for the sign-in that follows.
pub async fn assertion<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    connector_id: &str,
    (response, relay): (&str, &str),
) -> Result<Consumed, Failure> {
    let (_, config, metadata) = super::provider::connector(ctx, connector_id, true).await?;
    let domains = social::sso::domains_in(&metadata);
    if relay.is_empty() {
        let Some(idp) = metadata.get(IDP_INITIATED).filter(|v| v.is_object()) else {
            return Err(Failure::SamlSessionNotFound);
        };
        let found = checked(ctx, connector_id, (&config, &domains), response, None).await?;
        let token = crate::crypto::random::id()?;
        let kept = crate::jv!({"connectorId": connector_id, "identity": found});
        ctx.kv
            .put(&idp_key(&token), &crate::json::text(&kept), RELAY_TTL)
            .await?;
        let text = |k: &str| idp.get(k).and_then(Value::as_str).unwrap_or_default();
        let next = if idp.get("autoSendAuthorizationRequest") == Some(&Value::Bool(true)) {
            let extra = idp.get("authParameters").and_then(Value::as_object);
            let more = extra.and_then(|p| p.get("scope")).and_then(Value::as_str);
            let scope = match more.unwrap_or_default() {
                "" => "openid profile".to_owned(),
                more => format!("openid profile {more}"),
            };
            let direct = format!("sso:{connector_id}");
            let mut pairs = vec![
                ("client_id", text("defaultApplicationId")),
                ("redirect_uri", text("redirectUri")),
                ("response_type", "code"),
                ("prompt", "login"),
                ("scope", scope.as_str()),
                ("direct_sign_in", direct.as_str()),
            ];
            for (k, v) in extra.into_iter().flatten() {
                if let (false, Some(v)) = (pairs.iter().any(|(p, _)| p == k), v.as_str()) {
                    pairs.push((k.as_str(), v));
                }
            }
            crate::uri::with_query(&format!("{}/auth", ctx.issuer()), pairs)
        } else {
            crate::uri::with_query(
                text("clientIdpInitiatedAuthCallbackUri"),
                [("ssoConnectorId", connector_id)],
            )
        };
        return Ok(Consumed::IdpInitiated { token, next });
    }
    if relay.len() > MAX_TOKEN {
        return Err(Failure::SamlSessionNotFound);
    }
    let key = relay_key(relay);
    let interaction = ctx
        .kv
        .get(&key)
        .await?
        .ok_or(Failure::SamlSessionNotFound)?;
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
    let found = checked(
        ctx,
        connector_id,
        (&config, &domains),
        response,
        Some(&request_id),
    )
    .await?;
    // The identity is the sign-in's only with this one-time code, which goes to the
    // browser that posted the response: someone else's answer to this sign-in's request (a
    // leaked IdP link completed at the IdP as another person) cannot complete it.
    let code = crate::crypto::b64url(&crate::crypto::random::bytes::<24>()?);
    if let Ok(Verification::Social {
        identity, verifier, ..
    }) = c.state.verification_mut(&vid)
    {
        *identity = Some(found);
        *verifier = code.clone();
    }
    super::interaction::save(ctx, &c).await?;
    ctx.kv.delete(&key).await?;
    Ok(Consumed::SignIn(crate::uri::with_query(
        &redirect_uri,
        [("state", state.as_str()), ("code", code.as_str())],
    )))
}

/// The connector's metadata field with its IdP-initiated sign-in settings.
pub const IDP_INITIATED: &str = "idpInitiatedAuthConfig";

/// The response checked for this connector (answering `request_id`, or unsolicited), its
/// assertion consumed, and the identity it gives under the SSO domain rule.
async fn checked<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    connector_id: &str,
    (config, domains): (&serde_json::Map<String, Value>, &[String]),
    response: &str,
    request_id: Option<&str>,
) -> Result<SocialIdentity, Failure> {
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
        in_response_to: request_id,
        now: ctx.now(),
    };
    let mapping = saml::sp::mapping(config);
    let found = saml::response::check(ctx.crypto, &xml, &key_of_idp, &expected, &mapping)
        .await
        .map_err(|e| bad(e.to_string()))?;
    let once = format!("{} {}", expected.issuer, found.assertion_id);
    if !crate::store::saml::consume_assertion(ctx.db, &once, found.expires_at).await? {
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
    Ok(SocialIdentity {
        id: found.id,
        email: found.email,
        email_verified: ours,
        phone: None,
        name: found.name,
        avatar: None,
    })
}

/// The identity an IdP-initiated response left under `token` for `connector_id`, taken
/// (once) by the sign-in that follows.
async fn take_idp_initiated<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    token: &str,
    connector_id: &str,
) -> Result<Option<SocialIdentity>, Failure> {
    if token.len() > MAX_TOKEN {
        return Ok(None);
    }
    let key = idp_key(token);
    let Some(raw) = ctx.kv.get(&key).await? else {
        return Ok(None);
    };
    let kept: Value = crate::json::parse(&raw).unwrap_or(Value::Null);
    if kept.get("connectorId").and_then(Value::as_str) != Some(connector_id) {
        return Ok(None);
    }
    ctx.kv.delete(&key).await?;
    let identity = kept
        .get("identity")
        .and_then(Value::as_object)
        .and_then(|m| <SocialIdentity as crate::store::FromRow>::from_row(m).ok());
    Ok(identity)
}

/// A verification completed by the identity an IdP-initiated response left under `token`
/// for this connector, if any: where the browser goes (`redirect_uri` with `state`) and the
/// verification's id.
pub(super) async fn idp_initiated_verification<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    token: &str,
    (connector_id, target, state, redirect_uri): (&str, &str, &str, &str),
) -> Result<Option<(String, String)>, Failure> {
    let Some(found) = take_idp_initiated(ctx, token, connector_id).await? else {
        return Ok(None);
    };
    let id = crate::crypto::random::id()?;
    let code = crate::crypto::b64url(&crate::crypto::random::bytes::<24>()?);
    c.state.add(Verification::Social {
        id: id.clone(),
        connector_id: connector_id.to_owned(),
        target: target.to_owned(),
        state: state.to_owned(),
        nonce: format!("{SAML_MARK}idp-initiated"),
        verifier: code.clone(),
        redirect_uri: redirect_uri.to_owned(),
        identity: Some(found),
    });
    let to = crate::uri::with_query(redirect_uri, [("state", state), ("code", &code)]);
    Ok(Some((to, id)))
}

/// `…/verify` of a SAML verification: the assertion consumer service checked the IdP's
/// answer already, and the redirect that followed carries the sign-in's `state` and the
/// one-time `code` it gave the browser that posted the answer. `None` when the
/// verification is not a SAML one (an OpenID Connect one is checked by `verify`).
pub(super) fn checked_by_acs(
    c: &Current,
    connector_id: &str,
    verification_id: &str,
    data: &Value,
) -> Option<Result<String, Failure>> {
    let Ok(Verification::Social {
        connector_id: of,
        state,
        identity,
        nonce,
        verifier,
        ..
    }) = c.state.verification(verification_id)
    else {
        return None;
    };
    if !nonce.starts_with(SAML_MARK) {
        return None;
    }
    let field = |k: &str| data.get(k).and_then(Value::as_str);
    Some(match identity {
        None => Err(Failure::Step(StepError::NotVerified)),
        Some(_) if of != connector_id => Err(Failure::Step(StepError::UnknownVerification)),
        Some(_) if field("state") != Some(state.as_str()) => Err(Failure::SocialStateMismatch),
        Some(_) if verifier.is_empty() || field("code") != Some(verifier.as_str()) => {
            Err(Failure::SocialStateMismatch)
        }
        Some(_) => Ok(verification_id.to_owned()),
    })
}
