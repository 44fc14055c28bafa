//! The sign-in and registration pages. Identifier first: a sign-in with an email address or
//! phone number and no password gets a code, where the policy allows one.
use super::forms::{self, current, failed, finish, form, language, page};
use super::views;
use crate::ctx::Ctx;
use crate::experience::interaction::{self, Current, FirstStep};
use crate::experience::policy;
use crate::experience::profile::{self, required_profile, Field};
use crate::experience::state::{Event, ProfileField, StepError};
use crate::experience::{codes, password, social, submit, Failure};
use crate::i18n::{Lang, Msg};
use crate::identity::{Channel, Identifier};
use crate::store::{Db, Kv};
use crate::web::error::PageError;
use crate::web::http::StatusCode;
use crate::web::{self, csrf, Request, Response};

#[derive(Clone, Copy, PartialEq)]
pub enum Screen {
    SignIn,
    Register,
}

/// Sign-up by a code to an email address or phone number (rather than by username).
fn by_code(c: &Current) -> bool {
    required_profile(&c.settings).iter().any(|f| {
        matches!(
            f,
            ProfileField::Email | ProfileField::Phone | ProfileField::EmailOrPhone
        )
    })
}

fn render(
    c: &Current,
    lang: Lang,
    screen: Screen,
    csrf_token: &str,
    value: &str,
    (error, notice): (Option<&str>, Option<&str>),
    social: &[(String, String)],
) -> String {
    let s = &c.settings;
    let f = form(
        c,
        lang,
        csrf_token,
        error,
        s.terms_required(screen == Screen::Register),
    );
    let ids = &c.request.identifiers;
    match screen {
        Screen::SignIn => views::sign_in(
            &f,
            value,
            views::SignInExtras {
                passkey: s.passkey_sign_in.enabled.then(|| views::PasskeyUi {
                    mode: "sign-in",
                    action: "/sign-in/passkey",
                    autofill: s.passkey_sign_in.allow_autofill,
                    button: s
                        .passkey_sign_in
                        .show_passkey_button
                        .then(|| lang.t(Msg::PasskeySignIn)),
                    error: lang.t(Msg::PasskeyFailed),
                }),
                can_register: s.registration_allowed(),
                can_code: !policy::code_channels(s, ids, Event::SignIn).is_empty(),
                can_reset: !policy::code_channels(s, ids, Event::ForgotPassword).is_empty(),
                notice,
                social,
                sso_hint: s.single_sign_on_enabled.then(|| lang.t(Msg::SsoHint)),
            },
        ),
        Screen::Register => views::register(
            &f,
            value,
            s.sign_in_allowed(),
            by_code(c),
            policy::code_channels(s, ids, Event::Register).contains(&Channel::Phone),
            social,
        ),
    }
}

/// The social sign-in buttons of the page: (connector id, label in `lang`).
pub async fn social_buttons<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &Current,
    lang: Lang,
) -> Result<Vec<(String, String)>, PageError> {
    let targets = &c.settings.social_sign_in_connector_targets;
    let buttons = social::buttons(ctx, targets, lang.code()).await?;
    Ok(buttons
        .into_iter()
        .map(|b| {
            let label = lang.fill(Msg::SocialContinue, &[("name", &b.name)]);
            (b.connector_id, label)
        })
        .collect())
}

/// The sign-in page again, with what went wrong (a step of another page, e.g. social).
pub async fn with_error<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    c: &Current,
    lang: Lang,
    f: &Failure,
) -> Result<Response, PageError> {
    let social = social_buttons(ctx, c, lang).await?;
    failed(req, lang, f, ctx.now(), |token, text| {
        render(
            c,
            lang,
            Screen::SignIn,
            token,
            "",
            (Some(text), None),
            &social,
        )
    })
}

/// `GET /sign-in`, `GET /register`.
pub async fn show<D: Db, K: Kv>(
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
    let (token, new) = csrf::token(req)?;
    let social = social_buttons(ctx, &c, lang).await?;
    if screen == Screen::Register && !c.settings.registration_allowed() {
        let error = lang.t(Msg::RegistrationClosed);
        return Ok(page(
            crate::wire::refusal_status(policy::Refusal::RegistrationClosed),
            render(
                &c,
                lang,
                Screen::SignIn,
                &token,
                "",
                (Some(error), None),
                &social,
            ),
            &token,
            new,
        ));
    }
    let prefill = if screen == Screen::SignIn {
        c.request.login_hint.clone().unwrap_or_default()
    } else {
        String::new()
    };
    let query = web::query_pairs(req);
    let flag = |name: &str| query.iter().any(|(k, v)| k == name && v == "1");
    let notice = if flag("reset") {
        Some(lang.t(Msg::PasswordChanged))
    } else if flag("unlocked") {
        Some(lang.t(Msg::Unlocked))
    } else {
        None
    };
    Ok(page(
        StatusCode::OK,
        render(&c, lang, screen, &token, &prefill, (None, notice), &social),
        &token,
        new,
    ))
}

/// Sends a code to `value` for the interaction's event and goes on to `/verify`.
pub async fn send_code_and_verify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    kind: Identifier,
    value: &str,
    lang: Lang,
    ip: Option<&str>,
) -> Result<Response, Failure> {
    let id = codes::send(ctx, c, kind, value, lang, ip).await?;
    c.state.pending = Some(id);
    interaction::save(ctx, c).await?;
    Ok(web::redirect("/verify"))
}

/// `POST /sign-in`, `POST /register`: runs the form's steps through the experience; on
/// failure, the same form again with the error in the user's language.
pub async fn submit<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    screen: Screen,
) -> Result<Response, PageError> {
    let (params, mut c, lang) = forms::posted(ctx, req).await?;
    let field = |name| web::param(&params, name).unwrap_or_default();
    let agreed = field("agree") == "yes";
    let register_by_code = by_code(&c);
    let value = match screen {
        Screen::SignIn => field("identifier"),
        Screen::Register if register_by_code => field("email"),
        Screen::Register => field("username"),
    };
    let steps = async {
        match screen {
            Screen::SignIn => {
                interaction::start(&mut c, Event::SignIn)?;
                let kind = Identifier::guess(value);
                // Identifier first: an email of a domain with enterprise SSO goes to it.
                if kind == Identifier::Email {
                    let sso = crate::experience::sso::for_email(ctx, &c.settings, value).await?;
                    if let Some(id) = sso.into_iter().next() {
                        let url = social::start(ctx, &mut c, (&id, true), None).await?;
                        interaction::save(ctx, &c).await?;
                        return Ok(web::redirect(&url));
                    }
                }
                let password_given = !field("password").is_empty();
                if interaction::first_step(&c, kind, password_given) == FirstStep::SendCode {
                    interaction::agree_to_terms(&mut c, agreed)?;
                    return send_code_and_verify(ctx, &mut c, kind, value, lang, forms::ip(req))
                        .await;
                }
                let verified = password::verify(
                    ctx,
                    &mut c,
                    kind,
                    value,
                    field("password"),
                    forms::ip(req),
                    lang,
                )
                .await;
                let id = match verified {
                    // A locked account: its code first, on the code screen.
                    Err(Failure::SecondProof {
                        verification_id, ..
                    }) => {
                        c.state.pending = Some(verification_id);
                        interaction::save(ctx, &c).await?;
                        return Ok(web::redirect("/verify"));
                    }
                    other => other?,
                };
                submit::identify(ctx, &mut c, Some(&id), false).await?;
            }
            Screen::Register if register_by_code => {
                // Sign-up by code: the password now, the address once its code comes back.
                interaction::start(&mut c, Event::Register)?;
                profile::set_password_if_required(ctx, &mut c, field("password")).await?;
                interaction::agree_to_terms(&mut c, agreed)?;
                let kind = match Identifier::guess(value) {
                    Identifier::Phone => Identifier::Phone,
                    _ => Identifier::Email,
                };
                return send_code_and_verify(ctx, &mut c, kind, value, lang, forms::ip(req)).await;
            }
            Screen::Register => {
                interaction::start(&mut c, Event::Register)?;
                profile::set(ctx, &mut c, Field::Username, value).await?;
                profile::set(ctx, &mut c, Field::Password, field("password")).await?;
                interaction::agree_to_terms(&mut c, agreed)?;
                submit::identify(ctx, &mut c, None, false).await?;
            }
        }
        finish(ctx, req, &c, agreed).await
    };
    match steps.await {
        Ok(res) => Ok(res),
        Err(Failure::Internal(e)) => Err(PageError::Internal(e)),
        Err(Failure::Step(StepError::MissingProfile(_))) if screen == Screen::SignIn => {
            Ok(web::redirect("/profile/missing"))
        }
        Err(f) => {
            let social = social_buttons(ctx, &c, lang).await?;
            failed(req, lang, &f, ctx.now(), |token, text| {
                render(&c, lang, screen, token, value, (Some(text), None), &social)
            })
        }
    }
}
