//! Backup codes: 10 codes of 10 hexadecimal characters, shown once, stored as keyed hashes,
//! each good once. A backup code is a way back in when the other factor is lost, never the
//! only factor.
use crate::crypto::{random, secret, CryptoError};

pub const COUNT: usize = 10;
pub const LENGTH: usize = 10;

/// Ten new codes.
pub fn generate() -> Result<Vec<String>, CryptoError> {
    (0..COUNT)
        .map(|_| {
            let bytes = random::bytes::<5>()?;
            Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
        })
        .collect()
}

/// Whether `code` has the form of a backup code (Logto's `/^[\da-f]{10}$/i`).
pub fn well_formed(code: &str) -> bool {
    code.len() == LENGTH && code.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The stored form of a code of `user_id`: an HMAC under the configured secret, so that a
/// copy of the database does not give 40-bit codes away to an offline search.
pub fn hash(key_secret: &str, user_id: &str, code: &str) -> Result<String, CryptoError> {
    secret::code_hash(key_secret, user_id, &code.trim().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    #[test]
    fn ten_codes_of_ten_hex_characters_all_different() {
        let codes = super::generate().unwrap();
        assert_eq!(codes.len(), 10);
        assert!(codes.iter().all(|c| super::well_formed(c)));
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        assert!(!super::well_formed("abcdefghij"));
        let h = |c| super::hash("k".repeat(32).as_str(), "u1", c).unwrap();
        assert_eq!(h("ABCDEF0123"), h("abcdef0123"), "case does not matter");
        assert_ne!(
            h("abcdef0123"),
            super::hash(&"k".repeat(32), "u2", "abcdef0123").unwrap()
        );
    }
}
