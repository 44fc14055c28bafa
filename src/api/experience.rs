//! The Experience API (`/api/experience`, Logto's "bring your own UI"): JSON over the same
//! operations the hosted pages use, bound to the `/oidc/auth` request by its cookie.
use super::input::json_body;
use crate::app::Ctx;
use crate::error::ApiError;
use crate::experience::service::{self, with_session};
use crate::experience::settings::Identifier;
use crate::experience::state::{Event, Verification};
use crate::store::{Db, Kv};
use crate::web::{self, header, Request, Response};
use http::header::HeaderName;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct EventBody {
    interaction_event: Event,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentifierBody {
    #[serde(rename = "type")]
    kind: Identifier,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    identifier: IdentifierBody,
    password: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SendCodeBody {
    identifier: IdentifierBody,
    interaction_event: Event,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VerifyCodeBody {
    #[allow(dead_code)]
    identifier: IdentifierBody,
    verification_id: String,
    code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPasswordBody {
    password: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IdentificationBody {
    #[serde(default)]
    verification_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileBody {
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

fn ip(req: &Request) -> Option<&str> {
    header(req, HeaderName::from_static("cf-connecting-ip"))
}

/// An optional JSON body: empty is the default.
fn optional_body<T: for<'de> Deserialize<'de> + Default>(req: &Request) -> Result<T, ApiError> {
    if req.body().is_empty() {
        Ok(T::default())
    } else {
        json_body(req)
    }
}

pub async fn handle<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: Request) -> Result<Response, ApiError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let route = path.strip_prefix("/api/experience").unwrap_or_default();
    let method = req.method().clone();
    let mut c = service::load(ctx, &req).await?;
    let res = match (route, &method) {
        ("", &Method::PUT) => {
            let b: EventBody = json_body(&req)?;
            service::start(&mut c, b.interaction_event)?;
            web::empty(StatusCode::NO_CONTENT)
        }
        ("/interaction", &Method::GET) => {
            let verifications: Vec<_> = c
                .state
                .verifications
                .iter()
                .map(|v| match v {
                    Verification::Password { id, .. } => {
                        json!({"id": id, "type": "Password", "verified": true})
                    }
                    Verification::Code { id, channel, identifier, verified } => json!({
                        "id": id, "type": if channel == "email" { "EmailVerificationCode" } else { "PhoneVerificationCode" },
                        "identifier": {"type": channel, "value": identifier}, "verified": verified,
                    }),
                })
                .collect();
            let p = &c.state.profile;
            return Ok(web::json(
                StatusCode::OK,
                &json!({
                    "interactionEvent": c.state.event,
                    "userId": c.state.user_id,
                    "profile": {"username": p.username, "primaryEmail": p.primary_email, "primaryPhone": p.primary_phone, "hasPassword": p.password_hash.is_some()},
                    "verificationRecords": verifications,
                }),
            ));
        }
        ("/verification/password", &Method::POST) => {
            let b: PasswordBody = json_body(&req)?;
            let id = service::verify_password(
                ctx,
                &mut c,
                b.identifier.kind,
                &b.identifier.value,
                &b.password,
                ip(&req),
            )
            .await?;
            service::save(ctx, &c).await?;
            return Ok(web::json(StatusCode::OK, &json!({ "verificationId": id })));
        }
        ("/verification/verification-code", &Method::POST) => {
            let b: SendCodeBody = json_body(&req)?;
            if c.state.event != Some(b.interaction_event) {
                return Err(service::Failure::Step(
                    crate::experience::state::StepError::WrongEvent,
                )
                .into());
            }
            let lang = service::language(&c, header(&req, http::header::ACCEPT_LANGUAGE));
            let id = service::send_code(ctx, &mut c, b.identifier.kind, &b.identifier.value, lang)
                .await?;
            service::save(ctx, &c).await?;
            return Ok(web::json(StatusCode::OK, &json!({ "verificationId": id })));
        }
        ("/verification/verification-code/verify", &Method::POST) => {
            let b: VerifyCodeBody = json_body(&req)?;
            service::verify_code(ctx, &mut c, &b.verification_id, &b.code, ip(&req)).await?;
            service::save(ctx, &c).await?;
            return Ok(web::json(
                StatusCode::OK,
                &json!({ "verificationId": b.verification_id }),
            ));
        }
        ("/profile/password", &Method::PUT) => {
            let b: NewPasswordBody = json_body(&req)?;
            service::reset_password(ctx, &mut c, &b.password).await?;
            web::empty(StatusCode::NO_CONTENT)
        }
        ("/identification", &Method::POST) => {
            let b: IdentificationBody = optional_body(&req)?;
            let created = service::identify(ctx, &mut c, b.verification_id.as_deref()).await?;
            service::save(ctx, &c).await?;
            return Ok(if created {
                web::json(StatusCode::CREATED, &json!({}))
            } else {
                web::empty(StatusCode::NO_CONTENT)
            });
        }
        ("/profile", &Method::POST) => {
            let b: ProfileBody = json_body(&req)?;
            service::set_profile(ctx, &mut c, &b.kind, &b.value).await?;
            web::empty(StatusCode::NO_CONTENT)
        }
        ("/submit", &Method::POST) => {
            let (redirect_to, token) = service::submit(ctx, &req, &c, true, ip(&req)).await?;
            let res = web::json(StatusCode::OK, &json!({ "redirectTo": redirect_to }));
            return Ok(match token {
                Some(t) => with_session(res, &t, ctx.config.session_ttl),
                None => res,
            });
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "guard.route_not_found",
                format!("No Experience API route {method} {path}."),
            ));
        }
    };
    service::save(ctx, &c).await?;
    Ok(res)
}
