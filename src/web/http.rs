//! The HTTP request and response the faces see, with the names of the `http` crate's types
//! (`Request`, `Response`, `StatusCode`, `Method`, `header::{HeaderName, HeaderValue,
//! HeaderMap}`) and only what the faces use of them.
//!
//! Ours rather than the `http` crate's: its header-name tables, URI parser and extension map
//! cost 7 KiB of the module's size budget (ARCHITECTURE.md, "Size"), and the platform has
//! parsed the request already. Invariant: a [`HeaderValue`] never holds a control character
//! other than tab, so nothing built here can split a header (CR/LF injection), and header
//! names are compared in lowercase.

use std::borrow::Cow;
use std::fmt;

/// A response status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCode(u16);

impl StatusCode {
    pub const OK: StatusCode = StatusCode(200);
    pub const CREATED: StatusCode = StatusCode(201);
    pub const NO_CONTENT: StatusCode = StatusCode(204);
    pub const FOUND: StatusCode = StatusCode(302);
    pub const SEE_OTHER: StatusCode = StatusCode(303);
    pub const NOT_MODIFIED: StatusCode = StatusCode(304);
    pub const BAD_REQUEST: StatusCode = StatusCode(400);
    pub const UNAUTHORIZED: StatusCode = StatusCode(401);
    pub const FORBIDDEN: StatusCode = StatusCode(403);
    pub const NOT_FOUND: StatusCode = StatusCode(404);
    pub const METHOD_NOT_ALLOWED: StatusCode = StatusCode(405);
    pub const CONFLICT: StatusCode = StatusCode(409);
    pub const PAYLOAD_TOO_LARGE: StatusCode = StatusCode(413);
    pub const UNSUPPORTED_MEDIA_TYPE: StatusCode = StatusCode(415);
    pub const UNPROCESSABLE_ENTITY: StatusCode = StatusCode(422);
    pub const TOO_MANY_REQUESTS: StatusCode = StatusCode(429);
    pub const INTERNAL_SERVER_ERROR: StatusCode = StatusCode(500);
    pub const NOT_IMPLEMENTED: StatusCode = StatusCode(501);
    pub const SERVICE_UNAVAILABLE: StatusCode = StatusCode(503);

    pub const fn as_u16(self) -> u16 {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
    Other,
}

/// A request method; any the router does not know is `Method::OTHER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Method(Verb);

impl Method {
    pub const GET: Method = Method(Verb::Get);
    pub const HEAD: Method = Method(Verb::Head);
    pub const POST: Method = Method(Verb::Post);
    pub const PUT: Method = Method(Verb::Put);
    pub const PATCH: Method = Method(Verb::Patch);
    pub const DELETE: Method = Method(Verb::Delete);
    pub const OPTIONS: Method = Method(Verb::Options);
    pub const OTHER: Method = Method(Verb::Other);

    /// By name, as sent (methods are case-sensitive: RFC 9110 §9.1).
    pub fn from_name(name: &str) -> Method {
        match name {
            "GET" => Method::GET,
            "HEAD" => Method::HEAD,
            "POST" => Method::POST,
            "PUT" => Method::PUT,
            "PATCH" => Method::PATCH,
            "DELETE" => Method::DELETE,
            "OPTIONS" => Method::OPTIONS,
            _ => Method::OTHER,
        }
    }
}

impl PartialEq<Method> for &Method {
    fn eq(&self, other: &Method) -> bool {
        **self == *other
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Verb::Get => "GET",
            Verb::Head => "HEAD",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
            Verb::Options => "OPTIONS",
            Verb::Other => "This method",
        })
    }
}

pub mod header {
    //! Header names, values and maps.
    use super::*;

    /// A header name, in lowercase.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct HeaderName(Cow<'static, str>);

    impl HeaderName {
        /// `name` must be lowercase (all the constants here are).
        pub const fn from_static(name: &'static str) -> HeaderName {
            HeaderName(Cow::Borrowed(name))
        }
        pub fn as_str(&self) -> &str {
            &self.0
        }
    }

    /// What names a header: a [`HeaderName`] or a string (compared in lowercase).
    pub trait AsHeaderName {
        fn header_name(&self) -> HeaderName;
    }
    impl AsHeaderName for HeaderName {
        fn header_name(&self) -> HeaderName {
            self.clone()
        }
    }
    impl AsHeaderName for &HeaderName {
        fn header_name(&self) -> HeaderName {
            (*self).clone()
        }
    }
    impl AsHeaderName for &str {
        fn header_name(&self) -> HeaderName {
            HeaderName(Cow::Owned(self.to_ascii_lowercase()))
        }
    }

    /// A header value: text with no control character but tab.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct HeaderValue(Cow<'static, str>);

    /// A value with a control character in it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct InvalidHeaderValue;

    impl fmt::Display for InvalidHeaderValue {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a header value must not hold control characters")
        }
    }

    fn valid(v: &str) -> bool {
        v.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
    }

    impl HeaderValue {
        /// A constant value; one with a control character becomes empty.
        pub fn from_static(v: &'static str) -> HeaderValue {
            HeaderValue(Cow::Borrowed(if valid(v) { v } else { "" }))
        }
        #[allow(clippy::should_implement_trait)]
        pub fn from_str(v: &str) -> Result<HeaderValue, InvalidHeaderValue> {
            if valid(v) {
                Ok(HeaderValue(Cow::Owned(v.to_owned())))
            } else {
                Err(InvalidHeaderValue)
            }
        }
        /// The text (`Result` as in the `http` crate; it is always `Ok`).
        pub fn to_str(&self) -> Result<&str, InvalidHeaderValue> {
            Ok(&self.0)
        }
    }

    pub const ACCEPT_LANGUAGE: HeaderName = HeaderName::from_static("accept-language");
    pub const ACCESS_CONTROL_ALLOW_HEADERS: HeaderName =
        HeaderName::from_static("access-control-allow-headers");
    pub const ACCESS_CONTROL_ALLOW_METHODS: HeaderName =
        HeaderName::from_static("access-control-allow-methods");
    pub const ACCESS_CONTROL_ALLOW_ORIGIN: HeaderName =
        HeaderName::from_static("access-control-allow-origin");
    pub const ACCESS_CONTROL_MAX_AGE: HeaderName =
        HeaderName::from_static("access-control-max-age");
    pub const AUTHORIZATION: HeaderName = HeaderName::from_static("authorization");
    pub const CACHE_CONTROL: HeaderName = HeaderName::from_static("cache-control");
    pub const CONTENT_SECURITY_POLICY: HeaderName =
        HeaderName::from_static("content-security-policy");
    pub const CONTENT_TYPE: HeaderName = HeaderName::from_static("content-type");
    pub const REFERRER_POLICY: HeaderName = HeaderName::from_static("referrer-policy");
    pub const COOKIE: HeaderName = HeaderName::from_static("cookie");
    pub const ETAG: HeaderName = HeaderName::from_static("etag");
    pub const IF_NONE_MATCH: HeaderName = HeaderName::from_static("if-none-match");
    pub const LOCATION: HeaderName = HeaderName::from_static("location");
    pub const ORIGIN: HeaderName = HeaderName::from_static("origin");
    pub const PRAGMA: HeaderName = HeaderName::from_static("pragma");
    pub const SET_COOKIE: HeaderName = HeaderName::from_static("set-cookie");
    pub const STRICT_TRANSPORT_SECURITY: HeaderName =
        HeaderName::from_static("strict-transport-security");
    pub const USER_AGENT: HeaderName = HeaderName::from_static("user-agent");
    pub const WWW_AUTHENTICATE: HeaderName = HeaderName::from_static("www-authenticate");
    pub const X_CONTENT_TYPE_OPTIONS: HeaderName =
        HeaderName::from_static("x-content-type-options");

    /// Headers in the order set; a name may repeat (`Set-Cookie`).
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct HeaderMap(Vec<(HeaderName, HeaderValue)>);

    impl HeaderMap {
        /// The first value of `name`.
        pub fn get(&self, name: impl AsHeaderName) -> Option<&HeaderValue> {
            let name = name.header_name();
            self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
        }
        /// Every value of `name`, in order.
        pub fn get_all(&self, name: impl AsHeaderName) -> Vec<&HeaderValue> {
            let name = name.header_name();
            self.0
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, v)| v)
                .collect()
        }
        /// Sets `name` to `value` alone.
        pub fn insert(&mut self, name: HeaderName, value: HeaderValue) {
            self.0.retain(|(n, _)| *n != name);
            self.0.push((name, value));
        }
        /// Adds a value of `name`.
        pub fn append(&mut self, name: HeaderName, value: HeaderValue) {
            self.0.push((name, value));
        }
        pub fn iter(&self) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
            self.0.iter().map(|(n, v)| (n, v))
        }
    }
}

use header::{AsHeaderName, InvalidHeaderValue};
pub use header::{HeaderMap, HeaderValue};

/// The request target as the platform gives it: `scheme://authority/path?query` (or a path
/// alone). Split, not validated: the runtime has parsed it already.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uri(String);

impl Uri {
    fn parts(&self) -> (Option<&str>, Option<&str>, &str) {
        let s = self.0.split_once('#').map_or(self.0.as_str(), |(b, _)| b);
        match s.split_once("://") {
            Some((scheme, rest)) if !scheme.contains(['/', '?']) => {
                let end = rest.find(['/', '?']).unwrap_or(rest.len());
                let (authority, path) = rest.split_at_checked(end).unwrap_or((rest, ""));
                (Some(scheme), Some(authority), path)
            }
            _ => (None, None, s),
        }
    }
    pub fn scheme_str(&self) -> Option<&str> {
        self.parts().0
    }
    pub fn authority(&self) -> Option<&str> {
        self.parts().1
    }
    /// The host of the authority, without user info or port.
    pub fn host(&self) -> Option<&str> {
        let authority = self.authority()?;
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let end = match host_port.rfind(']') {
            Some(close) => close + 1,
            None => host_port.find(':').unwrap_or(host_port.len()),
        };
        host_port.get(..end).filter(|h| !h.is_empty())
    }
    /// The path, `/` when empty.
    pub fn path(&self) -> &str {
        let path = self.parts().2;
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        if path.is_empty() {
            "/"
        } else {
            path
        }
    }
    pub fn query(&self) -> Option<&str> {
        self.parts().2.split_once('?').map(|(_, q)| q)
    }
}

/// A request with its whole body (the platform reads at most `web::MAX_BODY` + 1 bytes).
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Request {
    pub fn builder() -> Builder {
        Builder(Ok(Request {
            method: Method::GET,
            uri: Uri::default(),
            headers: HeaderMap::default(),
            body: Vec::new(),
        }))
    }
    pub fn method(&self) -> &Method {
        &self.method
    }
    pub fn uri(&self) -> &Uri {
        &self.uri
    }
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }
    pub fn body(&self) -> &Vec<u8> {
        &self.body
    }
}

/// What a method of [`Builder`] may be given.
pub trait IntoMethod {
    fn into_method(self) -> Method;
}
impl IntoMethod for Method {
    fn into_method(self) -> Method {
        self
    }
}
impl IntoMethod for &str {
    fn into_method(self) -> Method {
        Method::from_name(self)
    }
}

/// Builds a [`Request`]; an invalid header value makes [`Builder::body`] fail.
pub struct Builder(Result<Request, InvalidHeaderValue>);

impl Builder {
    pub fn method(self, method: impl IntoMethod) -> Builder {
        Builder(self.0.map(|mut r| {
            r.method = method.into_method();
            r
        }))
    }
    pub fn uri(self, uri: impl Into<String>) -> Builder {
        Builder(self.0.map(|mut r| {
            r.uri = Uri(uri.into());
            r
        }))
    }
    pub fn header(self, name: impl AsHeaderName, value: impl AsRef<str>) -> Builder {
        Builder(self.0.and_then(|mut r| {
            let v = HeaderValue::from_str(value.as_ref())?;
            r.headers.append(name.header_name(), v);
            Ok(r)
        }))
    }
    pub fn body(self, body: Vec<u8>) -> Result<Request, InvalidHeaderValue> {
        self.0.map(|mut r| {
            r.body = body;
            r
        })
    }
}

/// A response.
#[derive(Debug, Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A response's status and headers, without the body.
#[derive(Debug, Clone)]
pub struct Parts {
    pub status: StatusCode,
    pub headers: HeaderMap,
}

impl Response {
    /// 200 with `body` and no headers.
    pub fn new(body: Vec<u8>) -> Response {
        Response {
            status: StatusCode::OK,
            headers: HeaderMap::default(),
            body,
        }
    }
    pub fn status(&self) -> StatusCode {
        self.status
    }
    pub fn status_mut(&mut self) -> &mut StatusCode {
        &mut self.status
    }
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }
    pub fn body(&self) -> &Vec<u8> {
        &self.body
    }
    pub fn into_parts(self) -> (Parts, Vec<u8>) {
        (
            Parts {
                status: self.status,
                headers: self.headers,
            },
            self.body,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::header::*;
    use super::*;

    #[test]
    fn a_value_with_a_line_break_is_refused_so_no_header_can_be_split() {
        assert_eq!(
            HeaderValue::from_str("a\r\nSet-Cookie: x=1"),
            Err(InvalidHeaderValue)
        );
        assert_eq!(HeaderValue::from_str("a\0b"), Err(InvalidHeaderValue));
        assert!(HeaderValue::from_str("text/html;\tcharset=utf-8").is_ok());
        assert_eq!(HeaderValue::from_static("a\nb").to_str(), Ok(""));
        let built = Request::builder().header("x", "a\nb").body(Vec::new());
        assert!(built.is_err());
    }

    #[test]
    fn names_are_matched_in_lowercase_and_insert_replaces_every_value() {
        let req = Request::builder()
            .header("Cookie", "a=1")
            .header("COOKIE", "b=2")
            .body(Vec::new())
            .unwrap();
        let all: Vec<_> = req
            .headers()
            .get_all(COOKIE)
            .into_iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(all, ["a=1", "b=2"]);
        let mut map = req.headers().clone();
        map.insert(COOKIE, HeaderValue::from_static("c=3"));
        assert_eq!(map.get_all("cookie").len(), 1);
        assert_eq!(map.get("cookie").and_then(|v| v.to_str().ok()), Some("c=3"));
    }

    #[test]
    fn the_target_splits_into_scheme_authority_path_and_query() {
        let u = Uri("https://auth.example:8443/oidc/auth?a=1&b=[x]#f".into());
        assert_eq!(u.scheme_str(), Some("https"));
        assert_eq!(u.authority(), Some("auth.example:8443"));
        assert_eq!(u.host(), Some("auth.example"));
        assert_eq!(Uri("http://[::1]:8787/".into()).host(), Some("[::1]"));
        assert_eq!(u.path(), "/oidc/auth");
        assert_eq!(u.query(), Some("a=1&b=[x]"));
        let u = Uri("http://localhost:8787?x=1".into());
        assert_eq!((u.path(), u.query()), ("/", Some("x=1")));
        let u = Uri("/only/a/path".into());
        assert_eq!(
            (u.scheme_str(), u.authority(), u.path(), u.query()),
            (None, None, "/only/a/path", None)
        );
        assert_eq!(Method::from_name("get"), Method::OTHER);
        assert_eq!(Method::from_name("PATCH"), Method::PATCH);
    }
}
