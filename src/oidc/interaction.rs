//! The I/O around the authorization state machine: `/oidc/auth`, its resumption after the
//! sign-in and consent pages, and the consent answer. Decisions are made by
//! [`authorize::decide`]; this module gathers the facts, carries them out, and returns
//! [`Next`]: what the browser should see. The faces turn `Next` into redirects, pages and
//! cookies; nothing here reads a request or writes a response.
use super::authorize::{self, AuthError, AuthRequest, Facts, Step, Target};
use super::error::{ErrorCode, FlowError};
use super::resources;
use crate::crypto::{b64url, random, secret};
use crate::ctx::Ctx;
use crate::i18n::Msg;
use crate::session::{self, Loaded};
use crate::store::apps::Application;
use crate::store::interactions::{self as irepo, InteractionRow};
use crate::store::oidc::{self as repo, CodeRow, Granted};
use crate::store::users::User;
use crate::store::{Db, Kv, StoreError};
use std::collections::BTreeMap;

pub const INTERACTION_TTL: i64 = 3600;
pub const CODE_TTL: i64 = 60;
pub const GRANT_TTL: i64 = 180 * 86_400;

/// The screen a sign-in starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    SignIn,
    Register,
    ResetPassword,
    /// `direct_sign_in`: straight to the social provider it names.
    DirectSignIn,
}

/// The authorization response (RFC 6749 §4.1.2): `code` or `error`, always with `iss`
/// (RFC 9207) and `state`, for the face to redirect or to post as a form.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthResponse {
    pub target: Target,
    pub params: Vec<(String, String)>,
}

/// What the browser should see next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// The sign-in pages, starting on this screen.
    SignIn(Screen),
    /// The consent page.
    Consent,
    /// Back to `/oidc/auth/resume`, to decide again.
    Resume,
    /// The response to the client; the interaction is over.
    Respond(AuthResponse),
}

/// The outcome of `/oidc/auth`: the new interaction (for the browser's cookie) and what
/// comes next.
#[derive(Debug)]
pub struct Started {
    pub interaction_id: Option<String>,
    pub next: Next,
}

fn response(target: &Target, issuer: &str, mut params: Vec<(String, String)>) -> Next {
    params.push(("iss".into(), issuer.to_owned()));
    if let Some(state) = &target.state {
        params.push(("state".into(), state.clone()));
    }
    Next::Respond(AuthResponse {
        target: target.clone(),
        params,
    })
}

fn error_response(issuer: &str, target: &Target, error: ErrorCode, description: &str) -> Next {
    response(
        target,
        issuer,
        vec![
            ("error".into(), error.as_str().into()),
            ("error_description".into(), description.into()),
        ],
    )
}

/// `GET|POST /oidc/auth` with its parameters; `session` is the browser's session cookie.
pub async fn authorize<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    params: &[(String, String)],
    session: Option<&str>,
) -> Result<Started, FlowError> {
    let (client_id, _) = authorize::client_part(params).map_err(|e| match e {
        AuthError::Page(m) => FlowError::Show(m),
        AuthError::Redirect { .. } => FlowError::Show(Msg::RedirectUriMalformed),
    })?;
    let app = super::clients::find(ctx, &client_id)
        .await?
        .ok_or(FlowError::Show(Msg::UnknownClient))?;
    let request = match authorize::validate(params, &app) {
        Ok(r) => r,
        Err(AuthError::Page(m)) => return Err(FlowError::Show(m)),
        Err(AuthError::Redirect {
            target,
            error,
            description,
        }) => {
            return Ok(Started {
                interaction_id: None,
                next: error_response(&ctx.issuer(), &target, error, &description),
            })
        }
    };
    let request = match with_known_resources(ctx, request).await? {
        Ok(r) => r,
        Err(next) => {
            return Ok(Started {
                interaction_id: None,
                next,
            })
        }
    };
    let id = random::id()?;
    let raw = serde_json::to_string(&request).map_err(|e| StoreError::Decode(e.to_string()))?;
    let interaction =
        irepo::insert_interaction(ctx.db, &id, &app.id, &raw, ctx.now(), INTERACTION_TTL).await?;
    let next = advance(ctx, session, &app, &interaction, request).await?;
    Ok(Started {
        interaction_id: Some(id),
        next,
    })
}

/// The page a sign-in starts on. Screens that do not exist yet (single sign-on) start on
/// the sign-in page.
fn first_screen(request: &AuthRequest) -> Screen {
    if request
        .direct_sign_in
        .as_deref()
        .is_some_and(|d| d.starts_with("social:") || d.starts_with("sso:"))
    {
        return Screen::DirectSignIn;
    }
    match request.first_screen.as_deref() {
        Some("register" | "identifier:register") => Screen::Register,
        Some("reset_password") => Screen::ResetPassword,
        _ if request.prompts("create") => Screen::Register,
        _ => Screen::SignIn,
    }
}

/// Every requested resource must exist (`invalid_target`); without any, the default one
/// (if there is one) is implied.
async fn with_known_resources<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    mut request: AuthRequest,
) -> Result<Result<AuthRequest, Next>, FlowError> {
    for r in &request.resources {
        if resources::find(ctx, r).await?.is_none() {
            return Ok(Err(error_response(
                &ctx.issuer(),
                &request.target,
                ErrorCode::InvalidTarget,
                "resource does not exist",
            )));
        }
    }
    if request.resources.is_empty() {
        if let Some(default) = crate::store::rbac::default_resource(ctx.db).await? {
            request.resources.push(default.indicator);
        }
    }
    Ok(Ok(request))
}

/// A live interaction, its request and its app.
pub struct Interaction {
    pub row: InteractionRow,
    pub request: AuthRequest,
    pub app: Application,
}

/// The interaction `interaction_id` names (the browser's cookie), if it is still live.
pub async fn current_interaction<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    interaction_id: Option<&str>,
) -> Result<Interaction, FlowError> {
    let expired = || FlowError::Show(Msg::InteractionExpired);
    let id = interaction_id.ok_or_else(expired)?;
    let row = irepo::interaction(ctx.db, id, ctx.now())
        .await?
        .ok_or_else(expired)?;
    let request: AuthRequest = crate::store::parse_object(&row.request)?;
    let app = super::clients::find(ctx, &row.client_id)
        .await?
        .ok_or_else(expired)?;
    Ok(Interaction { row, request, app })
}

/// `GET /oidc/auth/resume`: continues after a page.
pub async fn resume<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    interaction_id: Option<&str>,
    session: Option<&str>,
) -> Result<Next, FlowError> {
    let i = current_interaction(ctx, interaction_id).await?;
    advance(ctx, session, &i.app, &i.row, i.request).await
}

/// What the user is granted: the requested OIDC scopes, and per requested resource the
/// requested scopes that the user's roles grant.
pub async fn grantable<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    request: &AuthRequest,
    user_id: &str,
) -> Result<Granted, FlowError> {
    let mut resources_granted = BTreeMap::new();
    for indicator in &request.resources {
        let Some(resource) = resources::find(ctx, indicator).await? else {
            continue;
        };
        let allowed = resources::user_scopes(ctx, user_id, &resource).await?;
        let scopes: Vec<String> = request
            .resource_scopes
            .iter()
            .filter(|s| allowed.contains(s))
            .cloned()
            .collect();
        resources_granted.insert(indicator.clone(), scopes);
    }
    Ok(Granted {
        scopes: request.scopes.clone(),
        resources: resources_granted,
    })
}

/// What the user has granted the app: `granted` added to what an earlier grant holds.
async fn merged_grant<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    client_id: &str,
    granted: &Granted,
) -> Result<Granted, FlowError> {
    let now = ctx.now();
    let mut merged = match repo::grant(ctx.db, user_id, client_id, now).await? {
        Some(g) => g.granted()?,
        None => Granted::default(),
    };
    for s in &granted.scopes {
        if !merged.has(s) {
            merged.scopes.push(s.clone());
        }
    }
    for (r, scopes) in &granted.resources {
        let entry = merged.resources.entry(r.clone()).or_default();
        for s in scopes {
            if !entry.contains(s) {
                entry.push(s.clone());
            }
        }
    }
    Ok(merged)
}

/// Records what the user granted the app, added to what an earlier grant holds; returns
/// the grant's id.
pub async fn record_grant<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    client_id: &str,
    granted: &Granted,
) -> Result<String, FlowError> {
    let merged = merged_grant(ctx, user_id, client_id, granted).await?;
    Ok(repo::upsert_grant(
        ctx.db,
        &random::id()?,
        user_id,
        client_id,
        &merged,
        ctx.now(),
        GRANT_TTL,
    )
    .await?)
}

/// Whether an earlier grant covers everything in `wanted`.
fn covers(grant: &Granted, wanted: &Granted) -> bool {
    wanted.scopes.iter().all(|s| grant.has(s))
        && wanted.resources.iter().all(|(r, scopes)| {
            grant
                .resources
                .get(r)
                .is_some_and(|g| scopes.iter().all(|s| g.contains(s)))
        })
}

/// The browser's live session and its user; a session of a user who has since been deleted
/// or suspended does not count.
pub async fn signed_in<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    session: Option<&str>,
) -> Result<Option<(Loaded, User)>, FlowError> {
    // The session's check in D1 brings its user (and drops a deleted or suspended one).
    Ok(session::load(ctx.db, ctx.kv, session, ctx.now())
        .await?
        .map(|l| {
            let user = l.user.clone();
            (l, user)
        }))
}

/// Gathers the facts, decides the next step, and carries it out.
async fn advance<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    session: Option<&str>,
    app: &Application,
    row: &InteractionRow,
    request: AuthRequest,
) -> Result<Next, FlowError> {
    let now = ctx.now();
    let current = signed_in(ctx, session).await?;
    let signed_in_here =
        matches!((&row.user_id, &current), (Some(u), Some((l, _))) if *u == l.session.user_id);
    let mut wanted = None;
    let mut needs_consent = false;
    if let (Some((l, _)), true) = (&current, app.is_third_party) {
        let w = grantable(ctx, &request, &l.session.user_id).await?;
        let earlier = repo::grant(ctx.db, &l.session.user_id, &app.id, now).await?;
        let earlier = earlier.map(|g| g.granted()).transpose()?;
        needs_consent = request.prompts("consent") || !earlier.is_some_and(|g| covers(&g, &w));
        wanted = Some(w);
    }
    let facts = Facts {
        session_auth_time: current.as_ref().map(|(l, _)| l.session.auth_time),
        signed_in_here,
        needs_consent,
        consented_here: row.consented != 0,
        now,
    };
    match authorize::decide(&request, &facts) {
        Step::SignIn => Ok(Next::SignIn(first_screen(&request))),
        Step::Consent => Ok(Next::Consent),
        Step::Fail(error) => {
            irepo::delete_interaction(ctx.db, &row.id).await?;
            let description = if error == ErrorCode::LoginRequired {
                "the user is not signed in"
            } else {
                "the user has not granted consent"
            };
            Ok(error_response(
                &ctx.issuer(),
                &request.target,
                error,
                description,
            ))
        }
        Step::IssueCode => {
            let Some((mut loaded, user)) = current else {
                return Ok(Next::SignIn(Screen::SignIn));
            };
            let granted = match wanted {
                Some(w) => w,
                None => grantable(ctx, &request, &user.id).await?,
            };
            issue_code(ctx, app, row, &request, &mut loaded, granted).await
        }
    }
}

async fn issue_code<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    app: &Application,
    row: &InteractionRow,
    request: &AuthRequest,
    loaded: &mut Loaded,
    granted: Granted,
) -> Result<Next, FlowError> {
    let now = ctx.now();
    let user_id = loaded.session.user_id.clone();
    // First-party apps consent automatically; a third-party app's grant was written on the
    // consent page or covers this request already. Either way the grant is (re)recorded, in
    // the same transaction as the code and the interaction's end.
    let merged = merged_grant(ctx, &user_id, &app.id, &granted).await?;
    let code = b64url(&random::bytes::<32>()?);
    let granted_json =
        serde_json::to_string(&granted).map_err(|e| StoreError::Decode(e.to_string()))?;
    let code_row = CodeRow {
        id: secret::hash(&code),
        // Filled from the grant's row inside the transaction.
        grant_id: String::new(),
        client_id: app.id.clone(),
        user_id,
        redirect_uri: request.target.redirect_uri.clone(),
        granted: granted_json,
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        session_id: loaded.session.sid.clone(),
        auth_time: loaded.session.auth_time,
        amr: serde_json::to_string(&loaded.session.amr)
            .map_err(|e| StoreError::Decode(e.to_string()))?,
        expires_at: now + CODE_TTL,
        consumed_at: None,
    };
    repo::issue_code(
        ctx.db,
        &random::id()?,
        &merged,
        (now, now + GRANT_TTL),
        &code_row,
        &row.id,
    )
    .await?;
    if !loaded.session.clients.contains(&app.id) {
        loaded.session.clients.push(app.id.clone());
        session::save(ctx.kv, &loaded.key, &loaded.session, now).await?;
    }
    Ok(response(
        &request.target,
        &ctx.issuer(),
        vec![("code".into(), code)],
    ))
}

/// The consent page's facts: the app, who is signed in, and the scopes asked for (OIDC
/// scopes, then each resource's).
pub struct ConsentView {
    pub app_name: String,
    pub user_display: String,
    pub scopes: Vec<String>,
    pub ui_locales: Option<String>,
}

fn not_signed_in() -> FlowError {
    FlowError::Show(Msg::NotSignedIn)
}

/// `GET /consent`: what the user is asked to grant.
pub async fn consent_view<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    interaction_id: Option<&str>,
    session: Option<&str>,
) -> Result<ConsentView, FlowError> {
    let i = current_interaction(ctx, interaction_id).await?;
    let (_, user) = signed_in(ctx, session).await?.ok_or_else(not_signed_in)?;
    let granted = grantable(ctx, &i.request, &user.id).await?;
    let mut scopes = granted.scopes.clone();
    for list in granted.resources.values() {
        scopes.extend(list.iter().cloned());
    }
    Ok(ConsentView {
        app_name: i.app.name,
        user_display: user
            .primary_email
            .clone()
            .or(user.username.clone())
            .or(user.name.clone())
            .unwrap_or(user.id.clone()),
        scopes,
        ui_locales: i.request.ui_locales,
    })
}

/// The user's answer on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Deny,
}

/// `POST /consent`: approval records the grant and resumes the authorization; denial ends
/// it with `access_denied`.
pub async fn consent<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    interaction_id: Option<&str>,
    session: Option<&str>,
    decision: Decision,
) -> Result<Next, FlowError> {
    let i = current_interaction(ctx, interaction_id).await?;
    let (loaded, _) = signed_in(ctx, session).await?.ok_or_else(not_signed_in)?;
    match decision {
        Decision::Approve => {
            let granted = grantable(ctx, &i.request, &loaded.session.user_id).await?;
            record_grant(ctx, &loaded.session.user_id, &i.app.id, &granted).await?;
            irepo::set_interaction_consented(ctx.db, &i.row.id).await?;
            Ok(Next::Resume)
        }
        Decision::Deny => {
            irepo::delete_interaction(ctx.db, &i.row.id).await?;
            Ok(error_response(
                &ctx.issuer(),
                &i.request.target,
                ErrorCode::AccessDenied,
                "the user denied the request",
            ))
        }
    }
}
