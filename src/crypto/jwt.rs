//! Compact ES256 JWTs (RFC 7515 §7.1, RFC 7519). `iat` and `exp` come from the caller's
//! `now`, never from a clock read here; signatures are made and checked by the [`PlatformCrypto`]
//! implementation. Only `alg: ES256` is accepted, and the key is chosen by `kid` among the
//! keys the caller trusts.
use super::keys::{ActiveKey, Jwk};
use super::provider::PlatformCrypto;
use super::{b64url, CryptoError};
use serde::Serialize;
use serde_json::Value;

/// Signs `claims` (a JSON object) with `iat` and `exp`; the header carries `kid` and, if
/// given, `typ`.
pub async fn sign<T: Serialize>(
    es: &dyn PlatformCrypto,
    key: &ActiveKey,
    typ: Option<&str>,
    iat: i64,
    exp: i64,
    claims: T,
) -> Result<String, CryptoError> {
    let mut header = crate::jv!({"alg": "ES256", "kid": key.kid});
    let mut claims =
        crate::json::value_of_result(&claims).map_err(|e| CryptoError::Operation(e.to_string()))?;
    let (Some(h), Some(c)) = (header.as_object_mut(), claims.as_object_mut()) else {
        return Err(CryptoError::Operation(
            "JWT claims must be an object".into(),
        ));
    };
    if let Some(typ) = typ {
        h.insert("typ".into(), crate::jv!(typ));
    }
    c.insert("iat".into(), crate::jv!(iat));
    c.insert("exp".into(), crate::jv!(exp));
    let input = format!(
        "{}.{}",
        b64url(crate::json::text(&header).as_bytes()),
        b64url(crate::json::text(&claims).as_bytes())
    );
    let signature = es.sign(key, input.as_bytes()).await?;
    Ok(format!("{input}.{}", b64url(&signature)))
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

/// The `kid` of a token's header, unverified: which key to look for.
pub fn key_id(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let header: Value = crate::json::parse(decode(header)?).ok()?;
    header.get("kid")?.as_str().map(str::to_owned)
}

fn decode(part: &str) -> Option<Vec<u8>> {
    super::base64::url_decode(part)
}

/// Verifies an ES256 token against the trusted keys, choosing by `kid`.
pub async fn verify<T: crate::store::FromRow>(
    es: &dyn PlatformCrypto,
    token: &str,
    keys: &[Jwk],
    now: i64,
) -> Result<Verified<T>, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let header: Value = decode(h)
        .and_then(|b| crate::json::parse(b).ok())
        .ok_or(JwtError::Malformed)?;
    if header.get("alg").and_then(Value::as_str) != Some("ES256") {
        return Err(JwtError::BadSignature);
    }
    // RFC 7515 §4.1.11: no extension is understood here, so none may be critical.
    if header.get("crit").is_some() {
        return Err(JwtError::Malformed);
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(JwtError::UnknownKey)?;
    let jwk = keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or(JwtError::UnknownKey)?;
    let signature = decode(s).ok_or(JwtError::Malformed)?;
    let input_len = h.len() + 1 + c.len();
    let input = token.get(..input_len).ok_or(JwtError::Malformed)?;
    match es.verify(jwk, input.as_bytes(), &signature).await {
        Ok(true) => {}
        Ok(false) => return Err(JwtError::BadSignature),
        Err(_) => return Err(JwtError::UnknownKey),
    }
    let claims: Value = decode(c)
        .and_then(|b| crate::json::parse(b).ok())
        .ok_or(JwtError::Malformed)?;
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(JwtError::Malformed)?;
    if exp <= now {
        return Err(JwtError::Expired);
    }
    let iat = claims.get("iat").and_then(Value::as_i64);
    Ok(Verified {
        typ: header.get("typ").and_then(Value::as_str).map(str::to_owned),
        iat,
        exp,
        claims: claims
            .as_object()
            .and_then(|m| T::from_row(m).ok())
            .ok_or(JwtError::Malformed)?,
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::crypto::keys::{generate, open, KeySealer};
    use crate::crypto::provider::RustCrypto;
    use pollster::block_on;

    #[derive(Serialize, Debug, PartialEq)]
    struct C {
        sub: String,
    }
    crate::from_row!(C { sub });

    fn key() -> (ActiveKey, Jwk) {
        let sealer =
            KeySealer::new("a secret that is long enough for the test", &RustCrypto).unwrap();
        let k = block_on(generate(&sealer, &RustCrypto)).unwrap();
        (
            block_on(open(&sealer, &k.kid, &k.sealed_private, k.public.clone())).unwrap(),
            k.public,
        )
    }

    #[test]
    fn signs_and_verifies() {
        let (key, jwk) = key();
        let t = block_on(sign(
            &RustCrypto,
            &key,
            Some("at+jwt"),
            1000,
            2000,
            C { sub: "u".into() },
        ))
        .unwrap();
        let v: Verified<C> =
            block_on(verify(&RustCrypto, &t, std::slice::from_ref(&jwk), 1500)).unwrap();
        assert_eq!(v.claims, C { sub: "u".into() });
        assert_eq!((v.iat, v.exp), (Some(1000), 2000));
        assert_eq!(v.typ.as_deref(), Some("at+jwt"));
        assert_eq!(key_id(&t).as_deref(), Some(jwk.kid.as_str()));
    }

    #[test]
    fn rejects_expired_tampered_and_foreign_tokens() {
        let (key, jwk) = key();
        let (_, other) = self::key();
        let t = block_on(sign(
            &RustCrypto,
            &key,
            None,
            1000,
            2000,
            C { sub: "u".into() },
        ))
        .unwrap();
        let keys = std::slice::from_ref(&jwk);
        let check = |t: &str, now| block_on(verify::<C>(&RustCrypto, t, keys, now)).unwrap_err();
        assert_eq!(check(&t, 2000), JwtError::Expired);
        assert_eq!(check("a.b", 1500), JwtError::Malformed);
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = b64(r#"{"sub":"admin","exp":2000}"#);
        parts[1] = &forged;
        assert_eq!(check(&parts.join("."), 1500), JwtError::BadSignature);
        // The same kid with another key's coordinates: the signature does not verify.
        let mut impostor = other;
        impostor.kid = jwk.kid.clone();
        assert_eq!(
            block_on(verify::<C>(
                &RustCrypto,
                &t,
                std::slice::from_ref(&impostor),
                1500
            ))
            .unwrap_err(),
            JwtError::BadSignature
        );
        assert_eq!(
            block_on(verify::<C>(&RustCrypto, &t, &[], 1500)).unwrap_err(),
            JwtError::UnknownKey
        );
    }

    #[test]
    fn rejects_alg_none_and_other_algorithms() {
        let (key, jwk) = key();
        for alg in ["none", "HS256", "ES384"] {
            let t = format!(
                "{}.{}.",
                b64(&format!(r#"{{"alg":"{alg}","kid":"{}"}}"#, jwk.kid)),
                b64(r#"{"sub":"u","exp":9999999999}"#)
            );
            assert!(block_on(verify::<C>(
                &RustCrypto,
                &t,
                std::slice::from_ref(&jwk),
                1500
            ))
            .is_err());
        }
        // A real signature under a header that claims another algorithm.
        let t = block_on(sign(
            &RustCrypto,
            &key,
            None,
            1000,
            2000,
            C { sub: "u".into() },
        ))
        .unwrap();
        let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
        parts[0] = b64(&format!(r#"{{"alg":"HS256","kid":"{}"}}"#, jwk.kid));
        assert_eq!(
            block_on(verify::<C>(&RustCrypto, &parts.join("."), &[jwk], 1500)).unwrap_err(),
            JwtError::BadSignature
        );
    }

    #[test]
    fn a_validly_signed_token_with_a_critical_extension_is_refused() {
        let (key, jwk) = key();
        let input = format!(
            "{}.{}",
            b64(&format!(
                r#"{{"alg":"ES256","kid":"{}","crit":["b64"],"b64":false}}"#,
                jwk.kid
            )),
            b64(r#"{"sub":"u","exp":9999999999}"#)
        );
        let sig = block_on(RustCrypto.sign(&key, input.as_bytes())).unwrap();
        let t = format!("{input}.{}", crate::crypto::b64url(&sig));
        assert_eq!(
            block_on(verify::<C>(&RustCrypto, &t, &[jwk], 1500)).unwrap_err(),
            JwtError::Malformed
        );
    }

    fn b64(s: &str) -> String {
        crate::crypto::b64url(s.as_bytes())
    }
}
