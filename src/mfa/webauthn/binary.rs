//! The binary parts of WebAuthn responses: authenticator data (WebAuthn §6.1), the
//! attestation object (§6.5), COSE keys (RFC 9052/9053) through [`super::cbor`], and ECDSA
//! signatures from DER. Everything is bounds-checked: malformed input is an error, never a
//! panic.
use super::cbor::Decoder;
use super::{Result, WebAuthnError, AT};
use crate::crypto::provider::PublicKey;

pub(super) struct AuthData<'a> {
    pub(super) rp_id_hash: &'a [u8],
    pub(super) flags: u8,
    pub(super) counter: u32,
    pub(super) attested: Option<Attested<'a>>,
}

pub(super) struct Attested<'a> {
    pub(super) aaguid: &'a [u8],
    pub(super) credential_id: &'a [u8],
    /// The COSE key, exactly the CBOR bytes the authenticator sent.
    pub(super) public_key: &'a [u8],
}

/// Authenticator data (WebAuthn §6.1): `rpIdHash (32) | flags (1) | signCount (4) |
/// [attestedCredentialData] | [extensions]`.
pub(super) fn auth_data(raw: &[u8]) -> Result<AuthData<'_>> {
    let bad = || WebAuthnError::Malformed("authenticatorData");
    let rp_id_hash = raw.get(..32).ok_or_else(bad)?;
    let flags = *raw.get(32).ok_or_else(bad)?;
    let counter_bytes: [u8; 4] = raw
        .get(33..37)
        .ok_or_else(bad)?
        .try_into()
        .map_err(|_| bad())?;
    let counter = u32::from_be_bytes(counter_bytes);
    let attested = if flags & AT != 0 {
        let rest = raw.get(37..).ok_or_else(bad)?;
        let aaguid = rest.get(..16).ok_or_else(bad)?;
        let len_bytes: [u8; 2] = rest
            .get(16..18)
            .ok_or_else(bad)?
            .try_into()
            .map_err(|_| bad())?;
        let len = usize::from(u16::from_be_bytes(len_bytes));
        let credential_id = rest.get(18..18 + len).ok_or_else(bad)?;
        let key_and_more = rest.get(18 + len..).ok_or_else(bad)?;
        // The COSE key is one CBOR item; extensions may follow it.
        let mut d = Decoder::new(key_and_more);
        d.skip().map_err(|_| bad())?;
        let public_key = key_and_more.get(..d.position()).ok_or_else(bad)?;
        Some(Attested {
            aaguid,
            credential_id,
            public_key,
        })
    } else {
        None
    };
    Ok(AuthData {
        rp_id_hash,
        flags,
        counter,
        attested,
    })
}

pub(super) struct AttestationObject<'a> {
    pub(super) fmt: &'a str,
    pub(super) auth_data: &'a [u8],
    pub(super) statement_empty: bool,
    pub(super) alg: Option<i64>,
    pub(super) sig: Option<&'a [u8]>,
    pub(super) x5c: bool,
}

/// The CBOR map `{fmt, attStmt, authData}` (WebAuthn §6.5).
pub(super) fn attestation_object(raw: &[u8]) -> Result<AttestationObject<'_>> {
    let bad = |_| WebAuthnError::Malformed("attestationObject");
    let mut d = Decoder::new(raw);
    let n = d.map().map_err(bad)?;
    let mut out = AttestationObject {
        fmt: "",
        auth_data: &[],
        statement_empty: true,
        alg: None,
        sig: None,
        x5c: false,
    };
    for _ in 0..n {
        match d.str().map_err(bad)? {
            "fmt" => out.fmt = d.str().map_err(bad)?,
            "authData" => out.auth_data = d.bytes().map_err(bad)?,
            "attStmt" => {
                let m = d.map().map_err(bad)?;
                out.statement_empty = m == 0;
                for _ in 0..m {
                    match d.str().map_err(bad)? {
                        "alg" => out.alg = Some(d.i64().map_err(bad)?),
                        "sig" => out.sig = Some(d.bytes().map_err(bad)?),
                        "x5c" => {
                            out.x5c = true;
                            d.skip().map_err(bad)?;
                        }
                        _ => d.skip().map_err(bad)?,
                    }
                }
            }
            _ => d.skip().map_err(bad)?,
        }
    }
    Ok(out)
}

/// A COSE_Key (RFC 9052 §7, RFC 9053): EC2 P-256 for ES256, RSA for RS256, OKP Ed25519 for
/// EdDSA. Anything else is refused.
pub fn cose_key(raw: &[u8]) -> Result<PublicKey> {
    let bad = |_| WebAuthnError::Malformed("COSE key");
    let mut d = Decoder::new(raw);
    let n = d.map().map_err(bad)?;
    let (mut kty, mut alg, mut crv) = (None, None, None);
    let (mut x, mut y, mut rsa_n, mut rsa_e): (Option<&[u8]>, Option<&[u8]>, _, _) =
        (None, None, None, None);
    for _ in 0..n {
        let label = d.i64().map_err(bad)?;
        match label {
            1 => kty = Some(d.i64().map_err(bad)?),
            3 => alg = Some(d.i64().map_err(bad)?),
            -1 if kty == Some(3) => rsa_n = Some(d.bytes().map_err(bad)?),
            -1 => crv = Some(d.i64().map_err(bad)?),
            -2 if kty == Some(3) => rsa_e = Some(d.bytes().map_err(bad)?),
            -2 => x = Some(d.bytes().map_err(bad)?),
            -3 => y = Some(d.bytes().map_err(bad)?),
            _ => d.skip().map_err(bad)?,
        }
    }
    let fixed = |b: Option<&[u8]>| -> Result<[u8; 32]> {
        b.and_then(|b| b.try_into().ok())
            .ok_or(WebAuthnError::Malformed("COSE key coordinates"))
    };
    match (kty, alg, crv) {
        (Some(2), Some(-7), Some(1)) => Ok(PublicKey::Es256 {
            x: fixed(x)?,
            y: fixed(y)?,
        }),
        (Some(1), Some(-8), Some(6)) => Ok(PublicKey::EdDsa { x: fixed(x)? }),
        (Some(3), Some(-257), None) => match (rsa_n, rsa_e) {
            (Some(n), Some(e)) if n.len() >= 256 && n.len() <= 512 => Ok(PublicKey::Rs256 {
                n: n.to_vec(),
                e: e.to_vec(),
            }),
            _ => Err(WebAuthnError::Malformed("RSA key")),
        },
        _ => Err(WebAuthnError::Algorithm),
    }
}

/// An ECDSA signature from ASN.1 DER `SEQUENCE { r INTEGER, s INTEGER }` to `r || s`, 32
/// bytes each (RFC 3279 §2.2.3); `None` if it is not that.
pub(super) fn der_to_raw(der: &[u8]) -> Option<[u8; 64]> {
    let (&tag, rest) = der.split_first()?;
    let (&len, body) = rest.split_first()?;
    if tag != 0x30 || usize::from(len) != body.len() {
        return None;
    }
    let (r, body) = der_int(body)?;
    let (s, body) = der_int(body)?;
    if !body.is_empty() {
        return None;
    }
    let mut out = [0u8; 64];
    out.get_mut(32 - r.len()..32)?.copy_from_slice(r);
    out.get_mut(64 - s.len()..)?.copy_from_slice(s);
    Some(out)
}

/// One positive DER INTEGER of at most 32 significant bytes, and what follows it.
fn der_int(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&len, rest) = rest.split_first()?;
    let len = usize::from(len);
    if tag != 0x02 || len == 0 || len > 33 {
        return None;
    }
    let value = rest.get(..len)?;
    let mut digits = value;
    while let [0, tail @ ..] = digits {
        digits = tail;
    }
    (digits.len() <= 32).then_some((digits, rest.get(len..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_der_signature_becomes_r_and_s_padded_to_32_bytes() {
        // r with a leading zero (its high bit set), s short.
        let mut der = vec![0x30, 0x00, 0x02, 33, 0x00];
        der.extend([0x80; 32]);
        der.extend([0x02, 2, 0x01, 0x02]);
        der[1] = u8::try_from(der.len() - 2).unwrap();
        let raw = der_to_raw(&der).unwrap();
        assert_eq!(&raw[..32], &[0x80; 32]);
        assert_eq!(&raw[32..62], &[0; 30]);
        assert_eq!(&raw[62..], &[1, 2]);
        assert_eq!(der_to_raw(&der[..der.len() - 1]), None);
    }

    #[test]
    fn a_cose_key_of_an_unsupported_algorithm_is_refused() {
        // {1: 2, 3: -35 (ES384), -1: 2}
        let raw = [0xa3, 0x01, 0x02, 0x03, 0x38, 0x22, 0x20, 0x02];
        assert_eq!(cose_key(&raw), Err(WebAuthnError::Algorithm));
        assert!(cose_key(&[0xff]).is_err());
    }
}
