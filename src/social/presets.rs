//! Presets: Logto's connector ids for Google, GitHub, Microsoft (Entra ID) and Apple, each
//! filled in as a generic `oidc` or `oauth2` connector from the few fields the provider's
//! console gives. Apple answers by `form_post` and takes as client secret a short-lived ES256
//! JWT signed with the team's key (Sign in with Apple REST API, "Creating a client secret").
//!
//! Invariant: a preset's endpoints and issuer are the provider's published ones; only the
//! fields named here come from the operator.
use serde_json::{Map, Value};

pub const GOOGLE: &str = "google-universal";
pub const GITHUB: &str = "github-universal";
pub const MICROSOFT: &str = "azuread";
pub const APPLE: &str = "apple-universal";

/// Whether `factory` is a preset.
pub fn is_preset(factory: &str) -> bool {
    [GOOGLE, GITHUB, MICROSOFT, APPLE].contains(&factory)
}

/// Apple's issuer, and the audience of the client secret JWT.
pub const APPLE_ISSUER: &str = "https://appleid.apple.com";

fn take(m: &Map<String, Value>, k: &str) -> Result<Option<String>, String> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(format!("`{k}` must be a non-empty string")),
    }
}

fn need(m: &Map<String, Value>, k: &str) -> Result<String, String> {
    take(m, k)?.ok_or_else(|| format!("`{k}` is required"))
}

/// The preset's config as a generic connector's: `(is OpenID Connect, config)`. A config
/// stored earlier (already expanded) expands to itself.
pub fn expand(factory: &str, config: &Value) -> Result<(bool, Value), String> {
    let m = config.as_object().ok_or("`config` must be an object")?;
    let allowed: &[&str] = match factory {
        GOOGLE | GITHUB => &["clientId", "clientSecret", "scope"],
        MICROSOFT => &["clientId", "clientSecret", "scope", "tenantId"],
        _ => &["clientId", "scope", "teamId", "keyId", "privateKey"],
    };
    let expanded = [
        "authorizationEndpoint",
        "tokenEndpoint",
        "userInfoEndpoint",
        "idTokenVerificationConfig",
        "profileMap",
        "responseMode",
    ];
    if let Some(k) = m
        .keys()
        .find(|k| !allowed.contains(&k.as_str()) && !expanded.contains(&k.as_str()))
    {
        return Err(format!("unknown config field `{k}`"));
    }
    // Inserted one by one: `collect` into a map links a sort per iterator type.
    let mut out = Map::new();
    for k in allowed {
        if let Some(v) = m.get(*k) {
            out.insert((*k).to_owned(), v.clone());
        }
    }
    need(m, "clientId")?;
    let oidc = |scope: &str, auth: &str, token: &str, jwks: &str, issuer: &str| {
        let mut f = Map::new();
        f.insert("scope".into(), crate::jv!(scope));
        f.insert("authorizationEndpoint".into(), crate::jv!(auth));
        f.insert("tokenEndpoint".into(), crate::jv!(token));
        f.insert(
            "idTokenVerificationConfig".into(),
            crate::jv!({"jwksUri": jwks, "issuer": issuer}),
        );
        f
    };
    let (is_oidc, filled) = match factory {
        GOOGLE => {
            need(m, "clientSecret")?;
            let mut f = oidc(
                "openid profile email",
                "https://accounts.google.com/o/oauth2/v2/auth",
                "https://oauth2.googleapis.com/token",
                "https://www.googleapis.com/oauth2/v3/certs",
                "https://accounts.google.com",
            );
            f.insert(
                "userInfoEndpoint".into(),
                crate::jv!("https://openidconnect.googleapis.com/v1/userinfo"),
            );
            (true, f)
        }
        GITHUB => {
            need(m, "clientSecret")?;
            let f = crate::jv!({
                "scope": "read:user user:email",
                "authorizationEndpoint": "https://github.com/login/oauth/authorize",
                "tokenEndpoint": "https://github.com/login/oauth/access_token",
                "userInfoEndpoint": "https://api.github.com/user",
                "profileMap": {"id": "id", "email": "email", "name": "name", "avatar": "avatar_url"},
            });
            (false, f.as_object().cloned().unwrap_or_default())
        }
        MICROSOFT => {
            need(m, "clientSecret")?;
            let tenant = need(m, "tenantId")?;
            // A multi-tenant alias has no one issuer to check the ID token against.
            let ok = !["common", "organizations", "consumers"].contains(&tenant.as_str())
                && tenant
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
            if !ok {
                return Err("`tenantId` must be the directory's own id or domain (not `common`, `organizations` or `consumers`)".into());
            }
            let base = format!("https://login.microsoftonline.com/{tenant}");
            (
                true,
                oidc(
                    "openid profile email",
                    &format!("{base}/oauth2/v2.0/authorize"),
                    &format!("{base}/oauth2/v2.0/token"),
                    &format!("{base}/discovery/v2.0/keys"),
                    &format!("{base}/v2.0"),
                ),
            )
        }
        _ => {
            need(m, "teamId")?;
            need(m, "keyId")?;
            apple_key(&need(m, "privateKey")?)?;
            let mut f = oidc(
                "name email",
                "https://appleid.apple.com/auth/authorize",
                "https://appleid.apple.com/auth/token",
                "https://appleid.apple.com/auth/keys",
                APPLE_ISSUER,
            );
            f.insert("responseMode".into(), crate::jv!("form_post"));
            (true, f)
        }
    };
    for (k, v) in filled {
        // The operator's scope, if given, replaces the preset's.
        out.entry(k).or_insert(v);
    }
    Ok((is_oidc, Value::Object(out)))
}

/// A P-256 key: the private scalar `d` and the public point `(x, y)`.
pub type P256Key = ([u8; 32], [u8; 32], [u8; 32]);

/// The P-256 key of an Apple `.p8` file (PKCS #8, PEM): the private scalar and the public
/// point `(x, y)`, which the file carries.
pub fn apple_key(pem: &str) -> Result<P256Key, String> {
    let bad = || "`privateKey` must be the PEM of an Apple .p8 key (PKCS #8, P-256)".to_owned();
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let der = crate::crypto::base64::std_decode(body.trim()).ok_or_else(bad)?;
    // ECPrivateKey (RFC 5915): version 1, then the 32-byte key as an OCTET STRING; the
    // public key, when present, as a BIT STRING of the uncompressed point.
    let find = |pat: &[u8]| der.windows(pat.len()).position(|w| w == pat);
    let d_at = find(&[0x02, 0x01, 0x01, 0x04, 0x20]).ok_or_else(bad)? + 5;
    let q_at = find(&[0x03, 0x42, 0x00, 0x04]).ok_or_else(bad)? + 4;
    let part = |at: usize| -> Result<[u8; 32], String> {
        der.get(at..at + 32)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(bad)
    };
    Ok((part(d_at)?, part(q_at)?, part(q_at + 32)?))
}
