//! Cookies: every cookie Gatehouse sets is `__Host-` prefixed, `Secure; HttpOnly;
//! SameSite=Lax; Path=/`. Chromium accepts such cookies from http://127.0.0.1 and
//! http://localhost too, so local development keeps the same cookies.
use super::{Request, Response};
use cookie::{Cookie, SameSite};
use http::header::{HeaderValue, COOKIE, SET_COOKIE};

pub const SESSION: &str = "__Host-gh_session";
pub const INTERACTION: &str = "__Host-gh_interaction";
pub const CSRF: &str = "__Host-gh_csrf";

/// The value of cookie `name` in the request, if any.
pub fn get(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

/// Adds `Set-Cookie` for `name`; `max_age` 0 deletes it.
pub fn set(res: &mut Response, name: &str, value: &str, max_age: i64) {
    let c = Cookie::build((name, value))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
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
        let req = http::Request::builder()
            .header("cookie", "a=1; __Host-gh_csrf=tok; b=2")
            .body(Vec::new())
            .unwrap();
        assert_eq!(get(&req, CSRF).as_deref(), Some("tok"));
        assert_eq!(get(&req, SESSION), None);
    }
}
