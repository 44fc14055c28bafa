//! Reading API input: JSON bodies, pagination, and field rules shared by the API groups.
use crate::uri::Uri;
use crate::web::error::ApiError;
use crate::web::http::header::HeaderValue;
use crate::web::http::StatusCode;
use crate::web::{media_type, query_pairs, Request, Response};
use serde::{Deserialize, Deserializer};

/// Parses a JSON body; an unknown or ill-typed field is a 400 that names it.
#[inline(never)]
pub fn json_body(req: &Request) -> Result<serde_json::Value, ApiError> {
    if media_type(req).as_deref() != Some("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "guard.invalid_input",
            "The body must be JSON (Content-Type: application/json).",
        ));
    }
    crate::json::parse(req.body())
        .map_err(|e| ApiError::invalid_input(format!("Invalid request body: {e}.")))
}

/// A JSON object body read column by column (`store::FromRow`), taking only the fields in
/// `fields`: an unknown one is a 400 that names it, as is a missing or mistyped one. (Cheaper
/// in the module than a derived `Deserialize` per body.)
pub fn object_body<T: crate::store::FromRow>(
    req: &Request,
    fields: &[&str],
) -> Result<T, ApiError> {
    T::from_row(&body_object(req, fields)?).map_err(body_error)
}

/// The body as an object with only the fields in `fields` (one copy for every body type).
#[inline(never)]
fn body_object(req: &Request, fields: &[&str]) -> Result<crate::store::Row, ApiError> {
    let v: serde_json::Value = json_body(req)?;
    checked_object(&v, fields)?;
    match v {
        serde_json::Value::Object(m) => Ok(m),
        _ => Ok(crate::store::Row::new()),
    }
}

/// [`object_body`] for a value already parsed (a nested object). Generic only in its last
/// step: the checks are one function for every body type (each copy costs the module).
pub fn object_of<T: crate::store::FromRow>(
    v: &serde_json::Value,
    fields: &[&str],
) -> Result<T, ApiError> {
    T::from_row(checked_object(v, fields)?).map_err(body_error)
}

/// `v` as an object with only the fields in `fields`.
#[inline(never)]
fn checked_object<'a>(
    v: &'a serde_json::Value,
    fields: &[&str],
) -> Result<&'a crate::store::Row, ApiError> {
    let m = v
        .as_object()
        .ok_or_else(|| ApiError::invalid_input("Invalid request body: expected an object."))?;
    if let Some(k) = m.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(ApiError::invalid_input(format!(
            "Invalid request body: unknown field `{k}`, expected one of {}.",
            fields
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(m)
}

/// A body that did not decode: a 400 that names the field.
#[inline(never)]
fn body_error(e: crate::store::StoreError) -> ApiError {
    match e {
        crate::store::StoreError::Decode(what) => {
            let field = what.strip_prefix("column ").unwrap_or(&what).to_owned();
            ApiError::invalid_input(format!(
                "Invalid request body: `{field}` is missing or not valid."
            ))
        }
        e => e.into(),
    }
}

/// For PATCH bodies: absent → `None`, `null` → `Some(None)`, a value → `Some(Some(v))`.
pub fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

/// `page` (from 1) and `page_size` (1–100, default 20), as in Logto.
pub fn page(req: &Request) -> Result<Page, ApiError> {
    let bad = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, "guard.invalid_pagination", m);
    let mut page = 1i64;
    let mut size = 20i64;
    for (k, v) in query_pairs(req) {
        match k.as_str() {
            "page" => {
                page = v
                    .parse()
                    .ok()
                    .filter(|p| *p >= 1 && *p <= 1_000_000)
                    .ok_or_else(|| bad("page must be a whole number from 1."))?
            }
            "page_size" => {
                size = v
                    .parse()
                    .ok()
                    .filter(|s| (1..=100).contains(s))
                    .ok_or_else(|| bad("page_size must be a whole number from 1 to 100."))?
            }
            _ => {}
        }
    }
    Ok(Page {
        limit: size,
        offset: (page - 1) * size,
    })
}

/// Adds Logto's `Total-Number` header.
pub fn with_total(mut res: Response, total: i64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        res.headers_mut().insert(crate::web::TOTAL_NUMBER, v);
    }
    res
}

/// Trims `value` and checks its length in characters.
pub fn text(field: &str, value: &str, min: usize, max: usize) -> Result<String, ApiError> {
    let v = value.trim();
    let n = v.chars().count();
    if n < min || n > max {
        return Err(ApiError::invalid_input(if min > 0 {
            format!("`{field}` must be {min} to {max} characters long.")
        } else {
            format!("`{field}` must be at most {max} characters long.")
        }));
    }
    Ok(v.to_owned())
}

/// An absolute URI without a fragment. `web_only` limits it to http and https.
pub fn uri(field: &str, value: &str, web_only: bool) -> Result<String, ApiError> {
    let bad = |why: &str| ApiError::invalid_input(format!("`{field}`: `{value}` {why}."));
    if value.len() > 2048 {
        return Err(bad("is longer than 2048 characters"));
    }
    let url = Uri::parse(value).ok_or_else(|| bad("is not an absolute URI"))?;
    if url.fragment.is_some() {
        return Err(bad("must not have a fragment"));
    }
    let web = url.scheme.eq_ignore_ascii_case("http") || url.scheme.eq_ignore_ascii_case("https");
    if web && !url.is_web() {
        return Err(bad("has no host"));
    }
    if web_only && !web {
        return Err(bad("must use http or https"));
    }
    Ok(value.to_owned())
}

/// A uniqueness conflict as Logto answers it (422 with `code`); other store errors are ours.
pub fn unique(e: crate::store::StoreError, code: &'static str, what: &str) -> ApiError {
    match e {
        crate::store::StoreError::Unique(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            format!("{what} is already in use."),
        ),
        e => e.into(),
    }
}
