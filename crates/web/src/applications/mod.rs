//! Applications as the applicant sees them: the status page with receipt
//! data and the mailbox (answers, files, the PDF receipt), reached by access
//! link or citizen account, and the applications API (submission, status,
//! answers, downloads). The office side of the mailbox is part of `cases`.

pub mod api;
pub mod status;
pub mod views;

use crate::platform::error::ErrorBody;
use crate::platform::openapi::{Auth, Op, op, schema};
use crate::platform::{routes::Routes, upload::upload_limit};

pub fn routes() -> Routes {
    Routes::new("applications")
        .merge(status::routes().map(|r| r.layer(upload_limit())))
        .nest("/api/v1", api::routes())
}

/// The operations of this capability under `/api/v1`.
pub const OPERATIONS: &[Op] = &[
    op(
        "post",
        "/applications",
        "applications",
        "Submit an application (Idempotency-Key header: a retry with the same body returns the first; the same key with another body is refused with 422 idempotency.mismatch). Unknown keys in data are refused (422 field.unknown, naming each); values of fields the form's rules hide are not stored. Returns reference and access token",
        Auth::Public,
        Some(schema::<api::SubmitBody>),
        &[
            ("201", "Received", Some(schema::<api::Received>)),
            (
                "200",
                "Already received with this Idempotency-Key and the same body",
                Some(schema::<api::Received>),
            ),
            (
                "422",
                "Per-field problems (`fields` with `path`, `code`, `message`, `messages`; field.unknown names keys the form does not have), or code idempotency.mismatch: the Idempotency-Key was used with another body",
                Some(schema::<ErrorBody>),
            ),
            (
                "404",
                "No published form with this id or key",
                Some(schema::<ErrorBody>),
            ),
        ],
        &[429],
    ),
    op(
        "get",
        "/applications/{reference}",
        "applications",
        "Status, data, files and mailbox of an application",
        Auth::Applicant,
        None,
        &[(
            "200",
            "The application",
            Some(schema::<api::ApplicationBody>),
        )],
        &[],
    ),
    op(
        "post",
        "/applications/{reference}/messages",
        "applications",
        "The applicant answers (text and files as base64; files typed by content)",
        Auth::Applicant,
        Some(schema::<api::AnswerBody>),
        &[("201", "Sent", Some(schema::<api::AnswerCreated>))],
        &[409],
    ),
    op(
        "get",
        "/applications/{reference}/files/{file}",
        "applications",
        "A file of the application; opening a Bescheid records its Bekanntgabe",
        Auth::Applicant,
        None,
        &[("200", "The file (its type detected from the content)", None)],
        &[],
    ),
];
