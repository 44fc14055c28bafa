//! The one place where errors become HTTP responses (ARCHITECTURE.md).
use crate::error::InternalError;
use crate::experience::policy::Refusal;
use crate::experience::state::StepError;
use crate::experience::Failure;
use crate::i18n::Lang;
use crate::json::{Json, Obj};
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::pages;
use crate::web::error::{ApiError, PageError};
use crate::web::http::header::{HeaderValue, WWW_AUTHENTICATE};
use crate::web::http::StatusCode;
use crate::web::{self, Response};

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
            data,
        } => {
            let mut body = Obj::new().str("code", code).str("message", &message);
            if let Some(data) = data {
                body = body.json("data", data);
            }
            let mut res = web::json_text(status, body.end());
            if status == StatusCode::UNAUTHORIZED {
                res.headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            res
        }
        ApiError::Internal(e) => {
            let id = log_internal(&e);
            web::json_text(
                StatusCode::INTERNAL_SERVER_ERROR,
                Obj::new()
                    .str("code", "unexpected_error")
                    .str(
                        "message",
                        &format!("Something went wrong on our side. Error id: {id}."),
                    )
                    .end(),
            )
        }
    }
}

/// RFC 6749 §5.2: a JSON body with `error` and `error_description`; 401 and a
/// `WWW-Authenticate` challenge for `invalid_client`.
pub fn oauth_error(e: OAuthError) -> Response {
    match e {
        OAuthError::Protocol { code, description } => {
            // 400, except 401 for a failed client authentication (RFC 6749 §5.2) and a
            // bad bearer token (RFC 6750 §3.1).
            let status = match code {
                ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
                _ => StatusCode::BAD_REQUEST,
            };
            let mut res = web::no_store(web::json_text(
                status,
                Obj::new()
                    .str("error", code.as_str())
                    .str("error_description", &description)
                    .end(),
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
            web::no_store(web::json_text(
                StatusCode::INTERNAL_SERVER_ERROR,
                Obj::new()
                    .str("error", ErrorCode::ServerError.as_str())
                    .str(
                        "error_description",
                        &format!("Something went wrong on our side. Error id: {id}."),
                    )
                    .end(),
            ))
        }
    }
}

/// A method the path does not take: 405 with an RFC 6749 error body.
pub fn method_not_allowed() -> Response {
    web::json_text(
        StatusCode::METHOD_NOT_ALLOWED,
        Obj::new()
            .str("error", ErrorCode::InvalidRequest.as_str())
            .str("error_description", "method not allowed")
            .end(),
    )
}

/// A page for a person, in `lang` where the text is known in it.
/// The answer to a request whose body is over [`web::MAX_BODY`], in the wire form of the face
/// its path belongs to: `{code, message}` for the JSON APIs, an RFC 6749 `invalid_request`
/// for the OAuth endpoints, a page otherwise. Always 413.
pub fn too_large(path: &str, lang: Lang) -> Response {
    let status = StatusCode::PAYLOAD_TOO_LARGE;
    let message = format!(
        "The request body is larger than {} KiB.",
        web::MAX_BODY / 1024
    );
    if path == "/api" || path.starts_with("/api/") {
        api_error(ApiError::new(status, "guard.request_too_large", message))
    } else if path.starts_with("/oidc/token") || path == "/oidc/me" {
        let mut res = oauth_error(OAuthError::new(ErrorCode::InvalidRequest, message));
        *res.status_mut() = status;
        res
    } else {
        page_error(
            PageError::Invalid {
                status,
                msg: crate::i18n::Msg::BodyTooLarge,
            },
            lang,
        )
    }
}

pub fn page_error(e: PageError, lang: Lang) -> Response {
    match e {
        PageError::Config(e) => {
            log::error!("configuration error: {e}");
            web::html(StatusCode::INTERNAL_SERVER_ERROR, pages::config_error(&e))
        }
        PageError::NotFound => web::html(StatusCode::NOT_FOUND, pages::not_found(lang)),
        PageError::FormExpired => web::html(
            StatusCode::FORBIDDEN,
            pages::invalid(lang, crate::i18n::Msg::FormExpired),
        ),
        PageError::Invalid { status, msg } => web::html(status, pages::invalid(lang, msg)),
        PageError::Internal(e) => {
            let id = log_internal(&e);
            web::html(
                StatusCode::INTERNAL_SERVER_ERROR,
                pages::internal_error(lang, &id),
            )
        }
    }
}

/// The status of a refused way in, for the API and the pages alike.
pub fn refusal_status(r: Refusal) -> StatusCode {
    match r {
        Refusal::SignInClosed | Refusal::RegistrationClosed => StatusCode::FORBIDDEN,
        Refusal::SignInMethod | Refusal::SignUpMethod | Refusal::ForgotPasswordMethod => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }
}

/// The status of a hosted page that shows a failed step in words: the Experience API's,
/// except that a wrong password or an unusable step is a plain 400 and a missing connector
/// a 503 (the person can do nothing about it now).
pub fn page_failure_status(f: &Failure) -> StatusCode {
    match f {
        Failure::InvalidCredentials | Failure::NeedsVerification | Failure::Step(_) => {
            StatusCode::BAD_REQUEST
        }
        Failure::NoConnector => StatusCode::SERVICE_UNAVAILABLE,
        f => failure_status(f),
    }
}

/// Logto's names of MFA factors.
fn names(factors: &[crate::mfa::Factor]) -> Json {
    Json::strs(factors.iter().map(|x| x.as_str()))
}

/// Logto's `maskedIdentifiers`: `{EmailVerificationCode?, PhoneVerificationCode?}`.
fn masked_view(masked: &[(crate::mfa::Factor, String)]) -> Json {
    masked
        .iter()
        .fold(Obj::new(), |o, (f, m)| o.str(f.as_str(), m))
        .end()
}

/// The Experience API's wire form of a failed step: Logto's code and status, and as the
/// message the English text the hosted pages show for the same failure.
/// The status of a failed experience step: Logto's, for the Experience API and the hosted
/// pages alike.
pub fn failure_status(f: &Failure) -> StatusCode {
    use StatusCode as S;
    match f {
        Failure::Step(StepError::UnknownVerification | StepError::NotIdentified) => S::NOT_FOUND,
        Failure::Step(StepError::MissingProfile(_)) => S::UNPROCESSABLE_ENTITY,
        Failure::Step(_) | Failure::NoInteraction => S::BAD_REQUEST,
        Failure::InvalidCredentials => S::UNPROCESSABLE_ENTITY,
        Failure::Locked { .. } | Failure::ResendTooSoon { .. } => S::TOO_MANY_REQUESTS,
        Failure::SecondProof { .. } | Failure::MfaRequired { .. } => S::FORBIDDEN,
        Failure::MissingMfa { .. }
        | Failure::BackupCodeRequired
        | Failure::SuggestMfa(_)
        | Failure::SuggestAdditionalMfa { .. }
        | Failure::PasskeyPreferred
        | Failure::TotpAlreadyInUse
        | Failure::BackupCodeAlone
        | Failure::MfaNotSkippable => S::UNPROCESSABLE_ENTITY,
        Failure::IdentityConflict => S::CONFLICT,
        Failure::BindMfaExisted | Failure::Social(_) | Failure::SocialStateMismatch => {
            S::BAD_REQUEST
        }
        Failure::NoSocialConnector
        | Failure::IdentityNotExist { .. }
        | Failure::SamlSessionNotFound => S::NOT_FOUND,
        Failure::IdentityInUse | Failure::SsoEnabled(_) => S::UNPROCESSABLE_ENTITY,
        Failure::NotForForgotPassword => S::BAD_REQUEST,
        Failure::InvalidTotp
        | Failure::WebAuthnFailed(_)
        | Failure::NoPasskey
        | Failure::PasskeyPending
        | Failure::InvalidBackupCode
        | Failure::MfaFactorNotEnabled
        | Failure::MfaBlocked { .. } => S::BAD_REQUEST,
        Failure::Refused(r) => refusal_status(*r),
        Failure::UsernameTaken
        | Failure::WeakPassword(_)
        | Failure::NeedsVerification
        | Failure::TermsNotAgreed
        | Failure::EmailTaken => S::UNPROCESSABLE_ENTITY,
        Failure::InvalidUsername
        | Failure::UsernameLength { .. }
        | Failure::InvalidEmail
        | Failure::InvalidPhone
        | Failure::Invalid(_)
        | Failure::TooLong
        | Failure::WrongCode
        | Failure::CodeExpiredOrLocked => S::BAD_REQUEST,
        Failure::NoConnector => S::NOT_IMPLEMENTED,
        Failure::UserNotFound => S::NOT_FOUND,
        Failure::Internal(_) => S::INTERNAL_SERVER_ERROR,
    }
}

impl From<Failure> for ApiError {
    fn from(f: Failure) -> Self {
        let (msg, args) = f.msg(0);
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let words = Lang::En.fill(msg, &args);
        let status = failure_status(&f);
        let e = |code: &'static str, message: String| ApiError::new(status, code, message);
        let said = |code: &'static str| ApiError::new(status, code, words.clone());
        match f {
            Failure::Step(StepError::NoEvent) => e(
                "session.interaction_event_not_set",
                "Start with PUT /api/experience {interactionEvent}.".into(),
            ),
            Failure::Step(StepError::UnknownVerification) => e(
                "session.verification_session_not_found",
                "No such verification in this interaction.".into(),
            ),
            Failure::Step(StepError::WrongEvent) => e(
                "session.interaction_event_mismatch",
                "This step does not belong to the current event.".into(),
            ),
            Failure::Step(StepError::AlreadyIdentified) => e(
                "session.already_identified",
                "This interaction has already identified a user.".into(),
            ),
            Failure::Step(StepError::NotIdentified) => e(
                "session.identifier_not_found",
                "No user is identified yet.".into(),
            ),
            Failure::Step(StepError::MissingProfile(fields)) => e(
                "user.missing_profile",
                format!(
                    "Missing profile: {}.",
                    fields
                        .iter()
                        .map(|f| f.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            Failure::Step(StepError::NotVerified) => e(
                "session.verification_failed",
                "The code of this verification has not been verified.".into(),
            ),
            Failure::NoInteraction => said("session.not_found"),
            Failure::InvalidCredentials => said("session.invalid_credentials"),
            Failure::Locked { until } => e(
                "session.too_many_attempts",
                format!("Too many failed attempts; locked until {until} (Unix time)."),
            ),
            Failure::Refused(r) => {
                let code = match r {
                    Refusal::SignInClosed => "user.sign_in_not_allowed",
                    Refusal::RegistrationClosed => "user.registration_not_allowed",
                    Refusal::SignInMethod => "user.sign_in_method_not_enabled",
                    Refusal::SignUpMethod => "user.sign_up_method_not_enabled",
                    Refusal::ForgotPasswordMethod => "session.forgot_password_not_enabled",
                };
                said(code)
            }
            Failure::UsernameTaken => said("user.username_already_in_use"),
            Failure::InvalidUsername => ApiError::invalid_input(
                "Use 1 to 128 letters, digits and _ for the username, not starting with a digit.",
            ),
            Failure::UsernameLength { .. } => ApiError::invalid_input(words),
            Failure::InvalidEmail | Failure::InvalidPhone => ApiError::invalid_input(words),
            Failure::Invalid(m) => ApiError::invalid_input(m),
            Failure::TooLong => ApiError::invalid_input(words),
            Failure::MfaRequired { available, masked } => {
                said("session.mfa.require_mfa_verification").with_data(
                    Obj::new()
                        .json("availableFactors", names(&available))
                        .json("maskedIdentifiers", masked_view(&masked))
                        .end(),
                )
            }
            Failure::SuggestAdditionalMfa {
                available,
                masked,
                passkey,
            } => e(
                "session.mfa.suggest_additional_mfa",
                "Add a second factor that is not also a way to sign in, or skip.".into(),
            )
            .with_data(
                Obj::new()
                    .json("availableFactors", names(&available))
                    .json("maskedIdentifiers", masked_view(&masked))
                    .bool("isWebAuthnUsedAsSignInPasskey", passkey)
                    .bool("skippable", true)
                    .bool("suggestion", true)
                    .end(),
            ),
            Failure::PasskeyPreferred => e(
                "user.passkey_preferred",
                "Create a passkey to sign in with next time, or skip.".into(),
            ),
            Failure::MissingMfa {
                available,
                skippable,
            } => {
                let mut data = Obj::new().json("availableFactors", names(&available));
                if skippable {
                    data = data.bool("skippable", true);
                }
                e("user.missing_mfa", "Bind an MFA factor first.".into()).with_data(data.end())
            }
            Failure::BackupCodeRequired => said("session.mfa.backup_code_required"),
            Failure::BindMfaExisted => said("session.mfa.bind_mfa_existed"),
            Failure::NoSocialConnector => {
                e("entity.not_found", "No social connector of that id.".into())
            }
            Failure::Social(why) => {
                use crate::social::oidc::SocialError as S;
                let code = match &why {
                    S::Declined(_) => "connector.authorization_failed",
                    S::CodeRefused(_) => "connector.social_auth_code_invalid",
                    S::BadIdToken(_) => "connector.social_id_token_invalid",
                    S::Provider(_) => "connector.general",
                    S::BadAssertion(_) => "connector.invalid_response",
                };
                e(code, why.to_string())
            }
            Failure::SamlSessionNotFound => e(
                "session.connector_validation_session_not_found",
                "No sign-in is waiting for this SAML response.".into(),
            ),
            Failure::SocialStateMismatch => e(
                "session.csrf_token_mismatch",
                "The answer's state is not the one this sign-in sent.".into(),
            ),
            Failure::IdentityNotExist { related } => {
                let err = e(
                    "user.identity_not_exist",
                    "No user has this social identity.".into(),
                );
                match related {
                    Some((kind, value)) => err.with_data(
                        Obj::new()
                            .json(
                                "relatedUser",
                                Obj::new()
                                    .str("type", kind)
                                    .str("value", &crate::mfa::masked(&value))
                                    .end(),
                            )
                            .end(),
                    ),
                    None => err,
                }
            }
            Failure::IdentityInUse => e(
                "user.identity_already_in_use",
                "This social identity belongs to another user.".into(),
            ),
            Failure::SsoEnabled(ids) => e(
                "session.sso_enabled",
                "This email domain signs in through enterprise SSO.".into(),
            )
            .with_data(Obj::new().json("ssoConnectors", Json::strs(&ids)).end()),
            Failure::SuggestMfa(available) => {
                e("user.suggest_mfa", "Add a second factor, or skip.".into()).with_data(
                    Obj::new()
                        .json("availableFactors", names(&available))
                        .bool("skippable", true)
                        .end(),
                )
            }
            Failure::InvalidTotp => said("session.mfa.invalid_totp_code"),
            Failure::InvalidBackupCode => said("session.mfa.invalid_backup_code"),
            Failure::WebAuthnFailed(why) => said("session.mfa.webauthn_verification_failed")
                .with_data(Obj::new().str("message", &why).end()),
            Failure::NoPasskey => said("session.mfa.webauthn_verification_not_found"),
            Failure::NotForForgotPassword => e(
                "session.not_supported_for_forgot_password",
                "MFA steps are not part of a password reset.".into(),
            ),
            Failure::PasskeyPending => said("session.passkey_sign_in.pending_info_not_found"),
            Failure::IdentityConflict => said("session.identity_conflict"),
            Failure::MfaFactorNotEnabled => e(
                "session.mfa.mfa_factor_not_enabled",
                "This MFA factor is not enabled.".into(),
            ),
            Failure::TotpAlreadyInUse => e(
                "user.totp_already_in_use",
                "The user already has an authenticator app.".into(),
            ),
            Failure::BackupCodeAlone => e(
                "session.mfa.backup_code_can_not_be_alone",
                "Backup codes need another factor.".into(),
            ),
            Failure::MfaNotSkippable => e(
                "session.mfa.mfa_policy_not_user_controlled",
                "The MFA policy does not allow skipping.".into(),
            ),
            Failure::MfaBlocked { until } => e(
                "session.verification_blocked_too_many_attempts",
                format!("Too many wrong codes; blocked until {until} (Unix time)."),
            ),
            Failure::SecondProof { verification_id } => said("session.second_proof_required")
                .with_data(Obj::new().str("verificationId", &verification_id).end()),
            Failure::WeakPassword(r) => e(
                "password.rejected",
                r.iter()
                    .map(|x| x.describe(Lang::En))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Failure::NeedsVerification => said("session.verification_failed"),
            Failure::TermsNotAgreed => said("user.terms_not_agreed"),
            Failure::ResendTooSoon { .. } => said("verification_code.too_many_requests"),
            Failure::WrongCode => said("verification_code.code_mismatch"),
            Failure::CodeExpiredOrLocked => said("verification_code.exceed_max_try"),
            Failure::NoConnector => said("connector.not_found"),
            Failure::UserNotFound => said("user.user_not_exist"),
            Failure::EmailTaken => said("user.email_already_in_use"),
            Failure::Internal(i) => ApiError::Internal(i),
        }
    }
}
