//! Social sign-in connectors (Logto's `type: Social`): their configuration, checked when an
//! operator creates or changes one. A generic OpenID Connect provider (factory `oidc`) may be
//! given by its `issuer` alone: the endpoints come from its discovery document (OpenID
//! Connect Discovery 1.0 §4), whose `issuer` must be exactly the one given (§4.3).
//!
//! Invariant: a stored social connector names its provider's authorization, token and key
//! endpoints, each a URL the provider may call (`outbound::check_url`), and a target that
//! names the identity in users' `identities`.
use crate::outbound::{self, Http, HttpRequest};
use serde_json::{Map, Value};

pub mod oidc;
pub mod presets;
pub mod sso;

/// Logto's factory id of the generic OpenID Connect connector.
pub const OIDC: &str = "oidc";

/// Logto's factory id of the generic OAuth 2 connector.
pub const OAUTH2: &str = "oauth2";

/// The factories of social connectors.
pub fn is_social(connector_id: &str) -> bool {
    connector_id == OIDC || connector_id == OAUTH2 || presets::is_preset(connector_id)
}

/// A social connector's config, completed and checked for its factory (a preset filled in
/// as the generic connector it is).
pub async fn complete(http: &dyn Http, factory: &str, config: &Value) -> Result<Value, String> {
    if presets::is_preset(factory) {
        let (is_oidc, filled) = presets::expand(factory, config)?;
        // The generic checks, without the preset's own fields.
        let mut generic = filled.clone();
        if let Some(m) = generic.as_object_mut() {
            for k in ["tenantId", "teamId", "keyId", "privateKey", "responseMode"] {
                m.remove(k);
            }
        }
        if is_oidc {
            complete_oidc(http, &generic).await?;
        } else {
            complete_oauth2(&generic)?;
        }
        return Ok(filled);
    }
    if factory == OAUTH2 {
        complete_oauth2(config)
    } else {
        complete_oidc(http, config).await
    }
}

/// The config fields the `oauth2` factory takes (Logto's names).
const OAUTH2_FIELDS: &[&str] = &[
    "clientId",
    "clientSecret",
    "scope",
    "authorizationEndpoint",
    "tokenEndpoint",
    "userInfoEndpoint",
    "profileMap",
    "responseType",
    "tokenEndpointAuthMethod",
];

/// The client's fields both generic factories take: `clientId` (required), `clientSecret`,
/// `scope`, `responseType` (`code` only) and `tokenEndpointAuthMethod`.
fn client_fields(m: &Map<String, Value>) -> Result<(), String> {
    text(m, "clientId")?.ok_or("`clientId` is required")?;
    text(m, "clientSecret")?;
    text(m, "scope")?;
    if text(m, "responseType")?.is_some_and(|r| r != "code") {
        return Err("`responseType` must be `code`".into());
    }
    if text(m, "tokenEndpointAuthMethod")?
        .is_some_and(|a| a != "client_secret_post" && a != "client_secret_basic")
    {
        return Err(
            "`tokenEndpointAuthMethod` must be `client_secret_post` or `client_secret_basic`"
                .into(),
        );
    }
    Ok(())
}

/// An `oauth2` connector's config: the three endpoints, and `profileMap` (`id`, `email`,
/// `name`, `avatar`: dot paths into the user info's JSON; `id` by default).
fn complete_oauth2(config: &Value) -> Result<Value, String> {
    let mut m = config
        .as_object()
        .cloned()
        .ok_or("`config` must be an object")?;
    if let Some(k) = m.keys().find(|k| !OAUTH2_FIELDS.contains(&k.as_str())) {
        return Err(format!("unknown config field `{k}`"));
    }
    client_fields(&m)?;
    for k in ["authorizationEndpoint", "tokenEndpoint", "userInfoEndpoint"] {
        endpoint(&m, k)?.ok_or_else(|| format!("`{k}` is required"))?;
    }
    let mut map = match m.get("profileMap") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => return Err("`profileMap` must be an object".into()),
    };
    if let Some(k) = map
        .keys()
        .find(|k| !["id", "email", "name", "avatar"].contains(&k.as_str()))
    {
        return Err(format!("unknown `profileMap` field `{k}`"));
    }
    for k in ["id", "email", "name", "avatar"] {
        if text(&map, k)?.is_none() {
            map.insert(k.into(), crate::jv!(k));
        }
    }
    m.insert("profileMap".into(), Value::Object(map));
    Ok(Value::Object(m))
}

/// The config fields the `oidc` factory takes (Logto's names).
const OIDC_FIELDS: &[&str] = &[
    "clientId",
    "clientSecret",
    "scope",
    "issuer",
    "authorizationEndpoint",
    "tokenEndpoint",
    "userInfoEndpoint",
    "idTokenVerificationConfig",
    "responseType",
    "tokenEndpointAuthMethod",
];

/// Config fields whose change moves where the client secret goes: changing one needs the
/// secret again.
pub const SECRET_DESTINATIONS: &[&str] = &["issuer", "tokenEndpoint", "userInfoEndpoint"];

fn text<'a>(m: &'a Map<String, Value>, k: &str) -> Result<Option<&'a str>, String> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.as_str())),
        Some(_) => Err(format!("`{k}` must be a non-empty string")),
    }
}

fn endpoint(m: &Map<String, Value>, k: &str) -> Result<Option<String>, String> {
    match text(m, k)? {
        Some(u) => {
            outbound::check_url(u).map_err(|e| format!("`{k}`: {e}"))?;
            Ok(Some(u.to_owned()))
        }
        None => Ok(None),
    }
}

/// An `oidc` connector's config, completed: checked field by field, and with only `issuer`
/// given, the endpoints read from the provider's discovery document.
pub async fn complete_oidc(http: &dyn Http, config: &Value) -> Result<Value, String> {
    let mut m = config
        .as_object()
        .cloned()
        .ok_or("`config` must be an object")?;
    if let Some(k) = m.keys().find(|k| !OIDC_FIELDS.contains(&k.as_str())) {
        return Err(format!("unknown config field `{k}`"));
    }
    client_fields(&m)?;
    let verification = match m.get("idTokenVerificationConfig") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(v)) => v.clone(),
        Some(_) => return Err("`idTokenVerificationConfig` must be an object".into()),
    };
    let issuer = endpoint(&m, "issuer")?;
    let mut jwks = endpoint(&verification, "jwksUri")?;
    let mut id_issuer = text(&verification, "issuer")?.map(str::to_owned);
    let missing = endpoint(&m, "authorizationEndpoint")?.is_none()
        || endpoint(&m, "tokenEndpoint")?.is_none()
        || jwks.is_none();
    if missing {
        let Some(issuer) = &issuer else {
            return Err("give `issuer`, or `authorizationEndpoint`, `tokenEndpoint` and `idTokenVerificationConfig.jwksUri`".into());
        };
        let doc = discover(http, issuer).await?;
        for (ours, theirs) in [
            ("authorizationEndpoint", "authorization_endpoint"),
            ("tokenEndpoint", "token_endpoint"),
            ("userInfoEndpoint", "userinfo_endpoint"),
        ] {
            if endpoint(&m, ours)?.is_none() {
                if let Some(u) = endpoint(&doc, theirs)? {
                    m.insert(ours.into(), crate::jv!(u));
                }
            }
        }
        if jwks.is_none() {
            jwks = endpoint(&doc, "jwks_uri")?;
        }
        id_issuer.get_or_insert_with(|| issuer.clone());
    }
    endpoint(&m, "authorizationEndpoint")?.ok_or("`authorizationEndpoint` is required")?;
    endpoint(&m, "tokenEndpoint")?.ok_or("`tokenEndpoint` is required")?;
    endpoint(&m, "userInfoEndpoint")?;
    let jwks = jwks.ok_or("`idTokenVerificationConfig.jwksUri` is required")?;
    let mut v = Map::new();
    v.insert("jwksUri".into(), crate::jv!(jwks));
    if let Some(i) = id_issuer.or(issuer) {
        v.insert("issuer".into(), crate::jv!(i));
    }
    m.insert("idTokenVerificationConfig".into(), Value::Object(v));
    if text(&m, "scope")?.is_none() {
        m.insert("scope".into(), crate::jv!("openid profile email"));
    }
    Ok(Value::Object(m))
}

/// The provider's discovery document, whose `issuer` must be `issuer` exactly.
async fn discover(http: &dyn Http, issuer: &str) -> Result<Map<String, Value>, String> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let doc = outbound::fetch_json(http, &HttpRequest::get(&url))
        .await
        .map_err(|e| format!("discovery failed: {e}"))?;
    let said = doc
        .get("issuer")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if said != issuer {
        return Err(format!(
            "the discovery document names issuer `{said}`, not `{issuer}`"
        ));
    }
    Ok(doc)
}

/// A social connector's `metadata`, checked: `target` (required: the identity's name in
/// users' `identities`, letters, digits, `-` and `_`), and optional `name` (a string or
/// Logto's per-language object) and `logo` (a URL).
pub fn check_metadata(metadata: &Value) -> Result<(String, Value), String> {
    let m = metadata.as_object().ok_or("`metadata` must be an object")?;
    if let Some(k) = m
        .keys()
        .find(|k| !["target", "name", "logo", "logoDark"].contains(&k.as_str()))
    {
        return Err(format!("unknown metadata field `{k}`"));
    }
    let target = text(m, "target")?.ok_or("`metadata.target` is required")?;
    let ok = target.len() <= 64
        && target
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err("`metadata.target` must be up to 64 letters, digits, `-` or `_`".into());
    }
    match m.get("name") {
        None | Some(Value::Null | Value::String(_)) => {}
        Some(Value::Object(o)) if o.values().all(Value::is_string) => {}
        Some(_) => return Err("`metadata.name` must be a string or an object of strings".into()),
    }
    for k in ["logo", "logoDark"] {
        if let Some(u) = text(m, k)? {
            crate::uri::Uri::parse(u).ok_or_else(|| format!("`metadata.{k}` must be a URL"))?;
        }
    }
    Ok((target.to_owned(), metadata.clone()))
}
