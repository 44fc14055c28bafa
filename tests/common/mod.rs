//! Native test harness: the real router over SQLite (the same migrations) and in-memory KV.
#![allow(dead_code)]
use gatehouse::config::Vars;
use gatehouse::store::memory_kv::MemoryKv;
use gatehouse::store::sqlite::SqliteDb;
use gatehouse::store::Db;
use gatehouse::web::{Request, Response};
use serde_json::Value;
use std::cell::Cell;

pub const ORIGIN: &str = "http://gatehouse.test";
pub const ADMIN_ID: &str = "admin-app";
pub const ADMIN_SECRET: &str = "admin-secret-admin-secret-admin-secret";
pub const START_MS: i64 = 1_800_000_000_000;

pub fn vars() -> Vars {
    [
        (
            "KEY_ENCRYPTION_SECRET",
            "test-key-encryption-secret-0123456789",
        ),
        ("ADMIN_CLIENT_ID", ADMIN_ID),
        ("ADMIN_CLIENT_SECRET", ADMIN_SECRET),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

pub struct Harness<D: Db = SqliteDb> {
    pub db: D,
    pub kv: MemoryKv,
    pub vars: Vars,
    pub now_ms: Cell<i64>,
    /// Jobs the handled requests left to run after their responses.
    pub jobs: std::cell::RefCell<Vec<gatehouse::outbound::Job>>,
}

pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Harness<SqliteDb> {
    pub fn new() -> Self {
        Self::with_db(SqliteDb::migrated().unwrap())
    }
}

impl<D: Db> Harness<D> {
    pub fn with_db(db: D) -> Self {
        Self {
            db,
            kv: MemoryKv::new((START_MS / 1000) as u64),
            vars: vars(),
            now_ms: Cell::new(START_MS),
            jobs: Default::default(),
        }
    }

    pub fn advance_secs(&self, secs: i64) {
        self.now_ms.set(self.now_ms.get() + secs * 1000);
        self.kv.advance(secs as u64);
    }

    pub fn send(&self, req: Request) -> Reply {
        let (res, jobs): (Response, _) = pollster::block_on(gatehouse::app::handle(
            &self.db,
            &self.kv,
            &self.vars,
            req,
            self.now_ms.get(),
        ));
        self.jobs.borrow_mut().extend(jobs);
        let (parts, body) = res.into_parts();
        Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send(request("GET", path, &[], Vec::new()))
    }

    pub fn form(&self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut h = vec![("content-type", "application/x-www-form-urlencoded")];
        h.extend_from_slice(headers);
        self.send(request("POST", path, &h, body.into_bytes()))
    }

    /// A Management API token for the bootstrap admin app.
    pub fn admin_token(&self) -> String {
        let r = self.form(
            "/oidc/token",
            &[
                ("grant_type", "client_credentials"),
                ("resource", &format!("{ORIGIN}/api")),
                ("scope", "all"),
                ("client_id", ADMIN_ID),
                ("client_secret", ADMIN_SECRET),
            ],
            &[],
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// A Management API call with a JSON body and the admin token.
    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let token = self.admin_token();
        self.api_as(
            &token,
            method,
            path,
            body.map(|b| b.to_string().into_bytes()),
        )
    }

    pub fn api_as(&self, token: &str, method: &str, path: &str, body: Option<Vec<u8>>) -> Reply {
        let auth = format!("Bearer {token}");
        let mut headers = vec![("authorization", auth.as_str())];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        self.send(request(method, path, &headers, body.unwrap_or_default()))
    }
}

pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Request {
    let mut b = http::Request::builder()
        .method(method)
        .uri(format!("{ORIGIN}{path}"));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(body).unwrap()
}
