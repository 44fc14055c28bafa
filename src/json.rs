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

/// The JSON text of `v`. Not `to_string()` or `{}`: a `Value`'s `Display` links a second
/// copy of serde_json's writer and its pretty printer (4 KB raw) for the same text.
pub fn text(v: &impl serde::Serialize) -> String {
    Json::of(v).into_string()
}

/// JSON written straight to text, for what the worker answers and stores.
///
/// `serde_json::json!` builds a `Value` (a B-tree map per object, a `String` per key, a
/// generic `to_value` per field) only to write it out again; in the module that cost about
/// 100 bytes of code per field. Here a field is one call. Keys keep the order they are
/// written in. Strings are escaped as RFC 8259 §7 requires (quote, backslash, controls).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Json(String);

impl Json {
    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// A JSON string.
    pub fn str(s: &str) -> Json {
        let mut out = String::with_capacity(s.len() + 2);
        escape(&mut out, s);
        Json(out)
    }

    /// A `Value` (or anything `Serialize`) written as it is.
    pub fn of(v: &impl serde::Serialize) -> Json {
        Json(serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned()))
    }

    /// An array of the items.
    pub fn array(items: impl IntoIterator<Item = Json>) -> Json {
        let mut out = String::from("[");
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&item.0);
        }
        out.push(']');
        Json(out)
    }

    /// An array of strings.
    pub fn strs<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Json {
        Json::array(items.into_iter().map(|s| Json::str(s.as_ref())))
    }
}

impl std::fmt::Display for Json {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A JSON object written field by field: `Obj::new().str("id", id).bool("verified", v).end()`.
pub struct Obj(String);

impl Default for Obj {
    fn default() -> Self {
        Obj::new()
    }
}

impl Obj {
    pub fn new() -> Obj {
        Obj(String::from("{"))
    }

    fn key(&mut self, k: &str) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        escape(&mut self.0, k);
        self.0.push(':');
    }

    pub fn str(mut self, k: &str, v: &str) -> Obj {
        self.key(k);
        escape(&mut self.0, v);
        self
    }

    /// A string, or `null` when there is none.
    pub fn opt(mut self, k: &str, v: Option<&str>) -> Obj {
        self.key(k);
        match v {
            Some(v) => escape(&mut self.0, v),
            None => self.0.push_str("null"),
        }
        self
    }

    pub fn bool(mut self, k: &str, v: bool) -> Obj {
        self.key(k);
        self.0.push_str(if v { "true" } else { "false" });
        self
    }

    pub fn int(mut self, k: &str, v: i64) -> Obj {
        self.key(k);
        self.0.push_str(&v.to_string());
        self
    }

    /// A number, or `null` when there is none.
    pub fn opt_int(self, k: &str, v: Option<i64>) -> Obj {
        match v {
            Some(v) => self.int(k, v),
            None => self.json(k, Json("null".to_owned())),
        }
    }

    /// A value already written.
    pub fn json(mut self, k: &str, v: Json) -> Obj {
        self.key(k);
        self.0.push_str(&v.0);
        self
    }

    /// A `Value` written as it is.
    pub fn value(self, k: &str, v: &Value) -> Obj {
        self.json(k, Json::of(v))
    }

    /// The field only when there is a value.
    pub fn some(self, k: &str, v: Option<&str>) -> Obj {
        match v {
            Some(v) => self.str(k, v),
            None => self,
        }
    }

    pub fn end(mut self) -> Json {
        self.0.push('}');
        Json(self.0)
    }
}

/// Appends `s` as a JSON string (RFC 8259 §7).
fn escape(out: &mut String, s: &str) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let n = c as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX.get(n >> 4).copied().unwrap_or(b'0')));
                out.push(char::from(HEX.get(n & 15).copied().unwrap_or(b'0')));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_object_reads_back_as_the_same_value_with_every_character_escaped() {
        let tricky = "q\"b\\n\nr\rt\t\u{1}\u{1f}é😀</script>";
        let j = Obj::new()
            .str("s", tricky)
            .opt("none", None)
            .bool("b", true)
            .int("n", -42)
            .json("a", Json::strs(["x", "y"]))
            .some("absent", None)
            .end();
        let v = parse(j.as_str()).ok();
        let want =
            serde_json::json!({"s": tricky, "none": null, "b": true, "n": -42, "a": ["x", "y"]});
        assert_eq!(v, Some(want));
        assert_eq!(Json::array([]).as_str(), "[]");
        assert_eq!(Obj::new().end().as_str(), "{}");
    }
}

/// A value as a `serde_json::Value`, without serde's `Value` serializer: `serde_json::json!`
/// and `to_value` instantiate that serializer for every type they are given, which cost the
/// module 19 KB. Our own serde types go through their JSON text instead.
pub trait ToValue {
    fn to_value(&self) -> Value;
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}
impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::String(self.to_owned())
    }
}
impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::String(self.clone())
    }
}
impl ToValue for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}
macro_rules! to_value_number {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::from(*self)
            }
        }
    )*};
}
to_value_number!(i64, u64, i32, u32, usize);
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}
impl<T: ToValue> ToValue for [T] {
    fn to_value(&self) -> Value {
        Value::Array(self.iter().map(ToValue::to_value).collect())
    }
}
impl<T: ToValue> ToValue for Vec<T> {
    fn to_value(&self) -> Value {
        self.as_slice().to_value()
    }
}
impl<T: ToValue, const N: usize> ToValue for [T; N] {
    fn to_value(&self) -> Value {
        self.as_slice().to_value()
    }
}
impl ToValue for serde_json::Map<String, Value> {
    fn to_value(&self) -> Value {
        Value::Object(self.clone())
    }
}
impl<T: ToValue> ToValue for std::collections::BTreeMap<String, T> {
    fn to_value(&self) -> Value {
        // Inserted one by one: `collect` into a map links a sort per iterator type.
        let mut m = serde_json::Map::new();
        for (k, v) in self {
            m.insert(k.clone(), v.to_value());
        }
        Value::Object(m)
    }
}

/// A serde type of ours as a `Value`, through its JSON text (the serializer to text is
/// linked anyway; the one to `Value` is not).
pub fn value_of(v: &impl serde::Serialize) -> Value {
    value_of_result(v).unwrap_or(Value::Null)
}

/// Implements [`ToValue`] for serde types of ours, through [`value_of`].
#[macro_export]
macro_rules! to_value_via_serde {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::json::ToValue for $t {
            fn to_value(&self) -> serde_json::Value {
                $crate::json::value_of(self)
            }
        }
    )*};
}

/// `serde_json::json!`'s syntax (objects with literal keys, arrays, `null`, `true`, `false`,
/// expressions), built with [`ToValue`].
#[macro_export]
macro_rules! jv {
    (null) => { serde_json::Value::Null };
    ([]) => { serde_json::Value::Array(Vec::new()) };
    ([ $($tt:tt)+ ]) => { $crate::jv!(@array [] [] $($tt)+) };
    ({}) => { serde_json::Value::Object(serde_json::Map::new()) };
    ({ $($tt:tt)+ }) => {{
        let mut map = serde_json::Map::new();
        $crate::jv!(@object map $($tt)+);
        serde_json::Value::Object(map)
    }};
    ($e:expr) => { $crate::json::ToValue::to_value(&$e) };

    // Arrays: one element's tokens up to a top-level comma, then the next.
    (@array [$($done:tt)*] []) => { serde_json::Value::Array(vec![$($done)*]) };
    (@array [$($done:tt)*] [$($cur:tt)+]) => {
        serde_json::Value::Array(vec![$($done)* $crate::jv!($($cur)+)])
    };
    (@array [$($done:tt)*] [$($cur:tt)+] , $($rest:tt)*) => {
        $crate::jv!(@array [$($done)* $crate::jv!($($cur)+),] [] $($rest)*)
    };
    (@array [$($done:tt)*] [$($cur:tt)*] $next:tt $($rest:tt)*) => {
        $crate::jv!(@array [$($done)*] [$($cur)* $next] $($rest)*)
    };

    // Objects: `key: value` pairs, a value's tokens up to a top-level comma.
    (@object $map:ident) => {};
    (@object $map:ident $key:tt : $($rest:tt)+) => {
        $crate::jv!(@value $map $key [] $($rest)+);
    };
    (@value $map:ident $key:tt [$($cur:tt)+]) => {
        $map.insert(String::from($key), $crate::jv!($($cur)+));
    };
    (@value $map:ident $key:tt [$($cur:tt)+] , $($rest:tt)*) => {
        $map.insert(String::from($key), $crate::jv!($($cur)+));
        $crate::jv!(@object $map $($rest)*);
    };
    (@value $map:ident $key:tt [$($cur:tt)*] $next:tt $($rest:tt)*) => {
        $crate::jv!(@value $map $key [$($cur)* $next] $($rest)*);
    };
}

#[cfg(test)]
mod jv_tests {
    use serde_json::json;

    #[test]
    fn jv_builds_what_json_builds() {
        let name = String::from("Ana");
        let none: Option<String> = None;
        let list = vec!["a".to_owned(), "b".to_owned()];
        let n: i64 = -3;
        let got = crate::jv!({
            "name": name, "none": none, "list": list, "n": n, "t": true, "f": false,
            "null": null, "nested": {"x": [1u32, {"y": "z"}, []], "e": {}},
            "sum": n + 1, "call": name.len(),
        });
        let want = json!({
            "name": "Ana", "none": null, "list": ["a", "b"], "n": -3, "t": true, "f": false,
            "null": null, "nested": {"x": [1, {"y": "z"}, []], "e": {}},
            "sum": -2, "call": 3,
        });
        assert_eq!(got, want);
        assert_eq!(crate::jv!([name, 2u32,]), json!(["Ana", 2]));
        assert_eq!(
            crate::jv!([[1u32], {"a": [true]}]),
            json!([[1], {"a": [true]}])
        );
    }
}

/// [`value_of`], with serde's error when the type cannot be written as JSON.
pub fn value_of_result(v: &impl serde::Serialize) -> Result<Value, serde_json::Error> {
    parse(serde_json::to_vec(v)?)
}
