//! The platform's cryptography through the runtime's WebCrypto (`crypto.subtle`): native
//! code in workerd, where curve and cipher arithmetic would run as WebAssembly. Private keys
//! are imported once per isolate as non-extractable `CryptoKey`s and kept by key id; public
//! keys and the key-sealing key likewise.
use crate::cache::SmallMap;
use crate::crypto::b64url;
use crate::crypto::keys::{ActiveKey, Jwk};
use crate::crypto::provider::{Aead, KeyPair, LocalFuture, PlatformCrypto, PublicKey};
use crate::crypto::CryptoError;
use js_sys::{Array, Object, Reflect, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Imported keys kept at most this many of each kind (a handful in practice: the current
/// and previous signing keys).
const MAX_KEYS: usize = 16;

thread_local! {
    static PRIVATE: RefCell<SmallMap<JsValue>> = RefCell::new(SmallMap::default());
    static PUBLIC: RefCell<SmallMap<JsValue>> = RefCell::new(SmallMap::default());
    static SEALING: RefCell<SmallMap<JsValue>> = RefCell::new(SmallMap::default());
}

pub struct WebCrypto;

fn op(e: JsValue) -> CryptoError {
    CryptoError::Operation(format!("WebCrypto: {}", super::js::message(&e)))
}

fn set(o: &Object, k: &str, v: &JsValue) -> Result<(), CryptoError> {
    Reflect::set(o, &JsValue::from_str(k), v)
        .map(|_| ())
        .map_err(op)
}

fn subtle() -> Result<Object, CryptoError> {
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto")).map_err(op)?;
    Reflect::get(&crypto, &JsValue::from_str("subtle"))
        .map_err(op)?
        .dyn_into::<Object>()
        .map_err(op)
}

/// Calls `crypto.subtle[method](...args)` and awaits the promise.
async fn call(method: &str, args: &[JsValue]) -> Result<JsValue, CryptoError> {
    let subtle = subtle()?;
    let f = Reflect::get(&subtle, &JsValue::from_str(method))
        .map_err(op)?
        .dyn_into::<js_sys::Function>()
        .map_err(op)?;
    let args: Array = args.iter().collect();
    let promise = f
        .apply(&subtle, &args)
        .map_err(op)?
        .dyn_into::<js_sys::Promise>()
        .map_err(op)?;
    JsFuture::from(promise).await.map_err(op)
}

fn ec_params() -> Result<Object, CryptoError> {
    let p = Object::new();
    set(&p, "name", &"ECDSA".into())?;
    set(&p, "namedCurve", &"P-256".into())?;
    Ok(p)
}

fn sign_params() -> Result<Object, CryptoError> {
    let p = Object::new();
    set(&p, "name", &"ECDSA".into())?;
    set(&p, "hash", &"SHA-256".into())?;
    Ok(p)
}

fn jwk(x: &str, y: &str, d: Option<&str>) -> Result<Object, CryptoError> {
    let j = Object::new();
    set(&j, "kty", &"EC".into())?;
    set(&j, "crv", &"P-256".into())?;
    set(&j, "x", &x.into())?;
    set(&j, "y", &y.into())?;
    if let Some(d) = d {
        set(&j, "d", &d.into())?;
    }
    Ok(j)
}

async fn import(jwk: Object, usage: &str) -> Result<JsValue, CryptoError> {
    import_as(jwk, ec_params()?, usage).await
}

async fn import_as(jwk: Object, params: Object, usage: &str) -> Result<JsValue, CryptoError> {
    let usages: Array = std::iter::once(JsValue::from_str(usage)).collect();
    call(
        "importKey",
        &[
            "jwk".into(),
            jwk.into(),
            params.into(),
            false.into(),
            usages.into(),
        ],
    )
    .await
}

/// `crypto.subtle.verify`: whether `signature` is `key`'s over `message`.
async fn verify_with(
    params: Object,
    key: JsValue,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    let ok = call(
        "verify",
        &[
            params.into(),
            key,
            Uint8Array::from(signature).into(),
            Uint8Array::from(message).into(),
        ],
    )
    .await?;
    Ok(ok.as_bool() == Some(true))
}

/// A WebAuthn public key as a JWK, with its import and verify parameters.
fn webauthn_key(key: &PublicKey) -> Result<(Object, Object, Object), CryptoError> {
    let j = Object::new();
    let import = Object::new();
    let verify = Object::new();
    match key {
        PublicKey::Es256 { x, y } => {
            return Ok((
                jwk(&b64url(x), &b64url(y), None)?,
                ec_params()?,
                sign_params()?,
            ));
        }
        PublicKey::Rs256 { n, e } => {
            set(&j, "kty", &"RSA".into())?;
            set(&j, "n", &b64url(n).into())?;
            set(&j, "e", &b64url(e).into())?;
            set(&import, "name", &"RSASSA-PKCS1-v1_5".into())?;
            set(&import, "hash", &"SHA-256".into())?;
            set(&verify, "name", &"RSASSA-PKCS1-v1_5".into())?;
        }
        PublicKey::EdDsa { x } => {
            set(&j, "kty", &"OKP".into())?;
            set(&j, "crv", &"Ed25519".into())?;
            set(&j, "x", &b64url(x).into())?;
            set(&import, "name", &"Ed25519".into())?;
            set(&verify, "name", &"Ed25519".into())?;
        }
    }
    Ok((j, import, verify))
}

fn remember(
    map: &'static std::thread::LocalKey<RefCell<SmallMap<JsValue>>>,
    id: String,
    key: JsValue,
) {
    map.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= MAX_KEYS {
            m.clear();
        }
        m.insert(id, key);
    });
}

fn bytes(v: &JsValue) -> Vec<u8> {
    Uint8Array::new(v).to_vec()
}

fn field(o: &JsValue, k: &str) -> Result<[u8; 32], CryptoError> {
    let s = Reflect::get(o, &JsValue::from_str(k))
        .map_err(op)?
        .as_string()
        .ok_or_else(|| CryptoError::Operation(format!("WebCrypto JWK lacks {k}")))?;
    crate::crypto::base64::url_decode(&s)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| CryptoError::Operation(format!("WebCrypto JWK {k} is malformed")))
}

/// The AES-GCM `CryptoKey` for `key`, imported once.
async fn aes_key(key: &[u8; 32]) -> Result<JsValue, CryptoError> {
    let id = crate::crypto::secret::hash(&b64url(key));
    if let Some(k) = SEALING.with(|m| m.borrow().get(&id).cloned()) {
        return Ok(k);
    }
    let usages: Array = ["encrypt", "decrypt"]
        .iter()
        .map(|u| JsValue::from_str(u))
        .collect();
    let algorithm = Object::new();
    set(&algorithm, "name", &"AES-GCM".into())?;
    let k = call(
        "importKey",
        &[
            "raw".into(),
            Uint8Array::from(&key[..]).into(),
            algorithm.into(),
            false.into(),
            usages.into(),
        ],
    )
    .await?;
    remember(&SEALING, id, k.clone());
    Ok(k)
}

async fn aes(method: &str, aead: Aead<'_>, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let key = aes_key(aead.key).await?;
    let params = Object::new();
    set(&params, "name", &"AES-GCM".into())?;
    set(&params, "iv", &Uint8Array::from(&aead.nonce[..]).into())?;
    set(
        &params,
        "additionalData",
        &Uint8Array::from(aead.aad).into(),
    )?;
    let out = call(method, &[params.into(), key, Uint8Array::from(data).into()]).await?;
    Ok(bytes(&out))
}

impl PlatformCrypto for WebCrypto {
    fn name(&self) -> &'static str {
        "WebCrypto (crypto.subtle)"
    }

    fn seal<'a>(
        &'a self,
        aead: Aead<'a>,
        plaintext: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>> {
        Box::pin(aes("encrypt", aead, plaintext))
    }

    fn open<'a>(
        &'a self,
        aead: Aead<'a>,
        ciphertext: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>> {
        Box::pin(aes("decrypt", aead, ciphertext))
    }

    fn generate(&self) -> LocalFuture<'_, Result<KeyPair, CryptoError>> {
        Box::pin(async {
            let usages: Array = ["sign", "verify"]
                .iter()
                .map(|u| JsValue::from_str(u))
                .collect();
            // Extractable once, to seal the private part for D1; signing imports it again
            // as non-extractable.
            let pair = call(
                "generateKey",
                &[ec_params()?.into(), true.into(), usages.into()],
            )
            .await?;
            let private = Reflect::get(&pair, &JsValue::from_str("privateKey")).map_err(op)?;
            let exported = call("exportKey", &["jwk".into(), private]).await?;
            Ok(KeyPair {
                d: field(&exported, "d")?,
                x: field(&exported, "x")?,
                y: field(&exported, "y")?,
            })
        })
    }

    fn sign<'a>(
        &'a self,
        key: &'a ActiveKey,
        message: &'a [u8],
    ) -> LocalFuture<'a, Result<Vec<u8>, CryptoError>> {
        Box::pin(async move {
            // By id and public point: a reused id with another key is another entry.
            let id = format!("{}.{}.{}", key.kid, key.public.x, key.public.y);
            let cached = PRIVATE.with(|m| m.borrow().get(&id).cloned());
            let crypto_key = match cached {
                Some(k) => k,
                None => {
                    let k = import(
                        jwk(&key.public.x, &key.public.y, Some(&b64url(key.secret())))?,
                        "sign",
                    )
                    .await?;
                    remember(&PRIVATE, id, k.clone());
                    k
                }
            };
            let data = Uint8Array::from(message);
            let sig = call("sign", &[sign_params()?.into(), crypto_key, data.into()]).await?;
            Ok(bytes(&sig))
        })
    }

    fn verify<'a>(
        &'a self,
        key: &'a Jwk,
        message: &'a [u8],
        signature: &'a [u8],
    ) -> LocalFuture<'a, Result<bool, CryptoError>> {
        Box::pin(async move {
            if signature.len() != 64 {
                return Ok(false);
            }
            let id = format!("{}.{}.{}", key.kid, key.x, key.y);
            let cached = PUBLIC.with(|m| m.borrow().get(&id).cloned());
            let crypto_key = match cached {
                Some(k) => k,
                None => {
                    let k = import(jwk(&key.x, &key.y, None)?, "verify").await?;
                    remember(&PUBLIC, id, k.clone());
                    k
                }
            };
            verify_with(sign_params()?, crypto_key, message, signature).await
        })
    }

    fn verify_key<'a>(
        &'a self,
        key: &'a PublicKey,
        message: &'a [u8],
        signature: &'a [u8],
    ) -> LocalFuture<'a, Result<bool, CryptoError>> {
        Box::pin(async move {
            let (jwk, import, verify) = webauthn_key(key)?;
            let crypto_key = import_as(jwk, import, "verify").await?;
            verify_with(verify, crypto_key, message, signature).await
        })
    }
}
