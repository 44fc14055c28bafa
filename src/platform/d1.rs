//! [`Db`] over Cloudflare D1: the primary, or a session of the Sessions API that may read
//! from a replica. Every round trip (a query, a statement, a batch) is counted, and with
//! `SIMULATED_D1_RTT_MS` it first waits that long, to show what a user far from the D1
//! primary waits for (`make bench`).
use super::js::{call, call_async, get, message};
use crate::store::{Db, Query, Row, Statement, StoreError, Value};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::{JsCast, JsValue};

/// A D1 binding (the primary) or a D1 session, called by name (see `js.rs`). Result rows
/// cross as one JSON text per query, read by the same serde_json path as everything else.
pub struct D1 {
    conn: JsValue,
    round_trips: Rc<Cell<u32>>,
    simulated_rtt_ms: u64,
}

fn err(e: JsValue) -> StoreError {
    StoreError::from_backend_message(&message(&e))
}

impl D1 {
    pub fn primary(db: JsValue, round_trips: Rc<Cell<u32>>, simulated_rtt_ms: u64) -> Self {
        Self {
            conn: db,
            round_trips,
            simulated_rtt_ms,
        }
    }

    /// A session whose first read may go to any replica ("first-unconstrained"); the
    /// primary when the runtime has no sessions.
    pub fn replica(db: JsValue, round_trips: Rc<Cell<u32>>, simulated_rtt_ms: u64) -> Self {
        let conn = call(&db, "withSession", &["first-unconstrained".into()])
            .ok()
            .filter(|s| s.is_object())
            .unwrap_or(db);
        Self {
            conn,
            round_trips,
            simulated_rtt_ms,
        }
    }

    fn prepare(&self, sql: &str, params: &[Value]) -> Result<JsValue, StoreError> {
        let statement = call(&self.conn, "prepare", &[sql.into()]).map_err(err)?;
        let args: Vec<JsValue> = params.iter().map(js).collect();
        call(&statement, "bind", &args).map_err(err)
    }

    /// One batch, one round trip. D1 refuses an empty batch ("No SQL statements
    /// detected"); the contract is a no-op.
    async fn run_batch<'q>(
        &self,
        items: impl Iterator<Item = (&'q str, &'q [Value])>,
    ) -> Result<Vec<JsValue>, StoreError> {
        let prepared = items
            .map(|(sql, params)| self.prepare(sql, params))
            .collect::<Result<Vec<_>, _>>()?;
        if prepared.is_empty() {
            return Ok(Vec::new());
        }
        self.round_trip().await;
        let list: js_sys::Array = prepared.iter().collect();
        let results = call_async(&self.conn, "batch", &[list.into()])
            .await
            .map_err(err)?;
        let results: js_sys::Array = results
            .dyn_into()
            .map_err(|_| StoreError::Backend("D1 batch: not an array".into()))?;
        Ok(results.iter().collect())
    }

    async fn round_trip(&self) {
        self.round_trips
            .set(self.round_trips.get().saturating_add(1));
        if self.simulated_rtt_ms > 0 {
            worker::Delay::from(Duration::from_millis(self.simulated_rtt_ms)).await;
        }
    }
}

fn js(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        // D1 binds JavaScript numbers; our integers (timestamps, counters) are well inside
        // the 2^53 range of exact integers.
        Value::Integer(i) => JsValue::from_f64(*i as f64),
        Value::Text(s) => JsValue::from_str(s),
    }
}

/// The rows of a D1 result, as JSON text read by serde_json.
fn rows(result: &JsValue) -> Result<Vec<Row>, StoreError> {
    let list = get(result, "results").map_err(err)?;
    if list.is_undefined() || list.is_null() {
        return Ok(Vec::new());
    }
    let text = js_sys::JSON::stringify(&list)
        .map_err(err)?
        .as_string()
        .unwrap_or_default();
    match crate::json::parse(&text).map_err(|e| StoreError::Decode(format!("D1 rows: {e}")))? {
        serde_json::Value::Array(items) => items
            .into_iter()
            .map(|row| match row {
                serde_json::Value::Object(m) => Ok(m),
                _ => Err(StoreError::Decode("D1 rows: a row is not an object".into())),
            })
            .collect(),
        _ => Err(StoreError::Decode("D1 rows: not an array".into())),
    }
}

/// The rows a statement changed (`meta.changes`).
fn changes(result: &JsValue) -> u64 {
    get(result, "meta")
        .and_then(|m| get(&m, "changes"))
        .ok()
        .and_then(|c| c.as_f64())
        .map_or(0, |c| c as u64)
}

impl Db for D1 {
    async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let statement = self.prepare(sql, params)?;
        self.round_trip().await;
        let result = call_async(&statement, "all", &[]).await.map_err(err)?;
        rows(&result)
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let statement = self.prepare(sql, params)?;
        self.round_trip().await;
        let result = call_async(&statement, "run", &[]).await.map_err(err)?;
        Ok(changes(&result))
    }

    async fn query_many(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<Row>>, StoreError> {
        let results = self
            .run_batch(queries.iter().map(|q| (q.sql, q.params.as_slice())))
            .await?;
        results.iter().map(rows).collect()
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<u64>, StoreError> {
        // D1 runs a batch as one transaction: all statements apply, or none.
        let results = self
            .run_batch(statements.iter().map(|s| (s.sql, s.params.as_slice())))
            .await?;
        Ok(results.iter().map(changes).collect())
    }
}
