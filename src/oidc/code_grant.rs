//! The `authorization_code` (RFC 6749 §4.1.3, PKCE RFC 7636 §4.6) and `refresh_token`
//! (§6) grants. Consumption is one conditional UPDATE, and the tokens it yields are written
//! in the same transaction only if that UPDATE won: a replayed code or reused refresh token
//! fails and deletes its whole token family.
use super::access_token;
use super::claims;
use super::client_auth::{Client, Form};
use super::error::{ErrorCode, OAuthError};
use super::id_token::{self, IdToken};
use super::resources;
use super::signing;
use crate::crypto::keys::ActiveKey;
use crate::crypto::{b64url, random, secret};
use crate::ctx::Ctx;
use crate::store::apps::{AppType, Application};
use crate::store::oidc::{self as repo, FamilyRow, Granted, NewTokens, WithUser};
use crate::store::users::User;
use crate::store::{Db, Kv};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

fn invalid_grant(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, description)
}

/// The app behind a client allowed to use the user-facing grants.
fn user_app(client: &Client) -> Result<&Application, OAuthError> {
    match client {
        Client::App(app) if app.app_type != AppType::MachineToMachine => Ok(app),
        _ => Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client cannot use this grant type",
        )),
    }
}

/// RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) == code_challenge.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let valid = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    valid
        && bool::from(
            b64url(&Sha256::digest(verifier.as_bytes()))
                .as_bytes()
                .ct_eq(challenge.as_bytes()),
        )
}

/// Tokens minted for a family, not yet stored.
struct Minted {
    body: Value,
    refresh: Option<(String, i64)>,
    opaque: Option<(String, String, i64)>,
}

struct MintInput<'a> {
    key: &'a ActiveKey,
    app: &'a Application,
    user: &'a User,
    /// The user's role names (for the `roles` claim).
    roles: &'a [String],
    family: &'a FamilyRow,
    granted: &'a Granted,
    resource: Option<&'a str>,
    nonce: Option<&'a str>,
}

async fn mint<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, m: MintInput<'_>) -> Result<Minted, OAuthError> {
    let now = ctx.now();
    let (access_token, expires_in, mut scope, opaque) = match m.resource {
        Some(indicator) => {
            let resource = resources::find(ctx, indicator).await?.ok_or_else(|| {
                OAuthError::new(ErrorCode::InvalidTarget, "resource does not exist")
            })?;
            let scopes = m
                .granted
                .resources
                .get(indicator)
                .cloned()
                .unwrap_or_default();
            let issued = access_token::issue(
                ctx.crypto,
                m.key,
                &ctx.issuer(),
                &m.user.id,
                &m.app.id,
                indicator,
                &scopes,
                now,
                resource.access_token_ttl,
            )
            .await?;
            (issued.token, issued.expires_in, scopes, None)
        }
        None => {
            let token = b64url(&random::bytes::<32>()?);
            let ttl = ctx.config.access_token_ttl;
            let scopes = m.granted.scopes.join(" ");
            let stored = (secret::hash(&token), scopes, now + ttl);
            (token, ttl, Vec::new(), Some(stored))
        }
    };
    let mut all_scopes = m.granted.scopes.clone();
    all_scopes.append(&mut scope);
    let mut body = crate::jv!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": all_scopes.join(" "),
    });
    let map = body.as_object_mut();
    if m.granted.has("openid") {
        let roles = if m.granted.has("roles") {
            m.roles.to_vec()
        } else {
            Vec::new()
        };
        // How the session authenticated (`pwd`, or `otp` for a code).
        let amr: Vec<String> = repo::from_json(&m.family.amr)?;
        let token = id_token::sign(
            ctx.crypto,
            m.key,
            IdToken {
                issuer: &ctx.issuer(),
                client_id: &m.app.id,
                auth_time: m.family.auth_time,
                nonce: m.nonce,
                access_token: &access_token,
                sid: &m.family.session_id,
                amr: &amr,
                user_claims: claims::for_scopes(m.user, &m.granted.scopes, &roles),
            },
            now,
            ctx.config.id_token_ttl,
        )
        .await?;
        if let Some(map) = map {
            map.insert("id_token".into(), crate::jv!(token));
        }
    }
    let mut refresh = None;
    if m.family.offline != 0 {
        let token = b64url(&random::bytes::<32>()?);
        if let Some(map) = body.as_object_mut() {
            map.insert("refresh_token".into(), crate::jv!(token));
        }
        refresh = Some((secret::hash(&token), m.family.expires_at));
    }
    Ok(Minted {
        body,
        refresh,
        opaque,
    })
}

fn refresh_ttl<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, app: &Application) -> i64 {
    i64::from(app.custom.refresh_token_ttl_in_days.unwrap_or(0))
        .max(0)
        .checked_mul(86_400)
        .filter(|t| *t > 0)
        .unwrap_or(ctx.config.refresh_token_ttl_days * 86_400)
}

/// The one resource of a token request, which must be among the granted ones.
fn token_resource<'a>(form: &'a Form, granted: &Granted) -> Result<Option<&'a str>, OAuthError> {
    let all = form.all("resource");
    match all.as_slice() {
        [] => Ok(None),
        [one] if granted.resources.contains_key(*one) => Ok(Some(*one)),
        [_] => Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            "the resource was not authorized for this grant",
        )),
        _ => Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            "only one resource may be requested",
        )),
    }
}

fn respond(minted: Minted) -> Value {
    minted.body
}

fn stored<'a>(m: &'a Minted) -> NewTokens<'a> {
    NewTokens {
        refresh: m.refresh.as_ref().map(|(h, e)| (h.as_str(), *e)),
        access: m
            .opaque
            .as_ref()
            .map(|(h, s, e)| (h.as_str(), s.as_str(), *e)),
    }
}

/// The user, if it still exists, is not suspended, and has not changed its password (or
/// been suspended) since `auth_time`, when the session behind the grant signed in.
fn live_user(user: Option<User>, auth_time: i64) -> Result<User, OAuthError> {
    let user = user
        .filter(|u| !u.is_suspended)
        .ok_or_else(|| invalid_grant("the user no longer exists or is suspended"))?;
    if !user.issued_in_force(auth_time) {
        return Err(invalid_grant(
            "the grant was issued before the user's password changed",
        ));
    }
    Ok(user)
}

pub async fn authorization_code<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    client: &Client,
    form: &Form,
) -> Result<Value, OAuthError> {
    let app = user_app(client)?;
    let now = ctx.now();
    let code = form
        .get("code")?
        .ok_or_else(|| OAuthError::new(ErrorCode::InvalidRequest, "code is required"))?;
    let redirect_uri = form
        .get("redirect_uri")?
        .ok_or_else(|| OAuthError::new(ErrorCode::InvalidRequest, "redirect_uri is required"))?;
    // The code, its user and the user's roles in one round trip.
    let WithUser {
        found: row,
        user,
        roles,
        role_scopes,
    } = repo::code_with_user(ctx.db, &secret::hash(code))
        .await?
        .ok_or_else(|| invalid_grant("the code is invalid"))?;
    if row.client_id != app.id {
        return Err(invalid_grant("the code was issued to another client"));
    }
    if row.consumed_at.is_some() {
        let revoked = repo::revoke_code_families(ctx.db, &row.id).await?;
        log::warn!(
            "authorization code replayed for client {}; revoked {revoked} token famil(ies)",
            app.id
        );
        return Err(invalid_grant("the code was already used"));
    }
    if row.expires_at <= now {
        return Err(invalid_grant("the code has expired"));
    }
    if row.redirect_uri != redirect_uri {
        return Err(invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    let verifier = form.get("code_verifier")?;
    match (&row.code_challenge, verifier) {
        (Some(challenge), Some(v)) if pkce_matches(v, challenge) => {}
        (Some(_), _) => return Err(invalid_grant("code_verifier is missing or wrong")),
        (None, Some(_)) => {
            return Err(invalid_grant(
                "code_verifier given without a code_challenge",
            ))
        }
        (None, None) => {}
    }
    let mut granted: Granted = crate::store::parse_object(&row.granted)?;
    granted.narrow_to(&role_scopes);
    let resource = token_resource(form, &granted)?;
    let user = live_user(user, row.auth_time)?;
    let offline = granted.has("offline_access");
    let family = FamilyRow {
        id: random::id()?,
        grant_id: row.grant_id.clone(),
        code_id: row.id.clone(),
        client_id: app.id.clone(),
        user_id: user.id.clone(),
        session_id: row.session_id.clone(),
        granted: row.granted.clone(),
        nonce: row.nonce.clone(),
        auth_time: row.auth_time,
        amr: row.amr.clone(),
        offline: i64::from(offline),
        created_at: now,
        expires_at: now
            + if offline {
                refresh_ttl(ctx, app)
            } else {
                ctx.config.access_token_ttl.max(86_400)
            },
    };
    let keys = signing::keys(ctx).await?;
    let minted = mint(
        ctx,
        MintInput {
            key: &keys.current,
            app,
            user: &user,
            roles: &roles,
            family: &family,
            granted: &granted,
            resource,
            nonce: row.nonce.as_deref(),
        },
    )
    .await?;
    let mark = random::id()?;
    if !repo::exchange_code(ctx.db, &row, &family, &mark, &stored(&minted), now).await? {
        // Another request consumed it between our read and our write: a replay.
        repo::revoke_code_families(ctx.db, &row.id).await?;
        return Err(invalid_grant("the code was already used"));
    }
    Ok(respond(minted))
}

pub async fn refresh_token<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    client: &Client,
    form: &Form,
) -> Result<Value, OAuthError> {
    let app = user_app(client)?;
    let now = ctx.now();
    let token = form
        .get("refresh_token")?
        .ok_or_else(|| OAuthError::new(ErrorCode::InvalidRequest, "refresh_token is required"))?;
    let hash = secret::hash(token);
    // The token, its family, the user and the user's roles in one round trip.
    let WithUser {
        found,
        user,
        roles,
        role_scopes,
    } = repo::refresh_with_user(ctx.db, &hash)
        .await?
        .ok_or_else(|| invalid_grant("the refresh token is invalid"))?;
    if found.family.client_id != app.id {
        return Err(invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    if found.consumed_at.is_some() {
        repo::delete_family(ctx.db, &found.family.id).await?;
        log::warn!(
            "refresh token reused for client {}; revoked its family",
            app.id
        );
        return Err(invalid_grant(
            "the refresh token was already used; its grant is revoked",
        ));
    }
    if found.token_expires_at <= now || found.family.expires_at <= now {
        return Err(invalid_grant("the refresh token has expired"));
    }
    let mut granted: Granted = crate::store::parse_object(&found.family.granted)?;
    if let Some(scope) = form.get("scope")? {
        // §6: the requested scope must not exceed the original grant.
        let requested: Vec<String> = scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let known =
            |s: &String| granted.has(s) || granted.resources.values().any(|v| v.contains(s));
        if !requested.iter().all(known) {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                "scope exceeds the original grant",
            ));
        }
        granted
            .scopes
            .retain(|s| requested.contains(s) || s == "offline_access");
        for v in granted.resources.values_mut() {
            v.retain(|s| requested.contains(s));
        }
    }
    // Only what the user's roles grant now: a removed role or scope is gone at the next
    // refresh.
    granted.narrow_to(&role_scopes);
    let resource = token_resource(form, &granted)?;
    let user = live_user(user, found.family.auth_time)?;
    let keys = signing::keys(ctx).await?;
    let minted = mint(
        ctx,
        MintInput {
            key: &keys.current,
            app,
            user: &user,
            roles: &roles,
            family: &found.family,
            granted: &granted,
            resource,
            nonce: None,
        },
    )
    .await?;
    let mark = random::id()?;
    if !repo::rotate_refresh(
        ctx.db,
        &hash,
        &found.family.id,
        &mark,
        &stored(&minted),
        now,
    )
    .await?
    {
        // A concurrent request consumed it first: reuse.
        repo::delete_family(ctx.db, &found.family.id).await?;
        return Err(invalid_grant(
            "the refresh token was already used; its grant is revoked",
        ));
    }
    Ok(respond(minted))
}

#[cfg(test)]
mod tests {
    #[test]
    fn pkce_s256_matches_the_rfc_7636_vector() {
        // RFC 7636, appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(super::pkce_matches(verifier, challenge));
        assert!(!super::pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK",
            challenge
        ));
        assert!(!super::pkce_matches("short", challenge));
    }
}
