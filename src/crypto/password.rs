//! Password hashing with Argon2id. New hashes use the configured [`Params`] (default: OWASP's
//! minimum, 19 MiB, 2 passes, 1 lane); a stored hash is verified with the parameters it
//! names, so hashes made under other settings keep working and are upgraded at the next
//! successful sign-in ([`needs_rehash`]).
use super::base64::{phc_decode, phc_encode};
use super::CryptoError;
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

/// The most a stored hash may ask for: more memory than a worker has, or more work (memory
/// × passes) than a request's CPU allows, never matches (instead of failing the request).
/// Logto's own hashes (Argon2i, m=4096, t=256) are exactly at the work bound.
const MAX_MEMORY_KIB: u32 = 64 * 1024;
const MAX_WORK_KIB_PASSES: u64 = 64 * 1024 * 16;
const MAX_LANES: u32 = 8;
/// The shortest hash output a stored string may carry (the PHC format's minimum).
const MIN_HASH_BYTES: usize = 10;

/// A PHC string of Argon2 (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), read by hand: the
/// `password-hash` crate's parser and its own base64 cost the module more than this.
#[derive(Debug, PartialEq)]
struct Phc {
    algorithm: Algorithm,
    version: Version,
    m: u32,
    t: u32,
    p: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn parse(phc: &str) -> Option<Phc> {
    let mut parts = phc.split('$');
    if !parts.next()?.is_empty() {
        return None;
    }
    let algorithm = match parts.next()? {
        "argon2id" => Algorithm::Argon2id,
        "argon2i" => Algorithm::Argon2i,
        "argon2d" => Algorithm::Argon2d,
        _ => return None,
    };
    let mut field = parts.next()?;
    // The version is optional in the format (absent means 0x10).
    let version = match field.strip_prefix("v=") {
        Some(v) => {
            field = parts.next()?;
            match v {
                "19" => Version::V0x13,
                "16" => Version::V0x10,
                _ => return None,
            }
        }
        None => Version::V0x10,
    };
    let (mut m, mut t, mut p) = (None, None, None);
    for pair in field.split(',') {
        let (k, v) = pair.split_once('=')?;
        // Decimal digits only, without a leading zero (the format's rule).
        if v.is_empty()
            || !v.bytes().all(|b| b.is_ascii_digit())
            || (v.len() > 1 && v.starts_with('0'))
        {
            return None;
        }
        let n: u32 = v.parse().ok()?;
        let slot = match k {
            "m" => &mut m,
            "t" => &mut t,
            "p" => &mut p,
            // `keyid` and `data` are not made here and not accepted.
            _ => return None,
        };
        // Each parameter once.
        if slot.replace(n).is_some() {
            return None;
        }
    }
    let salt = phc_decode(parts.next()?)?;
    let hash = phc_decode(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    Some(Phc {
        algorithm,
        version,
        m: m?,
        t: t?,
        p: p?,
        salt,
        hash,
    })
}

/// The Argon2 output of `password` under the parameters and salt of `phc`, as long as its
/// hash; `None` when the parameters are out of bounds.
fn derive(password: &str, phc: &Phc) -> Option<Vec<u8>> {
    let work = u64::from(phc.m) * u64::from(phc.t);
    if phc.m > MAX_MEMORY_KIB || work > MAX_WORK_KIB_PASSES || phc.p > MAX_LANES {
        return None;
    }
    let params = argon2::Params::new(phc.m, phc.t, phc.p, Some(phc.hash.len())).ok()?;
    let mut out = vec![0u8; phc.hash.len()];
    Argon2::new(phc.algorithm, phc.version, params)
        .hash_password_into(password.as_bytes(), &phc.salt, &mut out)
        .ok()?;
    Some(out)
}

/// The PHC string of `password` with the default parameters.
pub fn hash(password: &str) -> Result<String, CryptoError> {
    hash_with(password, DEFAULT)
}

/// The PHC string of `password` (`$argon2id$v=19$m=…,t=…,p=1$…`): a 16-byte salt and a
/// 32-byte hash.
pub fn hash_with(password: &str, p: Params) -> Result<String, CryptoError> {
    let mut phc = Phc {
        algorithm: Algorithm::Argon2id,
        version: Version::V0x13,
        m: p.memory_kib,
        t: p.iterations,
        p: 1,
        salt: super::random::bytes::<16>()?.to_vec(),
        hash: vec![0; 32],
    };
    phc.hash = derive(password, &phc)
        .ok_or_else(|| CryptoError::Operation("Argon2 parameters out of bounds".into()))?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p=1${}${}",
        phc.m,
        phc.t,
        phc_encode(&phc.salt),
        phc_encode(&phc.hash)
    ))
}

/// Whether `password` matches the stored PHC string (under the algorithm, version and
/// parameters it names: Logto's Argon2i hashes too); a malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    use subtle::ConstantTimeEq;
    let Some(parsed) = parse(phc) else {
        return false;
    };
    if parsed.hash.len() < MIN_HASH_BYTES {
        return false;
    }
    derive(password, &parsed).is_some_and(|out| bool::from(out.ct_eq(&parsed.hash)))
}

/// Whether a stored hash was made with other parameters than `p` (or another algorithm).
pub fn needs_rehash(phc: &str, p: Params) -> bool {
    let Some(parsed) = parse(phc) else {
        return true;
    };
    parsed.algorithm != Algorithm::Argon2id
        || parsed.version != Version::V0x13
        || parsed.m != p.memory_kib
        || parsed.t != p.iterations
        || parsed.p != 1
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

    /// The `argon2` crate's own PHC hasher and verifier (RustCrypto) agree with ours both
    /// ways, for Argon2id and for the Argon2i hashes Logto stores.
    #[test]
    fn our_phc_strings_and_the_argon2_crates_verify_each_other() {
        use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
        let ours = hash("correct horse").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        // Logto's own parameters (hash-wasm's `argon2i`, m=4096, t=256, p=1), and ours.
        for (algorithm, t) in [(Algorithm::Argon2id, 3), (Algorithm::Argon2i, 256)] {
            let params = argon2::Params::new(4096, t, 1, None).unwrap();
            let theirs = Argon2::new(algorithm, Version::V0x13, params)
                .hash_password(
                    b"correct horse",
                    &SaltString::encode_b64(b"sixteen byte salt").unwrap(),
                )
                .unwrap()
                .to_string();
            assert!(verify("correct horse", &theirs), "{theirs}");
            assert!(!verify("correct horsE", &theirs));
            assert!(needs_rehash(&theirs, DEFAULT));
        }
    }

    #[test]
    fn a_hash_without_a_version_is_argon2_version_1_0() {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let params = argon2::Params::new(1024, 1, 1, None).unwrap();
        let old = Argon2::new(Algorithm::Argon2i, Version::V0x10, params)
            .hash_password(
                b"pw",
                &SaltString::encode_b64(b"sixteen byte salt").unwrap(),
            )
            .unwrap()
            .to_string();
        assert!(old.contains("$v=16$"), "{old}");
        assert!(verify("pw", &old.replace("$v=16$", "$")));
    }

    #[test]
    fn malformed_or_unbounded_hashes_never_match() {
        let good = hash("pw").unwrap();
        assert!(verify("pw", &good));
        for bad in [
            good.replace("$argon2id$", "$argon2x$"),
            good.replace("v=19", "v=20"),
            good.replace("p=1", "p=1,keyid=abc"),
            good.replace("m=19456", "m=9999999"),
            good.replace("t=2", "t=99"),
            good.replace("t=2", "t=02"),
            good.replace("t=2", "t=+2"),
            good.replace("p=1", "p=1,t=2"),
            good.replace("m=19456,t=2,p=1", "m=65536,t=17,p=1"),
            format!("{good}$extra"),
            good.replace('$', "$="),
            String::new(),
        ] {
            assert!(!verify("pw", &bad), "{bad}");
        }
    }
}
