//! Exclusive XML Canonicalization 1.0, without comments
//! (<https://www.w3.org/TR/xml-exc-c14n/>), of one element's subtree: the bytes XML
//! Signature hashes for a reference and signs for `SignedInfo`. An excluded subtree (the
//! enveloped signature, <https://www.w3.org/TR/xmldsig-core1/#sec-EnvelopedSignature>) is
//! left out.
//!
//! Invariant: the output depends only on the XML infoset of the subtree (namespaces a node
//! visibly uses, attributes sorted, text escaped as §2.3 of Canonical XML says), never on
//! how the document spelled it; roxmltree parsed it namespace-well-formed and without a DTD.
use roxmltree::{Node, NodeId};

/// How deep a canonicalized subtree may go (a SAML assertion needs about ten levels).
pub const MAX_DEPTH: usize = 64;

/// The subtree is deeper than [`MAX_DEPTH`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep;

/// The qualified name of an element or attribute as the document wrote it.
fn qname(src: &str, range: std::ops::Range<usize>) -> &str {
    let s = src.get(range).unwrap_or_default();
    let s = s.strip_prefix('<').unwrap_or(s);
    let end = s
        .find(|c: char| c.is_whitespace() || c == '/' || c == '>' || c == '=')
        .unwrap_or(s.len());
    s.get(..end).unwrap_or_default()
}

fn prefix_of(qname: &str) -> &str {
    qname.split_once(':').map_or("", |(p, _)| p)
}

/// The namespace `prefix` ("" for the default one) has at `node`, "" when none.
fn uri_of<'a>(node: Node<'a, '_>, prefix: &str) -> &'a str {
    node.namespaces()
        .find(|n| n.name().unwrap_or("") == prefix)
        .map_or("", |n| n.uri())
}

fn escape_text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attr(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// The canonical form of `element`'s subtree (`src` is the document's text), without the
/// subtree `excluded`; `inclusive` is the `InclusiveNamespaces PrefixList` (`#default` for
/// the default namespace).
pub fn canonicalize(
    src: &str,
    element: Node<'_, '_>,
    excluded: Option<NodeId>,
    inclusive: &[&str],
) -> Result<String, TooDeep> {
    let mut out = String::new();
    let mut rendered: Vec<(String, String)> = Vec::new();
    let inclusive: Vec<&str> = inclusive
        .iter()
        .map(|p| if *p == "#default" { "" } else { p })
        .collect();
    write(
        src,
        element,
        (excluded, &inclusive),
        &mut rendered,
        &mut out,
        0,
    )?;
    Ok(out)
}

fn write(
    src: &str,
    node: Node<'_, '_>,
    (excluded, inclusive): (Option<NodeId>, &[&str]),
    rendered: &mut Vec<(String, String)>,
    out: &mut String,
    depth: usize,
) -> Result<(), TooDeep> {
    if depth > MAX_DEPTH {
        return Err(TooDeep);
    }
    if Some(node.id()) == excluded {
        return Ok(());
    }
    if node.is_text() {
        escape_text(out, node.text().unwrap_or_default());
        return Ok(());
    }
    if node.is_pi() {
        if let Some(pi) = node.pi() {
            out.push_str("<?");
            out.push_str(pi.target);
            if let Some(v) = pi.value {
                out.push(' ');
                out.push_str(v);
            }
            out.push_str("?>");
        }
        return Ok(());
    }
    if !node.is_element() {
        return Ok(());
    }
    let name = qname(src, node.range());
    // The prefixes this element visibly uses, and those the PrefixList names.
    let mut used: Vec<&str> = vec![prefix_of(name)];
    for a in node.attributes() {
        let p = prefix_of(qname(src, a.range_qname()));
        if !p.is_empty() {
            used.push(p);
        }
    }
    for p in inclusive {
        if p.is_empty() || node.namespaces().any(|n| n.name() == Some(p)) {
            used.push(p);
        }
    }
    used.sort_unstable();
    used.dedup();
    let before = rendered.len();
    let mut decls = String::new();
    for p in used {
        if p == "xml" {
            continue;
        }
        let uri = uri_of(node, p);
        let shown = rendered
            .iter()
            .rev()
            .find(|(q, _)| q == p)
            .map(|(_, u)| u.as_str());
        let needed = match shown {
            Some(u) => u != uri,
            None => !(p.is_empty() && uri.is_empty()),
        };
        if needed {
            if p.is_empty() {
                decls.push_str(" xmlns=\"");
            } else {
                decls.push_str(" xmlns:");
                decls.push_str(p);
                decls.push_str("=\"");
            }
            escape_attr(&mut decls, uri);
            decls.push('"');
            rendered.push((p.to_owned(), uri.to_owned()));
        }
    }
    let mut attrs: Vec<_> = node.attributes().collect();
    attrs.sort_by(|a, b| {
        (a.namespace().unwrap_or(""), a.name()).cmp(&(b.namespace().unwrap_or(""), b.name()))
    });
    out.push('<');
    out.push_str(name);
    out.push_str(&decls);
    for a in attrs {
        out.push(' ');
        out.push_str(qname(src, a.range_qname()));
        out.push_str("=\"");
        escape_attr(out, a.value());
        out.push('"');
    }
    out.push('>');
    for child in node.children() {
        write(src, child, (excluded, inclusive), rendered, out, depth + 1)?;
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
    rendered.truncate(before);
    Ok(())
}
