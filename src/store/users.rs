//! Users in D1.
use super::{count, query_as, query_one, Db, Row, Statement, StoreError, Value};
use serde::Serialize;

/// Standard OIDC profile fields (Logto's `profile`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoneinfo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// The fields of [`Profile`] and [`Address`]: stored and given JSON has no others.
pub const PROFILE_FIELDS: &[&str] = &[
    "familyName",
    "givenName",
    "middleName",
    "nickname",
    "preferredUsername",
    "profile",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "address",
];
pub const ADDRESS_FIELDS: &[&str] = &[
    "formatted",
    "streetAddress",
    "locality",
    "region",
    "postalCode",
    "country",
];

crate::from_row!(Profile {
    family_name = "familyName",
    given_name = "givenName",
    middle_name = "middleName",
    nickname,
    preferred_username = "preferredUsername",
    profile,
    website,
    gender,
    birthdate,
    zoneinfo,
    locale,
    address,
});
crate::from_row!(Address {
    formatted,
    street_address = "streetAddress",
    locality,
    region,
    postal_code = "postalCode",
    country,
});
impl super::Column for Address {
    fn column(v: Option<&serde_json::Value>) -> Option<Self> {
        let m = v?.as_object()?;
        if m.keys().any(|k| !ADDRESS_FIELDS.contains(&k.as_str())) {
            return None;
        }
        super::FromRow::from_row(m).ok()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub username: Option<String>,
    pub primary_email: Option<String>,
    pub primary_phone: Option<String>,
    pub name: Option<String>,
    pub avatar: Option<String>,
    pub password_hash: Option<String>,
    pub custom_data: serde_json::Map<String, serde_json::Value>,
    pub profile: Profile,
    pub identities: serde_json::Map<String, serde_json::Value>,
    pub last_sign_in_at: Option<i64>,
    pub is_suspended: bool,
    /// Sessions and tokens from before this time (Unix ms) no longer count: set by a
    /// password change or a suspension.
    pub sessions_valid_after: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl User {
    /// A user signing up now (`now_ms`): nothing but its id and times yet.
    pub fn new(id: String, now_ms: i64) -> User {
        User {
            id,
            username: None,
            primary_email: None,
            primary_phone: None,
            name: None,
            avatar: None,
            password_hash: None,
            custom_data: Default::default(),
            profile: Default::default(),
            identities: Default::default(),
            last_sign_in_at: Some(now_ms),
            is_suspended: false,
            sessions_valid_after: 0,
            created_at: now_ms,
            updated_at: now_ms,
        }
    }

    /// How the user is named to others (an authenticator app's account): the name, else the
    /// username, email or phone, else the id.
    pub fn label(&self) -> String {
        [
            &self.name,
            &self.username,
            &self.primary_email,
            &self.primary_phone,
        ]
        .into_iter()
        .flatten()
        .next()
        .cloned()
        .unwrap_or_else(|| self.id.clone())
    }

    /// Whether something issued at `issued_at` (Unix seconds) still counts: not before the
    /// second of the last password change or suspension. (Something issued later within
    /// that same second still counts.)
    pub fn issued_in_force(&self, issued_at: i64) -> bool {
        issued_at >= self.sessions_valid_after.div_euclid(1000)
    }
}

struct UserRow {
    id: String,
    username: Option<String>,
    primary_email: Option<String>,
    primary_phone: Option<String>,
    name: Option<String>,
    avatar: Option<String>,
    password_hash: Option<String>,
    custom_data: String,
    profile: String,
    identities: String,
    last_sign_in_at: Option<i64>,
    is_suspended: i64,
    sessions_valid_after: i64,
    created_at: i64,
    updated_at: i64,
}
crate::from_row!(UserRow {
    id,
    username,
    primary_email,
    primary_phone,
    name,
    avatar,
    password_hash,
    custom_data,
    profile,
    identities,
    last_sign_in_at,
    is_suspended,
    sessions_valid_after,
    created_at,
    updated_at
});

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        let decode = |e: serde_json::Error| StoreError::Decode(format!("user {}: {e}", r.id));
        let object = |text: &str| match crate::json::parse(text).map_err(decode)? {
            serde_json::Value::Object(m) => Ok(m),
            _ => Err(StoreError::Decode(format!("user {}: not an object", r.id))),
        };
        Ok(User {
            custom_data: object(&r.custom_data)?,
            profile: super::parse_object(&r.profile)
                .map_err(|e| StoreError::Decode(format!("user {}: {e}", r.id)))?,
            identities: object(&r.identities)?,
            is_suspended: r.is_suspended != 0,
            id: r.id,
            username: r.username,
            primary_email: r.primary_email,
            primary_phone: r.primary_phone,
            name: r.name,
            avatar: r.avatar,
            password_hash: r.password_hash,
            last_sign_in_at: r.last_sign_in_at,
            sessions_valid_after: r.sessions_valid_after,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "id, username, primary_email, primary_phone, name, avatar, password_hash, \
    custom_data, profile, identities, last_sign_in_at, is_suspended, created_at, updated_at, \
    sessions_valid_after";

fn json(v: &impl Serialize) -> Result<Value, StoreError> {
    serde_json::to_string(v)
        .map(Value::Text)
        .map_err(|e| StoreError::Decode(e.to_string()))
}

fn params(u: &User) -> Result<Vec<Value>, StoreError> {
    Ok(vec![
        u.id.as_str().into(),
        u.username.clone().into(),
        u.primary_email.clone().into(),
        u.primary_phone.clone().into(),
        u.name.clone().into(),
        u.avatar.clone().into(),
        u.password_hash.clone().into(),
        json(&u.custom_data)?,
        json(&u.profile)?,
        json(&u.identities)?,
        u.last_sign_in_at.into(),
        u.is_suspended.into(),
        u.created_at.into(),
        u.updated_at.into(),
        u.sessions_valid_after.into(),
    ])
}

/// Inserts the user in one statement: it is written whole or not at all.
pub async fn insert(db: &impl Db, u: &User) -> Result<(), StoreError> {
    let s = insert_statement(u)?;
    db.execute(s.sql, &s.params).await.map(|_| ())
}

/// [`insert`] as a statement, for a transaction.
pub fn insert_statement(u: &User) -> Result<Statement, StoreError> {
    Ok(Statement::new(
        "INSERT INTO users (id, username, primary_email, primary_phone, name, avatar, \
         password_hash, custom_data, profile, identities, last_sign_in_at, is_suspended, \
         created_at, updated_at, sessions_valid_after) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params(u)?,
    ))
}

/// Writes the profile of `u`: its identifiers, name, avatar, custom data and profile. Never
/// the identities (`store::identities` writes them with their index), the password, the sign-in time, the suspension or the session cut-off,
/// which each have their own write, so that an edit racing a password change cannot write
/// the old hash back. False if the user no longer exists.
pub async fn update(db: &impl Db, u: &User) -> Result<bool, StoreError> {
    let n = db
        .execute(
            "UPDATE users SET username = ?2, primary_email = ?3, primary_phone = ?4, name = ?5, \
             avatar = ?6, custom_data = ?7, profile = ?8, updated_at = ?9 WHERE id = ?1",
            &[
                u.id.as_str().into(),
                u.username.clone().into(),
                u.primary_email.clone().into(),
                u.primary_phone.clone().into(),
                u.name.clone().into(),
                u.avatar.clone().into(),
                json(&u.custom_data)?,
                json(&u.profile)?,
                u.updated_at.into(),
            ],
        )
        .await?;
    Ok(n > 0)
}

/// Sets the user's primary email address or phone number (`phone`), only with session
/// `sid` (the submit's transaction); an address another user has fails on its unique index.
pub fn set_address(id: &str, (phone, value): (bool, &str), now_ms: i64, sid: &str) -> Statement {
    let sql = if phone {
        "UPDATE users SET primary_phone = ?2, updated_at = ?3 WHERE id = ?1 \
         AND EXISTS (SELECT 1 FROM user_sessions WHERE id = ?4)"
    } else {
        "UPDATE users SET primary_email = ?2, updated_at = ?3 WHERE id = ?1 \
         AND EXISTS (SELECT 1 FROM user_sessions WHERE id = ?4)"
    };
    Statement::new(
        sql,
        vec![id.into(), value.into(), now_ms.into(), sid.into()],
    )
}

/// A new password hash; sessions and tokens from before `now_ms` stop counting. A statement
/// for the transaction that also ends them ([`super::sessions::end_all_of_user`]).
pub fn set_password(id: &str, hash: &str, now_ms: i64) -> Statement {
    Statement::new(
        "UPDATE users SET password_hash = ?2, updated_at = ?3, sessions_valid_after = ?3 WHERE id = ?1",
        vec![id.into(), hash.into(), now_ms.into()],
    )
}

/// Suspends or reinstates the user; a suspension also cuts off its sessions and tokens.
pub fn set_suspended(id: &str, suspended: bool, now_ms: i64) -> Statement {
    Statement::new(
        "UPDATE users SET is_suspended = ?2, updated_at = ?3, \
         sessions_valid_after = CASE WHEN ?2 = 1 THEN ?3 ELSE sessions_valid_after END WHERE id = ?1",
        vec![id.into(), suspended.into(), now_ms.into()],
    )
}

pub async fn get(db: &impl Db, id: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = ?1");
    query_one::<UserRow>(db, &sql, &[id.into()])
        .await?
        .map(User::try_from)
        .transpose()
}

/// Records a successful password sign-in: the time, and a re-hashed password when the
/// stored one is still `old_hash` (an admin's change made meanwhile wins). A user suspended
/// meanwhile stays suspended: only these two columns are written. A statement, for the
/// sign-in's one transaction.
pub fn record_sign_in(id: &str, now_ms: i64, old_hash: &str, new_hash: Option<&str>) -> Statement {
    Statement::new(
        "UPDATE users SET last_sign_in_at = ?2, \
         password_hash = CASE WHEN password_hash = ?3 THEN COALESCE(?4, password_hash) ELSE password_hash END \
         WHERE id = ?1",
        vec![id.into(), now_ms.into(), old_hash.into(), new_hash.into()],
    )
}

/// The user whose id `id_sql` selects (a subquery with `?1`), and the names of their roles:
/// two reads that go in one round trip with the row that names the user.
pub fn by_subquery(id_sql: &str) -> (String, String) {
    (
        format!("SELECT {COLUMNS} FROM users WHERE id = ({id_sql})"),
        format!(
            "SELECT r.name FROM roles r JOIN users_roles ur ON ur.role_id = r.id \
             WHERE ur.user_id = ({id_sql}) ORDER BY r.name"
        ),
    )
}

/// Decodes the rows of [`by_subquery`]'s two reads.
pub fn from_subquery_rows(
    users: Vec<Row>,
    roles: Vec<Row>,
) -> Result<(Option<User>, Vec<String>), StoreError> {
    struct Name {
        name: String,
    }
    crate::from_row!(Name { name });
    let user = super::decode_rows::<UserRow>(users)?
        .into_iter()
        .next()
        .map(User::try_from)
        .transpose()?;
    let roles = super::decode_rows::<Name>(roles)?
        .into_iter()
        .map(|n| n.name)
        .collect();
    Ok((user, roles))
}

/// Which identifier a user is looked up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Username,
    PrimaryEmail,
    PrimaryPhone,
}

/// The user known by `value` as an identifier of kind `by`: the one lookup by identifier.
/// `value` must be in its normal form (the identity module's); the kind is the caller's
/// claim, never guessed.
pub async fn find_by_identifier(
    db: &impl Db,
    by: By,
    value: &str,
) -> Result<Option<User>, StoreError> {
    let column = match by {
        By::Username => "username",
        By::PrimaryEmail => "primary_email",
        By::PrimaryPhone => "primary_phone",
    };
    let sql = format!("SELECT {COLUMNS} FROM users WHERE {column} = ?1");
    query_one::<UserRow>(db, &sql, &[value.into()])
        .await?
        .map(User::try_from)
        .transpose()
}

/// One page, newest first, and the total count. `like` is a SQL LIKE pattern matched
/// (case-insensitively for ASCII) against the id, username, email, phone and name.
pub async fn list(
    db: &impl Db,
    like: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<User>, i64), StoreError> {
    const FILTER: &str = "(?1 IS NULL OR id LIKE ?1 ESCAPE '\\' OR username LIKE ?1 ESCAPE '\\' \
        OR primary_email LIKE ?1 ESCAPE '\\' OR primary_phone LIKE ?1 ESCAPE '\\' OR name LIKE ?1 ESCAPE '\\')";
    let pattern = Value::from(like);
    let sql = format!(
        "SELECT {COLUMNS} FROM users WHERE {FILTER} ORDER BY created_at DESC, id LIMIT ?2 OFFSET ?3"
    );
    let rows =
        query_as::<UserRow>(db, &sql, &[pattern.clone(), limit.into(), offset.into()]).await?;
    let users = rows
        .into_iter()
        .map(User::try_from)
        .collect::<Result<_, _>>()?;
    let total = count(
        db,
        &format!("SELECT COUNT(*) AS n FROM users WHERE {FILTER}"),
        &[pattern],
    )
    .await?;
    Ok((users, total))
}

/// Deletes the user (a statement for [`crate::account::delete_user`]'s transaction).
pub fn delete_statement(id: &str) -> Statement {
    Statement::new("DELETE FROM users WHERE id = ?1", vec![id.into()])
}

pub async fn delete(db: &impl Db, id: &str) -> Result<bool, StoreError> {
    Ok(db
        .execute("DELETE FROM users WHERE id = ?1", &[id.into()])
        .await?
        > 0)
}
crate::to_value_via_serde!(Profile, Address);
