//! The HTTP face of the OAuth 2.0 / OIDC JSON endpoints: discovery, JWKS, token, userinfo,
//! revocation and introspection. Each parses its request (media type, form body, the
//! `Authorization` header) into typed values, calls the OIDC core, and writes the answer;
//! errors become RFC 6749 §5.2 JSON in `wire.rs`.
use crate::crypto::b64url;
use crate::crypto::secret::Secret;
use crate::ctx::Ctx;
use crate::error::InternalError;
use crate::oidc::client_auth::Form;
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::oidc::{discovery, signing, token, tokens_info};
use crate::store::{Db, Kv};
use crate::web::http::header::{
    HeaderValue, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
};
use crate::web::http::StatusCode;
use crate::web::{self, header, media_type, Request, Response};
use crate::wire;
use sha2::{Digest, Sha256};
use std::cell::RefCell;

fn invalid_client(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClient, description)
}

/// RFC 6749 §2.3.1: `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`.
fn decode_basic(value: &str) -> Result<(String, Secret), OAuthError> {
    let malformed = || {
        OAuthError::new(
            ErrorCode::InvalidRequest,
            "malformed Basic authorization header",
        )
    };
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
        .ok_or_else(|| invalid_client("unsupported authorization scheme"))?;
    let raw = crate::crypto::base64::std_decode(encoded.trim()).ok_or_else(malformed)?;
    let raw = String::from_utf8(raw).map_err(|_| malformed())?;
    let (id, secret) = raw.split_once(':').ok_or_else(malformed)?;
    // §2.3.1: both parts are form-urlencoded before they are joined.
    let decode = |s: &str| -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok((decode(id), Secret::new(decode(secret))))
}

/// The form body and Basic credentials of a client's POST.
fn client_request(req: &Request) -> Result<(Option<(String, Secret)>, Form), OAuthError> {
    if media_type(req).as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(OAuthError::new(
            ErrorCode::InvalidRequest,
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let form = Form::parse(req.body())?;
    let basic = header(req, AUTHORIZATION).map(decode_basic).transpose()?;
    Ok((basic, form))
}

fn ok_json(body: &serde_json::Value) -> Response {
    web::no_store(web::json(StatusCode::OK, body))
}

/// `POST /oidc/token`.
pub async fn token<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Response {
    let result = async {
        let (basic, form) = client_request(req)?;
        token::exchange(ctx, basic, &form).await
    };
    result.await.map_or_else(wire::oauth_error, |b| ok_json(&b))
}

/// `GET|POST /oidc/me`.
pub async fn userinfo<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Response {
    let bearer = header(req, AUTHORIZATION).and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    });
    tokens_info::userinfo(ctx, bearer)
        .await
        .map_or_else(wire::oauth_error, |b| ok_json(&b))
}

/// `POST /oidc/token/revocation`.
pub async fn revoke<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Response {
    let result = async {
        let (basic, form) = client_request(req)?;
        tokens_info::revoke(ctx, basic, &form).await
    };
    result.await.map_or_else(wire::oauth_error, |()| {
        web::no_store(web::empty(StatusCode::OK))
    })
}

/// `POST /oidc/token/introspection`.
pub async fn introspect<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Response {
    let result = async {
        let (basic, form) = client_request(req)?;
        tokens_info::introspect(ctx, basic, &form).await
    };
    result.await.map_or_else(wire::oauth_error, |b| ok_json(&b))
}

fn cacheable(mut res: Response) -> Response {
    res.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}

thread_local! {
    /// The discovery body and its `ETag`, per issuer: it changes only with a new build.
    static DISCOVERY: RefCell<Option<(String, String, String)>> = const { RefCell::new(None) };
}

/// `GET /oidc/.well-known/openid-configuration`, serialized once per isolate.
pub fn discovery<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Response {
    let issuer = ctx.issuer();
    let (body, etag) = DISCOVERY.with(|d| {
        let mut d = d.borrow_mut();
        match d.as_ref() {
            Some((i, body, etag)) if *i == issuer => (body.clone(), etag.clone()),
            _ => {
                let body = discovery::document(&issuer);
                let digest = Sha256::digest(body.as_bytes());
                let etag = format!("\"{}\"", b64url(digest.get(..12).unwrap_or_default()));
                *d = Some((issuer.clone(), body.clone(), etag.clone()));
                (body, etag)
            }
        }
    });
    cached_json(req, &body, &etag)
}

/// `GET /oidc/jwks`: from the isolate's key cache, with an `ETag` (a matching
/// `If-None-Match` gets a 304).
pub async fn jwks<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, InternalError> {
    let keys = signing::keys(ctx).await?;
    Ok(cached_json(req, &keys.jwks_body, &keys.etag))
}

/// A JSON body that changes rarely: `Cache-Control: public`, its `ETag`, and a 304 for a
/// matching `If-None-Match`.
fn cached_json(req: &Request, body: &str, etag: &str) -> Response {
    let unchanged = header(req, IF_NONE_MATCH)
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if unchanged {
        web::empty(StatusCode::NOT_MODIFIED)
    } else {
        let mut res = Response::new(body.as_bytes().to_vec());
        res.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        res
    };
    if let Ok(v) = HeaderValue::from_str(etag) {
        res.headers_mut().insert(ETAG, v);
    }
    cacheable(res)
}
