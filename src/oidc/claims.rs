//! The user's claims for each granted scope (Logto's mapping), for ID tokens and userinfo.
use crate::store::users::User;
use serde_json::{Map, Value};

/// Claims of `user` for `scopes`; `sub` is always present. `roles` is read only for the
/// `roles` scope.
pub fn for_scopes(user: &User, scopes: &[String], roles: &[String]) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("sub".into(), crate::jv!(user.id));
    let has = |s: &str| scopes.iter().any(|x| x == s);
    if has("profile") {
        let p = &user.profile;
        c.insert("name".into(), crate::jv!(user.name));
        c.insert("picture".into(), crate::jv!(user.avatar));
        c.insert("username".into(), crate::jv!(user.username));
        let optional = [
            ("given_name", &p.given_name),
            ("family_name", &p.family_name),
            ("middle_name", &p.middle_name),
            ("nickname", &p.nickname),
            ("preferred_username", &p.preferred_username),
            ("profile", &p.profile),
            ("website", &p.website),
            ("gender", &p.gender),
            ("birthdate", &p.birthdate),
            ("zoneinfo", &p.zoneinfo),
            ("locale", &p.locale),
        ];
        for (name, value) in optional {
            if let Some(v) = value {
                c.insert(name.into(), crate::jv!(v));
            }
        }
        c.insert("created_at".into(), crate::jv!(user.created_at));
        c.insert("updated_at".into(), crate::jv!(user.updated_at));
    }
    if has("email") {
        c.insert("email".into(), crate::jv!(user.primary_email));
        c.insert(
            "email_verified".into(),
            crate::jv!(user.primary_email.is_some()),
        );
    }
    if has("phone") {
        c.insert("phone_number".into(), crate::jv!(user.primary_phone));
        c.insert(
            "phone_number_verified".into(),
            crate::jv!(user.primary_phone.is_some()),
        );
    }
    if has("address") {
        if let Some(a) = &user.profile.address {
            c.insert("address".into(), crate::jv!(a));
        }
    }
    if has("custom_data") {
        c.insert("custom_data".into(), crate::jv!(user.custom_data));
    }
    if has("identities") {
        c.insert("identities".into(), crate::jv!(user.identities));
        c.insert("sso_identities".into(), crate::jv!([]));
    }
    if has("roles") {
        c.insert("roles".into(), crate::jv!(roles));
    }
    c
}
