//! The account page's view (`/account`): what the page shows of the account, as the account
//! center allows, and the forms for what it lets the person change. The actions are in
//! `pages::account`.
use super::account::lang;
use super::forms::page;
use super::views::{lang_ctx, render};
use super::PageContext;
use crate::account;
use crate::account::center::{Center, Control};
use crate::ctx::Ctx;
use crate::i18n::{Lang, Msg};
use crate::session::Loaded;
use crate::store::{Db, Kv};
use crate::web::error::PageError;
use crate::web::http::StatusCode;
use crate::web::{csrf, Request, Response};
use askama::Template;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    ctx: PageContext,
    t: Lang,
    csrf: &'a str,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    facts: Vec<(&'static str, String)>,
    name: &'a str,
    edit_name: bool,
    edit_password: bool,
    can_delete: bool,
    /// Address forms: channel, heading, input type, label.
    addresses: Vec<(&'static str, &'a str, &'static str, &'a str)>,
    pending: Option<Next>,
    sent_to: String,
    /// Linked identities, MFA factors and sessions: heading, action, its button, and the
    /// items.
    lists: Vec<(&'a str, &'static str, &'a str, Items)>,
}

/// A code sent to a new address, to be entered: the channel, the address, the code's record
/// and the password record that let it be sent.
pub(super) struct Pending {
    pub(super) channel: &'static str,
    pub(super) value: String,
    pub(super) record: String,
    pub(super) proof: String,
}

/// A list's items: key, label, and whether it may be removed here.
type Items = Vec<(String, String, bool)>;

/// What comes after a form post, besides a notice or an error.
pub(super) enum Next {
    /// A code to enter.
    Code(Pending),
    /// New backup codes, shown once.
    Codes(Vec<String>),
    /// An authenticator app to set up: its secret, QR code, and the password record.
    App(App),
    /// A passkey to create: the options (JSON), its record, and the password record.
    Passkey(String, String, String),
}

/// A new authenticator app's secret (base32), its QR code, and the password record that
/// let it be made.
pub(super) struct App {
    pub(super) secret: String,
    pub(super) qr: String,
    pub(super) proof: String,
}

/// What a form post ended with: a notice, an error, and what comes next.
pub(super) type Outcome = (Option<Msg>, Option<String>, Option<Next>);

pub(super) async fn view<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    (c, s): (&Center, &Loaded),
    (notice, error, pending): Outcome,
) -> Result<Response, PageError> {
    let t = lang(req);
    let u = &s.user;
    let shown = |f: &str| c.field(f) >= Control::ReadOnly;
    let mut facts = Vec::new();
    for (field, label, value) in [
        ("username", Msg::Username, &u.username),
        ("email", Msg::Email, &u.primary_email),
        ("phone", Msg::Phone, &u.primary_phone),
    ] {
        if let (true, Some(v)) = (shown(field), value) {
            facts.push((t.t(label), v.clone()));
        }
    }
    let mut addresses = Vec::new();
    for (field, heading, kind, label) in [
        ("email", Msg::ChangeEmail, "email", Msg::Email),
        ("phone", Msg::ChangePhone, "tel", Msg::Phone),
    ] {
        if c.field(field) == Control::Edit && u.password_hash.is_some() {
            addresses.push((field, t.t(heading), kind, t.t(label)));
        }
    }
    // Removing anything asks for the password.
    let edit = |f: &str| c.field(f) == Control::Edit && u.password_hash.is_some();
    // What the sign-in experience lets a user link and add (read once).
    let st = crate::experience::load_settings(ctx).await?;
    // A section of one item: the button that starts adding something.
    let adder = |heading: Msg, (action, key): (&'static str, &str), button: Msg| {
        let item = vec![(key.to_owned(), String::new(), true)];
        (t.t(heading), action, t.t(button), item)
    };
    let mut lists = Vec::new();
    if shown("social") {
        let e = edit("social");
        let items = u
            .identities
            .keys()
            .map(|k| (k.clone(), k.clone(), e))
            .collect();
        lists.push((t.t(Msg::LinkedAccounts), "unlink", t.t(Msg::Remove), items));
        if e {
            // The sign-in experience's providers, to link (again: it replaces that one).
            let targets = &st.social_sign_in_connector_targets;
            let mut items = Vec::new();
            for b in crate::experience::social::buttons(ctx, targets, t.code()).await? {
                items.push((b.connector_id, b.name, true));
            }
            if !items.is_empty() {
                lists.push((t.t(Msg::LinkAnother), "link", t.t(Msg::Link), items));
            }
        }
    }
    if shown("mfa") {
        let (mut items, e) = (Vec::new(), edit("mfa"));
        let mut has_app = false;
        for f in account::factors(ctx, &u.id).await? {
            has_app |= f.kind == "Totp";
            let label = match (f.kind.as_str(), f.name) {
                ("Totp", _) => t.t(Msg::AuthenticatorApp).to_owned(),
                ("BackupCode", _) => t.t(Msg::BackupCodes).to_owned(),
                (_, Some(name)) => name,
                _ => t.t(Msg::Passkey).to_owned(),
            };
            items.push((f.id, label, e));
        }
        lists.push((t.t(Msg::MfaVerifyTitle), "factor", t.t(Msg::Remove), items));
        if e && st.passkeys_bindable() {
            lists.push(adder(
                Msg::Passkey,
                ("new-passkey", "add"),
                Msg::CreatePasskey,
            ));
        }
        if e && !has_app && st.mfa.enabled(crate::mfa::Factor::Totp) {
            lists.push(adder(
                Msg::AuthenticatorApp,
                ("app", "add"),
                Msg::BindTotpTitle,
            ));
        }
        if e {
            lists.push(adder(
                Msg::BackupCodes,
                ("backup", "new"),
                Msg::NewBackupCodes,
            ));
        }
    }
    if shown("session") {
        let (mut items, e) = (Vec::new(), edit("session"));
        for l in account::live_sessions(ctx, &u.id).await? {
            let since = crate::clock::iso(l.created_at, false);
            let mut label = format!("{} {since}", t.t(Msg::SignedInSince));
            let current = l.id == s.session.sid;
            if current {
                label = format!("{label} · {}", t.t(Msg::ThisSession));
            }
            items.push((l.id, label, e && !current));
        }
        lists.push((t.t(Msg::Sessions), "end", t.t(Msg::EndSession), items));
    }
    let sent_to = match &pending {
        Some(Next::Code(p)) => t.fill(Msg::VerifyIntro, &[("to", &p.value)]),
        _ => String::new(),
    };
    let (token, new) = csrf::token(req)?;
    let body = render(AccountPage {
        ctx: lang_ctx(t, t.t(Msg::YourAccount)),
        t,
        csrf: &token,
        notice: notice.map(|m| t.t(m)),
        error: error.as_deref(),
        facts,
        name: u.name.as_deref().unwrap_or_default(),
        edit_name: c.field("name") == Control::Edit,
        edit_password: c.field("password") == Control::Edit && u.password_hash.is_some(),
        can_delete: c.field("deleteAccount") == Control::Edit && u.password_hash.is_some(),
        addresses,
        pending,
        sent_to,
        lists,
    });
    let status = match error {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    Ok(page(status, body, &token, new))
}
