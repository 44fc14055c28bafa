//! ES256 (P-256) signing keys: generation, sealing of the private part under the configured
//! secret (HKDF-SHA256 → AES-256-GCM, the key id as associated data), and public JWKs. The
//! curve arithmetic is the [`Es256`] implementation's (WebCrypto in the worker).
use super::es256::Es256;
use super::{b64url, random, CryptoError};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hkdf::Hkdf;
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
    /// The public key `(x, y)` as a JWK.
    pub fn from_xy(kid: &str, x: &[u8; 32], y: &[u8; 32]) -> Self {
        Self {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: b64url(x),
            y: b64url(y),
            kid: kid.into(),
            alg: "ES256".into(),
            use_: "sig".into(),
        }
    }

    /// The coordinates of a well-formed P-256 JWK (whether the point is on the curve is the
    /// verifier's check).
    pub fn coordinates(&self) -> Option<([u8; 32], [u8; 32])> {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        if self.kty != "EC" || self.crv != "P-256" {
            return None;
        }
        let x: [u8; 32] = b64.decode(&self.x).ok()?.try_into().ok()?;
        let y: [u8; 32] = b64.decode(&self.y).ok()?.try_into().ok()?;
        Some((x, y))
    }
}

/// A private signing key, opened, with its public half. Its `Debug` shows only the key id.
pub struct ActiveKey {
    pub kid: String,
    secret: [u8; 32],
    pub public: Jwk,
}

impl ActiveKey {
    pub fn new(kid: &str, secret: [u8; 32], public: Jwk) -> Self {
        Self {
            kid: kid.to_owned(),
            secret,
            public,
        }
    }

    /// The private scalar, for the signer only.
    pub fn secret(&self) -> &[u8; 32] {
        &self.secret
    }
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

pub async fn generate(sealer: &KeySealer, es: &dyn Es256) -> Result<NewKey, CryptoError> {
    let pair = es.generate().await?;
    let kid = random::id()?;
    let public = Jwk::from_xy(&kid, &pair.x, &pair.y);
    let sealed_private = sealer.seal(&kid, &pair.d)?;
    Ok(NewKey {
        kid,
        sealed_private,
        public,
    })
}

/// Opens a stored private key; `public` is its published half.
pub fn open(
    sealer: &KeySealer,
    kid: &str,
    sealed: &str,
    public: Jwk,
) -> Result<ActiveKey, CryptoError> {
    let malformed = || CryptoError::KeyEncryption(format!("private key {kid} is malformed"));
    let secret: [u8; 32] = sealer
        .open(kid, sealed)?
        .try_into()
        .map_err(|_| malformed())?;
    Ok(ActiveKey::new(kid, secret, public))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::crypto::es256::RustEs256;

    fn new_key(sealer: &KeySealer) -> NewKey {
        pollster::block_on(generate(sealer, &RustEs256)).unwrap()
    }

    #[test]
    fn sealed_key_opens_only_with_the_same_secret_and_kid() {
        let sealer = KeySealer::new("a secret that is long enough for the test").unwrap();
        let k = new_key(&sealer);
        let opened = open(&sealer, &k.kid, &k.sealed_private, k.public.clone()).unwrap();
        let sig = pollster::block_on(RustEs256.sign(&opened, b"m")).unwrap();
        assert!(pollster::block_on(RustEs256.verify(&k.public, b"m", &sig)).unwrap());
        let other = KeySealer::new("another secret that is long enough too").unwrap();
        assert!(open(&other, &k.kid, &k.sealed_private, k.public.clone()).is_err());
        assert!(open(&sealer, "another-kid", &k.sealed_private, k.public.clone()).is_err());
        assert!(open(&sealer, &k.kid, "v1.garbage", k.public.clone()).is_err());
    }

    #[test]
    fn a_jwk_names_its_curve_and_use_and_round_trips_its_coordinates() {
        let sealer = KeySealer::new("a secret that is long enough for the test").unwrap();
        let k = new_key(&sealer);
        assert_eq!(k.public.kty, "EC");
        assert_eq!(k.public.alg, "ES256");
        assert_eq!(k.public.use_, "sig");
        let (x, y) = k.public.coordinates().unwrap();
        assert_eq!(Jwk::from_xy(&k.kid, &x, &y), k.public);
        let mut broken = k.public.clone();
        broken.x = "AAAA".into();
        assert!(broken.coordinates().is_none());
    }
}
