//! Gatehouse: an OpenID Connect provider that runs at the edge as a Cloudflare Worker.
//!
//! Everything here but `platform/` is platform-neutral and tested natively: handlers take an
//! [`web::Request`] and return a [`web::Response`]; storage, time and configuration come in
//! through [`app::handle`]'s arguments. The layers and the rule between them are in
//! `ARCHITECTURE.md`; `tests/architecture.rs` enforces it.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

// Faces: HTTP in, HTTP out (ARCHITECTURE.md).
pub mod api;
pub mod app;
pub mod endpoints;
pub mod pages;
pub mod web;
mod wire;

// Core: the OIDC protocol, the sign-in experience, identity, sessions and words.
pub mod account;
pub mod cache;
pub mod ctx;
pub mod experience;
pub mod i18n;
pub mod identity;
pub mod mfa;
pub mod oidc;
pub mod saml;
pub mod session;
pub mod social;

// Below the core: storage, cryptography, configuration, outbound calls.
pub mod clock;
pub mod config;
pub mod crypto;
pub mod error;
pub mod json;
pub mod outbound;
pub mod store;
pub mod uri;

#[cfg(target_arch = "wasm32")]
mod platform;
