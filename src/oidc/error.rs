//! OAuth 2.0 errors, as RFC 6749 §5.2 (and the RFCs that add codes) define them.
use crate::error::InternalError;
use crate::i18n::Msg;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// "The request is missing a required parameter, includes an unsupported parameter value
    /// (other than grant type), repeats a parameter, includes multiple credentials, utilizes
    /// more than one mechanism for authenticating the client, or is otherwise malformed."
    InvalidRequest,
    /// "Client authentication failed (e.g., unknown client, no client authentication included,
    /// or unsupported authentication method)."
    InvalidClient,
    /// "The provided authorization grant (e.g., authorization code, resource owner
    /// credentials) or refresh token is invalid, expired, revoked, …"
    InvalidGrant,
    /// "The authenticated client is not authorized to use this authorization grant type."
    UnauthorizedClient,
    /// "The authorization grant type is not supported by the authorization server."
    UnsupportedGrantType,
    /// "The requested scope is invalid, unknown, malformed, or exceeds the scope granted by
    /// the resource owner."
    InvalidScope,
    /// RFC 8707 §2: "The requested resource is invalid, missing, unknown, or malformed."
    InvalidTarget,
    /// RFC 6750 §3.1: "The access token provided is expired, revoked, malformed, or invalid
    /// for other reasons."
    InvalidToken,
    /// §4.1.2.1: "The resource owner or authorization server denied the request."
    AccessDenied,
    /// §4.1.2.1: "The authorization server does not support obtaining an authorization code
    /// using this method."
    UnsupportedResponseType,
    /// OIDC Core §3.1.2.6: "The Authorization Server requires End-User authentication."
    LoginRequired,
    /// OIDC Core §3.1.2.6: "The Authorization Server requires End-User consent."
    ConsentRequired,
    /// OIDC Core §3.1.2.6: "The OP does not support use of the request parameter."
    RequestNotSupported,
    /// OIDC Core §3.1.2.6: "The OP does not support use of the request_uri parameter."
    RequestUriNotSupported,
    /// §4.1.2.1: "The authorization server encountered an unexpected condition that
    /// prevented it from fulfilling the request."
    ServerError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::ServerError => "server_error",
        }
    }
}

#[derive(Debug)]
pub enum OAuthError {
    Protocol {
        code: ErrorCode,
        description: String,
    },
    Internal(InternalError),
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        OAuthError::Protocol {
            code,
            description: description.into(),
        }
    }

    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            OAuthError::Protocol { code, .. } => Some(*code),
            OAuthError::Internal(_) => None,
        }
    }
}

impl<E: Into<InternalError>> From<E> for OAuthError {
    fn from(e: E) -> Self {
        OAuthError::Internal(e.into())
    }
}

/// A failure of the browser flow (authorize, consent, sign-out) that is shown to the person
/// rather than sent to the client: the client or its redirect URI cannot be trusted, or the
/// interaction is gone.
#[derive(Debug)]
pub enum FlowError {
    Show(Msg),
    Internal(InternalError),
}

impl<E: Into<InternalError>> From<E> for FlowError {
    fn from(e: E) -> Self {
        FlowError::Internal(e.into())
    }
}
