//! Handlers for outbox job kinds. Later capabilities register theirs here
//! (search index updates, emails, deliveries to Fachverfahren).

use std::time::Duration;

use rathaus_storage::outbox::{ClaimedJob, Handlers, JobHandler};

/// `diagnostics.sleep {"ms": N}`: waits N milliseconds. Used by operators to
/// check that workers run, and by the crash test.
pub struct Sleep;

#[async_trait::async_trait]
impl JobHandler for Sleep {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), String> {
        let payload = job
            .payload_json()
            .map_err(|e| format!("invalid payload: {e}"))?;
        let ms = payload
            .get("ms")
            .and_then(|v| v.as_u64())
            .unwrap_or(0)
            .min(60_000);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(())
    }
}

/// `application.received {"application", "reference"}`: the hook for what
/// follows a submission (receipt PDF, notification email, delivery). For now
/// it records the event in the log, so the job completes instead of
/// dead-lettering.
pub struct ApplicationReceived;

#[async_trait::async_trait]
impl JobHandler for ApplicationReceived {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), String> {
        let payload = job
            .payload_json()
            .map_err(|e| format!("invalid payload: {e}"))?;
        tracing::info!(
            reference = payload
                .get("reference")
                .and_then(|r| r.as_str())
                .unwrap_or(""),
            "application received"
        );
        Ok(())
    }
}

/// Mailbox events (a message or document request from the office, an
/// applicant's answer): the hook for email notifications, logged for now.
pub struct MailboxEvent;

#[async_trait::async_trait]
impl JobHandler for MailboxEvent {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), String> {
        let payload = job
            .payload_json()
            .map_err(|e| format!("invalid payload: {e}"))?;
        tracing::info!(kind = %job.kind, message = %payload["message"], "mailbox event");
        Ok(())
    }
}

pub fn handlers() -> Handlers {
    Handlers::new()
        .with("diagnostics.sleep", Sleep)
        .with("application.received", ApplicationReceived)
        .with("mailbox.office_message", MailboxEvent)
        .with("mailbox.applicant_answer", MailboxEvent)
}
