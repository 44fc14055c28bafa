//! Fast at the edge, through the router: how many D1 round trips a warm isolate makes per
//! request, that its caches honour key rotation, and that nothing consumed once is ever read
//! from a replica.
mod common;

use common::*;
use gatehouse::cache::{Cache, KEYS_TTL_MS};
use gatehouse::store::sqlite::SqliteDb;
use gatehouse::store::{Db, Query, Row, Statement, StoreError, Value};
use serde_json::json;
use std::cell::RefCell;
use std::rc::Rc;

const CB: &str = "https://rp.example/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// One database seen through two doors, primary and replica, each call recorded with the
/// door it went through: a call is one round trip.
#[derive(Clone)]
struct Door {
    inner: Rc<SqliteDb>,
    replica: bool,
    log: Rc<RefCell<Vec<(bool, String)>>>,
}

impl Door {
    fn note(&self, sql: &str) {
        self.log.borrow_mut().push((self.replica, sql.to_owned()));
    }
}

impl Db for Door {
    async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        self.note(sql);
        self.inner.query(sql, params).await
    }
    async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        self.note(sql);
        self.inner.execute(sql, params).await
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<u64>, StoreError> {
        let all: Vec<&str> = statements.iter().map(|s| s.sql).collect();
        self.note(&all.join(" ; "));
        self.inner.batch(statements).await
    }
    async fn query_many(&self, queries: &[Query<'_>]) -> Result<Vec<Vec<Row>>, StoreError> {
        let all: Vec<&str> = queries.iter().map(|q| q.sql).collect();
        self.note(&all.join(" ; "));
        self.inner.query_many(queries).await
    }
}

struct Edge {
    h: Harness<Door>,
    log: Rc<RefCell<Vec<(bool, String)>>>,
}

impl Edge {
    fn new() -> Self {
        let inner = Rc::new(SqliteDb::migrated().unwrap());
        let log = Rc::new(RefCell::new(Vec::new()));
        let door = |replica| Door {
            inner: inner.clone(),
            replica,
            log: log.clone(),
        };
        let mut h = Harness::with_db(door(false));
        h.replica = Some(door(true));
        Edge { h, log }
    }

    /// The round trips `f` makes.
    fn round_trips<T>(&self, f: impl FnOnce() -> T) -> (T, Vec<String>) {
        self.log.borrow_mut().clear();
        let out = f();
        let calls = self.log.borrow().iter().map(|(_, s)| s.clone()).collect();
        (out, calls)
    }
}

fn admin_token_request(h: &Harness<Door>) -> Reply {
    h.form(
        "/oidc/token",
        &[
            ("grant_type", "client_credentials"),
            ("resource", &format!("{ORIGIN}/api")),
            ("scope", "all"),
            ("client_id", ADMIN_ID),
            ("client_secret", ADMIN_SECRET),
        ],
        &[],
    )
}

#[test]
fn a_warm_isolate_serves_discovery_jwks_and_the_admin_token_without_d1() {
    let e = Edge::new();
    assert_eq!(admin_token_request(&e.h).status, 200);
    let (_, calls) = e.round_trips(|| {
        assert_eq!(
            e.h.get("/oidc/.well-known/openid-configuration").status,
            200
        );
        let jwks = e.h.get("/oidc/jwks");
        assert_eq!(jwks.status, 200);
        assert!(jwks.header("etag").is_some());
        assert!(jwks.header("cache-control").unwrap().contains("max-age"));
        assert_eq!(admin_token_request(&e.h).status, 200);
    });
    assert!(calls.is_empty(), "{calls:#?}");
    // A client that has the JWKS already gets a 304.
    let jwks = e.h.get("/oidc/jwks");
    let etag = jwks.header("etag").unwrap().to_owned();
    let again = e.h.send(request(
        "GET",
        "/oidc/jwks",
        &[("if-none-match", &etag)],
        Vec::new(),
    ));
    assert_eq!(again.status, 304);
}

#[test]
fn a_machine_to_machine_token_takes_at_most_one_round_trip() {
    let e = Edge::new();
    let h = &e.h;
    let app = h
        .api(
            "POST",
            "/api/applications",
            Some(json!({"name": "svc", "type": "MachineToMachine"})),
        )
        .json();
    let resource = h
        .api(
            "POST",
            "/api/resources",
            Some(json!({"name": "api", "indicator": "https://api.example"})),
        )
        .json();
    let rid = resource["id"].as_str().unwrap();
    let scope = h
        .api(
            "POST",
            &format!("/api/resources/{rid}/scopes"),
            Some(json!({"name": "read"})),
        )
        .json();
    let role = h
        .api(
            "POST",
            "/api/roles",
            Some(json!({"name": "reader", "type": "MachineToMachine", "scopeIds": [scope["id"]]})),
        )
        .json();
    let app_id = app["id"].as_str().unwrap();
    h.api(
        "POST",
        &format!("/api/applications/{app_id}/roles"),
        Some(json!({"roleIds": [role["id"]]})),
    );
    let token = || {
        h.form(
            "/oidc/token",
            &[
                ("grant_type", "client_credentials"),
                ("resource", "https://api.example"),
                ("client_id", app_id),
                ("client_secret", app["secret"].as_str().unwrap()),
            ],
            &[],
        )
    };
    assert_eq!(token().status, 200);
    let (r, calls) = e.round_trips(token);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["scope"], "read");
    assert!(calls.len() <= 1, "{calls:#?}");
}

fn signed_in_app(h: &Harness<Door>) -> (String, Jar) {
    let app = h
        .api(
            "POST",
            "/api/applications",
            Some(
                json!({"name": "RP", "type": "SPA", "oidcClientMetadata": {"redirectUris": [CB]}}),
            ),
        )
        .json();
    h.api(
        "POST",
        "/api/users",
        Some(json!({"username": "alice", "password": "password-123"})),
    );
    let id = app["id"].as_str().unwrap().to_owned();
    let jar = Jar::default();
    h.follow(&jar, &auth_path(&id));
    let r = h.sign_in(&jar, "alice", "password-123");
    assert_eq!(r.status, 303, "{}", r.text());
    (id, jar)
}

fn auth_path(client_id: &str) -> String {
    let cb: String = form_urlencoded::byte_serialize(CB.as_bytes()).collect();
    format!("/oidc/auth?client_id={client_id}&redirect_uri={cb}&response_type=code&scope=openid%20offline_access%20roles&code_challenge={CHALLENGE}&code_challenge_method=S256")
}

fn new_code(h: &Harness<Door>, jar: &Jar, client_id: &str) -> String {
    let r = h.follow(jar, &auth_path(client_id));
    location_params(&r)["code"].clone()
}

fn exchange(h: &Harness<Door>, client_id: &str, code: &str) -> Reply {
    h.form(
        "/oidc/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        &[],
    )
}

#[test]
fn code_exchange_refresh_and_userinfo_take_at_most_two_round_trips_each() {
    let e = Edge::new();
    let h = &e.h;
    let (id, jar) = signed_in_app(h);
    // Warm the isolate: keys and the app are cached from here on.
    let first = new_code(h, &jar, &id);
    assert_eq!(exchange(h, &id, &first).status, 200);

    let code = new_code(h, &jar, &id);
    let (r, calls) = e.round_trips(|| exchange(h, &id, &code));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(calls.len() <= 2, "code exchange: {calls:#?}");
    let tokens = r.json();

    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (r, calls) = e.round_trips(|| {
        h.form(
            "/oidc/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &id),
                ("refresh_token", refresh),
            ],
            &[],
        )
    });
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(calls.len() <= 2, "refresh: {calls:#?}");

    let access = r.json()["access_token"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {access}");
    let (r, calls) = e.round_trips(|| {
        h.send(request(
            "GET",
            "/oidc/me",
            &[("authorization", &bearer)],
            Vec::new(),
        ))
    });
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["sub"].as_str().map(str::len), Some(21));
    assert!(calls.len() <= 2, "userinfo: {calls:#?}");
}

#[test]
fn nothing_consumed_once_is_ever_read_from_a_replica() {
    let e = Edge::new();
    let h = &e.h;
    let (id, jar) = signed_in_app(h);
    let code = new_code(h, &jar, &id);
    let tokens = exchange(h, &id, &code).json();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    h.form(
        "/oidc/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &id),
            ("refresh_token", refresh),
        ],
        &[],
    );
    // A sign-in by an email code, too.
    let jar2 = Jar::default();
    h.api("POST", "/api/users", Some(json!({"username": "bob", "primaryEmail": "bob@example.com", "password": "password-123"})));
    h.follow(&jar2, &auth_path(&id));
    let page = h.browse(&jar2, "GET", "/sign-in/code", None);
    let csrf = csrf_of(&page.text());
    h.browse(
        &jar2,
        "POST",
        "/sign-in/code",
        Some(&[("_csrf", &csrf), ("email", "bob@example.com")]),
    );
    let replica_reads: Vec<String> = e
        .log
        .borrow()
        .iter()
        .filter(|(replica, _)| *replica)
        .map(|(_, sql)| sql.clone())
        .collect();
    assert!(
        !replica_reads.is_empty(),
        "the replica serves the lag-tolerant reads"
    );
    for consumed_once in [
        "oidc_codes",
        "oidc_refresh_tokens",
        "oidc_access_tokens",
        "verification_codes",
        "oidc_interactions",
        "sign_in_failures",
    ] {
        let bad: Vec<&String> = replica_reads
            .iter()
            .filter(|sql| sql.contains(consumed_once))
            .collect();
        assert!(
            bad.is_empty(),
            "{consumed_once} read from a replica: {bad:#?}"
        );
    }
}

#[test]
fn a_rotated_key_signs_at_once_here_and_within_the_ttl_elsewhere_and_the_old_one_still_verifies() {
    let h = Harness::new();
    let kid = |token: &str| gatehouse::crypto::jwt::key_id(token).unwrap();
    let other = Rc::new(Cache::default());
    let before = h.admin_token();
    let before_elsewhere = h.in_isolate(&other, || h.admin_token());
    assert_eq!(kid(&before), kid(&before_elsewhere));
    // Rotation through this isolate takes effect here at once.
    let rotated = h.api("POST", "/api/configs/oidc/private-keys/rotate", None);
    assert_eq!(rotated.status, 200);
    let after = h.admin_token();
    assert_ne!(kid(&after), kid(&before));
    // A token signed by the previous key still verifies, here and in the other isolate.
    assert_eq!(h.api_as(&before, "GET", "/api/users", None).status, 200);
    h.in_isolate(&other, || {
        assert_eq!(h.api_as(&before, "GET", "/api/users", None).status, 200);
        // The other isolate has not seen the rotation yet, but verifies the new key's
        // token: an unknown key id loads the keys again.
        assert_eq!(h.api_as(&after, "GET", "/api/users", None).status, 200);
    });
    // Once the TTL has passed, the other isolate signs with the new key too.
    h.advance_secs(KEYS_TTL_MS / 1000 + 1);
    let later_elsewhere = h.in_isolate(&other, || h.admin_token());
    assert_eq!(kid(&later_elsewhere), kid(&after));
}

#[test]
fn an_app_changed_through_this_isolate_takes_effect_at_once_and_elsewhere_within_the_ttl() {
    let h = Harness::new();
    let app = h
        .api(
            "POST",
            "/api/applications",
            Some(
                json!({"name": "RP", "type": "SPA", "oidcClientMetadata": {"redirectUris": [CB]}}),
            ),
        )
        .json();
    let id = app["id"].as_str().unwrap();
    let other = Rc::new(Cache::default());
    let cb: String = form_urlencoded::byte_serialize(CB.as_bytes()).collect();
    let auth = format!("/oidc/auth?client_id={id}&redirect_uri={cb}&response_type=code&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256");
    assert_eq!(h.in_isolate(&other, || h.get(&auth)).status, 303);
    let r = h.api(
        "PATCH",
        &format!("/api/applications/{id}"),
        Some(json!({"oidcClientMetadata": {"redirectUris": ["https://rp.example/new"]}})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Here: at once.
    assert_eq!(h.get(&auth).status, 400);
    // Elsewhere: within the TTL.
    h.advance_secs(gatehouse::cache::METADATA_TTL_MS / 1000);
    assert_eq!(h.in_isolate(&other, || h.get(&auth)).status, 400);
}

#[test]
fn a_password_hashed_with_other_parameters_signs_in_and_is_upgraded() {
    let mut h = Harness::new();
    h.vars
        .insert("PASSWORD_HASH_MEMORY_KIB".into(), "1024".into());
    h.vars.insert("PASSWORD_HASH_ITERATIONS".into(), "1".into());
    let user = h.api(
        "POST",
        "/api/users",
        Some(json!({"username": "alice", "password": "password-123"})),
    );
    assert_eq!(user.status, 200, "{}", user.text());
    let id = user.json()["id"].as_str().unwrap().to_owned();
    let stored = |h: &Harness| {
        let rows = pollster::block_on(h.db.query(
            "SELECT password_hash FROM users WHERE id = ?1",
            &[id.as_str().into()],
        ))
        .unwrap();
        rows[0]["password_hash"].as_str().unwrap().to_owned()
    };
    assert!(stored(&h).starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
    // The operator raises the cost: the old hash still verifies, and the sign-in upgrades it.
    h.vars.remove("PASSWORD_HASH_MEMORY_KIB");
    h.vars.remove("PASSWORD_HASH_ITERATIONS");
    let app = h
        .api(
            "POST",
            "/api/applications",
            Some(
                json!({"name": "RP", "type": "SPA", "oidcClientMetadata": {"redirectUris": [CB]}}),
            ),
        )
        .json();
    let client_id = app["id"].as_str().unwrap();
    let jar = Jar::default();
    h.follow(&jar, &auth_path(client_id));
    let r = h.sign_in(&jar, "alice", "password-123");
    assert!(location_params(&r).contains_key("code"), "{}", r.text());
    assert!(
        stored(&h).starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        stored(&h)
    );
    // A wrong password changes nothing.
    let before = stored(&h);
    let jar = Jar::default();
    h.follow(&jar, &auth_path(client_id));
    assert_eq!(h.sign_in(&jar, "alice", "wrong-password").status, 400);
    assert_eq!(stored(&h), before);
}

/// The whole login on the hosted pages, from `/oidc/auth` to the code: `docs/SCALE.md`
/// counts on this figure.
#[test]
fn a_whole_password_login_takes_at_most_fourteen_round_trips() {
    let e = Edge::new();
    let h = &e.h;
    let (id, jar) = signed_in_app(h);
    let _ = new_code(h, &jar, &id);
    let jar = Jar::default();
    let (r, calls) = e.round_trips(|| {
        h.follow(&jar, &auth_path(&id));
        h.sign_in(&jar, "alice", "password-123")
    });
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(
        r.header("location").unwrap().contains("code="),
        "{:?}",
        r.header("location")
    );
    assert!(calls.len() <= 14, "{} round trips: {calls:#?}", calls.len());
}
