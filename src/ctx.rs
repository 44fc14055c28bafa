//! What every operation of the core may use: storage, the validated configuration, the
//! public origin and the time the request arrived. Built once per request by the router;
//! it carries nothing of HTTP (no headers, cookies or language), so the core cannot read them.
use crate::config::Config;
use crate::crypto::keys::KeySealer;
use crate::crypto::CryptoError;
use crate::outbound::Job;
use crate::store::{Db, Kv};
use std::cell::RefCell;

pub struct Ctx<'a, D: Db, K: Kv> {
    pub db: &'a D,
    pub kv: &'a K,
    pub config: &'a Config,
    /// `PUBLIC_URL`, or the request's origin when that is unset.
    pub origin: String,
    /// Milliseconds since the Unix epoch.
    pub now_ms: i64,
    /// Work to run after the response (back-channel logout, messages).
    jobs: RefCell<Vec<Job>>,
}

impl<'a, D: Db, K: Kv> Ctx<'a, D, K> {
    pub fn new(db: &'a D, kv: &'a K, config: &'a Config, origin: String, now_ms: i64) -> Self {
        Ctx {
            db,
            kv,
            config,
            origin,
            now_ms,
            jobs: RefCell::default(),
        }
    }
    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        self.now_ms.div_euclid(1000)
    }
    pub fn issuer(&self) -> String {
        format!("{}/oidc", self.origin)
    }
    /// The Management API's resource indicator.
    pub fn management_api(&self) -> String {
        format!("{}/api", self.origin)
    }
    pub fn sealer(&self) -> Result<KeySealer, CryptoError> {
        KeySealer::new(&self.config.key_encryption_secret)
    }
    /// Queues work to run after the response has been sent.
    pub fn defer(&self, job: Job) {
        self.jobs.borrow_mut().push(job);
    }
    /// The queued work, for the platform to run after the response.
    pub fn into_jobs(self) -> Vec<Job> {
        self.jobs.into_inner()
    }
}
