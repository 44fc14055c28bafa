//! The Management API's MFA operations on a user (Logto's
//! `/api/users/{id}/mfa-verifications`): list, add an authenticator app or backup codes,
//! remove one. The rules are the experience's: one app per user, backup codes never alone.
use super::{backup, totp, Factor};
use crate::crypto::keys::KeySealer;
use crate::crypto::random;
use crate::ctx::Ctx;
use crate::error::InternalError;
use crate::store::mfa as repo;
use crate::store::{Db, Kv, StoreError};

/// Why an operation was refused (Logto's codes; all 422).
#[derive(Debug, PartialEq)]
pub enum Refused {
    TotpAlreadyInUse,
    TotpSecretInvalid,
    BackupCodeAlreadyInUse,
    BackupCodeAlone,
    WrongBackupCodeFormat,
}

impl Refused {
    pub fn code(&self) -> &'static str {
        match self {
            Refused::TotpAlreadyInUse => "user.totp_already_in_use",
            Refused::TotpSecretInvalid => "user.totp_secret_invalid",
            Refused::BackupCodeAlreadyInUse => "user.backup_code_already_in_use",
            Refused::BackupCodeAlone => "session.mfa.backup_code_can_not_be_alone",
            Refused::WrongBackupCodeFormat => "user.wrong_backup_code_format",
        }
    }
}

pub enum Outcome<T> {
    Done(T),
    Refused(Refused),
}

/// Binds an authenticator app to the user: `secret` (base32) or a new one. Returns the secret
/// and its QR code.
pub async fn add_totp<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    account: &str,
    secret: Option<&str>,
) -> Result<Outcome<(String, String)>, InternalError> {
    if repo::totp_of(ctx.db, user_id).await?.is_some() {
        return Ok(Outcome::Refused(Refused::TotpAlreadyInUse));
    }
    let (raw, encoded) = match secret {
        Some(s) => match totp::decode(s) {
            Some(raw) => (raw.clone(), totp::encode(&raw)),
            None => return Ok(Outcome::Refused(Refused::TotpSecretInvalid)),
        },
        None => totp::new_secret()?,
    };
    let id = random::id()?;
    let sealed = KeySealer::new(&ctx.config.key_encryption_secret, ctx.crypto)?
        .seal(&format!("totp:{id}"), &raw)
        .await?;
    match crate::store::transaction(
        ctx.db,
        &[repo::insert_totp(&id, user_id, &sealed, ctx.now_ms)],
    )
    .await
    {
        Ok(_) => {}
        Err(StoreError::Unique(_)) => return Ok(Outcome::Refused(Refused::TotpAlreadyInUse)),
        Err(e) => return Err(e.into()),
    }
    let qr = super::qr_code(ctx.host(), account, &encoded);
    Ok(Outcome::Done((encoded, qr)))
}

/// Gives the user backup codes (`codes`, or ten new ones), replacing used-up ones.
pub async fn add_backup_codes<D: Db, K: Kv>(
    ctx: &Ctx<'_, D, K>,
    user_id: &str,
    codes: Option<Vec<String>>,
) -> Result<Outcome<Vec<String>>, InternalError> {
    let rows = repo::factors_of(ctx.db, user_id).await?;
    if rows
        .iter()
        .any(|r| r.kind == "BackupCode" && r.remain_codes > 0)
    {
        return Ok(Outcome::Refused(Refused::BackupCodeAlreadyInUse));
    }
    if !rows.iter().any(|r| r.kind != "BackupCode") {
        return Ok(Outcome::Refused(Refused::BackupCodeAlone));
    }
    let codes = match codes {
        Some(c) if c.len() == backup::COUNT && c.iter().all(|x| backup::well_formed(x)) => {
            c.iter().map(|x| x.to_ascii_lowercase()).collect()
        }
        Some(_) => return Ok(Outcome::Refused(Refused::WrongBackupCodeFormat)),
        None => backup::generate()?,
    };
    let hashes = codes
        .iter()
        .map(|c| backup::hash(&ctx.config.key_encryption_secret, user_id, c))
        .collect::<Result<Vec<_>, _>>()?;
    crate::store::transaction(
        ctx.db,
        &repo::insert_backup_codes(&random::id()?, user_id, &hashes, ctx.now_ms),
    )
    .await?;
    Ok(Outcome::Done(codes))
}

/// The factor type of a stored row.
pub fn factor_of(kind: &str) -> Option<Factor> {
    match kind {
        "Totp" => Some(Factor::Totp),
        "BackupCode" => Some(Factor::BackupCode),
        "WebAuthn" => Some(Factor::WebAuthn),
        _ => None,
    }
}
