//! A software WebAuthn authenticator for the tests: it makes credentials (ES256, RS256 or
//! EdDSA) and answers `navigator.credentials.create/get` the way a browser and a platform
//! authenticator would, as the JSON that SimpleWebAuthn's browser library (and Logto's UI)
//! posts. Its CBOR is written here, independently of the provider's decoder.
#![allow(dead_code)]
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

/// A CBOR value, as much of RFC 8949 as WebAuthn uses.
pub enum Cbor {
    Int(i64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Cbor>),
    Map(Vec<(Cbor, Cbor)>),
}

fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend((n as u32).to_be_bytes());
        }
    }
}

impl Cbor {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Int(i) if *i >= 0 => head(out, 0, *i as u64),
            Cbor::Int(i) => head(out, 1, (-1 - *i) as u64),
            Cbor::Bytes(b) => {
                head(out, 2, b.len() as u64);
                out.extend(b);
            }
            Cbor::Text(t) => {
                head(out, 3, t.len() as u64);
                out.extend(t.as_bytes());
            }
            Cbor::Array(a) => {
                head(out, 4, a.len() as u64);
                a.iter().for_each(|v| v.write(out));
            }
            Cbor::Map(m) => {
                head(out, 5, m.len() as u64);
                for (k, v) in m {
                    k.write(out);
                    v.write(out);
                }
            }
        }
    }
}

fn text(s: &str) -> Cbor {
    Cbor::Text(s.into())
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Alg {
    Es256,
    Rs256,
    EdDsa,
}

pub enum Key {
    Es256(p256::ecdsa::SigningKey),
    Rs256(Box<rsa::RsaPrivateKey>),
    EdDsa(ed25519_dalek::SigningKey),
}

impl Key {
    pub fn new(alg: Alg) -> Key {
        use rand_core::OsRng;
        match alg {
            Alg::Es256 => Key::Es256(p256::ecdsa::SigningKey::random(&mut OsRng)),
            Alg::Rs256 => Key::Rs256(Box::new(rsa::RsaPrivateKey::new(&mut OsRng, 2048).unwrap())),
            Alg::EdDsa => {
                let mut seed = [0u8; 32];
                rand_core::RngCore::fill_bytes(&mut OsRng, &mut seed);
                Key::EdDsa(ed25519_dalek::SigningKey::from_bytes(&seed))
            }
        }
    }

    /// The COSE_Key of the public half.
    pub fn cose(&self) -> Vec<u8> {
        match self {
            Key::Es256(k) => {
                let p = k.verifying_key().to_encoded_point(false);
                Cbor::Map(vec![
                    (Cbor::Int(1), Cbor::Int(2)),
                    (Cbor::Int(3), Cbor::Int(-7)),
                    (Cbor::Int(-1), Cbor::Int(1)),
                    (Cbor::Int(-2), Cbor::Bytes(p.x().unwrap().to_vec())),
                    (Cbor::Int(-3), Cbor::Bytes(p.y().unwrap().to_vec())),
                ])
                .encode()
            }
            Key::Rs256(k) => {
                use rsa::traits::PublicKeyParts;
                Cbor::Map(vec![
                    (Cbor::Int(1), Cbor::Int(3)),
                    (Cbor::Int(3), Cbor::Int(-257)),
                    (Cbor::Int(-1), Cbor::Bytes(k.n().to_bytes_be())),
                    (Cbor::Int(-2), Cbor::Bytes(k.e().to_bytes_be())),
                ])
                .encode()
            }
            Key::EdDsa(k) => Cbor::Map(vec![
                (Cbor::Int(1), Cbor::Int(1)),
                (Cbor::Int(3), Cbor::Int(-8)),
                (Cbor::Int(-1), Cbor::Int(6)),
                (
                    Cbor::Int(-2),
                    Cbor::Bytes(k.verifying_key().to_bytes().to_vec()),
                ),
            ])
            .encode(),
        }
    }

    /// The signature WebAuthn carries: DER for ES256.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        use rsa::signature::{SignatureEncoding, Signer};
        match self {
            Key::Es256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            Key::Rs256(k) => {
                let sk = rsa::pkcs1v15::SigningKey::<Sha256>::new((**k).clone());
                sk.sign(message).to_vec()
            }
            Key::EdDsa(k) => k.sign(message).to_bytes().to_vec(),
        }
    }
}

/// One credential held by the authenticator.
pub struct Passkey {
    pub id: Vec<u8>,
    pub key: Key,
    pub user_handle: Vec<u8>,
    pub counter: u32,
}

/// How the authenticator and the browser behave; the defaults are an honest ceremony.
#[derive(Clone)]
pub struct Behaviour {
    pub origin: String,
    pub rp_id: Option<String>,
    pub user_verified: bool,
    pub fmt: &'static str,
    /// Packed self-attestation signed by another key than the credential's.
    pub forge_attestation: bool,
    /// The counter the next assertion reports, instead of one more.
    pub counter: Option<u32>,
}

impl Behaviour {
    pub fn at(origin: &str) -> Self {
        Behaviour {
            origin: origin.into(),
            rp_id: None,
            user_verified: true,
            fmt: "none",
            forge_attestation: false,
            counter: None,
        }
    }
}

fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false})
        .to_string()
        .into_bytes()
}

fn flags(b: &Behaviour, attested: bool) -> u8 {
    0x01 | if b.user_verified { 0x04 } else { 0 } | if attested { 0x40 } else { 0 }
}

/// `navigator.credentials.create` with the provider's `registrationOptions`: the new
/// passkey, and the JSON response to post.
pub fn create(options: &Value, alg: Alg, b: &Behaviour) -> (Passkey, Value) {
    let rp_id = b
        .rp_id
        .clone()
        .unwrap_or_else(|| options["rp"]["id"].as_str().unwrap().to_owned());
    let challenge = options["challenge"].as_str().unwrap();
    let key = Key::new(alg);
    let id: Vec<u8> = (0..16).map(|_| rand_byte()).collect();
    let mut auth = Sha256::digest(rp_id.as_bytes()).to_vec();
    auth.push(flags(b, true));
    auth.extend(0u32.to_be_bytes());
    auth.extend([0u8; 16]);
    auth.extend((id.len() as u16).to_be_bytes());
    auth.extend(&id);
    auth.extend(key.cose());
    let cd = client_data("webauthn.create", challenge, &b.origin);
    let forged = b.forge_attestation.then(|| Key::new(alg));
    let fmt = b.fmt;
    finish_create(options, key, id, auth, cd, b, |k, m| match fmt {
        "packed" => Cbor::Map(vec![
            (text("alg"), Cbor::Int(alg_id(alg))),
            (
                text("sig"),
                Cbor::Bytes(forged.as_ref().unwrap_or(k).sign(m)),
            ),
        ]),
        _ => Cbor::Map(vec![]),
    })
}

fn finish_create(
    options: &Value,
    key: Key,
    id: Vec<u8>,
    auth: Vec<u8>,
    cd: Vec<u8>,
    b: &Behaviour,
    statement: impl FnOnce(&Key, &[u8]) -> Cbor,
) -> (Passkey, Value) {
    let mut msg = auth.clone();
    msg.extend(Sha256::digest(&cd));
    let att = Cbor::Map(vec![
        (text("fmt"), text(b.fmt)),
        (text("attStmt"), statement(&key, &msg)),
        (text("authData"), Cbor::Bytes(auth)),
    ]);
    let user_handle = unb64(options["user"]["id"].as_str().unwrap());
    let response = json!({
        "id": b64(&id),
        "rawId": b64(&id),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64(&cd),
            "attestationObject": b64(&att.encode()),
            "transports": ["internal", "hybrid"],
        },
        "clientExtensionResults": {},
        "authenticatorAttachment": "platform",
    });
    (
        Passkey {
            id,
            key,
            user_handle,
            counter: 0,
        },
        response,
    )
}

fn alg_id(alg: Alg) -> i64 {
    match alg {
        Alg::Es256 => -7,
        Alg::Rs256 => -257,
        Alg::EdDsa => -8,
    }
}

fn rand_byte() -> u8 {
    let mut b = [0u8; 1];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    b[0]
}

/// `navigator.credentials.get` with the provider's `authenticationOptions`: the JSON
/// response to post (the counter moves on by one unless `b.counter` says otherwise).
pub fn get(options: &Value, passkey: &mut Passkey, b: &Behaviour) -> Value {
    let rp_id = b
        .rp_id
        .clone()
        .unwrap_or_else(|| options["rpId"].as_str().unwrap().to_owned());
    let challenge = options["challenge"].as_str().unwrap();
    passkey.counter = b.counter.unwrap_or(passkey.counter + 1);
    let mut auth = Sha256::digest(rp_id.as_bytes()).to_vec();
    auth.push(flags(b, false));
    auth.extend(passkey.counter.to_be_bytes());
    let cd = client_data("webauthn.get", challenge, &b.origin);
    let mut msg = auth.clone();
    msg.extend(Sha256::digest(&cd));
    json!({
        "id": b64(&passkey.id),
        "rawId": b64(&passkey.id),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64(&cd),
            "authenticatorData": b64(&auth),
            "signature": b64(&passkey.key.sign(&msg)),
            "userHandle": b64(&passkey.user_handle),
        },
        "clientExtensionResults": {},
        "authenticatorAttachment": "platform",
    })
}
