//! The Experience API's operations over an interaction: the JSON API and the hosted pages
//! both call these, so a custom UI and the built-in one drive the same state machine.
use super::password_policy::{self, Rejection, UserInfo};
use super::settings::{Identifier, Settings};
use super::state::{Event, State, StepError, Verification};
use super::{audit, load_settings, sign_in_with_password, Origin, SignInError};
use crate::api::users::{email as normalize_email, username as check_username};
use crate::app::Ctx;
use crate::crypto::{password, random};
use crate::error::{ApiError, InternalError};
use crate::oidc::authorize::AuthRequest;
use crate::oidc::flow::current_interaction;
use crate::pages::i18n::Lang;
use crate::session;
use crate::store::oidc as repo;
use crate::store::users::{self, User};
use crate::store::{query_one, Db, Kv, StoreError};
use crate::web::{Request, Response};
use http::StatusCode;
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

/// Why an experience step failed. The JSON API turns it into `{code, message}` (below);
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
    Internal(InternalError),
}

impl<E: Into<InternalError>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Internal(e.into())
    }
}

impl From<Failure> for ApiError {
    fn from(f: Failure) -> Self {
        let e = |status, code: &'static str, message: String| ApiError::new(status, code, message);
        use StatusCode as S;
        match f {
            Failure::Step(StepError::NoEvent) => e(
                S::BAD_REQUEST,
                "session.interaction_event_not_set",
                "Start with PUT /api/experience {interactionEvent}.".into(),
            ),
            Failure::Step(StepError::UnknownVerification) => e(
                S::NOT_FOUND,
                "session.verification_session_not_found",
                "No such verification in this interaction.".into(),
            ),
            Failure::Step(StepError::WrongEvent) => e(
                S::BAD_REQUEST,
                "session.interaction_event_mismatch",
                "This step does not belong to the current event.".into(),
            ),
            Failure::Step(StepError::AlreadyIdentified) => e(
                S::BAD_REQUEST,
                "session.already_identified",
                "This interaction has already identified a user.".into(),
            ),
            Failure::Step(StepError::NotIdentified) => e(
                S::BAD_REQUEST,
                "session.identifier_not_found",
                "No user is identified yet.".into(),
            ),
            Failure::Step(StepError::MissingProfile(fields)) => e(
                S::UNPROCESSABLE_ENTITY,
                "user.missing_profile",
                format!("Missing profile: {}.", fields.join(", ")),
            ),
            Failure::NoInteraction => e(
                S::BAD_REQUEST,
                "session.not_found",
                "No sign-in is in progress in this browser. Start it at /oidc/auth.".into(),
            ),
            Failure::InvalidCredentials => e(
                S::UNPROCESSABLE_ENTITY,
                "session.invalid_credentials",
                "The account or password is incorrect.".into(),
            ),
            Failure::Locked { until } => e(
                S::TOO_MANY_REQUESTS,
                "session.too_many_attempts",
                format!("Too many failed attempts; locked until {until} (Unix time)."),
            ),
            Failure::MethodNotEnabled => e(
                S::UNPROCESSABLE_ENTITY,
                "user.sign_in_method_not_enabled",
                "This way of signing in is not enabled.".into(),
            ),
            Failure::UsernameTaken => e(
                S::UNPROCESSABLE_ENTITY,
                "user.username_already_in_use",
                "This username is already in use.".into(),
            ),
            Failure::InvalidUsername(m) | Failure::Invalid(m) => ApiError::invalid_input(m),
            Failure::WeakPassword(r) => e(
                S::UNPROCESSABLE_ENTITY,
                "password.rejected",
                r.iter()
                    .map(|x| x.describe(Lang::En))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Failure::NeedsVerification => e(
                S::UNPROCESSABLE_ENTITY,
                "session.verification_failed",
                "Verify the email address or phone number with a code first.".into(),
            ),
            Failure::TermsNotAgreed => e(
                S::UNPROCESSABLE_ENTITY,
                "user.terms_not_agreed",
                "Agree to the terms of use and privacy policy first.".into(),
            ),
            Failure::RegistrationClosed => e(
                S::FORBIDDEN,
                "user.registration_not_allowed",
                "Registration is disabled.".into(),
            ),
            Failure::SignInClosed => e(
                S::FORBIDDEN,
                "user.sign_in_not_allowed",
                "Sign-in is disabled; only registration is open.".into(),
            ),
            Failure::Internal(i) => ApiError::Internal(i),
        }
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

fn method_enabled(settings: &Settings, identifier: Identifier) -> bool {
    settings
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
    if !method_enabled(&c.settings, identifier) {
        return Err(Failure::MethodNotEnabled);
    }
    let from = Origin {
        ip,
        application_id: Some(&c.client_id),
    };
    match sign_in_with_password(ctx.db, value, secret, &from, ctx.now_ms).await? {
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
    if c.state.event().map_err(Failure::Step)? != Event::Register {
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
            c.state.identify_by(id).map_err(Failure::Step)?;
            Ok(false)
        }
        Event::Register => {
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
        Event::ForgotPassword => Err(Failure::NeedsVerification),
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
) -> Result<(String, String), Failure> {
    let user_id = c.state.ready_to_submit().map_err(Failure::Step)?.to_owned();
    let registering = c.state.event == Some(Event::Register);
    if c.settings.terms_required(registering) && !agreed_terms {
        return Err(Failure::TermsNotAgreed);
    }
    let now = ctx.now();
    if let Some(old) = session::load(ctx.db, ctx.kv, req, now).await? {
        session::end(ctx.db, ctx.kv, &old, now).await?;
    }
    let (token, _) =
        session::create(ctx.kv, &user_id, &["pwd"], now, ctx.config.session_ttl).await?;
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
    Ok((format!("{}/oidc/auth/resume", ctx.origin), token))
}

/// Sets the session cookie that `submit` produced.
pub fn with_session(mut res: Response, token: &str, ttl: i64) -> Response {
    crate::web::cookies::set(&mut res, crate::web::cookies::SESSION, token, ttl);
    res
}
