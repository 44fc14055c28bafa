//! The authorization-code flow through the router: sign-in page, code, tokens, refresh,
//! sign-out, and what survives it.
mod common;

use common::*;
use serde_json::{json, Value};

const CB: &str = "https://rp.example/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

struct Setup {
    app: Value,
}

fn setup(h: &Harness) -> Setup {
    let app = h.api(
        "POST",
        "/api/applications",
        Some(json!({"name": "RP", "type": "SPA", "oidcClientMetadata": {
            "redirectUris": [CB], "postLogoutRedirectUris": ["https://rp.example/out"],
            "backchannelLogoutUri": "https://rp.example/bcl", "backchannelLogoutSessionRequired": true}})),
    );
    assert_eq!(app.status, 201, "{}", app.text());
    let user = h.api(
        "POST",
        "/api/users",
        Some(json!({"username": "alice", "password": "password-123"})),
    );
    assert_eq!(user.status, 200);
    Setup { app: app.json() }
}

fn auth_path(client_id: &str, scope: &str, extra: &str) -> String {
    format!(
        "/oidc/auth?client_id={client_id}&redirect_uri={}&response_type=code&scope={}&state=st&nonce=n&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        urlencode(CB),
        urlencode(scope)
    )
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Runs an authorization request; signs in if asked; returns the callback's parameters.
fn code_for(
    h: &Harness,
    jar: &Jar,
    client_id: &str,
    scope: &str,
) -> std::collections::BTreeMap<String, String> {
    let mut r = h.follow(jar, &auth_path(client_id, scope, ""));
    if r.status == 200 && r.text().contains("action=\"/sign-in\"") {
        r = h.sign_in(jar, "alice", "password-123");
    }
    assert_eq!(r.status, 303, "{}", r.text());
    location_params(&r)
}

fn exchange(h: &Harness, client_id: &str, code: &str) -> Value {
    let r = h.form(
        "/oidc/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn refresh(h: &Harness, client_id: &str, token: &str) -> Reply {
    h.form(
        "/oidc/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", token),
        ],
        &[],
    )
}

#[test]
fn sign_in_code_tokens_and_sign_out() {
    let h = Harness::new();
    let s = setup(&h);
    let id = s.app["id"].as_str().unwrap();
    let jar = Jar::default();

    let params = code_for(&h, &jar, id, "openid offline_access");
    assert_eq!(params["state"], "st");
    assert_eq!(params["iss"], format!("{ORIGIN}/oidc"));
    let offline = exchange(&h, id, &params["code"]);
    assert!(offline["refresh_token"].is_string());
    assert!(offline["id_token"].is_string());

    // Same browser: no sign-in page; an online-only grant joins the session.
    let params = code_for(&h, &jar, id, "openid profile");
    let online = exchange(&h, id, &params["code"]);
    assert!(online.get("refresh_token").is_none());

    let me = h.send(request(
        "GET",
        "/oidc/me",
        &[(
            "authorization",
            &format!("Bearer {}", online["access_token"].as_str().unwrap()),
        )],
        vec![],
    ));
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["username"], "alice");

    // Sign out with confirmation.
    let page = h.browse(
        &jar,
        "GET",
        &format!(
            "/oidc/session/end?client_id={id}&post_logout_redirect_uri={}&state=bye",
            urlencode("https://rp.example/out")
        ),
        None,
    );
    assert_eq!(page.status, 200);
    let csrf = csrf_of(&page.text());
    let r = h.browse(
        &jar,
        "POST",
        "/oidc/session/end/confirm",
        Some(&[
            ("_csrf", &csrf),
            ("client_id", id),
            ("post_logout_redirect_uri", "https://rp.example/out"),
            ("state", "bye"),
            ("logout", "yes"),
        ]),
    );
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some("https://rp.example/out?state=bye")
    );
    assert_eq!(h.jobs.borrow().len(), 1, "one back-channel logout queued");

    // The online token is revoked; the offline refresh token survives (as in Logto).
    let me = h.send(request(
        "GET",
        "/oidc/me",
        &[(
            "authorization",
            &format!("Bearer {}", online["access_token"].as_str().unwrap()),
        )],
        vec![],
    ));
    assert_eq!(me.status, 401);
    let r = refresh(&h, id, offline["refresh_token"].as_str().unwrap());
    assert_eq!(r.status, 200, "{}", r.text());

    // And the browser must sign in again.
    let r = h.follow(&jar, &auth_path(id, "openid", ""));
    assert!(r.text().contains("action=\"/sign-in\""));
}

#[test]
fn an_expired_code_and_a_replayed_one_fail() {
    let h = Harness::new();
    let s = setup(&h);
    let id = s.app["id"].as_str().unwrap();
    let jar = Jar::default();
    let params = code_for(&h, &jar, id, "openid offline_access");
    h.advance_secs(61);
    let r = h.form(
        "/oidc/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", id),
            ("code", &params["code"]),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        &[],
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_grant");

    let params = code_for(&h, &jar, id, "openid offline_access");
    let first = exchange(&h, id, &params["code"]);
    let again = h.form(
        "/oidc/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", id),
            ("code", &params["code"]),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        &[],
    );
    assert_eq!(again.json()["error"], "invalid_grant");
    assert_eq!(
        refresh(&h, id, first["refresh_token"].as_str().unwrap()).json()["error"],
        "invalid_grant"
    );
}

#[test]
fn wrong_password_shows_one_message_and_keeps_the_interaction() {
    let h = Harness::new();
    let s = setup(&h);
    let id = s.app["id"].as_str().unwrap();
    let jar = Jar::default();
    h.follow(&jar, &auth_path(id, "openid", ""));
    let wrong_password = h.sign_in(&jar, "alice", "nope-nope-nope");
    let no_user = h.sign_in(&jar, "nobody", "nope-nope-nope");
    assert_eq!(wrong_password.status, 400);
    assert_eq!(no_user.status, 400);
    let msg = "The username, email or password is incorrect.";
    assert!(wrong_password.text().contains(msg) && no_user.text().contains(msg));
    let ok = h.sign_in(&jar, "alice", "password-123");
    assert_eq!(ok.status, 303);
    assert!(location_params(&ok).contains_key("code"));
}

#[test]
fn a_form_post_without_csrf_is_refused() {
    let h = Harness::new();
    let s = setup(&h);
    let id = s.app["id"].as_str().unwrap();
    let jar = Jar::default();
    h.follow(&jar, &auth_path(id, "openid", ""));
    let r = h.browse(
        &jar,
        "POST",
        "/sign-in",
        Some(&[("identifier", "alice"), ("password", "password-123")]),
    );
    assert_eq!(r.status, 403);
    assert!(
        jar.0.borrow().get("__Host-gh_session").is_none(),
        "no session was started"
    );
}

#[test]
fn third_party_consent_is_remembered_until_revoked() {
    let h = Harness::new();
    setup(&h);
    let app = h.api(
        "POST",
        "/api/applications",
        Some(json!({"name": "Partner", "type": "Traditional", "isThirdParty": true, "oidcClientMetadata": {"redirectUris": [CB]}})),
    )
    .json();
    let id = app["id"].as_str().unwrap();
    let jar = Jar::default();
    let consent = |jar: &Jar| {
        let mut r = h.follow(jar, &auth_path(id, "openid email", ""));
        if r.text().contains("action=\"/sign-in\"") {
            r = h.sign_in(jar, "alice", "password-123");
        }
        r
    };
    let page = consent(&jar);
    assert_eq!(page.status, 200, "{}", page.text());
    assert!(page.text().contains("Partner wants to access your account"));
    assert!(page.text().contains("See your email address"));
    let csrf = csrf_of(&page.text());
    let r = h.browse(
        &jar,
        "POST",
        "/consent",
        Some(&[("_csrf", &csrf), ("action", "authorize")]),
    );
    let r = h.follow(&jar, r.header("location").unwrap());
    assert!(location_params(&r).contains_key("code"));

    let again = consent(&jar);
    assert_eq!(again.status, 303, "remembered: straight back to the app");

    let users = h.api("GET", "/api/users?search=alice", None).json();
    let user_id = users[0]["id"].as_str().unwrap().to_owned();
    let grants = h
        .api(
            "GET",
            &format!("/api/users/{user_id}/grants?appType=thirdParty"),
            None,
        )
        .json();
    assert_eq!(grants.as_array().unwrap().len(), 1);
    let grant_id = grants[0]["id"].as_str().unwrap();
    assert_eq!(
        h.api(
            "DELETE",
            &format!("/api/users/{user_id}/grants/{grant_id}"),
            None
        )
        .status,
        204
    );
    assert_eq!(
        h.api(
            "DELETE",
            &format!("/api/users/{user_id}/grants/{grant_id}"),
            None
        )
        .status,
        404
    );

    let page = consent(&jar);
    assert_eq!(page.status, 200, "asked again");
    let csrf = csrf_of(&page.text());
    let r = h.browse(
        &jar,
        "POST",
        "/consent",
        Some(&[("_csrf", &csrf), ("action", "cancel")]),
    );
    assert_eq!(location_params(&r)["error"], "access_denied");
}

#[test]
fn prompt_none_without_a_session_is_login_required() {
    let h = Harness::new();
    let s = setup(&h);
    let id = s.app["id"].as_str().unwrap();
    let r = h.follow(&Jar::default(), &auth_path(id, "openid", "&prompt=none"));
    assert_eq!(r.status, 303);
    let p = location_params(&r);
    assert_eq!(p["error"], "login_required");
    assert_eq!(p["state"], "st");
    assert!(!p.contains_key("code"));
}

#[test]
fn repeated_wrong_passwords_lock_the_identifier_for_an_hour() {
    let h = Harness::new();
    let s = setup(&h);
    let id = s.app["id"].as_str().unwrap();
    let jar = Jar::default();
    h.follow(&jar, &auth_path(id, "openid", ""));
    for _ in 0..100 {
        assert_eq!(h.sign_in(&jar, "alice", "wrong-password").status, 400);
    }
    let locked = h.sign_in(&jar, "alice", "password-123");
    assert_eq!(
        locked.status,
        200,
        "even the right password is not checked while locked: {}",
        locked.text()
    );
    assert!(
        locked.text().contains("Confirm it is you"),
        "the code screen of the soft lockout (alice has no address: no code comes): {}",
        locked.text()
    );
    // The key is the person: another spelling of the same identifier is the same key.
    let again = Jar::default();
    h.follow(&again, &auth_path(id, "openid", ""));
    let r = h.sign_in(&again, " alice ", "password-123");
    assert!(r.text().contains("Confirm it is you"), "{}", r.text());
    h.advance_secs(3600);
    h.follow(&jar, &auth_path(id, "openid", ""));
    let ok = h.sign_in(&jar, "alice", "password-123");
    assert_eq!(ok.status, 303, "{}", ok.text());
}

#[test]
fn prompt_login_and_max_age_ask_again_despite_a_session() {
    let h = Harness::new();
    let s = setup(&h);
    let id = s.app["id"].as_str().unwrap();
    let jar = Jar::default();
    code_for(&h, &jar, id, "openid");
    let silent = h.follow(&jar, &auth_path(id, "openid", ""));
    assert_eq!(silent.status, 303, "a live session skips the page");
    let login = h.follow(&jar, &auth_path(id, "openid", "&prompt=login"));
    assert!(
        login.text().contains("action=\"/sign-in\""),
        "prompt=login asks again"
    );
    h.advance_secs(120);
    let fresh_enough = h.follow(&jar, &auth_path(id, "openid", "&max_age=300"));
    assert_eq!(fresh_enough.status, 303);
    let too_old = h.follow(&jar, &auth_path(id, "openid", "&max_age=60"));
    assert!(
        too_old.text().contains("action=\"/sign-in\""),
        "max_age exceeded asks again"
    );
    let hint = h.follow(
        &jar,
        &auth_path(id, "openid", "&prompt=login&login_hint=alice%40example.com"),
    );
    assert!(
        hint.text().contains("value=\"alice@example.com\""),
        "login_hint prefills"
    );
}

#[test]
fn consent_and_sign_out_speak_german_when_asked() {
    let h = Harness::new();
    setup(&h);
    let app = h.api(
        "POST",
        "/api/applications",
        Some(json!({"name": "Partner", "type": "Traditional", "isThirdParty": true, "oidcClientMetadata": {"redirectUris": [CB]}})),
    )
    .json();
    let id = app["id"].as_str().unwrap();
    let jar = Jar::default();
    h.follow(&jar, &auth_path(id, "openid email", "&ui_locales=de"));
    let page = h.sign_in(&jar, "alice", "password-123");
    let html = page.text();
    assert!(html.contains("<html lang=\"de\">"), "{html}");
    assert!(html.contains("Partner möchte auf dein Konto zugreifen"));
    assert!(html.contains("Wenn du zustimmst, darf Partner:"));
    assert!(html.contains("deine E-Mail-Adresse sehen"));
    let bye = h.browse(
        &jar,
        "GET",
        &format!("/oidc/session/end?client_id={id}&ui_locales=de"),
        None,
    );
    assert!(bye
        .text()
        .contains("Möchtest du dich von Partner abmelden?"));
    let csrf = csrf_of(&bye.text());
    let done = h.browse(
        &jar,
        "POST",
        "/oidc/session/end/confirm",
        Some(&[
            ("_csrf", &csrf),
            ("client_id", id),
            ("ui_locales", "de"),
            ("logout", "yes"),
        ]),
    );
    assert!(done.text().contains("Du bist abgemeldet"));
}

#[test]
fn review_fixes_hold() {
    let h = Harness::new();
    let s = setup(&h);
    let id = s.app["id"].as_str().unwrap();

    // SPAs call the token endpoint and userinfo from their own origin.
    let pre = h.send(request(
        "OPTIONS",
        "/oidc/token",
        &[
            ("origin", "https://spa.example"),
            ("access-control-request-method", "POST"),
        ],
        vec![],
    ));
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    assert!(pre
        .header("access-control-allow-headers")
        .unwrap()
        .contains("authorization"));
    let r = h.form(
        "/oidc/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", id),
            ("refresh_token", "x"),
        ],
        &[],
    );
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));

    // A huge max_age neither panics nor overflows into a fresh login.
    let jar = Jar::default();
    code_for(&h, &jar, id, "openid");
    let r = h.follow(
        &jar,
        &auth_path(id, "openid", "&max_age=9223372036854775807"),
    );
    assert_eq!(r.status, 303, "the session is young enough");

    // At most ten resources per request.
    let many: String = (0..11)
        .map(|i| format!("&resource=https%3A%2F%2Fapi{i}.example"))
        .collect();
    let r = h.follow(&Jar::default(), &auth_path(id, "openid", &many));
    assert_eq!(location_params(&r)["error"], "invalid_target");

    // Signing out on one device leaves the other device's tokens alone.
    let laptop = Jar::default();
    let phone = Jar::default();
    let a = exchange(&h, id, &code_for(&h, &laptop, id, "openid profile")["code"]);
    let b = exchange(&h, id, &code_for(&h, &phone, id, "openid profile")["code"]);
    let page = h.browse(
        &phone,
        "GET",
        &format!("/oidc/session/end?client_id={id}"),
        None,
    );
    let csrf = csrf_of(&page.text());
    h.browse(
        &phone,
        "POST",
        "/oidc/session/end/confirm",
        Some(&[("_csrf", &csrf), ("client_id", id), ("logout", "yes")]),
    );
    let me = |t: &Value| {
        h.send(request(
            "GET",
            "/oidc/me",
            &[(
                "authorization",
                &format!("Bearer {}", t["access_token"].as_str().unwrap()),
            )],
            vec![],
        ))
        .status
    };
    assert_eq!(me(&b), 401, "the phone's token is revoked");
    assert_eq!(me(&a), 200, "the laptop's token still works");

    // A suspended user's token stops working at userinfo.
    let users = h.api("GET", "/api/users?search=alice", None).json();
    let uid = users[0]["id"].as_str().unwrap();
    pollster::block_on(gatehouse::store::Db::execute(
        &h.db,
        "UPDATE users SET is_suspended = 1 WHERE id = ?1",
        &[uid.into()],
    ))
    .unwrap();
    assert_eq!(me(&a), 401);
}
