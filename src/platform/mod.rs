//! The only code that touches workers-rs: the fetch entry point, request and response
//! conversion, the D1 and KV adapters, the clock, configuration and the logger.
mod d1;
mod fetch;
mod js;
mod kv;
mod webcrypto;

use crate::cache::Cache;
use crate::config::{Vars, VARIABLES};
use crate::ctx::Platform;
use std::cell::Cell;
use std::rc::Rc;
use worker::{event, Context, Env, Headers, Request, Response, Result};

struct ConsoleLogger;

impl log::Log for ConsoleLogger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::Level::Info
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            match r.level() {
                log::Level::Error => worker::console_error!("{}", r.args()),
                log::Level::Warn => worker::console_warn!("{}", r.args()),
                _ => worker::console_log!("{}", r.args()),
            }
        }
    }
    fn flush(&self) {}
}

static LOGGER: ConsoleLogger = ConsoleLogger;

thread_local! {
    /// The isolate's cache: lives as long as the isolate (a `&'static` by leaking one box).
    static CACHE: &'static Cache = Box::leak(Box::default());
}

#[event(start)]
fn start() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}

fn vars(env: &Env) -> Vars {
    // One insert at a time: `collect` into a map sorts first, a sort more in the module.
    let mut out = Vars::new();
    for name in VARIABLES {
        let value = env
            .var(name)
            .map(|v| v.to_string())
            .or_else(|_| env.secret(name).map(|v| v.to_string()));
        if let Ok(v) = value {
            out.insert((*name).to_owned(), v);
        }
    }
    out
}

/// The request body, read up to [`crate::web::MAX_BODY`]: `None` when it is (or is declared
/// to be) longer, which the router answers with 413 before any face parses it (the router
/// is given `MAX_BODY + 1` bytes for it: [`crate::web::oversized`]).
async fn capped_body(req: &mut Request) -> Result<Option<Vec<u8>>> {
    use futures_util::StreamExt;
    let limit = crate::web::MAX_BODY;
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Ok(None);
    }
    // No body at all (a GET) is an empty one.
    let Ok(mut stream) = req.stream() else {
        return Ok(Some(Vec::new()));
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk?);
        if body.len() > limit {
            return Ok(None);
        }
    }
    Ok(Some(body))
}

async fn to_http(mut req: Request) -> Result<crate::web::Request> {
    let body = capped_body(&mut req)
        .await?
        .unwrap_or_else(|| vec![0; crate::web::MAX_BODY + 1]);
    use crate::web::http::Method;
    let method = match req.method() {
        worker::Method::Get => Method::GET,
        worker::Method::Head => Method::HEAD,
        worker::Method::Post => Method::POST,
        worker::Method::Put => Method::PUT,
        worker::Method::Patch => Method::PATCH,
        worker::Method::Delete => Method::DELETE,
        worker::Method::Options => Method::OPTIONS,
        // Nothing here answers other methods; they get the router's 404/405.
        _ => Method::OTHER,
    };
    let mut builder = crate::web::http::Request::builder()
        .method(method)
        .uri(req.inner().url());
    let headers = req.headers();
    for name in crate::web::READ_HEADERS {
        if let Ok(Some(value)) = headers.get(name.as_str()) {
            builder = builder.header(name, value);
        }
    }
    builder
        .body(body)
        .map_err(|e| worker::Error::RustError(e.to_string()))
}

fn from_http(res: crate::web::Response) -> Result<Response> {
    let (parts, body) = res.into_parts();
    let headers = Headers::new();
    for (name, value) in parts.headers.iter() {
        if let Ok(v) = value.to_str() {
            headers.append(name.as_str(), v)?;
        }
    }
    let body = if parts.status.as_u16() == 204 || parts.status.as_u16() == 304 {
        None
    } else {
        Some(body)
    };
    let res = match body {
        Some(b) => Response::from_bytes(b)?,
        None => Response::empty()?,
    };
    Ok(res.with_status(parts.status.as_u16()).with_headers(headers))
}

fn bad_request(message: &str) -> Result<Response> {
    Response::error(message, 400)
}

/// A binding of the environment by name (D1, KV), as the runtime gives it.
fn binding(env: &Env, name: &str) -> Result<wasm_bindgen::JsValue> {
    let b = js_sys::Reflect::get(env, &name.into())
        .map_err(|_| worker::Error::RustError(format!("no binding {name}")))?;
    if b.is_undefined() {
        return Err(worker::Error::RustError(format!("no binding {name}")));
    }
    Ok(b)
}

#[event(scheduled)]
async fn scheduled(_event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    match binding(&env, "DB") {
        Ok(db) => {
            let db = d1::D1::primary(db, Rc::default(), 0);
            crate::app::scheduled(&db, js_sys::Date::now() as i64).await
        }
        Err(e) => log::error!("scheduled: no DB binding: {e}"),
    }
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let vars = vars(&env);
    let rtt = vars
        .get("SIMULATED_D1_RTT_MS")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        .min(5_000);
    let round_trips: Rc<Cell<u32>> = Rc::default();
    let db = d1::D1::primary(binding(&env, "DB")?, round_trips.clone(), rtt);
    let replica = d1::D1::replica(binding(&env, "DB")?, round_trips.clone(), rtt);
    let kv = kv::WorkersKv(binding(&env, "SESSIONS")?);
    let cache = CACHE.with(|c| *c);
    let platform = Platform {
        db: &db,
        replica: &replica,
        kv: &kv,
        crypto: &webcrypto::WebCrypto,
        cache,
        http: &fetch::Fetcher,
    };
    let req = match to_http(req).await {
        Ok(r) => r,
        Err(_) => return bad_request("malformed request"),
    };
    let now_ms = js_sys::Date::now() as i64;
    let (mut res, jobs) = crate::app::handle(&platform, &vars, req, now_ms).await;
    if vars
        .get("REPORT_D1_ROUND_TRIPS")
        .is_some_and(|v| v == "true")
    {
        if let Ok(v) = crate::web::http::HeaderValue::from_str(&round_trips.get().to_string()) {
            res.headers_mut().insert(crate::web::D1_ROUND_TRIPS, v);
        }
    }
    if !jobs.is_empty() {
        // Sent after the response; a failure is logged and never blocks the user.
        ctx.wait_until(async move {
            for job in &jobs {
                crate::outbound::run(&fetch::Fetcher, job).await;
            }
        });
    }
    from_http(res)
}
