//! What a password change, a suspension, a role change and an attacker's tricks must not
//! get past (issue "Hardening"), through the real router over SQLite and in-memory KV.
mod common;

use common::*;
use gatehouse::store::Kv;
use serde_json::{json, Value};

const CB: &str = "https://rp.example/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const API: &str = "https://api.example.com";

struct App {
    id: String,
    secret: String,
}

fn app(h: &Harness, name: &str) -> App {
    let r = h.api(
        "POST",
        "/api/applications",
        Some(
            json!({"name": name, "type": "Traditional", "oidcClientMetadata": {
            "redirectUris": [CB], "backchannelLogoutUri": "https://rp.example/bcl"}}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    App {
        id: v["id"].as_str().unwrap().to_owned(),
        secret: v["secret"].as_str().unwrap().to_owned(),
    }
}

fn user(h: &Harness) -> String {
    let r = h.api(
        "POST",
        "/api/users",
        Some(json!({"username": "alice", "password": "password-123", "primaryEmail": "alice@example.com"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Signs in through `app` in the browser `jar` and exchanges the code: the token response.
fn tokens(h: &Harness, jar: &Jar, app: &App, scope: &str, resource: Option<&str>) -> Value {
    let extra = resource.map_or(String::new(), |r| format!("&resource={}", urlencode(r)));
    let path = format!(
        "/oidc/auth?client_id={}&redirect_uri={}&response_type=code&scope={}&state=st&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        app.id,
        urlencode(CB),
        urlencode(scope)
    );
    let mut r = h.follow(jar, &path);
    if r.status == 200 && r.text().contains("action=\"/sign-in\"") {
        r = h.sign_in(jar, "alice", "password-123");
    }
    assert_eq!(r.status, 303, "{}", r.text());
    let code = location_params(&r)["code"].clone();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", app.id.as_str()),
        ("client_secret", app.secret.as_str()),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
    ];
    if let Some(r) = resource {
        form.push(("resource", r));
    }
    let r = h.form("/oidc/token", &form, &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn refresh(h: &Harness, app: &App, token: &str, resource: Option<&str>) -> Reply {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("client_id", app.id.as_str()),
        ("client_secret", app.secret.as_str()),
        ("refresh_token", token),
    ];
    if let Some(r) = resource {
        form.push(("resource", r));
    }
    h.form("/oidc/token", &form, &[])
}

fn introspect(h: &Harness, app: &App, token: &str) -> Value {
    let r = h.form(
        "/oidc/token/introspection",
        &[
            ("client_id", app.id.as_str()),
            ("client_secret", app.secret.as_str()),
            ("token", token),
        ],
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn userinfo(h: &Harness, token: &str) -> u16 {
    let auth = format!("Bearer {token}");
    h.send(request(
        "GET",
        "/oidc/me",
        &[("authorization", &auth)],
        Vec::new(),
    ))
    .status
}

/// Whether the browser is signed in: an authorization request goes straight to the app.
fn signed_in(h: &Harness, jar: &Jar, app: &App) -> bool {
    let path = format!(
        "/oidc/auth?client_id={}&redirect_uri={}&response_type=code&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256&prompt=none",
        app.id,
        urlencode(CB)
    );
    let r = h.follow(jar, &path);
    r.status == 303 && location_params(&r).contains_key("code")
}

fn session_key(jar: &Jar) -> String {
    let secret = jar.0.borrow().get("__Host-gh_session").cloned().unwrap();
    gatehouse::session::key_of(&secret)
}

#[test]
fn a_password_change_ends_every_session_and_token_the_old_password_opened() {
    let h = Harness::new();
    let rp = app(&h, "RP");
    let id = user(&h);
    let (laptop, phone) = (Jar::default(), Jar::default());
    let t = tokens(&h, &laptop, &rp, "openid offline_access", None);
    tokens(&h, &phone, &rp, "openid", None);
    let access = t["access_token"].as_str().unwrap();
    let refresh_token = t["refresh_token"].as_str().unwrap();
    assert_eq!(introspect(&h, &rp, access)["active"], true);
    assert_eq!(userinfo(&h, access), 200);
    let old_record = pollster::block_on(h.kv.get(&session_key(&laptop)))
        .unwrap()
        .unwrap();
    h.jobs.borrow_mut().clear();

    h.advance_secs(5);
    let r = h.api(
        "PATCH",
        &format!("/api/users/{id}/password"),
        Some(json!({"password": "a-new-password-456"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    assert!(!signed_in(&h, &laptop, &rp), "the laptop is signed out");
    assert!(!signed_in(&h, &phone, &rp), "the phone is signed out");
    assert_eq!(
        pollster::block_on(h.kv.get(&session_key(&laptop))).unwrap(),
        None,
        "the session left KV"
    );
    let r = refresh(&h, &rp, refresh_token, None);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_grant");
    assert_eq!(introspect(&h, &rp, access)["active"], false);
    assert_eq!(userinfo(&h, access), 401);
    let logouts = h
        .jobs
        .borrow()
        .iter()
        .filter(|j| matches!(j, gatehouse::outbound::Job::BackchannelLogout { .. }))
        .count();
    assert_eq!(logouts, 2, "each ended session's app hears of it");

    // A KV replica that still holds the old record cannot bring the session back.
    pollster::block_on(h.kv.put(&session_key(&laptop), &old_record, 3600)).unwrap();
    assert!(!signed_in(&h, &laptop, &rp));
    // The new password opens a new session.
    h.advance_secs(2);
    let again = Jar::default();
    let path = format!(
        "/oidc/auth?client_id={}&redirect_uri={}&response_type=code&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256",
        rp.id,
        urlencode(CB)
    );
    h.follow(&again, &path);
    assert_eq!(h.sign_in(&again, "alice", "a-new-password-456").status, 303);
    assert!(signed_in(&h, &again, &rp));
}

#[test]
fn a_jwt_access_token_issued_before_the_password_change_is_inactive() {
    let h = Harness::new();
    let rp = app(&h, "RP");
    let id = user(&h);
    resource_with_role(&h, &id, &["read"]);
    let t = tokens(&h, &Jar::default(), &rp, "openid read", Some(API));
    let jwt = t["access_token"].as_str().unwrap();
    assert!(jwt.contains('.'), "a JWT for the resource");
    assert_eq!(introspect(&h, &rp, jwt)["active"], true);
    h.advance_secs(5);
    let r = h.api(
        "PATCH",
        &format!("/api/users/{id}/password"),
        Some(json!({"password": "a-new-password-456"})),
    );
    assert_eq!(r.status, 200);
    assert_eq!(introspect(&h, &rp, jwt)["active"], false);
}

#[test]
fn a_profile_edit_made_from_a_stale_read_cannot_write_the_old_password_back() {
    let h = Harness::new();
    let id = user(&h);
    let stale = pollster::block_on(gatehouse::store::users::get(&h.db, &id))
        .unwrap()
        .unwrap();
    let r = h.api(
        "PATCH",
        &format!("/api/users/{id}/password"),
        Some(json!({"password": "a-new-password-456"})),
    );
    assert_eq!(r.status, 200);
    let mut edit = stale.clone();
    edit.name = Some("Alice".into());
    assert!(pollster::block_on(gatehouse::store::users::update(&h.db, &edit)).unwrap());
    let now = pollster::block_on(gatehouse::store::users::get(&h.db, &id))
        .unwrap()
        .unwrap();
    assert_eq!(now.name.as_deref(), Some("Alice"));
    assert_ne!(now.password_hash, stale.password_hash, "the new hash stays");
    assert!(now.sessions_valid_after > 0);
}

/// An API resource with scopes `read` and `write`, and a role granting `scopes` of it to
/// the user. Returns the role id and the ids of the scopes by name.
fn resource_with_role(h: &Harness, user_id: &str, scopes: &[&str]) -> (String, Value) {
    let r = h.api(
        "POST",
        "/api/resources",
        Some(json!({"name": "API", "indicator": API})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let resource = r.json()["id"].as_str().unwrap().to_owned();
    let mut ids = serde_json::Map::new();
    for name in ["read", "write"] {
        let r = h.api(
            "POST",
            &format!("/api/resources/{resource}/scopes"),
            Some(json!({"name": name})),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        ids.insert(name.into(), r.json()["id"].clone());
    }
    let wanted: Vec<Value> = scopes.iter().map(|s| ids[*s].clone()).collect();
    let r = h.api(
        "POST",
        "/api/roles",
        Some(json!({"name": "editor", "scopeIds": wanted})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let role = r.json()["id"].as_str().unwrap().to_owned();
    let r = h.api(
        "POST",
        &format!("/api/users/{user_id}/roles"),
        Some(json!({"roleIds": [role]})),
    );
    assert!(r.status < 300, "{}", r.text());
    (role, Value::Object(ids))
}

fn scopes_of(r: &Reply) -> Vec<String> {
    let mut s: Vec<String> = r.json()["scope"]
        .as_str()
        .unwrap()
        .split(' ')
        .map(str::to_owned)
        .collect();
    s.sort();
    s
}

#[test]
fn a_refresh_carries_only_the_scopes_the_roles_grant_now() {
    let h = Harness::new();
    let rp = app(&h, "RP");
    let id = user(&h);
    let (role, ids) = resource_with_role(&h, &id, &["read", "write"]);
    let t = tokens(
        &h,
        &Jar::default(),
        &rp,
        "openid offline_access read write",
        Some(API),
    );
    let r = refresh(&h, &rp, t["refresh_token"].as_str().unwrap(), Some(API));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(scopes_of(&r), ["offline_access", "openid", "read", "write"]);
    let write = ids["write"].as_str().unwrap();
    let d = h.api("DELETE", &format!("/api/roles/{role}/scopes/{write}"), None);
    assert!(d.status < 300, "{}", d.text());
    let r = refresh(
        &h,
        &rp,
        r.json()["refresh_token"].as_str().unwrap(),
        Some(API),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(scopes_of(&r), ["offline_access", "openid", "read"]);
    let jwt = r.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(&h, &rp, &jwt)["scope"], "read");
}

#[test]
fn a_suspended_user_can_no_longer_refresh_read_userinfo_or_pass_introspection() {
    let h = Harness::new();
    let rp = app(&h, "RP");
    let id = user(&h);
    let jar = Jar::default();
    let t = tokens(&h, &jar, &rp, "openid offline_access", None);
    let access = t["access_token"].as_str().unwrap();
    let r = h.api(
        "PATCH",
        &format!("/api/users/{id}/is-suspended"),
        Some(json!({"isSuspended": true})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["isSuspended"], true);
    let r = refresh(&h, &rp, t["refresh_token"].as_str().unwrap(), None);
    assert_eq!(r.json()["error"], "invalid_grant");
    assert_eq!(userinfo(&h, access), 401);
    assert_eq!(introspect(&h, &rp, access)["active"], false);
    assert!(!signed_in(&h, &jar, &rp));
    // Reinstated, the user signs in again; the old tokens stay dead.
    let r = h.api(
        "PATCH",
        &format!("/api/users/{id}/is-suspended"),
        Some(json!({"isSuspended": false})),
    );
    assert_eq!(r.json()["isSuspended"], false);
    assert_eq!(userinfo(&h, access), 401);
}

#[test]
fn introspection_tells_another_client_nothing() {
    let h = Harness::new();
    let rp = app(&h, "RP");
    let other = app(&h, "Other");
    user(&h);
    let t = tokens(&h, &Jar::default(), &rp, "openid offline_access", None);
    for kind in ["access_token", "refresh_token"] {
        let token = t[kind].as_str().unwrap();
        assert_eq!(introspect(&h, &rp, token)["active"], true, "{kind}");
        assert_eq!(
            introspect(&h, &other, token),
            json!({"active": false}),
            "{kind}"
        );
    }
}
