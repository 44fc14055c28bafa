//! The OpenID Connect provider, mounted at `/oidc`.
pub mod access_token;
pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod clients;
pub mod code_grant;
pub mod discovery;
pub mod error;
pub mod id_token;
pub mod interaction;
pub mod logout;
pub mod resources;
pub mod signing;
pub mod token;
pub mod tokens_info;
