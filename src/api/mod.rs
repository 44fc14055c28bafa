//! The Management API at `/api`: Logto's paths and JSON shapes, behind a bearer token for
//! the resource `<origin>/api` with the scope `all`.
pub mod applications;
pub mod connectors;
pub mod experience;
pub mod experience_settings;
pub mod grants;
pub mod input;
pub mod keys;
pub mod resources;
pub mod roles;
pub mod users;

use crate::ctx::Ctx;
use crate::oidc::access_token::{self, Rejection};
use crate::oidc::resources::MANAGEMENT_SCOPE;
use crate::oidc::signing;
use crate::store::{Db, Kv};
use crate::web::error::ApiError;
use crate::web::{header, Request, Response};
use http::header::AUTHORIZATION;
use http::{Method, StatusCode};
use roles::Assignee::{App, User};

/// Checks the bearer token: 401 without a valid one, 403 without the `all` scope.
async fn authorize<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Result<(), ApiError> {
    let value = header(req, AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(
            "auth.authorization_header_missing",
            "Authorization header is missing.",
        )
    })?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized(
                "auth.authorization_token_type_not_supported",
                "Authorization type is not supported. Use a Bearer token.",
            )
        })?;
    let rows = signing::published(ctx.db, &ctx.sealer()?, ctx.now_ms).await?;
    let keys = signing::jwks(&rows)?;
    let claims = access_token::verify(
        token,
        &keys,
        &ctx.issuer(),
        &ctx.management_api(),
        ctx.now(),
    )
    .map_err(|r| {
        let message = match r {
            Rejection::Invalid(crate::crypto::jwt::JwtError::Expired) => {
                "The access token has expired."
            }
            Rejection::WrongAudience => "The access token is not for the Management API.",
            _ => "The access token is invalid.",
        };
        ApiError::unauthorized("auth.unauthorized", message)
    })?;
    if !claims.scopes().any(|s| s == MANAGEMENT_SCOPE) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "auth.forbidden",
            format!("The access token lacks the `{MANAGEMENT_SCOPE}` scope."),
        ));
    }
    Ok(())
}

fn not_found(path: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "guard.route_not_found",
        format!("No API route at {path}."),
    )
}

fn method_not_allowed(method: &Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "guard.method_not_allowed",
        format!("{method} is not allowed here."),
    )
}

pub async fn handle<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: Request) -> Result<Response, ApiError> {
    let path = req.uri().path();
    if path == "/api/experience" || path.starts_with("/api/experience/") {
        // The Experience API is the browser's, bound to its interaction cookie.
        return experience::handle(ctx, req).await;
    }
    authorize(ctx, &req).await?;
    let path = req.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(2).collect();
    let method = req.method().clone();
    match (segments.as_slice(), &method) {
        (["applications"], &Method::GET) => applications::list(ctx, &req).await,
        (["applications"], &Method::POST) => applications::create(ctx, &req).await,
        (["applications"], m) => Err(method_not_allowed(m)),
        (["applications", id], &Method::GET) => applications::get(ctx, id).await,
        (["applications", id], &Method::PATCH) => applications::update(ctx, id, &req).await,
        (["applications", id], &Method::DELETE) => applications::delete(ctx, id).await,
        (["applications", _], m) => Err(method_not_allowed(m)),
        (["users"], &Method::GET) => users::list(ctx, &req).await,
        (["users"], &Method::POST) => users::create(ctx, &req).await,
        (["users"], m) => Err(method_not_allowed(m)),
        (["users", id], &Method::GET) => users::get(ctx, id).await,
        (["users", id], &Method::PATCH) => users::update(ctx, id, &req).await,
        (["users", id], &Method::DELETE) => users::delete(ctx, id).await,
        (["users", _], m) => Err(method_not_allowed(m)),
        (["users", id, "password"], &Method::PATCH) => users::set_password(ctx, id, &req).await,
        (["users", id, "roles"], &Method::GET) => roles::assigned_roles(ctx, User, id).await,
        (["users", id, "roles"], &Method::POST) => roles::assign_roles(ctx, User, id, &req).await,
        (["users", id, "roles", role], &Method::DELETE) => {
            roles::unassign_role(ctx, User, id, role).await
        }
        (["users", id, "grants"], &Method::GET) => grants::user_grants(ctx, id, &req).await,
        (["users", id, "grants", grant], &Method::DELETE) => {
            grants::revoke_grant(ctx, id, grant).await
        }
        (["applications", id, "roles"], &Method::GET) => roles::assigned_roles(ctx, App, id).await,
        (["applications", id, "roles"], &Method::POST) => {
            roles::assign_roles(ctx, App, id, &req).await
        }
        (["applications", id, "roles", role], &Method::DELETE) => {
            roles::unassign_role(ctx, App, id, role).await
        }
        (["resources"], &Method::GET) => resources::list_resources(ctx, &req).await,
        (["resources"], &Method::POST) => resources::create_resource(ctx, &req).await,
        (["resources", id], &Method::GET) => resources::get_resource(ctx, id).await,
        (["resources", id], &Method::PATCH) => resources::update_resource(ctx, id, &req).await,
        (["resources", id], &Method::DELETE) => resources::delete_resource(ctx, id).await,
        (["resources", id, "is-default"], &Method::PATCH) => {
            resources::set_default(ctx, id, &req).await
        }
        (["resources", id, "scopes"], &Method::GET) => resources::list_scopes(ctx, id).await,
        (["resources", id, "scopes"], &Method::POST) => {
            resources::create_scope(ctx, id, &req).await
        }
        (["resources", id, "scopes", scope], &Method::PATCH) => {
            resources::update_scope(ctx, id, scope, &req).await
        }
        (["resources", id, "scopes", scope], &Method::DELETE) => {
            resources::delete_scope(ctx, id, scope).await
        }
        (["roles"], &Method::GET) => roles::list_roles(ctx, &req).await,
        (["roles"], &Method::POST) => roles::create_role(ctx, &req).await,
        (["roles", id], &Method::GET) => roles::get_role(ctx, id).await,
        (["roles", id], &Method::PATCH) => roles::update_role(ctx, id, &req).await,
        (["roles", id], &Method::DELETE) => roles::delete_role(ctx, id).await,
        (["roles", id, "scopes"], &Method::GET) => roles::role_scopes(ctx, id).await,
        (["roles", id, "scopes"], &Method::POST) => roles::add_role_scopes(ctx, id, &req).await,
        (["roles", id, "scopes", scope], &Method::DELETE) => {
            roles::remove_role_scope(ctx, id, scope).await
        }
        (["sign-in-exp"], &Method::GET) => experience_settings::get(ctx).await,
        (["sign-in-exp"], &Method::PATCH) => experience_settings::update(ctx, &req).await,
        (["logs"], &Method::GET) => experience_settings::logs(ctx, &req).await,
        (["connectors"], &Method::GET) => connectors::list(ctx).await,
        (["connectors"], &Method::POST) => connectors::create(ctx, &req).await,
        (["connectors", id], &Method::GET) => connectors::get(ctx, id).await,
        (["connectors", id], &Method::PATCH) => connectors::update(ctx, id, &req).await,
        (["connectors", id], &Method::DELETE) => connectors::delete(ctx, id).await,
        (["configs", "oidc", "private-keys"], &Method::GET) => keys::list(ctx).await,
        (["configs", "oidc", "private-keys", "rotate"], &Method::POST) => keys::rotate(ctx).await,
        _ => Err(not_found(&path)),
    }
}
