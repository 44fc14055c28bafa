//! Counters in D1 with a window and a lock: failed attempts (per person, per network) for
//! lockout, and hourly quotas (code sends).
use super::{query_as, Db, Statement, StoreError, Value};

/// How many failures within `window` seconds lock a key, and for how long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    pub limit: i64,
    pub window: i64,
    pub lock: i64,
}

impl Policy {
    /// `limit` failures within an hour lock for an hour.
    pub const fn hourly(limit: i64) -> Self {
        Policy {
            limit,
            window: 3600,
            lock: 3600,
        }
    }
}

/// The latest `locked_until` among `keys` that is still in the future: one read.
pub async fn locked_until(
    db: &impl Db,
    keys: &[String],
    now: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(locks(db, keys, now)
        .await?
        .into_iter()
        .map(|(_, until)| until)
        .max())
}

/// Which of `keys` are locked, and until when: one read.
pub async fn locks(
    db: &impl Db,
    keys: &[String],
    now: i64,
) -> Result<Vec<(String, i64)>, StoreError> {
    struct Row {
        key: String,
        locked_until: i64,
    }
    crate::from_row!(Row { key, locked_until });
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (2..keys.len() + 2).map(|i| format!("?{i}")).collect();
    let sql = format!(
        "SELECT key, locked_until FROM sign_in_failures WHERE locked_until > ?1 AND key IN ({})",
        marks.join(", ")
    );
    let mut params = vec![Value::from(now)];
    params.extend(keys.iter().map(|k| Value::from(k.as_str())));
    let rows: Vec<Row> = query_as(db, &sql, &params).await?;
    Ok(rows.into_iter().map(|r| (r.key, r.locked_until)).collect())
}

/// Counts a failure for `key` (a new window starts when the old one is over) and locks the
/// key when it reaches the policy's limit.
pub async fn record_failure(
    db: &impl Db,
    key: &str,
    policy: Policy,
    now: i64,
) -> Result<(), StoreError> {
    record_failures(db, &[(key, policy)], now).await
}

/// [`record_failure`] for several keys, in one transaction.
pub async fn record_failures(
    db: &impl Db,
    keys: &[(&str, Policy)],
    now: i64,
) -> Result<(), StoreError> {
    let mut statements = Vec::with_capacity(keys.len() * 2);
    for (key, policy) in keys {
        let k = Value::from(*key);
        statements.push(Statement::new(
            "INSERT INTO sign_in_failures (key, window_start, failures) VALUES (?1, ?2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN window_start + ?3 <= ?2 THEN 1 ELSE failures + 1 END, \
             window_start = CASE WHEN window_start + ?3 <= ?2 THEN ?2 ELSE window_start END",
            vec![k.clone(), now.into(), policy.window.into()],
        ));
        statements.push(Statement::new(
            "UPDATE sign_in_failures SET locked_until = ?2 + ?4, failures = 0, window_start = ?2 \
             WHERE key = ?1 AND failures >= ?3",
            vec![k, now.into(), policy.limit.into(), policy.lock.into()],
        ));
    }
    db.batch(&statements).await.map(|_| ())
}

/// Forgets the failures and any lock of `key` (after a successful sign-in, which a locked
/// key reaches only through its second proof).
pub async fn clear(db: &impl Db, key: &str) -> Result<(), StoreError> {
    db.batch(&[clear_statement(key)]).await.map(|_| ())
}

/// [`clear`] as a statement, for a transaction of the caller's.
pub fn clear_statement(key: &str) -> Statement {
    Statement::new(
        "DELETE FROM sign_in_failures WHERE key = ?1",
        vec![key.into()],
    )
}
