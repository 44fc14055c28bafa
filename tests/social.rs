//! Social connectors through the Management API: a generic OpenID Connect provider given by
//! its issuer alone (the endpoints from its discovery document, through the outbound twin),
//! Logto's metadata and target, the secret write-only and bound to where it goes.
mod common;

use common::http_twin::json_response;
use common::*;
use gatehouse::outbound::HttpError;
use serde_json::{json, Value};

const ISSUER: &str = "https://idp.example";

fn discovery(h: &Harness, issuer: &str) {
    h.http.json(
        "https://idp.example/.well-known/openid-configuration",
        200,
        json!({
            "issuer": issuer,
            "authorization_endpoint": "https://idp.example/auth",
            "token_endpoint": "https://idp.example/token",
            "userinfo_endpoint": "https://idp.example/me",
            "jwks_uri": "https://idp.example/jwks",
        }),
    );
}

fn create(h: &Harness, config: Value, metadata: Value) -> Reply {
    h.api(
        "POST",
        "/api/connectors",
        Some(json!({"connectorId": "oidc", "config": config, "metadata": metadata})),
    )
}

fn err(r: &Reply) -> (u16, String) {
    (
        r.status,
        r.json()["code"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn an_oidc_connector_given_its_issuer_gets_its_endpoints_from_discovery() {
    let h = Harness::new();
    discovery(&h, ISSUER);
    let r = create(
        &h,
        json!({"clientId": "gh", "clientSecret": "s3cret", "issuer": ISSUER}),
        json!({"target": "acme", "name": "Acme", "logo": "https://idp.example/logo.svg"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let c = r.json();
    assert_eq!(c["type"], "Social");
    assert_eq!(c["connectorId"], "oidc");
    assert_eq!(c["metadata"]["target"], "acme");
    assert_eq!(
        c["config"]["authorizationEndpoint"],
        "https://idp.example/auth"
    );
    assert_eq!(c["config"]["tokenEndpoint"], "https://idp.example/token");
    assert_eq!(c["config"]["userInfoEndpoint"], "https://idp.example/me");
    assert_eq!(
        c["config"]["idTokenVerificationConfig"],
        json!({"jwksUri": "https://idp.example/jwks", "issuer": ISSUER})
    );
    assert_eq!(c["config"]["scope"], "openid profile email");
    assert_eq!(c["config"]["clientSecret"], "********");
    let calls = h.http.calls.borrow();
    assert_eq!(calls.len(), 1);
    assert!(!calls[0].post);
    drop(calls);

    // Read back as stored; listed beside the message connectors.
    let id = c["id"].as_str().unwrap();
    let got = h.api("GET", &format!("/api/connectors/{id}"), None).json();
    assert_eq!(got["config"], c["config"]);
    let list = h.api("GET", "/api/connectors", None).json();
    assert!(list.as_array().unwrap().iter().any(|x| x["id"] == id));

    // One connector per target.
    let r = create(
        &h,
        json!({"clientId": "other", "issuer": ISSUER}),
        json!({"target": "acme"}),
    );
    assert_eq!(
        err(&r),
        (422, "connector.multiple_target_with_same_platform".into())
    );
}

#[test]
fn a_provider_that_names_another_issuer_or_cannot_be_reached_is_refused_with_the_reason() {
    let h = Harness::new();
    discovery(&h, "https://evil.example");
    let r = create(
        &h,
        json!({"clientId": "c", "issuer": ISSUER}),
        json!({"target": "acme"}),
    );
    assert_eq!(err(&r), (400, "guard.invalid_input".into()));
    assert!(r.text().contains("https://evil.example"), "{}", r.text());

    let r = create(
        &h,
        json!({"clientId": "c", "issuer": "https://down.example"}),
        json!({"target": "down"}),
    );
    assert_eq!(err(&r), (400, "guard.invalid_input".into()));
    assert!(r.text().contains("discovery failed"), "{}", r.text());

    h.http.on(
        "https://slow.example/.well-known/openid-configuration",
        |_| Err(HttpError::Timeout),
    );
    let r = create(
        &h,
        json!({"clientId": "c", "issuer": "https://slow.example"}),
        json!({"target": "slow"}),
    );
    assert!(r.text().contains("no answer within"), "{}", r.text());

    h.http.on(
        "https://big.example/.well-known/openid-configuration",
        |_| Ok(json_response(200, &json!({"pad": "x".repeat(600 * 1024)}))),
    );
    let r = create(
        &h,
        json!({"clientId": "c", "issuer": "https://big.example"}),
        json!({"target": "big"}),
    );
    assert!(r.text().contains("longer than"), "{}", r.text());

    // Plain http to another host, credentials in a URL, unknown fields, no target: refused
    // before any request.
    let before = h.http.calls.borrow().len();
    for (config, metadata) in [
        (
            json!({"clientId": "c", "issuer": "http://idp.example"}),
            json!({"target": "a"}),
        ),
        (
            json!({"clientId": "c", "issuer": "https://u:p@idp.example"}),
            json!({"target": "a"}),
        ),
        (
            json!({"clientId": "c", "issuer": ISSUER, "extra": 1}),
            json!({"target": "a"}),
        ),
        (json!({"issuer": ISSUER}), json!({"target": "a"})),
        (json!({"clientId": "c", "issuer": ISSUER}), json!({})),
        (
            json!({"clientId": "c", "issuer": ISSUER}),
            json!({"target": "a b"}),
        ),
    ] {
        let r = create(&h, config.clone(), metadata);
        assert_eq!(err(&r), (400, "guard.invalid_input".into()), "{config}");
    }
    assert_eq!(h.http.calls.borrow().len(), before);
}

#[test]
fn moving_the_token_endpoint_needs_the_client_secret_again() {
    let h = Harness::new();
    let r = create(
        &h,
        json!({
            "clientId": "c", "clientSecret": "s3cret",
            "authorizationEndpoint": "https://idp.example/auth",
            "tokenEndpoint": "https://idp.example/token",
            "idTokenVerificationConfig": {"jwksUri": "https://idp.example/jwks"},
        }),
        json!({"target": "acme"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    // Endpoints given in full: no discovery.
    assert!(h.http.calls.borrow().is_empty());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/api/connectors/{id}");
    let r = h.api(
        "PATCH",
        &path,
        Some(json!({"config": {"tokenEndpoint": "https://evil.example/token", "clientSecret": "********"}})),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = h.api(
        "PATCH",
        &path,
        Some(json!({"config": {"tokenEndpoint": "https://idp2.example/token", "clientSecret": "new"}, "metadata": {"name": "Acme 2"}})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["config"]["tokenEndpoint"],
        "https://idp2.example/token"
    );
    assert_eq!(
        r.json()["metadata"],
        json!({"target": "acme", "name": "Acme 2"})
    );
    assert_eq!(r.json()["config"]["clientSecret"], "********");
}

const CB: &str = "https://rp.example/cb";
const SOCIAL_CB: &str = "https://gatehouse.localhost/callback/acme";

/// A social connector for the provider at idp.example, with every endpoint given.
fn acme(h: &Harness) -> String {
    let r = create(
        h,
        json!({
            "clientId": "gh", "clientSecret": "s3cret",
            "authorizationEndpoint": "https://idp.example/auth",
            "tokenEndpoint": "https://idp.example/token",
            "userInfoEndpoint": "https://idp.example/me",
            "idTokenVerificationConfig": {"jwksUri": "https://idp.example/jwks", "issuer": ISSUER},
        }),
        json!({"target": "acme", "name": "Acme"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

fn browser(h: &Harness, event: &str) -> (Jar, String) {
    let jar = Jar::default();
    let client = authorize(h, &jar, "").1;
    let r = exp(
        h,
        &jar,
        "PUT",
        "",
        Some(json!({ "interactionEvent": event })),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    (jar, client)
}

/// Begins a social sign-in and answers it as the provider would, for subject `sub` with
/// these extra ID token claims; returns the verification id and what `verify` answered.
fn social_sign_in(
    h: &Harness,
    jar: &Jar,
    connector: &str,
    sub: &str,
    extra: Value,
) -> (Value, Reply) {
    answer(h, jar, connector, sub, extra, Answer::default())
}

/// How the provider (or an attacker in its place) answers.
#[derive(Default)]
struct Answer {
    /// The ID token signed by a key that is not in the provider's JWKS.
    forged: bool,
    /// The callback's `state`, when not the one sent.
    state: Option<&'static str>,
    /// The callback carries `error=access_denied` instead of a code.
    declined: bool,
}

fn answer(
    h: &Harness,
    jar: &Jar,
    connector: &str,
    sub: &str,
    extra: Value,
    how: Answer,
) -> (Value, Reply) {
    let r = exp(
        h,
        jar,
        "POST",
        &format!("/verification/social/{connector}/authorization-uri"),
        Some(json!({"state": "st-1", "redirectUri": SOCIAL_CB})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let vid = r.json()["verificationId"].clone();
    let url = url::Url::parse(r.json()["authorizationUri"].as_str().unwrap()).unwrap();
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(url.path(), "/auth");
    assert_eq!(q["client_id"], "gh");
    assert_eq!(q["redirect_uri"], SOCIAL_CB);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["state"], "st-1");
    provider(h, &q, sub, extra, how.forged);
    let r = exp(
        h,
        jar,
        "POST",
        &format!("/verification/social/{connector}/verify"),
        Some(if how.declined {
            json!({"verificationId": vid, "connectorData": {"error": "access_denied", "state": "st-1"}})
        } else {
            json!({"verificationId": vid, "connectorData": {"code": "the-code", "state": how.state.unwrap_or("st-1")}})
        }),
    );
    (vid, r)
}

thread_local! {
    /// The provider's signing key, the same for every sign-in of a test until it rotates.
    static PROVIDER_KEY: std::cell::RefCell<idp::Key> = std::cell::RefCell::new(idp::Key::new());
}

/// The provider at idp.example for the authorization request `q`: its JWKS, a token
/// endpoint that gives an ID token for `sub` (with `extra` claims; signed by a key not in
/// the JWKS when `forged`) for code `the-code` and the right verifier, and userinfo.
fn provider(
    h: &Harness,
    q: &std::collections::HashMap<String, String>,
    sub: &str,
    extra: Value,
    forged: bool,
) {
    let redirect_uri = q["redirect_uri"].clone();
    let key = PROVIDER_KEY.with(|k| idp::Key(k.borrow().0.clone()));
    h.http.json("https://idp.example/jwks", 200, key.jwks());
    let (nonce, challenge) = (q["nonce"].clone(), q["code_challenge"].clone());
    let mut claims = json!({"iss": ISSUER, "aud": "gh", "sub": sub, "nonce": nonce,
        "iat": h.now_ms.get() / 1000, "exp": h.now_ms.get() / 1000 + 600});
    if let (Some(c), Some(e)) = (claims.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    let token = if forged {
        idp::Key::new().sign(&claims)
    } else {
        key.sign(&claims)
    };
    h.http.on("https://idp.example/token", move |req| {
        let form: std::collections::HashMap<String, String> =
            form_urlencoded::parse(&req.body).into_owned().collect();
        use sha2::Digest;
        let s256 = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            sha2::Sha256::digest(form["code_verifier"].as_bytes()),
        );
        let ok = form["code"] == "the-code"
            && s256 == challenge
            && form["client_secret"] == "s3cret"
            && form["redirect_uri"] == redirect_uri;
        Ok(if ok {
            json_response(
                200,
                &json!({"access_token": "at", "token_type": "Bearer", "id_token": token}),
            )
        } else {
            json_response(400, &json!({"error": "invalid_grant"}))
        })
    });
    let sub2 = sub.to_owned();
    h.http.on("https://idp.example/me", move |req| {
        let bearer = req
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == "Bearer at");
        Ok(json_response(
            if bearer { 200 } else { 401 },
            &json!({"sub": sub2, "name": "Ana Lima", "picture": "https://idp.example/ana.png"}),
        ))
    });
}

#[test]
fn a_new_social_identity_registers_and_then_signs_in_without_a_password() {
    let h = Harness::new();
    let connector = acme(&h);
    let (jar, client) = browser(&h, "SignIn");
    let (vid, r) = social_sign_in(
        &h,
        &jar,
        &connector,
        "ana-123",
        json!({"email": "Ana@Example.com", "email_verified": true}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // No user has it yet: Logto's answer, then registration with the same verification.
    let r = exp(
        &h,
        &jar,
        "POST",
        "/identification",
        Some(json!({ "verificationId": vid })),
    );
    assert_eq!(
        err(&r),
        (404, "user.identity_not_exist".into()),
        "{}",
        r.text()
    );
    assert_eq!(
        exp(
            &h,
            &jar,
            "PUT",
            "/interaction-event",
            Some(json!({"interactionEvent": "Register"}))
        )
        .status,
        204
    );
    let r = exp(
        &h,
        &jar,
        "POST",
        "/identification",
        Some(json!({ "verificationId": vid })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    // The settings' sign-up wants a username, which the provider does not give.
    let r = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(
        err(&r),
        (422, "user.missing_profile".into()),
        "{}",
        r.text()
    );
    let r = exp(
        &h,
        &jar,
        "POST",
        "/profile",
        Some(json!({"type": "username", "value": "ana"})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let claims = claims_after_submit(
        &h,
        &jar,
        (&client, CB, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    );
    let users = h.api("GET", "/api/users?search=ana", None).json();
    let ana = &users[0];
    assert_eq!(claims["sub"], ana["id"]);
    assert_eq!(ana["primaryEmail"], "ana@example.com");
    assert_eq!(ana["name"], "Ana Lima");
    assert_eq!(ana["identities"]["acme"]["userId"], "ana-123");

    // Next time the identity signs her in.
    let (jar, _) = browser(&h, "SignIn");
    let (vid, r) = social_sign_in(&h, &jar, &connector, "ana-123", json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    let r = exp(
        &h,
        &jar,
        "POST",
        "/identification",
        Some(json!({ "verificationId": vid })),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let r = exp(&h, &jar, "GET", "/interaction", None);
    assert_eq!(r.json()["userId"], ana["id"]);
    let r = exp(&h, &jar, "POST", "/submit", None);
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn forged_or_stale_answers_from_the_provider_identify_no_one() {
    let h = Harness::new();
    let connector = acme(&h);
    let bad_token = |extra: Value, how: Answer| {
        let (jar, _) = browser(&h, "SignIn");
        let (vid, r) = answer(&h, &jar, &connector, "ana-123", extra, how);
        // Nothing is proven: identification refuses the verification.
        let after = exp(
            &h,
            &jar,
            "POST",
            "/identification",
            Some(json!({ "verificationId": vid })),
        );
        assert_ne!(after.status, 204, "{}", after.text());
        err(&r)
    };
    let id_token_invalid = (400, "connector.social_id_token_invalid".to_owned());
    assert_eq!(
        bad_token(
            json!({}),
            Answer {
                forged: true,
                ..Answer::default()
            }
        ),
        id_token_invalid
    );
    assert_eq!(
        bad_token(json!({"nonce": "replayed"}), Answer::default()),
        id_token_invalid
    );
    assert_eq!(
        bad_token(json!({"aud": "another-client"}), Answer::default()),
        id_token_invalid
    );
    assert_eq!(
        bad_token(json!({"iss": "https://evil.example"}), Answer::default()),
        id_token_invalid
    );
    assert_eq!(
        bad_token(json!({"exp": 1_000}), Answer::default()),
        id_token_invalid
    );
    assert_eq!(
        bad_token(
            json!({}),
            Answer {
                state: Some("st-2"),
                ..Answer::default()
            }
        ),
        (400, "session.csrf_token_mismatch".into())
    );
    assert_eq!(
        bad_token(
            json!({}),
            Answer {
                declined: true,
                ..Answer::default()
            }
        ),
        (400, "connector.authorization_failed".into())
    );
    // A verification is checked once: a second answer to it is refused.
    let (jar, _) = browser(&h, "SignIn");
    let (vid, r) = social_sign_in(&h, &jar, &connector, "ana-123", json!({}));
    assert_eq!(r.status, 200, "{}", r.text());
    let again = exp(
        &h,
        &jar,
        "POST",
        &format!("/verification/social/{connector}/verify"),
        Some(
            json!({"verificationId": vid, "connectorData": {"code": "the-code", "state": "st-1"}}),
        ),
    );
    assert_eq!(
        err(&again),
        (404, "session.verification_session_not_found".into())
    );
}

#[test]
fn an_identity_with_a_verified_email_links_to_that_user_only_when_asked() {
    let h = Harness::new();
    let connector = acme(&h);
    let r = h.api(
        "POST",
        "/api/users",
        Some(json!({"username": "bea", "password": "violet skies over oak", "primaryEmail": "bea@example.com"})),
    );
    let bea = r.json()["id"].as_str().unwrap().to_owned();

    // An unverified email relates to no one.
    let (jar, _) = browser(&h, "SignIn");
    let (vid, _) = social_sign_in(
        &h,
        &jar,
        &connector,
        "b-1",
        json!({"email": "bea@example.com"}),
    );
    let r = exp(
        &h,
        &jar,
        "POST",
        "/identification",
        Some(json!({"verificationId": vid, "linkSocialIdentity": true})),
    );
    assert_eq!(err(&r), (404, "user.identity_not_exist".into()));
    assert!(r.json()["data"]["relatedUser"].is_null(), "{}", r.text());

    // A verified one names the related user (masked), and links on request at submit.
    let (jar, _) = browser(&h, "SignIn");
    let (vid, _) = social_sign_in(
        &h,
        &jar,
        &connector,
        "b-2",
        json!({"email": "bea@example.com", "email_verified": true}),
    );
    let r = exp(
        &h,
        &jar,
        "POST",
        "/identification",
        Some(json!({ "verificationId": vid })),
    );
    assert_eq!(err(&r), (404, "user.identity_not_exist".into()));
    assert_eq!(
        r.json()["data"]["relatedUser"],
        json!({"type": "email", "value": "b***@example.com"})
    );
    let r = exp(
        &h,
        &jar,
        "POST",
        "/identification",
        Some(json!({"verificationId": vid, "linkSocialIdentity": true})),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(exp(&h, &jar, "POST", "/submit", None).status, 200);
    let user = h.api("GET", &format!("/api/users/{bea}"), None).json();
    assert_eq!(user["identities"]["acme"]["userId"], "b-2");

    // From now on the identity signs Bea in, and cannot register another account.
    let (jar, _) = browser(&h, "SignIn");
    let (vid, _) = social_sign_in(&h, &jar, &connector, "b-2", json!({}));
    let r = exp(
        &h,
        &jar,
        "POST",
        "/identification",
        Some(json!({ "verificationId": vid })),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        exp(&h, &jar, "GET", "/interaction", None).json()["userId"],
        bea.as_str()
    );
    let (jar, _) = browser(&h, "Register");
    let (vid, _) = social_sign_in(&h, &jar, &connector, "b-2", json!({}));
    let r = exp(
        &h,
        &jar,
        "POST",
        "/identification",
        Some(json!({ "verificationId": vid })),
    );
    assert_eq!(err(&r), (422, "user.identity_already_in_use".into()));
}

/// The browser `jar` at a new app's authorization request (with `extra` parameters): the
/// reply of the last same-origin hop, and the app's client id.
fn authorize(h: &Harness, jar: &Jar, extra: &str) -> (Reply, String) {
    let r = h.api(
        "POST",
        "/api/applications",
        Some(json!({"name": "Shop", "type": "SPA", "oidcClientMetadata": {"redirectUris": [CB]}})),
    );
    let client = r.json()["id"].as_str().unwrap().to_owned();
    let cb: String = form_urlencoded::byte_serialize(CB.as_bytes()).collect();
    let r = h.follow(jar, &format!("/oidc/auth?client_id={client}&redirect_uri={cb}&response_type=code&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256{extra}"));
    (r, client)
}

/// Follows this provider's redirects (whatever its origin) up to the app's.
fn onward(h: &Harness, jar: &Jar, mut r: Reply) -> Reply {
    for _ in 0..10 {
        match r.header("location").map(str::to_owned) {
            Some(loc) if r.status == 303 && !loc.starts_with(CB) => {
                let path = url::Url::parse(&loc).map_or(loc.clone(), |u| {
                    format!("{}?{}", u.path(), u.query().unwrap_or_default())
                });
                r = h.browse(jar, "GET", &path, None);
            }
            _ => break,
        }
    }
    r
}

/// The provider's authorization request the browser was sent to.
fn sent_to_provider(r: &Reply) -> std::collections::HashMap<String, String> {
    assert_eq!(r.status, 303, "{}", r.text());
    let loc = r.header("location").expect("a redirect to the provider");
    assert!(loc.starts_with("https://idp.example/auth?"), "{loc}");
    url::Url::parse(loc)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

#[test]
fn the_sign_in_page_offers_the_provider_and_its_answer_links_an_account_with_that_verified_email_when_asked(
) {
    let h = Harness::new();
    let connector = acme(&h);
    let r = h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"socialSignInConnectorTargets": ["acme", "nobody"]})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = h.api(
        "POST",
        "/api/users",
        Some(json!({"username": "ana", "primaryEmail": "ana@example.com", "password": "a long passphrase 1"})),
    );
    let ana = r.json()["id"].as_str().unwrap().to_owned();
    let jar = Jar::default();
    let page = authorize(&h, &jar, "").0;
    let html = page.text();
    assert!(html.contains("Continue with Acme"), "{html}");
    assert!(
        html.contains(&format!("formaction=\"/sign-in/social/{connector}\"")),
        "{html}"
    );
    // A target no connector serves has no button.
    assert_eq!(html.matches("/sign-in/social/").count(), 1);
    // Without the form's CSRF token nothing starts.
    let r = h.browse(
        &jar,
        "POST",
        &format!("/sign-in/social/{connector}"),
        Some(&[]),
    );
    assert_ne!(r.status, 303);
    let csrf = csrf_of(&html);
    let r = h.browse(
        &jar,
        "POST",
        &format!("/sign-in/social/{connector}"),
        Some(&[("_csrf", &csrf)]),
    );
    let q = sent_to_provider(&r);
    assert_eq!(
        q["redirect_uri"],
        format!("http://gatehouse.localhost/callback/{connector}")
    );
    provider(
        &h,
        &q,
        "ana-123",
        json!({"email": "ana@example.com", "email_verified": true}),
        false,
    );
    // An answer with another state is refused on the sign-in page, and signs no one in.
    let r = h.browse(
        &jar,
        "GET",
        &format!("/callback/{connector}?code=the-code&state=forged"),
        None,
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("did not succeed"), "{}", r.text());
    assert!(r
        .header("set-cookie")
        .is_none_or(|c| !c.contains("gh_session")));
    // The real answer: an account has that verified email; the person is asked.
    let r = h.browse(
        &jar,
        "GET",
        &format!("/callback/{connector}?code=the-code&state={}", q["state"]),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    assert!(html.contains("Link your account"), "{html}");
    assert!(
        !html.contains("ana@example.com"),
        "the address is masked: {html}"
    );
    assert!(
        html.contains(&format!("/callback/{connector}/register")),
        "{html}"
    );
    let r = h.browse(
        &jar,
        "POST",
        &format!("/callback/{connector}/link"),
        Some(&[("_csrf", &csrf_of(&html))]),
    );
    let r = onward(&h, &jar, r);
    let loc = r.header("location").unwrap_or_default();
    assert!(loc.starts_with(CB), "{} {loc} {}", r.status, r.text());
    assert!(location_params(&r).contains_key("code"));
    let user = h.api("GET", &format!("/api/users/{ana}"), None).json();
    assert_eq!(user["identities"]["acme"]["userId"], "ana-123");

    // `direct_sign_in=social:acme` goes to the provider at once; the linked identity signs in.
    let jar = Jar::default();
    let r = authorize(&h, &jar, "&direct_sign_in=social%3Aacme").0;
    let q = sent_to_provider(&r);
    provider(&h, &q, "ana-123", json!({}), false);
    let r = h.follow(
        &jar,
        &format!("/callback/{connector}?code=the-code&state={}", q["state"]),
    );
    let r = onward(&h, &jar, r);
    assert!(
        r.header("location").unwrap_or_default().starts_with(CB),
        "{}",
        r.text()
    );
    // A target nobody serves falls back to the sign-in page.
    let r = authorize(&h, &Jar::default(), "&direct_sign_in=social%3Anobody").0;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("Continue with Acme"));
}

#[test]
fn identities_set_through_the_management_api_sign_in_and_once_removed_no_longer_do() {
    let h = Harness::new();
    let connector = acme(&h);
    let user = |name: &str| {
        let r = h.api("POST", "/api/users", Some(json!({ "username": name })));
        r.json()["id"].as_str().unwrap().to_owned()
    };
    let (bob, carol) = (user("bob"), user("carol"));
    let path = format!("/api/users/{bob}/identities/acme");
    let r = h.api(
        "PUT",
        &path,
        Some(json!({"userId": "bob-1", "details": {"email": "bob@example.com"}})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["acme"]["userId"], "bob-1");
    assert_eq!(
        h.api("GET", &format!("/api/users/{bob}"), None).json()["identities"]["acme"]["details"]
            ["email"],
        "bob@example.com"
    );
    // The identity is Bob's: not Carol's too, and a target cannot smuggle a JSON path.
    let r = h.api(
        "PUT",
        &format!("/api/users/{carol}/identities/acme"),
        Some(json!({"userId": "bob-1"})),
    );
    assert_eq!(err(&r), (422, "user.identity_already_in_use".into()));
    let r = h.api(
        "PUT",
        &format!("/api/users/{carol}/identities/a%22b"),
        Some(json!({"userId": "x"})),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let r = h.api(
        "PUT",
        "/api/users/nobody/identities/acme",
        Some(json!({"userId": "x"})),
    );
    assert_eq!(r.status, 404);
    let signs_in_as = |sub: &str| {
        let (jar, _) = browser(&h, "SignIn");
        let (vid, r) = social_sign_in(&h, &jar, &connector, sub, json!({}));
        assert_eq!(r.status, 200, "{}", r.text());
        let r = exp(
            &h,
            &jar,
            "POST",
            "/identification",
            Some(json!({ "verificationId": vid })),
        );
        (r.status == 204)
            .then(|| exp(&h, &jar, "GET", "/interaction", None).json()["userId"].clone())
    };
    assert_eq!(signs_in_as("bob-1"), Some(json!(bob)));
    let r = h.api("DELETE", &path, None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json().get("acme").is_none());
    assert_eq!(
        err(&h.api("DELETE", &path, None)),
        (404, "user.identity_not_exist".into())
    );
    assert_eq!(signs_in_as("bob-1"), None);
}

/// A new browser's enterprise SSO sign-in with connector `sso`, begun (state `st-9`).
fn sso_start(h: &Harness, sso: &str) -> (Jar, String, Reply) {
    let (jar, client) = browser(h, "SignIn");
    let r = exp(
        h,
        &jar,
        "POST",
        &format!("/verification/sso/{sso}/authorization-uri"),
        Some(json!({"state": "st-9", "redirectUri": SOCIAL_CB})),
    );
    (jar, client, r)
}

/// The provider's answer to the SSO sign-in `started` began: it signs `sub` in with
/// `claims`, and the answer is verified. The verification id, the authorization URI's query
/// and the verify reply.
fn sso_answer(
    h: &Harness,
    (jar, sso, started): (&Jar, &str, &Reply),
    sub: &str,
    claims: Value,
) -> (Value, std::collections::HashMap<String, String>, Reply) {
    let vid = started.json()["verificationId"].clone();
    let url = url::Url::parse(started.json()["authorizationUri"].as_str().unwrap()).unwrap();
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    provider(h, &q, sub, claims, false);
    let r = exp(
        h,
        jar,
        "POST",
        &format!("/verification/sso/{sso}/verify"),
        Some(
            json!({"verificationId": vid, "connectorData": {"code": "the-code", "state": "st-9"}}),
        ),
    );
    (vid, q, r)
}

fn sso_connector(h: &Harness, body: Value) -> Reply {
    h.api("POST", "/api/sso-connectors", Some(body))
}

#[test]
fn sso_connectors_take_an_oidc_issuer_and_own_only_private_domains() {
    let h = Harness::new();
    discovery(&h, ISSUER);
    let r = sso_connector(
        &h,
        json!({"providerName": "OIDC", "connectorName": "Acme staff", "domains": ["Acme.com"],
            "config": {"clientId": "gh", "clientSecret": "s3cret", "issuer": ISSUER}}),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let c = r.json();
    let id = c["id"].as_str().unwrap().to_owned();
    assert_eq!(c["domains"], json!(["acme.com"]));
    assert_eq!(c["providerType"], "oidc");
    assert_eq!(c["config"]["clientSecret"], "********");
    assert_eq!(c["config"]["tokenEndpoint"], "https://idp.example/token");
    assert_eq!(c["config"]["scope"], "openid profile email");
    // Not a social or message connector.
    let all = h.api("GET", "/api/connectors", None).json();
    assert!(all.as_array().unwrap().iter().all(|x| x["id"] != c["id"]));
    assert_eq!(
        h.api("GET", &format!("/api/connectors/{id}"), None).status,
        404
    );
    assert_eq!(
        h.api("GET", &format!("/api/sso-connectors/{id}"), None)
            .status,
        200
    );
    let base = json!({"providerName": "OIDC", "connectorName": "Other",
        "config": {"clientId": "gh", "issuer": ISSUER}});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let cases = [
        (
            with("domains", json!(["gmail.com"])),
            422,
            "single_sign_on.forbidden_domains",
        ),
        (
            with("domains", json!(["x.io", "X.io"])),
            422,
            "single_sign_on.duplicated_domains",
        ),
        (
            with("domains", json!(["not a domain"])),
            400,
            "guard.invalid_input",
        ),
        (
            with("connectorName", json!("Acme staff")),
            409,
            "single_sign_on.duplicate_connector_name",
        ),
        (
            // A SAML provider wants the IdP's entity id, endpoint and certificate.
            with("providerName", json!("SAML")),
            400,
            "guard.invalid_input",
        ),
        (
            with("providerName", json!("Nope")),
            422,
            "connector.not_found",
        ),
    ];
    for (body, status, code) in cases {
        let r = sso_connector(&h, body.clone());
        assert_eq!(err(&r), (status, code.into()), "{body} {}", r.text());
    }
    let r = h.api(
        "PATCH",
        &format!("/api/sso-connectors/{id}"),
        Some(json!({"domains": ["acme.com", "acme.de"]})),
    );
    assert_eq!(
        r.json()["domains"],
        json!(["acme.com", "acme.de"]),
        "{}",
        r.text()
    );
    assert_eq!(r.json()["config"]["clientSecret"], "********");
    assert_eq!(
        h.api("DELETE", &format!("/api/sso-connectors/{id}"), None)
            .status,
        204
    );
    assert_eq!(h.api("GET", "/api/sso-connectors", None).json(), json!([]));
}

#[test]
fn a_work_email_signs_in_only_through_its_sso_connector_which_provisions_or_links_the_user() {
    let h = Harness::new();
    discovery(&h, ISSUER);
    let r = sso_connector(
        &h,
        json!({"providerName": "Okta", "connectorName": "Acme", "domains": ["acme.com"],
            "config": {"clientId": "gh", "clientSecret": "s3cret", "issuer": ISSUER}}),
    );
    let sso = r.json()["id"].as_str().unwrap().to_owned();
    let r = h.api(
        "POST",
        "/api/users",
        Some(json!({"username": "bo", "primaryEmail": "bo@acme.com", "password": "a long passphrase 1"})),
    );
    let bo = r.json()["id"].as_str().unwrap().to_owned();
    // Off by default: the domain routes nowhere, and Bo's password works.
    let (jar, _) = browser(&h, "SignIn");
    let r = exp(&h, &jar, "GET", "/sso-connectors?email=bo@acme.com", None);
    assert_eq!(r.json(), json!({"connectorIds": []}));
    assert_eq!(
        h.api(
            "PATCH",
            "/api/sign-in-exp",
            Some(json!({"singleSignOnEnabled": true}))
        )
        .status,
        200
    );
    let (jar, _) = browser(&h, "SignIn");
    let r = exp(&h, &jar, "GET", "/sso-connectors?email=Bo@ACME.com", None);
    assert_eq!(r.json(), json!({"connectorIds": [sso]}));
    let r = exp(
        &h,
        &jar,
        "POST",
        "/verification/password",
        Some(
            json!({"identifier": {"type": "email", "value": "bo@acme.com"}, "password": "a long passphrase 1"}),
        ),
    );
    assert_eq!(err(&r), (422, "session.sso_enabled".into()), "{}", r.text());
    assert_eq!(r.json()["data"]["ssoConnectors"], json!([sso]));
    // Through the connector: a new person is provisioned, Bo (same verified email) linked.
    let sign_in = |sub: &str, email: &str| {
        let (jar, client, r) = sso_start(&h, &sso);
        assert_eq!(r.status, 200, "{}", r.text());
        let claims = json!({"email": email, "email_verified": true});
        let (vid, q, r) = sso_answer(&h, (&jar, &sso, &r), sub, claims);
        assert!(q["scope"].contains("email"));
        assert_eq!(r.status, 200, "{}", r.text());
        let r = exp(
            &h,
            &jar,
            "POST",
            "/identification",
            Some(json!({ "verificationId": vid })),
        );
        let status = r.status;
        let claims = claims_after_submit(
            &h,
            &jar,
            (&client, CB, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        );
        (
            status,
            claims["sub"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let (status, new_user) = sign_in("okta-77", "cy@acme.com");
    assert_eq!(status, 201, "provisioned just in time");
    let cy = h.api("GET", &format!("/api/users/{new_user}"), None).json();
    assert_eq!(cy["primaryEmail"], "cy@acme.com");
    assert_eq!(
        cy["identities"],
        json!({}),
        "SSO identities are not social ones"
    );
    assert_eq!(sign_in("okta-77", "cy@acme.com"), (204, new_user));
    assert_eq!(sign_in("okta-12", "bo@acme.com"), (204, bo.clone()));
    // Linked now: Bo's SSO identity signs Bo in even if the provider's email changes.
    assert_eq!(sign_in("okta-12", "bo.new@acme.com"), (204, bo));
    // The organization's provider speaks for its domains only.
    let (jar, _, r) = sso_start(&h, &sso);
    let claims = json!({"email": "admin@victim.org", "email_verified": true});
    let (_, _, r) = sso_answer(&h, (&jar, &sso, &r), "okta-13", claims);
    assert_eq!(
        err(&r),
        (400, "connector.authorization_failed".into()),
        "{}",
        r.text()
    );
    // A social sign-in with a verified address of the SSO domain is sent to SSO too.
    let social = acme(&h);
    let (jar, _) = browser(&h, "SignIn");
    let (vid, r) = social_sign_in(
        &h,
        &jar,
        &social,
        "g-1",
        json!({"email": "bo@acme.com", "email_verified": true}),
    );
    assert_eq!(r.status, 200);
    let r = exp(
        &h,
        &jar,
        "POST",
        "/identification",
        Some(json!({ "verificationId": vid, "linkSocialIdentity": true })),
    );
    assert_eq!(err(&r), (422, "session.sso_enabled".into()), "{}", r.text());
    // Moving the token endpoint (where the secret goes) needs the secret again.
    let r = h.api(
        "PATCH",
        &format!("/api/sso-connectors/{sso}"),
        Some(json!({"config": {"tokenEndpoint": "https://evil.example/token"}})),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    // With SSO off, its connectors take no one.
    h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"singleSignOnEnabled": false})),
    );
    let (_, _, r) = sso_start(&h, &sso);
    assert_eq!(r.status, 404, "{}", r.text());
    h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"singleSignOnEnabled": true})),
    );
    // A social route cannot use the SSO connector.
    let (jar, _) = browser(&h, "SignIn");
    let r = exp(
        &h,
        &jar,
        "POST",
        &format!("/verification/social/{sso}/authorization-uri"),
        Some(json!({"state": "s", "redirectUri": SOCIAL_CB})),
    );
    assert_eq!(r.status, 404, "{}", r.text());
}

#[test]
fn the_sign_in_page_sends_a_work_email_to_its_sso_provider_and_direct_sign_in_names_the_connector()
{
    let h = Harness::new();
    discovery(&h, ISSUER);
    let r = sso_connector(
        &h,
        json!({"providerName": "OIDC", "connectorName": "Acme", "domains": ["acme.com"],
            "config": {"clientId": "gh", "clientSecret": "s3cret", "issuer": ISSUER}}),
    );
    let sso = r.json()["id"].as_str().unwrap().to_owned();
    h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"singleSignOnEnabled": true})),
    );
    let jar = Jar::default();
    let page = authorize(&h, &jar, "").0;
    assert!(page.text().contains("Single sign-on"), "{}", page.text());
    let r = h.browse(
        &jar,
        "POST",
        "/sign-in",
        Some(&[
            ("_csrf", &csrf_of(&page.text())),
            ("identifier", "dee@Acme.com"),
        ]),
    );
    let q = sent_to_provider(&r);
    provider(
        &h,
        &q,
        "okta-5",
        json!({"email": "dee@acme.com", "email_verified": true}),
        false,
    );
    let r = h.browse(
        &jar,
        "GET",
        &format!("/callback/{sso}?code=the-code&state={}", q["state"]),
        None,
    );
    let r = onward(&h, &jar, r);
    assert!(
        r.header("location").unwrap_or_default().starts_with(CB),
        "{}",
        r.text()
    );
    // Another domain still gets the password form's answer.
    let jar = Jar::default();
    let page = authorize(&h, &jar, "").0;
    let r = h.browse(
        &jar,
        "POST",
        "/sign-in",
        Some(&[
            ("_csrf", &csrf_of(&page.text())),
            ("identifier", "dee@other.org"),
            ("password", "x"),
        ]),
    );
    assert_ne!(r.status, 303);
    // direct_sign_in=sso:<id> goes to the provider at once.
    let r = authorize(&h, &Jar::default(), &format!("&direct_sign_in=sso%3A{sso}")).0;
    sent_to_provider(&r);
}

#[test]
fn an_oauth2_connector_reads_the_identity_from_user_info_through_its_profile_map_and_never_trusts_its_email(
) {
    let h = Harness::new();
    let r = h.api(
        "POST",
        "/api/connectors",
        Some(
            json!({"connectorId": "oauth2", "metadata": {"target": "forge", "name": "Forge"},
            "config": {"clientId": "gh", "clientSecret": "s3cret",
                "authorizationEndpoint": "https://idp.example/oauth/authorize",
                "tokenEndpoint": "https://idp.example/oauth/token",
                "userInfoEndpoint": "https://idp.example/api/user",
                "profileMap": {"id": "data.uid", "email": "data.mail", "name": "data.name"}}}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let connector = r.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json()["config"]["profileMap"]["avatar"], "avatar");
    // An unknown field, or a missing endpoint, is refused with the reason.
    let r = h.api(
        "POST",
        "/api/connectors",
        Some(json!({"connectorId": "oauth2", "metadata": {"target": "x"},
            "config": {"clientId": "a", "authorizationEndpoint": "https://idp.example/a",
                "tokenEndpoint": "https://idp.example/t"}})),
    );
    assert_eq!(r.status, 400);
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("userInfoEndpoint"));
    h.api(
        "POST",
        "/api/users",
        Some(json!({"username": "eve", "primaryEmail": "eve@x.com"})),
    );
    h.http.on("https://idp.example/oauth/token", |req| {
        let form: std::collections::HashMap<String, String> =
            form_urlencoded::parse(&req.body).into_owned().collect();
        Ok(
            if form["code"] == "c-1" && form["client_secret"] == "s3cret" {
                json_response(200, &json!({"access_token": "at2", "token_type": "bearer"}))
            } else {
                json_response(400, &json!({"error": "invalid_grant"}))
            },
        )
    });
    h.http.on("https://idp.example/api/user", |req| {
        let ok = req
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == "Bearer at2");
        Ok(json_response(
            if ok { 200 } else { 401 },
            &json!({"data": {"uid": 42, "mail": "Eve@X.com", "name": "Eve"}}),
        ))
    });
    let (jar, _) = browser(&h, "SignIn");
    let r = exp(
        &h,
        &jar,
        "POST",
        &format!("/verification/social/{connector}/authorization-uri"),
        Some(json!({"state": "s-1", "redirectUri": SOCIAL_CB})),
    );
    let vid = r.json()["verificationId"].clone();
    let url = r.json()["authorizationUri"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with("https://idp.example/oauth/authorize?"),
        "{url}"
    );
    assert!(!url.contains("nonce="), "no ID token, no nonce: {url}");
    let r = exp(
        &h,
        &jar,
        "POST",
        &format!("/verification/social/{connector}/verify"),
        Some(json!({"verificationId": vid, "connectorData": {"code": "c-1", "state": "s-1"}})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Eve has that address, but an OAuth 2 provider's email is not verified: no link offered.
    let r = exp(
        &h,
        &jar,
        "POST",
        "/identification",
        Some(json!({ "verificationId": vid })),
    );
    assert_eq!(err(&r), (404, "user.identity_not_exist".into()));
    assert!(r.json().get("data").is_none(), "{}", r.text());
    exp(
        &h,
        &jar,
        "PUT",
        "/interaction-event",
        Some(json!({"interactionEvent": "Register"})),
    );
    let r = exp(
        &h,
        &jar,
        "POST",
        "/identification",
        Some(json!({ "verificationId": vid })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let users = h.api("GET", "/api/users?search=Eve", None).json();
    let made = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["identities"]["forge"]["userId"] == "42")
        .expect("the new user");
    assert_eq!(
        made["primaryEmail"],
        Value::Null,
        "an unverified email is not taken"
    );
    assert_eq!(made["name"], "Eve");
}

#[test]
fn a_social_registration_on_the_pages_needs_the_terms_before_the_account_is_written() {
    let h = Harness::new();
    let connector = acme(&h);
    h.api(
        "PATCH",
        "/api/sign-in-exp",
        Some(json!({"socialSignInConnectorTargets": ["acme"],
            "termsOfUseUrl": "https://example.com/terms", "agreeToTermsPolicy": "Manual"})),
    );
    let jar = Jar::default();
    let page = authorize(&h, &jar, "").0;
    let csrf = csrf_of(&page.text());
    let start = |agree: bool| {
        let mut form = vec![("_csrf", csrf.as_str())];
        if agree {
            form.push(("agree", "yes"));
        }
        let r = h.browse(
            &jar,
            "POST",
            &format!("/sign-in/social/{connector}"),
            Some(&form),
        );
        let q = sent_to_provider(&r);
        provider(&h, &q, "new-1", json!({}), false);
        h.browse(
            &jar,
            "GET",
            &format!("/callback/{connector}?code=the-code&state={}", q["state"]),
            None,
        )
    };
    let r = start(false);
    assert_ne!(r.status, 303, "{}", r.text());
    assert!(r.text().contains("agree"), "{}", r.text());
    assert_eq!(
        h.api("GET", "/api/users", None).json(),
        json!([]),
        "no account written"
    );
    let r = start(true);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        h.api("GET", "/api/users", None)
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_providers_keys_are_fetched_once_per_isolate_and_again_at_once_when_it_rotates_them() {
    let h = Harness::new();
    let connector = acme(&h);
    let jwks_fetches = || {
        h.http
            .calls
            .borrow()
            .iter()
            .filter(|c| c.url == "https://idp.example/jwks")
            .count()
    };
    let sign_in = || {
        let (jar, _) = browser(&h, "SignIn");
        let (_, r) = social_sign_in(&h, &jar, &connector, "ana-123", json!({}));
        assert_eq!(r.status, 200, "{}", r.text());
    };
    sign_in();
    sign_in();
    assert_eq!(jwks_fetches(), 1, "the second sign-in used the kept keys");
    // The provider rotates its key (same kid): the kept key does not verify, the new set does.
    PROVIDER_KEY.with(|k| *k.borrow_mut() = idp::Key::new());
    sign_in();
    assert_eq!(jwks_fetches(), 2);
    // A forged token makes the isolate ask again, and still fails.
    let (jar, _) = browser(&h, "SignIn");
    let how = Answer {
        forged: true,
        ..Answer::default()
    };
    let (_, r) = answer(&h, &jar, &connector, "ana-123", json!({}), how);
    assert_ne!(r.status, 200, "{}", r.text());
    assert_eq!(jwks_fetches(), 3);
    // After the TTL the set is fetched again.
    h.now_ms
        .set(h.now_ms.get() + gatehouse::cache::UPSTREAM_JWKS_TTL_MS);
    sign_in();
    assert_eq!(jwks_fetches(), 4);
}
