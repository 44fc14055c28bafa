//! OpenID Provider metadata (OpenID Connect Discovery 1.0 §3, RFC 8414): it lists exactly
//! what is implemented.
//!
//! The document is one JSON text with the issuer and the implemented lists filled in, not a
//! `json!` tree: it is built once per isolate, and the text costs a fraction of the code.
use super::{authorize, token};

const TEMPLATE: &str = r#"{"issuer":"@I","authorization_endpoint":"@I/auth","token_endpoint":"@I/token","userinfo_endpoint":"@I/me","jwks_uri":"@I/jwks","end_session_endpoint":"@I/session/end","revocation_endpoint":"@I/token/revocation","introspection_endpoint":"@I/token/introspection","response_types_supported":["code"],"response_modes_supported":["form_post","fragment","query"],"grant_types_supported":@GRANTS,"code_challenge_methods_supported":["S256"],"scopes_supported":@SCOPES,"claims_supported":["sub","iss","aud","exp","iat","auth_time","nonce","at_hash","sid","amr","name","picture","username","given_name","family_name","middle_name","nickname","preferred_username","profile","website","gender","birthdate","zoneinfo","locale","updated_at","created_at","email","email_verified","phone_number","phone_number_verified","address","custom_data","identities","sso_identities","roles"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["ES256"],"token_endpoint_auth_methods_supported":@AUTH,"revocation_endpoint_auth_methods_supported":@AUTH,"introspection_endpoint_auth_methods_supported":["client_secret_basic","client_secret_post"],"prompt_values_supported":["none","login","consent","create"],"authorization_response_iss_parameter_supported":true,"backchannel_logout_supported":true,"backchannel_logout_session_supported":true,"claims_parameter_supported":false,"request_parameter_supported":false,"request_uri_parameter_supported":false}"#;

fn list(items: &[&str]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

/// The discovery document (JSON text) of the provider at `issuer`.
pub fn document(issuer: &str) -> String {
    // The issuer as the inside of a JSON string.
    let quoted = serde_json::to_string(issuer).unwrap_or_else(|_| "\"\"".to_owned());
    let inner = quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_default();
    TEMPLATE
        .replace("@GRANTS", &list(token::GRANT_TYPES))
        .replace("@SCOPES", &list(authorize::OIDC_SCOPES))
        .replace("@AUTH", &list(token::AUTH_METHODS))
        .replace("@I", inner)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    #[test]
    fn the_document_is_json_naming_this_issuer_and_what_is_implemented() {
        let doc: Value = serde_json::from_str(&super::document("https://id.example")).unwrap();
        assert_eq!(doc["issuer"], "https://id.example");
        assert_eq!(doc["token_endpoint"], "https://id.example/token");
        assert_eq!(
            doc["end_session_endpoint"],
            "https://id.example/session/end"
        );
        assert_eq!(doc["grant_types_supported"][2], "client_credentials");
        assert_eq!(doc["scopes_supported"][0], "openid");
        assert_eq!(doc["token_endpoint_auth_methods_supported"][2], "none");
        assert_eq!(doc["backchannel_logout_supported"], true);
        // An issuer is escaped as JSON, never spliced raw.
        let odd: Value = serde_json::from_str(&super::document("https://a\"b")).unwrap();
        assert_eq!(odd["jwks_uri"], "https://a\"b/jwks");
    }
}
