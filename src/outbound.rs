//! Outbound HTTP: work done after the response (back-channel logout, sending codes), which
//! the platform runs with `waitUntil` (a failure is logged, never shown to the user); and
//! requests the core waits for ([`Http`]), each with a timeout, a cap on the answer's
//! length and only to the URLs [`check_url`] allows.
#![allow(async_fn_in_trait)]
use crate::crypto::provider::LocalFuture;

/// Outbound HTTP, as the platform provides it.
pub trait Outbound {
    /// POSTs `body` with `headers`; returns the response status, or why there was none
    /// (including a timeout after `timeout_ms`).
    async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
        timeout_ms: u32,
    ) -> Result<u16, String>;
    async fn sleep(&self, ms: u32);
}

/// An HTTP request the core makes and waits for (an identity provider's discovery document,
/// token endpoint or user info).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub post: bool,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Who is asking (some APIs, GitHub's among them, refuse a request without it).
const USER_AGENT: &str = "Gatehouse";

impl HttpRequest {
    pub fn get(url: &str) -> Self {
        HttpRequest {
            post: false,
            url: url.to_owned(),
            headers: vec![
                ("accept".into(), "application/json".into()),
                ("user-agent".into(), USER_AGENT.into()),
            ],
            body: Vec::new(),
        }
    }

    /// A POST of an HTML form (`application/x-www-form-urlencoded`).
    pub fn form(url: &str, pairs: &[(&str, &str)]) -> Self {
        let mut f = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            f.append_pair(k, v);
        }
        HttpRequest {
            post: true,
            url: url.to_owned(),
            headers: vec![
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("accept".into(), "application/json".into()),
                ("user-agent".into(), USER_AGENT.into()),
            ],
            body: f.finish().into_bytes(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why a request got no usable response.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpError {
    /// No answer within the time allowed.
    Timeout,
    /// The response body was longer than allowed.
    TooLarge,
    /// The URL is not one the provider calls (see [`check_url`]).
    Refused(String),
    /// No connection, or the platform failed the request.
    Network(String),
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Timeout => write!(f, "no answer within {FETCH_TIMEOUT_MS} ms"),
            HttpError::TooLarge => {
                write!(f, "the answer is longer than {MAX_RESPONSE_BYTES} bytes")
            }
            HttpError::Refused(why) | HttpError::Network(why) => f.write_str(why),
        }
    }
}

/// How long a request the core waits for may take, and how long its answer may be.
pub const FETCH_TIMEOUT_MS: u32 = 10_000;
pub const MAX_RESPONSE_BYTES: usize = 512 * 1024;

/// Outbound HTTP with a response, as the platform provides it (the worker's `fetch`, or a
/// twin in the tests). Implementations enforce `timeout_ms` and `max_bytes`.
pub trait Http {
    fn fetch<'a>(
        &'a self,
        req: &'a HttpRequest,
        timeout_ms: u32,
        max_bytes: usize,
    ) -> LocalFuture<'a, Result<HttpResponse, HttpError>>;
}

/// No outbound HTTP (a platform or a test without it): every request fails.
pub struct NoHttp;

impl Http for NoHttp {
    fn fetch<'a>(
        &'a self,
        req: &'a HttpRequest,
        _: u32,
        _: usize,
    ) -> LocalFuture<'a, Result<HttpResponse, HttpError>> {
        let url = req.url.clone();
        Box::pin(async move { Err(HttpError::Network(format!("no outbound HTTP for {url}"))) })
    }
}

/// The URLs the provider calls: `https`, or `http` to this machine (development). Anything
/// else (other schemes, credentials in the URL) is refused before any request.
pub fn check_url(url: &str) -> Result<(), HttpError> {
    use crate::uri::Uri;
    let refused = |why: &str| HttpError::Refused(format!("{url}: {why}"));
    let u = Uri::parse(url)
        .filter(Uri::is_web)
        .ok_or_else(|| refused("not an absolute http(s) URL"))?;
    if u.userinfo().is_some() {
        return Err(refused("credentials in the URL"));
    }
    let host = u.host().unwrap_or_default();
    let loopback = matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]")
        || host.ends_with(".localhost");
    if u.scheme.eq_ignore_ascii_case("https") || loopback {
        Ok(())
    } else {
        Err(refused("only https (or http to this machine)"))
    }
}

/// Fetches `req` with the core's limits, after [`check_url`].
pub async fn fetch(http: &dyn Http, req: &HttpRequest) -> Result<HttpResponse, HttpError> {
    check_url(&req.url)?;
    http.fetch(req, FETCH_TIMEOUT_MS, MAX_RESPONSE_BYTES).await
}

/// Fetches `req` and reads a 2xx answer as a JSON object; the error says what went wrong.
pub async fn fetch_json(
    http: &dyn Http,
    req: &HttpRequest,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let res = fetch(http, req).await.map_err(|e| e.to_string())?;
    let parsed = crate::json::parse(&res.body);
    if !(200..300).contains(&res.status) {
        let detail = parsed
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        return Err(format!("{} answered HTTP {}{detail}", req.url, res.status));
    }
    match parsed {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        _ => Err(format!("{} did not answer with a JSON object", req.url)),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Job {
    /// OpenID Connect Back-Channel Logout 1.0 §2.5: POST `logout_token` to the app.
    BackchannelLogout {
        client_id: String,
        uri: String,
        logout_token: String,
    },
    /// A message to a provider's API (email or SMS connector).
    Deliver {
        what: String,
        url: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
}

pub const ATTEMPTS: u32 = 3;
pub const TIMEOUT_MS: u32 = 5_000;

fn request(job: &Job) -> (String, &str, Vec<(String, String)>, Vec<u8>) {
    match job {
        Job::BackchannelLogout {
            client_id,
            uri,
            logout_token,
        } => {
            let body = form_urlencoded::Serializer::new(String::new())
                .append_pair("logout_token", logout_token)
                .finish();
            (
                format!("back-channel logout to {client_id}"),
                uri,
                vec![(
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                )],
                body.into_bytes(),
            )
        }
        Job::Deliver {
            what,
            url,
            headers,
            body,
        } => (what.clone(), url, headers.clone(), body.clone()),
    }
}

/// Runs a job: up to [`ATTEMPTS`] tries with a growing pause; a 2xx counts as done.
pub async fn run(out: &impl Outbound, job: &Job) -> bool {
    let (what, url, headers, body) = request(job);
    for attempt in 1..=ATTEMPTS {
        match out.post(url, &headers, &body, TIMEOUT_MS).await {
            Ok(status) if (200..300).contains(&status) => return true,
            Ok(status) => log::warn!("{what} ({url}): HTTP {status}, attempt {attempt}"),
            Err(e) => log::warn!("{what} ({url}): {e}, attempt {attempt}"),
        }
        if attempt < ATTEMPTS {
            out.sleep(500 * attempt).await;
        }
    }
    log::error!("{what} ({url}) failed after {ATTEMPTS} attempts");
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn only_https_or_http_to_a_loopback_name_is_fetched_and_never_with_credentials() {
        for ok in [
            "https://idp.example/token",
            "HTTPS://IdP.Example/x",
            "http://localhost:8080/cb",
            "HTTP://LOCALHOST/x",
            "http://op.localhost/x",
            "http://127.0.0.1:9000/",
            "http://[::1]:9000/",
        ] {
            assert_eq!(check_url(ok), Ok(()), "{ok} was refused");
        }
        for bad in [
            "http://idp.example/token",
            "http://evil.example#@localhost/",
            "http://evil.example?@localhost/",
            "http://evil.example\\@localhost/",
            "http://@localhost/",
            "https://user:pw@idp.example/",
            "http:/localhost/x",
            "http:localhost/x",
            "http:////localhost/x",
            "http://127.1/",
            "http://0x7f.0.0.1/",
            "http://localhost:65536/",
            "http://%6cocalhost/",
            "ftp://localhost/",
            "file:///etc/passwd",
        ] {
            assert!(check_url(bad).is_err(), "{bad} was allowed");
        }
    }

    type Call = (String, Vec<(String, String)>, Vec<u8>);

    /// An in-memory twin that answers from a script of results.
    struct Scripted {
        replies: RefCell<Vec<Result<u16, String>>>,
        calls: RefCell<Vec<Call>>,
        slept: RefCell<Vec<u32>>,
    }

    impl Scripted {
        fn new(replies: Vec<Result<u16, String>>) -> Self {
            Self {
                replies: RefCell::new(replies),
                calls: RefCell::default(),
                slept: RefCell::default(),
            }
        }
    }

    impl Outbound for Scripted {
        async fn post(
            &self,
            url: &str,
            headers: &[(String, String)],
            body: &[u8],
            _: u32,
        ) -> Result<u16, String> {
            self.calls
                .borrow_mut()
                .push((url.to_owned(), headers.to_vec(), body.to_vec()));
            let mut r = self.replies.borrow_mut();
            if r.is_empty() {
                Err("no reply".into())
            } else {
                r.remove(0)
            }
        }
        async fn sleep(&self, ms: u32) {
            self.slept.borrow_mut().push(ms);
        }
    }

    fn job() -> Job {
        Job::BackchannelLogout {
            client_id: "c".into(),
            uri: "https://rp.example/bcl".into(),
            logout_token: "t.o.k".into(),
        }
    }

    #[test]
    fn retries_a_bounded_number_of_times() {
        let out = Scripted::new(vec![Err("timeout".into()), Ok(500), Ok(204)]);
        assert!(pollster::block_on(run(&out, &job())));
        let calls = out.calls.borrow();
        assert_eq!(calls.len(), 3);
        assert_eq!(calls[0].0, "https://rp.example/bcl");
        assert_eq!(calls[0].2, b"logout_token=t.o.k");
        assert_eq!(*out.slept.borrow(), vec![500, 1000]);

        let failing = Scripted::new(vec![Ok(500); 10]);
        assert!(!pollster::block_on(run(&failing, &job())));
        assert_eq!(failing.calls.borrow().len(), ATTEMPTS as usize);
    }
}
