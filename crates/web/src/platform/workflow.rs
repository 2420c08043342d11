//! Texts and answers about case transitions shared by the staff pages and the API.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use rathaus_domain::cases::CaseAction;
use serde_json::json;

use crate::platform::{
    context::Ctx,
    i18n::{self, Lang},
};

/// Why a case step was refused, naming the step and the status, in the page language.
pub fn refused_message(lang: Lang, t: &rathaus_domain::cases::TransitionError) -> String {
    i18n::tf(
        lang,
        "cases.refused",
        &[
            (
                "action",
                i18n::t(lang, &format!("cases.action.{}", action_code(t.action))),
            ),
            (
                "status",
                i18n::t(lang, &format!("case_status.{}", t.from.code())),
            ),
        ],
    )
}

pub fn action_code(a: CaseAction) -> &'static str {
    match a {
        CaseAction::Start => "start",
        CaseAction::RequestDocuments => "request_documents",
        CaseAction::DocumentsReceived => "documents_received",
        CaseAction::PaymentReceived => "payment_received",
        CaseAction::Decide => "decide",
        CaseAction::Close => "close",
        CaseAction::Cancel => "cancel",
    }
}

/// A refused transition as the API answers it (409).
pub fn refused(ctx: &Ctx, t: &rathaus_domain::cases::TransitionError) -> Response {
    let message = refused_message(ctx.lang, t);
    (
        StatusCode::CONFLICT,
        Json(json!({"error": {"status": 409, "code": "case.transition", "message": message}})),
    )
        .into_response()
}
