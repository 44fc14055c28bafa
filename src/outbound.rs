//! Work done after the response (back-channel logout), and the outbound HTTP it needs. The
//! platform runs the jobs with `waitUntil`; a failure is logged, never shown to the user.
#![allow(async_fn_in_trait)]

/// Outbound HTTP, as the platform provides it.
pub trait Outbound {
    /// POSTs a form; returns the response status, or why there was none (including a
    /// timeout after `timeout_ms`).
    async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
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
}

pub const ATTEMPTS: u32 = 3;
pub const TIMEOUT_MS: u32 = 5_000;

/// Runs a job: up to [`ATTEMPTS`] tries with a growing pause; a 200 or 204 counts as done.
pub async fn run(out: &impl Outbound, job: &Job) -> bool {
    let Job::BackchannelLogout {
        client_id,
        uri,
        logout_token,
    } = job;
    for attempt in 1..=ATTEMPTS {
        match out
            .post_form(uri, &[("logout_token", logout_token)], TIMEOUT_MS)
            .await
        {
            Ok(200) | Ok(204) => return true,
            Ok(status) => log::warn!(
                "back-channel logout to {client_id} ({uri}): HTTP {status}, attempt {attempt}"
            ),
            Err(e) => {
                log::warn!("back-channel logout to {client_id} ({uri}): {e}, attempt {attempt}")
            }
        }
        if attempt < ATTEMPTS {
            out.sleep(500 * attempt).await;
        }
    }
    log::error!("back-channel logout to {client_id} ({uri}) failed after {ATTEMPTS} attempts");
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// An in-memory twin that answers from a script of results.
    struct Scripted {
        replies: RefCell<Vec<Result<u16, String>>>,
        calls: RefCell<Vec<String>>,
        slept: RefCell<Vec<u32>>,
    }

    impl Outbound for Scripted {
        async fn post_form(&self, url: &str, form: &[(&str, &str)], _: u32) -> Result<u16, String> {
            self.calls.borrow_mut().push(format!(
                "{url} {}",
                form.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(",")
            ));
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
            logout_token: "t".into(),
        }
    }

    #[test]
    fn retries_a_bounded_number_of_times() {
        let out = Scripted {
            replies: RefCell::new(vec![Err("timeout".into()), Ok(500), Ok(204)]),
            calls: RefCell::default(),
            slept: RefCell::default(),
        };
        assert!(pollster::block_on(run(&out, &job())));
        assert_eq!(out.calls.borrow().len(), 3);
        assert_eq!(out.calls.borrow()[0], "https://rp.example/bcl logout_token");
        assert_eq!(*out.slept.borrow(), vec![500, 1000]);

        let failing = Scripted {
            replies: RefCell::new(vec![Ok(500); 10]),
            calls: RefCell::default(),
            slept: RefCell::default(),
        };
        assert!(!pollster::block_on(run(&failing, &job())));
        assert_eq!(failing.calls.borrow().len(), ATTEMPTS as usize);
    }
}
