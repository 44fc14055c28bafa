//! `/api/connectors`: the email and SMS connectors that send codes, and the social ones
//! (factories `oidc` and `oauth2`) that sign users in. Configs are sealed in D1; secrets in a config
//! (`authorization`, `authToken`, `clientSecret`, …) are write-only: responses show them
//! masked, and a PATCH that sends the mask back leaves them as they are.
use super::input::object_body;
use crate::crypto::random;
use crate::ctx::Ctx;
use crate::experience::messages::{
    check_config, masked, open_config, seal_config, unmasked_patch, SECRET_FIELDS,
};
use crate::experience::settings::merge;
use crate::json::{Json, Obj};
use crate::social;
use crate::store::messages::{self as repo, ConnectorRow};
use crate::store::{Db, Kv};
use crate::web::error::ApiError;
use crate::web::http::StatusCode;
use crate::web::{self, Request, Response};
use serde_json::Value;

async fn view<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, c: &ConnectorRow) -> Result<Json, ApiError> {
    let config = masked(open_config(ctx, c).await?);
    let metadata: Value = crate::json::parse(&c.metadata).unwrap_or_else(|_| crate::jv!({}));
    Ok(Obj::new()
        .str("id", &c.id)
        .str("connectorId", &c.connector_id)
        .str("type", &c.channel)
        .value("config", &config)
        .value("metadata", &metadata)
        .int("createdAt", c.created_at)
        .end())
}

// The bodies, read column by column (`input::object_body`), each with its fields.
struct CreateBody {
    connector_id: String,
    config: Value,
    metadata: Option<Value>,
}
crate::from_row!(CreateBody { connector_id = "connectorId", config, metadata });

struct UpdateBody {
    config: Option<Value>,
    metadata: Option<Value>,
}
crate::from_row!(UpdateBody { config, metadata });

fn invalid(m: String) -> ApiError {
    ApiError::invalid_input(format!("Invalid connector: {m}."))
}

/// Logto's answer when a social target is taken.
fn target_taken(e: crate::store::StoreError) -> ApiError {
    match e {
        crate::store::StoreError::Unique(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "connector.multiple_target_with_same_platform",
            "Another social connector has this `metadata.target`.",
        ),
        e => e.into(),
    }
}

/// A social connector's config completed (discovery) and its metadata checked.
async fn social<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    factory: &str,
    config: &Value,
    metadata: &Value,
) -> Result<(Value, String, Value), ApiError> {
    let (target, metadata) = social::check_metadata(metadata).map_err(invalid)?;
    let config = social::complete(ctx.http, factory, config)
        .await
        .map_err(invalid)?;
    Ok((config, target, metadata))
}

pub async fn create<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: CreateBody = object_body(req, &["connectorId", "config", "metadata"])?;
    let id = random::id()?;
    let (channel, config, target, metadata) = if social::is_social(&b.connector_id) {
        let metadata = b.metadata.unwrap_or_else(|| crate::jv!({}));
        let (config, target, metadata) = social(ctx, &b.connector_id, &b.config, &metadata).await?;
        ("Social", config, Some(target), metadata)
    } else {
        let channel = check_config(&b.connector_id, &b.config).map_err(invalid)?;
        (channel, b.config, None, crate::jv!({}))
    };
    let row = ConnectorRow {
        config: seal_config(ctx, &id, &config).await?,
        id,
        connector_id: b.connector_id,
        channel: channel.into(),
        metadata: crate::json::text(&metadata),
        target,
        created_at: ctx.now_ms,
    };
    repo::insert_connector(ctx.db, &row)
        .await
        .map_err(target_taken)?;
    Ok(web::json_text(StatusCode::CREATED, view(ctx, &row).await?))
}

pub async fn list<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> Result<Response, ApiError> {
    let rows = repo::connectors(ctx.db).await?;
    let mut list = Vec::with_capacity(rows.len());
    for row in rows
        .iter()
        .filter(|r| r.channel != super::sso_connectors::SSO)
    {
        list.push(view(ctx, row).await?);
    }
    Ok(web::json_text(StatusCode::OK, Json::array(list)))
}

async fn load<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<ConnectorRow, ApiError> {
    repo::connector(ctx.db, id)
        .await?
        .filter(|r| r.channel != super::sso_connectors::SSO)
        .ok_or_else(|| ApiError::not_found("connector", id))
}

pub async fn get<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<Response, ApiError> {
    Ok(web::json_text(
        StatusCode::OK,
        view(ctx, &load(ctx, id).await?).await?,
    ))
}

pub async fn update<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: UpdateBody = object_body(req, &["config", "metadata"])?;
    let mut row = load(ctx, id).await?;
    let mut config = open_config(ctx, &row).await?;
    let patch = unmasked_patch(b.config.unwrap_or_else(|| crate::jv!({})));
    // A secret follows its destination: moving the endpoint (or the account) needs the secret
    // again, or a Management token could send the stored one to a host of its choice.
    let moved = ["endpoint", "accountSID"]
        .iter()
        .chain(social::SECRET_DESTINATIONS)
        .any(|f| patch.get(*f).is_some_and(|v| config.get(*f) != Some(v)));
    let secret_given = SECRET_FIELDS.iter().any(|f| patch.get(*f).is_some());
    let has_secret = SECRET_FIELDS.iter().any(|f| config.get(*f).is_some());
    if moved && has_secret && !secret_given {
        return Err(ApiError::invalid_input(
            "Changing `endpoint` or `accountSID` needs the secret (`authorization` or `authToken`) again.",
        ));
    }
    merge(&mut config, patch);
    if social::is_social(&row.connector_id) {
        let mut metadata: Value =
            crate::json::parse(&row.metadata).unwrap_or_else(|_| crate::jv!({}));
        if let Some(p) = b.metadata {
            merge(&mut metadata, p);
        }
        let (c, target, m) = social(ctx, &row.connector_id, &config, &metadata).await?;
        (config, row.target, row.metadata) = (c, Some(target), crate::json::text(&m));
    } else {
        check_config(&row.connector_id, &config).map_err(invalid)?;
    }
    row.config = seal_config(ctx, id, &config).await?;
    repo::update_connector(ctx.db, &row)
        .await
        .map_err(target_taken)?;
    Ok(web::json_text(StatusCode::OK, view(ctx, &row).await?))
}

pub async fn delete<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<Response, ApiError> {
    load(ctx, id).await?;
    if !repo::delete_connector(ctx.db, id).await? {
        return Err(ApiError::not_found("connector", id));
    }
    Ok(web::empty(StatusCode::NO_CONTENT))
}
