//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and back-channel logout
//! (OpenID Connect Back-Channel Logout 1.0) to every app of the session.
//!
//! Invariant: a `post_logout_redirect_uri` is used only when it is registered, exactly, for
//! the app named by `client_id` or the `id_token_hint`; ending a session revokes only what
//! that session was issued without `offline_access`.
use super::error::FlowError;
use super::signing;
use crate::crypto::{jwt, random};
use crate::ctx::Ctx;
use crate::error::InternalError;
use crate::i18n::Msg;
use crate::outbound::Job;
use crate::session;
use crate::store::apps::Application;
use crate::store::oidc as repo;
use crate::store::{sessions, Db, Kv, Statement};
use crate::uri::Uri;
use serde_json::Value;

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
const LOGOUT_TOKEN_TTL: i64 = 120;

struct HintClaims {
    aud: Value,
}
crate::from_row!(HintClaims { aud });

/// The parameters of a logout request, as the client sent them.
#[derive(Debug, Default)]
pub struct LogoutRequest<'a> {
    pub client_id: Option<&'a str>,
    pub id_token_hint: Option<&'a str>,
    pub post_logout_redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
}

/// A validated logout request.
pub struct EndSession {
    pub app: Option<Application>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

impl EndSession {
    /// Where the browser goes after the confirmation: the registered URI with `state`.
    pub fn redirect(&self) -> Result<Option<String>, FlowError> {
        let Some(uri) = &self.post_logout_redirect_uri else {
            return Ok(None);
        };
        if Uri::parse(uri).is_none() {
            return Err(FlowError::Show(Msg::PostLogoutUriMalformed));
        }
        let state = self.state.as_deref().map(|s| ("state", s));
        Ok(Some(crate::uri::with_query(uri, state)))
    }
}

/// Checks the hint, the client and the redirect URI.
pub async fn validate<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    r: &LogoutRequest<'_>,
) -> Result<EndSession, FlowError> {
    let mut client_id = r.client_id.map(str::to_owned);
    if let Some(hint) = r.id_token_hint {
        let claims = signing::verify::<_, _, HintClaims>(ctx, hint, i64::MIN)
            .await?
            .map_err(|_| FlowError::Show(Msg::IdTokenHintInvalid))?
            .claims;
        let aud = match &claims.aud {
            Value::String(s) => Some(s.clone()),
            Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_owned),
            _ => None,
        };
        if client_id.is_some() && aud.is_some() && client_id != aud {
            return Err(FlowError::Show(Msg::ClientIdHintMismatch));
        }
        client_id = client_id.or(aud);
    }
    let app = match &client_id {
        Some(id) => Some(
            super::clients::find(ctx, id)
                .await?
                .ok_or(FlowError::Show(Msg::UnknownClient))?,
        ),
        None => None,
    };
    let post_logout_redirect_uri = r.post_logout_redirect_uri.map(str::to_owned);
    if let Some(uri) = &post_logout_redirect_uri {
        let registered = app
            .as_ref()
            .is_some_and(|a| a.oidc.post_logout_redirect_uris.iter().any(|u| u == uri));
        if !registered {
            return Err(FlowError::Show(Msg::PostLogoutUriNotRegistered));
        }
    }
    Ok(EndSession {
        app,
        post_logout_redirect_uri,
        state: r.state.map(str::to_owned),
    })
}

/// Ends the browser session `session` names, if it is live; true when one was ended.
pub async fn sign_out<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    session: Option<&str>,
) -> Result<bool, FlowError> {
    match session::load(ctx.db, ctx.kv, session, ctx.now()).await? {
        Some(loaded) => {
            end(ctx, &loaded).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Ends a session: KV and D1, the session's tokens without `offline_access`, and a
/// back-channel logout to each of its apps that asks for one (sent after the response).
pub async fn end<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    loaded: &session::Loaded,
) -> Result<(), FlowError> {
    let now = ctx.now();
    let s = &loaded.session;
    session::end(ctx.db, ctx.kv, loaded, now).await?;
    // Other sessions of the same user (another device) and the consent record are left alone.
    repo::revoke_session_families(ctx.db, &s.sid).await?;
    notify_apps(ctx, s).await?;
    Ok(())
}

/// Ends every browser session of the user but `keep`, and revokes every refresh and opaque
/// access token of the user, in one transaction with `change` (a new password, a
/// suspension, whose first statement must update the user's row and move its
/// `sessions_valid_after`) and, after the sessions are ended, `then` (a deletion). Then the sessions leave KV and their apps get a back-channel
/// logout. False, with nothing written, when the user does not exist.
///
/// Where a KV read lags, the session still found there no longer counts: `session::load`
/// compares its start with `sessions_valid_after`.
pub async fn end_all_of_user<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    keep: Option<&str>,
    (change, then): (Vec<Statement>, Vec<Statement>),
) -> Result<bool, InternalError> {
    let now = ctx.now();
    let live = sessions::live_of_user(ctx.db, user_id, now).await?;
    let mut statements = change;
    statements.extend(sessions::end_all_of_user(user_id, keep, now));
    statements.extend(then);
    let counts = crate::store::transaction(ctx.db, &statements).await?;
    if counts.first().copied().unwrap_or(0) == 0 {
        return Ok(false);
    }
    // The change is committed: what follows is best effort, logged and never fatal. Each
    // session left in KV is dead anyway (`sessions_valid_after`); at most MAX_ENDED are
    // visited, to stay within a request's subrequests.
    for s in live.iter().take(MAX_ENDED) {
        if let Err(e) = leave_kv(ctx, s, keep).await {
            log::warn!("ending session {} of user {user_id} in KV: {e}", s.id);
        }
    }
    Ok(true)
}

/// Ends the user's session `sid` (not another user's) and revokes every token family it
/// issued, `offline_access` too: the person ended it from their account. Its apps get a
/// back-channel logout. False when the user has no such session.
pub async fn end_one_of_user<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    sid: &str,
) -> Result<bool, InternalError> {
    let now = ctx.now();
    let live = sessions::live_of_user(ctx.db, user_id, now).await?;
    let Some(s) = live.iter().find(|s| s.id == sid) else {
        return Ok(false);
    };
    crate::store::transaction(ctx.db, &sessions::end_one(user_id, sid, now)).await?;
    leave_kv(ctx, s, None).await?;
    Ok(true)
}

/// How many sessions [`end_all_of_user`] removes from KV and notifies apps of.
const MAX_ENDED: usize = 50;

/// Removes an ended session from KV and tells its apps; the kept one is carried over the
/// new cut-off instead.
async fn leave_kv<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    s: &sessions::LiveSession,
    keep: Option<&str>,
) -> Result<(), InternalError> {
    let record = session::read(ctx.kv, &s.kv_key).await?;
    if Some(s.id.as_str()) == keep {
        if let Some(mut kept) = record {
            kept.created_ms = ctx.now_ms;
            session::save(ctx.kv, &s.kv_key, &kept, ctx.now()).await?;
        }
        return Ok(());
    }
    ctx.kv.delete(&s.kv_key).await?;
    if let Some(record) = record {
        notify_apps(ctx, &record).await?;
    }
    Ok(())
}

/// Queues a back-channel logout to each app of the session that asks for one.
async fn notify_apps<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    s: &session::Session,
) -> Result<(), InternalError> {
    let now = ctx.now();
    let mut keys = None;
    for client in &s.clients {
        let Some(app) = super::clients::find(ctx, client).await? else {
            continue;
        };
        let Some(uri) = app.oidc.backchannel_logout_uri.clone() else {
            continue;
        };
        let mut claims = crate::jv!({
            "iss": ctx.issuer(),
            "aud": app.id,
            "jti": random::id()?,
            "sub": s.user_id,
            "events": { EVENT: {} },
        });
        if app.oidc.backchannel_logout_session_required {
            if let Some(map) = claims.as_object_mut() {
                map.insert("sid".into(), crate::jv!(s.sid));
            }
        }
        let keys = match &keys {
            Some(k) => k,
            None => keys.insert(signing::keys(ctx).await?),
        };
        let logout_token = jwt::sign(
            ctx.crypto,
            &keys.current,
            Some("logout+jwt"),
            now,
            now + LOGOUT_TOKEN_TTL,
            claims,
        )
        .await?;
        ctx.defer(Job::BackchannelLogout {
            client_id: app.id.clone(),
            uri,
            logout_token,
        });
    }
    Ok(())
}
