//! Email codes as the second factor through the Experience API: Logto's rule that a code
//! cannot be both a way in and the second factor, a code to the user's own address only, a
//! wrong code refused and counted, and the `amr` of the session. Through the real router
//! over SQLite, with the development mailbox.
mod common;

use common::*;
use serde_json::{json, Value};

const CB: &str = "https://rp.example/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const PASSWORD: &str = "violet skies over oak";

fn err(r: &Reply) -> (u16, String) {
    (
        r.status,
        r.json()["code"].as_str().unwrap_or_default().to_owned(),
    )
}

fn app(h: &Harness) -> String {
    let r = h.api(
        "POST",
        "/api/applications",
        Some(json!({"name": "Shop", "type": "SPA", "oidcClientMetadata": {"redirectUris": [CB]}})),
    );
    r.json()["id"].as_str().unwrap().to_owned()
}

fn identified(h: &Harness, client: &str, username: &str) -> Jar {
    let jar = Jar::default();
    let cb: String = form_urlencoded::byte_serialize(CB.as_bytes()).collect();
    h.follow(&jar, &format!("/oidc/auth?client_id={client}&redirect_uri={cb}&response_type=code&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256"));
    assert_eq!(
        exp(
            h,
            &jar,
            "PUT",
            "",
            Some(json!({"interactionEvent": "SignIn"}))
        )
        .status,
        204
    );
    let r = exp(
        h,
        &jar,
        "POST",
        "/verification/password",
        Some(json!({"identifier": {"type": "username", "value": username}, "password": PASSWORD})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = exp(
        h,
        &jar,
        "POST",
        "/identification",
        Some(json!({"verificationId": r.json()["verificationId"]})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    jar
}

#[test]
fn an_email_code_cannot_be_the_second_factor_while_it_also_signs_in() {
    let h = Harness::new();
    let r = h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"mfa": {"factors": ["EmailVerificationCode"], "policy": "Mandatory"}})),
    );
    assert_eq!(
        err(&r),
        (
            400,
            "sign_in_experiences.email_verification_code_cannot_be_used_for_mfa".into()
        ),
        "{}",
        r.text()
    );
}

#[test]
fn a_user_with_an_email_verifies_a_code_sent_there_as_the_second_factor() {
    let h = Harness::new();
    let r = h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({
            "signIn": {"methods": [
                {"identifier": "username", "password": true, "verificationCode": false, "isPasswordPrimary": true},
                {"identifier": "email", "password": true, "verificationCode": false, "isPasswordPrimary": true}
            ]},
            "mfa": {"factors": ["EmailVerificationCode", "PhoneVerificationCode"], "policy": "PromptAtSignInAndSignUp"}
        })),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = h.api(
        "POST",
        "/api/users",
        Some(json!({"username": "gwen", "password": PASSWORD, "primaryEmail": "gwen@example.com"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let client = app(&h);

    let jar = identified(&h, &client, "gwen");
    let r = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(
        err(&r),
        (403, "session.mfa.require_mfa_verification".into())
    );
    assert_eq!(
        r.json()["data"]["availableFactors"],
        json!(["EmailVerificationCode"])
    );
    // Where the code would go, masked (Logto's `maskedIdentifiers`).
    assert_eq!(
        r.json()["data"]["maskedIdentifiers"],
        json!({"EmailVerificationCode": "g***@example.com"})
    );
    // No phone on the account: nothing to send to, and nothing sent.
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/mfa-verification-code",
        Some(json!({"identifierType": "phone"})),
    );
    assert_eq!(err(&r), (400, "guard.invalid_input".into()), "{}", r.text());

    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/mfa-verification-code",
        Some(json!({"identifierType": "email"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let vid = r.json()["verificationId"].clone();
    let code = mailbox_code(&h, "gwen@example.com");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let verify = |code: &str| {
        exp(
            &h,
            &jar,
            "POST",
            "/verification/mfa-verification-code/verify",
            Some(json!({"verificationId": vid, "code": code, "identifierType": "email"})),
        )
    };
    assert_eq!(
        err(&verify(wrong)),
        (400, "verification_code.code_mismatch".into())
    );
    // The sign-in code route does not check a second factor's code (it would skip the
    // factor's lockout).
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/verification-code/verify",
        Some(
            json!({"identifier": {"type": "email", "value": "gwen@example.com"}, "verificationId": vid, "code": code}),
        ),
    );
    assert_eq!(
        err(&r),
        (404, "session.verification_session_not_found".into()),
        "{}",
        r.text()
    );
    let r = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(r.status, 403, "a wrong code verifies nothing");
    let r = verify(&code);
    assert_eq!(r.status, 200, "{}", r.text());
    // Good once.
    assert_ne!(verify(&code).status, 200);
    let claims = claims_after_submit(&h, &jar, (&client, CB, VERIFIER));
    let amr: Vec<&str> = claims["amr"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        amr.contains(&"pwd") && amr.contains(&"otp") && amr.contains(&"mfa"),
        "{amr:?}"
    );
}

#[test]
fn the_hosted_pages_send_a_code_to_the_users_email_and_take_it_as_the_second_factor() {
    let h = Harness::new();
    let r = h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({
            "signIn": {"methods": [
                {"identifier": "username", "password": true, "verificationCode": false, "isPasswordPrimary": true}
            ]},
            "mfa": {"factors": ["EmailVerificationCode"], "policy": "PromptAtSignInAndSignUp"}
        })),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    h.api(
        "POST",
        "/api/users",
        Some(json!({"username": "hal", "password": PASSWORD, "primaryEmail": "hal@example.com"})),
    );
    let client = app(&h);
    let jar = Jar::default();
    let cb: String = form_urlencoded::byte_serialize(CB.as_bytes()).collect();
    h.follow(&jar, &format!("/oidc/auth?client_id={client}&redirect_uri={cb}&response_type=code&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256"));
    let r = h.sign_in(&jar, "hal", PASSWORD);
    assert!(
        r.text().contains(r#"action="/mfa/email/send""#),
        "{}",
        r.text()
    );
    let r = h.browse(
        &jar,
        "POST",
        "/mfa/email/send",
        Some(&[("_csrf", &csrf_of(&r.text()))]),
    );
    assert_eq!(r.header("location"), Some("/mfa/code"));
    let r = h.follow(&jar, "/mfa/code");
    // Only a password is proven so far: the address is shown masked.
    assert!(r.text().contains("h***@example.com"), "{}", r.text());
    assert!(!r.text().contains("hal@example.com"), "{}", r.text());
    let csrf = csrf_of(&r.text());
    let code = mailbox_code(&h, "hal@example.com");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = h.browse(
        &jar,
        "POST",
        "/mfa/code",
        Some(&[("_csrf", &csrf), ("code", wrong)]),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("id=\"form-error\""), "{}", r.text());
    let r = h.browse(
        &jar,
        "POST",
        "/mfa/code",
        Some(&[("_csrf", &csrf_of(&r.text())), ("code", &code)]),
    );
    let r = match r.header("location") {
        Some(l) if r.status == 303 && (l.starts_with('/') || l.starts_with(ORIGIN)) => {
            h.follow(&jar, l)
        }
        _ => r,
    };
    assert!(
        location_params(&r).contains_key("code"),
        "{:?} {}",
        r.header("location"),
        r.text()
    );
}

/// A registration by email code under a policy that wants email codes as the factor.
fn register_by_email(h: &Harness, client: &str, email: &str) -> Jar {
    let jar = Jar::default();
    let cb: String = form_urlencoded::byte_serialize(CB.as_bytes()).collect();
    h.follow(&jar, &format!("/oidc/auth?client_id={client}&redirect_uri={cb}&response_type=code&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256"));
    let r = exp(
        h,
        &jar,
        "PUT",
        "",
        Some(json!({"interactionEvent": "Register"})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let identifier = json!({"type": "email", "value": email});
    let r = exp(
        h,
        &jar,
        "POST",
        "/verification/verification-code",
        Some(json!({"identifier": identifier, "interactionEvent": "Register"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let vid = r.json()["verificationId"].clone();
    let code = mailbox_code(h, email);
    let r = exp(
        h,
        &jar,
        "POST",
        "/verification/verification-code/verify",
        Some(json!({"identifier": identifier, "verificationId": vid, "code": code})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = exp(
        h,
        &jar,
        "POST",
        "/identification",
        Some(json!({"verificationId": vid})),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    jar
}

fn email_sign_up(h: &Harness, factors: Value) {
    let r = h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({
            "signUp": {"identifiers": ["email"], "password": false, "verify": true},
            "signIn": {"methods": [
                {"identifier": "email", "password": true, "verificationCode": false, "isPasswordPrimary": true}
            ]},
            "mfa": {"factors": factors, "policy": "Mandatory"}
        })),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn a_registrant_by_email_has_the_email_factor_already_under_a_mandatory_email_code_policy() {
    let h = Harness::new();
    email_sign_up(&h, json!(["EmailVerificationCode"]));
    let client = app(&h);
    let jar = register_by_email(&h, &client, "hana@example.com");
    // The address the registration proved is the factor: no dead end asking for one.
    let claims = claims_after_submit(&h, &jar, (&client, CB, VERIFIER));
    assert!(claims["sub"].is_string(), "{claims}");
}

#[test]
fn a_registrant_whose_only_factor_is_a_way_in_is_offered_another_and_may_decline_it() {
    let h = Harness::new();
    email_sign_up(&h, json!(["Totp", "EmailVerificationCode"]));
    let client = app(&h);
    let jar = register_by_email(&h, &client, "ines@example.com");
    let r = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(
        err(&r),
        (422, "session.mfa.suggest_additional_mfa".into()),
        "{}",
        r.text()
    );
    let data = &r.json()["data"];
    assert_eq!(
        data["availableFactors"],
        json!(["Totp"]),
        "what would end the suggestion: the email signs in too, so not that"
    );
    assert_eq!(data["skippable"], true);
    assert_eq!(data["suggestion"], true);
    assert_eq!(data["isWebAuthnUsedAsSignInPasskey"], false);
    // Declining is for this interaction; the session starts.
    let r = exp(
        &h,
        &jar,
        "POST",
        "/profile/mfa/mfa-suggestion-skipped",
        None,
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let claims = claims_after_submit(&h, &jar, (&client, CB, VERIFIER));
    assert!(claims["sub"].is_string(), "{claims}");
}

/// Sends a code to `email` in this sign-in and verifies it; returns the verification.
fn prove_email(h: &Harness, jar: &Jar, email: &str) -> Value {
    let identifier = json!({"type": "email", "value": email});
    let r = exp(
        h,
        jar,
        "POST",
        "/verification/verification-code",
        Some(json!({"identifier": identifier, "interactionEvent": "SignIn"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let vid = r.json()["verificationId"].clone();
    let code = mailbox_code(h, email);
    let r = exp(
        h,
        jar,
        "POST",
        "/verification/verification-code/verify",
        Some(json!({"identifier": identifier, "verificationId": vid, "code": code})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    vid
}

#[test]
fn a_user_without_an_email_binds_one_as_the_second_factor_and_is_asked_for_its_code_next_time() {
    let h = Harness::new();
    let r = h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({
            "signIn": {"methods": [
                {"identifier": "username", "password": true, "verificationCode": false, "isPasswordPrimary": true}
            ]},
            "mfa": {"factors": ["EmailVerificationCode"], "policy": "Mandatory"}
        })),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    for (name, email) in [("ada", None), ("bob", Some("bob@example.com"))] {
        let mut body = json!({"username": name, "password": PASSWORD});
        if let Some(e) = email {
            body["primaryEmail"] = json!(e);
        }
        assert_eq!(h.api("POST", "/api/users", Some(body)).status, 200);
    }
    let client = app(&h);
    let jar = identified(&h, &client, "ada");
    let r = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(err(&r), (422, "user.missing_mfa".into()), "{}", r.text());
    assert_eq!(
        r.json()["data"]["availableFactors"],
        json!(["EmailVerificationCode"])
    );

    // The attacker's tries: an address someone else has, a code bound as the wrong factor,
    // a code not verified.
    let bobs = prove_email(&h, &jar, "bob@example.com");
    let bind = |kind: &str, vid: &Value| {
        exp(
            &h,
            &jar,
            "POST",
            "/profile/mfa",
            Some(json!({"type": kind, "verificationId": vid})),
        )
    };
    assert_eq!(
        err(&bind("EmailVerificationCode", &bobs)).1,
        "user.email_already_in_use"
    );
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/verification-code",
        Some(
            json!({"identifier": {"type": "email", "value": "x@example.com"}, "interactionEvent": "SignIn"}),
        ),
    );
    let unverified = r.json()["verificationId"].clone();
    assert_eq!(
        err(&bind("EmailVerificationCode", &unverified)),
        (400, "session.verification_failed".into())
    );
    let adas = prove_email(&h, &jar, "ada@example.com");
    assert_eq!(bind("PhoneVerificationCode", &adas).status, 400);

    // Her own address: bound with the session.
    assert_eq!(bind("EmailVerificationCode", &adas).status, 204);
    claims_after_submit(&h, &jar, (&client, CB, VERIFIER));
    let users = h.api("GET", "/api/users?search=ada", None).json();
    assert_eq!(users[0]["primaryEmail"], "ada@example.com");

    // Next time the code to that address is her second factor.
    let jar = identified(&h, &client, "ada");
    let r = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(
        err(&r),
        (403, "session.mfa.require_mfa_verification".into())
    );
    assert_eq!(
        r.json()["data"]["maskedIdentifiers"]["EmailVerificationCode"],
        "a***@example.com"
    );
}

#[test]
fn the_hosted_pages_let_a_user_without_an_email_bind_one_as_the_second_factor() {
    let h = Harness::new();
    let r = h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({
            "signIn": {"methods": [
                {"identifier": "username", "password": true, "verificationCode": false, "isPasswordPrimary": true}
            ]},
            "mfa": {"factors": ["EmailVerificationCode"], "policy": "Mandatory"}
        })),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    h.api(
        "POST",
        "/api/users",
        Some(json!({"username": "ivy", "password": PASSWORD})),
    );
    let client = app(&h);
    let jar = Jar::default();
    let cb: String = form_urlencoded::byte_serialize(CB.as_bytes()).collect();
    h.follow(&jar, &format!("/oidc/auth?client_id={client}&redirect_uri={cb}&response_type=code&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256"));
    let r = h.sign_in(&jar, "ivy", PASSWORD);
    assert!(
        r.text().contains(r#"action="/mfa/email/bind""#),
        "{}",
        r.text()
    );
    // Mandatory: no way around it.
    assert!(!r.text().contains("/mfa/skip"), "{}", r.text());
    let r = h.browse(
        &jar,
        "POST",
        "/mfa/email/bind",
        Some(&[("_csrf", &csrf_of(&r.text())), ("email", "ivy@example.com")]),
    );
    assert_eq!(r.header("location"), Some("/mfa/code"), "{}", r.text());
    let r = h.follow(&jar, "/mfa/code");
    assert!(r.text().contains("i***@example.com"), "{}", r.text());
    let code = mailbox_code(&h, "ivy@example.com");
    let r = h.browse(
        &jar,
        "POST",
        "/mfa/code",
        Some(&[("_csrf", &csrf_of(&r.text())), ("code", &code)]),
    );
    let to = r.header("location").unwrap_or_default().to_owned();
    let r = h.follow(&jar, &to);
    let back = r.header("location").unwrap_or_default();
    assert!(back.starts_with(CB) && back.contains("code="), "{back}");
    let users = h.api("GET", "/api/users?search=ivy", None).json();
    assert_eq!(users[0]["primaryEmail"], "ivy@example.com");
}
