//! Which channel may send or take a one-time code (or a password), for sign-in, registration
//! and forgot-password: the sign-in experience settings and the authorization request's
//! `identifier` parameter decide, and the Experience API obeys them exactly as the pages do.
mod common;

use common::*;
use serde_json::{json, Value};

const CB: &str = "https://rp.example/cb";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const PASSWORD: &str = "violet skies over oak";
const ERIN_EMAIL: &str = "erin@example.com";
const ERIN_PHONE: &str = "15550102233";

/// Erin (username, email, phone and password) and an application; returns its client id.
fn setup(h: &Harness) -> String {
    let r = h.api("POST", "/api/users", Some(json!({"username": "erin", "primaryEmail": ERIN_EMAIL, "primaryPhone": "+1 555 010 2233", "password": PASSWORD})));
    assert!(r.status < 300, "{}", r.text());
    let r = h.api(
        "POST",
        "/api/applications",
        Some(json!({"name": "Shop", "type": "SPA", "oidcClientMetadata": {"redirectUris": [CB]}})),
    );
    r.json()["id"].as_str().unwrap().to_owned()
}

fn auth(client_id: &str, extra: &str) -> String {
    format!(
        "/oidc/auth?client_id={client_id}&redirect_uri={}&response_type=code&scope=openid&state=st&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        form_urlencoded::byte_serialize(CB.as_bytes()).collect::<String>()
    )
}

fn patch(h: &Harness, settings: Value) {
    let r = h.api("PATCH", "/api/sign-in-exp", Some(settings));
    assert_eq!(r.status, 200, "{}", r.text());
}

/// Sign-in methods: username and email by password only (no codes at all).
fn no_codes() -> Value {
    json!({"signIn": {"methods": [
        {"identifier": "username", "password": true, "verificationCode": false, "isPasswordPrimary": true},
        {"identifier": "email", "password": true, "verificationCode": false, "isPasswordPrimary": true}]}})
}

/// An Experience API call with the browser's cookies.
/// A fresh browser at `/oidc/auth` (with `extra` parameters) that has started `event`.
fn begin(h: &Harness, client_id: &str, extra: &str, event: &str) -> Jar {
    let jar = Jar::default();
    h.follow(&jar, &auth(client_id, extra));
    let r = exp(h, &jar, "PUT", "", Some(json!({"interactionEvent": event})));
    assert_eq!(r.status, 204, "{}", r.text());
    jar
}

fn send_code(h: &Harness, jar: &Jar, event: &str, kind: &str, value: &str) -> Reply {
    exp(
        h,
        jar,
        "POST",
        "/verification/verification-code",
        Some(json!({"identifier": {"type": kind, "value": value}, "interactionEvent": event})),
    )
}

fn assert_refused(r: &Reply, code: &str) {
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (422, Some(code)),
        "{}",
        r.text()
    );
}

/// How many messages the development mailbox holds for `to`.
fn mailbox(h: &Harness, to: &str) -> usize {
    let r = h.get(&format!("/dev/mailbox.json?to={to}"));
    assert_eq!(r.status, 200);
    r.json().as_array().expect("a list").len()
}

fn users_matching(h: &Harness, search: &str) -> i64 {
    let r = h.api("GET", &format!("/api/users?search={search}"), None);
    r.header("total-number").unwrap().parse().unwrap()
}

/// Erin's original password still signs her in (in a new browser).
fn assert_password_unchanged(h: &Harness, client_id: &str) {
    let jar = begin(h, client_id, "", "SignIn");
    let r = exp(
        h,
        &jar,
        "POST",
        "/verification/password",
        Some(json!({"identifier": {"type": "username", "value": "erin"}, "password": PASSWORD})),
    );
    assert_eq!(r.status, 200, "the old password still works: {}", r.text());
}

/// A refusal on a hosted page: the form again with a readable error, not a redirect to
/// `/verify`.
/// The page's error sentence; asserts it is a refusal shown in place (no redirect).
fn assert_page_refusal(r: &Reply) -> String {
    assert_eq!(r.header("location"), None, "no redirect");
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let html = r.text();
    let at = html.find("role=\"alert\">").expect("an error on the page") + 13;
    let error = html[at..at + html[at..].find("</p>").unwrap()].to_owned();
    assert!(!error.trim().is_empty(), "a readable error");
    assert_eq!(r.status, 422, "the page said: {error}");
    error
}

#[test]
fn the_api_and_the_page_refuse_a_disabled_channel_with_the_same_words() {
    let h = Harness::new();
    let id = setup(&h);
    patch(&h, no_codes());
    let api_jar = begin(&h, &id, "", "SignIn");
    let api = send_code(&h, &api_jar, "SignIn", "email", ERIN_EMAIL);
    assert_refused(&api, "user.sign_in_method_not_enabled");
    let page_jar = Jar::default();
    let sign_in = h.follow(&page_jar, &auth(&id, ""));
    let csrf = csrf_of(&sign_in.text());
    let form = [("_csrf", csrf.as_str()), ("email", ERIN_EMAIL)];
    let page = h.browse(&page_jar, "POST", "/sign-in/code", Some(&form));
    let words = assert_page_refusal(&page);
    assert_eq!(api.json()["message"].as_str(), Some(words.as_str()));
    // The German page says the same in German.
    let de_jar = Jar::default();
    let sign_in = h.follow(&de_jar, &auth(&id, "&ui_locales=de"));
    let csrf = csrf_of(&sign_in.text());
    let form = [("_csrf", csrf.as_str()), ("email", ERIN_EMAIL)];
    let page = h.browse(&de_jar, "POST", "/sign-in/code", Some(&form));
    assert_eq!(
        assert_page_refusal(&page),
        "Diese Art der Anmeldung ist hier nicht möglich."
    );
    assert_eq!(mailbox(&h, ERIN_EMAIL), 0, "no code was sent");
}

#[test]
fn each_event_sends_a_code_when_its_method_is_enabled() {
    let phone_codes = json!({"signIn": {"methods": [
        {"identifier": "username", "password": true, "verificationCode": false, "isPasswordPrimary": true},
        {"identifier": "phone", "password": false, "verificationCode": true, "isPasswordPrimary": false}]}});
    let cases = [
        (json!({}), "", "SignIn", "email", ERIN_EMAIL, ERIN_EMAIL),
        (
            json!({}),
            "&identifier=email",
            "SignIn",
            "email",
            ERIN_EMAIL,
            ERIN_EMAIL,
        ),
        (
            phone_codes,
            "",
            "SignIn",
            "phone",
            "+1 555 010 2233",
            ERIN_PHONE,
        ),
        (
            json!({}),
            "",
            "ForgotPassword",
            "email",
            ERIN_EMAIL,
            ERIN_EMAIL,
        ),
        (
            json!({"forgotPasswordMethods": ["PhoneVerificationCode"]}),
            "",
            "ForgotPassword",
            "phone",
            "+15550102233",
            ERIN_PHONE,
        ),
        (
            json!({"signUp": {"identifiers": ["email"], "password": true, "verify": true}}),
            "",
            "Register",
            "email",
            "new@example.com",
            "new@example.com",
        ),
        (
            json!({"signUp": {"identifiers": ["phone"], "password": false, "verify": true}}),
            "",
            "Register",
            "phone",
            "+15550109999",
            "15550109999",
        ),
    ];
    for (settings, extra, event, kind, value, to) in cases {
        let h = Harness::new();
        let id = setup(&h);
        if settings != json!({}) {
            patch(&h, settings);
        }
        let jar = begin(&h, &id, extra, event);
        let r = send_code(&h, &jar, event, kind, value);
        assert_eq!(r.status, 200, "{event} {kind}{extra}: {}", r.text());
        assert!(r.json()["verificationId"].is_string(), "{event} {kind}");
        assert_eq!(mailbox(&h, to), 1, "{event} {kind}: the code was sent");
    }
}

#[test]
fn an_email_code_is_refused_by_the_api_when_email_codes_are_disabled() {
    let h = Harness::new();
    let id = setup(&h);
    patch(&h, no_codes());
    let jar = begin(&h, &id, "", "SignIn");
    let r = send_code(&h, &jar, "SignIn", "email", ERIN_EMAIL);
    assert_refused(&r, "user.sign_in_method_not_enabled");
    assert_eq!(mailbox(&h, ERIN_EMAIL), 0, "no code was sent");
}

#[test]
fn a_phone_code_is_refused_by_the_api_when_phone_codes_are_not_enabled() {
    let h = Harness::new();
    let id = setup(&h);
    // The defaults have no phone sign-in method at all.
    let jar = begin(&h, &id, "", "SignIn");
    let r = send_code(&h, &jar, "SignIn", "phone", "+1 555 010 2233");
    assert_refused(&r, "user.sign_in_method_not_enabled");
    // A phone method by password only takes no codes either.
    patch(
        &h,
        json!({"signIn": {"methods": [
        {"identifier": "username", "password": true, "verificationCode": false, "isPasswordPrimary": true},
        {"identifier": "phone", "password": true, "verificationCode": false, "isPasswordPrimary": true}]}}),
    );
    let jar = begin(&h, &id, "", "SignIn");
    let r = send_code(&h, &jar, "SignIn", "phone", "+1 555 010 2233");
    assert_refused(&r, "user.sign_in_method_not_enabled");
    assert_eq!(mailbox(&h, ERIN_PHONE), 0, "no code was sent");
}

#[test]
fn the_identifier_parameter_stops_the_api_sending_an_email_code() {
    let h = Harness::new();
    let id = setup(&h);
    // Email codes are enabled by the default settings; the request allows usernames only.
    let jar = begin(&h, &id, "&identifier=username", "SignIn");
    let r = send_code(&h, &jar, "SignIn", "email", ERIN_EMAIL);
    assert_refused(&r, "user.sign_in_method_not_enabled");
    assert_eq!(mailbox(&h, ERIN_EMAIL), 0, "no code was sent");
}

#[test]
fn a_forgot_password_email_code_is_refused_when_only_phone_resets_are_enabled() {
    let h = Harness::new();
    let id = setup(&h);
    patch(
        &h,
        json!({"forgotPasswordMethods": ["PhoneVerificationCode"]}),
    );
    let jar = begin(&h, &id, "", "ForgotPassword");
    let r = send_code(&h, &jar, "ForgotPassword", "email", ERIN_EMAIL);
    assert_refused(&r, "session.forgot_password_not_enabled");
    assert_eq!(mailbox(&h, ERIN_EMAIL), 0, "no code was sent");
    assert_password_unchanged(&h, &id);
}

#[test]
fn a_forgot_password_phone_code_is_refused_under_the_default_settings() {
    let h = Harness::new();
    let id = setup(&h);
    // The defaults reset by email code only.
    let jar = begin(&h, &id, "", "ForgotPassword");
    let r = send_code(&h, &jar, "ForgotPassword", "phone", "+15550102233");
    assert_refused(&r, "session.forgot_password_not_enabled");
    assert_eq!(mailbox(&h, ERIN_PHONE), 0, "no code was sent");
    assert_password_unchanged(&h, &id);
}

#[test]
fn a_registration_code_is_refused_when_sign_up_takes_a_username() {
    let h = Harness::new();
    let id = setup(&h);
    // The defaults sign up with a username and a password.
    let jar = begin(&h, &id, "", "Register");
    let r = send_code(&h, &jar, "Register", "email", "mallory@example.com");
    assert_refused(&r, "user.sign_up_method_not_enabled");
    let r = send_code(&h, &jar, "Register", "phone", "+15550109999");
    assert_refused(&r, "user.sign_up_method_not_enabled");
    assert_eq!(mailbox(&h, "mallory@example.com"), 0, "no code was sent");
    assert_eq!(mailbox(&h, "15550109999"), 0, "no code was sent");
    assert_eq!(users_matching(&h, "mallory%40example.com"), 0);
    assert_eq!(users_matching(&h, "15550109999"), 0);
}

#[test]
fn a_code_verified_before_email_codes_were_disabled_no_longer_signs_in() {
    let h = Harness::new();
    let id = setup(&h);
    let verified = |jar: &Jar| {
        let r = send_code(&h, jar, "SignIn", "email", ERIN_EMAIL);
        assert_eq!(r.status, 200, "{}", r.text());
        let vid = r.json()["verificationId"].as_str().unwrap().to_owned();
        let body = json!({"identifier": {"type": "email", "value": ERIN_EMAIL}, "verificationId": vid, "code": mailbox_code(&h, ERIN_EMAIL)});
        let r = exp(
            &h,
            jar,
            "POST",
            "/verification/verification-code/verify",
            Some(body),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        vid
    };
    // Control: while email codes are enabled, the verified code signs Erin in.
    let jar = begin(&h, &id, "", "SignIn");
    let vid = verified(&jar);
    let r = exp(
        &h,
        &jar,
        "POST",
        "/identification",
        Some(json!({"verificationId": vid})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(exp(&h, &jar, "POST", "/submit", None).status, 200);

    let jar = begin(&h, &id, "", "SignIn");
    let vid = verified(&jar);
    patch(&h, no_codes());
    let r = exp(
        &h,
        &jar,
        "POST",
        "/identification",
        Some(json!({"verificationId": vid})),
    );
    assert_refused(&r, "user.sign_in_method_not_enabled");
    let submit = exp(&h, &jar, "POST", "/submit", None);
    assert_ne!(submit.status, 200, "{}", submit.text());
    assert!(submit.json()["redirectTo"].is_null());
}

#[test]
fn a_password_sign_in_by_email_is_refused_when_the_email_method_takes_no_password() {
    let h = Harness::new();
    let id = setup(&h);
    patch(
        &h,
        json!({"signIn": {"methods": [
        {"identifier": "username", "password": true, "verificationCode": false, "isPasswordPrimary": true},
        {"identifier": "email", "password": false, "verificationCode": true, "isPasswordPrimary": false}]}}),
    );
    let jar = begin(&h, &id, "", "SignIn");
    let by_email =
        json!({"identifier": {"type": "email", "value": ERIN_EMAIL}, "password": PASSWORD});
    let r = exp(&h, &jar, "POST", "/verification/password", Some(by_email));
    assert_refused(&r, "user.sign_in_method_not_enabled");
    let by_username =
        json!({"identifier": {"type": "username", "value": "erin"}, "password": PASSWORD});
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/password",
        Some(by_username),
    );
    assert_eq!(
        r.status,
        200,
        "the username method still takes it: {}",
        r.text()
    );
}

#[test]
fn a_forged_code_sign_in_on_the_page_is_refused_when_email_codes_are_disabled() {
    let h = Harness::new();
    let id = setup(&h);
    patch(&h, no_codes());
    let jar = Jar::default();
    let sign_in = h.follow(&jar, &auth(&id, ""));
    assert_eq!(sign_in.status, 200, "{}", sign_in.text());
    assert!(!sign_in.text().contains("href=\"/sign-in/code\""));
    // The code page itself is closed; the form is forged with this browser's CSRF token.
    let csrf = csrf_of(&sign_in.text());
    let form = [("_csrf", csrf.as_str()), ("email", ERIN_EMAIL)];
    let r = h.browse(&jar, "POST", "/sign-in/code", Some(&form));
    assert_page_refusal(&r);
    assert_eq!(mailbox(&h, ERIN_EMAIL), 0, "no code was sent");
}

#[test]
fn a_forged_reset_password_post_is_refused_when_forgot_password_is_disabled() {
    let h = Harness::new();
    let id = setup(&h);
    patch(&h, json!({"forgotPasswordMethods": []}));
    let jar = Jar::default();
    let sign_in = h.follow(&jar, &auth(&id, ""));
    assert_eq!(sign_in.status, 200, "{}", sign_in.text());
    assert!(!sign_in.text().contains("href=\"/reset-password\""));
    let csrf = csrf_of(&sign_in.text());
    let form = [("_csrf", csrf.as_str()), ("email", ERIN_EMAIL)];
    let r = h.browse(&jar, "POST", "/reset-password", Some(&form));
    assert_page_refusal(&r);
    assert_eq!(mailbox(&h, ERIN_EMAIL), 0, "no code was sent");
    assert_password_unchanged(&h, &id);
}
