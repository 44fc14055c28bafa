//! ES256 (ECDSA on P-256 with SHA-256, RFC 7518 §3.4) behind one trait, so that the worker
//! signs with the platform's WebCrypto (`crypto.subtle`, native code in workerd) while native
//! builds and tests sign with the pure-Rust `p256`. Signatures are the JWS form: `r || s`,
//! 64 bytes.
use super::keys::{ActiveKey, Jwk};
use super::CryptoError;
use std::future::Future;
use std::pin::Pin;

/// A future that stays on its thread (workerd and the tests are single-threaded).
pub type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A new key pair: the private scalar `d` and the public point `(x, y)`, each 32 bytes.
pub struct KeyPair {
    pub d: [u8; 32],
    pub x: [u8; 32],
    pub y: [u8; 32],
}

pub trait Es256 {
    /// Which implementation this is, for the benchmark's report.
    fn name(&self) -> &'static str;
    fn generate(&self) -> LocalFuture<'_, Result<KeyPair, CryptoError>>;
    fn sign<'a>(
        &'a self,
        key: &'a ActiveKey,
        message: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>>;
    /// False for a signature that does not verify; an error only when the key is unusable.
    fn verify<'a>(
        &'a self,
        key: &'a Jwk,
        message: &'a [u8],
        signature: &'a [u8],
    ) -> LocalFuture<'a, Result<bool, CryptoError>>;
}

/// The pure-Rust implementation (RustCrypto's `p256`), for native builds and tests.
#[cfg(not(target_arch = "wasm32"))]
pub struct RustEs256;

#[cfg(not(target_arch = "wasm32"))]
impl Es256 for RustEs256 {
    fn name(&self) -> &'static str {
        "p256 (Rust)"
    }

    fn generate(&self) -> LocalFuture<'_, Result<KeyPair, CryptoError>> {
        Box::pin(async {
            use p256::ecdsa::SigningKey;
            let key = loop {
                // A uniformly random scalar; out-of-range values (probability ~2^-32) are
                // drawn again.
                let bytes = super::random::bytes::<32>()?;
                if let Ok(k) = SigningKey::from_bytes(&bytes.into()) {
                    break k;
                }
            };
            let point = key.verifying_key().to_encoded_point(false);
            let (Some(x), Some(y)) = (point.x(), point.y()) else {
                return Err(CryptoError::Operation("public key is the identity".into()));
            };
            Ok(KeyPair {
                d: key.to_bytes().into(),
                x: (*x).into(),
                y: (*y).into(),
            })
        })
    }

    fn sign<'a>(
        &'a self,
        key: &'a ActiveKey,
        message: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>> {
        Box::pin(async move {
            use p256::ecdsa::signature::Signer;
            use p256::ecdsa::{Signature, SigningKey};
            let sk = SigningKey::from_bytes(&(*key.secret()).into())
                .map_err(|_| CryptoError::KeyEncryption("the private key is malformed".into()))?;
            let sig: Signature = sk.sign(message);
            Ok(sig.to_bytes().to_vec())
        })
    }

    fn verify<'a>(
        &'a self,
        key: &'a Jwk,
        message: &'a [u8],
        signature: &'a [u8],
    ) -> LocalFuture<'a, Result<bool, CryptoError>> {
        Box::pin(async move {
            use p256::ecdsa::signature::Verifier;
            use p256::ecdsa::{Signature, VerifyingKey};
            let (x, y) = key
                .coordinates()
                .ok_or_else(|| CryptoError::Operation("not a P-256 public key".into()))?;
            let point = p256::EncodedPoint::from_affine_coordinates(&x.into(), &y.into(), false);
            let Ok(vk) = VerifyingKey::from_encoded_point(&point) else {
                return Err(CryptoError::Operation("not a point on P-256".into()));
            };
            let Ok(sig) = Signature::from_slice(signature) else {
                return Ok(false);
            };
            Ok(vk.verify(message, &sig).is_ok())
        })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::crypto::b64url;
    use base64::Engine;

    fn b64d(s: &str) -> Vec<u8> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .unwrap()
    }

    /// RFC 7515 Appendix A.3 (https://www.rfc-editor.org/rfc/rfc7515#appendix-A.3): the
    /// ES256 example key, signing input and signature.
    const X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
    const D: &str = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
    const INPUT: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
    const SIG: &str =
        "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

    fn rfc_key() -> (ActiveKey, Jwk) {
        let jwk = Jwk::from_xy(
            "rfc",
            &b64d(X).try_into().unwrap(),
            &b64d(Y).try_into().unwrap(),
        );
        let d: [u8; 32] = b64d(D).try_into().unwrap();
        (ActiveKey::new("rfc", d, jwk.clone()), jwk)
    }

    #[test]
    fn the_rfc_7515_a_3_signature_verifies_and_a_tampered_one_does_not() {
        let (_, jwk) = rfc_key();
        let es = RustEs256;
        let sig = b64d(SIG);
        assert!(pollster::block_on(es.verify(&jwk, INPUT.as_bytes(), &sig)).unwrap());
        let mut bad = sig.clone();
        bad[10] ^= 1;
        assert!(!pollster::block_on(es.verify(&jwk, INPUT.as_bytes(), &bad)).unwrap());
        assert!(!pollster::block_on(es.verify(&jwk, b"other input", &sig)).unwrap());
        assert!(!pollster::block_on(es.verify(&jwk, INPUT.as_bytes(), &sig[..63])).unwrap());
    }

    #[test]
    fn signatures_of_the_rfc_key_verify_and_generated_keys_are_on_the_curve() {
        let (key, jwk) = rfc_key();
        let es = RustEs256;
        let sig = pollster::block_on(es.sign(&key, INPUT.as_bytes())).unwrap();
        assert_eq!(sig.len(), 64);
        assert!(pollster::block_on(es.verify(&jwk, INPUT.as_bytes(), &sig)).unwrap());
        let pair = pollster::block_on(es.generate()).unwrap();
        let fresh = Jwk::from_xy("k", &pair.x, &pair.y);
        let k = ActiveKey::new("k", pair.d, fresh.clone());
        let sig = pollster::block_on(es.sign(&k, b"m")).unwrap();
        assert!(pollster::block_on(es.verify(&fresh, b"m", &sig)).unwrap());
        assert_ne!(b64url(&pair.x), X);
    }
}
