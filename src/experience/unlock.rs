//! The soft lockout's second proof. Once a person is locked by failed passwords (Logto's
//! limit: 100 an hour), a password attempt is not refused outright, nor is the password
//! checked: the answer is a code sent to the account's own address. Verified in the
//! interaction, it lets that user's password be checked again. Someone else's failures
//! therefore cannot lock the owner out, and guessing still stops.
//!
//! Invariant: the answer does not tell whether the identifier names an account, whether the
//! account has an address, or whether the password was right. Every locked attempt gets the
//! same `SecondProof {verification_id}`, metered alike: one a minute per interaction, 10 an
//! hour per person (a quota of its own, so that an attacker who spends it does not also
//! spend the owner's forgot-password and code sign-in), and the network's and the site's
//! send quotas. An unlock that sent nothing (no account, no address on a channel the
//! settings enable, no connector) accepts no code, and answers as a wrong code would.
use super::codes::{self, RESEND_AFTER};
use super::interaction::Current;
use super::messages::Usage;
use super::policy;
use super::state::{Event, Verification};
use super::Failure;
use crate::crypto::random;
use crate::ctx::Ctx;
use crate::i18n::Lang;
use crate::identity::Channel;
use crate::store::throttle::Policy;
use crate::store::users::User;
use crate::store::{Db, Kv};

/// Unlock codes per locked person within an hour.
pub const UNLOCK_POLICY: Policy = Policy::hourly(10);

/// Where an unlock code for `user` goes: its email, else its phone, on a channel the
/// settings enable for codes at all (sign-in, sign-up or forgot password).
fn address(c: &Current, user: &User) -> Option<(Channel, String)> {
    let enabled = |channel| {
        [Event::SignIn, Event::Register, Event::ForgotPassword]
            .into_iter()
            .any(|e| policy::code_channels(&c.settings, &[], e).contains(&channel))
    };
    let email = user
        .primary_email
        .clone()
        .filter(|_| enabled(Channel::Email))
        .map(|e| (Channel::Email, e));
    let phone = || {
        user.primary_phone
            .clone()
            .filter(|_| enabled(Channel::Phone))
            .map(|p| (Channel::Phone, p))
    };
    email.or_else(phone)
}

/// Answers a locked person's password attempt: sends the unlock code (when there is somewhere
/// to send it) and returns the verification id to verify it under.
pub async fn challenge<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    c: &mut Current,
    user: Option<&User>,
    person: &str,
    lang: Lang,
    ip: Option<&str>,
) -> Result<String, Failure> {
    let now = ctx.now();
    let last = c
        .state
        .verifications
        .iter()
        .filter_map(|v| match v {
            Verification::Unlock {
                person: p, sent_at, ..
            } if p == person => Some(*sent_at),
            _ => None,
        })
        .max();
    if let Some(wait) = last.map(|t| t + RESEND_AFTER - now).filter(|w| *w > 0) {
        return Err(Failure::ResendTooSoon { seconds: wait });
    }
    codes::meter(ctx, (&format!("unlock:{person}"), UNLOCK_POLICY), ip).await?;
    let id = random::id()?;
    let target = user.filter(|u| !u.is_suspended).and_then(|u| address(c, u));
    let mut sent = None;
    if let (Some(u), Some((channel, value))) = (user, target) {
        if codes::store_and_send(
            ctx,
            &c.interaction_id,
            &id,
            (channel, &value),
            Usage::SignIn,
            lang,
        )
        .await?
        {
            sent = Some((u.id.clone(), channel, value));
        }
    }
    let (user_id, channel, identifier) = match sent {
        Some((u, ch, v)) => (Some(u), Some(ch), Some(v)),
        None => (None, None, None),
    };
    c.state.add(Verification::Unlock {
        id: id.clone(),
        person: person.to_owned(),
        user_id,
        channel,
        identifier,
        sent_at: now,
        tries: 0,
        verified: false,
    });
    Ok(id)
}
