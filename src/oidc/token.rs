//! `POST /oidc/token` (RFC 6749 §3.2). Grants: `client_credentials` (§4.4) with RFC 8707
//! resource indicators.
use super::access_token;
use super::client_auth::{authenticate, Client, Form, Presented};
use super::error::{ErrorCode, OAuthError};
use super::resources::{self, Resource};
use super::signing;
use crate::crypto::secret::Secret;
use crate::ctx::Ctx;
use crate::store::apps::AppType;
use crate::store::{Db, Kv};
use serde_json::Value;

pub const GRANT_TYPES: &[&str] = &["authorization_code", "refresh_token", "client_credentials"];
pub const AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post", "none"];

/// A token request: the form's parameters and the Basic credentials, if any. Returns the
/// JSON body of the successful response (§5.1).
pub async fn exchange<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    basic: Option<(String, Secret)>,
    form: &Form,
) -> Result<Value, OAuthError> {
    let grant_type = form
        .get("grant_type")?
        .ok_or_else(|| OAuthError::new(ErrorCode::InvalidRequest, "grant_type is required"))?;
    if !GRANT_TYPES.contains(&grant_type) {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("unsupported grant_type `{grant_type}`"),
        ));
    }
    let client = authenticate(ctx, Presented::from_parts(basic, form)?).await?;
    match grant_type {
        "authorization_code" => super::code_grant::authorization_code(ctx, &client, form).await,
        "refresh_token" => super::code_grant::refresh_token(ctx, &client, form).await,
        _ => client_credentials(ctx, &client, form).await,
    }
}

/// The one resource a client_credentials request names.
async fn requested_resource<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    form: &Form,
) -> Result<Resource, OAuthError> {
    let indicators = form.all("resource");
    let indicator = match indicators.as_slice() {
        [] => {
            return Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                "resource is required: name the API the token is for",
            ))
        }
        [one] => *one,
        _ => {
            return Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                "only one resource may be requested with client_credentials",
            ))
        }
    };
    resources::check_indicator(indicator)?;
    resources::find(ctx, indicator)
        .await?
        .ok_or_else(|| OAuthError::new(ErrorCode::InvalidTarget, "resource does not exist"))
}

/// Granted scopes: the requested ones (all the client may have when none are requested)
/// that the client is allowed. A scope the resource does not define is `invalid_scope`.
pub fn grant_scopes(
    requested: Option<&str>,
    resource: &Resource,
    allowed: &[String],
) -> Result<Vec<String>, OAuthError> {
    let Some(requested) = requested else {
        return Ok(allowed.to_vec());
    };
    let mut granted = Vec::new();
    for scope in requested.split(' ').filter(|s| !s.is_empty()) {
        if !resource.scopes.iter().any(|s| s == scope) {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                format!("scope `{scope}` is not defined for this resource"),
            ));
        }
        if allowed.iter().any(|s| s == scope) && !granted.iter().any(|s| s == scope) {
            granted.push(scope.to_owned());
        }
    }
    Ok(granted)
}

async fn client_credentials<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    client: &Client,
    form: &Form,
) -> Result<Value, OAuthError> {
    if client.app_type() != AppType::MachineToMachine {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "only machine-to-machine apps may use client_credentials",
        ));
    }
    let resource = requested_resource(ctx, form).await?;
    let allowed = resources::client_scopes(ctx, client, &resource).await?;
    let scopes = grant_scopes(form.get("scope")?, &resource, &allowed)?;
    let keys = signing::keys(ctx).await?;
    let issued = access_token::issue(
        ctx.crypto,
        &keys.current,
        &ctx.issuer(),
        client.id(),
        client.id(),
        &resource.indicator,
        &scopes,
        ctx.now(),
        resource.access_token_ttl,
    )
    .await?;
    let mut body = crate::jv!({
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
    });
    if let (false, Some(map)) = (scopes.is_empty(), body.as_object_mut()) {
        map.insert("scope".into(), crate::jv!(scopes.join(" ")));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource() -> Resource {
        Resource {
            indicator: "https://api.example.com".into(),
            scopes: vec!["read".into(), "write".into()],
            access_token_ttl: 3600,
            is_management: false,
        }
    }

    #[test]
    fn grants_only_allowed_scopes() {
        let allowed = vec!["read".to_owned()];
        assert_eq!(
            grant_scopes(None, &resource(), &allowed).unwrap(),
            vec!["read"]
        );
        assert_eq!(
            grant_scopes(Some("read write"), &resource(), &allowed).unwrap(),
            vec!["read"]
        );
        assert!(grant_scopes(Some("write"), &resource(), &allowed)
            .unwrap()
            .is_empty());
        assert_eq!(
            grant_scopes(Some(" read  read "), &resource(), &allowed).unwrap(),
            vec!["read"]
        );
    }

    #[test]
    fn an_undefined_scope_is_invalid_scope() {
        let e = grant_scopes(Some("read admin"), &resource(), &[]).unwrap_err();
        assert_eq!(e.code(), Some(ErrorCode::InvalidScope));
    }
}
