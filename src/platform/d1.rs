//! [`Db`] over Cloudflare D1.
use crate::store::{Db, Row, Statement, StoreError, Value};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

pub struct D1(pub D1Database);

fn js(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        // D1 binds JavaScript numbers; our integers (timestamps, counters) are well inside
        // the 2^53 range of exact integers.
        Value::Integer(i) => JsValue::from_f64(*i as f64),
        Value::Text(s) => JsValue::from_str(s),
    }
}

fn err(e: worker::Error) -> StoreError {
    let message = match &e {
        worker::Error::D1(d1) => format!("{} {}", e, d1.cause()),
        _ => e.to_string(),
    };
    StoreError::from_backend_message(&message)
}

impl D1 {
    fn prepare(&self, sql: &str, params: &[Value]) -> Result<D1PreparedStatement, StoreError> {
        let args: Vec<JsValue> = params.iter().map(js).collect();
        self.0.prepare(sql).bind(&args).map_err(err)
    }
}

fn changes(r: &worker::D1Result) -> Result<u64, StoreError> {
    Ok(r.meta().map_err(err)?.and_then(|m| m.changes).unwrap_or(0) as u64)
}

impl Db for D1 {
    async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let result = self.prepare(sql, params)?.all().await.map_err(err)?;
        result.results::<Row>().map_err(err)
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let result = self.prepare(sql, params)?.run().await.map_err(err)?;
        changes(&result)
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<u64>, StoreError> {
        // D1 refuses an empty batch ("No SQL statements detected"); the contract is a no-op.
        if statements.is_empty() {
            return Ok(Vec::new());
        }
        let prepared = statements
            .iter()
            .map(|s| self.prepare(s.sql, &s.params))
            .collect::<Result<Vec<_>, _>>()?;
        // D1 runs a batch as one transaction: all statements apply, or none.
        let results = self.0.batch(prepared).await.map_err(err)?;
        results.iter().map(changes).collect()
    }
}
