//! The authorization-code flow's state in D1: grants, codes, token families, refresh tokens
//! and opaque access tokens. Secrets are stored by their hash only.
use super::users::{self, User};
use super::{decode_rows, query_as, query_one, Db, Query, Statement, StoreError, Value};
use serde::Serialize;
use std::collections::BTreeMap;

/// What a token family may carry: OIDC scopes, and per resource indicator its scopes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Granted {
    pub scopes: Vec<String>,
    pub resources: BTreeMap<String, Vec<String>>,
}
crate::from_row!(Granted { scopes, resources });
crate::column_via_from_row!(Granted);

impl Granted {
    pub fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Keeps, of each resource's scopes, only those in `now` (what the user's roles grant
    /// at this moment): a grant never outlives the role that allowed it.
    pub fn narrow_to(&mut self, now: &BTreeMap<String, Vec<String>>) {
        for (indicator, scopes) in &mut self.resources {
            let allowed = now.get(indicator);
            scopes.retain(|s| allowed.is_some_and(|a| a.contains(s)));
        }
    }
}

pub use super::from_json;

// ---- grants (consent): in `grants.rs`
pub use super::grants::{delete_grant, grant, grants_of_user, upsert_grant, GrantRow};

// ---- codes

#[derive(Debug, Clone)]
pub struct CodeRow {
    pub id: String,
    pub grant_id: String,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub granted: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub session_id: String,
    pub auth_time: i64,
    /// JSON array, e.g. `["pwd"]`.
    pub amr: String,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
}
crate::from_row!(CodeRow {
    id,
    grant_id,
    client_id,
    user_id,
    redirect_uri,
    granted,
    code_challenge,
    nonce,
    session_id,
    auth_time,
    amr,
    expires_at,
    consumed_at
});

/// Issues a code in one transaction: the grant is written (inserted, or updated in place),
/// the code is stored under the grant's id, and the interaction is deleted.
pub async fn issue_code(
    db: &impl Db,
    grant_id: &str,
    granted: &Granted,
    (now, grant_expires_at): (i64, i64),
    c: &CodeRow,
    interaction_id: &str,
) -> Result<(), StoreError> {
    let scopes =
        serde_json::to_string(&granted.scopes).map_err(|e| StoreError::Decode(e.to_string()))?;
    let resources =
        serde_json::to_string(&granted.resources).map_err(|e| StoreError::Decode(e.to_string()))?;
    db.batch(&[
        Statement::new(
            "INSERT INTO oidc_grants (id, user_id, client_id, scopes, resources, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, \
             resources = excluded.resources, expires_at = excluded.expires_at",
            vec![
                grant_id.into(),
                c.user_id.as_str().into(),
                c.client_id.as_str().into(),
                scopes.into(),
                resources.into(),
                now.into(),
                grant_expires_at.into(),
            ],
        ),
        Statement::new(
            "INSERT INTO oidc_codes (id, grant_id, client_id, user_id, redirect_uri, granted, code_challenge, nonce, \
             session_id, auth_time, expires_at, amr) \
             VALUES (?1, (SELECT id FROM oidc_grants WHERE user_id = ?4 AND client_id = ?3), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            vec![
                c.id.as_str().into(), Value::Null, c.client_id.as_str().into(), c.user_id.as_str().into(),
                c.redirect_uri.as_str().into(), c.granted.as_str().into(), c.code_challenge.clone().into(), c.nonce.clone().into(),
                c.session_id.as_str().into(), c.auth_time.into(), c.expires_at.into(), c.amr.as_str().into(),
            ],
        ),
        Statement::new(
            "DELETE FROM oidc_interactions WHERE id = ?1",
            vec![interaction_id.into()],
        ),
    ])
    .await
    .map(|_| ())
}

// ---- token families

#[derive(Debug, Clone)]
pub struct FamilyRow {
    pub id: String,
    pub grant_id: String,
    pub code_id: String,
    pub client_id: String,
    pub user_id: String,
    pub session_id: String,
    pub granted: String,
    pub nonce: Option<String>,
    pub auth_time: i64,
    pub amr: String,
    pub offline: i64,
    pub created_at: i64,
    pub expires_at: i64,
}
crate::from_row!(FamilyRow {
    id,
    grant_id,
    code_id,
    client_id,
    user_id,
    session_id,
    granted,
    nonce,
    auth_time,
    amr,
    offline,
    created_at,
    expires_at
});

const FAMILY: &str = "SELECT f.id, f.grant_id, f.code_id, f.client_id, f.user_id, f.session_id, f.granted, f.nonce, \
    f.auth_time, f.amr, f.offline, f.created_at, f.expires_at FROM oidc_token_families f";

/// New tokens, stored by hash.
pub struct NewTokens<'a> {
    pub refresh: Option<(&'a str, i64)>,
    pub access: Option<(&'a str, &'a str, i64)>,
}

/// What a batch's token inserts are conditional on: the consumption this request won.
#[derive(Clone, Copy)]
enum Guard {
    /// The authorization code `?1` was consumed with mark `?2`.
    Code,
    /// The refresh token `?1` was consumed with mark `?2`.
    Refresh,
}

fn token_statements(
    family_id: &str,
    guard: Guard,
    guard_params: &[Value],
    t: &NewTokens<'_>,
    now: i64,
) -> Vec<Statement> {
    // Each insert carries the guard: it writes only if this request won the consumption.
    let mut out = Vec::new();
    if let Some((hash, expires)) = t.refresh {
        let sql = match guard {
            Guard::Code => "INSERT INTO oidc_refresh_tokens (id, family_id, created_at, expires_at) SELECT ?3, ?4, ?5, ?6 \
                 WHERE EXISTS (SELECT 1 FROM oidc_codes WHERE id = ?1 AND consumed_by = ?2)",
            Guard::Refresh => "INSERT INTO oidc_refresh_tokens (id, family_id, created_at, expires_at) SELECT ?3, ?4, ?5, ?6 \
                 WHERE EXISTS (SELECT 1 FROM oidc_refresh_tokens WHERE id = ?1 AND consumed_by = ?2)",
        };
        let mut p = guard_params.to_vec();
        p.extend([hash.into(), family_id.into(), now.into(), expires.into()]);
        out.push(Statement::new(sql, p));
    }
    if let Some((hash, scopes, expires)) = t.access {
        let sql = match guard {
            Guard::Code => "INSERT INTO oidc_access_tokens (id, family_id, scopes, created_at, expires_at) SELECT ?3, ?4, ?5, ?6, ?7 \
                 WHERE EXISTS (SELECT 1 FROM oidc_codes WHERE id = ?1 AND consumed_by = ?2)",
            Guard::Refresh => "INSERT INTO oidc_access_tokens (id, family_id, scopes, created_at, expires_at) SELECT ?3, ?4, ?5, ?6, ?7 \
                 WHERE EXISTS (SELECT 1 FROM oidc_refresh_tokens WHERE id = ?1 AND consumed_by = ?2)",
        };
        let mut p = guard_params.to_vec();
        p.extend([
            hash.into(),
            family_id.into(),
            scopes.into(),
            now.into(),
            expires.into(),
        ]);
        out.push(Statement::new(sql, p));
    }
    out
}

/// Consumes the code and, in the same transaction, creates the token family and its tokens.
/// Returns false if the code was already consumed or has expired (nothing is written).
pub async fn exchange_code(
    db: &impl Db,
    code: &CodeRow,
    family: &FamilyRow,
    mark: &str,
    tokens: &NewTokens<'_>,
    now: i64,
) -> Result<bool, StoreError> {
    let guard = [Value::from(code.id.as_str()), Value::from(mark)];
    let mut statements = vec![
        Statement::new(
            "UPDATE oidc_codes SET consumed_at = ?2, consumed_by = ?3 WHERE id = ?1 AND consumed_at IS NULL AND expires_at > ?2",
            vec![code.id.as_str().into(), now.into(), mark.into()],
        ),
        Statement::new(
            "INSERT INTO oidc_token_families (id, grant_id, code_id, client_id, user_id, session_id, granted, nonce, auth_time, \
             offline, created_at, expires_at, amr) SELECT ?3, ?4, ?1, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14 \
             WHERE EXISTS (SELECT 1 FROM oidc_codes WHERE id = ?1 AND consumed_by = ?2)",
            vec![
                guard[0].clone(), guard[1].clone(), family.id.as_str().into(), family.grant_id.as_str().into(),
                family.client_id.as_str().into(), family.user_id.as_str().into(), family.session_id.as_str().into(),
                family.granted.as_str().into(), family.nonce.clone().into(), family.auth_time.into(), family.offline.into(),
                family.created_at.into(), family.expires_at.into(), family.amr.as_str().into(),
            ],
        ),
    ];
    statements.extend(token_statements(
        &family.id,
        Guard::Code,
        &guard,
        tokens,
        now,
    ));
    let counts = db.batch(&statements).await?;
    Ok(counts.first() == Some(&1))
}

/// Deletes every family issued from `code_id` (a replayed code).
pub async fn revoke_code_families(db: &impl Db, code_id: &str) -> Result<u64, StoreError> {
    db.execute(
        "DELETE FROM oidc_token_families WHERE code_id = ?1",
        &[code_id.into()],
    )
    .await
}

pub async fn delete_family(db: &impl Db, family_id: &str) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            "DELETE FROM oidc_token_families WHERE id = ?1",
            &[family_id.into()],
        )
        .await?
        > 0)
}

/// Deletes what a browser session was issued without `offline_access` (at its sign-out).
pub async fn revoke_session_families(db: &impl Db, session_id: &str) -> Result<u64, StoreError> {
    db.execute(
        "DELETE FROM oidc_token_families WHERE session_id = ?1 AND offline = 0",
        &[session_id.into()],
    )
    .await
}

/// The family of a refresh token, with the token's own state.
#[derive(Debug, Clone)]
pub struct RefreshLookup {
    pub token_expires_at: i64,
    pub consumed_at: Option<i64>,
    pub family: FamilyRow,
}

impl super::FromRow for RefreshLookup {
    fn from_row(r: &super::Row) -> Result<Self, StoreError> {
        let family = FamilyRow::from_row(r)?;
        crate::cols!(
            r,
            RefreshLookup {
                token_expires_at,
                consumed_at
            } + { family }
        )
    }
}

pub async fn refresh_token(db: &impl Db, hash: &str) -> Result<Option<RefreshLookup>, StoreError> {
    query_one(
        db,
        &format!(
            "{FAMILY_WITH_TOKEN} JOIN oidc_refresh_tokens t ON t.family_id = f.id WHERE t.id = ?1"
        ),
        &[hash.into()],
    )
    .await
}

const FAMILY_WITH_TOKEN: &str = "SELECT t.expires_at AS token_expires_at, t.consumed_at, f.id, f.grant_id, f.code_id, \
    f.client_id, f.user_id, f.session_id, f.granted, f.nonce, f.auth_time, f.amr, f.offline, f.created_at, f.expires_at \
    FROM oidc_token_families f";

/// Consumes a refresh token and, in the same transaction, stores its successors. False if
/// another request consumed it first (nothing is written).
pub async fn rotate_refresh(
    db: &impl Db,
    old_hash: &str,
    family_id: &str,
    mark: &str,
    tokens: &NewTokens<'_>,
    now: i64,
) -> Result<bool, StoreError> {
    let guard = [Value::from(old_hash), Value::from(mark)];
    let mut statements = vec![Statement::new(
        "UPDATE oidc_refresh_tokens SET consumed_at = ?2, consumed_by = ?3 WHERE id = ?1 AND consumed_at IS NULL AND expires_at > ?2",
        vec![old_hash.into(), now.into(), mark.into()],
    )];
    statements.extend(token_statements(
        family_id,
        Guard::Refresh,
        &guard,
        tokens,
        now,
    ));
    let counts = db.batch(&statements).await?;
    Ok(counts.first() == Some(&1))
}

/// An opaque access token with its family.
#[derive(Debug, Clone)]
pub struct AccessLookup {
    pub token_scopes: String,
    pub token_created_at: i64,
    pub token_expires_at: i64,
    pub family: FamilyRow,
}

impl super::FromRow for AccessLookup {
    fn from_row(r: &super::Row) -> Result<Self, StoreError> {
        let family = FamilyRow::from_row(r)?;
        crate::cols!(
            r,
            AccessLookup {
                token_scopes,
                token_created_at,
                token_expires_at
            } + { family }
        )
    }
}

pub async fn access_token(db: &impl Db, hash: &str) -> Result<Option<AccessLookup>, StoreError> {
    query_one(
        db,
        &format!(
            "SELECT t.scopes AS token_scopes, t.created_at AS token_created_at, t.expires_at AS token_expires_at, \
             {} JOIN oidc_access_tokens t ON t.family_id = f.id WHERE t.id = ?1",
            FAMILY.trim_start_matches("SELECT ")
        ),
        &[hash.into()],
    )
    .await
}

pub async fn delete_access_token(db: &impl Db, hash: &str) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            "DELETE FROM oidc_access_tokens WHERE id = ?1",
            &[hash.into()],
        )
        .await?
        > 0)
}

pub async fn families_of_session(
    db: &impl Db,
    session_id: &str,
) -> Result<Vec<FamilyRow>, StoreError> {
    query_as(
        db,
        &format!("{FAMILY} WHERE f.session_id = ?1"),
        &[session_id.into()],
    )
    .await
}

// ---- one-round-trip lookups: a token or code, its user, and the user's role names

/// What a token or code names, with its user (if the user still exists) and role names.
pub struct WithUser<T> {
    pub found: T,
    pub user: Option<User>,
    pub roles: Vec<String>,
    /// Per resource indicator, the scopes the user's roles grant now (read only where a
    /// token is minted: codes and refresh tokens).
    pub role_scopes: BTreeMap<String, Vec<String>>,
}

async fn with_user<T: super::FromRow>(
    db: &impl Db,
    sql: &str,
    user_id_sql: &str,
    hash: &str,
    with_scopes: bool,
) -> Result<Option<WithUser<T>>, StoreError> {
    struct Granted {
        indicator: String,
        name: String,
    }
    crate::from_row!(Granted { indicator, name });
    let (user_sql, roles_sql) = users::by_subquery(user_id_sql);
    let scopes_sql = format!(
        "SELECT DISTINCT res.indicator, s.name FROM scopes s JOIN resources res ON res.id = s.resource_id \
         JOIN roles_scopes rs ON rs.scope_id = s.id JOIN users_roles ur ON ur.role_id = rs.role_id \
         WHERE ur.user_id = ({user_id_sql}) ORDER BY res.indicator, s.name"
    );
    let q = |sql| Query {
        sql,
        params: vec![hash.into()],
    };
    let mut queries = vec![q(sql), q(&user_sql), q(&roles_sql)];
    if with_scopes {
        queries.push(q(&scopes_sql));
    }
    let mut results = db.query_many(&queries).await?.into_iter();
    let (Some(found), Some(user), Some(roles)) = (results.next(), results.next(), results.next())
    else {
        return Err(StoreError::Backend("a read of the batch is missing".into()));
    };
    let Some(found) = decode_rows::<T>(found)?.into_iter().next() else {
        return Ok(None);
    };
    let (user, roles) = users::from_subquery_rows(user, roles)?;
    let mut role_scopes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in decode_rows::<Granted>(results.next().unwrap_or_default())? {
        role_scopes.entry(g.indicator).or_default().push(g.name);
    }
    Ok(Some(WithUser {
        found,
        user,
        roles,
        role_scopes,
    }))
}

const CODE: &str =
    "SELECT id, grant_id, client_id, user_id, redirect_uri, granted, code_challenge, nonce, \
    session_id, auth_time, amr, expires_at, consumed_at FROM oidc_codes WHERE id = ?1";

/// An authorization code by hash, with its user: one round trip.
pub async fn code_with_user(
    db: &impl Db,
    hash: &str,
) -> Result<Option<WithUser<CodeRow>>, StoreError> {
    with_user(
        db,
        CODE,
        "SELECT user_id FROM oidc_codes WHERE id = ?1",
        hash,
        true,
    )
    .await
}

/// A refresh token by hash with its family and user: one round trip.
pub async fn refresh_with_user(
    db: &impl Db,
    hash: &str,
) -> Result<Option<WithUser<RefreshLookup>>, StoreError> {
    let sql = format!(
        "{FAMILY_WITH_TOKEN} JOIN oidc_refresh_tokens t ON t.family_id = f.id WHERE t.id = ?1"
    );
    with_user(
        db,
        &sql,
        "SELECT f.user_id FROM oidc_token_families f JOIN oidc_refresh_tokens t \
         ON t.family_id = f.id WHERE t.id = ?1",
        hash,
        true,
    )
    .await
}

/// An opaque access token by hash with its family and user: one round trip.
pub async fn access_with_user(
    db: &impl Db,
    hash: &str,
) -> Result<Option<WithUser<AccessLookup>>, StoreError> {
    let sql = format!(
        "SELECT t.scopes AS token_scopes, t.created_at AS token_created_at, \
         t.expires_at AS token_expires_at, {} JOIN oidc_access_tokens t ON t.family_id = f.id \
         WHERE t.id = ?1",
        FAMILY.trim_start_matches("SELECT ")
    );
    with_user(
        db,
        &sql,
        "SELECT f.user_id FROM oidc_token_families f JOIN oidc_access_tokens t \
         ON t.family_id = f.id WHERE t.id = ?1",
        hash,
        false,
    )
    .await
}
