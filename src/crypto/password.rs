//! Password hashing with Argon2id. New hashes use the configured [`Params`] (default: OWASP's
//! minimum, 19 MiB, 2 passes, 1 lane); a stored hash is verified with the parameters it
//! names, so hashes made under other settings keep working and are upgraded at the next
//! successful sign-in ([`needs_rehash`]).
use super::CryptoError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Version};

/// The cost of new hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub memory_kib: u32,
    pub iterations: u32,
}

/// OWASP's minimum for Argon2id (m=19 MiB, t=2, p=1).
pub const DEFAULT: Params = Params {
    memory_kib: 19 * 1024,
    iterations: 2,
};

fn argon2(p: Params) -> Result<Argon2<'static>, CryptoError> {
    let params = argon2::Params::new(p.memory_kib, p.iterations, 1, None)
        .map_err(|e| CryptoError::Operation(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string of `password` with the default parameters.
pub fn hash(password: &str) -> Result<String, CryptoError> {
    hash_with(password, DEFAULT)
}

/// The PHC string of `password` (`$argon2id$v=19$m=…,t=…,p=1$…`).
pub fn hash_with(password: &str, p: Params) -> Result<String, CryptoError> {
    let salt_bytes = super::random::bytes::<16>()?;
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| CryptoError::Operation(e.to_string()))?;
    argon2(p)?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CryptoError::Operation(e.to_string()))
}

/// Whether `password` matches the stored PHC string (under the parameters it names); a
/// malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Whether a stored hash was made with other parameters than `p` (or another algorithm).
pub fn needs_rehash(phc: &str, p: Params) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let Ok(stored) = argon2::Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm.as_str() != "argon2id"
        || parsed.version != Some(0x13)
        || stored.m_cost() != p.memory_kib
        || stored.t_cost() != p.iterations
        || stored.p_cost() != 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_with_argon2id_and_verifies() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse", &h));
        assert!(!verify("correct horsE", &h));
        assert!(!verify("correct horse", "not a hash"));
    }

    #[test]
    fn a_hash_made_with_other_parameters_verifies_and_asks_for_a_rehash() {
        let cheap = Params {
            memory_kib: 1024,
            iterations: 1,
        };
        let h = hash_with("correct horse", cheap).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{h}");
        assert!(verify("correct horse", &h));
        assert!(needs_rehash(&h, DEFAULT));
        assert!(!needs_rehash(&h, cheap));
        assert!(!needs_rehash(&hash("x").unwrap(), DEFAULT));
        assert!(needs_rehash("$2b$10$notargon", DEFAULT));
    }
}
