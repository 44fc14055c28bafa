//! Handlers of the hosted pages. They render templates and call the sign-in service and the
//! authorization flow; the decisions live there.
use super::flow as view;
use crate::app::Ctx;
use crate::error::PageError;
use crate::experience::service::{self, Current, Failure};
use crate::experience::settings::Identifier;
use crate::experience::state::{Event, StepError, Verification};
use crate::oidc::flow::{self, current_interaction, grantable};
use crate::pages::i18n::Lang;
use crate::session;
use crate::store::oidc as repo;
use crate::store::users;
use crate::store::{Db, Kv};
use crate::web::{self, cookies, csrf, Request, Response};
use http::header::ACCEPT_LANGUAGE;
use http::StatusCode;

fn page(status: StatusCode, body: String, csrf_token: &str, new_token: bool) -> Response {
    let mut res = web::html(status, body);
    if new_token {
        csrf::set(&mut res, csrf_token);
    }
    res
}

fn check_csrf(req: &Request, params: &[(String, String)]) -> Result<(), PageError> {
    if csrf::valid(req, params) {
        Ok(())
    } else {
        Err(PageError::Invalid {
            status: StatusCode::FORBIDDEN,
            message: "This form has expired. Go back, reload the page and try again.".into(),
        })
    }
}

/// The language of the pages for this interaction.
fn language(req: &Request, c: &Current) -> Lang {
    service::language(c, web::header(req, ACCEPT_LANGUAGE))
}

fn ip(req: &Request) -> Option<&str> {
    web::header(
        req,
        http::header::HeaderName::from_static("cf-connecting-ip"),
    )
}

/// The words for a failed step, in the page's language.
fn message(lang: Lang, f: &Failure, now: i64) -> (StatusCode, String) {
    let t = lang.text();
    match f {
        Failure::InvalidCredentials | Failure::MethodNotEnabled => {
            (StatusCode::BAD_REQUEST, t.wrong_credentials.to_owned())
        }
        Failure::Locked { until } => {
            let minutes = (until - now + 59).div_euclid(60).max(1);
            (
                StatusCode::TOO_MANY_REQUESTS,
                t.locked.replace("{n}", &minutes.to_string()),
            )
        }
        Failure::UsernameTaken => (
            StatusCode::UNPROCESSABLE_ENTITY,
            t.username_taken.to_owned(),
        ),
        Failure::InvalidUsername(_) => (StatusCode::BAD_REQUEST, t.invalid_username.to_owned()),
        Failure::WeakPassword(r) => {
            let details: Vec<String> = r.iter().map(|x| x.describe(lang)).collect();
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{} {}", t.weak_password, details.join(" ")),
            )
        }
        Failure::TermsNotAgreed => (
            StatusCode::UNPROCESSABLE_ENTITY,
            t.terms_required.to_owned(),
        ),
        Failure::RegistrationClosed => (StatusCode::FORBIDDEN, t.registration_closed.to_owned()),
        Failure::SignInClosed => (StatusCode::FORBIDDEN, t.sign_in_closed.to_owned()),
        Failure::WrongCode => (StatusCode::BAD_REQUEST, t.wrong_code.to_owned()),
        Failure::CodeExpiredOrLocked => (StatusCode::BAD_REQUEST, t.code_expired.to_owned()),
        Failure::ResendTooSoon { seconds } => (
            StatusCode::TOO_MANY_REQUESTS,
            t.resend_wait.replace("{n}", &seconds.to_string()),
        ),
        Failure::NoConnector => (StatusCode::SERVICE_UNAVAILABLE, t.cannot_send.to_owned()),
        Failure::UserNotFound => (StatusCode::NOT_FOUND, t.no_account_found.to_owned()),
        Failure::EmailTaken => (StatusCode::UNPROCESSABLE_ENTITY, t.email_taken.to_owned()),
        Failure::Invalid(_) => (StatusCode::BAD_REQUEST, t.invalid_email.to_owned()),
        _ => (StatusCode::BAD_REQUEST, t.something_wrong.to_owned()),
    }
}

/// Loads the experience for a page; a missing interaction is the expired-link page.
async fn current<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Result<Current, PageError> {
    match service::load(ctx, req).await {
        Ok(c) => Ok(c),
        Err(Failure::Internal(e)) => Err(PageError::Internal(e)),
        Err(_) => Err(PageError::bad_request("This sign-in has expired or was already completed. Go back to the application and try again.")),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Screen {
    SignIn,
    Register,
}

fn render(
    c: &Current,
    lang: Lang,
    screen: Screen,
    csrf_token: &str,
    value: &str,
    error: Option<&str>,
) -> String {
    render_with(c, lang, screen, csrf_token, value, error, None)
}

fn render_with(
    c: &Current,
    lang: Lang,
    screen: Screen,
    csrf_token: &str,
    value: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> String {
    let s = &c.settings;
    let form = view::Form {
        lang,
        app_name: &c.app_name,
        csrf: csrf_token,
        error,
        terms_required: s.terms_required(screen == Screen::Register),
        terms_url: s.terms_of_use_url.as_deref(),
        privacy_url: s.privacy_policy_url.as_deref(),
        custom_css: s.custom_css.as_deref(),
        brand: Some(s),
    };
    match screen {
        Screen::SignIn => view::sign_in(
            &form,
            value,
            view::SignInExtras {
                can_register: s.registration_allowed(),
                can_code: code_sign_in_enabled(c),
                can_reset: reset_enabled(c),
                notice,
            },
        ),
        Screen::Register => view::register(
            &form,
            value,
            s.sign_in_allowed(),
            by_email(c),
            service::required_profile(s)
                .iter()
                .any(|f| *f == "phone" || *f == "email_or_phone"),
        ),
    }
}

async fn form_page<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    screen: Screen,
) -> Result<Response, PageError> {
    let c = current(ctx, req).await?;
    let lang = language(req, &c);
    // A screen the settings close sends the user to the other one.
    if screen == Screen::SignIn && !c.settings.sign_in_allowed() {
        return Ok(web::redirect("/register"));
    }
    if screen == Screen::Register && !c.settings.registration_allowed() {
        let (token, new) = csrf::token(req)?;
        let error = lang.text().registration_closed;
        return Ok(page(
            StatusCode::FORBIDDEN,
            render(&c, lang, Screen::SignIn, &token, "", Some(error)),
            &token,
            new,
        ));
    }
    let (token, new) = csrf::token(req)?;
    let prefill = if screen == Screen::SignIn {
        c.request.login_hint.clone().unwrap_or_default()
    } else {
        String::new()
    };
    let reset = web::query_pairs(req)
        .iter()
        .any(|(k, v)| k == "reset" && v == "1");
    let notice = reset.then_some(lang.text().password_changed);
    Ok(page(
        StatusCode::OK,
        render_with(&c, lang, screen, &token, &prefill, None, notice),
        &token,
        new,
    ))
}

/// Runs the steps of a form through the experience service; on failure, the same form
/// again with the error in the user's language.
async fn submit_form<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    screen: Screen,
) -> Result<Response, PageError> {
    let params = web::params(req);
    check_csrf(req, &params)?;
    let mut c = current(ctx, req).await?;
    let lang = language(req, &c);
    let field = |name| web::param(&params, name).unwrap_or_default();
    let agreed = field("agree") == "yes";
    let email_sign_up = by_email(&c);
    let value = if screen == Screen::SignIn {
        field("identifier")
    } else if email_sign_up {
        field("email")
    } else {
        field("username")
    };
    let steps = async {
        match screen {
            Screen::SignIn => {
                service::start(&mut c, Event::SignIn)?;
                let kind = identifier_kind(value);
                // Identifier first: without a password, an identifier whose method takes codes
                // gets one.
                let code_ok = c
                    .settings
                    .sign_in
                    .methods
                    .iter()
                    .any(|m| m.identifier == kind && m.verification_code);
                if field("password").is_empty() && code_ok && kind != Identifier::Username {
                    if c.settings.terms_required(false) && !agreed {
                        return Err(Failure::TermsNotAgreed);
                    }
                    let id = service::send_code(ctx, &mut c, kind, value, lang).await?;
                    c.state.pending = Some(id);
                    service::save(ctx, &c).await?;
                    return Ok(web::redirect("/verify"));
                }
                let id =
                    service::verify_password(ctx, &mut c, kind, value, field("password"), ip(req))
                        .await?;
                service::identify(ctx, &mut c, Some(&id)).await?;
            }
            Screen::Register if email_sign_up => {
                // Email sign-up: the password now, the address once its code comes back.
                service::start(&mut c, Event::Register)?;
                if c.settings.sign_up.password {
                    service::set_profile(ctx, &mut c, "password", field("password")).await?;
                }
                if c.settings.terms_required(true) && !agreed {
                    return Err(Failure::TermsNotAgreed);
                }
                c.state.agreed_terms = agreed;
                let kind = if identifier_kind(value) == Identifier::Phone {
                    Identifier::Phone
                } else {
                    Identifier::Email
                };
                let id = service::send_code(ctx, &mut c, kind, value, lang).await?;
                c.state.pending = Some(id);
                service::save(ctx, &c).await?;
                return Ok(web::redirect("/verify"));
            }
            Screen::Register => {
                service::start(&mut c, Event::Register)?;
                service::set_profile(ctx, &mut c, "username", value).await?;
                service::set_profile(ctx, &mut c, "password", field("password")).await?;
                if c.settings.terms_required(true) && !agreed {
                    return Err(Failure::TermsNotAgreed);
                }
                service::identify(ctx, &mut c, None).await?;
            }
        }
        service::save(ctx, &c).await?;
        finish(ctx, req, &c, agreed).await
    };
    match steps.await {
        Ok(res) => Ok(res),
        Err(Failure::Internal(e)) => Err(PageError::Internal(e)),
        Err(Failure::Step(StepError::MissingProfile(_))) if screen == Screen::SignIn => {
            Ok(web::redirect("/profile/missing"))
        }
        Err(f) => failed(req, lang, &f, ctx.now(), |token, text| {
            render(&c, lang, screen, token, value, Some(text))
        }),
    }
}

/// The same form again, with what went wrong in the user's language.
fn failed(
    req: &Request,
    lang: Lang,
    f: &Failure,
    now: i64,
    render: impl FnOnce(&str, &str) -> String,
) -> Result<Response, PageError> {
    let (status, text) = message(lang, f, now);
    let (token, new) = csrf::token(req)?;
    Ok(page(status, render(&token, &text), &token, new))
}

/// `GET /consent`.
pub async fn consent_form<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let (_, request, app) = current_interaction(ctx, req).await?;
    let lang = Lang::pick(
        request.ui_locales.as_deref(),
        web::header(req, ACCEPT_LANGUAGE),
        "en",
    );
    let loaded = session::load(ctx.db, ctx.kv, req, ctx.now())
        .await?
        .ok_or_else(|| {
            PageError::bad_request(
                "You are not signed in. Go back to the application and try again.",
            )
        })?;
    let user = users::get(ctx.db, &loaded.session.user_id)
        .await?
        .ok_or(PageError::NotFound)?;
    let display = user
        .primary_email
        .clone()
        .or(user.username.clone())
        .or(user.name.clone())
        .unwrap_or(user.id.clone());
    let granted = grantable(ctx, &request, &user.id).await?;
    let mut scopes: Vec<String> = granted
        .scopes
        .iter()
        .map(|s| view::describe_scope(lang, s))
        .collect();
    for list in granted.resources.values() {
        scopes.extend(list.iter().map(|s| view::describe_scope(lang, s)));
    }
    let (token, new) = csrf::token(req)?;
    Ok(page(
        StatusCode::OK,
        view::consent(lang, &app.name, &display, scopes, &token),
        &token,
        new,
    ))
}

/// `POST /consent`: `action=authorize` records the grant; `action=cancel` is `access_denied`.
pub async fn consent_submit<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let params = web::params(req);
    check_csrf(req, &params)?;
    let (row, request, app) = current_interaction(ctx, req).await?;
    let now = ctx.now();
    let loaded = session::load(ctx.db, ctx.kv, req, now)
        .await?
        .ok_or_else(|| {
            PageError::bad_request(
                "You are not signed in. Go back to the application and try again.",
            )
        })?;
    match web::param(&params, "action") {
        Some("authorize") => {
            let granted = grantable(ctx, &request, &loaded.session.user_id).await?;
            flow::record_grant(ctx, &loaded.session.user_id, &app.id, &granted).await?;
            repo::set_interaction_consented(ctx.db, &row.id).await?;
            Ok(web::redirect("/oidc/auth/resume"))
        }
        Some("cancel") => {
            repo::delete_interaction(ctx.db, &row.id).await?;
            let mut res = flow::respond(
                &request.target,
                &ctx.issuer(),
                vec![
                    ("error".into(), "access_denied".into()),
                    (
                        "error_description".into(),
                        "the user denied the request".into(),
                    ),
                ],
            );
            cookies::clear(&mut res, cookies::INTERACTION);
            Ok(res)
        }
        _ => Err(PageError::bad_request("Choose Authorize or Cancel.")),
    }
}

// ---- one-time codes: sign in with a code, register with email, reset password

/// Sign-up by a code to an email address (or, with email-or-phone, either).
fn by_email(c: &Current) -> bool {
    let required = service::required_profile(&c.settings);
    required.contains(&"email")
        || required.contains(&"phone")
        || required.contains(&"email_or_phone")
}

/// What a typed identifier is: an email address has an `@`, a phone number is digits with
/// an optional `+` and separators; anything else is a username.
fn identifier_kind(value: &str) -> Identifier {
    let v = value.trim();
    if v.contains('@') {
        Identifier::Email
    } else if !v.is_empty()
        && v.trim_start_matches('+')
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.'))
        && v.chars().any(|c| c.is_ascii_digit())
    {
        Identifier::Phone
    } else {
        Identifier::Username
    }
}

/// Which channels (email, phone) a code screen may send to, by the settings.
fn code_channels(c: &Current, reset: bool) -> (bool, bool) {
    use crate::experience::settings::ForgotPasswordMethod as F;
    if reset {
        let m = &c.settings.forgot_password_methods;
        (
            m.contains(&F::EmailVerificationCode),
            m.contains(&F::PhoneVerificationCode),
        )
    } else {
        let has = |i| {
            c.settings
                .sign_in
                .methods
                .iter()
                .any(|m| m.identifier == i && m.verification_code)
        };
        (has(Identifier::Email), has(Identifier::Phone))
    }
}

fn code_sign_in_enabled(c: &Current) -> bool {
    let (email, phone) = code_channels(c, false);
    email || phone
}

fn reset_enabled(c: &Current) -> bool {
    let (email, phone) = code_channels(c, true);
    email || phone
}

/// The address field of a code screen: its label and input type.
fn address_field<'a>(
    c: &Current,
    reset: bool,
    t: &'static crate::pages::i18n::Text,
    value: &str,
) -> view::Field<'a> {
    let (label, kind, autocomplete) = match code_channels(c, reset) {
        (true, true) => (t.email_or_phone, "text", "username"),
        (false, true) => (t.phone, "tel", "tel"),
        _ => (t.email, "email", "email"),
    };
    ("email", label, kind, autocomplete, value.to_owned())
}

#[derive(Clone, Copy, PartialEq)]
enum CodeScreen {
    SignInCode,
    Reset,
    Verify,
    NewPassword,
}

fn render_code(
    c: &Current,
    lang: Lang,
    screen: CodeScreen,
    csrf_token: &str,
    value: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> String {
    let t = lang.text();
    let s = &c.settings;
    let registering = c.state.event == Some(Event::Register);
    let form = view::Form {
        lang,
        app_name: &c.app_name,
        csrf: csrf_token,
        error,
        terms_required: false,
        terms_url: s.terms_of_use_url.as_deref(),
        privacy_url: s.privacy_policy_url.as_deref(),
        custom_css: s.custom_css.as_deref(),
        brand: Some(s),
    };
    let sent_to = c
        .state
        .pending
        .as_deref()
        .and_then(|id| c.state.verification(id).ok())
        .and_then(|v| match v {
            Verification::Code { identifier, .. } => Some(identifier.clone()),
            Verification::Password { .. } => None,
        });
    let back = if registering {
        ("/register", t.register)
    } else {
        ("/sign-in", t.use_password)
    };
    let page = match screen {
        CodeScreen::SignInCode => view::FieldsPage {
            heading: t.sign_in_with_code,
            intro: None,
            notice,
            action: "/sign-in/code",
            fields: vec![address_field(c, false, t, value)],
            button: t.send_code,
            links: vec![("/sign-in", t.use_password)],
        },
        CodeScreen::Reset => view::FieldsPage {
            heading: t.reset_title,
            intro: Some(t.reset_intro.to_owned()),
            notice,
            action: "/reset-password",
            fields: vec![address_field(c, true, t, value)],
            button: t.send_code,
            links: vec![("/sign-in", t.use_password)],
        },
        CodeScreen::Verify => view::FieldsPage {
            heading: t.verify_title,
            intro: sent_to.map(|to| format!("{} {to}", t.verify_intro)),
            notice,
            action: "/verify",
            fields: vec![("code", t.code, "text", "one-time-code", String::new())],
            button: t.continue_,
            links: vec![back],
        },
        CodeScreen::NewPassword => view::FieldsPage {
            heading: t.new_password_title,
            intro: None,
            notice,
            action: "/reset-password/new",
            fields: vec![(
                "password",
                t.new_password,
                "password",
                "new-password",
                String::new(),
            )],
            button: t.save_password,
            links: vec![],
        },
    };
    view::fields_page(&form, page)
}

async fn code_page<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    screen: CodeScreen,
) -> Result<Response, PageError> {
    let c = current(ctx, req).await?;
    let lang = language(req, &c);
    let allowed = match screen {
        CodeScreen::SignInCode => code_sign_in_enabled(&c) && c.settings.sign_in_allowed(),
        CodeScreen::Reset => reset_enabled(&c) && c.settings.sign_in_allowed(),
        CodeScreen::Verify => c.state.pending.is_some(),
        CodeScreen::NewPassword => {
            c.state.event == Some(Event::ForgotPassword) && c.state.user_id.is_some()
        }
    };
    if !allowed {
        return Ok(web::redirect("/sign-in"));
    }
    let (token, new) = csrf::token(req)?;
    Ok(page(
        StatusCode::OK,
        render_code(&c, lang, screen, &token, "", None, None),
        &token,
        new,
    ))
}

fn code_screen(path: &str) -> CodeScreen {
    match path {
        "/sign-in/code" => CodeScreen::SignInCode,
        "/reset-password" => CodeScreen::Reset,
        "/verify" => CodeScreen::Verify,
        _ => CodeScreen::NewPassword,
    }
}

/// The sign-in experience's form pages, each answering GET (the form) and POST (its steps).
pub const FORM_PAGES: &[&str] = &[
    "/sign-in",
    "/register",
    "/sign-in/code",
    "/reset-password",
    "/verify",
    "/reset-password/new",
];

/// `GET` of a form page.
pub async fn form_get<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    path: &str,
) -> Result<Response, PageError> {
    match path {
        "/sign-in" => form_page(ctx, req, Screen::SignIn).await,
        "/register" => form_page(ctx, req, Screen::Register).await,
        _ => code_page(ctx, req, code_screen(path)).await,
    }
}

/// `POST` of a form page.
pub async fn form_post<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    path: &str,
) -> Result<Response, PageError> {
    match path {
        "/sign-in" => submit_form(ctx, req, Screen::SignIn).await,
        "/register" => submit_form(ctx, req, Screen::Register).await,
        _ => code_submit(ctx, req, path).await,
    }
}

/// The POSTs of the code screens: each runs its steps, then redirects to the next screen, or
/// shows the same screen with the error in the user's language.
async fn code_submit<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    path: &str,
) -> Result<Response, PageError> {
    let screen = code_screen(path);
    let params = web::params(req);
    check_csrf(req, &params)?;
    let mut c = current(ctx, req).await?;
    let lang = language(req, &c);
    let field = |name| web::param(&params, name).unwrap_or_default();
    let value = field("email");
    let steps = async {
        match screen {
            CodeScreen::SignInCode | CodeScreen::Reset => {
                if screen == CodeScreen::SignInCode && !code_sign_in_enabled(&c)
                    || screen == CodeScreen::Reset && !reset_enabled(&c)
                {
                    return Err(Failure::MethodNotEnabled);
                }
                let event = if screen == CodeScreen::Reset {
                    Event::ForgotPassword
                } else {
                    Event::SignIn
                };
                service::start(&mut c, event)?;
                let (email_ok, phone_ok) = code_channels(&c, screen == CodeScreen::Reset);
                let kind = if identifier_kind(value) == Identifier::Phone {
                    Identifier::Phone
                } else {
                    Identifier::Email
                };
                if (kind == Identifier::Phone && !phone_ok)
                    || (kind == Identifier::Email && !email_ok)
                {
                    return Err(Failure::Invalid(
                        "This kind of address cannot receive codes here.".into(),
                    ));
                }
                let id = service::send_code(ctx, &mut c, kind, value, lang).await?;
                c.state.pending = Some(id);
                service::save(ctx, &c).await?;
                Ok(web::redirect("/verify"))
            }
            CodeScreen::Verify => {
                let id = c.state.pending.clone().ok_or(Failure::NeedsVerification)?;
                service::verify_code(ctx, &mut c, &id, field("code"), ip(req)).await?;
                service::save(ctx, &c).await?;
                service::identify(ctx, &mut c, Some(&id)).await?;
                service::save(ctx, &c).await?;
                if c.state.event == Some(Event::ForgotPassword) {
                    return Ok(web::redirect("/reset-password/new"));
                }
                let agreed = c.state.agreed_terms;
                finish(ctx, req, &c, agreed).await
            }
            CodeScreen::NewPassword => {
                service::reset_password(ctx, &mut c, field("password")).await?;
                service::save(ctx, &c).await?;
                finish(ctx, req, &c, true).await
            }
        }
    };
    match steps.await {
        Ok(res) => Ok(res),
        Err(Failure::Internal(e)) => Err(PageError::Internal(e)),
        Err(Failure::Step(StepError::MissingProfile(_)))
            if c.state.event == Some(Event::SignIn) =>
        {
            Ok(web::redirect("/profile/missing"))
        }
        Err(f) => failed(req, lang, &f, ctx.now(), |token, text| {
            render_code(&c, lang, screen, token, value, Some(text), None)
        }),
    }
}

async fn finish<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    c: &Current,
    agreed: bool,
) -> Result<Response, Failure> {
    let (redirect_to, token) = service::submit(ctx, req, c, agreed, ip(req)).await?;
    let res = web::redirect(&redirect_to);
    Ok(match token {
        Some(t) => service::with_session(res, &t, ctx.config.session_ttl),
        None => res,
    })
}

/// `GET|POST /profile/missing`: a signing-in user adds the username the settings now require.
pub async fn missing_profile<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let mut c = current(ctx, req).await?;
    let lang = language(req, &c);
    let t = lang.text();
    if c.state.event != Some(Event::SignIn) || c.state.user_id.is_none() {
        return Ok(web::redirect("/sign-in"));
    }
    let wants_email = !service::required_profile(&c.settings).contains(&"username");
    let render_it = |c: &Current, token: &str, value: &str, error: Option<&str>| {
        let s = &c.settings;
        let form = view::Form {
            lang,
            app_name: &c.app_name,
            csrf: token,
            error,
            terms_required: false,
            terms_url: None,
            privacy_url: None,
            custom_css: s.custom_css.as_deref(),
            brand: Some(s),
        };
        let page = if wants_email {
            view::FieldsPage {
                heading: t.add_email,
                intro: Some(t.add_email_intro.to_owned()),
                notice: None,
                action: "/profile/missing",
                fields: vec![("email", t.email, "email", "email", value.to_owned())],
                button: t.send_code,
                links: vec![],
            }
        } else {
            view::FieldsPage {
                heading: t.add_username,
                intro: Some(t.add_username_intro.to_owned()),
                notice: None,
                action: "/profile/missing",
                fields: vec![("username", t.username, "text", "username", value.to_owned())],
                button: t.continue_,
                links: vec![],
            }
        };
        view::fields_page(&form, page)
    };
    if req.method() == http::Method::GET {
        let (token, new) = csrf::token(req)?;
        return Ok(page(
            StatusCode::OK,
            render_it(&c, &token, "", None),
            &token,
            new,
        ));
    }
    let params = web::params(req);
    check_csrf(req, &params)?;
    let value =
        web::param(&params, if wants_email { "email" } else { "username" }).unwrap_or_default();
    let steps = async {
        if wants_email {
            // The address joins the account once its code comes back (`/verify`).
            let id = service::send_code(ctx, &mut c, Identifier::Email, value, lang).await?;
            c.state.pending = Some(id);
            service::save(ctx, &c).await?;
            return Ok(web::redirect("/verify"));
        }
        service::set_profile(ctx, &mut c, "username", value).await?;
        service::save(ctx, &c).await?;
        finish(ctx, req, &c, true).await
    };
    match steps.await {
        Ok(res) => Ok(res),
        Err(Failure::Internal(e)) => Err(PageError::Internal(e)),
        Err(f) => failed(req, lang, &f, ctx.now(), |token, text| {
            render_it(&c, token, value, Some(text))
        }),
    }
}
