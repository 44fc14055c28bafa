//! An attacker's tricks that the hardening stops: locking someone out, guessing under
//! another spelling, pumping SMS and email, huge or endless input, cross-site requests, and
//! a development mailbox left on. Through the real router over SQLite and in-memory KV.
mod common;

use common::*;
use gatehouse::store::{Db, Value as SqlValue};
use serde_json::{json, Value};

const CB: &str = "https://rp.example/cb";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const PASSWORD: &str = "violet skies over oak";

fn app(h: &Harness) -> String {
    let r = h.api(
        "POST",
        "/api/applications",
        Some(json!({"name": "Shop", "type": "SPA", "oidcClientMetadata": {"redirectUris": [CB]}})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

fn auth(client_id: &str) -> String {
    format!(
        "/oidc/auth?client_id={client_id}&redirect_uri={}&response_type=code&scope=openid&state=st&code_challenge={CHALLENGE}&code_challenge_method=S256",
        form_urlencoded::byte_serialize(CB.as_bytes()).collect::<String>()
    )
}

/// A fresh browser at `/oidc/auth` that has started signing in through the Experience API.
fn begin(h: &Harness, client_id: &str) -> Jar {
    let jar = Jar::default();
    h.follow(&jar, &auth(client_id));
    let r = exp(
        h,
        &jar,
        "PUT",
        "",
        Some(json!({"interactionEvent": "SignIn"})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    jar
}

fn password(h: &Harness, jar: &Jar, kind: &str, value: &str, password: &str) -> Reply {
    exp(
        h,
        jar,
        "POST",
        "/verification/password",
        Some(json!({"identifier": {"type": kind, "value": value}, "password": password})),
    )
}

fn rows(h: &Harness, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) AS n FROM {table}");
    let r = pollster::block_on(h.db.query(&sql, &[])).unwrap();
    r[0]["n"].as_i64().unwrap()
}

fn user(h: &Harness, body: Value) -> String {
    let r = h.api("POST", "/api/users", Some(body));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

#[test]
fn someone_elses_failures_cannot_lock_the_owner_out_who_proves_the_email() {
    let h = Harness::new();
    let client = app(&h);
    user(
        &h,
        json!({"username": "erin", "primaryEmail": "erin@example.com", "password": PASSWORD}),
    );
    let attacker = begin(&h, &client);
    for _ in 0..100 {
        assert_eq!(
            password(&h, &attacker, "username", "erin", "wrong guess").status,
            422
        );
    }
    // Locked: even the right password is not checked without the code, so guessing stops.
    let logs = rows(&h, "logs");
    let r = password(&h, &attacker, "username", "erin", PASSWORD);
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.json()["code"], "session.second_proof_required");
    assert!(r.json()["data"]["verificationId"].is_string());
    assert_eq!(r.json()["data"].get("to"), None, "the address is not told");
    h.advance_secs(61);
    let r = password(&h, &attacker, "username", "erin", "another guess");
    assert_eq!(r.status, 403, "a wrong password gets the same answer");
    assert_eq!(
        rows(&h, "logs"),
        logs,
        "locked attempts write no audit rows"
    );

    // The owner, in a browser of her own, gets the code and then the password in.
    let owner = begin(&h, &client);
    let r = password(&h, &owner, "username", "erin", PASSWORD);
    assert_eq!(r.status, 403);
    let vid = r.json()["data"]["verificationId"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = password(&h, &owner, "username", "erin", PASSWORD);
    assert_eq!(r.status, 429, "one code a minute: {}", r.text());
    assert_eq!(rows(&h, "logs"), logs, "still no audit rows");
    let code = mailbox_code(&h, "erin@example.com");
    let r = exp(
        &h,
        &owner,
        "POST",
        "/verification/verification-code/verify",
        Some(
            json!({"identifier": {"type": "email", "value": "erin@example.com"}, "verificationId": vid, "code": code}),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = password(&h, &owner, "username", "erin", PASSWORD);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = exp(
        &h,
        &owner,
        "POST",
        "/identification",
        Some(json!({"verificationId": r.json()["verificationId"]})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(exp(&h, &owner, "POST", "/submit", None).status, 200);
}

#[test]
fn the_hosted_page_asks_a_locked_account_for_its_code_then_the_password() {
    let h = Harness::new();
    let client = app(&h);
    user(
        &h,
        json!({"username": "erin", "primaryEmail": "erin@example.com", "password": PASSWORD}),
    );
    let jar = Jar::default();
    h.follow(&jar, &auth(&client));
    for _ in 0..100 {
        assert_eq!(h.sign_in(&jar, "erin", "wrong guess").status, 400);
    }
    let r = h.sign_in(&jar, "erin", PASSWORD);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("Confirm it is you"), "{}", r.text());
    assert!(
        !r.text().contains("erin@example.com"),
        "the address is not told"
    );
    let csrf = csrf_of(&r.text());
    let code = mailbox_code(&h, "erin@example.com");
    let r = h.browse(
        &jar,
        "POST",
        "/verify",
        Some(&[("_csrf", &csrf), ("code", &code)]),
    );
    assert_eq!(r.header("location"), Some("/sign-in?unlocked=1"));
    let page = h.follow(&jar, "/sign-in?unlocked=1");
    assert!(page.text().contains("Now sign in with your password"));
    let r = h.sign_in(&jar, "erin", PASSWORD);
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(location_params(&r).contains_key("code"));
}

#[test]
fn two_spellings_of_one_phone_number_are_one_lockout_key() {
    let h = Harness::new();
    let client = app(&h);
    h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"signIn": {"methods": [
            {"identifier": "phone", "password": true, "verificationCode": false, "isPasswordPrimary": true}]}})),
    );
    user(
        &h,
        json!({"primaryPhone": "+15550109999", "password": PASSWORD}),
    );
    let jar = begin(&h, &client);
    for i in 0..100 {
        let spelling = if i % 2 == 0 {
            "+1 555-0109999"
        } else {
            "15550109999"
        };
        assert_eq!(password(&h, &jar, "phone", spelling, "wrong").status, 422);
    }
    let r = password(&h, &jar, "phone", "+1 (555) 010 9999", PASSWORD);
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.json()["code"], "session.second_proof_required");
}

#[test]
fn a_locked_unknown_identifier_answers_as_a_locked_account_does() {
    let h = Harness::new();
    let client = app(&h);
    user(
        &h,
        json!({"username": "erin", "primaryEmail": "erin@example.com", "password": PASSWORD}),
    );
    let lock = |name: &str| {
        let jar = begin(&h, &client);
        for _ in 0..100 {
            assert_eq!(password(&h, &jar, "username", name, "wrong").status, 422);
        }
        let r = password(&h, &jar, "username", name, "wrong");
        (jar, r)
    };
    let (known_jar, known) = lock("erin");
    let (ghost_jar, ghost) = lock("nobody_here");
    assert_eq!((known.status, ghost.status), (403, 403));
    assert_eq!(known.json()["code"], ghost.json()["code"]);
    let keys = |v: &Value| {
        let mut k: Vec<String> = v["data"].as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&known.json()), keys(&ghost.json()));
    // A wrong code gets the same answer from both; only the real account got a message.
    let wrong = |jar: &Jar, r: &Reply| {
        exp(
            &h,
            jar,
            "POST",
            "/verification/verification-code/verify",
            Some(
                json!({"identifier": {"type": "email", "value": "x@example.com"},
                "verificationId": r.json()["data"]["verificationId"], "code": "000000"}),
            ),
        )
    };
    let (a, b) = (wrong(&known_jar, &known), wrong(&ghost_jar, &ghost));
    assert_eq!((a.status, b.status), (400, 400));
    assert_eq!(a.json()["code"], "verification_code.code_mismatch");
    assert_eq!(a.json()["code"], b.json()["code"]);
    // A second attempt within the minute is a 429 for both.
    assert_eq!(
        password(&h, &known_jar, "username", "erin", "x").status,
        429
    );
    assert_eq!(
        password(&h, &ghost_jar, "username", "nobody_here", "x").status,
        429
    );
}

#[test]
fn a_password_proven_before_a_reset_no_longer_starts_a_session_after_it() {
    let h = Harness::new();
    let client = app(&h);
    let id = user(
        &h,
        json!({"username": "erin", "primaryEmail": "erin@example.com", "password": PASSWORD}),
    );
    let attacker = begin(&h, &client);
    let r = password(&h, &attacker, "username", "erin", PASSWORD);
    assert_eq!(r.status, 200);
    let r = exp(
        &h,
        &attacker,
        "POST",
        "/identification",
        Some(json!({"verificationId": r.json()["verificationId"]})),
    );
    assert_eq!(r.status, 204);
    h.advance_secs(2);
    let reset = h.api(
        "PATCH",
        &format!("/api/users/{id}/password"),
        Some(json!({"password": "a-new-password-456"})),
    );
    assert_eq!(reset.status, 200);
    let sessions = rows(&h, "user_sessions");
    let r = exp(&h, &attacker, "POST", "/submit", None);
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(rows(&h, "user_sessions"), sessions, "no session was listed");
    assert!(
        !attacker.0.borrow().contains_key("__Host-gh_session"),
        "no session cookie"
    );
}

#[test]
fn moving_a_connector_needs_its_secret_again() {
    let h = Harness::new();
    let r = h.api(
        "POST",
        "/api/connectors",
        Some(json!({"connectorId": "http-email", "config": {
            "endpoint": "https://api.resend.com/emails", "authorization": "Bearer re_secret", "from": "a@example.com"}})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let moved = h.api(
        "PATCH",
        &format!("/api/connectors/{id}"),
        Some(json!({"config": {"endpoint": "https://evil.example/collect", "authorization": "********"}})),
    );
    assert_eq!(moved.status, 400, "{}", moved.text());
    let moved = h.api(
        "PATCH",
        &format!("/api/connectors/{id}"),
        Some(json!({"config": {"endpoint": "https://mail.example/send", "authorization": "Bearer new"}})),
    );
    assert_eq!(moved.status, 200, "{}", moved.text());
    assert_eq!(moved.json()["config"]["authorization"], "********");
}

#[test]
fn code_sends_are_metered_per_network_and_in_all() {
    let mut h = Harness::new();
    h.vars
        .insert("CODE_SENDS_PER_HOUR_PER_NETWORK".into(), "2".into());
    h.vars.insert("CODE_SENDS_PER_HOUR".into(), "3".into());
    let client = app(&h);
    let send = |ip: &str, to: &str| {
        let jar = begin(&h, &client);
        let cookies = jar.header();
        let body =
            json!({"identifier": {"type": "email", "value": to}, "interactionEvent": "SignIn"});
        h.send(request(
            "POST",
            "/api/experience/verification/verification-code",
            &[
                ("cookie", &cookies),
                ("content-type", "application/json"),
                ("cf-connecting-ip", ip),
            ],
            body.to_string().into_bytes(),
        ))
    };
    // Two addresses in one IPv6 /64 are one network.
    assert_eq!(send("2001:db8:1:2::a", "a@example.com").status, 200);
    assert_eq!(send("2001:db8:1:2:ffff::b", "b@example.com").status, 200);
    let r = send("2001:db8:1:2:1234::c", "c@example.com");
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.json()["code"], "verification_code.too_many_requests");
    assert!(
        r.json()["message"].as_str().unwrap().contains("wait"),
        "{}",
        r.text()
    );
    // Another network may send, until the site's hourly total is reached.
    assert_eq!(send("203.0.113.7", "d@example.com").status, 200);
    assert_eq!(send("198.51.100.9", "e@example.com").status, 429);
    h.advance_secs(3600);
    assert_eq!(send("198.51.100.9", "e@example.com").status, 200);
}

#[test]
fn a_two_megabyte_body_gets_413_from_every_face_before_it_is_parsed() {
    let h = Harness::new();
    let big = vec![b'a'; 2 * 1024 * 1024];
    for (path, content_type) in [
        ("/oidc/token", "application/x-www-form-urlencoded"),
        (
            "/oidc/token/introspection",
            "application/x-www-form-urlencoded",
        ),
        ("/api/experience/verification/password", "application/json"),
        ("/api/users", "application/json"),
        ("/sign-in", "application/x-www-form-urlencoded"),
    ] {
        let r = h.send(request(
            "POST",
            path,
            &[("content-type", content_type)],
            big.clone(),
        ));
        assert_eq!(r.status, 413, "{path}");
        if path.starts_with("/api") {
            assert_eq!(r.json()["code"], "guard.request_too_large", "{path}");
        } else if path.starts_with("/oidc") {
            assert_eq!(r.json()["error"], "invalid_request", "{path}");
        } else {
            assert!(r.text().contains("too large"), "{path}: {}", r.text());
        }
    }
    // A declared length the platform did not read reaches the router as MAX_BODY + 1 bytes;
    // one byte less is read as a body (and refused as a form, not as too large).
    let over = vec![0; gatehouse::web::MAX_BODY + 1];
    assert_eq!(
        h.send(request("POST", "/oidc/token", &[], over)).status,
        413
    );
    let at = vec![b'a'; gatehouse::web::MAX_BODY];
    assert_ne!(h.send(request("POST", "/oidc/token", &[], at)).status, 413);
}

#[test]
fn an_identifier_over_256_bytes_is_a_400_and_writes_nothing() {
    let h = Harness::new();
    let client = app(&h);
    let jar = begin(&h, &client);
    // As long as the body limit allows; a 100 KB one is over it, and gets 413 (below).
    let huge = "a".repeat(60 * 1024);
    let before = (
        rows(&h, "logs"),
        rows(&h, "sign_in_failures"),
        rows(&h, "users"),
    );
    let r = password(&h, &jar, "username", &huge, "whatever");
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["code"], "guard.invalid_input");
    let r = password(&h, &jar, "username", "erin", &"p".repeat(300));
    assert_eq!(r.status, 400, "a password over 256 characters");
    let r = h.sign_in(&jar, &huge, "whatever");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("longer than we accept"), "{}", r.text());
    let r = password(&h, &jar, "username", &"a".repeat(100 * 1024), "whatever");
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(
        (
            rows(&h, "logs"),
            rows(&h, "sign_in_failures"),
            rows(&h, "users")
        ),
        before
    );
}

#[test]
fn a_form_with_too_many_parameters_is_refused() {
    let h = Harness::new();
    let mut form: Vec<(String, String)> = (0..100)
        .map(|i| (format!("p{i}"), "x".to_owned()))
        .collect();
    form.push(("grant_type".into(), "client_credentials".into()));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = h.form("/oidc/token", &pairs, &[]);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_request");
    let r = h.form(
        "/oidc/token",
        &[
            ("resource", "https://a"),
            ("resource", "https://b"),
            ("grant_type", "client_credentials"),
        ],
        &[(
            "authorization",
            "Basic YWRtaW4tYXBwOmFkbWluLXNlY3JldC1hZG1pbi1zZWNyZXQtYWRtaW4tc2VjcmV0",
        )],
    );
    assert_eq!(r.status, 400, "{}", r.text());
}

#[test]
fn the_experience_api_refuses_cross_site_and_non_json_state_changes() {
    let h = Harness::new();
    let client = app(&h);
    let jar = Jar::default();
    h.follow(&jar, &auth(&client));
    let cookies = jar.header();
    let body = br#"{"interactionEvent":"SignIn"}"#.to_vec();
    let put = |extra: &[(&str, &str)]| {
        let mut headers = vec![("cookie", cookies.as_str())];
        headers.extend_from_slice(extra);
        h.send(request("PUT", "/api/experience", &headers, body.clone()))
    };
    let json_type = ("content-type", "application/json");
    let r = put(&[json_type, ("origin", "https://evil.example")]);
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["code"], "session.cross_site_request");
    assert_eq!(
        put(&[json_type, ("sec-fetch-site", "cross-site")]).status,
        403
    );
    assert_eq!(put(&[("content-type", "text/plain")]).status, 415);
    assert_eq!(put(&[]).status, 415, "even without a body type");
    let r = put(&[
        json_type,
        ("origin", ORIGIN),
        ("sec-fetch-site", "same-origin"),
    ]);
    assert_eq!(r.status, 204, "{}", r.text());
    let r = h.send(request(
        "POST",
        "/api/experience/submit",
        &[("cookie", &cookies)],
        Vec::new(),
    ));
    assert_eq!(r.status, 415, "an empty POST must still say it is JSON");
    // Reads pass.
    let r = h.send(request(
        "GET",
        "/api/experience/interaction",
        &[("cookie", &cookies), ("origin", "https://evil.example")],
        Vec::new(),
    ));
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn json_is_nosniff_and_https_responses_send_hsts() {
    let h = Harness::new();
    let r = h.get("/oidc/.well-known/openid-configuration");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("strict-transport-security"), None, "not over http");
    let req = gatehouse::web::http::Request::builder()
        .uri("https://gatehouse.localhost/oidc/jwks")
        .body(Vec::new())
        .unwrap();
    let r = h.send(req);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("strict-transport-security"),
        Some("max-age=31536000")
    );
}

#[test]
fn the_development_mailbox_answers_only_on_a_loopback_host() {
    let h = Harness::new();
    for (uri, status) in [
        ("http://127.0.0.1:8787/dev/mailbox.json", 200),
        ("http://localhost:8787/dev/mailbox.json", 200),
        ("http://gatehouse.localhost/dev/mailbox.json", 200),
        ("https://auth.example.com/dev/mailbox.json", 404),
        ("http://10.1.2.3/dev/mailbox.json", 404),
    ] {
        let req = gatehouse::web::http::Request::builder()
            .uri(uri)
            .body(Vec::new())
            .unwrap();
        assert_eq!(h.send(req).status, status, "{uri}");
    }
}

#[test]
fn the_sweep_keeps_the_audit_log_30_days_and_the_mailbox_one() {
    let h = Harness::new();
    let day_ms = 86_400_000;
    let now = START_MS;
    for (table, sql, age_days) in [
        ("logs", "INSERT INTO logs (id, key, result, payload, created_at) VALUES (?1, 'k', 'Success', '{}', ?2)", 31),
        ("logs", "INSERT INTO logs (id, key, result, payload, created_at) VALUES (?1, 'k', 'Success', '{}', ?2)", 29),
        ("dev_mailbox", "INSERT INTO dev_mailbox (id, channel, recipient, subject, body, usage, created_at) VALUES (?1, 'Email', 'a@b.c', 's', 'b', 'SignIn', ?2)", 2),
        ("dev_mailbox", "INSERT INTO dev_mailbox (id, channel, recipient, subject, body, usage, created_at) VALUES (?1, 'Email', 'a@b.c', 's', 'b', 'SignIn', ?2)", 0),
    ] {
        let id = format!("{table}-{age_days}");
        pollster::block_on(h.db.execute(
            sql,
            &[SqlValue::from(id), SqlValue::from(now - age_days * day_ms)],
        ))
        .unwrap();
    }
    pollster::block_on(gatehouse::app::scheduled(&h.db, now));
    assert_eq!(rows(&h, "logs"), 1, "the 29-day-old row stays");
    assert_eq!(rows(&h, "dev_mailbox"), 1, "today's message stays");
}

#[test]
fn connector_secrets_are_sealed_at_rest_and_shown_masked() {
    let h = Harness::new();
    let client = app(&h);
    let token = "twilio-auth-token-0123456789";
    let r = h.api(
        "POST",
        "/api/connectors",
        Some(json!({"connectorId": "twilio-sms", "config": {
            "accountSID": "AC123", "authToken": token, "fromNumber": "+15550100000"}})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["config"]["authToken"], "********");
    assert_eq!(r.json()["config"]["accountSID"], "AC123");
    let stored = pollster::block_on(h.db.query(
        "SELECT config FROM connectors WHERE id = ?1",
        &[SqlValue::from(id.as_str())],
    ))
    .unwrap();
    let stored = stored[0]["config"].as_str().unwrap().to_owned();
    assert!(stored.starts_with("sealed:"), "{stored}");
    assert!(!stored.contains(token) && !stored.contains("AC123"));
    // The list masks too; a PATCH that sends the mask back keeps the secret.
    let list = h.api("GET", "/api/connectors", None).json();
    assert_eq!(list[0]["config"]["authToken"], "********");
    let r = h.api(
        "PATCH",
        &format!("/api/connectors/{id}"),
        Some(json!({"config": {"authToken": "********", "fromNumber": "+15550100001"}})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["config"]["fromNumber"], "+15550100001");
    // The SMS it sends authenticates with the original token.
    h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"signIn": {"methods": [
            {"identifier": "phone", "password": false, "verificationCode": true, "isPasswordPrimary": false}]}})),
    );
    let jar = begin(&h, &client);
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/verification-code",
        Some(
            json!({"identifier": {"type": "phone", "value": "+15550109999"}, "interactionEvent": "SignIn"}),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let jobs = h.jobs.borrow();
    let Some(gatehouse::outbound::Job::Deliver { headers, body, .. }) = jobs.last() else {
        panic!("an SMS job");
    };
    let basic = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.clone())
        .unwrap();
    use base64::Engine;
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("AC123:{token}"));
    assert_eq!(basic, format!("Basic {expected}"));
    assert!(String::from_utf8_lossy(body).contains("15550100001"));
}
