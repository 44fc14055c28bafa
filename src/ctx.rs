//! What every operation of the core may use: storage, the validated configuration, the
//! public origin and the time the request arrived. Built once per request by the router;
//! it carries nothing of HTTP (no headers, cookies or language), so the core cannot read them.
use crate::cache::Cache;
use crate::config::Config;
use crate::crypto::keys::KeySealer;
use crate::crypto::provider::PlatformCrypto;
use crate::crypto::CryptoError;
use crate::outbound::{Http, Job};
use crate::store::{Db, Kv};
use std::cell::RefCell;

/// What the platform provides for a request: the D1 primary, a read replica for reads that
/// tolerate a little lag, KV, the ES256 implementation and the isolate's cache.
pub struct Platform<'a, D: Db, K: Kv> {
    pub db: &'a D,
    pub replica: &'a D,
    pub kv: &'a K,
    pub crypto: &'a dyn PlatformCrypto,
    pub cache: &'a Cache,
    /// Outbound HTTP the core waits for (identity providers).
    pub http: &'a dyn Http,
}

pub struct Ctx<'a, D: Db, K: Kv> {
    /// The primary: everything consumed once (codes, refresh tokens, one-time codes) and
    /// every write goes here.
    pub db: &'a D,
    /// A replica: only for reads that tolerate a little lag (settings, applications,
    /// resources, signing keys on a cold cache).
    pub replica: &'a D,
    pub kv: &'a K,
    pub crypto: &'a dyn PlatformCrypto,
    pub cache: &'a Cache,
    pub http: &'a dyn Http,
    pub config: &'a Config,
    /// `PUBLIC_URL`, or the request's origin when that is unset.
    pub origin: String,
    /// Milliseconds since the Unix epoch.
    pub now_ms: i64,
    /// Work to run after the response (back-channel logout, messages).
    jobs: RefCell<Vec<Job>>,
}

impl<'a, D: Db, K: Kv> Ctx<'a, D, K> {
    pub fn new(p: &Platform<'a, D, K>, config: &'a Config, origin: String, now_ms: i64) -> Self {
        Ctx {
            db: p.db,
            replica: p.replica,
            kv: p.kv,
            crypto: p.crypto,
            cache: p.cache,
            http: p.http,
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
    /// The provider's public host (of `origin`): the WebAuthn relying party, the TOTP issuer.
    pub fn host(&self) -> Option<String> {
        crate::uri::Uri::parse(&self.origin).and_then(|u| u.host())
    }

    pub fn issuer(&self) -> String {
        format!("{}/oidc", self.origin)
    }
    /// The Management API's resource indicator.
    pub fn management_api(&self) -> String {
        format!("{}/api", self.origin)
    }
    pub fn sealer(&self) -> Result<KeySealer<'a>, CryptoError> {
        KeySealer::new(&self.config.key_encryption_secret, self.crypto)
    }
    /// Where a lag-tolerant read goes: the replica, except right after this isolate changed
    /// cached data (then the primary, which has the change).
    pub fn lag_tolerant(&self) -> &'a D {
        if self.cache.replica_ok(self.now_ms) {
            self.replica
        } else {
            self.db
        }
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
