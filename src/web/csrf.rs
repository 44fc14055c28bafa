//! CSRF protection. Form POSTs of the hosted pages: a double-submit token. The page sets a
//! random `__Host-gh_csrf` cookie and repeats it in a hidden `_csrf` field; a POST must
//! carry both, equal. A cross-site page can neither read the cookie nor set a `__Host-` one.
//!
//! The cookie-bound JSON APIs (the Experience API): a state-changing request must come from
//! the provider's own origin (`Origin`, and `Sec-Fetch-Site` where the browser sends it) and
//! be `application/json`, even when empty, which a cross-site form cannot send and a
//! cross-site `fetch` cannot send without a CORS preflight that is never granted.
use super::{cookies, Request, Response};
use crate::crypto::{random, secret::constant_time_eq, CryptoError};

/// The token for a page: the request's cookie, or a new one (then `set` it on the response).
pub fn token(req: &Request) -> Result<(String, bool), CryptoError> {
    match cookies::get(req, cookies::CSRF) {
        Some(t) if t.len() == 32 => Ok((t, false)),
        _ => Ok((random::secret()?, true)),
    }
}

pub fn set(res: &mut Response, token: &str) {
    cookies::set(res, cookies::CSRF, token, 86_400);
}

/// Why a cookie-bound JSON request was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// It came from another origin (`Origin`) or another site (`Sec-Fetch-Site`).
    CrossSite,
    /// Its body is not declared `application/json`.
    NotJson,
}

/// Checks a request to a cookie-bound JSON API against `origin` (the provider's own).
/// Reads (`GET`, `HEAD`) pass; everything else must be same-origin and JSON.
pub fn same_origin_json(req: &Request, origin: &str) -> Result<(), Refused> {
    if matches!(
        *req.method(),
        crate::web::http::Method::GET | crate::web::http::Method::HEAD
    ) {
        return Ok(());
    }
    if let Some(from) = super::header(req, crate::web::http::header::ORIGIN) {
        if !from.eq_ignore_ascii_case(origin) {
            return Err(Refused::CrossSite);
        }
    }
    let site = super::header(req, super::SEC_FETCH_SITE);
    if site.is_some_and(|s| !matches!(s, "same-origin" | "none")) {
        return Err(Refused::CrossSite);
    }
    if super::media_type(req).as_deref() != Some("application/json") {
        return Err(Refused::NotJson);
    }
    Ok(())
}

/// Whether the form's `_csrf` matches the cookie.
pub fn valid(req: &Request, params: &[(String, String)]) -> bool {
    let (Some(cookie), Some(field)) = (
        cookies::get(req, cookies::CSRF),
        super::param(params, "_csrf"),
    ) else {
        return false;
    };
    constant_time_eq(cookie.as_bytes(), field.as_bytes())
}
