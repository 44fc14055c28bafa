//! `/oidc/me` (userinfo, OIDC Core §5.3), `/oidc/token/revocation` (RFC 7009) and
//! `/oidc/token/introspection` (RFC 7662).
use super::access_token;
use super::claims;
use super::client_auth::{authenticate, Client, Form, Presented};
use super::error::{ErrorCode, OAuthError};
use super::signing;
use crate::crypto::secret::{self, Secret};
use crate::ctx::Ctx;
use crate::store::oidc::{self as repo, Granted, WithUser};
use crate::store::{Db, Kv};
use serde_json::{json, Value};

fn invalid_token(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidToken, description)
}

/// `GET|POST /oidc/me` with the opaque access token the face took from the `Authorization:
/// Bearer` header. Returns the claims.
pub async fn userinfo<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    bearer: Option<&str>,
) -> Result<Value, OAuthError> {
    let token = bearer
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid_token("a bearer access token is required"))?;
    // The token, its user and the user's roles in one round trip.
    let WithUser { found, user, roles } = repo::access_with_user(ctx.db, &secret::hash(token))
        .await?
        .filter(|t| t.found.token_expires_at > ctx.now())
        .ok_or_else(|| invalid_token("the access token is invalid, expired or revoked"))?;
    let scopes: Vec<String> = found
        .token_scopes
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(OAuthError::new(
            ErrorCode::InvalidToken,
            "the access token lacks the openid scope",
        ));
    }
    let user = user
        .filter(|u| !u.is_suspended)
        .ok_or_else(|| invalid_token("the user no longer exists or is suspended"))?;
    let roles = if scopes.iter().any(|s| s == "roles") {
        roles
    } else {
        Vec::new()
    };
    Ok(Value::Object(claims::for_scopes(&user, &scopes, &roles)))
}

async fn client_and_token<'f, D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    basic: Option<(String, Secret)>,
    form: &'f Form,
) -> Result<(Client, &'f str), OAuthError> {
    let client = authenticate(ctx, Presented::from_parts(basic, form)?).await?;
    let token = form
        .get("token")?
        .ok_or_else(|| OAuthError::new(ErrorCode::InvalidRequest, "token is required"))?;
    Ok((client, token))
}

/// RFC 7009: revokes a refresh token (with its whole family) or an opaque access token of
/// the calling client. Unknown tokens, and other clients' tokens, are a silent 200 (§2.2).
pub async fn revoke<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    basic: Option<(String, Secret)>,
    form: &Form,
) -> Result<(), OAuthError> {
    let (client, token) = client_and_token(ctx, basic, form).await?;
    let hash = secret::hash(token);
    if let Some(found) = repo::refresh_token(ctx.db, &hash).await? {
        if found.family.client_id == client.id() {
            repo::delete_family(ctx.db, &found.family.id).await?;
        }
    } else if let Some(found) = repo::access_token(ctx.db, &hash).await? {
        if found.family.client_id == client.id() {
            repo::delete_access_token(ctx.db, &hash).await?;
        }
    }
    Ok(())
}

/// RFC 7662: for authenticated (confidential) clients only.
pub async fn introspect<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    basic: Option<(String, Secret)>,
    form: &Form,
) -> Result<Value, OAuthError> {
    let (client, token) = client_and_token(ctx, basic, form).await?;
    if !client.app_type().is_confidential() {
        return Err(OAuthError::new(
            ErrorCode::InvalidClient,
            "introspection requires client authentication",
        ));
    }
    let now = ctx.now();
    let hash = secret::hash(token);
    let inactive = json!({ "active": false });
    let body: Value = if let Some(t) = repo::access_token(ctx.db, &hash)
        .await?
        .filter(|t| t.token_expires_at > now)
    {
        json!({
            "active": true, "token_type": "Bearer", "scope": t.token_scopes, "client_id": t.family.client_id,
            "sub": t.family.user_id, "iat": t.token_created_at, "exp": t.token_expires_at, "iss": ctx.issuer(),
        })
    } else if let Some(t) = repo::refresh_token(ctx.db, &hash)
        .await?
        .filter(|t| t.consumed_at.is_none() && t.token_expires_at > now)
    {
        let granted: Granted = repo::from_json(&t.family.granted)?;
        json!({
            "active": true, "token_type": "refresh_token", "scope": granted.scopes.join(" "),
            "client_id": t.family.client_id, "sub": t.family.user_id, "exp": t.token_expires_at, "iss": ctx.issuer(),
        })
    } else {
        // A JWT access token: active while its signature verifies and it has not expired.
        match signing::verify::<_, _, access_token::AccessTokenClaims>(ctx, token, now).await? {
            Ok(v)
                if v.claims.iss == ctx.issuer() && v.typ.as_deref() == Some(access_token::TYP) =>
            {
                json!({
                    "active": true, "token_type": "Bearer", "scope": v.claims.scope, "client_id": v.claims.client_id,
                    "sub": v.claims.sub, "aud": v.claims.aud, "iat": v.iat, "exp": v.exp, "iss": v.claims.iss, "jti": v.claims.jti,
                })
            }
            _ => inactive,
        }
    };
    Ok(body)
}
