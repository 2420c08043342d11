//! Cases (C5): the office's side of an application, with its status machine.

use serde::{Deserialize, Serialize};

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Eingegangen
    Received,
    /// In Bearbeitung
    InProgress,
    /// Warten auf Unterlagen
    AwaitingDocuments,
    /// Entschieden
    Decided,
    /// Abgeschlossen
    Closed,
    /// Abgebrochen
    Cancelled,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 6] = [
        Self::Received,
        Self::InProgress,
        Self::AwaitingDocuments,
        Self::Decided,
        Self::Closed,
        Self::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::InProgress => "in_progress",
            Self::AwaitingDocuments => "awaiting_documents",
            Self::Decided => "decided",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.code() == s)
    }

    /// Open cases are in some inbox; closed and cancelled ones are not.
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Closed | Self::Cancelled)
    }
}

/// What a clerk (or the applicant's answer) does to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CaseAction {
    /// Claim or start working on it.
    Start,
    /// Ask the applicant for documents.
    RequestDocuments,
    /// The applicant answered a document request.
    DocumentsReceived,
    Decide,
    Close,
    Cancel,
}

/// Why a status change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{action:?} is not possible while the case is {from:?}")]
pub struct TransitionError {
    pub from: CaseStatus,
    pub action: CaseAction,
}

/// eingegangen → in Bearbeitung → warten auf Unterlagen → in Bearbeitung →
/// entschieden → abgeschlossen; abgebrochen from any open status.
pub fn transition(from: CaseStatus, action: CaseAction) -> Result<CaseStatus, TransitionError> {
    use CaseAction::*;
    use CaseStatus::*;
    match (from, action) {
        (Received | InProgress, Start) => Ok(InProgress),
        (InProgress, RequestDocuments) => Ok(AwaitingDocuments),
        (AwaitingDocuments, DocumentsReceived) => Ok(InProgress),
        (InProgress, Decide) => Ok(Decided),
        (Decided, Close) => Ok(Closed),
        (s, Cancel) if s.is_open() && s != Decided => Ok(Cancelled),
        _ => Err(TransitionError { from, action }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_normal_path() {
        use CaseAction::*;
        let mut s = CaseStatus::Received;
        for a in [Start, RequestDocuments, DocumentsReceived, Decide, Close] {
            s = transition(s, a).unwrap();
        }
        assert_eq!(s, CaseStatus::Closed);
        assert!(
            transition(CaseStatus::Received, Decide).is_err(),
            "no decision unseen"
        );
        assert!(transition(CaseStatus::Closed, Cancel).is_err());
    }

    fn arb_action() -> impl Strategy<Value = CaseAction> {
        prop::sample::select(vec![
            CaseAction::Start,
            CaseAction::RequestDocuments,
            CaseAction::DocumentsReceived,
            CaseAction::Decide,
            CaseAction::Close,
            CaseAction::Cancel,
        ])
    }

    proptest! {
        #[test]
        fn final_states_never_change_and_decisions_need_work(actions in prop::collection::vec(arb_action(), 0..30)) {
            let mut s = CaseStatus::Received;
            let mut worked = false;
            for a in actions {
                let before = s;
                if let Ok(next) = transition(s, a) {
                    prop_assert!(before.is_open(), "closed or cancelled cases never change");
                    if next == CaseStatus::Decided {
                        prop_assert!(worked, "a decision needs the case to have been in progress");
                    }
                    if next == CaseStatus::InProgress { worked = true; }
                    s = next;
                }
            }
        }
    }
}
