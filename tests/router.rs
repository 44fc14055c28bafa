//! The core through the same router the worker uses, over SQLite and in-memory KV.
mod common;

use common::*;
use gatehouse::store::faulty::FaultyDb;
use gatehouse::store::sqlite::SqliteDb;
use serde_json::json;

#[test]
fn a_bad_configuration_is_a_page_naming_the_variable() {
    let cases = [
        ("KEY_ENCRYPTION_SECRET", None),
        ("KEY_ENCRYPTION_SECRET", Some("too-short")),
        ("ADMIN_CLIENT_SECRET", Some("short")),
        ("ADMIN_CLIENT_ID", None),
        ("PUBLIC_URL", Some("auth.example.com")),
        ("ACCESS_TOKEN_TTL", Some("forever")),
    ];
    for (name, value) in cases {
        let mut h = Harness::new();
        match value {
            Some(v) => h.vars.insert(name.into(), v.into()),
            None => h.vars.remove(name),
        };
        for path in [
            "/oidc/.well-known/openid-configuration",
            "/oidc/jwks",
            "/api/users",
        ] {
            let r = h.get(path);
            assert_eq!(r.status, 500, "{name} {path}");
            assert!(r.header("content-type").unwrap().starts_with("text/html"));
            let page = r.text();
            assert!(page.contains(name), "{name}: {page}");
            if let (Some(v), true) = (value, name.ends_with("SECRET")) {
                assert!(!page.contains(v), "a secret's value is never shown");
            }
        }
    }
}

#[test]
fn discovery_lists_only_endpoints_that_answer() {
    let h = Harness::new();
    let r = h.get("/oidc/.well-known/openid-configuration");
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc["issuer"], format!("{ORIGIN}/oidc"));
    let mut endpoints = 0;
    for (key, value) in doc.as_object().unwrap() {
        if key.ends_with("_endpoint") || key.ends_with("_uri") {
            let path = value.as_str().unwrap().strip_prefix(ORIGIN).unwrap();
            let method = if matches!(
                key.as_str(),
                "token_endpoint" | "revocation_endpoint" | "introspection_endpoint"
            ) {
                "POST"
            } else {
                "GET"
            };
            let r = h.send(request(method, path, &[], Vec::new()));
            assert!(
                r.status != 404 && r.status != 405,
                "{key} → {path}: {}",
                r.status
            );
            endpoints += 1;
        }
    }
    assert_eq!(endpoints, 7);
}

#[test]
fn public_url_sets_the_issuer_and_resource() {
    let mut h = Harness::new();
    h.vars
        .insert("PUBLIC_URL".into(), "https://auth.example.com".into());
    // The development mailbox cannot be on with a public URL.
    let refused = h.get("/oidc/.well-known/openid-configuration");
    assert_eq!(refused.status, 500);
    assert!(refused.text().contains("DEV_MAILBOX"), "{}", refused.text());
    h.vars.remove("DEV_MAILBOX");
    assert_eq!(
        h.get("/oidc/.well-known/openid-configuration").json()["issuer"],
        "https://auth.example.com/oidc"
    );
    let r = h.form(
        "/oidc/token",
        &[
            ("grant_type", "client_credentials"),
            ("resource", "https://auth.example.com/api"),
            ("client_id", ADMIN_ID),
            ("client_secret", ADMIN_SECRET),
        ],
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = h.form(
        "/oidc/token",
        &[
            ("grant_type", "client_credentials"),
            ("resource", &format!("{ORIGIN}/api")),
            ("client_id", ADMIN_ID),
            ("client_secret", ADMIN_SECRET),
        ],
        &[],
    );
    assert_eq!(
        r.json()["error"],
        "invalid_target",
        "the request origin is not a resource when PUBLIC_URL is set"
    );
}

#[test]
fn expired_management_tokens_are_refused() {
    let h = Harness::new();
    let token = h.admin_token();
    assert_eq!(h.api_as(&token, "GET", "/api/users", None).status, 200);
    h.advance_secs(3600);
    let r = h.api_as(&token, "GET", "/api/users", None);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["code"], "auth.unauthorized");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
}

#[test]
fn repeated_token_parameters_are_invalid_request() {
    let h = Harness::new();
    let r = h.form(
        "/oidc/token",
        &[
            ("grant_type", "client_credentials"),
            ("grant_type", "client_credentials"),
            ("client_id", ADMIN_ID),
            ("client_secret", ADMIN_SECRET),
        ],
        &[],
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_request");
}

#[test]
fn a_storage_failure_is_an_error_id_and_writes_nothing() {
    let h = Harness::with_db(FaultyDb::new(SqliteDb::migrated().unwrap()));
    let token = h.admin_token();
    // The signing keys are in the isolate's cache: the insert is the first call, and fails.
    h.db.fail_after(0);
    let body = json!({"username": "carol", "password": "password-123"})
        .to_string()
        .into_bytes();
    let r = h.api_as(&token, "POST", "/api/users", Some(body));
    assert_eq!(r.status, 500);
    let v = r.json();
    assert_eq!(v["code"], "unexpected_error");
    let message = v["message"].as_str().unwrap();
    assert!(message.contains("Error id: "), "{message}");
    assert!(!message.contains("injected"), "the detail stays in the log");
    h.db.heal();
    let list = h.api_as(&token, "GET", "/api/users?search=carol", None);
    assert_eq!(list.header("total-number"), Some("0"));

    let admin_token = || {
        h.form(
            "/oidc/token",
            &[
                ("grant_type", "client_credentials"),
                ("resource", &format!("{ORIGIN}/api")),
                ("client_id", ADMIN_ID),
                ("client_secret", ADMIN_SECRET),
            ],
            &[],
        )
    };
    // A warm isolate issues the admin app's token without touching D1 at all.
    h.db.fail_after(0);
    assert_eq!(admin_token().status, 200);
    // A cold one must read the keys, and that failure is a server_error with an id.
    h.cache.borrow().forget_keys(START_MS);
    let r = admin_token();
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["error"], "server_error");
    let r = h.get("/oidc/jwks");
    assert_eq!(r.status, 500);
    assert!(r.text().contains("Error id"));
}

#[test]
fn client_controlled_input_never_causes_a_server_error() {
    let h = Harness::new();
    let token = h.admin_token();
    let bodies: Vec<&[u8]> = vec![
        b"", b"null", b"[]", b"{}", b"\"x\"", b"{\"name\":", b"\xff\xfe", b"{\"username\":null}",
        b"{\"primaryEmail\":\"@\"}", b"{\"name\":\"x\",\"type\":\"SPA\",\"oidcClientMetadata\":null}",
        b"{\"name\":\"x\",\"type\":\"SPA\",\"oidcClientMetadata\":{\"redirectUris\":[\"http://\"]}}",
        b"{\"password\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}",
        b"{\"customData\":{\"deep\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}}",
    ];
    let paths = [
        "/api/users",
        "/api/applications",
        "/api/users/x",
        "/api/applications/x",
        "/api/users/x/password",
    ];
    for path in paths {
        for method in ["POST", "PATCH", "GET", "DELETE", "PUT"] {
            for body in &bodies {
                let r = h.api_as(&token, method, path, Some(body.to_vec()));
                assert!(
                    r.status < 500,
                    "{method} {path} {:?} → {} {}",
                    String::from_utf8_lossy(body),
                    r.status,
                    r.text()
                );
            }
        }
    }
    let forms: Vec<Vec<(&str, &str)>> = vec![
        vec![],
        vec![("grant_type", "client_credentials")],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", ADMIN_ID),
            ("client_secret", ADMIN_SECRET),
            ("resource", "::"),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", ADMIN_ID),
            ("client_secret", ADMIN_SECRET),
            ("resource", "a"),
            ("resource", "b"),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", "x\u{0}y"),
            ("client_secret", ""),
        ],
    ];
    for form in forms {
        let r = h.form("/oidc/token", &form, &[]);
        assert!(r.status < 500, "{form:?} → {}", r.status);
    }
    for auth in [
        "Basic",
        "Basic !!!",
        "Basic Zm9v",
        "Bearer x",
        "Basic w6k6w6k=",
    ] {
        let r = h.form(
            "/oidc/token",
            &[("grant_type", "client_credentials")],
            &[("authorization", auth)],
        );
        assert!(r.status == 400 || r.status == 401, "{auth} → {}", r.status);
    }
}

#[test]
fn the_admin_can_manage_users_through_the_router() {
    let h = Harness::new();
    let r = h.api(
        "POST",
        "/api/users",
        Some(json!({"username": "dora", "password": "password-123"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let r = h.api(
        "PATCH",
        &format!("/api/users/{id}/password"),
        Some(json!({"password": "another-pass-1"})),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["hasPassword"], true);
    let row = pollster::block_on(gatehouse::store::users::get(&h.db, &id))
        .unwrap()
        .unwrap();
    let hash = row.password_hash.unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(gatehouse::crypto::password::verify("another-pass-1", &hash));
    assert!(!gatehouse::crypto::password::verify("password-123", &hash));
}

#[test]
fn garbage_at_the_oidc_endpoints_is_never_a_server_error() {
    let h = Harness::new();
    let cookie = "__Host-gh_session=garbage; __Host-gh_interaction=nope; __Host-gh_csrf=x";
    let gets = [
        "/oidc/auth",
        "/oidc/auth?client_id=%00&redirect_uri=%FF",
        "/oidc/auth?client_id=a&client_id=b",
        "/oidc/auth?response_type=code&scope=openid&client_id=x&redirect_uri=https://a",
        "/oidc/auth/resume",
        "/sign-in",
        "/consent",
        "/oidc/session/end?id_token_hint=not.a.jwt",
        "/oidc/session/end?id_token_hint=eyJhbGciOiJub25lIn0.e30.&client_id=x",
        "/oidc/session/end?post_logout_redirect_uri=https://evil.example",
        "/oidc/me",
    ];
    for path in gets {
        for headers in [
            vec![],
            vec![("cookie", cookie)],
            vec![("authorization", "Bearer x"), ("cookie", cookie)],
        ] {
            let r = h.send(request("GET", path, &headers, Vec::new()));
            assert!(r.status < 500, "GET {path} → {} {}", r.status, r.text());
            assert!(
                r.header("location").is_none_or(|l| l.starts_with('/')),
                "GET {path} redirected off-site"
            );
        }
    }
    let posts: [(&str, &[(&str, &str)]); 8] = [
        ("/sign-in", &[("identifier", "a"), ("password", "b")]),
        (
            "/sign-in",
            &[("_csrf", "x"), ("identifier", "a"), ("password", "b")],
        ),
        ("/consent", &[("_csrf", "x"), ("action", "authorize")]),
        (
            "/oidc/session/end/confirm",
            &[("_csrf", "x"), ("logout", "yes")],
        ),
        ("/oidc/token/revocation", &[("token", "x")]),
        (
            "/oidc/token/introspection",
            &[("token", "x"), ("client_id", "nope")],
        ),
        (
            "/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("client_id", "nope"),
            ],
        ),
        (
            "/oidc/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "x"),
                ("client_id", ADMIN_ID),
                ("client_secret", ADMIN_SECRET),
            ],
        ),
    ];
    for (path, form) in posts {
        let r = h.form(path, form, &[("cookie", cookie)]);
        assert!(r.status < 500, "POST {path} → {} {}", r.status, r.text());
    }
}

#[test]
fn error_pages_speak_the_users_language() {
    let h = Harness::new();
    let de = h.send(request(
        "GET",
        "/nowhere",
        &[("accept-language", "de-DE,de;q=0.9,en;q=0.5")],
        vec![],
    ));
    assert_eq!(de.status, 404);
    assert!(de.text().contains("Seite nicht gefunden"));
    assert!(de.text().contains("<html lang=\"de\">"));
    let stale = h.send(request("GET", "/sign-in?ui_locales=de", &[], vec![]));
    assert_eq!(stale.status, 400);
    assert!(stale.text().contains("Diese Anmeldung ist abgelaufen"));
    let en = h.send(request(
        "GET",
        "/sign-in",
        &[("accept-language", "en-US")],
        vec![],
    ));
    assert!(en.text().contains("This sign-in has expired"));
}

#[test]
fn a_redirect_uri_host_must_be_ascii_or_punycode() {
    let h = Harness::new();
    let app = |uri: &str| {
        h.api(
            "POST",
            "/api/applications",
            Some(json!({"name": "Shop", "type": "SPA", "oidcClientMetadata": {"redirectUris": [uri]}})),
        )
    };
    let unicode = app("https://bücher.example/cb");
    assert_eq!(unicode.status, 400, "{}", unicode.text());
    assert_eq!(unicode.json()["code"], "guard.invalid_input");
    assert_eq!(app("https://xn--bcher-kva.example/cb").status, 201);
}
