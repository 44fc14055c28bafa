//! A social or enterprise SSO provider as the sign-in steps use it, inside an interaction
//! (`experience::social`) or outside one (the Account API's social verification records):
//! the connector opened, the start's parameters checked, and the provider's answer checked.
//!
//! Invariant: an answer counts only with the `state` its flow began with, through the PKCE
//! verifier and ID token `nonce` of that flow (`social::oidc::finish`).
use super::state::SocialIdentity;
use super::Failure;
use crate::ctx::Ctx;
use crate::social::{self, oidc};
use crate::store::messages as connectors;
use crate::store::{Db, Kv};
use serde_json::{Map, Value};

/// The connector `id` (a social one, or with `sso` an enterprise SSO one) and its opened
/// config, with the target its identities are kept under: a social connector's own, or
/// `sso:<issuer>` (an SSO identity is the issuer's subject, as in Logto); and its metadata
/// (an SSO connector's `domains`, IdP-initiated settings).
pub async fn connector<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    sso: bool,
) -> Result<(String, Map<String, Value>, Value), Failure> {
    let row = connectors::connector(ctx.db, id)
        .await?
        .filter(|r| (r.channel == social::sso::TYPE) == sso)
        .filter(|r| sso || social::is_social(&r.connector_id))
        .ok_or(Failure::NoSocialConnector)?;
    let Value::Object(config) = super::messages::open_config(ctx, &row).await? else {
        return Err(Failure::NoSocialConnector);
    };
    let target = if sso {
        social::sso::issuer_of(&config).map(|i| format!("sso:{i}"))
    } else {
        row.target.clone()
    };
    let metadata = crate::json::parse(&row.metadata).unwrap_or(Value::Null);
    Ok((target.ok_or(Failure::NoSocialConnector)?, config, metadata))
}

/// The `state` and `redirectUri` an app gives for a social sign-in.
pub fn check_start(state: &str, redirect_uri: &str) -> Result<(), Failure> {
    if state.is_empty() || state.len() > 512 {
        return Err(Failure::Invalid(
            "`state` must be 1 to 512 characters.".into(),
        ));
    }
    crate::uri::Uri::parse(redirect_uri)
        .ok_or_else(|| Failure::Invalid("`redirectUri` must be an absolute URL.".into()))?;
    Ok(())
}

/// What a social sign-in began with, to check the provider's answer against.
pub struct Begun<'a> {
    pub state: &'a str,
    pub nonce: &'a str,
    pub verifier: &'a str,
    pub redirect_uri: &'a str,
}

/// The provider's answer (`data`: the callback's query, `code` and `state`, or `error`) to
/// a sign-in that `begun`, checked through the connector `config`: the identity.
pub async fn answer<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    config: &Map<String, Value>,
    begun: Begun<'_>,
    data: &Value,
) -> Result<SocialIdentity, Failure> {
    let field = |k: &str| data.get(k).and_then(Value::as_str);
    if let Some(error) = field("error") {
        let detail = field("error_description").unwrap_or_default();
        return Err(Failure::Social(oidc::SocialError::Declined(format!(
            "the provider answered {error} {detail}"
        ))));
    }
    if field("state") != Some(begun.state) {
        return Err(Failure::SocialStateMismatch);
    }
    let code =
        field("code").ok_or_else(|| Failure::Invalid("`connectorData.code` is missing.".into()))?;
    oidc::finish(
        (ctx.http, ctx.cache),
        ctx.crypto,
        config,
        (code, begun.verifier, begun.nonce, begun.redirect_uri),
        ctx.now(),
    )
    .await
    .map_err(Failure::Social)
}
