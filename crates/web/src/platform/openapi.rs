//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/openapi.json`.
//!
//! Built with utoipa's builders from tables rather than
//! per-handler macros (ADR 0008): the handlers take their bodies through the
//! shared `ApiJson` extractor and answer with one error shape, so one table
//! row per operation says everything a client needs. Each capability keeps
//! the table of its operations; [`OPERATIONS`] joins them. A test checks that
//! every operation in the table is routed (never 404/405) and that the
//! document is valid OpenAPI.

use std::sync::{LazyLock, OnceLock};

use axum::{Json, response::IntoResponse};
use serde_json::{Value, json};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, HttpMethod, InfoBuilder, OpenApi, OpenApiBuilder, PathItem,
    PathsBuilder, Required, ResponseBuilder,
    path::{OperationBuilder, ParameterBuilder, ParameterIn},
    request_body::RequestBodyBuilder,
    schema::{ObjectBuilder, Type},
    security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
};

use crate::platform::routes::{Routes, get};

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

pub const fn op(
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

pub const OK: &[(&str, &str)] = &[("200", "OK")];
pub const CREATED: &[(&str, &str)] = &[("201", "Created")];

/// Every operation of `/api/v1`: the capabilities' tables joined.
pub static OPERATIONS: LazyLock<Vec<&'static Op>> = LazyLock::new(crate::api_operations);

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
        for o in OPERATIONS.iter() {
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
                        .description(Some("8 to 100 visible ASCII characters, e.g. a UUID. Bound to the request: the server keeps the SHA-256 of the form and the canonical data (keys sorted); a retry with the same key and body returns the first application (200), the same key with another body is refused (422, code idempotency.mismatch)."))
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

pub fn routes() -> Routes {
    Routes::new("platform").route("/api/openapi.json", get(serve))
}
