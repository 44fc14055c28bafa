//! Applications as the OIDC core reads them: from the isolate's cache, else from a replica.
//! An app changed through this isolate is dropped from its cache at once; another isolate
//! sees the change within [`METADATA_TTL_MS`](crate::cache::METADATA_TTL_MS).
use crate::ctx::Ctx;
use crate::error::InternalError;
use crate::store::apps::{self, Application};
use crate::store::{Db, Kv};

pub async fn find<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
) -> Result<Option<Application>, InternalError> {
    if let Some(hit) = ctx.cache.app(id, ctx.now_ms) {
        return Ok(hit);
    }
    let app = apps::get(ctx.lag_tolerant(), id).await?;
    ctx.cache.put_app(id, app.clone(), ctx.now_ms);
    Ok(app)
}
