//! Domain core of rathaus: value types, rules and state machines.
//!
//! This crate does no I/O and knows no framework. Every other layer builds on
//! the types defined here; invalid values cannot be constructed (`parse`).
//! One module per domain concept, named as in the glossary of PRODUCT.md.

pub mod applications;
pub mod appointments;
pub mod audit;
pub mod cases;
pub mod catalog;
pub mod classifier;
pub mod decisions;
pub mod defects;
pub mod forms;
pub mod identity;
pub mod intray;
pub mod notifications;
pub mod outbox;
pub mod payments;
pub mod permissions;
pub mod records;
pub mod routing;
pub mod rules;
pub mod tenancy;
pub mod validation;

pub use validation::{FieldError, ValidationErrors};
