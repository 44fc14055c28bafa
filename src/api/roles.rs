//! `/api/roles` and their scopes, and the role assignments of users and apps.
use super::input::{self, object_body, unique};
use super::resources::scope_view;
use crate::crypto::random;
use crate::ctx::Ctx;
use crate::store::rbac::{self, RoleRow};
use crate::store::{apps, users, Db, Kv};
use crate::web::error::ApiError;
use crate::web::http::StatusCode;
use crate::web::{self, Request, Response};
use serde_json::Value;

fn role_view(r: &RoleRow) -> Value {
    crate::jv!({"id": r.id, "name": r.name, "description": r.description, "type": r.role_type, "createdAt": r.created_at})
}

// The bodies, read column by column (`input::object_body`), each with its fields.
struct RoleBody {
    name: Option<String>,
    description: Option<String>,
    role_type: Option<RoleType>,
    scope_ids: Option<Vec<String>>,
}
crate::from_row!(RoleBody { name, description, role_type = "type", scope_ids = "scopeIds" });
const ROLE_FIELDS: &[&str] = &["name", "description", "type", "scopeIds"];

#[derive(Clone, Copy, PartialEq)]
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

crate::column_enum!(RoleType { User = "User", MachineToMachine = "MachineToMachine" });

struct IdsBody {
    scope_ids: Option<Vec<String>>,
    role_ids: Option<Vec<String>>,
}
crate::from_row!(IdsBody { scope_ids = "scopeIds", role_ids = "roleIds" });

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
    let b: RoleBody = object_body(req, ROLE_FIELDS)?;
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
    let b: RoleBody = object_body(req, ROLE_FIELDS)?;
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
    let b: IdsBody = object_body(req, &["scopeIds", "roleIds"])?;
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

pub(super) async fn check_assignee<D: Db, K: Kv>(
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
    let b: IdsBody = object_body(req, &["scopeIds", "roleIds"])?;
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
