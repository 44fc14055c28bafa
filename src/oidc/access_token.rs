//! JWT access tokens for API resources (RFC 9068 profile): ES256, `typ: at+jwt`.
use crate::crypto::jwt::{self, JwtError, Verified};
use crate::crypto::keys::ActiveKey;
use crate::crypto::provider::PlatformCrypto;
use crate::crypto::{random, CryptoError};
use serde::Serialize;

pub const TYP: &str = "at+jwt";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub scope: String,
    pub client_id: String,
    pub jti: String,
}
crate::from_row!(AccessTokenClaims {
    iss,
    sub,
    aud,
    scope,
    client_id,
    jti
});

impl AccessTokenClaims {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        scope_list(&self.scope)
    }
}

/// The scopes of a space-separated `scope` value (RFC 6749 §3.3).
pub fn scope_list(scope: &str) -> impl Iterator<Item = &str> {
    scope.split(' ').filter(|s| !s.is_empty())
}

pub struct Issued {
    pub token: String,
    pub expires_in: i64,
}

#[allow(clippy::too_many_arguments)]
pub async fn issue(
    es: &dyn PlatformCrypto,
    key: &ActiveKey,
    issuer: &str,
    subject: &str,
    client_id: &str,
    audience: &str,
    scopes: &[String],
    now: i64,
    ttl: i64,
) -> Result<Issued, CryptoError> {
    let claims = AccessTokenClaims {
        iss: issuer.to_owned(),
        sub: subject.to_owned(),
        aud: audience.to_owned(),
        scope: scopes.join(" "),
        client_id: client_id.to_owned(),
        jti: random::id()?,
    };
    Ok(Issued {
        token: jwt::sign(es, key, Some(TYP), now, now + ttl, claims).await?,
        expires_in: ttl,
    })
}

#[derive(Debug, PartialEq)]
pub enum Rejection {
    Invalid(JwtError),
    WrongType,
    WrongIssuer,
    WrongAudience,
}

/// Checks a verified token: an access token (`typ: at+jwt`) for `audience` from `issuer`.
pub fn check(
    verified: Result<Verified<AccessTokenClaims>, JwtError>,
    issuer: &str,
    audience: &str,
) -> Result<AccessTokenClaims, Rejection> {
    let Verified { claims, typ, .. } = verified.map_err(Rejection::Invalid)?;
    if typ.as_deref() != Some(TYP) {
        return Err(Rejection::WrongType);
    }
    if claims.iss != issuer {
        return Err(Rejection::WrongIssuer);
    }
    if claims.aud != audience {
        return Err(Rejection::WrongAudience);
    }
    Ok(claims)
}
