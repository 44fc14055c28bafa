//! The sign-in experience through the router: settings, the Experience API, the hosted
//! sign-in and registration pages, localization and the audit log.
mod common;

use common::*;
use serde_json::json;

const CB: &str = "https://rp.example/cb";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn app(h: &Harness) -> String {
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

/// An Experience API call with the browser's cookies.
fn users_named(h: &Harness, name: &str) -> i64 {
    h.api("GET", &format!("/api/users?search={name}"), None)
        .header("total-number")
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn register_and_sign_in_through_the_experience_api() {
    let h = Harness::new();
    let id = app(&h);
    let jar = Jar::default();
    h.follow(&jar, &auth(&id, ""));
    assert_eq!(
        exp(
            &h,
            &jar,
            "PUT",
            "",
            Some(json!({"interactionEvent": "Register"}))
        )
        .status,
        204
    );
    let early = exp(&h, &jar, "POST", "/identification", Some(json!({})));
    assert_eq!(early.status, 422);
    assert_eq!(early.json()["code"], "user.missing_profile");
    assert_eq!(
        exp(
            &h,
            &jar,
            "POST",
            "/profile",
            Some(json!({"type": "username", "value": "carol"}))
        )
        .status,
        204
    );
    let weak = exp(
        &h,
        &jar,
        "POST",
        "/profile",
        Some(json!({"type": "password", "value": "carol123"})),
    );
    assert_eq!(weak.status, 422);
    assert_eq!(weak.json()["code"], "password.rejected");
    assert_eq!(
        exp(
            &h,
            &jar,
            "POST",
            "/profile",
            Some(json!({"type": "password", "value": "violet skies over oak"}))
        )
        .status,
        204
    );
    let state = exp(&h, &jar, "GET", "/interaction", None).json();
    assert_eq!(state["interactionEvent"], "Register");
    assert_eq!(state["profile"]["username"], "carol");
    assert_eq!(state["profile"]["hasPassword"], true);
    assert_eq!(exp(&h, &jar, "POST", "/identification", None).status, 201);
    let submit = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(submit.status, 200, "{}", submit.text());
    let to = submit.json()["redirectTo"].as_str().unwrap().to_owned();
    assert_eq!(to, format!("{ORIGIN}/oidc/auth/resume"));
    let done = h.follow(&jar, &to);
    assert!(location_params(&done).contains_key("code"));
    assert_eq!(users_named(&h, "carol"), 1);

    // Sign in again in a fresh browser, with the password.
    let jar = Jar::default();
    h.follow(&jar, &auth(&id, ""));
    exp(
        &h,
        &jar,
        "PUT",
        "",
        Some(json!({"interactionEvent": "SignIn"})),
    );
    let wrong = exp(
        &h,
        &jar,
        "POST",
        "/verification/password",
        Some(
            json!({"identifier": {"type": "username", "value": "carol"}, "password": "nope nope"}),
        ),
    );
    assert_eq!(wrong.status, 422);
    assert_eq!(wrong.json()["code"], "session.invalid_credentials");
    let v = exp(
        &h,
        &jar,
        "POST",
        "/verification/password",
        Some(
            json!({"identifier": {"type": "username", "value": "carol"}, "password": "violet skies over oak"}),
        ),
    );
    assert_eq!(v.status, 200);
    let vid = v.json()["verificationId"].as_str().unwrap().to_owned();
    assert_eq!(
        exp(&h, &jar, "POST", "/submit", None).json()["code"],
        "session.identifier_not_found"
    );
    assert_eq!(
        exp(
            &h,
            &jar,
            "POST",
            "/identification",
            Some(json!({"verificationId": vid}))
        )
        .status,
        204
    );
    let to = exp(&h, &jar, "POST", "/submit", None).json()["redirectTo"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(location_params(&h.follow(&jar, &to)).contains_key("code"));

    let logs = h.api("GET", "/api/logs?logKey=Interaction.Register.Submit", None);
    assert_eq!(logs.header("total-number"), Some("1"));
    let failures = h
        .api(
            "GET",
            "/api/logs?logKey=Interaction.SignIn.Verification.Password",
            None,
        )
        .json();
    let results: Vec<&str> = failures
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["payload"]["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, vec!["Success", "Error"]);
}

#[test]
fn a_stale_or_foreign_interaction_is_refused() {
    let h = Harness::new();
    let r = exp(
        &h,
        &Jar::default(),
        "PUT",
        "",
        Some(json!({"interactionEvent": "SignIn"})),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "session.not_found");
    let jar = Jar::default();
    jar.0
        .borrow_mut()
        .insert("__Host-gh_interaction".into(), "someone-elses-id".into());
    assert_eq!(
        exp(
            &h,
            &jar,
            "PUT",
            "",
            Some(json!({"interactionEvent": "SignIn"}))
        )
        .json()["code"],
        "session.not_found"
    );
    let id = app(&h);
    let jar = Jar::default();
    h.follow(&jar, &auth(&id, ""));
    h.advance_secs(3601);
    assert_eq!(
        exp(
            &h,
            &jar,
            "PUT",
            "",
            Some(json!({"interactionEvent": "SignIn"}))
        )
        .json()["code"],
        "session.not_found"
    );
}

#[test]
fn disabling_registration_refuses_it_by_every_route() {
    let h = Harness::new();
    let id = app(&h);
    let r = h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"signInMode": "SignIn"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["signInMode"], "SignIn");
    let jar = Jar::default();
    h.follow(&jar, &auth(&id, ""));
    let api = exp(
        &h,
        &jar,
        "PUT",
        "",
        Some(json!({"interactionEvent": "Register"})),
    );
    assert_eq!(api.status, 403);
    assert_eq!(api.json()["code"], "user.registration_not_allowed");
    let page = h.browse(&jar, "GET", "/register", None);
    assert_eq!(page.status, 403);
    let csrf = csrf_of(&page.text());
    let post = h.browse(
        &jar,
        "POST",
        "/register",
        Some(&[
            ("_csrf", &csrf),
            ("username", "mallory"),
            ("password", "violet skies over oak"),
        ]),
    );
    assert_eq!(post.status, 403);
    assert!(post
        .text()
        .contains("Creating accounts is not possible here."));
    assert!(
        !page.text().contains("href=\"/register\""),
        "no link to registration"
    );
    assert_eq!(users_named(&h, "mallory"), 0);
}

#[test]
fn the_registration_page_with_terms_in_german() {
    let h = Harness::new();
    let id = app(&h);
    h.api("PATCH", "/api/sign-in-exp", Some(json!({"termsOfUseUrl": "https://example.com/terms", "agreeToTermsPolicy": "ManualRegistrationOnly"})));
    let jar = Jar::default();
    let page = h.follow(&jar, &auth(&id, "&first_screen=register&ui_locales=de"));
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("<html lang=\"de\">"));
    assert!(html.contains("Konto erstellen"));
    assert!(html.contains("Nutzungsbedingungen"));
    let csrf = csrf_of(&html);
    let no_terms = h.browse(
        &jar,
        "POST",
        "/register",
        Some(&[
            ("_csrf", &csrf),
            ("username", "dave"),
            ("password", "violet skies over oak"),
        ]),
    );
    assert_eq!(no_terms.status, 422);
    assert!(no_terms
        .text()
        .contains("Bitte akzeptiere die Bedingungen, um fortzufahren."));
    assert_eq!(users_named(&h, "dave"), 0, "no user without agreement");
    let weak = h.browse(
        &jar,
        "POST",
        "/register",
        Some(&[
            ("_csrf", &csrf),
            ("username", "dave"),
            ("password", "dave1234"),
            ("agree", "yes"),
        ]),
    );
    assert!(
        weak.text().contains("Wähle ein sichereres Passwort"),
        "{}",
        weak.text()
    );
    let ok = h.browse(
        &jar,
        "POST",
        "/register",
        Some(&[
            ("_csrf", &csrf),
            ("username", "dave"),
            ("password", "violet skies over oak"),
            ("agree", "yes"),
        ]),
    );
    assert_eq!(ok.status, 303, "{}", ok.text());
    let done = h.follow(&jar, ok.header("location").unwrap());
    assert!(location_params(&done).contains_key("code"));
    assert_eq!(users_named(&h, "dave"), 1);
    // Signing in does not ask for the terms under ManualRegistrationOnly.
    let jar = Jar::default();
    let page = h.follow(&jar, &auth(&id, ""));
    assert!(!page.text().contains("name=\"agree\""));
}

#[test]
fn sign_in_experience_settings_are_validated() {
    let h = Harness::new();
    let defaults = h.api("GET", "/api/sign-in-exp", None).json();
    assert_eq!(defaults["signUp"]["identifiers"], json!(["username"]));
    for bad in [
        json!({"signInMode": "Sometimes"}),
        json!({"colour": "red"}),
        json!({"passwordPolicy": {"length": {"min": 0}}}),
        json!({"signUp": {"identifiers": ["username"], "password": false, "verify": false}}),
        json!({"customCss": "</style>"}),
        json!({"termsOfUseUrl": "javascript:alert(1)"}),
        json!([1]),
    ] {
        let r = h.api("PATCH", "/api/sign-in-exp", Some(bad.clone()));
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert_eq!(r.json()["code"], "guard.invalid_input");
    }
    assert_eq!(
        h.api("GET", "/api/sign-in-exp", None).json(),
        defaults,
        "nothing was changed"
    );
    let r = h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"passwordPolicy": {"length": {"min": 12}}})),
    );
    assert_eq!(
        r.json()["passwordPolicy"]["length"],
        json!({"min": 12, "max": 256})
    );
}

#[test]
fn branding_reaches_the_pages() {
    let h = Harness::new();
    let id = app(&h);
    let r = h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"color": {"primaryColor": "#0A7D4F", "isDarkModeEnabled": false, "darkPrimaryColor": "#55DDAA"},
                    "branding": {"name": "Acme ID", "logoUrl": "https://cdn.example.com/logo.svg"}, "customCss": "main { border: 1px solid red; }"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let page = h.follow(&Jar::default(), &auth(&id, "")).text();
    assert!(page.contains("--accent: #0A7D4F"));
    assert!(!page.contains("#55DDAA"), "dark mode is off");
    assert!(page.contains("src=\"https://cdn.example.com/logo.svg\""));
    assert!(page.contains("<title>Sign in · Acme ID</title>"));
    assert!(page.contains("main { border: 1px solid red; }"));
}

#[test]
fn a_username_required_since_the_last_sign_in_is_asked_for() {
    let h = Harness::new();
    let id = app(&h);
    h.api(
        "POST",
        "/api/users",
        Some(json!({"primaryEmail": "hana@example.com", "password": "violet skies over oak"})),
    );
    h.api(
        "POST",
        "/api/users",
        Some(json!({"username": "taken_name"})),
    );
    let jar = Jar::default();
    h.follow(&jar, &auth(&id, ""));
    let r = h.sign_in(&jar, "hana@example.com", "violet skies over oak");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r
        .text()
        .contains("Your account needs a username to continue."));
    let csrf = csrf_of(&r.text());
    let taken = h.browse(
        &jar,
        "POST",
        "/profile/missing",
        Some(&[("_csrf", &csrf), ("username", "taken_name")]),
    );
    assert!(taken.text().contains("This username is already in use."));
    let ok = h.browse(
        &jar,
        "POST",
        "/profile/missing",
        Some(&[("_csrf", &csrf), ("username", "hana")]),
    );
    assert_eq!(ok.status, 303, "{}", ok.text());
    assert!(location_params(&h.follow(&jar, ok.header("location").unwrap())).contains_key("code"));
    let users = h.api("GET", "/api/users?search=hana%40", None).json();
    assert_eq!(users[0]["username"], "hana");
}

#[test]
fn the_identifier_parameter_restricts_what_the_sign_in_accepts() {
    let h = Harness::new();
    let id = app(&h);
    h.api("POST", "/api/users", Some(json!({"username": "ivan", "primaryEmail": "ivan@example.com", "password": "violet skies over oak"})));
    let jar = Jar::default();
    h.follow(&jar, &auth(&id, "&identifier=email"));
    let by_username = h.sign_in(&jar, "ivan", "violet skies over oak");
    assert_eq!(by_username.status, 422);
    assert!(by_username
        .text()
        .contains("This way of signing in is not available here."));
    let by_email = h.sign_in(&jar, "ivan@example.com", "violet skies over oak");
    assert!(location_params(&by_email).contains_key("code"));
    let bad = h.follow(&Jar::default(), &auth(&id, "&identifier=fingerprint"));
    assert_eq!(location_params(&bad)["error"], "invalid_request");
}
