//! The clerk decides a case with a template-based Bescheid (preview, then
//! issue: PDF/A stored with the case and delivered into the mailbox), in the
//! browser and through the API (`POST /cases/{id}/decide {"variant",
//! "reason"}`). Part of `cases`: a refused decision shows the case page again.

use axum::{
    Json,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
};
use rathaus_app::decisions::DecisionInput;
use rathaus_domain::decisions::Variant;
use uuid::Uuid;

use super::staff::{after_step, load_case};
use crate::platform::{
    AppState,
    api_auth::{ApiJson, ApiStaff, WorkCases},
    auth::StaffUser,
    context::Ctx,
    error::AppError,
    routes::{Routes, post},
    security::CsrfForm,
};

pub fn routes() -> Routes {
    Routes::new("cases").route("/staff/cases/{id}/decide", post(decide))
}

pub fn api_routes() -> Routes {
    Routes::new("cases").route("/cases/{id}/decide", post(api_decide))
}

#[derive(serde::Deserialize)]
struct DecideForm {
    #[serde(default)]
    variant: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    preview: Option<String>,
    #[serde(default)]
    fee: Option<String>,
}

async fn decide(
    State(state): State<AppState>,
    ctx: Ctx,
    staff: StaffUser,
    Path(id): Path<String>,
    f: CsrfForm<DecideForm>,
) -> Result<Response, AppError> {
    let (actor, c) = load_case(&state, &staff, &id).await?;
    let input = decision_input(&f.form.variant, f.form.reason, f.form.fee)?;
    if f.form.preview.is_some() {
        let r = state.app.preview_decision(&actor, c.id, input).await?;
        return Ok((
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    "inline; filename=\"Bescheid-Vorschau.pdf\"".to_string(),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            r.pdf,
        )
            .into_response());
    }
    let result = state.app.decide(&actor, c.id, input).await;
    let done = format!("/staff/cases/{}?msg=decided", c.id);
    after_step(&state, &ctx, &staff, c, result, &done).await
}

/// The variant named in a request, with the reason.
fn decision_input(
    variant: &str,
    reason: String,
    fee: Option<String>,
) -> Result<DecisionInput, AppError> {
    let variant = Variant::parse(variant).ok_or_else(|| {
        AppError::Validation(rathaus_domain::FieldError::new("variant", "option.unknown").into())
    })?;
    Ok(DecisionInput {
        variant,
        reason,
        fee,
    })
}

/// A decision.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct DecideBody {
    /// `approval` or `rejection`.
    #[schema(pattern = "^(approval|rejection)$")]
    variant: String,
    /// The reasons (Begründung) of the Bescheid.
    #[serde(default)]
    #[schema(max_length = 20000)]
    reason: String,
    /// A fee asked for with the Bescheid (pay later), e.g. `30.70`: a fee
    /// request with its Kassenzeichen goes to the mailbox.
    #[serde(default)]
    #[schema(max_length = 20)]
    fee: Option<String>,
}

/// The case after the decision.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Decided {
    id: Uuid,
    /// `decided`.
    status: String,
}

/// Decides with a Bescheid from the service's template (PDF/A into the mailbox).
async fn api_decide(
    State(state): State<AppState>,
    ApiStaff { actor, .. }: ApiStaff<WorkCases>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecideBody>,
) -> Result<Response, AppError> {
    let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let input = decision_input(&body.variant, body.reason, body.fee)?;
    let c = state.app.decide(&actor, id, input).await?;
    Ok(Json(Decided {
        id: c.id,
        status: c.status().code().to_string(),
    })
    .into_response())
}
