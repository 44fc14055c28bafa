//! The service provider's side of a SAML connector: its config (Logto's `{metadata}`,
//! `{metadataUrl}` or `{entityId, signInEndpoint, x509Certificate}`, with
//! `attributeMapping`), our entity id and assertion consumer service URL, and the
//! `AuthnRequest` sent by the HTTP-Redirect binding.
//!
//! Invariant: a stored SAML config always holds the IdP's `entityId`, a `signInEndpoint`
//! that is an absolute http(s) URI and an `x509Certificate` with an RSA key; metadata (given
//! or fetched) is read once, when the connector is saved, and never trusted for anything but
//! those three values.
use super::response::{Mapping, ASSERTION, PROTOCOL};
use crate::crypto::base64;
use crate::outbound::{self, Http, HttpRequest};
use crate::uri::Uri;
use roxmltree::Node;
use serde_json::{Map, Value};

const METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DSIG: &str = super::dsig::DSIG;
const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// Our entity id for connector `id` (Logto's `{endpoint}/enterprise-sso/{id}`).
pub fn entity_id(origin: &str, id: &str) -> String {
    format!("{origin}/enterprise-sso/{id}")
}

/// Where the IdP posts its response (Logto's path).
pub fn acs_url(origin: &str, id: &str) -> String {
    format!("{origin}/api/authn/single-sign-on/saml/{id}")
}

/// Our SP metadata for connector `id` (SAML Metadata §2.4.4), served at our entity id: an
/// IdP that imports it gets the entity id and the assertion consumer service, and is told
/// that assertions must be signed. `AuthnRequest`s are not signed, and the document says so.
pub fn metadata(origin: &str, id: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <md:EntityDescriptor xmlns:md=\"{METADATA}\" entityID=\"{}\">\
         <md:SPSSODescriptor AuthnRequestsSigned=\"false\" WantAssertionsSigned=\"true\" \
         protocolSupportEnumeration=\"{PROTOCOL}\">\
         <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>\
         <md:AssertionConsumerService Binding=\"{POST}\" Location=\"{}\" index=\"0\" isDefault=\"true\"/>\
         </md:SPSSODescriptor></md:EntityDescriptor>",
        escape(&entity_id(origin, id)),
        escape(&acs_url(origin, id)),
    )
}

fn descendant<'a, 'i>(node: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    node.descendants().find(|n| n.has_tag_name((ns, name)))
}

/// The IdP's entity id, HTTP-Redirect sign-in endpoint and signing certificate from its
/// metadata (an `EntityDescriptor`, or the first with an IdP role in an `EntitiesDescriptor`).
pub fn read_metadata(xml: &str) -> Result<(String, String, String), String> {
    let doc = super::parse(xml).map_err(|e| format!("the metadata is not XML: {e}"))?;
    let idp = descendant(doc.root_element(), METADATA, "IDPSSODescriptor")
        .ok_or("the metadata has no IDPSSODescriptor")?;
    let entity = idp
        .ancestors()
        .find(|n| n.has_tag_name((METADATA, "EntityDescriptor")))
        .and_then(|n| n.attribute("entityID"))
        .ok_or("the metadata has no entityID")?;
    let sso = idp
        .children()
        .filter(|n| n.has_tag_name((METADATA, "SingleSignOnService")))
        .find(|n| n.attribute("Binding") == Some(REDIRECT))
        .and_then(|n| n.attribute("Location"))
        .ok_or("the metadata has no SingleSignOnService for the HTTP-Redirect binding")?;
    let cert = idp
        .children()
        .filter(|n| n.has_tag_name((METADATA, "KeyDescriptor")))
        .filter(|n| n.attribute("use").is_none_or(|u| u == "signing"))
        .find_map(|n| descendant(n, DSIG, "X509Certificate"))
        .and_then(|n| n.text())
        .ok_or("the metadata has no signing certificate")?;
    let cert: String = cert.split_whitespace().collect();
    Ok((entity.to_owned(), sso.to_owned(), cert))
}

/// A SAML connector's config checked and completed: the IdP's three values read from
/// `metadata` or `metadataUrl` (fetched now) when given, else taken as given.
pub async fn complete_config(http: &dyn Http, config: &Value) -> Result<Value, String> {
    let mut m: Map<String, Value> = config
        .as_object()
        .cloned()
        .ok_or("`config` must be an object")?;
    let text =
        |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
    let metadata = match (text(&m, "metadata"), text(&m, "metadataUrl")) {
        (Some(xml), _) => Some(xml),
        (None, Some(url)) => {
            let mut req = HttpRequest::get(&url);
            req.headers.retain(|(k, _)| k != "accept");
            req.headers.push((
                "accept".into(),
                "application/samlmetadata+xml, application/xml".into(),
            ));
            let res = outbound::fetch(http, &req)
                .await
                .map_err(|e| format!("`metadataUrl` could not be read: {e}"))?;
            if !(200..300).contains(&res.status) {
                return Err(format!("`metadataUrl` answered {}", res.status));
            }
            Some(String::from_utf8(res.body).map_err(|_| "the metadata is not UTF-8")?)
        }
        (None, None) => None,
    };
    if let Some(xml) = metadata {
        let (entity, sso, cert) = read_metadata(&xml)?;
        m.insert("entityId".into(), crate::jv!(entity));
        m.insert("signInEndpoint".into(), crate::jv!(sso));
        m.insert("x509Certificate".into(), crate::jv!(cert));
    }
    let entity = text(&m, "entityId").filter(|e| !e.is_empty() && e.len() <= 1024);
    entity.ok_or("`entityId` is required (or `metadata`, or `metadataUrl`)")?;
    let sso = text(&m, "signInEndpoint").unwrap_or_default();
    if !Uri::parse(&sso).is_some_and(|u| u.is_web()) {
        return Err("`signInEndpoint` must be an http(s) URL".into());
    }
    let cert = text(&m, "x509Certificate").unwrap_or_default();
    if super::cert::rsa_key(cert.as_bytes()).is_none() {
        return Err("`x509Certificate` must be an X.509 certificate with an RSA key".into());
    }
    match m.get("attributeMapping") {
        None | Some(Value::Null) => {}
        Some(Value::Object(a)) if a.values().all(Value::is_string) => {}
        Some(_) => return Err("`attributeMapping` must be an object of strings".into()),
    }
    if m.get("signAuthnRequest") == Some(&Value::Bool(true)) {
        return Err("signed authentication requests are not supported yet".into());
    }
    Ok(Value::Object(m))
}

/// Whether a stored SSO config is a SAML one.
pub fn is_saml(config: &Map<String, Value>) -> bool {
    config.contains_key("x509Certificate")
}

/// The attribute mapping of a stored config (Logto's defaults where unset).
pub fn mapping(config: &Map<String, Value>) -> Mapping<'_> {
    let m = config.get("attributeMapping");
    let get = |k: &str, default: &'static str| {
        m.and_then(|m| m.get(k))
            .and_then(Value::as_str)
            .unwrap_or(default)
    };
    Mapping {
        id: get("id", "nameID"),
        email: get("email", "email"),
        name: get("name", "name"),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// DEFLATE (RFC 1951) in stored blocks: what the HTTP-Redirect binding asks for, without a
/// compressor in the module (an `AuthnRequest` is well under a block).
fn deflate_stored(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 5 * (data.len() / 65_535 + 1));
    let mut chunks = data.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        let last = u8::from(chunks.peek().is_none());
        let len = u16::try_from(chunk.len()).unwrap_or(u16::MAX);
        out.push(last);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

/// The `AuthnRequest` for connector `id` (request id `request_id`), and the URL that sends
/// it to the IdP's sign-in endpoint by the HTTP-Redirect binding with `relay_state`.
pub fn authn_request_url(
    config: &Map<String, Value>,
    (origin, id): (&str, &str),
    (request_id, relay_state): (&str, &str),
    now: i64,
) -> Option<String> {
    let endpoint = config.get("signInEndpoint").and_then(Value::as_str)?;
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"{PROTOCOL}\" xmlns:saml=\"{ASSERTION}\" ID=\"{}\" \
         Version=\"2.0\" IssueInstant=\"{}\" Destination=\"{}\" \
         AssertionConsumerServiceURL=\"{}\" ProtocolBinding=\"{POST}\">\
         <saml:Issuer>{}</saml:Issuer><samlp:NameIDPolicy AllowCreate=\"true\"/>\
         </samlp:AuthnRequest>",
        escape(request_id),
        crate::clock::iso(now * 1000, false),
        escape(endpoint),
        escape(&acs_url(origin, id)),
        escape(&entity_id(origin, id)),
    );
    let encoded = base64::std_encode(&deflate_stored(xml.as_bytes()));
    Some(crate::uri::with_query(
        endpoint,
        [
            ("SAMLRequest", encoded.as_str()),
            ("RelayState", relay_state),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_metadata_names_the_entity_id_and_the_post_consumer_and_wants_signed_assertions() {
        let xml = metadata("https://id.example", "c1");
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert!(root.has_tag_name((METADATA, "EntityDescriptor")));
        assert_eq!(
            root.attribute("entityID"),
            Some("https://id.example/enterprise-sso/c1")
        );
        let sp = descendant(root, METADATA, "SPSSODescriptor").unwrap();
        assert_eq!(sp.attribute("WantAssertionsSigned"), Some("true"));
        assert_eq!(sp.attribute("AuthnRequestsSigned"), Some("false"));
        let acs = descendant(root, METADATA, "AssertionConsumerService").unwrap();
        assert_eq!(acs.attribute("Binding"), Some(POST));
        assert_eq!(
            acs.attribute("Location"),
            Some("https://id.example/api/authn/single-sign-on/saml/c1")
        );
    }

    #[test]
    fn a_stored_block_is_the_data_behind_a_five_byte_header() {
        // RFC 1951 §3.2.4: BFINAL=1, BTYPE=00, then LEN and its one's complement.
        assert_eq!(
            deflate_stored(b"abc"),
            [1, 3, 0, 0xfc, 0xff, b'a', b'b', b'c']
        );
        let big = vec![7u8; 70_000];
        let d = deflate_stored(&big);
        assert_eq!(d.len(), 70_000 + 10);
        assert_eq!(d.first(), Some(&0));
        assert_eq!(d.get(65_540), Some(&1));
    }

    #[test]
    fn metadata_gives_the_entity_the_redirect_endpoint_and_the_signing_certificate() {
        let xml = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example/meta">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>ENC</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>
      MIIB
      AAAA
    </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example/post"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/redirect"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#;
        let (entity, sso, cert) = read_metadata(xml).unwrap();
        assert_eq!(entity, "https://idp.example/meta");
        assert_eq!(sso, "https://idp.example/redirect");
        assert_eq!(cert, "MIIBAAAA");
        assert!(read_metadata("<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"/>").is_err());
        assert!(read_metadata("<!DOCTYPE x [<!ENTITY a \"b\">]><x/>").is_err());
    }
}
