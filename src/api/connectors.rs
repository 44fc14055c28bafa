//! `/api/connectors`: the email and SMS connectors that send codes. Secrets in a config
//! (`authorization`, `authToken`) are write-only: responses leave them out.
use super::input::json_body;
use crate::crypto::random;
use crate::ctx::Ctx;
use crate::experience::messages::check_config;
use crate::experience::settings::merge;
use crate::store::messages::{self as repo, ConnectorRow};
use crate::store::{Db, Kv, StoreError};
use crate::web::error::ApiError;
use crate::web::{self, Request, Response};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

const SECRET_FIELDS: &[&str] = &["authorization", "authToken"];

fn view(c: &ConnectorRow) -> Value {
    let mut config: Value = crate::json::parse(&c.config).unwrap_or_else(|_| json!({}));
    if let Some(m) = config.as_object_mut() {
        for f in SECRET_FIELDS {
            m.remove(*f);
        }
    }
    json!({"id": c.id, "connectorId": c.connector_id, "type": c.channel, "config": config, "createdAt": c.created_at})
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateBody {
    connector_id: String,
    config: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    config: Value,
}

pub async fn create<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: CreateBody = json_body(req)?;
    let channel = check_config(&b.connector_id, &b.config)
        .map_err(|m| ApiError::invalid_input(format!("Invalid connector: {m}.")))?;
    let row = ConnectorRow {
        id: random::id()?,
        connector_id: b.connector_id,
        channel: channel.into(),
        config: b.config.to_string(),
        created_at: ctx.now_ms,
    };
    repo::insert_connector(ctx.db, &row).await?;
    Ok(web::json(StatusCode::CREATED, &view(&row)))
}

pub async fn list<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> Result<Response, ApiError> {
    let rows = repo::connectors(ctx.db).await?;
    Ok(web::json(
        StatusCode::OK,
        &rows.iter().map(view).collect::<Vec<_>>(),
    ))
}

async fn load<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<ConnectorRow, ApiError> {
    repo::connector(ctx.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("connector", id))
}

pub async fn get<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<Response, ApiError> {
    Ok(web::json(StatusCode::OK, &view(&load(ctx, id).await?)))
}

pub async fn update<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: UpdateBody = json_body(req)?;
    let mut row = load(ctx, id).await?;
    let mut config: Value =
        crate::json::parse(&row.config).map_err(|e| StoreError::Decode(e.to_string()))?;
    merge(&mut config, b.config);
    check_config(&row.connector_id, &config)
        .map_err(|m| ApiError::invalid_input(format!("Invalid connector: {m}.")))?;
    row.config = config.to_string();
    repo::update_connector_config(ctx.db, id, &row.config).await?;
    Ok(web::json(StatusCode::OK, &view(&row)))
}

pub async fn delete<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<Response, ApiError> {
    if !repo::delete_connector(ctx.db, id).await? {
        return Err(ApiError::not_found("connector", id));
    }
    Ok(web::empty(StatusCode::NO_CONTENT))
}
