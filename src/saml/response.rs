//! A SAML 2.0 `Response` at the assertion consumer service, checked as the Web Browser SSO
//! Profile says (saml-profiles-2.0-os §4.1.4.3) and read through the connector's attribute
//! mapping. `now` is passed in; the caller remembers the assertion's id until it expires
//! (one-time use, §4.1.4.5) and decides what the identity opens.
//!
//! Invariant: the identity comes only from the one `Assertion` child of the `Response`,
//! inside an element whose signature [`super::dsig::verify_enveloped`] checked (the assertion
//! itself, or the whole response), and only when every condition held: success status,
//! issuer, audience, recipient, the time window, and the request it answers (or none, for an
//! IdP-initiated response the caller allowed).
use super::dsig::{self, DsigError};
use crate::crypto::provider::{PlatformCrypto, PublicKey};
use roxmltree::Node;

pub const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// What the response must say.
pub struct Expected<'a> {
    /// The IdP's entity id (the assertion's `Issuer`).
    pub issuer: &'a str,
    /// This service provider's entity id (an `Audience`).
    pub audience: &'a str,
    /// The assertion consumer service URL (`Destination`, `Recipient`).
    pub acs_url: &'a str,
    /// The id of the `AuthnRequest` answered; `None` for an IdP-initiated response.
    pub in_response_to: Option<&'a str>,
    /// Unix seconds.
    pub now: i64,
}

/// Clock skew allowed on the time window (seconds).
pub const SKEW: i64 = 120;

/// Which attribute holds what (Logto's `attributeMapping`; `nameID` is the subject's NameID).
pub struct Mapping<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
}

impl Default for Mapping<'_> {
    fn default() -> Self {
        Mapping {
            id: "nameID",
            email: "email",
            name: "name",
        }
    }
}

/// Who the IdP says the user is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlIdentity {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// For one-time use: the assertion's id, and when it can be forgotten (Unix seconds).
    pub assertion_id: String,
    pub expires_at: i64,
}

/// Why a response is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SamlError {
    Malformed(String),
    /// The IdP did not authenticate the user (its status code).
    Status(String),
    Signature(DsigError),
    /// Issuer, audience, destination or recipient is not this connector's (which).
    WrongParty(&'static str),
    /// Outside its time window.
    Expired,
    NotYetValid,
    /// Not the answer to this sign-in's request (or unsolicited where that is not allowed).
    InResponseTo,
}

impl std::fmt::Display for SamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SamlError::Malformed(m) => write!(f, "malformed response: {m}"),
            SamlError::Status(s) => write!(f, "the IdP answered {s}"),
            SamlError::Signature(e) => write!(f, "{e}"),
            SamlError::WrongParty(what) => write!(f, "the {what} is not this connector's"),
            SamlError::Expired => f.write_str("the assertion has expired"),
            SamlError::NotYetValid => f.write_str("the assertion is not valid yet"),
            SamlError::InResponseTo => f.write_str("the response answers another request"),
        }
    }
}

fn malformed(m: &str) -> SamlError {
    SamlError::Malformed(m.to_owned())
}

fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| c.has_tag_name((ns, name)))
}

/// The element's text: all of it, and only if it holds nothing but text.
fn text(node: Option<Node<'_, '_>>) -> Option<String> {
    let node = node?;
    if !node.children().all(|c| c.is_text()) {
        return None;
    }
    let all: String = node.children().filter_map(|c| c.text()).collect();
    let t = all.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// An `xs:dateTime` in UTC (`2026-12-07T12:00:00Z`, fractions ignored) as Unix seconds.
pub fn parse_time(s: &str) -> Option<i64> {
    crate::clock::parse(s)
}

fn time_attr(node: Node<'_, '_>, name: &str) -> Result<Option<i64>, SamlError> {
    match node.attribute(name) {
        None => Ok(None),
        Some(v) => parse_time(v)
            .map(Some)
            .ok_or_else(|| malformed("a time is not an xs:dateTime in UTC")),
    }
}

/// Checks `xml` (the decoded `SAMLResponse`) against `expected` with the IdP's `key`.
pub async fn check(
    crypto: &dyn PlatformCrypto,
    xml: &str,
    key: &PublicKey,
    expected: &Expected<'_>,
    mapping: &Mapping<'_>,
) -> Result<SamlIdentity, SamlError> {
    let doc = super::parse(xml).map_err(SamlError::Malformed)?;
    // Canonicalization drops comments, so a comment is outside every signature: inside a
    // signed value (`admin@corp.com<!---->.evil.com`) it would change what is read without
    // breaking the signature. SAML messages have none; one is refused.
    if doc.descendants().any(|n| n.is_comment() || n.is_pi()) {
        return Err(malformed("a comment or processing instruction"));
    }
    let response = doc.root_element();
    if !response.has_tag_name((PROTOCOL, "Response")) {
        return Err(malformed("not a SAML Response"));
    }
    let status = child(response, PROTOCOL, "Status")
        .and_then(|s| child(s, PROTOCOL, "StatusCode"))
        .and_then(|c| c.attribute("Value"))
        .unwrap_or_default();
    if status != SUCCESS {
        return Err(SamlError::Status(status.to_owned()));
    }
    if response
        .attribute("Destination")
        .is_some_and(|d| d != expected.acs_url)
    {
        return Err(SamlError::WrongParty("destination"));
    }
    if response.attribute("InResponseTo") != expected.in_response_to {
        return Err(SamlError::InResponseTo);
    }
    let mut assertions = response
        .children()
        .filter(|c| c.has_tag_name((ASSERTION, "Assertion")));
    let (Some(assertion), None) = (assertions.next(), assertions.next()) else {
        return Err(malformed("a response must carry exactly one Assertion"));
    };
    // The assertion's own signature, or the whole response's.
    match dsig::verify_enveloped(crypto, xml, assertion, key).await {
        Ok(()) => {}
        Err(DsigError::Unsigned) => dsig::verify_enveloped(crypto, xml, response, key)
            .await
            .map_err(SamlError::Signature)?,
        Err(e) => return Err(SamlError::Signature(e)),
    }
    if text(child(assertion, ASSERTION, "Issuer")).as_deref() != Some(expected.issuer) {
        return Err(SamlError::WrongParty("issuer"));
    }
    let now = expected.now;
    let conditions =
        child(assertion, ASSERTION, "Conditions").ok_or_else(|| malformed("no Conditions"))?;
    if time_attr(conditions, "NotBefore")?.is_some_and(|t| now + SKEW < t) {
        return Err(SamlError::NotYetValid);
    }
    let until = time_attr(conditions, "NotOnOrAfter")?;
    if until.is_some_and(|t| now - SKEW >= t) {
        return Err(SamlError::Expired);
    }
    let audiences: Vec<String> = conditions
        .children()
        .filter(|c| c.has_tag_name((ASSERTION, "AudienceRestriction")))
        .flat_map(|r| r.children())
        .filter(|a| a.has_tag_name((ASSERTION, "Audience")))
        .filter_map(|a| text(Some(a)))
        .collect();
    if !audiences.iter().any(|a| a == expected.audience) {
        return Err(SamlError::WrongParty("audience"));
    }
    let subject = child(assertion, ASSERTION, "Subject").ok_or_else(|| malformed("no Subject"))?;
    // A bearer confirmation for this ACS, unexpired, answering this request.
    let mut confirmed = None;
    for c in subject
        .children()
        .filter(|c| c.has_tag_name((ASSERTION, "SubjectConfirmation")))
        .filter(|c| c.attribute("Method") == Some(BEARER))
    {
        let Some(data) = child(c, ASSERTION, "SubjectConfirmationData") else {
            continue;
        };
        if data.attribute("Recipient") != Some(expected.acs_url) {
            return Err(SamlError::WrongParty("recipient"));
        }
        let expires = time_attr(data, "NotOnOrAfter")?
            .ok_or_else(|| malformed("a bearer confirmation needs NotOnOrAfter"))?;
        if now - SKEW >= expires {
            return Err(SamlError::Expired);
        }
        if data.attribute("InResponseTo") != expected.in_response_to {
            return Err(SamlError::InResponseTo);
        }
        confirmed = Some(expires);
    }
    let confirmed = confirmed.ok_or_else(|| malformed("no bearer SubjectConfirmation"))?;
    let name_id = text(child(subject, ASSERTION, "NameID"));
    let attribute = |name: &str| -> Option<String> {
        if name == "nameID" {
            return name_id.clone();
        }
        assertion
            .children()
            .filter(|s| s.has_tag_name((ASSERTION, "AttributeStatement")))
            .flat_map(|s| s.children())
            .filter(|a| a.has_tag_name((ASSERTION, "Attribute")))
            .find(|a| a.attribute("Name") == Some(name))
            .and_then(|a| text(child(a, ASSERTION, "AttributeValue")))
    };
    let id = attribute(mapping.id).ok_or_else(|| malformed("no user id"))?;
    let assertion_id = assertion
        .attribute("ID")
        .ok_or_else(|| malformed("the assertion has no ID"))?;
    Ok(SamlIdentity {
        id,
        email: attribute(mapping.email),
        name: attribute(mapping.name),
        assertion_id: assertion_id.to_owned(),
        expires_at: until.map_or(confirmed, |u| u.max(confirmed)),
    })
}
