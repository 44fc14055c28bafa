//! Handlers of the hosted pages. They render templates and call the sign-in service and the
//! authorization flow; the decisions live there.
use super::flow as view;
use crate::app::Ctx;
use crate::error::PageError;
use crate::experience::{self, SignInError};
use crate::oidc::flow::{self, current_interaction, grantable};
use crate::session;
use crate::store::oidc as repo;
use crate::store::users;
use crate::store::{Db, Kv};
use crate::web::{self, cookies, csrf, Request, Response};
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

/// `GET /sign-in`.
pub async fn sign_in_form<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let (_, request, app) = current_interaction(ctx, req).await?;
    let (token, new) = csrf::token(req)?;
    let hint = request.login_hint.as_deref().unwrap_or_default();
    Ok(page(
        StatusCode::OK,
        view::sign_in(&app.name, &token, hint, None),
        &token,
        new,
    ))
}

/// `POST /sign-in`: verifies the password, starts the session, resumes the authorization.
pub async fn sign_in_submit<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let params = web::params(req);
    check_csrf(req, &params)?;
    let (row, _, app) = current_interaction(ctx, req).await?;
    let identifier = web::param(&params, "identifier").unwrap_or_default();
    let password = web::param(&params, "password").unwrap_or_default();
    let ip = web::header(
        req,
        http::header::HeaderName::from_static("cf-connecting-ip"),
    );
    match experience::sign_in_with_password(ctx.db, identifier, password, ip, ctx.now_ms).await? {
        Err(e) => {
            let (token, new) = csrf::token(req)?;
            let (status, message) = match e {
                SignInError::InvalidCredentials => (
                    StatusCode::BAD_REQUEST,
                    "The username, email or password is incorrect.".to_owned(),
                ),
                SignInError::Locked { until } => {
                    let minutes = (until - ctx.now() + 59).div_euclid(60).max(1);
                    let plural = if minutes == 1 { "" } else { "s" };
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        format!("Too many failed attempts. Try again in {minutes} minute{plural}."),
                    )
                }
            };
            let body = view::sign_in(&app.name, &token, identifier, Some(&message));
            Ok(page(status, body, &token, new))
        }
        Ok(user) => {
            let now = ctx.now();
            // A new sign-in replaces the browser's earlier session.
            if let Some(old) = session::load(ctx.db, ctx.kv, req, now).await? {
                session::end(ctx.db, ctx.kv, &old, now).await?;
            }
            let (token, _) =
                session::create(ctx.kv, &user.id, &["pwd"], now, ctx.config.session_ttl).await?;
            repo::set_interaction_login(ctx.db, &row.id, &user.id, now).await?;
            let mut res = web::redirect("/oidc/auth/resume");
            cookies::set(&mut res, cookies::SESSION, &token, ctx.config.session_ttl);
            Ok(res)
        }
    }
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
