//! [`Db`] over Cloudflare D1: the primary, or a session of the Sessions API that may read
//! from a replica. Every round trip (a query, a statement, a batch) is counted, and with
//! `SIMULATED_D1_RTT_MS` it first waits that long, to show what a user far from the D1
//! primary waits for (`make bench`).
use crate::store::{Db, Query, Row, Statement, StoreError, Value};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1DatabaseSession, D1PreparedStatement};

enum Conn {
    Primary(D1Database),
    Session(D1DatabaseSession),
}

pub struct D1 {
    conn: Conn,
    round_trips: Rc<Cell<u32>>,
    simulated_rtt_ms: u64,
}

impl D1 {
    pub fn primary(db: D1Database, round_trips: Rc<Cell<u32>>, simulated_rtt_ms: u64) -> Self {
        Self {
            conn: Conn::Primary(db),
            round_trips,
            simulated_rtt_ms,
        }
    }

    /// A session whose first read may go to any replica ("first-unconstrained"); the
    /// primary when the runtime has no sessions.
    pub fn replica(db: D1Database, round_trips: Rc<Cell<u32>>, simulated_rtt_ms: u64) -> Self {
        let conn = match db.with_session(Some("first-unconstrained")) {
            Ok(s) => Conn::Session(s),
            Err(_) => Conn::Primary(db),
        };
        Self {
            conn,
            round_trips,
            simulated_rtt_ms,
        }
    }

    /// One batch, one round trip. D1 refuses an empty batch ("No SQL statements
    /// detected"); the contract is a no-op.
    async fn run_batch<'q>(
        &self,
        items: impl Iterator<Item = (&'q str, &'q [Value])>,
    ) -> Result<Vec<worker::D1Result>, StoreError> {
        let prepared = items
            .map(|(sql, params)| self.prepare(sql, params))
            .collect::<Result<Vec<_>, _>>()?;
        if prepared.is_empty() {
            return Ok(Vec::new());
        }
        self.round_trip().await;
        match &self.conn {
            Conn::Primary(db) => db.batch(prepared).await,
            Conn::Session(s) => s.batch(prepared).await,
        }
        .map_err(err)
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
        let statement = match &self.conn {
            Conn::Primary(db) => db.prepare(sql),
            Conn::Session(s) => s.prepare(sql),
        };
        statement.bind(&args).map_err(err)
    }
}

fn changes(r: &worker::D1Result) -> Result<u64, StoreError> {
    Ok(r.meta().map_err(err)?.and_then(|m| m.changes).unwrap_or(0) as u64)
}

impl Db for D1 {
    async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        self.round_trip().await;
        let result = self.prepare(sql, params)?.all().await.map_err(err)?;
        result.results::<Row>().map_err(err)
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        self.round_trip().await;
        let result = self.prepare(sql, params)?.run().await.map_err(err)?;
        changes(&result)
    }

    async fn query_many(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<Row>>, StoreError> {
        let results = self
            .run_batch(queries.iter().map(|q| (q.sql, q.params.as_slice())))
            .await?;
        results
            .iter()
            .map(|r| r.results::<Row>().map_err(err))
            .collect()
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<u64>, StoreError> {
        // D1 runs a batch as one transaction: all statements apply, or none.
        let results = self
            .run_batch(statements.iter().map(|s| (s.sql, s.params.as_slice())))
            .await?;
        results.iter().map(changes).collect()
    }
}
