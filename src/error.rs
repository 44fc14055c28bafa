//! Error types of the layers above storage. Each is turned into its wire form in exactly
//! one place, `wire.rs`.
use crate::config::ConfigError;
use crate::crypto::CryptoError;
use crate::store::StoreError;
use http::StatusCode;
use std::fmt;

/// A failure of our own machinery, never the client's fault. The client sees only an error
/// id; the detail goes to the log under that id.
#[derive(Debug)]
pub enum InternalError {
    Store(StoreError),
    Crypto(CryptoError),
}

impl fmt::Display for InternalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InternalError::Store(e) => e.fmt(f),
            InternalError::Crypto(e) => e.fmt(f),
        }
    }
}

impl From<StoreError> for InternalError {
    fn from(e: StoreError) -> Self {
        InternalError::Store(e)
    }
}
impl From<CryptoError> for InternalError {
    fn from(e: CryptoError) -> Self {
        InternalError::Crypto(e)
    }
}

/// An error of the JSON APIs, answered as `{code, message}` with `status`.
#[derive(Debug)]
pub enum ApiError {
    Client {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    Internal(InternalError),
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Client {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "guard.invalid_input", message)
    }
    pub fn not_found(entity: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "entity.not_exists_with_id",
            format!("The {entity} with ID `{id}` does not exist."),
        )
    }
    pub fn unauthorized(code: &'static str, message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }
}

impl<E: Into<InternalError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError::Internal(e.into())
    }
}

/// An error shown to a person as a page.
#[derive(Debug)]
pub enum PageError {
    Config(ConfigError),
    NotFound,
    /// The request cannot be served; `message` tells the person what happened.
    Invalid {
        status: StatusCode,
        message: String,
    },
    Internal(InternalError),
}

impl PageError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        PageError::Invalid {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl<E: Into<InternalError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError::Internal(e.into())
    }
}
