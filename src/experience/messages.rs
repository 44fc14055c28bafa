//! Sending codes: connectors (a generic HTTP email API, Twilio-style SMS), templates per use
//! and language, and the development mailbox.
use crate::crypto::random;
use crate::ctx::Ctx;
use crate::error::InternalError;
use crate::i18n::{Lang, Msg};
use crate::identity::Channel;
use crate::outbound::Job;
use crate::store::messages::{self as repo, ConnectorRow, MailRow};
use crate::store::{Db, Kv, StoreError};
use serde::Serialize;

/// Why a code is sent (Logto's template usage types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Usage {
    SignIn,
    Register,
    ForgotPassword,
    Generic,
}

impl Usage {
    /// The name stored with a code (and Logto's `usageType`).
    pub fn as_str(self) -> &'static str {
        match self {
            Usage::SignIn => "SignIn",
            Usage::Register => "Register",
            Usage::ForgotPassword => "ForgotPassword",
            Usage::Generic => "Generic",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    pub usage_type: Usage,
    /// A language code such as `en` or `de`; none means any language.
    pub locale: Option<String>,
    pub subject: Option<String>,
    /// The text; `{{code}}` is replaced by the code.
    pub content: String,
}

/// A generic JSON email API. The request is `POST endpoint` with
/// `Authorization: <authorization>` and `{"from", "to", "subject", "text"}`: the shape of
/// Resend's `POST /emails` (and close to most transactional email APIs).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpEmailConfig {
    pub endpoint: String,
    pub authorization: Option<String>,
    pub from: String,
    pub templates: Vec<Template>,
}

/// Twilio's Messages API: `POST {endpoint}/2010-04-01/Accounts/{accountSID}/Messages.json`,
/// HTTP Basic with the account SID and auth token, form fields `To`, `From`, `Body`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TwilioConfig {
    #[serde(rename = "accountSID")]
    pub account_sid: String,
    pub auth_token: String,
    pub from_number: String,
    /// Defaults to `https://api.twilio.com`.
    pub endpoint: Option<String>,
    pub templates: Vec<Template>,
}

// Read column by column (`store::FromRow`); a field the type does not have is refused.
mod read {
    use super::*;
    use crate::store::{Column, FromRow, Row};
    crate::column_enum!(Usage {
        SignIn = "SignIn",
        Register = "Register",
        ForgotPassword = "ForgotPassword",
        Generic = "Generic",
    });
    crate::from_row!(Template { usage_type = "usageType", locale, subject, content });
    impl Column for Template {
        fn column(v: Option<&serde_json::Value>) -> Option<Self> {
            super::read_only(v?, &["usageType", "locale", "subject", "content"]).ok()
        }
    }
    impl FromRow for HttpEmailConfig {
        fn from_row(r: &Row) -> Result<Self, StoreError> {
            crate::cols!(
                r,
                HttpEmailConfig {
                    endpoint,
                    authorization,
                    from,
                    templates: or_default
                }
            )
        }
    }
    impl FromRow for TwilioConfig {
        fn from_row(r: &Row) -> Result<Self, StoreError> {
            crate::cols!(r, TwilioConfig { account_sid = "accountSID", auth_token = "authToken", from_number = "fromNumber", endpoint, templates: or_default })
        }
    }
}

const HTTP_EMAIL_FIELDS: &[&str] = &["endpoint", "authorization", "from", "templates"];
const TWILIO_FIELDS: &[&str] = &[
    "accountSID",
    "authToken",
    "fromNumber",
    "endpoint",
    "templates",
];

/// `v` as a `T` with only `fields`: an unknown field, or a missing or mistyped one, is named.
fn read_only<T: crate::store::FromRow>(
    v: &serde_json::Value,
    fields: &[&str],
) -> Result<T, String> {
    let m = v.as_object().ok_or("the config must be an object")?;
    if let Some(k) = m.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(format!("unknown field `{k}`"));
    }
    T::from_row(m).map_err(|e| match e {
        StoreError::Decode(what) => format!(
            "`{}` is missing or not valid",
            what.strip_prefix("column ").unwrap_or(&what)
        ),
        e => e.to_string(),
    })
}

pub const HTTP_EMAIL: &str = "http-email";
pub const TWILIO_SMS: &str = "twilio-sms";

/// Checks a connector's config; returns its channel (`Email` or `Sms`).
pub fn check_config(
    connector_id: &str,
    config: &serde_json::Value,
) -> Result<&'static str, String> {
    let http_url = |u: &str| crate::uri::Uri::parse(u).is_some_and(|x| x.is_web());
    match connector_id {
        HTTP_EMAIL => {
            let c: HttpEmailConfig = read_only(config, HTTP_EMAIL_FIELDS)?;
            if !http_url(&c.endpoint) {
                return Err("endpoint must be an http(s) URL".into());
            }
            Ok("Email")
        }
        TWILIO_SMS => {
            let c: TwilioConfig = read_only(config, TWILIO_FIELDS)?;
            if c.endpoint.as_deref().is_some_and(|e| !http_url(e)) {
                return Err("endpoint must be an http(s) URL".into());
            }
            Ok("Sms")
        }
        other => Err(format!(
            "unknown connectorId `{other}`; use `{HTTP_EMAIL}` or `{TWILIO_SMS}`"
        )),
    }
}

fn default_text(usage: Usage, lang: Lang) -> (&'static str, &'static str) {
    let (subject, body) = match usage {
        Usage::Register => (Msg::MailRegisterSubject, Msg::MailRegisterBody),
        Usage::ForgotPassword => (Msg::MailResetSubject, Msg::MailResetBody),
        Usage::SignIn | Usage::Generic => (Msg::MailSignInSubject, Msg::MailSignInBody),
    };
    (lang.t(subject), lang.t(body))
}

/// The subject and text for a use and language: the connector's template for the use and
/// language, then for the use, then `Generic`, then the built-in text.
pub fn render(templates: &[Template], usage: Usage, lang: Lang, code: &str) -> (String, String) {
    let pick = |u: Usage, by_lang: bool| {
        templates.iter().find(|t| {
            t.usage_type == u
                && (!by_lang || t.locale.as_deref() == Some(lang.code()))
                && (by_lang || t.locale.is_none())
        })
    };
    let (dsub, dtext) = default_text(usage, lang);
    let chosen = pick(usage, true)
        .or_else(|| pick(usage, false))
        .or_else(|| pick(Usage::Generic, true))
        .or_else(|| pick(Usage::Generic, false));
    let (subject, text) = match chosen {
        Some(t) => (
            t.subject.clone().unwrap_or_else(|| dsub.to_owned()),
            t.content.clone(),
        ),
        None => (dsub.to_owned(), dtext.to_owned()),
    };
    (
        subject.replace("{{code}}", code),
        text.replace("{{code}}", code),
    )
}

/// A message the development mailbox holds.
pub use crate::store::messages::MailRow as Mail;

/// The development mailbox: the newest messages first, to `to` only if given.
pub async fn mailbox<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    to: Option<&str>,
) -> Result<Vec<Mail>, InternalError> {
    Ok(repo::mailbox(ctx.db, to, 100).await?)
}

/// Sends a code by the channel's connector (after the response), or into the development
/// mailbox. `Ok(false)` when there is no way to send.
pub async fn send<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    channel: Channel,
    to: &str,
    usage: Usage,
    lang: Lang,
    code: &str,
) -> Result<bool, InternalError> {
    let kind = match channel {
        Channel::Email => "Email",
        Channel::Phone => "Sms",
    };
    let Some(mut connector) = repo::connector_for(ctx.db, kind).await? else {
        if !ctx.config.dev_mailbox {
            return Ok(false);
        }
        let (subject, body) = render(&[], usage, lang, code);
        let usage = usage.as_str().to_owned();
        repo::deliver_to_mailbox(
            ctx.db,
            &MailRow {
                id: random::id()?,
                channel: kind.into(),
                recipient: to.into(),
                subject,
                body,
                usage,
                created_at: ctx.now_ms,
            },
        )
        .await?;
        return Ok(true);
    };
    connector.config = crate::json::text(&open_config(ctx, &connector).await?);
    ctx.defer(job(&connector, to, usage, lang, code)?);
    Ok(true)
}

/// What marks a sealed connector config in D1.
const SEALED: &str = "sealed:";

/// The fields of a connector config that are secrets: answered only masked by the API.
pub const SECRET_FIELDS: &[&str] = &[
    "authorization",
    "authToken",
    "clientSecret",
    "apiKey",
    "privateKey",
];
/// What the API shows for a secret, and takes back as "unchanged".
pub const MASK: &str = "********";

fn sealer<'a, D: Db, K: Kv>(
    ctx: &'a Ctx<'_, D, K>,
) -> Result<crate::crypto::keys::KeySealer<'a>, InternalError> {
    Ok(crate::crypto::keys::KeySealer::new(
        &ctx.config.key_encryption_secret,
        ctx.crypto,
    )?)
}

/// Seals a connector's config for D1 (AES-256-GCM under a key derived from
/// `KEY_ENCRYPTION_SECRET`, bound to the connector's id): a dump or a backup of the
/// database shows no SMS auth token or email API key.
pub async fn seal_config<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    connector_id: &str,
    config: &serde_json::Value,
) -> Result<String, InternalError> {
    let aad = format!("connector:{connector_id}");
    let sealed = sealer(ctx)?
        .seal(&aad, crate::json::text(config).as_bytes())
        .await?;
    Ok(format!("{SEALED}{sealed}"))
}

/// Opens a connector's config (one stored before sealing existed is read as it is).
pub async fn open_config<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &ConnectorRow,
) -> Result<serde_json::Value, InternalError> {
    let plain = match c.config.strip_prefix(SEALED) {
        Some(sealed) => {
            let aad = format!("connector:{}", c.id);
            let bytes = sealer(ctx)?.open(&aad, sealed).await?;
            String::from_utf8(bytes)
                .map_err(|e| StoreError::Decode(format!("connector {}: {e}", c.id)))?
        }
        None => c.config.clone(),
    };
    crate::json::parse(&plain)
        .map_err(|e| StoreError::Decode(format!("connector {}: {e}", c.id)).into())
}

/// The config as the API shows it: every secret field masked.
pub fn masked(mut config: serde_json::Value) -> serde_json::Value {
    if let Some(m) = config.as_object_mut() {
        for f in SECRET_FIELDS {
            if let Some(v) = m.get_mut(*f) {
                *v = crate::jv!(MASK);
            }
        }
    }
    config
}

/// A patch from the API without the secrets it echoes back masked (they stay as they are).
pub fn unmasked_patch(mut patch: serde_json::Value) -> serde_json::Value {
    if let Some(m) = patch.as_object_mut() {
        m.retain(|k, v| !(SECRET_FIELDS.contains(&k.as_str()) && v == MASK));
    }
    patch
}

fn decode<T: crate::store::FromRow>(c: &ConnectorRow, fields: &[&str]) -> Result<T, InternalError> {
    let v: serde_json::Value = crate::json::parse(&c.config)
        .map_err(|e| StoreError::Decode(format!("connector {}: {e}", c.id)))?;
    read_only(&v, fields).map_err(|e| StoreError::Decode(format!("connector {}: {e}", c.id)).into())
}

fn job(
    c: &ConnectorRow,
    to: &str,
    usage: Usage,
    lang: Lang,
    code: &str,
) -> Result<Job, InternalError> {
    match c.connector_id.as_str() {
        TWILIO_SMS => {
            let cfg: TwilioConfig = decode(c, TWILIO_FIELDS)?;
            let (_, text) = render(&cfg.templates, usage, lang, code);
            let base = cfg
                .endpoint
                .as_deref()
                .unwrap_or("https://api.twilio.com")
                .trim_end_matches('/');
            let basic = crate::crypto::base64::std_encode(
                format!("{}:{}", cfg.account_sid, cfg.auth_token).as_bytes(),
            );
            let body = form_urlencoded::Serializer::new(String::new())
                .append_pair("To", &format!("+{}", to.trim_start_matches('+')))
                .append_pair("From", &cfg.from_number)
                .append_pair("Body", &text)
                .finish();
            Ok(Job::Deliver {
                what: format!("SMS by connector {}", c.id),
                url: format!(
                    "{base}/2010-04-01/Accounts/{}/Messages.json",
                    cfg.account_sid
                ),
                headers: vec![
                    ("authorization".into(), format!("Basic {basic}")),
                    (
                        "content-type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ),
                ],
                body: body.into_bytes(),
            })
        }
        _ => {
            let cfg: HttpEmailConfig = decode(c, HTTP_EMAIL_FIELDS)?;
            let (subject, text) = render(&cfg.templates, usage, lang, code);
            let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
            if let Some(a) = cfg.authorization {
                headers.push(("authorization".into(), a));
            }
            let body = crate::jv!({"from": cfg.from, "to": to, "subject": subject, "text": text});
            Ok(Job::Deliver {
                what: format!("email by connector {}", c.id),
                url: cfg.endpoint,
                headers,
                body: crate::json::text(&body).into_bytes(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_fall_back_by_language_then_use_then_builtin() {
        let t = vec![
            Template {
                usage_type: Usage::SignIn,
                locale: Some("de".into()),
                subject: Some("Code".into()),
                content: "DE {{code}}".into(),
            },
            Template {
                usage_type: Usage::Generic,
                locale: None,
                subject: None,
                content: "Any {{code}}".into(),
            },
        ];
        assert_eq!(render(&t, Usage::SignIn, Lang::De, "123456").1, "DE 123456");
        assert_eq!(
            render(&t, Usage::SignIn, Lang::En, "123456").1,
            "Any 123456"
        );
        assert_eq!(
            render(&[], Usage::Register, Lang::De, "1").0,
            "Dein Bestätigungscode"
        );
        assert!(render(&[], Usage::ForgotPassword, Lang::En, "424242")
            .1
            .contains("424242"));
    }

    #[test]
    fn connector_configs_are_checked() {
        assert_eq!(
            check_config(
                HTTP_EMAIL,
                &json!({"endpoint": "https://api.resend.com/emails", "from": "a@b.c"})
            ),
            Ok("Email")
        );
        assert!(
            check_config(HTTP_EMAIL, &json!({"endpoint": "ftp://x", "from": "a@b.c"})).is_err()
        );
        assert!(check_config(
            HTTP_EMAIL,
            &json!({"endpoint": "https://x", "from": "a@b.c", "extra": 1})
        )
        .is_err());
        assert_eq!(
            check_config(
                TWILIO_SMS,
                &json!({"accountSID": "AC1", "authToken": "t", "fromNumber": "+1555"})
            ),
            Ok("Sms")
        );
        assert!(check_config("carrier-pigeon", &json!({})).is_err());
    }
}
