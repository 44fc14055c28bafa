//! The sign-out pages of RP-initiated logout: `/oidc/session/end` asks the user to confirm,
//! `/oidc/session/end/confirm` carries the answer out through the OIDC core.
use super::forms::{check_csrf, page, session_token};
use super::views;
use crate::ctx::Ctx;
use crate::i18n::Lang;
use crate::oidc::logout::{self, LogoutRequest};
use crate::store::{Db, Kv};
use crate::web::error::PageError;
use crate::web::http::StatusCode;
use crate::web::{self, cookies, csrf, Request, Response};

fn request(params: &[(String, String)]) -> LogoutRequest<'_> {
    LogoutRequest {
        client_id: web::param(params, "client_id"),
        id_token_hint: web::param(params, "id_token_hint"),
        post_logout_redirect_uri: web::param(params, "post_logout_redirect_uri"),
        state: web::param(params, "state"),
    }
}

fn lang(req: &Request, params: &[(String, String)]) -> Lang {
    Lang::pick(
        web::param(params, "ui_locales"),
        &web::accepted_languages(req),
        "en",
    )
}

/// `GET|POST /oidc/session/end`: validates, then asks the user to confirm.
pub async fn ask<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Result<Response, PageError> {
    let params = web::params(req);
    let e = logout::validate(ctx, &request(&params)).await?;
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
    let body = views::logout(
        lang(req, &params),
        e.app.as_ref().map(|a| a.name.as_str()),
        &token,
        fields,
    );
    Ok(page(StatusCode::OK, body, &token, new))
}

/// `POST /oidc/session/end/confirm`.
pub async fn confirm<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let params = web::params(req);
    check_csrf(req, &params)?;
    let e = logout::validate(ctx, &request(&params)).await?;
    let signing_out = web::param(&params, "logout") == Some("yes");
    if signing_out {
        logout::sign_out(ctx, session_token(req).as_deref()).await?;
    }
    let mut res = match e.redirect()? {
        Some(url) => web::redirect(&url),
        None => web::html(
            StatusCode::OK,
            views::signed_out(lang(req, &params), signing_out),
        ),
    };
    if signing_out {
        cookies::clear(&mut res, cookies::SESSION);
    }
    Ok(res)
}
