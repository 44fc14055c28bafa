//! The faces' errors: `{code, message}` for the JSON APIs, a page for a person. Mapped to
//! HTTP in `wire.rs`.
use crate::config::ConfigError;
use crate::error::InternalError;
use crate::i18n::Msg;
use crate::oidc::error::FlowError;
use crate::web::http::StatusCode;

/// An error of the JSON APIs, answered as `{code, message}` with `status`.
#[derive(Debug)]
pub enum ApiError {
    Client {
        status: StatusCode,
        code: &'static str,
        message: String,
        /// Logto's optional `data`: what the client needs to go on.
        data: Option<crate::json::Json>,
    },
    Internal(InternalError),
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Client {
            status,
            code,
            message: message.into(),
            data: None,
        }
    }
    pub fn with_data(self, value: crate::json::Json) -> Self {
        match self {
            ApiError::Client {
                status,
                code,
                message,
                ..
            } => ApiError::Client {
                status,
                code,
                message,
                data: Some(value),
            },
            other => other,
        }
    }
    /// The same error under another of Logto's codes.
    pub fn recoded(self, new_code: &'static str) -> Self {
        match self {
            ApiError::Client {
                status,
                message,
                data,
                ..
            } => ApiError::Client {
                status,
                code: new_code,
                message,
                data,
            },
            other => other,
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
    /// A form came without its CSRF token, or with a stale one.
    FormExpired,
    /// The request cannot be served; `msg` tells the person what happened.
    Invalid {
        status: StatusCode,
        msg: Msg,
    },
    Internal(InternalError),
}

impl PageError {
    pub fn bad_request(msg: Msg) -> Self {
        PageError::Invalid {
            status: StatusCode::BAD_REQUEST,
            msg,
        }
    }
}

/// A flow failure shown to the person is a 400 page in their language.
impl From<FlowError> for PageError {
    fn from(e: FlowError) -> Self {
        match e {
            FlowError::Show(msg) => PageError::bad_request(msg),
            FlowError::Internal(e) => PageError::Internal(e),
        }
    }
}

impl From<InternalError> for PageError {
    fn from(e: InternalError) -> Self {
        PageError::Internal(e)
    }
}
impl From<crate::store::StoreError> for PageError {
    fn from(e: crate::store::StoreError) -> Self {
        PageError::Internal(e.into())
    }
}
impl From<crate::crypto::CryptoError> for PageError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        PageError::Internal(e.into())
    }
}
