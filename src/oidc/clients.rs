//! Applications as the OIDC core reads them: from the isolate's cache, else from a replica.
//! An app changed through this isolate is dropped from its cache at once; another isolate
//! sees the change within [`METADATA_TTL_MS`](crate::cache::METADATA_TTL_MS).
use crate::ctx::Ctx;
use crate::error::InternalError;
use crate::store::apps::{self, Application};
use crate::store::{Db, Kv};

/// The provider's own first-party app for its account pages: a public client whose only
/// redirect URI is `<origin>/account`. It is not stored; it has no secret and no grant
/// types but the authorization code with PKCE.
pub const ACCOUNT_APP: &str = "gatehouse-account";

fn account_app(origin: &str) -> Application {
    Application {
        id: ACCOUNT_APP.to_owned(),
        name: "Account".to_owned(),
        description: None,
        app_type: apps::AppType::Spa,
        secret_hash: None,
        oidc: apps::OidcClientMetadata {
            redirect_uris: vec![format!("{origin}/account")],
            ..Default::default()
        },
        custom: Default::default(),
        is_third_party: false,
        created_at: 0,
    }
}

pub async fn find<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
) -> Result<Option<Application>, InternalError> {
    if id == ACCOUNT_APP {
        return Ok(Some(account_app(&ctx.origin)));
    }
    if let Some(hit) = ctx.cache.app(id, ctx.now_ms) {
        return Ok(hit);
    }
    let app = apps::get(ctx.lag_tolerant(), id).await?;
    ctx.cache.put_app(id, app.clone(), ctx.now_ms);
    Ok(app)
}
