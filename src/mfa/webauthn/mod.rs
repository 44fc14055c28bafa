//! WebAuthn (Level 3) ceremonies, relying-party side: the options handed to
//! `navigator.credentials`, and the checks of what comes back
//! (<https://www.w3.org/TR/webauthn-3/#sctn-registering-a-new-credential> and
//! `#sctn-verifying-assertion`). Pure code: it takes `now`-free inputs, the expected
//! challenge, origins and relying-party id; the signature check goes through
//! [`PlatformCrypto`] (WebCrypto in the worker, RustCrypto natively).
//!
//! Invariant: a credential is registered only from a `webauthn.create` response to a
//! challenge this provider issued, from an allowed origin, for this relying-party id, with
//! the user present and verified, under attestation `none` or `packed` self-attestation
//! whose signature verifies; an assertion counts only under the same conditions, signed by
//! the stored credential's key, with a signature counter that moved forward whenever the
//! authenticator keeps one. Single use of a challenge is the caller's (it is consumed from
//! the store before these checks run).
use crate::crypto::b64url;
use crate::crypto::base64::url_decode;
use crate::crypto::provider::{PlatformCrypto, PublicKey};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt;

mod binary;
mod cbor;
pub use binary::cose_key;
use binary::{attestation_object, auth_data, der_to_raw, AuthData};

/// COSE algorithm identifiers offered and accepted (IANA "COSE Algorithms"): EdDSA, ES256,
/// RS256, in the order of preference.
pub const ALGORITHMS: [i64; 3] = [-8, -7, -257];
/// How long a ceremony's challenge stays good, in seconds (and the `timeout` offered).
pub const CHALLENGE_TTL: i64 = 300;

/// Authenticator data flags (WebAuthn §6.1).
const UP: u8 = 0x01;
const UV: u8 = 0x04;
/// Backup eligible: a synced passkey, not bound to one device.
const BE: u8 = 0x08;
/// Backed up; never without BE (WebAuthn §6.1.3).
const BS: u8 = 0x10;
const AT: u8 = 0x40;

/// Why a response was refused: the `data.message` of Logto's
/// `session.mfa.webauthn_verification_failed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebAuthnError {
    /// The response is not what the ceremony sends (missing field, bad encoding).
    Malformed(&'static str),
    /// `clientDataJSON.type` is not the ceremony's.
    WrongType,
    /// Not the challenge issued for this ceremony.
    WrongChallenge,
    /// The page that ran the ceremony is not an allowed origin.
    WrongOrigin(String),
    /// The credential is scoped to another relying party.
    WrongRpId,
    UserNotPresent,
    UserNotVerified,
    /// An attestation format or statement this provider does not accept.
    Attestation(&'static str),
    /// A key type or algorithm outside [`ALGORITHMS`].
    Algorithm,
    BadSignature,
    /// The signature counter did not move forward: the authenticator may be cloned.
    CounterRegressed,
    /// The platform could not run the check.
    Crypto(String),
}

impl fmt::Display for WebAuthnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebAuthnError::Malformed(what) => write!(f, "malformed response: {what}"),
            WebAuthnError::WrongType => f.write_str("the response is for another ceremony"),
            WebAuthnError::WrongChallenge => f.write_str("the challenge does not match"),
            WebAuthnError::WrongOrigin(o) => write!(f, "origin {o} is not allowed"),
            WebAuthnError::WrongRpId => f.write_str("the credential is for another relying party"),
            WebAuthnError::UserNotPresent => f.write_str("the user was not present"),
            WebAuthnError::UserNotVerified => f.write_str("the user was not verified"),
            WebAuthnError::Attestation(m) => write!(f, "attestation refused: {m}"),
            WebAuthnError::Algorithm => f.write_str("unsupported key type or algorithm"),
            WebAuthnError::BadSignature => f.write_str("the signature does not verify"),
            WebAuthnError::CounterRegressed => {
                f.write_str("the signature counter went back: the authenticator may be cloned")
            }
            WebAuthnError::Crypto(m) => write!(f, "cannot verify: {m}"),
        }
    }
}

type Result<T> = std::result::Result<T, WebAuthnError>;

/// What the response must match.
pub struct Expected<'a> {
    /// The challenge issued, base64url.
    pub challenge: &'a str,
    /// The origins the ceremony may run on (the provider's own, and related ones).
    pub origins: &'a [String],
    pub rp_id: &'a str,
}

/// A credential as stored: its id and COSE public key (base64url), and its counter.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub id: String,
    pub public_key: String,
    pub counter: i64,
    pub transports: Vec<String>,
}

/// A credential the registration ceremony proved.
#[derive(Debug, Clone, PartialEq)]
pub struct Registered {
    pub credential: Credential,
    /// The authenticator's AAGUID, hex (all zeros under attestation `none`).
    pub aaguid: String,
}

/// `PublicKeyCredentialCreationOptionsJSON` (SimpleWebAuthn's shape, as Logto returns it):
/// a discoverable credential with user verification, attestation `none`.
pub fn registration_options(
    rp_id: &str,
    user: (&str, &str, &str),
    challenge: &str,
    exclude: &[Credential],
) -> Value {
    let (user_id, name, display_name) = user;
    crate::jv!({
        "rp": {"name": rp_id, "id": rp_id},
        "user": {"id": b64url(user_id.as_bytes()), "name": name, "displayName": display_name},
        "challenge": challenge,
        "pubKeyCredParams": ALGORITHMS.iter().map(|alg| crate::jv!({"type": "public-key", "alg": alg})).collect::<Vec<_>>(),
        "timeout": CHALLENGE_TTL * 1000,
        "excludeCredentials": descriptors(exclude),
        "authenticatorSelection": {
            "residentKey": "required",
            "requireResidentKey": true,
            "userVerification": "required",
        },
        "attestation": "none",
    })
}

/// `PublicKeyCredentialRequestOptionsJSON`: `allow` empty for a discoverable credential
/// ("sign in with a passkey" without a username).
pub fn authentication_options(rp_id: &str, challenge: &str, allow: &[Credential]) -> Value {
    crate::jv!({
        "challenge": challenge,
        "timeout": CHALLENGE_TTL * 1000,
        "rpId": rp_id,
        "allowCredentials": descriptors(allow),
        "userVerification": "required",
    })
}

fn descriptors(list: &[Credential]) -> Vec<Value> {
    list.iter()
        .map(|c| crate::jv!({"type": "public-key", "id": c.id, "transports": c.transports}))
        .collect()
}

/// The challenge of a response, to find its ceremony; checked again in full by the verify
/// functions.
pub fn challenge_of(payload: &Value) -> Result<String> {
    let raw = b64_field(response(payload)?, "clientDataJSON")?;
    Ok(client_data(&raw)?.challenge)
}

/// The credential id of an assertion (to find the stored credential) and its user handle
/// (the user id the credential was made for), if sent.
pub fn assertion_ids(payload: &Value) -> Result<(String, Option<String>)> {
    let id = raw_id(payload)?;
    let handle = response(payload)?
        .get("userHandle")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(|s| url_decode(s).ok_or(WebAuthnError::Malformed("userHandle")))
        .transpose()?
        .map(|b| String::from_utf8(b).map_err(|_| WebAuthnError::Malformed("userHandle")))
        .transpose()?;
    Ok((id, handle))
}

/// Registration (WebAuthn §7.1): the new credential, or why not.
pub async fn verify_registration(
    crypto: &dyn PlatformCrypto,
    payload: &Value,
    expected: &Expected<'_>,
) -> Result<Registered> {
    let id = raw_id(payload)?;
    let resp = response(payload)?;
    let client_raw = b64_field(resp, "clientDataJSON")?;
    check_client(&client_raw, "webauthn.create", expected)?;
    let object = b64_field(resp, "attestationObject")?;
    let att = attestation_object(&object)?;
    let data = auth_data(att.auth_data)?;
    check_flags_and_rp(&data, expected.rp_id)?;
    let Some(attested) = data.attested else {
        return Err(WebAuthnError::Malformed("no attested credential data"));
    };
    if b64url(attested.credential_id) != id {
        return Err(WebAuthnError::Malformed("credential id differs from rawId"));
    }
    let key = cose_key(attested.public_key)?;
    match att.fmt {
        "none" if att.statement_empty => {}
        "none" => return Err(WebAuthnError::Attestation("`none` with a statement")),
        "packed" => {
            // Self-attestation only: signed by the credential's own key, no certificate.
            if att.x5c {
                return Err(WebAuthnError::Attestation(
                    "packed attestation with a certificate; register with attestation `none`",
                ));
            }
            if att.alg != Some(key.alg()) {
                return Err(WebAuthnError::Attestation(
                    "packed self-attestation with another algorithm",
                ));
            }
            let mut message = att.auth_data.to_vec();
            message.extend_from_slice(&Sha256::digest(&client_raw));
            verify_signature(crypto, &key, &message, att.sig.unwrap_or_default()).await?;
        }
        _ => return Err(WebAuthnError::Attestation("unsupported format")),
    }
    let transports = resp
        .get("transports")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .take(8)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Registered {
        credential: Credential {
            id,
            public_key: b64url(attested.public_key),
            counter: i64::from(data.counter),
            transports,
        },
        aaguid: attested.aaguid.iter().map(|b| format!("{b:02x}")).collect(),
    })
}

/// An assertion that verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asserted {
    /// The credential's new signature counter.
    pub counter: i64,
    /// The passkey may be synced to other devices (the BE flag): RFC 8176's `swk` rather
    /// than `hwk`.
    pub backup_eligible: bool,
}

/// Authentication (WebAuthn §7.2) against the stored `credential`, or why not.
pub async fn verify_authentication(
    crypto: &dyn PlatformCrypto,
    payload: &Value,
    expected: &Expected<'_>,
    credential: &Credential,
) -> Result<Asserted> {
    if raw_id(payload)? != credential.id {
        return Err(WebAuthnError::Malformed("another credential"));
    }
    let resp = response(payload)?;
    let client_raw = b64_field(resp, "clientDataJSON")?;
    check_client(&client_raw, "webauthn.get", expected)?;
    let data_raw = b64_field(resp, "authenticatorData")?;
    let data = auth_data(&data_raw)?;
    check_flags_and_rp(&data, expected.rp_id)?;
    let signature = b64_field(resp, "signature")?;
    let key_raw =
        url_decode(&credential.public_key).ok_or(WebAuthnError::Malformed("stored key"))?;
    let key = cose_key(&key_raw)?;
    let mut message = data_raw.clone();
    message.extend_from_slice(&Sha256::digest(&client_raw));
    verify_signature(crypto, &key, &message, &signature).await?;
    let counter = i64::from(data.counter);
    // §7.2 step 22: both zero means the authenticator keeps no counter.
    if (counter != 0 || credential.counter != 0) && counter <= credential.counter {
        return Err(WebAuthnError::CounterRegressed);
    }
    Ok(Asserted {
        counter,
        backup_eligible: data.flags & BE != 0,
    })
}

async fn verify_signature(
    crypto: &dyn PlatformCrypto,
    key: &PublicKey,
    message: &[u8],
    signature: &[u8],
) -> Result<()> {
    // ES256 signatures come DER-encoded (WebAuthn §6.5.6); the platform takes `r || s`.
    let raw;
    let signature = match key {
        PublicKey::Es256 { .. } => {
            raw = der_to_raw(signature).ok_or(WebAuthnError::BadSignature)?;
            &raw[..]
        }
        _ => signature,
    };
    match crypto.verify_key(key, message, signature).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(WebAuthnError::BadSignature),
        Err(e) => Err(WebAuthnError::Crypto(e.to_string())),
    }
}

fn response(payload: &Value) -> Result<&Value> {
    payload
        .get("response")
        .filter(|r| r.is_object())
        .ok_or(WebAuthnError::Malformed("response"))
}

/// `rawId` (or `id`), base64url, checked to decode.
fn raw_id(payload: &Value) -> Result<String> {
    let id = payload
        .get("rawId")
        .or_else(|| payload.get("id"))
        .and_then(Value::as_str)
        .ok_or(WebAuthnError::Malformed("rawId"))?;
    let bytes = url_decode(id).ok_or(WebAuthnError::Malformed("rawId"))?;
    if bytes.is_empty() || bytes.len() > 1023 {
        return Err(WebAuthnError::Malformed("rawId"));
    }
    Ok(b64url(&bytes))
}

fn b64_field(resp: &Value, name: &'static str) -> Result<Vec<u8>> {
    resp.get(name)
        .and_then(Value::as_str)
        .and_then(url_decode)
        .ok_or(WebAuthnError::Malformed(name))
}

struct ClientData {
    kind: String,
    challenge: String,
    origin: String,
    cross_origin: bool,
}

fn client_data(raw: &[u8]) -> Result<ClientData> {
    let v: Value =
        crate::json::parse(raw).map_err(|_| WebAuthnError::Malformed("clientDataJSON"))?;
    let text = |k: &'static str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(WebAuthnError::Malformed(k))
    };
    Ok(ClientData {
        kind: text("type")?,
        challenge: text("challenge")?,
        origin: text("origin")?,
        cross_origin: v.get("crossOrigin").and_then(Value::as_bool) == Some(true),
    })
}

fn check_client(raw: &[u8], kind: &str, expected: &Expected<'_>) -> Result<()> {
    let c = client_data(raw)?;
    if c.kind != kind {
        return Err(WebAuthnError::WrongType);
    }
    // Compared as bytes: the same challenge in any base64url spelling.
    let same = url_decode(&c.challenge)
        .zip(url_decode(expected.challenge))
        .is_some_and(|(a, b)| crate::crypto::secret::constant_time_eq(&a, &b));
    if !same {
        return Err(WebAuthnError::WrongChallenge);
    }
    if c.cross_origin || !expected.origins.contains(&c.origin) {
        return Err(WebAuthnError::WrongOrigin(c.origin));
    }
    Ok(())
}

fn check_flags_and_rp(data: &AuthData<'_>, rp_id: &str) -> Result<()> {
    if *data.rp_id_hash != *Sha256::digest(rp_id.as_bytes()) {
        return Err(WebAuthnError::WrongRpId);
    }
    if data.flags & UP == 0 {
        return Err(WebAuthnError::UserNotPresent);
    }
    if data.flags & UV == 0 {
        return Err(WebAuthnError::UserNotVerified);
    }
    if data.flags & BS != 0 && data.flags & BE == 0 {
        return Err(WebAuthnError::Malformed(
            "backed up but not backup eligible",
        ));
    }
    Ok(())
}
