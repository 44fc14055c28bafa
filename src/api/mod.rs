//! The Management API at `/api`: Logto's paths and JSON shapes, behind a bearer token for
//! the resource `<origin>/api` with the scope `all`.
pub mod account;
mod account_profile;
pub mod account_routes;
pub mod applications;
pub mod connectors;
pub mod experience;
pub mod experience_settings;
pub mod experience_social;
pub mod experience_view;
pub mod grants;
pub mod input;
pub mod keys;
pub mod mfa;
pub mod resources;
pub mod roles;
pub mod sso_connectors;
pub mod users;

use crate::ctx::Ctx;
use crate::oidc::access_token::{self, Rejection};
use crate::oidc::resources::MANAGEMENT_SCOPE;
use crate::oidc::signing;
use crate::store::{Db, Kv};
use crate::web::error::ApiError;
use crate::web::http::header::AUTHORIZATION;
use crate::web::http::{Method, StatusCode};
use crate::web::{header, Request, Response};
use roles::Assignee::{App, User};

/// The request's bearer token; 401 without one.
fn bearer(req: &Request) -> Result<&str, ApiError> {
    let value = header(req, AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(
            "auth.authorization_header_missing",
            "Authorization header is missing.",
        )
    })?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized(
                "auth.authorization_token_type_not_supported",
                "Authorization type is not supported. Use a Bearer token.",
            )
        })
}

/// Checks the bearer token: 401 without a valid one, 403 without the `all` scope.
async fn authorize<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Result<(), ApiError> {
    let token = bearer(req)?;
    let verified = signing::verify(ctx, token, ctx.now()).await?;
    let claims =
        access_token::check(verified, &ctx.issuer(), &ctx.management_api()).map_err(|r| {
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

type Handler<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response, ApiError>> + 'a>>;

pub async fn handle<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: Request) -> Result<Response, ApiError> {
    let path = req.uri().path();
    if path == "/api/experience" || path.starts_with("/api/experience/") {
        // The Experience API is the browser's, bound to its interaction cookie.
        return experience::handle(ctx, req).await;
    }
    let path = req.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(2).collect();
    match segments.first().copied() {
        Some("my-account" | "verifications") => {
            return account::handle(ctx, &req, &segments).await;
        }
        Some(".well-known") if segments == [".well-known", "account-center"] => {
            return account::get_center(ctx).await;
        }
        _ => {}
    }
    authorize(ctx, &req).await?;
    let method = *req.method();
    // Each handler runs as its own boxed future: the router stays small instead of
    // inlining every handler's state machine into one.
    let handler: Handler<'_> = match (segments.as_slice(), &method) {
        (["applications"], &Method::GET) => Box::pin(applications::list(ctx, &req)),
        (["applications"], &Method::POST) => Box::pin(applications::create(ctx, &req)),
        (["applications"], m) => Box::pin(std::future::ready(Err(method_not_allowed(m)))),
        (["applications", id], &Method::GET) => Box::pin(applications::get(ctx, id)),
        (["applications", id], &Method::PATCH) => Box::pin(applications::update(ctx, id, &req)),
        (["applications", id], &Method::DELETE) => Box::pin(applications::delete(ctx, id)),
        (["applications", _], m) => Box::pin(std::future::ready(Err(method_not_allowed(m)))),
        (["users"], &Method::GET) => Box::pin(users::list(ctx, &req)),
        (["users"], &Method::POST) => Box::pin(users::create(ctx, &req)),
        (["users"], m) => Box::pin(std::future::ready(Err(method_not_allowed(m)))),
        (["users", id], &Method::GET) => Box::pin(users::get(ctx, id)),
        (["users", id], &Method::PATCH) => Box::pin(users::update(ctx, id, &req)),
        (["users", id], &Method::DELETE) => Box::pin(users::delete(ctx, id)),
        (["users", _], m) => Box::pin(std::future::ready(Err(method_not_allowed(m)))),
        (["users", id, "identities", t], &Method::PUT) => {
            Box::pin(users::put_identity(ctx, (id, t), &req))
        }
        (["users", id, "identities", t], &Method::DELETE) => {
            Box::pin(users::delete_identity(ctx, (id, t)))
        }
        (["users", id, "password"], &Method::PATCH) => Box::pin(users::set_password(ctx, id, &req)),
        (["users", id, "is-suspended"], &Method::PATCH) => {
            Box::pin(users::set_suspended(ctx, id, &req))
        }
        (["users", id, "mfa-verifications"], &Method::GET) => Box::pin(mfa::list(ctx, id)),
        (["users", id, "mfa-verifications"], &Method::POST) => Box::pin(mfa::create(ctx, id, &req)),
        (["users", id, "mfa-verifications", v], &Method::DELETE) => {
            Box::pin(mfa::delete(ctx, id, v))
        }
        (["users", id, "logto-configs"], &Method::GET) => Box::pin(mfa::config(ctx, id)),
        (["users", id, "logto-configs"], &Method::PATCH) => {
            Box::pin(mfa::update_config(ctx, id, &req))
        }
        (["users", id, "roles"], &Method::GET) => Box::pin(roles::assigned_roles(ctx, User, id)),
        (["users", id, "roles"], &Method::POST) => {
            Box::pin(roles::assign_roles(ctx, User, id, &req))
        }
        (["users", id, "roles", role], &Method::DELETE) => {
            Box::pin(roles::unassign_role(ctx, User, id, role))
        }
        (["users", id, "grants"], &Method::GET) => Box::pin(grants::user_grants(ctx, id, &req)),
        (["users", id, "grants", grant], &Method::DELETE) => {
            Box::pin(grants::revoke_grant(ctx, id, grant))
        }
        (["applications", id, "roles"], &Method::GET) => {
            Box::pin(roles::assigned_roles(ctx, App, id))
        }
        (["applications", id, "roles"], &Method::POST) => {
            Box::pin(roles::assign_roles(ctx, App, id, &req))
        }
        (["applications", id, "roles", role], &Method::DELETE) => {
            Box::pin(roles::unassign_role(ctx, App, id, role))
        }
        (["resources"], &Method::GET) => Box::pin(resources::list_resources(ctx, &req)),
        (["resources"], &Method::POST) => Box::pin(resources::create_resource(ctx, &req)),
        (["resources", id], &Method::GET) => Box::pin(resources::get_resource(ctx, id)),
        (["resources", id], &Method::PATCH) => Box::pin(resources::update_resource(ctx, id, &req)),
        (["resources", id], &Method::DELETE) => Box::pin(resources::delete_resource(ctx, id)),
        (["resources", id, "is-default"], &Method::PATCH) => {
            Box::pin(resources::set_default(ctx, id, &req))
        }
        (["resources", id, "scopes"], &Method::GET) => Box::pin(resources::list_scopes(ctx, id)),
        (["resources", id, "scopes"], &Method::POST) => {
            Box::pin(resources::create_scope(ctx, id, &req))
        }
        (["resources", id, "scopes", scope], &Method::PATCH) => {
            Box::pin(resources::update_scope(ctx, id, scope, &req))
        }
        (["resources", id, "scopes", scope], &Method::DELETE) => {
            Box::pin(resources::delete_scope(ctx, id, scope))
        }
        (["roles"], &Method::GET) => Box::pin(roles::list_roles(ctx, &req)),
        (["roles"], &Method::POST) => Box::pin(roles::create_role(ctx, &req)),
        (["roles", id], &Method::GET) => Box::pin(roles::get_role(ctx, id)),
        (["roles", id], &Method::PATCH) => Box::pin(roles::update_role(ctx, id, &req)),
        (["roles", id], &Method::DELETE) => Box::pin(roles::delete_role(ctx, id)),
        (["roles", id, "scopes"], &Method::GET) => Box::pin(roles::role_scopes(ctx, id)),
        (["roles", id, "scopes"], &Method::POST) => Box::pin(roles::add_role_scopes(ctx, id, &req)),
        (["roles", id, "scopes", scope], &Method::DELETE) => {
            Box::pin(roles::remove_role_scope(ctx, id, scope))
        }
        (["account-center"], &Method::GET) => Box::pin(account::get_center(ctx)),
        (["account-center"], &Method::PATCH) => Box::pin(account::patch_center(ctx, &req)),
        (["sign-in-exp"], &Method::GET) => Box::pin(experience_settings::get(ctx)),
        (["sign-in-exp"], &Method::PATCH) => Box::pin(experience_settings::update(ctx, &req)),
        (["logs"], &Method::GET) => Box::pin(experience_settings::logs(ctx, &req)),
        (["connectors"], &Method::GET) => Box::pin(connectors::list(ctx)),
        (["connectors"], &Method::POST) => Box::pin(connectors::create(ctx, &req)),
        (["connectors", id], &Method::GET) => Box::pin(connectors::get(ctx, id)),
        (["connectors", id], &Method::PATCH) => Box::pin(connectors::update(ctx, id, &req)),
        (["connectors", id], &Method::DELETE) => Box::pin(connectors::delete(ctx, id)),
        (["sso-connectors"], &Method::GET) => Box::pin(sso_connectors::list(ctx)),
        (["sso-connectors"], &Method::POST) => Box::pin(sso_connectors::create(ctx, &req)),
        (["sso-connectors", id], &Method::GET) => Box::pin(sso_connectors::get(ctx, id)),
        (["sso-connectors", id], &Method::PATCH) => Box::pin(sso_connectors::update(ctx, id, &req)),
        (["sso-connectors", id], &Method::DELETE) => Box::pin(sso_connectors::delete(ctx, id)),
        (["sso-connectors", id, "idp-initiated-auth-config"], &Method::PUT) => {
            Box::pin(sso_connectors::put_idp_initiated(ctx, id, &req))
        }
        (["sso-connectors", id, "idp-initiated-auth-config"], &Method::GET) => {
            Box::pin(sso_connectors::idp_initiated(ctx, id, false))
        }
        (["sso-connectors", id, "idp-initiated-auth-config"], &Method::DELETE) => {
            Box::pin(sso_connectors::idp_initiated(ctx, id, true))
        }
        (["configs", "oidc", "private-keys"], &Method::GET) => Box::pin(keys::list(ctx)),
        (["configs", "oidc", "private-keys", "rotate"], &Method::POST) => {
            Box::pin(keys::rotate(ctx))
        }
        _ => Box::pin(std::future::ready(Err(not_found(&path)))),
    };
    handler.await
}
