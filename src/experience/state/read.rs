//! The interaction's state read back from its JSON, column by column (`store::FromRow`): a
//! derived `Deserialize` for these types would cost the module more than this.
use super::*;
use crate::store::{column, column_or_default, FromRow, Row, StoreError};

crate::column_enum!(Event {
    SignIn = "SignIn",
    Register = "Register",
    ForgotPassword = "ForgotPassword",
});

crate::from_row!(Profile {
    username,
    primary_email = "primaryEmail",
    primary_phone = "primaryPhone",
    password_hash = "passwordHash",
});
crate::column_via_from_row!(Profile);

impl FromRow for MfaProgress {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(MfaProgress {
            bind: column_or_default(r, "bind")?,
            skipped: column_or_default(r, "skipped")?,
            enabled: column_or_default(r, "enabled")?,
            passkey_skipped: column_or_default(r, "passkeySkipped")?,
            suggestion_skipped: column_or_default(r, "suggestionSkipped")?,
        })
    }
}
crate::column_via_from_row!(MfaProgress);

crate::from_row!(NewPasskey {
    credential_id,
    public_key,
    counter,
    transports,
    agent
});
crate::column_via_from_row!(NewPasskey);

crate::from_row!(SocialIdentity {
    id,
    email,
    email_verified,
    phone,
    name,
    avatar
});
crate::column_via_from_row!(SocialIdentity);

impl FromRow for Verification {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        let (tag, body) = r
            .iter()
            .next()
            .ok_or_else(|| StoreError::Decode("an empty verification".into()))?;
        let f = body
            .as_object()
            .ok_or_else(|| StoreError::Decode("a verification is not an object".into()))?;
        Ok(match tag.as_str() {
            "Password" => Verification::Password {
                id: column(f, "id")?,
                user_id: column(f, "user_id")?,
                valid_after: column_or_default(f, "valid_after")?,
            },
            "Code" => Verification::Code {
                id: column(f, "id")?,
                channel: column(f, "channel")?,
                identifier: column(f, "identifier")?,
                verified: column(f, "verified")?,
            },
            "Unlock" => Verification::Unlock {
                id: column(f, "id")?,
                person: column(f, "person")?,
                user_id: column(f, "user_id")?,
                channel: column(f, "channel")?,
                identifier: column(f, "identifier")?,
                sent_at: column(f, "sent_at")?,
                tries: column_or_default(f, "tries")?,
                verified: column(f, "verified")?,
            },
            "Totp" => Verification::Totp {
                id: column(f, "id")?,
                user_id: column(f, "user_id")?,
                new_secret: column(f, "new_secret")?,
                step: column(f, "step")?,
                verified: column(f, "verified")?,
            },
            "MfaCode" => Verification::MfaCode {
                id: column(f, "id")?,
                user_id: column(f, "user_id")?,
                channel: column(f, "channel")?,
                identifier: column(f, "identifier")?,
                verified: column(f, "verified")?,
            },
            "WebAuthn" => Verification::WebAuthn {
                id: column(f, "id")?,
                user_id: column(f, "user_id")?,
                new_passkey: column(f, "new_passkey")?,
                sign_in: column_or_default(f, "sign_in")?,
                valid_after: column_or_default(f, "valid_after")?,
                amr: column_or_default(f, "amr")?,
            },
            "Social" => Verification::Social {
                id: column(f, "id")?,
                connector_id: column(f, "connector_id")?,
                target: column(f, "target")?,
                state: column(f, "state")?,
                nonce: column(f, "nonce")?,
                verifier: column(f, "verifier")?,
                redirect_uri: column(f, "redirect_uri")?,
                identity: column(f, "identity")?,
            },
            "BackupCode" => Verification::BackupCode {
                id: column(f, "id")?,
                user_id: column(f, "user_id")?,
                new_codes: column(f, "new_codes")?,
            },
            other => return Err(StoreError::Decode(format!("verification {other}"))),
        })
    }
}
crate::column_via_from_row!(Verification);

impl FromRow for State {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(State {
            event: column(r, "event")?,
            verifications: column_or_default(r, "verifications")?,
            user_id: column(r, "userId")?,
            profile: column_or_default(r, "profile")?,
            pending: column(r, "pending")?,
            password_reset: column_or_default(r, "passwordReset")?,
            agreed_terms: column_or_default(r, "agreedTerms")?,
            valid_after: column(r, "validAfter")?,
            mfa: column_or_default(r, "mfa")?,
            identified_by: column(r, "identifiedBy")?,
            link_social: column(r, "linkSocial")?,
        })
    }
}
