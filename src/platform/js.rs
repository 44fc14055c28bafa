//! Calls into the runtime's JavaScript objects (the D1 and KV bindings) by name, through
//! `Reflect` and `Function.apply`: a few lines in place of typed wrappers whose conversions
//! (serde-wasm-bindgen) cost the module more than the calls themselves.
use js_sys::{Array, Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `target[name]`.
pub fn get(target: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    Reflect::get(target, &JsValue::from_str(name))
}

/// `target[method](...args)`.
pub fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(target, method)?.dyn_into()?;
    let list: Array = args.iter().collect();
    f.apply(target, &list)
}

/// `await target[method](...args)`.
pub async fn call_async(
    target: &JsValue,
    method: &str,
    args: &[JsValue],
) -> Result<JsValue, JsValue> {
    let promise: js_sys::Promise = call(target, method, args)?.dyn_into()?;
    JsFuture::from(promise).await
}

/// The message of a thrown value, with its `cause`'s (D1 puts the SQLite error there).
pub fn message(e: &JsValue) -> String {
    let text = |v: &JsValue| {
        get(v, "message")
            .ok()
            .and_then(|m| m.as_string())
            .or_else(|| v.as_string())
    };
    let mut out = text(e).unwrap_or_else(|| "unknown JavaScript error".into());
    if let Some(cause) = get(e, "cause")
        .ok()
        .filter(|c| !c.is_undefined())
        .and_then(|c| text(&c))
    {
        out.push(' ');
        out.push_str(&cause);
    }
    out
}
