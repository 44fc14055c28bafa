//! The relying party's side of OpenID Connect, against a social connector's provider: the
//! authorization URL (code flow with PKCE S256, `state` and `nonce`), the code exchanged at
//! the token endpoint, and the ID token checked (OpenID Connect Core 1.0 §3.1.3.7): its
//! signature by a key of the provider's JWKS (ES256, RS256 or EdDSA, through the platform's
//! crypto), `iss`, `aud`, `exp`, `iat` and `nonce`; then the user info, when the provider has
//! an endpoint for it, for the same subject.
//!
//! A plain OAuth 2 connector (factory `oauth2`, no `idTokenVerificationConfig`) has no ID
//! token: its identity is read from the user info endpoint with the access token the code
//! bought, through the connector's `profileMap`; its email is never taken as verified.
//!
//! Invariant: an identity comes only from an ID token that passed every check, or (OAuth 2)
//! from the connector's own user info endpoint called with a token its own token endpoint
//! gave for this sign-in's code; the endpoints and keys are only ever the connector's own.
use crate::cache::Cache;
use crate::crypto::base64::url_decode;
use crate::crypto::provider::{PlatformCrypto, PublicKey};
use crate::experience::state::SocialIdentity;
use crate::outbound::{self, Http, HttpRequest};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Clock skew allowed on `iat` and `exp` (seconds).
const SKEW: i64 = 300;

/// Why a provider's answer was refused (Logto's connector error codes).
#[derive(Debug, Clone, PartialEq)]
pub enum SocialError {
    /// The provider answered the authorization with an error (the user declined, …).
    Declined(String),
    /// The token endpoint refused the code.
    CodeRefused(String),
    /// The ID token failed a check.
    BadIdToken(String),
    /// The provider could not be reached, or answered nonsense.
    Provider(String),
    /// A SAML response failed a check (signature, parties, time, request, one-time use).
    BadAssertion(String),
}

impl std::fmt::Display for SocialError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SocialError::Declined(m)
            | SocialError::CodeRefused(m)
            | SocialError::BadIdToken(m)
            | SocialError::Provider(m)
            | SocialError::BadAssertion(m) => f.write_str(m),
        }
    }
}

fn text<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

/// The provider's authorization URL for this sign-in.
pub fn authorization_url(
    config: &Map<String, Value>,
    (state, nonce, verifier): (&str, &str, &str),
    redirect_uri: &str,
) -> Result<String, SocialError> {
    let endpoint = text(config, "authorizationEndpoint")
        .ok_or_else(|| SocialError::Provider("no authorizationEndpoint".into()))?;
    if crate::uri::Uri::parse(endpoint).is_none() {
        return Err(SocialError::Provider(
            "authorizationEndpoint is not a URL".into(),
        ));
    }
    let challenge = crate::crypto::b64url(&Sha256::digest(verifier.as_bytes()));
    let mut pairs = vec![
        ("client_id", text(config, "clientId").unwrap_or_default()),
        ("redirect_uri", redirect_uri),
        ("response_type", "code"),
        ("scope", text(config, "scope").unwrap_or_default()),
        ("state", state),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    if is_oidc(config) {
        pairs.push(("nonce", nonce));
    }
    if text(config, "responseMode") == Some("form_post") {
        pairs.push(("response_mode", "form_post"));
    }
    Ok(crate::uri::with_query(endpoint, pairs))
}

/// Exchanges `code` at the token endpoint and checks the ID token it brings; the identity
/// (with the user info, when the provider has an endpoint for it).
pub async fn finish(
    (http, cache): (&dyn Http, &Cache),
    crypto: &dyn PlatformCrypto,
    config: &Map<String, Value>,
    (code, verifier, nonce, redirect_uri): (&str, &str, &str, &str),
    now: i64,
) -> Result<SocialIdentity, SocialError> {
    let client_id = text(config, "clientId").unwrap_or_default();
    let apple_secret = match text(config, "privateKey") {
        Some(pem) => Some(apple_client_secret(crypto, config, pem, now).await?),
        None => None,
    };
    let secret = apple_secret
        .as_deref()
        .or_else(|| text(config, "clientSecret"))
        .unwrap_or_default();
    let token_endpoint = text(config, "tokenEndpoint")
        .ok_or_else(|| SocialError::Provider("no tokenEndpoint".into()))?;
    let basic = text(config, "tokenEndpointAuthMethod") == Some("client_secret_basic");
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
        ("client_id", client_id),
    ];
    if !basic && !secret.is_empty() {
        pairs.push(("client_secret", secret));
    }
    let mut req = HttpRequest::form(token_endpoint, &pairs);
    if basic {
        // RFC 6749 §2.3.1: each part form-encoded, then base64.
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let creds = crate::crypto::b64std(format!("{}:{}", enc(client_id), enc(secret)).as_bytes());
        req.headers
            .push(("authorization".into(), format!("Basic {creds}")));
    }
    let tokens = outbound::fetch_json(http, &req)
        .await
        .map_err(SocialError::CodeRefused)?;
    if !is_oidc(config) {
        return oauth2_identity(http, config, &tokens).await;
    }
    let id_token = text(&tokens, "id_token")
        .ok_or_else(|| SocialError::BadIdToken("the token response has no id_token".into()))?;
    let claims = check_id_token((http, cache), crypto, config, id_token, (nonce, now)).await?;
    let mut identity = identity_of(&claims)?;
    if let (Some(endpoint), Some(access)) = (
        text(config, "userInfoEndpoint"),
        text(&tokens, "access_token"),
    ) {
        let mut req = HttpRequest::get(endpoint);
        req.headers
            .push(("authorization".into(), format!("Bearer {access}")));
        let info = outbound::fetch_json(http, &req)
            .await
            .map_err(SocialError::Provider)?;
        // OpenID Connect Core §5.3.2: the user info is for the ID token's subject or not used.
        if text(&info, "sub") != Some(identity.id.as_str()) {
            return Err(SocialError::Provider(
                "the user info is for another subject than the ID token".into(),
            ));
        }
        let more = identity_of(&info)?;
        // An email and whether it was verified come together, from one answer.
        if identity.email.is_none() {
            identity.email = more.email;
            identity.email_verified = more.email_verified;
        }
        identity.phone = identity.phone.or(more.phone);
        identity.name = identity.name.or(more.name);
        identity.avatar = identity.avatar.or(more.avatar);
    }
    Ok(identity)
}

/// Apple's client secret: an ES256 JWT of the team (`iss`), for the client (`sub`), to
/// Apple (`aud`), signed with the team's key, valid five minutes.
async fn apple_client_secret(
    crypto: &dyn PlatformCrypto,
    config: &Map<String, Value>,
    pem: &str,
    now: i64,
) -> Result<String, SocialError> {
    use crate::crypto::keys::{ActiveKey, Jwk};
    let (d, x, y) = super::presets::apple_key(pem).map_err(SocialError::Provider)?;
    let kid = text(config, "keyId").unwrap_or_default();
    let public = Jwk {
        kty: "EC".into(),
        crv: "P-256".into(),
        x: crate::crypto::b64url(&x),
        y: crate::crypto::b64url(&y),
        kid: kid.to_owned(),
        alg: "ES256".into(),
        use_: "sig".into(),
    };
    let key = ActiveKey::new(kid, d, public);
    let claims = crate::jv!({
        "iss": text(config, "teamId").unwrap_or_default(),
        "sub": text(config, "clientId").unwrap_or_default(),
        "aud": super::presets::APPLE_ISSUER,
    });
    crate::crypto::jwt::sign(crypto, &key, None, now, now + 300, claims)
        .await
        .map_err(|e| SocialError::Provider(format!("cannot sign Apple's client secret: {e}")))
}

/// A provider's email address in its normal form, if it is one.
fn email(e: &str) -> Option<String> {
    crate::identity::address(crate::identity::Channel::Email, e).ok()
}

/// Whether the connector is OpenID Connect (it has keys for ID tokens), not plain OAuth 2.
fn is_oidc(config: &Map<String, Value>) -> bool {
    config.contains_key("idTokenVerificationConfig")
}

/// The value at a dot path (`data.user.id`) of a JSON answer, as text.
fn at_path(v: &Value, path: &str) -> Option<String> {
    let found = path.split('.').try_fold(v, |v, k| v.get(k))?;
    match found {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// OAuth 2: the user info, read with the access token, mapped by `profileMap`.
async fn oauth2_identity(
    http: &dyn Http,
    config: &Map<String, Value>,
    tokens: &Map<String, Value>,
) -> Result<SocialIdentity, SocialError> {
    let access = text(tokens, "access_token")
        .ok_or_else(|| SocialError::CodeRefused("the token response has no access_token".into()))?;
    let endpoint = text(config, "userInfoEndpoint")
        .ok_or_else(|| SocialError::Provider("no userInfoEndpoint".into()))?;
    let mut req = HttpRequest::get(endpoint);
    req.headers
        .push(("authorization".into(), format!("Bearer {access}")));
    let info = Value::Object(
        outbound::fetch_json(http, &req)
            .await
            .map_err(SocialError::Provider)?,
    );
    let map = config.get("profileMap").cloned().unwrap_or(Value::Null);
    let field = |k: &str, default: &str| {
        let path = map.get(k).and_then(Value::as_str).unwrap_or(default);
        at_path(&info, path)
    };
    let id = field("id", "id")
        .filter(|s| s.len() <= 255)
        .ok_or_else(|| SocialError::Provider("the user info has no id".into()))?;
    Ok(SocialIdentity {
        id,
        email: field("email", "email").as_deref().and_then(email),
        email_verified: false,
        phone: None,
        name: field("name", "name"),
        avatar: field("avatar", "avatar"),
    })
}

/// The identity claims of an ID token or a user info answer.
fn identity_of(c: &Map<String, Value>) -> Result<SocialIdentity, SocialError> {
    let id = text(c, "sub")
        .filter(|s| !s.is_empty() && s.len() <= 255)
        .ok_or_else(|| SocialError::BadIdToken("no subject".into()))?;
    let verified = match c.get("email_verified") {
        Some(Value::Bool(b)) => *b,
        // Some providers send it as a string.
        Some(Value::String(s)) => s == "true",
        _ => false,
    };
    Ok(SocialIdentity {
        id: id.to_owned(),
        email: text(c, "email").and_then(email),
        email_verified: verified,
        phone: text(c, "phone_number").map(str::to_owned),
        name: text(c, "name").map(str::to_owned),
        avatar: text(c, "picture").map(str::to_owned),
    })
}

fn segment(part: &str, what: &str) -> Result<Map<String, Value>, SocialError> {
    let bytes = url_decode(part)
        .ok_or_else(|| SocialError::BadIdToken(format!("the {what} is not base64url")))?;
    match crate::json::parse(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(SocialError::BadIdToken(format!(
            "the {what} is not a JSON object"
        ))),
    }
}

/// Checks an ID token (Core §3.1.3.7) and returns its claims.
async fn check_id_token(
    (http, cache): (&dyn Http, &Cache),
    crypto: &dyn PlatformCrypto,
    config: &Map<String, Value>,
    token: &str,
    (nonce, now): (&str, i64),
) -> Result<Map<String, Value>, SocialError> {
    let bad = |m: &str| SocialError::BadIdToken(m.to_owned());
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("not a compact JWS"));
    };
    let header = segment(h, "header")?;
    let claims = segment(p, "payload")?;
    let signature = url_decode(s).ok_or_else(|| bad("the signature is not base64url"))?;
    let alg = text(&header, "alg").unwrap_or_default();
    let verification = config
        .get("idTokenVerificationConfig")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let jwks_uri = text(&verification, "jwksUri").ok_or_else(|| bad("no jwksUri"))?;
    let signed = format!("{h}.{p}");
    let kid = text(&header, "kid");
    // The isolate's copy of the provider's keys first; when none of them verifies (a
    // rotation, or a forgery), the provider's current set, which replaces the copy.
    let cached = match cache.upstream_jwks(jwks_uri, now * 1000) {
        Some(jwks) => match pick_key(&jwks, kid, alg) {
            Some(key) => crypto
                .verify_key(&key, signed.as_bytes(), &signature)
                .await
                .unwrap_or(false),
            None => false,
        },
        None => false,
    };
    if !cached {
        let jwks = outbound::fetch_json(http, &HttpRequest::get(jwks_uri))
            .await
            .map_err(SocialError::Provider)?;
        let jwks = std::rc::Rc::new(jwks);
        cache.put_upstream_jwks(jwks_uri, jwks.clone(), now * 1000);
        let key = pick_key(&jwks, kid, alg)
            .ok_or_else(|| bad("no key of the provider's JWKS matches the token's kid and alg"))?;
        let ok = crypto
            .verify_key(&key, signed.as_bytes(), &signature)
            .await
            .map_err(|e| bad(&e.to_string()))?;
        if !ok {
            return Err(bad("the signature does not verify"));
        }
    }
    if let Some(issuer) = text(&verification, "issuer") {
        if text(&claims, "iss") != Some(issuer) {
            return Err(bad("iss is not the provider's issuer"));
        }
    }
    let client_id = text(config, "clientId").unwrap_or_default();
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !aud_ok {
        return Err(bad("aud does not name this client"));
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("no exp"))?;
    if exp + SKEW <= now {
        return Err(bad("the ID token has expired"));
    }
    if claims
        .get("iat")
        .and_then(Value::as_i64)
        .is_some_and(|iat| iat > now + SKEW)
    {
        return Err(bad("the ID token was issued in the future"));
    }
    if text(&claims, "nonce") != Some(nonce) {
        return Err(bad("nonce does not match this sign-in"));
    }
    Ok(claims)
}

/// The key of the JWKS that `kid` names (or the only one of the right type) for `alg`.
fn pick_key(jwks: &Map<String, Value>, kid: Option<&str>, alg: &str) -> Option<PublicKey> {
    let keys = jwks.get("keys")?.as_array()?;
    let candidates: Vec<&Map<String, Value>> = keys
        .iter()
        .filter_map(Value::as_object)
        .filter(|k| kid.is_none() || text(k, "kid") == kid)
        .filter(|k| text(k, "use").is_none_or(|u| u == "sig"))
        .filter(|k| text(k, "alg").is_none_or(|a| a == alg))
        .collect();
    let b = |k: &Map<String, Value>, f: &str| text(k, f).and_then(url_decode);
    let fixed = |v: Option<Vec<u8>>| v.and_then(|v| <[u8; 32]>::try_from(v).ok());
    candidates
        .iter()
        .find_map(|k| match (alg, text(k, "kty")?) {
            ("ES256", "EC") if text(k, "crv") == Some("P-256") => Some(PublicKey::Es256 {
                x: fixed(b(k, "x"))?,
                y: fixed(b(k, "y"))?,
            }),
            ("RS256", "RSA") => Some(PublicKey::Rs256 {
                n: b(k, "n")?,
                e: b(k, "e")?,
            }),
            ("EdDSA", "OKP") if text(k, "crv") == Some("Ed25519") => Some(PublicKey::EdDsa {
                x: fixed(b(k, "x"))?,
            }),
            _ => None,
        })
}
