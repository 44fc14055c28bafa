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
use crate::store::users::{self, User};
use crate::store::{Db, Kv};
use serde_json::Value;

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
    let WithUser {
        found, user, roles, ..
    } = repo::access_with_user(ctx.db, &secret::hash(token))
        .await?
        .filter(|t| t.found.token_expires_at > ctx.now())
        .ok_or_else(|| invalid_token("the access token is invalid, expired or revoked"))?;
    let scopes: Vec<String> = super::access_token::scope_list(&found.token_scopes)
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(OAuthError::new(
            ErrorCode::InvalidToken,
            "the access token lacks the openid scope",
        ));
    }
    let user = user
        .filter(|u| live(u, found.family.auth_time))
        .ok_or_else(|| {
            invalid_token("the user no longer exists, is suspended or changed the password")
        })?;
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

/// Whether a user's token issued to a session that signed in at `issued_at` still counts:
/// the user is not suspended and has not changed the password since.
fn live(user: &User, issued_at: i64) -> bool {
    !user.is_suspended && user.issued_in_force(issued_at)
}

/// RFC 7662: for authenticated (confidential) clients only. A token is described only to
/// the client it was issued to; anyone else learns `{"active": false}` (§4: the server must
/// not reveal a token to a party that may not see it). An API (the audience of a JWT access
/// token) is not a client here: it verifies the token itself against the JWKS. A user's token is inactive once the user is deleted or suspended, or changed
/// the password after it was issued.
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
    let inactive = crate::jv!({ "active": false });
    let mine = |client_id: &str| client_id == client.id();
    if let Some(t) = repo::access_with_user(ctx.db, &hash).await? {
        let f = &t.found.family;
        let shown = t.found.token_expires_at > now
            && mine(&f.client_id)
            && t.user.as_ref().is_some_and(|u| live(u, f.auth_time));
        return Ok(if shown {
            crate::jv!({
                "active": true, "token_type": "Bearer", "scope": t.found.token_scopes, "client_id": f.client_id,
                "sub": f.user_id, "iat": t.found.token_created_at, "exp": t.found.token_expires_at, "iss": ctx.issuer(),
            })
        } else {
            inactive
        });
    }
    if let Some(t) = repo::refresh_with_user(ctx.db, &hash).await? {
        let f = &t.found.family;
        let shown = t.found.consumed_at.is_none()
            && t.found.token_expires_at > now
            && mine(&f.client_id)
            && t.user.as_ref().is_some_and(|u| live(u, f.auth_time));
        if !shown {
            return Ok(inactive);
        }
        let granted: Granted = crate::store::parse_object(&f.granted)?;
        return Ok(crate::jv!({
            "active": true, "token_type": "refresh_token", "scope": granted.scopes.join(" "),
            "client_id": f.client_id, "sub": f.user_id, "exp": t.found.token_expires_at, "iss": ctx.issuer(),
        }));
    }
    // A JWT access token: active while its signature verifies, it has not expired, and (for
    // a user's token) the user still counts.
    let Ok(v) = signing::verify::<_, _, access_token::AccessTokenClaims>(ctx, token, now).await?
    else {
        return Ok(inactive);
    };
    let c = &v.claims;
    if c.iss != ctx.issuer() || v.typ.as_deref() != Some(access_token::TYP) || !mine(&c.client_id) {
        return Ok(inactive);
    }
    // A machine-to-machine token's subject is its client; any other subject is a user.
    if c.sub != c.client_id {
        let user = users::get(ctx.db, &c.sub).await?;
        if !user.is_some_and(|u| live(&u, v.iat.unwrap_or(0))) {
            return Ok(inactive);
        }
    }
    Ok(crate::jv!({
        "active": true, "token_type": "Bearer", "scope": c.scope, "client_id": c.client_id,
        "sub": c.sub, "aud": c.aud, "iat": v.iat, "exp": v.exp, "iss": c.iss, "jti": c.jti,
    }))
}
