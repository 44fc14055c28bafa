//! One-time codes: sending one to an email address or phone number, checking it, and
//! identifying by it. Whether a code may be sent or used for the interaction's event is
//! [`policy::allow`](super::policy::allow)'s decision, asked at both ends.
use super::interaction::Current;
use super::messages::{self, Usage};
use super::policy::Way;
use super::state::{Event, Proof, StepError, Verification};
use super::Failure;
use crate::crypto::{random, secret};
use crate::ctx::Ctx;
use crate::i18n::Lang;
use crate::identity::{self, Channel, Identifier};
use crate::store::codes::{self, CodeRow};
use crate::store::throttle::{self, Policy};
use crate::store::users;
use crate::store::{Db, Kv};

/// One-time codes: 6 digits, 10 minutes, at most 10 tries, one resend a minute.
pub const CODE_TTL: i64 = 600;
pub const CODE_MAX_ATTEMPTS: i64 = 10;
pub const RESEND_AFTER: i64 = 60;
/// Wrong codes for one address within an hour, across codes and interactions, before the
/// address is locked for an hour: 30 guesses an hour against a million codes.
pub const CODE_IDENTIFIER_POLICY: Policy = Policy::hourly(30);
pub const CODE_IP_POLICY: Policy = Policy::hourly(300);
/// Codes sent to one address within an hour.
pub const SEND_POLICY: Policy = Policy::hourly(10);

/// The way a code for `channel` serves in this interaction now.
fn way(c: &Current, event: Event, channel: Channel) -> Way {
    Way::Code {
        event,
        channel,
        completing: event == Event::SignIn && c.state.user_id.is_some(),
    }
}

/// `POST /experience/verification/verification-code`: sends a code. For sign-in and forgot
/// password it is sent whether or not an account uses the identifier (no enumeration).
///
/// Sends are only for the channels the settings enable for the event, and are metered
/// against SMS and email pumping: per address (10 an hour), per client network (an IPv4
/// address or an IPv6 /64) and in all, hourly ([`crate::config::Config`]'s quotas); over
/// any of them the answer is a 429 that says when to retry.
pub async fn send<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    identifier: Identifier,
    value: &str,
    lang: Lang,
    ip: Option<&str>,
) -> Result<String, Failure> {
    let channel = identifier.channel().ok_or_else(|| {
        Failure::Invalid("Codes go to an email address or a phone number.".into())
    })?;
    // A malformed address is a 400 whatever the settings, as Logto's input guard answers.
    let value = identity::address(channel, value)?;
    let event = c.state.event().map_err(Failure::Step)?;
    c.allow(way(c, event, channel))?;
    if channel == Channel::Email && event != Event::ForgotPassword {
        super::sso::guard(ctx, c, &value).await?;
    }
    let usage = match event {
        Event::SignIn => Usage::SignIn,
        Event::Register => Usage::Register,
        Event::ForgotPassword => Usage::ForgotPassword,
    };
    let id = deliver(ctx, &c.interaction_id, channel, &value, usage, lang, ip).await?;
    c.state.add(Verification::Code {
        id: id.clone(),
        channel,
        identifier: value,
        verified: false,
    });
    Ok(id)
}

/// Meters, stores and sends one code to `value`; returns its verification id.
pub(crate) async fn deliver<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    interaction_id: &str,
    channel: Channel,
    value: &str,
    usage: Usage,
    lang: Lang,
    ip: Option<&str>,
) -> Result<String, Failure> {
    let now = ctx.now();
    // At most 10 codes an hour to one address, whatever the interaction; one a minute per
    // interaction; the network's and the site's hourly quotas.
    meter(ctx, (&format!("send:{value}"), SEND_POLICY), ip).await?;
    if let Some(last) = codes::latest(ctx.db, interaction_id, value).await? {
        let wait = last.created_at + RESEND_AFTER - now;
        if wait > 0 {
            return Err(Failure::ResendTooSoon { seconds: wait });
        }
    }
    let id = random::id()?;
    if !store_and_send(ctx, interaction_id, &id, (channel, value), usage, lang).await? {
        return Err(Failure::NoConnector);
    }
    Ok(id)
}

/// Counts one send against `own` (the address's or the person's quota), the client
/// network's and the site's hourly quotas; a 429 with the wait when any is spent.
pub(super) async fn meter<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    (own, policy): (&str, Policy),
    ip: Option<&str>,
) -> Result<(), Failure> {
    let now = ctx.now();
    let per_network = Policy::hourly(ctx.config.code_sends_per_hour_per_network);
    let total = Policy::hourly(ctx.config.code_sends_per_hour);
    let mut metered = vec![(own.to_owned(), policy)];
    if let Some(ip) = ip {
        metered.push((format!("sendnet:{}", super::network_key(ip)), per_network));
    }
    metered.push(("sendall".to_owned(), total));
    let keys: Vec<String> = metered.iter().map(|(k, _)| k.clone()).collect();
    if let Some(until) = throttle::locked_until(ctx.db, &keys, now).await? {
        return Err(Failure::ResendTooSoon {
            seconds: until - now,
        });
    }
    let counted: Vec<(&str, Policy)> = metered.iter().map(|(k, p)| (k.as_str(), *p)).collect();
    throttle::record_failures(ctx.db, &counted, now).await?;
    Ok(())
}

/// Stores a new code under verification `id` and sends it to `value`; false when there is
/// no way to send on `channel`.
pub(super) async fn store_and_send<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    interaction_id: &str,
    id: &str,
    (channel, value): (Channel, &str),
    usage: Usage,
    lang: Lang,
) -> Result<bool, Failure> {
    let now = ctx.now();
    let code = random::digits(6)?;
    codes::insert(
        ctx.db,
        &CodeRow {
            id: id.to_owned(),
            interaction_id: interaction_id.to_owned(),
            identifier_type: channel.as_str().into(),
            identifier: value.to_owned(),
            usage: usage.as_str().into(),
            code_hash: secret::code_hash(&ctx.config.key_encryption_secret, id, &code)?,
            attempts: 0,
            created_at: now,
            expires_at: now + CODE_TTL,
            verified_at: None,
        },
    )
    .await?;
    Ok(messages::send(ctx, channel, value, usage, lang, &code).await?)
}

/// `POST /experience/verification/verification-code/verify`: a code sent to an identifier
/// (never a second factor's: those go through `mfa_codes::verify`, which counts against the
/// user's factor lockout too).
pub async fn verify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    verification_id: &str,
    code: &str,
    ip: Option<&str>,
) -> Result<(), Failure> {
    check(ctx, c, (verification_id, false), code, ip).await
}

/// Checks the code of verification `id`; an MFA code's only with `mfa`.
pub(super) async fn check<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    (verification_id, mfa): (&str, bool),
    code: &str,
    ip: Option<&str>,
) -> Result<(), Failure> {
    let (identifier, sent) = match c
        .state
        .verification(verification_id)
        .map_err(Failure::Step)?
    {
        Verification::Code { identifier, .. } => (identifier.clone(), true),
        Verification::MfaCode { identifier, .. } if mfa => (identifier.clone(), true),
        Verification::Unlock {
            identifier, person, ..
        } => (
            identifier.clone().unwrap_or_else(|| person.clone()),
            identifier.is_some(),
        ),
        _ => return Err(Failure::Step(StepError::UnknownVerification)),
    };
    if !sent {
        // An unlock that sent nothing answers as a wrong code would, tries and all.
        if let Ok(Verification::Unlock { tries, sent_at, .. }) =
            c.state.verification_mut(verification_id)
        {
            *tries += 1;
            if *tries > CODE_MAX_ATTEMPTS || *sent_at + CODE_TTL <= ctx.now() {
                return Err(Failure::CodeExpiredOrLocked);
            }
        }
    }
    check_code(
        ctx,
        (verification_id, &identifier),
        sent.then_some(code),
        ip,
    )
    .await?;
    if let Ok(
        Verification::Code { verified, .. }
        | Verification::Unlock { verified, .. }
        | Verification::MfaCode { verified, .. },
    ) = c.state.verification_mut(verification_id)
    {
        *verified = true;
    }
    Ok(())
}

/// Checks `code` (none: nothing was sent, which fails as a wrong code would) for the code
/// row `id` sent to `identifier`, and marks the row verified. Wrong codes count per address
/// and per client network too (beyond each code's 10 tries), so that fresh codes cannot be
/// used to guess on.
pub(crate) async fn check_code<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    (verification_id, identifier): (&str, &str),
    code: Option<&str>,
    ip: Option<&str>,
) -> Result<(), Failure> {
    let now = ctx.now();
    let keys: Vec<String> = std::iter::once(format!("code:{identifier}"))
        .chain(ip.map(|ip| format!("codeip:{}", super::network_key(ip))))
        .collect();
    if let Some(until) = throttle::locked_until(ctx.db, &keys, now).await? {
        return Err(Failure::Locked { until });
    }
    let counted: Vec<(&str, Policy)> = keys
        .iter()
        .map(String::as_str)
        .zip([CODE_IDENTIFIER_POLICY, CODE_IP_POLICY])
        .collect();
    let Some(code) = code else {
        throttle::record_failures(ctx.db, &counted, now).await?;
        return Err(Failure::WrongCode);
    };
    let row = codes::take_attempt(ctx.db, verification_id, now, CODE_MAX_ATTEMPTS)
        .await?
        .ok_or(Failure::CodeExpiredOrLocked)?;
    let expected = secret::code_hash(&ctx.config.key_encryption_secret, &row.id, code.trim())?;
    if !secret::constant_time_eq(expected.as_bytes(), row.code_hash.as_bytes()) {
        throttle::record_failures(ctx.db, &counted, now).await?;
        return Err(Failure::WrongCode);
    }
    if !codes::mark_verified(ctx.db, &row.id, now).await? {
        return Err(Failure::CodeExpiredOrLocked);
    }
    Ok(())
}

async fn user_by(db: &impl Db, channel: Channel, value: &str) -> Result<Option<String>, Failure> {
    Ok(
        users::find_by_identifier(db, channel.identifier().into(), value)
            .await?
            .map(|u| u.id),
    )
}

/// Identification by a verified code: sign-in and forgot password find the user; a
/// registration takes the identifier into the new profile; a signed-in user adds the
/// address the settings now require. `None` when the verification is not a code.
pub async fn identify<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    verification_id: &str,
) -> Result<Option<()>, Failure> {
    let Proof::Identifier(channel, value) =
        c.state.proven(verification_id).map_err(Failure::Step)?
    else {
        return Ok(None);
    };
    // The settings may have changed since the code was sent: it must still be a way in.
    let event = c.state.event().map_err(Failure::Step)?;
    c.allow(way(c, event, channel))?;
    let add_to_profile = |c: &mut Current, value: String| match channel {
        Channel::Email => c.state.profile.primary_email = Some(value),
        Channel::Phone => c.state.profile.primary_phone = Some(value),
    };
    match event {
        // Already signed in: the code proved an address the account must now have.
        Event::SignIn if c.state.user_id.is_some() => {
            if user_by(ctx.db, channel, &value).await?.is_some() {
                return Err(Failure::EmailTaken);
            }
            add_to_profile(c, value);
        }
        Event::SignIn | Event::ForgotPassword => {
            let user = user_by(ctx.db, channel, &value)
                .await?
                .ok_or(Failure::UserNotFound)?;
            c.state.user_id = Some(user);
        }
        Event::Register => {
            if user_by(ctx.db, channel, &value).await?.is_some() {
                return Err(Failure::EmailTaken);
            }
            add_to_profile(c, value);
        }
    }
    Ok(Some(()))
}
