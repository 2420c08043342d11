//! What every capability shares: request context (tenant, language), the one
//! error type, security (headers, CSRF, limits), sessions, messages, assets,
//! metrics and the operations routes, the layout, who is asking (staff,
//! citizen, API token), uploads, form rendering, the mailbox thread, the
//! submission cache, the legal pages, the OpenAPI document and the route
//! registry.
//!
//! Capabilities import only from here (and from the other crates), never from
//! each other; [`import_rule`] checks that.

pub mod api_auth;
pub mod assets;
pub mod auth;
pub mod client;
pub mod context;
pub mod editorial;
pub mod encoding;
pub mod error;
pub mod form_input;
pub mod form_render;
pub mod i18n;
#[cfg(test)]
mod import_rule;
pub mod intake;
pub mod json;
pub mod layout;
pub mod legal;
pub mod metrics;
pub mod multipart;
pub mod openapi;
pub mod ops;
pub mod page_cache;
pub mod payment;
pub mod routes;
pub mod security;
pub mod sessions;
pub mod thread;
pub mod upload;
pub mod workflow;

pub use crate::AppState;
