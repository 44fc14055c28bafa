//! `/api/configs/oidc/private-keys`: list and rotate the signing keys (never their secrets).
use crate::ctx::Ctx;
use crate::oidc::signing;
use crate::store::keys::KeyRow;
use crate::store::{Db, Kv};
use crate::web::error::ApiError;
use crate::web::http::StatusCode;
use crate::web::{self, Response};
use serde_json::Value;

fn view(rows: &[KeyRow]) -> Vec<Value> {
    rows.iter()
        .map(|r| crate::jv!({"id": r.id, "createdAt": r.created_at, "signingKeyAlgorithm": "EC"}))
        .collect()
}

pub async fn list<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> Result<Response, ApiError> {
    let rows = signing::published(ctx, false).await?;
    Ok(web::json(StatusCode::OK, &view(&rows)))
}

pub async fn rotate<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> Result<Response, ApiError> {
    let rows = signing::rotate(ctx).await?;
    Ok(web::json(StatusCode::OK, &view(&rows)))
}
