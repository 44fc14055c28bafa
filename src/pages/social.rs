//! The hosted pages' social sign-in. A button of the sign-in or registration form posts to
//! `/sign-in/social/{connectorId}` (or `direct_sign_in=social:<target>` lands on
//! `/sign-in/direct`); the browser goes to the provider, which answers at Logto's
//! `/callback/{connectorId}`; a person whose verified email belongs to an account chooses at
//! `/callback/{connectorId}/link` or `…/register`. No flow rule lives here: the experience
//! core checks the answer and finds, links or creates the user.
use super::forms::{self, current, finish, language, page};
use super::views;
use crate::ctx::Ctx;
use crate::experience::interaction::{self, Current};
use crate::experience::state::{Event, StepError};
use crate::experience::{social, submit, Failure};
use crate::i18n::{Lang, Msg};
use crate::store::{Db, Kv};
use crate::web::error::PageError;
use crate::web::http::{Method, StatusCode};
use crate::web::{self, csrf, Request, Response};

/// What a failed social step shows: the sign-in page with the reason, or the next screen.
async fn failed<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    c: &Current,
    lang: Lang,
    f: Failure,
) -> Result<Response, PageError> {
    match f {
        Failure::Internal(e) => Err(PageError::Internal(e)),
        Failure::Step(StepError::MissingProfile(_)) => Ok(web::redirect("/profile/missing")),
        f => super::sign_in::with_error(ctx, req, c, lang, &f).await,
    }
}

/// `POST /sign-in/social/{connectorId}`: to the provider. The form's terms box counts as
/// agreed for a registration that follows.
pub async fn start<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    connector_id: String,
) -> Result<Response, PageError> {
    let (params, mut c, lang) = forms::posted(ctx, req).await?;
    let agreed = web::param(&params, "agree") == Some("yes");
    c.state.agreed_terms |= agreed;
    to_provider(ctx, req, c, lang, Some((connector_id, false))).await
}

/// Starts the social (or, flagged, enterprise SSO) sign-in with the connector and sends the
/// browser to the provider; with none, to the sign-in page.
pub async fn to_provider<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    mut c: Current,
    lang: Lang,
    connector: Option<(String, bool)>,
) -> Result<Response, PageError> {
    let steps = async {
        let Some((id, sso)) = connector else {
            return Ok(web::redirect("/sign-in"));
        };
        let idp = web::cookies::get(req, web::cookies::SAML_IDP);
        let url = social::start(ctx, &mut c, (&id, sso), idp.as_deref()).await?;
        interaction::save(ctx, &c).await?;
        Ok(web::redirect(&url))
    };
    match steps.await {
        Ok(res) => Ok(res),
        Err(f) => failed(ctx, req, &c, lang, f).await,
    }
}

/// `GET /sign-in/direct`: `direct_sign_in=social:<target>` of the authorization request, to
/// that provider at once; a target no connector serves shows the sign-in page.
pub async fn direct<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let c = current(ctx, req).await?;
    let lang = language(req, &c);
    let target = c.request.direct_sign_in.as_deref().unwrap_or_default();
    let id = match social::direct(ctx, &c.settings, target).await {
        Ok(id) => id,
        Err(f) => return failed(ctx, req, &c, lang, f).await,
    };
    to_provider(ctx, req, c, lang, id).await
}

/// `GET|POST /callback/{connectorId}`: the provider's answer. A `form_post` answer is sent
/// back as a 303 to the same address with its fields in the query: the interaction cookie
/// (`SameSite=Lax`) does not come with another site's POST, but does with the GET.
pub async fn callback<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    connector_id: String,
) -> Result<Response, PageError> {
    if req.method() == Method::POST {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(web::params(req))
            .finish();
        return Ok(web::redirect(&format!("/callback/{connector_id}?{query}")));
    }
    let mut c = current(ctx, req).await?;
    let lang = language(req, &c);
    let query = web::query_pairs(req);
    let steps = async {
        let id = social::callback(ctx, &mut c, &connector_id, &query).await?;
        identify(ctx, req, &mut c, &id, false).await
    };
    match steps.await {
        Ok(Done::Finished(res)) => Ok(res),
        Ok(Done::Related(identifier)) => link_page(req, &c, lang, &connector_id, &identifier),
        Err(f) => failed(ctx, req, &c, lang, f).await,
    }
}

/// `POST /callback/{connectorId}/link` (`link`) or `…/register`: the person's choice when
/// an account has the provider's verified email.
pub async fn choose<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    connector_id: String,
    link: bool,
) -> Result<Response, PageError> {
    let (_, mut c, lang) = forms::posted(ctx, req).await?;
    let steps = async {
        let id = social::checked(&c, &connector_id)
            .ok_or(Failure::Step(StepError::UnknownVerification))?;
        if !link {
            interaction::switch(&mut c, Event::Register)?;
        }
        identify(ctx, req, &mut c, &id, link).await
    };
    match steps.await {
        Ok(Done::Finished(res)) => Ok(res),
        Ok(Done::Related(_)) => failed(ctx, req, &c, lang, Failure::UserNotFound).await,
        Err(f) => failed(ctx, req, &c, lang, f).await,
    }
}

enum Done {
    Finished(Response),
    /// No user has the identity, one has its verified email (masked): ask.
    Related(String),
}

/// Identifies by the checked social verification `id` and submits. With no account for the
/// identity, registration (where it is open) or, when an account has its email, the
/// question.
async fn identify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    c: &mut Current,
    id: &str,
    link: bool,
) -> Result<Done, Failure> {
    match submit::identify(ctx, c, Some(id), link).await {
        Ok(_) => {}
        Err(Failure::IdentityNotExist {
            related: Some((_, value)),
        }) => {
            interaction::save(ctx, c).await?;
            return Ok(Done::Related(crate::mfa::masked(&value)));
        }
        Err(Failure::IdentityNotExist { related: None }) if c.settings.registration_allowed() => {
            interaction::switch(c, Event::Register)?;
            submit::identify(ctx, c, Some(id), false).await?;
        }
        Err(f) => return Err(f),
    }
    let agreed = c.state.agreed_terms;
    finish(ctx, req, c, agreed).await.map(Done::Finished)
}

/// "An account with … exists": link to it, or (where registration is open) a new one.
fn link_page(
    req: &Request,
    c: &Current,
    lang: Lang,
    connector_id: &str,
    identifier: &str,
) -> Result<Response, PageError> {
    let (token, new) = csrf::token(req)?;
    let f = forms::form(c, lang, &token, None, false);
    let (link, register) = (
        format!("/callback/{connector_id}/link"),
        format!("/callback/{connector_id}/register"),
    );
    let mut posts = vec![(link.as_str(), lang.t(Msg::LinkAccount))];
    if c.settings.registration_allowed() {
        posts.push((register.as_str(), lang.t(Msg::CreateAccount)));
    }
    let body = views::fields_page(
        &f,
        views::FieldsPage {
            extra: views::Extra {
                posts,
                ..Default::default()
            },
            heading: lang.t(Msg::LinkTitle),
            intro: Some(lang.fill(Msg::LinkIntro, &[("identifier", identifier)])),
            notice: None,
            action: "",
            fields: vec![],
            button: "",
            links: vec![],
        },
    );
    Ok(page(StatusCode::OK, body, &token, new))
}
