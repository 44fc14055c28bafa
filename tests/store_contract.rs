//! One storage contract, run against the native adapters (SQLite with every migration
//! applied, in-memory KV). The D1 and Workers KV adapters are held to the same behaviour by
//! the end-to-end suite.
use gatehouse::cache::Cache;
use gatehouse::config::{Config, Vars};
use gatehouse::crypto::provider::RustCrypto;
use gatehouse::ctx::{Ctx, Platform};
use gatehouse::oidc::signing;
use gatehouse::store::memory_kv::MemoryKv;
use gatehouse::store::sqlite::{migration_files, SqliteDb};
use gatehouse::store::{count, Db, Kv, Row, Statement, StoreError, Value};
use pollster::block_on;
use std::cell::Cell;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

#[test]
fn every_migration_applies_in_order() {
    let files = migration_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")).unwrap();
    assert!(!files.is_empty());
    let names: Vec<_> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(
        names
            .iter()
            .all(|n| n.len() > 5 && n[..4].chars().all(|c| c.is_ascii_digit())),
        "{names:?}"
    );
    let db = SqliteDb::migrated().unwrap();
    for table in ["applications", "users", "oidc_signing_keys"] {
        let n = block_on(count(
            &db,
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?1",
            &[table.into()],
        ))
        .unwrap();
        assert_eq!(n, 1, "table {table}");
    }
}

fn user_insert(id: &str, username: &str) -> Statement {
    Statement::new(
        "INSERT INTO users (id, username, created_at, updated_at) VALUES (?1, ?2, 0, 0)",
        vec![id.into(), username.into()],
    )
}

#[test]
fn db_executes_queries_and_counts_changes() {
    let db = SqliteDb::migrated().unwrap();
    let s = user_insert("u1", "alice");
    assert_eq!(block_on(db.execute(s.sql, &s.params)).unwrap(), 1);
    let rows: Vec<Row> = block_on(db.query(
        "SELECT id, username, last_sign_in_at, is_suspended FROM users",
        &[],
    ))
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], "u1");
    assert_eq!(rows[0]["last_sign_in_at"], serde_json::Value::Null);
    assert_eq!(rows[0]["is_suspended"], 0);
    let changed = block_on(db.execute(
        "UPDATE users SET name = ?1 WHERE id = ?2",
        &["A".into(), "nobody".into()],
    ))
    .unwrap();
    assert_eq!(changed, 0);
}

#[test]
fn conditional_update_has_exactly_one_winner() {
    // The pattern single-use secrets rely on: the affected-row count decides who wins.
    let db = SqliteDb::migrated().unwrap();
    let s = user_insert("u1", "alice");
    block_on(db.execute(s.sql, &s.params)).unwrap();
    let consume = || {
        block_on(db.execute(
            "UPDATE users SET last_sign_in_at = ?1 WHERE id = 'u1' AND last_sign_in_at IS NULL",
            &[Value::Integer(5)],
        ))
        .unwrap()
    };
    assert_eq!(consume(), 1);
    assert_eq!(consume(), 0);
}

#[test]
fn unique_violations_are_classified_by_column() {
    let db = SqliteDb::migrated().unwrap();
    let s = user_insert("u1", "alice");
    block_on(db.execute(s.sql, &s.params)).unwrap();
    let dup = user_insert("u2", "alice");
    assert_eq!(
        block_on(db.execute(dup.sql, &dup.params)),
        Err(StoreError::Unique("users.username".into()))
    );
    // D1 reports the same constraint with its own prefix and suffix.
    assert_eq!(
        StoreError::from_backend_message(
            "D1_ERROR: UNIQUE constraint failed: users.primary_email: SQLITE_CONSTRAINT"
        ),
        StoreError::Unique("users.primary_email".into())
    );
    assert!(matches!(
        StoreError::from_backend_message("no such table: x"),
        StoreError::Backend(_)
    ));
}

#[test]
fn batch_is_all_or_nothing() {
    let db = SqliteDb::migrated().unwrap();
    let ok = block_on(db.batch(&[user_insert("u1", "a"), user_insert("u2", "b")])).unwrap();
    assert_eq!(ok, vec![1, 1]);
    let failed = block_on(db.batch(&[user_insert("u3", "c"), user_insert("u4", "a")]));
    assert!(matches!(failed, Err(StoreError::Unique(_))));
    let n = block_on(count(&db, "SELECT COUNT(*) AS n FROM users", &[])).unwrap();
    assert_eq!(
        n, 2,
        "the first statement of the failed batch was rolled back"
    );
}

#[test]
fn kv_stores_reads_deletes_and_expires() {
    let kv = MemoryKv::new(1_000);
    block_on(kv.put("k", "v", 120)).unwrap();
    assert_eq!(block_on(kv.get("k")).unwrap().as_deref(), Some("v"));
    kv.advance(119);
    assert_eq!(block_on(kv.get("k")).unwrap().as_deref(), Some("v"));
    kv.advance(1);
    assert_eq!(block_on(kv.get("k")).unwrap(), None);
    block_on(kv.put("k", "v2", 600)).unwrap();
    block_on(kv.delete("k")).unwrap();
    assert_eq!(block_on(kv.get("k")).unwrap(), None);
    block_on(kv.delete("never-there")).unwrap();
}

#[test]
fn kv_clamps_short_ttls_to_the_workers_minimum() {
    let kv = MemoryKv::new(0);
    block_on(kv.put("short", "v", 1)).unwrap();
    kv.advance(59);
    assert_eq!(
        block_on(kv.get("short")).unwrap().as_deref(),
        Some("v"),
        "a 1 s TTL lives the 60 s minimum"
    );
    kv.advance(1);
    assert_eq!(block_on(kv.get("short")).unwrap(), None);
    assert_eq!(gatehouse::store::clamp_kv_ttl(0), 60);
    assert_eq!(gatehouse::store::clamp_kv_ttl(3600), 3600);
}

/// A [`Db`] that yields to the executor before every call, so that concurrent requests
/// interleave the way they do against a remote database.
struct Yielding<D>(D);

struct YieldOnce(Cell<bool>);
impl Future for YieldOnce {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.replace(true) {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

impl<D: Db> Db for Yielding<D> {
    async fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        YieldOnce(Cell::new(false)).await;
        self.0.query(sql, params).await
    }
    async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        YieldOnce(Cell::new(false)).await;
        self.0.execute(sql, params).await
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<u64>, StoreError> {
        YieldOnce(Cell::new(false)).await;
        self.0.batch(statements).await
    }
}

fn config(secret: &str) -> Config {
    let vars: Vars = [
        ("KEY_ENCRYPTION_SECRET", secret),
        ("ADMIN_CLIENT_ID", "admin"),
        (
            "ADMIN_CLIENT_SECRET",
            "admin-secret-admin-secret-admin-secret",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    Config::from_vars(&vars).unwrap()
}

const SECRET: &str = "test-key-encryption-secret-0123456789";

/// The core's context over `db`, with a cache of its own (a fresh isolate).
fn ctx<'a, D: Db>(
    db: &'a D,
    kv: &'a MemoryKv,
    cache: &'a Cache,
    config: &'a Config,
    now_ms: i64,
) -> Ctx<'a, D, MemoryKv> {
    let p = Platform {
        db,
        replica: db,
        kv,
        crypto: &RustCrypto,
        cache,
        http: &gatehouse::outbound::NoHttp,
    };
    Ctx::new(&p, config, "http://gatehouse.localhost".into(), now_ms)
}

#[test]
fn concurrent_first_requests_create_exactly_one_signing_key() {
    let db = Yielding(SqliteDb::migrated().unwrap());
    let kv = MemoryKv::new(0);
    let config = config(SECRET);
    let caches = [Cache::default(), Cache::default(), Cache::default()];
    let ctxs: Vec<_> = caches
        .iter()
        .map(|c| ctx(&db, &kv, c, &config, 0))
        .collect();
    let (a, b, c) = block_on(async {
        futures_join3(
            signing::published(&ctxs[0], false),
            signing::published(&ctxs[1], false),
            signing::published(&ctxs[2], false),
        )
        .await
    });
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].id, b[0].id);
    assert_eq!(a[0].id, c[0].id);
    let n = block_on(count(
        &db,
        "SELECT COUNT(*) AS n FROM oidc_signing_keys",
        &[],
    ))
    .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn rotation_keeps_exactly_the_previous_key() {
    let db = SqliteDb::migrated().unwrap();
    let kv = MemoryKv::new(0);
    let settings = config(SECRET);
    let cache = Cache::default();
    let c = ctx(&db, &kv, &cache, &settings, 0);
    let first = block_on(signing::published(&c, false)).unwrap();
    let second = block_on(signing::rotate(&c)).unwrap();
    assert_eq!(second.len(), 2);
    assert_eq!(second[1].id, first[0].id);
    let third = block_on(signing::rotate(&c)).unwrap();
    assert_eq!(
        third.iter().map(|k| k.id.clone()).collect::<Vec<_>>(),
        vec![third[0].id.clone(), second[0].id.clone()]
    );
    assert_eq!(
        block_on(count(
            &db,
            "SELECT COUNT(*) AS n FROM oidc_signing_keys",
            &[]
        ))
        .unwrap(),
        2
    );
    let current = block_on(signing::keys(&c)).unwrap();
    assert_eq!(current.current.kid, third[0].id);
    // Under another secret the stored key cannot be opened: an error, not a panic.
    let wrong = config("another-key-encryption-secret-9876543210");
    let fresh = Cache::default();
    assert!(block_on(signing::keys(&ctx(&db, &kv, &fresh, &wrong, 0))).is_err());
}

/// A three-way join on one thread, polling each future in turn.
async fn futures_join3<A: Future, B: Future, C: Future>(
    a: A,
    b: B,
    c: C,
) -> (A::Output, B::Output, C::Output) {
    let (mut a, mut b, mut c) = (Box::pin(a), Box::pin(b), Box::pin(c));
    let (mut ra, mut rb, mut rc) = (None, None, None);
    std::future::poll_fn(move |cx| {
        if ra.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                ra = Some(v);
            }
        }
        if rb.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                rb = Some(v);
            }
        }
        if rc.is_none() {
            if let Poll::Ready(v) = c.as_mut().poll(cx) {
                rc = Some(v);
            }
        }
        if ra.is_some() && rb.is_some() && rc.is_some() {
            Poll::Ready((ra.take().unwrap(), rb.take().unwrap(), rc.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

#[test]
fn the_sweep_deletes_only_expired_rows() {
    let db = SqliteDb::migrated().unwrap();
    for (id, expires) in [("old", 100), ("live", 1_000_000)] {
        block_on(db.execute(
            "INSERT INTO oidc_interactions (id, client_id, request, created_at, expires_at) VALUES (?1, 'c', '{}', 0, ?2)",
            &[id.into(), Value::Integer(expires)],
        ))
        .unwrap();
        block_on(db.execute(
            "INSERT INTO verification_codes (id, interaction_id, identifier_type, identifier, usage, code_hash, created_at, expires_at) \
             VALUES (?1, 'i', 'email', 'a@b.c', 'SignIn', 'h', 0, ?2)",
            &[id.into(), Value::Integer(expires)],
        ))
        .unwrap();
    }
    block_on(gatehouse::store::sweep::sweep(
        &db,
        100_000,
        gatehouse::app::RETENTION,
    ))
    .unwrap();
    assert_eq!(
        block_on(count(
            &db,
            "SELECT COUNT(*) AS n FROM oidc_interactions",
            &[]
        ))
        .unwrap(),
        1
    );
    let left = block_on(db.query("SELECT id FROM oidc_interactions", &[])).unwrap();
    assert_eq!(left[0]["id"], "live");
    block_on(gatehouse::store::sweep::sweep(
        &db,
        1_100_000,
        gatehouse::app::RETENTION,
    ))
    .unwrap();
    assert_eq!(
        block_on(count(
            &db,
            "SELECT COUNT(*) AS n FROM verification_codes",
            &[]
        ))
        .unwrap(),
        0,
        "codes go a day after expiry"
    );
}

#[test]
fn a_verification_record_is_read_only_by_its_user_until_it_expires_and_goes_with_the_user() {
    use gatehouse::store::account::{self, Record};
    let db = SqliteDb::migrated().unwrap();
    for (id, name) in [("u1", "alice"), ("u2", "bob")] {
        let s = user_insert(id, name);
        block_on(db.execute(s.sql, &s.params)).unwrap();
    }
    let r = Record {
        id: "r1".into(),
        user_id: "u1".into(),
        kind: "EmailVerificationCode".into(),
        identifier: Some("a@b.c".into()),
        verified: false,
        expires_at: 1_000,
    };
    block_on(account::insert(&db, &r)).unwrap();
    let got = block_on(account::get(&db, "r1", "u1", 999))
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.kind.as_str(), got.identifier.as_deref(), got.verified),
        ("EmailVerificationCode", Some("a@b.c"), false)
    );
    assert!(
        block_on(account::get(&db, "r1", "u2", 999))
            .unwrap()
            .is_none(),
        "another user's"
    );
    assert!(
        block_on(account::get(&db, "r1", "u1", 1_000))
            .unwrap()
            .is_none(),
        "expired"
    );
    // A record settles once, with what it proved.
    assert!(block_on(account::settle(&db, "r1", "proved")).unwrap());
    assert!(!block_on(account::settle(&db, "r1", "again")).unwrap());
    assert_eq!(
        block_on(account::get(&db, "r1", "u1", 999))
            .unwrap()
            .unwrap()
            .identifier
            .as_deref(),
        Some("proved")
    );
    block_on(account::mark_verified(&db, "r1")).unwrap();
    assert!(
        block_on(account::get(&db, "r1", "u1", 999))
            .unwrap()
            .unwrap()
            .verified
    );
    block_on(db.execute("DELETE FROM users WHERE id = 'u1'", &[])).unwrap();
    assert!(
        block_on(account::get(&db, "r1", "u1", 999))
            .unwrap()
            .is_none(),
        "cascaded"
    );

    assert_eq!(block_on(account::center(&db)).unwrap(), None);
    block_on(account::put_center(&db, "{\"enabled\":true}", 1)).unwrap();
    block_on(account::put_center(&db, "{\"enabled\":false}", 2)).unwrap();
    assert_eq!(
        block_on(account::center(&db)).unwrap().as_deref(),
        Some("{\"enabled\":false}")
    );
}
