//! The one place where errors become HTTP responses (DESIGN.md, rule 3).
use crate::error::{ApiError, InternalError, PageError};
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::pages;
use crate::web::{self, Response};
use http::header::{HeaderValue, WWW_AUTHENTICATE};
use http::StatusCode;
use serde_json::json;

/// Logs an internal failure under a fresh id and returns that id for the client.
fn log_internal(e: &InternalError) -> String {
    let id = crate::crypto::random::id()
        .map(|s| s.chars().take(12).collect())
        .unwrap_or_else(|_| "unavailable".to_owned());
    log::error!("error {id}: {e}");
    id
}

pub fn api_error(e: ApiError) -> Response {
    match e {
        ApiError::Client {
            status,
            code,
            message,
        } => {
            let mut res = web::json(status, &json!({ "code": code, "message": message }));
            if status == StatusCode::UNAUTHORIZED {
                res.headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            res
        }
        ApiError::Internal(e) => {
            let id = log_internal(&e);
            web::json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({
                    "code": "unexpected_error",
                    "message": format!("Something went wrong on our side. Error id: {id}."),
                }),
            )
        }
    }
}

/// RFC 6749 §5.2: a JSON body with `error` and `error_description`; 401 and a
/// `WWW-Authenticate` challenge for `invalid_client`.
pub fn oauth_error(e: OAuthError) -> Response {
    match e {
        OAuthError::Protocol { code, description } => {
            let status = code.status();
            let mut res = web::no_store(web::json(
                status,
                &json!({ "error": code.as_str(), "error_description": description }),
            ));
            let challenge = match code {
                ErrorCode::InvalidClient => Some("Basic realm=\"gatehouse\""),
                // RFC 6750 §3.
                ErrorCode::InvalidToken => Some("Bearer error=\"invalid_token\""),
                _ => None,
            };
            if let Some(c) = challenge {
                res.headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static(c));
            }
            res
        }
        OAuthError::Internal(e) => {
            let id = log_internal(&e);
            web::no_store(web::json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({
                    "error": "server_error",
                    "error_description": format!("Something went wrong on our side. Error id: {id}."),
                }),
            ))
        }
    }
}

pub fn page_error(e: PageError) -> Response {
    match e {
        PageError::Config(e) => {
            log::error!("configuration error: {e}");
            web::html(StatusCode::INTERNAL_SERVER_ERROR, pages::config_error(&e))
        }
        PageError::NotFound => web::html(StatusCode::NOT_FOUND, pages::not_found()),
        PageError::Invalid { status, message } => web::html(
            status,
            pages::flow::message("Something is not right", &message),
        ),
        PageError::Internal(e) => {
            let id = log_internal(&e);
            web::html(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::internal_error(&id),
            )
        }
    }
}
