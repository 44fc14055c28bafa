//! `/api/resources` and their scopes (`/api/resources/{id}/scopes`).
use super::input::{self, object_body, unique};
use crate::crypto::random;
use crate::ctx::Ctx;
use crate::store::rbac::{self, ResourceRow, ScopeRow};
use crate::store::{Db, Kv};
use crate::web::error::ApiError;
use crate::web::http::StatusCode;
use crate::web::{self, Request, Response};
use serde_json::Value;

fn resource_view(r: &ResourceRow) -> Value {
    crate::jv!({"id": r.id, "name": r.name, "indicator": r.indicator, "isDefault": r.is_default != 0, "accessTokenTtl": r.access_token_ttl})
}

pub(super) fn scope_view(s: &ScopeRow) -> Value {
    crate::jv!({"id": s.id, "resourceId": s.resource_id, "name": s.name, "description": s.description, "createdAt": s.created_at})
}

fn ttl(v: i64) -> Result<i64, ApiError> {
    if (60..=86_400).contains(&v) {
        Ok(v)
    } else {
        Err(ApiError::invalid_input(
            "`accessTokenTtl` must be from 60 to 86400 seconds.",
        ))
    }
}

/// Scope and permission names: 1–256 characters without whitespace.
fn scope_name(v: &str) -> Result<String, ApiError> {
    let n = input::text("name", v, 1, 256)?;
    if n.chars().any(char::is_whitespace) {
        return Err(ApiError::invalid_input("`name` must not contain spaces."));
    }
    Ok(n)
}

// The bodies, read column by column (`input::object_body`), each with its fields.
struct ResourceBody {
    name: Option<String>,
    indicator: Option<String>,
    access_token_ttl: Option<i64>,
}
crate::from_row!(ResourceBody { name, indicator, access_token_ttl = "accessTokenTtl" });
const RESOURCE_FIELDS: &[&str] = &["name", "indicator", "accessTokenTtl"];

pub async fn create_resource<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: ResourceBody = object_body(req, RESOURCE_FIELDS)?;
    let indicator = b
        .indicator
        .ok_or_else(|| ApiError::invalid_input("`indicator` is required."))?;
    let indicator = input::uri("indicator", &indicator, false)?;
    if indicator == ctx.management_api() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "resource.indicator_already_in_use",
            "That indicator is the Management API's.",
        ));
    }
    let row = ResourceRow {
        id: random::id()?,
        name: input::text("name", b.name.as_deref().unwrap_or_default(), 1, 256)?,
        indicator,
        is_default: 0,
        access_token_ttl: ttl(b.access_token_ttl.unwrap_or(ctx.config.access_token_ttl))?,
        created_at: ctx.now_ms,
    };
    rbac::insert_resource(ctx.db, &row)
        .await
        .map_err(|e| unique(e, "resource.indicator_already_in_use", "This indicator"))?;
    ctx.cache.forget_resources(ctx.now_ms);
    Ok(web::json(StatusCode::CREATED, &resource_view(&row)))
}

pub async fn list_resources<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, ApiError> {
    let page = input::page(req)?;
    let (rows, total) = rbac::resources(ctx.db, page.limit, page.offset).await?;
    Ok(input::with_total(
        web::json(
            StatusCode::OK,
            &rows.iter().map(resource_view).collect::<Vec<_>>(),
        ),
        total,
    ))
}

async fn load_resource<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
) -> Result<ResourceRow, ApiError> {
    rbac::resource(ctx.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("resource", id))
}

pub async fn get_resource<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
) -> Result<Response, ApiError> {
    Ok(web::json(
        StatusCode::OK,
        &resource_view(&load_resource(ctx, id).await?),
    ))
}

pub async fn update_resource<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: ResourceBody = object_body(req, RESOURCE_FIELDS)?;
    let mut row = load_resource(ctx, id).await?;
    if b.indicator.is_some() {
        return Err(ApiError::invalid_input("`indicator` cannot be changed."));
    }
    if let Some(n) = b.name {
        row.name = input::text("name", &n, 1, 256)?;
    }
    if let Some(t) = b.access_token_ttl {
        row.access_token_ttl = ttl(t)?;
    }
    rbac::update_resource(ctx.db, &row).await?;
    ctx.cache.forget_resources(ctx.now_ms);
    Ok(web::json(StatusCode::OK, &resource_view(&row)))
}

struct DefaultBody {
    is_default: bool,
}
crate::from_row!(DefaultBody { is_default = "isDefault" });

pub async fn set_default<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: DefaultBody = object_body(req, &["isDefault"])?;
    load_resource(ctx, id).await?;
    rbac::set_default_resource(ctx.db, id, b.is_default).await?;
    ctx.cache.forget_resources(ctx.now_ms);
    Ok(web::json(
        StatusCode::OK,
        &resource_view(&load_resource(ctx, id).await?),
    ))
}

pub async fn delete_resource<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
) -> Result<Response, ApiError> {
    let deleted = rbac::delete_resource(ctx.db, id).await?;
    ctx.cache.forget_resources(ctx.now_ms);
    if !deleted {
        return Err(ApiError::not_found("resource", id));
    }
    Ok(web::empty(StatusCode::NO_CONTENT))
}

struct ScopeBody {
    name: Option<String>,
    description: Option<Option<String>>,
}
impl crate::store::FromRow for ScopeBody {
    fn from_row(r: &crate::store::Row) -> Result<Self, crate::store::StoreError> {
        crate::cols!(
            r,
            ScopeBody {
                name,
                description: patch
            }
        )
    }
}
const SCOPE_FIELDS: &[&str] = &["name", "description"];

pub async fn list_scopes<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    resource_id: &str,
) -> Result<Response, ApiError> {
    load_resource(ctx, resource_id).await?;
    let rows = rbac::scopes_of_resource(ctx.db, resource_id).await?;
    let total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    Ok(input::with_total(
        web::json(
            StatusCode::OK,
            &rows.iter().map(scope_view).collect::<Vec<_>>(),
        ),
        total,
    ))
}

pub async fn create_scope<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    resource_id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: ScopeBody = object_body(req, SCOPE_FIELDS)?;
    load_resource(ctx, resource_id).await?;
    let row = ScopeRow {
        id: random::id()?,
        resource_id: resource_id.to_owned(),
        name: scope_name(b.name.as_deref().unwrap_or_default())?,
        description: b
            .description
            .flatten()
            .map(|d| input::text("description", &d, 0, 2048))
            .transpose()?,
        created_at: ctx.now_ms,
    };
    rbac::insert_scope(ctx.db, &row)
        .await
        .map_err(|e| unique(e, "scope.name_exists", "This scope name"))?;
    ctx.cache.forget_resources(ctx.now_ms);
    Ok(web::json(StatusCode::CREATED, &scope_view(&row)))
}

async fn load_scope<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    resource_id: &str,
    id: &str,
) -> Result<ScopeRow, ApiError> {
    rbac::scope(ctx.db, id)
        .await?
        .filter(|s| s.resource_id == resource_id)
        .ok_or_else(|| ApiError::not_found("scope", id))
}

pub async fn update_scope<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    resource_id: &str,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: ScopeBody = object_body(req, SCOPE_FIELDS)?;
    let mut row = load_scope(ctx, resource_id, id).await?;
    if let Some(n) = b.name {
        row.name = scope_name(&n)?;
    }
    if let Some(d) = b.description {
        row.description = d
            .map(|d| input::text("description", &d, 0, 2048))
            .transpose()?;
    }
    rbac::update_scope(ctx.db, &row)
        .await
        .map_err(|e| unique(e, "scope.name_exists", "This scope name"))?;
    ctx.cache.forget_resources(ctx.now_ms);
    Ok(web::json(StatusCode::OK, &scope_view(&row)))
}

pub async fn delete_scope<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    resource_id: &str,
    id: &str,
) -> Result<Response, ApiError> {
    load_scope(ctx, resource_id, id).await?;
    rbac::delete_scope(ctx.db, id).await?;
    ctx.cache.forget_resources(ctx.now_ms);
    Ok(web::empty(StatusCode::NO_CONTENT))
}
