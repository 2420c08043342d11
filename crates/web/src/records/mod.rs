//! The e-file (E-Akte, C6): the file plan, a case's Vorgang with its
//! documents, legal holds, and the hand-over to the archive in xdomea 3.0.0
//! (0501 offer, 0502 evaluation, 0503 package, receipts, destruction on four
//! eyes). Pages and API; handlers parse, call `rathaus_app::records`, render.

pub mod api;
pub mod circulation;
pub mod filing;
pub mod intray;
pub mod seals;
pub mod staff;
pub mod views;

use crate::platform::openapi::{Auth, Op, op, schema};
use crate::platform::routes::Routes;

/// A file to download (an xdomea message or package), for pages and API alike.
fn attachment(content_type: &'static str, name: &str, body: Vec<u8>) -> axum::response::Response {
    use axum::{
        http::{HeaderValue, header},
        response::IntoResponse,
    };
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// The message a page shows for a refused step (invalid input, a workflow
/// rule, an unreadable file); every other error goes to the error page.
fn page_error(
    lang: crate::platform::i18n::Lang,
    e: impl Into<crate::platform::error::AppError>,
) -> Result<String, crate::platform::error::AppError> {
    use crate::platform::error::AppError;
    let e = e.into();
    if matches!(
        e,
        AppError::Validation(_) | AppError::Workflow(_) | AppError::BadFile(_)
    ) {
        Ok(crate::platform::context::describe(lang, &e).0)
    } else {
        Err(e)
    }
}

pub fn routes() -> Routes {
    Routes::new("records")
        .merge(staff::routes())
        .merge(filing::routes())
        .merge(circulation::routes())
        .merge(intray::routes())
        .merge(seals::routes())
        .nest(
            "/api/v1",
            api::routes()
                .merge(filing::api_routes())
                .merge(circulation::api_routes())
                .merge(intray::api_routes())
                .merge(seals::api_routes()),
        )
}

/// The operations of this capability under `/api/v1`.
pub const OPERATIONS: &[Op] = &[
    op(
        "get",
        "/records/plan",
        "records",
        "The file plan (Aktenplan): nodes with their retention rule (years, trigger, A/V/B) and the services filed under each (clerks and Fachadministration)",
        Auth::Staff,
        None,
        &[("200", "The plan, by code", Some(schema::<api::Plan>))],
        &[],
    ),
    op(
        "get",
        "/cases/{id}/record",
        "records",
        "The case's Vorgang: file number, plan node, retention, documents with versions and SHA-256, deletion records (the case's clerks and Fachadministration)",
        Auth::Staff,
        None,
        &[("200", "The Vorgang", Some(schema::<api::CaseRecordBody>))],
        &[],
    ),
    op(
        "put",
        "/records/{id}/hold",
        "records",
        "Set a legal hold (Löschsperre) on a Vorgang: nothing of it is offered or destroyed until it is lifted (Fachadministration)",
        Auth::Staff,
        Some(schema::<api::HoldBody>),
        &[("200", "The Vorgang with its hold", Some(schema::<api::RecordSummary>))],
        &[],
    ),
    op(
        "delete",
        "/records/{id}/hold",
        "records",
        "Lift the legal hold of a Vorgang (Fachadministration)",
        Auth::Staff,
        None,
        &[("200", "The Vorgang without hold", Some(schema::<api::RecordSummary>))],
        &[],
    ),
    op(
        "get",
        "/records/due",
        "records",
        "The Vorgänge whose retention ends before `as_of` (default today), with the plan's disposition (Fachadministration)",
        Auth::Staff,
        None,
        &[("200", "The due list", Some(schema::<api::DueList>))],
        &[],
    )
    .with_query(crate::platform::openapi::query::<api::DueParams>),
    op(
        "post",
        "/records/disposals",
        "records",
        "Start a hand-over (Aussonderung) with everything whose retention ends before `as_of`; its id is the xdomea ProzessID (Fachadministration)",
        Auth::Staff,
        Some(schema::<api::StartDisposal>),
        &[("201", "Started", Some(schema::<api::DisposalBody>))],
        &[409],
    ),
    op(
        "get",
        "/records/disposals/{id}",
        "records",
        "A hand-over with its files, their proposal, the archive's decision and receipt (Fachadministration)",
        Auth::Staff,
        None,
        &[("200", "The hand-over", Some(schema::<api::DisposalBody>))],
        &[],
    ),
    op(
        "get",
        "/records/disposals/{id}/0501",
        "records",
        "The offer (xdomea 3.0.0 Aussonderung.Anbieteverzeichnis.0501) of every file of the hand-over, valid against the official XSD",
        Auth::Staff,
        None,
        &[("200", "The 0501 message (XML)", None)],
        &[],
    )
    .with_raw_response("application/xml"),
    op(
        "post",
        "/records/disposals/{id}/0502",
        "records",
        "Read the archive's evaluation (Aussonderung.Bewertungsverzeichnis.0502): each offered file A (archive) or V (destroy)",
        Auth::Staff,
        None,
        &[("200", "The hand-over with the decisions", Some(schema::<api::DisposalBody>))],
        &[409],
    )
    .with_raw_body("application/xml"),
    op(
        "get",
        "/records/disposals/{id}/0503",
        "records",
        "The package (Aussonderung.Aussonderung.0503) of the files the archive takes: a ZIP `<ProzessID>_Aussonderung.Aussonderung.0503.zip` with the XML and the primary documents as `<UUID>.<ext>`",
        Auth::Staff,
        None,
        &[("200", "The 0503 package (ZIP)", None)],
        &[409],
    )
    .with_raw_response("application/zip"),
    op(
        "post",
        "/records/disposals/{id}/receipt",
        "records",
        "Read a receipt of the archive (0504 offer received, 0505 package received, 0506 import confirmed, 0507 evaluation confirmed)",
        Auth::Staff,
        None,
        &[("200", "The hand-over with the receipt", Some(schema::<api::DisposalBody>))],
        &[409],
    )
    .with_raw_body("application/xml"),
    op(
        "post",
        "/records/disposals/{id}/destruction",
        "records",
        "Ask for the destruction of the V files and of the originals the archive confirmed (first of four eyes)",
        Auth::Staff,
        None,
        &[("200", "Asked; a second person approves", Some(schema::<api::DisposalBody>))],
        &[409],
    ),
    op(
        "post",
        "/records/disposals/{id}/destruction/approve",
        "records",
        "Approve the destruction (a second person): the content is deleted from database and file store, a deletion record (what, when, who, SHA-256) stays",
        Auth::Staff,
        None,
        &[("200", "Destroyed", Some(schema::<api::Destroyed>))],
        &[409],
    ),
    op(
        "get",
        "/records/search",
        "records",
        "Full-text search in the files: every document's text (PDF text layer, mail, notes), file numbers and references; clerks see the Vorgänge of their units, the Fachadministration all",
        Auth::Staff,
        None,
        &[("200", "Hits with a plain-text snippet and the byte ranges of the matches", Some(schema::<filing::SearchResults>))],
        &[],
    )
    .with_query(crate::platform::openapi::query::<filing::SearchParams>),
    op(
        "post",
        "/records/{id}/documents",
        "records",
        "File a further document into a Vorgang (upload or scan: PDF, PNG, JPEG, mail, text; the type comes from the content, at most 25 MB); sealed and indexed within seconds",
        Auth::Staff,
        None,
        &[("201", "Filed", Some(schema::<api::DocumentBody>))],
        &[409, 413, 422],
    )
    .with_raw_body("application/octet-stream")
    .with_query(crate::platform::openapi::query::<filing::UploadParams>),
    op(
        "get",
        "/records/documents/{id}",
        "records",
        "A filed document's content (newest version)",
        Auth::Staff,
        None,
        &[("200", "The content, as filed (PDF, PNG, JPEG, mail, text or JSON)", None)],
        &[],
    )
    .with_raw_response("*/*"),
    op(
        "get",
        "/records/documents/{id}/seal",
        "records",
        "The electronic seal of a filed document (rathaus-seal/1: Ed25519 signature over its SHA-256 with the tenant's X.509 certificate), to check it offline",
        Auth::Staff,
        None,
        &[("200", "The seal file (`.siegel.json`)", Some(schema::<filing::SealFile>))],
        &[409],
    ),
    op(
        "post",
        "/records/documents/{id}/move",
        "records",
        "Move a document into another Vorgang (open or closed, without hold; access to both needed); audited on both",
        Auth::Staff,
        Some(schema::<filing::MoveBody>),
        &[("200", "The document in its new Vorgang", Some(schema::<api::DocumentBody>))],
        &[409],
    ),
    op(
        "post",
        "/cases/{id}/record/notes",
        "records",
        "File a note (Vermerk) marked relevant into the case's Vorgang",
        Auth::Staff,
        Some(schema::<filing::NoteBody>),
        &[("201", "Filed", Some(schema::<api::DocumentBody>))],
        &[409],
    ),
    op(
        "get",
        "/records/plan/changes",
        "records",
        "Changes of the file plan: pending first, then the last decided (Fachadministration)",
        Auth::Staff,
        None,
        &[("200", "The changes", Some(schema::<filing::PlanChanges>))],
        &[],
    ),
    op(
        "post",
        "/records/plan/changes",
        "records",
        "Request a change of the file plan (new node, node's title and retention, a service's node, the file number scheme); it takes effect when a second person approves it",
        Auth::Staff,
        Some(schema::<rathaus_domain::records::PlanChange>),
        &[("201", "Requested", Some(schema::<filing::PlanChangeBody>))],
        &[409],
    ),
    op(
        "post",
        "/records/plan/changes/{id}/approve",
        "records",
        "Approve (apply) a plan change — not one's own (four eyes)",
        Auth::Staff,
        None,
        &[("200", "Approved and in effect", Some(schema::<filing::PlanChangeBody>))],
        &[409],
    ),
    op(
        "post",
        "/records/plan/changes/{id}/reject",
        "records",
        "Reject a plan change (its requester withdraws it so)",
        Auth::Staff,
        None,
        &[("200", "Rejected", Some(schema::<filing::PlanChangeBody>))],
        &[409],
    ),
    op(
        "post",
        "/records/{id}/circulations",
        "records",
        "Start an Umlaufmappe: the Vorgang (or one document) goes to 1 to 10 staff members in order",
        Auth::Staff,
        Some(schema::<circulation::StartBody>),
        &[("201", "Started; the first person's step is current", Some(schema::<circulation::CirculationBody>))],
        &[409],
    ),
    op(
        "get",
        "/records/{id}/circulations",
        "records",
        "The Umlaufmappen of a Vorgang",
        Auth::Staff,
        None,
        &[("200", "Newest first", Some(schema::<circulation::RecordCirculations>))],
        &[],
    ),
    op(
        "get",
        "/circulations",
        "records",
        "The caller's Umlaufmappen: waiting for their sign-off, and started by them",
        Auth::Staff,
        None,
        &[("200", "Waiting and started", Some(schema::<circulation::Circulations>))],
        &[],
    ),
    op(
        "get",
        "/circulations/{id}",
        "records",
        "One Umlaufmappe with its steps",
        Auth::Staff,
        None,
        &[("200", "The Umlaufmappe", Some(schema::<circulation::CirculationBody>))],
        &[],
    ),
    op(
        "post",
        "/circulations/{id}/sign",
        "records",
        "Sign off the current step (its person only): on to the next, or completed",
        Auth::Staff,
        Some(schema::<circulation::StepComment>),
        &[("200", "Signed", Some(schema::<circulation::CirculationBody>))],
        &[409],
    ),
    op(
        "post",
        "/circulations/{id}/return",
        "records",
        "Return the Umlaufmappe to its sender with a comment (the current step's person)",
        Auth::Staff,
        Some(schema::<circulation::ReturnComment>),
        &[("200", "Returned", Some(schema::<circulation::CirculationBody>))],
        &[409],
    ),
    op(
        "post",
        "/circulations/{id}/cancel",
        "records",
        "Withdraw a running Umlaufmappe (its sender only)",
        Auth::Staff,
        None,
        &[("200", "Withdrawn", Some(schema::<circulation::CirculationBody>))],
        &[409],
    ),
    op(
        "post",
        "/intray",
        "records",
        "Put incoming mail into the electronic in-tray (PDF, PNG, JPEG, .eml, text; typed by content, at most 25 MB): its text is extracted and references, rules and the learned classifier propose where it goes",
        Auth::Staff,
        None,
        &[("201", "In the in-tray with its proposals", Some(schema::<intray::IntrayItemBody>))],
        &[413, 422],
    )
    .with_raw_body("application/octet-stream")
    .with_query(crate::platform::openapi::query::<intray::UploadParams>),
    op(
        "get",
        "/intray",
        "records",
        "The open items of the in-tray, newest first",
        Auth::Staff,
        None,
        &[("200", "Open items", Some(schema::<intray::IntrayList>))],
        &[],
    ),
    op(
        "get",
        "/intray/{id}",
        "records",
        "One item with its proposals and the Vorgänge to choose from",
        Auth::Staff,
        None,
        &[("200", "The item", Some(schema::<intray::IntrayItemView>))],
        &[],
    ),
    op(
        "get",
        "/intray/{id}/content",
        "records",
        "The item's content as received",
        Auth::Staff,
        None,
        &[("200", "The content, as received (PDF, PNG, JPEG, mail or text)", None)],
        &[],
    )
    .with_raw_response("*/*"),
    op(
        "post",
        "/intray/{id}/file",
        "records",
        "A person confirms where the item goes: it is filed into the Vorgang (by id, file number or reference) as a document",
        Auth::Staff,
        Some(schema::<intray::FileBody>),
        &[("200", "Filed", Some(schema::<intray::Filed>))],
        &[409],
    ),
    op(
        "post",
        "/intray/{id}/discard",
        "records",
        "Discard an open item: its content is deleted",
        Auth::Staff,
        None,
        &[("204", "Discarded", None)],
        &[409],
    ),
    op(
        "get",
        "/intray/rules",
        "records",
        "The in-tray's routing rules (sender, keywords → plan node), highest priority first",
        Auth::Staff,
        None,
        &[("200", "The rules", Some(schema::<intray::Rules>))],
        &[],
    ),
    op(
        "post",
        "/intray/rules",
        "records",
        "Add a routing rule (Fachadministration)",
        Auth::Staff,
        Some(schema::<intray::RuleBody>),
        &[("201", "Added", Some(schema::<intray::RuleBody>))],
        &[],
    ),
    op(
        "delete",
        "/intray/rules/{id}",
        "records",
        "Delete a routing rule (Fachadministration)",
        Auth::Staff,
        None,
        &[("204", "Deleted", None)],
        &[],
    ),
    op(
        "get",
        "/intray/classifier",
        "records",
        "The learned classifier: when trained, on how many documents, its accuracy on a held-out fifth and the majority baseline",
        Auth::Staff,
        None,
        &[("200", "The classifier's measurement", Some(schema::<intray::ClassifierBody>))],
        &[],
    ),
    op(
        "post",
        "/intray/classifier/train",
        "records",
        "Train the classifier on the filed documents (labelled with their Vorgang's plan node) and measure it (Fachadministration)",
        Auth::Staff,
        None,
        &[("200", "Trained and measured", Some(schema::<intray::ClassifierBody>))],
        &[409],
    ),
    op(
        "post",
        "/seals/verify",
        "records",
        "Check a document (the raw bytes, at most 25 MB): is it filed here, and is its seal valid? Anybody; rate-limited per client",
        Auth::Public,
        None,
        &[("200", "The verdict", Some(schema::<seals::SealCheckBody>))],
        &[413, 429],
    )
    .with_raw_body("application/octet-stream"),
    op(
        "get",
        "/seals/certificate",
        "records",
        "The authority's seal certificates (PEM) for offline checks (`rathaus admin verify-seal FILE --seal … --cert …`)",
        Auth::Public,
        None,
        &[("200", "PEM", None)],
        &[],
    )
    .with_raw_response("application/x-pem-file"),
];
