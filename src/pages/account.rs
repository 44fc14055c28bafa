//! The hosted account page (`/account`): the signed-in person sees the account and, as the
//! account center allows, changes the name and the password, ends other sessions and
//! deletes the account. Every sensitive action asks for the current password first, checked
//! as a verification record is (the sign-in's throttle and log). No JavaScript.
//!
//! The page signs in through the normal flow: without a session it sends the browser to
//! `/oidc/auth` as the provider's own first-party app (`oidc::clients::ACCOUNT_APP`), which
//! comes back here once the session exists.
use super::forms::{check_csrf, page, session_token};
use super::views::{lang_ctx, render};
use super::PageContext;
use crate::account::center::{self, Center, Control};
use crate::account::{self, verification as records};
use crate::crypto::random;
use crate::ctx::Ctx;
use crate::experience::Origin;
use crate::i18n::{Lang, Msg};
use crate::session::{self, Loaded};
use crate::store::{Db, Kv};
use crate::web::error::PageError;
use crate::web::http::StatusCode;
use crate::web::{self, cookies, csrf, Request, Response};
use askama::Template;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    ctx: PageContext,
    t: Lang,
    csrf: &'a str,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    facts: Vec<(&'static str, String)>,
    name: &'a str,
    edit_name: bool,
    edit_password: bool,
    show_sessions: bool,
    edit_sessions: bool,
    sessions: Vec<(String, String, bool)>,
    can_delete: bool,
}

fn lang(req: &Request) -> Lang {
    Lang::pick(None, &web::accepted_languages(req), "en")
}

/// Where a browser without a session goes: the authorization request of the account app.
fn sign_in_first<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> Result<Response, PageError> {
    // PKCE with a challenge of no known verifier: the code that comes back cannot be
    // redeemed (the page needs only the session the sign-in made).
    let challenge = format!("{}{}", random::id()?, random::id()?);
    let url = crate::uri::with_query(
        &format!("{}/auth", ctx.issuer()),
        [
            ("client_id", crate::oidc::clients::ACCOUNT_APP),
            ("redirect_uri", &format!("{}/account", ctx.origin)),
            ("response_type", "code"),
            ("scope", "openid"),
            (
                "code_challenge",
                &crate::crypto::b64url(challenge.as_bytes()),
            ),
            ("code_challenge_method", "S256"),
        ],
    );
    Ok(web::redirect(&url))
}

/// The settings (404 while the account center is off) and the person's session.
async fn signed_in<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<(Center, Option<Loaded>), PageError> {
    let c = center::load(ctx).await?;
    if !c.enabled {
        return Err(PageError::NotFound);
    }
    let token = session_token(req);
    Ok((
        c,
        session::load(ctx.db, ctx.kv, token.as_deref(), ctx.now()).await?,
    ))
}

/// `GET /account`.
pub async fn show<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Result<Response, PageError> {
    match signed_in(ctx, req).await? {
        (c, Some(s)) => view(ctx, req, (&c, &s), (None, None)).await,
        (_, None) => sign_in_first(ctx),
    }
}

async fn view<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    (c, s): (&Center, &Loaded),
    (notice, error): (Option<Msg>, Option<String>),
) -> Result<Response, PageError> {
    let t = lang(req);
    let u = &s.user;
    let shown = |f: &str| c.field(f) >= Control::ReadOnly;
    let mut facts = Vec::new();
    for (field, label, value) in [
        ("username", Msg::Username, &u.username),
        ("email", Msg::Email, &u.primary_email),
        ("phone", Msg::Phone, &u.primary_phone),
    ] {
        if let (true, Some(v)) = (shown(field), value) {
            facts.push((t.t(label), v.clone()));
        }
    }
    let show_sessions = shown("session");
    let mut list = Vec::new();
    if show_sessions {
        for l in account::live_sessions(ctx, &u.id).await? {
            let since = crate::clock::iso(l.created_at, false);
            let current = l.id == s.session.sid;
            list.push((l.id, since, current));
        }
    }
    let (token, new) = csrf::token(req)?;
    let body = render(AccountPage {
        ctx: lang_ctx(t, t.t(Msg::YourAccount)),
        t,
        csrf: &token,
        notice: notice.map(|m| t.t(m)),
        error: error.as_deref(),
        facts,
        name: u.name.as_deref().unwrap_or_default(),
        edit_name: c.field("name") == Control::Edit,
        edit_password: c.field("password") == Control::Edit && u.password_hash.is_some(),
        show_sessions,
        edit_sessions: c.field("session") == Control::Edit,
        sessions: list,
        can_delete: c.field("deleteAccount") == Control::Edit && u.password_hash.is_some(),
    });
    let status = match error {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    Ok(page(status, body, &token, new))
}

/// `POST /account` (`action` = `name`, `password`, `end` or `delete`).
pub async fn submit<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let params = web::params(req);
    check_csrf(req, &params)?;
    let (c, Some(s)) = signed_in(ctx, req).await? else {
        return sign_in_first(ctx);
    };
    let p = |k: &str| web::param(&params, k).unwrap_or_default();
    let action = p("action");
    let field = match action {
        "name" => "name",
        "password" => "password",
        "end" => "session",
        "delete" => "deleteAccount",
        _ => return Err(PageError::NotFound),
    };
    if c.field(field) != Control::Edit {
        return Err(PageError::NotFound);
    }
    let u = &s.user;
    if action != "name" {
        // The current password first, checked as a verification record is.
        let from = Origin {
            ip: web::client_ip(req),
            application_id: Some(crate::oidc::clients::ACCOUNT_APP),
        };
        if records::by_password(ctx, u, p("current"), &from)
            .await
            .is_err()
        {
            let wrong = lang(req).t(Msg::WrongPassword).to_owned();
            return view(ctx, req, (&c, &s), (None, Some(wrong))).await;
        }
    }
    let notice = match action {
        "name" => {
            let mut changed = u.clone();
            let name = p("name").trim();
            changed.name = (!name.is_empty()).then(|| name.chars().take(128).collect());
            changed.updated_at = ctx.now_ms;
            account::save_profile(ctx, &changed).await?;
            return view(
                ctx,
                req,
                (&c, &Loaded { user: changed, ..s }),
                (Some(Msg::Saved), None),
            )
            .await;
        }
        "password" => {
            let new = p("password");
            if let Err(e) = account::check_new_password(ctx, u, new).await {
                let t = lang(req);
                let why = match e {
                    crate::experience::Failure::WeakPassword(r) => r
                        .iter()
                        .map(|x| x.describe(t))
                        .collect::<Vec<_>>()
                        .join(" "),
                    _ => t.t(Msg::PwTooLong).to_owned(),
                };
                return view(ctx, req, (&c, &s), (None, Some(why))).await;
            }
            let params = ctx.config.password_hash;
            account::change_password(ctx, &u.id, new, params, Some(&s.session.sid)).await?;
            Msg::PasswordChanged
        }
        "end" => {
            crate::oidc::logout::end_one_of_user(ctx, &u.id, p("session")).await?;
            Msg::SessionEnded
        }
        _ => {
            account::delete_user(ctx, &u.id, Some(crate::oidc::clients::ACCOUNT_APP)).await?;
            let t = lang(req);
            let mut res = web::html(
                StatusCode::OK,
                super::views::message(t, Msg::AccountDeleted, Msg::CloseWindow),
            );
            cookies::clear(&mut res, cookies::SESSION);
            return Ok(res);
        }
    };
    view(ctx, req, (&c, &s), (Some(notice), None)).await
}
