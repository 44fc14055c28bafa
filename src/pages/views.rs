//! The sign-in flow's pages: sign-in, registration, the one-form screens, consent, sign-out
//! confirmation, and the form_post response. Each renders one template; none holds flow
//! logic. Every word comes from the `i18n` catalog by message id.
use super::PageContext;
use crate::i18n::{Lang, Msg};
use askama::Template;

/// What the sign-in and registration pages share.
pub struct Form<'a> {
    pub lang: Lang,
    pub app_name: &'a str,
    pub csrf: &'a str,
    pub error: Option<&'a str>,
    pub terms_required: bool,
    pub terms_url: Option<&'a str>,
    pub privacy_url: Option<&'a str>,
    pub custom_css: Option<&'a str>,
    pub brand: Option<&'a crate::experience::settings::Settings>,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignIn<'a> {
    ctx: PageContext,
    t: Lang,
    passkey: Option<PasskeyUi<'a>>,
    continue_to: String,
    csrf: &'a str,
    identifier: &'a str,
    error: Option<&'a str>,
    can_register: bool,
    can_code: bool,
    can_reset: bool,
    notice: Option<&'a str>,
    terms_required: bool,
    terms_url: Option<&'a str>,
    privacy_url: Option<&'a str>,
    social: &'a [(String, String)],
    sso_hint: Option<&'a str>,
}

/// The links and notice of the sign-in page.
pub struct SignInExtras<'a> {
    pub passkey: Option<PasskeyUi<'a>>,
    pub can_register: bool,
    pub can_code: bool,
    pub can_reset: bool,
    pub notice: Option<&'a str>,
    /// Social sign-in buttons: (connector id, label).
    pub social: &'a [(String, String)],
    /// Enterprise SSO is on: the identifier field routes work emails to it.
    pub sso_hint: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "register.html")]
struct Register<'a> {
    ctx: PageContext,
    t: Lang,
    continue_to: String,
    csrf: &'a str,
    username: &'a str,
    error: Option<&'a str>,
    can_sign_in: bool,
    by_email: bool,
    phone_ok: bool,
    terms_required: bool,
    terms_url: Option<&'a str>,
    privacy_url: Option<&'a str>,
    social: &'a [(String, String)],
}

#[derive(Template)]
#[template(path = "consent.html")]
struct Consent<'a> {
    ctx: PageContext,
    t: Lang,
    heading: String,
    intro: String,
    user: &'a str,
    scopes: Vec<String>,
    csrf: &'a str,
}

#[derive(Template)]
#[template(path = "logout.html")]
struct Logout<'a> {
    ctx: PageContext,
    t: Lang,
    question: String,
    csrf: &'a str,
    fields: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct Message<'a> {
    ctx: PageContext,
    heading: &'a str,
    detail: &'a str,
}

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPost<'a> {
    action: &'a str,
    fields: Vec<(String, String)>,
    script: &'static str,
}

/// The only script of the form_post page; its hash goes into that page's CSP.
pub const FORM_POST_SCRIPT: &str = "document.forms[0].submit();";

/// A page's passkey ceremony: which one, where its verification is posted, the button (none:
/// autofill only) and the words shown when it fails. Hidden without JavaScript or WebAuthn.
pub struct PasskeyUi<'a> {
    pub mode: &'static str,
    pub action: &'static str,
    pub autofill: bool,
    pub button: Option<&'a str>,
    pub error: &'a str,
}

pub(super) fn render(t: impl Template) -> String {
    t.render().unwrap_or_else(|e| {
        log::error!("cannot render a page: {e}");
        "<!doctype html><title>Error</title><p>Something went wrong.</p>".to_owned()
    })
}

fn ctx(title: &str) -> PageContext {
    PageContext {
        lang: "en",
        title: title.to_owned(),
        custom_css: None,
        brand: super::Brand::default(),
    }
}

fn form_ctx(f: &Form<'_>, title: &str) -> PageContext {
    PageContext {
        lang: f.lang.code(),
        title: title.to_owned(),
        custom_css: f.custom_css.map(str::to_owned),
        brand: f.brand.map(super::Brand::from).unwrap_or_default(),
    }
}

fn continue_to(f: &Form<'_>) -> String {
    f.lang.fill(Msg::ContinueTo, &[("app", f.app_name)])
}

pub fn sign_in(f: &Form<'_>, identifier: &str, x: SignInExtras<'_>) -> String {
    let t = f.lang;
    render(SignIn {
        ctx: form_ctx(f, t.t(Msg::SignIn)),
        t,
        passkey: x.passkey,
        continue_to: continue_to(f),
        csrf: f.csrf,
        identifier,
        error: f.error,
        can_register: x.can_register,
        can_code: x.can_code,
        can_reset: x.can_reset,
        notice: x.notice,
        terms_required: f.terms_required,
        terms_url: f.terms_url,
        privacy_url: f.privacy_url,
        social: x.social,
        sso_hint: x.sso_hint,
    })
}

pub fn register(
    f: &Form<'_>,
    username: &str,
    can_sign_in: bool,
    by_email: bool,
    phone_ok: bool,
    social: &[(String, String)],
) -> String {
    let t = f.lang;
    render(Register {
        ctx: form_ctx(f, t.t(Msg::RegisterTitle)),
        t,
        continue_to: continue_to(f),
        csrf: f.csrf,
        username,
        error: f.error,
        can_sign_in,
        by_email,
        phone_ok,
        terms_required: f.terms_required,
        terms_url: f.terms_url,
        privacy_url: f.privacy_url,
        social,
    })
}

pub(super) fn lang_ctx(lang: Lang, title: &str) -> PageContext {
    PageContext {
        lang: lang.code(),
        title: title.to_owned(),
        custom_css: None,
        brand: super::Brand::default(),
    }
}

pub fn consent(lang: Lang, app_name: &str, user: &str, scopes: Vec<String>, csrf: &str) -> String {
    let app = [("app", app_name)];
    render(Consent {
        ctx: lang_ctx(lang, lang.t(Msg::Authorize)),
        t: lang,
        heading: lang.fill(Msg::ConsentHeading, &app),
        intro: lang.fill(Msg::ConsentIntro, &app),
        user,
        scopes,
        csrf,
    })
}

pub fn logout(
    lang: Lang,
    app_name: Option<&str>,
    csrf: &str,
    fields: Vec<(String, String)>,
) -> String {
    let question = match app_name {
        Some(app) => lang.fill(Msg::SignOutOf, &[("app", app)]),
        None => lang.t(Msg::SignOutQuestion).to_owned(),
    };
    render(Logout {
        ctx: lang_ctx(lang, lang.t(Msg::SignOut)),
        t: lang,
        question,
        csrf,
        fields,
    })
}

/// A page that says one thing.
pub fn message(lang: Lang, heading: Msg, detail: Msg) -> String {
    let heading = lang.t(heading);
    render(Message {
        ctx: lang_ctx(lang, heading),
        heading,
        detail: lang.t(detail),
    })
}

/// The page after the sign-out confirmation.
pub fn signed_out(lang: Lang, signed_out: bool) -> String {
    let heading = lang.t(if signed_out {
        Msg::SignedOut
    } else {
        Msg::StillSignedIn
    });
    render(Message {
        ctx: lang_ctx(lang, heading),
        heading,
        detail: lang.t(Msg::CloseWindow),
    })
}

pub fn form_post(action: &str, fields: Vec<(String, String)>) -> String {
    render(FormPost {
        action,
        fields,
        script: FORM_POST_SCRIPT,
    })
}

/// Words for a scope on the consent page.
pub fn describe_scope(lang: Lang, scope: &str) -> String {
    match Msg::for_scope(scope) {
        Some(m) => lang.t(m).to_owned(),
        None => lang.fill(Msg::ScopeOther, &[("scope", scope)]),
    }
}

#[derive(Template)]
#[template(path = "mailbox.html")]
struct Mailbox {
    ctx: PageContext,
    messages: Vec<crate::experience::messages::Mail>,
}

pub fn mailbox(messages: Vec<crate::experience::messages::Mail>) -> String {
    render(Mailbox {
        ctx: ctx("Development mailbox"),
        messages,
    })
}

/// A page with a few fields: (name, label, input type, autocomplete, value).
pub type Field<'a> = (&'a str, &'a str, &'a str, &'a str, String);

#[derive(Template)]
#[template(path = "one_field.html")]
struct OneField<'a> {
    ctx: PageContext,
    extra: Extra<'a>,
    passkey: Option<PasskeyUi<'a>>,
    heading: &'a str,
    intro: Option<String>,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    action: &'a str,
    csrf: &'a str,
    fields: Vec<Field<'a>>,
    button: &'a str,
    links: Vec<(&'a str, &'a str)>,
    terms_required: bool,
    terms_url: Option<&'a str>,
    privacy_url: Option<&'a str>,
    t: Lang,
}

/// What an MFA screen shows besides its fields: a QR code, a key, backup codes, a skip.
#[derive(Default)]
pub struct Extra<'a> {
    pub qr: Option<String>,
    pub secret: Option<String>,
    pub secret_label: &'a str,
    pub codes: Vec<String>,
    pub skip: Option<(&'a str, &'a str)>,
    pub passkey: Option<PasskeyUi<'a>>,
    /// Other steps, each a button that posts to its action (e.g. send a code).
    pub posts: Vec<(&'a str, &'a str)>,
}

pub struct FieldsPage<'a> {
    pub extra: Extra<'a>,
    pub heading: &'a str,
    pub intro: Option<String>,
    pub notice: Option<&'a str>,
    pub action: &'a str,
    pub fields: Vec<Field<'a>>,
    pub button: &'a str,
    pub links: Vec<(&'a str, &'a str)>,
}

pub fn fields_page(f: &Form<'_>, p: FieldsPage<'_>) -> String {
    let mut extra = p.extra;
    let passkey = extra.passkey.take();
    render(OneField {
        ctx: form_ctx(f, p.heading),
        extra,
        passkey,
        heading: p.heading,
        intro: p.intro,
        notice: p.notice,
        error: f.error,
        action: p.action,
        csrf: f.csrf,
        fields: p.fields,
        button: p.button,
        links: p.links,
        terms_required: f.terms_required,
        terms_url: f.terms_url,
        privacy_url: f.privacy_url,
        t: f.lang,
    })
}
