//! The profile as the Account API shows it (`GET /api/my-account`: the fields the account
//! center shows and the token's scopes cover) and changes it (`PATCH /api/my-account`).
use crate::account::center::{Center, Control};
use crate::account::Caller;
use crate::json::{Json, Obj};
use crate::store::users;
use crate::web::error::ApiError;
use serde_json::Value;

/// `GET /api/my-account`: the readable fields the token's scopes cover.
pub(super) fn profile_view(u: &users::User, c: &Caller, center: &Center) -> Json {
    let shown = |f: &str, scope: &str| center.field(f) >= Control::ReadOnly && c.has_scope(scope);
    let mut o = Obj::new().str("id", &u.id);
    if c.has_scope("profile") {
        if shown("name", "profile") {
            o = o.opt("name", u.name.as_deref());
        }
        if shown("avatar", "profile") {
            o = o.opt("avatar", u.avatar.as_deref());
        }
        if shown("username", "profile") {
            o = o.opt("username", u.username.as_deref());
        }
        if shown("profile", "profile") {
            o = o.json("profile", Json::of(&u.profile));
        }
        if shown("password", "profile") {
            o = o.bool("hasPassword", u.password_hash.is_some());
        }
        o = o
            .opt_int("lastSignInAt", u.last_sign_in_at)
            .int("createdAt", u.created_at)
            .int("updatedAt", u.updated_at);
    }
    if shown("email", "email") {
        o = o.opt("primaryEmail", u.primary_email.as_deref());
    }
    if shown("phone", "phone") {
        o = o.opt("primaryPhone", u.primary_phone.as_deref());
    }
    if shown("customData", "custom_data") {
        o = o.json("customData", Json::of(&u.custom_data));
    }
    if shown("social", "identities") {
        o = o.json("identities", Json::of(&u.identities));
    }
    o.end()
}

/// `PATCH /api/my-account {name?, avatar?, username?, customData?}` applied to `u` (each
/// field's control and scope already checked).
pub(super) fn patched(
    fields: &serde_json::Map<String, Value>,
    mut u: users::User,
) -> Result<users::User, ApiError> {
    for (k, v) in fields {
        let text = match v {
            Value::String(s) => Some(s.as_str()),
            Value::Null => None,
            _ if k == "customData" => None,
            _ => {
                return Err(ApiError::invalid_input(format!(
                    "`{k}` must be a string or null."
                )))
            }
        };
        match k.as_str() {
            "name" => u.name = text.map(super::users::name).transpose()?.flatten(),
            "avatar" => {
                u.avatar = text
                    .map(|a| super::input::uri("avatar", a, true))
                    .transpose()?
            }
            "username" => u.username = text.map(super::users::username).transpose()?,
            _ => u.custom_data = super::users::custom_data(v.clone())?,
        }
    }
    let dropped = fields.get("username") == Some(&Value::Null);
    if dropped && u.primary_email.is_none() && u.primary_phone.is_none() {
        return Err(ApiError::invalid_input(
            "The account needs a username, an email address or a phone number to sign in with.",
        ));
    }
    Ok(u)
}
