//! The MFA screens: verify a code of the authenticator app, a passkey or a backup code, bind
//! an authenticator app (QR code and key, no JavaScript) or a passkey, save backup codes,
//! skip when the policy allows; and the end of a passkey sign-in. Each is a form over
//! `experience::factors` (a passkey's ceremony runs in the page's script through the
//! Experience API, which posts the verification here); submit decides which comes next.
use super::forms::{self, current, failed, finish, form, language, page};
use super::views;
use crate::ctx::Ctx;
use crate::experience::interaction::{self, Current};
use crate::experience::state::Verification;
use crate::experience::Failure;
use crate::experience::{codes, factors, mfa_codes};
use crate::i18n::{Lang, Msg};
use crate::identity::Channel;
use crate::mfa::Factor;
use crate::store::{Db, Kv};
use crate::web::error::PageError;
use crate::web::http::StatusCode;
use crate::web::{self, csrf, Request, Response};

pub use super::mfa_screen::{next_screen, Screen};

async fn render<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    lang: Lang,
    screen: Screen,
    token: &str,
    error: Option<&str>,
) -> Result<String, Failure> {
    // What changes the interaction comes first (a new key, new codes), then the page.
    let new_totp = match screen {
        Screen::BindTotp => Some(factors::totp_secret(ctx, c).await?),
        _ => None,
    };
    let new_codes = match screen {
        Screen::BackupCodes => Some(factors::backup_generate(ctx, c).await?.1),
        _ => None,
    };
    if new_totp.is_some() || new_codes.is_some() {
        interaction::save(ctx, c).await?;
    }
    let have = match screen {
        Screen::Verify | Screen::Skip | Screen::Passkey | Screen::SendCode(_) => {
            factors::bound_factors(ctx, c).await?
        }
        _ => Vec::new(),
    };
    // The code this screen waits for, and where it went.
    let sent_to = c
        .state
        .pending
        .as_deref()
        .and_then(|id| match c.state.verification(id) {
            Ok(
                Verification::MfaCode { identifier, .. } | Verification::Code { identifier, .. },
            ) => Some(identifier.clone()),
            _ => None,
        });
    let passkey = |mode, action, label| views::PasskeyUi {
        mode,
        action,
        autofill: false,
        button: Some(lang.t(label)),
        error: lang.t(Msg::PasskeyFailed),
    };
    let c: &Current = c;
    let f = form(c, lang, token, error, false);
    let skip = c
        .settings
        .mfa
        .policy
        .skippable()
        .then_some((Screen::Skip.action(), lang.t(Msg::SkipForNow)));
    let code_field = |label| {
        (
            "code",
            lang.t(label),
            "text",
            "one-time-code",
            String::new(),
        )
    };
    let page = match screen {
        Screen::Verify
        | Screen::Skip
        | Screen::SkipPasskey
        | Screen::SkipMore
        | Screen::Passkey
        | Screen::SignInPasskey
        | Screen::SendCode(_) => {
            let mut links = Vec::new();
            if have.contains(&Factor::BackupCode) {
                links.push(("/mfa/backup-code", lang.t(Msg::UseBackupCode)));
            }
            let by_app = have.contains(&Factor::Totp);
            let mut posts = Vec::new();
            if have.contains(&Factor::EmailVerificationCode) {
                posts.push((
                    Screen::SendCode(Channel::Email).action(),
                    lang.t(Msg::MfaEmailCode),
                ));
            }
            if have.contains(&Factor::PhoneVerificationCode) {
                posts.push((
                    Screen::SendCode(Channel::Phone).action(),
                    lang.t(Msg::MfaPhoneCode),
                ));
            }
            views::FieldsPage {
                extra: views::Extra {
                    passkey: have
                        .contains(&Factor::WebAuthn)
                        .then(|| passkey("verify", Screen::Passkey.action(), Msg::UsePasskey)),
                    posts,
                    ..views::Extra::default()
                },
                heading: lang.t(Msg::MfaVerifyTitle),
                intro: by_app.then(|| lang.t(Msg::MfaVerifyIntro).to_owned()),
                notice: None,
                action: Screen::Verify.action(),
                fields: if by_app {
                    vec![code_field(Msg::TotpCodeLabel)]
                } else {
                    Vec::new()
                },
                button: lang.t(Msg::Continue),
                links,
            }
        }
        Screen::Code => views::FieldsPage {
            extra: views::Extra::default(),
            heading: lang.t(Msg::MfaVerifyTitle),
            intro: Some(
                sent_to
                    .map(|to| lang.fill(Msg::VerifyIntro, &[("to", &crate::mfa::masked(&to))]))
                    .ok_or(Failure::NeedsVerification)?,
            ),
            notice: None,
            action: Screen::Code.action(),
            fields: vec![code_field(Msg::Code)],
            button: lang.t(Msg::Continue),
            links: vec![("/mfa/verify", lang.t(Msg::MfaVerifyTitle))],
        },
        Screen::BindAddress(channel) => {
            let (title, label, kind) = match channel {
                Channel::Email => (Msg::AddEmail, Msg::Email, "email"),
                Channel::Phone => (Msg::AddPhone, Msg::Phone, "tel"),
            };
            views::FieldsPage {
                extra: views::Extra {
                    skip,
                    ..views::Extra::default()
                },
                heading: lang.t(title),
                intro: Some(lang.t(Msg::BindAddressIntro).to_owned()),
                notice: None,
                action: screen.action(),
                fields: vec![(kind, lang.t(label), kind, kind, String::new())],
                button: lang.t(Msg::SendCode),
                links: Vec::new(),
            }
        }
        Screen::PreferPasskey => views::FieldsPage {
            extra: views::Extra {
                passkey: Some(passkey(
                    "bind",
                    Screen::BindPasskey.action(),
                    Msg::CreatePasskey,
                )),
                skip: Some((Screen::SkipPasskey.action(), lang.t(Msg::SkipForNow))),
                ..views::Extra::default()
            },
            heading: lang.t(Msg::BindPasskeyTitle),
            intro: Some(lang.t(Msg::PreferPasskeyIntro).to_owned()),
            notice: None,
            action: Screen::PreferPasskey.action(),
            fields: Vec::new(),
            button: lang.t(Msg::Continue),
            links: Vec::new(),
        },
        Screen::More => views::FieldsPage {
            extra: views::Extra {
                skip: Some((Screen::SkipMore.action(), lang.t(Msg::SkipForNow))),
                ..views::Extra::default()
            },
            heading: lang.t(Msg::MoreFactorsTitle),
            intro: Some(lang.t(Msg::MoreFactorsIntro).to_owned()),
            notice: None,
            action: Screen::More.action(),
            fields: Vec::new(),
            button: lang.t(Msg::Continue),
            // What would end the suggestion (a passkey that also signs in would not).
            links: [
                (Factor::Totp, Screen::BindTotp, Msg::BindTotpTitle),
                (Factor::WebAuthn, Screen::BindPasskey, Msg::CreatePasskey),
            ]
            .into_iter()
            .filter(|(f, ..)| {
                c.settings.mfa.enabled(*f)
                    && (*f != Factor::WebAuthn || !c.settings.passkey_sign_in.enabled)
            })
            .map(|(_, s, m)| (s.action(), lang.t(m)))
            .collect(),
        },
        Screen::BindPasskey => views::FieldsPage {
            extra: views::Extra {
                passkey: Some(passkey(
                    "bind",
                    Screen::BindPasskey.action(),
                    Msg::CreatePasskey,
                )),
                skip,
                ..views::Extra::default()
            },
            heading: lang.t(Msg::BindPasskeyTitle),
            intro: Some(lang.t(Msg::BindPasskeyIntro).to_owned()),
            notice: None,
            action: Screen::BindPasskey.action(),
            fields: Vec::new(),
            button: lang.t(Msg::Continue),
            // The other factor to choose, when there is one.
            links: c
                .settings
                .mfa
                .enabled(Factor::Totp)
                .then(|| (Screen::BindTotp.action(), lang.t(Msg::BindTotpTitle)))
                .into_iter()
                .collect(),
        },
        Screen::BackupCode => views::FieldsPage {
            extra: views::Extra::default(),
            heading: lang.t(Msg::MfaVerifyTitle),
            intro: None,
            notice: None,
            action: Screen::BackupCode.action(),
            fields: vec![(
                "code",
                lang.t(Msg::BackupCodeLabel),
                "text",
                "off",
                String::new(),
            )],
            button: lang.t(Msg::Continue),
            links: vec![],
        },
        Screen::BindTotp => {
            let t = new_totp.ok_or(Failure::MfaFactorNotEnabled)?;
            views::FieldsPage {
                extra: views::Extra {
                    qr: Some(t.qr_data_url),
                    secret: Some(t.secret),
                    secret_label: lang.t(Msg::SecretKey),
                    skip,
                    ..views::Extra::default()
                },
                heading: lang.t(Msg::BindTotpTitle),
                intro: Some(lang.t(Msg::BindTotpIntro).to_owned()),
                notice: None,
                action: Screen::BindTotp.action(),
                fields: vec![code_field(Msg::TotpCodeLabel)],
                button: lang.t(Msg::Continue),
                links: c
                    .settings
                    .mfa
                    .enabled(Factor::WebAuthn)
                    .then(|| (Screen::BindPasskey.action(), lang.t(Msg::CreatePasskey)))
                    .into_iter()
                    .collect(),
            }
        }
        Screen::BackupCodes => {
            let codes = new_codes.unwrap_or_default();
            views::FieldsPage {
                extra: views::Extra {
                    codes,
                    ..views::Extra::default()
                },
                heading: lang.t(Msg::BackupCodesTitle),
                intro: Some(lang.t(Msg::BackupCodesIntro).to_owned()),
                notice: None,
                action: Screen::BackupCodes.action(),
                fields: vec![],
                button: lang.t(Msg::SavedCodes),
                links: vec![],
            }
        }
    };
    Ok(views::fields_page(&f, page))
}

/// `GET` of an MFA screen.
pub async fn show<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    screen: Screen,
) -> Result<Response, PageError> {
    let mut c = current(ctx, req).await?;
    let lang = language(req, &c);
    let (token, new) = csrf::token(req)?;
    match render(ctx, &mut c, lang, screen, &token, None).await {
        Ok(body) => Ok(page(StatusCode::OK, body, &token, new)),
        Err(Failure::Internal(e)) => Err(PageError::Internal(e)),
        // Not identified yet, or nothing to do here: back to the start.
        Err(_) => Ok(web::redirect("/sign-in")),
    }
}

/// `POST` of an MFA screen: runs its step, then submits; a submit that still stops for MFA
/// goes to the next screen.
pub async fn submit<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
    screen: Screen,
) -> Result<Response, PageError> {
    let (params, mut c, lang) = forms::posted(ctx, req).await?;
    let code = web::param(&params, "code").unwrap_or_default().to_owned();
    let vid = web::param(&params, "verificationId")
        .unwrap_or_default()
        .to_owned();
    let step = async {
        match screen {
            Screen::Verify => {
                factors::totp_verify(ctx, &mut c, &code, None).await?;
            }
            Screen::BackupCode => {
                factors::backup_verify(ctx, &mut c, &code).await?;
            }
            Screen::BindTotp => {
                let t = factors::totp_secret(ctx, &mut c).await?;
                factors::totp_verify(ctx, &mut c, &code, Some(&t.verification_id)).await?;
                factors::bind(ctx, &mut c, Factor::Totp, &t.verification_id).await?;
            }
            Screen::BackupCodes => {
                let (id, _) = factors::backup_generate(ctx, &mut c).await?;
                factors::bind(ctx, &mut c, Factor::BackupCode, &id).await?;
            }
            Screen::Skip => factors::skip(&mut c)?,
            Screen::SkipPasskey => factors::skip_passkey(&mut c)?,
            Screen::SkipMore => factors::skip_suggestion(&mut c)?,
            // Only shown: "Continue" submits again.
            Screen::PreferPasskey | Screen::More => {}
            // The script verified the passkey through the Experience API: its record is in
            // the interaction already; the submit below finds it (or asks again).
            Screen::Passkey => {}
            Screen::BindPasskey => factors::bind(ctx, &mut c, Factor::WebAuthn, &vid).await?,
            Screen::SignInPasskey => {
                crate::experience::submit::identify(ctx, &mut c, Some(&vid), false).await?;
                let agreed = web::param(&params, "agree") == Some("yes");
                interaction::agree_to_terms(&mut c, agreed)?;
            }
            Screen::SendCode(channel) => {
                let id = mfa_codes::send(ctx, &mut c, channel, lang, forms::ip(req)).await?;
                c.state.pending = Some(id);
                interaction::save(ctx, &c).await?;
                return Ok(web::redirect(Screen::Code.action()));
            }
            Screen::Code => {
                let id = c.state.pending.clone().ok_or(Failure::NeedsVerification)?;
                match c.state.verification(&id) {
                    // An address to bind: its code, then the binding.
                    Ok(Verification::Code { channel, .. }) => {
                        let factor = mfa_codes::factor_of(*channel);
                        codes::verify(ctx, &mut c, &id, &code, forms::ip(req)).await?;
                        factors::bind(ctx, &mut c, factor, &id).await?;
                    }
                    _ => {
                        mfa_codes::verify(ctx, &mut c, &id, &code, forms::ip(req)).await?;
                    }
                }
            }
            Screen::BindAddress(channel) => {
                let (kind, name) = match channel {
                    Channel::Email => (crate::identity::Identifier::Email, "email"),
                    Channel::Phone => (crate::identity::Identifier::Phone, "tel"),
                };
                let value = web::param(&params, name).unwrap_or_default().to_owned();
                let id = codes::send(ctx, &mut c, kind, &value, lang, forms::ip(req)).await?;
                c.state.pending = Some(id);
                interaction::save(ctx, &c).await?;
                return Ok(web::redirect(Screen::Code.action()));
            }
        }
        let agreed = c.state.agreed_terms;
        finish(ctx, req, &c, agreed).await
    };
    match step.await {
        Ok(res) => Ok(res),
        Err(Failure::Internal(e)) => Err(PageError::Internal(e)),
        Err(f) => match next_screen(&f) {
            Some(to) => Ok(web::redirect(to)),
            None => {
                let (token, new) = csrf::token(req)?;
                let (status, text) = forms::message(lang, &f, ctx.now());
                let shown = match screen {
                    Screen::Skip => Screen::BindTotp,
                    Screen::SkipPasskey => Screen::PreferPasskey,
                    Screen::SkipMore => Screen::More,
                    Screen::SignInPasskey => {
                        return failed(req, lang, &f, ctx.now(), |_, t| t.to_owned())
                    }
                    s => s,
                };
                match render(ctx, &mut c, lang, shown, &token, Some(&text)).await {
                    Ok(body) => Ok(page(status, body, &token, new)),
                    Err(Failure::Internal(e)) => Err(PageError::Internal(e)),
                    Err(_) => failed(req, lang, &f, ctx.now(), |_, t| t.to_owned()),
                }
            }
        },
    }
}
