//! SAML groundwork against an independent implementation: `tests/fixtures/saml/` holds a
//! response whose assertion libxmlsec1 signed (`xmlsec1 --sign`, RSA-SHA256, exclusive
//! canonicalization with `PrefixList="xs"`), the certificate, and the exact bytes libxmlsec1
//! hashed for the reference (`xmlsec1 --verify --store-references`). Exclusive
//! canonicalization must match those bytes; the signature must verify, and every tampering
//! or wrapping (XSW) must not.
use gatehouse::crypto::provider::{PublicKey, RustCrypto};
use gatehouse::saml::{self, c14n, cert, dsig};
use pollster::block_on;

const SIGNED: &str = include_str!("fixtures/saml/response_signed.xml");
const CANONICAL: &str = include_str!("fixtures/saml/assertion.c14n");
const CERT: &str = include_str!("fixtures/saml/idp.crt");
const OTHER_CERT: &str = include_str!("fixtures/saml/other.crt");
const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

fn key(pem: &str) -> PublicKey {
    cert::rsa_key(pem.as_bytes()).expect("an RSA certificate")
}

/// The first `saml:Assertion` of the document, checked with `pem`'s key.
fn verify(xml: &str, pem: &str) -> Result<(), dsig::DsigError> {
    let doc = saml::parse(xml).expect("well-formed XML");
    let assertion = doc
        .descendants()
        .find(|n| n.has_tag_name((ASSERTION_NS, "Assertion")))
        .expect("an assertion");
    block_on(dsig::verify_enveloped(
        &RustCrypto,
        xml,
        assertion,
        &key(pem),
    ))
}

#[test]
fn exclusive_canonicalization_matches_libxmlsec1_byte_for_byte() {
    let doc = saml::parse(SIGNED).unwrap();
    let assertion = doc
        .descendants()
        .find(|n| n.has_tag_name((ASSERTION_NS, "Assertion")))
        .unwrap();
    let signature = assertion
        .children()
        .find(|n| n.has_tag_name((dsig::DSIG, "Signature")))
        .unwrap();
    let out = c14n::canonicalize(SIGNED, assertion, Some(signature.id()), &["xs"]).unwrap();
    assert_eq!(out, CANONICAL);
}

#[test]
fn the_certificates_rsa_key_is_read_from_pem() {
    let PublicKey::Rs256 { n, e } = key(CERT) else {
        panic!("an RSA key");
    };
    assert_eq!(n.len(), 256);
    assert_eq!(e, vec![1, 0, 1]);
    assert!(cert::rsa_key(b"not a certificate").is_none());
}

#[test]
fn the_libxmlsec1_signature_verifies_with_its_certificate_only() {
    assert_eq!(verify(SIGNED, CERT), Ok(()));
    assert_eq!(
        verify(SIGNED, OTHER_CERT),
        Err(dsig::DsigError::BadSignature)
    );
}

#[test]
fn a_changed_assertion_or_signature_value_does_not_verify() {
    let tampered = SIGNED.replace("ana@acme.com</saml:NameID>", "eve@acme.com</saml:NameID>");
    assert_ne!(tampered, SIGNED);
    assert_eq!(
        verify(&tampered, CERT),
        Err(dsig::DsigError::DigestMismatch)
    );
    // Whitespace the canonical form keeps is content too.
    let spaced = SIGNED.replace("<saml:Subject>", "<saml:Subject> ");
    assert_eq!(verify(&spaced, CERT), Err(dsig::DsigError::DigestMismatch));
    let at = SIGNED.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>".len();
    let mut bad = SIGNED.to_owned();
    let flipped = if &SIGNED[at..at + 1] == "A" { "B" } else { "A" };
    bad.replace_range(at..at + 1, flipped);
    assert_eq!(verify(&bad, CERT), Err(dsig::DsigError::BadSignature));
}

/// The signed assertion (as signed) and the document around it.
fn signed_assertion() -> &'static str {
    let start = SIGNED.find("<saml:Assertion").unwrap();
    let end = SIGNED.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    &SIGNED[start..end]
}

#[test]
fn wrapped_or_unsigned_assertions_do_not_borrow_a_signature() {
    let original = signed_assertion();
    let evil = original
        .replace("ana@acme.com</saml:NameID>", "eve@acme.com</saml:NameID>")
        .replace("ID=\"_a1\"", "ID=\"_evil\"");
    // XSW: the evil assertion first (what a naive SP reads), the signed one hidden after.
    let wrapped = SIGNED.replace(
        original,
        &format!("{evil}<samlp:Extensions>{original}</samlp:Extensions>"),
    );
    assert_eq!(
        verify(&wrapped, CERT),
        Err(dsig::DsigError::Unsupported(
            "the signature does not reference its element".into()
        ))
    );
    // The evil copy takes the signed one's ID: the ID is no longer unique.
    let same_id = SIGNED.replace(
        original,
        &format!(
            "{}<samlp:Extensions>{original}</samlp:Extensions>",
            evil.replace("ID=\"_evil\"", "ID=\"_a1\"")
        ),
    );
    assert!(matches!(
        verify(&same_id, CERT),
        Err(dsig::DsigError::Unsupported(_))
    ));
    // An assertion without a signature.
    let start = original.find("<ds:Signature").unwrap();
    let end = original.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let unsigned = SIGNED.replace(original, &original.replace(&original[start..end], ""));
    assert_eq!(verify(&unsigned, CERT), Err(dsig::DsigError::Unsigned));
    // SHA-1 is refused even when it would verify.
    let sha1 = SIGNED.replace(
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
    );
    assert!(matches!(
        verify(&sha1, CERT),
        Err(dsig::DsigError::Unsupported(_))
    ));
}

#[test]
fn documents_with_a_dtd_or_too_many_nodes_are_refused_before_anything_is_read() {
    let dtd = "<!DOCTYPE r [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><r>&b;</r>";
    assert!(saml::parse(dtd).is_err());
    let many = format!("<r>{}</r>", "<x/>".repeat(saml::MAX_NODES as usize + 1));
    assert!(saml::parse(&many).is_err());
}
