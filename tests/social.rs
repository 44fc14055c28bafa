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
