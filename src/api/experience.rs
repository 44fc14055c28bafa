//! The Experience API (`/api/experience`, Logto's "bring your own UI"): JSON over the same
//! operations the hosted pages use, bound to the `/oidc/auth` request by its cookie.
use super::input::object_body;
use crate::ctx::Ctx;
use crate::experience::interaction::{self, Current};
use crate::experience::passkeys::{self, Ceremony};
use crate::experience::profile::{self, Field};
use crate::experience::state::{Event, StepError};
use crate::experience::submit::{self, Submitted};
use crate::experience::{codes, factors, mfa_codes, password, Failure};
use crate::identity::Identifier;
use crate::json::{Json, Obj};
use crate::store::{Db, Kv};
use crate::web::error::ApiError;
use crate::web::http::{Method, StatusCode};
use crate::web::{self, cookies, Request, Response};

/// A WebAuthn ceremony begun: `{verificationId, <key>: options}`.
fn ceremony(c: Ceremony, key: &str) -> Response {
    web::json_text(
        StatusCode::OK,
        Obj::new()
            .str("verificationId", &c.verification_id)
            .value(key, &c.options)
            .end(),
    )
}

/// `{verificationId}`: what most verification steps answer.
fn verification_id(id: &str) -> Response {
    web::json_text(StatusCode::OK, Obj::new().str("verificationId", id).end())
}

// The bodies, read column by column (`input::object_body`), each with its fields.
struct EventBody {
    interaction_event: Event,
}
crate::from_row!(EventBody { interaction_event = "interactionEvent" });
const EVENT_FIELDS: &[&str] = &["interactionEvent", "captchaToken"];

struct TotpVerifyBody {
    code: String,
    verification_id: Option<String>,
}
crate::from_row!(TotpVerifyBody { code, verification_id = "verificationId" });

/// `{verificationId, payload}` of the WebAuthn verify routes (`payload` is what
/// `navigator.credentials` gave, as JSON; `mfa::webauthn` reads it).
struct WebAuthnBody {
    verification_id: Option<String>,
    payload: serde_json::Value,
}
crate::from_row!(WebAuthnBody { verification_id = "verificationId", payload });

/// `{identifierType}` and `{verificationId, code, identifierType}` of the MFA code routes.
struct MfaCodeBody {
    identifier_type: crate::identity::Channel,
    verification_id: Option<String>,
    code: Option<String>,
}
crate::from_row!(MfaCodeBody {
    identifier_type = "identifierType",
    verification_id = "verificationId",
    code
});

struct VerificationIdBody {
    verification_id: String,
}
crate::from_row!(VerificationIdBody { verification_id = "verificationId" });

struct PasskeyForBody {
    identifier: IdentifierBody,
}
crate::from_row!(PasskeyForBody { identifier });

struct CodeOnlyBody {
    code: String,
}
crate::from_row!(CodeOnlyBody { code });

struct BindMfaBody {
    kind: crate::mfa::Factor,
    verification_id: String,
}
crate::from_row!(BindMfaBody { kind = "type", verification_id = "verificationId" });

pub(super) struct IdentifierBody {
    pub kind: Identifier,
    pub value: String,
}
crate::from_row!(IdentifierBody { kind = "type", value });
impl crate::store::Column for IdentifierBody {
    fn column(v: Option<&serde_json::Value>) -> Option<Self> {
        // `{type, value}` and nothing else.
        let m = v?.as_object()?;
        if m.keys().any(|k| k != "type" && k != "value") {
            return None;
        }
        crate::store::FromRow::from_row(m).ok()
    }
}

struct PasswordBody {
    identifier: IdentifierBody,
    password: String,
}
crate::from_row!(PasswordBody {
    identifier,
    password
});

struct SendCodeBody {
    identifier: IdentifierBody,
    interaction_event: Event,
}
crate::from_row!(SendCodeBody { identifier, interaction_event = "interactionEvent" });

struct VerifyCodeBody {
    verification_id: String,
    code: String,
}
crate::from_row!(VerifyCodeBody { verification_id = "verificationId", code });

struct NewPasswordBody {
    password: String,
}
crate::from_row!(NewPasswordBody { password });

#[derive(Default)]
struct IdentificationBody {
    verification_id: Option<String>,
    link_social_identity: Option<bool>,
}
crate::from_row!(IdentificationBody {
    verification_id = "verificationId",
    link_social_identity = "linkSocialIdentity"
});

struct ProfileBody {
    kind: String,
    value: String,
}
crate::from_row!(ProfileBody { kind = "type", value });

use crate::web::client_ip as ip;

/// An optional JSON body: empty is the default.
fn optional_body<T: crate::store::FromRow + Default>(
    req: &Request,
    fields: &[&str],
) -> Result<T, ApiError> {
    if req.body().is_empty() {
        Ok(T::default())
    } else {
        object_body(req, fields)
    }
}

pub async fn handle<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: Request) -> Result<Response, ApiError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let route = path.strip_prefix("/api/experience").unwrap_or_default();
    let method = *req.method();
    // The API acts on the browser's interaction cookie: nothing another site sends counts.
    match crate::web::csrf::same_origin_json(&req, &ctx.origin) {
        Ok(()) => {}
        Err(crate::web::csrf::Refused::CrossSite) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "session.cross_site_request",
                "State-changing requests must come from this provider's own origin.",
            ))
        }
        Err(crate::web::csrf::Refused::NotJson) => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "guard.invalid_input",
                "The body must be JSON (Content-Type: application/json), even when empty.",
            ))
        }
    }
    let interaction_id = cookies::get(&req, cookies::INTERACTION);
    let mut c: Current = interaction::load(ctx, interaction_id.as_deref()).await?;
    if (route, &method) == ("/sso-connectors", &Method::GET) {
        return super::experience_social::sso_connectors(ctx, &c, &req).await;
    }
    // Social and enterprise SSO sign-in: `/verification/{social|sso}/{connectorId}/…`.
    let verification = (route
        .strip_prefix("/verification/social/")
        .map(|r| (r, false)))
    .or_else(|| route.strip_prefix("/verification/sso/").map(|r| (r, true)));
    if let Some(rest) = verification {
        let answer = super::experience_social::step(ctx, &mut c, rest, &req).await?;
        interaction::save(ctx, &c).await?;
        return Ok(web::json(StatusCode::OK, &answer));
    }
    let res = match (route, &method) {
        ("", &Method::PUT) => {
            let b: EventBody = object_body(&req, EVENT_FIELDS)?;
            interaction::start(&mut c, b.interaction_event)?;
            web::empty(StatusCode::NO_CONTENT)
        }
        ("/interaction-event", &Method::PUT) => {
            let b: EventBody = object_body(&req, &["interactionEvent"])?;
            interaction::switch(&mut c, b.interaction_event)?;
            web::empty(StatusCode::NO_CONTENT)
        }
        ("/interaction", &Method::GET) => {
            return Ok(web::json_text(
                StatusCode::OK,
                super::experience_view::interaction(&c),
            ));
        }
        ("/verification/password", &Method::POST) => {
            let b: PasswordBody = object_body(&req, &["identifier", "password"])?;
            let lang = interaction::language(&c, &web::accepted_languages(&req));
            let verified = password::verify(
                ctx,
                &mut c,
                b.identifier.kind,
                &b.identifier.value,
                &b.password,
                ip(&req),
                lang,
            )
            .await;
            if matches!(verified, Err(Failure::SecondProof { .. })) {
                // The code sent for the locked account is part of the interaction now.
                interaction::save(ctx, &c).await?;
            }
            let id = verified?;
            interaction::save(ctx, &c).await?;
            return Ok(verification_id(&id));
        }
        ("/verification/totp/secret", &Method::POST) => {
            let t = factors::totp_secret(ctx, &mut c).await?;
            interaction::save(ctx, &c).await?;
            return Ok(web::json_text(
                StatusCode::OK,
                Obj::new()
                    .str("verificationId", &t.verification_id)
                    .str("secret", &t.secret)
                    .str("secretQrCode", &t.qr_data_url)
                    .end(),
            ));
        }
        ("/verification/totp/verify", &Method::POST) => {
            let b: TotpVerifyBody = object_body(&req, &["code", "verificationId"])?;
            let verified =
                factors::totp_verify(ctx, &mut c, &b.code, b.verification_id.as_deref()).await;
            let id = verified?;
            interaction::save(ctx, &c).await?;
            return Ok(verification_id(&id));
        }
        ("/verification/backup-code/generate", &Method::POST) => {
            let (id, codes) = factors::backup_generate(ctx, &mut c).await?;
            interaction::save(ctx, &c).await?;
            return Ok(web::json_text(
                StatusCode::OK,
                Obj::new()
                    .str("verificationId", &id)
                    .json("codes", Json::strs(&codes))
                    .end(),
            ));
        }
        ("/verification/backup-code/verify", &Method::POST) => {
            let b: CodeOnlyBody = object_body(&req, &["code"])?;
            let id = factors::backup_verify(ctx, &mut c, &b.code).await?;
            interaction::save(ctx, &c).await?;
            return Ok(verification_id(&id));
        }
        ("/verification/web-authn/registration", &Method::POST) => {
            return Ok(ceremony(
                passkeys::registration(ctx, &c).await?,
                "registrationOptions",
            ));
        }
        ("/verification/web-authn/registration/verify", &Method::POST) => {
            let b: WebAuthnBody = object_body(&req, &["verificationId", "payload"])?;
            let vid = b.verification_id.as_deref().unwrap_or_default();
            let agent = web::header(&req, crate::web::http::header::USER_AGENT).unwrap_or_default();
            let id = passkeys::registration_verify(ctx, &mut c, vid, &b.payload, agent).await?;
            interaction::save(ctx, &c).await?;
            return Ok(verification_id(&id));
        }
        ("/verification/web-authn/authentication", &Method::POST) => {
            return Ok(ceremony(
                passkeys::authentication(ctx, &c).await?,
                "authenticationOptions",
            ));
        }
        ("/verification/web-authn/authentication/verify", &Method::POST) => {
            let b: WebAuthnBody = object_body(&req, &["verificationId", "payload"])?;
            let vid = b.verification_id.as_deref().unwrap_or_default();
            let id = passkeys::authentication_verify(ctx, &mut c, vid, &b.payload).await?;
            interaction::save(ctx, &c).await?;
            return Ok(verification_id(&id));
        }
        ("/preflight/sign-in-passkey/authentication", &Method::POST) => {
            return Ok(ceremony(
                passkeys::sign_in_options(ctx, &c).await?,
                "authenticationOptions",
            ));
        }
        ("/verification/sign-in-passkey/authentication", &Method::POST) => {
            let b: PasskeyForBody = object_body(&req, &["identifier"])?;
            return Ok(ceremony(
                passkeys::sign_in_options_for(ctx, &c, b.identifier.kind, &b.identifier.value)
                    .await?,
                "authenticationOptions",
            ));
        }
        ("/verification/sign-in-passkey/authentication/verify", &Method::POST) => {
            let b: WebAuthnBody = object_body(&req, &["verificationId", "payload"])?;
            let vid = b.verification_id.as_deref();
            let id = passkeys::sign_in_verify(ctx, &mut c, vid, &b.payload, ip(&req)).await?;
            interaction::save(ctx, &c).await?;
            return Ok(verification_id(&id));
        }
        ("/verification/mfa-verification-code", &Method::POST) => {
            let b: MfaCodeBody = object_body(&req, &["identifierType"])?;
            let lang = interaction::language(&c, &web::accepted_languages(&req));
            let id = mfa_codes::send(ctx, &mut c, b.identifier_type, lang, ip(&req)).await?;
            interaction::save(ctx, &c).await?;
            return Ok(verification_id(&id));
        }
        ("/verification/mfa-verification-code/verify", &Method::POST) => {
            let b: MfaCodeBody = object_body(&req, &["identifierType", "verificationId", "code"])?;
            let vid = b.verification_id.unwrap_or_default();
            let code = b.code.unwrap_or_default();
            let verified = mfa_codes::verify(ctx, &mut c, &vid, &code, ip(&req)).await;
            // A wrong code still counts in the code's row; the record is saved either way.
            interaction::save(ctx, &c).await?;
            let id = verified?;
            return Ok(verification_id(&id));
        }
        ("/profile/mfa/passkey", &Method::POST) => {
            let b: VerificationIdBody = object_body(&req, &["verificationId"])?;
            factors::bind(
                ctx,
                &mut c,
                crate::mfa::Factor::WebAuthn,
                &b.verification_id,
            )
            .await?;
            web::empty(StatusCode::NO_CONTENT)
        }
        ("/profile/mfa", &Method::POST) => {
            let b: BindMfaBody = object_body(&req, &["type", "verificationId"])?;
            factors::bind(ctx, &mut c, b.kind, &b.verification_id).await?;
            web::empty(StatusCode::NO_CONTENT)
        }
        ("/profile/mfa/mfa-enabled", &Method::POST) => {
            factors::enable(&mut c)?;
            web::empty(StatusCode::NO_CONTENT)
        }
        ("/profile/mfa/mfa-skipped", &Method::POST) => {
            factors::skip(&mut c)?;
            web::empty(StatusCode::NO_CONTENT)
        }
        ("/profile/mfa/mfa-suggestion-skipped", &Method::POST) => {
            factors::skip_suggestion(&mut c)?;
            web::empty(StatusCode::NO_CONTENT)
        }
        ("/profile/mfa/passkey-skipped", &Method::POST) => {
            factors::skip_passkey(&mut c)?;
            web::empty(StatusCode::NO_CONTENT)
        }
        ("/verification/verification-code", &Method::POST) => {
            let b: SendCodeBody = object_body(&req, &["identifier", "interactionEvent"])?;
            if c.state.event != Some(b.interaction_event) {
                return Err(Failure::Step(StepError::WrongEvent).into());
            }
            let lang = interaction::language(&c, &web::accepted_languages(&req));
            let id = codes::send(
                ctx,
                &mut c,
                b.identifier.kind,
                &b.identifier.value,
                lang,
                ip(&req),
            )
            .await?;
            interaction::save(ctx, &c).await?;
            return Ok(verification_id(&id));
        }
        ("/verification/verification-code/verify", &Method::POST) => {
            let b: VerifyCodeBody = object_body(&req, &["identifier", "verificationId", "code"])?;
            codes::verify(ctx, &mut c, &b.verification_id, &b.code, ip(&req)).await?;
            interaction::save(ctx, &c).await?;
            return Ok(verification_id(&b.verification_id));
        }
        ("/profile/password", &Method::PUT) => {
            let b: NewPasswordBody = object_body(&req, &["password"])?;
            password::reset(ctx, &mut c, &b.password).await?;
            web::empty(StatusCode::NO_CONTENT)
        }
        ("/identification", &Method::POST) => {
            let b: IdentificationBody =
                optional_body(&req, &["verificationId", "linkSocialIdentity"])?;
            let link = b.link_social_identity.unwrap_or(false);
            // As at submit: a custom UI asks for the terms itself (Logto's API has no field).
            c.state.agreed_terms = true;
            let created = submit::identify(ctx, &mut c, b.verification_id.as_deref(), link).await?;
            interaction::save(ctx, &c).await?;
            return Ok(if created {
                web::json_text(StatusCode::CREATED, Obj::new().end())
            } else {
                web::empty(StatusCode::NO_CONTENT)
            });
        }
        ("/profile", &Method::POST) => {
            let b: ProfileBody = object_body(&req, &["type", "value"])?;
            let field = Field::parse(&b.kind).ok_or_else(|| {
                ApiError::invalid_input(format!("Unsupported profile type `{}`.", b.kind))
            })?;
            profile::set(ctx, &mut c, field, &b.value).await?;
            web::empty(StatusCode::NO_CONTENT)
        }
        ("/submit", &Method::POST) => {
            let old = cookies::get(&req, cookies::SESSION);
            let Submitted {
                redirect_to,
                session_token,
            } = submit::submit(ctx, &c, old.as_deref(), (true, false), ip(&req)).await?;
            let mut res = web::json_text(
                StatusCode::OK,
                Obj::new().str("redirectTo", &redirect_to).end(),
            );
            if let Some(t) = session_token {
                cookies::set(&mut res, cookies::SESSION, &t, ctx.config.session_ttl);
            }
            return Ok(res);
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "guard.route_not_found",
                format!("No Experience API route {method} {path}."),
            ));
        }
    };
    interaction::save(ctx, &c).await?;
    Ok(res)
}
