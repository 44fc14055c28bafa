//! XML Signature (<https://www.w3.org/TR/xmldsig-core1/>) as SAML uses it: one enveloped
//! signature over the element that carries it, exclusive canonicalization, RSA-SHA256 and
//! SHA-256 digests. Everything else (other algorithms, several references, a reference to
//! another element, XPath transforms) is refused rather than half-supported.
//!
//! Invariant: `verify_enveloped` succeeds only when the signature's one reference names the
//! very element given (by its `ID`, which no other element of the document has), that
//! element's canonical form without the signature hashes to the digest, and the canonical
//! `SignedInfo` verifies with the key. The caller then reads only that element: an attacker
//! who wraps a signed element elsewhere (XSW) gains nothing.
use super::c14n::canonicalize;
use crate::crypto::base64::std_decode;
use crate::crypto::provider::{PlatformCrypto, PublicKey};
use roxmltree::Node;
use sha2::{Digest, Sha256};

pub const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

/// Why a signature does not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DsigError {
    /// The element carries no signature.
    Unsigned,
    /// The signature is not of the one shape accepted (the reason).
    Unsupported(String),
    /// The signed content was changed.
    DigestMismatch,
    /// The signature does not verify with the key.
    BadSignature,
}

impl std::fmt::Display for DsigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DsigError::Unsigned => f.write_str("the element is not signed"),
            DsigError::Unsupported(why) => write!(f, "unsupported signature: {why}"),
            DsigError::DigestMismatch => f.write_str("the signed content was changed"),
            DsigError::BadSignature => f.write_str("the signature does not verify"),
        }
    }
}

fn unsupported(why: &str) -> DsigError {
    DsigError::Unsupported(why.to_owned())
}

/// The element children of `node` named `name` in the XML Signature namespace.
fn ds<'a, 'i>(node: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().namespace() == Some(DSIG))
        .filter(move |c| c.tag_name().name() == name)
}

/// Exactly one `ds:<name>` child.
fn one<'a, 'i>(node: Node<'a, 'i>, name: &'a str) -> Result<Node<'a, 'i>, DsigError> {
    let mut it = ds(node, name);
    match (it.next(), it.next()) {
        (Some(n), None) => Ok(n),
        _ => Err(DsigError::Unsupported(format!("expected one {name}"))),
    }
}

fn algorithm<'a>(node: Node<'a, '_>) -> &'a str {
    node.attribute("Algorithm").unwrap_or_default()
}

/// The `InclusiveNamespaces PrefixList` of an exclusive canonicalization, if any.
fn prefix_list<'a>(method: Node<'a, '_>) -> Vec<&'a str> {
    method
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == "InclusiveNamespaces")
        .and_then(|c| c.attribute("PrefixList"))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default()
}

/// Checks the enveloped signature of `element` (`src` is the document's text) with `key`.
pub async fn verify_enveloped(
    crypto: &dyn PlatformCrypto,
    src: &str,
    element: Node<'_, '_>,
    key: &PublicKey,
) -> Result<(), DsigError> {
    let signature = match ds(element, "Signature").count() {
        0 => return Err(DsigError::Unsigned),
        _ => one(element, "Signature")?,
    };
    let signed_info = one(signature, "SignedInfo")?;
    let c14n = one(signed_info, "CanonicalizationMethod")?;
    if algorithm(c14n) != EXC_C14N {
        return Err(unsupported(
            "SignedInfo must use exclusive canonicalization",
        ));
    }
    if algorithm(one(signed_info, "SignatureMethod")?) != RSA_SHA256 {
        return Err(unsupported("only RSA-SHA256 signatures are accepted"));
    }
    let reference = one(signed_info, "Reference")?;
    // The reference is the signed element itself, and its ID is that element's alone.
    let id = element
        .attribute("ID")
        .ok_or_else(|| unsupported("the signed element has no ID"))?;
    if reference.attribute("URI") != Some(format!("#{id}").as_str()) {
        return Err(unsupported("the signature does not reference its element"));
    }
    let same_id = element
        .document()
        .descendants()
        .filter(|n| n.attribute("ID") == Some(id))
        .count();
    if same_id != 1 {
        return Err(unsupported("the ID is not unique in the document"));
    }
    let transforms: Vec<Node> = match ds(reference, "Transforms").next() {
        Some(t) => ds(t, "Transform").collect(),
        None => Vec::new(),
    };
    let mut enveloped = false;
    let mut inclusive = Vec::new();
    for t in &transforms {
        match algorithm(*t) {
            ENVELOPED => enveloped = true,
            EXC_C14N => inclusive = prefix_list(*t),
            other => return Err(DsigError::Unsupported(format!("transform {other}"))),
        }
    }
    if !enveloped {
        return Err(unsupported("the signature must be enveloped"));
    }
    if algorithm(one(reference, "DigestMethod")?) != SHA256 {
        return Err(unsupported("only SHA-256 digests are accepted"));
    }
    let b64 = |n: Node| -> Result<Vec<u8>, DsigError> {
        let text: String = n.text().unwrap_or_default().split_whitespace().collect();
        std_decode(&text).ok_or_else(|| unsupported("a value is not base64"))
    };
    let digest = b64(one(reference, "DigestValue")?)?;
    let content = canonicalize(src, element, Some(signature.id()), &inclusive)
        .map_err(|_| unsupported("the document is nested too deeply"))?;
    if Sha256::digest(content.as_bytes()).to_vec() != digest {
        return Err(DsigError::DigestMismatch);
    }
    let signed = canonicalize(src, signed_info, None, &prefix_list(c14n))
        .map_err(|_| unsupported("the document is nested too deeply"))?;
    let value = b64(one(signature, "SignatureValue")?)?;
    match crypto.verify_key(key, signed.as_bytes(), &value).await {
        Ok(true) => Ok(()),
        _ => Err(DsigError::BadSignature),
    }
}
