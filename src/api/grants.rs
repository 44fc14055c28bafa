//! A user's grants (consents): listed, and revoked with their tokens.
use super::roles::{check_assignee, Assignee};
use crate::ctx::Ctx;
use crate::store::{apps, oidc as grants, Db, Kv};
use crate::web::error::ApiError;
use crate::web::http::StatusCode;
use crate::web::{self, Request, Response};

pub async fn user_grants<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    check_assignee(ctx, Assignee::User, user_id).await?;
    Ok(web::json(
        StatusCode::OK,
        &grants_of(ctx, user_id, req).await?,
    ))
}

/// The user's live grants, those of first- or third-party apps only with `?appType=`.
pub async fn grants_of<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    req: &Request,
) -> Result<Vec<serde_json::Value>, ApiError> {
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
        out.push(crate::jv!({
            "id": g.id, "applicationId": g.client_id, "scopes": granted.scopes, "resources": granted.resources,
            "createdAt": g.created_at, "expiresAt": g.expires_at,
        }));
    }
    Ok(out)
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
