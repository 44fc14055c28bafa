//! JSON text to values through one path: text → `serde_json::Value`, then column by column
//! (`store::FromRow`, `store::Column`) to typed values.
//!
//! No `Deserialize` is instantiated for our own types: serde would instantiate each one once
//! per reader (`&str`, `&[u8]`, `Value`), and in a WebAssembly module that costs hundreds of
//! KiB (size budget, ARCHITECTURE.md). Bodies and stored JSON are small, so the extra step
//! costs little.
use serde_json::Value;

pub fn parse(text: impl AsRef<[u8]>) -> Result<Value, serde_json::Error> {
    serde_json::from_slice(text.as_ref())
}
