//! Writes the audit log. A failure to log is itself logged and never fails the request.
use crate::crypto::random;
use crate::store::logs::{self, LogRow};
use crate::store::{Db, Statement};
use serde_json::Value;

pub struct Entry<'a> {
    pub key: &'a str,
    pub ok: bool,
    pub user_id: Option<&'a str>,
    pub application_id: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub payload: Value,
}

fn row(e: Entry<'_>, now_ms: i64) -> Result<LogRow, crate::crypto::CryptoError> {
    Ok(LogRow {
        id: random::id()?,
        key: e.key.to_owned(),
        result: if e.ok { "Success" } else { "Error" }.to_owned(),
        user_id: e.user_id.map(str::to_owned),
        application_id: e.application_id.map(str::to_owned),
        ip: e.ip.map(str::to_owned),
        payload: crate::json::text(&e.payload),
        created_at: now_ms,
    })
}

/// The entry as a statement, for the sign-in's transaction: written only with the session
/// `sid` it records.
pub fn with_session(
    e: Entry<'_>,
    now_ms: i64,
    sid: &str,
) -> Result<Statement, crate::crypto::CryptoError> {
    Ok(logs::insert_with_session_statement(&row(e, now_ms)?, sid))
}

/// The entry as a statement, for a transaction of the caller's (which then fails with it).
pub fn statement(e: Entry<'_>, now_ms: i64) -> Result<Statement, crate::crypto::CryptoError> {
    Ok(logs::insert_statement(&row(e, now_ms)?))
}

pub async fn record(db: &impl Db, e: Entry<'_>, now_ms: i64) {
    let Ok(row) = row(e, now_ms) else { return };
    if let Err(err) = logs::insert(db, &row).await {
        log::error!("cannot write the audit log ({}): {err}", row.key);
    }
}
