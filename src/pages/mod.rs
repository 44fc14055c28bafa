//! Hosted pages: one askama template per page over a shared [`PageContext`].
use crate::config::ConfigError;
use askama::Template;
use i18n::{translate, Lang};

pub mod flow;
pub mod handlers;
pub mod i18n;

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

fn render_error(lang: Lang, heading: &str, detail: String, hint: Option<String>) -> String {
    let heading = translate(lang, heading);
    let page = ErrorPage {
        ctx: PageContext {
            lang: lang.code(),
            title: heading.clone(),
            custom_css: None,
            brand: Brand::default(),
        },
        heading: &heading,
        detail: translate(lang, &detail),
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
        format!("The setting {} {}.", e.variable, e.problem),
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
        "Page not found",
        "There is nothing at this address.".to_owned(),
        None,
    )
}

pub fn internal_error(lang: Lang, id: &str) -> String {
    render_error(
        lang,
        "Something went wrong",
        "We could not complete your request. Please try again in a moment.".to_owned(),
        Some(format!("Error id: {id}")),
    )
}

/// A request that cannot be served, with `message` in the user's language when known.
pub fn invalid(lang: Lang, message: &str) -> String {
    render_error(lang, "Something is not right", message.to_owned(), None)
}
