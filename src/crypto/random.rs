//! Random identifiers and secrets from the platform's CSPRNG.
use super::CryptoError;

pub fn bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).map_err(|e| CryptoError::Random(e.to_string()))?;
    Ok(buf)
}

const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const ALNUM: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias).
fn string(alphabet: &[u8], len: usize) -> Result<String, CryptoError> {
    let n = alphabet.len();
    let limit = 256 - (256 % n);
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in bytes::<64>()? {
            let b = usize::from(b);
            if b < limit {
                if let Some(&c) = alphabet.get(b % n) {
                    out.push(char::from(c));
                }
            }
            if out.len() == len {
                break;
            }
        }
    }
    Ok(out)
}

/// A one-time code: `digits` decimal digits, uniformly drawn.
pub fn digits(count: usize) -> Result<String, CryptoError> {
    string(b"0123456789", count)
}

/// An entity id in Logto's style: 21 characters of `[0-9a-z]` (about 108 bits).
pub fn id() -> Result<String, CryptoError> {
    string(ALPHABET, 21)
}

/// A client secret or other bearer secret: 32 characters of `[0-9A-Za-z]` (about 190 bits).
pub fn secret() -> Result<String, CryptoError> {
    string(ALNUM, 32)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_have_the_documented_shape_and_differ() {
        let a = super::id().unwrap();
        let b = super::id().unwrap();
        assert_eq!(a.len(), 21);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
        assert_ne!(a, b);
        let s = super::secret().unwrap();
        assert_eq!(s.len(), 32);
        assert!(s.bytes().all(|c| c.is_ascii_alphanumeric()));
    }
}
