//! The interaction's state read back from its JSON, column by column (`store::FromRow`): a
//! derived `Deserialize` for these types would cost the module more than this.
use super::*;
use crate::store::{FromRow, Row, StoreError};

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
        crate::cols!(r, MfaProgress { bind: or_default, skipped: or_default, enabled: or_default, passkey_skipped = "passkeySkipped": or_default, suggestion_skipped = "suggestionSkipped": or_default })
    }
}
crate::column_via_from_row!(MfaProgress);
impl crate::store::StandIn for MfaProgress {
    fn stand_in() -> Self {
        Self::default()
    }
}

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
            "Password" => crate::cols!(
                f,
                Verification::Password {
                    id,
                    user_id,
                    valid_after: or_default
                }
            )?,
            "Code" => crate::cols!(
                f,
                Verification::Code {
                    id,
                    channel,
                    identifier,
                    verified
                }
            )?,
            "Unlock" => crate::cols!(
                f,
                Verification::Unlock {
                    id,
                    person,
                    user_id,
                    channel,
                    identifier,
                    sent_at,
                    tries: or_default,
                    verified
                }
            )?,
            "Totp" => crate::cols!(
                f,
                Verification::Totp {
                    id,
                    user_id,
                    new_secret,
                    step,
                    verified
                }
            )?,
            "MfaCode" => crate::cols!(
                f,
                Verification::MfaCode {
                    id,
                    user_id,
                    channel,
                    identifier,
                    verified
                }
            )?,
            "WebAuthn" => crate::cols!(
                f,
                Verification::WebAuthn {
                    id,
                    user_id,
                    new_passkey,
                    sign_in: or_default,
                    valid_after: or_default,
                    amr: or_default
                }
            )?,
            "Social" => crate::cols!(
                f,
                Verification::Social {
                    id,
                    connector_id,
                    target,
                    state,
                    nonce,
                    verifier,
                    redirect_uri,
                    identity
                }
            )?,
            "BackupCode" => crate::cols!(
                f,
                Verification::BackupCode {
                    id,
                    user_id,
                    new_codes
                }
            )?,
            other => return Err(StoreError::Decode(format!("verification {other}"))),
        })
    }
}
crate::column_via_from_row!(Verification);

impl FromRow for State {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        crate::cols!(r, State { event, verifications: or_default, user_id = "userId", profile: or_default, pending, password_reset = "passwordReset": or_default, agreed_terms = "agreedTerms": or_default, valid_after = "validAfter", mfa: or_default, identified_by = "identifiedBy", link_social = "linkSocial" })
    }
}
