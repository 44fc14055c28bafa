//! `/api/connectors`: the email and SMS connectors that send codes. Configs are sealed in D1;
//! secrets in a config (`authorization`, `authToken`, …) are write-only: responses show them
//! masked, and a PATCH that sends the mask back leaves them as they are.
use super::input::object_body;
use crate::crypto::random;
use crate::ctx::Ctx;
use crate::experience::messages::{
    check_config, masked, open_config, seal_config, unmasked_patch, SECRET_FIELDS,
};
use crate::experience::settings::merge;
use crate::store::messages::{self as repo, ConnectorRow};
use crate::store::{Db, Kv};
use crate::web::error::ApiError;
use crate::web::{self, Request, Response};
use http::StatusCode;
use serde_json::{json, Value};

async fn view<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, c: &ConnectorRow) -> Result<Value, ApiError> {
    let config = masked(open_config(ctx, c).await?);
    Ok(
        json!({"id": c.id, "connectorId": c.connector_id, "type": c.channel, "config": config, "createdAt": c.created_at}),
    )
}

// The bodies, read column by column (`input::object_body`), each with its fields.
struct CreateBody {
    connector_id: String,
    config: Value,
}
crate::from_row!(CreateBody { connector_id = "connectorId", config });

struct UpdateBody {
    config: Value,
}
crate::from_row!(UpdateBody { config });

pub async fn create<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: CreateBody = object_body(req, &["connectorId", "config"])?;
    let channel = check_config(&b.connector_id, &b.config)
        .map_err(|m| ApiError::invalid_input(format!("Invalid connector: {m}.")))?;
    let id = random::id()?;
    let row = ConnectorRow {
        config: seal_config(ctx, &id, &b.config).await?,
        id,
        connector_id: b.connector_id,
        channel: channel.into(),
        created_at: ctx.now_ms,
    };
    repo::insert_connector(ctx.db, &row).await?;
    Ok(web::json(StatusCode::CREATED, &view(ctx, &row).await?))
}

pub async fn list<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> Result<Response, ApiError> {
    let rows = repo::connectors(ctx.db).await?;
    let mut list = Vec::with_capacity(rows.len());
    for row in &rows {
        list.push(view(ctx, row).await?);
    }
    Ok(web::json(StatusCode::OK, &list))
}

async fn load<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<ConnectorRow, ApiError> {
    repo::connector(ctx.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("connector", id))
}

pub async fn get<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<Response, ApiError> {
    Ok(web::json(
        StatusCode::OK,
        &view(ctx, &load(ctx, id).await?).await?,
    ))
}

pub async fn update<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: UpdateBody = object_body(req, &["config"])?;
    let mut row = load(ctx, id).await?;
    let mut config = open_config(ctx, &row).await?;
    let patch = unmasked_patch(b.config);
    // A secret follows its destination: moving the endpoint (or the account) needs the secret
    // again, or a Management token could send the stored one to a host of its choice.
    let moved = ["endpoint", "accountSID"]
        .iter()
        .any(|f| patch.get(*f).is_some_and(|v| config.get(*f) != Some(v)));
    let secret_given = SECRET_FIELDS.iter().any(|f| patch.get(*f).is_some());
    let has_secret = SECRET_FIELDS.iter().any(|f| config.get(*f).is_some());
    if moved && has_secret && !secret_given {
        return Err(ApiError::invalid_input(
            "Changing `endpoint` or `accountSID` needs the secret (`authorization` or `authToken`) again.",
        ));
    }
    merge(&mut config, patch);
    check_config(&row.connector_id, &config)
        .map_err(|m| ApiError::invalid_input(format!("Invalid connector: {m}.")))?;
    row.config = seal_config(ctx, id, &config).await?;
    repo::update_connector_config(ctx.db, id, &row.config).await?;
    Ok(web::json(StatusCode::OK, &view(ctx, &row).await?))
}

pub async fn delete<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<Response, ApiError> {
    if !repo::delete_connector(ctx.db, id).await? {
        return Err(ApiError::not_found("connector", id));
    }
    Ok(web::empty(StatusCode::NO_CONTENT))
}
