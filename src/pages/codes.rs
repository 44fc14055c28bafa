//! The code screens: sign in with a code, reset a forgotten password, enter the code, and
//! choose the new password. Which channels a screen offers is the policy's answer.
use super::forms::{self, current, failed, finish, form, ip, language, page};
use super::sign_in::send_code_and_verify;
use super::views;
use crate::ctx::Ctx;
use crate::experience::interaction::{self, Current};
use crate::experience::policy::{self, Way};
use crate::experience::state::{Event, StepError, Verification};
use crate::experience::{codes, password, submit, Failure};
use crate::i18n::{Lang, Msg};
use crate::identity::{Channel, Identifier};
use crate::store::{Db, Kv};
use crate::web::error::PageError;
use crate::web::http::StatusCode;
use crate::web::{self, csrf, Request, Response};

#[derive(Clone, Copy, PartialEq)]
pub enum Screen {
    SignInCode,
    Reset,
    Verify,
    NewPassword,
}

impl Screen {
    pub fn of(path: &str) -> Option<Screen> {
        match path {
            "/sign-in/code" => Some(Screen::SignInCode),
            "/reset-password" => Some(Screen::Reset),
            "/verify" => Some(Screen::Verify),
            "/reset-password/new" => Some(Screen::NewPassword),
            _ => None,
        }
    }

    /// The event a screen that sends a code starts.
    fn event(self) -> Event {
        if self == Screen::Reset {
            Event::ForgotPassword
        } else {
            Event::SignIn
        }
    }
}

fn channels(c: &Current, screen: Screen) -> Vec<Channel> {
    policy::code_channels(&c.settings, &c.request.identifiers, screen.event())
}

/// The address field of a code screen: its label and input type.
fn address_field<'a>(c: &Current, screen: Screen, lang: Lang, value: &str) -> views::Field<'a> {
    let ch = channels(c, screen);
    let (label, kind, autocomplete) =
        match (ch.contains(&Channel::Email), ch.contains(&Channel::Phone)) {
            (true, true) => (Msg::EmailOrPhone, "text", "username"),
            (false, true) => (Msg::Phone, "tel", "tel"),
            _ => (Msg::Email, "email", "email"),
        };
    ("email", lang.t(label), kind, autocomplete, value.to_owned())
}

fn render(
    c: &Current,
    lang: Lang,
    screen: Screen,
    csrf_token: &str,
    value: &str,
    error: Option<&str>,
) -> String {
    let f = form(c, lang, csrf_token, error, false);
    let sent_to = c
        .state
        .pending
        .as_deref()
        .and_then(|id| c.state.verification(id).ok())
        .and_then(|v| match v {
            Verification::Code { identifier, .. } => Some(identifier.clone()),
            _ => None,
        });
    let unlocking = c
        .state
        .pending
        .as_deref()
        .and_then(|id| c.state.verification(id).ok())
        .is_some_and(|v| matches!(v, Verification::Unlock { .. }));
    let back = if c.state.event == Some(Event::Register) {
        ("/register", lang.t(Msg::RegisterTitle))
    } else {
        ("/sign-in", lang.t(Msg::UsePassword))
    };
    let page = match screen {
        Screen::SignInCode => views::FieldsPage {
            extra: views::Extra::default(),
            heading: lang.t(Msg::SignInWithCode),
            intro: None,
            notice: None,
            action: "/sign-in/code",
            fields: vec![address_field(c, screen, lang, value)],
            button: lang.t(Msg::SendCode),
            links: vec![("/sign-in", lang.t(Msg::UsePassword))],
        },
        Screen::Reset => views::FieldsPage {
            extra: views::Extra::default(),
            heading: lang.t(Msg::ResetTitle),
            intro: Some(lang.t(Msg::ResetIntro).to_owned()),
            notice: None,
            action: "/reset-password",
            fields: vec![address_field(c, screen, lang, value)],
            button: lang.t(Msg::SendCode),
            links: vec![("/sign-in", lang.t(Msg::UsePassword))],
        },
        Screen::Verify => views::FieldsPage {
            extra: views::Extra::default(),
            heading: lang.t(if unlocking {
                Msg::UnlockTitle
            } else {
                Msg::VerifyTitle
            }),
            intro: if unlocking {
                // Which address, if any, is not said: the page must not tell.
                Some(lang.t(Msg::UnlockIntro).to_owned())
            } else {
                sent_to.map(|to| lang.fill(Msg::VerifyIntro, &[("to", &to)]))
            },
            notice: None,
            action: "/verify",
            fields: vec![(
                "code",
                lang.t(Msg::Code),
                "text",
                "one-time-code",
                String::new(),
            )],
            button: lang.t(Msg::Continue),
            links: vec![back],
        },
        Screen::NewPassword => views::FieldsPage {
            extra: views::Extra::default(),
            heading: lang.t(Msg::NewPasswordTitle),
            intro: None,
            notice: None,
            action: "/reset-password/new",
            fields: vec![(
                "password",
                lang.t(Msg::NewPassword),
                "password",
                "new-password",
                String::new(),
            )],
            button: lang.t(Msg::SavePassword),
            links: vec![],
        },
    };
    views::fields_page(&f, page)
}

/// `GET` of a code screen.
pub async fn show<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    screen: Screen,
) -> Result<Response, PageError> {
    let c = current(ctx, req).await?;
    let lang = language(req, &c);
    let allowed = match screen {
        Screen::SignInCode | Screen::Reset => !channels(&c, screen).is_empty(),
        Screen::Verify => c.state.pending.is_some(),
        Screen::NewPassword => {
            c.state.event == Some(Event::ForgotPassword) && c.state.user_id.is_some()
        }
    };
    if !allowed {
        return Ok(web::redirect("/sign-in"));
    }
    let (token, new) = csrf::token(req)?;
    Ok(page(
        StatusCode::OK,
        render(&c, lang, screen, &token, "", None),
        &token,
        new,
    ))
}

/// `POST` of a code screen: runs its steps, then redirects to the next screen, or shows the
/// same screen with the error in the user's language.
pub async fn submit<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    screen: Screen,
) -> Result<Response, PageError> {
    let (params, mut c, lang) = forms::posted(ctx, req).await?;
    let field = |name| web::param(&params, name).unwrap_or_default();
    let value = field("email");
    let steps = async {
        match screen {
            Screen::SignInCode | Screen::Reset => {
                let kind = match Identifier::guess(value) {
                    Identifier::Phone => Identifier::Phone,
                    _ => Identifier::Email,
                };
                // The policy decides (again in `codes::send`); asked before the event starts
                // so that a refused request leaves the interaction as it was.
                if let Some(channel) = kind.channel() {
                    c.allow(Way::Code {
                        event: screen.event(),
                        channel,
                        completing: false,
                    })?;
                }
                interaction::start(&mut c, screen.event())?;
                send_code_and_verify(ctx, &mut c, kind, value, lang, forms::ip(req)).await
            }
            Screen::Verify => {
                let id = c.state.pending.clone().ok_or(Failure::NeedsVerification)?;
                codes::verify(ctx, &mut c, &id, field("code"), ip(req)).await?;
                interaction::save(ctx, &c).await?;
                if matches!(c.state.verification(&id), Ok(Verification::Unlock { .. })) {
                    // The account's lock is lifted for this interaction: the password next.
                    c.state.pending = None;
                    interaction::save(ctx, &c).await?;
                    return Ok(web::redirect("/sign-in?unlocked=1"));
                }
                submit::identify(ctx, &mut c, Some(&id), false).await?;
                if c.state.event == Some(Event::ForgotPassword) {
                    interaction::save(ctx, &c).await?;
                    return Ok(web::redirect("/reset-password/new"));
                }
                let agreed = c.state.agreed_terms;
                finish(ctx, req, &c, agreed).await
            }
            Screen::NewPassword => {
                password::reset(ctx, &mut c, field("password")).await?;
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
            render(&c, lang, screen, token, value, Some(text))
        }),
    }
}
