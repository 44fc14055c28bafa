//! Multi-factor authentication through the Experience API and the hosted pages: binding an
//! authenticator app and backup codes under `Mandatory`, verifying them at the next sign-in,
//! and Logto's error codes at each step. Through the real router over SQLite.
mod common;

use common::*;
use serde_json::json;
use totp_rs::{Algorithm, Secret, TOTP};

const CB: &str = "https://rp.example/cb";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const PASSWORD: &str = "violet skies over oak";

fn setup(h: &Harness, policy: &str) -> String {
    let r = h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"mfa": {"factors": ["Totp", "BackupCode"], "policy": policy}})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = h.api(
        "POST",
        "/api/users",
        Some(json!({"username": "erin", "password": PASSWORD})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
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

/// A browser that has identified Erin by password through the Experience API.
fn identified(h: &Harness, client: &str) -> Jar {
    let jar = Jar::default();
    h.follow(&jar, &auth(client));
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
        Some(json!({"identifier": {"type": "username", "value": "erin"}, "password": PASSWORD})),
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

/// The code an authenticator app shows at the harness's time (totp-rs, RFC 6238).
fn code(h: &Harness, secret: &str, offset_secs: i64) -> String {
    let raw = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    let t = TOTP::new_unchecked(Algorithm::SHA1, 6, 1, 30, raw);
    t.generate((h.now_ms.get() / 1000 + offset_secs) as u64)
}

fn err(r: &Reply) -> (u16, String) {
    (
        r.status,
        r.json()["code"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Binds an authenticator app and backup codes for Erin (policy Mandatory); returns the
/// secret and the codes.
fn bind_all(h: &Harness, jar: &Jar) -> (String, Vec<String>) {
    let r = exp(h, jar, "POST", "/submit", None);
    assert_eq!(err(&r), (422, "user.missing_mfa".into()), "{}", r.text());
    assert_eq!(r.json()["data"], json!({"availableFactors": ["Totp"]}));
    let r = exp(h, jar, "POST", "/profile/mfa/mfa-skipped", None);
    assert_eq!(
        err(&r),
        (422, "session.mfa.mfa_policy_not_user_controlled".into())
    );
    let r = exp(h, jar, "POST", "/verification/totp/secret", None);
    assert_eq!(r.status, 200, "{}", r.text());
    let secret = r.json()["secret"].as_str().unwrap().to_owned();
    assert!(r.json()["secretQrCode"]
        .as_str()
        .unwrap()
        .starts_with("data:image/svg+xml;base64,"));
    let vid = r.json()["verificationId"].clone();
    let r = exp(
        h,
        jar,
        "POST",
        "/profile/mfa",
        Some(json!({"type": "Totp", "verificationId": vid})),
    );
    assert_eq!(
        err(&r),
        (400, "session.verification_failed".into()),
        "not verified yet"
    );
    let r = exp(
        h,
        jar,
        "POST",
        "/verification/totp/verify",
        Some(json!({"code": "000000", "verificationId": vid})),
    );
    assert_eq!(err(&r), (400, "session.mfa.invalid_totp_code".into()));
    let r = exp(
        h,
        jar,
        "POST",
        "/verification/totp/verify",
        Some(json!({"code": code(h, &secret, 0), "verificationId": vid})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = exp(
        h,
        jar,
        "POST",
        "/profile/mfa",
        Some(json!({"type": "Totp", "verificationId": vid})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let r = exp(h, jar, "POST", "/submit", None);
    assert_eq!(err(&r), (422, "session.mfa.backup_code_required".into()));
    let r = exp(h, jar, "POST", "/verification/backup-code/generate", None);
    assert_eq!(r.status, 200);
    let codes: Vec<String> = serde_json::from_value(r.json()["codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);
    let r = exp(
        h,
        jar,
        "POST",
        "/profile/mfa",
        Some(json!({"type": "BackupCode", "verificationId": r.json()["verificationId"]})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let r = exp(h, jar, "POST", "/submit", None);
    assert_eq!(r.status, 200, "{}", r.text());
    (secret, codes)
}

#[test]
fn mandatory_mfa_binds_an_app_and_backup_codes_then_asks_for_a_code_at_each_sign_in() {
    let h = Harness::new();
    let client = setup(&h, "Mandatory");
    let (secret, codes) = bind_all(&h, &identified(&h, &client));

    h.advance_secs(60);
    let jar = identified(&h, &client);
    let r = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(
        err(&r),
        (403, "session.mfa.require_mfa_verification".into())
    );
    assert_eq!(
        r.json()["data"],
        json!({"availableFactors": ["Totp", "BackupCode"], "maskedIdentifiers": {}})
    );
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/totp/verify",
        Some(json!({"code": "123456"})),
    );
    assert_eq!(err(&r), (400, "session.mfa.invalid_totp_code".into()));
    let now_code = code(&h, &secret, 0);
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/totp/verify",
        Some(json!({"code": now_code})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(r.status, 200, "{}", r.text());

    // The same code again, in another sign-in within its window: refused (used once).
    let jar = identified(&h, &client);
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/totp/verify",
        Some(json!({"code": now_code})),
    );
    assert_eq!(
        err(&r),
        (400, "session.mfa.invalid_totp_code".into()),
        "replay"
    );
    // A backup code works once.
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/backup-code/verify",
        Some(json!({"code": codes[3]})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(exp(&h, &jar, "POST", "/submit", None).status, 200);
    let jar = identified(&h, &client);
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/backup-code/verify",
        Some(json!({"code": codes[3]})),
    );
    assert_eq!(err(&r), (400, "session.mfa.invalid_backup_code".into()));
    assert_eq!(
        exp(&h, &jar, "POST", "/submit", None).status,
        403,
        "no session"
    );
}

#[test]
fn wrong_codes_lock_the_second_factor_like_passwords() {
    let h = Harness::new();
    let client = setup(&h, "Mandatory");
    let (secret, _) = bind_all(&h, &identified(&h, &client));
    let jar = identified(&h, &client);
    for _ in 0..30 {
        let r = exp(
            &h,
            &jar,
            "POST",
            "/verification/totp/verify",
            Some(json!({"code": "000000"})),
        );
        assert_eq!(r.status, 400);
    }
    h.advance_secs(60);
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/totp/verify",
        Some(json!({"code": code(&h, &secret, 0)})),
    );
    assert_eq!(
        err(&r),
        (400, "session.verification_blocked_too_many_attempts".into())
    );
}

#[test]
fn a_prompting_policy_lets_the_user_skip_and_remembers_it() {
    let h = Harness::new();
    let client = setup(&h, "PromptAtSignInAndSignUp");
    let jar = identified(&h, &client);
    let r = exp(&h, &jar, "POST", "/submit", None);
    // Logto's order: MFA is suggested first; turned on, the factor is asked for.
    assert_eq!(err(&r), (422, "user.suggest_mfa".into()));
    assert_eq!(r.json()["data"]["skippable"], true);
    assert_eq!(r.json()["data"]["availableFactors"], json!(["Totp"]));
    assert_eq!(
        exp(&h, &jar, "POST", "/profile/mfa/mfa-enabled", None).status,
        204
    );
    let r = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(err(&r), (422, "user.missing_mfa".into()));
    assert_eq!(r.json()["data"]["skippable"], true);
    assert_eq!(
        exp(&h, &jar, "POST", "/profile/mfa/mfa-skipped", None).status,
        204
    );
    assert_eq!(exp(&h, &jar, "POST", "/submit", None).status, 200);
    // Skipped once: the next sign-in is not asked again.
    let jar = identified(&h, &client);
    assert_eq!(exp(&h, &jar, "POST", "/submit", None).status, 200);
}

#[test]
fn backup_codes_cannot_be_the_only_factor() {
    let h = Harness::new();
    let client = setup(&h, "Mandatory");
    let jar = identified(&h, &client);
    let r = exp(&h, &jar, "POST", "/verification/backup-code/generate", None);
    let r = exp(
        &h,
        &jar,
        "POST",
        "/profile/mfa",
        Some(json!({"type": "BackupCode", "verificationId": r.json()["verificationId"]})),
    );
    assert_eq!(
        err(&r),
        (422, "session.mfa.backup_code_can_not_be_alone".into())
    );
    for (mfa, code) in [
        (
            json!({"factors": ["BackupCode"], "policy": "Mandatory"}),
            "sign_in_experiences.backup_code_cannot_be_enabled_alone",
        ),
        (
            json!({"factors": ["Totp", "Totp"], "policy": "Mandatory"}),
            "sign_in_experiences.duplicated_mfa_factors",
        ),
    ] {
        let r = h.api("PATCH", "/api/sign-in-exp", Some(json!({ "mfa": mfa })));
        assert_eq!(err(&r), (400, code.into()));
    }
}

/// The code page's CSRF token and the form's action.
fn form_of(r: &Reply) -> String {
    csrf_of(&r.text())
}

#[test]
fn the_hosted_pages_bind_an_app_show_backup_codes_and_ask_for_the_code_next_time() {
    let h = Harness::new();
    let client = setup(&h, "Mandatory");
    let jar = Jar::default();
    h.follow(&jar, &auth(&client));
    let r = h.sign_in(&jar, "erin", PASSWORD);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        r.text().contains("Set up an authenticator app"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("data:image/svg+xml;base64,"));
    let secret = r
        .text()
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    let csrf = form_of(&r);
    let r = h.browse(
        &jar,
        "POST",
        "/mfa/totp/bind",
        Some(&[("_csrf", &csrf), ("code", &code(&h, &secret, 0))]),
    );
    let r = match r.header("location") {
        Some(l) => h.follow(&jar, l),
        None => r,
    };
    assert!(r.text().contains("Save your backup codes"), "{}", r.text());
    let shown: Vec<String> = r
        .text()
        .split("<code>")
        .skip(1)
        .filter_map(|s| s.split('<').next().map(str::to_owned))
        .collect();
    assert_eq!(shown.len(), 10, "{}", r.text());
    let csrf = form_of(&r);
    let r = h.browse(&jar, "POST", "/mfa/backup-codes", Some(&[("_csrf", &csrf)]));
    let r = match r.header("location") {
        Some(l) if r.status == 303 && (l.starts_with('/') || l.starts_with(ORIGIN)) => {
            h.follow(&jar, l)
        }
        _ => r,
    };
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(
        location_params(&r).contains_key("code"),
        "{:?}",
        r.header("location")
    );

    // Next time: the code page, then the app.
    h.advance_secs(60);
    let jar = Jar::default();
    h.follow(&jar, &auth(&client));
    let r = h.sign_in(&jar, "erin", PASSWORD);
    assert!(r.text().contains("Two-step verification"), "{}", r.text());
    let csrf = form_of(&r);
    let wrong = h.browse(
        &jar,
        "POST",
        "/mfa/verify",
        Some(&[("_csrf", &csrf), ("code", "000000")]),
    );
    assert_eq!(wrong.status, 400);
    assert!(wrong.text().contains("That code is not right"));
    let r = h.browse(
        &jar,
        "POST",
        "/mfa/verify",
        Some(&[("_csrf", &csrf), ("code", &code(&h, &secret, 0))]),
    );
    let r = match r.header("location") {
        Some(l) if r.status == 303 && (l.starts_with('/') || l.starts_with(ORIGIN)) => {
            h.follow(&jar, l)
        }
        _ => r,
    };
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(location_params(&r).contains_key("code"));
}

#[test]
fn the_management_api_lists_adds_and_removes_factors_in_logtos_shapes() {
    let h = Harness::new();
    let client = setup(&h, "PromptAtSignInAndSignUp");
    let id = h.api("GET", "/api/users?search=erin", None).json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/users/{id}/mfa-verifications");
    assert_eq!(h.api("GET", &path, None).json(), json!([]));
    let r = h.api("POST", &path, Some(json!({"type": "BackupCode"})));
    assert_eq!(
        err(&r),
        (422, "session.mfa.backup_code_can_not_be_alone".into())
    );
    let r = h.api(
        "POST",
        &path,
        Some(json!({"type": "Totp", "secret": "short"})),
    );
    assert_eq!(err(&r), (422, "user.totp_secret_invalid".into()));
    let r = h.api(
        "POST",
        &path,
        Some(json!({"type": "Totp", "secret": "JBSWY3DPEHPK3PXPJBSWY3DP"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["secret"], "JBSWY3DPEHPK3PXPJBSWY3DP");
    let r = h.api("POST", &path, Some(json!({"type": "Totp"})));
    assert_eq!(err(&r), (422, "user.totp_already_in_use".into()));
    let r = h.api(
        "POST",
        &path,
        Some(json!({"type": "BackupCode", "codes": ["abc"]})),
    );
    assert_eq!(err(&r), (422, "user.wrong_backup_code_format".into()));
    let r = h.api("POST", &path, Some(json!({"type": "BackupCode"})));
    assert_eq!(r.status, 200, "{}", r.text());
    let codes: Vec<String> = serde_json::from_value(r.json()["codes"].clone()).unwrap();
    let list = h.api("GET", &path, None).json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let of = |t: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|v| v["type"] == t)
            .unwrap()
            .clone()
    };
    assert_eq!(of("BackupCode")["remainCodes"], 10);
    assert!(of("Totp")["createdAt"].as_str().unwrap().ends_with('Z'));

    // The bound app is asked for at sign-in, and a code of it works, with amr saying so.
    let jar = identified(&h, &client);
    assert_eq!(exp(&h, &jar, "POST", "/submit", None).status, 403);
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/totp/verify",
        Some(json!({"code": code(&h, "JBSWY3DPEHPK3PXPJBSWY3DP", 0)})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(exp(&h, &jar, "POST", "/submit", None).status, 200);
    let _ = codes;

    let totp = of("Totp");
    let totp_id = totp["id"].as_str().unwrap();
    assert_eq!(
        h.api("DELETE", &format!("{path}/{totp_id}"), None).status,
        204
    );
    assert_eq!(
        h.api("DELETE", &format!("{path}/{totp_id}"), None).status,
        404
    );
    let cfg = h.api(
        "PATCH",
        &format!("/api/users/{id}/logto-configs"),
        Some(json!({"mfa": {"skipped": true}})),
    );
    assert_eq!(cfg.status, 200, "{}", cfg.text());
    assert_eq!(cfg.json()["mfa"]["skipped"], true);
    assert_eq!(
        h.api("GET", &format!("/api/users/{id}/logto-configs"), None)
            .json()["mfa"]["skipped"],
        true
    );
}

#[test]
fn another_accounts_second_factor_does_not_count_for_the_user_identified_next() {
    let h = Harness::new();
    let client = setup(&h, "Mandatory");
    let erin = h.api("GET", "/api/users?search=erin", None).json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Erin has an app; so does Mallory, whose codes the attacker has.
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DP";
    let r = h.api(
        "POST",
        &format!("/api/users/{erin}/mfa-verifications"),
        Some(json!({"type": "Totp", "secret": "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = h.api(
        "POST",
        "/api/users",
        Some(json!({"username": "mallory", "password": PASSWORD})),
    );
    let mallory = r.json()["id"].as_str().unwrap().to_owned();
    let r = h.api(
        "POST",
        &format!("/api/users/{mallory}/mfa-verifications"),
        Some(json!({"type": "Totp", "secret": secret})),
    );
    assert_eq!(r.status, 200);
    let jar = Jar::default();
    h.follow(&jar, &auth(&client));
    exp(
        &h,
        &jar,
        "PUT",
        "",
        Some(json!({"interactionEvent": "SignIn"})),
    );
    let sign_in_as = |name: &str| {
        let r = exp(
            &h,
            &jar,
            "POST",
            "/verification/password",
            Some(json!({"identifier": {"type": "username", "value": name}, "password": PASSWORD})),
        );
        let r = exp(
            &h,
            &jar,
            "POST",
            "/identification",
            Some(json!({"verificationId": r.json()["verificationId"]})),
        );
        assert_eq!(r.status, 204, "{}", r.text());
    };
    sign_in_as("mallory");
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/totp/verify",
        Some(json!({"code": code(&h, secret, 0)})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    sign_in_as("erin");
    let r = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(
        err(&r),
        (403, "session.mfa.require_mfa_verification".into()),
        "Mallory's code is not Erin's second factor"
    );
}

#[test]
fn a_factor_verified_before_the_settings_disabled_it_no_longer_counts_at_submit() {
    let h = Harness::new();
    let client = setup(&h, "Mandatory");
    let (_, codes) = bind_all(&h, &identified(&h, &client));
    let jar = identified(&h, &client);
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/backup-code/verify",
        Some(json!({"code": codes[0]})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Meanwhile the operator turns backup codes off.
    let r = h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"mfa": {"factors": ["Totp"], "policy": "Mandatory"}})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(
        err(&r),
        (403, "session.mfa.require_mfa_verification".into()),
        "{}",
        r.text()
    );
    assert_eq!(r.json()["data"]["availableFactors"], json!(["Totp"]));
}
