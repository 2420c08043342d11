//! Citizen accounts (Bürgerkonto): register, confirm, log in and out,
//! "Meine Anträge", profile.

pub mod pages;
pub mod views;

use crate::platform::{routes::Routes, upload::upload_limit};

pub fn routes() -> Routes {
    Routes::new("accounts").merge(pages::routes().map(|r| r.layer(upload_limit())))
}

/// This capability has no API operations.
pub const OPERATIONS: &[crate::platform::openapi::Op] = &[];
