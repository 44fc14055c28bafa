//! Hosted pages: the HTTP face a person sees. Each screen family has its handlers here
//! (sign-in and registration, codes, the missing-profile prompt, consent, sign-out, the
//! authorization response); they parse the form, call the experience or OIDC core, and
//! render one askama template over a shared [`PageContext`]. No flow rule lives here, and no
//! SQL: whether a way in is open is the core's answer.
use crate::config::ConfigError;
use crate::i18n::{Lang, Msg};
use askama::Template;

pub mod account;
mod account_view;
pub mod authorize;
pub mod codes;
pub mod consent;
pub mod forms;
pub mod logout;
pub mod mfa;
pub mod mfa_screen;
pub mod profile;
pub mod sign_in;
pub mod social;
pub mod views;

/// What every page's layout needs.
pub struct PageContext {
    pub lang: &'static str,
    pub title: String,
    /// The sign-in experience's custom CSS (validated: no `</`).
    pub custom_css: Option<String>,
    pub brand: Brand,
}

/// Branding from the sign-in experience (colors validated as `#RRGGBB`, URLs as http(s)).
pub struct Brand {
    pub name: String,
    pub accent: String,
    pub dark_accent: String,
    pub dark_mode: bool,
    pub logo_url: Option<String>,
    pub dark_logo_url: Option<String>,
}

impl Default for Brand {
    fn default() -> Self {
        Brand::from(&crate::experience::settings::Settings::default())
    }
}

impl From<&crate::experience::settings::Settings> for Brand {
    fn from(s: &crate::experience::settings::Settings) -> Self {
        Brand {
            name: s
                .branding
                .name
                .clone()
                .unwrap_or_else(|| "Gatehouse".to_owned()),
            accent: s.color.primary_color.clone(),
            dark_accent: s.color.dark_primary_color.clone(),
            dark_mode: s.color.is_dark_mode_enabled,
            logo_url: s.branding.logo_url.clone(),
            dark_logo_url: s.branding.dark_logo_url.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ctx: PageContext,
    heading: &'a str,
    detail: String,
    hint: Option<String>,
}

fn render_error(lang: Lang, heading: &str, detail: &str, hint: Option<String>) -> String {
    let page = ErrorPage {
        ctx: PageContext {
            lang: lang.code(),
            title: heading.to_owned(),
            custom_css: None,
            brand: Brand::default(),
        },
        heading,
        detail: detail.to_owned(),
        hint,
    };
    page.render().unwrap_or_else(|e| {
        log::error!("cannot render the error page: {e}");
        "<!doctype html><title>Error</title><p>Something went wrong.</p>".to_owned()
    })
}

/// Tells the operator which variable to fix; never shows a value (English: for operators).
pub fn config_error(e: &ConfigError) -> String {
    render_error(
        Lang::En,
        "Gatehouse is not configured correctly",
        &format!("The setting {} {}.", e.variable, e.problem),
        Some(format!(
            "Fix {0} in .dev.vars for local development, or with `wrangler secret put {0}` \
             (secrets) or in wrangler.toml [vars] when deployed, then reload this page.",
            e.variable
        )),
    )
}

pub fn not_found(lang: Lang) -> String {
    render_error(
        lang,
        lang.t(Msg::NotFoundHeading),
        lang.t(Msg::NotFoundDetail),
        None,
    )
}

pub fn internal_error(lang: Lang, id: &str) -> String {
    render_error(
        lang,
        lang.t(Msg::InternalHeading),
        lang.t(Msg::InternalDetail),
        Some(lang.fill(Msg::ErrorId, &[("id", id)])),
    )
}

/// A request that cannot be served, with `msg` in the user's language.
pub fn invalid(lang: Lang, msg: Msg) -> String {
    render_error(lang, lang.t(Msg::ErrorHeading), lang.t(msg), None)
}
