//! The router: one entry point for every request, on every platform.
use crate::api;
use crate::config::{Config, Vars};
use crate::crypto::keys::KeySealer;
use crate::crypto::CryptoError;
use crate::error::PageError;
use crate::oidc;
use crate::outbound::Job;
use crate::pages;
use crate::pages::i18n::Lang;
use crate::store::{Db, Kv};
use crate::web::{self, Request, Response};
use crate::wire;
use http::header::{HeaderValue, ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL};
use http::{Method, StatusCode};
use serde_json::json;
use std::cell::RefCell;

/// What a handler may use: storage, the validated configuration, the request's public
/// origin and the time the request arrived.
pub struct Ctx<'a, D: Db, K: Kv> {
    pub db: &'a D,
    pub kv: &'a K,
    pub config: &'a Config,
    /// `PUBLIC_URL`, or the request's origin when that is unset.
    pub origin: String,
    /// Milliseconds since the Unix epoch.
    pub now_ms: i64,
    /// The language for error pages: `ui_locales` in the query, then `Accept-Language`.
    pub lang: Lang,
    /// Work to run after the response (back-channel logout).
    jobs: RefCell<Vec<Job>>,
}

impl<D: Db, K: Kv> Ctx<'_, D, K> {
    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        self.now_ms.div_euclid(1000)
    }
    pub fn issuer(&self) -> String {
        format!("{}/oidc", self.origin)
    }
    /// The Management API's resource indicator.
    pub fn management_api(&self) -> String {
        format!("{}/api", self.origin)
    }
    pub fn sealer(&self) -> Result<KeySealer, CryptoError> {
        KeySealer::new(&self.config.key_encryption_secret)
    }
    /// Queues work to run after the response has been sent.
    pub fn defer(&self, job: Job) {
        self.jobs.borrow_mut().push(job);
    }
}

/// Handles one request. `vars` are the raw configuration variables, validated here so that
/// a bad value becomes a page that names it. Returns the response and the jobs to run after
/// it (the platform runs them with `waitUntil`, see [`crate::outbound::run`]).
pub async fn handle<D: Db, K: Kv>(
    db: &D,
    kv: &K,
    vars: &Vars,
    req: Request,
    now_ms: i64,
) -> (Response, Vec<Job>) {
    let config = match Config::from_vars(vars) {
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
    let lang = Lang::pick(
        ui_locales.as_deref(),
        web::header(&req, http::header::ACCEPT_LANGUAGE),
        "en",
    );
    let ctx = Ctx {
        db,
        kv,
        config: &config,
        origin,
        now_ms,
        lang,
        jobs: RefCell::default(),
    };
    let res = route(&ctx, req).await;
    (res, ctx.jobs.into_inner())
}

/// The scheduled trigger: deletes expired flow state.
pub async fn scheduled<D: Db>(db: &D, now_ms: i64) {
    match crate::store::oidc::sweep(db, now_ms.div_euclid(1000), 30 * 86_400).await {
        Ok(n) => log::info!("sweep: deleted {n} expired rows"),
        Err(e) => log::error!("sweep failed: {e}"),
    }
}

fn page<D: Db, K: Kv, E: Into<PageError>>(ctx: &Ctx<'_, D, K>, r: Result<Response, E>) -> Response {
    r.unwrap_or_else(|e| wire::page_error(e.into(), ctx.lang))
}

fn allow_any_origin(mut res: Response) -> Response {
    res.headers_mut()
        .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

fn method_not_allowed() -> Response {
    web::json(
        StatusCode::METHOD_NOT_ALLOWED,
        &json!({"error": "invalid_request", "error_description": "method not allowed"}),
    )
}

/// Endpoints a browser app (SPA) calls from its own origin. They take no cookies, so any
/// origin may read their answers.
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
        "access-control-allow-methods",
        HeaderValue::from_static("GET, POST"),
    );
    h.insert(
        "access-control-allow-headers",
        HeaderValue::from_static("authorization, content-type"),
    );
    h.insert("access-control-max-age", HeaderValue::from_static("600"));
    res
}

async fn route<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    if method == Method::OPTIONS && CORS_PATHS.contains(&path.as_str()) {
        return preflight();
    }
    match path.as_str() {
        "/oidc/.well-known/openid-configuration" => match method {
            Method::GET | Method::HEAD => allow_any_origin(oidc::discovery::handle(ctx)),
            _ => method_not_allowed(),
        },
        "/oidc/jwks" => match method {
            Method::GET | Method::HEAD => allow_any_origin(jwks(ctx).await),
            _ => method_not_allowed(),
        },
        "/oidc/token" => match method {
            Method::POST => allow_any_origin(
                oidc::token::handle(ctx, &req)
                    .await
                    .unwrap_or_else(wire::oauth_error),
            ),
            _ => method_not_allowed(),
        },
        "/oidc/auth" => match method {
            Method::GET | Method::POST => page(ctx, oidc::flow::authorize(ctx, &req).await),
            _ => method_not_allowed(),
        },
        "/oidc/auth/resume" => page(ctx, oidc::flow::resume(ctx, &req).await),
        "/oidc/me" => match method {
            Method::GET | Method::POST => allow_any_origin(
                oidc::tokens_info::userinfo(ctx, &req)
                    .await
                    .unwrap_or_else(wire::oauth_error),
            ),
            _ => method_not_allowed(),
        },
        "/oidc/token/revocation" => match method {
            Method::POST => allow_any_origin(
                oidc::tokens_info::revoke(ctx, &req)
                    .await
                    .unwrap_or_else(wire::oauth_error),
            ),
            _ => method_not_allowed(),
        },
        "/oidc/token/introspection" => match method {
            Method::POST => oidc::tokens_info::introspect(ctx, &req)
                .await
                .unwrap_or_else(wire::oauth_error),
            _ => method_not_allowed(),
        },
        "/oidc/session/end" => match method {
            Method::GET | Method::POST => page(ctx, oidc::logout::end_session(ctx, &req).await),
            _ => method_not_allowed(),
        },
        "/oidc/session/end/confirm" => match method {
            Method::POST => page(ctx, oidc::logout::confirm(ctx, &req).await),
            _ => method_not_allowed(),
        },
        p if pages::handlers::FORM_PAGES.contains(&p) => match method {
            Method::GET => page(ctx, pages::handlers::form_get(ctx, &req, p).await),
            Method::POST => page(ctx, pages::handlers::form_post(ctx, &req, p).await),
            _ => method_not_allowed(),
        },
        "/dev/mailbox" | "/dev/mailbox.json" if ctx.config.dev_mailbox => {
            dev_mailbox(ctx, &req, path.ends_with(".json")).await
        }
        "/profile/missing" => match method {
            Method::GET | Method::POST => {
                page(ctx, pages::handlers::missing_profile(ctx, &req).await)
            }
            _ => method_not_allowed(),
        },
        "/consent" => match method {
            Method::GET => page(ctx, pages::handlers::consent_form(ctx, &req).await),
            Method::POST => page(ctx, pages::handlers::consent_submit(ctx, &req).await),
            _ => method_not_allowed(),
        },
        "/" => web::json(
            StatusCode::OK,
            &json!({"name": "Gatehouse", "issuer": ctx.issuer()}),
        ),
        p if p == "/api" || p.starts_with("/api/") => {
            api::handle(ctx, req).await.unwrap_or_else(wire::api_error)
        }
        _ => wire::page_error(PageError::NotFound, ctx.lang),
    }
}

async fn jwks<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> Response {
    let keys = async {
        let rows = oidc::signing::published(ctx.db, &ctx.sealer()?, ctx.now_ms).await?;
        oidc::signing::jwks(&rows)
    };
    match keys.await {
        Ok(keys) => {
            let mut res = web::json(StatusCode::OK, &json!({ "keys": keys }));
            res.headers_mut().insert(
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
            res
        }
        Err(e) => wire::page_error(PageError::Internal(e), ctx.lang),
    }
}

/// The development mailbox (only with `DEV_MAILBOX=true`): newest first, `?to=` filters.
async fn dev_mailbox<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    json_view: bool,
) -> Response {
    let to = web::query_pairs(req)
        .into_iter()
        .find(|(k, _)| k == "to")
        .map(|(_, v)| v);
    match crate::store::messages::mailbox(ctx.db, to.as_deref(), 100).await {
        Ok(list) if json_view => web::json(StatusCode::OK, &list),
        Ok(list) => web::html(StatusCode::OK, pages::flow::mailbox(list)),
        Err(e) => wire::page_error(PageError::Internal(e.into()), ctx.lang),
    }
}
