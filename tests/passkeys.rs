//! Passkeys through the Experience API, with a software authenticator: bound and verified
//! as the second factor, and signing in without a password; the attacker's replays, other
//! origins and other users' passkeys. Through the real router over SQLite.
mod common;

use common::authenticator::{self as authn, Alg, Behaviour, Passkey};
use common::*;
use serde_json::{json, Value};

const CB: &str = "https://rp.example/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const PASSWORD: &str = "violet skies over oak";

fn setup(h: &Harness, settings: Value) -> String {
    let r = h.api("PATCH", "/api/sign-in-exp", Some(settings));
    assert_eq!(r.status, 200, "{}", r.text());
    for name in ["erin", "fred"] {
        let r = h.api(
            "POST",
            "/api/users",
            Some(json!({"username": name, "password": PASSWORD})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = h.api(
        "POST",
        "/api/applications",
        Some(json!({"name": "Shop", "type": "SPA", "oidcClientMetadata": {"redirectUris": [CB]}})),
    );
    r.json()["id"].as_str().unwrap().to_owned()
}

fn auth(client_id: &str) -> String {
    format!(
        "/oidc/auth?client_id={client_id}&redirect_uri={}&response_type=code&scope=openid&state=st&code_challenge={CHALLENGE}&code_challenge_method=S256",
        form_urlencoded::byte_serialize(CB.as_bytes()).collect::<String>()
    )
}

fn err(r: &Reply) -> (u16, String) {
    (
        r.status,
        r.json()["code"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A browser at the start of a sign-in.
fn signing_in(h: &Harness, client: &str) -> Jar {
    let jar = Jar::default();
    h.follow(&jar, &auth(client));
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

/// A browser that has identified `name` by password.
fn identified(h: &Harness, client: &str, name: &str) -> Jar {
    let jar = signing_in(h, client);
    let r = exp(
        h,
        &jar,
        "POST",
        "/verification/password",
        Some(json!({"identifier": {"type": "username", "value": name}, "password": PASSWORD})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    identify(h, &jar, &r.json()["verificationId"]);
    jar
}

fn identify(h: &Harness, jar: &Jar, vid: &Value) {
    let r = exp(
        h,
        jar,
        "POST",
        "/identification",
        Some(json!({"verificationId": vid})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
}

/// Registers a passkey for the identified user and binds it; returns it.
fn register(h: &Harness, jar: &Jar, alg: Alg) -> Passkey {
    let r = exp(h, jar, "POST", "/verification/web-authn/registration", None);
    assert_eq!(r.status, 200, "{}", r.text());
    let options = &r.json()["registrationOptions"];
    assert_eq!(options["rp"]["id"], "gatehouse.localhost");
    assert_eq!(
        options["authenticatorSelection"]["userVerification"],
        "required"
    );
    let (passkey, response) = authn::create(options, alg, &Behaviour::at(ORIGIN));
    let vid = r.json()["verificationId"].clone();
    let r = exp(
        h,
        jar,
        "POST",
        "/verification/web-authn/registration/verify",
        Some(json!({"verificationId": vid, "payload": response})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = exp(
        h,
        jar,
        "POST",
        "/profile/mfa",
        Some(json!({"type": "WebAuthn", "verificationId": vid})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    passkey
}

/// Submits and follows to the app; the ID token's claims.
fn submit_for_claims(h: &Harness, jar: &Jar, client: &str) -> Value {
    claims_after_submit(h, jar, (client, CB, VERIFIER))
}

fn amr(claims: &Value) -> Vec<String> {
    claims["amr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_passkey_bound_as_the_second_factor_is_asked_for_and_verified_at_the_next_sign_in() {
    let h = Harness::new();
    let client = setup(
        &h,
        json!({"mfa": {"factors": ["WebAuthn"], "policy": "Mandatory"}}),
    );
    let jar = identified(&h, &client, "erin");
    let r = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(err(&r), (422, "user.missing_mfa".into()), "{}", r.text());
    assert_eq!(r.json()["data"]["availableFactors"], json!(["WebAuthn"]));
    let mut passkey = register(&h, &jar, Alg::Es256);
    let claims = submit_for_claims(&h, &jar, &client);
    let erin = claims["sub"].as_str().unwrap().to_owned();

    let listed = h
        .api("GET", &format!("/api/users/{erin}/mfa-verifications"), None)
        .json();
    assert_eq!(listed[0]["type"], "WebAuthn", "{listed}");

    // The next sign-in: the password is not enough.
    let jar = identified(&h, &client, "erin");
    let r = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(
        err(&r),
        (403, "session.mfa.require_mfa_verification".into())
    );
    assert_eq!(r.json()["data"]["availableFactors"], json!(["WebAuthn"]));
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/web-authn/authentication",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let options = r.json()["authenticationOptions"].clone();
    assert_eq!(
        options["allowCredentials"][0]["id"],
        authn::b64(&passkey.id)
    );
    let vid = r.json()["verificationId"].clone();
    let response = authn::get(&options, &mut passkey, &Behaviour::at(ORIGIN));
    let verify = |body: Value| {
        exp(
            &h,
            &jar,
            "POST",
            "/verification/web-authn/authentication/verify",
            Some(body),
        )
    };
    let r = verify(json!({"verificationId": vid, "payload": response}));
    assert_eq!(r.status, 200, "{}", r.text());
    // The same assertion again: its challenge is gone.
    let r = verify(json!({"verificationId": vid, "payload": response}));
    assert_eq!(
        err(&r),
        (404, "session.verification_session_not_found".into())
    );
    let claims = submit_for_claims(&h, &jar, &client);
    let methods = amr(&claims);
    assert!(methods.contains(&"pwd".to_owned()), "{methods:?}");
    assert!(methods.contains(&"hwk".to_owned()), "{methods:?}");
    assert!(methods.contains(&"mfa".to_owned()), "{methods:?}");
}

#[test]
fn an_assertion_from_another_origin_or_with_a_gone_back_counter_is_refused() {
    let h = Harness::new();
    let client = setup(
        &h,
        json!({"mfa": {"factors": ["WebAuthn"], "policy": "Mandatory"}}),
    );
    let jar = identified(&h, &client, "erin");
    let mut passkey = register(&h, &jar, Alg::EdDsa);
    submit_for_claims(&h, &jar, &client);

    let jar = identified(&h, &client, "erin");
    let attempt = |passkey: &mut Passkey, b: &Behaviour| {
        let r = exp(
            &h,
            &jar,
            "POST",
            "/verification/web-authn/authentication",
            None,
        );
        let options = r.json()["authenticationOptions"].clone();
        let response = authn::get(&options, passkey, b);
        exp(
            &h,
            &jar,
            "POST",
            "/verification/web-authn/authentication/verify",
            Some(json!({"verificationId": r.json()["verificationId"], "payload": response})),
        )
    };
    let r = attempt(&mut passkey, &Behaviour::at("https://phish.example"));
    assert_eq!(
        err(&r),
        (400, "session.mfa.webauthn_verification_failed".into())
    );
    assert!(
        r.json()["data"]["message"]
            .as_str()
            .unwrap()
            .contains("https://phish.example"),
        "{}",
        r.text()
    );
    let r = attempt(&mut passkey, &Behaviour::at(ORIGIN));
    assert_eq!(r.status, 200, "{}", r.text());
    let mut clone = Behaviour::at(ORIGIN);
    clone.counter = Some(1);
    let r = attempt(&mut passkey, &clone);
    assert_eq!(
        err(&r),
        (400, "session.mfa.webauthn_verification_failed".into())
    );
    assert!(r.json()["data"]["message"]
        .as_str()
        .unwrap()
        .contains("counter"));
}

#[test]
fn a_passkey_signs_in_without_a_password_only_when_passkey_sign_in_is_on() {
    let h = Harness::new();
    let client = setup(&h, json!({"passkeySignIn": {"enabled": true}}));
    // Erin binds a passkey after a password sign-in.
    let jar = identified(&h, &client, "erin");
    let mut passkey = register(&h, &jar, Alg::Rs256);
    submit_for_claims(&h, &jar, &client);

    // No username, no password: the browser offers the passkey (a discoverable one).
    let jar = signing_in(&h, &client);
    let r = exp(
        &h,
        &jar,
        "POST",
        "/preflight/sign-in-passkey/authentication",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let options = r.json()["authenticationOptions"].clone();
    assert_eq!(options["allowCredentials"], json!([]));
    let response = authn::get(&options, &mut passkey, &Behaviour::at(ORIGIN));
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/sign-in-passkey/authentication/verify",
        Some(json!({"payload": response})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    identify(&h, &jar, &r.json()["verificationId"]);
    let claims = submit_for_claims(&h, &jar, &client);
    let methods = amr(&claims);
    assert!(!methods.contains(&"pwd".to_owned()), "{methods:?}");
    assert!(methods.contains(&"hwk".to_owned()), "{methods:?}");

    // Passkey sign-in turned off: refused before any challenge.
    let r = h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"passkeySignIn": {"enabled": false}})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let jar = signing_in(&h, &client);
    let r = exp(
        &h,
        &jar,
        "POST",
        "/preflight/sign-in-passkey/authentication",
        None,
    );
    assert_eq!(
        err(&r),
        (422, "user.sign_in_method_not_enabled".into()),
        "{}",
        r.text()
    );
}

#[test]
fn a_passkey_cannot_sign_in_as_another_user_nor_answer_another_interaction() {
    let h = Harness::new();
    let client = setup(&h, json!({"passkeySignIn": {"enabled": true}}));
    let jar = identified(&h, &client, "erin");
    let mut erins = register(&h, &jar, Alg::Es256);
    submit_for_claims(&h, &jar, &client);

    // A ceremony begun for Fred, answered with Erin's passkey.
    let jar = signing_in(&h, &client);
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/sign-in-passkey/authentication",
        Some(json!({"identifier": {"type": "username", "value": "fred"}})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Fred has no passkey: a made-up one, the same each time, so the answer tells nothing.
    let decoy = r.json()["authenticationOptions"]["allowCredentials"].clone();
    assert_eq!(decoy.as_array().map(Vec::len), Some(1), "{decoy}");
    let again = exp(
        &h,
        &jar,
        "POST",
        "/verification/sign-in-passkey/authentication",
        Some(json!({"identifier": {"type": "username", "value": "fred"}})),
    );
    assert_eq!(
        again.json()["authenticationOptions"]["allowCredentials"],
        decoy
    );
    let options = r.json()["authenticationOptions"].clone();
    let response = authn::get(&options, &mut erins, &Behaviour::at(ORIGIN));
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/sign-in-passkey/authentication/verify",
        Some(json!({"verificationId": r.json()["verificationId"], "payload": response})),
    );
    assert_eq!(
        err(&r),
        (409, "session.identity_conflict".into()),
        "{}",
        r.text()
    );

    // A challenge issued to one browser's interaction is no good in another's.
    let other = signing_in(&h, &client);
    let r = exp(
        &h,
        &other,
        "POST",
        "/preflight/sign-in-passkey/authentication",
        None,
    );
    let options = r.json()["authenticationOptions"].clone();
    let response = authn::get(&options, &mut erins, &Behaviour::at(ORIGIN));
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/sign-in-passkey/authentication/verify",
        Some(json!({"payload": response})),
    );
    assert_eq!(
        err(&r),
        (400, "session.passkey_sign_in.pending_info_not_found".into())
    );
}

#[test]
fn the_sign_in_page_offers_passkeys_with_the_one_script_its_csp_allows_and_only_when_on() {
    let h = Harness::new();
    let client = setup(&h, json!({}));
    let r = h.follow(&Jar::default(), &auth(&client));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains("<script"), "no passkey, no script");

    let on = json!({"passkeySignIn": {"enabled": true, "showPasskeyButton": true, "allowAutofill": true}});
    assert_eq!(h.api("PATCH", "/api/sign-in-exp", Some(on)).status, 200);
    let r = h.follow(&Jar::default(), &auth(&client));
    let page = r.text();
    assert!(
        page.contains(r#"autocomplete="username webauthn""#),
        "{page}"
    );
    assert!(page.contains(r#"id="passkey-button""#), "{page}");
    // The one script is the provider's own file; no inline script could run.
    assert!(
        page.contains(r#"<script src="/static/passkey.js"></script>"#),
        "{page}"
    );
    assert_eq!(page.matches("<script").count(), 1);
    let csp = r.header("content-security-policy").unwrap();
    let script_src = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"));
    assert_eq!(script_src, Some("script-src 'self'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
}

#[test]
fn a_passkey_bound_only_for_passkey_sign_in_does_not_fulfil_a_mandatory_authenticator_app() {
    let h = Harness::new();
    let client = setup(
        &h,
        json!({"mfa": {"factors": ["Totp"], "policy": "Mandatory"}, "passkeySignIn": {"enabled": true}}),
    );
    let jar = identified(&h, &client, "erin");
    register(&h, &jar, Alg::Es256);
    let r = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(err(&r), (422, "user.missing_mfa".into()), "{}", r.text());
    assert_eq!(r.json()["data"]["availableFactors"], json!(["Totp"]));
}

/// `exp` from the client address `ip`.
fn exp_from(h: &Harness, jar: &Jar, path: &str, body: Value, ip: &str) -> Reply {
    let cookies = jar.header();
    let r = h.send(request(
        "POST",
        &format!("/api/experience{path}"),
        &[
            ("cookie", &cookies),
            ("content-type", "application/json"),
            ("cf-connecting-ip", ip),
        ],
        body.to_string().into_bytes(),
    ));
    jar.store(&r);
    r
}

#[test]
fn forged_passkey_sign_ins_lock_that_passkey_from_the_senders_network_only_not_the_users_second_factor_and_ceremonies_are_capped(
) {
    let h = Harness::new();
    let client = setup(
        &h,
        json!({"mfa": {"factors": ["WebAuthn"], "policy": "Mandatory"}, "passkeySignIn": {"enabled": true}}),
    );
    let jar = identified(&h, &client, "erin");
    let mut passkey = register(&h, &jar, Alg::Es256);
    submit_for_claims(&h, &jar, &client);

    // An attacker who holds no key answers passkey sign-ins for Erin's credential (its id
    // is no secret), from one network.
    let attacker = signing_in(&h, &client);
    let phish = Behaviour::at("https://phish.example");
    let forge = |passkey: &mut Passkey, ip: &str| {
        let r = exp_from(
            &h,
            &attacker,
            "/preflight/sign-in-passkey/authentication",
            json!({}),
            ip,
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let response = authn::get(&r.json()["authenticationOptions"], passkey, &phish);
        exp_from(
            &h,
            &attacker,
            "/verification/sign-in-passkey/authentication/verify",
            json!({"payload": response}),
            ip,
        )
    };
    for _ in 0..100 {
        let r = forge(&mut passkey, "203.0.113.9");
        assert_eq!(
            err(&r),
            (400, "session.mfa.webauthn_verification_failed".into())
        );
    }
    assert_eq!(
        err(&forge(&mut passkey, "203.0.113.9")),
        (400, "session.verification_blocked_too_many_attempts".into())
    );

    // The attacker's network keeps its other passkeys: Fred, behind the same address, signs
    // in with his.
    let jar = identified(&h, &client, "fred");
    let mut freds = register(&h, &jar, Alg::Es256);
    submit_for_claims(&h, &jar, &client);
    let neighbour = signing_in(&h, &client);
    let r = exp_from(
        &h,
        &neighbour,
        "/preflight/sign-in-passkey/authentication",
        json!({}),
        "203.0.113.9",
    );
    let response = authn::get(
        &r.json()["authenticationOptions"],
        &mut freds,
        &Behaviour::at(ORIGIN),
    );
    let r = exp_from(
        &h,
        &neighbour,
        "/verification/sign-in-passkey/authentication/verify",
        json!({"payload": response}),
        "203.0.113.9",
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // Erin signs in with her passkey from her own network: neither the passkey nor her
    // second factor is locked.
    let mine = signing_in(&h, &client);
    let r = exp_from(
        &h,
        &mine,
        "/preflight/sign-in-passkey/authentication",
        json!({}),
        "198.51.100.20",
    );
    let response = authn::get(
        &r.json()["authenticationOptions"],
        &mut passkey,
        &Behaviour::at(ORIGIN),
    );
    let r = exp_from(
        &h,
        &mine,
        "/verification/sign-in-passkey/authentication/verify",
        json!({"payload": response}),
        "198.51.100.20",
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // And with her password, then her passkey as the second factor.
    let jar = identified(&h, &client, "erin");
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/web-authn/authentication",
        None,
    );
    let options = r.json()["authenticationOptions"].clone();
    let response = authn::get(&options, &mut passkey, &Behaviour::at(ORIGIN));
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/web-authn/authentication/verify",
        Some(json!({"verificationId": r.json()["verificationId"], "payload": response})),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // Ceremonies begun and never answered are capped per interaction.
    let idle = signing_in(&h, &client);
    let statuses: Vec<u16> = (0..21)
        .map(|_| {
            exp(
                &h,
                &idle,
                "POST",
                "/preflight/sign-in-passkey/authentication",
                None,
            )
            .status
        })
        .collect();
    assert!(statuses[..20].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(statuses[20], 429);
}

#[test]
fn the_interaction_shows_what_it_binds_mfa_can_be_turned_on_and_a_reset_has_no_mfa_steps() {
    let h = Harness::new();
    let client = setup(
        &h,
        json!({"mfa": {"factors": ["WebAuthn"], "policy": "PromptAtSignInAndSignUp"}}),
    );
    let jar = identified(&h, &client, "erin");
    let passkey = register(&h, &jar, Alg::Es256);
    assert_eq!(
        exp(&h, &jar, "POST", "/profile/mfa/mfa-enabled", None).status,
        204
    );
    // Passkey sign-in is off: there is no passkey prompt to decline.
    assert_ne!(
        exp(&h, &jar, "POST", "/profile/mfa/passkey-skipped", None).status,
        204
    );
    let view = exp(&h, &jar, "GET", "/interaction", None).json();
    assert_eq!(
        view["mfa"]["webAuthn"][0]["credentialId"],
        authn::b64(&passkey.id)
    );
    assert_eq!(view["mfa"]["mfaEnabled"], true);
    let claims = submit_for_claims(&h, &jar, &client);
    let sub = claims["sub"].as_str().unwrap();
    let config = h
        .api("GET", &format!("/api/users/{sub}/logto-configs"), None)
        .json();
    assert_eq!(config["mfa"]["enabled"], true, "{config}");

    let reset = Jar::default();
    h.follow(&reset, &auth(&client));
    assert_eq!(
        exp(
            &h,
            &reset,
            "PUT",
            "",
            Some(json!({"interactionEvent": "ForgotPassword"}))
        )
        .status,
        204
    );
    let r = exp(
        &h,
        &reset,
        "POST",
        "/verification/web-authn/registration",
        None,
    );
    assert_eq!(
        err(&r),
        (400, "session.not_supported_for_forgot_password".into())
    );
}

#[test]
fn the_binding_pages_let_the_user_choose_between_an_authenticator_app_and_a_passkey() {
    let h = Harness::new();
    let client = setup(
        &h,
        json!({"mfa": {"factors": ["Totp", "WebAuthn"], "policy": "Mandatory"}}),
    );
    let jar = Jar::default();
    h.follow(&jar, &auth(&client));
    let r = h.sign_in(&jar, "erin", PASSWORD);
    assert!(
        r.text().contains("Set up an authenticator app"),
        "{}",
        r.text()
    );
    assert!(
        r.text().contains(r#"href="/mfa/passkey/bind""#),
        "{}",
        r.text()
    );
    let r = h.follow(&jar, "/mfa/passkey/bind");
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains(r#"id="passkey-button""#), "{}", r.text());
    assert!(
        r.text().contains(r#"href="/mfa/totp/bind""#),
        "{}",
        r.text()
    );
}

#[test]
fn with_passkey_sign_in_on_a_user_without_a_passkey_is_asked_for_one_and_a_skip_is_remembered() {
    let h = Harness::new();
    let client = setup(&h, json!({"passkeySignIn": {"enabled": true}}));
    let jar = identified(&h, &client, "erin");
    let r = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(
        err(&r),
        (422, "user.passkey_preferred".into()),
        "{}",
        r.text()
    );
    let r = exp(&h, &jar, "POST", "/profile/mfa/passkey-skipped", None);
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        exp(&h, &jar, "GET", "/interaction", None).json()["mfa"]["passkeySkipped"],
        true
    );
    submit_for_claims(&h, &jar, &client);
    // Remembered with the user: the next sign-in is not asked again.
    let jar = identified(&h, &client, "erin");
    assert_eq!(exp(&h, &jar, "POST", "/submit", None).status, 200);
    let users = h.api("GET", "/api/users?search=erin", None).json();
    let id = users[0]["id"].as_str().unwrap().to_owned();
    let config = h.api("GET", &format!("/api/users/{id}/logto-configs"), None);
    assert_eq!(
        config.json()["passkeySignIn"]["skipped"],
        true,
        "{}",
        config.text()
    );

    // Fred makes one instead: asked no more either.
    let jar = identified(&h, &client, "fred");
    assert_eq!(
        err(&exp(&h, &jar, "POST", "/submit", None)),
        (422, "user.passkey_preferred".into())
    );
    register(&h, &jar, Alg::Es256);
    submit_for_claims(&h, &jar, &client);
    let jar = identified(&h, &client, "fred");
    assert_eq!(exp(&h, &jar, "POST", "/submit", None).status, 200);
}

#[test]
fn a_passkey_sign_in_by_username_lists_real_and_made_up_passkeys_alike() {
    let h = Harness::new();
    let client = setup(&h, json!({"passkeySignIn": {"enabled": true}}));
    let jar = identified(&h, &client, "erin");
    register(&h, &jar, Alg::Es256);
    submit_for_claims(&h, &jar, &client);
    let options = |name: &str| {
        let jar = signing_in(&h, &client);
        let r = exp(
            &h,
            &jar,
            "POST",
            "/verification/sign-in-passkey/authentication",
            Some(json!({"identifier": {"type": "username", "value": name}})),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["authenticationOptions"]["allowCredentials"].clone()
    };
    let real = options("erin");
    let made_up = options("nobody");
    assert_eq!(real.as_array().unwrap().len(), 1);
    assert_eq!(made_up.as_array().unwrap().len(), 1);
    // Same shape: no transport hints on either, ids of the same length.
    assert_eq!(real[0]["transports"], json!([]));
    assert_eq!(made_up[0]["transports"], json!([]));
    assert_ne!(real[0]["id"], made_up[0]["id"]);
    // The made-up one is stable, so asking twice tells nothing either.
    assert_eq!(options("nobody"), made_up);
}

#[test]
fn the_hosted_pages_offer_a_passkey_after_the_password_and_a_skip_goes_on_to_the_app() {
    let h = Harness::new();
    let client = setup(&h, json!({"passkeySignIn": {"enabled": true}}));
    let jar = Jar::default();
    h.follow(&jar, &auth(&client));
    let r = h.sign_in(&jar, "erin", PASSWORD);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().contains("Sign in faster next time"),
        "{}",
        r.text()
    );
    assert!(
        r.text().contains("action=\"/mfa/passkey/skip\""),
        "{}",
        r.text()
    );
    let csrf = csrf_of(&r.text());
    let r = h.browse(&jar, "POST", "/mfa/passkey/skip", Some(&[("_csrf", &csrf)]));
    assert_eq!(r.status, 303, "{}", r.text());
    let to = r.header("location").unwrap_or_default().to_owned();
    let r = h.follow(&jar, &to);
    let back = r.header("location").unwrap_or_default();
    assert!(back.starts_with(CB), "to the app: {back}");
    assert!(back.contains("code="), "{back}");
}
