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
];
