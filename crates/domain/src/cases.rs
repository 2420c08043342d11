//! Cases (C5): the office's side of an application, with its status machine.

use serde::{Deserialize, Serialize};

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Zahlung ausstehend: stored, but received only once its fee is paid
    /// (pay before sending); no clerk works on it yet.
    AwaitingPayment,
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
    pub const ALL: [CaseStatus; 7] = [
        Self::AwaitingPayment,
        Self::Received,
        Self::InProgress,
        Self::AwaitingDocuments,
        Self::Decided,
        Self::Closed,
        Self::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::AwaitingPayment => "awaiting_payment",
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

    /// In a clerk's inbox by default: open and received (a case waiting
    /// for its fee is not received yet).
    pub fn in_inbox(self) -> bool {
        self.is_open() && self != Self::AwaitingPayment
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
    /// The fee of a pay-before-sending application was paid: it is received.
    PaymentReceived,
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

/// (Zahlung ausstehend →) eingegangen → in Bearbeitung → warten auf Unterlagen → in Bearbeitung →
/// entschieden → abgeschlossen; abgebrochen from any open status.
pub fn transition(from: CaseStatus, action: CaseAction) -> Result<CaseStatus, TransitionError> {
    use CaseAction::*;
    use CaseStatus::*;
    match (from, action) {
        (AwaitingPayment, PaymentReceived) => Ok(Received),
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

    #[test]
    fn a_case_waiting_for_its_fee_is_received_only_when_paid() {
        use CaseAction::*;
        let s = CaseStatus::AwaitingPayment;
        assert!(!s.in_inbox() && s.is_open());
        for a in [Start, RequestDocuments, DocumentsReceived, Decide, Close] {
            assert!(transition(s, a).is_err(), "{a:?} before payment");
        }
        assert_eq!(transition(s, PaymentReceived), Ok(CaseStatus::Received));
        assert_eq!(transition(s, Cancel), Ok(CaseStatus::Cancelled));
        assert!(transition(CaseStatus::Received, PaymentReceived).is_err());
    }

    fn arb_action() -> impl Strategy<Value = CaseAction> {
        prop::sample::select(vec![
            CaseAction::Start,
            CaseAction::RequestDocuments,
            CaseAction::DocumentsReceived,
            CaseAction::PaymentReceived,
            CaseAction::Decide,
            CaseAction::Close,
            CaseAction::Cancel,
        ])
    }

    proptest! {
        #[test]
        fn final_states_never_change_and_decisions_need_work(paid_first in any::<bool>(), actions in prop::collection::vec(arb_action(), 0..30)) {
            let mut s = if paid_first { CaseStatus::AwaitingPayment } else { CaseStatus::Received };
            let mut worked = false;
            for a in actions {
                let before = s;
                if let Ok(next) = transition(s, a) {
                    prop_assert!(before.is_open(), "closed or cancelled cases never change");
                    prop_assert!(next != CaseStatus::AwaitingPayment, "nothing goes back to waiting for the fee");
                    if before == CaseStatus::AwaitingPayment {
                        prop_assert!(matches!(next, CaseStatus::Received | CaseStatus::Cancelled), "only payment or cancelling ends the wait");
                    }
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
