//! The one place where errors become HTTP responses (DESIGN.md, rule 3).
use crate::error::{ApiError, InternalError, PageError};
use crate::experience::service::Failure;
use crate::experience::state::StepError;
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::pages;
use crate::pages::i18n::Lang;
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

/// A page for a person, in `lang` where the text is known in it.
pub fn page_error(e: PageError, lang: Lang) -> Response {
    match e {
        PageError::Config(e) => {
            log::error!("configuration error: {e}");
            web::html(StatusCode::INTERNAL_SERVER_ERROR, pages::config_error(&e))
        }
        PageError::NotFound => web::html(StatusCode::NOT_FOUND, pages::not_found(lang)),
        PageError::Invalid { status, message } => web::html(status, pages::invalid(lang, &message)),
        PageError::Internal(e) => {
            let id = log_internal(&e);
            web::html(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::internal_error(lang, &id),
            )
        }
    }
}

/// The Experience API's wire form of a failed step (the hosted pages word the same failures
/// in the user's language instead).
impl From<Failure> for ApiError {
    fn from(f: Failure) -> Self {
        let e = |status, code: &'static str, message: String| ApiError::new(status, code, message);
        use StatusCode as S;
        match f {
            Failure::Step(StepError::NoEvent) => e(
                S::BAD_REQUEST,
                "session.interaction_event_not_set",
                "Start with PUT /api/experience {interactionEvent}.".into(),
            ),
            Failure::Step(StepError::UnknownVerification) => e(
                S::NOT_FOUND,
                "session.verification_session_not_found",
                "No such verification in this interaction.".into(),
            ),
            Failure::Step(StepError::WrongEvent) => e(
                S::BAD_REQUEST,
                "session.interaction_event_mismatch",
                "This step does not belong to the current event.".into(),
            ),
            Failure::Step(StepError::AlreadyIdentified) => e(
                S::BAD_REQUEST,
                "session.already_identified",
                "This interaction has already identified a user.".into(),
            ),
            Failure::Step(StepError::NotIdentified) => e(
                S::BAD_REQUEST,
                "session.identifier_not_found",
                "No user is identified yet.".into(),
            ),
            Failure::Step(StepError::MissingProfile(fields)) => e(
                S::UNPROCESSABLE_ENTITY,
                "user.missing_profile",
                format!("Missing profile: {}.", fields.join(", ")),
            ),
            Failure::Step(StepError::NotVerified) => e(
                S::BAD_REQUEST,
                "session.verification_failed",
                "The code of this verification has not been verified.".into(),
            ),
            Failure::NoInteraction => e(
                S::BAD_REQUEST,
                "session.not_found",
                "No sign-in is in progress in this browser. Start it at /oidc/auth.".into(),
            ),
            Failure::InvalidCredentials => e(
                S::UNPROCESSABLE_ENTITY,
                "session.invalid_credentials",
                "The account or password is incorrect.".into(),
            ),
            Failure::Locked { until } => e(
                S::TOO_MANY_REQUESTS,
                "session.too_many_attempts",
                format!("Too many failed attempts; locked until {until} (Unix time)."),
            ),
            Failure::MethodNotEnabled => e(
                S::UNPROCESSABLE_ENTITY,
                "user.sign_in_method_not_enabled",
                "This way of signing in is not enabled.".into(),
            ),
            Failure::UsernameTaken => e(
                S::UNPROCESSABLE_ENTITY,
                "user.username_already_in_use",
                "This username is already in use.".into(),
            ),
            Failure::InvalidUsername(m) | Failure::Invalid(m) => ApiError::invalid_input(m),
            Failure::WeakPassword(r) => e(
                S::UNPROCESSABLE_ENTITY,
                "password.rejected",
                r.iter()
                    .map(|x| x.describe(crate::pages::i18n::Lang::En))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Failure::NeedsVerification => e(
                S::UNPROCESSABLE_ENTITY,
                "session.verification_failed",
                "Verify the email address or phone number with a code first.".into(),
            ),
            Failure::TermsNotAgreed => e(
                S::UNPROCESSABLE_ENTITY,
                "user.terms_not_agreed",
                "Agree to the terms of use and privacy policy first.".into(),
            ),
            Failure::RegistrationClosed => e(
                S::FORBIDDEN,
                "user.registration_not_allowed",
                "Registration is disabled.".into(),
            ),
            Failure::SignInClosed => e(
                S::FORBIDDEN,
                "user.sign_in_not_allowed",
                "Sign-in is disabled; only registration is open.".into(),
            ),
            Failure::ResendTooSoon { seconds } => e(
                S::TOO_MANY_REQUESTS,
                "verification_code.too_many_requests",
                format!("Wait {seconds} s before asking for another code."),
            ),
            Failure::WrongCode => e(
                S::BAD_REQUEST,
                "verification_code.code_mismatch",
                "The code is wrong.".into(),
            ),
            Failure::CodeExpiredOrLocked => e(
                S::BAD_REQUEST,
                "verification_code.exceed_max_try",
                "This code has expired, was used, or had too many wrong tries. Ask for a new one."
                    .into(),
            ),
            Failure::NoConnector => e(
                S::NOT_IMPLEMENTED,
                "connector.not_found",
                "No connector is configured to send this message.".into(),
            ),
            Failure::UserNotFound => e(
                S::NOT_FOUND,
                "user.user_not_exist",
                "No account uses this identifier.".into(),
            ),
            Failure::EmailTaken => e(
                S::UNPROCESSABLE_ENTITY,
                "user.email_already_in_use",
                "This email address is already in use.".into(),
            ),
            Failure::Internal(i) => ApiError::Internal(i),
        }
    }
}
