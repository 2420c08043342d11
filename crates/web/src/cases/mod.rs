//! Case work (Sachbearbeitung): the inbox, a case with its history, the
//! actions (claim, status, note, forward, office messages), deciding with a
//! Bescheid, and the cases API.

pub mod api;
pub mod decide;
pub mod staff;
pub mod views;

use crate::platform::openapi::{Auth, Op, op, query, schema};
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
        &[("200", "A page of cases", Some(schema::<api::Inbox>))],
        &[],
    )
    .with_query(query::<api::InboxParams>),
    op(
        "post",
        "/cases/{id}/claim",
        "cases",
        "Take the case",
        Auth::Staff,
        None,
        &[("200", "Taken", Some(schema::<api::CaseChanged>))],
        &[409],
    ),
    op(
        "post",
        "/cases/{id}/status",
        "cases",
        "Change the status (start, request_documents, documents_received, close, cancel)",
        Auth::Staff,
        Some(schema::<api::StatusBody>),
        &[("200", "Changed", Some(schema::<api::CaseChanged>))],
        &[409],
    ),
    op(
        "post",
        "/cases/{id}/notes",
        "cases",
        "Add an internal note",
        Auth::Staff,
        Some(schema::<api::NoteBody>),
        &[("200", "Noted", Some(schema::<api::CaseChanged>))],
        &[409],
    ),
    op(
        "post",
        "/cases/{id}/forward",
        "cases",
        "Forward to another org unit",
        Auth::Staff,
        Some(schema::<api::ForwardBody>),
        &[("200", "Forwarded", Some(schema::<api::CaseChanged>))],
        &[409],
    ),
    op(
        "post",
        "/cases/{id}/messages",
        "cases",
        "Write to the applicant or request documents (with a deadline)",
        Auth::Staff,
        Some(schema::<api::OfficeMessageBody>),
        &[("201", "Sent", Some(schema::<api::MessageCreated>))],
        &[409],
    ),
    op(
        "post",
        "/cases/{id}/decide",
        "cases",
        "Decide with a Bescheid from the service's template (approval or rejection), delivered as PDF/A into the mailbox",
        Auth::Staff,
        Some(schema::<decide::DecideBody>),
        &[("200", "Decided", Some(schema::<decide::Decided>))],
        &[409],
    ),
    op(
        "get",
        "/cases/{id}/audit",
        "cases",
        "The case's hash-chained audit entries",
        Auth::Staff,
        None,
        &[("200", "The audit entries", Some(schema::<api::Audit>))],
        &[],
    ),
];
