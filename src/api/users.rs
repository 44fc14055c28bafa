//! `/api/users`.
use super::input::{self, object_body};
use crate::account;
use crate::crypto::{password, random};
use crate::ctx::Ctx;
use crate::identity;
use crate::store::users::{self, Profile, User};
use crate::store::{Db, FromRow, Kv, Row, StoreError};
use crate::web::error::ApiError;
use crate::web::http::StatusCode;
use crate::web::{self, query_pairs, Request, Response};
use serde_json::{Map, Value};

const MAX_CUSTOM_DATA_BYTES: usize = 16 * 1024;

// The bodies, read column by column (`input::object_body`), each with its fields.
// `customData` and `profile` stay JSON here and are checked by `custom_data` and `profile`.
struct CreateBody {
    username: Option<String>,
    primary_email: Option<String>,
    primary_phone: Option<String>,
    password: Option<String>,
    name: Option<String>,
    avatar: Option<String>,
    custom_data: Option<Value>,
    profile: Option<Value>,
}
crate::from_row!(CreateBody {
    username,
    primary_email = "primaryEmail",
    primary_phone = "primaryPhone",
    password,
    name,
    avatar,
    custom_data = "customData",
    profile,
});
const CREATE_FIELDS: &[&str] = &[
    "username",
    "primaryEmail",
    "primaryPhone",
    "password",
    "name",
    "avatar",
    "customData",
    "profile",
];

struct UpdateBody {
    username: Option<Option<String>>,
    primary_email: Option<Option<String>>,
    primary_phone: Option<Option<String>>,
    name: Option<Option<String>>,
    avatar: Option<Option<String>>,
    custom_data: Option<Value>,
    profile: Option<Value>,
}
impl FromRow for UpdateBody {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        crate::cols!(r, UpdateBody { username: patch, primary_email = "primaryEmail": patch, primary_phone = "primaryPhone": patch, name: patch, avatar: patch, custom_data = "customData", profile })
    }
}
const UPDATE_FIELDS: &[&str] = &[
    "username",
    "primaryEmail",
    "primaryPhone",
    "name",
    "avatar",
    "customData",
    "profile",
];

struct PasswordBody {
    password: String,
}
crate::from_row!(PasswordBody { password });

fn view(u: &User) -> Value {
    crate::jv!({
        "id": u.id,
        "username": u.username,
        "primaryEmail": u.primary_email,
        "primaryPhone": u.primary_phone,
        "name": u.name,
        "avatar": u.avatar,
        "customData": u.custom_data,
        "identities": u.identities,
        "profile": u.profile,
        "lastSignInAt": u.last_sign_in_at,
        "createdAt": u.created_at,
        "updatedAt": u.updated_at,
        "isSuspended": u.is_suspended,
        "hasPassword": u.password_hash.is_some(),
    })
}

/// A username, checked by the identity rules.
pub fn username(v: &str) -> Result<String, ApiError> {
    identity::username(v).map_err(|e| ApiError::invalid_input(format!("`username` {e}.")))
}

/// An email address in its normal form.
pub fn email(v: &str) -> Result<String, ApiError> {
    identity::email(v).map_err(|e| ApiError::invalid_input(format!("`primaryEmail` {e}.")))
}

/// A phone number in its normal form (E.164 digits).
pub fn phone(v: &str) -> Result<String, ApiError> {
    identity::phone(v).map_err(|e| ApiError::invalid_input(format!("`primaryPhone` {e}.")))
}

fn check_password_length(v: &str) -> Result<(), ApiError> {
    let n = v.chars().count();
    if !(8..=256).contains(&n) || v.len() > 1024 {
        return Err(ApiError::invalid_input(
            "`password` must be 8 to 256 characters long.",
        ));
    }
    Ok(())
}

fn new_password(v: &str, params: password::Params) -> Result<String, ApiError> {
    check_password_length(v)?;
    Ok(password::hash_with(v, params)?)
}

pub(super) fn name(v: &str) -> Result<Option<String>, ApiError> {
    let n = input::text("name", v, 0, 128)?;
    Ok((!n.is_empty()).then_some(n))
}

pub(super) fn custom_data(v: Value) -> Result<Map<String, Value>, ApiError> {
    let Value::Object(m) = v else {
        return Err(ApiError::invalid_input("`customData` must be an object."));
    };
    if serde_json::to_vec(&m).map_or(usize::MAX, |b| b.len()) > MAX_CUSTOM_DATA_BYTES {
        return Err(ApiError::invalid_input(
            "`customData` must be at most 16 KiB of JSON.",
        ));
    }
    Ok(m)
}

/// The `profile` object, read as the store reads it (OIDC's standard claims only: an unknown
/// field is refused).
pub(super) fn profile(v: Value) -> Result<Profile, ApiError> {
    // The same fields the store reads; an unknown one is named in the 400.
    let p: Profile = input::object_of(&v, users::PROFILE_FIELDS)?;
    if serde_json::to_vec(&p).map_or(usize::MAX, |b| b.len()) > 8 * 1024 {
        return Err(ApiError::invalid_input(
            "`profile` must be at most 8 KiB of JSON.",
        ));
    }
    Ok(p)
}

/// A duplicate identifier is a 422 with Logto's code; anything else is internal.
pub(super) fn conflict(e: StoreError) -> ApiError {
    let (code, what) = match &e {
        StoreError::Unique(c) if c == "users.username" => {
            ("user.username_already_in_use", "username")
        }
        StoreError::Unique(c) if c == "users.primary_email" => {
            ("user.email_already_in_use", "email address")
        }
        StoreError::Unique(c) if c == "users.primary_phone" => {
            ("user.phone_already_in_use", "phone number")
        }
        _ => return e.into(),
    };
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        code,
        format!("This {what} is already in use by another user."),
    )
}

pub async fn create<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: CreateBody = object_body(req, CREATE_FIELDS)?;
    // Everything is validated before anything is written, and the write is one statement.
    let user = User {
        id: random::id()?,
        username: b.username.as_deref().map(username).transpose()?,
        primary_email: b.primary_email.as_deref().map(email).transpose()?,
        primary_phone: b.primary_phone.as_deref().map(phone).transpose()?,
        name: b.name.as_deref().map(name).transpose()?.flatten(),
        avatar: b
            .avatar
            .as_deref()
            .map(|a| input::uri("avatar", a, true))
            .transpose()?,
        password_hash: b
            .password
            .as_deref()
            .map(|p| new_password(p, ctx.config.password_hash))
            .transpose()?,
        custom_data: custom_data(b.custom_data.unwrap_or_else(|| crate::jv!({})))?,
        profile: profile(b.profile.unwrap_or_else(|| crate::jv!({})))?,
        identities: Map::new(),
        last_sign_in_at: None,
        is_suspended: false,
        sessions_valid_after: 0,
        created_at: ctx.now_ms,
        updated_at: ctx.now_ms,
    };
    users::insert(ctx.db, &user).await.map_err(conflict)?;
    Ok(web::json(StatusCode::OK, &view(&user)))
}

/// `search` is a substring, or a SQL LIKE pattern when it holds `%` (Logto's console sends
/// `%term%`).
fn search_pattern(req: &Request) -> Result<Option<String>, ApiError> {
    let Some((_, raw)) = query_pairs(req).into_iter().find(|(k, _)| k == "search") else {
        return Ok(None);
    };
    let raw = input::text("search", &raw, 0, 256)?;
    if raw.is_empty() {
        return Ok(None);
    }
    if raw.contains('%') {
        return Ok(Some(raw));
    }
    let escaped = raw.replace('\\', "\\\\").replace('_', "\\_");
    Ok(Some(format!("%{escaped}%")))
}

pub async fn list<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Result<Response, ApiError> {
    let page = input::page(req)?;
    let pattern = search_pattern(req)?;
    let (list, total) = users::list(ctx.db, pattern.as_deref(), page.limit, page.offset).await?;
    let body: Vec<Value> = list.iter().map(view).collect();
    Ok(input::with_total(web::json(StatusCode::OK, &body), total))
}

async fn load<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<User, ApiError> {
    users::get(ctx.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("user", id))
}

async fn save<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, mut user: User) -> Result<Response, ApiError> {
    user.updated_at = ctx.now_ms;
    if !users::update(ctx.db, &user).await.map_err(conflict)? {
        return Err(ApiError::not_found("user", &user.id));
    }
    Ok(web::json(StatusCode::OK, &view(&user)))
}

pub async fn get<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<Response, ApiError> {
    Ok(web::json(StatusCode::OK, &view(&load(ctx, id).await?)))
}

pub async fn update<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: UpdateBody = object_body(req, UPDATE_FIELDS)?;
    let mut user = load(ctx, id).await?;
    if let Some(v) = b.username {
        user.username = v.as_deref().map(username).transpose()?;
    }
    if let Some(v) = b.primary_email {
        user.primary_email = v.as_deref().map(email).transpose()?;
    }
    if let Some(v) = b.primary_phone {
        user.primary_phone = v.as_deref().map(phone).transpose()?;
    }
    if let Some(v) = b.name {
        user.name = v.as_deref().map(name).transpose()?.flatten();
    }
    if let Some(v) = b.avatar {
        user.avatar = v
            .as_deref()
            .map(|a| input::uri("avatar", a, true))
            .transpose()?;
    }
    if let Some(v) = b.custom_data {
        user.custom_data = custom_data(v)?;
    }
    if let Some(v) = b.profile {
        user.profile = profile(v)?;
    }
    save(ctx, user).await
}

pub async fn set_password<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: PasswordBody = object_body(req, &["password"])?;
    check_password_length(&b.password)?;
    // Ends every session and revokes every token of the user (the core's rule).
    if !account::change_password(ctx, id, &b.password, ctx.config.password_hash, None).await? {
        return Err(ApiError::not_found("user", id));
    }
    get(ctx, id).await
}

struct SuspendBody {
    is_suspended: bool,
}
crate::from_row!(SuspendBody { is_suspended = "isSuspended" });

/// `PATCH /api/users/{id}/is-suspended`: a suspension ends every session and token.
pub async fn set_suspended<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    id: &str,
    req: &Request,
) -> Result<Response, ApiError> {
    let b: SuspendBody = object_body(req, &["isSuspended"])?;
    if !account::set_suspended(ctx, id, b.is_suspended).await? {
        return Err(ApiError::not_found("user", id));
    }
    get(ctx, id).await
}

/// `DELETE /api/users/{id}`: the core's deletion (sessions end with a back-channel logout,
/// tokens and grants are revoked).
pub async fn delete<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, id: &str) -> Result<Response, ApiError> {
    if !account::delete_user(ctx, id, None).await? {
        return Err(ApiError::not_found("user", id));
    }
    Ok(web::empty(StatusCode::NO_CONTENT))
}

struct IdentityBody {
    user_id: String,
    details: Option<Value>,
}
crate::from_row!(IdentityBody { user_id = "userId", details });

/// A target as connectors name them: letters, digits, `-` and `_`, at most 64.
fn target(t: &str) -> Result<&str, ApiError> {
    let ok = !t.is_empty()
        && t.len() <= 64
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then_some(t).ok_or_else(|| {
        ApiError::invalid_input("The target must be 1 to 64 letters, digits, `-` or `_`.")
    })
}

/// `PUT /api/users/{id}/identities/{target}` (Logto's `{userId, details?}`): sets the
/// user's identity at that provider. The user's identities.
pub async fn put_identity<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    (id, t): (&str, &str),
    req: &Request,
) -> Result<Response, ApiError> {
    let t = target(t)?;
    let b: IdentityBody = object_body(req, &["userId", "details"])?;
    if b.user_id.is_empty() || b.user_id.len() > 256 {
        return Err(ApiError::invalid_input(
            "`userId` must be 1 to 256 characters.",
        ));
    }
    let details = match b.details {
        None | Some(Value::Null) => crate::jv!({}),
        Some(d @ Value::Object(_)) => d,
        Some(_) => return Err(ApiError::invalid_input("`details` must be an object.")),
    };
    match crate::store::identities::put(ctx.db, id, (t, &b.user_id), &details, ctx.now_ms).await {
        Ok(true) => {}
        Ok(false) => return Err(ApiError::not_found("user", id)),
        Err(StoreError::Unique(_)) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "user.identity_already_in_use",
                "Another user has this identity.",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    Ok(web::json(StatusCode::OK, &load(ctx, id).await?.identities))
}

/// `DELETE /api/users/{id}/identities/{target}`: the user's identities without it.
pub async fn delete_identity<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    (id, t): (&str, &str),
) -> Result<Response, ApiError> {
    let t = target(t)?;
    if !crate::store::identities::remove(ctx.db, id, t, ctx.now_ms).await? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "user.identity_not_exist",
            format!("The user has no identity at {t}."),
        ));
    }
    Ok(web::json(StatusCode::OK, &load(ctx, id).await?.identities))
}
