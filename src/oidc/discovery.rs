//! OpenID Provider metadata (OpenID Connect Discovery 1.0 §3, RFC 8414): it lists exactly
//! what is implemented.
use super::{authorize, token};
use serde_json::{json, Value};

/// The discovery document of the provider at `issuer`.
pub fn document(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/me"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/session/end"),
        "revocation_endpoint": format!("{issuer}/token/revocation"),
        "introspection_endpoint": format!("{issuer}/token/introspection"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["form_post", "fragment", "query"],
        "grant_types_supported": token::GRANT_TYPES,
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": authorize::OIDC_SCOPES,
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "amr",
            "name", "picture", "username", "given_name", "family_name", "middle_name", "nickname",
            "preferred_username", "profile", "website", "gender", "birthdate", "zoneinfo", "locale",
            "updated_at", "created_at", "email", "email_verified", "phone_number", "phone_number_verified",
            "address", "custom_data", "identities", "sso_identities", "roles",
        ],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": token::AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": token::AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "prompt_values_supported": ["none", "login", "consent", "create"],
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    })
}
