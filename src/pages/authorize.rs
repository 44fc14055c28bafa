//! The browser side of `/oidc/auth`: it hands the parameters and cookies to the OIDC core
//! and turns its [`Next`] into a redirect, or the authorization response into a redirect
//! or a `form_post` page.
use super::forms::{interaction_id, session_token};
use super::views;
use crate::ctx::Ctx;
use crate::i18n::Msg;
use crate::oidc::authorize::ResponseMode;
use crate::oidc::interaction::{self, AuthResponse, Next, Screen};
use crate::store::{Db, Kv};
use crate::uri::Uri;
use crate::web::error::PageError;
use crate::web::http::header::HeaderValue;
use crate::web::http::StatusCode;
use crate::web::{self, cookies, Request, Response};
use sha2::{Digest, Sha256};

/// The authorization response as a redirect (query or fragment) or a self-posting form.
pub fn respond(r: &AuthResponse) -> Result<Response, PageError> {
    let target = &r.target;
    match target.response_mode {
        ResponseMode::FormPost => {
            let mut res = web::html(
                StatusCode::OK,
                views::form_post(&target.redirect_uri, r.params.clone()),
            );
            let hash = crate::crypto::b64std(&Sha256::digest(views::FORM_POST_SCRIPT.as_bytes()));
            let csp = format!(
                "default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'"
            );
            if let Ok(v) = HeaderValue::from_str(&csp) {
                res.headers_mut()
                    .insert(crate::web::http::header::CONTENT_SECURITY_POLICY, v);
            }
            Ok(res)
        }
        mode => {
            // Registered redirect URIs are checked when saved; a malformed one cannot get here.
            let uri = &target.redirect_uri;
            if Uri::parse(uri).is_none() {
                return Err(PageError::bad_request(Msg::RedirectUriMalformed));
            }
            let pairs = r.params.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            let to = if mode == ResponseMode::Fragment {
                crate::uri::with_fragment(uri, pairs)
            } else {
                crate::uri::with_query(uri, pairs)
            };
            Ok(web::redirect(&to))
        }
    }
}

/// What the browser sees for `next` of the browser's interaction; the authorization
/// response ends that interaction, so its cookie goes.
pub fn render(next: &Next) -> Result<Response, PageError> {
    Ok(match next {
        Next::SignIn(screen) => web::redirect(match screen {
            Screen::SignIn => "/sign-in",
            Screen::Register => "/register",
            Screen::ResetPassword => "/reset-password",
            Screen::DirectSignIn => "/sign-in/direct",
        }),
        Next::Consent => web::redirect("/consent"),
        Next::Resume => web::redirect("/oidc/auth/resume"),
        Next::Respond(r) => {
            let mut res = respond(r)?;
            cookies::clear(&mut res, cookies::INTERACTION);
            res
        }
    })
}

/// `GET|POST /oidc/auth`.
pub async fn authorize<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let params = web::params(req);
    let started = interaction::authorize(ctx, &params, session_token(req).as_deref()).await?;
    match (&started.interaction_id, &started.next) {
        // A request refused before its interaction began: another tab's interaction (and
        // its cookie) stays as it is.
        (None, Next::Respond(r)) => respond(r),
        (None, next) => render(next),
        (Some(_), next @ Next::Respond(_)) => render(next),
        (Some(id), next) => {
            let mut res = render(next)?;
            cookies::set(
                &mut res,
                cookies::INTERACTION,
                id,
                interaction::INTERACTION_TTL,
            );
            Ok(res)
        }
    }
}

/// `GET /oidc/auth/resume`.
pub async fn resume<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let next = interaction::resume(
        ctx,
        interaction_id(req).as_deref(),
        session_token(req).as_deref(),
    )
    .await?;
    render(&next)
}
