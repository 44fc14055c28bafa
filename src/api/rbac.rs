//! `/api/resources` (+ `/scopes`), `/api/roles` (+ `/scopes`), role assignments of users
//! and apps, and a user's grants.
use super::input::{self, json_body};
use crate::crypto::random;
use crate::ctx::Ctx;
use crate::store::rbac::{self, ResourceRow, RoleRow, ScopeRow};
use crate::store::{apps, oidc as grants, users, Db, Kv, StoreError};
use crate::web::error::ApiError;
use crate::web::{self, Request, Response};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

fn resource_view(r: &ResourceRow) -> Value {
    json!({"id": r.id, "name": r.name, "indicator": r.indicator, "isDefault": r.is_default != 0, "accessTokenTtl": r.access_token_ttl})
}

fn scope_view(s: &ScopeRow) -> Value {
    json!({"id": s.id, "resourceId": s.resource_id, "name": s.name, "description": s.description, "createdAt": s.created_at})
}

fn role_view(r: &RoleRow) -> Value {
    json!({"id": r.id, "name": r.name, "description": r.description, "type": r.role_type, "createdAt": r.created_at})
}

fn unique(e: StoreError, code: &'static str, what: &str) -> ApiError {
    match e {
        StoreError::Unique(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            format!("{what} is already in use."),
        ),
        e => e.into(),
    }
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ResourceBody {
    name: Option<String>,
    indicator: Option<String>,
    access_token_ttl: Option<i64>,
}

pub async fn create_resource<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: ResourceBody = json_body(req)?;
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
    let b: ResourceBody = json_body(req)?;
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
    Ok(web::json(StatusCode::OK, &resource_view(&row)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DefaultBody {
    is_default: bool,
}

pub async fn set_default<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: DefaultBody = json_body(req)?;
    load_resource(ctx, id).await?;
    rbac::set_default_resource(ctx.db, id, b.is_default).await?;
    Ok(web::json(
        StatusCode::OK,
        &resource_view(&load_resource(ctx, id).await?),
    ))
}

pub async fn delete_resource<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
) -> Result<Response, ApiError> {
    if !rbac::delete_resource(ctx.db, id).await? {
        return Err(ApiError::not_found("resource", id));
    }
    Ok(web::empty(StatusCode::NO_CONTENT))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ScopeBody {
    name: Option<String>,
    #[serde(default, deserialize_with = "input::nullable")]
    description: Option<Option<String>>,
}

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
    let b: ScopeBody = json_body(req)?;
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
    let b: ScopeBody = json_body(req)?;
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
    Ok(web::json(StatusCode::OK, &scope_view(&row)))
}

pub async fn delete_scope<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    resource_id: &str,
    id: &str,
) -> Result<Response, ApiError> {
    load_scope(ctx, resource_id, id).await?;
    rbac::delete_scope(ctx.db, id).await?;
    Ok(web::empty(StatusCode::NO_CONTENT))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RoleBody {
    name: Option<String>,
    description: Option<String>,
    #[serde(rename = "type")]
    role_type: Option<RoleType>,
    scope_ids: Option<Vec<String>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
enum RoleType {
    User,
    MachineToMachine,
}

impl RoleType {
    fn as_str(self) -> &'static str {
        match self {
            RoleType::User => "User",
            RoleType::MachineToMachine => "MachineToMachine",
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IdsBody {
    #[serde(default)]
    scope_ids: Option<Vec<String>>,
    #[serde(default)]
    role_ids: Option<Vec<String>>,
}

async fn check_scopes<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, ids: &[String]) -> Result<(), ApiError> {
    if ids.len() > 100 {
        return Err(ApiError::invalid_input("At most 100 ids at a time."));
    }
    for id in ids {
        rbac::scope(ctx.db, id)
            .await?
            .ok_or_else(|| ApiError::not_found("scope", id))?;
    }
    Ok(())
}

pub async fn create_role<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: RoleBody = json_body(req)?;
    let row = RoleRow {
        id: random::id()?,
        name: input::text("name", b.name.as_deref().unwrap_or_default(), 1, 128)?,
        description: input::text(
            "description",
            b.description.as_deref().unwrap_or_default(),
            0,
            2048,
        )?,
        role_type: b.role_type.unwrap_or(RoleType::User).as_str().to_owned(),
        created_at: ctx.now_ms,
    };
    let scope_ids = b.scope_ids.unwrap_or_default();
    check_scopes(ctx, &scope_ids).await?;
    rbac::insert_role(ctx.db, &row)
        .await
        .map_err(|e| unique(e, "role.name_in_use", "This role name"))?;
    rbac::link(ctx.db, rbac::LINK_ROLE_SCOPE, &row.id, &scope_ids).await?;
    Ok(web::json(StatusCode::OK, &role_view(&row)))
}

pub async fn list_roles<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, ApiError> {
    let page = input::page(req)?;
    let (rows, total) = rbac::roles(ctx.db, page.limit, page.offset).await?;
    Ok(input::with_total(
        web::json(
            StatusCode::OK,
            &rows.iter().map(role_view).collect::<Vec<_>>(),
        ),
        total,
    ))
}

async fn load_role<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<RoleRow, ApiError> {
    rbac::role(ctx.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("role", id))
}

pub async fn get_role<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<Response, ApiError> {
    Ok(web::json(
        StatusCode::OK,
        &role_view(&load_role(ctx, id).await?),
    ))
}

pub async fn update_role<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: RoleBody = json_body(req)?;
    if b.role_type.is_some() || b.scope_ids.is_some() {
        return Err(ApiError::invalid_input(
            "Only `name` and `description` can be changed here.",
        ));
    }
    let mut row = load_role(ctx, id).await?;
    if let Some(n) = b.name {
        row.name = input::text("name", &n, 1, 128)?;
    }
    if let Some(d) = b.description {
        row.description = input::text("description", &d, 0, 2048)?;
    }
    rbac::update_role(ctx.db, &row)
        .await
        .map_err(|e| unique(e, "role.name_in_use", "This role name"))?;
    Ok(web::json(StatusCode::OK, &role_view(&row)))
}

pub async fn delete_role<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
) -> Result<Response, ApiError> {
    if !rbac::delete_role(ctx.db, id).await? {
        return Err(ApiError::not_found("role", id));
    }
    Ok(web::empty(StatusCode::NO_CONTENT))
}

pub async fn role_scopes<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
) -> Result<Response, ApiError> {
    load_role(ctx, id).await?;
    let rows = rbac::role_scopes(ctx.db, id).await?;
    Ok(web::json(
        StatusCode::OK,
        &rows.iter().map(scope_view).collect::<Vec<_>>(),
    ))
}

pub async fn add_role_scopes<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: IdsBody = json_body(req)?;
    let ids = b
        .scope_ids
        .ok_or_else(|| ApiError::invalid_input("`scopeIds` is required."))?;
    load_role(ctx, id).await?;
    check_scopes(ctx, &ids).await?;
    rbac::link(ctx.db, rbac::LINK_ROLE_SCOPE, id, &ids).await?;
    role_scopes(ctx, id).await.map(|mut r| {
        *r.status_mut() = StatusCode::CREATED;
        r
    })
}

pub async fn remove_role_scope<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    scope_id: &str,
) -> Result<Response, ApiError> {
    if !rbac::unlink(ctx.db, rbac::UNLINK_ROLE_SCOPE, id, scope_id).await? {
        return Err(ApiError::not_found("role scope", scope_id));
    }
    Ok(web::empty(StatusCode::NO_CONTENT))
}

/// Whose roles: a user's (roles of type `User`) or an app's (`MachineToMachine`).
#[derive(Clone, Copy)]
pub enum Assignee {
    User,
    App,
}

async fn check_assignee<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    who: Assignee,
    id: &str,
) -> Result<(), ApiError> {
    let exists = match who {
        Assignee::User => users::get(ctx.db, id).await?.is_some(),
        Assignee::App => apps::get(ctx.db, id)
            .await?
            .is_some_and(|a| a.app_type == apps::AppType::MachineToMachine),
    };
    if !exists {
        let what = if matches!(who, Assignee::User) {
            "user"
        } else {
            "machine-to-machine application"
        };
        return Err(ApiError::not_found(what, id));
    }
    Ok(())
}

pub async fn assigned_roles<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    who: Assignee,
    id: &str,
) -> Result<Response, ApiError> {
    check_assignee(ctx, who, id).await?;
    let rows = match who {
        Assignee::User => rbac::user_roles(ctx.db, id).await?,
        Assignee::App => rbac::app_roles(ctx.db, id).await?,
    };
    Ok(web::json(
        StatusCode::OK,
        &rows.iter().map(role_view).collect::<Vec<_>>(),
    ))
}

pub async fn assign_roles<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    who: Assignee,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: IdsBody = json_body(req)?;
    let ids = b
        .role_ids
        .ok_or_else(|| ApiError::invalid_input("`roleIds` is required."))?;
    if ids.len() > 100 {
        return Err(ApiError::invalid_input("At most 100 ids at a time."));
    }
    check_assignee(ctx, who, id).await?;
    let wanted = if matches!(who, Assignee::User) {
        "User"
    } else {
        "MachineToMachine"
    };
    for role_id in &ids {
        let role = load_role(ctx, role_id).await?;
        if role.role_type != wanted {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "role.type_mismatch",
                format!(
                    "Role `{}` is of type {}, not {wanted}.",
                    role.name, role.role_type
                ),
            ));
        }
    }
    let sql = if matches!(who, Assignee::User) {
        rbac::LINK_USER_ROLE
    } else {
        rbac::LINK_APP_ROLE
    };
    rbac::link(ctx.db, sql, id, &ids).await?;
    Ok(web::empty(StatusCode::CREATED))
}

pub async fn unassign_role<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    who: Assignee,
    id: &str,
    role_id: &str,
) -> Result<Response, ApiError> {
    let sql = if matches!(who, Assignee::User) {
        rbac::UNLINK_USER_ROLE
    } else {
        rbac::UNLINK_APP_ROLE
    };
    if !rbac::unlink(ctx.db, sql, id, role_id).await? {
        return Err(ApiError::not_found("role assignment", role_id));
    }
    Ok(web::empty(StatusCode::NO_CONTENT))
}

pub async fn user_grants<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    check_assignee(ctx, Assignee::User, user_id).await?;
    let filter = web::query_pairs(req)
        .into_iter()
        .find(|(k, _)| k == "appType")
        .map(|(_, v)| v);
    let mut out = Vec::new();
    for g in grants::grants_of_user(ctx.db, user_id, ctx.now()).await? {
        let third = apps::get(ctx.db, &g.client_id)
            .await?
            .is_some_and(|a| a.is_third_party);
        match filter.as_deref() {
            Some("firstParty") if third => continue,
            Some("thirdParty") if !third => continue,
            Some("firstParty" | "thirdParty") | None => {}
            Some(_) => {
                return Err(ApiError::invalid_input(
                    "`appType` must be firstParty or thirdParty.",
                ))
            }
        }
        let granted = g.granted()?;
        out.push(json!({
            "id": g.id, "applicationId": g.client_id, "scopes": granted.scopes, "resources": granted.resources,
            "createdAt": g.created_at, "expiresAt": g.expires_at,
        }));
    }
    Ok(web::json(StatusCode::OK, &out))
}

/// Revokes a grant: the app's refresh tokens and opaque access tokens for it go too.
pub async fn revoke_grant<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    grant_id: &str,
) -> Result<Response, ApiError> {
    if !grants::delete_grant(ctx.db, user_id, grant_id).await? {
        return Err(ApiError::not_found("grant", grant_id));
    }
    Ok(web::empty(StatusCode::NO_CONTENT))
}
