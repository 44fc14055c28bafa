//! Cryptography: random identifiers and secrets, hashing, passwords, signing keys and JWTs.
pub mod base64;
pub mod jwt;
pub mod keys;
pub mod password;
pub mod provider;
pub mod random;
pub mod secret;

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum CryptoError {
    /// The platform's random source failed.
    Random(String),
    /// Sealing or opening a stored private key failed (wrong secret, corrupt row).
    KeyEncryption(String),
    /// Signing or hashing failed.
    Operation(String),
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CryptoError::Random(m) => write!(f, "random source failed: {m}"),
            CryptoError::KeyEncryption(m) => write!(f, "private key encryption: {m}"),
            CryptoError::Operation(m) => write!(f, "crypto operation failed: {m}"),
        }
    }
}

pub fn b64url(data: &[u8]) -> String {
    base64::url_encode(data)
}

pub(crate) fn b64std(data: &[u8]) -> String {
    base64::std_encode(data)
}
