//! ES256 (P-256) signing keys: generation, sealing of the private part under the configured
//! secret (HKDF-SHA256 → AES-256-GCM, the key id as associated data), and public JWKs. The
//! curve arithmetic is the [`PlatformCrypto`] implementation's (WebCrypto in the worker).
use super::provider::{Aead, PlatformCrypto};
use super::{b64url, random, CryptoError};
use hkdf::Hkdf;
use serde::Serialize;
use sha2::Sha256;
use std::fmt;

const SEAL_VERSION: &str = "v1";
const HKDF_INFO: &[u8] = b"gatehouse/signing-key-encryption/v1";

/// Seals and opens private keys with a key derived from the configured secret
/// (HKDF-SHA256 → AES-256-GCM, run by the platform's cryptography).
pub struct KeySealer<'a> {
    key: [u8; 32],
    crypto: &'a dyn PlatformCrypto,
}

impl<'a> KeySealer<'a> {
    pub fn new(secret: &str, crypto: &'a dyn PlatformCrypto) -> Result<Self, CryptoError> {
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(None, secret.as_bytes())
            .expand(HKDF_INFO, &mut key)
            .map_err(|e| CryptoError::KeyEncryption(e.to_string()))?;
        Ok(Self { key, crypto })
    }

    /// `v1.<nonce>.<ciphertext>`, base64url; `kid` is bound as associated data.
    pub async fn seal(&self, kid: &str, plaintext: &[u8]) -> Result<String, CryptoError> {
        let nonce = random::bytes::<12>()?;
        let aead = Aead {
            key: &self.key,
            nonce: &nonce,
            aad: kid.as_bytes(),
        };
        let ct = self.crypto.seal(aead, plaintext).await?;
        Ok(format!("{SEAL_VERSION}.{}.{}", b64url(&nonce), b64url(&ct)))
    }

    pub async fn open(&self, kid: &str, sealed: &str) -> Result<Vec<u8>, CryptoError> {
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
        let nonce = super::base64::url_decode(nonce).ok_or_else(bad)?;
        let ct = super::base64::url_decode(ct).ok_or_else(bad)?;
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| bad())?;
        let aead = Aead {
            key: &self.key,
            nonce: &nonce,
            aad: kid.as_bytes(),
        };
        self.crypto.open(aead, &ct).await.map_err(|_| bad())
    }
}

/// A public key as published at `/oidc/jwks` (RFC 7517, RFC 7518 §6.2).
#[derive(Debug, Clone, PartialEq, Serialize)]
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
crate::from_row!(Jwk { kty, crv, x, y, kid, alg, use_ = "use" });

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
        let b64 = super::base64::url_decode;
        if self.kty != "EC" || self.crv != "P-256" {
            return None;
        }
        let x: [u8; 32] = b64(&self.x)?.try_into().ok()?;
        let y: [u8; 32] = b64(&self.y)?.try_into().ok()?;
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

pub async fn generate(
    sealer: &KeySealer<'_>,
    es: &dyn PlatformCrypto,
) -> Result<NewKey, CryptoError> {
    let pair = es.generate().await?;
    let kid = random::id()?;
    let public = Jwk::from_xy(&kid, &pair.x, &pair.y);
    let sealed_private = sealer.seal(&kid, &pair.d).await?;
    Ok(NewKey {
        kid,
        sealed_private,
        public,
    })
}

/// Opens a stored private key; `public` is its published half.
pub async fn open(
    sealer: &KeySealer<'_>,
    kid: &str,
    sealed: &str,
    public: Jwk,
) -> Result<ActiveKey, CryptoError> {
    let malformed = || CryptoError::KeyEncryption(format!("private key {kid} is malformed"));
    let secret: [u8; 32] = sealer
        .open(kid, sealed)
        .await?
        .try_into()
        .map_err(|_| malformed())?;
    Ok(ActiveKey::new(kid, secret, public))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::crypto::provider::RustCrypto;

    fn new_key(sealer: &KeySealer<'_>) -> NewKey {
        pollster::block_on(generate(sealer, &RustCrypto)).unwrap()
    }

    #[test]
    fn sealed_key_opens_only_with_the_same_secret_and_kid() {
        let sealer =
            KeySealer::new("a secret that is long enough for the test", &RustCrypto).unwrap();
        let k = new_key(&sealer);
        let opened =
            pollster::block_on(open(&sealer, &k.kid, &k.sealed_private, k.public.clone())).unwrap();
        let sig = pollster::block_on(RustCrypto.sign(&opened, b"m")).unwrap();
        assert!(pollster::block_on(RustCrypto.verify(&k.public, b"m", &sig)).unwrap());
        let other = KeySealer::new("another secret that is long enough too", &RustCrypto).unwrap();
        let opens = |s: &KeySealer<'_>, kid: &str, sealed: &str| {
            pollster::block_on(open(s, kid, sealed, k.public.clone())).is_ok()
        };
        assert!(!opens(&other, &k.kid, &k.sealed_private));
        assert!(!opens(&sealer, "another-kid", &k.sealed_private));
        assert!(!opens(&sealer, &k.kid, "v1.garbage"));
    }

    #[test]
    fn a_jwk_names_its_curve_and_use_and_round_trips_its_coordinates() {
        let sealer =
            KeySealer::new("a secret that is long enough for the test", &RustCrypto).unwrap();
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
crate::to_value_via_serde!(Jwk);
