//! ES256 (P-256) signing keys: generation, sealing of the private part under the configured
//! secret (HKDF-SHA256 → AES-256-GCM, the key id as associated data), and public JWKs.
use super::{b64url, random, CryptoError};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hkdf::Hkdf;
use p256::ecdsa::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;

const SEAL_VERSION: &str = "v1";
const HKDF_INFO: &[u8] = b"gatehouse/signing-key-encryption/v1";

/// Seals and opens private keys with a key derived from the configured secret.
pub struct KeySealer {
    cipher: Aes256Gcm,
}

impl KeySealer {
    pub fn new(secret: &str) -> Result<Self, CryptoError> {
        let mut okm = [0u8; 32];
        Hkdf::<Sha256>::new(None, secret.as_bytes())
            .expand(HKDF_INFO, &mut okm)
            .map_err(|e| CryptoError::KeyEncryption(e.to_string()))?;
        let cipher = Aes256Gcm::new_from_slice(&okm)
            .map_err(|e| CryptoError::KeyEncryption(e.to_string()))?;
        Ok(Self { cipher })
    }

    /// `v1.<nonce>.<ciphertext>`, base64url; `kid` is bound as associated data.
    pub fn seal(&self, kid: &str, plaintext: &[u8]) -> Result<String, CryptoError> {
        let nonce = random::bytes::<12>()?;
        let ct = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: kid.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::KeyEncryption("cannot seal".into()))?;
        Ok(format!("{SEAL_VERSION}.{}.{}", b64url(&nonce), b64url(&ct)))
    }

    pub fn open(&self, kid: &str, sealed: &str) -> Result<Vec<u8>, CryptoError> {
        let bad = || {
            CryptoError::KeyEncryption(format!(
                "cannot open the private key {kid}: was KEY_ENCRYPTION_SECRET changed?"
            ))
        };
        let mut parts = sealed.split('.');
        let (Some(SEAL_VERSION), Some(nonce), Some(ct), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let nonce = b64.decode(nonce).map_err(|_| bad())?;
        let ct = b64.decode(ct).map_err(|_| bad())?;
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| bad())?;
        self.cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &ct,
                    aad: kid.as_bytes(),
                },
            )
            .map_err(|_| bad())
    }
}

/// A public key as published at `/oidc/jwks` (RFC 7517, RFC 7518 §6.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub y: String,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
}

impl Jwk {
    pub fn from_verifying_key(kid: &str, key: &VerifyingKey) -> Result<Self, CryptoError> {
        let point = key.to_encoded_point(false);
        let (Some(x), Some(y)) = (point.x(), point.y()) else {
            return Err(CryptoError::Operation("public key is the identity".into()));
        };
        Ok(Self {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: b64url(x),
            y: b64url(y),
            kid: kid.into(),
            alg: "ES256".into(),
            use_: "sig".into(),
        })
    }

    pub fn verifying_key(&self) -> Option<VerifyingKey> {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let x = b64.decode(&self.x).ok()?;
        let y = b64.decode(&self.y).ok()?;
        let x: [u8; 32] = x.try_into().ok()?;
        let y: [u8; 32] = y.try_into().ok()?;
        if self.kty != "EC" || self.crv != "P-256" {
            return None;
        }
        let point = p256::EncodedPoint::from_affine_coordinates(&x.into(), &y.into(), false);
        VerifyingKey::from_encoded_point(&point).ok()
    }
}

/// A private signing key, ready to sign. Its `Debug` shows only the key id.
pub struct ActiveKey {
    pub kid: String,
    pub key: SigningKey,
}

impl fmt::Debug for ActiveKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActiveKey({})", self.kid)
    }
}

/// A freshly generated key, in its stored form.
pub struct NewKey {
    pub kid: String,
    pub sealed_private: String,
    pub public: Jwk,
}

pub fn generate(sealer: &KeySealer) -> Result<NewKey, CryptoError> {
    let key = loop {
        // A uniformly random scalar; out-of-range values (probability ~2^-32) are redrawn.
        let bytes = random::bytes::<32>()?;
        if let Ok(k) = SigningKey::from_bytes(&bytes.into()) {
            break k;
        }
    };
    let kid = random::id()?;
    let public = Jwk::from_verifying_key(&kid, key.verifying_key())?;
    let sealed_private = sealer.seal(&kid, &key.to_bytes())?;
    Ok(NewKey {
        kid,
        sealed_private,
        public,
    })
}

pub fn open(sealer: &KeySealer, kid: &str, sealed: &str) -> Result<ActiveKey, CryptoError> {
    let malformed = || CryptoError::KeyEncryption(format!("private key {kid} is malformed"));
    let bytes: [u8; 32] = sealer
        .open(kid, sealed)?
        .try_into()
        .map_err(|_| malformed())?;
    let key = SigningKey::from_bytes(&bytes.into()).map_err(|_| malformed())?;
    Ok(ActiveKey {
        kid: kid.into(),
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_key_opens_only_with_the_same_secret_and_kid() {
        let sealer = KeySealer::new("a secret that is long enough for the test").unwrap();
        let k = generate(&sealer).unwrap();
        let opened = open(&sealer, &k.kid, &k.sealed_private).unwrap();
        assert_eq!(
            Jwk::from_verifying_key(&k.kid, opened.key.verifying_key()).unwrap(),
            k.public
        );
        let other = KeySealer::new("another secret that is long enough too").unwrap();
        assert!(open(&other, &k.kid, &k.sealed_private).is_err());
        assert!(open(&sealer, "another-kid", &k.sealed_private).is_err());
        assert!(open(&sealer, &k.kid, "v1.garbage").is_err());
    }

    #[test]
    fn jwk_round_trips_to_the_verifying_key() {
        let sealer = KeySealer::new("a secret that is long enough for the test").unwrap();
        let k = generate(&sealer).unwrap();
        assert_eq!(k.public.kty, "EC");
        assert_eq!(k.public.alg, "ES256");
        assert_eq!(k.public.use_, "sig");
        let vk = k.public.verifying_key().unwrap();
        assert_eq!(Jwk::from_verifying_key(&k.kid, &vk).unwrap(), k.public);
        let mut broken = k.public.clone();
        broken.x = "AAAA".into();
        assert!(broken.verifying_key().is_none());
    }
}
