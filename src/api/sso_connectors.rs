//! `/api/sso-connectors`: enterprise SSO connectors (Logto's shapes). OpenID Connect
//! providers (`OIDC`, `Okta`, `AzureAdOidc`, `GoogleWorkspace`) given their issuer, SAML ones
//! (`SAML`, `AzureAD`) given their metadata or entity id, endpoint and certificate; the
//! email `domains` that route users to them. Stored beside the other connectors (type
//! `Sso`), their configs sealed and the client secret write-only, as theirs are.
use super::input::object_body;
use crate::crypto::random;
use crate::ctx::Ctx;
use crate::experience::messages::{masked, open_config, seal_config, unmasked_patch};
use crate::experience::settings::merge;
use crate::json::{Json, Obj};
use crate::social::sso::{self, DomainError, ProviderError};
use crate::store::messages::{self as repo, ConnectorRow};
use crate::store::{Db, Kv};
use crate::web::error::ApiError;
use crate::web::http::StatusCode;
use crate::web::{self, Request, Response};
use serde_json::{Map, Value};

use crate::experience::sso::IDP_INITIATED;
pub use crate::social::sso::TYPE as SSO;

struct Body {
    provider_name: Option<String>,
    connector_name: Option<String>,
    config: Option<Value>,
    domains: Option<Vec<String>>,
    branding: Option<Value>,
    sync_profile: Option<bool>,
}
crate::from_row!(Body {
    provider_name = "providerName",
    connector_name = "connectorName",
    config,
    domains,
    branding,
    sync_profile = "syncProfile",
});
const FIELDS: &[&str] = &[
    "providerName",
    "connectorName",
    "config",
    "domains",
    "branding",
    "syncProfile",
];

async fn view<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, c: &ConnectorRow) -> Result<Json, ApiError> {
    let config = masked(open_config(ctx, c).await?);
    let m: Value = crate::json::parse(&c.metadata).unwrap_or(Value::Null);
    let f = |k: &str| m.get(k).unwrap_or(&Value::Null);
    let saml = sso::is_saml_provider(&c.connector_id);
    let provider_config = if saml {
        let g = |k: &str| config.get(k).unwrap_or(&Value::Null);
        Obj::new()
            .json(
                "defaultAttributeMapping",
                Obj::new()
                    .str("id", "nameID")
                    .str("email", "email")
                    .str("name", "name")
                    .end(),
            )
            .json(
                "serviceProvider",
                Obj::new()
                    .str("entityId", &crate::saml::sp::entity_id(&ctx.origin, &c.id))
                    .str(
                        "assertionConsumerServiceUrl",
                        &crate::saml::sp::acs_url(&ctx.origin, &c.id),
                    )
                    .end(),
            )
            .json(
                "identityProvider",
                Obj::new()
                    .value("entityId", g("entityId"))
                    .value("signInEndpoint", g("signInEndpoint"))
                    .value("x509Certificate", g("x509Certificate"))
                    .end(),
            )
            .end()
    } else {
        Json::of(&config)
    };
    Ok(Obj::new()
        .str("id", &c.id)
        .str("providerName", &c.connector_id)
        .str("providerType", if saml { "saml" } else { "oidc" })
        .value("connectorName", f("connectorName"))
        .value("name", f("connectorName"))
        .value("config", &config)
        .json("providerConfig", provider_config)
        .value("domains", f("domains"))
        .value("branding", f("branding"))
        .value("syncProfile", f("syncProfile"))
        .int("createdAt", c.created_at)
        .end())
}

fn invalid(m: String) -> ApiError {
    ApiError::invalid_input(format!("Invalid SSO connector: {m}."))
}

/// The connectors of type `Sso`.
async fn all<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> Result<Vec<ConnectorRow>, ApiError> {
    let mut rows = repo::connectors(ctx.db).await?;
    rows.retain(|r| r.channel == SSO);
    Ok(rows)
}

/// Checks the body against the stored connector (`None` for a new one); the row to write.
async fn checked<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    b: Body,
    old: Option<ConnectorRow>,
) -> Result<ConnectorRow, ApiError> {
    let provider = match (&b.provider_name, &old) {
        (Some(p), None) => p.clone(),
        (None, Some(o)) => o.connector_id.clone(),
        (Some(_), Some(_)) => return Err(invalid("`providerName` cannot change".into())),
        (None, None) => return Err(invalid("`providerName` is required".into())),
    };
    let fixed_issuer = sso::check_provider(&provider).map_err(|e| match e {
        ProviderError::Unknown => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "connector.not_found",
            format!("No SSO provider is named {provider}."),
        ),
    })?;
    let id = match &old {
        Some(o) => o.id.clone(),
        None => random::id()?,
    };
    let mut meta: Map<String, Value> = old
        .as_ref()
        .map(metadata)
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| {
            let mut m = Map::new();
            m.insert("domains".into(), crate::jv!([]));
            m.insert("branding".into(), crate::jv!({}));
            m.insert("syncProfile".into(), crate::jv!(false));
            m
        });
    let mut config = match &old {
        Some(o) => open_config(ctx, o).await?,
        None => crate::jv!({}),
    };
    if let Some(n) = b.connector_name {
        if n.trim().is_empty() || n.len() > 128 {
            return Err(invalid(
                "`connectorName` must be 1 to 128 characters".into(),
            ));
        }
        let taken = all(ctx).await?.iter().any(|r| {
            r.id != id
                && crate::json::parse(&r.metadata).is_ok_and(|m: Value| {
                    m.get("connectorName").and_then(Value::as_str) == Some(n.as_str())
                })
        });
        if taken {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "single_sign_on.duplicate_connector_name",
                "Another SSO connector has this name.",
            ));
        }
        meta.insert("connectorName".into(), crate::jv!(n));
    }
    if meta.get("connectorName").and_then(Value::as_str).is_none() {
        return Err(invalid("`connectorName` is required".into()));
    }
    if let Some(d) = b.domains {
        let d = sso::check_domains(&d).map_err(|e| match e {
            DomainError::Invalid(d) => invalid(format!("`{d}` is not a domain")),
            DomainError::Forbidden(list) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "single_sign_on.forbidden_domains",
                "Public email domains cannot be routed to an SSO connector.",
            )
            .with_data(crate::json::Json::strs(&list)),
            DomainError::Duplicated(list) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "single_sign_on.duplicated_domains",
                "A domain is named twice.",
            )
            .with_data(crate::json::Json::strs(&list)),
        })?;
        meta.insert("domains".into(), crate::jv!(d));
    }
    if let Some(br) = b.branding {
        if !br.is_object() {
            return Err(invalid("`branding` must be an object".into()));
        }
        meta.insert("branding".into(), br);
    }
    if let Some(s) = b.sync_profile {
        meta.insert("syncProfile".into(), crate::jv!(s));
    }
    if let Some(patch) = b.config {
        let patch = unmasked_patch(patch);
        // The secret follows its destination (as for every connector).
        let moved = crate::social::SECRET_DESTINATIONS
            .iter()
            .any(|f| patch.get(*f).is_some_and(|v| config.get(*f) != Some(v)));
        if moved && config.get("clientSecret").is_some() && patch.get("clientSecret").is_none() {
            return Err(invalid(
                "changing `issuer` or an endpoint needs `clientSecret` again".into(),
            ));
        }
        if patch
            .get("issuer")
            .is_some_and(|v| config.get("issuer") != Some(v))
        {
            // New provider, new endpoints: read them from its discovery document again.
            config = crate::jv!({});
        }
        merge(&mut config, patch);
    }
    let config = if sso::is_saml_provider(&provider) {
        crate::saml::sp::complete_config(ctx.http, &config).await
    } else {
        sso::complete_config(ctx.http, fixed_issuer, &config).await
    }
    .map_err(invalid)?;
    Ok(ConnectorRow {
        config: seal_config(ctx, &id, &config).await?,
        id,
        connector_id: provider,
        channel: SSO.into(),
        metadata: crate::json::text(&Value::Object(meta)),
        target: None,
        created_at: old.map_or(ctx.now_ms, |o| o.created_at),
    })
}

/// `POST /api/sso-connectors` (200, as Logto answers).
pub async fn create<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: Body = object_body(req, FIELDS)?;
    let row = checked(ctx, b, None).await?;
    repo::insert_connector(ctx.db, &row).await?;
    Ok(web::json_text(StatusCode::OK, view(ctx, &row).await?))
}

pub async fn list<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> Result<Response, ApiError> {
    let mut out = Vec::new();
    for row in &all(ctx).await? {
        out.push(view(ctx, row).await?);
    }
    Ok(web::json_text(StatusCode::OK, Json::array(out)))
}

async fn load<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<ConnectorRow, ApiError> {
    repo::connector(ctx.db, id)
        .await?
        .filter(|r| r.channel == SSO)
        .ok_or_else(|| ApiError::not_found("sso connector", id))
}

pub async fn get<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<Response, ApiError> {
    let row = load(ctx, id).await?;
    Ok(web::json_text(StatusCode::OK, view(ctx, &row).await?))
}

pub async fn update<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: Body = object_body(req, FIELDS)?;
    let old = load(ctx, id).await?;
    let row = checked(ctx, b, Some(old)).await?;
    repo::update_connector(ctx.db, &row).await?;
    Ok(web::json_text(StatusCode::OK, view(ctx, &row).await?))
}

pub async fn delete<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<Response, ApiError> {
    load(ctx, id).await?;
    repo::delete_connector(ctx.db, id).await?;
    Ok(web::empty(StatusCode::NO_CONTENT))
}

/// A stored connector's metadata as an object.
fn metadata(row: &ConnectorRow) -> Map<String, Value> {
    crate::json::parse(&row.metadata)
        .ok()
        .and_then(|v: Value| v.as_object().cloned())
        .unwrap_or_default()
}

/// `PUT /api/sso-connectors/{id}/idp-initiated-auth-config`: lets a SAML connector take
/// responses the IdP sends unasked (Logto's body: `{defaultApplicationId,
/// autoSendAuthorizationRequest: true, redirectUri?, authParameters?}` or `{…,
/// autoSendAuthorizationRequest: false, clientIdpInitiatedAuthCallbackUri}`). The
/// application must be a Traditional or SPA one (Traditional to send the authorization
/// request for the user: an SPA could not redeem its code without its PKCE verifier), and
/// `redirectUri` one of its own (its first by default). Kept in the connector's metadata.
pub async fn put_idp_initiated<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    use crate::store::apps::{self, AppType};
    let row = load(ctx, id).await?;
    if !sso::is_saml_provider(&row.connector_id) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "single_sign_on.idp_initiated_authentication_not_supported",
            "Only SAML connectors take IdP-initiated sign-ins.",
        ));
    }
    let body: Value = crate::json::parse(req.body())
        .map_err(|_| ApiError::invalid_input("The body must be a JSON object."))?;
    let text = |k: &str| body.get(k).and_then(Value::as_str);
    let app_id = text("defaultApplicationId")
        .ok_or_else(|| invalid("`defaultApplicationId` is required".into()))?;
    let app = apps::get(ctx.db, app_id)
        .await?
        .filter(|a| matches!(a.app_type, AppType::Traditional | AppType::Spa))
        .ok_or_else(|| {
            invalid("`defaultApplicationId` must name a Traditional or SPA application".into())
        })?;
    let auto = match body.get("autoSendAuthorizationRequest") {
        Some(Value::Bool(b)) => *b,
        _ => {
            return Err(invalid(
                "`autoSendAuthorizationRequest` must be a boolean".into(),
            ))
        }
    };
    let (mut redirect, mut params, mut callback) = (Value::Null, crate::jv!({}), Value::Null);
    if auto && app.app_type != AppType::Traditional {
        // The authorization request sent for the user has no PKCE verifier an SPA could
        // redeem the code with: an SPA starts its own sign-in from the client callback.
        return Err(invalid(
            "`autoSendAuthorizationRequest` needs a Traditional application; an SPA uses `clientIdpInitiatedAuthCallbackUri`".into(),
        ));
    }
    if auto {
        redirect = crate::jv!(match text("redirectUri") {
            Some(r) if app.oidc.redirect_uris.iter().any(|u| u == r) => r.to_owned(),
            Some(_) => {
                return Err(invalid(
                    "`redirectUri` must be one of the application's redirect URIs".into(),
                ));
            }
            None => app
                .oidc
                .redirect_uris
                .first()
                .cloned()
                .ok_or_else(|| invalid("the application has no redirect URI".into()))?,
        });
        match body.get("authParameters") {
            None | Some(Value::Null) => {}
            Some(Value::Object(p)) if p.values().all(Value::is_string) => {
                params = Value::Object(p.clone());
            }
            Some(_) => {
                return Err(invalid(
                    "`authParameters` must be an object of strings".into(),
                ))
            }
        }
    } else {
        let uri = text("clientIdpInitiatedAuthCallbackUri")
            .ok_or_else(|| invalid("`clientIdpInitiatedAuthCallbackUri` is required".into()))?;
        callback = crate::jv!(super::input::uri(
            "clientIdpInitiatedAuthCallbackUri",
            uri,
            true
        )?);
    }
    let config = crate::jv!({
        "connectorId": id, "defaultApplicationId": app_id, "autoSendAuthorizationRequest": auto,
        "redirectUri": redirect, "authParameters": params,
        "clientIdpInitiatedAuthCallbackUri": callback, "createdAt": ctx.now_ms,
    });
    let mut meta = metadata(&row);
    meta.insert(IDP_INITIATED.into(), config.clone());
    let row = ConnectorRow {
        metadata: crate::json::text(&Value::Object(meta)),
        ..row
    };
    repo::update_connector(ctx.db, &row).await?;
    Ok(web::json(StatusCode::OK, &config))
}

/// `GET` (404 when none) and `DELETE` of the IdP-initiated sign-in config.
pub async fn idp_initiated<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    delete: bool,
) -> Result<Response, ApiError> {
    let row = load(ctx, id).await?;
    let mut meta = metadata(&row);
    let config = meta
        .remove(IDP_INITIATED)
        .ok_or_else(|| ApiError::not_found("idp-initiated auth config", id))?;
    if !delete {
        return Ok(web::json(StatusCode::OK, &config));
    }
    let row = ConnectorRow {
        metadata: crate::json::text(&Value::Object(meta)),
        ..row
    };
    repo::update_connector(ctx.db, &row).await?;
    Ok(web::empty(StatusCode::NO_CONTENT))
}
