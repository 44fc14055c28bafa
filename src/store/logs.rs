//! The audit log in D1.
use super::{count, query_as, Db, Statement, StoreError, Value};

#[derive(Debug, Clone)]
pub struct LogRow {
    pub id: String,
    pub key: String,
    pub result: String,
    pub user_id: Option<String>,
    pub application_id: Option<String>,
    pub ip: Option<String>,
    pub payload: String,
    pub created_at: i64,
}
crate::from_row!(LogRow {
    id,
    key,
    result,
    user_id,
    application_id,
    ip,
    payload,
    created_at
});

pub fn insert_statement(l: &LogRow) -> Statement {
    Statement::new(
        "INSERT INTO logs (id, key, result, user_id, application_id, ip, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        vec![
            l.id.as_str().into(), l.key.as_str().into(), l.result.as_str().into(), l.user_id.clone().into(),
            l.application_id.clone().into(), l.ip.clone().into(), l.payload.as_str().into(), l.created_at.into(),
        ],
    )
}

/// The row, only if session `sid` was listed earlier in the same transaction.
pub fn insert_with_session_statement(l: &LogRow, sid: &str) -> Statement {
    Statement::new(
        "INSERT INTO logs (id, key, result, user_id, application_id, ip, payload, created_at) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE EXISTS (SELECT 1 FROM user_sessions WHERE id = ?9)",
        vec![
            l.id.as_str().into(), l.key.as_str().into(), l.result.as_str().into(), l.user_id.clone().into(),
            l.application_id.clone().into(), l.ip.clone().into(), l.payload.as_str().into(), l.created_at.into(),
            sid.into(),
        ],
    )
}

pub async fn insert(db: &impl Db, l: &LogRow) -> Result<(), StoreError> {
    db.batch(&[insert_statement(l)]).await.map(|_| ())
}

/// Filters of `GET /api/logs`.
#[derive(Default)]
pub struct Filter {
    pub user_id: Option<String>,
    pub application_id: Option<String>,
    pub key: Option<String>,
}

pub async fn list(
    db: &impl Db,
    f: &Filter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<LogRow>, i64), StoreError> {
    const WHERE: &str = "(?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR application_id = ?2) AND (?3 IS NULL OR key = ?3)";
    let params = [
        Value::from(f.user_id.clone()),
        f.application_id.clone().into(),
        f.key.clone().into(),
    ];
    let mut with_page = params.to_vec();
    with_page.extend([limit.into(), offset.into()]);
    let rows = query_as(
        db,
        &format!("SELECT id, key, result, user_id, application_id, ip, payload, created_at FROM logs WHERE {WHERE} ORDER BY created_at DESC, rowid DESC LIMIT ?4 OFFSET ?5"),
        &with_page,
    )
    .await?;
    Ok((
        rows,
        count(
            db,
            &format!("SELECT COUNT(*) AS n FROM logs WHERE {WHERE}"),
            &params,
        )
        .await?,
    ))
}
