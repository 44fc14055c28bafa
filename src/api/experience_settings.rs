//! `/api/sign-in-exp` (GET, PATCH with a deep merge) and `/api/logs`.
use super::input::{self, json_body};
use crate::ctx::Ctx;
use crate::experience::{
    self,
    settings::{merge, unknown_field, Settings},
};
use crate::store::logs::{self, Filter};
use crate::store::FromRow;
use crate::store::{settings as repo, Db, Kv, StoreError};
use crate::web::error::ApiError;
use crate::web::http::StatusCode;
use crate::web::{self, query_pairs, Request, Response};
use serde_json::Value;

pub async fn get<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> Result<Response, ApiError> {
    Ok(web::json(
        StatusCode::OK,
        &experience::load_settings(ctx).await?,
    ))
}

pub async fn update<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, ApiError> {
    let patch: Value = json_body(req)?;
    if !patch.is_object() {
        return Err(ApiError::invalid_input("The body must be a JSON object."));
    }
    // A change starts from the primary's copy, never from a cache or a replica.
    let current = experience::load_settings_from(ctx.db).await?;
    let mut merged =
        crate::json::value_of_result(&current).map_err(|e| StoreError::Decode(e.to_string()))?;
    merge(&mut merged, patch);
    let invalid =
        |what: String| ApiError::invalid_input(format!("Invalid sign-in experience: {what}."));
    let read = merged
        .as_object()
        .ok_or_else(|| invalid("not an object".into()))
        .and_then(|m| {
            Settings::from_row(m).map_err(|e| match e {
                StoreError::Decode(m) => invalid(format!("{m} is missing or not valid")),
                e => e.into(),
            })
        });
    let settings = read?;
    let written =
        crate::json::value_of_result(&settings).map_err(|e| StoreError::Decode(e.to_string()))?;
    if let Some(field) = unknown_field(&merged, &written) {
        return Err(invalid(format!("unknown field `{field}`")));
    }
    settings
        .validate()
        .map_err(|m| ApiError::invalid_input(format!("Invalid sign-in experience: {m}.")))?;
    settings
        .mfa
        .validate()
        .and_then(|()| settings.validate_mfa_codes())
        .map_err(|(code, m)| ApiError::new(StatusCode::BAD_REQUEST, code, format!("{m}.")))?;
    let raw = serde_json::to_string(&settings).map_err(|e| StoreError::Decode(e.to_string()))?;
    repo::put(ctx.db, &raw, ctx.now_ms).await?;
    ctx.cache.forget_settings(ctx.now_ms);
    Ok(web::json(StatusCode::OK, &settings))
}

/// `GET /api/logs` with `userId`, `applicationId`, `logKey`, `page`, `page_size`.
pub async fn logs<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Result<Response, ApiError> {
    let page = input::page(req)?;
    let mut f = Filter::default();
    for (k, v) in query_pairs(req) {
        match k.as_str() {
            "userId" => f.user_id = Some(v),
            "applicationId" => f.application_id = Some(v),
            "logKey" => f.key = Some(v),
            _ => {}
        }
    }
    let (rows, total) = logs::list(ctx.db, &f, page.limit, page.offset).await?;
    let body: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let mut payload: Value =
                crate::json::parse(&r.payload).unwrap_or_else(|_| crate::jv!({}));
            if let Some(p) = payload.as_object_mut() {
                p.insert("result".into(), crate::jv!(r.result));
                p.insert("userId".into(), crate::jv!(r.user_id));
                p.insert("applicationId".into(), crate::jv!(r.application_id));
                p.insert("ip".into(), crate::jv!(r.ip));
                p.insert("key".into(), crate::jv!(r.key));
            }
            crate::jv!({"id": r.id, "key": r.key, "payload": payload, "createdAt": r.created_at})
        })
        .collect();
    Ok(input::with_total(web::json(StatusCode::OK, &body), total))
}
