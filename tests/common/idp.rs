//! A provider's signing key and its ID tokens (ES256, as a JWS by hand).
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use serde_json::{json, Value};

pub struct Key(pub SigningKey);

impl Key {
    pub fn new() -> Self {
        Key(SigningKey::random(&mut rand_core::OsRng))
    }
    pub fn jwks(&self) -> Value {
        let p = self.0.verifying_key().to_encoded_point(false);
        let b = |x: &[u8]| URL_SAFE_NO_PAD.encode(x);
        json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
            "x": b(p.x().unwrap()), "y": b(p.y().unwrap())}]})
    }
    pub fn sign(&self, claims: &Value) -> String {
        let b = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let input = format!("{}.{}", b(&json!({"alg": "ES256", "kid": "k1"})), b(claims));
        let sig: Signature = self.0.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }
}
