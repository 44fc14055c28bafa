//! Compact ES256 JWTs (RFC 7519) over `jwt-compact`. `iat` and `exp` come from the caller's
//! `now`, never from a clock read here.
use super::keys::{ActiveKey, Jwk};
use super::CryptoError;
use chrono::{DateTime, Utc};
use jwt_compact::alg::Es256;
use jwt_compact::{AlgorithmExt, Claims, Header, UntrustedToken};
use serde::de::DeserializeOwned;
use serde::Serialize;

fn timestamp(secs: i64) -> Result<DateTime<Utc>, CryptoError> {
    DateTime::from_timestamp(secs, 0).ok_or_else(|| CryptoError::Operation("bad timestamp".into()))
}

/// Signs `claims` with `iat` and `exp`; the header carries `kid` and, if given, `typ`.
pub fn sign<T: Serialize>(
    key: &ActiveKey,
    typ: Option<&str>,
    iat: i64,
    exp: i64,
    claims: T,
) -> Result<String, CryptoError> {
    let mut header = Header::empty().with_key_id(key.kid.clone());
    if let Some(typ) = typ {
        header = header.with_token_type(typ);
    }
    let mut claims = Claims::new(claims);
    claims.issued_at = Some(timestamp(iat)?);
    claims.expiration = Some(timestamp(exp)?);
    Es256
        .token(&header, &claims, &key.key)
        .map_err(|e| CryptoError::Operation(e.to_string()))
}

#[derive(Debug, PartialEq)]
pub enum JwtError {
    Malformed,
    UnknownKey,
    BadSignature,
    Expired,
}

/// A token whose signature verified and which has not expired at `now`.
#[derive(Debug)]
pub struct Verified<T> {
    pub claims: T,
    pub iat: Option<i64>,
    pub exp: i64,
    pub typ: Option<String>,
}

/// Verifies an ES256 token against the published keys, choosing by `kid`.
pub fn verify<T: DeserializeOwned>(
    token: &str,
    keys: &[Jwk],
    now: i64,
) -> Result<Verified<T>, JwtError> {
    let untrusted = UntrustedToken::new(token).map_err(|_| JwtError::Malformed)?;
    let kid = untrusted
        .header()
        .key_id
        .as_deref()
        .ok_or(JwtError::UnknownKey)?;
    let jwk = keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or(JwtError::UnknownKey)?;
    let vk = jwk.verifying_key().ok_or(JwtError::UnknownKey)?;
    let token = Es256
        .validator::<T>(&vk)
        .validate(&untrusted)
        .map_err(|e| match e {
            jwt_compact::ValidationError::InvalidSignature
            | jwt_compact::ValidationError::AlgorithmMismatch { .. }
            | jwt_compact::ValidationError::InvalidSignatureLen { .. }
            | jwt_compact::ValidationError::MalformedSignature(_) => JwtError::BadSignature,
            _ => JwtError::Malformed,
        })?;
    let (header, claims) = (token.header(), token.claims());
    let exp = claims.expiration.ok_or(JwtError::Malformed)?.timestamp();
    if exp <= now {
        return Err(JwtError::Expired);
    }
    Ok(Verified {
        typ: header.token_type.clone(),
        iat: claims.issued_at.map(|t| t.timestamp()),
        exp,
        claims: token.into_parts().1.custom,
    })
}

/// Verifies the signature only, accepting an expired token (an `id_token_hint`, OIDC
/// RP-Initiated Logout §2, may have expired).
pub fn verify_allow_expired<T: DeserializeOwned>(
    token: &str,
    keys: &[Jwk],
) -> Result<Verified<T>, JwtError> {
    verify(token, keys, i64::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::{generate, open, KeySealer};
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct C {
        sub: String,
    }

    fn key() -> (ActiveKey, Jwk) {
        let sealer = KeySealer::new("a secret that is long enough for the test").unwrap();
        let k = generate(&sealer).unwrap();
        (open(&sealer, &k.kid, &k.sealed_private).unwrap(), k.public)
    }

    #[test]
    fn signs_and_verifies() {
        let (key, jwk) = key();
        let t = sign(&key, Some("at+jwt"), 1000, 2000, C { sub: "u".into() }).unwrap();
        let v: Verified<C> = verify(&t, std::slice::from_ref(&jwk), 1500).unwrap();
        assert_eq!(v.claims, C { sub: "u".into() });
        assert_eq!((v.iat, v.exp), (Some(1000), 2000));
        assert_eq!(v.typ.as_deref(), Some("at+jwt"));
    }

    #[test]
    fn rejects_expired_tampered_and_foreign_tokens() {
        let (key, jwk) = key();
        let (_, other) = key_pair_other();
        let t = sign(&key, None, 1000, 2000, C { sub: "u".into() }).unwrap();
        let keys = std::slice::from_ref(&jwk);
        assert_eq!(verify::<C>(&t, keys, 2000).unwrap_err(), JwtError::Expired);
        assert_eq!(
            verify::<C>("a.b", keys, 1500).unwrap_err(),
            JwtError::Malformed
        );
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = b64(r#"{"sub":"admin","exp":2000}"#);
        parts[1] = &forged;
        assert_eq!(
            verify::<C>(&parts.join("."), keys, 1500).unwrap_err(),
            JwtError::BadSignature
        );
        // The same kid with another key's coordinates: the signature does not verify.
        let mut impostor = other;
        impostor.kid = jwk.kid.clone();
        assert_eq!(
            verify::<C>(&t, std::slice::from_ref(&impostor), 1500).unwrap_err(),
            JwtError::BadSignature
        );
        assert_eq!(
            verify::<C>(&t, &[], 1500).unwrap_err(),
            JwtError::UnknownKey
        );
    }

    #[test]
    fn rejects_alg_none() {
        let (_, jwk) = key();
        let t = format!(
            "{}.{}.",
            b64(&format!(r#"{{"alg":"none","kid":"{}"}}"#, jwk.kid)),
            b64(r#"{"sub":"u","exp":9999999999}"#)
        );
        assert!(verify::<C>(&t, &[jwk], 1500).is_err());
    }

    fn b64(s: &str) -> String {
        crate::crypto::b64url(s.as_bytes())
    }

    fn key_pair_other() -> (ActiveKey, Jwk) {
        key()
    }
}
