//! OpenID Provider metadata (OpenID Connect Discovery 1.0 §3, RFC 8414): it lists exactly
//! what is implemented.
use super::token;
use crate::app::Ctx;
use crate::store::{Db, Kv};
use crate::web::{self, Response};
use http::header::{HeaderValue, CACHE_CONTROL};
use http::StatusCode;
use serde_json::json;

pub fn handle<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> Response {
    let issuer = ctx.issuer();
    let doc = json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/jwks"),
        "token_endpoint": format!("{issuer}/token"),
        "grant_types_supported": token::GRANT_TYPES,
        "token_endpoint_auth_methods_supported": token::AUTH_METHODS,
        "subject_types_supported": ["public"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    let mut res = web::json(StatusCode::OK, &doc);
    res.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}
