//! [`Outbound`] over the Workers fetch API, with a timeout.
use crate::outbound::Outbound;
use futures_util::future::{select, Either};
use std::time::Duration;
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit};

pub struct Fetcher;

impl Outbound for Fetcher {
    async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
        timeout_ms: u32,
    ) -> Result<u16, String> {
        let h = Headers::new();
        for (k, v) in headers {
            h.set(k, v).map_err(|e| e.to_string())?;
        }
        let mut init = RequestInit::new();
        let bytes = js_sys::Uint8Array::from(body);
        init.with_method(Method::Post)
            .with_headers(h)
            .with_body(Some(bytes.into()));
        let request = Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
        let controller = AbortController::default();
        let signal = controller.signal();
        let fetch = Fetch::Request(request);
        let outcome = {
            let send = Box::pin(fetch.send_with_signal(&signal));
            let timeout = Box::pin(Delay::from(Duration::from_millis(u64::from(timeout_ms))));
            match select(send, timeout).await {
                Either::Left((Ok(res), _)) => Ok(res.status_code()),
                Either::Left((Err(e), _)) => Err(e.to_string()),
                Either::Right(_) => Err(format!("no answer within {timeout_ms} ms")),
            }
        };
        if outcome.is_err() {
            controller.abort();
        }
        outcome
    }

    async fn sleep(&self, ms: u32) {
        Delay::from(Duration::from_millis(u64::from(ms))).await;
    }
}
