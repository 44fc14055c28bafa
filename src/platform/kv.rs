//! [`Kv`] over Workers KV.
use crate::store::{clamp_kv_ttl, Kv, StoreError};
use worker::kv::KvStore;

pub struct WorkersKv(pub KvStore);

fn err(e: worker::kv::KvError) -> StoreError {
    StoreError::Backend(format!("KV: {e:?}"))
}

impl Kv for WorkersKv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.0.get(key).text().await.map_err(err)
    }

    async fn put(&self, key: &str, value: &str, ttl_secs: u64) -> Result<(), StoreError> {
        self.0
            .put(key, value)
            .map_err(err)?
            .expiration_ttl(clamp_kv_ttl(ttl_secs))
            .execute()
            .await
            .map_err(err)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.0.delete(key).await.map_err(err)
    }
}
