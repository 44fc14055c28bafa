//! A [`Db`] wrapper that fails on demand, to show that a failure loses nothing and never
//! reaches a client as a panic.
use super::{Db, Query, Row, Statement, StoreError, Value};
use std::cell::Cell;

pub struct FaultyDb<D> {
    inner: D,
    /// Calls left before the next one fails; `None` never fails.
    fail_after: Cell<Option<u32>>,
}

impl<D: Db> FaultyDb<D> {
    pub fn new(inner: D) -> Self {
        Self {
            inner,
            fail_after: Cell::new(None),
        }
    }

    /// The call after `calls` more succeed fails, and every one after it.
    pub fn fail_after(&self, calls: u32) {
        self.fail_after.set(Some(calls));
    }

    pub fn heal(&self) {
        self.fail_after.set(None);
    }

    pub fn inner(&self) -> &D {
        &self.inner
    }

    fn check(&self) -> Result<(), StoreError> {
        match self.fail_after.get() {
            None => Ok(()),
            Some(0) => Err(StoreError::Backend("injected fault".into())),
            Some(n) => {
                self.fail_after.set(Some(n - 1));
                Ok(())
            }
        }
    }
}

impl<D: Db> Db for FaultyDb<D> {
    async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        self.check()?;
        self.inner.query(sql, params).await
    }
    async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.execute(sql, params).await
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<u64>, StoreError> {
        self.check()?;
        self.inner.batch(statements).await
    }
    async fn query_many(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<Row>>, StoreError> {
        self.check()?;
        self.inner.query_many(queries).await
    }
}
