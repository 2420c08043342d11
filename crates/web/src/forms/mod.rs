//! Forms: the public wizard (drafts, steps, review, submission), the
//! Redaktion's form editor (FIM import, items, preview, review) and the forms
//! API.

pub mod api;
pub mod staff;
pub mod views;
pub mod wizard;

use axum::response::Response;
use rathaus_app::Actor;
use rathaus_storage::forms::{FormVersion, Forms};
use uuid::Uuid;

use crate::platform::editorial::ChangeBody;
use crate::platform::editorial::StepForm as StepBody;
use crate::platform::openapi::{Auth, Op, op, query, schema};
use crate::platform::{
    AppState,
    editorial::{EditorialKind, Here},
    error::AppError,
    routes::Routes,
    upload::upload_limit,
};

pub fn routes() -> Routes {
    Routes::new("forms")
        .merge(wizard::routes().map(|r| r.layer(upload_limit())))
        .merge(staff::routes().map(|r| r.layer(upload_limit())))
        .nest("/api/v1", api::routes())
}

/// The operations of this capability under `/api/v1`.
pub const OPERATIONS: &[Op] = &[
    op(
        "get",
        "/forms",
        "forms",
        "Published forms",
        Auth::Public,
        None,
        &[("200", "The forms", Some(schema::<api::FormList>))],
        &[],
    ),
    op(
        "post",
        "/forms",
        "forms",
        "Create a form from the exchange format rathaus.form/1 (Redaktion)",
        Auth::Staff,
        Some(schema::<api::CreateBody>),
        &[
            ("201", "Created", Some(schema::<api::FormEnvelope>)),
            (
                "200",
                "A new draft of the form with this key",
                Some(schema::<api::FormEnvelope>),
            ),
        ],
        &[409],
    ),
    op(
        "post",
        "/forms/import",
        "forms",
        "Import a FIM XDatenfelder file (XML body, or multipart with genericode lists)",
        Auth::Staff,
        None,
        &[
            ("201", "Created", Some(schema::<api::FormEnvelope>)),
            (
                "200",
                "A new draft of the form with this key",
                Some(schema::<api::FormEnvelope>),
            ),
        ],
        &[409],
    )
    .with_query(query::<api::ImportParams>),
    op(
        "get",
        "/forms/{id}",
        "forms",
        "A published form by id or key",
        Auth::Public,
        None,
        &[("200", "The form", Some(schema::<api::FormEnvelope>))],
        &[],
    ),
    op(
        "put",
        "/forms/{id}",
        "forms",
        "Change a form draft",
        Auth::Staff,
        Some(schema::<api::CreateBody>),
        &[("200", "Changed", Some(schema::<api::FormEnvelope>))],
        &[409],
    ),
    op(
        "get",
        "/forms/{id}/draft",
        "forms",
        "The form's current draft (Redaktion)",
        Auth::Staff,
        None,
        &[(
            "200",
            "The draft with its checks in `report`",
            Some(schema::<api::FormEnvelope>),
        )],
        &[],
    ),
    op(
        "get",
        "/forms/{id}/schema",
        "forms",
        "JSON Schema (2020-12) of the form's data",
        Auth::Public,
        None,
        &[("200", "The JSON Schema (application/schema+json)", None)],
        &[],
    ),
    op(
        "post",
        "/forms/{id}/validate",
        "forms",
        "Validate data; per-field messages in German and English",
        Auth::Public,
        Some(schema::<api::FormData>),
        &[
            ("200", "Valid", Some(schema::<api::Validation>)),
            (
                "422",
                "Per-field problems (or a body that is not a JSON object)",
                Some(schema::<api::ValidationFailed>),
            ),
        ],
        &[],
    ),
    op(
        "post",
        "/forms/{id}/submit",
        "forms",
        "Submit a form draft for review",
        Auth::Staff,
        None,
        &[("200", "Submitted", Some(schema::<api::FormEnvelope>))],
        &[409],
    ),
    op(
        "post",
        "/forms/{id}/approve",
        "forms",
        "Approve and publish a form (a second editor)",
        Auth::Staff,
        None,
        &[("200", "Published", Some(schema::<api::FormEnvelope>))],
        &[409],
    ),
    op(
        "post",
        "/forms/{id}/reject",
        "forms",
        "Reject a form draft",
        Auth::Staff,
        Some(schema::<StepBody>),
        &[("200", "Rejected", Some(schema::<api::FormEnvelope>))],
        &[409],
    )
    .body_optional(),
    op(
        "post",
        "/forms/{id}/attach",
        "forms",
        "Request linking the form to a service (null: to none): a pending change that a second editor approves (four eyes)",
        Auth::Staff,
        Some(schema::<api::AttachBody>),
        &[("202", "The pending change", Some(schema::<api::Attached>))],
        &[409],
    ),
    op(
        "post",
        "/forms/{id}/change/approve",
        "forms",
        "Approve and apply the form's pending change (a second editor; the requester cannot)",
        Auth::Staff,
        None,
        &[("200", "The approved change", Some(schema::<ChangeBody>))],
        &[409],
    ),
    op(
        "post",
        "/forms/{id}/change/reject",
        "forms",
        "Reject (or, as its requester, withdraw) the form's pending change",
        Auth::Staff,
        None,
        &[("200", "The rejected change", Some(schema::<ChangeBody>))],
        &[409],
    ),
];

impl EditorialKind for Forms {
    const PAGES: &'static str = "/staff/forms";

    async fn refused(at: Here<'_>, id: Uuid, reason: String) -> Result<Response, AppError> {
        staff::render_detail(at.0, at.1, at.2, id, None, Some(reason)).await
    }

    /// A form by id or key.
    async fn resolve(state: &AppState, actor: &Actor, id: &str) -> Result<Uuid, AppError> {
        Ok(state.app.find_form(actor.tenant(), id).await?.id)
    }

    async fn answer(
        state: &AppState,
        actor: &Actor,
        id: Uuid,
        version: FormVersion,
    ) -> Result<Response, AppError> {
        api::step_answer(state, actor.tenant(), id, version).await
    }
}
