//! API resources (RFC 8707 resource indicators) and the scopes a client may get for them.
use super::client_auth::Client;
use super::error::{ErrorCode, OAuthError};
use crate::app::Ctx;
use crate::store::{Db, Kv};
use url::Url;

/// The Management API's only scope, as in Logto.
pub const MANAGEMENT_SCOPE: &str = "all";

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub indicator: String,
    pub scopes: Vec<String>,
    pub access_token_ttl: i64,
}

/// RFC 8707 §2: "an absolute URI … MUST NOT include a fragment component".
pub fn check_indicator(indicator: &str) -> Result<(), OAuthError> {
    match Url::parse(indicator) {
        Ok(u) if u.fragment().is_none() && !u.cannot_be_a_base() => Ok(()),
        _ => Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            "resource must be an absolute URI without a fragment",
        )),
    }
}

/// The resource with this indicator, if it exists.
pub fn find<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, indicator: &str) -> Option<Resource> {
    (indicator == ctx.management_api()).then(|| Resource {
        indicator: indicator.to_owned(),
        scopes: vec![MANAGEMENT_SCOPE.to_owned()],
        access_token_ttl: ctx.config.access_token_ttl,
    })
}

/// The scopes of `resource` that `client` may be granted on its own behalf.
pub fn client_scopes(client: &Client, resource: &Resource) -> Vec<String> {
    match client {
        // The bootstrap admin app holds the Management API's `all`.
        Client::Admin { .. } => resource.scopes.clone(),
        // Role-based grants for machine-to-machine apps come with RBAC; until then, none.
        Client::App(_) => Vec::new(),
    }
}
