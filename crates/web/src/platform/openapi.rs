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
use utoipa::{
    ToSchema,
    openapi::{
        ComponentsBuilder, ContentBuilder, HttpMethod, InfoBuilder, OpenApi, OpenApiBuilder,
        PathItem, PathsBuilder, Ref, RefOr, Required, ResponseBuilder,
        path::{OperationBuilder, Parameter, ParameterBuilder, ParameterIn},
        request_body::RequestBodyBuilder,
        schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
    },
};

use crate::platform::{
    error::ErrorBody,
    routes::{Routes, get},
};

/// Who may call an operation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Public,
    /// A staff token (`POST /auth/token`), role checked per operation.
    Staff,
    /// The applicant's access token (from the submission) or a staff token.
    Applicant,
}

/// The named schemas a schema refers to are collected here.
pub type Components = Vec<(String, RefOr<Schema>)>;
/// A body's schema (a reference into the components it adds).
pub type SchemaFn = fn(&mut Components) -> RefOr<Schema>;
/// The parameters (query) of an operation.
pub type ParamsFn = fn() -> Vec<Parameter>;
/// A documented answer: status, meaning, JSON body (`None`: no body).
pub type Resp = (&'static str, &'static str, Option<SchemaFn>);

pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub auth: Auth,
    /// The JSON request body the handler parses, if the operation takes one.
    pub body: Option<SchemaFn>,
    /// Query parameters.
    pub query: Option<ParamsFn>,
    /// The body may be left out (a workflow step without a comment).
    pub body_optional: bool,
    /// The answers of success.
    pub responses: &'static [Resp],
    /// A raw (not JSON) request body: its media type (an xdomea message
    /// as `application/xml`).
    pub raw_body: Option<&'static str>,
    /// The media type of the success answers when they are not JSON (a
    /// document as `application/xml`, a package as `application/zip`).
    pub raw_response: Option<&'static str>,
    /// Error statuses besides those implied by the rest of the row (401/403
    /// by `auth`; 413/415/422 by a body; 400 by query parameters; 404 by
    /// path parameters): e.g. 409 or 429.
    pub errors: &'static [u16],
    /// An Open311 GeoReport v2 operation: its path is absolute (not below
    /// `/api/v1`), its body form-encoded, its errors the specification's
    /// array of `code` + `description` (in XML for the `.xml` paths), and
    /// only the statuses the specification names (400, 403, 404).
    pub open311: bool,
    /// A form-encoded request body (`application/x-www-form-urlencoded`).
    pub form_body: Option<SchemaFn>,
}

#[allow(clippy::too_many_arguments)]
pub const fn op(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    auth: Auth,
    body: Option<SchemaFn>,
    responses: &'static [Resp],
    errors: &'static [u16],
) -> Op {
    Op {
        method,
        path,
        tag,
        summary,
        auth,
        body,
        query: None,
        body_optional: false,
        raw_body: None,
        raw_response: None,
        responses,
        errors,
        open311: false,
        form_body: None,
    }
}

impl Op {
    /// The row with query parameters.
    pub const fn with_query(mut self, query: ParamsFn) -> Op {
        self.query = Some(query);
        self
    }

    /// The row with a raw body of this media type (instead of JSON).
    pub const fn with_raw_body(mut self, media_type: &'static str) -> Op {
        self.raw_body = Some(media_type);
        self
    }

    /// The row whose success answers are a file of this media type.
    pub const fn with_raw_response(mut self, media_type: &'static str) -> Op {
        self.raw_response = Some(media_type);
        self
    }

    /// The row of an Open311 operation (see [`Op::open311`]).
    pub const fn open311(mut self) -> Op {
        self.open311 = true;
        self
    }

    /// The row with a form-encoded body.
    pub const fn with_form_body(mut self, body: SchemaFn) -> Op {
        self.form_body = Some(body);
        self
    }

    /// Where the operation lives: below `/api/v1`, or as written (Open311).
    pub fn full_path(&self) -> String {
        if self.open311 {
            self.path.to_string()
        } else {
            format!("/api/v1{}", self.path)
        }
    }

    /// The body may be left out (a workflow step without a comment).
    pub const fn body_optional(mut self) -> Op {
        self.body_optional = true;
        self
    }
}

/// The schema of `T` as a reference to a component (added with the ones it uses).
pub fn schema<T: ToSchema>(components: &mut Components) -> RefOr<Schema> {
    T::schemas(components);
    components.push((T::name().into_owned(), T::schema()));
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

/// The query parameters of `T`.
pub fn query<T: utoipa::IntoParams>() -> Vec<Parameter> {
    T::into_params(|| Some(ParameterIn::Query))
}

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

/// What an error status means, for the document.
fn error_text(status: u16) -> &'static str {
    match status {
        400 => "A query parameter that cannot be read (named in the message)",
        401 => "Missing or invalid token",
        403 => "The role does not allow this",
        404 => "Not found (or not visible to the caller)",
        409 => "Not possible in the current state (the message says why)",
        413 => "Body too large",
        415 => {
            "The body must be sent with the media type the operation names (application/json unless stated)"
        }
        422 => "Invalid input: the fields and the fix, in German and English",
        429 => "Too many requests: try again later",
        _ => "Error",
    }
}

fn json_response(
    description: &str,
    body: Option<SchemaFn>,
    c: &mut Components,
) -> utoipa::openapi::Response {
    let mut r = ResponseBuilder::new().description(description);
    if let Some(schema) = body {
        r = r.content(
            "application/json",
            ContentBuilder::new().schema(Some(schema(c))).build(),
        );
    }
    r.build()
}

/// A path parameter's schema: ids are UUIDs, the rest (form id or key, reference) strings.
fn path_param_schema(path: &str, name: &str) -> ObjectBuilder {
    let uuid = name == "file"
        || (name == "id"
            && [
                "/services/",
                "/cases/",
                "/org-units/",
                "/records/",
                "/defects/",
            ]
            .iter()
            .any(|p| path.starts_with(p)));
    let b = ObjectBuilder::new().schema_type(Type::String);
    if uuid {
        // The format alone is an annotation in JSON Schema 2020-12; the pattern asserts it.
        b.format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
            .pattern(Some(
                "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
            ))
    } else {
        b.min_length(Some(1)).max_length(Some(100))
    }
}

/// The request body of `POST /forms/import`: XDatenfelder XML, or multipart
/// with the schema and its genericode lists.
fn fim_import_body() -> utoipa::openapi::request_body::RequestBody {
    let text = || ObjectBuilder::new().schema_type(Type::String);
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .description(Some(
            "An XDatenfelder 2/3 schema (XML), alone or as the part `schema` of a multipart body \
             with any number of `codelist` parts (genericode) and optional `key` and `service`.",
        ))
        .content(
            "application/xml",
            ContentBuilder::new()
                .schema(Some(text().min_length(Some(1))))
                .build(),
        )
        .content(
            "multipart/form-data",
            ContentBuilder::new()
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .property("schema", text())
                        .required("schema")
                        .property(
                            "codelist",
                            utoipa::openapi::schema::ArrayBuilder::new().items(text()),
                        )
                        .property("key", text())
                        .property("service", text()),
                ))
                .build(),
        )
        .build()
}

/// Builds the document (once).
pub fn document() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut paths = PathsBuilder::new();
        let mut components = Components::new();
        let c = &mut components;
        for o in OPERATIONS.iter() {
            let mut b = OperationBuilder::new()
                .tag(o.tag)
                .summary(Some(o.summary))
                .operation_id(Some(format!(
                    "{}{}",
                    o.method,
                    o.path.replace(['/', '{', '}', '-'], "_")
                )));
            let mut errors: Vec<u16> = o.errors.to_vec();
            for seg in o.path.split('/') {
                // `{id}`, or a parameter with a suffix (`{code}.ics`).
                let name = seg
                    .strip_prefix('{')
                    .and_then(|s| s.split_once('}'))
                    .map(|(name, _)| name);
                if let Some(name) = name {
                    b = b.parameter(
                        ParameterBuilder::new()
                            .name(name)
                            .parameter_in(ParameterIn::Path)
                            .required(Required::True)
                            .schema(Some(path_param_schema(o.path, name))),
                    );
                    errors.push(404);
                }
            }
            if let Some(params) = o.query {
                for p in params() {
                    b = b.parameter(p);
                }
                // 400: unreadable; 422: a value outside its set, named.
                errors.extend([400, 422]);
            }
            if o.path == "/applications" && o.method == "post" {
                b = b.parameter(
                    ParameterBuilder::new()
                        .name("Idempotency-Key")
                        .parameter_in(ParameterIn::Header)
                        .required(Required::False)
                        .description(Some("8 to 100 visible ASCII characters, e.g. a UUID. Bound to the request: the server keeps the SHA-256 of the form and the canonical data (keys sorted); a retry with the same key and body returns the first application (200), the same key with another body is refused (422, code idempotency.mismatch)."))
                        .schema(Some(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .pattern(Some("^[\\x21-\\x7e]{8,100}$")),
                        )),
                );
            }
            if let Some(body) = o.body {
                b = b.request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(if o.body_optional {
                            Required::False
                        } else {
                            Required::True
                        }))
                        .content(
                            "application/json",
                            ContentBuilder::new().schema(Some(body(c))).build(),
                        )
                        .build(),
                ));
                errors.extend([413, 415, 422]);
            }
            if let Some(media) = o.raw_body {
                b = b.request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(Required::True))
                        .content(
                            media,
                            ContentBuilder::new()
                                .schema(Some(
                                    ObjectBuilder::new()
                                        .schema_type(Type::String)
                                        .min_length(Some(1)),
                                ))
                                .build(),
                        )
                        .build(),
                ));
                errors.extend([413, 415, 422]);
            }
            if let Some(body) = o.form_body {
                b = b.request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(Required::True))
                        .content(
                            "application/x-www-form-urlencoded",
                            ContentBuilder::new().schema(Some(body(c))).build(),
                        )
                        .build(),
                ));
                errors.extend([400, 413]);
            }
            if o.path == "/forms/import" {
                b = b.request_body(Some(fim_import_body()));
                errors.extend([413, 415, 422]);
            }
            match o.auth {
                Auth::Public => {}
                Auth::Staff => {
                    b = b.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
                    errors.extend([401, 403]);
                }
                Auth::Applicant => {
                    b = b.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
                    errors.extend([401, 403]);
                }
            }
            for (code, text, body) in o.responses {
                b = b.response(
                    *code,
                    match o.raw_response {
                        Some(media) => ResponseBuilder::new()
                            .description(*text)
                            .content(
                                media,
                                ContentBuilder::new()
                                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                                    .build(),
                            )
                            .build(),
                        None => json_response(text, *body, c),
                    },
                );
            }
            if o.open311 {
                // The specification's statuses: 400 for what cannot be
                // fulfilled, 403 for the key, 404 for what does not exist.
                errors.retain(|s| !matches!(s, 415 | 422));
                if o.query.is_some() {
                    errors.push(400);
                }
            }
            errors.sort_unstable();
            errors.dedup();
            for status in errors {
                let code = status.to_string();
                if o.responses.iter().any(|(c, _, _)| *c == code) {
                    continue;
                }
                let response = match (o.open311, o.raw_response) {
                    (true, Some(media)) => ResponseBuilder::new()
                        .description(error_text(status))
                        .content(
                            media,
                            ContentBuilder::new()
                                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                                .build(),
                        )
                        .build(),
                    (true, None) => json_response(
                        error_text(status),
                        Some(schema::<crate::platform::error::Open311Errors>),
                        c,
                    ),
                    (false, _) => {
                        json_response(error_text(status), Some(schema::<ErrorBody>), c)
                    }
                };
                b = b.response(code, response);
            }
            paths = paths.path(o.full_path(), PathItem::new(method(o.method), b.build()));
        }
        components.sort_by(|a, b| a.0.cmp(&b.0));
        components.dedup_by(|a, b| a.0 == b.0);
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
                    .schemas_from_iter(components)
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
