//! Absolute URIs (RFC 3986), read strictly, and query or fragment parameters added to one.
//!
//! Invariant: a URI accepted here holds only the characters RFC 3986 allows (§2: no spaces,
//! controls, backslashes or non-ASCII; `%` only before two hex digits; `[` `]` only around an
//! IP literal) and no `%` in its host, so every reader, a browser's WHATWG parser, workerd's
//! `fetch` or this module, finds the same scheme, host and port in it. What a lenient parser
//! would have repaired is refused instead.
//!
//! Written here rather than linking the `url` crate, which with `idna` cost 12 KiB of the
//! module's size budget (ARCHITECTURE.md, "Size") for what these few functions do.

/// The parts of an absolute URI (RFC 3986 §3), as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uri<'a> {
    pub scheme: &'a str,
    /// After `//`: `[userinfo@]host[:port]`.
    pub authority: Option<&'a str>,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub fragment: Option<&'a str>,
}

fn allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b)
}

/// RFC 3986 §3.1: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
}

fn well_formed_percents(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().all(|(i, &c)| {
        c != b'%'
            || (b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

/// An IP host must be one a browser reads as written: a bracketed IPv6 address, or a
/// dotted-quad IPv4 address when the host ends in a number (`127.1`, `0x7f.0.0.1` or
/// `1.2.3.4.5` would be rewritten or refused by a WHATWG parser).
fn ip_host_ok(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[') {
        return inner
            .strip_suffix(']')
            .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok());
    }
    if host.contains([']', '[']) {
        return false;
    }
    let last = host
        .strip_suffix('.')
        .unwrap_or(host)
        .rsplit('.')
        .next()
        .unwrap_or_default();
    let numeric = !last.is_empty()
        && (last.bytes().all(|b| b.is_ascii_digit())
            || last.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x")));
    !numeric || host.parse::<std::net::Ipv4Addr>().is_ok()
}

impl<'a> Uri<'a> {
    /// Splits `s` as RFC 3986 Appendix B does, after checking its characters; `None` when
    /// it is not an absolute URI.
    pub fn parse(s: &'a str) -> Option<Uri<'a>> {
        if s.is_empty() || !s.bytes().all(allowed) || !well_formed_percents(s) {
            return None;
        }
        let (rest, fragment) = match s.split_once('#') {
            Some((r, f)) => (r, Some(f)),
            None => (s, None),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (scheme, rest) = rest.split_once(':')?;
        if !is_scheme(scheme) {
            return None;
        }
        let (authority, path) = match rest.strip_prefix("//") {
            Some(r) => {
                let end = r.find('/').unwrap_or(r.len());
                (Some(r.get(..end)?), r.get(end..)?)
            }
            None => (None, rest),
        };
        let brackets = |t: &str| t.contains(['[', ']']);
        if brackets(path) || query.is_some_and(brackets) || fragment.is_some_and(brackets) {
            return None;
        }
        if fragment.is_some_and(|f| f.contains('#')) {
            return None;
        }
        let uri = Uri {
            scheme,
            authority,
            path,
            query,
            fragment,
        };
        if let Some(a) = authority {
            if a.matches('@').count() > 1 {
                return None;
            }
            if uri.userinfo().is_some_and(brackets) {
                return None;
            }
            let host = uri.host_as_written()?;
            if host.contains('%') || !ip_host_ok(host) {
                return None;
            }
            let port = uri.port_as_written();
            if !port.bytes().all(|b| b.is_ascii_digit())
                || (!port.is_empty() && uri.port().is_none())
            {
                return None;
            }
        }
        Some(uri)
    }

    fn host_and_port(&self) -> Option<&'a str> {
        let a = self.authority?;
        Some(a.rsplit_once('@').map_or(a, |(_, hp)| hp))
    }

    fn host_as_written(&self) -> Option<&'a str> {
        let hp = self.host_and_port()?;
        let port_at = match hp.rfind(']') {
            Some(close) => hp.get(close..)?.find(':').map(|i| close + i),
            None => hp.find(':'),
        };
        Some(port_at.and_then(|i| hp.get(..i)).unwrap_or(hp))
    }

    fn port_as_written(&self) -> &'a str {
        let (Some(hp), Some(host)) = (self.host_and_port(), self.host_as_written()) else {
            return "";
        };
        hp.get(host.len()..)
            .and_then(|p| p.strip_prefix(':'))
            .unwrap_or_default()
    }

    /// The `userinfo@` part of the authority, if any.
    pub fn userinfo(&self) -> Option<&'a str> {
        self.authority?.rsplit_once('@').map(|(u, _)| u)
    }

    /// The host, lowercased (an IPv6 literal keeps its brackets); `None` without one.
    pub fn host(&self) -> Option<String> {
        self.host_as_written()
            .filter(|h| !h.is_empty())
            .map(str::to_ascii_lowercase)
    }

    /// The port when one is written.
    pub fn port(&self) -> Option<u16> {
        self.port_as_written().parse().ok()
    }

    /// `http` or `https` (any case), with a host.
    pub fn is_web(&self) -> bool {
        let s = self.scheme;
        (s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https")) && self.host().is_some()
    }

    /// `scheme://host[:port]`, lowercased, without the scheme's default port; for web URIs.
    pub fn origin(&self) -> Option<String> {
        if !self.is_web() {
            return None;
        }
        let scheme = self.scheme.to_ascii_lowercase();
        let host = self.host()?;
        let default = if scheme == "https" { 443 } else { 80 };
        Some(match self.port() {
            Some(p) if p != default => format!("{scheme}://{host}:{p}"),
            _ => format!("{scheme}://{host}"),
        })
    }
}

fn encoded<'p>(pairs: impl IntoIterator<Item = (&'p str, &'p str)>) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// `uri` with `pairs` added to its query (form-encoded, before any fragment).
pub fn with_query<'p>(uri: &str, pairs: impl IntoIterator<Item = (&'p str, &'p str)>) -> String {
    let (base, fragment) = match uri.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (uri, None),
    };
    let added = encoded(pairs);
    let mut out = base.to_owned();
    if !added.is_empty() {
        match base.find('?') {
            None => out.push('?'),
            Some(_) if base.ends_with('?') || base.ends_with('&') => {}
            Some(_) => out.push('&'),
        }
        out.push_str(&added);
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// `uri` with its fragment replaced by `pairs`, form-encoded (OAuth's fragment response mode).
pub fn with_fragment<'p>(uri: &str, pairs: impl IntoIterator<Item = (&'p str, &'p str)>) -> String {
    let base = uri.split_once('#').map_or(uri, |(b, _)| b);
    format!("{base}#{}", encoded(pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_examples_of_rfc_3986_split_as_appendix_b_says() {
        // https://www.rfc-editor.org/rfc/rfc3986#appendix-B and §1.1.2
        let u = Uri::parse("http://www.ics.uci.edu/pub/ietf/uri/#Related").unwrap();
        assert_eq!(u.scheme, "http");
        assert_eq!(u.authority, Some("www.ics.uci.edu"));
        assert_eq!(u.path, "/pub/ietf/uri/");
        assert_eq!(u.query, None);
        assert_eq!(u.fragment, Some("Related"));
        let u = Uri::parse("foo://example.com:8042/over/there?name=ferret#nose").unwrap();
        assert_eq!(u.host().as_deref(), Some("example.com"));
        assert_eq!(u.port(), Some(8042));
        assert_eq!(u.query, Some("name=ferret"));
        let u = Uri::parse("urn:example:animal:ferret:nose").unwrap();
        assert_eq!(
            (u.scheme, u.authority, u.path),
            ("urn", None, "example:animal:ferret:nose")
        );
        let u = Uri::parse("ldap://[2001:db8::7]/c=GB?objectClass?one").unwrap();
        assert_eq!(u.host().as_deref(), Some("[2001:db8::7]"));
        assert_eq!(u.port(), None);
        assert_eq!(u.query, Some("objectClass?one"));
        let u = Uri::parse("mailto:John.Doe@example.com").unwrap();
        assert_eq!((u.authority, u.userinfo()), (None, None));
        let u = Uri::parse("com.example.app:/callback").unwrap();
        assert_eq!((u.scheme, u.path), ("com.example.app", "/callback"));
    }

    #[test]
    fn what_a_lenient_parser_would_repair_is_refused() {
        for bad in [
            "",
            "/relative/path",
            "//host/no-scheme",
            "1http://a.example/",
            "https://a.example/with space",
            "https://a.example\\@b.example/",
            "https://a.example/é",
            "https://a.example/%zz",
            "https://a.example/%4",
            "https://a@b@c.example/",
            "https://%6cocalhost/",
            "https://a.example:80x/",
            "https://a.example:99999/",
            "https://[::1/",
            "https://a[1].example/",
            "https://a.example/[x]",
            "https://a.example/#a#b",
            "https://a.example/\t",
            "https://[x]@a.example/",
            "https://127.1/",
            "https://0x7f.0.0.1/",
            "https://2130706433/",
            "https://1.2.3.4.5/",
            "https://256.0.0.1/",
            "https://a.123/",
            "https://[1]/",
            "https://[:::]/",
        ] {
            assert_eq!(Uri::parse(bad), None, "{bad:?} was accepted");
        }
    }

    #[test]
    fn hosts_ports_userinfo_and_origins_are_read_as_a_browser_reads_them() {
        let u = Uri::parse("HTTPS://User:pw@Auth.Example.COM:443/x").unwrap();
        assert_eq!(u.userinfo(), Some("User:pw"));
        assert_eq!(u.host().as_deref(), Some("auth.example.com"));
        assert_eq!(u.origin().as_deref(), Some("https://auth.example.com"));
        let u = Uri::parse("http://127.0.0.1:8787").unwrap();
        assert_eq!(u.origin().as_deref(), Some("http://127.0.0.1:8787"));
        assert_eq!(u.path, "");
        let u = Uri::parse("http://[::1]:8080/cb").unwrap();
        assert_eq!((u.host().as_deref(), u.port()), (Some("[::1]"), Some(8080)));
        assert!(!Uri::parse("http:///path").unwrap().is_web());
        assert!(!Uri::parse("ftp://a.example/").unwrap().is_web());
        assert_eq!(Uri::parse("https://a.example:/").unwrap().port(), None);
    }

    #[test]
    fn parameters_go_into_the_query_before_the_fragment_and_are_form_encoded() {
        assert_eq!(
            with_query("https://rp.example/cb", [("code", "a b"), ("state", "x&y")]),
            "https://rp.example/cb?code=a+b&state=x%26y"
        );
        assert_eq!(
            with_query("https://rp.example/cb?keep=1#frag", [("state", "s")]),
            "https://rp.example/cb?keep=1&state=s#frag"
        );
        assert_eq!(
            with_query("https://rp.example/cb?", [("a", "1")]),
            "https://rp.example/cb?a=1"
        );
        assert_eq!(
            with_fragment("https://rp.example/cb?q=1#old", [("code", "c")]),
            "https://rp.example/cb?q=1#code=c"
        );
        assert_eq!(
            with_query("https://rp.example/cb?a=1&", [("b", "2")]),
            "https://rp.example/cb?a=1&b=2"
        );
        assert_eq!(
            with_query("https://rp.example/cb?x=1", []),
            "https://rp.example/cb?x=1"
        );
        assert_eq!(
            with_query("https://rp.example/cb#a?b", [("v", "#%")]),
            "https://rp.example/cb?v=%23%25#a?b"
        );
        assert_eq!(
            with_fragment("https://rp.example/cb", [("a", "1")]),
            "https://rp.example/cb#a=1"
        );
    }

    #[test]
    fn ip_hosts_must_be_written_as_a_browser_would_keep_them() {
        assert_eq!(
            Uri::parse("https://[2001:db8::1]:8443/")
                .and_then(|u| u.origin())
                .as_deref(),
            Some("https://[2001:db8::1]:8443")
        );
        assert!(Uri::parse("https://1.2.3.4/").unwrap().is_web());
        assert!(Uri::parse("https://a1.example/").unwrap().is_web());
        assert!(Uri::parse("https://1a.example/").unwrap().is_web());
    }
}
