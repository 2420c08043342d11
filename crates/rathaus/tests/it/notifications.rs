//! The loop with notifications: anonymous in the browser (no JavaScript),
//! with an account (prefilled), and through the API alone — each with the
//! emails sent at every step. Emails go to a real SMTP server (aiosmtpd from
//! PyPI, started here) when Python has it; otherwise (a failure under
//! `CI=true`, a notice locally) to the `.eml` file transport the demo uses.
//! The assertions are the same.

use rathaus_storage::prelude::*;
use std::path::PathBuf;

use base64::Engine;
use rathaus::jobs::{Mailer, Notifier, handlers};
use rathaus_storage::outbox::{OutboxRepository, Worker, WorkerConfig};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, assert_pdfa_2b, client, csrf_of, has_aiosmtpd, location, publish_form, text, token,
    wizard_send, wizard_start,
};
use crate::smtp_tls::SmtpServer;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

/// Where the emails of one test end up.
pub(crate) struct MailSink {
    dir: PathBuf,
    /// Dropping it stops the server.
    smtp: Option<SmtpServer>,
    url: Option<String>,
}

impl MailSink {
    pub(crate) fn start(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("rathaus-mail-{name}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        if !has_aiosmtpd() {
            return Self {
                dir,
                smtp: None,
                url: None,
            };
        }
        let smtp = SmtpServer::start(&dir.join("box"), &[]);
        let url = format!("smtp://127.0.0.1:{}", smtp.port);
        Self {
            dir,
            smtp: Some(smtp),
            url: Some(url),
        }
    }

    fn mailer(&self) -> Mailer {
        Mailer::from_settings(self.url.as_deref(), self.dir.join("files")).unwrap()
    }

    /// All emails received so far, decoded (headers + quoted-printable body).
    pub(crate) fn mails(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["box/new", "files"] {
            if let Ok(rd) = std::fs::read_dir(self.dir.join(sub)) {
                let mut paths: Vec<_> = rd.flatten().map(|e| e.path()).collect();
                paths.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
                for p in paths {
                    if p.extension().is_some_and(|e| e == "json") {
                        continue;
                    }
                    out.push(qp_decode(&std::fs::read_to_string(&p).unwrap()));
                }
            }
        }
        out
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        self.smtp.take();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn qp_decode(s: &str) -> String {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs the outbox until it is empty (the worker of a real instance does
/// this in the background).
pub(crate) async fn deliver(app: &TestApp, sink: &MailSink) {
    let store = app.db.as_ref().unwrap().store.clone();
    let notifier = Notifier {
        store: store.clone(),
        files: app.files.clone(),
        mailer: sink.mailer(),
        public_url: app.url(""),
        from: "Stadt Musterstadt <noreply@musterstadt.example>".into(),
    };
    Worker::new(store, handlers(notifier), WorkerConfig::new("test-worker"))
        .drain()
        .await
        .unwrap();
    let counts = app
        .db
        .as_ref()
        .unwrap()
        .store
        .repo()
        .job_counts()
        .await
        .unwrap();
    assert_eq!(counts.get("dead"), None, "no job failed: {counts:?}");
}

/// A form with the applicant's name, email, postal code and an upload.
fn mail_form() -> Value {
    json!({
      "format": "rathaus.form/1",
      "key": "gewerbe-mailtest",
      "service": "gewerbe-anmeldung",
      "definition": {
        "key": "gewerbe_mailtest", "title": {"de": "Gewerbe-Anmeldung (Test)", "en": "Business registration (test)"},
        "steps": [
          {"key": "person", "title": {"de": "Person", "en": "Person"}, "items": [
            {"type": "field", "key": "vorname", "label": {"de": "Vorname", "en": "Given name"}, "kind": "text", "required": true, "autocomplete": "given-name"},
            {"type": "field", "key": "familienname", "label": {"de": "Familienname", "en": "Family name"}, "kind": "text", "required": true, "autocomplete": "family-name"},
            {"type": "field", "key": "email", "label": {"de": "E-Mail", "en": "Email"}, "kind": "email", "required": true, "autocomplete": "email"},
            {"type": "field", "key": "plz", "label": {"de": "Postleitzahl", "en": "Postal code"}, "kind": "text", "required": true, "autocomplete": "postal-code"},
            {"type": "field", "key": "nachweis", "label": {"de": "Nachweis", "en": "Proof"}, "kind": "file"}
          ]}
        ]
      }
    })
}

async fn publish_mail_form(app: &TestApp) {
    publish_form(app, &mail_form()).await;
}

pub(crate) fn between<'a>(html: &'a str, after: &str, until: char) -> &'a str {
    let start = html
        .find(after)
        .unwrap_or_else(|| panic!("{after} not in page"))
        + after.len();
    &html[start..start + html[start..].find(until).unwrap()]
}

/// Starts the form, fills the one step (multipart, with the proof as PDF)
/// and sends it; returns the redirect target after sending.
async fn apply(app: &TestApp, browser: &reqwest::Client, fields: &[(&str, &str)]) -> String {
    let (csrf, base) = wizard_start(app, browser, "gewerbe-anmeldung").await;
    let mut form = Form::new().text("csrf_token", csrf.clone());
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    form = form.part(
        "_file:nachweis",
        Part::bytes(PDF.to_vec()).file_name("nachweis.pdf"),
    );
    let r = browser
        .post(app.url(&format!("{base}/schritt/1")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    wizard_send(app, browser, &base, &csrf).await
}

/// The clerk's case page path for a reference.
async fn case_path(app: &TestApp, clerk: &reqwest::Client, reference: &str) -> String {
    let inbox = text(clerk, app.url(&format!("/staff/cases?q={reference}"))).await;
    assert!(
        inbox.contains(reference),
        "the case is in the clerk's inbox"
    );
    format!(
        "/staff/cases/{}",
        between(&inbox, "href=\"/staff/cases/", '"')
    )
}

async fn post_form(c: &reqwest::Client, url: String, form: &[(&str, &str)]) -> reqwest::Response {
    c.post(url).form(form).send().await.unwrap()
}

#[tokio::test]
async fn anonymous_applicant_gets_emails_at_every_step_and_the_bescheid() {
    let sink = MailSink::start("anon");
    let app = TestApp::spawn().await;
    publish_mail_form(&app).await;

    // Routing: Fachadministration sends postal codes 99xxx to the Steueramt.
    let admin = TestApp::login_as(&app, "admin@musterstadt.example").await;
    let list = text(&admin, app.url("/staff/templates")).await;
    let service_id = {
        let i = list.find("Gewerbe-Anmeldung").expect("service listed");
        let rest = &list[i..];
        between(rest, "href=\"/staff/routing/", '"').to_string()
    };
    let page = text(&admin, app.url(&format!("/staff/routing/{service_id}"))).await;
    let csrf = csrf_of(&page).unwrap();
    let steuer = {
        let i = page.find(">Steueramt<").unwrap();
        let before = &page[..i];
        let v = before.rfind("value=\"").unwrap() + "value=\"".len();
        before[v..v + before[v..].find('"').unwrap()].to_string()
    };
    let bad = post_form(
        &admin,
        app.url(&format!("/staff/routing/{service_id}")),
        &[
            ("csrf_token", &csrf),
            ("field", "plz"),
            ("pattern", "99-9"),
            ("org_unit", &steuer),
        ],
    )
    .await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("Regel 1"));
    let ok = post_form(
        &admin,
        app.url(&format!("/staff/routing/{service_id}")),
        &[
            ("csrf_token", &csrf),
            ("field", "plz"),
            ("pattern", "99*"),
            ("org_unit", &steuer),
        ],
    )
    .await;
    assert_eq!(ok.status(), 303);
    let routed = apply(
        &app,
        &client(),
        &[
            ("vorname", "Rudi"),
            ("familienname", "Routing"),
            ("email", "rudi@example.org"),
            ("plz", "99100"),
        ],
    )
    .await;
    let routed_ref = {
        let html = text(&client(), app.url(&routed)).await;
        between(&html, "id=\"reference\">", '<').to_string()
    };
    {
        let repo = app.db.as_ref().unwrap().store.repo();
        let tenant =
            rathaus_storage::tenancy::TenantRepository::tenant_by_slug(&repo, "musterstadt")
                .await
                .unwrap()
                .unwrap()
                .tenant_id();
        let a = repo
            .application_by_reference(tenant, &routed_ref)
            .await
            .unwrap()
            .unwrap();
        let c = repo.case_of(tenant, a.id).await.unwrap().unwrap();
        assert_eq!(c.org_unit_id.to_string(), steuer, "routed by postal code");
    }

    // The applicant, without an account.
    let applicant = client();
    let target = apply(
        &app,
        &applicant,
        &[
            ("vorname", "Maria"),
            ("familienname", "Mustermann"),
            ("email", "maria@example.org"),
            ("plz", "63571"),
        ],
    )
    .await;
    assert!(target.starts_with("/antrag/eingang/"));
    let page = text(&applicant, app.url(&target)).await;
    let reference = between(&page, "id=\"reference\">", '<').to_string();
    let r = applicant
        .get(app.url(&format!("{target}/eingangsbestaetigung.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF-"));

    // Whoever reads the outbox table (a backup, a replica) finds the job
    // that mails the access link, but not the token in plain text.
    let token = target.trim_start_matches("/antrag/eingang/").to_string();
    let db = app.db.as_ref().unwrap();
    let payloads = db.query_strings("SELECT payload FROM outbox_jobs").await;
    assert!(
        payloads.iter().any(|p| p.contains("sealed_access_token")),
        "the receipt job carries the sealed token: {payloads:?}"
    );
    for p in &payloads {
        assert!(!p.contains(&token), "the access token in plain text: {p}");
        assert!(
            !p.contains(&token["rh_".len()..]),
            "the access token in plain text: {p}"
        );
    }

    deliver(&app, &sink).await;
    for p in db.query_strings("SELECT payload FROM outbox_jobs").await {
        assert!(!p.contains("access_token"), "removed once sent: {p}");
    }
    let mails = sink.mails();
    let received: Vec<&String> = mails
        .iter()
        .filter(|m| m.contains("maria@example.org"))
        .collect();
    assert_eq!(received.len(), 1, "one receipt email: {mails:?}");
    assert!(received[0].contains(&reference));
    assert!(
        received[0].contains(&app.url(&target)),
        "the receipt email carries the access link"
    );
    assert!(
        !received[0].contains("Mustermann"),
        "no case data in the email"
    );

    // The clerk claims the case and requests a document.
    let clerk = TestApp::login_as(&app, "sachbearbeitung@musterstadt.example").await;
    let case = case_path(&app, &clerk, &reference).await;
    let page = text(&clerk, app.url(&case)).await;
    let csrf = csrf_of(&page).unwrap();
    assert_eq!(
        post_form(
            &clerk,
            app.url(&format!("{case}/claim")),
            &[("csrf_token", &csrf)]
        )
        .await
        .status(),
        303
    );
    // Deciding without a Bescheid is not a status change.
    let r = post_form(
        &clerk,
        app.url(&format!("{case}/status")),
        &[("csrf_token", &csrf), ("action", "decide")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let r = post_form(
        &clerk,
        app.url(&format!("{case}/message")),
        &[
            ("csrf_token", &csrf),
            ("body", "Bitte den Mietvertrag nachreichen."),
            ("documents", "Mietvertrag"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    deliver(&app, &sink).await;
    let mails = sink.mails();
    let request: Vec<&String> = mails
        .iter()
        .filter(|m| m.contains("maria@example.org") && m.contains("weitere Unterlagen"))
        .collect();
    assert_eq!(request.len(), 1, "{mails:?}");
    assert!(request[0].contains(&format!("/antrag/zugang?az={reference}")));
    assert!(
        !request[0].contains("Mietvertrag"),
        "the request's content stays in the mailbox"
    );
    let help = text(
        &applicant,
        app.url(&format!("/antrag/zugang?az={reference}")),
    )
    .await;
    assert!(help.contains(&reference));

    // The applicant uploads it through the access link.
    let page = text(&applicant, app.url(&target)).await;
    let csrf_a = csrf_of(&page).unwrap();
    let r = applicant
        .post(app.url(&format!("{target}/antwort")))
        .multipart(
            Form::new()
                .text("csrf_token", csrf_a)
                .text("body", "Anbei der Mietvertrag.")
                .part(
                    "_file:antwort",
                    Part::bytes(PDF.to_vec()).file_name("mietvertrag.pdf"),
                ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = text(&clerk, app.url(&case)).await;
    assert!(page.contains("mietvertrag.pdf") && page.contains("In Bearbeitung"));

    // Preview, then issue the Bescheid from the service's template.
    let csrf = csrf_of(&page).unwrap();
    let r = post_form(
        &clerk,
        app.url(&format!("{case}/decide")),
        &[
            ("csrf_token", &csrf),
            ("variant", "approval"),
            ("reason", "Alle Unterlagen liegen vor."),
            ("preview", "1"),
        ],
    )
    .await;
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF-"));
    assert!(
        text(&clerk, app.url(&case))
            .await
            .contains("In Bearbeitung"),
        "a preview decides nothing"
    );
    let r = post_form(
        &clerk,
        app.url(&format!("{case}/decide")),
        &[
            ("csrf_token", &csrf),
            ("variant", "approval"),
            ("reason", "Alle Unterlagen liegen vor."),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let page = text(&clerk, app.url(&case)).await;
    assert!(page.contains("Entschieden") && page.contains("Bescheid erlassen"));
    assert!(page.contains("Noch nicht geöffnet"));
    deliver(&app, &sink).await;
    let mails = sink.mails();
    assert!(
        mails
            .iter()
            .any(|m| m.contains("maria@example.org") && m.contains("Bescheid")),
        "decision email: {mails:?}"
    );

    // The applicant opens the Bescheid: the clerk sees when.
    let page = text(&applicant, app.url(&target)).await;
    assert!(page.contains("Bescheid-") && page.contains(".pdf"));
    // The thread's last file link is the decision's (the answer's comes first).
    let links: Vec<&str> = page
        .match_indices(&format!("{target}/dateien/"))
        .map(|(i, _)| &page[i..i + page[i..].find('"').unwrap()])
        .collect();
    let decision_link = links.last().unwrap().to_string();
    let r = applicant.get(app.url(&decision_link)).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap();
    assert_pdfa_2b(&pdf, "the Bescheid");
    let page = text(&clerk, app.url(&case)).await;
    assert!(
        page.contains("Bekannt gegeben (geöffnet) am"),
        "read time for the clerk"
    );
    assert!(page.contains("Bescheid von der antragstellenden Person geöffnet"));
    app.stop().await;
}

#[tokio::test]
async fn with_an_account_the_form_is_prefilled_and_the_application_listed() {
    let sink = MailSink::start("account");
    let app = TestApp::spawn().await;
    publish_mail_form(&app).await;
    let citizen = client();

    // Register: refused inputs are named, then the confirmation email.
    let page = text(&citizen, app.url("/konto/registrieren")).await;
    let csrf = csrf_of(&page).unwrap();
    let r = post_form(
        &citizen,
        app.url("/konto/registrieren"),
        &[
            ("csrf_token", &csrf),
            ("email", "jana@example"),
            ("password", "kurz"),
            ("password_repeat", "anders"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("href=\"#email\"")
            && html.contains("href=\"#password\"")
            && html.contains("href=\"#password_repeat\"")
    );
    let r = post_form(
        &citizen,
        app.url("/konto/registrieren"),
        &[
            ("csrf_token", &csrf),
            ("email", "jana@example.org"),
            ("password", "ein sicheres Passwort"),
            ("password_repeat", "ein sicheres Passwort"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    // Not before confirming.
    let page = text(&citizen, app.url("/konto/anmelden")).await;
    let csrf = csrf_of(&page).unwrap();
    let r = post_form(
        &citizen,
        app.url("/konto/anmelden"),
        &[
            ("csrf_token", &csrf),
            ("email", "jana@example.org"),
            ("password", "ein sicheres Passwort"),
        ],
    )
    .await;
    assert_eq!(r.status(), 403);
    deliver(&app, &sink).await;
    let mails = sink.mails();
    let confirm = mails
        .iter()
        .find(|m| m.contains("jana@example.org"))
        .expect("confirmation email");
    let link = between(confirm, &app.url("/konto/bestaetigen/"), '\n')
        .trim()
        .to_string();
    // The link opens a page; its button confirms (a GET alone does not).
    let page = text(&citizen, app.url(&format!("/konto/bestaetigen/{link}"))).await;
    let confirm_csrf = csrf_of(&page).expect("the confirmation button's form");
    let r = post_form(
        &citizen,
        app.url(&format!("/konto/bestaetigen/{link}")),
        &[("csrf_token", &confirm_csrf)],
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = post_form(
        &citizen,
        app.url(&format!("/konto/bestaetigen/{link}")),
        &[("csrf_token", &confirm_csrf)],
    )
    .await;
    assert_eq!(r.status(), 404, "the link works once");
    let r = post_form(
        &citizen,
        app.url("/konto/anmelden?next=/konto/profil"),
        &[
            ("csrf_token", &csrf),
            ("email", "jana@example.org"),
            ("password", "ein sicheres Passwort"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/konto/profil");

    // Profile data prefills the form.
    let page = text(&citizen, app.url("/konto/profil")).await;
    let csrf = csrf_of(&page).unwrap();
    let r = post_form(
        &citizen,
        app.url("/konto/profil"),
        &[
            ("csrf_token", &csrf),
            ("given-name", "Jana"),
            ("family-name", "Beispiel"),
            ("postal-code", "63571"),
            ("bday", "1990-02-30"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422, "an impossible date is named");
    let r = post_form(
        &citizen,
        app.url("/konto/profil"),
        &[
            ("csrf_token", &csrf),
            ("given-name", "Jana"),
            ("family-name", "Beispiel"),
            ("postal-code", "63571"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let start = "/leistungen/gewerbe-anmeldung/antrag";
    let page = text(&citizen, app.url(start)).await;
    let csrf = csrf_of(&page).unwrap();
    let r = post_form(&citizen, app.url(start), &[("csrf_token", &csrf)]).await;
    let step = location(&r);
    let html = text(&citizen, app.url(&step)).await;
    for v in [
        "value=\"Jana\"",
        "value=\"Beispiel\"",
        "value=\"jana@example.org\"",
        "value=\"63571\"",
    ] {
        assert!(html.contains(v), "prefilled {v}");
    }
    let base = step.trim_end_matches("/schritt/1").to_string();
    let r = citizen
        .post(app.url(&step))
        .multipart(
            Form::new()
                .text("csrf_token", csrf.clone())
                .text("vorname", "Jana")
                .text("familienname", "Beispiel")
                .text("email", "jana@example.org")
                .text("plz", "63571"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = post_form(
        &citizen,
        app.url(&format!("{base}/absenden")),
        &[("csrf_token", &csrf)],
    )
    .await;
    let target = location(&r);
    assert!(target.starts_with("/konto/antraege/"), "{target}");
    let reference = target
        .trim_start_matches("/konto/antraege/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let page = text(&citizen, app.url(&target)).await;
    assert!(page.contains("Meine Anträge") && !page.contains("id=\"access-link\""));
    assert!(text(&citizen, app.url("/konto")).await.contains(&reference));
    // Nobody else reaches it through the account pages.
    let stranger = client();
    let r = stranger
        .get(app.url(&format!("/konto/antraege/{reference}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/konto/anmelden"));

    deliver(&app, &sink).await;
    let mails = sink.mails();
    let receipt = mails
        .iter()
        .find(|m| m.contains(&reference))
        .expect("receipt email");
    assert!(receipt.contains(&app.url(&format!("/konto/antraege/{reference}"))));

    // The clerk decides (rejection); the citizen opens the Bescheid in the account.
    let clerk = TestApp::login_as(&app, "sachbearbeitung@musterstadt.example").await;
    let case = case_path(&app, &clerk, &reference).await;
    let csrf_c = csrf_of(&text(&clerk, app.url(&case)).await).unwrap();
    post_form(
        &clerk,
        app.url(&format!("{case}/claim")),
        &[("csrf_token", &csrf_c)],
    )
    .await;
    let r = post_form(
        &clerk,
        app.url(&format!("{case}/decide")),
        &[
            ("csrf_token", &csrf_c),
            ("variant", "rejection"),
            ("reason", "Die Tätigkeit ist erlaubnispflichtig."),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    deliver(&app, &sink).await;
    assert!(
        sink.mails()
            .iter()
            .any(|m| m.contains(&reference) && m.contains("Der Bescheid liegt"))
    );
    let page = text(&citizen, app.url(&format!("/konto/antraege/{reference}"))).await;
    let link = format!(
        "/konto/antraege/{reference}/dateien/{}",
        between(&page, &format!("/konto/antraege/{reference}/dateien/"), '"')
    );
    let r = citizen.get(app.url(&link)).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(
        text(&clerk, app.url(&case))
            .await
            .contains("Bekannt gegeben (geöffnet) am")
    );
    app.stop().await;
}

#[tokio::test]
async fn the_loop_with_document_request_and_bescheid_through_the_api_alone() {
    let sink = MailSink::start("api");
    let app = TestApp::spawn().await;
    publish_mail_form(&app).await;
    let c = &app.client;
    let r = c
        .post(app.url("/api/v1/applications"))
        .header("idempotency-key", "api-mail-0000001")
        .json(&json!({"form": "gewerbe-mailtest", "data": {"vorname": "Ali", "familienname": "Api", "email": "ali@example.org", "plz": "63571"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    let reference = v["reference"].as_str().unwrap().to_string();
    let access = v["access_token"].as_str().unwrap().to_string();
    let clerk = token(&app, "sachbearbeitung@musterstadt.example").await;
    let me: Value = c
        .get(app.url(&format!("/api/v1/applications/{reference}")))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let case = me["case"].as_str().unwrap().to_string();
    let post = |path: String, who: &str, body: Value| {
        c.post(app.url(&path))
            .bearer_auth(who.to_string())
            .json(&body)
            .send()
    };
    assert_eq!(
        post(format!("/api/v1/cases/{case}/claim"), &clerk, json!({}))
            .await
            .unwrap()
            .status(),
        200
    );
    let r = post(
        format!("/api/v1/cases/{case}/status"),
        &clerk,
        json!({"action": "decide"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let r = post(
        format!("/api/v1/cases/{case}/messages"),
        &clerk,
        json!({"body": "Bitte Mietvertrag nachreichen.", "requested_documents": ["Mietvertrag"], "due_date": "2099-01-31"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    // The applicant answers with the file (base64), typed by content.
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let r = post(
        format!("/api/v1/applications/{reference}/messages"),
        &access,
        json!({"body": "Anbei.", "files": [{"name": "vertrag.pdf", "content": b64(b"MZ not a pdf")}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["fields"][0]["field"], "files[0].content", "{e}");
    let r = post(
        format!("/api/v1/applications/{reference}/messages"),
        &access,
        json!({"body": "Anbei.", "files": [{"name": "vertrag.pdf", "content": b64(PDF)}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let r = post(
        format!("/api/v1/cases/{case}/decide"),
        &clerk,
        json!({"variant": "vielleicht"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 422);
    let r = post(
        format!("/api/v1/cases/{case}/decide"),
        &clerk,
        json!({"variant": "approval", "reason": "Vollständig."}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "decided");

    // The applicant finds the decision in the mailbox and opens it.
    let me: Value = c
        .get(app.url(&format!("/api/v1/applications/{reference}")))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let decision = me["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "decision")
        .unwrap()
        .clone();
    assert!(decision["read_at"].is_null());
    let file = decision["files"][0]["id"].as_str().unwrap();
    let r = c
        .get(app.url(&format!("/api/v1/applications/{reference}/files/{file}")))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let me: Value = c
        .get(app.url(&format!("/api/v1/applications/{reference}")))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let decision = me["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "decision")
        .unwrap()
        .clone();
    assert!(
        decision["read_at"].is_string(),
        "the clerk sees the read time"
    );
    let audit: Value = c
        .get(app.url(&format!("/api/v1/cases/{case}/audit")))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "received",
            "claimed",
            "documents_requested",
            "answered",
            "decided",
            "decision_opened"
        ]
    );

    deliver(&app, &sink).await;
    let mails: Vec<String> = sink
        .mails()
        .into_iter()
        .filter(|m| m.contains("ali@example.org"))
        .collect();
    assert_eq!(
        mails.len(),
        3,
        "receipt, document request, decision: {mails:?}"
    );
    assert!(
        mails
            .iter()
            .all(|m| !m.contains("Mietvertrag") && !m.contains("Api\n"))
    );
    app.stop().await;
}
