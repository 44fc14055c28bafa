//! The router: one entry point for every request, on every platform.
use crate::api;
use crate::config::{Config, Vars};
use crate::crypto::keys::KeySealer;
use crate::crypto::CryptoError;
use crate::error::PageError;
use crate::oidc;
use crate::store::{Db, Kv};
use crate::web::{self, Request, Response};
use crate::wire;
use http::header::{HeaderValue, ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL};
use http::{Method, StatusCode};
use serde_json::json;

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
}

/// Handles one request. `vars` are the raw configuration variables, validated here so that
/// a bad value becomes a page that names it.
pub async fn handle<D: Db, K: Kv>(
    db: &D,
    kv: &K,
    vars: &Vars,
    req: Request,
    now_ms: i64,
) -> Response {
    let config = match Config::from_vars(vars) {
        Ok(c) => c,
        Err(e) => return wire::page_error(PageError::Config(e)),
    };
    let origin = config
        .public_url
        .clone()
        .unwrap_or_else(|| web::request_origin(&req));
    let ctx = Ctx {
        db,
        kv,
        config: &config,
        origin,
        now_ms,
    };
    route(&ctx, req).await
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

async fn route<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
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
            Method::POST => oidc::token::handle(ctx, &req)
                .await
                .unwrap_or_else(wire::oauth_error),
            _ => method_not_allowed(),
        },
        "/" => web::json(
            StatusCode::OK,
            &json!({"name": "Gatehouse", "issuer": ctx.issuer()}),
        ),
        p if p == "/api" || p.starts_with("/api/") => {
            api::handle(ctx, req).await.unwrap_or_else(wire::api_error)
        }
        _ => wire::page_error(PageError::NotFound),
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
        Err(e) => wire::page_error(PageError::Internal(e)),
    }
}
