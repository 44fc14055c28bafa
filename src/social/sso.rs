//! Enterprise SSO connectors (Logto's `/api/sso-connectors`): the provider names, the
//! OpenID Connect config (completed from the provider's discovery document, as a social
//! connector's is), and the email domains that route users to a connector.
//!
//! Invariant: a stored SSO connector is an OpenID Connect provider whose endpoints passed
//! `outbound::check_url` and whose ID tokens name one issuer, or a SAML IdP with one entity
//! id and certificate (`saml::sp`): that issuer or entity id is the key of its users'
//! identities; its domains are lower-case host names, none a public mail provider's.
use crate::outbound::Http;
use serde_json::Value;

/// The type of SSO connectors in the connectors table.
pub const TYPE: &str = "Sso";

/// Why a provider name is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderError {
    /// Not one of Logto's provider names.
    Unknown,
}

/// Logto's provider names; `GoogleWorkspace` has a fixed issuer.
pub fn check_provider(name: &str) -> Result<Option<&'static str>, ProviderError> {
    match name {
        "OIDC" | "Okta" | "AzureAdOidc" => Ok(None),
        "GoogleWorkspace" => Ok(Some("https://accounts.google.com")),
        "SAML" | "AzureAD" => Ok(None),
        _ => Err(ProviderError::Unknown),
    }
}

/// Mail domains that belong to everyone: an SSO connector cannot own them (Logto's
/// `single_sign_on.forbidden_domains`).
const PUBLIC_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.de",
    "web.de",
    "yandex.com",
    "mail.com",
    "qq.com",
    "163.com",
];

/// Why a list of domains is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainError {
    Invalid(String),
    /// Public mail domains (Logto's `single_sign_on.forbidden_domains`).
    Forbidden(Vec<String>),
    /// Named twice (Logto's `single_sign_on.duplicated_domains`).
    Duplicated(Vec<String>),
}

/// The domains, lower-cased and checked: host names of letters, digits, `-` and dots.
pub fn check_domains(domains: &[String]) -> Result<Vec<String>, DomainError> {
    let mut out: Vec<String> = Vec::with_capacity(domains.len());
    let mut twice = Vec::new();
    for d in domains {
        let d = d.trim().to_ascii_lowercase();
        let ok = d.len() <= 253
            && d.contains('.')
            && d.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !ok {
            return Err(DomainError::Invalid(d));
        }
        if out.contains(&d) {
            twice.push(d);
        } else {
            out.push(d);
        }
    }
    if !twice.is_empty() {
        return Err(DomainError::Duplicated(twice));
    }
    let forbidden: Vec<String> = out
        .iter()
        .filter(|d| PUBLIC_DOMAINS.contains(&d.as_str()))
        .cloned()
        .collect();
    if !forbidden.is_empty() {
        return Err(DomainError::Forbidden(forbidden));
    }
    Ok(out)
}

/// The domain of an email address, lower-cased.
pub fn domain_of(email: &str) -> Option<String> {
    let (_, d) = email.trim().rsplit_once('@')?;
    (!d.is_empty()).then(|| d.to_ascii_lowercase())
}

/// An SSO connector's config (Logto's `{clientId, clientSecret, issuer, scope?,
/// trustUnverifiedEmail?}`), completed from discovery; `openid profile email` are always
/// asked for.
pub async fn complete_config(
    http: &dyn Http,
    fixed_issuer: Option<&str>,
    config: &Value,
) -> Result<Value, String> {
    let mut m = config
        .as_object()
        .cloned()
        .ok_or("`config` must be an object")?;
    let trust = match m.remove("trustUnverifiedEmail") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(_) => return Err("`trustUnverifiedEmail` must be a boolean".into()),
    };
    if let Some(i) = fixed_issuer {
        m.insert("issuer".into(), crate::jv!(i));
    }
    if m.get("issuer").and_then(Value::as_str).is_none() {
        return Err("`issuer` is required".into());
    }
    let mut scope: Vec<String> = ["openid", "profile", "email"].map(String::from).into();
    if let Some(s) = m.get("scope").and_then(Value::as_str) {
        for w in s.split_whitespace() {
            if !scope.iter().any(|x| x == w) {
                scope.push(w.to_owned());
            }
        }
    }
    m.insert("scope".into(), crate::jv!(scope.join(" ")));
    let mut done = super::complete_oidc(http, &Value::Object(m)).await?;
    if let Some(o) = done.as_object_mut() {
        o.insert("trustUnverifiedEmail".into(), crate::jv!(trust));
    }
    Ok(done)
}

/// Logto's SAML provider names (`AzureAD` is Entra ID's SAML).
pub fn is_saml_provider(name: &str) -> bool {
    matches!(name, "SAML" | "AzureAD")
}

/// The issuer an SSO connector's ID tokens (or a SAML IdP's assertions, its entity id)
/// name: its users' identities are keyed by it.
pub fn issuer_of(config: &serde_json::Map<String, Value>) -> Option<&str> {
    if crate::saml::sp::is_saml(config) {
        return config.get("entityId").and_then(Value::as_str);
    }
    config
        .get("idTokenVerificationConfig")
        .and_then(|v| v.get("issuer"))
        .and_then(Value::as_str)
}

/// The email domains of an SSO connector's stored metadata (none if it has none).
pub fn domains_of(metadata: &str) -> Vec<String> {
    domains_in(&crate::json::parse(metadata).unwrap_or(Value::Null))
}

/// The email domains of an SSO connector's metadata, parsed.
pub fn domains_in(m: &Value) -> Vec<String> {
    m.get("domains")
        .and_then(Value::as_array)
        .map(|d| {
            d.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_lower_cased_and_public_or_repeated_or_malformed_ones_refused() {
        let v = |d: &[&str]| d.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            check_domains(&v(&["Acme.COM", "eu.acme.com"])),
            Ok(v(&["acme.com", "eu.acme.com"]))
        );
        assert_eq!(
            check_domains(&v(&["acme.com", "gmail.com"])),
            Err(DomainError::Forbidden(v(&["gmail.com"])))
        );
        assert_eq!(
            check_domains(&v(&["acme.com", "ACME.com"])),
            Err(DomainError::Duplicated(v(&["acme.com"])))
        );
        for bad in ["acme", "-acme.com", "ac me.com", "acme..com", "a@acme.com"] {
            assert!(
                matches!(check_domains(&v(&[bad])), Err(DomainError::Invalid(_))),
                "{bad}"
            );
        }
        assert_eq!(domain_of("Ana@Acme.com"), Some("acme.com".into()));
        assert_eq!(domain_of("no-at-sign"), None);
    }
}
