//! The hosted account page's actions (`POST /account`; the view is `account_view`): as the
//! account center allows, the signed-in person changes the name, the password, the email
//! address and the phone number, links and unlinks social identities (never the last way
//! in), sets up an authenticator app, creates a passkey, makes new backup codes, removes
//! factors, ends other sessions and deletes the account. Every action but the name asks for
//! the current password first, checked as a verification record is (the sign-in's throttle
//! and log); a second step (a code, a provider's answer, a passkey) is taken only within
//! that record's ten minutes, through the Account API's records. No JavaScript but the
//! passkey script.
//!
//! The page signs in through the normal flow: without a session it sends the browser to
//! `/oidc/auth` as the provider's own first-party app (`oidc::clients::ACCOUNT_APP`), which
//! comes back here once the session exists.
use super::account_view::{view, App, Next, Pending};
use super::forms::{check_csrf, session_token};
use crate::account::center::{self, Center, Control};
use crate::account::{self, verification as records};
use crate::crypto::random;
use crate::ctx::Ctx;
use crate::experience::{Failure, Origin};
use crate::i18n::{Lang, Msg};
use crate::identity::{self, Channel};
use crate::session::{self, Loaded};
use crate::store::{Db, Kv};
use crate::web::error::PageError;
use crate::web::http::StatusCode;
use crate::web::{self, cookies, Request, Response};

pub(super) fn lang(req: &Request) -> Lang {
    Lang::pick(None, &web::accepted_languages(req), "en")
}

/// Where a browser without a session goes: the authorization request of the account app.
fn sign_in_first<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>) -> Result<Response, PageError> {
    // PKCE with a challenge of no known verifier: the code that comes back cannot be
    // redeemed (the page needs only the session the sign-in made).
    let challenge = format!("{}{}", random::id()?, random::id()?);
    let url = crate::uri::with_query(
        &format!("{}/auth", ctx.issuer()),
        [
            ("client_id", crate::oidc::clients::ACCOUNT_APP),
            ("redirect_uri", &format!("{}/account", ctx.origin)),
            ("response_type", "code"),
            ("scope", "openid"),
            (
                "code_challenge",
                &crate::crypto::b64url(challenge.as_bytes()),
            ),
            ("code_challenge_method", "S256"),
        ],
    );
    Ok(web::redirect(&url))
}

/// The settings (404 while the account center is off) and the person's session.
async fn signed_in<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<(Center, Option<Loaded>), PageError> {
    let c = center::load(ctx).await?;
    if !c.enabled {
        return Err(PageError::NotFound);
    }
    let token = session_token(req);
    Ok((
        c,
        session::load(ctx.db, ctx.kv, token.as_deref(), ctx.now()).await?,
    ))
}

/// `GET /account`.
pub async fn show<D: Db, K: Kv>(ctx: &Ctx<'_, D, K>, req: &Request) -> Result<Response, PageError> {
    let (c, Some(s)) = signed_in(ctx, req).await? else {
        return sign_in_first(ctx);
    };
    // A provider's answer to a link begun here: its `state` is the social record's id, which
    // only this user's password made (so another person's answer links nothing).
    let query = web::query_pairs(req);
    let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let Some(record) = q("state").filter(|_| c.field("social") == Control::Edit) else {
        return view(ctx, req, (&c, &s), (None, None, None)).await;
    };
    let data = crate::jv!({"code": q("code"), "state": record, "error": q("error")});
    let linked = match records::social_verify(ctx, &s.user.id, record, &data).await {
        Ok(true) => account::link_social(ctx, &s.user, record).await,
        Ok(false) => Err(Failure::CodeExpiredOrLocked),
        Err(f) => Err(f),
    };
    let t = lang(req);
    match linked {
        Ok(true) => {
            let user = account::reload(ctx, &s.user.id)
                .await?
                .unwrap_or(s.user.clone());
            let done = (Some(Msg::Saved), None, None);
            view(ctx, req, (&c, &Loaded { user, ..s }), done).await
        }
        Err(Failure::Internal(e)) => Err(e.into()),
        Ok(false) => Err(PageError::NotFound),
        Err(f) => {
            let why = super::forms::message(t, &f, ctx.now()).1;
            view(ctx, req, (&c, &s), (None, Some(why), None)).await
        }
    }
}

/// `POST /account` (`action` = `name`, `password`, `address` (a code to a new address),
/// `confirm` (that code), `unlink` (an identity), `factor` (removed), `end` or `delete`).
pub async fn submit<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    req: &Request,
) -> Result<Response, PageError> {
    let params = web::params(req);
    check_csrf(req, &params)?;
    let (c, Some(s)) = signed_in(ctx, req).await? else {
        return sign_in_first(ctx);
    };
    let p = |k: &str| web::param(&params, k).unwrap_or_default();
    let action = p("action");
    let field = match (action, p("channel")) {
        ("name", _) => "name",
        ("password", _) => "password",
        ("address" | "confirm", "email") => "email",
        ("address" | "confirm", "phone") => "phone",
        ("end", _) => "session",
        ("unlink" | "link", _) => "social",
        ("factor" | "backup" | "app" | "app-code" | "new-passkey" | "passkey", _) => "mfa",
        ("delete", _) => "deleteAccount",
        _ => return Err(PageError::NotFound),
    };
    if c.field(field) != Control::Edit {
        return Err(PageError::NotFound);
    }
    let u = &s.user;
    let t = lang(req);
    let ip = web::client_ip(req);
    let failed = |f: &Failure| super::forms::message(t, f, ctx.now()).1;
    let mut proof = p("proof").to_owned();
    if matches!(action, "confirm" | "app-code" | "passkey") {
        // The password record of the first step, still good, and the code.
        if !records::permits(ctx, u, Some(&proof)).await? {
            let wrong = t.t(Msg::CodeExpired).to_owned();
            return view(ctx, req, (&c, &s), (None, Some(wrong), None)).await;
        }
    } else if action != "name" {
        // The current password first, checked as a verification record is.
        let from = Origin {
            ip,
            application_id: Some(crate::oidc::clients::ACCOUNT_APP),
        };
        match records::by_password(ctx, u, p("current"), &from).await {
            Ok((id, _)) => proof = id,
            Err(Failure::Internal(e)) => return Err(e.into()),
            Err(_) => {
                let wrong = t.t(Msg::WrongPassword).to_owned();
                return view(ctx, req, (&c, &s), (None, Some(wrong), None)).await;
            }
        }
    }
    let channel = match field {
        "phone" => Channel::Phone,
        _ => Channel::Email,
    };
    let notice = match action {
        "address" => {
            let sent = match identity::address(channel, p("value")) {
                Ok(value) => records::send_code(ctx, u, (channel, &value), t, ip)
                    .await
                    .map(|(record, _)| (value, record)),
                Err(e) => Err(e.into()),
            };
            let outcome = match sent {
                Ok((value, record)) => {
                    let pending = Pending {
                        channel: field,
                        value,
                        record,
                        proof,
                    };
                    (None, None, Some(Next::Code(pending)))
                }
                Err(Failure::Internal(e)) => return Err(e.into()),
                Err(f) => (None, Some(failed(&f)), None),
            };
            return view(ctx, req, (&c, &s), outcome).await;
        }
        "confirm" => {
            let (record, value) = (p("record"), p("value"));
            let taken = match records::verify_code(ctx, &u.id, record, p("code"), ip).await {
                Ok(true)
                    if records::proves_address(ctx, &u.id, record, (channel, value)).await? =>
                {
                    account::take_address(ctx, u, channel, value.to_owned()).await
                }
                Ok(_) => Err(Failure::CodeExpiredOrLocked),
                Err(f) => Err(f),
            };
            match taken {
                Ok(user) => {
                    let done = (Some(Msg::AddressChanged), None, None);
                    return view(ctx, req, (&c, &Loaded { user, ..s }), done).await;
                }
                Err(Failure::Internal(e)) => return Err(e.into()),
                // A wrong code may be tried again (the code's own throttle counts it).
                Err(f @ Failure::WrongCode) => {
                    let pending = Pending {
                        channel: field,
                        value: value.to_owned(),
                        record: record.to_owned(),
                        proof,
                    };
                    let outcome = (None, Some(failed(&f)), Some(Next::Code(pending)));
                    return view(ctx, req, (&c, &s), outcome).await;
                }
                Err(f) => {
                    return view(ctx, req, (&c, &s), (None, Some(failed(&f)), None)).await;
                }
            }
        }
        "name" => {
            let mut changed = u.clone();
            let name = p("name").trim();
            changed.name = (!name.is_empty()).then(|| name.chars().take(128).collect());
            changed.updated_at = ctx.now_ms;
            account::save_profile(ctx, &changed).await?;
            return view(
                ctx,
                req,
                (&c, &Loaded { user: changed, ..s }),
                (Some(Msg::Saved), None, None),
            )
            .await;
        }
        "password" => {
            let new = p("password");
            if let Err(e) = account::check_new_password(ctx, u, new).await {
                return view(ctx, req, (&c, &s), (None, Some(failed(&e)), None)).await;
            }
            let params = ctx.config.password_hash;
            account::change_password(ctx, &u.id, new, params, Some(&s.session.sid)).await?;
            Msg::PasswordChanged
        }
        "link" => {
            let back = format!("{}/account", ctx.origin);
            return match records::social_start(ctx, u, p("key"), (None, &back)).await {
                Ok((url, _, _)) => Ok(web::redirect(&url)),
                Err(Failure::Internal(e)) => Err(e.into()),
                Err(f) => view(ctx, req, (&c, &s), (None, Some(failed(&f)), None)).await,
            };
        }
        "unlink" => match account::unlink(ctx, u, p("key")).await? {
            account::Unlinked::Done => {
                let mut user = u.clone();
                user.identities.remove(p("key"));
                let done = (Some(Msg::Removed), None, None);
                return view(ctx, req, (&c, &Loaded { user, ..s }), done).await;
            }
            account::Unlinked::LastWay => {
                let why = t.t(Msg::LastWay).to_owned();
                return view(ctx, req, (&c, &s), (None, Some(why), None)).await;
            }
            account::Unlinked::NotLinked => return Err(PageError::NotFound),
        },
        "app" => {
            let secret = crate::mfa::totp::new_secret()
                .map_err(crate::error::InternalError::from)?
                .1;
            let qr = crate::mfa::qr_code(ctx.host(), &u.label(), &secret);
            let app = App { secret, qr, proof };
            return view(ctx, req, (&c, &s), (None, None, Some(Next::App(app)))).await;
        }
        "app-code" => {
            let secret = p("secret");
            let body = crate::jv!({"type": "Totp", "secret": secret, "code": p("code")});
            match account::add_factor(ctx, (u, &s.session.sid), &body).await {
                Ok(Ok(())) => Msg::Saved,
                Err(Failure::Internal(e)) => return Err(e.into()),
                Err(f @ Failure::InvalidTotp) => {
                    // The same secret again: the app has it already.
                    let (secret, qr) = (
                        secret.to_owned(),
                        crate::mfa::qr_code(ctx.host(), &u.label(), secret),
                    );
                    let app = Some(Next::App(App { secret, qr, proof }));
                    return view(ctx, req, (&c, &s), (None, Some(failed(&f)), app)).await;
                }
                Ok(Err(_)) | Err(_) => {
                    let why = t.t(Msg::AppRefused).to_owned();
                    return view(ctx, req, (&c, &s), (None, Some(why), None)).await;
                }
            }
        }
        "new-passkey" => {
            let next = match records::passkey_start(ctx, u).await {
                Ok((options, id, _)) => Next::Passkey(crate::json::text(&options), id, proof),
                Err(Failure::Internal(e)) => return Err(e.into()),
                Err(f) => return view(ctx, req, (&c, &s), (None, Some(failed(&f)), None)).await,
            };
            return view(ctx, req, (&c, &s), (None, None, Some(next))).await;
        }
        "passkey" => {
            let payload = crate::json::parse(p("payload")).unwrap_or_default();
            let agent = web::header(req, crate::web::http::header::USER_AGENT).unwrap_or_default();
            let at = (p("record"), &payload);
            let related = &c.webauthn_related_origins;
            let bound = match records::passkey_verify(ctx, &u.id, at, (agent, related)).await {
                Ok(true) => {
                    let body = crate::jv!({"type": "WebAuthn", "newIdentifierVerificationRecordId": p("record")});
                    account::add_factor(ctx, (u, &s.session.sid), &body).await
                }
                Ok(false) => Err(Failure::CodeExpiredOrLocked),
                Err(f) => Err(f),
            };
            match bound {
                Ok(Ok(())) => Msg::Saved,
                Err(Failure::Internal(e)) => return Err(e.into()),
                _ => {
                    let why = t.t(Msg::PasskeyFailed).to_owned();
                    return view(ctx, req, (&c, &s), (None, Some(why), None)).await;
                }
            }
        }
        "backup" => match account::new_backup_codes(ctx, &u.id).await? {
            Ok(codes) => {
                let shown = (Some(Msg::BackupCodesIntro), None, Some(Next::Codes(codes)));
                return view(ctx, req, (&c, &s), shown).await;
            }
            Err(_) => {
                let why = t.t(Msg::BackupCodesRefused).to_owned();
                return view(ctx, req, (&c, &s), (None, Some(why), None)).await;
            }
        },
        "factor" => match account::remove_factor(ctx, &u.id, p("key")).await? {
            true => Msg::Removed,
            false => return Err(PageError::NotFound),
        },
        "end" => {
            crate::oidc::logout::end_one_of_user(ctx, &u.id, p("key")).await?;
            Msg::SessionEnded
        }
        _ => {
            account::delete_user(ctx, &u.id, Some(crate::oidc::clients::ACCOUNT_APP)).await?;
            let mut res = web::html(
                StatusCode::OK,
                super::views::message(t, Msg::AccountDeleted, Msg::CloseWindow),
            );
            cookies::clear(&mut res, cookies::SESSION);
            return Ok(res);
        }
    };
    view(ctx, req, (&c, &s), (Some(notice), None, None)).await
}
