//! The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1), parsed and validated
//! without I/O, and the decision of what comes next as a small state machine.
use super::error::ErrorCode;
use crate::i18n::Msg;
use crate::store::apps::{AppType, Application};
use serde::Serialize;

/// OIDC scopes Gatehouse knows; any other scope is an API resource's.
pub const OIDC_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "offline_access",
    "custom_data",
    "identities",
    "roles",
    "urn:logto:scope:sessions",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

impl crate::store::StandIn for ResponseMode {
    fn stand_in() -> Self {
        ResponseMode::Query
    }
}

impl crate::store::Column for ResponseMode {
    fn column(v: Option<&serde_json::Value>) -> Option<Self> {
        match v?.as_str()? {
            "Query" => Some(ResponseMode::Query),
            "Fragment" => Some(ResponseMode::Fragment),
            "FormPost" => Some(ResponseMode::FormPost),
            _ => None,
        }
    }
}

/// Where and how an authorization response goes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
}
crate::from_row!(Target {
    redirect_uri,
    response_mode,
    state
});
crate::column_via_from_row!(Target);

/// A validated authorization request, stored with its interaction (read back column by
/// column, see `store::FromRow`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub target: Target,
    pub nonce: Option<String>,
    /// Requested OIDC scopes, in request order.
    pub scopes: Vec<String>,
    /// Requested scopes that are not OIDC scopes (resource scopes).
    pub resource_scopes: Vec<String>,
    /// Requested resource indicators (RFC 8707).
    pub resources: Vec<String>,
    pub code_challenge: Option<String>,
    pub prompt: Vec<String>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    /// Logto's `first_screen`: which page the sign-in starts on.
    pub first_screen: Option<String>,
    /// Logto's `identifier`: the identifiers (`username`, `email`, `phone`) the sign-in
    /// page accepts; none means all that the settings enable.
    pub identifiers: Vec<String>,
    /// Logto's `direct_sign_in`: `social:<target>` starts that social sign-in at once (an
    /// unknown target falls back to the sign-in page).
    pub direct_sign_in: Option<String>,
}
crate::from_row!(AuthRequest {
    client_id,
    target,
    nonce,
    scopes,
    resource_scopes,
    resources,
    code_challenge,
    prompt,
    max_age,
    login_hint,
    ui_locales,
    first_screen,
    identifiers,
    direct_sign_in,
});

/// How many resources and how long a scope one request may name.
pub const MAX_RESOURCES: usize = 10;
pub const MAX_SCOPE_LEN: usize = 2048;
/// How many parameters one request may carry, repeated ones included.
pub const MAX_PARAMS: usize = 64;

/// Logto's `first_screen` values.
pub const FIRST_SCREENS: &[&str] = &[
    "sign_in",
    "register",
    "reset_password",
    "identifier:sign_in",
    "identifier:register",
    "single_sign_on",
];

impl AuthRequest {
    pub fn prompts(&self, p: &str) -> bool {
        self.prompt.iter().any(|x| x == p)
    }
}

/// Why a request fails: before the client and redirect URI are trusted, only a page may
/// tell; after, the error goes to the client.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthError {
    Page(Msg),
    Redirect {
        target: Target,
        error: ErrorCode,
        description: String,
    },
}

fn single<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, String> {
    let mut it = params
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    let first = it.next();
    if it.next().is_some() {
        return Err(format!("{name} must not be repeated"));
    }
    Ok(first.filter(|v| !v.is_empty()))
}

/// Step 1: the client id and redirect URI, which decide whether errors may redirect.
pub fn client_part(params: &[(String, String)]) -> Result<(String, Option<String>), AuthError> {
    if params.len() > MAX_PARAMS {
        return Err(AuthError::Page(Msg::TooLong));
    }
    let client_id = single(params, "client_id")
        .map_err(|_| AuthError::Page(Msg::RepeatedParameter))?
        .ok_or(AuthError::Page(Msg::MissingClientId))?;
    let redirect_uri =
        single(params, "redirect_uri").map_err(|_| AuthError::Page(Msg::RepeatedParameter))?;
    Ok((client_id.to_owned(), redirect_uri.map(str::to_owned)))
}

fn is_pkce_value(s: &str) -> bool {
    // RFC 7636 §4.1/§4.2: 43–128 characters of [A-Z a-z 0-9 - . _ ~].
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Step 2: validates the whole request for `app`; `redirect_uri` must match exactly.
pub fn validate(params: &[(String, String)], app: &Application) -> Result<AuthRequest, AuthError> {
    let (client_id, redirect_uri) = client_part(params)?;
    let redirect_uri = redirect_uri.ok_or(AuthError::Page(Msg::MissingRedirectUri))?;
    if app.app_type == AppType::MachineToMachine {
        return Err(AuthError::Page(Msg::ClientCannotSignIn));
    }
    if !app.oidc.redirect_uris.contains(&redirect_uri) {
        return Err(AuthError::Page(Msg::RedirectUriNotRegistered));
    }
    // From here on, errors go back to the client.
    let state = single(params, "state").ok().flatten().map(str::to_owned);
    let mut target = Target {
        redirect_uri,
        response_mode: ResponseMode::Query,
        state,
    };
    let fail = |target: &Target, error: ErrorCode, description: String| AuthError::Redirect {
        target: target.clone(),
        error,
        description,
    };
    let get = |name: &str| single(params, name);

    match get("response_mode") {
        Ok(None) | Ok(Some("query")) => {}
        Ok(Some("fragment")) => target.response_mode = ResponseMode::Fragment,
        Ok(Some("form_post")) => target.response_mode = ResponseMode::FormPost,
        Ok(Some(other)) => {
            return Err(fail(
                &target,
                ErrorCode::InvalidRequest,
                format!("unsupported response_mode `{other}`"),
            ))
        }
        Err(e) => return Err(fail(&target, ErrorCode::InvalidRequest, e)),
    }
    let invalid = |e: String| fail(&target, ErrorCode::InvalidRequest, e);
    match get("response_type").map_err(invalid)? {
        Some("code") => {}
        None => {
            return Err(fail(
                &target,
                ErrorCode::InvalidRequest,
                "response_type is required".into(),
            ))
        }
        Some(other) => {
            return Err(fail(
                &target,
                ErrorCode::UnsupportedResponseType,
                format!("unsupported response_type `{other}`; use code"),
            ))
        }
    }
    for unsupported in ["request", "request_uri"] {
        if get(unsupported).map_err(invalid)?.is_some() {
            let code = if unsupported == "request" {
                ErrorCode::RequestNotSupported
            } else {
                ErrorCode::RequestUriNotSupported
            };
            return Err(fail(
                &target,
                code,
                format!("{unsupported} is not supported"),
            ));
        }
    }
    let scope = get("scope").map_err(invalid)?.unwrap_or_default();
    if scope.len() > MAX_SCOPE_LEN {
        return Err(fail(
            &target,
            ErrorCode::InvalidScope,
            format!("scope is longer than {MAX_SCOPE_LEN} characters"),
        ));
    }
    let mut scopes = Vec::new();
    let mut resource_scopes = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        let list = if OIDC_SCOPES.contains(&s) {
            &mut scopes
        } else {
            &mut resource_scopes
        };
        if !list.iter().any(|x| x == s) {
            list.push(s.to_owned());
        }
    }
    if !scopes.iter().any(|s| s == "openid") {
        return Err(fail(
            &target,
            ErrorCode::InvalidScope,
            "the openid scope is required".into(),
        ));
    }
    let mut resources: Vec<String> = Vec::new();
    for (_, v) in params.iter().filter(|(k, _)| k == "resource") {
        if !resources.contains(v) {
            resources.push(v.clone());
        }
    }
    if resources.len() > MAX_RESOURCES {
        return Err(fail(
            &target,
            ErrorCode::InvalidTarget,
            format!("at most {MAX_RESOURCES} resources may be requested"),
        ));
    }
    for r in &resources {
        if super::resources::check_indicator(r).is_err() {
            return Err(fail(
                &target,
                ErrorCode::InvalidTarget,
                "resource must be an absolute URI without a fragment".into(),
            ));
        }
    }
    let code_challenge = get("code_challenge").map_err(invalid)?;
    let method = get("code_challenge_method").map_err(invalid)?;
    if let Some(challenge) = code_challenge {
        if method != Some("S256") {
            return Err(fail(
                &target,
                ErrorCode::InvalidRequest,
                "code_challenge_method must be S256".into(),
            ));
        }
        if !is_pkce_value(challenge) {
            return Err(fail(
                &target,
                ErrorCode::InvalidRequest,
                "code_challenge is malformed".into(),
            ));
        }
    } else if !app.app_type.is_confidential() {
        return Err(fail(
            &target,
            ErrorCode::InvalidRequest,
            "PKCE with S256 is required for this application".into(),
        ));
    } else if method.is_some() {
        return Err(fail(
            &target,
            ErrorCode::InvalidRequest,
            "code_challenge_method without code_challenge".into(),
        ));
    }
    let prompt: Vec<String> = get("prompt")
        .map_err(invalid)?
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    for p in &prompt {
        if !matches!(p.as_str(), "none" | "login" | "consent" | "create") {
            return Err(fail(
                &target,
                ErrorCode::InvalidRequest,
                format!("unsupported prompt `{p}`"),
            ));
        }
    }
    if prompt.len() > 1 && prompt.iter().any(|p| p == "none") {
        return Err(fail(
            &target,
            ErrorCode::InvalidRequest,
            "prompt=none cannot be combined with other values".into(),
        ));
    }
    let max_age = match get("max_age").map_err(invalid)? {
        None => None,
        Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            fail(
                &target,
                ErrorCode::InvalidRequest,
                "max_age must be a non-negative integer".into(),
            )
        })?),
    };
    let text = |name: &str, max: usize| -> Result<Option<String>, AuthError> {
        match get(name).map_err(|e| fail(&target, ErrorCode::InvalidRequest, e))? {
            Some(v) if v.len() > max => Err(fail(
                &target,
                ErrorCode::InvalidRequest,
                format!("{name} is too long"),
            )),
            v => Ok(v.map(str::to_owned)),
        }
    };
    let nonce = text("nonce", 512)?;
    let login_hint = text("login_hint", 256)?;
    let ui_locales = text("ui_locales", 128)?;
    let first_screen = text("first_screen", 64)?;
    let direct_sign_in = text("direct_sign_in", 128)?;
    let identifiers: Vec<String> = text("identifier", 64)?
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if identifiers
        .iter()
        .any(|i| !matches!(i.as_str(), "username" | "email" | "phone"))
    {
        return Err(fail(
            &target,
            ErrorCode::InvalidRequest,
            "identifier takes username, email and phone".into(),
        ));
    }
    if first_screen
        .as_deref()
        .is_some_and(|f| !FIRST_SCREENS.contains(&f))
    {
        return Err(fail(
            &target,
            ErrorCode::InvalidRequest,
            "unsupported first_screen".into(),
        ));
    }
    if target.state.as_ref().is_some_and(|s| s.len() > 2048) {
        return Err(fail(
            &target,
            ErrorCode::InvalidRequest,
            "state is too long".into(),
        ));
    }
    Ok(AuthRequest {
        client_id,
        target,
        nonce,
        scopes,
        resource_scopes,
        resources,
        code_challenge: code_challenge.map(str::to_owned),
        prompt,
        max_age,
        login_hint,
        ui_locales,
        first_screen,
        identifiers,
        direct_sign_in,
    })
}

/// What the interaction needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    SignIn,
    Consent,
    IssueCode,
    Fail(ErrorCode),
}

/// The facts the decision depends on; the caller gathers them.
pub struct Facts {
    /// `auth_time` of the browser's live session, if there is one.
    pub session_auth_time: Option<i64>,
    /// The user signed in within this very interaction.
    pub signed_in_here: bool,
    /// The app is third-party and the user has not granted what it asks for.
    pub needs_consent: bool,
    /// The user answered the consent page within this interaction.
    pub consented_here: bool,
    pub now: i64,
}

pub fn decide(req: &AuthRequest, f: &Facts) -> Step {
    let authenticated = f.signed_in_here
        || match f.session_auth_time {
            None => false,
            Some(_) if req.prompts("login") || req.prompts("create") => false,
            Some(t) => req.max_age.is_none_or(|max| f.now.saturating_sub(t) <= max),
        };
    if !authenticated {
        return if req.prompts("none") {
            Step::Fail(ErrorCode::LoginRequired)
        } else {
            Step::SignIn
        };
    }
    if f.needs_consent && !f.consented_here {
        return if req.prompts("none") {
            Step::Fail(ErrorCode::ConsentRequired)
        } else {
            Step::Consent
        };
    }
    Step::IssueCode
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::apps::{CustomClientMetadata, OidcClientMetadata};

    fn app(t: AppType) -> Application {
        Application {
            id: "app".into(),
            name: "App".into(),
            description: None,
            app_type: t,
            secret_hash: None,
            oidc: OidcClientMetadata {
                redirect_uris: vec!["https://rp.example/cb".into()],
                ..Default::default()
            },
            custom: CustomClientMetadata::default(),
            is_third_party: false,
            created_at: 0,
        }
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn params(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut p = vec![
            ("client_id", "app"),
            ("redirect_uri", "https://rp.example/cb"),
            ("response_type", "code"),
            ("scope", "openid profile read:x"),
            ("state", "st"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        for (k, v) in extra {
            p.retain(|(pk, _)| pk != k);
            if !v.is_empty() {
                p.push((k, v));
            }
        }
        p.into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn err_code(r: Result<AuthRequest, AuthError>) -> ErrorCode {
        match r {
            Err(AuthError::Redirect { error, target, .. }) => {
                assert_eq!(
                    target.state.as_deref(),
                    Some("st"),
                    "state goes back with every error"
                );
                error
            }
            other => panic!("expected a redirect error, got {other:?}"),
        }
    }

    #[test]
    fn a_good_request_validates() {
        let r = validate(&params(&[]), &app(AppType::Spa)).unwrap();
        assert_eq!(r.scopes, vec!["openid", "profile"]);
        assert_eq!(r.resource_scopes, vec!["read:x"]);
        assert_eq!(r.target.response_mode, ResponseMode::Query);
    }

    #[test]
    fn client_and_redirect_errors_never_redirect() {
        assert!(matches!(
            validate(
                &params(&[("redirect_uri", "https://rp.example/cb/")]),
                &app(AppType::Spa)
            ),
            Err(AuthError::Page(_))
        ));
        assert!(matches!(
            validate(&params(&[("redirect_uri", "")]), &app(AppType::Spa)),
            Err(AuthError::Page(_))
        ));
        assert!(matches!(
            validate(&params(&[]), &app(AppType::MachineToMachine)),
            Err(AuthError::Page(_))
        ));
        assert!(matches!(
            client_part(&params(&[("client_id", "")])),
            Err(AuthError::Page(_))
        ));
    }

    #[test]
    fn pkce_is_required_for_public_clients_and_must_be_s256() {
        let spa = app(AppType::Spa);
        assert_eq!(
            err_code(validate(
                &params(&[("code_challenge", ""), ("code_challenge_method", "")]),
                &spa
            )),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            err_code(validate(
                &params(&[("code_challenge_method", "plain")]),
                &spa
            )),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            err_code(validate(&params(&[("code_challenge", "short")]), &spa)),
            ErrorCode::InvalidRequest
        );
        let web = app(AppType::Traditional);
        assert!(validate(
            &params(&[("code_challenge", ""), ("code_challenge_method", "")]),
            &web
        )
        .is_ok());
    }

    #[test]
    fn protocol_errors_redirect_with_their_codes() {
        let spa = app(AppType::Spa);
        assert_eq!(
            err_code(validate(&params(&[("response_type", "token")]), &spa)),
            ErrorCode::UnsupportedResponseType
        );
        assert_eq!(
            err_code(validate(&params(&[("response_type", "")]), &spa)),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            err_code(validate(&params(&[("scope", "profile")]), &spa)),
            ErrorCode::InvalidScope
        );
        assert_eq!(
            err_code(validate(&params(&[("resource", "not a uri")]), &spa)),
            ErrorCode::InvalidTarget
        );
        assert_eq!(
            err_code(validate(&params(&[("prompt", "none login")]), &spa)),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            err_code(validate(&params(&[("max_age", "-1")]), &spa)),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            err_code(validate(&params(&[("response_mode", "web_message")]), &spa)),
            ErrorCode::InvalidRequest
        );
        assert_eq!(
            err_code(validate(&params(&[("request", "eyJ")]), &spa)),
            ErrorCode::RequestNotSupported
        );
    }

    fn facts(session: Option<i64>) -> Facts {
        Facts {
            session_auth_time: session,
            signed_in_here: false,
            needs_consent: false,
            consented_here: false,
            now: 1_000,
        }
    }

    #[test]
    fn decisions() {
        let base = validate(&params(&[]), &app(AppType::Spa)).unwrap();
        let with = |extra: &[(&str, &str)]| validate(&params(extra), &app(AppType::Spa)).unwrap();
        assert_eq!(decide(&base, &facts(None)), Step::SignIn);
        assert_eq!(decide(&base, &facts(Some(900))), Step::IssueCode);
        assert_eq!(
            decide(&with(&[("prompt", "none")]), &facts(None)),
            Step::Fail(ErrorCode::LoginRequired)
        );
        assert_eq!(
            decide(&with(&[("prompt", "login")]), &facts(Some(900))),
            Step::SignIn
        );
        assert_eq!(
            decide(&with(&[("max_age", "50")]), &facts(Some(900))),
            Step::SignIn
        );
        assert_eq!(
            decide(&with(&[("max_age", "100")]), &facts(Some(900))),
            Step::IssueCode
        );
        let mut signed = facts(Some(1_000));
        signed.signed_in_here = true;
        assert_eq!(
            decide(&with(&[("prompt", "login")]), &signed),
            Step::IssueCode
        );
        let mut consent = facts(Some(900));
        consent.needs_consent = true;
        assert_eq!(decide(&base, &consent), Step::Consent);
        assert_eq!(
            decide(&with(&[("prompt", "none")]), &consent),
            Step::Fail(ErrorCode::ConsentRequired)
        );
        consent.consented_here = true;
        assert_eq!(decide(&base, &consent), Step::IssueCode);
    }
}
