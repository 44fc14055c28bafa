//! [`Outbound`] over the Workers fetch API, with a timeout.
use crate::outbound::Outbound;
use futures_util::future::{select, Either};
use std::time::Duration;
use worker::{AbortController, Delay, Fetch, Request};

pub struct Fetcher;

impl Outbound for Fetcher {
    async fn post(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
        timeout_ms: u32,
    ) -> Result<u16, String> {
        let js = |e: wasm_bindgen::JsValue| format!("{e:?}");
        let h = web_sys::Headers::new().map_err(js)?;
        for (k, v) in headers {
            h.set(k, v).map_err(js)?;
        }
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_headers(&h);
        init.set_body(&js_sys::Uint8Array::from(body));
        let request =
            Request::from(web_sys::Request::new_with_str_and_init(url, &init).map_err(js)?);
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
