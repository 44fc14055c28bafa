//! The platform's cryptography behind one trait: ES256 (ECDSA on P-256 with SHA-256, RFC
//! 7518 §3.4) and the AES-256-GCM that seals private keys. The worker uses WebCrypto
//! (`crypto.subtle`, native code in workerd) and so carries no curve or cipher code of its
//! own; native builds and tests use RustCrypto's `p256` and `aes-gcm`. Signatures are the JWS
//! form: `r || s`, 64 bytes. SHA-256 and HMAC stay in Rust: they are cheap, synchronous, and
//! run on inputs too small for a call into JavaScript to pay off.
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

/// A WebAuthn credential's public key (a COSE key, RFC 9053), by algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// ECDSA on P-256 with SHA-256: the point `(x, y)`.
    Es256 { x: [u8; 32], y: [u8; 32] },
    /// RSASSA-PKCS1-v1_5 with SHA-256: modulus and exponent, big-endian.
    Rs256 { n: Vec<u8>, e: Vec<u8> },
    /// Ed25519.
    EdDsa { x: [u8; 32] },
}

impl PublicKey {
    /// The COSE algorithm identifier.
    pub fn alg(&self) -> i64 {
        match self {
            PublicKey::Es256 { .. } => -7,
            PublicKey::Rs256 { .. } => -257,
            PublicKey::EdDsa { .. } => -8,
        }
    }
}

/// An AES-256-GCM operation: the 32-byte key, the 12-byte nonce, the associated data.
pub struct Aead<'a> {
    pub key: &'a [u8; 32],
    pub nonce: &'a [u8; 12],
    pub aad: &'a [u8],
}

pub trait PlatformCrypto {
    /// Which implementation this is, for the benchmark's report.
    fn name(&self) -> &'static str;
    /// AES-256-GCM: the ciphertext with its 16-byte tag appended.
    fn seal<'a>(
        &'a self,
        aead: Aead<'a>,
        plaintext: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>>;
    /// The plaintext, or an error when the tag does not verify.
    fn open<'a>(
        &'a self,
        aead: Aead<'a>,
        ciphertext: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>>;
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
    /// WebAuthn: false for a signature that does not verify (ES256 as `r || s`, RS256 as
    /// PKCS #1 v1.5, Ed25519 as 64 bytes); an error only when the key is unusable.
    fn verify_key<'a>(
        &'a self,
        key: &'a PublicKey,
        message: &'a [u8],
        signature: &'a [u8],
    ) -> LocalFuture<'a, Result<bool, CryptoError>>;
}

/// The pure-Rust implementation (RustCrypto's `p256`), for native builds and tests.
#[cfg(not(target_arch = "wasm32"))]
pub struct RustCrypto;

#[cfg(not(target_arch = "wasm32"))]
impl PlatformCrypto for RustCrypto {
    fn name(&self) -> &'static str {
        "p256 (Rust)"
    }

    fn seal<'a>(
        &'a self,
        aead: Aead<'a>,
        plaintext: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>> {
        Box::pin(async move {
            use aes_gcm::aead::{Aead as _, KeyInit, Payload};
            use aes_gcm::{Aes256Gcm, Nonce};
            let cipher = Aes256Gcm::new_from_slice(aead.key)
                .map_err(|e| CryptoError::KeyEncryption(e.to_string()))?;
            cipher
                .encrypt(
                    &Nonce::from(*aead.nonce),
                    Payload {
                        msg: plaintext,
                        aad: aead.aad,
                    },
                )
                .map_err(|_| CryptoError::KeyEncryption("cannot seal".into()))
        })
    }

    fn open<'a>(
        &'a self,
        aead: Aead<'a>,
        ciphertext: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>> {
        Box::pin(async move {
            use aes_gcm::aead::{Aead as _, KeyInit, Payload};
            use aes_gcm::{Aes256Gcm, Nonce};
            let cipher = Aes256Gcm::new_from_slice(aead.key)
                .map_err(|e| CryptoError::KeyEncryption(e.to_string()))?;
            cipher
                .decrypt(
                    &Nonce::from(*aead.nonce),
                    Payload {
                        msg: ciphertext,
                        aad: aead.aad,
                    },
                )
                .map_err(|_| CryptoError::KeyEncryption("cannot open".into()))
        })
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
            let (x, y) = key
                .coordinates()
                .ok_or_else(|| CryptoError::Operation("not a P-256 public key".into()))?;
            self.verify_key(&PublicKey::Es256 { x, y }, message, signature)
                .await
        })
    }

    fn verify_key<'a>(
        &'a self,
        key: &'a PublicKey,
        message: &'a [u8],
        signature: &'a [u8],
    ) -> LocalFuture<'a, Result<bool, CryptoError>> {
        Box::pin(async move {
            let unusable = |what: &str| CryptoError::Operation(format!("unusable {what} key"));
            match key {
                PublicKey::Es256 { x, y } => {
                    use p256::ecdsa::signature::Verifier;
                    use p256::ecdsa::{Signature, VerifyingKey};
                    let point = p256::EncodedPoint::from_affine_coordinates(
                        &(*x).into(),
                        &(*y).into(),
                        false,
                    );
                    let vk =
                        VerifyingKey::from_encoded_point(&point).map_err(|_| unusable("P-256"))?;
                    Ok(Signature::from_slice(signature)
                        .is_ok_and(|sig| vk.verify(message, &sig).is_ok()))
                }
                PublicKey::Rs256 { n, e } => {
                    use rsa::pkcs1v15::{Signature, VerifyingKey};
                    use rsa::signature::Verifier;
                    let pk = rsa::RsaPublicKey::new(
                        rsa::BigUint::from_bytes_be(n),
                        rsa::BigUint::from_bytes_be(e),
                    )
                    .map_err(|_| unusable("RSA"))?;
                    let vk = VerifyingKey::<sha2::Sha256>::new(pk);
                    Ok(Signature::try_from(signature)
                        .is_ok_and(|sig| vk.verify(message, &sig).is_ok()))
                }
                PublicKey::EdDsa { x } => {
                    let vk = ed25519_dalek::VerifyingKey::from_bytes(x)
                        .map_err(|_| unusable("Ed25519"))?;
                    Ok(ed25519_dalek::Signature::from_slice(signature)
                        .is_ok_and(|sig| vk.verify_strict(message, &sig).is_ok()))
                }
            }
        })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::crypto::b64url;

    fn b64d(s: &str) -> Vec<u8> {
        crate::crypto::base64::url_decode(s).unwrap()
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
        let es = RustCrypto;
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
        let es = RustCrypto;
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
