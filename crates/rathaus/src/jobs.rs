//! Handlers for outbox job kinds. Later capabilities register theirs here
//! (search index updates, emails, deliveries to Fachverfahren). Emails go
//! through the outbox, so a mail server that is down delays them, never loses
//! them.

use rathaus_storage::prelude::*;
use std::time::Duration;

use rathaus_domain::{
    notifications::{self, Event},
    tenancy::TenantId,
};
use rathaus_storage::{
    Store,
    outbox::{ClaimedJob, Handlers, JobHandler},
    tenancy::TenantRepository,
};
use uuid::Uuid;

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

/// Where emails go: an SMTP server (`smtp://host:port`, `smtps://…`,
/// `smtp://…?tls=required`, with `user:password@` when needed) or, without
/// one, `.eml` files in a folder (the demo: read them in `data/mails/`).
#[derive(Clone)]
pub enum Mailer {
    Smtp(lettre::AsyncSmtpTransport<lettre::Tokio1Executor>),
    Files(std::path::PathBuf),
}

impl Mailer {
    pub fn from_settings(
        smtp_url: Option<&str>,
        mail_dir: std::path::PathBuf,
    ) -> anyhow::Result<Self> {
        Self::with_ca(smtp_url, None, mail_dir)
    }

    /// As `from_settings`; with `ca_file` (PEM, `RATHAUS_SMTP_CA_FILE`) the
    /// TLS connection also trusts that certificate authority (a private CA).
    pub fn with_ca(
        smtp_url: Option<&str>,
        ca_file: Option<&std::path::Path>,
        mail_dir: std::path::PathBuf,
    ) -> anyhow::Result<Self> {
        let Some(url) = smtp_url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(Self::Files(mail_dir));
        };
        let mut builder = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("RATHAUS_SMTP_URL is not a usable SMTP address: {e}"))?
            .timeout(Some(Duration::from_secs(20)));
        if let Some(path) = ca_file {
            use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
            let pem = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("RATHAUS_SMTP_CA_FILE {}: {e}", path.display()))?;
            let cert = Certificate::from_pem(&pem).map_err(|e| {
                anyhow::anyhow!(
                    "RATHAUS_SMTP_CA_FILE {} is no PEM certificate: {e}",
                    path.display()
                )
            })?;
            let (implicit, query, host) = smtp_url_parts(url);
            let params = TlsParameters::builder(host.to_string())
                .add_root_certificate(cert)
                .build()
                .map_err(|e| anyhow::anyhow!("TLS settings for {host}: {e}"))?;
            // The same TLS mode lettre derives from the URL, with these roots.
            builder = builder.tls(if implicit {
                Tls::Wrapper(params)
            } else if query.contains("tls=required") {
                Tls::Required(params)
            } else if query.contains("tls=opportunistic") {
                Tls::Opportunistic(params)
            } else {
                Tls::None
            });
        }
        Ok(Self::Smtp(builder.build()))
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Smtp(_) => "smtp".into(),
            Self::Files(dir) => format!("files in {}", dir.display()),
        }
    }

    async fn send(&self, message: lettre::Message) -> Result<(), String> {
        use lettre::AsyncTransport;
        match self {
            Self::Smtp(t) => t
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| format!("SMTP: {e}")),
            Self::Files(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| format!("mail folder {}: {e}", dir.display()))?;
                lettre::AsyncFileTransport::<lettre::Tokio1Executor>::new(dir)
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("mail file: {e}"))
            }
        }
    }
}

/// (`smtps://`, the query, the host) of an SMTP URL.
fn smtp_url_parts(url: &str) -> (bool, &str, &str) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("smtp", url));
    let (authority, query) = match rest.split_once('?') {
        Some((a, q)) => (a, q),
        None => (rest, ""),
    };
    let authority = authority.split('/').next().unwrap_or(authority);
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host_port.split(':').next().unwrap_or(host_port),
    };
    (scheme == "smtps", query, host)
}

/// What the notification jobs need besides the database.
#[derive(Clone)]
pub struct Notifier {
    pub store: Store,
    /// Object storage (documents the jobs make, such as the receipt).
    pub files: rathaus_storage::files::FileStore,
    pub mailer: Mailer,
    /// Public address of the portal, for links.
    pub public_url: String,
    /// Sender address (`Name <address>`).
    pub from: String,
}

impl Notifier {
    async fn mail(&self, to: &str, subject: &str, body: String) -> Result<(), String> {
        let message = lettre::Message::builder()
            .from(
                self.from
                    .parse()
                    .map_err(|e| format!("sender address {:?}: {e}", self.from))?,
            )
            .to(to.parse().map_err(|e| format!("recipient address: {e}"))?)
            .subject(subject)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(
                lettre::message::Body::new_with_encoding(
                    body,
                    lettre::message::header::ContentTransferEncoding::QuotedPrintable,
                )
                .map_err(|e| format!("encoding the email: {e:?}"))?,
            )
            .map_err(|e| format!("building the email: {e}"))?;
        self.mailer.send(message).await
    }

    /// A text e-mail with a calendar file attached (`termin.ics`).
    async fn mail_with_ics(
        &self,
        to: &str,
        subject: &str,
        body: String,
        ics: String,
    ) -> Result<(), String> {
        use lettre::message::{Attachment, MultiPart, SinglePart, header::ContentType};
        let text = SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .header(lettre::message::header::ContentTransferEncoding::QuotedPrintable)
            .body(body);
        let cancelled = ics.contains("METHOD:CANCEL");
        let calendar = Attachment::new("termin.ics".into()).body(
            ics,
            ContentType::parse(if cancelled {
                "text/calendar; charset=utf-8; method=CANCEL"
            } else {
                "text/calendar; charset=utf-8; method=PUBLISH"
            })
            .map_err(|e| format!("content type: {e}"))?,
        );
        let message = lettre::Message::builder()
            .from(
                self.from
                    .parse()
                    .map_err(|e| format!("sender address {:?}: {e}", self.from))?,
            )
            .to(to.parse().map_err(|e| format!("recipient address: {e}"))?)
            .subject(subject)
            .multipart(MultiPart::mixed().singlepart(text).singlepart(calendar))
            .map_err(|e| format!("building the email: {e}"))?;
        self.mailer.send(message).await
    }

    /// Notifies the applicant of an application about `event`.
    async fn notify(
        &self,
        tenant: TenantId,
        application: Uuid,
        event: Event,
        access_token: Option<&str>,
    ) -> Result<(), String> {
        let repo = self.store.repo();
        let app = repo
            .application(tenant, application)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("application not found")?;
        let Some(to) = app.notify_email.clone() else {
            tracing::info!(reference = %app.reference, event = event.code(), "no address to notify");
            return Ok(());
        };
        let tenant_name = repo
            .tenant(tenant)
            .await
            .map_err(|e| e.to_string())?
            .map(|t| t.name)
            .unwrap_or_default();
        let base = self.public_url.trim_end_matches('/');
        let link = match (app.citizen_id, access_token) {
            (Some(_), _) => format!("{base}/konto/antraege/{}", app.reference),
            (None, Some(token)) => format!("{base}/antrag/eingang/{token}"),
            // Without an account, later emails point to the page that explains
            // how to open the application (the link came with the receipt).
            (None, None) => format!("{base}/antrag/zugang?az={}", app.reference),
        };
        let (subject, body) = notifications::email(event, &tenant_name, &app.reference, &link);
        self.mail(&to, &subject, body).await?;
        tracing::info!(reference = %app.reference, event = event.code(), "notification sent");
        Ok(())
    }
}

fn uuid_of(payload: &serde_json::Value, key: &str) -> Result<Uuid, String> {
    payload
        .get(key)
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| format!("payload has no {key}"))
}

/// `application.received {"application", "reference", "sealed_access_token"?}`:
/// the receipt email. Without an account it carries the access link: the
/// token travels sealed with the instance key (`RATHAUS_SECRET_KEY`; never in
/// plain text in the database) and is removed from the job once the email
/// is out. (`access_token` in plain text: jobs written before sealing.)
pub struct ApplicationReceived(pub Notifier);

#[async_trait::async_trait]
impl JobHandler for ApplicationReceived {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), String> {
        let payload = job
            .payload_json()
            .map_err(|e| format!("invalid payload: {e}"))?;
        let tenant = job.tenant().ok_or("job without tenant")?;
        let app = uuid_of(&payload, "application")?;
        let token = match payload.get("sealed_access_token").and_then(|t| t.as_str()) {
            Some(sealed) => Some(
                self.0
                    .store
                    .secrets()
                    .open(sealed, &app.to_string())
                    .ok_or("the sealed access token does not open with this instance's key: every instance and worker needs the same RATHAUS_SECRET_KEY")?,
            ),
            None => payload
                .get("access_token")
                .and_then(|t| t.as_str())
                .map(String::from),
        };
        self.0
            .notify(tenant, app, Event::Received, token.as_deref())
            .await?;
        if token.is_some() {
            let mut scrubbed = payload.clone();
            if let Some(o) = scrubbed.as_object_mut() {
                o.remove("access_token");
                o.remove("sealed_access_token");
            }
            self.0
                .store
                .replace_job_payload(job.id, &scrubbed)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// `application.receipt {"application"}`: typesets the confirmation of
/// receipt once and stores it with its SHA-256 as a document of the case;
/// failures retry with the outbox's backoff (downloads before that typeset
/// and store it themselves, once).
pub struct ApplicationReceipt(pub rathaus_app::App);

#[async_trait::async_trait]
impl JobHandler for ApplicationReceipt {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), String> {
        let payload = job
            .payload_json()
            .map_err(|e| format!("invalid payload: {e}"))?;
        let tenant = job.tenant().ok_or("job without tenant")?;
        let app = uuid_of(&payload, "application")?;
        match self.0.ensure_receipt(tenant, app).await {
            // The application, its data, uploads and receipt go into the
            // case's Vorgang (e-file).
            Ok(_) => file_case(&self.0, tenant, app).await,
            // The application is gone (its tenant was removed): nothing to do.
            Err(rathaus_app::UseCaseError::NotFound) => Ok(()),
            Err(e) => Err(format!("receipt of {app}: {e}")),
        }
    }
}

/// Mailbox events: the office wrote, requested documents or decided →
/// email to the applicant; the applicant answered → the case is back in the
/// clerk's inbox (shown there; staff are not emailed per answer).
pub struct MailboxEvent(pub Notifier);

#[async_trait::async_trait]
impl JobHandler for MailboxEvent {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), String> {
        let payload = job
            .payload_json()
            .map_err(|e| format!("invalid payload: {e}"))?;
        let tenant = job.tenant().ok_or("job without tenant")?;
        // Every message (and its files) goes into the case's Vorgang.
        if let Ok(application) = uuid_of(&payload, "application") {
            let app = rathaus_app::App::new(self.0.store.clone(), self.0.files.clone());
            file_case(&app, tenant, application).await?;
        }
        if job.kind == "mailbox.applicant_answer" {
            tracing::info!(message = %payload["message"], "applicant answered; case back in the inbox");
            return Ok(());
        }
        let message_id = uuid_of(&payload, "message")?;
        let m = self
            .0
            .store
            .repo()
            .message(tenant, message_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("message not found")?;
        let event = match m.kind.as_str() {
            "document_request" => Event::DocumentsRequested,
            "decision" => Event::Decision,
            _ => Event::Message,
        };
        self.0.notify(tenant, m.application_id, event, None).await
    }
}

/// The account emails: `account.confirm` (confirm a registration),
/// `account.exists` (a registration for an address that has an account:
/// "you already have one", with a password-reset link) and `account.reset`
/// (the password-reset link), each `{"account_token": id}`. The token's
/// secret is made here, when the email goes out, and only its SHA-256 is
/// stored: no job payload ever holds it. A token used up or expired meanwhile
/// sends nothing.
pub struct AccountMail(pub Notifier);

#[async_trait::async_trait]
impl JobHandler for AccountMail {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), String> {
        let payload = job
            .payload_json()
            .map_err(|e| format!("invalid payload: {e}"))?;
        let tenant = job.tenant().ok_or("job without tenant")?;
        let Ok(token_id) = uuid_of(&payload, "account_token") else {
            // A job of the former kind (its token no longer exists).
            tracing::info!(kind = %job.kind, "account email of a former kind skipped");
            return Ok(());
        };
        let repo = self.0.store.repo();
        let Some((token, secret)) = repo
            .issue_account_token(tenant, token_id)
            .await
            .map_err(|e| e.to_string())?
        else {
            tracing::info!(kind = %job.kind, "account token used up or expired; no email");
            return Ok(());
        };
        let Some(c) = repo
            .citizen(tenant, token.citizen_id)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(());
        };
        let tenant_name = repo
            .tenant(tenant)
            .await
            .map_err(|e| e.to_string())?
            .map(|t| t.name)
            .unwrap_or_default();
        let base = self.0.public_url.trim_end_matches('/');
        let (subject, body) = match job.kind.as_str() {
            "account.confirm" => (
                format!("Konto bestätigen – {tenant_name}"),
                format!(
                    "Guten Tag,\n\nbitte bestätigen Sie Ihr Konto im Serviceportal von {tenant_name}: \
                     Öffnen Sie diesen Link und klicken Sie auf „Konto bestätigen“ \
                     (24 Stunden gültig):\n{base}/konto/bestaetigen/{secret}\n\n\
                     Wenn Sie kein Konto angelegt haben, ignorieren Sie diese E-Mail.\n\n\
                     Please confirm your account: open the link above and press the button \
                     (valid for 24 hours). If you did not register, ignore this email.\n\n-- \n{tenant_name}\n"
                ),
            ),
            "account.exists" => (
                format!("Ihr Konto – {tenant_name}"),
                format!(
                    "Guten Tag,\n\nmit dieser E-Mail-Adresse wurde gerade ein Konto im Serviceportal von \
                     {tenant_name} angelegt – Sie haben dort aber schon ein Konto. Melden Sie sich an:\n\
                     {base}/konto/anmelden\n\n\
                     Passwort vergessen? Mit diesem Link vergeben Sie ein neues (1 Stunde gültig):\n\
                     {base}/konto/passwort-neu/{secret}\n\n\
                     Wenn Sie das nicht waren, ignorieren Sie diese E-Mail; Ihr Konto bleibt unverändert.\n\n\
                     Someone tried to register with this address, but you already have an account. \
                     Log in, or set a new password with the second link (valid for 1 hour). \
                     If it was not you, ignore this email.\n\n-- \n{tenant_name}\n"
                ),
            ),
            _ => (
                format!("Neues Passwort – {tenant_name}"),
                format!(
                    "Guten Tag,\n\nSie möchten ein neues Passwort für Ihr Konto im Serviceportal von \
                     {tenant_name}. Mit diesem Link vergeben Sie es (1 Stunde gültig, einmal nutzbar):\n\
                     {base}/konto/passwort-neu/{secret}\n\n\
                     Wenn Sie das nicht waren, ignorieren Sie diese E-Mail; Ihr Passwort bleibt unverändert.\n\n\
                     To set a new password, open the link above (valid for 1 hour, once). \
                     If it was not you, ignore this email.\n\n-- \n{tenant_name}\n"
                ),
            ),
        };
        self.0.mail(&c.email, &subject, body).await?;
        tracing::info!(kind = %job.kind, "account email sent");
        Ok(())
    }
}

/// `records.file {"application"}`: files the case of an application into its
/// Vorgang (idempotent; enqueued with every case status change). The
/// submission's receipt job and the mailbox jobs file too.
pub struct FileCase(pub rathaus_app::App);

#[async_trait::async_trait]
impl JobHandler for FileCase {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), String> {
        let payload = job
            .payload_json()
            .map_err(|e| format!("invalid payload: {e}"))?;
        let tenant = job.tenant().ok_or("job without tenant")?;
        let app = uuid_of(&payload, "application")?;
        file_case(&self.0, tenant, app).await
    }
}

/// Files an application's case; a case that is gone (destroyed) is fine.
async fn file_case(
    app: &rathaus_app::App,
    tenant: TenantId,
    application: Uuid,
) -> Result<(), String> {
    match app.file_case(tenant, application).await {
        Ok(_) | Err(rathaus_app::UseCaseError::NotFound) => Ok(()),
        Err(e) => Err(format!("filing {application}: {e}")),
    }
}

/// `records.delete_objects {"keys"}`: deletes the objects of destroyed
/// content after the destruction's commit (a retry deletes what is left).
pub struct DeleteRecordObjects(pub rathaus_app::App);

#[async_trait::async_trait]
impl JobHandler for DeleteRecordObjects {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), String> {
        let payload = job
            .payload_json()
            .map_err(|e| format!("invalid payload: {e}"))?;
        let tenant = job.tenant().ok_or("job without tenant")?;
        let keys: Vec<String> = payload
            .get("keys")
            .and_then(|k| serde_json::from_value(k.clone()).ok())
            .ok_or("payload without keys")?;
        let n = self
            .0
            .delete_record_objects(tenant, &keys)
            .await
            .map_err(|e| format!("deleting destroyed content: {e}"))?;
        tracing::info!(objects = n, "destroyed content deleted from the file store");
        Ok(())
    }
}

/// `records.process {}`: extracts the text of the tenant's new document
/// versions, seals them with the tenant's key and puts them into the search
/// index (enqueued with every filed document; takes all that are waiting).
pub struct ProcessRecords(pub rathaus_app::App);

#[async_trait::async_trait]
impl JobHandler for ProcessRecords {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), String> {
        let tenant = job.tenant().ok_or("job without tenant")?;
        let n = self
            .0
            .process_record_versions(tenant)
            .await
            .map_err(|e| format!("processing filed documents: {e}"))?;
        if n > 0 {
            tracing::info!(versions = n, "filed documents sealed and indexed");
        }
        Ok(())
    }
}

/// Reads what other instances sealed into this instance's search index of
/// the e-file: at start all, then every `every` until shutdown.
pub async fn refresh_record_index(
    app: rathaus_app::App,
    every: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        match app.refresh_record_index().await {
            Ok(n) if n > 0 => tracing::info!(documents = n, "e-file search index refreshed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "e-file search index not refreshed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// `storage.sweep {}`: deletes orphaned uploads (objects below `uploads/`
/// that no draft, application, answer or document refers to) older than
/// the grace period. Enqueued periodically by [`schedule_sweeps`].
pub struct StorageSweep {
    pub app: rathaus_app::App,
    pub grace: chrono::Duration,
}

#[async_trait::async_trait]
impl JobHandler for StorageSweep {
    async fn handle(&self, _job: &ClaimedJob) -> Result<(), String> {
        let swept = self
            .app
            .sweep_orphans(self.grace)
            .await
            .map_err(|e| format!("orphan sweep: {e:?}"))?;
        tracing::info!(
            files = swept.files,
            bytes = swept.bytes,
            "orphan sweep done"
        );
        Ok(())
    }
}

/// Enqueues a `storage.sweep` job every `every` until shutdown (the first
/// one after `every`), so the sweep runs on whichever worker claims it.
pub async fn schedule_sweeps(
    store: Store,
    every: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        if let Err(e) = store
            .repo()
            .enqueue(None, "storage.sweep", &serde_json::json!({}))
            .await
        {
            tracing::warn!(error = %e, "orphan sweep not enqueued");
        }
    }
}

/// The job that asks the provider about pending payments.
pub const RECONCILE_JOB: &str = "payment.reconcile";

/// `payment.reconcile {}`: every payment pending for longer than `min_age`
/// is confirmed (or expired) by asking the provider. Enqueued periodically
/// by [`schedule_job`].
pub struct ReconcilePayments {
    pub app: rathaus_app::App,
    pub min_age: chrono::Duration,
}

#[async_trait::async_trait]
impl JobHandler for ReconcilePayments {
    async fn handle(&self, _job: &ClaimedJob) -> Result<(), String> {
        if !self.app.payments_enabled() {
            return Ok(());
        }
        let n = self
            .app
            .reconcile_payments(self.min_age)
            .await
            .map_err(|e| format!("reconciliation: {e:?}"))?;
        if n > 0 {
            tracing::info!(checked = n, "payments reconciled");
        }
        Ok(())
    }
}

/// `payment.paid {payment}`: the Zahlungsbestätigung goes to the mailbox.
struct PaymentPaid(rathaus_app::App);

#[async_trait::async_trait]
impl JobHandler for PaymentPaid {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), String> {
        let payload = job
            .payload_json()
            .map_err(|e| format!("invalid payload: {e}"))?;
        let payment = uuid_of(&payload, "payment")?;
        let tenant = job.tenant().ok_or("payment.paid without tenant")?;
        self.0
            .payment_paid(tenant, payment)
            .await
            .map_err(|e| format!("payment receipt: {e:?}"))
    }
}

/// `appointment.mail {booking, kind}` and `appointment.waitlist_mail
/// {entry}`: the e-mails of appointment booking (the confirmation link's
/// secret is made when the e-mail goes out; a booking that no longer needs
/// the e-mail sends nothing).
struct AppointmentMail {
    app: rathaus_app::App,
    notifier: Notifier,
}

#[async_trait::async_trait]
impl JobHandler for AppointmentMail {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), String> {
        let payload = job
            .payload_json()
            .map_err(|e| format!("invalid payload: {e}"))?;
        let tenant = job.tenant().ok_or("appointment mail without tenant")?;
        let base = self.notifier.public_url.clone();
        let mail = if job.kind == rathaus_storage::appointments::WAITLIST_MAIL_JOB {
            let entry = uuid_of(&payload, "entry")?;
            self.app.waitlist_mail(tenant, entry, &base).await
        } else {
            let booking = uuid_of(&payload, "booking")?;
            let kind = payload
                .get("kind")
                .and_then(|k| k.as_str())
                .unwrap_or_default();
            self.app
                .appointment_mail(tenant, booking, kind, &base)
                .await
        }
        .map_err(|e| format!("appointment mail: {e:?}"))?;
        let Some(m) = mail else {
            tracing::info!(kind = %job.kind, "appointment mail not needed any more");
            return Ok(());
        };
        match m.ics {
            Some(ics) => {
                self.notifier
                    .mail_with_ics(&m.to, &m.subject, m.body, ics)
                    .await?
            }
            None => self.notifier.mail(&m.to, &m.subject, m.body).await?,
        }
        tracing::info!(kind = %job.kind, "appointment mail sent");
        Ok(())
    }
}

/// `appointment.freed {location, service, day}`: the first people waiting
/// get the free time.
struct AppointmentFreed(rathaus_app::App);

#[async_trait::async_trait]
impl JobHandler for AppointmentFreed {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), String> {
        let payload = job
            .payload_json()
            .map_err(|e| format!("invalid payload: {e}"))?;
        let tenant = job.tenant().ok_or("appointment.freed without tenant")?;
        let service = uuid_of(&payload, "service")?;
        let day = payload
            .get("day")
            .and_then(|d| d.as_str())
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or("appointment.freed without day")?;
        let n = self
            .0
            .offer_freed_time(tenant, service, day)
            .await
            .map_err(|e| format!("waiting list: {e:?}"))?;
        if n > 0 {
            tracing::info!(offered = n, "freed appointment offered to the waiting list");
        }
        Ok(())
    }
}

/// `appointments.sweep {}`: holds that ran out are released, tomorrow's
/// reminders go out, old personal data is forgotten.
struct AppointmentSweep(rathaus_app::App);

#[async_trait::async_trait]
impl JobHandler for AppointmentSweep {
    async fn handle(&self, _job: &ClaimedJob) -> Result<(), String> {
        let n = self
            .0
            .sweep_appointments()
            .await
            .map_err(|e| format!("appointment sweep: {e:?}"))?;
        if n > 0 {
            tracing::info!(released = n, "appointment holds released");
        }
        Ok(())
    }
}

/// `defect.mail {report, kind}`: tells a reporter (received, status,
/// merged); nothing once the address is forgotten.
struct DefectMail {
    app: rathaus_app::App,
    notifier: Notifier,
}

#[async_trait::async_trait]
impl JobHandler for DefectMail {
    async fn handle(&self, job: &ClaimedJob) -> Result<(), String> {
        let payload = job
            .payload_json()
            .map_err(|e| format!("invalid payload: {e}"))?;
        let tenant = job.tenant().ok_or("defect mail without tenant")?;
        let report = uuid_of(&payload, "report")?;
        let kind = payload
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or_default();
        let mail = self
            .app
            .defect_mail(tenant, report, kind, &self.notifier.public_url)
            .await
            .map_err(|e| format!("defect mail: {e:?}"))?;
        let Some(m) = mail else {
            tracing::info!("defect mail not needed any more");
            return Ok(());
        };
        self.notifier.mail(&m.to, &m.subject, m.body).await?;
        tracing::info!(kind, "defect mail sent");
        Ok(())
    }
}

/// `defects.sweep {}`: reporters' contact data is forgotten 30 days after
/// their report was closed.
struct DefectSweep(rathaus_app::App);

#[async_trait::async_trait]
impl JobHandler for DefectSweep {
    async fn handle(&self, _job: &ClaimedJob) -> Result<(), String> {
        let n = self
            .0
            .sweep_defects()
            .await
            .map_err(|e| format!("defect sweep: {e:?}"))?;
        if n > 0 {
            tracing::info!(cleared = n, "defect reporters' contact data forgotten");
        }
        Ok(())
    }
}

/// Enqueues the job `kind` every `every` until shutdown (the first one
/// after a short delay), so it runs on whichever worker claims it.
pub async fn schedule_job(
    store: Store,
    kind: &'static str,
    every: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut wait = every.min(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        wait = every;
        if let Err(e) = store
            .repo()
            .enqueue(None, kind, &serde_json::json!({}))
            .await
        {
            tracing::warn!(error = %e, kind, "periodic job not enqueued");
        }
    }
}

/// The handlers of every job kind but `storage.sweep` (which needs the
/// file store: [`StorageSweep`], added by the server).
pub fn handlers(notifier: Notifier) -> Handlers {
    let app = rathaus_app::App::new(notifier.store.clone(), notifier.files.clone());
    handlers_for(notifier, app)
}

/// [`handlers`] on a given use-case layer (the server's: its e-file search
/// index then sees what the jobs seal at once).
pub fn handlers_for(notifier: Notifier, app: rathaus_app::App) -> Handlers {
    Handlers::new()
        .with("diagnostics.sleep", Sleep)
        .with("application.receipt", ApplicationReceipt(app.clone()))
        .with(
            rathaus_storage::outbox::FILE_CASE_JOB,
            FileCase(app.clone()),
        )
        .with(
            rathaus_storage::records::PROCESS_JOB,
            ProcessRecords(app.clone()),
        )
        .with(
            rathaus_storage::records::DELETE_OBJECTS_JOB,
            DeleteRecordObjects(app.clone()),
        )
        .with(
            rathaus_storage::payments::PAID_JOB,
            PaymentPaid(app.clone()),
        )
        .with(
            rathaus_storage::appointments::MAIL_JOB,
            AppointmentMail {
                app: app.clone(),
                notifier: notifier.clone(),
            },
        )
        .with(
            rathaus_storage::appointments::WAITLIST_MAIL_JOB,
            AppointmentMail {
                app: app.clone(),
                notifier: notifier.clone(),
            },
        )
        .with(
            rathaus_storage::appointments::FREED_JOB,
            AppointmentFreed(app.clone()),
        )
        .with(
            rathaus_storage::appointments::SWEEP_JOB,
            AppointmentSweep(app.clone()),
        )
        .with(
            rathaus_storage::defects::MAIL_JOB,
            DefectMail {
                app: app.clone(),
                notifier: notifier.clone(),
            },
        )
        .with(rathaus_storage::defects::SWEEP_JOB, DefectSweep(app))
        .with(
            "application.received",
            ApplicationReceived(notifier.clone()),
        )
        .with("mailbox.office_message", MailboxEvent(notifier.clone()))
        .with("mailbox.decision", MailboxEvent(notifier.clone()))
        .with("mailbox.applicant_answer", MailboxEvent(notifier.clone()))
        .with("account.confirm", AccountMail(notifier.clone()))
        .with("account.exists", AccountMail(notifier.clone()))
        .with("account.reset", AccountMail(notifier))
}
