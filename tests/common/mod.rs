//! Native test harness: the real router over SQLite (the same migrations) and in-memory KV.
#![allow(dead_code)]
pub mod authenticator;
pub mod http_twin;
pub mod idp;

use gatehouse::config::Vars;
use gatehouse::store::memory_kv::MemoryKv;
use gatehouse::store::sqlite::SqliteDb;
use gatehouse::store::Db;
use gatehouse::web::{Request, Response};
use serde_json::Value;
use std::cell::Cell;

pub const ORIGIN: &str = "http://gatehouse.localhost";
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
        ("DEV_MAILBOX", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

pub struct Harness<D: Db = SqliteDb> {
    pub db: D,
    /// The read replica; the primary itself when `None`.
    pub replica: Option<D>,
    /// The isolate's cache: one per harness, as one per isolate in workerd; another isolate
    /// is another cache over the same storage (`in_isolate`).
    pub cache: std::cell::RefCell<std::rc::Rc<gatehouse::cache::Cache>>,
    pub kv: MemoryKv,
    pub vars: Vars,
    pub now_ms: Cell<i64>,
    /// Jobs the handled requests left to run after their responses.
    pub jobs: std::cell::RefCell<Vec<gatehouse::outbound::Job>>,
    /// Outbound HTTP the worker waits for: answered by handlers the test registers.
    pub http: http_twin::TwinHttp,
}

pub struct Reply {
    pub status: u16,
    pub headers: gatehouse::web::http::HeaderMap,
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
            replica: None,
            cache: Default::default(),
            kv: MemoryKv::new((START_MS / 1000) as u64),
            vars: vars(),
            now_ms: Cell::new(START_MS),
            jobs: Default::default(),
            http: Default::default(),
        }
    }

    pub fn advance_secs(&self, secs: i64) {
        self.now_ms.set(self.now_ms.get() + secs * 1000);
        self.kv.advance(secs as u64);
    }

    /// Runs `f` with `cache` as the isolate's: requests in it see another isolate's cache
    /// over the same storage.
    pub fn in_isolate<T>(
        &self,
        cache: &std::rc::Rc<gatehouse::cache::Cache>,
        f: impl FnOnce() -> T,
    ) -> T {
        let previous = self.cache.replace(cache.clone());
        let out = f();
        self.cache.replace(previous);
        out
    }

    pub fn send(&self, req: Request) -> Reply {
        let cache = self.cache.borrow().clone();
        let platform = gatehouse::ctx::Platform {
            db: &self.db,
            replica: self.replica.as_ref().unwrap_or(&self.db),
            kv: &self.kv,
            crypto: &gatehouse::crypto::provider::RustCrypto,
            cache: &cache,
            http: &self.http,
        };
        let (res, jobs): (Response, _) = pollster::block_on(gatehouse::app::handle(
            &platform,
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
    let mut b = gatehouse::web::http::Request::builder()
        .method(method)
        .uri(format!("{ORIGIN}{path}"));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(body).unwrap()
}

/// A browser's cookie jar for flows through the router (no Secure/expiry logic needed here:
/// the router sees exactly what a browser would send back).
#[derive(Default)]
pub struct Jar(pub std::cell::RefCell<std::collections::BTreeMap<String, String>>);

impl Jar {
    pub fn header(&self) -> String {
        self.0
            .borrow()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn store(&self, reply: &Reply) {
        for v in reply.headers.get_all("set-cookie") {
            let c = cookie::Cookie::parse(v.to_str().unwrap().to_owned()).unwrap();
            if c.max_age() == Some(cookie::time::Duration::ZERO) {
                self.0.borrow_mut().remove(c.name());
            } else {
                self.0
                    .borrow_mut()
                    .insert(c.name().to_owned(), c.value().to_owned());
            }
        }
    }
}

impl<D: Db> Harness<D> {
    /// A browser request: sends the jar's cookies and keeps the ones set.
    pub fn browse(
        &self,
        jar: &Jar,
        method: &str,
        path: &str,
        form: Option<&[(&str, &str)]>,
    ) -> Reply {
        let cookies = jar.header();
        let mut headers = vec![("cookie", cookies.as_str())];
        let body = match form {
            Some(f) => {
                headers.push(("content-type", "application/x-www-form-urlencoded"));
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(f)
                    .finish()
                    .into_bytes()
            }
            None => Vec::new(),
        };
        let path = path.strip_prefix(ORIGIN).unwrap_or(path).to_owned();
        let r = self.send(request(method, &path, &headers, body));
        jar.store(&r);
        r
    }

    /// Follows same-origin redirects from `path`; returns the first reply that is not one.
    pub fn follow(&self, jar: &Jar, path: &str) -> Reply {
        let mut r = self.browse(jar, "GET", path, None);
        for _ in 0..10 {
            match r.header("location").map(str::to_owned) {
                Some(loc)
                    if r.status == 303 && (loc.starts_with('/') || loc.starts_with(ORIGIN)) =>
                {
                    r = self.browse(jar, "GET", &loc, None);
                }
                _ => break,
            }
        }
        r
    }

    /// Signs in on the hosted page (the current interaction's) and follows to the app.
    pub fn sign_in(&self, jar: &Jar, identifier: &str, password: &str) -> Reply {
        let page = self.browse(jar, "GET", "/sign-in", None);
        assert_eq!(page.status, 200, "{}", page.text());
        let csrf = csrf_of(&page.text());
        let r = self.browse(
            jar,
            "POST",
            "/sign-in",
            Some(&[
                ("_csrf", &csrf),
                ("identifier", identifier),
                ("password", password),
            ]),
        );
        match r.header("location") {
            Some(loc) if r.status == 303 => self.follow(jar, loc),
            _ => r,
        }
    }
}

pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"_csrf\" value=\"").expect("a CSRF field") + 20;
    html[at..at + 32].to_owned()
}

/// The query parameters of a redirect's Location.
pub fn location_params(r: &Reply) -> std::collections::BTreeMap<String, String> {
    let loc = r.header("location").expect("a redirect");
    let url = url::Url::parse(loc).unwrap();
    url.query_pairs().into_owned().collect()
}

/// An Experience API call from the browser `jar`, as a same-origin client sends it: always
/// `application/json`, even without a body.
pub fn exp(h: &Harness, jar: &Jar, method: &str, path: &str, body: Option<Value>) -> Reply {
    let cookies = jar.header();
    let headers = vec![
        ("cookie", cookies.as_str()),
        ("content-type", "application/json"),
    ];
    let r = h.send(request(
        method,
        &format!("/api/experience{path}"),
        &headers,
        body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
    ));
    jar.store(&r);
    r
}

/// The newest 6-digit code the development mailbox holds for `to`.
pub fn mailbox_code(h: &Harness, to: &str) -> String {
    let list = h.get(&format!("/dev/mailbox.json?to={to}")).json();
    let body = list[0]["body"].as_str().expect("a message").to_owned();
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code")
        .to_owned()
}

/// Submits the Experience API interaction of `jar`, follows to the app's `redirect_uri` and
/// exchanges the code (PKCE `verifier`): the ID token's claims.
pub fn claims_after_submit(
    h: &Harness,
    jar: &Jar,
    (client, redirect_uri, verifier): (&str, &str, &str),
) -> Value {
    let r = exp(h, jar, "POST", "/submit", None);
    assert_eq!(r.status, 200, "{}", r.text());
    let to = r.json()["redirectTo"].as_str().unwrap().to_owned();
    let r = h.follow(jar, to.strip_prefix(ORIGIN).unwrap());
    let code = location_params(&r)["code"].clone();
    let r = h.form(
        "/oidc/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("code", &code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ],
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let id_token = r.json()["id_token"].as_str().unwrap().to_owned();
    let payload = id_token.split('.').nth(1).unwrap();
    serde_json::from_slice(&authenticator::unb64(payload)).unwrap()
}
