//! The account center settings (Logto's `AccountCenter`): whether the Account API is on, and
//! for each field of the account whether it is shown (`ReadOnly`), editable (`Edit`) or
//! neither (`Off`).
//!
//! Invariant: the Account API is off until an operator turns it on (Logto's default), and a
//! field not named is `Off`; `passkey` falls back to `mfa` when unset, as in Logto.
use crate::json::{Json, Obj};
use serde_json::{Map, Value};

/// The fields an account center controls (Logto's `AccountCenterFieldControl` keys, and
/// Gatehouse's `deleteAccount`: `Edit` lets a user delete the account, which Logto only links
/// out for).
pub const FIELDS: &[&str] = &[
    "name",
    "avatar",
    "profile",
    "email",
    "phone",
    "password",
    "username",
    "social",
    "customData",
    "mfa",
    "passkey",
    "session",
    "deleteAccount",
];

/// The stored account center settings (the primary's: a change takes effect at once).
pub async fn load<D: crate::store::Db, K: crate::store::Kv>(
    ctx: &crate::ctx::Ctx<'_, D, K>,
) -> Result<Center, crate::error::InternalError> {
    Ok(Center::read(
        crate::store::account::center(ctx.db).await?.as_deref(),
    ))
}

/// Stores the settings; what they now read as (Logto's shape).
pub async fn save<D: crate::store::Db, K: crate::store::Kv>(
    ctx: &crate::ctx::Ctx<'_, D, K>,
    c: &Center,
) -> Result<Json, crate::error::InternalError> {
    let view = c.view();
    crate::store::account::put_center(ctx.db, view.as_str(), ctx.now_ms).await?;
    Ok(view)
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Control {
    Off,
    ReadOnly,
    Edit,
}

impl Control {
    fn parse(s: &str) -> Option<Control> {
        match s {
            "Off" => Some(Control::Off),
            "ReadOnly" => Some(Control::ReadOnly),
            "Edit" => Some(Control::Edit),
            _ => None,
        }
    }
}

#[derive(Clone, Default)]
pub struct Center {
    pub enabled: bool,
    /// The fields set, in `FIELDS` order.
    fields: Map<String, Value>,
    pub webauthn_related_origins: Vec<String>,
    pub delete_account_url: Option<String>,
}

impl Center {
    /// The stored settings (anything unreadable reads as the default: off).
    pub fn read(stored: Option<&str>) -> Center {
        let mut c = Center::default();
        if let Some(mut v) = stored.and_then(|s| crate::json::parse(s).ok()) {
            // Stored as `view` wrote it, after `patch` checked it.
            if let Some(m) = v.as_object_mut() {
                m.remove("id");
            }
            let _ = c.patch(&v);
        }
        c
    }

    pub fn field(&self, name: &str) -> Control {
        let get = |k: &str| {
            self.fields
                .get(k)
                .and_then(Value::as_str)
                .and_then(Control::parse)
        };
        match (name, get(name)) {
            (_, Some(c)) => c,
            ("passkey", None) => get("mfa").unwrap_or(Control::Off),
            _ => Control::Off,
        }
    }

    /// Applies `PATCH /api/account-center`'s body; the field at fault when it is not valid
    /// (and nothing changed).
    pub fn patch(&mut self, body: &Value) -> Result<(), String> {
        let b = body.as_object().ok_or("the body must be an object")?;
        let mut next = self.clone();
        for (k, v) in b {
            match (k.as_str(), v) {
                ("enabled", Value::Bool(e)) => next.enabled = *e,
                ("fields", Value::Object(f)) => {
                    for (name, control) in f {
                        let ok = FIELDS.contains(&name.as_str())
                            && control.as_str().and_then(Control::parse).is_some();
                        if !ok {
                            return Err(format!("fields.{name}"));
                        }
                        next.fields.insert(name.clone(), control.clone());
                    }
                }
                ("webauthnRelatedOrigins", Value::Array(list)) => {
                    let origins: Option<Vec<String>> = list
                        .iter()
                        .map(|o| {
                            o.as_str()
                                .filter(|o| crate::uri::Uri::parse(o).is_some_and(|u| u.is_web()))
                                .map(str::to_owned)
                        })
                        .collect();
                    next.webauthn_related_origins = origins.ok_or("webauthnRelatedOrigins")?;
                }
                ("deleteAccountUrl", Value::Null) => next.delete_account_url = None,
                ("deleteAccountUrl", Value::String(u))
                    if crate::uri::Uri::parse(u).is_some_and(|p| p.is_web()) =>
                {
                    next.delete_account_url = Some(u.clone())
                }
                _ => return Err(k.clone()),
            }
        }
        *self = next;
        Ok(())
    }

    /// Logto's `AccountCenter` shape (also what is stored).
    pub fn view(&self) -> Json {
        let fields = FIELDS.iter().fold(Obj::new(), |o, f| {
            match self.fields.get(*f).and_then(Value::as_str) {
                Some(c) => o.str(f, c),
                None => o,
            }
        });
        Obj::new()
            .str("id", "default")
            .bool("enabled", self.enabled)
            .json("fields", fields.end())
            .json(
                "webauthnRelatedOrigins",
                Json::strs(&self.webauthn_related_origins),
            )
            .opt("deleteAccountUrl", self.delete_account_url.as_deref())
            .end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_account_center_is_off_until_turned_on_and_an_unnamed_field_is_off() {
        let c = Center::read(None);
        assert!(!c.enabled);
        assert!(c.field("password") == Control::Off);
        let mut c = Center::read(Some("not json"));
        assert!(!c.enabled);
        c.patch(&json!({"enabled": true, "fields": {"password": "Edit", "mfa": "ReadOnly"}}))
            .unwrap();
        let c = Center::read(Some(c.view().as_str()));
        assert!(c.enabled);
        assert!(c.field("password") == Control::Edit);
        assert!(
            c.field("passkey") == Control::ReadOnly,
            "passkey falls back to mfa"
        );
        assert!(c.field("email") == Control::Off);
    }

    #[test]
    fn a_bad_patch_names_the_field_and_changes_nothing() {
        let mut c = Center::default();
        let bad = [
            json!({"enabled": true, "fields": {"password": "Sometimes"}}),
            json!({"fields": {"shoeSize": "Edit"}}),
            json!({"deleteAccountUrl": "javascript:alert(1)"}),
            json!({"webauthnRelatedOrigins": ["not a url"]}),
            json!({"customCss": "x"}),
            json!([]),
        ];
        for b in bad {
            assert!(c.patch(&b).is_err(), "{b}");
        }
        assert!(!c.enabled);
        assert!(c.field("password") == Control::Off);
    }
}
