//! The router: one entry point for every request, on every platform. It builds the
//! [`Ctx`], picks the face for the path (the OAuth endpoints, the hosted pages, the JSON
//! APIs), and turns a face's error into its wire form through `wire.rs`.
use crate::api;
use crate::config::{Config, Vars};
use crate::ctx::{Ctx, Platform};
use crate::endpoints;
use crate::i18n::Lang;
use crate::outbound::Job;
use crate::pages;
use crate::store::{Db, Kv};
use crate::web::error::PageError;
use crate::web::http::header::{HeaderValue, ACCESS_CONTROL_ALLOW_ORIGIN};
use crate::web::http::{Method, StatusCode};
use crate::web::{self, Request, Response};
use crate::wire;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

thread_local! {
    /// The configuration parsed from the variables last seen: an isolate parses it once.
    static CONFIG: RefCell<Option<(Vars, Rc<Config>)>> = const { RefCell::new(None) };
}

/// The validated configuration, parsed again only when the variables change.
fn config(vars: &Vars) -> Result<Rc<Config>, crate::config::ConfigError> {
    if let Some(c) = CONFIG.with(|c| {
        c.borrow()
            .as_ref()
            .filter(|(seen, _)| seen == vars)
            .map(|(_, config)| config.clone())
    }) {
        return Ok(c);
    }
    let parsed = Rc::new(Config::from_vars(vars)?);
    CONFIG.with(|c| *c.borrow_mut() = Some((vars.clone(), parsed.clone())));
    Ok(parsed)
}

/// Handles one request. `vars` are the raw configuration variables, validated here so that
/// a bad value becomes a page that names it. Returns the response and the jobs to run after
/// it (the platform runs them with `waitUntil`, see [`crate::outbound::run`]).
pub async fn handle<D: Db, K: Kv>(
    platform: &Platform<'_, D, K>,
    vars: &Vars,
    req: Request,
    now_ms: i64,
) -> (Response, Vec<Job>) {
    let config = match config(vars) {
        Ok(c) => c,
        Err(e) => return (wire::page_error(PageError::Config(e), Lang::En), Vec::new()),
    };
    let origin = config
        .public_url
        .clone()
        .unwrap_or_else(|| web::request_origin(&req));
    let ui_locales = web::query_pairs(&req)
        .into_iter()
        .find(|(k, _)| k == "ui_locales")
        .map(|(_, v)| v);
    let lang = Lang::pick(ui_locales.as_deref(), &web::accepted_languages(&req), "en");
    let https = req.uri().scheme_str() == Some("https");
    let ctx = Ctx::new(platform, &config, origin, now_ms);
    let mut res = route(&ctx, req, lang).await;
    // No response is to be sniffed into another type (JSON, HTML, the JWKS alike).
    res.headers_mut().insert(
        crate::web::http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if https {
        web::strict_transport(&mut res);
    }
    (res, ctx.into_jobs())
}

/// What the scheduled trigger keeps: records of ended sessions as long as a session may
/// live, the audit log for 30 days, the development mailbox for one.
pub const RETENTION: crate::store::sweep::Retention = crate::store::sweep::Retention {
    // As long as the longest session can live (SESSION_TTL is at most 180 days).
    ended_sessions: 180 * 86_400,
    audit_log: 30 * 86_400,
    dev_mailbox: 86_400,
};

/// The scheduled trigger: deletes expired flow state, old audit rows and old mail.
pub async fn scheduled<D: Db>(db: &D, now_ms: i64) {
    match crate::store::sweep::sweep(db, now_ms.div_euclid(1000), RETENTION).await {
        Ok(n) => log::info!("sweep: deleted {n} expired rows"),
        Err(e) => log::error!("sweep failed: {e}"),
    }
}

fn page<E: Into<PageError>>(lang: Lang, r: Result<Response, E>) -> Response {
    r.unwrap_or_else(|e| wire::page_error(e.into(), lang))
}

fn allow_any_origin(mut res: Response) -> Response {
    res.headers_mut()
        .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

/// Endpoints a browser app (SPA) calls from its own origin. They take no cookies, so any
/// origin may read their answers.
/// The SAML assertion consumer service, followed by the connector's id.
const SAML_ACS: &str = "/api/authn/single-sign-on/saml/";
/// A SAML connector's entity id, which serves its SP metadata, followed by the connector's id.
const SAML_SP: &str = "/enterprise-sso/";

const CORS_PATHS: &[&str] = &[
    "/oidc/.well-known/openid-configuration",
    "/oidc/jwks",
    "/oidc/token",
    "/oidc/token/revocation",
    "/oidc/me",
];

/// The answer to a CORS preflight for [`CORS_PATHS`].
fn preflight() -> Response {
    let mut res = allow_any_origin(web::empty(StatusCode::NO_CONTENT));
    let h = res.headers_mut();
    h.insert(
        crate::web::http::header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST"),
    );
    h.insert(
        crate::web::http::header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type"),
    );
    h.insert(
        crate::web::http::header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    res
}

async fn route<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: Request, lang: Lang) -> Response {
    use pages::codes;
    let path = req.uri().path().to_owned();
    let method = *req.method();
    if web::oversized(&req) {
        return wire::too_large(&path, lang);
    }
    if method == Method::OPTIONS && CORS_PATHS.contains(&path.as_str()) {
        return preflight();
    }
    let get = method == Method::GET;
    let head_or_get = get || method == Method::HEAD;
    let post = method == Method::POST;
    if let Some(handler) = page_handler(ctx, &req, &path, get, post) {
        if web::too_many_params(&req) {
            return wire::page_error(PageError::bad_request(crate::i18n::Msg::TooLong), lang);
        }
        return page(lang, handler.await);
    }
    match path.as_str() {
        "/oidc/.well-known/openid-configuration" if head_or_get => {
            allow_any_origin(endpoints::discovery(ctx, &req))
        }
        "/oidc/jwks" if head_or_get => {
            allow_any_origin(page(lang, endpoints::jwks(ctx, &req).await))
        }
        "/oidc/token" if post => allow_any_origin(endpoints::token(ctx, &req).await),
        "/oidc/me" if get || post => allow_any_origin(endpoints::userinfo(ctx, &req).await),
        "/oidc/token/revocation" if post => allow_any_origin(endpoints::revoke(ctx, &req).await),
        "/oidc/token/introspection" if post => endpoints::introspect(ctx, &req).await,
        "/dev/mailbox" | "/dev/mailbox.json"
            if ctx.config.dev_mailbox
                && req
                    .uri()
                    .host()
                    .is_some_and(crate::config::is_loopback_host) =>
        {
            dev_mailbox(ctx, &req, path.ends_with(".json"), lang).await
        }
        "/" => web::json(
            StatusCode::OK,
            &crate::jv!({"name": "Gatehouse", "issuer": ctx.issuer()}),
        ),
        p if post && p.starts_with(SAML_ACS) => {
            let id = p.get(SAML_ACS.len()..).unwrap_or_default();
            api::experience_social::saml_acs(ctx, &req, id)
                .await
                .unwrap_or_else(wire::api_error)
        }
        p if get && p.starts_with(SAML_SP) => {
            let id = p.get(SAML_SP.len()..).unwrap_or_default();
            api::experience_social::saml_metadata(ctx, id)
                .await
                .unwrap_or_else(wire::api_error)
        }
        p if p == "/api" || p.starts_with("/api/") => {
            api::handle(ctx, req).await.unwrap_or_else(wire::api_error)
        }
        p if KNOWN_PATHS.contains(&p)
            || codes::Screen::of(p).is_some()
            || pages::mfa::Screen::of(p).is_some() =>
        {
            wire::method_not_allowed()
        }
        _ => wire::page_error(PageError::NotFound, lang),
    }
}

type PageFuture<'a> = Pin<Box<dyn Future<Output = Result<Response, PageError>> + 'a>>;

/// The hosted page for this path and method, if there is one: each a boxed future of its
/// own, so that the router does not inline every page's state machine.
fn page_handler<'a, D: Db, K: Kv>(
    ctx: &'a Ctx<'_, D, K>,
    req: &'a Request,
    path: &str,
    get: bool,
    post: bool,
) -> Option<PageFuture<'a>> {
    use pages::{authorize, codes, consent, logout, mfa, profile, sign_in, social};
    use sign_in::Screen::{Register, SignIn};
    if let Some(screen) = mfa::Screen::of(path) {
        return match (get, post, screen) {
            (_, true, _) => Some(Box::pin(mfa::submit(ctx, req, screen))),
            (true, _, s) if s.has_page() => Some(Box::pin(mfa::show(ctx, req, screen))),
            _ => None,
        };
    }
    if let (Some(screen), true) = (codes::Screen::of(path), get || post) {
        return Some(if post {
            Box::pin(codes::submit(ctx, req, screen))
        } else {
            Box::pin(codes::show(ctx, req, screen))
        });
    }
    if let Some(rest) = path.strip_prefix("/callback/") {
        let (id, step) = rest.split_once('/').unwrap_or((rest, ""));
        let id = id.to_owned();
        return match (step, post) {
            ("", _) if get || post => Some(Box::pin(social::callback(ctx, req, id))),
            ("link", true) => Some(Box::pin(social::choose(ctx, req, id, true))),
            ("register", true) => Some(Box::pin(social::choose(ctx, req, id, false))),
            _ => None,
        };
    }
    if let (Some(id), true) = (path.strip_prefix("/sign-in/social/"), post) {
        return Some(Box::pin(social::start(ctx, req, id.to_owned())));
    }
    Some(match path {
        "/oidc/auth" if get || post => Box::pin(authorize::authorize(ctx, req)),
        "/oidc/auth/resume" => Box::pin(authorize::resume(ctx, req)),
        "/oidc/session/end" if get || post => Box::pin(logout::ask(ctx, req)),
        "/oidc/session/end/confirm" if post => Box::pin(logout::confirm(ctx, req)),
        "/sign-in" if get => Box::pin(sign_in::show(ctx, req, SignIn)),
        "/sign-in" if post => Box::pin(sign_in::submit(ctx, req, SignIn)),
        "/sign-in/direct" if get => Box::pin(social::direct(ctx, req)),
        "/register" if get => Box::pin(sign_in::show(ctx, req, Register)),
        "/register" if post => Box::pin(sign_in::submit(ctx, req, Register)),
        "/profile/missing" if get || post => Box::pin(profile::handle(ctx, req)),
        "/consent" if get => Box::pin(consent::show(ctx, req)),
        "/consent" if post => Box::pin(consent::answer(ctx, req)),
        "/account" if get => Box::pin(pages::account::show(ctx, req)),
        "/account" if post => Box::pin(pages::account::submit(ctx, req)),
        _ => return None,
    })
}
/// Paths that exist, for a 405 to a method they do not take.
const KNOWN_PATHS: &[&str] = &[
    "/account",
    "/oidc/.well-known/openid-configuration",
    "/oidc/jwks",
    "/oidc/token",
    "/oidc/me",
    "/oidc/token/revocation",
    "/oidc/token/introspection",
    "/oidc/auth",
    "/oidc/session/end",
    "/oidc/session/end/confirm",
    "/sign-in",
    "/register",
    "/profile/missing",
    "/consent",
];

/// The development mailbox (only with `DEV_MAILBOX=true`): newest first, `?to=` filters.
async fn dev_mailbox<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    json_view: bool,
    lang: Lang,
) -> Response {
    let to = web::query_pairs(req)
        .into_iter()
        .find(|(k, _)| k == "to")
        .map(|(_, v)| v);
    match crate::experience::messages::mailbox(ctx, to.as_deref()).await {
        Ok(list) if json_view => web::json(StatusCode::OK, &list),
        Ok(list) => web::html(StatusCode::OK, pages::views::mailbox(list)),
        Err(e) => wire::page_error(PageError::Internal(e), lang),
    }
}
