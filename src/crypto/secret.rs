//! Secrets that are stored only as hashes, and compared in constant time.
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// A secret value as presented by a client. Its `Debug` is redacted and it is not `Clone`.
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// The stored form of a high-entropy secret: `sha256:` and the hex digest.
pub fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Whether `candidate` hashes to `stored`, in constant time.
pub fn verify(candidate: &Secret, stored: &str) -> bool {
    constant_time_eq(hash(candidate.expose()).as_bytes(), stored.as_bytes())
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// The stored form of a low-entropy one-time code: HMAC-SHA256 under a key derived from the
/// server secret, bound to the code's record id. Unlike a plain hash, a leaked table does not
/// give the codes away by trying all million of them.
pub fn code_hash(
    server_secret: &str,
    record_id: &str,
    code: &str,
) -> Result<String, super::CryptoError> {
    use hmac::{Mac, SimpleHmac};
    let mut key = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(None, server_secret.as_bytes())
        .expand(b"gatehouse/verification-codes/v1", &mut key)
        .map_err(|e| super::CryptoError::Operation(e.to_string()))?;
    let mut mac = <SimpleHmac<Sha256> as Mac>::new_from_slice(&key)
        .map_err(|e| super::CryptoError::Operation(e.to_string()))?;
    mac.update(record_id.as_bytes());
    mac.update(b":");
    mac.update(code.as_bytes());
    Ok(super::b64url(&mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_the_sha256_test_vector() {
        // FIPS 180-2, appendix B.1: SHA-256("abc").
        assert_eq!(
            hash("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn verify_accepts_only_the_secret() {
        let stored = hash("s3cret");
        assert!(verify(&Secret::new("s3cret"), &stored));
        assert!(!verify(&Secret::new("s3cret "), &stored));
        assert!(!verify(&Secret::new(""), &stored));
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(
            format!("{:?}", Secret::new("hunter2")),
            "Secret([redacted])"
        );
    }
}

#[cfg(test)]
mod code_tests {
    #[test]
    fn code_hashes_depend_on_secret_record_and_code() {
        let a = super::code_hash("s1", "r1", "123456").unwrap();
        assert_eq!(a, super::code_hash("s1", "r1", "123456").unwrap());
        assert_ne!(a, super::code_hash("s2", "r1", "123456").unwrap());
        assert_ne!(a, super::code_hash("s1", "r2", "123456").unwrap());
        assert_ne!(a, super::code_hash("s1", "r1", "123457").unwrap());
    }
}
