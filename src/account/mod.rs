//! Changes to an account that end what its old state opened, the same for every face (the
//! forgot-password flow, the Management API, and later the Account API).
//!
//! Invariant: a new password or a suspension is written in one transaction with the end of
//! every other browser session of the user and the revocation of all the user's refresh
//! and opaque access tokens, and moves the user's `sessions_valid_after`, so that neither a
//! lagging KV read nor a JWT access token issued before it counts afterwards (session
//! loads, code exchange, `/oidc/me` and introspection compare against it).
use crate::crypto::password::{self, Params};
use crate::ctx::Ctx;
use crate::error::InternalError;
use crate::oidc::logout;
use crate::store::users;
use crate::store::{self, Db, Kv};

/// Sets a new password (hashed here with `params`) and ends every session of the user but
/// `keep` (the caller's own, for the Account API). False when the user does not exist.
pub async fn change_password<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    new_password: &str,
    params: Params,
    keep: Option<&str>,
) -> Result<bool, InternalError> {
    let hash = password::hash_with(new_password, params)?;
    logout::end_all_of_user(
        ctx,
        user_id,
        keep,
        vec![users::set_password(user_id, &hash, ctx.now_ms)],
    )
    .await
}

/// Suspends the user, ending all of its sessions and tokens, or reinstates it. False when
/// the user does not exist.
pub async fn set_suspended<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    suspended: bool,
) -> Result<bool, InternalError> {
    let change = users::set_suspended(user_id, suspended, ctx.now_ms);
    if suspended {
        logout::end_all_of_user(ctx, user_id, None, vec![change]).await
    } else {
        Ok(store::transaction(ctx.db, &[change])
            .await?
            .first()
            .copied()
            .unwrap_or(0)
            > 0)
    }
}
