//! Cookies: every cookie Gatehouse sets is `__Host-` prefixed, `Secure; HttpOnly;
//! SameSite=Lax; Path=/`. Chromium accepts such cookies from http://127.0.0.1 and
//! http://localhost too, so local development keeps the same cookies.
//!
//! Written out here rather than with a cookie crate: Gatehouse only reads cookie pairs and
//! writes its own random-token values with fixed attributes (RFC 6265 §4.1, §5.4), and the
//! crate would bring a date-time library into the module.
use super::{Request, Response};
use crate::web::http::header::{HeaderValue, COOKIE, SET_COOKIE};

pub const SESSION: &str = "__Host-gh_session";
pub const INTERACTION: &str = "__Host-gh_interaction";
pub const CSRF: &str = "__Host-gh_csrf";
/// The token of a SAML IdP-initiated response kept for the sign-in that follows.
pub const SAML_IDP: &str = "__Host-gh_saml_idp";

/// The value of cookie `name` in the request, if any.
pub fn get(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().trim_matches('"').to_owned())
        .filter(|v| !v.is_empty())
}

/// Adds `Set-Cookie` for `name`; `max_age` 0 deletes it.
pub fn set(res: &mut Response, name: &str, value: &str, max_age: i64) {
    // Our values are random tokens; anything outside a cookie-octet is dropped, not escaped.
    let value: String = value
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '"' | ',' | ';' | '\\'))
        .collect();
    let c = format!(
        "{name}={value}; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age={}",
        max_age.max(0)
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        res.headers_mut().append(SET_COOKIE, v);
    }
}

pub fn clear(res: &mut Response, name: &str) {
    set(res, name, "", 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookies_are_host_prefixed_and_locked_down() {
        let mut res = Response::new(Vec::new());
        set(&mut res, SESSION, "abc", 60);
        let v = res.headers().get(SET_COOKIE).unwrap().to_str().unwrap();
        assert!(v.starts_with("__Host-gh_session=abc"));
        for part in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=60"] {
            assert!(v.contains(part), "{v} lacks {part}");
        }
        assert!(!v.contains("Domain"));
    }

    #[test]
    fn reads_one_cookie_among_many() {
        let req = crate::web::http::Request::builder()
            .header("cookie", "a=1; __Host-gh_csrf=tok; b=2")
            .body(Vec::new())
            .unwrap();
        assert_eq!(get(&req, CSRF).as_deref(), Some("tok"));
        assert_eq!(get(&req, SESSION), None);
        let quoted = crate::web::http::Request::builder()
            .header("cookie", "__Host-gh_session=\"q1\"")
            .body(Vec::new())
            .unwrap();
        assert_eq!(get(&quoted, SESSION).as_deref(), Some("q1"));
    }

    #[test]
    fn a_cleared_cookie_expires_now_and_values_cannot_inject_attributes() {
        let mut res = Response::new(Vec::new());
        clear(&mut res, SESSION);
        set(&mut res, CSRF, "a;Domain=evil.example", 60);
        let all: Vec<&str> = res
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert!(all[0].starts_with("__Host-gh_session=;") && all[0].contains("Max-Age=0"));
        assert!(
            all[1].starts_with("__Host-gh_csrf=aDomain=evil.example;"),
            "{}",
            all[1]
        );
        assert_eq!(all[1].matches("; ").count(), 5, "{}", all[1]);
    }
}
