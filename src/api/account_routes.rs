//! The Account API's route table: what each route asks of the caller (Logto's rules): the
//! field's control in the account center, the token's scope, a first-party app, and a
//! verification record.
use crate::account::center::{Center, Control};
use crate::account::Caller;
use crate::identity::Channel;
use crate::store::users;
use crate::web::error::ApiError;
use crate::web::http::Method;

/// What one route asks of the caller.
pub struct Need {
    pub field: &'static str,
    pub control: Control,
    pub scope: Option<&'static str>,
    /// A verification record of the caller is required.
    pub verified: bool,
    /// Changes something: first-party apps only.
    pub changes: bool,
}

pub const fn need(field: &'static str, control: Control, scope: Option<&'static str>) -> Need {
    Need {
        field,
        control,
        scope,
        verified: false,
        changes: !matches!(control, Control::Off),
    }
}

pub const fn verified(mut n: Need) -> Need {
    n.verified = true;
    n
}

/// The field control and the scope `need` asks for.
pub fn allowed(c: &Caller, center: &Center, need: &Need) -> Result<(), ApiError> {
    let have = center.field(need.field);
    if have < need.control {
        let (code, what) = match have {
            Control::Off => ("account_center.field_not_enabled", "is not enabled"),
            _ => ("account_center.field_not_editable", "is not editable"),
        };
        return Err(ApiError::invalid_input(format!(
            "The field `{}` {what} in the account center.",
            need.field
        ))
        .recoded(code));
    }
    match need.scope.filter(|s| !c.has_scope(s)) {
        Some(s) => Err(ApiError::unauthorized(
            "auth.unauthorized",
            &format!("The access token lacks the `{s}` scope."),
        )),
        None => Ok(()),
    }
}

/// The routes, and what each asks of the caller (Logto's table).
pub enum Route<'a> {
    VerifyPassword,
    SendCode,
    VerifyCode,
    /// `verifications/social`: begun (false) or its answer checked (true).
    Social(bool),
    /// `verifications/web-authn/registration`: begun (false) or its answer checked (true).
    Passkey(bool),
    /// `POST my-account/identities`: a social identity proven by a record, linked.
    Link,
    /// `PATCH my-account/profile`: the OIDC profile claims.
    Profile,
    /// `PATCH my-account/mfa-verifications/{id}/name`: a passkey named.
    Rename(&'a str),
    Get,
    Patch,
    Delete,
    Password,
    /// A new primary email address or phone number, proven by a code record.
    Address(Channel),
    /// The primary email address or phone number removed.
    DropAddress(Channel),
    Sessions,
    EndSession(&'a str),
    Unlink(&'a str),
    Factors,
    /// `totp-secret/generate` (true) or `backup-codes/generate` (false): new material to bind.
    Generate(bool),
    AddFactor,
    DropFactor(&'a str),
    Grants,
    Revoke(&'a str),
    /// `logto-configs`: read (`GET`) or changed (`PATCH`).
    Configs(bool),
    /// `mfa-settings`: read (`GET`) or changed (`PATCH`).
    MfaSettings(bool),
    /// The backup codes, listed (`GET …/backup-codes`).
    BackupCodes,
}

const SESSIONS: Option<&str> = Some("urn:logto:scope:sessions");
/// Verification routes ask for nothing but a first-party app.
const FIRST_PARTY: Need = need("name", Control::Off, None).changing();

impl Need {
    const fn changing(mut self) -> Need {
        self.changes = true;
        self
    }
}

/// `POST` (a new address) or `DELETE` on a primary address: the field and scope are named
/// after the channel (`email`, `phone`).
fn address<'a>(ch: Channel, m: Method, name: &'static str) -> Option<(Route<'a>, Need)> {
    let n = verified(need(name, Control::Edit, Some(name)));
    match m {
        Method::POST => Some((Route::Address(ch), n)),
        Method::DELETE => Some((Route::DropAddress(ch), n)),
        _ => None,
    }
}

pub fn route<'a>(
    segments: &[&'a str],
    method: Method,
    u: &users::User,
) -> Option<(Route<'a>, Need)> {
    use Control::{Edit, ReadOnly};
    Some(match (segments, method) {
        (["verifications", "password"], Method::POST) => (Route::VerifyPassword, FIRST_PARTY),
        (["verifications", "verification-code"], Method::POST) => (Route::SendCode, FIRST_PARTY),
        (["verifications", "verification-code", "verify"], Method::POST) => {
            (Route::VerifyCode, FIRST_PARTY)
        }
        (["verifications", "social"], Method::POST) => (Route::Social(false), FIRST_PARTY),
        (["verifications", "web-authn", "registration"], Method::POST) => {
            (Route::Passkey(false), FIRST_PARTY)
        }
        (["verifications", "web-authn", "registration", "verify"], Method::POST) => {
            (Route::Passkey(true), FIRST_PARTY)
        }
        (["verifications", "social", "verify"], Method::POST) => (Route::Social(true), FIRST_PARTY),
        (["my-account", "profile"], Method::PATCH) => {
            (Route::Profile, need("profile", Edit, Some("profile")))
        }
        (["my-account", "mfa-verifications", id, "name"], Method::PATCH) => (
            Route::Rename(id),
            verified(need("mfa", Edit, Some("identities"))),
        ),
        // POST links; PUT (Logto's replace) is the same here: a link replaces the identity
        // the user had at that provider.
        (["my-account", "identities"], Method::POST | Method::PUT) => (
            Route::Link,
            verified(need("social", Edit, Some("identities"))),
        ),
        (["my-account"], Method::GET) => (Route::Get, need("name", Control::Off, None)),
        // Each field is checked on its own; a username needs a record.
        (["my-account"], Method::PATCH) => (Route::Patch, FIRST_PARTY),
        (["my-account"], Method::DELETE) => {
            (Route::Delete, verified(need("deleteAccount", Edit, None)))
        }
        (["my-account", "password"], Method::POST) => {
            let mut n = need("password", Edit, None);
            // Logto's rule: a user with no way to prove itself may set a first password.
            n.verified =
                u.password_hash.is_some() || u.primary_email.is_some() || u.primary_phone.is_some();
            (Route::Password, n)
        }
        (["my-account", "primary-email"], m) => address(Channel::Email, m, "email")?,
        (["my-account", "primary-phone"], m) => address(Channel::Phone, m, "phone")?,
        (["my-account", "identities", target], Method::DELETE) => (
            Route::Unlink(target),
            verified(need("social", Edit, Some("identities"))),
        ),
        (["my-account", "mfa-verifications"], Method::GET) => {
            (Route::Factors, need("mfa", ReadOnly, Some("identities")))
        }
        (["my-account", "mfa-verifications", "totp-secret", "generate"], Method::POST) => {
            (Route::Generate(true), need("mfa", Edit, Some("identities")))
        }
        (["my-account", "mfa-verifications", "backup-codes", "generate"], Method::POST) => (
            Route::Generate(false),
            need("mfa", Edit, Some("identities")),
        ),
        (["my-account", "mfa-verifications", "backup-codes"], Method::GET) => (
            Route::BackupCodes,
            verified(need("mfa", ReadOnly, Some("identities"))),
        ),
        (["my-account", "mfa-settings"], Method::GET) => (
            Route::MfaSettings(false),
            need("mfa", ReadOnly, Some("identities")),
        ),
        (["my-account", "mfa-settings"], Method::PATCH) => (
            Route::MfaSettings(true),
            verified(need("mfa", Edit, Some("identities"))),
        ),
        (["my-account", "mfa-verifications"], Method::POST) => (
            Route::AddFactor,
            verified(need("mfa", Edit, Some("identities"))),
        ),
        (["my-account", "mfa-verifications", id], Method::DELETE) => (
            Route::DropFactor(id),
            verified(need("mfa", Edit, Some("identities"))),
        ),
        (["my-account", "logto-configs"], Method::GET) => (
            Route::Configs(false),
            need("mfa", ReadOnly, Some("identities")),
        ),
        (["my-account", "logto-configs"], Method::PATCH) => (
            Route::Configs(true),
            verified(need("mfa", Edit, Some("identities"))),
        ),
        (["my-account", "grants"], Method::GET) => {
            (Route::Grants, verified(need("session", ReadOnly, SESSIONS)))
        }
        (["my-account", "grants", id], Method::DELETE) => {
            (Route::Revoke(id), verified(need("session", Edit, SESSIONS)))
        }
        (["my-account", "sessions"], Method::GET) => (
            Route::Sessions,
            verified(need("session", ReadOnly, SESSIONS)),
        ),
        (["my-account", "sessions", sid], Method::DELETE) => (
            Route::EndSession(sid),
            verified(need("session", Edit, SESSIONS)),
        ),
        _ => return None,
    })
}
