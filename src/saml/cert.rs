//! The RSA public key of an X.509 certificate (RFC 5280 §4.1; the key as RFC 8017 §A.1.1's
//! `RSAPublicKey`), read with a small DER reader: a SAML IdP's signing certificate comes from
//! the operator's configuration or the IdP's metadata, and only its key is used (its dates
//! and issuer are the operator's business, as in Logto).
use crate::crypto::base64::std_decode;
use crate::crypto::provider::PublicKey;

/// One DER element: its tag and contents, and what follows it.
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (bytes, rest) = (rest.get(..n)?, rest.get(n..)?);
        (
            bytes
                .iter()
                .fold(0usize, |acc, &x| (acc << 8) | usize::from(x)),
            rest,
        )
    };
    Some((tag, rest.get(..len)?, rest.get(len..)?))
}

/// The contents of the SEQUENCE that `b` starts with.
fn sequence(b: &[u8]) -> Option<&[u8]> {
    match tlv(b)? {
        (0x30, inner, _) => Some(inner),
        _ => None,
    }
}

/// rsaEncryption, 1.2.840.113549.1.1.1.
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// The certificate's RSA key, from PEM, bare base64 or DER.
pub fn rsa_key(cert: &[u8]) -> Option<PublicKey> {
    let der = if cert.first() == Some(&0x30) {
        cert.to_vec()
    } else {
        let text = std::str::from_utf8(cert).ok()?;
        let b64: String = text
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .flat_map(|l| l.split_whitespace())
            .collect();
        std_decode(&b64)?
    };
    let tbs = sequence(sequence(&der)?)?;
    let mut rest = tbs;
    // version [0] (optional), serialNumber, signature, issuer, validity, subject.
    if rest.first() == Some(&0xa0) {
        rest = tlv(rest)?.2;
    }
    for _ in 0..5 {
        rest = tlv(rest)?.2;
    }
    let spki = sequence(rest)?;
    let (tag, algorithm, after) = tlv(spki)?;
    let (oid_tag, oid, _) = tlv(algorithm)?;
    if tag != 0x30 || oid_tag != 0x06 || oid != RSA_ENCRYPTION {
        return None;
    }
    let (bit_tag, bits, _) = tlv(after)?;
    let (&unused, key) = bits.split_first()?;
    if bit_tag != 0x03 || unused != 0 {
        return None;
    }
    let key = sequence(key)?;
    let (n_tag, n, after_n) = tlv(key)?;
    let (e_tag, e, _) = tlv(after_n)?;
    if n_tag != 0x02 || e_tag != 0x02 {
        return None;
    }
    let strip = |x: &[u8]| {
        let start = x.iter().position(|&b| b != 0).unwrap_or(x.len());
        x.get(start..).unwrap_or_default().to_vec()
    };
    Some(PublicKey::Rs256 {
        n: strip(n),
        e: strip(e),
    })
}
