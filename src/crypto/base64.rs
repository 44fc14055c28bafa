//! Base64 (RFC 4648 §4) and base64url without padding (§5), over the `base64` crate, in the
//! two shapes the code needs. Decoding is strict: no whitespace, no padding where there must
//! be none, and the unused bits of the last character must be zero.
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

/// Base64url without padding (JOSE, RFC 7515 §2).
pub fn url_encode(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

pub fn url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Standard base64 with padding (HTTP Basic, CSP hashes).
pub fn std_encode(data: &[u8]) -> String {
    STANDARD.encode(data)
}

pub fn std_decode(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}

/// Base64 without padding, the PHC string format's (password hashes): standard base64 with
/// the padding taken off and put back (no second engine in the module).
pub fn phc_encode(data: &[u8]) -> String {
    let mut s = std_encode(data);
    while s.ends_with('=') {
        s.pop();
    }
    s
}

pub fn phc_decode(text: &str) -> Option<Vec<u8>> {
    if text.contains('=') {
        return None;
    }
    let mut s = text.to_owned();
    while !s.len().is_multiple_of(4) {
        s.push('=');
    }
    std_decode(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 §10 (https://www.rfc-editor.org/rfc/rfc4648#section-10).
    const VECTORS: &[(&str, &str)] = &[
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn the_rfc_4648_test_vectors_round_trip() {
        for (plain, encoded) in VECTORS {
            assert_eq!(std_encode(plain.as_bytes()), *encoded);
            assert_eq!(std_decode(encoded).as_deref(), Some(plain.as_bytes()));
            let url = encoded.trim_end_matches('=');
            assert_eq!(url_encode(plain.as_bytes()), url);
            assert_eq!(url_decode(url).as_deref(), Some(plain.as_bytes()));
        }
    }

    #[test]
    fn the_url_alphabet_differs_and_malformed_text_is_refused() {
        assert_eq!(url_encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(std_encode(&[0xfb, 0xff]), "+/8=");
        for bad in ["Zg=", "Z", "Zm9v!", "Zh==", "Zm9v====", "Zg==Zg=="] {
            assert_eq!(std_decode(bad), None, "{bad}");
        }
        for bad in ["Zg==", "Z", "+/8", "Zh"] {
            assert_eq!(url_decode(bad), None, "{bad}");
        }
    }
}
