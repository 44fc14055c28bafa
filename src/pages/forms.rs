//! What the form pages share: the browser's cookies and address as typed values, CSRF, the
//! page language, loading the interaction, showing a failed step in words, and finishing a
//! sign-in with its session cookie.
use super::views;
use crate::ctx::Ctx;
use crate::experience::interaction::{self, Current};
use crate::experience::submit::{self, Submitted};
use crate::experience::Failure;
use crate::i18n::{Lang, Msg};
use crate::store::{Db, Kv};
use crate::web::error::PageError;
use crate::web::http::StatusCode;
use crate::web::{self, cookies, csrf, Request, Response};

/// The browser's interaction cookie.
pub fn interaction_id(req: &Request) -> Option<String> {
    cookies::get(req, cookies::INTERACTION)
}

/// The browser's session cookie.
pub fn session_token(req: &Request) -> Option<String> {
    cookies::get(req, cookies::SESSION)
}

/// The client's address, as Cloudflare reports it.
pub use crate::web::client_ip as ip;

/// An HTML page that (re)sets the CSRF cookie when the token is new.
pub fn page(status: StatusCode, body: String, csrf_token: &str, new_token: bool) -> Response {
    let mut res = web::html(status, body);
    if new_token {
        csrf::set(&mut res, csrf_token);
    }
    res
}

pub fn check_csrf(req: &Request, params: &[(String, String)]) -> Result<(), PageError> {
    if csrf::valid(req, params) {
        Ok(())
    } else {
        Err(PageError::FormExpired)
    }
}

/// The language of the pages for this interaction.
pub fn language(req: &Request, c: &Current) -> Lang {
    interaction::language(c, &web::accepted_languages(req))
}

/// Loads the experience for a page; a missing interaction is the expired-link page.
pub async fn current<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Current, PageError> {
    match interaction::load(ctx, interaction_id(req).as_deref()).await {
        Ok(c) => Ok(c),
        Err(Failure::Internal(e)) => Err(PageError::Internal(e)),
        Err(_) => Err(PageError::bad_request(Msg::InteractionExpired)),
    }
}

/// A form POST: its parameters (CSRF-checked), the interaction and the page language.
pub async fn posted<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<(Vec<(String, String)>, Current, Lang), PageError> {
    let params = web::params(req);
    check_csrf(req, &params)?;
    let c = current(ctx, req).await?;
    let lang = language(req, &c);
    Ok((params, c, lang))
}

/// The words for a failed step, in the page's language.
pub fn message(lang: Lang, f: &Failure, now: i64) -> (StatusCode, String) {
    let (msg, args) = f.msg(now);
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut text = lang.fill(msg, &args);
    if let Failure::WeakPassword(r) = f {
        let details: Vec<String> = r.iter().map(|x| x.describe(lang)).collect();
        text = format!("{text} {}", details.join(" "));
    }
    (crate::wire::page_failure_status(f), text)
}

/// The same form again, with what went wrong in the user's language.
pub fn failed(
    req: &Request,
    lang: Lang,
    f: &Failure,
    now: i64,
    render: impl FnOnce(&str, &str) -> String,
) -> Result<Response, PageError> {
    let (status, text) = message(lang, f, now);
    let (token, new) = csrf::token(req)?;
    Ok(page(status, render(&token, &text), &token, new))
}

/// What every form page's template needs of the interaction.
pub fn form<'a>(
    c: &'a Current,
    lang: Lang,
    csrf_token: &'a str,
    error: Option<&'a str>,
    terms_required: bool,
) -> views::Form<'a> {
    let s = &c.settings;
    views::Form {
        lang,
        app_name: &c.app_name,
        csrf: csrf_token,
        error,
        terms_required,
        terms_url: s.terms_of_use_url.as_deref(),
        privacy_url: s.privacy_policy_url.as_deref(),
        custom_css: s.custom_css.as_deref(),
        brand: Some(s),
    }
}

/// Submits the interaction and saves its state (in the submission's transaction, or after a
/// refusal): a redirect onwards, with the new session's cookie, or to the MFA screen the
/// submit stopped for. Callers do not save before it.
pub async fn finish<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    c: &Current,
    agreed: bool,
) -> Result<Response, Failure> {
    let old = session_token(req);
    let Submitted {
        redirect_to,
        session_token,
    } = match submit::submit(ctx, c, old.as_deref(), (agreed, true), ip(req)).await {
        Ok(s) => s,
        Err(f) => {
            // Not submitted: the state is kept for the next screen.
            interaction::save(ctx, c).await?;
            // MFA to verify or bind first: its screen.
            return match super::mfa::next_screen(&f) {
                Some(to) => Ok(web::redirect(to)),
                None => Err(f),
            };
        }
    };
    Ok(with_session(
        web::redirect(&redirect_to),
        session_token.as_deref(),
        ctx.config.session_ttl,
    ))
}

/// Sets the session cookie of a new session, if one was started.
pub fn with_session(mut res: Response, token: Option<&str>, ttl: i64) -> Response {
    if let Some(token) = token {
        cookies::set(&mut res, cookies::SESSION, token, ttl);
    }
    res
}
