//! The consent page for third-party apps: the OIDC core says what is asked and records the
//! answer; this page shows the scopes in words and reads the button.
use super::forms::{check_csrf, interaction_id, page, session_token};
use super::{authorize, views};
use crate::ctx::Ctx;
use crate::i18n::{Lang, Msg};
use crate::oidc::interaction::{self, Decision};
use crate::store::{Db, Kv};
use crate::web::error::PageError;
use crate::web::http::StatusCode;
use crate::web::{self, csrf, Request, Response};

/// `GET /consent`.
pub async fn show<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Result<Response, PageError> {
    let view = interaction::consent_view(
        ctx,
        interaction_id(req).as_deref(),
        session_token(req).as_deref(),
    )
    .await?;
    let lang = Lang::pick(
        view.ui_locales.as_deref(),
        &web::accepted_languages(req),
        "en",
    );
    let scopes = view
        .scopes
        .iter()
        .map(|s| views::describe_scope(lang, s))
        .collect();
    let (token, new) = csrf::token(req)?;
    Ok(page(
        StatusCode::OK,
        views::consent(lang, &view.app_name, &view.user_display, scopes, &token),
        &token,
        new,
    ))
}

/// `POST /consent`: `action=authorize` or `action=cancel`.
pub async fn answer<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let params = web::params(req);
    check_csrf(req, &params)?;
    let decision = match web::param(&params, "action") {
        Some("authorize") => Decision::Approve,
        Some("cancel") => Decision::Deny,
        _ => return Err(PageError::bad_request(Msg::ChooseAuthorizeOrCancel)),
    };
    let next = interaction::consent(
        ctx,
        interaction_id(req).as_deref(),
        session_token(req).as_deref(),
        decision,
    )
    .await?;
    authorize::render(&next)
}
