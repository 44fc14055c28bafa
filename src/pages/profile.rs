//! `GET|POST /profile/missing`: a signing-in user (or one a social sign-in just registered)
//! adds the username or email address the settings require.
use super::forms::{check_csrf, current, failed, finish, form, language, page};
use super::sign_in::send_code_and_verify;
use super::views;
use crate::ctx::Ctx;
use crate::experience::interaction::Current;
use crate::experience::profile::{self, required_profile, Field};
use crate::experience::state::{Event, ProfileField};
use crate::experience::Failure;
use crate::i18n::{Lang, Msg};
use crate::identity::Identifier;
use crate::store::{Db, Kv};
use crate::web::error::PageError;
use crate::web::http::StatusCode;
use crate::web::{self, csrf, Request, Response};

fn render(
    c: &Current,
    lang: Lang,
    wants_email: bool,
    token: &str,
    value: &str,
    error: Option<&str>,
) -> String {
    let mut f = form(c, lang, token, error, false);
    f.terms_url = None;
    f.privacy_url = None;
    let page = if wants_email {
        views::FieldsPage {
            extra: views::Extra::default(),
            heading: lang.t(Msg::AddEmail),
            intro: Some(lang.t(Msg::AddEmailIntro).to_owned()),
            notice: None,
            action: "/profile/missing",
            fields: vec![(
                "email",
                lang.t(Msg::Email),
                "email",
                "email",
                value.to_owned(),
            )],
            button: lang.t(Msg::SendCode),
            links: vec![],
        }
    } else {
        views::FieldsPage {
            extra: views::Extra::default(),
            heading: lang.t(Msg::AddUsername),
            intro: Some(lang.t(Msg::AddUsernameIntro).to_owned()),
            notice: None,
            action: "/profile/missing",
            fields: vec![(
                "username",
                lang.t(Msg::Username),
                "text",
                "username",
                value.to_owned(),
            )],
            button: lang.t(Msg::Continue),
            links: vec![],
        }
    };
    views::fields_page(&f, page)
}

pub async fn handle<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let mut c = current(ctx, req).await?;
    let lang = language(req, &c);
    // A signing-in user, or one a social sign-in just registered, with a field missing.
    if c.state.event == Some(Event::ForgotPassword) || c.state.user_id.is_none() {
        return Ok(web::redirect("/sign-in"));
    }
    let wants_email = !required_profile(&c.settings).contains(&ProfileField::Username);
    if req.method() == crate::web::http::Method::GET {
        let (token, new) = csrf::token(req)?;
        return Ok(page(
            StatusCode::OK,
            render(&c, lang, wants_email, &token, "", None),
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
            return send_code_and_verify(
                ctx,
                &mut c,
                Identifier::Email,
                value,
                lang,
                super::forms::ip(req),
            )
            .await;
        }
        profile::set(ctx, &mut c, Field::Username, value).await?;
        finish(ctx, req, &c, true).await
    };
    match steps.await {
        Ok(res) => Ok(res),
        Err(Failure::Internal(e)) => Err(PageError::Internal(e)),
        Err(f) => failed(req, lang, &f, ctx.now(), |token, text| {
            render(&c, lang, wants_email, token, value, Some(text))
        }),
    }
}
