//! The mailbox thread of an application as both sides see it, and local time
//! for display.

use chrono::Utc;

/// One message of a mailbox thread as shown to either side.
pub struct ThreadRow {
    pub from_office: bool,
    pub kind: &'static str,
    pub at: String,
    pub body: String,
    pub documents: Vec<String>,
    pub due: String,
    /// When the other side opened it ("" = not yet).
    pub read_at: String,
    /// (link, name) of files that came with it.
    pub files: Vec<(String, String)>,
}

/// Central European time for display (UTC+1, UTC+2 in summer; no tz database needed).
pub fn chrono_tz_berlin() -> chrono::FixedOffset {
    use chrono::Datelike;
    let now = Utc::now();
    // Last Sunday of March to last Sunday of October, approximately by month.
    let summer = (4..=10).contains(&now.month());
    chrono::FixedOffset::east_opt(if summer { 7200 } else { 3600 }).expect("offset")
}

pub fn local_time(t: chrono::DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz_berlin())
        .format("%d.%m.%Y, %H:%M")
        .to_string()
}

/// The thread as rows for either side; `href` links a file.
pub fn thread_rows(
    messages: &[rathaus_storage::applications::Message],
    files: &[rathaus_storage::applications::ApplicationFile],
    href: impl Fn(&rathaus_storage::applications::ApplicationFile) -> String,
) -> Vec<ThreadRow> {
    messages
        .iter()
        .map(|m| ThreadRow {
            from_office: m.from_office,
            kind: match m.kind.as_str() {
                "document_request" => "document_request",
                "answer" => "answer",
                "decision" => "decision",
                _ => "message",
            },
            at: local_time(m.created_at),
            body: m.body.clone(),
            documents: m
                .requested_documents
                .as_deref()
                .unwrap_or_default()
                .lines()
                .map(|l| l.trim().trim_start_matches("- ").to_string())
                .filter(|l| !l.is_empty())
                .collect(),
            due: m
                .due_date
                .map(|d| d.format("%d.%m.%Y").to_string())
                .unwrap_or_default(),
            read_at: m.read_at.map(local_time).unwrap_or_default(),
            files: files
                .iter()
                .filter(|f| f.message_id == Some(m.id))
                .map(|f| (href(f), f.name.clone()))
                .collect(),
        })
        .collect()
}
