//! ID tokens (OIDC Core §2) and the `at_hash` that binds one to its access token.
use crate::crypto::jwt;
use crate::crypto::keys::ActiveKey;
use crate::crypto::provider::PlatformCrypto;
use crate::crypto::{b64url, CryptoError};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// OIDC Core §3.1.3.6: the left half of SHA-256 of the access token, base64url.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    b64url(digest.get(..16).unwrap_or_default())
}

pub struct IdToken<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub auth_time: i64,
    pub nonce: Option<&'a str>,
    pub access_token: &'a str,
    pub sid: &'a str,
    pub amr: &'a [String],
    /// `sub` and the claims of the granted scopes.
    pub user_claims: Map<String, Value>,
}

pub async fn sign(
    es: &dyn PlatformCrypto,
    key: &ActiveKey,
    t: IdToken<'_>,
    now: i64,
    ttl: i64,
) -> Result<String, CryptoError> {
    let mut claims = t.user_claims;
    claims.insert("iss".into(), crate::jv!(t.issuer));
    claims.insert("aud".into(), crate::jv!(t.client_id));
    claims.insert("auth_time".into(), crate::jv!(t.auth_time));
    claims.insert("at_hash".into(), crate::jv!(at_hash(t.access_token)));
    claims.insert("sid".into(), crate::jv!(t.sid));
    claims.insert("amr".into(), crate::jv!(t.amr));
    if let Some(nonce) = t.nonce {
        claims.insert("nonce".into(), crate::jv!(nonce));
    }
    jwt::sign(es, key, None, now, now + ttl, claims).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn at_hash_matches_published_vectors() {
        // Ping Identity's worked example (docs.pingidentity.com, "Validate the at_hash").
        assert_eq!(
            super::at_hash("dNZX1hEZ9wBCzNL40Upu646bdzQA"),
            "wfgvmE9VxjAudsl9lc6TqA"
        );
        // The oidc-token-hash package's README (github.com/panva/oidc-token-hash).
        assert_eq!(
            super::at_hash("YmJiZTAwYmYtMzgyOC00NzhkLTkyOTItNjJjNDM3MGYzOWIy9sFhvH8K_x8UIHj1osisS57f5DduL-ar_qw5jl3lthwpMjm283aVMQXDmoqqqydDSqJfbhptzw8rUVwkuQbolw"),
            "x7vk7f6BvQj0jQHYFIk4ag"
        );
    }
}
