//! JSON text to typed values through one path: text → `serde_json::Value` → `T`.
//!
//! Parsing straight from text makes serde instantiate every type's `Deserialize` once more
//! for each reader (`&str`, `&[u8]`), on top of the `Value` instance the store's rows need;
//! in a WebAssembly module that costs hundreds of KiB. Going through `Value` keeps one
//! instance per type. Bodies and stored JSON are small, so the extra step costs little.
use serde::de::DeserializeOwned;

pub fn parse<T: DeserializeOwned>(text: impl AsRef<[u8]>) -> Result<T, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_slice(text.as_ref())?;
    serde_json::from_value(value)
}
