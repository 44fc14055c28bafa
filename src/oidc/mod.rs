//! The OpenID Connect provider, mounted at `/oidc`.
pub mod access_token;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod resources;
pub mod signing;
pub mod token;
