//! RP-initiated logout (`/oidc/session/end`, behind a confirmation step) and back-channel
//! logout (OpenID Connect Back-Channel Logout 1.0) to every app of the session.
use super::signing;
use crate::app::Ctx;
use crate::crypto::{jwt, random};
use crate::error::PageError;
use crate::outbound::Job;
use crate::pages::flow as view;
use crate::pages::i18n::Lang;
use crate::session;
use crate::store::apps::{self, Application};

use crate::store::{Db, Kv};
use crate::web::{self, cookies, csrf, Request, Response};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
const LOGOUT_TOKEN_TTL: i64 = 120;

#[derive(Deserialize)]
struct HintClaims {
    aud: Value,
}

/// The validated logout request.
struct EndSession {
    lang: Lang,
    app: Option<Application>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
}

async fn validate<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    params: &[(String, String)],
) -> Result<EndSession, PageError> {
    let mut client_id = web::param(params, "client_id").map(str::to_owned);
    if let Some(hint) = web::param(params, "id_token_hint") {
        let rows = signing::published(ctx.db, &ctx.sealer()?, ctx.now_ms).await?;
        let keys = signing::jwks(&rows)?;
        let claims = jwt::verify_allow_expired::<HintClaims>(hint, &keys)
            .map_err(|_| {
                PageError::bad_request(
                    "The id_token_hint is not a valid ID token from this provider.",
                )
            })?
            .claims;
        let aud = match &claims.aud {
            Value::String(s) => Some(s.clone()),
            Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_owned),
            _ => None,
        };
        if client_id.is_some() && aud.is_some() && client_id != aud {
            return Err(PageError::bad_request(
                "The client_id does not match the id_token_hint.",
            ));
        }
        client_id = client_id.or(aud);
    }
    let app =
        match &client_id {
            Some(id) => Some(apps::get(ctx.db, id).await?.ok_or_else(|| {
                PageError::bad_request("The application (client_id) is not known.")
            })?),
            None => None,
        };
    let post_logout_redirect_uri =
        web::param(params, "post_logout_redirect_uri").map(str::to_owned);
    if let Some(uri) = &post_logout_redirect_uri {
        let registered = app
            .as_ref()
            .is_some_and(|a| a.oidc.post_logout_redirect_uris.iter().any(|u| u == uri));
        if !registered {
            return Err(PageError::bad_request(
                "The post_logout_redirect_uri is not registered for this application.",
            ));
        }
    }
    let state = web::param(params, "state").map(str::to_owned);
    let lang = Lang::pick(
        web::param(params, "ui_locales"),
        web::header(req, http::header::ACCEPT_LANGUAGE),
        "en",
    );
    Ok(EndSession {
        lang,
        app,
        post_logout_redirect_uri,
        state,
    })
}

/// `GET|POST /oidc/session/end`: validates, then asks the user to confirm.
pub async fn end_session<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let params = web::params(req);
    let e = validate(ctx, req, &params).await?;
    let mut fields = Vec::new();
    if let Some(app) = &e.app {
        fields.push(("client_id".to_owned(), app.id.clone()));
    }
    if let Some(uri) = &e.post_logout_redirect_uri {
        fields.push(("post_logout_redirect_uri".to_owned(), uri.clone()));
    }
    if let Some(state) = &e.state {
        fields.push(("state".to_owned(), state.clone()));
    }
    if let Some(ui) = web::param(&params, "ui_locales") {
        fields.push(("ui_locales".to_owned(), ui.to_owned()));
    }
    let (token, new) = csrf::token(req)?;
    let mut res = web::html(
        StatusCode::OK,
        view::logout(
            e.lang,
            e.app.as_ref().map(|a| a.name.as_str()),
            &token,
            fields,
        ),
    );
    if new {
        csrf::set(&mut res, &token);
    }
    Ok(res)
}

/// `POST /oidc/session/end/confirm`.
pub async fn confirm<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let params = web::params(req);
    if !csrf::valid(req, &params) {
        return Err(PageError::Invalid {
            status: StatusCode::FORBIDDEN,
            message: "This form has expired. Go back, reload the page and try again.".into(),
        });
    }
    let e = validate(ctx, req, &params).await?;
    let signed_out = web::param(&params, "logout") == Some("yes");
    if signed_out {
        if let Some(loaded) = session::load(ctx.db, ctx.kv, req, ctx.now()).await? {
            end(ctx, &loaded).await?;
        }
    }
    let mut res = match &e.post_logout_redirect_uri {
        Some(uri) => {
            let mut url = Url::parse(uri).map_err(|_| {
                PageError::bad_request("The post_logout_redirect_uri is malformed.")
            })?;
            if let Some(state) = &e.state {
                url.query_pairs_mut().append_pair("state", state);
            }
            web::redirect(url.as_str())
        }
        None if signed_out => web::html(StatusCode::OK, view::signed_out(e.lang, true)),
        None => web::html(StatusCode::OK, view::signed_out(e.lang, false)),
    };
    if signed_out {
        cookies::clear(&mut res, cookies::SESSION);
    }
    Ok(res)
}

/// Ends a session: KV and D1, the session's tokens without `offline_access`, and a back-channel
/// logout to each of its apps that asks for one (sent after the response).
pub async fn end<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    loaded: &session::Loaded,
) -> Result<(), PageError> {
    let now = ctx.now();
    let s = &loaded.session;
    session::end(ctx.db, ctx.kv, loaded, now).await?;
    // What this session was issued without offline_access is revoked; other sessions of the
    // same user (another device) and the consent record are left alone.
    ctx.db
        .execute(
            "DELETE FROM oidc_token_families WHERE session_id = ?1 AND offline = 0",
            &[s.sid.as_str().into()],
        )
        .await?;
    let key = signing::current(ctx.db, &ctx.sealer()?, ctx.now_ms).await?;
    for client in &s.clients {
        let Some(app) = apps::get(ctx.db, client).await? else {
            continue;
        };
        let Some(uri) = app.oidc.backchannel_logout_uri.clone() else {
            continue;
        };
        let mut claims = json!({
            "iss": ctx.issuer(),
            "aud": app.id,
            "jti": random::id()?,
            "sub": s.user_id,
            "events": { EVENT: {} },
        });
        if app.oidc.backchannel_logout_session_required {
            if let Some(map) = claims.as_object_mut() {
                map.insert("sid".into(), json!(s.sid));
            }
        }
        let logout_token = jwt::sign(
            &key,
            Some("logout+jwt"),
            now,
            now + LOGOUT_TOKEN_TTL,
            claims,
        )?;
        ctx.defer(Job::BackchannelLogout {
            client_id: app.id.clone(),
            uri,
            logout_token,
        });
    }
    Ok(())
}
