//! In-memory twin of Workers KV with TTLs, for native tests. Its clock is set by the test.
use super::{clamp_kv_ttl, Kv, StoreError};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

#[derive(Default)]
pub struct MemoryKv {
    entries: RefCell<HashMap<String, (String, u64)>>,
    now_secs: Cell<u64>,
}

impl MemoryKv {
    pub fn new(now_secs: u64) -> Self {
        Self {
            entries: RefCell::default(),
            now_secs: Cell::new(now_secs),
        }
    }

    /// Moves this store's clock forward.
    pub fn advance(&self, secs: u64) {
        self.now_secs.set(self.now_secs.get() + secs);
    }
}

impl Kv for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let now = self.now_secs.get();
        let mut entries = self.entries.borrow_mut();
        match entries.get(key) {
            Some((_, expires)) if *expires <= now => {
                entries.remove(key);
                Ok(None)
            }
            Some((v, _)) => Ok(Some(v.clone())),
            None => Ok(None),
        }
    }

    async fn put(&self, key: &str, value: &str, ttl_secs: u64) -> Result<(), StoreError> {
        let expires = self.now_secs.get() + clamp_kv_ttl(ttl_secs);
        self.entries
            .borrow_mut()
            .insert(key.to_owned(), (value.to_owned(), expires));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.entries.borrow_mut().remove(key);
        Ok(())
    }
}
