//! CSRF protection for form POSTs: a double-submit token. The page sets a random
//! `__Host-gh_csrf` cookie and repeats it in a hidden `_csrf` field; a POST must carry both,
//! equal. A cross-site page can neither read the cookie nor set a `__Host-` one.
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
