//! [`Outbound`] and [`Http`] over the Workers fetch API, with a timeout (and, for [`Http`],
//! a cap on the answer's length, read as a stream).
use crate::crypto::provider::LocalFuture;
use crate::outbound::{Http, HttpError, HttpRequest, HttpResponse, Outbound};
use futures_util::future::{select, Either};
use std::time::Duration;
use worker::{AbortController, Delay, Fetch, Request, Response};

pub struct Fetcher;

impl Outbound for Fetcher {
    /// A POST with no redirect followed (as every outbound request: [`Http`]), its answer's
    /// status.
    async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
        timeout_ms: u32,
    ) -> Result<u16, String> {
        let req = HttpRequest {
            post: true,
            url: url.to_owned(),
            headers: headers.to_vec(),
            body: body.to_vec(),
        };
        self.fetch(&req, timeout_ms, crate::outbound::MAX_RESPONSE_BYTES)
            .await
            .map(|res| res.status)
            .map_err(|e| e.to_string())
    }

    async fn sleep(&self, ms: u32) {
        Delay::from(Duration::from_millis(u64::from(ms))).await;
    }
}

fn js(e: wasm_bindgen::JsValue) -> String {
    super::js::message(&e)
}

/// The request as the fetch API takes it.
fn request(req: &HttpRequest) -> Result<Request, String> {
    let h = web_sys::Headers::new().map_err(js)?;
    for (k, v) in &req.headers {
        h.set(k, v).map_err(js)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(if req.post { "POST" } else { "GET" });
    init.set_headers(&h);
    // Redirects are not followed: an identity provider's endpoints answer directly.
    init.set_redirect(web_sys::RequestRedirect::Manual);
    if req.post {
        init.set_body(&js_sys::Uint8Array::from(req.body.as_slice()));
    }
    Ok(Request::from(
        web_sys::Request::new_with_str_and_init(&req.url, &init).map_err(js)?,
    ))
}

/// The answer's status, headers and body, the body read up to `max_bytes`.
async fn read(mut res: Response, max_bytes: usize) -> Result<HttpResponse, HttpError> {
    use futures_util::StreamExt;
    let headers: Vec<(String, String)> = res
        .headers()
        .entries()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    let declared = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_bytes) {
        return Err(HttpError::TooLarge);
    }
    let mut body = Vec::new();
    if let Ok(mut stream) = res.stream() {
        while let Some(chunk) = stream.next().await {
            body.extend_from_slice(&chunk.map_err(|e| HttpError::Network(e.to_string()))?);
            if body.len() > max_bytes {
                return Err(HttpError::TooLarge);
            }
        }
    }
    Ok(HttpResponse {
        status: res.status_code(),
        headers,
        body,
    })
}

impl Http for Fetcher {
    fn fetch<'a>(
        &'a self,
        req: &'a HttpRequest,
        timeout_ms: u32,
        max_bytes: usize,
    ) -> LocalFuture<'a, Result<HttpResponse, HttpError>> {
        Box::pin(async move {
            let request = request(req).map_err(HttpError::Network)?;
            let controller = AbortController::default();
            let signal = controller.signal();
            let fetch = Fetch::Request(request);
            let answer = async {
                let res = fetch
                    .send_with_signal(&signal)
                    .await
                    .map_err(|e| HttpError::Network(e.to_string()))?;
                read(res, max_bytes).await
            };
            let timeout = Delay::from(Duration::from_millis(u64::from(timeout_ms)));
            let outcome = match select(Box::pin(answer), Box::pin(timeout)).await {
                Either::Left((r, _)) => r,
                Either::Right(_) => Err(HttpError::Timeout),
            };
            if outcome.is_err() {
                controller.abort();
            }
            outcome
        })
    }
}
