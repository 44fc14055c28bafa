//! Handlers of the hosted pages. They render templates and call the sign-in service and the
//! authorization flow; the decisions live there.
use super::flow as view;
use crate::app::Ctx;
use crate::error::PageError;
use crate::experience::service::{self, Current, Failure};
use crate::experience::settings::Identifier;
use crate::experience::state::Event;
use crate::oidc::flow::{self, current_interaction, grantable};
use crate::pages::i18n::Lang;
use crate::session;
use crate::store::oidc as repo;
use crate::store::users;
use crate::store::{Db, Kv};
use crate::web::{self, cookies, csrf, Request, Response};
use http::header::ACCEPT_LANGUAGE;
use http::StatusCode;

fn page(status: StatusCode, body: String, csrf_token: &str, new_token: bool) -> Response {
    let mut res = web::html(status, body);
    if new_token {
        csrf::set(&mut res, csrf_token);
    }
    res
}

fn check_csrf(req: &Request, params: &[(String, String)]) -> Result<(), PageError> {
    if csrf::valid(req, params) {
        Ok(())
    } else {
        Err(PageError::Invalid {
            status: StatusCode::FORBIDDEN,
            message: "This form has expired. Go back, reload the page and try again.".into(),
        })
    }
}

/// The language of the pages for this interaction.
fn language(req: &Request, c: &Current) -> Lang {
    let accept = if c.settings.language_info.auto_detect {
        web::header(req, ACCEPT_LANGUAGE)
    } else {
        None
    };
    Lang::pick(
        c.request.ui_locales.as_deref(),
        accept,
        &c.settings.language_info.fallback_language,
    )
}

fn ip(req: &Request) -> Option<&str> {
    web::header(
        req,
        http::header::HeaderName::from_static("cf-connecting-ip"),
    )
}

/// The words for a failed step, in the page's language.
fn message(lang: Lang, f: &Failure, now: i64) -> (StatusCode, String) {
    let t = lang.text();
    match f {
        Failure::InvalidCredentials | Failure::MethodNotEnabled => {
            (StatusCode::BAD_REQUEST, t.wrong_credentials.to_owned())
        }
        Failure::Locked { until } => {
            let minutes = (until - now + 59).div_euclid(60).max(1);
            (
                StatusCode::TOO_MANY_REQUESTS,
                t.locked.replace("{n}", &minutes.to_string()),
            )
        }
        Failure::UsernameTaken => (
            StatusCode::UNPROCESSABLE_ENTITY,
            t.username_taken.to_owned(),
        ),
        Failure::InvalidUsername(_) => (StatusCode::BAD_REQUEST, t.invalid_username.to_owned()),
        Failure::WeakPassword(r) => {
            let details: Vec<String> = r.iter().map(|x| x.describe(lang)).collect();
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{} {}", t.weak_password, details.join(" ")),
            )
        }
        Failure::TermsNotAgreed => (
            StatusCode::UNPROCESSABLE_ENTITY,
            t.terms_required.to_owned(),
        ),
        Failure::RegistrationClosed => (StatusCode::FORBIDDEN, t.registration_closed.to_owned()),
        Failure::SignInClosed => (StatusCode::FORBIDDEN, t.sign_in_closed.to_owned()),
        _ => (StatusCode::BAD_REQUEST, t.something_wrong.to_owned()),
    }
}

/// Loads the experience for a page; a missing interaction is the expired-link page.
async fn current<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Result<Current, PageError> {
    match service::load(ctx, req).await {
        Ok(c) => Ok(c),
        Err(Failure::Internal(e)) => Err(PageError::Internal(e)),
        Err(_) => Err(PageError::bad_request("This sign-in has expired or was already completed. Go back to the application and try again.")),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Screen {
    SignIn,
    Register,
}

fn render(
    c: &Current,
    lang: Lang,
    screen: Screen,
    csrf_token: &str,
    value: &str,
    error: Option<&str>,
) -> String {
    let s = &c.settings;
    let form = view::Form {
        lang,
        app_name: &c.app_name,
        csrf: csrf_token,
        error,
        terms_required: s.terms_required(screen == Screen::Register),
        terms_url: s.terms_of_use_url.as_deref(),
        privacy_url: s.privacy_policy_url.as_deref(),
        custom_css: s.custom_css.as_deref(),
    };
    match screen {
        Screen::SignIn => view::sign_in(&form, value, s.registration_allowed()),
        Screen::Register => view::register(&form, value, s.sign_in_allowed()),
    }
}

async fn form_page<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    screen: Screen,
) -> Result<Response, PageError> {
    let c = current(ctx, req).await?;
    let lang = language(req, &c);
    // A screen the settings close sends the user to the other one.
    if screen == Screen::SignIn && !c.settings.sign_in_allowed() {
        return Ok(web::redirect("/register"));
    }
    if screen == Screen::Register && !c.settings.registration_allowed() {
        let (token, new) = csrf::token(req)?;
        let error = lang.text().registration_closed;
        return Ok(page(
            StatusCode::FORBIDDEN,
            render(&c, lang, Screen::SignIn, &token, "", Some(error)),
            &token,
            new,
        ));
    }
    let (token, new) = csrf::token(req)?;
    let prefill = if screen == Screen::SignIn {
        c.request.login_hint.clone().unwrap_or_default()
    } else {
        String::new()
    };
    Ok(page(
        StatusCode::OK,
        render(&c, lang, screen, &token, &prefill, None),
        &token,
        new,
    ))
}

/// `GET /sign-in`.
pub async fn sign_in_form<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    form_page(ctx, req, Screen::SignIn).await
}

/// `GET /register`.
pub async fn register_form<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    form_page(ctx, req, Screen::Register).await
}

/// Runs the steps of a form through the experience service; on failure, the same form
/// again with the error in the user's language.
async fn submit_form<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    screen: Screen,
) -> Result<Response, PageError> {
    let params = web::params(req);
    check_csrf(req, &params)?;
    let mut c = current(ctx, req).await?;
    let lang = language(req, &c);
    let field = |name| web::param(&params, name).unwrap_or_default();
    let agreed = field("agree") == "yes";
    let value = if screen == Screen::SignIn {
        field("identifier")
    } else {
        field("username")
    };
    let steps = async {
        match screen {
            Screen::SignIn => {
                service::start(&mut c, Event::SignIn)?;
                let kind = if value.contains('@') {
                    Identifier::Email
                } else {
                    Identifier::Username
                };
                let id =
                    service::verify_password(ctx, &mut c, kind, value, field("password"), ip(req))
                        .await?;
                service::identify(ctx, &mut c, Some(&id)).await?;
            }
            Screen::Register => {
                service::start(&mut c, Event::Register)?;
                service::set_profile(ctx, &mut c, "username", value).await?;
                service::set_profile(ctx, &mut c, "password", field("password")).await?;
                if c.settings.terms_required(true) && !agreed {
                    return Err(Failure::TermsNotAgreed);
                }
                service::identify(ctx, &mut c, None).await?;
            }
        }
        service::save(ctx, &c).await?;
        service::submit(ctx, req, &c, agreed, ip(req)).await
    };
    match steps.await {
        Ok((redirect_to, token)) => Ok(service::with_session(
            web::redirect(&redirect_to),
            &token,
            ctx.config.session_ttl,
        )),
        Err(Failure::Internal(e)) => Err(PageError::Internal(e)),
        Err(f) => {
            let (status, text) = message(lang, &f, ctx.now());
            let (token, new) = csrf::token(req)?;
            Ok(page(
                status,
                render(&c, lang, screen, &token, value, Some(&text)),
                &token,
                new,
            ))
        }
    }
}

/// `POST /sign-in`.
pub async fn sign_in_submit<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    submit_form(ctx, req, Screen::SignIn).await
}

/// `POST /register`.
pub async fn register_submit<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    submit_form(ctx, req, Screen::Register).await
}

/// `GET /consent`.
pub async fn consent_form<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let (_, request, app) = current_interaction(ctx, req).await?;
    let loaded = session::load(ctx.db, ctx.kv, req, ctx.now())
        .await?
        .ok_or_else(|| {
            PageError::bad_request(
                "You are not signed in. Go back to the application and try again.",
            )
        })?;
    let user = users::get(ctx.db, &loaded.session.user_id)
        .await?
        .ok_or(PageError::NotFound)?;
    let display = user
        .primary_email
        .clone()
        .or(user.username.clone())
        .or(user.name.clone())
        .unwrap_or(user.id.clone());
    let granted = grantable(ctx, &request, &user.id).await?;
    let mut scopes: Vec<String> = granted
        .scopes
        .iter()
        .map(|s| view::describe_scope(s))
        .collect();
    for list in granted.resources.values() {
        scopes.extend(list.iter().map(|s| view::describe_scope(s)));
    }
    let (token, new) = csrf::token(req)?;
    Ok(page(
        StatusCode::OK,
        view::consent(&app.name, &display, scopes, &token),
        &token,
        new,
    ))
}

/// `POST /consent`: `action=authorize` records the grant; `action=cancel` is `access_denied`.
pub async fn consent_submit<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let params = web::params(req);
    check_csrf(req, &params)?;
    let (row, request, app) = current_interaction(ctx, req).await?;
    let now = ctx.now();
    let loaded = session::load(ctx.db, ctx.kv, req, now)
        .await?
        .ok_or_else(|| {
            PageError::bad_request(
                "You are not signed in. Go back to the application and try again.",
            )
        })?;
    match web::param(&params, "action") {
        Some("authorize") => {
            let granted = grantable(ctx, &request, &loaded.session.user_id).await?;
            flow::record_grant(ctx, &loaded.session.user_id, &app.id, &granted).await?;
            repo::set_interaction_consented(ctx.db, &row.id).await?;
            Ok(web::redirect("/oidc/auth/resume"))
        }
        Some("cancel") => {
            repo::delete_interaction(ctx.db, &row.id).await?;
            let mut res = flow::respond(
                &request.target,
                &ctx.issuer(),
                vec![
                    ("error".into(), "access_denied".into()),
                    (
                        "error_description".into(),
                        "the user denied the request".into(),
                    ),
                ],
            );
            cookies::clear(&mut res, cookies::INTERACTION);
            Ok(res)
        }
        _ => Err(PageError::bad_request("Choose Authorize or Cancel.")),
    }
}
