//! The e-file (E-Akte, capability C6): the file plan (Aktenplan) with its
//! retention rules, the Vorgang each case is filed in, its file number, when
//! its retention ends, and the hand-over to the archive (Aussonderung) as a
//! state machine with four eyes on destruction. No I/O.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What happens to a file when its retention ends (xdomea code list
/// Aussonderungsart / Bewertungsvorschlag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Disposition {
    /// `A`: offer to the archive (archivwürdig).
    #[serde(rename = "A")]
    Archive,
    /// `V`: destroy (vernichten).
    #[serde(rename = "V")]
    Destroy,
    /// `B`: the archive evaluates (bewerten).
    #[serde(rename = "B")]
    Evaluate,
}

impl Disposition {
    pub const ALL: [Disposition; 3] = [Self::Archive, Self::Destroy, Self::Evaluate];

    pub fn code(self) -> &'static str {
        match self {
            Self::Archive => "A",
            Self::Destroy => "V",
            Self::Evaluate => "B",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.code() == s.trim())
    }
}

/// The event a retention period counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RetentionTrigger {
    /// The case was closed (abgeschlossen or abgebrochen).
    CaseClosed,
    /// The decision became final (bestandskräftig): here, the day the
    /// Bescheid was made known plus the month of the Widerspruchsfrist.
    DecisionFinal,
}

impl RetentionTrigger {
    pub const ALL: [RetentionTrigger; 2] = [Self::CaseClosed, Self::DecisionFinal];

    pub fn code(self) -> &'static str {
        match self {
            Self::CaseClosed => "case_closed",
            Self::DecisionFinal => "decision_final",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == s)
    }
}

/// Longest retention period a plan node may give (years).
pub const MAX_RETENTION_YEARS: u16 = 100;

/// A node's retention rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Retention {
    /// 1 to 100 years.
    pub years: u16,
    pub trigger: RetentionTrigger,
    pub disposition: Disposition,
}

/// Why a retention rule, plan code or file number scheme is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordsError {
    #[error(
        "Aufbewahrungsfrist: 1 bis {MAX_RETENTION_YEARS} Jahre (retention: 1 to {MAX_RETENTION_YEARS} years)"
    )]
    RetentionYears,
    #[error(
        "Aktenplankennzeichen: Ziffern, durch Punkte getrennt, z. B. 32.10.05 (plan code: digits separated by dots)"
    )]
    PlanCode,
    #[error(
        "Aktenzeichen-Schema: nur {{plan}}, {{reference}}, {{year}}, {{seq}} und Text; {{reference}} oder {{seq}} muss vorkommen (file number scheme)"
    )]
    FileNumberScheme,
    #[error("this step is not possible while the hand-over is {0:?}")]
    WrongStatus(DisposalStatus),
    #[error("the person who asked for the destruction cannot approve it (four eyes)")]
    OwnApproval,
    #[error("a legal hold blocks this file")]
    LegalHold,
}

impl RecordsError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::RetentionYears => "records.retention_years",
            Self::PlanCode => "records.plan_code",
            Self::FileNumberScheme => "records.file_number_scheme",
            Self::WrongStatus(_) => "records.wrong_status",
            Self::OwnApproval => "records.own_approval",
            Self::LegalHold => "records.legal_hold",
        }
    }
}

impl Retention {
    pub fn new(
        years: u16,
        trigger: RetentionTrigger,
        disposition: Disposition,
    ) -> Result<Self, RecordsError> {
        if !(1..=MAX_RETENTION_YEARS).contains(&years) {
            return Err(RecordsError::RetentionYears);
        }
        Ok(Self {
            years,
            trigger,
            disposition,
        })
    }

    /// The last day of retention for a file whose trigger event happened on
    /// `event`. As in German records management, the period starts at the end
    /// of the calendar year of the event: an event in 2026 with 10 years
    /// ends on 31 December 2036.
    pub fn ends_on(&self, event: NaiveDate) -> NaiveDate {
        let year = event.year() + i32::from(self.years);
        NaiveDate::from_ymd_opt(year, 12, 31).expect("31 December exists")
    }

    /// Whether a file with this rule is due for disposal on `as_of`: its
    /// event has happened, its retention ended before `as_of`, and no legal
    /// hold blocks it.
    pub fn due(&self, event: Option<NaiveDate>, as_of: NaiveDate, legal_hold: bool) -> bool {
        !legal_hold && event.is_some_and(|e| self.ends_on(e) < as_of)
    }
}

/// The date a decision becomes final when no objection is raised: one month
/// after it was made known (Widerspruchsfrist, § 70 VwGO), at least the day
/// it was made known.
pub fn decision_final_on(made_known: NaiveDate) -> NaiveDate {
    made_known
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(made_known)
}

/// An Aktenplan code: digits in groups separated by dots (`32`, `32.10.05`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PlanCode(String);

impl PlanCode {
    pub fn parse(s: &str) -> Result<Self, RecordsError> {
        let s = s.trim();
        let ok = !s.is_empty()
            && s.len() <= 40
            && s.split('.')
                .all(|g| !g.is_empty() && g.len() <= 6 && g.bytes().all(|b| b.is_ascii_digit()));
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(RecordsError::PlanCode)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code of the parent node (`32.10` for `32.10.05`), none at the top.
    pub fn parent(&self) -> Option<PlanCode> {
        self.0
            .rsplit_once('.')
            .map(|(p, _)| PlanCode(p.to_string()))
    }
}

/// How a tenant forms its file numbers (Aktenzeichen). Placeholders:
/// `{plan}` (the plan code), `{reference}` (the application's reference),
/// `{year}`, `{seq}` (the reference's number, six digits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FileNumberScheme(String);

impl Default for FileNumberScheme {
    /// `32.10.05-MS-2026-000123`
    fn default() -> Self {
        Self("{plan}-{reference}".into())
    }
}

const PLACEHOLDERS: [&str; 4] = ["plan", "reference", "year", "seq"];

impl FileNumberScheme {
    pub fn parse(s: &str) -> Result<Self, RecordsError> {
        let s = s.trim();
        if s.is_empty() || s.len() > 100 || s.chars().any(char::is_control) {
            return Err(RecordsError::FileNumberScheme);
        }
        let mut rest = s;
        let mut unique = false;
        while let Some(open) = rest.find('{') {
            if rest[..open].contains('}') {
                return Err(RecordsError::FileNumberScheme);
            }
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or(RecordsError::FileNumberScheme)?;
            let name = &after[..close];
            if !PLACEHOLDERS.contains(&name) {
                return Err(RecordsError::FileNumberScheme);
            }
            unique |= name == "reference" || name == "seq";
            rest = &after[close + 1..];
        }
        if rest.contains('}') || !unique {
            return Err(RecordsError::FileNumberScheme);
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn render(&self, plan: &PlanCode, reference: &str, year: i32, seq: i64) -> String {
        self.0
            .replace("{plan}", plan.as_str())
            .replace("{reference}", reference)
            .replace("{year}", &year.to_string())
            .replace("{seq}", &format!("{seq:06}"))
    }
}

/// Where a Vorgang stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FileStatus {
    /// The case is being worked on.
    Open,
    /// The case is over; retention runs.
    Closed,
    /// Part of a hand-over to the archive.
    Offered,
    /// Handed over to the archive (its content is destroyed here once the
    /// archive confirmed the import).
    Archived,
    /// Content destroyed; only the deletion record remains.
    Destroyed,
}

impl FileStatus {
    pub const ALL: [FileStatus; 5] = [
        Self::Open,
        Self::Closed,
        Self::Offered,
        Self::Archived,
        Self::Destroyed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Offered => "offered",
            Self::Archived => "archived",
            Self::Destroyed => "destroyed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.code() == s)
    }
}

/// What a filed document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DocumentKind {
    /// The submitted data (JSON).
    ApplicationData,
    /// The confirmation of receipt (PDF/A).
    Receipt,
    /// A file the applicant uploaded with the application or an answer.
    Upload,
    /// A mailbox message (its text).
    Message,
    /// A Bescheid (PDF/A).
    Decision,
    /// Filed by staff.
    Staff,
    /// A clerk's note marked relevant to the file (Vermerk).
    Note,
    /// Incoming mail filed from the electronic in-tray.
    Incoming,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 8] = [
        Self::ApplicationData,
        Self::Receipt,
        Self::Upload,
        Self::Message,
        Self::Decision,
        Self::Staff,
        Self::Note,
        Self::Incoming,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::ApplicationData => "application_data",
            Self::Receipt => "receipt",
            Self::Upload => "upload",
            Self::Message => "message",
            Self::Decision => "decision",
            Self::Staff => "staff",
            Self::Note => "note",
            Self::Incoming => "incoming",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.code() == s)
    }
}

/// A hand-over to the archive (one xdomea process):
/// `offered` (0501 written) → `evaluated` (the archive's 0502 read) →
/// `handed_over` (0503 written) → `confirmed` (the archive's receipt read) →
/// `destruction_requested` → `completed` (a second person approved; the
/// `V` files and the handed-over originals are destroyed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DisposalStatus {
    Offered,
    Evaluated,
    HandedOver,
    Confirmed,
    DestructionRequested,
    Completed,
}

/// A step of a hand-over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisposalStep {
    /// The archive's evaluation (0502) is read.
    Evaluate,
    /// The 0503 package is written.
    HandOver,
    /// The archive's receipt (0504–0507) is read.
    Confirm,
    /// Someone asks for the destruction.
    RequestDestruction,
    /// A second person approves it.
    ApproveDestruction,
}

impl DisposalStatus {
    pub const ALL: [DisposalStatus; 6] = [
        Self::Offered,
        Self::Evaluated,
        Self::HandedOver,
        Self::Confirmed,
        Self::DestructionRequested,
        Self::Completed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Offered => "offered",
            Self::Evaluated => "evaluated",
            Self::HandedOver => "handed_over",
            Self::Confirmed => "confirmed",
            Self::DestructionRequested => "destruction_requested",
            Self::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.code() == s)
    }

    /// The status after `step`. The evaluation may be read again until the
    /// package is written (the archive corrects its 0502); the package may
    /// be written again (downloaded) until the archive confirmed; receipts
    /// may come more than once (0504 … 0506). Destruction needs two
    /// different people: `requested_by` is who asked, `actor` who acts now.
    pub fn next(
        self,
        step: DisposalStep,
        actor: Uuid,
        requested_by: Option<Uuid>,
    ) -> Result<DisposalStatus, RecordsError> {
        use DisposalStatus as S;
        use DisposalStep as P;
        Ok(match (self, step) {
            (S::Offered | S::Evaluated, P::Evaluate) => S::Evaluated,
            (S::Evaluated | S::HandedOver, P::HandOver) => S::HandedOver,
            (S::HandedOver | S::Confirmed, P::Confirm) => S::Confirmed,
            (S::Confirmed, P::RequestDestruction) => S::DestructionRequested,
            (S::DestructionRequested, P::ApproveDestruction) => {
                if requested_by == Some(actor) {
                    return Err(RecordsError::OwnApproval);
                }
                S::Completed
            }
            (s, _) => return Err(RecordsError::WrongStatus(s)),
        })
    }
}

/// A node of the file plan as the domain sees it (for building the tree).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanNode {
    pub id: Uuid,
    pub parent: Option<Uuid>,
    pub code: PlanCode,
    pub title: String,
    /// Leaves (and nodes that take files) carry a rule; groups may not.
    pub retention: Option<Retention>,
}

/// The rule that applies at a node: its own, else the nearest ancestor's.
/// Terminates on a (corrupt) parent cycle.
pub fn effective_retention(nodes: &[PlanNode], id: Uuid) -> Option<Retention> {
    let mut current = Some(id);
    for _ in 0..=nodes.len() {
        let node = nodes.iter().find(|n| Some(n.id) == current)?;
        if let Some(r) = node.retention {
            return Some(r);
        }
        current = node.parent;
    }
    None
}

/// A change of the file plan or the file number scheme, made by the
/// Fachadministration and applied only when a second person approves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PlanChange {
    /// A new node (its parent is the node of the code without its last part).
    AddNode {
        code: String,
        title: String,
        retention: Option<Retention>,
    },
    /// New title and retention rule of an existing node.
    UpdateNode {
        code: String,
        title: String,
        retention: Option<Retention>,
    },
    /// The service files under the node from now on (existing Vorgänge stay).
    AssignService { service: Uuid, code: String },
    /// The scheme of new file numbers.
    SetFileNumberScheme { scheme: String },
}

/// Longest title of a plan node.
pub const MAX_PLAN_TITLE_CHARS: usize = 200;

impl PlanChange {
    /// Checks the change on its own (codes, titles, scheme); whether the
    /// node exists is checked when it is requested and again when applied.
    pub fn validate(self) -> Result<Self, crate::ValidationErrors> {
        let mut errs = crate::ValidationErrors::new();
        let out = match self {
            Self::AddNode {
                code,
                title,
                retention,
            } => {
                let (code, title) = node_fields(&mut errs, &code, &title);
                Self::AddNode {
                    code,
                    title,
                    retention,
                }
            }
            Self::UpdateNode {
                code,
                title,
                retention,
            } => {
                let (code, title) = node_fields(&mut errs, &code, &title);
                Self::UpdateNode {
                    code,
                    title,
                    retention,
                }
            }
            Self::AssignService { service, code } => {
                let code = match PlanCode::parse(&code) {
                    Ok(c) => c.as_str().to_string(),
                    Err(_) => {
                        errs.push(crate::FieldError::new("code", "records.plan_code"));
                        code
                    }
                };
                Self::AssignService { service, code }
            }
            Self::SetFileNumberScheme { scheme } => match FileNumberScheme::parse(&scheme) {
                Ok(s) => Self::SetFileNumberScheme {
                    scheme: s.as_str().to_string(),
                },
                Err(_) => {
                    errs.push(crate::FieldError::new(
                        "scheme",
                        "records.file_number_scheme",
                    ));
                    Self::SetFileNumberScheme { scheme }
                }
            },
        };
        if let Some(r) = out.retention()
            && Retention::new(r.years, r.trigger, r.disposition).is_err()
        {
            errs.push(crate::FieldError::new(
                "retention_years",
                "records.retention_years",
            ));
        }
        errs.into_result().map(|()| out)
    }

    fn retention(&self) -> Option<Retention> {
        match self {
            Self::AddNode { retention, .. } | Self::UpdateNode { retention, .. } => *retention,
            _ => None,
        }
    }

    /// One line for lists and the audit ("32.10.06 Zweitwohnungsteuer: 10 J., A").
    pub fn summary(&self) -> String {
        let rule = |r: &Option<Retention>| match r {
            Some(r) => format!(
                "{} J. ab {}, {}",
                r.years,
                match r.trigger {
                    RetentionTrigger::CaseClosed => "Abschluss",
                    RetentionTrigger::DecisionFinal => "Bestandskraft",
                },
                r.disposition.code()
            ),
            None => "Frist vom übergeordneten Knoten".into(),
        };
        match self {
            Self::AddNode {
                code,
                title,
                retention,
            } => format!("Neu: {code} {title} ({})", rule(retention)),
            Self::UpdateNode {
                code,
                title,
                retention,
            } => format!("Ändern: {code} {title} ({})", rule(retention)),
            Self::AssignService { service, code } => {
                format!("Leistung {service} → {code}")
            }
            Self::SetFileNumberScheme { scheme } => format!("Aktenzeichen-Schema: {scheme}"),
        }
    }
}

fn node_fields(errs: &mut crate::ValidationErrors, code: &str, title: &str) -> (String, String) {
    let code = match PlanCode::parse(code) {
        Ok(c) => c.as_str().to_string(),
        Err(_) => {
            errs.push(crate::FieldError::new("code", "records.plan_code"));
            code.to_string()
        }
    };
    let title = errs
        .check(crate::validation::required_text(
            "title",
            title,
            MAX_PLAN_TITLE_CHARS,
        ))
        .unwrap_or_default();
    (code, title)
}

/// Where an Umlaufmappe (circulation folder) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CirculationStatus {
    /// With the person of the current step.
    Running,
    /// Everybody signed off.
    Completed,
    /// Someone sent it back to the sender (with a comment).
    Returned,
    /// The sender withdrew it.
    Cancelled,
}

impl CirculationStatus {
    pub const ALL: [CirculationStatus; 4] = [
        Self::Running,
        Self::Completed,
        Self::Returned,
        Self::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Returned => "returned",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.code() == s)
    }
}

/// What a person does with an Umlaufmappe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CirculationAction {
    /// Sign off (abzeichnen) the current step: on to the next person, or done.
    SignOff,
    /// Send it back to the sender; it stops here.
    Return,
    /// The sender withdraws it.
    Cancel,
}

/// Most people in one Umlaufmappe.
pub const MAX_CIRCULATION_STEPS: usize = 10;

/// Why a circulation step is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CirculationError {
    #[error("die Umlaufmappe läuft nicht mehr (the circulation is over)")]
    NotRunning,
    #[error("nur die Person des aktuellen Schritts (only the person of the current step)")]
    NotYourStep,
    #[error("nur wer die Umlaufmappe gestartet hat (only its sender)")]
    NotSender,
}

impl CirculationError {
    pub fn code(self) -> &'static str {
        match self {
            Self::NotRunning => "circulation.not_running",
            Self::NotYourStep => "circulation.not_your_step",
            Self::NotSender => "circulation.not_sender",
        }
    }
}

/// The next state of an Umlaufmappe: `current` is the index of the current
/// step among `people` (in order), `sender` who started it. Returns the new
/// status and the new current step.
pub fn circulation_step(
    status: CirculationStatus,
    people: &[Uuid],
    current: usize,
    sender: Uuid,
    action: CirculationAction,
    by: Uuid,
) -> Result<(CirculationStatus, usize), CirculationError> {
    if status != CirculationStatus::Running {
        return Err(CirculationError::NotRunning);
    }
    match action {
        CirculationAction::Cancel => {
            if by != sender {
                return Err(CirculationError::NotSender);
            }
            Ok((CirculationStatus::Cancelled, current))
        }
        CirculationAction::SignOff | CirculationAction::Return => {
            if people.get(current) != Some(&by) {
                return Err(CirculationError::NotYourStep);
            }
            if action == CirculationAction::Return {
                Ok((CirculationStatus::Returned, current))
            } else if current + 1 >= people.len() {
                Ok((CirculationStatus::Completed, current))
            } else {
                Ok((CirculationStatus::Running, current + 1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn retention_ends_at_the_end_of_the_calendar_year() {
        let r = Retention::new(10, RetentionTrigger::CaseClosed, Disposition::Archive).unwrap();
        assert_eq!(r.ends_on(d(2026, 1, 1)), d(2036, 12, 31));
        assert_eq!(r.ends_on(d(2026, 12, 31)), d(2036, 12, 31));
        assert!(!r.due(Some(d(2026, 5, 1)), d(2036, 12, 31), false));
        assert!(r.due(Some(d(2026, 5, 1)), d(2037, 1, 1), false));
        assert!(
            !r.due(Some(d(2026, 5, 1)), d(2040, 1, 1), true),
            "a legal hold blocks"
        );
        assert!(!r.due(None, d(2100, 1, 1), false), "no event, no end");
        assert_eq!(
            Retention::new(0, RetentionTrigger::CaseClosed, Disposition::Destroy),
            Err(RecordsError::RetentionYears)
        );
        assert!(Retention::new(101, RetentionTrigger::CaseClosed, Disposition::Destroy).is_err());
        assert_eq!(decision_final_on(d(2026, 1, 31)), d(2026, 2, 28));
    }

    #[test]
    fn plan_codes_and_file_numbers() {
        let c = PlanCode::parse(" 32.10.05 ").unwrap();
        assert_eq!(c.as_str(), "32.10.05");
        assert_eq!(c.parent().unwrap().as_str(), "32.10");
        assert_eq!(PlanCode::parse("3").unwrap().parent(), None);
        for bad in ["", "32..1", ".3", "3.", "a1", "32.10.05 x", "1234567"] {
            assert_eq!(PlanCode::parse(bad), Err(RecordsError::PlanCode), "{bad:?}");
        }
        let s = FileNumberScheme::default();
        assert_eq!(
            s.render(&c, "MS-2026-000123", 2026, 123),
            "32.10.05-MS-2026-000123"
        );
        let s = FileNumberScheme::parse("{plan}/{year}/{seq}").unwrap();
        assert_eq!(
            s.render(&c, "MS-2026-000123", 2026, 123),
            "32.10.05/2026/000123"
        );
        for bad in [
            "",
            "{plan}",
            "{plan}-{nope}",
            "{plan}-{seq",
            "x}{seq}",
            "{plan}\n{seq}",
        ] {
            assert_eq!(
                FileNumberScheme::parse(bad),
                Err(RecordsError::FileNumberScheme),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn hand_over_runs_in_order_with_four_eyes() {
        use DisposalStatus as S;
        use DisposalStep as P;
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let mut s = S::Offered;
        assert_eq!(
            s.next(P::HandOver, a, None),
            Err(RecordsError::WrongStatus(S::Offered))
        );
        s = s.next(P::Evaluate, a, None).unwrap();
        s = s.next(P::Evaluate, a, None).unwrap();
        s = s.next(P::HandOver, a, None).unwrap();
        assert_eq!(
            s.next(P::Evaluate, a, None),
            Err(RecordsError::WrongStatus(S::HandedOver))
        );
        s = s.next(P::Confirm, a, None).unwrap();
        s = s.next(P::RequestDestruction, a, None).unwrap();
        assert_eq!(
            s.next(P::ApproveDestruction, a, Some(a)),
            Err(RecordsError::OwnApproval)
        );
        s = s.next(P::ApproveDestruction, b, Some(a)).unwrap();
        assert_eq!(s, S::Completed);
    }

    #[test]
    fn the_nearest_rule_applies() {
        let id = Uuid::from_u128;
        let r = Retention::new(5, RetentionTrigger::DecisionFinal, Disposition::Destroy).unwrap();
        let nodes = vec![
            PlanNode {
                id: id(1),
                parent: None,
                code: PlanCode::parse("3").unwrap(),
                title: "Finanzen".into(),
                retention: Some(r),
            },
            PlanNode {
                id: id(2),
                parent: Some(id(1)),
                code: PlanCode::parse("32").unwrap(),
                title: "Steuern".into(),
                retention: None,
            },
            // a corrupt cycle terminates
            PlanNode {
                id: id(3),
                parent: Some(id(4)),
                code: PlanCode::parse("9").unwrap(),
                title: "x".into(),
                retention: None,
            },
            PlanNode {
                id: id(4),
                parent: Some(id(3)),
                code: PlanCode::parse("99").unwrap(),
                title: "y".into(),
                retention: None,
            },
        ];
        assert_eq!(effective_retention(&nodes, id(2)), Some(r));
        assert_eq!(effective_retention(&nodes, id(3)), None);
        assert_eq!(effective_retention(&nodes, id(7)), None);
    }

    fn step() -> impl Strategy<Value = DisposalStep> {
        prop_oneof![
            Just(DisposalStep::Evaluate),
            Just(DisposalStep::HandOver),
            Just(DisposalStep::Confirm),
            Just(DisposalStep::RequestDestruction),
            Just(DisposalStep::ApproveDestruction),
        ]
    }

    proptest! {
        /// Whatever the order of steps and people: nothing is destroyed
        /// before the archive confirmed, and never on one person's word.
        #[test]
        fn no_destruction_without_confirmation_and_two_people(
            steps in proptest::collection::vec((step(), 0u128..3), 0..20)
        ) {
            let mut s = DisposalStatus::Offered;
            let mut confirmed = false;
            let mut requested_by = None;
            for (p, who) in steps {
                let actor = Uuid::from_u128(who);
                if let Ok(n) = s.next(p, actor, requested_by) {
                    if n == DisposalStatus::Confirmed { confirmed = true; }
                    if n == DisposalStatus::DestructionRequested { requested_by = Some(actor); }
                    if n == DisposalStatus::Completed {
                        prop_assert!(confirmed);
                        prop_assert!(requested_by.is_some() && requested_by != Some(actor));
                    }
                    s = n;
                }
            }
        }

        #[test]
        fn retention_end_is_after_the_event(y in 1900i32..2200, doy in 1u32..365, years in 1u16..=100) {
            let e = NaiveDate::from_yo_opt(y, doy).unwrap();
            let r = Retention::new(years, RetentionTrigger::CaseClosed, Disposition::Archive).unwrap();
            prop_assert!(r.ends_on(e) > e);
            prop_assert!(!r.due(Some(e), r.ends_on(e), false));
            prop_assert!(r.due(Some(e), r.ends_on(e).succ_opt().unwrap(), false));
        }

        #[test]
        fn schemes_never_panic(s in "\\PC{0,40}") {
            if let Ok(scheme) = FileNumberScheme::parse(&s) {
                let out = scheme.render(&PlanCode::parse("1").unwrap(), "R", 2026, 1);
                prop_assert!(!out.contains('{'), "placeholder left in {}", out);
            }
        }
    }

    #[test]
    fn plan_changes_are_checked_by_field() {
        let bad = PlanChange::AddNode {
            code: "32.x".into(),
            title: " ".into(),
            retention: None,
        }
        .validate()
        .unwrap_err();
        let fields: Vec<&str> = bad.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["code", "title"]);
        let years = PlanChange::UpdateNode {
            code: "32.10".into(),
            title: "Steuern".into(),
            retention: Some(Retention {
                years: 0,
                trigger: RetentionTrigger::CaseClosed,
                disposition: Disposition::Destroy,
            }),
        }
        .validate()
        .unwrap_err();
        assert_eq!(years.0[0].code, "records.retention_years");
        let scheme = PlanChange::SetFileNumberScheme {
            scheme: "{plan}".into(),
        }
        .validate()
        .unwrap_err();
        assert_eq!(scheme.0[0].field, "scheme");
        let ok = PlanChange::AddNode {
            code: " 32.10.06 ".into(),
            title: " Zweitwohnungsteuer ".into(),
            retention: Some(
                Retention::new(10, RetentionTrigger::CaseClosed, Disposition::Archive).unwrap(),
            ),
        }
        .validate()
        .unwrap();
        assert_eq!(
            ok.summary(),
            "Neu: 32.10.06 Zweitwohnungsteuer (10 J. ab Abschluss, A)"
        );
        // The payload round-trips as JSON (it waits in the database).
        let json = serde_json::to_string(&ok).unwrap();
        assert_eq!(serde_json::from_str::<PlanChange>(&json).unwrap(), ok);
    }

    #[test]
    fn a_circulation_goes_from_person_to_person() {
        let (a, b, sender) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(9));
        let people = [a, b];
        let run = CirculationStatus::Running;
        assert_eq!(
            circulation_step(run, &people, 0, sender, CirculationAction::SignOff, b),
            Err(CirculationError::NotYourStep)
        );
        assert_eq!(
            circulation_step(run, &people, 0, sender, CirculationAction::SignOff, a),
            Ok((run, 1))
        );
        assert_eq!(
            circulation_step(run, &people, 1, sender, CirculationAction::SignOff, b),
            Ok((CirculationStatus::Completed, 1))
        );
        assert_eq!(
            circulation_step(run, &people, 1, sender, CirculationAction::Return, b),
            Ok((CirculationStatus::Returned, 1))
        );
        assert_eq!(
            circulation_step(run, &people, 1, sender, CirculationAction::Cancel, b),
            Err(CirculationError::NotSender)
        );
        assert_eq!(
            circulation_step(
                CirculationStatus::Completed,
                &people,
                1,
                sender,
                CirculationAction::Cancel,
                sender
            ),
            Err(CirculationError::NotRunning)
        );
    }

    proptest! {
        /// Whatever happens: a circulation completes only after every
        /// person signed off in order, each by themselves.
        #[test]
        fn a_circulation_completes_only_when_everybody_signed_in_order(
            n in 1usize..5,
            acts in proptest::collection::vec((0u8..3, 0u128..6), 0..30)
        ) {
            let people: Vec<Uuid> = (0..n as u128).map(Uuid::from_u128).collect();
            let sender = Uuid::from_u128(5);
            let (mut status, mut current) = (CirculationStatus::Running, 0usize);
            let mut signed = Vec::new();
            for (a, who) in acts {
                let action = [CirculationAction::SignOff, CirculationAction::Return, CirculationAction::Cancel][a as usize];
                let by = Uuid::from_u128(who);
                if let Ok((s, c)) = circulation_step(status, &people, current, sender, action, by) {
                    if action == CirculationAction::SignOff { signed.push(by); }
                    status = s;
                    current = c;
                }
            }
            if status == CirculationStatus::Completed {
                prop_assert_eq!(signed, people);
            }
        }
    }
}
