//! SAML 2.0 for enterprise SSO, the service provider's side. XML is parsed by `roxmltree` without DTDs and with a node limit;
//! `c14n` is Exclusive XML Canonicalization; `dsig` checks the one enveloped RSA-SHA256
//! signature SAML uses; `cert` reads the IdP certificate's RSA key; `response` checks a
//! `Response` at the assertion consumer service; `sp` is the connector's config and the
//! `AuthnRequest`.
//!
//! Invariant: nothing in a SAML message counts unless it is inside the element whose
//! signature `dsig::verify_enveloped` checked with the connector's own certificate.
pub mod c14n;
pub mod cert;
pub mod dsig;
pub mod response;
pub mod sp;

/// How many XML nodes a SAML message may have (a response has a few dozen).
pub const MAX_NODES: u32 = 10_000;

/// Parses a SAML message: no DTD (so no entities to expand), at most [`MAX_NODES`] nodes.
pub fn parse(text: &str) -> Result<roxmltree::Document<'_>, String> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..Default::default()
    };
    // The parser's own message is not kept: its formatting costs the module more than the
    // detail is worth to an administrator reading a refused response.
    roxmltree::Document::parse_with_options(text, options)
        .map_err(|_| "not well-formed XML (or a DTD, or too many nodes)".to_owned())
}
