//! The error below every layer: a failure of our own machinery. The core's errors
//! (`oidc::error`, `experience::Failure`) and the faces' (`web::error`) wrap it; each is
//! turned into its wire form in exactly one place, `wire.rs`.
use crate::crypto::CryptoError;
use crate::store::StoreError;
use std::fmt;

/// A failure of our own machinery, never the client's fault. The client sees only an error
/// id; the detail goes to the log under that id.
#[derive(Debug)]
pub enum InternalError {
    Store(StoreError),
    Crypto(CryptoError),
}

impl fmt::Display for InternalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InternalError::Store(e) => e.fmt(f),
            InternalError::Crypto(e) => e.fmt(f),
        }
    }
}

impl From<StoreError> for InternalError {
    fn from(e: StoreError) -> Self {
        InternalError::Store(e)
    }
}
impl From<CryptoError> for InternalError {
    fn from(e: CryptoError) -> Self {
        InternalError::Crypto(e)
    }
}
