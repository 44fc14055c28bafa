//! `/api/users/{id}/mfa-verifications` and `/api/users/{id}/logto-configs` (Logto's shapes).
//! Times in the list are ISO strings, as Logto's jsonb timestamps are.
use super::input::json_body;
use crate::ctx::Ctx;
use crate::json::{Json, Obj};
use crate::mfa::manage::{self, Outcome};
use crate::mfa::UserMfaConfig;
use crate::store::{mfa as repo, users, Db, Kv};
use crate::web::error::ApiError;
use crate::web::http::StatusCode;
use crate::web::{self, Request, Response};
use serde_json::Value;

/// Unix ms as an ISO 8601 UTC timestamp (`2026-11-28T02:14:53.000Z`).
fn iso(ms: i64) -> String {
    crate::clock::iso(ms, true)
}

async fn user<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<users::User, ApiError> {
    users::get(ctx.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("user", id))
}

pub async fn list<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<Response, ApiError> {
    user(ctx, id).await?;
    let rows = repo::factors_of(ctx.db, id).await?;
    Ok(web::json_text(StatusCode::OK, factors_view(&rows)))
}

/// Logto's `UserMfaVerificationResponse[]` (the Management and Account APIs').
pub fn factors_view(rows: &[repo::FactorRow]) -> Json {
    Json::array(rows.iter().map(|r| {
        let mut v = Obj::new()
            .str("id", &r.id)
            .str("type", &r.kind)
            .str("createdAt", &iso(r.created_at));
        if let Some(at) = r.last_used_at {
            v = v.str("lastUsedAt", &iso(at));
        }
        if r.kind == "BackupCode" {
            v = v.int("remainCodes", r.remain_codes);
        }
        if r.kind == "WebAuthn" {
            v = v
                .opt("agent", r.agent.as_deref())
                .opt("name", r.name.as_deref());
        }
        v.end()
    }))
}

/// `{type: Totp, secret?}` or `{type: BackupCode, codes?}` (read as one struct: a tagged enum
/// costs the module serde's `Content` buffering).
struct CreateBody {
    kind: crate::mfa::Factor,
    secret: Option<String>,
    codes: Option<Vec<String>>,
}
crate::from_row!(CreateBody { kind = "type", secret, codes });

pub(super) fn refused(r: &manage::Refused) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        r.code(),
        format!("The MFA factor cannot be added ({}).", r.code()),
    )
}

pub async fn create<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: CreateBody = super::input::object_body(req, &["type", "secret", "codes"])?;
    let u = user(ctx, id).await?;
    let account = u.label();
    let body = match b.kind {
        crate::mfa::Factor::Totp => {
            match manage::add_totp(ctx, id, &account, b.secret.as_deref()).await? {
                Outcome::Done((secret, qr)) => Obj::new()
                    .str("type", "Totp")
                    .str("secret", &secret)
                    .str("secretQrCode", &qr)
                    .end(),
                Outcome::Refused(r) => return Err(refused(&r)),
            }
        }
        crate::mfa::Factor::BackupCode => match manage::add_backup_codes(ctx, id, b.codes).await? {
            Outcome::Done(codes) => Obj::new()
                .str("type", "BackupCode")
                .json("codes", Json::strs(&codes))
                .end(),
            Outcome::Refused(r) => return Err(refused(&r)),
        },
        _ => {
            return Err(ApiError::invalid_input(
                "Only `Totp` and `BackupCode` can be added here.",
            ))
        }
    };
    Ok(web::json_text(StatusCode::OK, body))
}

pub async fn delete<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    verification_id: &str,
) -> Result<Response, ApiError> {
    if !repo::delete(ctx.db, id, verification_id).await? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "entity.not_found",
            format!("The user {id} has no MFA verification {verification_id}."),
        ));
    }
    Ok(web::empty(StatusCode::NO_CONTENT))
}

pub fn config_view(raw: &str) -> Json {
    let mfa = UserMfaConfig::of_config(raw);
    let mut m = Obj::new()
        .bool("skipped", mfa.skipped)
        .bool("skipMfaOnSignIn", mfa.skip_mfa_on_sign_in);
    if let Some(e) = mfa.enabled {
        m = m.bool("enabled", e);
    }
    Obj::new()
        .json("mfa", m.end())
        .json(
            "passkeySignIn",
            Obj::new().bool("skipped", mfa.passkey_skipped).end(),
        )
        .end()
}

pub async fn config<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<Response, ApiError> {
    let raw = repo::config_of(ctx.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("user", id))?;
    Ok(web::json_text(StatusCode::OK, config_view(&raw)))
}

/// The user's `skipMfaOnSignIn`, set to `change` first if given.
pub async fn skip_on_sign_in<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    change: Option<bool>,
) -> Result<bool, ApiError> {
    let raw = repo::config_of(ctx.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("user", id))?;
    let mut mfa = UserMfaConfig::of_config(&raw);
    if let Some(skip) = change {
        mfa.skip_mfa_on_sign_in = skip;
        if !repo::put_config(ctx.db, id, &mfa.merged_into(&raw)).await? {
            return Err(ApiError::not_found("user", id));
        }
    }
    Ok(mfa.skip_mfa_on_sign_in)
}

pub async fn update_config<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    // `{mfa?: {enabled?, skipped?, skipMfaOnSignIn?, additionalBindingSuggestionSkipped?},
    // passkeySignIn?}`, read field by field.
    let b: Value = json_body(req)?;
    let patch = b.get("mfa").cloned().unwrap_or(Value::Null);
    let flag = |k: &str| -> Result<Option<bool>, ApiError> {
        match patch.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(v)) => Ok(Some(*v)),
            Some(_) => Err(ApiError::invalid_input(format!(
                "`mfa.{k}` must be a boolean."
            ))),
        }
    };
    let raw = repo::config_of(ctx.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("user", id))?;
    let mut mfa = UserMfaConfig::of_config(&raw);
    if let Some(e) = flag("enabled")? {
        mfa.enabled = Some(e);
    }
    if let Some(s) = flag("skipped")? {
        mfa.skipped = s;
    }
    if let Some(s) = flag("skipMfaOnSignIn")? {
        mfa.skip_mfa_on_sign_in = s;
    }
    match b.get("passkeySignIn") {
        None | Some(Value::Null) => {}
        Some(Value::Object(p)) => match p.get("skipped") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(v)) => mfa.passkey_skipped = *v,
            Some(_) => {
                return Err(ApiError::invalid_input(
                    "`passkeySignIn.skipped` must be a boolean.",
                ))
            }
        },
        Some(_) => {
            return Err(ApiError::invalid_input(
                "`passkeySignIn` must be an object.",
            ))
        }
    }
    let next = mfa.merged_into(&raw);
    if !repo::put_config(ctx.db, id, &next).await? {
        return Err(ApiError::not_found("user", id));
    }
    Ok(web::json_text(StatusCode::OK, config_view(&next)))
}
