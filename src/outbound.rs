//! Work done after the response (back-channel logout, sending codes), and the outbound HTTP
//! it needs. The platform runs the jobs with `waitUntil`; a failure is logged, never shown
//! to the user.
#![allow(async_fn_in_trait)]

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
