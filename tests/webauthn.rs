//! The WebAuthn relying-party checks (`gatehouse::mfa::webauthn`), against a software
//! authenticator that writes its own CBOR and signs with ES256, RS256 and EdDSA keys.
mod common;

use common::authenticator::{self as authn, Alg, Behaviour};
use gatehouse::crypto::provider::RustCrypto;
use gatehouse::mfa::webauthn::{self, Credential, Expected, WebAuthnError};
use pollster::block_on;
use serde_json::Value;

const RP: &str = "gatehouse.localhost";
const ORIGIN: &str = "http://gatehouse.localhost";

fn origins() -> Vec<String> {
    vec![ORIGIN.to_owned()]
}

fn expected<'a>(challenge: &'a str, origins: &'a [String]) -> Expected<'a> {
    Expected {
        challenge,
        origins,
        rp_id: RP,
    }
}

fn reg_options(challenge: &str) -> Value {
    webauthn::registration_options(RP, ("user-1", "alice", "Alice"), challenge, &[])
}

fn register(
    alg: Alg,
    b: &Behaviour,
) -> (authn::Passkey, Result<webauthn::Registered, WebAuthnError>) {
    let challenge = authn::b64(b"registration-challenge-0123456789");
    let (passkey, response) = authn::create(&reg_options(&challenge), alg, b);
    let o = origins();
    let out = block_on(webauthn::verify_registration(
        &RustCrypto,
        &response,
        &expected(&challenge, &o),
    ));
    (passkey, out)
}

fn sign_in(
    passkey: &mut authn::Passkey,
    stored: &Credential,
    b: &Behaviour,
) -> Result<i64, WebAuthnError> {
    let challenge = authn::b64(b"authentication-challenge-98765432");
    let options = webauthn::authentication_options(RP, &challenge, std::slice::from_ref(stored));
    let response = authn::get(&options, passkey, b);
    let o = origins();
    block_on(webauthn::verify_authentication(
        &RustCrypto,
        &response,
        &expected(&challenge, &o),
        stored,
    ))
    .map(|a| a.counter)
}

#[test]
fn a_passkey_of_each_algorithm_registers_and_then_signs_in() {
    for alg in [Alg::Es256, Alg::Rs256, Alg::EdDsa] {
        let honest = Behaviour::at(ORIGIN);
        let (mut passkey, registered) = register(alg, &honest);
        let registered = registered.unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(registered.credential.id, authn::b64(&passkey.id));
        assert_eq!(registered.credential.counter, 0);
        assert_eq!(registered.credential.transports, ["internal", "hybrid"]);
        assert_eq!(registered.aaguid, "0".repeat(32));
        let counter = sign_in(&mut passkey, &registered.credential, &honest)
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(counter, 1, "{alg:?}");
    }
}

#[test]
fn packed_self_attestation_is_verified_and_a_forged_one_refused() {
    let mut packed = Behaviour::at(ORIGIN);
    packed.fmt = "packed";
    let (_, ok) = register(Alg::Es256, &packed);
    assert!(ok.is_ok(), "{ok:?}");
    packed.forge_attestation = true;
    let (_, forged) = register(Alg::Es256, &packed);
    assert_eq!(forged.unwrap_err(), WebAuthnError::BadSignature);
    let mut other = Behaviour::at(ORIGIN);
    other.fmt = "tpm";
    assert!(matches!(
        register(Alg::Es256, &other).1,
        Err(WebAuthnError::Attestation(_))
    ));
}

#[test]
fn a_registration_from_another_origin_or_for_another_rp_or_without_verification_is_refused() {
    let mut b = Behaviour::at("https://evil.example");
    assert!(matches!(
        register(Alg::Es256, &b).1,
        Err(WebAuthnError::WrongOrigin(o)) if o == "https://evil.example"
    ));
    b = Behaviour::at(ORIGIN);
    b.rp_id = Some("evil.example".into());
    assert_eq!(
        register(Alg::Es256, &b).1.unwrap_err(),
        WebAuthnError::WrongRpId
    );
    b = Behaviour::at(ORIGIN);
    b.user_verified = false;
    assert_eq!(
        register(Alg::Es256, &b).1.unwrap_err(),
        WebAuthnError::UserNotVerified
    );
}

#[test]
fn a_registration_for_another_challenge_is_refused() {
    let (_, response) = authn::create(
        &reg_options(&authn::b64(b"the-challenge-the-page-was-given")),
        Alg::Es256,
        &Behaviour::at(ORIGIN),
    );
    let o = origins();
    let issued = authn::b64(b"the-challenge-this-ceremony-issued");
    let out = block_on(webauthn::verify_registration(
        &RustCrypto,
        &response,
        &expected(&issued, &o),
    ));
    assert_eq!(out.unwrap_err(), WebAuthnError::WrongChallenge);
}

#[test]
fn an_assertion_signed_by_another_key_or_with_a_counter_gone_back_is_refused() {
    let honest = Behaviour::at(ORIGIN);
    let (mut passkey, registered) = register(Alg::Es256, &honest);
    let mut stored = registered.unwrap().credential;
    stored.counter = i64::from(sign_in(&mut passkey, &stored, &honest).unwrap() as u32);

    // A clone of the authenticator replays an old counter.
    let mut cloned = honest.clone();
    cloned.counter = Some(1);
    assert_eq!(
        sign_in(&mut passkey, &stored, &cloned).unwrap_err(),
        WebAuthnError::CounterRegressed
    );

    // Another key answers for the stored credential id.
    let (mut impostor, _) = register(Alg::Es256, &honest);
    impostor.id = passkey.id.clone();
    assert_eq!(
        sign_in(&mut impostor, &stored, &honest).unwrap_err(),
        WebAuthnError::BadSignature
    );

    // A registration response is not an assertion.
    let mut unverified = honest.clone();
    unverified.user_verified = false;
    assert_eq!(
        sign_in(&mut passkey, &stored, &unverified).unwrap_err(),
        WebAuthnError::UserNotVerified
    );
}

#[test]
fn an_authenticator_without_a_counter_keeps_signing_in() {
    let mut none = Behaviour::at(ORIGIN);
    let (mut passkey, registered) = register(Alg::EdDsa, &none);
    let stored = registered.unwrap().credential;
    none.counter = Some(0);
    assert_eq!(sign_in(&mut passkey, &stored, &none), Ok(0));
    assert_eq!(sign_in(&mut passkey, &stored, &none), Ok(0));
}

#[test]
fn garbage_is_a_clear_refusal_not_a_panic() {
    let o = origins();
    let e = expected("abc", &o);
    for payload in [
        serde_json::json!({}),
        serde_json::json!({"id": "AA", "response": {"clientDataJSON": "!!"}}),
        serde_json::json!({"id": "AA", "response": {"clientDataJSON": authn::b64(b"{}"), "attestationObject": "AA"}}),
        serde_json::json!({"id": "AA", "response": {"clientDataJSON": authn::b64(br#"{"type":"webauthn.create","challenge":"abc","origin":"http://gatehouse.localhost"}"#), "attestationObject": authn::b64(&[0xa1, 0x63, b'f', b'm', b't'])}}),
    ] {
        let out = block_on(webauthn::verify_registration(&RustCrypto, &payload, &e));
        assert!(
            matches!(out, Err(WebAuthnError::Malformed(_))),
            "{payload}: {out:?}"
        );
    }
}
