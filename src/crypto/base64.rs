//! Base64 (RFC 4648 §4) and base64url without padding (§5), written out: a dozen lines
//! that keep a general-purpose encoding crate, and its engines, out of the module's size
//! budget. Decoding is strict: no whitespace, no padding where there must be none, and the
//! unused bits of the last character must be zero.
const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn encode(data: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..4 {
            if i < chars {
                let index = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(char::from(alphabet.get(index).copied().unwrap_or(b'A')));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

fn decode(text: &str, alphabet: &[u8; 64], padded: bool) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let body = if padded {
        if !bytes.len().is_multiple_of(4) {
            return None;
        }
        let pads = bytes.iter().rev().take_while(|&&c| c == b'=').count();
        if pads > 2 {
            return None;
        }
        bytes.get(..bytes.len() - pads)?
    } else {
        bytes
    };
    if body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let mut n: u32 = 0;
        for (i, c) in chunk.iter().enumerate() {
            let v = alphabet.iter().position(|a| a == c)? as u32;
            n |= v << (18 - 6 * i);
        }
        let keep = chunk.len() - 1;
        let unused = n & (0x00FF_FFFF >> (8 * keep));
        if unused != 0 {
            return None;
        }
        for i in 0..keep {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// Base64url without padding (JOSE, RFC 7515 §2).
pub fn url_encode(data: &[u8]) -> String {
    encode(data, URL, false)
}

pub fn url_decode(text: &str) -> Option<Vec<u8>> {
    decode(text, URL, false)
}

/// Standard base64 with padding (HTTP Basic, CSP hashes).
pub fn std_encode(data: &[u8]) -> String {
    encode(data, STD, true)
}

pub fn std_decode(text: &str) -> Option<Vec<u8>> {
    decode(text, STD, true)
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
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(url_decode(&url_encode(&all)), Some(all.clone()));
        assert_eq!(std_decode(&std_encode(&all)), Some(all));
    }
}
