//! The Experience API's operations over an interaction: the JSON API and the hosted pages
//! both call these, so a custom UI and the built-in one drive the same state machine.
use super::messages::{self, Usage};
use super::password_policy::{self, Rejection, UserInfo};
use super::settings::{Identifier, Settings};
use super::state::{Event, Proof, State, StepError, Verification};
use super::{audit, load_settings, sign_in_with_password, Origin, SignInError};
use crate::api::users::{email as normalize_email, username as check_username};
use crate::app::Ctx;
use crate::crypto::{password, random};
use crate::error::InternalError;
use crate::oidc::authorize::AuthRequest;
use crate::oidc::flow::current_interaction;
use crate::pages::i18n::Lang;
use crate::session;
use crate::store::oidc as repo;
use crate::store::throttle::{self, Policy};
use crate::store::users::{self, User};
use crate::store::{query_one, Db, Kv, StoreError};
use crate::web::{Request, Response};
use serde_json::json;

/// The interaction of this browser and its experience state.
pub struct Current {
    pub interaction_id: String,
    pub client_id: String,
    pub app_name: String,
    pub request: AuthRequest,
    pub state: State,
    pub settings: Settings,
}

/// Why an experience step failed. The JSON API turns it into `{code, message}` (`wire.rs`);
/// the hosted pages into words in the user's language.
#[derive(Debug)]
pub enum Failure {
    Step(StepError),
    NoInteraction,
    InvalidCredentials,
    Locked { until: i64 },
    MethodNotEnabled,
    UsernameTaken,
    InvalidUsername(String),
    WeakPassword(Vec<Rejection>),
    NeedsVerification,
    TermsNotAgreed,
    RegistrationClosed,
    SignInClosed,
    Invalid(String),
    ResendTooSoon { seconds: i64 },
    WrongCode,
    CodeExpiredOrLocked,
    NoConnector,
    UserNotFound,
    EmailTaken,
    Internal(InternalError),
}

impl<E: Into<InternalError>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Internal(e.into())
    }
}

pub async fn load<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Result<Current, Failure> {
    let (row, request, app) = match current_interaction(ctx, req).await {
        Ok(found) => found,
        Err(crate::error::PageError::Internal(e)) => return Err(Failure::Internal(e)),
        Err(_) => return Err(Failure::NoInteraction),
    };
    #[derive(serde::Deserialize)]
    struct Raw {
        experience: Option<String>,
    }
    let raw: Option<Raw> = query_one(
        ctx.db,
        "SELECT experience FROM oidc_interactions WHERE id = ?1",
        &[row.id.as_str().into()],
    )
    .await?;
    let state = match raw.and_then(|r| r.experience) {
        Some(s) => repo::from_json(&s)?,
        None => State::default(),
    };
    Ok(Current {
        interaction_id: row.id,
        client_id: app.id,
        app_name: app.name,
        request,
        state,
        settings: load_settings(ctx.db).await?,
    })
}

pub async fn save<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, c: &Current) -> Result<(), Failure> {
    let raw = serde_json::to_string(&c.state).map_err(|e| StoreError::Decode(e.to_string()))?;
    ctx.db
        .execute(
            "UPDATE oidc_interactions SET experience = ?2 WHERE id = ?1",
            &[c.interaction_id.as_str().into(), raw.into()],
        )
        .await?;
    Ok(())
}

/// `PUT /experience`: registration and sign-in are refused by every route when disabled.
pub fn start(c: &mut Current, event: Event) -> Result<(), Failure> {
    match event {
        Event::Register if !c.settings.registration_allowed() => {
            return Err(Failure::RegistrationClosed)
        }
        Event::SignIn | Event::ForgotPassword if !c.settings.sign_in_allowed() => {
            return Err(Failure::SignInClosed)
        }
        _ => {}
    }
    c.state.start(event);
    Ok(())
}

/// Password sign-in with `identifier`: enabled by the settings, and allowed by the
/// authorization request's `identifier` parameter.
fn method_enabled(c: &Current, identifier: Identifier) -> bool {
    let name = identifier.as_str();
    let allowed_here =
        c.request.identifiers.is_empty() || c.request.identifiers.iter().any(|i| i == name);
    allowed_here
        && c.settings
            .sign_in
            .methods
            .iter()
            .any(|m| m.identifier == identifier && m.password)
}

/// `POST /experience/verification/password`.
pub async fn verify_password<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    identifier: Identifier,
    value: &str,
    secret: &str,
    ip: Option<&str>,
) -> Result<String, Failure> {
    if c.state.event().map_err(Failure::Step)? != Event::SignIn {
        return Err(Failure::Step(StepError::WrongEvent));
    }
    if !method_enabled(c, identifier) {
        return Err(Failure::MethodNotEnabled);
    }
    let from = Origin {
        ip,
        application_id: Some(&c.client_id),
    };
    match sign_in_with_password(ctx.db, identifier, value, secret, &from, ctx.now_ms).await? {
        Ok(user) => {
            let id = random::id()?;
            c.state.add(Verification::Password {
                id: id.clone(),
                user_id: user.id,
            });
            Ok(id)
        }
        Err(SignInError::InvalidCredentials) => Err(Failure::InvalidCredentials),
        Err(SignInError::Locked { until }) => Err(Failure::Locked { until }),
    }
}

/// The profile fields a new account needs under the settings.
pub fn required_profile(settings: &Settings) -> Vec<&'static str> {
    let mut out = Vec::new();
    let ids = &settings.sign_up.identifiers;
    if ids.contains(&Identifier::Username) {
        out.push("username");
    } else if ids.contains(&Identifier::Email) && !ids.contains(&Identifier::Phone) {
        out.push("email");
    } else if ids.contains(&Identifier::Phone) && !ids.contains(&Identifier::Email) {
        out.push("phone");
    } else if ids.contains(&Identifier::Phone) && ids.contains(&Identifier::Email) {
        out.push("email_or_phone");
    }
    if settings.sign_up.password {
        out.push("password");
    }
    out
}

/// `POST /experience/profile {type: username|password, value}` (registration).
pub async fn set_profile<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    field: &str,
    value: &str,
) -> Result<(), Failure> {
    let event = c.state.event().map_err(Failure::Step)?;
    // Signing in, only a username the settings now require may be added (to the identified user).
    let completing = event == Event::SignIn && field == "username" && c.state.user_id.is_some();
    if event != Event::Register && !completing {
        return Err(Failure::Step(StepError::WrongEvent));
    }
    match field {
        "username" => {
            let name = check_username(value).map_err(|_| {
                Failure::InvalidUsername(
                    "Use 1 to 128 letters, digits and _, not starting with a digit.".into(),
                )
            })?;
            let policy = &c.settings.username_policy;
            let len = u32::try_from(name.chars().count()).unwrap_or(u32::MAX);
            if len < policy.min_length || len > policy.max_length {
                return Err(Failure::InvalidUsername(format!(
                    "The username must be {} to {} characters long.",
                    policy.min_length, policy.max_length
                )));
            }
            if find_user(ctx.db, "username", &name).await?.is_some() {
                return Err(Failure::UsernameTaken);
            }
            c.state.profile.username = Some(name);
        }
        "password" => {
            let info = UserInfo {
                username: c.state.profile.username.as_deref(),
                email: c.state.profile.primary_email.as_deref(),
                phone: c.state.profile.primary_phone.as_deref(),
                name: None,
            };
            let broken = password_policy::check(&c.settings.password_policy, value, &info);
            if !broken.is_empty() {
                return Err(Failure::WeakPassword(broken));
            }
            c.state.profile.password_hash = Some(password::hash(value)?);
        }
        "email" => {
            // An email joins a new account only once a code has verified it.
            normalize_email(value)
                .map_err(|_| Failure::Invalid("The email address is not valid.".into()))?;
            return Err(Failure::NeedsVerification);
        }
        other => {
            return Err(Failure::Invalid(format!(
                "Unsupported profile type `{other}`."
            )))
        }
    }
    Ok(())
}

async fn find_user(db: &impl Db, column: &str, value: &str) -> Result<Option<String>, Failure> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
    }
    let sql = match column {
        "username" => "SELECT id FROM users WHERE username = ?1",
        _ => "SELECT id FROM users WHERE primary_email = ?1",
    };
    Ok(query_one::<Id>(db, sql, &[value.into()])
        .await?
        .map(|r| r.id))
}

/// `POST /experience/identification`: identifies the signing-in user, or creates the new
/// one in a single write once its profile is complete. True when a user was created.
pub async fn identify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    verification_id: Option<&str>,
) -> Result<bool, Failure> {
    match c.state.event().map_err(Failure::Step)? {
        Event::SignIn => {
            let id = verification_id.ok_or_else(|| {
                Failure::Invalid("`verificationId` is required to sign in.".into())
            })?;
            if identify_by_code(ctx, c, id).await?.is_none() {
                c.state.identify_by(id).map_err(Failure::Step)?;
            }
            Ok(false)
        }
        Event::Register => {
            if let Some(id) = verification_id {
                identify_by_code(ctx, c, id)
                    .await?
                    .ok_or(Failure::Step(StepError::WrongEvent))?;
            }
            c.state
                .ready_to_register(&required_profile(&c.settings))
                .map_err(Failure::Step)?;
            let p = &c.state.profile;
            let user = User {
                id: random::id()?,
                username: p.username.clone(),
                primary_email: p.primary_email.clone(),
                primary_phone: p.primary_phone.clone(),
                name: None,
                avatar: None,
                password_hash: p.password_hash.clone(),
                custom_data: Default::default(),
                profile: Default::default(),
                identities: Default::default(),
                last_sign_in_at: Some(ctx.now_ms),
                is_suspended: false,
                created_at: ctx.now_ms,
                updated_at: ctx.now_ms,
            };
            users::insert(ctx.db, &user).await.map_err(|e| match e {
                StoreError::Unique(_) => Failure::UsernameTaken,
                e => e.into(),
            })?;
            c.state.user_id = Some(user.id);
            Ok(true)
        }
        Event::ForgotPassword => {
            let id = verification_id.ok_or(Failure::NeedsVerification)?;
            identify_by_code(ctx, c, id)
                .await?
                .ok_or(Failure::NeedsVerification)?;
            Ok(false)
        }
    }
}

/// `POST /experience/submit`: starts the browser session and hands back to `/oidc/auth`.
/// `agreed_terms` is what the hosted page's checkbox said (a custom UI is responsible for
/// its own terms, as with Logto).
pub async fn submit<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    c: &Current,
    agreed_terms: bool,
    ip: Option<&str>,
) -> Result<(String, Option<String>), Failure> {
    let user_id = c.state.ready_to_submit().map_err(Failure::Step)?.to_owned();
    if c.state.event == Some(Event::ForgotPassword) {
        // The password is new; the user signs in with it next, on the same interaction.
        return Ok((format!("{}/sign-in?reset=1", ctx.origin), None));
    }
    let registering = c.state.event == Some(Event::Register);
    if !registering {
        complete_profile(ctx, c, &user_id).await?;
    }
    if c.settings.terms_required(registering) && !agreed_terms {
        return Err(Failure::TermsNotAgreed);
    }
    let now = ctx.now();
    if let Some(old) = session::load(ctx.db, ctx.kv, req, now).await? {
        session::end(ctx.db, ctx.kv, &old, now).await?;
    }
    let by_code = c
        .state
        .verifications
        .iter()
        .any(|v| matches!(v, Verification::Code { verified: true, .. }));
    let amr: &[&str] = if by_code && c.state.profile.password_hash.is_none() {
        &["otp"]
    } else {
        &["pwd"]
    };
    let (token, _) = session::create(ctx.kv, &user_id, amr, now, ctx.config.session_ttl).await?;
    repo::set_interaction_login(ctx.db, &c.interaction_id, &user_id, now).await?;
    let key = if registering {
        "Interaction.Register.Submit"
    } else {
        "Interaction.SignIn.Submit"
    };
    audit::record(
        ctx.db,
        audit::Entry {
            key,
            ok: true,
            user_id: Some(&user_id),
            application_id: Some(&c.client_id),
            ip,
            payload: json!({}),
        },
        ctx.now_ms,
    )
    .await;
    Ok((format!("{}/oidc/auth/resume", ctx.origin), Some(token)))
}

/// Sets the session cookie that `submit` produced.
pub fn with_session(mut res: Response, token: &str, ttl: i64) -> Response {
    crate::web::cookies::set(&mut res, crate::web::cookies::SESSION, token, ttl);
    res
}

/// One-time codes: 6 digits, 10 minutes, at most 10 tries, one resend a minute.
pub const CODE_TTL: i64 = 600;
pub const CODE_MAX_ATTEMPTS: i64 = 10;
pub const RESEND_AFTER: i64 = 60;
/// Wrong codes for one address within an hour, across codes and interactions, before the
/// address is locked for an hour: 30 guesses an hour against a million codes.
pub const CODE_IDENTIFIER_POLICY: Policy = Policy::hourly(30);
pub const CODE_IP_POLICY: Policy = Policy::hourly(300);
/// Codes sent to one address within an hour.
pub const SEND_POLICY: Policy = Policy::hourly(10);

/// Normalizes an email address or phone number; returns `(channel, value)`.
pub fn normalize(identifier: Identifier, value: &str) -> Result<(&'static str, String), Failure> {
    match identifier {
        Identifier::Email => Ok((
            "email",
            normalize_email(value)
                .map_err(|_| Failure::Invalid("The email address is not valid.".into()))?,
        )),
        Identifier::Phone => Ok((
            "phone",
            crate::api::users::phone(value)
                .map_err(|_| Failure::Invalid("The phone number is not valid.".into()))?,
        )),
        Identifier::Username => Err(Failure::Invalid(
            "Codes go to an email address or a phone number.".into(),
        )),
    }
}

/// `POST /experience/verification/verification-code`: sends a code. For sign-in and forgot
/// password it is sent whether or not an account uses the identifier (no enumeration).
pub async fn send_code<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    identifier: Identifier,
    value: &str,
    lang: Lang,
) -> Result<String, Failure> {
    let event = c.state.event().map_err(Failure::Step)?;
    let (channel, value) = normalize(identifier, value)?;
    let now = ctx.now();
    // At most 10 codes an hour to one address, whatever the interaction; one a minute per
    // interaction.
    let send_key = format!("send:{value}");
    if let Some(until) =
        throttle::locked_until(ctx.db, std::slice::from_ref(&send_key), now).await?
    {
        return Err(Failure::ResendTooSoon {
            seconds: until - now,
        });
    }
    if let Some(last) = crate::store::codes::latest(ctx.db, &c.interaction_id, &value).await? {
        let wait = last.created_at + RESEND_AFTER - now;
        if wait > 0 {
            return Err(Failure::ResendTooSoon { seconds: wait });
        }
    }
    throttle::record_failure(ctx.db, &send_key, SEND_POLICY, now).await?;
    let id = random::id()?;
    let code = random::digits(6)?;
    let usage = match event {
        Event::SignIn => Usage::SignIn,
        Event::Register => Usage::Register,
        Event::ForgotPassword => Usage::ForgotPassword,
    };
    crate::store::codes::insert(
        ctx.db,
        &crate::store::codes::CodeRow {
            id: id.clone(),
            interaction_id: c.interaction_id.clone(),
            identifier_type: channel.into(),
            identifier: value.clone(),
            usage: format!("{usage:?}"),
            code_hash: crate::crypto::secret::code_hash(
                &ctx.config.key_encryption_secret,
                &id,
                &code,
            )?,
            attempts: 0,
            created_at: now,
            expires_at: now + CODE_TTL,
            verified_at: None,
        },
    )
    .await?;
    if !messages::send(ctx, channel, &value, usage, lang, &code).await? {
        return Err(Failure::NoConnector);
    }
    c.state.add(Verification::Code {
        id: id.clone(),
        channel: channel.into(),
        identifier: value,
        verified: false,
    });
    Ok(id)
}

/// `POST /experience/verification/verification-code/verify`.
pub async fn verify_code<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    verification_id: &str,
    code: &str,
    ip: Option<&str>,
) -> Result<(), Failure> {
    let Verification::Code { .. } = c
        .state
        .verification(verification_id)
        .map_err(Failure::Step)?
    else {
        return Err(Failure::Step(StepError::UnknownVerification));
    };
    let now = ctx.now();
    // Wrong codes also count per address and per client IP (beyond each code's 10 tries),
    // so that fresh interactions and codes cannot be used to guess on.
    let Verification::Code { identifier, .. } = c
        .state
        .verification(verification_id)
        .map_err(Failure::Step)?
    else {
        return Err(Failure::Step(StepError::UnknownVerification));
    };
    let keys: Vec<String> = std::iter::once(format!("code:{identifier}"))
        .chain(ip.map(|ip| format!("codeip:{ip}")))
        .collect();
    if let Some(until) = throttle::locked_until(ctx.db, &keys, now).await? {
        return Err(Failure::Locked { until });
    }
    let row = crate::store::codes::take_attempt(ctx.db, verification_id, now, CODE_MAX_ATTEMPTS)
        .await?
        .ok_or(Failure::CodeExpiredOrLocked)?;
    let expected =
        crate::crypto::secret::code_hash(&ctx.config.key_encryption_secret, &row.id, code.trim())?;
    if !crate::crypto::secret::constant_time_eq(expected.as_bytes(), row.code_hash.as_bytes()) {
        for (key, policy) in keys.iter().zip([CODE_IDENTIFIER_POLICY, CODE_IP_POLICY]) {
            throttle::record_failure(ctx.db, key, policy, now).await?;
        }
        return Err(Failure::WrongCode);
    }
    if !crate::store::codes::mark_verified(ctx.db, &row.id, now).await? {
        return Err(Failure::CodeExpiredOrLocked);
    }
    if let Ok(Verification::Code { verified, .. }) = c.state.verification_mut(verification_id) {
        *verified = true;
    }
    Ok(())
}

async fn user_by(db: &impl Db, channel: &str, value: &str) -> Result<Option<String>, Failure> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
    }
    let sql = if channel == "email" {
        "SELECT id FROM users WHERE primary_email = ?1"
    } else {
        "SELECT id FROM users WHERE primary_phone = ?1"
    };
    Ok(query_one::<Id>(db, sql, &[value.into()])
        .await?
        .map(|r| r.id))
}

/// Identification by a verified code: sign-in and forgot password find the user; a
/// registration takes the identifier into the new profile.
pub async fn identify_by_code<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    verification_id: &str,
) -> Result<Option<()>, Failure> {
    let Proof::Identifier(channel, value) =
        c.state.proven(verification_id).map_err(Failure::Step)?
    else {
        return Ok(None);
    };
    match c.state.event().map_err(Failure::Step)? {
        // Already signed in: the code proved an address the account must now have.
        Event::SignIn if c.state.user_id.is_some() => {
            if user_by(ctx.db, &channel, &value).await?.is_some() {
                return Err(Failure::EmailTaken);
            }
            if channel == "email" {
                c.state.profile.primary_email = Some(value);
            } else {
                c.state.profile.primary_phone = Some(value);
            }
        }
        Event::SignIn | Event::ForgotPassword => {
            let user = user_by(ctx.db, &channel, &value)
                .await?
                .ok_or(Failure::UserNotFound)?;
            c.state.user_id = Some(user);
        }
        Event::Register => {
            if user_by(ctx.db, &channel, &value).await?.is_some() {
                return Err(Failure::EmailTaken);
            }
            if channel == "email" {
                c.state.profile.primary_email = Some(value);
            } else {
                c.state.profile.primary_phone = Some(value);
            }
        }
    }
    Ok(Some(()))
}

/// `PUT /experience/profile/password` (forgot password): the identified user's new password.
pub async fn reset_password<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    new_password: &str,
) -> Result<(), Failure> {
    if c.state.event().map_err(Failure::Step)? != Event::ForgotPassword {
        return Err(Failure::Step(StepError::WrongEvent));
    }
    let user_id = c
        .state
        .user_id
        .clone()
        .ok_or(Failure::Step(StepError::NotIdentified))?;
    let mut user = users::get(ctx.db, &user_id)
        .await?
        .ok_or(Failure::UserNotFound)?;
    let info = UserInfo {
        username: user.username.as_deref(),
        email: user.primary_email.as_deref(),
        phone: user.primary_phone.as_deref(),
        name: user.name.as_deref(),
    };
    let broken = password_policy::check(&c.settings.password_policy, new_password, &info);
    if !broken.is_empty() {
        return Err(Failure::WeakPassword(broken));
    }
    user.password_hash = Some(password::hash(new_password)?);
    user.updated_at = ctx.now_ms;
    users::update(ctx.db, &user).await?;
    c.state.password_reset = true;
    audit::record(
        ctx.db,
        audit::Entry {
            key: "Interaction.ForgotPassword.Submit",
            ok: true,
            user_id: Some(&user_id),
            application_id: Some(&c.client_id),
            ip: None,
            payload: json!({}),
        },
        ctx.now_ms,
    )
    .await;
    Ok(())
}

/// The language for this interaction: `ui_locales`, then `Accept-Language` (if the settings
/// auto-detect), then the settings' fallback.
pub fn language(c: &Current, accept_language: Option<&str>) -> Lang {
    let accept = if c.settings.language_info.auto_detect {
        accept_language
    } else {
        None
    };
    Lang::pick(
        c.request.ui_locales.as_deref(),
        accept,
        &c.settings.language_info.fallback_language,
    )
}

/// Signing in: when the settings now require a username that the user lacks, the
/// interaction must supply one (`user.missing_profile`); it is saved to the user here.
async fn complete_profile<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
    user_id: &str,
) -> Result<(), Failure> {
    let required = required_profile(&c.settings);
    let mut user = users::get(ctx.db, user_id)
        .await?
        .ok_or(Failure::UserNotFound)?;
    let p = &c.state.profile;
    if required.contains(&"username") && user.username.is_none() {
        let Some(name) = p.username.clone() else {
            return Err(Failure::Step(StepError::MissingProfile(vec!["username"])));
        };
        user.username = Some(name);
    } else if required.contains(&"email") && user.primary_email.is_none() {
        // An email joins the account only as a code proved it (see `identify_by_code`).
        let Some(email) = p.primary_email.clone() else {
            return Err(Failure::Step(StepError::MissingProfile(vec!["email"])));
        };
        user.primary_email = Some(email);
    } else {
        return Ok(());
    }
    user.updated_at = ctx.now_ms;
    users::update(ctx.db, &user).await.map_err(|e| match e {
        StoreError::Unique(_) => Failure::UsernameTaken,
        e => e.into(),
    })?;
    Ok(())
}
