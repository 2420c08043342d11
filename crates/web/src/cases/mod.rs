//! Case work (Sachbearbeitung): the inbox, a case with its history, the
//! actions (claim, status, note, forward, office messages), deciding with a
//! Bescheid, and the cases API.

pub mod api;
pub mod decide;
pub mod staff;
pub mod views;

use serde_json::json;

use crate::platform::openapi::{Auth, CREATED, OK, Op, op};
use crate::platform::routes::Routes;

pub fn routes() -> Routes {
    Routes::new("cases")
        .merge(staff::routes())
        .merge(decide::routes())
        .nest("/api/v1", api::routes().merge(decide::api_routes()))
}

/// The operations of this capability under `/api/v1`.
pub const OPERATIONS: &[Op] = &[
    op(
        "get",
        "/cases",
        "cases",
        "The inbox of the caller's org units (status, mine, unassigned, overdue, reference, before, limit)",
        Auth::Staff,
        None,
        OK,
    ),
    op(
        "post",
        "/cases/{id}/claim",
        "cases",
        "Take the case",
        Auth::Staff,
        None,
        OK,
    ),
    op(
        "post",
        "/cases/{id}/status",
        "cases",
        "Change the status (start, request_documents, documents_received, close, cancel)",
        Auth::Staff,
        Some(|| json!({"action": "close"})),
        &[
            ("200", "Changed"),
            ("409", "Not possible in this status (message says why)"),
        ],
    ),
    op(
        "post",
        "/cases/{id}/notes",
        "cases",
        "Add an internal note",
        Auth::Staff,
        Some(|| json!({"text": "Rückruf vereinbart."})),
        OK,
    ),
    op(
        "post",
        "/cases/{id}/forward",
        "cases",
        "Forward to another org unit",
        Auth::Staff,
        Some(|| json!({"org_unit": "0193…"})),
        OK,
    ),
    op(
        "post",
        "/cases/{id}/messages",
        "cases",
        "Write to the applicant or request documents (with a deadline)",
        Auth::Staff,
        Some(
            || json!({"body": "Bitte reichen Sie den Mietvertrag nach.", "requested_documents": ["Mietvertrag"], "due_date": "2026-12-31"}),
        ),
        CREATED,
    ),
    op(
        "post",
        "/cases/{id}/decide",
        "cases",
        "Decide with a Bescheid from the service's template (approval or rejection), delivered as PDF/A into the mailbox",
        Auth::Staff,
        Some(|| json!({"variant": "approval", "reason": "Alle Unterlagen liegen vor."})),
        &[("200", "Decided"), ("409", "Not possible in this status")],
    ),
    op(
        "get",
        "/cases/{id}/audit",
        "cases",
        "The case's hash-chained audit entries",
        Auth::Staff,
        None,
        OK,
    ),
];
