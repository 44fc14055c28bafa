//! What an isolate keeps between requests, so that a warm request answers from the edge
//! without a D1 round trip: the signing keys (opened once), applications, API resources and
//! the sign-in experience settings; and the JWKS of upstream social and SSO providers.
//!
//! Invariants:
//! - every entry lives at most its TTL, so a change made by another isolate takes effect
//!   everywhere within that time: signing keys [`KEYS_TTL_MS`], applications, resources and
//!   settings [`METADATA_TTL_MS`], an upstream provider's JWKS [`UPSTREAM_JWKS_TTL_MS`];
//! - a change made through this isolate (rotation, a Management API write) empties the
//!   entry at once (the version check);
//! - the key set is replaced only by a newer read of D1, so a key that still verifies there
//!   is never dropped early; a token signed by a key this isolate does not know yet makes it
//!   read the keys again (at most once per [`KEY_MISS_RELOAD_MS`]);
//! - an upstream ID token that no kept key verifies is checked against the provider's
//!   current JWKS, fetched at once; the kept keys only ever save a fetch;
//! - nothing consumed once (codes, refresh tokens, one-time codes) is ever cached.
//!
//! The platform keeps one `Cache` per isolate; native tests make one per harness.
use crate::crypto::keys::{ActiveKey, Jwk};
use crate::experience::settings::Settings;
use crate::oidc::resources::Resource;
use crate::store::apps::Application;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

pub const KEYS_TTL_MS: i64 = 60_000;
pub const METADATA_TTL_MS: i64 = 30_000;
pub const KEY_MISS_RELOAD_MS: i64 = 5_000;
/// How long an upstream provider's JWKS is used without asking it again. A token that none
/// of the kept keys verifies makes the isolate fetch the set at once, so a rotation at the
/// provider costs one fetch, never a failed sign-in.
pub const UPSTREAM_JWKS_TTL_MS: i64 = 300_000;
/// Bounds on the per-id maps, so that made-up ids cannot grow an isolate's memory.
const MAX_ENTRIES: usize = 512;

/// The published keys: the current one opened and ready to sign, and every public key.
pub struct Keys {
    pub current: ActiveKey,
    pub public: Vec<Jwk>,
    /// The discovery-independent JWKS body and its `ETag`.
    pub jwks_body: String,
    pub etag: String,
}

/// A map of a few hundred entries at most, as a list: a hash map's code costs the module
/// more than a linear look-up costs a request.
pub struct SmallMap<V>(Vec<(String, V)>);

impl<V> Default for SmallMap<V> {
    fn default() -> Self {
        SmallMap(Vec::new())
    }
}

impl<V> SmallMap<V> {
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn insert(&mut self, key: String, value: V) {
        self.remove(&key);
        self.0.push((key, value));
    }
    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }
    pub fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        self.0.retain(|(_, v)| keep(v));
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

struct Timed<T> {
    at_ms: i64,
    value: T,
}

fn fresh<T>(t: &Timed<T>, now_ms: i64, ttl: i64) -> bool {
    now_ms >= t.at_ms && now_ms - t.at_ms < ttl
}

#[derive(Default)]
pub struct Cache {
    /// When this isolate last changed cached data: until the TTL has passed, refills read the
    /// primary, so that a replica that has not caught up cannot bring the old data back.
    wrote_at: Cell<Option<i64>>,
    keys: RefCell<Option<Timed<Rc<Keys>>>>,
    last_key_miss_reload: Cell<Option<i64>>,
    apps: RefCell<SmallMap<Timed<Option<Application>>>>,
    resources: RefCell<SmallMap<Timed<Option<Resource>>>>,
    settings: RefCell<Option<Timed<Rc<Settings>>>>,
    upstream_jwks: RefCell<SmallMap<Timed<Rc<JsonObject>>>>,
}

type JsonObject = serde_json::Map<String, serde_json::Value>;

fn get_in<T: Clone>(map: &RefCell<SmallMap<Timed<T>>>, key: &str, now_ms: i64) -> Option<T> {
    map.borrow()
        .get(key)
        .filter(|t| fresh(t, now_ms, METADATA_TTL_MS))
        .map(|t| t.value.clone())
}

fn put_in<T>(map: &RefCell<SmallMap<Timed<T>>>, key: &str, value: T, now_ms: i64) {
    let mut m = map.borrow_mut();
    if m.len() >= MAX_ENTRIES {
        m.retain(|t| fresh(t, now_ms, METADATA_TTL_MS));
        if m.len() >= MAX_ENTRIES {
            m.clear();
        }
    }
    m.insert(
        key.to_owned(),
        Timed {
            at_ms: now_ms,
            value,
        },
    );
}

impl Cache {
    /// Whether a refill may read a replica now (no change through this isolate within the
    /// TTL).
    pub fn replica_ok(&self, now_ms: i64) -> bool {
        self.wrote_at
            .get()
            .is_none_or(|at| now_ms < at || now_ms - at >= METADATA_TTL_MS)
    }

    fn wrote(&self, now_ms: i64) {
        self.wrote_at.set(Some(now_ms));
    }

    pub fn keys(&self, now_ms: i64) -> Option<Rc<Keys>> {
        self.keys
            .borrow()
            .as_ref()
            .filter(|t| fresh(t, now_ms, KEYS_TTL_MS))
            .map(|t| t.value.clone())
    }

    pub fn put_keys(&self, keys: Rc<Keys>, now_ms: i64) {
        *self.keys.borrow_mut() = Some(Timed {
            at_ms: now_ms,
            value: keys,
        });
    }

    pub fn forget_keys(&self, now_ms: i64) {
        self.wrote(now_ms);
        *self.keys.borrow_mut() = None;
    }

    /// A token named a key id this isolate does not know: may it read the keys again now
    /// (from the primary, which has a key a replica may still lack)?
    pub fn may_reload_for_unknown_key(&self, now_ms: i64) -> bool {
        let ok = self
            .last_key_miss_reload
            .get()
            .is_none_or(|at| now_ms < at || now_ms - at >= KEY_MISS_RELOAD_MS);
        if ok {
            self.last_key_miss_reload.set(Some(now_ms));
        }
        ok
    }

    pub fn app(&self, id: &str, now_ms: i64) -> Option<Option<Application>> {
        get_in(&self.apps, id, now_ms)
    }

    pub fn put_app(&self, id: &str, app: Option<Application>, now_ms: i64) {
        put_in(&self.apps, id, app, now_ms);
    }

    pub fn forget_app(&self, id: &str, now_ms: i64) {
        self.wrote(now_ms);
        self.apps.borrow_mut().remove(id);
    }

    pub fn resource(&self, indicator: &str, now_ms: i64) -> Option<Option<Resource>> {
        get_in(&self.resources, indicator, now_ms)
    }

    pub fn put_resource(&self, indicator: &str, r: Option<Resource>, now_ms: i64) {
        put_in(&self.resources, indicator, r, now_ms);
    }

    /// Resources and their scopes changed: every cached resource goes.
    pub fn forget_resources(&self, now_ms: i64) {
        self.wrote(now_ms);
        self.resources.borrow_mut().clear();
    }

    /// A social or SSO provider's JWKS, fetched from `uri` within [`UPSTREAM_JWKS_TTL_MS`].
    pub fn upstream_jwks(&self, uri: &str, now_ms: i64) -> Option<Rc<JsonObject>> {
        self.upstream_jwks
            .borrow()
            .get(uri)
            .filter(|t| fresh(t, now_ms, UPSTREAM_JWKS_TTL_MS))
            .map(|t| t.value.clone())
    }

    pub fn put_upstream_jwks(&self, uri: &str, jwks: Rc<JsonObject>, now_ms: i64) {
        let mut m = self.upstream_jwks.borrow_mut();
        if m.len() >= MAX_ENTRIES {
            m.clear();
        }
        m.insert(
            uri.to_owned(),
            Timed {
                at_ms: now_ms,
                value: jwks,
            },
        );
    }

    pub fn settings(&self, now_ms: i64) -> Option<Rc<Settings>> {
        self.settings
            .borrow()
            .as_ref()
            .filter(|t| fresh(t, now_ms, METADATA_TTL_MS))
            .map(|t| t.value.clone())
    }

    pub fn put_settings(&self, s: Rc<Settings>, now_ms: i64) {
        *self.settings.borrow_mut() = Some(Timed {
            at_ms: now_ms,
            value: s,
        });
    }

    pub fn forget_settings(&self, now_ms: i64) {
        self.wrote(now_ms);
        *self.settings.borrow_mut() = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_their_ttl_and_on_a_local_change() {
        let c = Cache::default();
        c.put_app("a", None, 1_000);
        assert_eq!(c.app("a", 1_000 + METADATA_TTL_MS - 1), Some(None));
        assert_eq!(c.app("a", 1_000 + METADATA_TTL_MS), None);
        c.put_app("a", None, 5_000);
        assert!(c.replica_ok(5_000));
        c.forget_app("a", 5_000);
        assert_eq!(c.app("a", 5_001), None);
        // Refills read the primary until the TTL has passed.
        assert!(!c.replica_ok(5_001));
        assert!(c.replica_ok(5_000 + METADATA_TTL_MS));
        // A clock that went backwards does not keep an entry alive.
        c.put_app("b", None, 10_000);
        assert_eq!(c.app("b", 9_000), None);
    }

    #[test]
    fn an_unknown_key_reloads_at_most_every_few_seconds() {
        let c = Cache::default();
        assert!(c.may_reload_for_unknown_key(1_000));
        assert!(!c.may_reload_for_unknown_key(1_000 + KEY_MISS_RELOAD_MS - 1));
        assert!(c.may_reload_for_unknown_key(1_000 + KEY_MISS_RELOAD_MS));
    }

    #[test]
    fn the_per_id_maps_are_bounded() {
        let c = Cache::default();
        for i in 0..(MAX_ENTRIES * 2) {
            c.put_app(&format!("app{i}"), None, 1_000);
        }
        assert!(c.apps.borrow().len() <= MAX_ENTRIES);
    }
}
