//! Native SQLite adapter for [`Db`], used by `cargo test`. It applies the very files in
//! `migrations/`, in name order, as `wrangler d1 migrations apply` does.
use super::{Db, Row, Statement, StoreError, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};
use std::cell::RefCell;
use std::path::Path;

pub struct SqliteDb {
    conn: RefCell<Connection>,
}

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Owned(rusqlite::types::Value::Null),
            Value::Integer(i) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*i)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::from_backend_message(&e.to_string())
}

/// The migration files in `dir`, sorted by name.
pub fn migration_files(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    Ok(files)
}

impl SqliteDb {
    /// An in-memory database with every migration of this crate applied.
    pub fn migrated() -> Result<Self, StoreError> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let conn = Connection::open_in_memory().map_err(backend)?;
        // D1 enforces foreign keys; so must the twin.
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(backend)?;
        for file in migration_files(&dir).map_err(|e| StoreError::Backend(e.to_string()))? {
            let sql = std::fs::read_to_string(&file)
                .map_err(|e| StoreError::Backend(format!("{}: {e}", file.display())))?;
            conn.execute_batch(&sql)
                .map_err(|e| StoreError::Backend(format!("{}: {e}", file.display())))?;
        }
        Ok(Self {
            conn: RefCell::new(conn),
        })
    }

    fn rows(conn: &Connection, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = conn.prepare(sql).map_err(backend)?;
        let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(backend)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(backend)? {
            let mut map = Row::new();
            for (i, name) in names.iter().enumerate() {
                let v = match row.get_ref(i).map_err(backend)? {
                    ValueRef::Null => serde_json::Value::Null,
                    ValueRef::Integer(n) => n.into(),
                    ValueRef::Real(f) => f.into(),
                    ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
                    ValueRef::Blob(_) => {
                        return Err(StoreError::Decode(format!("blob in column {name}")))
                    }
                };
                map.insert(name.clone(), v);
            }
            out.push(map);
        }
        Ok(out)
    }
}

impl Db for SqliteDb {
    async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        Self::rows(&self.conn.borrow(), sql, params)
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let conn = self.conn.borrow();
        let n = conn
            .execute(sql, rusqlite::params_from_iter(params.iter()))
            .map_err(backend)?;
        Ok(n as u64)
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<u64>, StoreError> {
        let mut conn = self.conn.borrow_mut();
        let tx = conn.transaction().map_err(backend)?;
        let mut counts = Vec::with_capacity(statements.len());
        for s in statements {
            let n = tx
                .execute(s.sql, rusqlite::params_from_iter(s.params.iter()))
                .map_err(backend)?;
            counts.push(n as u64);
        }
        tx.commit().map_err(backend)?;
        Ok(counts)
    }
}
