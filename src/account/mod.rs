//! Changes to an account that end what its old state opened, the same for every face (the
//! forgot-password flow, the Management API, and later the Account API).
//!
//! Invariant: a new password or a suspension is written in one transaction with the end of
//! every other browser session of the user and the revocation of all the user's refresh
//! and opaque access tokens, and moves the user's `sessions_valid_after`, so that neither a
//! lagging KV read nor a JWT access token issued before it counts afterwards (session
//! loads, code exchange, `/oidc/me` and introspection compare against it).
pub mod center;
pub mod verification;

use crate::crypto::password::{self, Params};
use crate::ctx::Ctx;
use crate::error::InternalError;
use crate::oidc::logout;
use crate::store::users;
use crate::store::{self, Db, Kv};

/// Sets a new password (hashed here with `params`) and ends every session of the user but
/// `keep` (the caller's own, for the Account API). False when the user does not exist.
pub async fn change_password<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    new_password: &str,
    params: Params,
    keep: Option<&str>,
) -> Result<bool, InternalError> {
    let hash = password::hash_with(new_password, params)?;
    logout::end_all_of_user(
        ctx,
        user_id,
        keep,
        (
            vec![users::set_password(user_id, &hash, ctx.now_ms)],
            vec![],
        ),
    )
    .await
}

/// Suspends the user, ending all of its sessions and tokens, or reinstates it. False when
/// the user does not exist.
pub async fn set_suspended<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    suspended: bool,
) -> Result<bool, InternalError> {
    let change = users::set_suspended(user_id, suspended, ctx.now_ms);
    if suspended {
        logout::end_all_of_user(ctx, user_id, None, (vec![change], vec![])).await
    } else {
        Ok(store::transaction(ctx.db, &[change])
            .await?
            .first()
            .copied()
            .unwrap_or(0)
            > 0)
    }
}

/// Who calls the Account API: the user of an opaque access token issued with `openid` to
/// the app `client_id` in browser session `sid`.
pub struct Caller {
    pub user: users::User,
    pub client_id: String,
    pub sid: String,
    scopes: Vec<String>,
}

impl Caller {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Why a token does not name a caller.
pub enum NotCaller {
    /// Unknown, expired or revoked (a JWT access token is not looked up here: it is for an
    /// API resource), or its user is gone, suspended or changed the password since.
    Invalid,
    /// Issued without `openid`.
    NoOpenid,
}

/// The caller an opaque access token names, with its user, in one round trip.
pub async fn caller<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    token: &str,
) -> Result<Result<Caller, NotCaller>, InternalError> {
    let hash = crate::crypto::secret::hash(token);
    let found = store::oidc::access_with_user(ctx.db, &hash).await?;
    let Some(t) = found.filter(|t| t.found.token_expires_at > ctx.now()) else {
        return Ok(Err(NotCaller::Invalid));
    };
    let scopes: Vec<String> = crate::oidc::access_token::scope_list(&t.found.token_scopes)
        .map(str::to_owned)
        .collect();
    let f = t.found.family;
    let Some(user) = t
        .user
        .filter(|u| !u.is_suspended && u.issued_in_force(f.auth_time))
    else {
        return Ok(Err(NotCaller::Invalid));
    };
    if !scopes.iter().any(|s| s == "openid") {
        return Ok(Err(NotCaller::NoOpenid));
    }
    Ok(Ok(Caller {
        user,
        client_id: f.client_id,
        sid: f.session_id,
        scopes,
    }))
}

/// Deletes the user: every session ends (its apps get a back-channel logout), every token
/// and grant is revoked, and the user's row goes with its identities, factors, roles and
/// verification records (their rows cascade), in one transaction with an audit entry.
/// False when the user does not exist.
pub async fn delete_user<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    application_id: Option<&str>,
) -> Result<bool, InternalError> {
    let logged = crate::experience::audit::Entry {
        key: "User.Deleted",
        ok: true,
        user_id: Some(user_id),
        application_id,
        ip: None,
        payload: serde_json::Value::Null,
    };
    // The first statement counts the user (nothing is written for one that is gone); the
    // deletion comes after the sessions are recorded as ended.
    let change = vec![users::set_suspended(user_id, true, ctx.now_ms)];
    let then = vec![
        users::delete_statement(user_id),
        crate::experience::audit::statement(logged, ctx.now_ms)?,
    ];
    logout::end_all_of_user(ctx, user_id, None, (change, then)).await
}

/// Checks a new password of `user` against the sign-in experience's password policy.
pub async fn check_new_password<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user: &users::User,
    new_password: &str,
) -> Result<(), crate::experience::Failure> {
    use crate::experience::password_policy::{check, UserInfo};
    if !crate::experience::password_in_bounds(new_password) {
        return Err(crate::experience::Failure::TooLong);
    }
    let settings = crate::experience::load_settings(ctx).await?;
    let info = UserInfo {
        username: user.username.as_deref(),
        email: user.primary_email.as_deref(),
        phone: user.primary_phone.as_deref(),
        name: user.name.as_deref(),
    };
    let broken = check(&settings.password_policy, new_password, &info);
    match broken.is_empty() {
        true => Ok(()),
        false => Err(crate::experience::Failure::WeakPassword(broken)),
    }
}

/// The user's sessions that have not expired, oldest first.
pub async fn live_sessions<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
) -> Result<Vec<store::sessions::LiveSession>, InternalError> {
    Ok(store::sessions::live_of_user(ctx.db, user_id, ctx.now()).await?)
}

/// Writes the user's profile fields (not the password, identities or sessions).
pub async fn save_profile<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user: &users::User,
) -> Result<(), store::StoreError> {
    users::update(ctx.db, user).await.map(|_| ())
}

/// Makes `value` the user's primary address on `channel`, or removes it (`None`); the user
/// as saved. A `StoreError::Unique` when another user has that address.
pub async fn set_address<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user: &users::User,
    channel: crate::identity::Channel,
    value: Option<String>,
) -> Result<users::User, store::StoreError> {
    let mut u = user.clone();
    match channel {
        crate::identity::Channel::Email => u.primary_email = value,
        crate::identity::Channel::Phone => u.primary_phone = value,
    }
    u.updated_at = ctx.now_ms;
    save_profile(ctx, &u).await?;
    Ok(u)
}

/// [`set_address`] for the pages: another user's address is `Failure::EmailTaken`.
pub async fn take_address<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user: &users::User,
    channel: crate::identity::Channel,
    value: String,
) -> Result<users::User, crate::experience::Failure> {
    match set_address(ctx, user, channel, Some(value)).await {
        Err(store::StoreError::Unique(_)) => Err(crate::experience::Failure::EmailTaken),
        r => Ok(r.map_err(InternalError::from)?),
    }
}

/// What unlinking a social or enterprise identity came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlinked {
    Done,
    NotLinked,
    /// Refused: it is the account's last way to sign in.
    LastWay,
}

/// Removes the user's identity at `target`, never the last way to sign in.
pub async fn unlink<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    u: &users::User,
    target: &str,
) -> Result<Unlinked, InternalError> {
    if !u.identities.contains_key(target) {
        return Ok(Unlinked::NotLinked);
    }
    let others = u.identities.keys().any(|t| t != target);
    let identifier = u.username.is_some() || u.primary_email.is_some() || u.primary_phone.is_some();
    if !others && !identifier {
        return Ok(Unlinked::LastWay);
    }
    store::identities::remove(ctx.db, &u.id, target, ctx.now_ms).await?;
    Ok(Unlinked::Done)
}

/// Links the social identity that the user's verified social record `record` proved (Logto's
/// `POST /api/my-account/identities`), replacing the one the user had at that provider.
/// `Ok(false)` when there is no such record; `Failure::IdentityInUse` when another user has
/// the identity.
pub async fn link_social<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    u: &users::User,
    record: &str,
) -> Result<bool, crate::experience::Failure> {
    let Some((target, identity)) = verification::social_identity(ctx, &u.id, record).await? else {
        return Ok(false);
    };
    let details = crate::jv!({"email": identity.email, "name": identity.name});
    let ids = (target.as_str(), identity.id.as_str());
    match store::identities::put(ctx.db, &u.id, ids, &details, ctx.now_ms).await {
        Ok(linked) => Ok(linked),
        Err(store::StoreError::Unique(_)) => Err(crate::experience::Failure::IdentityInUse),
        Err(e) => Err(InternalError::from(e).into()),
    }
}

/// The user as stored now.
pub async fn reload<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
) -> Result<Option<users::User>, InternalError> {
    Ok(users::get(ctx.db, user_id).await?)
}

/// The user's MFA factors, passkeys included, oldest first.
pub async fn factors<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
) -> Result<Vec<store::mfa::FactorRow>, InternalError> {
    Ok(store::mfa::factors_of(ctx.db, user_id).await?)
}

/// New backup codes for the user, to show once: refused while unused ones are left, and
/// without another factor (backup codes are never the only one).
pub async fn new_backup_codes<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
) -> Result<Result<Vec<String>, crate::mfa::manage::Refused>, InternalError> {
    use crate::mfa::manage::{add_backup_codes, Outcome};
    Ok(match add_backup_codes(ctx, user_id, None).await? {
        Outcome::Done(codes) => Ok(codes),
        Outcome::Refused(r) => Err(r),
    })
}

/// Names the user's passkey `id`; false if the user has no such passkey.
pub async fn rename_passkey<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    id: &str,
    name: &str,
) -> Result<bool, InternalError> {
    Ok(store::passkeys::rename(ctx.db, user_id, id, name).await?)
}

/// Removes the user's factor `id`; false if the user has no such factor.
pub async fn remove_factor<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    id: &str,
) -> Result<bool, InternalError> {
    Ok(store::mfa::delete(ctx.db, user_id, id).await?)
}

/// Binds a factor the user set up (Logto's `{type: Totp, secret, code}` or `{type:
/// BackupCode, codes}`): only a factor the sign-in experience enables, and an authenticator
/// app only with a current code from it, so that a mistyped secret cannot lock the user out.
pub async fn add_factor<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    (user, sid): (&users::User, &str),
    body: &serde_json::Value,
) -> Result<Result<(), crate::mfa::manage::Refused>, crate::experience::Failure> {
    use crate::experience::Failure;
    use crate::mfa::manage::{self, Outcome};
    use crate::mfa::{totp, Factor};
    let text = |k: &str| body.get(k).and_then(serde_json::Value::as_str);
    let factor = match text("type") {
        Some("Totp") => Factor::Totp,
        Some("BackupCode") => Factor::BackupCode,
        Some("WebAuthn") => Factor::WebAuthn,
        _ => {
            return Err(Failure::Invalid(
                "`type` must be Totp, BackupCode or WebAuthn.".into(),
            ))
        }
    };
    let settings = crate::experience::load_settings(ctx).await?;
    let allowed = match factor {
        Factor::WebAuthn => settings.passkeys_bindable(),
        f => settings.mfa.enabled(f),
    };
    if !allowed {
        return Err(Failure::Invalid(
            "That factor is not enabled in the sign-in experience (session.mfa.mfa_factor_not_enabled).".into(),
        ));
    }
    if factor == Factor::WebAuthn {
        let record = text("newIdentifierVerificationRecordId").unwrap_or_default();
        use crate::experience::passkeys;
        let Some(p) = verification::passkey_of(ctx, &user.id, record).await? else {
            return Err(Failure::Invalid(
                "No verified passkey record of this user (verification_record.not_found).".into(),
            ));
        };
        let name: Option<String> = text("name")
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| n.chars().take(128).collect());
        let bind = passkeys::bind_statement(ctx, (&user.id, sid), &p, name.as_deref())?;
        // Written only while the caller's session lasts; the credential id is unique.
        let bound = store::transaction(ctx.db, &[bind]).await;
        return match bound {
            Ok(n) if n.first() == Some(&1) => Ok(Ok(())),
            Ok(_) => Err(Failure::Invalid("The session has ended.".into())),
            Err(store::StoreError::Unique(_)) => Err(Failure::WebAuthnFailed(
                "this passkey is registered already".into(),
            )),
            Err(e) => Err(InternalError::from(e).into()),
        };
    }
    let outcome = if factor == Factor::Totp {
        let secret = text("secret").unwrap_or_default();
        let raw = totp::decode(secret).ok_or(Failure::InvalidTotp)?;
        let code = text("code").unwrap_or_default();
        if totp::accept(&raw, code, ctx.now(), None).is_none() {
            return Err(Failure::InvalidTotp);
        }
        match manage::add_totp(ctx, &user.id, &user.label(), Some(secret)).await? {
            Outcome::Done(_) => Outcome::Done(()),
            Outcome::Refused(r) => Outcome::Refused(r),
        }
    } else {
        let codes = body
            .get("codes")
            .and_then(serde_json::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect()
            });
        match manage::add_backup_codes(ctx, &user.id, codes).await? {
            Outcome::Done(_) => Outcome::Done(()),
            Outcome::Refused(r) => Outcome::Refused(r),
        }
    };
    Ok(match outcome {
        Outcome::Done(()) => Ok(()),
        Outcome::Refused(r) => Err(r),
    })
}
