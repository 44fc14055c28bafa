//! `/api/applications`: OIDC clients.
use super::input::{self, object_body};
use crate::crypto::{random, secret};
use crate::ctx::Ctx;
use crate::store::apps::{self, AppType, Application, CustomClientMetadata, OidcClientMetadata};
use crate::store::{Db, FromRow, Kv, Row, StoreError};
use crate::web::error::ApiError;
use crate::web::http::StatusCode;
use crate::web::{self, Request, Response};
use serde_json::Value;

const MAX_URIS: usize = 32;

// The bodies, read column by column (`input::object_body`), each with its fields; the
// nested metadata objects refuse fields they do not have.
struct CreateBody {
    name: String,
    app_type: AppType,
    description: Option<String>,
    oidc_client_metadata: Option<MetadataPatch>,
    custom_client_metadata: Option<CustomPatch>,
    is_third_party: Option<bool>,
}
crate::from_row!(CreateBody {
    name,
    app_type = "type",
    description,
    oidc_client_metadata = "oidcClientMetadata",
    custom_client_metadata = "customClientMetadata",
    is_third_party = "isThirdParty",
});
const CREATE_FIELDS: &[&str] = &[
    "name",
    "type",
    "description",
    "oidcClientMetadata",
    "customClientMetadata",
    "isThirdParty",
];

struct UpdateBody {
    name: Option<String>,
    description: Option<Option<String>>,
    oidc_client_metadata: Option<MetadataPatch>,
    custom_client_metadata: Option<CustomPatch>,
    is_third_party: Option<bool>,
}
impl FromRow for UpdateBody {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        crate::cols!(r, UpdateBody { name, description: patch, oidc_client_metadata = "oidcClientMetadata", custom_client_metadata = "customClientMetadata", is_third_party = "isThirdParty" })
    }
}
const UPDATE_FIELDS: &[&str] = &[
    "name",
    "description",
    "oidcClientMetadata",
    "customClientMetadata",
    "isThirdParty",
];

#[derive(Default)]
struct MetadataPatch {
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    backchannel_logout_uri: Option<Option<String>>,
    backchannel_logout_session_required: Option<bool>,
}
impl FromRow for MetadataPatch {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        crate::cols!(r, MetadataPatch { redirect_uris = "redirectUris", post_logout_redirect_uris = "postLogoutRedirectUris", backchannel_logout_uri = "backchannelLogoutUri": patch, backchannel_logout_session_required = "backchannelLogoutSessionRequired" })
    }
}
const METADATA_FIELDS: &[&str] = &[
    "redirectUris",
    "postLogoutRedirectUris",
    "backchannelLogoutUri",
    "backchannelLogoutSessionRequired",
];

#[derive(Default)]
struct CustomPatch {
    refresh_token_ttl_in_days: Option<Option<u32>>,
}
impl FromRow for CustomPatch {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        crate::cols!(r, CustomPatch { refresh_token_ttl_in_days = "refreshTokenTtlInDays": patch })
    }
}

/// A nested object with only `fields` (else it does not read, and the body is refused).
fn nested<T: FromRow>(v: Option<&Value>, fields: &[&str]) -> Option<T> {
    let m = v?.as_object()?;
    if m.keys().any(|k| !fields.contains(&k.as_str())) {
        return None;
    }
    T::from_row(m).ok()
}
impl crate::store::Column for MetadataPatch {
    fn column(v: Option<&Value>) -> Option<Self> {
        nested(v, METADATA_FIELDS)
    }
}
impl crate::store::Column for CustomPatch {
    fn column(v: Option<&Value>) -> Option<Self> {
        nested(v, &["refreshTokenTtlInDays"])
    }
}

/// The API's view of an application; the secret appears only in the creation response.
fn view(app: &Application, secret: Option<&str>) -> Value {
    let mut v = crate::jv!({
        "id": app.id,
        "name": app.name,
        "description": app.description,
        "type": app.app_type,
        "oidcClientMetadata": app.oidc,
        "customClientMetadata": app.custom,
        "isThirdParty": app.is_third_party,
        "createdAt": app.created_at,
    });
    if let (Some(secret), Some(map)) = (secret, v.as_object_mut()) {
        map.insert("secret".into(), crate::jv!(secret));
    }
    v
}

fn uris(field: &str, list: Vec<String>, app_type: AppType) -> Result<Vec<String>, ApiError> {
    if list.len() > MAX_URIS {
        return Err(ApiError::invalid_input(format!(
            "`{field}` takes at most {MAX_URIS} URIs."
        )));
    }
    // Native apps may use custom schemes (RFC 8252 §7.1); the others are web apps.
    let web_only = app_type != AppType::Native;
    list.iter()
        .map(|u| input::uri(field, u, web_only))
        .collect()
}

fn apply_metadata(
    m: &mut OidcClientMetadata,
    p: MetadataPatch,
    t: AppType,
) -> Result<(), ApiError> {
    if let Some(list) = p.redirect_uris {
        m.redirect_uris = uris("oidcClientMetadata.redirectUris", list, t)?;
    }
    if let Some(list) = p.post_logout_redirect_uris {
        m.post_logout_redirect_uris = uris("oidcClientMetadata.postLogoutRedirectUris", list, t)?;
    }
    if let Some(uri) = p.backchannel_logout_uri {
        m.backchannel_logout_uri = uri
            .map(|u| input::uri("oidcClientMetadata.backchannelLogoutUri", &u, true))
            .transpose()?;
    }
    if let Some(required) = p.backchannel_logout_session_required {
        m.backchannel_logout_session_required = required;
    }
    Ok(())
}

fn apply_custom(c: &mut CustomClientMetadata, p: CustomPatch) -> Result<(), ApiError> {
    if let Some(days) = p.refresh_token_ttl_in_days {
        if days.is_some_and(|d| !(1..=180).contains(&d)) {
            return Err(ApiError::invalid_input(
                "`customClientMetadata.refreshTokenTtlInDays` must be from 1 to 180.",
            ));
        }
        c.refresh_token_ttl_in_days = days;
    }
    Ok(())
}

fn check_third_party(app: &Application) -> Result<(), ApiError> {
    if app.is_third_party && !matches!(app.app_type, AppType::Traditional | AppType::Spa) {
        return Err(ApiError::invalid_input(
            "Only Traditional and SPA applications can be third-party.",
        ));
    }
    Ok(())
}

fn description(d: Option<String>) -> Result<Option<String>, ApiError> {
    d.map(|d| input::text("description", &d, 0, 2048))
        .transpose()
        .map(|d| d.filter(|d| !d.is_empty()))
}

pub async fn create<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, ApiError> {
    let body: CreateBody = object_body(req, CREATE_FIELDS)?;
    let mut app = Application {
        id: random::id()?,
        name: input::text("name", &body.name, 1, 256)?,
        description: description(body.description)?,
        app_type: body.app_type,
        secret_hash: None,
        oidc: OidcClientMetadata::default(),
        custom: CustomClientMetadata::default(),
        is_third_party: body.is_third_party.unwrap_or(false),
        created_at: ctx.now_ms,
    };
    apply_metadata(
        &mut app.oidc,
        body.oidc_client_metadata.unwrap_or_default(),
        app.app_type,
    )?;
    apply_custom(
        &mut app.custom,
        body.custom_client_metadata.unwrap_or_default(),
    )?;
    check_third_party(&app)?;
    let secret = if app.app_type.is_confidential() {
        let s = random::secret()?;
        app.secret_hash = Some(secret::hash(&s));
        Some(s)
    } else {
        None
    };
    apps::insert(ctx.db, &app).await?;
    Ok(web::json(
        StatusCode::CREATED,
        &view(&app, secret.as_deref()),
    ))
}

pub async fn list<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Result<Response, ApiError> {
    let page = input::page(req)?;
    let (list, total) = apps::list(ctx.db, page.limit, page.offset).await?;
    let body: Vec<Value> = list.iter().map(|a| view(a, None)).collect();
    Ok(input::with_total(web::json(StatusCode::OK, &body), total))
}

async fn load<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<Application, ApiError> {
    apps::get(ctx.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("application", id))
}

pub async fn get<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<Response, ApiError> {
    Ok(web::json(
        StatusCode::OK,
        &view(&load(ctx, id).await?, None),
    ))
}

pub async fn update<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let body: UpdateBody = object_body(req, UPDATE_FIELDS)?;
    let mut app = load(ctx, id).await?;
    if let Some(name) = body.name {
        app.name = input::text("name", &name, 1, 256)?;
    }
    if let Some(d) = body.description {
        app.description = description(d)?;
    }
    if let Some(p) = body.oidc_client_metadata {
        apply_metadata(&mut app.oidc, p, app.app_type)?;
    }
    if let Some(p) = body.custom_client_metadata {
        apply_custom(&mut app.custom, p)?;
    }
    if let Some(t) = body.is_third_party {
        app.is_third_party = t;
    }
    check_third_party(&app)?;
    let updated = apps::update(ctx.db, &app).await?;
    // After the write: a request in between cannot cache the old app again.
    ctx.cache.forget_app(id, ctx.now_ms);
    if !updated {
        return Err(ApiError::not_found("application", id));
    }
    Ok(web::json(StatusCode::OK, &view(&app, None)))
}

pub async fn delete<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<Response, ApiError> {
    if id == crate::oidc::clients::ACCOUNT_APP {
        return Err(ApiError::invalid_input(
            "The account pages' own app cannot be deleted.",
        ));
    }
    let deleted = apps::delete(ctx.db, id).await?;
    ctx.cache.forget_app(id, ctx.now_ms);
    if !deleted {
        return Err(ApiError::not_found("application", id));
    }
    Ok(web::empty(StatusCode::NO_CONTENT))
}
