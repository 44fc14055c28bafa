//! [`Kv`] over a Workers KV binding, called by name (see `js.rs`).
use super::js::{call_async, message};
use crate::store::{clamp_kv_ttl, Kv, StoreError};
use wasm_bindgen::JsValue;

pub struct WorkersKv(pub JsValue);

fn err(e: JsValue) -> StoreError {
    StoreError::Backend(format!("KV: {}", message(&e)))
}

impl Kv for WorkersKv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let v = call_async(&self.0, "get", &[key.into(), "text".into()])
            .await
            .map_err(err)?;
        Ok(v.as_string())
    }

    async fn put(&self, key: &str, value: &str, ttl_secs: u64) -> Result<(), StoreError> {
        let options = js_sys::Object::new();
        let ttl = JsValue::from_f64(clamp_kv_ttl(ttl_secs) as f64);
        js_sys::Reflect::set(&options, &"expirationTtl".into(), &ttl).map_err(err)?;
        call_async(&self.0, "put", &[key.into(), value.into(), options.into()])
            .await
            .map_err(err)
            .map(|_| ())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        call_async(&self.0, "delete", &[key.into()])
            .await
            .map_err(err)
            .map(|_| ())
    }
}
