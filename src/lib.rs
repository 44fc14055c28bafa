//! Gatehouse: an OpenID Connect provider that runs at the edge as a Cloudflare Worker.
//!
//! Everything here but `platform/` is platform-neutral and tested natively: handlers take an
//! [`web::Request`] and return a [`web::Response`]; storage, time and configuration come in
//! through [`app::handle`]'s arguments.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod api;
pub mod app;
pub mod config;
pub mod crypto;
pub mod error;
pub mod experience;
pub mod oidc;
pub mod outbound;
pub mod pages;
pub mod session;
pub mod store;
pub mod web;
mod wire;

#[cfg(target_arch = "wasm32")]
mod platform;
