//! API resources (RFC 8707 resource indicators) and the scopes a client or user may get.
use super::client_auth::Client;
use super::error::{ErrorCode, OAuthError};
use crate::ctx::Ctx;
use crate::error::InternalError;
use crate::store::rbac::{self, Owner};
use crate::store::{Db, Kv};
use crate::uri::Uri;

/// The Management API's only scope, as in Logto.
pub const MANAGEMENT_SCOPE: &str = "all";

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub indicator: String,
    pub scopes: Vec<String>,
    pub access_token_ttl: i64,
    pub is_management: bool,
}

/// RFC 8707 §2: "an absolute URI … MUST NOT include a fragment component".
pub fn check_indicator(indicator: &str) -> Result<(), OAuthError> {
    match Uri::parse(indicator) {
        Some(u) if u.fragment.is_none() && (u.authority.is_some() || u.path.starts_with('/')) => {
            Ok(())
        }
        _ => Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            "resource must be an absolute URI without a fragment",
        )),
    }
}

/// The resource with this indicator, if it exists: the Management API, or one in D1.
/// From the isolate's cache, else from a replica (resources change rarely; see
/// [`crate::cache`] for how soon a change takes effect).
pub async fn find<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    indicator: &str,
) -> Result<Option<Resource>, InternalError> {
    if indicator != ctx.management_api() {
        if let Some(hit) = ctx.cache.resource(indicator, ctx.now_ms) {
            return Ok(hit);
        }
    }
    let found = load(ctx, indicator).await?;
    if indicator == ctx.management_api() {
        return Ok(found);
    }
    ctx.cache.put_resource(indicator, found.clone(), ctx.now_ms);
    Ok(found)
}

async fn load<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    indicator: &str,
) -> Result<Option<Resource>, InternalError> {
    if indicator == ctx.management_api() {
        return Ok(Some(Resource {
            indicator: indicator.to_owned(),
            scopes: vec![MANAGEMENT_SCOPE.to_owned()],
            access_token_ttl: ctx.config.access_token_ttl,
            is_management: true,
        }));
    }
    let Some(row) = rbac::resource_by_indicator(ctx.lag_tolerant(), indicator).await? else {
        return Ok(None);
    };
    let scopes = rbac::scopes_of_resource(ctx.lag_tolerant(), &row.id).await?;
    Ok(Some(Resource {
        indicator: row.indicator,
        scopes: scopes.into_iter().map(|s| s.name).collect(),
        access_token_ttl: row.access_token_ttl,
        is_management: false,
    }))
}

/// The scopes of `resource` that `client` may be granted on its own behalf: the bootstrap
/// admin app holds the Management API's `all`; other apps get what their roles grant.
pub async fn client_scopes<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    client: &Client,
    resource: &Resource,
) -> Result<Vec<String>, InternalError> {
    match client {
        Client::Admin { .. } => Ok(resource.scopes.clone()),
        Client::App(_) if resource.is_management => Ok(Vec::new()),
        Client::App(app) => {
            Ok(rbac::granted_scope_names(ctx.db, Owner::App, &app.id, &resource.indicator).await?)
        }
    }
}

/// The scopes of `resource` that the user's roles grant.
pub async fn user_scopes<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    resource: &Resource,
) -> Result<Vec<String>, InternalError> {
    if resource.is_management {
        return Ok(Vec::new());
    }
    Ok(rbac::granted_scope_names(ctx.db, Owner::User, user_id, &resource.indicator).await?)
}
