//! Storage traits the rest of the crate depends on.
//!
//! `Db` is the relational store (D1 in production, SQLite natively): both speak SQLite's SQL,
//! so every repository is written once, over this trait. `Kv` is the eventually consistent
//! key-value store for browser sessions (Workers KV in production).
//!
//! The traits use plain `async fn` without a `Send` bound: a Worker is single-threaded.
#![allow(async_fn_in_trait)]

pub mod account;
pub mod apps;
pub mod codes;
pub mod grants;
pub mod identities;
pub mod interactions;
pub mod keys;
pub mod logs;
pub mod messages;
pub mod mfa;
pub mod oidc;
pub mod passkeys;
pub mod rbac;
pub mod saml;
pub mod sessions;
pub mod settings;
pub mod sweep;
pub mod throttle;
pub mod users;

#[cfg(not(target_arch = "wasm32"))]
pub mod faulty;
#[cfg(not(target_arch = "wasm32"))]
pub mod memory_kv;
#[cfg(not(target_arch = "wasm32"))]
pub mod sqlite;

use std::fmt;

/// A bound parameter of a SQL statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Integer(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Integer(i64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One result row, column name to JSON value (integers, text, or null).
pub type Row = serde_json::Map<String, serde_json::Value>;

/// A statement for [`Db::batch`].
#[derive(Debug, Clone)]
pub struct Statement {
    pub sql: &'static str,
    pub params: Vec<Value>,
}

impl Statement {
    pub fn new(sql: &'static str, params: Vec<Value>) -> Self {
        Self { sql, params }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum StoreError {
    /// A UNIQUE constraint failed; holds `table.column` as SQLite names it.
    Unique(String),
    /// A row could not be decoded into its type (a schema/code mismatch).
    Decode(String),
    /// The backend failed (unavailable, SQL error, injected fault).
    Backend(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unique(c) => write!(f, "unique constraint failed: {c}"),
            StoreError::Decode(m) => write!(f, "cannot decode row: {m}"),
            StoreError::Backend(m) => write!(f, "storage backend error: {m}"),
        }
    }
}

impl StoreError {
    /// Classifies a backend error message. D1 and SQLite both report
    /// `UNIQUE constraint failed: table.column[, table.column]`.
    pub fn from_backend_message(message: &str) -> Self {
        const MARK: &str = "UNIQUE constraint failed: ";
        match message.find(MARK) {
            Some(at) => {
                let rest = message.get(at + MARK.len()..).unwrap_or_default();
                let column = rest
                    .split(|c: char| c == ',' || c == ':' || c.is_whitespace())
                    .next()
                    .unwrap_or_default();
                StoreError::Unique(column.to_owned())
            }
            None => StoreError::Backend(message.to_owned()),
        }
    }
}

/// The relational store.
pub trait Db {
    /// Runs a statement and returns its rows (`SELECT`, or `… RETURNING`).
    async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
    /// Runs a statement and returns the number of rows it changed. Callers test for `> 0`:
    /// D1 may count rows that foreign-key actions changed too.
    async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    /// Runs statements atomically, all or nothing; returns each one's changed-row count.
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<u64>, StoreError>;
    /// Several reads in one round trip (D1 runs them as one batch), their rows in order.
    async fn query_many(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<Row>>, StoreError> {
        let mut out = Vec::with_capacity(queries.len());
        for q in queries {
            out.push(self.query(q.sql, &q.params).await?);
        }
        Ok(out)
    }
}

/// Runs statements that store functions built, as one transaction (one round trip); each
/// one's changed-row count.
pub async fn transaction(db: &impl Db, statements: &[Statement]) -> Result<Vec<u64>, StoreError> {
    db.batch(statements).await
}

/// A read for [`Db::query_many`].
#[derive(Debug, Clone)]
pub struct Query<'a> {
    pub sql: &'a str,
    pub params: Vec<Value>,
}

/// A type read from one result row, column by column ([`from_row!`]). Not serde: a derived
/// `Deserialize` per row type, run through `serde_json::Value`, costs the module several KiB
/// each; a column read is one shared function.
pub trait FromRow: Sized {
    fn from_row(r: &Row) -> Result<Self, StoreError>;
}

/// What a column that did not decode reads as until its row is refused ([`Cols`]): never
/// seen outside the store. `from_row!` and `column_enum!` implement it.
pub trait StandIn {
    fn stand_in() -> Self;
}
macro_rules! stand_in_default {
    ($($t:ty),*) => {$(
        impl StandIn for $t {
            fn stand_in() -> Self {
                Default::default()
            }
        }
    )*};
}
stand_in_default!(String, i64, u32, bool, serde_json::Value);
impl<T> StandIn for Vec<T> {
    fn stand_in() -> Self {
        Vec::new()
    }
}
impl<T> StandIn for Option<T> {
    fn stand_in() -> Self {
        None
    }
}
impl<T> StandIn for std::collections::BTreeMap<String, T> {
    fn stand_in() -> Self {
        std::collections::BTreeMap::new()
    }
}

/// A value read from one column of a row.
pub trait Column: Sized {
    fn column(v: Option<&serde_json::Value>) -> Option<Self>;
}

impl Column for String {
    fn column(v: Option<&serde_json::Value>) -> Option<Self> {
        v?.as_str().map(str::to_owned)
    }
}
impl Column for i64 {
    fn column(v: Option<&serde_json::Value>) -> Option<Self> {
        let v = v?;
        // D1 hands numbers to JavaScript as doubles; whole ones come back as `1.0` at worst.
        v.as_i64()
            .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
    }
}
impl Column for serde_json::Value {
    fn column(v: Option<&serde_json::Value>) -> Option<Self> {
        v.cloned()
    }
}
impl Column for u32 {
    fn column(v: Option<&serde_json::Value>) -> Option<Self> {
        i64::column(v).and_then(|i| u32::try_from(i).ok())
    }
}
impl Column for bool {
    fn column(v: Option<&serde_json::Value>) -> Option<Self> {
        let v = v?;
        v.as_bool().or_else(|| i64::column(Some(v)).map(|i| i != 0))
    }
}
/// A JSON array; missing or `null` reads as empty.
impl<T: Column> Column for Vec<T> {
    fn column(v: Option<&serde_json::Value>) -> Option<Self> {
        match v {
            None | Some(serde_json::Value::Null) => Some(Vec::new()),
            // A loop, not `collect()`: a collect into `Option<Vec<T>>` links three adapter
            // functions per `T`.
            Some(serde_json::Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for x in items {
                    out.push(T::column(Some(x))?);
                }
                Some(out)
            }
            Some(_) => None,
        }
    }
}
/// A JSON object of values; missing or `null` reads as empty.
impl<T: Column> Column for std::collections::BTreeMap<String, T> {
    fn column(v: Option<&serde_json::Value>) -> Option<Self> {
        match v {
            None | Some(serde_json::Value::Null) => Some(Default::default()),
            // One insert at a time: `collect` would sort first, a sort more in the module.
            Some(serde_json::Value::Object(m)) => {
                let mut out = std::collections::BTreeMap::new();
                for (k, x) in m {
                    out.insert(k.clone(), T::column(Some(x))?);
                }
                Some(out)
            }
            Some(_) => None,
        }
    }
}
impl<T: Column> Column for Option<T> {
    fn column(v: Option<&serde_json::Value>) -> Option<Self> {
        match v {
            None | Some(serde_json::Value::Null) => Some(None),
            Some(x) => T::column(Some(x)).map(Some),
        }
    }
}

/// Column `name` of `r` as a `T`; a decode error names the column.
pub fn column<T: Column>(r: &Row, name: &str) -> Result<T, StoreError> {
    T::column(lookup(r, name)).ok_or_else(|| undecodable(name))
}

/// The error of a column that did not decode (one copy, not one per column type).
#[inline(never)]
pub fn undecodable(name: &str) -> StoreError {
    StoreError::Decode(format!("column {name}"))
}

/// Reads a row column by column and remembers the first column that did not decode: that
/// column reads as its type's [`StandIn`], and [`Cols::done`] turns the value built into the
/// error. No column returns early, so a [`FromRow`] has one exit for a bad row instead of one
/// per column (each with the fields read so far to drop): the row types were 100 KB of the
/// module when every column returned early.
pub struct Cols<'a> {
    row: &'a Row,
    bad: Option<&'static str>,
}

impl<'a> Cols<'a> {
    pub fn new(row: &'a Row) -> Self {
        Cols { row, bad: None }
    }

    /// Column `name` as a `T` (its stand-in, remembered, when it does not decode).
    #[inline(never)]
    pub fn get<T: Column + StandIn>(&mut self, name: &'static str) -> T {
        match T::column(lookup(self.row, name)) {
            Some(v) => v,
            None => {
                self.bad.get_or_insert(name);
                T::stand_in()
            }
        }
    }

    /// Column `name` as a `T`, or `T`'s default when it is missing or `null`.
    #[inline(never)]
    pub fn or_default<T: Column + Default + StandIn>(&mut self, name: &'static str) -> T {
        match lookup(self.row, name) {
            None | Some(serde_json::Value::Null) => T::default(),
            Some(_) => self.get(name),
        }
    }

    /// Field `name` of a PATCH body: absent (`None`), `null` (`Some(None)`) or a value.
    #[inline(never)]
    pub fn patch<T: Column>(&mut self, name: &'static str) -> Option<Option<T>> {
        match lookup(self.row, name) {
            None => None,
            Some(serde_json::Value::Null) => Some(None),
            Some(_) => self.get::<Option<T>>(name).map(Some),
        }
    }

    /// `value`, or the error naming the first column that did not decode.
    pub fn done<V>(self, value: V) -> Result<V, StoreError> {
        match self.bad {
            None => Ok(value),
            Some(name) => Err(undecodable(name)),
        }
    }
}

/// One copy of the map lookup for every column read.
#[inline(never)]
fn lookup<'a>(row: &'a Row, name: &str) -> Option<&'a serde_json::Value> {
    row.get(name)
}

/// Builds `Type { field, .. }` (a struct or an enum's struct variant) from the columns of a
/// row, as a `Result`, through [`Cols`]: `field` reads column `"field"`, `field = "col"`
/// another column, `field: or_default` (or `: patch`) reads it that way; `+ { x, y }` adds
/// fields from local variables of the same names.
#[macro_export]
macro_rules! cols {
    ($r:expr, $($t:ident)::+ { $($f:ident $(= $col:literal)? $(: $how:ident)?),* $(,)? } $(+ { $($x:ident),* })?) => {{
        let mut c = $crate::store::Cols::new($r);
        let v = $($t)::+ { $($f: $crate::cols!(@read c $f $($col)? ; $($how)?),)* $($($x,)*)? };
        c.done(v)
    }};
    (@read $c:ident $f:ident ;) => { $c.get(stringify!($f)) };
    (@read $c:ident $f:ident $col:literal ;) => { $c.get($col) };
    (@read $c:ident $f:ident ; $how:ident) => { $c.$how(stringify!($f)) };
    (@read $c:ident $f:ident $col:literal ; $how:ident) => { $c.$how($col) };
}

/// Implements [`FromRow`] for a struct by its field names (`field = "column"` to rename).
#[macro_export]
macro_rules! from_row {
    ($t:ident { $($f:ident $(= $col:literal)?),* $(,)? }) => {
        impl $crate::store::FromRow for $t {
            fn from_row(r: &$crate::store::Row) -> Result<Self, $crate::store::StoreError> {
                $crate::cols!(r, $t { $($f $(= $col)?),* })
            }
        }
        impl $crate::store::StandIn for $t {
            fn stand_in() -> Self {
                $t { $($f: $crate::store::StandIn::stand_in(),)* }
            }
        }
    };
}

/// Implements [`Column`] for a unit enum read from its name (`Variant = "name"`).
#[macro_export]
macro_rules! column_enum {
    ($t:ident { $first:ident = $first_name:literal $(, $v:ident = $name:literal)* $(,)? }) => {
        impl $crate::store::Column for $t {
            fn column(v: Option<&serde_json::Value>) -> Option<Self> {
                match v?.as_str()? {
                    $first_name => Some($t::$first),
                    $($name => Some($t::$v),)*
                    _ => None,
                }
            }
        }
        impl $crate::store::StandIn for $t {
            fn stand_in() -> Self {
                $t::$first
            }
        }
    };
}

/// Implements [`Column`] for a type that is read as a nested JSON object.
#[macro_export]
macro_rules! column_via_from_row {
    ($t:ty) => {
        impl $crate::store::Column for $t {
            fn column(v: Option<&serde_json::Value>) -> Option<Self> {
                <$t as $crate::store::FromRow>::from_row(v?.as_object()?).ok()
            }
        }
    };
}

/// JSON text we stored ourselves (a list, a map, a value) as a `T`.
pub fn from_json<T: Column>(s: &str) -> Result<T, StoreError> {
    let v = crate::json::parse(s).map_err(|e| StoreError::Decode(e.to_string()))?;
    T::column(Some(&v)).ok_or_else(|| StoreError::Decode(format!("unexpected JSON: {s}")))
}

/// JSON text holding an object, read as a [`FromRow`] type (stored JSON: sessions, grants,
/// authorization requests).
pub fn parse_object<T: FromRow>(text: &str) -> Result<T, StoreError> {
    T::from_row(&object_text(text)?)
}

/// JSON text that must be an object.
#[inline(never)]
fn object_text(text: &str) -> Result<Row, StoreError> {
    match crate::json::parse(text).map_err(|e| StoreError::Decode(e.to_string()))? {
        serde_json::Value::Object(m) => Ok(m),
        _ => Err(StoreError::Decode("not a JSON object".into())),
    }
}

/// Decodes rows into `T`.
pub fn decode_rows<T: FromRow>(rows: Vec<Row>) -> Result<Vec<T>, StoreError> {
    // A loop, not `collect()` (see `Column for Vec<T>`).
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(T::from_row(r)?);
    }
    Ok(out)
}

/// The key-value store for browser sessions.
pub trait Kv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Stores `value` for `ttl_secs`; adapters clamp the TTL with [`clamp_kv_ttl`].
    async fn put(&self, key: &str, value: &str, ttl_secs: u64) -> Result<(), StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}

/// Workers KV refuses an expiration less than 60 s ahead; a shorter TTL is raised to that
/// minimum rather than turned into an error.
pub const KV_MIN_TTL_SECS: u64 = 60;

pub fn clamp_kv_ttl(ttl_secs: u64) -> u64 {
    ttl_secs.max(KV_MIN_TTL_SECS)
}

/// Runs a query and decodes each row.
pub async fn query_as<T: FromRow>(
    db: &impl Db,
    sql: &str,
    params: &[Value],
) -> Result<Vec<T>, StoreError> {
    decode_rows(db.query(sql, params).await?)
}

/// Runs a query and decodes its first row, if any.
pub async fn query_one<T: FromRow>(
    db: &impl Db,
    sql: &str,
    params: &[Value],
) -> Result<Option<T>, StoreError> {
    Ok(query_as(db, sql, params).await?.into_iter().next())
}

/// Runs a `SELECT COUNT(*) AS n …` and returns `n`.
pub async fn count(db: &impl Db, sql: &str, params: &[Value]) -> Result<i64, StoreError> {
    let rows = db.query(sql, params).await?;
    match rows.first() {
        Some(r) => column(r, "n"),
        None => Ok(0),
    }
}
