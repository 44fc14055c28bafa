//! The native twin of the worker's outbound `fetch`: requests go to handlers the test
//! registers by URL (without the query), with the platform's limits applied; every request
//! is recorded.
#![allow(dead_code)]
use gatehouse::crypto::provider::LocalFuture;
use gatehouse::outbound::{Http, HttpError, HttpRequest, HttpResponse};
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;

type Handler = Rc<dyn Fn(&HttpRequest) -> Result<HttpResponse, HttpError>>;

#[derive(Default)]
pub struct TwinHttp {
    handlers: RefCell<Vec<(String, Handler)>>,
    pub calls: RefCell<Vec<HttpRequest>>,
}

impl TwinHttp {
    /// Answers requests to `url` (any query) with `f`.
    pub fn on(
        &self,
        url: &str,
        f: impl Fn(&HttpRequest) -> Result<HttpResponse, HttpError> + 'static,
    ) {
        self.handlers
            .borrow_mut()
            .push((url.to_owned(), Rc::new(f)));
    }

    /// Answers requests to `url` with `status` and the JSON `body`.
    pub fn json(&self, url: &str, status: u16, body: Value) {
        self.on(url, move |_| Ok(json_response(status, &body)));
    }
}

pub fn json_response(status: u16, body: &Value) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

impl Http for TwinHttp {
    fn fetch<'a>(
        &'a self,
        req: &'a HttpRequest,
        _timeout_ms: u32,
        max_bytes: usize,
    ) -> LocalFuture<'a, Result<HttpResponse, HttpError>> {
        self.calls.borrow_mut().push(req.clone());
        let path = req.url.split('?').next().unwrap_or_default().to_owned();
        let handler = self
            .handlers
            .borrow()
            .iter()
            .rev()
            .find(|(u, _)| *u == path)
            .map(|(_, h)| h.clone());
        Box::pin(async move {
            let res = match handler {
                Some(h) => h(req)?,
                None => return Err(HttpError::Network(format!("connection refused: {path}"))),
            };
            if res.body.len() > max_bytes {
                return Err(HttpError::TooLarge);
            }
            Ok(res)
        })
    }
}
