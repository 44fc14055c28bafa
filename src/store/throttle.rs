//! Failed-attempt counters in D1, for per-identifier and per-IP lockout.
use super::{query_as, Db, Statement, StoreError, Value};
use serde::Deserialize;

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

/// The latest `locked_until` among `keys` that is still in the future.
pub async fn locked_until(
    db: &impl Db,
    keys: &[String],
    now: i64,
) -> Result<Option<i64>, StoreError> {
    #[derive(Deserialize)]
    struct Row {
        locked_until: Option<i64>,
    }
    let mut latest = None;
    for key in keys {
        let rows: Vec<Row> = query_as(
            db,
            "SELECT locked_until FROM sign_in_failures WHERE key = ?1 AND locked_until > ?2",
            &[key.as_str().into(), now.into()],
        )
        .await?;
        for until in rows.into_iter().filter_map(|r| r.locked_until) {
            latest = latest.max(Some(until));
        }
    }
    Ok(latest)
}

/// Counts a failure for `key` (a new window starts when the old one is over) and locks the
/// key when it reaches the policy's limit.
pub async fn record_failure(
    db: &impl Db,
    key: &str,
    policy: Policy,
    now: i64,
) -> Result<(), StoreError> {
    let k = Value::from(key);
    db.batch(&[
        Statement::new(
            "INSERT INTO sign_in_failures (key, window_start, failures) VALUES (?1, ?2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN window_start + ?3 <= ?2 THEN 1 ELSE failures + 1 END, \
             window_start = CASE WHEN window_start + ?3 <= ?2 THEN ?2 ELSE window_start END",
            vec![k.clone(), now.into(), policy.window.into()],
        ),
        Statement::new(
            "UPDATE sign_in_failures SET locked_until = ?2 + ?4, failures = 0, window_start = ?2 \
             WHERE key = ?1 AND failures >= ?3",
            vec![k, now.into(), policy.limit.into(), policy.lock.into()],
        ),
    ])
    .await
    .map(|_| ())
}

/// Forgets the failures of `key` (after a successful sign-in).
pub async fn clear(db: &impl Db, key: &str, now: i64) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM sign_in_failures WHERE key = ?1 AND (locked_until IS NULL OR locked_until <= ?2)",
        &[key.into(), now.into()],
    )
    .await
    .map(|_| ())
}
