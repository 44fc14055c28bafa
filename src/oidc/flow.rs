//! The I/O around the authorization state machine: `/oidc/auth`, its resumption after the
//! sign-in and consent pages, and the authorization response. Decisions are made by
//! [`authorize::decide`]; this module gathers the facts and carries them out.
use super::authorize::{self, AuthError, AuthRequest, Facts, ResponseMode, Step, Target};
use super::resources;
use crate::app::Ctx;
use crate::crypto::{b64url, random, secret};
use crate::error::PageError;
use crate::pages;
use crate::session::{self, Loaded};
use crate::store::apps::{self, Application};
use crate::store::oidc::{self as repo, CodeRow, Granted, InteractionRow};
use crate::store::users;
use crate::store::{Db, Kv};
use crate::web::{self, cookies, Request, Response};
use http::header::HeaderValue;
use http::StatusCode;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use url::Url;

pub const INTERACTION_TTL: i64 = 3600;
pub const CODE_TTL: i64 = 60;
pub const GRANT_TTL: i64 = 180 * 86_400;

/// The authorization response: `code` or `error`, always with `iss` (RFC 9207) and `state`.
pub fn respond(target: &Target, issuer: &str, mut params: Vec<(String, String)>) -> Response {
    params.push(("iss".into(), issuer.to_owned()));
    if let Some(state) = &target.state {
        params.push(("state".into(), state.clone()));
    }
    match target.response_mode {
        ResponseMode::FormPost => {
            let mut res = web::html(
                StatusCode::OK,
                pages::flow::form_post(&target.redirect_uri, params),
            );
            let hash =
                crate::crypto::b64std(&Sha256::digest(pages::flow::FORM_POST_SCRIPT.as_bytes()));
            let csp = format!(
                "default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'"
            );
            if let Ok(v) = HeaderValue::from_str(&csp) {
                res.headers_mut().insert("content-security-policy", v);
            }
            res
        }
        mode => {
            let Ok(mut url) = Url::parse(&target.redirect_uri) else {
                // Registered redirect URIs are checked when saved; this cannot happen.
                return crate::wire::page_error(
                    PageError::bad_request("The redirect_uri is malformed."),
                    crate::pages::i18n::Lang::En,
                );
            };
            if mode == ResponseMode::Fragment {
                let encoded = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&params)
                    .finish();
                url.set_fragment(Some(&encoded));
            } else {
                url.query_pairs_mut().extend_pairs(&params);
            }
            web::redirect(url.as_str())
        }
    }
}

fn error_response<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    target: &Target,
    error: &str,
    description: &str,
) -> Response {
    respond(
        target,
        &ctx.issuer(),
        vec![
            ("error".into(), error.into()),
            ("error_description".into(), description.into()),
        ],
    )
}

/// `GET|POST /oidc/auth`.
pub async fn authorize<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let params = web::params(req);
    let (client_id, _) = authorize::client_part(&params).map_err(|e| match e {
        AuthError::Page(m) => PageError::bad_request(m),
        AuthError::Redirect { description, .. } => PageError::bad_request(description),
    })?;
    let app = apps::get(ctx.db, &client_id)
        .await?
        .ok_or_else(|| PageError::bad_request("The application (client_id) is not known."))?;
    let request = match authorize::validate(&params, &app) {
        Ok(r) => r,
        Err(AuthError::Page(m)) => return Err(PageError::bad_request(m)),
        Err(AuthError::Redirect {
            target,
            error,
            description,
        }) => return Ok(error_response(ctx, &target, error, &description)),
    };
    let request = match with_known_resources(ctx, request).await? {
        Ok(r) => r,
        Err(res) => return Ok(res),
    };
    let id = random::id()?;
    let raw = serde_json::to_string(&request)
        .map_err(|e| crate::store::StoreError::Decode(e.to_string()))?;
    let interaction =
        repo::insert_interaction(ctx.db, &id, &app.id, &raw, ctx.now(), INTERACTION_TTL).await?;
    let mut res = advance(ctx, req, &app, &interaction, request).await?;
    cookies::set(&mut res, cookies::INTERACTION, &id, INTERACTION_TTL);
    Ok(res)
}

/// The page a sign-in starts on. Screens that do not exist yet (reset password, single
/// sign-on) start on the sign-in page.
fn first_screen_path(request: &AuthRequest) -> &'static str {
    match request.first_screen.as_deref() {
        Some("register" | "identifier:register") => "/register",
        Some("reset_password") => "/reset-password",
        _ if request.prompts("create") => "/register",
        _ => "/sign-in",
    }
}

/// Every requested resource must exist (`invalid_target`); without any, the default one
/// (if there is one) is implied.
async fn with_known_resources<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    mut request: AuthRequest,
) -> Result<Result<AuthRequest, Response>, PageError> {
    for r in &request.resources {
        if resources::find(ctx, r).await?.is_none() {
            return Ok(Err(error_response(
                ctx,
                &request.target,
                "invalid_target",
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

/// The interaction of this browser, from its cookie.
pub async fn current_interaction<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<(InteractionRow, AuthRequest, Application), PageError> {
    let expired = || {
        PageError::bad_request("This sign-in has expired or was already completed. Go back to the application and try again.")
    };
    let id = cookies::get(req, cookies::INTERACTION).ok_or_else(expired)?;
    let row = repo::interaction(ctx.db, &id, ctx.now())
        .await?
        .ok_or_else(expired)?;
    let request: AuthRequest = repo::from_json(&row.request)?;
    let app = apps::get(ctx.db, &row.client_id)
        .await?
        .ok_or_else(expired)?;
    Ok((row, request, app))
}

/// `GET /oidc/auth/resume`: continues after a page.
pub async fn resume<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let (row, request, app) = current_interaction(ctx, req).await?;
    advance(ctx, req, &app, &row, request).await
}

/// What the user is granted: the requested OIDC scopes, and per requested resource the
/// requested scopes that the user's roles grant.
pub async fn grantable<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    request: &AuthRequest,
    user_id: &str,
) -> Result<Granted, PageError> {
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

/// Records what the user granted the app, added to what an earlier grant holds; returns
/// the grant's id.
pub async fn record_grant<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    client_id: &str,
    granted: &Granted,
) -> Result<String, PageError> {
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
    Ok(repo::upsert_grant(
        ctx.db,
        &random::id()?,
        user_id,
        client_id,
        &merged,
        now,
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

/// Gathers the facts, decides the next step, and carries it out.
pub async fn advance<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    app: &Application,
    row: &InteractionRow,
    request: AuthRequest,
) -> Result<Response, PageError> {
    let now = ctx.now();
    let mut loaded = session::load(ctx.db, ctx.kv, req, now).await?;
    // A session for a user who has since been deleted or suspended does not count.
    let mut user = None;
    if let Some(l) = &loaded {
        user = users::get(ctx.db, &l.session.user_id)
            .await?
            .filter(|u| !u.is_suspended);
        if user.is_none() {
            loaded = None;
        }
    }
    let signed_in_here =
        matches!((&row.user_id, &loaded), (Some(u), Some(l)) if *u == l.session.user_id);
    let mut wanted = None;
    let mut needs_consent = false;
    if let (Some(l), true) = (&loaded, app.is_third_party) {
        let w = grantable(ctx, &request, &l.session.user_id).await?;
        let earlier = repo::grant(ctx.db, &l.session.user_id, &app.id, now).await?;
        let earlier = earlier.map(|g| g.granted()).transpose()?;
        needs_consent = request.prompts("consent") || !earlier.is_some_and(|g| covers(&g, &w));
        wanted = Some(w);
    }
    let facts = Facts {
        session_auth_time: loaded.as_ref().map(|l| l.session.auth_time),
        signed_in_here,
        needs_consent,
        consented_here: row.consented != 0,
        now,
    };
    match authorize::decide(&request, &facts) {
        Step::SignIn => Ok(web::redirect(first_screen_path(&request))),
        Step::Consent => Ok(web::redirect("/consent")),
        Step::Fail(error) => {
            repo::delete_interaction(ctx.db, &row.id).await?;
            let description = if error == "login_required" {
                "the user is not signed in"
            } else {
                "the user has not granted consent"
            };
            let mut res = error_response(ctx, &request.target, error, description);
            cookies::clear(&mut res, cookies::INTERACTION);
            Ok(res)
        }
        Step::IssueCode => {
            let (Some(mut l), Some(user)) = (loaded, user) else {
                return Ok(web::redirect("/sign-in"));
            };
            let granted = match wanted {
                Some(w) => w,
                None => grantable(ctx, &request, &user.id).await?,
            };
            let mut res = issue_code(ctx, app, row, &request, &mut l, granted).await?;
            cookies::clear(&mut res, cookies::INTERACTION);
            Ok(res)
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
) -> Result<Response, PageError> {
    let now = ctx.now();
    let user_id = loaded.session.user_id.clone();
    // First-party apps consent automatically; a third-party app's grant was written on the
    // consent page or covers this request already. Either way the grant is (re)recorded.
    let grant_id = record_grant(ctx, &user_id, &app.id, &granted).await?;
    let code = b64url(&random::bytes::<32>()?);
    let granted_json = serde_json::to_string(&granted)
        .map_err(|e| crate::store::StoreError::Decode(e.to_string()))?;
    repo::insert_code(
        ctx.db,
        &CodeRow {
            id: secret::hash(&code),
            grant_id,
            client_id: app.id.clone(),
            user_id,
            redirect_uri: request.target.redirect_uri.clone(),
            granted: granted_json,
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            session_id: loaded.session.sid.clone(),
            auth_time: loaded.session.auth_time,
            amr: serde_json::to_string(&loaded.session.amr)
                .map_err(|e| crate::store::StoreError::Decode(e.to_string()))?,
            expires_at: now + CODE_TTL,
            consumed_at: None,
        },
    )
    .await?;
    repo::delete_interaction(ctx.db, &row.id).await?;
    if !loaded.session.clients.contains(&app.id) {
        loaded.session.clients.push(app.id.clone());
        session::save(ctx.kv, loaded, now).await?;
    }
    Ok(respond(
        &request.target,
        &ctx.issuer(),
        vec![("code".into(), code)],
    ))
}
