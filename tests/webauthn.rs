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

// ---- Vectors made by real browsers and authenticators, from duo-labs/py_webauthn's tests
// (https://github.com/duo-labs/py_webauthn, tests/test_verify_registration_response.py and
// tests/test_verify_authentication_response.py, commit 00e5dc8): relying party `localhost`,
// origin `http://localhost:5000`.

fn localhost() -> Vec<String> {
    vec![
        "https://foo.bar".to_owned(),
        "http://localhost:5000".to_owned(),
    ]
}

fn at_localhost<'a>(challenge: &'a str, origins: &'a [String]) -> Expected<'a> {
    Expected {
        challenge,
        origins,
        rp_id: "localhost",
    }
}

fn stored(id: &str, key: &str, counter: i64) -> Credential {
    Credential {
        id: id.to_owned(),
        public_key: key.to_owned(),
        counter,
        transports: Vec::new(),
    }
}

#[test]
fn py_webauthn_none_attestation_vector_registers_with_its_key_and_counter() {
    let payload = serde_json::json!({
        "id": "9y1xA8Tmg1FEmT-c7_fvWZ_uoTuoih3OvR45_oAK-cwHWhAbXrl2q62iLVTjiyEZ7O7n-CROOY494k7Q3xrs_w",
        "rawId": "9y1xA8Tmg1FEmT-c7_fvWZ_uoTuoih3OvR45_oAK-cwHWhAbXrl2q62iLVTjiyEZ7O7n-CROOY494k7Q3xrs_w",
        "response": {
            "attestationObject": "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVjESZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2NFAAAAFwAAAAAAAAAAAAAAAAAAAAAAQPctcQPE5oNRRJk_nO_371mf7qE7qIodzr0eOf6ACvnMB1oQG165dqutoi1U44shGezu5_gkTjmOPeJO0N8a7P-lAQIDJiABIVggSFbUJF-42Ug3pdM8rDRFu_N5oiVEysPDB6n66r_7dZAiWCDUVnB39FlGypL-qAoIO9xWHtJygo2jfDmHl-_eKFRLDA",
            "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiVHdON240V1R5R0tMYzRaWS1xR3NGcUtuSE00bmdscXN5VjBJQ0psTjJUTzlYaVJ5RnRya2FEd1V2c3FsLWdrTEpYUDZmbkYxTWxyWjUzTW00UjdDdnciLCJvcmlnaW4iOiJodHRwOi8vbG9jYWxob3N0OjUwMDAiLCJjcm9zc09yaWdpbiI6ZmFsc2V9"
        },
        "type": "public-key",
        "clientExtensionResults": {}
    });
    let challenge =
        "TwN7n4WTyGKLc4ZY-qGsFqKnHM4nglqsyV0ICJlN2TO9XiRyFtrkaDwUvsql-gkLJXP6fnF1MlrZ53Mm4R7Cvw";
    let o = localhost();
    let r = block_on(webauthn::verify_registration(
        &RustCrypto,
        &payload,
        &at_localhost(challenge, &o),
    ))
    .unwrap();
    assert_eq!(
        r.credential.id,
        "9y1xA8Tmg1FEmT-c7_fvWZ_uoTuoih3OvR45_oAK-cwHWhAbXrl2q62iLVTjiyEZ7O7n-CROOY494k7Q3xrs_w"
    );
    assert_eq!(
        r.credential.public_key,
        "pQECAyYgASFYIEhW1CRfuNlIN6XTPKw0RbvzeaIlRMrDwwep-uq_-3WQIlgg1FZwd_RZRsqS_qgKCDvcVh7ScoKNo3w5h5fv3ihUSww"
    );
    assert_eq!(r.credential.counter, 23);
    assert_eq!(r.aaguid, "0".repeat(32));
    // The same response for another relying party is refused.
    let mut other = at_localhost(challenge, &o);
    other.rp_id = "example.com";
    let refused = block_on(webauthn::verify_registration(&RustCrypto, &payload, &other));
    assert_eq!(refused.unwrap_err(), WebAuthnError::WrongRpId);
}

#[test]
fn py_webauthn_rsa_and_ec2_assertion_vectors_verify_and_move_the_counter() {
    let o = localhost();
    let rsa = serde_json::json!({
        "id": "ZoIKP1JQvKdrYj1bTUPJ2eTUsbLeFkv-X5xJQNr4k6s",
        "rawId": "ZoIKP1JQvKdrYj1bTUPJ2eTUsbLeFkv-X5xJQNr4k6s",
        "response": {
            "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ",
            "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiaVBtQWkxUHAxWEw2b0FncTNQV1p0WlBuWmExekZVRG9HYmFRMF9LdlZHMWxGMnMzUnRfM280dVN6Y2N5MHRtY1RJcFRUVDRCVTFULUk0bWFhdm5kalEiLCJvcmlnaW4iOiJodHRwOi8vbG9jYWxob3N0OjUwMDAiLCJjcm9zc09yaWdpbiI6ZmFsc2V9",
            "signature": "iOHKX3erU5_OYP_r_9HLZ-CexCE4bQRrxM8WmuoKTDdhAnZSeTP0sjECjvjfeS8MJzN1ArmvV0H0C3yy_FdRFfcpUPZzdZ7bBcmPh1XPdxRwY747OrIzcTLTFQUPdn1U-izCZtP_78VGw9pCpdMsv4CUzZdJbEcRtQuRS03qUjqDaovoJhOqEBmxJn9Wu8tBi_Qx7A33RbYjlfyLm_EDqimzDZhyietyop6XUcpKarKqVH0M6mMrM5zTjp8xf3W7odFCadXEJg-ERZqFM0-9Uup6kJNLbr6C5J4NDYmSm3HCSA6lp2iEiMPKU8Ii7QZ61kybXLxsX4w4Dm3fOLjmDw",
            "userHandle": "T1RWa1l6VXdPRFV0WW1NNVlTMDBOVEkxTFRnd056Z3RabVZpWVdZNFpEVm1ZMk5p"
        },
        "type": "public-key",
        "clientExtensionResults": {}
    });
    let rsa_key = "pAEDAzkBACBZAQDfV20epzvQP-HtcdDpX-cGzdOxy73WQEvsU7Dnr9UWJophEfpngouvgnRLXaEUn_d8HGkp_HIx8rrpkx4BVs6X_B6ZjhLlezjIdJbLbVeb92BaEsmNn1HW2N9Xj2QM8cH-yx28_vCjf82ahQ9gyAr552Bn96G22n8jqFRQKdVpO-f-bvpvaP3IQ9F5LCX7CUaxptgbog1SFO6FI6ob5SlVVB00lVXsaYg8cIDZxCkkENkGiFPgwEaZ7995SCbiyCpUJbMqToLMgojPkAhWeyktu7TlK6UBWdJMHc3FPAIs0lH_2_2hKS-mGI1uZAFVAfW1X-mzKL0czUm2P1UlUox7IUMBAAE";
    let challenge =
        "iPmAi1Pp1XL6oAgq3PWZtZPnZa1zFUDoGbaQ0_KvVG1lF2s3Rt_3o4uSzccy0tmcTIpTTT4BU1T-I4maavndjQ";
    let cred = stored("ZoIKP1JQvKdrYj1bTUPJ2eTUsbLeFkv-X5xJQNr4k6s", rsa_key, 0);
    let a = block_on(webauthn::verify_authentication(
        &RustCrypto,
        &rsa,
        &at_localhost(challenge, &o),
        &cred,
    ))
    .unwrap();
    assert_eq!(a.counter, 1);
    // Its user handle is what the authenticator was given at registration.
    let (_, handle) = webauthn::assertion_ids(&rsa).unwrap();
    assert_eq!(
        handle.as_deref(),
        Some("OTVkYzUwODUtYmM5YS00NTI1LTgwNzgtZmViYWY4ZDVmY2Ni")
    );

    let ec2 = serde_json::json!({
        "id": "AXmOjWWZH67pgl5_gAbKVBqoL2dyHHGEWZLspIsCwULG0hZ3HyuGgvkaRcSOLq9W72XtegcvFYXIdlafrilbtVnx2Q14gNbfSQQP2sgNEAif4MjHtGpeVB0BfFawCs85Y3XY_j4sxthVnyTY_Q",
        "rawId": "AXmOjWWZH67pgl5_gAbKVBqoL2dyHHGEWZLspIsCwULG0hZ3HyuGgvkaRcSOLq9W72XtegcvFYXIdlafrilbtVnx2Q14gNbfSQQP2sgNEAif4MjHtGpeVB0BfFawCs85Y3XY_j4sxthVnyTY_Q",
        "response": {
            "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFYN-Mog",
            "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiNnpyU1JYOEN4d1BTWEVBclh5WEwydHBiNnJCN1N0YXIwckxWSWo1cnZmNzRtWktGNWlyNzE1WG1nejV0QV9HeUhleE40b1hmclE4ODlBclZDTGFSZEEiLCJvcmlnaW4iOiJodHRwOi8vbG9jYWxob3N0OjUwMDAiLCJjcm9zc09yaWdpbiI6ZmFsc2V9",
            "signature": "MEUCIQDBqeI274exaKWGQz37g7yo1--TVcZSCcYVftZ1AnEJkQIgNw-nlx-_U9rVfFfER8oX6BlYZTuPFyGaL_wCDY23s0E",
            "userHandle": "TldNMFlqYzNOVFF0WW1NNE5DMDBaakprTFRrME9EVXROR05rTnpreVkyTTROVEUz"
        },
        "type": "public-key",
        "clientExtensionResults": {}
    });
    let ec2_key = "pQECAyYgASFYIFm1Py-FzzFOuwXbRbTr95SiDxuB1BkZsEEJxFhquzqkIlggL1U1T713Jo_2muzhXvpbwRNdoAs8CYK6PflvY1MBdCI";
    let challenge =
        "6zrSRX8CxwPSXEArXyXL2tpb6rB7Star0rLVIj5rvf74mZKF5ir715Xmgz5tA_GyHexN4oXfrQ889ArVCLaRdA";
    let id = ec2["id"].as_str().unwrap();
    let a = block_on(webauthn::verify_authentication(
        &RustCrypto,
        &ec2,
        &at_localhost(challenge, &o),
        &stored(id, ec2_key, 1_625_263_263),
    ))
    .unwrap();
    assert_eq!(a.counter, 0x60DF_8CA2);
    // The stored counter already there: a replay or a clone.
    let again = block_on(webauthn::verify_authentication(
        &RustCrypto,
        &ec2,
        &at_localhost(challenge, &o),
        &stored(id, ec2_key, 0x60DF_8CA2),
    ));
    assert_eq!(again.unwrap_err(), WebAuthnError::CounterRegressed);
}

#[test]
fn py_webauthn_vectors_with_the_wrong_key_or_without_user_verification_are_refused() {
    let o = localhost();
    let wrong_key = serde_json::json!({
        "id": "FviUBZA3FGMxEm3A1K2T8MhuEBLp4qQsV9ScAKYrpdw2kbGnqx24tF4ev6PEHEYC3g8z6HMJh7dYHe3Uuq7_8Q",
        "response": {
            "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAJA",
            "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoienNmaU1aajE2VFVWQ3JUNXREUllYZFlsVXJKcDd6bl9VTmQ1Tm1Cb2NQYzRJMmRLWmJlRVdwd0JBd0E0czZvSGtWWDZfbHlfamdwNzQzZHlpV0hZWXciLCJvcmlnaW4iOiJodHRwOi8vbG9jYWxob3N0OjUwMDAiLCJjcm9zc09yaWdpbiI6ZmFsc2V9",
            "signature": "MEQCIBX9B1LaLaQ0LYJsRv7cOyMS-Do1rJfFJoF9oO1tHMA4AiBRKdNneMKPlN53i8uoTZ5y9Gj4ORZySmiercS38655_g"
        }
    });
    let rsa_key = "pAEDAzkBACBZAQDfV20epzvQP-HtcdDpX-cGzdOxy73WQEvsU7Dnr9UWJophEfpngouvgnRLXaEUn_d8HGkp_HIx8rrpkx4BVs6X_B6ZjhLlezjIdJbLbVeb92BaEsmNn1HW2N9Xj2QM8cH-yx28_vCjf82ahQ9gyAr552Bn96G22n8jqFRQKdVpO-f-bvpvaP3IQ9F5LCX7CUaxptgbog1SFO6FI6ob5SlVVB00lVXsaYg8cIDZxCkkENkGiFPgwEaZ7995SCbiyCpUJbMqToLMgojPkAhWeyktu7TlK6UBWdJMHc3FPAIs0lH_2_2hKS-mGI1uZAFVAfW1X-mzKL0czUm2P1UlUox7IUMBAAE";
    let challenge =
        "zsfiMZj16TUVCrT5tDRYXdYlUrJp7zn_UNd5NmBocPc4I2dKZbeEWpwBAwA4s6oHkVX6_ly_jgp743dyiWHYYw";
    let id = wrong_key["id"].as_str().unwrap();
    let out = block_on(webauthn::verify_authentication(
        &RustCrypto,
        &wrong_key,
        &at_localhost(challenge, &o),
        &stored(id, rsa_key, 35),
    ));
    assert_eq!(out.unwrap_err(), WebAuthnError::BadSignature);

    let no_uv = serde_json::json!({
        "id": "4-5MZF69j3n2B6Z99dUN0fNrAQmrjELJIebWVw8aKfw1EQKg28Tx40R_kw-1pcrfSgJFKm3mCtAtBgSRWgDMng",
        "response": {
            "authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MBAAAAIQ",
            "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoidW1HZW1YSklQQlhQeGtEOEhqYW51djlCRG9yOFo3TzNhUGR0T2dNQ2RXNFBBZnFEWDQzRUZsaHJzRjBQVzkwZGY1enJnYnQ3WVZNUkFhMjd0Q2RIenciLCJvcmlnaW4iOiJodHRwOi8vbG9jYWxob3N0OjUwMDAiLCJjcm9zc09yaWdpbiI6ZmFsc2V9",
            "signature": "MEUCIGp5ADnU_SFvT4J_bKvQJ4Pc1GmANhbYq5GioOLjyUrxAiEA6Kk5qAZb8MLY-jyTiJLr_R9Fke02UHkxsRB0dnZt2X8"
        }
    });
    let key = "pQECAyYgASFYIOQ5TKpXJR2cV76Wgfge9BkLkEhLxVjhFjM1jKHYOcqpIlggaiNy1blt3OU8Hsmg041HUYP7eajgL7fk3nSuTEjYCwU";
    let challenge =
        "umGemXJIPBXPxkD8Hjanuv9BDor8Z7O3aPdtOgMCdW4PAfqDX43EFlhrsF0PW90df5zrgbt7YVMRAa27tCdHzw";
    let id = no_uv["id"].as_str().unwrap();
    let out = block_on(webauthn::verify_authentication(
        &RustCrypto,
        &no_uv,
        &at_localhost(challenge, &o),
        &stored(id, key, 32),
    ));
    assert_eq!(out.unwrap_err(), WebAuthnError::UserNotVerified);
}

#[test]
fn py_webauthn_ed25519_vector_verifies_through_its_cose_key() {
    use gatehouse::crypto::provider::{PlatformCrypto, PublicKey};
    use sha2::Digest;
    // An OKP (Ed25519) COSE key and an assertion it signed: authenticatorData || SHA-256(clientDataJSON).
    let key = webauthn::cose_key(&authn::unb64(
        "pAEBAycgBiFYIMz6_SUFLiDid2Yhlq0YboyJ-CDrIrNpkPUGmJp4D3Dp",
    ))
    .unwrap();
    assert!(matches!(key, PublicKey::EdDsa { .. }));
    let mut message = authn::unb64("SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MBAAAABw");
    message.extend(sha2::Sha256::digest(authn::unb64("eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiZVo0ZWVBM080ank1Rkl6cURhU0o2SkROR3UwYkJjNXpJMURqUV9rTHNvMVdOcWtHNms1bUNZZjFkdFFoVlVpQldaV2xaa3pSNU1GZWVXQ3BKUlVOWHciLCJvcmlnaW4iOiJodHRwOi8vbG9jYWxob3N0OjUwMDAiLCJjcm9zc09yaWdpbiI6ZmFsc2V9")));
    let signature = authn::unb64(
        "RRWV8mYDRvK7YdQgdtZD4pJ2dh1D_IWZ_D6jsZo6FHJBoenbj0CVT5nA20vUzlRhN4R6dOEUHmUwP1F8eRBhBg",
    );
    assert_eq!(
        block_on(RustCrypto.verify_key(&key, &message, &signature)),
        Ok(true)
    );
    message.push(0);
    assert_eq!(
        block_on(RustCrypto.verify_key(&key, &message, &signature)),
        Ok(false)
    );
}
