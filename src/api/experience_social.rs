//! The Experience API's social sign-in routes (Logto's
//! `/api/experience/verification/social/{connectorId}/authorization-uri` and `…/verify`),
//! over `experience::social`.
use super::input::object_body;
use crate::ctx::Ctx;
use crate::experience::interaction::Current;
use crate::experience::social;
use crate::store::{Db, Kv};
use crate::web::error::ApiError;
use crate::web::http::{Method, StatusCode};
use crate::web::Request;
use serde_json::Value;

struct AuthorizationUriBody {
    state: String,
    redirect_uri: String,
}
crate::from_row!(AuthorizationUriBody { state, redirect_uri = "redirectUri" });

struct SocialVerifyBody {
    verification_id: String,
    connector_data: Value,
}
crate::from_row!(SocialVerifyBody {
    verification_id = "verificationId",
    connector_data = "connectorData"
});

/// `rest` is the path after `/verification/social/` (or, `sso`, `/verification/sso/`):
/// `{connectorId}/{step}`. The answer's body; the caller saves the interaction.
pub async fn step<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    (rest, sso): (&str, bool),
    req: &Request,
) -> Result<Value, ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "guard.route_not_found",
            format!("No Experience API route for this verification: {rest}."),
        )
    };
    let (connector, step) = rest.split_once('/').ok_or_else(not_found)?;
    match (step, req.method()) {
        ("authorization-uri", &Method::POST) => {
            let b: AuthorizationUriBody = object_body(req, &["state", "redirectUri"])?;
            let idp = crate::web::cookies::get(req, crate::web::cookies::SAML_IDP);
            let (url, id) = social::authorization_uri(
                ctx,
                c,
                (connector, sso),
                (&b.state, &b.redirect_uri),
                idp.as_deref(),
            )
            .await?;
            Ok(crate::jv!({"authorizationUri": url, "verificationId": id}))
        }
        ("verify", &Method::POST) => {
            let b: SocialVerifyBody = object_body(req, &["verificationId", "connectorData"])?;
            let id =
                social::verify(ctx, c, connector, &b.verification_id, &b.connector_data).await?;
            Ok(crate::jv!({ "verificationId": id }))
        }
        _ => Err(not_found()),
    }
}

/// `GET /api/experience/sso-connectors?email=`: `{connectorIds}`, the enterprise SSO
/// connectors the email's domain routes to (none unless `singleSignOnEnabled`).
pub async fn sso_connectors<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
    req: &Request,
) -> Result<crate::web::Response, ApiError> {
    let email = crate::web::query_pairs(req)
        .into_iter()
        .find(|(k, _)| k == "email")
        .map(|(_, v)| v)
        .filter(|e| e.contains('@') && e.len() <= 256)
        .ok_or_else(|| ApiError::invalid_input("`email` must be an email address."))?;
    let ids = crate::experience::sso::for_email(ctx, &c.settings, &email).await?;
    Ok(crate::web::json(
        StatusCode::OK,
        &crate::jv!({ "connectorIds": ids }),
    ))
}

/// `POST /api/authn/single-sign-on/saml/{connectorId}` (form `SAMLResponse`, `RelayState`):
/// the assertion consumer service. A 303 to the sign-in's redirect URI with its `state`;
/// the client then calls `…/verification/sso/{connectorId}/verify` as for OpenID Connect.
/// No cookie is read: the IdP's form posts cross-site, and the `RelayState` names the
/// sign-in.
/// `GET /enterprise-sso/{connectorId}`: the SP metadata of a SAML connector, served at its
/// entity id. 404 for anything else.
pub async fn saml_metadata<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    connector_id: &str,
) -> Result<crate::web::Response, ApiError> {
    crate::experience::sso::saml_connector_exists(ctx, connector_id).await?;
    Ok(crate::web::with_type(
        crate::web::http::StatusCode::OK,
        "application/samlmetadata+xml; charset=utf-8",
        crate::saml::sp::metadata(&ctx.origin, connector_id).into_bytes(),
    ))
}

pub async fn saml_acs<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    connector_id: &str,
) -> Result<crate::web::Response, ApiError> {
    let params = crate::web::params(req);
    let response = crate::web::param(&params, "SAMLResponse")
        .ok_or_else(|| ApiError::invalid_input("`SAMLResponse` is required."))?;
    let relay = crate::web::param(&params, "RelayState").unwrap_or_default();
    use crate::experience::sso::{assertion, Consumed};
    Ok(
        match assertion(ctx, connector_id, (response, relay)).await? {
            Consumed::SignIn(to) => crate::web::redirect(&to),
            Consumed::IdpInitiated { token, next } => {
                let mut res = crate::web::redirect(&next);
                let ttl = crate::experience::sso::IDP_INITIATED_TTL;
                crate::web::cookies::set(&mut res, crate::web::cookies::SAML_IDP, &token, ttl);
                res
            }
        },
    )
}
