//! One-time codes through the router: sign-in with an email code, sign-up with email, reset
//! password, the attempt limit, the resend cool-down, and the development mailbox.
mod common;

use common::*;
use serde_json::{json, Value};

const CB: &str = "https://rp.example/cb";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn setup(h: &Harness) -> String {
    h.api("POST", "/api/users", Some(json!({"username": "erin", "primaryEmail": "erin@example.com", "password": "violet skies over oak"})));
    let r = h.api(
        "POST",
        "/api/applications",
        Some(json!({"name": "Shop", "type": "SPA", "oidcClientMetadata": {"redirectUris": [CB]}})),
    );
    r.json()["id"].as_str().unwrap().to_owned()
}

fn start(h: &Harness, jar: &Jar, id: &str, extra: &str) -> Reply {
    let cb: String = form_urlencoded::byte_serialize(CB.as_bytes()).collect();
    h.follow(jar, &format!("/oidc/auth?client_id={id}&redirect_uri={cb}&response_type=code&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}"))
}

/// The newest code the development mailbox holds for `to`.
fn code_for(h: &Harness, to: &str) -> String {
    let r = h.get(&format!("/dev/mailbox.json?to={to}"));
    assert_eq!(r.status, 200);
    let list = r.json();
    let body = list[0]["body"].as_str().expect("a message").to_owned();
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code")
        .to_owned()
}

fn post(h: &Harness, jar: &Jar, path: &str, fields: &[(&str, &str)]) -> Reply {
    let page = h.browse(jar, "GET", path, None);
    let csrf = csrf_of(&page.text());
    let mut form = vec![("_csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    h.browse(jar, "POST", path, Some(&form))
}

#[test]
fn sign_in_with_an_email_code() {
    let h = Harness::new();
    let id = setup(&h);
    let jar = Jar::default();
    let page = start(&h, &jar, &id, "");
    assert!(page.text().contains("href=\"/sign-in/code\""));
    let r = post(&h, &jar, "/sign-in/code", &[("email", "Erin@Example.com")]);
    assert_eq!(r.header("location"), Some("/verify"));
    let verify = h.browse(&jar, "GET", "/verify", None);
    assert!(
        verify.text().contains("erin@example.com"),
        "the page says where the code went"
    );
    let code = code_for(&h, "erin@example.com");
    let wrong = post(
        &h,
        &jar,
        "/verify",
        &[("code", if code == "000000" { "111111" } else { "000000" })],
    );
    assert_eq!(wrong.status, 400);
    assert!(wrong.text().contains("This code is wrong."));
    let ok = post(&h, &jar, "/verify", &[("code", &code)]);
    assert_eq!(ok.status, 303, "{}", ok.text());
    let done = h.follow(&jar, ok.header("location").unwrap());
    let code = location_params(&done)["code"].clone();
    let tokens = h.form(
        "/oidc/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &id),
            ("code", &code),
            ("redirect_uri", CB),
            (
                "code_verifier",
                "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            ),
        ],
        &[],
    );
    assert_eq!(tokens.status, 200, "{}", tokens.text());
    let id_token = tokens.json()["id_token"].as_str().unwrap().to_owned();
    let payload = id_token.split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["amr"],
        json!(["otp"]),
        "a code sign-in says so in the ID token"
    );
    // The interaction is over: its code cannot be used again.
    let again = h.browse(&jar, "GET", "/verify", None);
    assert_eq!(again.status, 400);
}

#[test]
fn ten_wrong_codes_lock_the_code_and_create_no_user() {
    let h = Harness::new();
    let id = setup(&h);
    h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"signUp": {"identifiers": ["email"], "password": true, "verify": true}})),
    );
    let jar = Jar::default();
    start(&h, &jar, &id, "");
    let exp = |method: &str, path: &str, body: Value| {
        let cookies = jar.header();
        let r = h.send(request(
            method,
            &format!("/api/experience{path}"),
            &[("cookie", &cookies), ("content-type", "application/json")],
            body.to_string().into_bytes(),
        ));
        jar.store(&r);
        r
    };
    exp("PUT", "", json!({"interactionEvent": "Register"}));
    let identifier = json!({"type": "email", "value": "frank@example.com"});
    let sent = exp(
        "POST",
        "/verification/verification-code",
        json!({"identifier": identifier, "interactionEvent": "Register"}),
    );
    assert_eq!(sent.status, 200, "{}", sent.text());
    let vid = sent.json()["verificationId"].as_str().unwrap().to_owned();
    let code = code_for(&h, "frank@example.com");
    let wrong = if code == "999999" { "000000" } else { "999999" };
    for _ in 0..10 {
        let r = exp(
            "POST",
            "/verification/verification-code/verify",
            json!({"identifier": identifier, "verificationId": vid, "code": wrong}),
        );
        assert_eq!(r.json()["code"], "verification_code.code_mismatch");
    }
    let r = exp(
        "POST",
        "/verification/verification-code/verify",
        json!({"identifier": identifier, "verificationId": vid, "code": code}),
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["code"],
        "verification_code.exceed_max_try",
        "the right code no longer works"
    );
    exp(
        "POST",
        "/profile",
        json!({"type": "password", "value": "violet skies over oak"}),
    );
    let r = exp("POST", "/identification", json!({"verificationId": vid}));
    assert_eq!(r.status, 400);
    assert_eq!(
        h.api("GET", "/api/users?search=frank", None)
            .header("total-number"),
        Some("0")
    );
    // A new code may be asked for only after the cool-down.
    let r = exp(
        "POST",
        "/verification/verification-code",
        json!({"identifier": identifier, "interactionEvent": "Register"}),
    );
    assert_eq!(r.status, 429);
    h.advance_secs(61);
    let r = exp(
        "POST",
        "/verification/verification-code",
        json!({"identifier": identifier, "interactionEvent": "Register"}),
    );
    assert_eq!(r.status, 200);
    let bad = exp(
        "POST",
        "/verification/verification-code",
        json!({"identifier": {"type": "email", "value": "not-an-email"}, "interactionEvent": "Register"}),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["code"], "guard.invalid_input");
}

#[test]
fn register_with_email_code_and_password() {
    let h = Harness::new();
    let id = setup(&h);
    h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"signUp": {"identifiers": ["email"], "password": true, "verify": true}})),
    );
    let jar = Jar::default();
    let page = start(&h, &jar, &id, "&first_screen=register");
    assert!(
        page.text().contains("name=\"email\""),
        "the email sign-up form"
    );
    let taken = post(
        &h,
        &jar,
        "/register",
        &[
            ("email", "erin@example.com"),
            ("password", "violet skies over oak"),
        ],
    );
    assert_eq!(
        taken.header("location"),
        Some("/verify"),
        "the code is sent even for a taken address"
    );
    let code = code_for(&h, "erin@example.com");
    let r = post(&h, &jar, "/verify", &[("code", &code)]);
    assert!(r.text().contains("is already in use."));

    let jar = Jar::default();
    start(&h, &jar, &id, "&first_screen=register");
    let r = post(
        &h,
        &jar,
        "/register",
        &[
            ("email", "grace@example.com"),
            ("password", "violet skies over oak"),
        ],
    );
    assert_eq!(r.header("location"), Some("/verify"));
    let code = code_for(&h, "grace@example.com");
    let r = post(&h, &jar, "/verify", &[("code", &code)]);
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(location_params(&h.follow(&jar, r.header("location").unwrap())).contains_key("code"));
    let users = h.api("GET", "/api/users?search=grace", None).json();
    assert_eq!(users[0]["primaryEmail"], "grace@example.com");
    assert_eq!(users[0]["hasPassword"], true);
}

#[test]
fn reset_a_forgotten_password() {
    let h = Harness::new();
    let id = setup(&h);
    let jar = Jar::default();
    start(&h, &jar, &id, "&first_screen=reset_password");
    let r = post(
        &h,
        &jar,
        "/reset-password",
        &[("email", "erin@example.com")],
    );
    assert_eq!(r.header("location"), Some("/verify"));
    let code = code_for(&h, "erin@example.com");
    let r = post(&h, &jar, "/verify", &[("code", &code)]);
    assert_eq!(r.header("location"), Some("/reset-password/new"));
    let weak = post(&h, &jar, "/reset-password/new", &[("password", "erin1234")]);
    assert_eq!(weak.status, 422);
    let r = post(
        &h,
        &jar,
        "/reset-password/new",
        &[("password", "amber waves of grain")],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let signin = h.follow(&jar, r.header("location").unwrap());
    assert!(signin.text().contains("Your password has been changed."));
    assert_eq!(
        h.sign_in(&jar, "erin", "violet skies over oak").status,
        400,
        "the old password is gone"
    );
    let ok = h.sign_in(&jar, "erin", "amber waves of grain");
    assert!(location_params(&ok).contains_key("code"));

    // An unknown address gets the same first answer: the code is "sent" (no enumeration).
    let jar = Jar::default();
    start(&h, &jar, &id, "");
    let r = post(
        &h,
        &jar,
        "/reset-password",
        &[("email", "nobody@example.com")],
    );
    assert_eq!(r.header("location"), Some("/verify"));
}

#[test]
fn the_mailbox_exists_only_in_development() {
    let mut h = Harness::new();
    assert_eq!(h.get("/dev/mailbox").status, 200);
    h.vars.insert("DEV_MAILBOX".into(), "false".into());
    assert_eq!(h.get("/dev/mailbox").status, 404);
    assert_eq!(h.get("/dev/mailbox.json").status, 404);
}

#[test]
fn register_with_email_or_phone_takes_a_phone_number() {
    let h = Harness::new();
    let id = setup(&h);
    h.api("PATCH", "/api/sign-in-exp", Some(json!({"signUp": {"identifiers": ["email", "phone"], "password": false, "verify": true}})));
    let jar = Jar::default();
    let page = start(&h, &jar, &id, "&first_screen=register");
    assert!(page.text().contains("Email or phone number"));
    let r = post(&h, &jar, "/register", &[("email", "+1 (555) 010-2233")]);
    assert_eq!(r.header("location"), Some("/verify"), "{}", r.text());
    let code = code_for(&h, "15550102233");
    let r = post(&h, &jar, "/verify", &[("code", &code)]);
    assert_eq!(r.status, 303, "{}", r.text());
    let users = h.api("GET", "/api/users?search=15550102233", None).json();
    assert_eq!(users[0]["primaryPhone"], "15550102233");
    assert_eq!(users[0]["hasPassword"], false);
    // Without either, the Experience API refuses to create the account.
    let jar = Jar::default();
    start(&h, &jar, &id, "");
    let cookies = jar.header();
    let put = h.send(request(
        "PUT",
        "/api/experience",
        &[("cookie", &cookies), ("content-type", "application/json")],
        br#"{"interactionEvent":"Register"}"#.to_vec(),
    ));
    assert_eq!(put.status, 204);
    let r = exp(&h, &jar, "POST", "/identification", None);
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["code"], "user.missing_profile");
}

#[test]
fn wrong_codes_lock_the_address_across_codes_and_interactions() {
    let h = Harness::new();
    let id = setup(&h);
    let mut last = None;
    for round in 0..4 {
        let jar = Jar::default();
        start(&h, &jar, &id, "");
        let r = post(
            &h,
            &jar,
            "/reset-password",
            &[("email", "erin@example.com")],
        );
        assert_eq!(
            r.header("location"),
            Some("/verify"),
            "round {round}: {}",
            r.text()
        );
        let code = code_for(&h, "erin@example.com");
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..10 {
            last = Some(post(&h, &jar, "/verify", &[("code", wrong)]));
            if last.as_ref().unwrap().status == 429 {
                break;
            }
        }
        if last.as_ref().unwrap().status == 429 {
            // Locked: even the right code is refused now.
            let r = post(&h, &jar, "/verify", &[("code", &code)]);
            assert_eq!(r.status, 429);
            assert!(r.text().contains("Too many failed attempts"));
            assert_eq!(round, 3, "30 wrong codes lock the address");
            return;
        }
        h.advance_secs(61);
    }
    panic!("the address was never locked: {:?}", last.map(|r| r.status));
}

#[test]
fn a_password_verification_uses_the_claimed_identifier_kind() {
    let h = Harness::new();
    let id = setup(&h);
    let jar = Jar::default();
    start(&h, &jar, &id, "");
    let cookies = jar.header();
    let call = |path: &str, body: Value| {
        h.send(request(
            "POST",
            path,
            &[("cookie", &cookies), ("content-type", "application/json")],
            body.to_string().into_bytes(),
        ))
    };
    h.send(request(
        "PUT",
        "/api/experience",
        &[("cookie", &cookies), ("content-type", "application/json")],
        br#"{"interactionEvent":"SignIn"}"#.to_vec(),
    ));
    let r = call(
        "/api/experience/verification/password",
        json!({"identifier": {"type": "username", "value": "erin@example.com"}, "password": "violet skies over oak"}),
    );
    assert_eq!(r.status, 422, "an email is not a username");
    let r = call(
        "/api/experience/verification/password",
        json!({"identifier": {"type": "email", "value": "erin@example.com"}, "password": "violet skies over oak"}),
    );
    assert_eq!(r.status, 200);
}

#[test]
fn an_email_required_since_the_last_sign_in_is_added_with_a_code() {
    let h = Harness::new();
    let id = setup(&h);
    h.api(
        "POST",
        "/api/users",
        Some(json!({"username": "kim", "password": "violet skies over oak"})),
    );
    h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"signUp": {"identifiers": ["email"], "password": true, "verify": true}})),
    );
    let jar = Jar::default();
    start(&h, &jar, &id, "");
    let r = h.sign_in(&jar, "kim", "violet skies over oak");
    assert!(
        r.text()
            .contains("Your account needs an email address to continue."),
        "{}",
        r.text()
    );
    let taken = post(
        &h,
        &jar,
        "/profile/missing",
        &[("email", "erin@example.com")],
    );
    assert_eq!(taken.header("location"), Some("/verify"));
    let code = code_for(&h, "erin@example.com");
    let r = post(&h, &jar, "/verify", &[("code", &code)]);
    assert!(r.text().contains("is already in use."), "{}", r.text());
    h.advance_secs(61);
    let r = post(
        &h,
        &jar,
        "/profile/missing",
        &[("email", "kim@example.com")],
    );
    assert_eq!(r.header("location"), Some("/verify"));
    let code = code_for(&h, "kim@example.com");
    let r = post(&h, &jar, "/verify", &[("code", &code)]);
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(location_params(&h.follow(&jar, r.header("location").unwrap())).contains_key("code"));
    let users = h.api("GET", "/api/users?search=kim%40", None).json();
    assert_eq!(users[0]["username"], "kim");
    assert_eq!(users[0]["primaryEmail"], "kim@example.com");
}

#[test]
fn sign_in_and_reset_by_phone_code_on_the_pages() {
    let h = Harness::new();
    let id = setup(&h);
    h.api("POST", "/api/users", Some(json!({"username": "lee", "primaryPhone": "+44 20 7946 0000", "password": "violet skies over oak"})));
    h.api("PATCH", "/api/sign-in-exp", Some(json!({
        "signIn": {"methods": [
            {"identifier": "username", "password": true, "verificationCode": false, "isPasswordPrimary": true},
            {"identifier": "phone", "password": false, "verificationCode": true, "isPasswordPrimary": false}]},
        "forgotPasswordMethods": ["PhoneVerificationCode"]})));
    let jar = Jar::default();
    start(&h, &jar, &id, "");
    let page = h.browse(&jar, "GET", "/sign-in/code", None);
    assert!(page.text().contains("Phone number"), "{}", page.text());
    let email = post(&h, &jar, "/sign-in/code", &[("email", "erin@example.com")]);
    assert_eq!(email.status, 422, "email codes are not enabled here");
    assert!(
        email.text().contains("not available here"),
        "{}",
        email.text()
    );
    let r = post(&h, &jar, "/sign-in/code", &[("email", "+44 20 7946 0000")]);
    assert_eq!(r.header("location"), Some("/verify"), "{}", r.text());
    let r = post(
        &h,
        &jar,
        "/verify",
        &[("code", &code_for(&h, "442079460000"))],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(location_params(&h.follow(&jar, r.header("location").unwrap())).contains_key("code"));

    let jar = Jar::default();
    start(&h, &jar, &id, "&first_screen=reset_password");
    h.advance_secs(61);
    let r = post(&h, &jar, "/reset-password", &[("email", "+442079460000")]);
    assert_eq!(r.header("location"), Some("/verify"), "{}", r.text());
    let r = post(
        &h,
        &jar,
        "/verify",
        &[("code", &code_for(&h, "442079460000"))],
    );
    assert_eq!(r.header("location"), Some("/reset-password/new"));
}

#[test]
fn identifier_first_an_email_without_a_password_gets_a_code() {
    let h = Harness::new();
    let id = setup(&h);
    let jar = Jar::default();
    let page = start(&h, &jar, &id, "");
    assert!(page.text().contains("Leave it empty to get a code"));
    let csrf = csrf_of(&page.text());
    let r = h.browse(
        &jar,
        "POST",
        "/sign-in",
        Some(&[
            ("_csrf", &csrf),
            ("identifier", "erin@example.com"),
            ("password", ""),
        ]),
    );
    assert_eq!(r.header("location"), Some("/verify"), "{}", r.text());
    let r = post(
        &h,
        &jar,
        "/verify",
        &[("code", &code_for(&h, "erin@example.com"))],
    );
    assert_eq!(r.status, 303);
    // A username has no code method: an empty password is just wrong.
    let jar = Jar::default();
    let page = start(&h, &jar, &id, "");
    let csrf = csrf_of(&page.text());
    let r = h.browse(
        &jar,
        "POST",
        "/sign-in",
        Some(&[("_csrf", &csrf), ("identifier", "erin"), ("password", "")]),
    );
    assert_eq!(r.status, 400);
}
