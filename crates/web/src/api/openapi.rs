//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/openapi.json`.
//!
//! Built with utoipa's builders from one table ([`OPERATIONS`]) rather than
//! per-handler macros (ADR 0008): the handlers take their bodies through the
//! shared `ApiJson` extractor and answer with one error shape, so one table
//! row per operation says everything a client needs. A test checks that
//! every operation in the table is routed (never 404/405) and that the
//! document is valid OpenAPI.

use std::sync::OnceLock;

use axum::{Json, Router, response::IntoResponse, routing::get};
use serde_json::{Value, json};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, HttpMethod, InfoBuilder, OpenApi, OpenApiBuilder, PathItem,
    PathsBuilder, Required, ResponseBuilder,
    path::{OperationBuilder, ParameterBuilder, ParameterIn},
    request_body::RequestBodyBuilder,
    schema::{ObjectBuilder, Type},
    security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
};

use crate::AppState;

/// Who may call an operation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Public,
    /// A staff token (`POST /auth/token`), role checked per operation.
    Staff,
    /// The applicant's access token (from the submission) or a staff token.
    Applicant,
}

pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub auth: Auth,
    /// Example request body (JSON), if the operation takes one.
    pub body: Option<fn() -> Value>,
    /// Status codes with their meaning, besides the common errors.
    pub responses: &'static [(&'static str, &'static str)],
}

const fn op(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    auth: Auth,
    body: Option<fn() -> Value>,
    responses: &'static [(&'static str, &'static str)],
) -> Op {
    Op {
        method,
        path,
        tag,
        summary,
        auth,
        body,
        responses,
    }
}

const OK: &[(&str, &str)] = &[("200", "OK")];
const CREATED: &[(&str, &str)] = &[("201", "Created")];

/// Every operation of `/api/v1`.
pub const OPERATIONS: &[Op] = &[
    op(
        "post",
        "/auth/token",
        "auth",
        "Log in with email and password; returns a bearer token",
        Auth::Public,
        Some(
            || json!({"email": "sachbearbeitung@musterstadt.example", "password": "demo", "name": "Fachverfahren"}),
        ),
        CREATED,
    ),
    op(
        "delete",
        "/auth/token",
        "auth",
        "Revoke the calling token",
        Auth::Staff,
        None,
        &[("204", "Revoked")],
    ),
    op(
        "get",
        "/me",
        "auth",
        "The calling staff member with roles per org unit",
        Auth::Staff,
        None,
        OK,
    ),
    op(
        "get",
        "/org-units",
        "org units",
        "The tenant's org units",
        Auth::Public,
        None,
        OK,
    ),
    op(
        "get",
        "/org-units/{id}",
        "org units",
        "One org unit",
        Auth::Public,
        None,
        OK,
    ),
    op(
        "get",
        "/services",
        "catalog",
        "Published services (search with q, filters, paging)",
        Auth::Public,
        None,
        OK,
    ),
    op(
        "post",
        "/services",
        "catalog",
        "Create a service draft (Redaktion)",
        Auth::Staff,
        Some(|| json!({"slug": "hundesteuer", "title": {"de": "Hundesteuer", "en": "Dog tax"}})),
        CREATED,
    ),
    op(
        "get",
        "/services/{id}",
        "catalog",
        "One service (published, or any version for editors)",
        Auth::Public,
        None,
        OK,
    ),
    op(
        "put",
        "/services/{id}",
        "catalog",
        "Change a service draft (Redaktion)",
        Auth::Staff,
        Some(|| json!({"title": {"de": "Hundesteuer", "en": "Dog tax"}})),
        OK,
    ),
    op(
        "post",
        "/services/{id}/submit",
        "catalog",
        "Submit a draft for review",
        Auth::Staff,
        None,
        OK,
    ),
    op(
        "post",
        "/services/{id}/approve",
        "catalog",
        "Approve and publish (a second editor)",
        Auth::Staff,
        None,
        OK,
    ),
    op(
        "post",
        "/services/{id}/reject",
        "catalog",
        "Reject with a comment",
        Auth::Staff,
        Some(|| json!({"comment": "Bitte Gebühren ergänzen."})),
        OK,
    ),
    op(
        "post",
        "/services/{id}/archive",
        "catalog",
        "Archive a service",
        Auth::Staff,
        None,
        OK,
    ),
    op(
        "get",
        "/catalog/export",
        "catalog",
        "The catalog in the exchange format rathaus.catalog/1",
        Auth::Staff,
        None,
        OK,
    ),
    op(
        "post",
        "/catalog/import",
        "catalog",
        "Import services in the exchange format as drafts",
        Auth::Staff,
        Some(|| json!({"format": "rathaus.catalog/1", "services": []})),
        OK,
    ),
    op(
        "get",
        "/forms",
        "forms",
        "Published forms",
        Auth::Public,
        None,
        OK,
    ),
    op(
        "post",
        "/forms",
        "forms",
        "Create a form from the exchange format rathaus.form/1 (Redaktion)",
        Auth::Staff,
        Some(|| json!({"format": "rathaus.form/1", "key": "hundesteuer", "definition": {}})),
        CREATED,
    ),
    op(
        "post",
        "/forms/import",
        "forms",
        "Import a FIM XDatenfelder file (XML body, or multipart with genericode lists)",
        Auth::Staff,
        None,
        CREATED,
    ),
    op(
        "get",
        "/forms/{id}",
        "forms",
        "A published form by id or key",
        Auth::Public,
        None,
        OK,
    ),
    op(
        "put",
        "/forms/{id}",
        "forms",
        "Change a form draft",
        Auth::Staff,
        Some(|| json!({"definition": {}})),
        OK,
    ),
    op(
        "get",
        "/forms/{id}/draft",
        "forms",
        "The form's current draft (Redaktion)",
        Auth::Staff,
        None,
        OK,
    ),
    op(
        "get",
        "/forms/{id}/schema",
        "forms",
        "JSON Schema (2020-12) of the form's data",
        Auth::Public,
        None,
        OK,
    ),
    op(
        "post",
        "/forms/{id}/validate",
        "forms",
        "Validate data; per-field messages in German and English",
        Auth::Public,
        Some(|| json!({"familienname": "Muster"})),
        &[("200", "Valid"), ("422", "Per-field problems")],
    ),
    op(
        "post",
        "/forms/{id}/submit",
        "forms",
        "Submit a form draft for review",
        Auth::Staff,
        None,
        OK,
    ),
    op(
        "post",
        "/forms/{id}/approve",
        "forms",
        "Approve and publish a form (a second editor)",
        Auth::Staff,
        None,
        OK,
    ),
    op(
        "post",
        "/forms/{id}/reject",
        "forms",
        "Reject a form draft",
        Auth::Staff,
        Some(|| json!({"comment": "Feld fehlt."})),
        OK,
    ),
    op(
        "post",
        "/forms/{id}/attach",
        "forms",
        "Attach the form to a service",
        Auth::Staff,
        Some(|| json!({"service": "hundesteuer-anmeldung"})),
        OK,
    ),
    op(
        "post",
        "/applications",
        "applications",
        "Submit an application (Idempotency-Key header: a retry returns the first); returns reference and access token",
        Auth::Public,
        Some(|| json!({"form": "gewerbe-anmeldung", "data": {}})),
        &[
            ("201", "Received"),
            ("200", "Already received with this Idempotency-Key"),
            ("422", "Per-field problems"),
        ],
    ),
    op(
        "get",
        "/applications/{reference}",
        "applications",
        "Status, data, files and mailbox of an application",
        Auth::Applicant,
        None,
        OK,
    ),
    op(
        "post",
        "/applications/{reference}/messages",
        "applications",
        "The applicant answers (text and files as base64; files typed by content)",
        Auth::Applicant,
        Some(
            || json!({"body": "Anbei der Mietvertrag.", "files": [{"name": "mietvertrag.pdf", "content": "JVBERi0xLjQK..."}]}),
        ),
        CREATED,
    ),
    op(
        "get",
        "/applications/{reference}/files/{file}",
        "applications",
        "A file of the application; opening a Bescheid records its Bekanntgabe",
        Auth::Applicant,
        None,
        OK,
    ),
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

fn method(m: &str) -> HttpMethod {
    match m {
        "get" => HttpMethod::Get,
        "post" => HttpMethod::Post,
        "put" => HttpMethod::Put,
        "delete" => HttpMethod::Delete,
        _ => unreachable!("unknown method in the operations table"),
    }
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .example(Some(json!({"error": {"status": 422, "code": "validation",
                    "message": "Bitte prüfen Sie Ihre Eingaben.",
                    "fields": [{"field": "email", "message": "„E-Mail-Adresse“: Bitte geben Sie eine E-Mail-Adresse in der Form name@beispiel.de ein.",
                                "messages": {"de": "…", "en": "…"}}]}})))
                .build(),
        )
        .build()
}

/// Builds the document (once).
pub fn document() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut paths = PathsBuilder::new();
        for o in OPERATIONS {
            let mut b = OperationBuilder::new()
                .tag(o.tag)
                .summary(Some(o.summary))
                .operation_id(Some(format!(
                    "{}{}",
                    o.method,
                    o.path.replace(['/', '{', '}', '-'], "_")
                )));
            for seg in o.path.split('/') {
                if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    b = b.parameter(
                        ParameterBuilder::new()
                            .name(name)
                            .parameter_in(ParameterIn::Path)
                            .required(Required::True)
                            .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
                    );
                }
            }
            if o.path == "/applications" && o.method == "post" {
                b = b.parameter(
                    ParameterBuilder::new()
                        .name("Idempotency-Key")
                        .parameter_in(ParameterIn::Header)
                        .required(Required::False)
                        .description(Some("8 to 100 visible ASCII characters, e.g. a UUID"))
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String))),
                );
            }
            if let Some(example) = o.body {
                b = b.request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(Required::True))
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(ObjectBuilder::new().schema_type(Type::Object)))
                                .example(Some(example()))
                                .build(),
                        )
                        .build(),
                ));
            }
            for (code, text) in o.responses {
                b = b.response(*code, ResponseBuilder::new().description(*text).build());
            }
            b = b
                .response("404", error_response("Not found (or not visible to the caller)"))
                .response("422", error_response("Invalid input: the fields and the fix, in German and English"));
            match o.auth {
                Auth::Public => {}
                Auth::Staff => {
                    b = b
                        .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
                        .response("401", error_response("Missing or invalid token"))
                        .response("403", error_response("The role does not allow this"));
                }
                Auth::Applicant => {
                    b = b
                        .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
                        .response("401", error_response("Missing access token"));
                }
            }
            paths = paths.path(
                format!("/api/v1{}", o.path),
                PathItem::new(method(o.method), b.build()),
            );
        }
        OpenApiBuilder::new()
            .info(
                InfoBuilder::new()
                    .title("rathaus API")
                    .version(env!("CARGO_PKG_VERSION"))
                    .description(Some(
                        "Service catalog, forms, applications and case work of one municipality \
                         (the tenant is chosen by the host name). Errors are JSON with a German or \
                         English message (Accept-Language) naming the field and the fix.",
                    ))
                    .build(),
            )
            .paths(paths.build())
            .components(Some(
                ComponentsBuilder::new()
                    .security_scheme(
                        "bearer",
                        SecurityScheme::Http(
                            HttpBuilder::new()
                                .scheme(HttpAuthScheme::Bearer)
                                .description(Some(
                                    "Staff: a token from POST /api/v1/auth/token. Applicants: the access token returned on submission.",
                                ))
                                .build(),
                        ),
                    )
                    .build(),
            ))
            .build()
    })
}

async fn serve() -> impl IntoResponse {
    Json(document())
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(serve))
}
