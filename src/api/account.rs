//! The Account API (Logto's `/api/my-account` and `/api/verifications`) and the account
//! center settings (`/api/account-center`, `/api/.well-known/account-center`).
//!
//! A signed-in user calls it with the opaque access token of a sign-in without `resource`
//! (it must hold `openid`). Each route checks, in order: the account center is on, the
//! token, the field's control in the account center, the token's scope, and, for a
//! sensitive change, a verification record of the same user (`logto-verification-id`);
//! changes come only from first-party apps.
use super::account_profile::{patched, profile_view};
use super::account_routes::{allowed, need, route, verified, Need, Route};
use super::input::{json_body, object_body};
use crate::account::center::Control;
use crate::account::verification as records;
use crate::account::{self, Caller, NotCaller};
use crate::ctx::Ctx;
use crate::experience::Origin;
use crate::identity::Channel;
use crate::json::{Json, Obj};
use crate::store::{users, Db, Kv};
use crate::web::error::ApiError;
use crate::web::http::StatusCode;
use crate::web::{self, Request, Response};
use serde_json::Value;

/// `GET /api/account-center` and the public `GET /api/.well-known/account-center`.
pub async fn get_center<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> Result<Response, ApiError> {
    Ok(web::json_text(
        StatusCode::OK,
        crate::account::center::load(ctx).await?.view(),
    ))
}

/// `PATCH /api/account-center` (Management API).
pub async fn patch_center<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, ApiError> {
    let body = json_body(req)?;
    let mut c = crate::account::center::load(ctx).await?;
    c.patch(&body)
        .map_err(|f| ApiError::invalid_input(format!("`{f}` is not valid here.")))?;
    Ok(web::json_text(
        StatusCode::OK,
        crate::account::center::save(ctx, &c).await?,
    ))
}

/// The caller, or why not: 401 for a missing, unknown, expired or revoked token.
async fn caller<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Result<Caller, ApiError> {
    let token = super::bearer(req)?;
    match account::caller(ctx, token).await? {
        Ok(c) => Ok(c),
        Err(NotCaller::Invalid) => Err(ApiError::unauthorized(
            "auth.unauthorized",
            "The access token is invalid, expired or revoked (the Account API takes the opaque token of a sign-in without `resource`).",
        )),
        Err(NotCaller::NoOpenid) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "auth.forbidden",
            "The access token lacks the `openid` scope.",
        )),
    }
}

/// A first-party app, and a verification record of the caller, when `need` asks for them.
async fn proven<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    (c, req): (&Caller, &Request),
    need: &Need,
) -> Result<(), ApiError> {
    if need.changes {
        let app = crate::oidc::clients::find(ctx, &c.client_id).await?;
        if app.is_none_or(|a| a.is_third_party) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "auth.third_party_application_forbidden",
                "Only the provider's first-party apps may change an account.",
            ));
        }
    }
    if need.verified {
        let id = web::header(req, web::VERIFICATION_ID);
        if !records::permits(ctx, &c.user, id).await? {
            return Err(ApiError::unauthorized(
                "verification_record.permission_denied",
                "Verify first: pass a verification record of this user (password or a code to its address) in `logto-verification-id`.",
            ));
        }
    }
    Ok(())
}

/// The change would leave the account with no way to sign in.
fn last_way() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "user.last_identifier",
        "The account needs another way to sign in first.",
    )
}

async fn save_address<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    u: &users::User,
    ch: Channel,
    value: Option<String>,
) -> Result<(), ApiError> {
    account::set_address(ctx, u, ch, value)
        .await
        .map(|_| ())
        .map_err(super::users::conflict)
}

fn record_not_found() -> ApiError {
    ApiError::invalid_input("No such verification record of this user, verified and unexpired.")
        .recoded("verification_record.not_found")
}

/// `{verificationRecordId}`: the record, verified.
fn record_verified(id: &str) -> Response {
    web::json_text(
        StatusCode::OK,
        Obj::new().str("verificationRecordId", id).end(),
    )
}

fn record_created(id: &str, expires_at: i64) -> Response {
    record_begun(StatusCode::CREATED, (id, expires_at), Obj::new())
}

/// `{verificationRecordId, …, expiresAt}`: a record begun, with what the client needs next.
fn record_begun(status: StatusCode, (id, expires_at): (&str, i64), next: Obj) -> Response {
    let o = next.str("verificationRecordId", id);
    let o = o.str("expiresAt", &crate::clock::iso(expires_at * 1000, true));
    web::json_text(status, o.end())
}

struct PasswordBody {
    password: String,
}
crate::from_row!(PasswordBody { password });

use super::experience::IdentifierBody as Identifier;

struct CodeBody {
    identifier: Identifier,
}
crate::from_row!(CodeBody { identifier });

struct VerifyBody {
    identifier: Identifier,
    verification_id: String,
    code: String,
}
crate::from_row!(VerifyBody { identifier, verification_id = "verificationId", code });

fn channel(i: &Identifier) -> Result<Channel, ApiError> {
    i.kind
        .channel()
        .ok_or_else(|| ApiError::invalid_input("`identifier.type` must be `email` or `phone`."))
}

/// `/api/my-account…` and `/api/verifications…`.
pub async fn handle<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    segments: &[&str],
) -> Result<Response, ApiError> {
    let center = crate::account::center::load(ctx).await?;
    if !center.enabled {
        return Err(ApiError::invalid_input(
            "The account center is not enabled (PATCH /api/account-center {\"enabled\": true}).",
        )
        .recoded("account_center.not_enabled"));
    }
    let c = caller(ctx, req).await?;
    let (route, mut proof) = route(segments, *req.method(), &c.user)
        .ok_or_else(|| super::not_found(req.uri().path()))?;
    allowed(&c, &center, &proof)?;
    // A patch is read once: each field it names has its own control and scope.
    let mut fields = serde_json::Map::new();
    if let Route::Patch = route {
        fields = match json_body(req)? {
            Value::Object(m) => m,
            _ => return Err(ApiError::invalid_input("The body must be an object.")),
        };
        for k in fields.keys() {
            let n = match k.as_str() {
                "name" => need("name", Control::Edit, Some("profile")),
                "avatar" => need("avatar", Control::Edit, Some("profile")),
                "username" => verified(need("username", Control::Edit, Some("profile"))),
                "customData" => need("customData", Control::Edit, Some("custom_data")),
                other => return Err(ApiError::invalid_input(format!("Unknown field `{other}`."))),
            };
            allowed(&c, &center, &n)?;
            proof.verified |= n.verified;
        }
    }
    proven(ctx, (&c, req), &proof).await?;
    let ip = web::client_ip(req);
    let ok = web::empty(StatusCode::NO_CONTENT);
    let u = &c.user;
    Ok(match route {
        Route::VerifyPassword => {
            let b: PasswordBody = object_body(req, &["password"])?;
            let from = Origin {
                ip,
                application_id: Some(&c.client_id),
            };
            let (id, exp) = records::by_password(ctx, u, &b.password, &from).await?;
            record_created(&id, exp)
        }
        Route::SendCode => {
            let b: CodeBody = object_body(req, &["identifier", "templateType"])?;
            let ch = channel(&b.identifier)?;
            let lang = crate::i18n::Lang::pick(None, &web::accepted_languages(req), "en");
            let (id, exp) = records::send_code(ctx, u, (ch, &b.identifier.value), lang, ip).await?;
            record_created(&id, exp)
        }
        Route::VerifyCode => {
            let b: VerifyBody = object_body(req, &["identifier", "verificationId", "code"])?;
            channel(&b.identifier)?;
            if !records::verify_code(ctx, &u.id, &b.verification_id, &b.code, ip).await? {
                return Err(record_not_found());
            }
            record_verified(&b.verification_id)
        }
        Route::Social(false) => {
            let b = json_body(req)?;
            let text = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or_default();
            let at = (Some(text("state")), text("redirectUri"));
            let (url, id, exp) = records::social_start(ctx, u, text("connectorId"), at).await?;
            let next = Obj::new().str("authorizationUri", &url);
            record_begun(StatusCode::CREATED, (&id, exp), next)
        }
        Route::Social(true) => {
            let b = json_body(req)?;
            let id = b.get("verificationRecordId").and_then(Value::as_str);
            let data = b.get("connectorData").unwrap_or(&Value::Null);
            let id = id.unwrap_or_default();
            if !records::social_verify(ctx, &u.id, id, data).await? {
                return Err(record_not_found());
            }
            record_verified(id)
        }
        Route::Passkey(false) => {
            let (options, id, exp) = records::passkey_start(ctx, u).await?;
            let next = Obj::new().value("registrationOptions", &options);
            record_begun(StatusCode::OK, (&id, exp), next)
        }
        Route::Passkey(true) => {
            let b = json_body(req)?;
            let id = b.get("verificationRecordId").and_then(Value::as_str);
            let id = id.unwrap_or_default();
            let payload = b.get("payload").unwrap_or(&Value::Null);
            let agent = web::header(req, crate::web::http::header::USER_AGENT).unwrap_or_default();
            let related = &center.webauthn_related_origins;
            if !records::passkey_verify(ctx, &u.id, (id, payload), (agent, related)).await? {
                return Err(record_not_found());
            }
            record_verified(id)
        }
        Route::Profile => {
            let Value::Object(body) = json_body(req)? else {
                return Err(ApiError::invalid_input("The body must be an object."));
            };
            if body.contains_key("address") && !c.has_scope("address") {
                return Err(ApiError::unauthorized(
                    "auth.unauthorized",
                    "The access token lacks the `address` scope.",
                ));
            }
            // Logto's merge: the fields sent replace those kept (`null` removes one).
            let mut merged = match crate::json::value_of(&u.profile) {
                Value::Object(m) => m,
                _ => serde_json::Map::new(),
            };
            for (k, v) in body {
                merged.insert(k, v);
            }
            let mut changed = u.clone();
            changed.profile = super::users::profile(Value::Object(merged))?;
            changed.updated_at = ctx.now_ms;
            account::save_profile(ctx, &changed).await?;
            web::json_text(StatusCode::OK, crate::json::Json::of(&changed.profile))
        }
        Route::Rename(id) => {
            let b = json_body(req)?;
            let name = b.get("name").and_then(Value::as_str).map(str::trim);
            let Some(name) = name.filter(|n| !n.is_empty() && n.chars().count() <= 128) else {
                return Err(ApiError::invalid_input(
                    "`name` must be 1 to 128 characters.",
                ));
            };
            if !account::rename_passkey(ctx, &u.id, id, name).await? {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "entity.not_found",
                    "This account has no such passkey.",
                ));
            }
            web::empty(StatusCode::OK)
        }
        Route::Link => {
            let b = json_body(req)?;
            let record = b.get("newIdentifierVerificationRecordId");
            let record = record.and_then(Value::as_str).unwrap_or_default();
            if !account::link_social(ctx, u, record).await? {
                return Err(record_not_found());
            }
            ok
        }
        Route::Get => web::json_text(StatusCode::OK, profile_view(u, &c, &center)),
        Route::Patch => {
            let u = patched(&fields, u.clone())?;
            account::save_profile(ctx, &u)
                .await
                .map_err(super::users::conflict)?;
            web::json_text(StatusCode::OK, profile_view(&u, &c, &center))
        }
        Route::Delete => {
            account::delete_user(ctx, &u.id, Some(&c.client_id)).await?;
            ok
        }
        Route::Password => {
            let b: PasswordBody = object_body(req, &["password"])?;
            account::check_new_password(ctx, u, &b.password).await?;
            let params = ctx.config.password_hash;
            account::change_password(ctx, &u.id, &b.password, params, Some(&c.sid)).await?;
            ok
        }
        Route::Address(ch) => {
            let body = json_body(req)?;
            let text = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default();
            let value = match ch {
                Channel::Email => super::users::email(text("email"))?,
                Channel::Phone => super::users::phone(text("phone"))?,
            };
            let record = text("newIdentifierVerificationRecordId");
            if !records::proves_address(ctx, &u.id, record, (ch, &value)).await? {
                return Err(record_not_found());
            }
            save_address(ctx, u, ch, Some(value)).await?;
            ok
        }
        Route::DropAddress(ch) => {
            let left = match ch {
                Channel::Email => u.username.is_some() || u.primary_phone.is_some(),
                Channel::Phone => u.username.is_some() || u.primary_email.is_some(),
            };
            if !left {
                return Err(last_way());
            }
            save_address(ctx, u, ch, None).await?;
            ok
        }
        Route::Unlink(target) => match account::unlink(ctx, u, target).await? {
            account::Unlinked::Done => ok,
            account::Unlinked::LastWay => return Err(last_way()),
            account::Unlinked::NotLinked => {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "user.identity_not_exist",
                    "This account has no identity at that provider.",
                ))
            }
        },
        Route::Factors => {
            let rows = account::factors(ctx, &u.id).await?;
            web::json_text(StatusCode::OK, super::mfa::factors_view(&rows))
        }
        Route::Generate(totp) => {
            let o = if totp {
                Obj::new().str("secret", &crate::mfa::totp::new_secret()?.1)
            } else {
                Obj::new().json("codes", Json::strs(crate::mfa::backup::generate()?))
            };
            web::json_text(StatusCode::OK, o.end())
        }
        Route::AddFactor => {
            account::add_factor(ctx, (u, &c.sid), &json_body(req)?)
                .await?
                .map_err(|r| super::mfa::refused(&r))?;
            ok
        }
        Route::DropFactor(id) => return super::mfa::delete(ctx, &u.id, id).await,
        Route::Grants => {
            let list = super::grants::grants_of(ctx, &u.id, req).await?;
            web::json_text(
                StatusCode::OK,
                Obj::new().value("grants", &Value::Array(list)).end(),
            )
        }
        Route::Configs(false) => return super::mfa::config(ctx, &u.id).await,
        Route::Configs(true) => return super::mfa::update_config(ctx, &u.id, req).await,
        Route::MfaSettings(change) => {
            let skip = match change {
                false => None,
                true => match json_body(req)?.get("skipMfaOnSignIn") {
                    Some(Value::Bool(b)) => Some(*b),
                    _ => {
                        return Err(ApiError::invalid_input(
                            "`skipMfaOnSignIn` must be a boolean.",
                        ))
                    }
                },
            };
            let skip = super::mfa::skip_on_sign_in(ctx, &u.id, skip).await?;
            web::json_text(
                StatusCode::OK,
                Obj::new().bool("skipMfaOnSignIn", skip).end(),
            )
        }
        Route::BackupCodes => {
            // Kept as keyed hashes, the codes themselves are shown once, when made; the
            // list says how many there are and which are used.
            let used = crate::store::mfa::backup_codes_of(ctx.db, &u.id).await?;
            if used.is_empty() {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "user.mfa_verification_not_found",
                    "This account has no backup codes.",
                ));
            }
            let list = used.into_iter().map(|at| {
                let at = at.map(|ms| crate::clock::iso(ms, true));
                Obj::new().opt("usedAt", at.as_deref()).end()
            });
            web::json_text(
                StatusCode::OK,
                Obj::new().json("codes", Json::array(list)).end(),
            )
        }
        Route::Revoke(id) => return super::grants::revoke_grant(ctx, &u.id, id).await,
        Route::Sessions => {
            let live = account::live_sessions(ctx, &u.id).await?;
            let list = live.iter().map(|s| {
                Obj::new()
                    .str("id", &s.id)
                    .int("createdAt", s.created_at)
                    .int("expiresAt", s.expires_at * 1000)
                    .bool("isCurrent", s.id == c.sid)
                    .end()
            });
            web::json_text(
                StatusCode::OK,
                Obj::new().json("sessions", Json::array(list)).end(),
            )
        }
        Route::EndSession(sid) => {
            if !crate::oidc::logout::end_one_of_user(ctx, &u.id, sid).await? {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "oidc.session_not_found",
                    "This account has no such session.",
                ));
            }
            ok
        }
    })
}
