//! The HTTP types handlers use, and small helpers to read requests and build responses.
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod http;
use crate::web::http::header::{HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use crate::web::http::StatusCode;
use serde::Serialize;

pub type Request = http::Request;
pub type Response = http::Response;

/// The largest request body any face takes (the token and Experience endpoints need far
/// less); a larger one is answered 413 before it is parsed.
pub const MAX_BODY: usize = 64 * 1024;

/// Whether the request's body is over [`MAX_BODY`]. The platform reads no further than one
/// byte past it, and gives a body it did not read because its declared length was over (a
/// `Content-Length` too large) as `MAX_BODY + 1` bytes, so both are seen here.
pub fn oversized(req: &Request) -> bool {
    req.body().len() > MAX_BODY
}

/// `scheme://host[:port]` of the request URI (the platform always passes an absolute URI).
pub fn request_origin(req: &Request) -> String {
    let uri = req.uri();
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
        _ => "http://localhost".to_owned(),
    }
}

/// Query parameters, decoded.
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// `Sec-Fetch-Site`. Header names are constants: a name parsed at run time would link the
/// `http` crate's table of standard names into the module (12 KB).
pub const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");
/// `CF-Connecting-IP`.
pub const CF_CONNECTING_IP: HeaderName = HeaderName::from_static("cf-connecting-ip");
pub const TOTAL_NUMBER: HeaderName = HeaderName::from_static("total-number");
pub const D1_ROUND_TRIPS: HeaderName = HeaderName::from_static("x-gatehouse-d1-round-trips");
/// The Account API's proof of a recent verification (Logto's header).
pub const VERIFICATION_ID: HeaderName = HeaderName::from_static("logto-verification-id");

/// Every request header anything here reads: the platform copies only these into a
/// [`Request`]. A header read elsewhere must be added here.
pub const READ_HEADERS: [HeaderName; 10] = [
    crate::web::http::header::ACCEPT_LANGUAGE,
    crate::web::http::header::AUTHORIZATION,
    crate::web::http::header::CONTENT_TYPE,
    crate::web::http::header::COOKIE,
    crate::web::http::header::IF_NONE_MATCH,
    crate::web::http::header::ORIGIN,
    crate::web::http::header::USER_AGENT,
    SEC_FETCH_SITE,
    CF_CONNECTING_IP,
    VERIFICATION_ID,
];

pub fn header(req: &Request, name: HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The client's IP address, as Cloudflare reports it (`CF-Connecting-IP`).
pub fn client_ip(req: &Request) -> Option<&str> {
    header(req, CF_CONNECTING_IP)
}

/// The languages of `Accept-Language`, most preferred first (by q-value; `q=0` excluded).
pub fn accepted_languages(req: &Request) -> Vec<String> {
    let Some(header) = header(req, crate::web::http::header::ACCEPT_LANGUAGE) else {
        return Vec::new();
    };
    // Highest `q` first, ties in the header's order: an insertion, not a sort (a sort is
    // a few KiB of module per element type).
    let mut tags: Vec<(u16, &str)> = Vec::new();
    // A handful of tags is all a browser sends; more is not read (the insertion is linear).
    for part in header.split(',').take(16) {
        let mut it = part.split(";q=");
        let tag = it.next().unwrap_or_default().trim();
        let q = it
            .next()
            .map_or(Some(1000), |q| q_value(q.trim()))
            .unwrap_or(0);
        if q > 0 && !tag.is_empty() {
            let at = tags.iter().position(|(p, _)| *p < q).unwrap_or(tags.len());
            tags.insert(at, (q, tag));
        }
    }
    tags.into_iter().map(|(_, t)| t.to_owned()).collect()
}

/// An RFC 9110 §12.4.2 weight (`0`, `0.5`, `1.000`) in thousandths; none when malformed.
/// (Read by hand: `str::parse::<f32>` links the float parser, 5 KB of the module.)
fn q_value(q: &str) -> Option<u16> {
    let (whole, frac) = q.split_once('.').unwrap_or((q, ""));
    let digits = |s: &str| s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(frac) || !matches!(whole, "0" | "1") {
        return None;
    }
    let mut thousandths = frac.bytes().fold(0u16, |n, b| n * 10 + u16::from(b - b'0'));
    for _ in frac.len()..3 {
        thousandths *= 10;
    }
    let q = if whole == "1" {
        1000 + thousandths
    } else {
        thousandths
    };
    (q <= 1000).then_some(q)
}

/// The media type of the request body, lower-cased, without parameters.
pub fn media_type(req: &Request) -> Option<String> {
    header(req, CONTENT_TYPE).map(|v| {
        v.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    })
}

pub fn with_type(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// A response of JSON written with `json::Obj`.
pub fn json_text(status: StatusCode, body: crate::json::Json) -> Response {
    with_type(
        status,
        "application/json; charset=utf-8",
        body.into_string().into_bytes(),
    )
}

pub fn json(status: StatusCode, value: &impl Serialize) -> Response {
    // Serializing our own response types cannot fail; fall back to an empty object anyway.
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    with_type(status, "application/json; charset=utf-8", body)
}

/// Over https, tells the browser to use nothing else for this host for a year (HSTS). Not
/// `includeSubDomains`: the provider's host does not speak for its siblings.
pub fn strict_transport(res: &mut Response) {
    res.headers_mut().insert(
        crate::web::http::header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
}

/// An HTML page. Its CSP has no `form-action`: the sign-in and consent forms end in a
/// redirect to the app, and Chromium applies `form-action` to the whole redirect chain.
///
/// The only script a page may load is the provider's own (`script-src 'self'`, no inline
/// script): the passkey script, a static asset (`public/static/passkey.js`, served by the
/// platform's asset store, as is the style sheet) included where a page offers a passkey.
/// It runs a WebAuthn ceremony with `navigator.credentials` through the Experience API,
/// then posts the verification to the page (a normal form post, so the server decides what
/// comes next). Modes: "sign-in" (a button, and the username field's autofill when
/// `data-autofill` is "true"), "verify" (the second factor) and "bind" (make a passkey). On
/// the sign-in page it waits for the terms checkbox when the settings ask for one; one
/// request runs at a time (the button cancels the pending autofill request, whose abort is
/// no failure); the interaction becomes a sign-in only once a passkey is chosen, and then
/// only one sign-in goes on. Nothing else on this origin is a script: every other response
/// is HTML or JSON with `nosniff`.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut res = with_type(status, "text/html; charset=utf-8", body.into_bytes());
    let h = res.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // A page's URL may carry an authorization request or a code (`/account?code=…`): other
    // sites (a branding logo's host) are not told it. Not `no-referrer`, which would make
    // the browser send `Origin: null` on the pages' own form posts.
    h.insert(
        crate::web::http::header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        crate::web::http::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; connect-src 'self'; \
             style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; frame-ancestors 'none'",
        ),
    );
    res
}

pub fn empty(status: StatusCode) -> Response {
    let mut res = Response::new(Vec::new());
    *res.status_mut() = status;
    res
}

/// Marks a response as never to be cached (token responses, RFC 6749 §5.1).
pub fn no_store(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        crate::web::http::header::PRAGMA,
        HeaderValue::from_static("no-cache"),
    );
    res
}

/// A `303 See Other` to `location`.
pub fn redirect(location: &str) -> Response {
    let mut res = empty(StatusCode::SEE_OTHER);
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut()
            .insert(crate::web::http::header::LOCATION, v);
    }
    no_store(res)
}

/// The parameters of a GET query or a form-encoded POST body.
pub fn params(req: &Request) -> Vec<(String, String)> {
    if req.method() == crate::web::http::Method::POST {
        if media_type(req).as_deref() == Some("application/x-www-form-urlencoded") {
            return form_urlencoded::parse(req.body()).into_owned().collect();
        }
        return Vec::new();
    }
    query_pairs(req)
}

/// Whether the query or the form body carries more parameters than any page or endpoint
/// takes ([`crate::oidc::authorize::MAX_PARAMS`]).
pub fn too_many_params(req: &Request) -> bool {
    let limit = crate::oidc::authorize::MAX_PARAMS;
    let query = req.uri().query().unwrap_or_default().as_bytes();
    let form = media_type(req).as_deref() == Some("application/x-www-form-urlencoded");
    form_urlencoded::parse(query).nth(limit).is_some()
        || (form && form_urlencoded::parse(req.body()).nth(limit).is_some())
}

/// The first value of `name` among `params`.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod q_tests {
    #[test]
    fn weights_read_as_rfc_9110_writes_them_and_nothing_else() {
        for (q, want) in [
            ("1", Some(1000)),
            ("0", Some(0)),
            ("0.5", Some(500)),
            ("0.25", Some(250)),
            ("0.001", Some(1)),
            ("1.000", Some(1000)),
            ("1.5", None),
            ("2", None),
            ("0.0001", None),
            ("-1", None),
            ("0.x", None),
            ("", None),
        ] {
            assert_eq!(super::q_value(q), want, "{q}");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn accept_language_is_ordered_by_q_value() {
        let req = crate::web::http::Request::builder()
            .header("accept-language", "en;q=0.2, de;q=0.9, fr;q=0, it")
            .body(Vec::new())
            .unwrap();
        assert_eq!(super::accepted_languages(&req), ["it", "de", "en"]);
    }
}
