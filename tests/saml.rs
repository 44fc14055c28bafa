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

const ACS: &str = "https://gatehouse.localhost/api/authn/single-sign-on/saml/c1";
/// 2026-12-07T12:01:00Z, a minute into the fixture's window (11:59 to 12:05).
const NOW: i64 = 1_796_644_860;

fn expected(in_response_to: Option<&'static str>, now: i64) -> saml::response::Expected<'static> {
    saml::response::Expected {
        issuer: "https://idp.example/saml",
        audience: "https://gatehouse.localhost/enterprise-sso/c1",
        acs_url: ACS,
        in_response_to,
        now,
    }
}

fn check(
    xml: &str,
    e: &saml::response::Expected<'_>,
) -> Result<saml::response::SamlIdentity, saml::response::SamlError> {
    block_on(saml::response::check(
        &RustCrypto,
        xml,
        &key(CERT),
        e,
        &saml::response::Mapping::default(),
    ))
}

#[test]
fn xs_date_times_are_read_as_unix_seconds() {
    use saml::response::parse_time;
    assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(parse_time("2026-12-07T12:01:00Z"), Some(NOW));
    assert_eq!(parse_time("2000-02-29T23:59:59.123Z"), Some(951_868_799));
    for bad in [
        "2026-12-07T12:01:00",
        "2026-13-07T12:01:00Z",
        "yesterday",
        "2026-12-07T25:00:00Z",
    ] {
        assert_eq!(parse_time(bad), None, "{bad}");
    }
}

#[test]
fn a_signed_response_for_this_sign_in_gives_the_mapped_identity() {
    let id = check(SIGNED, &expected(Some("_req1"), NOW)).unwrap();
    assert_eq!(id.id, "ana@acme.com");
    assert_eq!(id.email.as_deref(), Some("ana@acme.com"));
    assert_eq!(id.name.as_deref(), Some("Ana & \"Lima\" <A>"));
    assert_eq!(id.assertion_id, "_a1");
    assert_eq!(id.expires_at, NOW + 240);
    // Another attribute as the id.
    let m = saml::response::Mapping {
        id: "email",
        email: "email",
        name: "missing",
    };
    let id = block_on(saml::response::check(
        &RustCrypto,
        SIGNED,
        &key(CERT),
        &expected(Some("_req1"), NOW),
        &m,
    ))
    .unwrap();
    assert_eq!(id.name, None);
}

#[test]
fn a_response_for_another_party_time_or_request_is_refused() {
    use saml::response::SamlError as E;
    let e = expected(Some("_req1"), NOW);
    assert_eq!(
        check(SIGNED, &expected(Some("_req1"), NOW + 600)),
        Err(E::Expired)
    );
    assert_eq!(
        check(SIGNED, &expected(Some("_req1"), NOW - 600)),
        Err(E::NotYetValid)
    );
    assert_eq!(
        check(SIGNED, &expected(Some("_other"), NOW)),
        Err(E::InResponseTo)
    );
    // Unsolicited is allowed only where the caller allows it, and this one was solicited.
    assert_eq!(check(SIGNED, &expected(None, NOW)), Err(E::InResponseTo));
    let mut other = expected(Some("_req1"), NOW);
    other.audience = "https://someone.else/sp";
    assert_eq!(check(SIGNED, &other), Err(E::WrongParty("audience")));
    let mut other = expected(Some("_req1"), NOW);
    other.issuer = "https://other-idp.example";
    assert_eq!(check(SIGNED, &other), Err(E::WrongParty("issuer")));
    let mut other = expected(Some("_req1"), NOW);
    other.acs_url = "https://gatehouse.localhost/api/authn/single-sign-on/saml/c2";
    assert_eq!(check(SIGNED, &other), Err(E::WrongParty("destination")));
    // A failed status is the IdP's answer, whatever else the response holds.
    let failed = SIGNED.replace(
        "urn:oasis:names:tc:SAML:2.0:status:Success",
        "urn:oasis:names:tc:SAML:2.0:status:Requester",
    );
    assert!(matches!(check(&failed, &e), Err(E::Status(_))));
}

#[test]
fn a_response_wrapping_its_signed_assertion_under_an_unsigned_one_is_refused() {
    use saml::response::SamlError as E;
    let original = signed_assertion();
    let start = original.find("<ds:Signature").unwrap();
    let end = original.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let evil = original
        .replace(&original[start..end], "")
        .replace("ana@acme.com</saml:NameID>", "eve@acme.com</saml:NameID>")
        .replace("ID=\"_a1\"", "ID=\"_evil\"");
    let e = expected(Some("_req1"), NOW);
    // The evil assertion where the reader looks, the signed one tucked away.
    let hidden = SIGNED.replace(
        original,
        &format!("{evil}<samlp:Extensions>{original}</samlp:Extensions>"),
    );
    assert_eq!(
        check(&hidden, &e),
        Err(E::Signature(dsig::DsigError::Unsigned))
    );
    // Both side by side: not one assertion.
    let both = SIGNED.replace(original, &format!("{evil}{original}"));
    assert!(matches!(check(&both, &e), Err(E::Malformed(_))));
}

#[test]
fn a_comment_inside_a_signed_value_is_refused_though_the_signature_still_holds() {
    // Canonicalization drops comments, so the signature covers `ana@acme.com.evil.example`
    // whether or not a comment splits it; a reader of the first text node would see
    // `ana@acme.com`.
    let forged = SIGNED.replace(
        ">ana@acme.com</saml:AttributeValue>",
        ">ana@acme.com<!---->.evil.example</saml:AttributeValue>",
    );
    assert_ne!(forged, SIGNED);
    let r = check(&forged, &expected(Some("_req1"), NOW));
    assert!(
        matches!(r, Err(saml::response::SamlError::Malformed(_))),
        "{r:?}"
    );
    let pi = SIGNED.replace(
        ">ana@acme.com</saml:NameID>",
        ">ana@acme.com<?x y?></saml:NameID>",
    );
    assert!(check(&pi, &expected(Some("_req1"), NOW)).is_err());
}
