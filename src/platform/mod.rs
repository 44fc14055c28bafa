//! The only code that touches workers-rs: the fetch entry point, request and response
//! conversion, the D1 and KV adapters, the clock, configuration and the logger.
mod d1;
mod fetch;
mod kv;

use crate::config::{Vars, VARIABLES};
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

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Info);
    }
}

fn vars(env: &Env) -> Vars {
    VARIABLES
        .iter()
        .filter_map(|name| {
            let value = env
                .var(name)
                .map(|v| v.to_string())
                .or_else(|_| env.secret(name).map(|v| v.to_string()))
                .ok()?;
            Some(((*name).to_owned(), value))
        })
        .collect()
}

async fn to_http(mut req: Request) -> Result<crate::web::Request> {
    let body = req.bytes().await.unwrap_or_default();
    let mut builder = http::Request::builder()
        .method(req.method().as_ref())
        .uri(req.url()?.as_str());
    for (name, value) in req.headers().entries() {
        builder = builder.header(name, value);
    }
    builder
        .body(body)
        .map_err(|e| worker::Error::RustError(e.to_string()))
}

fn from_http(res: crate::web::Response) -> Result<Response> {
    let (parts, body) = res.into_parts();
    let headers = Headers::new();
    for (name, value) in &parts.headers {
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

#[event(scheduled)]
async fn scheduled(_event: worker::ScheduledEvent, env: Env, _ctx: worker::ScheduleContext) {
    match env.d1("DB") {
        Ok(db) => crate::app::scheduled(&d1::D1(db), js_sys::Date::now() as i64).await,
        Err(e) => log::error!("scheduled: no DB binding: {e}"),
    }
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let db = d1::D1(env.d1("DB")?);
    let kv = kv::WorkersKv(env.kv("SESSIONS")?);
    let req = match to_http(req).await {
        Ok(r) => r,
        Err(_) => return bad_request("malformed request"),
    };
    let now_ms = js_sys::Date::now() as i64;
    let (res, jobs) = crate::app::handle(&db, &kv, &vars(&env), req, now_ms).await;
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
