//! Social connector presets (Logto's ids for Google, GitHub, Microsoft and Apple): the
//! providers' published endpoints filled in, nothing else taken from the operator; Apple's
//! client secret an ES256 JWT of the team's key, and its answer by form_post.
mod common;

use common::http_twin::json_response;
use common::*;
use serde_json::{json, Value};

fn create(h: &Harness, factory: &str, config: Value, target: &str) -> Reply {
    h.api(
        "POST",
        "/api/connectors",
        Some(json!({"connectorId": factory, "config": config, "metadata": {"target": target}})),
    )
}

#[test]
fn presets_fill_in_the_providers_own_endpoints_and_refuse_what_cannot_be_checked() {
    let h = Harness::new();
    let r = create(
        &h,
        "google-universal",
        json!({"clientId": "g", "clientSecret": "gs"}),
        "google",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let c = &r.json()["config"];
    assert_eq!(c["tokenEndpoint"], "https://oauth2.googleapis.com/token");
    assert_eq!(
        c["idTokenVerificationConfig"]["issuer"],
        "https://accounts.google.com"
    );
    assert_eq!(c["clientSecret"], "********");
    // GitHub: plain OAuth 2; an endpoint sent along is not taken.
    let r = create(
        &h,
        "github-universal",
        json!({"clientId": "gh", "clientSecret": "s", "tokenEndpoint": "https://evil.example/t"}),
        "github",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let c = &r.json()["config"];
    assert_eq!(
        c["tokenEndpoint"],
        "https://github.com/login/oauth/access_token"
    );
    assert_eq!(c["profileMap"]["avatar"], "avatar_url");
    assert!(c.get("idTokenVerificationConfig").is_none());
    // Microsoft: the directory's own tenant, whose issuer the ID token must name.
    let r = create(
        &h,
        "azuread",
        json!({"clientId": "m", "clientSecret": "s", "tenantId": "common"}),
        "microsoft",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = create(
        &h,
        "azuread",
        json!({"clientId": "m", "clientSecret": "s", "tenantId": "contoso.onmicrosoft.com"}),
        "microsoft",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        r.json()["config"]["idTokenVerificationConfig"]["issuer"],
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"
    );
    // Apple: the key must be a P-256 PKCS #8 key.
    let r = create(
        &h,
        "apple-universal",
        json!({"clientId": "com.example.web", "teamId": "T", "keyId": "K", "privateKey": "nope"}),
        "apple",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.json()["message"].as_str().unwrap().contains("privateKey"));
}

const APPLE_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgMhf3NK+LwtDeZ7Pl
UJ7ah/WDBwwr7TklveE+teaOvC+hRANCAAR9IMxYb8iIuaKorR21W3PiqgOs+wgZ
din7Nw3rwZyY22IQ37H435akkgY4R2blAAkqCcQuuSm6vElJk7uS3j/x
-----END PRIVATE KEY-----";
/// The public point of `APPLE_KEY` (from `openssl ec -pubout`), SEC1 uncompressed.
const APPLE_PUBLIC: &str = "047d20cc586fc888b9a2a8ad1db55b73e2aa03acfb08197629fb370debc19c98db6210dfb1f8df96a49206384766e500092a09c42eb929babc494993bb92de3ff1";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn apple_gets_a_client_secret_signed_with_the_teams_key_and_answers_by_form_post() {
    let h = Harness::new();
    let r = create(
        &h,
        "apple-universal",
        json!({"clientId": "com.example.web", "teamId": "TEAM1", "keyId": "KEY1", "privateKey": APPLE_KEY}),
        "apple",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let connector = r.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["config"]["privateKey"], "********");
    let jar = Jar::default();
    let app = h.api(
        "POST",
        "/api/applications",
        Some(json!({"name": "Shop", "type": "SPA", "oidcClientMetadata": {"redirectUris": ["https://rp.example/cb"]}})),
    );
    let client = app.json()["id"].as_str().unwrap().to_owned();
    h.follow(&jar, &format!("/oidc/auth?client_id={client}&redirect_uri=https%3A%2F%2Frp.example%2Fcb&response_type=code&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"));
    exp(
        &h,
        &jar,
        "PUT",
        "",
        Some(json!({"interactionEvent": "SignIn"})),
    );
    let cb = format!("https://gatehouse.localhost/callback/{connector}");
    let r = exp(
        &h,
        &jar,
        "POST",
        &format!("/verification/social/{connector}/authorization-uri"),
        Some(json!({"state": "st", "redirectUri": cb})),
    );
    let vid = r.json()["verificationId"].clone();
    let url = url::Url::parse(r.json()["authorizationUri"].as_str().unwrap()).unwrap();
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(url.host_str(), Some("appleid.apple.com"));
    assert_eq!(q["response_mode"], "form_post");
    let key = idp::Key::new();
    h.http
        .json("https://appleid.apple.com/auth/keys", 200, key.jwks());
    let now = h.now_ms.get() / 1000;
    let id_token = key.sign(
        &json!({"iss": "https://appleid.apple.com", "aud": "com.example.web",
        "sub": "001.apple", "nonce": q["nonce"], "iat": now, "exp": now + 600,
        "email": "ana@privaterelay.appleid.com", "email_verified": "true"}),
    );
    h.http
        .on("https://appleid.apple.com/auth/token", move |req| {
            use p256::ecdsa::signature::Verifier;
            let form: std::collections::HashMap<String, String> =
                form_urlencoded::parse(&req.body).into_owned().collect();
            let jwt = &form["client_secret"];
            let parts: Vec<&str> = jwt.split('.').collect();
            let b = |s: &str| {
                let bytes =
                    base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, s)
                        .unwrap();
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null)
            };
            let (header, claims) = (b(parts[0]), b(parts[1]));
            let sig =
                base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, parts[2])
                    .unwrap();
            let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&unhex(APPLE_PUBLIC)).unwrap();
            let signed = vk
                .verify(
                    format!("{}.{}", parts[0], parts[1]).as_bytes(),
                    &p256::ecdsa::Signature::from_slice(&sig).unwrap(),
                )
                .is_ok();
            let ok = signed
                && header["alg"] == "ES256"
                && header["kid"] == "KEY1"
                && claims["iss"] == "TEAM1"
                && claims["sub"] == "com.example.web"
                && claims["aud"] == "https://appleid.apple.com"
                && claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() <= 300;
            Ok(if ok {
                json_response(
                    200,
                    &json!({"access_token": "a", "token_type": "Bearer", "id_token": id_token}),
                )
            } else {
                json_response(400, &json!({"error": "invalid_client"}))
            })
        });
    // Apple posts its answer; the callback turns it into a GET the interaction cookie joins.
    let r = h.browse(
        &jar,
        "POST",
        &format!("/callback/{connector}"),
        Some(&[("code", "c"), ("state", "st")]),
    );
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some(format!("/callback/{connector}?code=c&state=st").as_str())
    );
    let r = exp(
        &h,
        &jar,
        "POST",
        &format!("/verification/social/{connector}/verify"),
        Some(json!({"verificationId": vid, "connectorData": {"code": "c", "state": "st"}})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Apple's `email_verified` is the string "true": it counts.
    let r = exp(
        &h,
        &jar,
        "PUT",
        "/interaction-event",
        Some(json!({"interactionEvent": "Register"})),
    );
    assert_eq!(r.status, 204);
    let r = exp(
        &h,
        &jar,
        "POST",
        "/identification",
        Some(json!({ "verificationId": vid })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let users = h.api("GET", "/api/users?search=privaterelay", None).json();
    assert_eq!(users[0]["identities"]["apple"]["userId"], "001.apple");
}
