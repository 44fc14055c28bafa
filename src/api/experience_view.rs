//! What `GET /api/experience/interaction` shows of an interaction (Logto's shape).
use crate::experience::interaction::Current;
use crate::experience::state::Verification;
use crate::identity::Identifier;
use crate::json::{Json, Obj};

/// The interaction: its event, user, profile, verification records and MFA state.
pub fn interaction(c: &Current) -> Json {
    let verifications = c.state.verifications.iter().map(|v| {
        let (id, kind, verified) = match v {
            Verification::Password { id, .. } => (id, "Password", true),
            Verification::Totp { id, verified, .. } => (id, "Totp", *verified),
            Verification::BackupCode { id, .. } => (id, "BackupCode", true),
            Verification::MfaCode {
                id,
                channel,
                verified,
                ..
            } => (
                id,
                if channel.identifier() == Identifier::Email {
                    "MfaEmailVerificationCode"
                } else {
                    "MfaPhoneVerificationCode"
                },
                *verified,
            ),
            Verification::WebAuthn { id, sign_in, .. } => (
                id,
                if *sign_in {
                    "SignInPasskey"
                } else {
                    "WebAuthn"
                },
                true,
            ),
            Verification::Unlock { id, verified, .. } => (id, "AccountUnlock", *verified),
            Verification::Social { id, identity, .. } => (id, "Social", identity.is_some()),
            Verification::Code {
                id,
                channel,
                verified,
                ..
            } => (
                id,
                crate::account::verification::code_kind(*channel),
                *verified,
            ),
        };
        let mut o = Obj::new()
            .str("id", id)
            .str("type", kind)
            .bool("verified", verified);
        match v {
            Verification::Social { connector_id, .. } => o = o.str("connectorId", connector_id),
            Verification::Code {
                channel,
                identifier,
                ..
            } => {
                o = o.json(
                    "identifier",
                    Obj::new()
                        .str("type", channel.as_str())
                        .str("value", identifier)
                        .end(),
                )
            }
            _ => {}
        }
        o.end()
    });
    let p = &c.state.profile;
    Obj::new()
        .json("interactionEvent", Json::of(&c.state.event))
        .opt("userId", c.state.user_id.as_deref())
        .json(
            "profile",
            Obj::new()
                .opt("username", p.username.as_deref())
                .opt("primaryEmail", p.primary_email.as_deref())
                .opt("primaryPhone", p.primary_phone.as_deref())
                .bool("hasPassword", p.password_hash.is_some())
                .end(),
        )
        .json("verificationRecords", Json::array(verifications))
        .json("mfa", mfa_view(c))
        .end()
}

/// Logto's `mfa` of `GET /interaction`: what this interaction binds, enables and skips.
fn mfa_view(c: &Current) -> Json {
    let m = &c.state.mfa;
    let mut passkeys = Vec::new();
    let mut view = Obj::new().bool("mfaSkipped", m.skipped);
    if m.enabled {
        view = view.bool("mfaEnabled", true);
    }
    if m.passkey_skipped {
        view = view.bool("passkeySkipped", true);
    }
    for id in &m.bind {
        match c.state.verification(id) {
            Ok(Verification::Totp { .. }) => {
                view = view.json("totp", Obj::new().str("type", "Totp").end());
            }
            Ok(Verification::BackupCode { .. }) => {
                view = view.json("backupCode", Obj::new().str("type", "BackupCode").end());
            }
            Ok(Verification::WebAuthn {
                new_passkey: Some(p),
                ..
            }) => passkeys.push(
                Obj::new()
                    .str("type", "WebAuthn")
                    .str("credentialId", &p.credential_id)
                    .json("transports", Json::strs(&p.transports))
                    .str("agent", &p.agent)
                    .end(),
            ),
            _ => {}
        }
    }
    if !passkeys.is_empty() {
        view = view.json("webAuthn", Json::array(passkeys));
    }
    view.end()
}
