//! API resources, their scopes, roles, and role assignments, in D1.
use super::{count, query_as, query_one, Db, StoreError, Value};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceRow {
    pub id: String,
    pub name: String,
    pub indicator: String,
    pub is_default: i64,
    pub access_token_ttl: i64,
    pub created_at: i64,
}
crate::from_row!(ResourceRow {
    id,
    name,
    indicator,
    is_default,
    access_token_ttl,
    created_at
});

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScopeRow {
    pub id: String,
    pub resource_id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
}
crate::from_row!(ScopeRow {
    id,
    resource_id,
    name,
    description,
    created_at
});

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub role_type: String,
    pub created_at: i64,
}
crate::from_row!(RoleRow {
    id,
    name,
    description,
    role_type,
    created_at
});

const RESOURCE: &str =
    "SELECT id, name, indicator, is_default, access_token_ttl, created_at FROM resources";
const SCOPE: &str = "SELECT id, resource_id, name, description, created_at FROM scopes";
const ROLE: &str = "SELECT id, name, description, type AS role_type, created_at FROM roles";

pub async fn insert_resource(db: &impl Db, r: &ResourceRow) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO resources (id, name, indicator, is_default, access_token_ttl, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[r.id.as_str().into(), r.name.as_str().into(), r.indicator.as_str().into(), r.is_default.into(), r.access_token_ttl.into(), r.created_at.into()],
    )
    .await
    .map(|_| ())
}

pub async fn update_resource(db: &impl Db, r: &ResourceRow) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            "UPDATE resources SET name = ?2, access_token_ttl = ?3 WHERE id = ?1",
            &[
                r.id.as_str().into(),
                r.name.as_str().into(),
                r.access_token_ttl.into(),
            ],
        )
        .await?
        > 0)
}

/// Makes `id` the default resource (or none), atomically.
pub async fn set_default_resource(
    db: &impl Db,
    id: &str,
    is_default: bool,
) -> Result<(), StoreError> {
    let mut statements = vec![super::Statement::new(
        "UPDATE resources SET is_default = 0 WHERE is_default = 1 AND (?1 = 1 OR id = ?2)",
        vec![is_default.into(), id.into()],
    )];
    if is_default {
        statements.push(super::Statement::new(
            "UPDATE resources SET is_default = 1 WHERE id = ?1",
            vec![id.into()],
        ));
    }
    db.batch(&statements).await.map(|_| ())
}

pub async fn resource(db: &impl Db, id: &str) -> Result<Option<ResourceRow>, StoreError> {
    query_one(db, &format!("{RESOURCE} WHERE id = ?1"), &[id.into()]).await
}

pub async fn resource_by_indicator(
    db: &impl Db,
    indicator: &str,
) -> Result<Option<ResourceRow>, StoreError> {
    query_one(
        db,
        &format!("{RESOURCE} WHERE indicator = ?1"),
        &[indicator.into()],
    )
    .await
}

pub async fn default_resource(db: &impl Db) -> Result<Option<ResourceRow>, StoreError> {
    query_one(db, &format!("{RESOURCE} WHERE is_default = 1"), &[]).await
}

pub async fn resources(
    db: &impl Db,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ResourceRow>, i64), StoreError> {
    let rows = query_as(
        db,
        &format!("{RESOURCE} ORDER BY created_at, id LIMIT ?1 OFFSET ?2"),
        &[limit.into(), offset.into()],
    )
    .await?;
    Ok((
        rows,
        count(db, "SELECT COUNT(*) AS n FROM resources", &[]).await?,
    ))
}

pub async fn delete_resource(db: &impl Db, id: &str) -> Result<bool, StoreError> {
    Ok(db
        .execute("DELETE FROM resources WHERE id = ?1", &[id.into()])
        .await?
        > 0)
}

pub async fn insert_scope(db: &impl Db, s: &ScopeRow) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO scopes (id, resource_id, name, description, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[s.id.as_str().into(), s.resource_id.as_str().into(), s.name.as_str().into(), s.description.clone().into(), s.created_at.into()],
    )
    .await
    .map(|_| ())
}

pub async fn update_scope(db: &impl Db, s: &ScopeRow) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            "UPDATE scopes SET name = ?2, description = ?3 WHERE id = ?1",
            &[
                s.id.as_str().into(),
                s.name.as_str().into(),
                s.description.clone().into(),
            ],
        )
        .await?
        > 0)
}

pub async fn scope(db: &impl Db, id: &str) -> Result<Option<ScopeRow>, StoreError> {
    query_one(db, &format!("{SCOPE} WHERE id = ?1"), &[id.into()]).await
}

pub async fn scopes_of_resource(
    db: &impl Db,
    resource_id: &str,
) -> Result<Vec<ScopeRow>, StoreError> {
    query_as(
        db,
        &format!("{SCOPE} WHERE resource_id = ?1 ORDER BY created_at, id"),
        &[resource_id.into()],
    )
    .await
}

pub async fn delete_scope(db: &impl Db, id: &str) -> Result<bool, StoreError> {
    Ok(db
        .execute("DELETE FROM scopes WHERE id = ?1", &[id.into()])
        .await?
        > 0)
}

pub async fn insert_role(db: &impl Db, r: &RoleRow) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO roles (id, name, description, type, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[
            r.id.as_str().into(),
            r.name.as_str().into(),
            r.description.as_str().into(),
            r.role_type.as_str().into(),
            r.created_at.into(),
        ],
    )
    .await
    .map(|_| ())
}

pub async fn update_role(db: &impl Db, r: &RoleRow) -> Result<bool, StoreError> {
    Ok(db
        .execute(
            "UPDATE roles SET name = ?2, description = ?3 WHERE id = ?1",
            &[
                r.id.as_str().into(),
                r.name.as_str().into(),
                r.description.as_str().into(),
            ],
        )
        .await?
        > 0)
}

pub async fn role(db: &impl Db, id: &str) -> Result<Option<RoleRow>, StoreError> {
    query_one(db, &format!("{ROLE} WHERE id = ?1"), &[id.into()]).await
}

pub async fn roles(
    db: &impl Db,
    limit: i64,
    offset: i64,
) -> Result<(Vec<RoleRow>, i64), StoreError> {
    let rows = query_as(
        db,
        &format!("{ROLE} ORDER BY created_at, id LIMIT ?1 OFFSET ?2"),
        &[limit.into(), offset.into()],
    )
    .await?;
    Ok((
        rows,
        count(db, "SELECT COUNT(*) AS n FROM roles", &[]).await?,
    ))
}

pub async fn delete_role(db: &impl Db, id: &str) -> Result<bool, StoreError> {
    Ok(db
        .execute("DELETE FROM roles WHERE id = ?1", &[id.into()])
        .await?
        > 0)
}

pub async fn role_scopes(db: &impl Db, role_id: &str) -> Result<Vec<ScopeRow>, StoreError> {
    query_as(
        db,
        "SELECT s.id, s.resource_id, s.name, s.description, s.created_at FROM scopes s \
         JOIN roles_scopes rs ON rs.scope_id = s.id WHERE rs.role_id = ?1 ORDER BY s.created_at, s.id",
        &[role_id.into()],
    )
    .await
}

/// Links `role_id` to each of `ids` in `table` (`roles_scopes`, `users_roles`,
/// `applications_roles`), in one batch: all or nothing.
pub async fn link(
    db: &impl Db,
    sql: &'static str,
    owner: &str,
    ids: &[String],
) -> Result<(), StoreError> {
    let statements: Vec<_> = ids
        .iter()
        .map(|id| super::Statement::new(sql, vec![owner.into(), id.as_str().into()]))
        .collect();
    db.batch(&statements).await.map(|_| ())
}

pub const LINK_ROLE_SCOPE: &str =
    "INSERT OR IGNORE INTO roles_scopes (role_id, scope_id) VALUES (?1, ?2)";
pub const LINK_USER_ROLE: &str =
    "INSERT OR IGNORE INTO users_roles (user_id, role_id) VALUES (?1, ?2)";
pub const LINK_APP_ROLE: &str =
    "INSERT OR IGNORE INTO applications_roles (application_id, role_id) VALUES (?1, ?2)";

pub async fn unlink(db: &impl Db, sql: &str, a: &str, b: &str) -> Result<bool, StoreError> {
    Ok(db.execute(sql, &[a.into(), b.into()]).await? > 0)
}

pub const UNLINK_ROLE_SCOPE: &str = "DELETE FROM roles_scopes WHERE role_id = ?1 AND scope_id = ?2";
pub const UNLINK_USER_ROLE: &str = "DELETE FROM users_roles WHERE user_id = ?1 AND role_id = ?2";
pub const UNLINK_APP_ROLE: &str =
    "DELETE FROM applications_roles WHERE application_id = ?1 AND role_id = ?2";

pub async fn user_roles(db: &impl Db, user_id: &str) -> Result<Vec<RoleRow>, StoreError> {
    query_as(
        db,
        "SELECT r.id, r.name, r.description, r.type AS role_type, r.created_at FROM roles r \
         JOIN users_roles ur ON ur.role_id = r.id WHERE ur.user_id = ?1 ORDER BY r.name",
        &[user_id.into()],
    )
    .await
}

pub async fn app_roles(db: &impl Db, app_id: &str) -> Result<Vec<RoleRow>, StoreError> {
    query_as(
        db,
        "SELECT r.id, r.name, r.description, r.type AS role_type, r.created_at FROM roles r \
         JOIN applications_roles ar ON ar.role_id = r.id WHERE ar.application_id = ?1 ORDER BY r.name",
        &[app_id.into()],
    )
    .await
}

struct Name {
    name: String,
}
crate::from_row!(Name { name });

/// The scope names of resource `indicator` that the roles of a user (or app) grant.
pub async fn granted_scope_names(
    db: &impl Db,
    owner_table: Owner,
    owner_id: &str,
    indicator: &str,
) -> Result<Vec<String>, StoreError> {
    let sql = match owner_table {
        Owner::User => {
            "SELECT DISTINCT s.name FROM scopes s JOIN resources res ON res.id = s.resource_id \
             JOIN roles_scopes rs ON rs.scope_id = s.id JOIN users_roles o ON o.role_id = rs.role_id \
             WHERE o.user_id = ?1 AND res.indicator = ?2 ORDER BY s.name"
        }
        Owner::App => {
            "SELECT DISTINCT s.name FROM scopes s JOIN resources res ON res.id = s.resource_id \
             JOIN roles_scopes rs ON rs.scope_id = s.id JOIN applications_roles o ON o.role_id = rs.role_id \
             WHERE o.application_id = ?1 AND res.indicator = ?2 ORDER BY s.name"
        }
    };
    let rows: Vec<Name> = query_as(db, sql, &[owner_id.into(), Value::from(indicator)]).await?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

#[derive(Clone, Copy)]
pub enum Owner {
    User,
    App,
}
