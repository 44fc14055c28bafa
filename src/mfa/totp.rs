//! Time-based one-time passwords (RFC 6238) for authenticator apps: HMAC-SHA-1, 6 digits,
//! 30-second steps, one step of clock skew either way. HOTP's dynamic truncation (RFC 4226
//! §5.3) over the `hmac` and `sha1` crates; the tests check RFC 6238's vectors and agree with
//! `totp-rs`.
//!
//! Invariant: a code is accepted for a time step later than the last one accepted for the
//! same secret, so an accepted code cannot be used again (the caller stores the step it
//! returns, conditionally, see `store::mfa::use_totp_step`).
use hmac::{Hmac, Mac};

pub const DIGITS: usize = 6;
pub const STEP: u64 = 30;
/// Steps of skew accepted on either side of the current one.
pub const SKEW: i64 = 1;

/// HOTP (RFC 4226 §5.3) for counter `step`: the 6-digit code.
fn code_at(secret: &[u8], step: u64) -> String {
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.last().copied().unwrap_or(0) & 0x0f);
    let word = digest
        .get(offset..offset + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_be_bytes)
        & 0x7fff_ffff;
    format!("{:06}", word % 1_000_000)
}

/// A new 160-bit secret (RFC 4226 §4 recommends 160 bits), and its base32 form (no padding),
/// the form authenticator apps take.
pub fn new_secret() -> Result<(Vec<u8>, String), crate::crypto::CryptoError> {
    let raw = crate::crypto::random::bytes::<20>()?.to_vec();
    let encoded = encode(&raw);
    Ok((raw, encoded))
}

/// Base32 (RFC 4648, no padding) of a secret.
pub fn encode(raw: &[u8]) -> String {
    base32::encode(base32::Alphabet::Rfc4648 { padding: false }, raw)
}

/// The secret a base32 string holds, if it is one of 128 to 160+ bits (16 to 32 characters,
/// as Logto accepts).
pub fn decode(encoded: &str) -> Option<Vec<u8>> {
    let clean: String = encoded
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if !(16..=32).contains(&clean.len()) {
        return None;
    }
    base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &clean).filter(|b| b.len() >= 10)
}

/// The `otpauth://` URI an authenticator app scans (Google's Key Uri Format).
pub fn uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    // In the label a space is %20, not `+`.
    let label = format!("{}:{}", enc(issuer), enc(account)).replace('+', "%20");
    format!(
        "otpauth://totp/{label}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        enc(issuer).replace('+', "%20")
    )
}

/// The time step `code` is good for at `now` (Unix seconds), if any, and only if it is later
/// than `last_step`: the step to store as the new last one.
pub fn accept(secret: &[u8], code: &str, now: i64, last_step: Option<i64>) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = now.div_euclid(STEP as i64);
    (current - SKEW..=current + SKEW)
        .filter(|step| *step >= 0 && last_step.is_none_or(|last| *step > last))
        .find(|step| {
            let expected = code_at(secret, u64::try_from(*step).unwrap_or(0));
            crate::crypto::secret::constant_time_eq(expected.as_bytes(), code.as_bytes())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B (https://www.rfc-editor.org/rfc/rfc6238#appendix-B), SHA-1 with
    /// the 20-byte ASCII key "12345678901234567890"; the 8-digit values' last 6 digits.
    #[test]
    fn the_rfc_6238_vectors_pass() {
        let key = b"12345678901234567890";
        for (time, eight) in [
            (59_i64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            let six = &eight[2..];
            assert_eq!(
                accept(key, six, time, None),
                Some(time.div_euclid(30)),
                "{time}"
            );
        }
    }

    #[test]
    fn a_code_is_good_one_step_either_way_and_only_once() {
        let key = b"12345678901234567890";
        let six = "287082"; // step 1 (t = 30..59)
        assert_eq!(accept(key, six, 75, None), Some(1), "one step late");
        assert_eq!(accept(key, six, 5, None), Some(1), "one step early");
        assert_eq!(accept(key, six, 95, None), None, "two steps late");
        assert_eq!(accept(key, six, 59, Some(1)), None, "already used");
        assert_eq!(accept(key, "28708", 59, None), None);
        assert_eq!(accept(key, "28708x", 59, None), None);
    }

    #[test]
    fn codes_agree_with_totp_rs() {
        let (raw, _) = new_secret().unwrap();
        let other = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 0, 30, raw.clone());
        for t in [0_u64, 59, 1_700_000_000, 1_800_000_017] {
            assert_eq!(code_at(&raw, t / 30), other.generate(t), "{t}");
        }
    }

    #[test]
    fn secrets_round_trip_through_base32() {
        let (raw, b32) = new_secret().unwrap();
        assert_eq!(raw.len(), 20);
        assert_eq!(b32.len(), 32);
        assert_eq!(decode(&b32), Some(raw));
        assert_eq!(decode("short"), None);
        let u = uri("auth.example.com", "Alice Smith", "JBSWY3DPEHPK3PXP");
        assert_eq!(
            u,
            "otpauth://totp/auth.example.com:Alice%20Smith?secret=JBSWY3DPEHPK3PXP&issuer=auth.example.com&algorithm=SHA1&digits=6&period=30"
        );
    }
}
