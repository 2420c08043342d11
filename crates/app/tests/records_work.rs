//! The daily work with the e-file, without HTTP: documents and notes staff
//! file (type by content), text extraction and electronic seals, the
//! full-text search and who finds what, moving documents between Vorgänge,
//! plan changes on four eyes, Umlaufmappen, the in-tray with its references,
//! rules and learned classifier, and what a destruction takes with it.
//!
//! No worker runs here: the tests call `process_record_versions` (the
//! `records.process` job) and `file_case` (the filing job) themselves.

mod support;

use bytes::Bytes;
use chrono::NaiveDate;
use rathaus_app::{
    Actor, UseCaseError,
    cases::CaseStep,
    circulation::StartCirculation,
    decisions::DecisionInput,
    intray::{NewRule, StoredProposal},
    records::StaffDocument,
};
use rathaus_domain::{
    cases::CaseAction,
    catalog::{Audience, I18nText, ServiceContent},
    decisions::Variant,
    intray::RouteTarget,
    records::{
        CirculationAction, CirculationStatus, Disposition, FileStatus, PlanChange, PlanCode,
        Retention, RetentionTrigger,
    },
    tenancy::TenantId,
};
use rathaus_standards::seal::{self, Outcome, Seal, TrustAnchor};
use rathaus_storage::{
    applications::{NewApplication, NewFile},
    prelude::*,
    records::{NewPlanNode, RecordFile},
    seals::SealKeyRepository,
};
use support::{World, world};
use uuid::Uuid;

// ---------------------------------------------------------------------------
// Fixtures

const DOG: &str = "32.10.05";
const TRADE: &str = "32.30.01";

fn rule() -> Retention {
    Retention::new(10, RetentionTrigger::DecisionFinal, Disposition::Destroy).unwrap()
}

fn archive_rule() -> Retention {
    Retention::new(30, RetentionTrigger::CaseClosed, Disposition::Archive).unwrap()
}

fn user_id(a: &Actor) -> Uuid {
    a.staff().expect("staff").user.id
}

/// A filed case: its service, application, case and Vorgang.
struct Filed {
    case: Uuid,
    application: Uuid,
    service: Uuid,
    record: RecordFile,
    /// The application's reference (`MS-2026-000002`).
    reference: String,
}

async fn new_service(w: &World, slug: &str) -> Uuid {
    let author = user_id(&w.editor);
    let (s, _) = w
        .app
        .store
        .create_service(
            w.tenant,
            author,
            ServiceContent {
                slug: slug.into(),
                leika_key: "99050012104000".into(),
                audience: vec![Audience::Citizen],
                org_unit: "Ordnungsamt".into(),
                title: I18nText {
                    de: format!("Leistung {slug}"),
                    en: String::new(),
                },
                summary: I18nText {
                    de: "Zusammenfassung".into(),
                    en: String::new(),
                },
                ..Default::default()
            },
        )
        .await
        .expect("service");
    s.id
}

/// Adds plan nodes (kept when their code exists) with services under them.
async fn seed(w: &World, nodes: &[(&str, Option<Retention>, Vec<Uuid>)]) {
    let nodes: Vec<NewPlanNode> = nodes
        .iter()
        .map(|(code, retention, services)| NewPlanNode {
            code: PlanCode::parse(code).unwrap(),
            title: format!("Gruppe {code}"),
            retention: *retention,
            services: services.clone(),
        })
        .collect();
    w.app
        .store
        .seed_plan(w.tenant, &nodes, "Stadtarchiv")
        .await
        .expect("plan");
}

/// An application of `service` with an uploaded file that is in the store,
/// its case in `unit`.
async fn submit(w: &World, service: Uuid, unit: Uuid) -> (Uuid, Uuid) {
    let repo = w.app.store.repo();
    let c = repo.case(w.tenant, w.case).await.unwrap().unwrap();
    let form_version = repo
        .application(w.tenant, c.application_id)
        .await
        .unwrap()
        .unwrap()
        .form_version_id;
    let key = format!("uploads/{}", Uuid::new_v4());
    let stored = w
        .app
        .files
        .put(w.tenant, &key, Bytes::from_static(b"%PDF-1.7 Nachweis"))
        .await
        .unwrap();
    let submitted = w
        .app
        .store
        .submit_application(NewApplication {
            tenant: w.tenant,
            prefix: "MS".into(),
            service_id: Some(service),
            form_version_id: form_version,
            data: serde_json::json!({"name": "Erika Muster"}),
            idempotency_key: None,
            request_hash: None,
            files: vec![NewFile {
                field_path: "nachweis".into(),
                file_key: key,
                name: "nachweis.pdf".into(),
                mime: "application/pdf".into(),
                size: stored.size as i64,
                sha256: stored.sha256,
            }],
            org_unit_id: unit,
            draft_id: None,
            actor: "applicant".into(),
            due_days: Some(14),
            citizen_id: None,
            notify_email: None,
            awaiting_payment: false,
            defect: None,
        })
        .await
        .expect("submission");
    (submitted.case.id, submitted.application.id)
}

/// A new service under `code`, a case of it in `unit`, filed.
async fn filed(w: &World, code: &str, slug: &str, unit: Uuid, retention: Retention) -> Filed {
    let service = new_service(w, slug).await;
    seed(w, &[(code, Some(retention), vec![service])]).await;
    filed_of(w, service, unit).await
}

/// A further case of an existing service, filed.
async fn filed_of(w: &World, service: Uuid, unit: Uuid) -> Filed {
    let (case, application) = submit(w, service, unit).await;
    let record = w
        .app
        .file_case(w.tenant, application)
        .await
        .expect("filed")
        .expect("a Vorgang");
    let reference = w
        .app
        .store
        .repo()
        .application(w.tenant, application)
        .await
        .unwrap()
        .unwrap()
        .reference;
    Filed {
        case,
        application,
        service,
        record,
        reference,
    }
}

/// A one-page PDF with a real text layer (Helvetica, WinAnsi; ASCII text),
/// with a correct cross-reference table.
fn pdf_with_text(line: &str) -> Vec<u8> {
    let content = format!("BT /F1 12 Tf 72 720 Td ({line}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_string(),
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ),
    ];
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// An RFC 5322 mail (plain text, UTF-8).
fn eml(from: &str, subject: &str, body: &str) -> Bytes {
    Bytes::from(format!(
        "From: {from}\r\nTo: poststelle@stadt-a.example\r\nSubject: {subject}\r\nDate: Mon, 7 Dec 2026 09:15:00 +0100\r\nMessage-ID: <{}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n",
        Uuid::new_v4()
    ))
}

fn text_doc(title: &str, text: &str) -> StaffDocument {
    StaffDocument {
        title: title.into(),
        file_name: format!("{title}.txt"),
        content: Bytes::from(text.to_string()),
    }
}

fn is_validation(r: &UseCaseError, field: &str) -> bool {
    matches!(r, UseCaseError::Validation(v) if v.0.iter().any(|e| e.field == field))
}

fn proposals(json: &str) -> Vec<StoredProposal> {
    serde_json::from_str(json).expect("stored proposals")
}

async fn audit_actions(w: &World, case: Uuid) -> Vec<String> {
    w.app
        .store
        .repo()
        .audit_of_case(w.tenant, case)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

/// Outbox jobs of a kind (claims every job that is due).
async fn jobs_of(w: &World, kind: &str) -> Vec<serde_json::Value> {
    w.app
        .store
        .claim_jobs("test", 1000, std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == kind)
        .map(|j| serde_json::from_str(&j.payload).unwrap())
        .collect()
}

async fn search_total(w: &World, actor: &Actor, q: &str) -> usize {
    w.app
        .search_records(actor, q, 0)
        .await
        .expect("search")
        .total
}

// ---------------------------------------------------------------------------
// 1. Staff filing

#[tokio::test]
async fn staff_file_documents_typed_by_content_and_notes() {
    let w = world().await;
    let a = filed(&w, DOG, "hundesteuer", w.section, rule()).await;
    let pdf = pdf_with_text("Lageplan Grundstueck Kirschbaumallee 12");

    // A PDF, whatever its name says.
    let doc = w
        .app
        .file_document(
            &w.clerk,
            a.record.id,
            StaffDocument {
                title: "Lageplan".into(),
                file_name: "lageplan.html".into(),
                content: Bytes::from(pdf.clone()),
            },
        )
        .await
        .expect("a PDF is filed");
    assert_eq!(doc.kind, "staff");
    assert_eq!(doc.record_file_id, a.record.id);
    assert_eq!(doc.title, "Lageplan");
    assert_eq!(doc.filed_by, Some(user_id(&w.clerk)));
    let (_, v, bytes) = w
        .app
        .record_document(&w.clerk, doc.id, None)
        .await
        .expect("clerk reads it");
    assert_eq!(v.mime, "application/pdf");
    assert!(v.file_name.ends_with(".pdf"), "{}", v.file_name);
    assert_eq!(bytes.as_ref(), pdf.as_slice());
    assert_eq!(v.sha256, hex::encode(seal::sha256(&pdf)));
    assert_eq!(v.size, pdf.len() as i64);
    assert!(v.seal.is_none(), "sealed only by the processing job");

    // Plain text is text/plain; a bare `%PDF-` header is a PDF by content.
    let txt = w
        .app
        .file_document(
            &w.clerk,
            a.record.id,
            text_doc("Telefonnotiz", "Herr Muster ruft morgen zurück."),
        )
        .await
        .expect("text is filed");
    let (_, tv, _) = w.app.record_document(&w.clerk, txt.id, None).await.unwrap();
    assert_eq!(tv.mime, "text/plain");
    assert!(tv.file_name.ends_with(".txt"), "{}", tv.file_name);
    let bare = w
        .app
        .file_document(
            &w.admin,
            a.record.id,
            StaffDocument {
                title: "Scan".into(),
                file_name: "scan.txt".into(),
                content: Bytes::from_static(b"%PDF-1.7 Scan ohne Textebene"),
            },
        )
        .await
        .expect("the Fachadministration files too");
    let (_, bv, _) = w
        .app
        .record_document(&w.admin, bare.id, None)
        .await
        .unwrap();
    assert_eq!(bv.mime, "application/pdf");

    // Refused by content: HTML (also behind a PDF header), binary junk, nothing.
    let random: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert!(random.contains(&0));
    for (what, content) in [
        (
            "html",
            Bytes::from_static(b"<html><body>Hallo</body></html>"),
        ),
        (
            "doctype",
            Bytes::from_static(b"<!DOCTYPE html><p>Bescheid</p>"),
        ),
        (
            "polyglot",
            Bytes::from_static(b"%PDF-1.7\n<html><script>alert(1)</script></html>"),
        ),
        ("binary", Bytes::from(random)),
        ("empty", Bytes::new()),
    ] {
        let r = w
            .app
            .file_document(
                &w.clerk,
                a.record.id,
                StaffDocument {
                    title: "Anlage".into(),
                    file_name: "anlage.pdf".into(),
                    content,
                },
            )
            .await;
        assert!(
            matches!(r, Err(UseCaseError::BadFile(_))),
            "{what} must be refused as a bad file: {r:?}"
        );
    }
    let r = w
        .app
        .file_document(&w.clerk, a.record.id, text_doc("", "Inhalt"))
        .await;
    assert!(
        matches!(&r, Err(e) if is_validation(e, "title")),
        "an empty title: {r:?}"
    );

    // Who may not.
    let r = w
        .app
        .file_document(&w.editor, a.record.id, text_doc("X", "Inhalt"))
        .await;
    assert!(matches!(r, Err(UseCaseError::Forbidden)), "editor: {r:?}");
    for (who, actor) in [
        ("other clerk", &w.other_clerk),
        ("foreign clerk", &w.foreign_clerk),
    ] {
        let r = w
            .app
            .file_document(actor, a.record.id, text_doc("X", "Inhalt"))
            .await;
        assert!(matches!(r, Err(UseCaseError::NotFound)), "{who}: {r:?}");
        let r = w.app.record_document(actor, doc.id, None).await;
        assert!(
            matches!(r, Err(UseCaseError::NotFound)),
            "{who} reads: {r:?}"
        );
    }

    // A note: kind `note`, the text as its content.
    let text = "Ortstermin mit Frau Muster am 12.01.: Zaun steht auf der Grenze.";
    let note = w
        .app
        .file_note(&w.clerk, a.case, text)
        .await
        .expect("note filed");
    assert_eq!(note.kind, "note");
    assert_eq!(note.record_file_id, a.record.id);
    let (_, nv, content) = w
        .app
        .record_document(&w.clerk, note.id, None)
        .await
        .unwrap();
    assert_eq!(std::str::from_utf8(&content).unwrap(), text);
    assert_eq!(nv.mime, "text/plain");
    let r = w.app.file_note(&w.clerk, a.case, "   ").await;
    assert!(
        matches!(&r, Err(e) if is_validation(e, "note")),
        "empty note: {r:?}"
    );
    let r = w.app.file_note(&w.editor, a.case, "x").await;
    assert!(matches!(r, Err(UseCaseError::Forbidden)), "editor: {r:?}");
    let r = w.app.file_note(&w.other_clerk, a.case, "x").await;
    assert!(matches!(r, Err(UseCaseError::NotFound)), "other: {r:?}");

    // In the Vorgang, in order, each audited on the case.
    let r = w.app.case_record(&w.clerk, a.case).await.unwrap();
    let kinds: Vec<&str> = r
        .documents
        .iter()
        .map(|d| d.document.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "application_data",
            "upload",
            "staff",
            "staff",
            "staff",
            "note"
        ]
    );
    let numbers: Vec<i32> = r.documents.iter().map(|d| d.document.number).collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
    let filed_entries = audit_actions(&w, a.case)
        .await
        .iter()
        .filter(|a| *a == "record.document_filed")
        .count();
    assert_eq!(filed_entries, 4);
    // Each filing asked for processing.
    assert!(
        !jobs_of(&w, rathaus_storage::records::PROCESS_JOB)
            .await
            .is_empty()
    );
    w.db.drop_db().await;
}

// ---------------------------------------------------------------------------
// 2. Processing and seals

#[tokio::test]
async fn processing_extracts_text_and_seals_every_version() {
    let w = world().await;
    let a = filed(&w, DOG, "hundesteuer", w.section, rule()).await;
    let pdf = pdf_with_text("Bescheid ueber die Hundesteuer Kirschbaumallee");
    let doc = w
        .app
        .file_document(
            &w.clerk,
            a.record.id,
            StaffDocument {
                title: "Bescheid".into(),
                file_name: "bescheid.pdf".into(),
                content: Bytes::from(pdf.clone()),
            },
        )
        .await
        .unwrap();
    let note_text = "Rückruf der Antragstellerin: Hund ist ein Blindenführhund.";
    let note = w.app.file_note(&w.clerk, a.case, note_text).await.unwrap();
    let r = w.app.document_seal(&w.clerk, doc.id, None).await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("records.not_sealed_yet"))),
        "{r:?}"
    );

    let n = w
        .app
        .process_record_versions(w.tenant)
        .await
        .expect("processed");
    assert!(n >= 4, "application data, upload, PDF and note: {n}");
    assert_eq!(w.app.process_record_versions(w.tenant).await.unwrap(), 0);

    let r = w.app.case_record(&w.clerk, a.case).await.unwrap();
    for d in &r.documents {
        for v in &d.versions {
            assert!(v.seal.is_some(), "{} is sealed", d.document.title);
        }
    }
    let text_of = |id: Uuid| {
        r.documents
            .iter()
            .find(|d| d.document.id == id)
            .unwrap()
            .versions[0]
            .text
            .clone()
    };
    assert_eq!(text_of(note.id).as_deref(), Some(note_text));
    let pdf_text = text_of(doc.id).expect("the PDF's text layer");
    assert!(
        pdf_text.contains("Hundesteuer") && pdf_text.contains("Kirschbaumallee"),
        "{pdf_text:?}"
    );
    let data = r
        .documents
        .iter()
        .find(|d| d.document.kind == "application_data")
        .unwrap();
    assert!(
        data.versions[0]
            .text
            .as_deref()
            .is_some_and(|t| t.contains("Erika Muster"))
    );

    // The seal file: parsed, valid for the content under the tenant's certificate.
    let certs = w.app.seal_certificates(w.tenant).await.unwrap();
    assert_eq!(certs.len(), 1);
    let anchors: Vec<TrustAnchor> = certs
        .iter()
        .map(|c| TrustAnchor::from_pem(c).unwrap())
        .collect();
    let (name, json) = w
        .app
        .document_seal(&w.clerk, doc.id, None)
        .await
        .expect("seal file");
    assert!(name.ends_with(".pdf.siegel.json"), "{name}");
    let s = Seal::parse(json.as_bytes()).expect("a seal file");
    assert_eq!(s.sha256, hex::encode(seal::sha256(&pdf)));
    assert_eq!(s.document.as_deref(), Some(doc.id.to_string().as_str()));
    assert_eq!(seal::verify(&pdf, &s, &anchors).outcome, Outcome::Valid);
    for (who, actor) in [
        ("other clerk", &w.other_clerk),
        ("foreign clerk", &w.foreign_clerk),
    ] {
        let r = w.app.document_seal(actor, doc.id, None).await;
        assert!(matches!(r, Err(UseCaseError::NotFound)), "{who}: {r:?}");
    }

    // Anybody checks: the exact bytes are known and valid.
    let anon = Actor::Anonymous { tenant: w.tenant };
    let c = w.app.check_seal(&anon, &pdf, None).await.unwrap();
    assert!(c.known);
    assert_eq!(c.verification.map(|v| v.outcome), Some(Outcome::Valid));
    let c = w
        .app
        .check_seal(&anon, &pdf, Some(json.as_bytes()))
        .await
        .unwrap();
    assert_eq!(c.verification.map(|v| v.outcome), Some(Outcome::Valid));
    // One byte changed: unknown; with the seal file, the content changed.
    let mut changed = pdf.clone();
    let i = changed.len() / 2;
    changed[i] ^= 0x20;
    let c = w.app.check_seal(&anon, &changed, None).await.unwrap();
    assert!(!c.known);
    assert!(c.verification.is_none());
    let c = w
        .app
        .check_seal(&anon, &changed, Some(json.as_bytes()))
        .await
        .unwrap();
    assert!(!c.known);
    assert_eq!(
        c.verification.map(|v| v.outcome),
        Some(Outcome::ContentChanged)
    );
    let r = w.app.check_seal(&anon, &pdf, Some(b"{kein siegel")).await;
    assert!(matches!(r, Err(UseCaseError::BadFile(_))), "{r:?}");
    let r = w.app.check_seal(&anon, b"", None).await;
    assert!(matches!(r, Err(UseCaseError::BadFile(_))), "{r:?}");

    // Tenant A's seal under tenant B: not B's document, not B's certificate
    // (also once B has a key of its own).
    let b: TenantId = w.foreign_clerk.tenant();
    let anon_b = Actor::Anonymous { tenant: b };
    for _ in 0..2 {
        let c = w
            .app
            .check_seal(&anon_b, &pdf, Some(json.as_bytes()))
            .await
            .unwrap();
        assert!(!c.known);
        assert_eq!(
            c.verification.map(|v| v.outcome),
            Some(Outcome::UnknownCertificate)
        );
        let c = w.app.check_seal(&anon_b, &pdf, None).await.unwrap();
        assert!(!c.known && c.verification.is_none());
        w.app.seal_key(b).await.expect("B's key");
    }

    // The private key is stored sealed, never as its base64 (or hex) PKCS#8.
    let key = w.app.seal_key(w.tenant).await.unwrap();
    use base64::Engine as _;
    let plain = base64::engine::general_purpose::STANDARD.encode(key.pkcs8());
    let rows = w.app.store.repo().seal_keys(w.tenant).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].private_key.contains(&plain));
    assert!(!rows[0].private_key.contains(&hex::encode(key.pkcs8())));
    assert_eq!(
        w.app.store.open_seal_key(&rows[0]).as_deref(),
        Some(&*plain)
    );
    let stored =
        w.db.query_strings("SELECT private_key FROM seal_keys")
            .await;
    assert_eq!(stored.len(), 2, "A's and B's key");
    assert!(stored.iter().all(|k| !k.contains(&plain)));
    w.db.drop_db().await;
}

// ---------------------------------------------------------------------------
// 3. Search

#[tokio::test]
async fn search_finds_what_the_actor_may_read() {
    let w = world().await;
    let a = filed(&w, DOG, "hundesteuer", w.section, rule()).await;
    let note = w
        .app
        .file_note(
            &w.clerk,
            a.case,
            "Ortstermin an der Kirschbaumallee vereinbart.",
        )
        .await
        .unwrap();
    let pdf = w
        .app
        .file_document(
            &w.clerk,
            a.record.id,
            StaffDocument {
                title: "Bauvoranfrage".into(),
                file_name: "bauvoranfrage.pdf".into(),
                content: Bytes::from(pdf_with_text("Bauvoranfrage Quittenweg 7")),
            },
        )
        .await
        .unwrap();
    // Before processing nothing is indexed.
    assert_eq!(search_total(&w, &w.admin, "Kirschbaumallee").await, 0);
    w.app.process_record_versions(w.tenant).await.unwrap();

    for (who, actor) in [("clerk", &w.clerk), ("admin", &w.admin)] {
        let r = w
            .app
            .search_records(actor, "Kirschbaumallee", 0)
            .await
            .unwrap();
        assert_eq!(r.total, 1, "{who}");
        assert_eq!(r.hits[0].document, note.id, "{who}");
        assert_eq!(r.hits[0].file, a.record.id);
        assert_eq!(r.hits[0].file_number, a.record.file_number);
        assert!(r.hits[0].snippet.text.contains("Kirschbaumallee"));
        let r = w.app.search_records(actor, "quittenweg", 0).await.unwrap();
        assert_eq!(r.total, 1, "{who} finds the PDF by its text layer");
        assert_eq!(r.hits[0].document, pdf.id);
    }
    for (who, actor) in [
        ("other clerk", &w.other_clerk),
        ("foreign clerk", &w.foreign_clerk),
    ] {
        assert_eq!(search_total(&w, actor, "Kirschbaumallee").await, 0, "{who}");
        assert_eq!(search_total(&w, actor, "Quittenweg").await, 0, "{who}");
    }
    let r = w.app.search_records(&w.editor, "Kirschbaumallee", 0).await;
    assert!(matches!(r, Err(UseCaseError::Forbidden)), "{r:?}");
    let r = w
        .app
        .search_records(&Actor::Anonymous { tenant: w.tenant }, "Kirschbaumallee", 0)
        .await;
    assert!(
        matches!(
            r,
            Err(UseCaseError::Unauthenticated | UseCaseError::Forbidden)
        ),
        "{r:?}"
    );
    let q = "eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn";
    let r = w.app.search_records(&w.clerk, q, 0).await;
    assert!(
        matches!(&r, Err(UseCaseError::Validation(v))
            if v.0.iter().any(|e| e.field == "q" && e.code == "search.too_many_terms")),
        "{r:?}"
    );
    // Twelve words are fine.
    let q12 = "eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf";
    assert_eq!(search_total(&w, &w.clerk, q12).await, 0);

    // Another instance builds its index from the database.
    let other = rathaus_app::App::new(w.app.store.clone(), w.app.files.clone());
    assert_eq!(search_total(&w, &w.clerk, "Kirschbaumallee").await, 1);
    assert!(other.refresh_record_index().await.unwrap() >= 4);
    let r = other
        .search_records(&w.clerk, "Kirschbaumallee", 0)
        .await
        .unwrap();
    assert_eq!(r.total, 1);
    assert_eq!(
        other
            .search_records(&w.other_clerk, "Kirschbaumallee", 0)
            .await
            .unwrap()
            .total,
        0
    );
    w.db.drop_db().await;
}

/// A case forwarded to another unit: its Vorgang follows (the filing job),
/// and so must the search — the old unit's clerks no longer read it.
#[tokio::test]
async fn search_follows_a_case_forwarded_to_another_unit() {
    let w = world().await;
    let a = filed(&w, DOG, "hundesteuer", w.section, rule()).await;
    w.app
        .file_note(&w.clerk, a.case, "Vermerk zur Kirschbaumallee.")
        .await
        .unwrap();
    w.app.process_record_versions(w.tenant).await.unwrap();
    assert_eq!(search_total(&w, &w.clerk, "Kirschbaumallee").await, 1);
    w.app
        .change_case(&w.clerk, a.case, CaseStep::Forward(w.other_office))
        .await
        .expect("forward");
    // The job the step enqueued.
    w.app.file_case(w.tenant, a.application).await.unwrap();
    w.app.process_record_versions(w.tenant).await.unwrap();
    let r = w.app.record_by_id(&w.other_clerk, a.record.id).await;
    assert!(r.is_ok(), "the Vorgang moved with its case: {r:?}");
    let r = w.app.record_by_id(&w.clerk, a.record.id).await;
    assert!(matches!(r, Err(UseCaseError::NotFound)), "{r:?}");
    let new_unit = search_total(&w, &w.other_clerk, "Kirschbaumallee").await;
    let old_unit = search_total(&w, &w.clerk, "Kirschbaumallee").await;
    assert_eq!(
        (new_unit, old_unit),
        (1, 0),
        "(hits of the new unit's clerk, hits of the old unit's clerk): the index still has the Vorgang's old unit"
    );
    w.db.drop_db().await;
}

// ---------------------------------------------------------------------------
// 4. Move

#[tokio::test]
async fn documents_move_between_vorgaenge_audited_on_both_cases() {
    let w = world().await;
    let a = filed(&w, DOG, "hundesteuer", w.section, rule()).await;
    let b = filed_of(&w, a.service, w.section).await;
    let c = filed(&w, TRADE, "gewerbe", w.other_office, rule()).await;
    let doc = w
        .app
        .file_document(
            &w.clerk,
            a.record.id,
            text_doc("Schreiben", "Schreiben zum Quittenweg, falsch zugeordnet."),
        )
        .await
        .unwrap();
    w.app.process_record_versions(w.tenant).await.unwrap();

    let r = w.app.move_document(&w.editor, doc.id, b.record.id).await;
    assert!(matches!(r, Err(UseCaseError::Forbidden)), "editor: {r:?}");
    for (who, actor) in [
        ("other clerk", &w.other_clerk),
        ("foreign clerk", &w.foreign_clerk),
    ] {
        let r = w.app.move_document(actor, doc.id, b.record.id).await;
        assert!(matches!(r, Err(UseCaseError::NotFound)), "{who}: {r:?}");
    }
    // The clerk has no access to the target in the other office.
    let r = w.app.move_document(&w.clerk, doc.id, c.record.id).await;
    assert!(matches!(r, Err(UseCaseError::NotFound)), "{r:?}");
    let r = w.app.move_document(&w.admin, doc.id, a.record.id).await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("records.same_record"))),
        "{r:?}"
    );
    let r = w.app.move_document(&w.admin, doc.id, Uuid::new_v4()).await;
    assert!(matches!(r, Err(UseCaseError::NotFound)), "{r:?}");

    let before_b = w.app.case_record(&w.admin, b.case).await.unwrap();
    let moved = w
        .app
        .move_document(&w.admin, doc.id, b.record.id)
        .await
        .expect("admin moves");
    assert_eq!(moved.id, doc.id);
    assert_eq!(moved.record_file_id, b.record.id);
    assert_eq!(
        moved.number,
        before_b
            .documents
            .iter()
            .map(|d| d.document.number)
            .max()
            .unwrap()
            + 1
    );
    let ra = w.app.case_record(&w.admin, a.case).await.unwrap();
    assert!(ra.documents.iter().all(|d| d.document.id != doc.id));
    let rb = w.app.case_record(&w.admin, b.case).await.unwrap();
    assert!(rb.documents.iter().any(|d| d.document.id == doc.id));
    assert!(
        audit_actions(&w, a.case)
            .await
            .contains(&"record.document_moved_out".to_string())
    );
    assert!(
        audit_actions(&w, b.case)
            .await
            .contains(&"record.document_moved_in".to_string())
    );
    let r = w
        .app
        .search_records(&w.clerk, "Quittenweg", 0)
        .await
        .unwrap();
    assert_eq!(r.total, 1);
    assert_eq!(r.hits[0].file, b.record.id, "the index follows the move");
    assert_eq!(r.hits[0].file_number, b.record.file_number);

    // Into the other office: the search follows the unit.
    w.app
        .move_document(&w.admin, doc.id, c.record.id)
        .await
        .expect("admin moves across units");
    assert_eq!(search_total(&w, &w.clerk, "Quittenweg").await, 0);
    assert_eq!(search_total(&w, &w.other_clerk, "Quittenweg").await, 1);
    let r = w.app.record_document(&w.clerk, doc.id, None).await;
    assert!(matches!(r, Err(UseCaseError::NotFound)), "{r:?}");
    let (d, _, _) = w
        .app
        .record_document(&w.other_clerk, doc.id, None)
        .await
        .unwrap();
    assert_eq!(d.document.record_file_id, c.record.id);

    // A legal hold blocks moves out of and into the Vorgang.
    w.app
        .set_legal_hold(&w.admin, c.record.id, Some("Klage"))
        .await
        .unwrap();
    let r = w.app.move_document(&w.admin, doc.id, a.record.id).await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("records.record_closed"))),
        "{r:?}"
    );
    w.db.drop_db().await;
}

/// An upload the case filed, moved into another Vorgang: the next filing of
/// the case (every case step runs it) must not file it a second time.
#[tokio::test]
async fn a_moved_upload_is_not_filed_again_by_its_case() {
    let w = world().await;
    let a = filed(&w, DOG, "hundesteuer", w.section, rule()).await;
    let b = filed_of(&w, a.service, w.section).await;
    let ra = w.app.case_record(&w.admin, a.case).await.unwrap();
    let upload = ra
        .documents
        .iter()
        .find(|d| d.document.kind == "upload")
        .unwrap()
        .document
        .clone();
    // What the case filed itself stays with its case (else the filing job
    // files it again and the case's destruction deletes its object).
    assert!(matches!(
        w.app.move_document(&w.admin, upload.id, b.record.id).await,
        Err(UseCaseError::Workflow("records.move_kind"))
    ));
    w.app.file_case(w.tenant, a.application).await.unwrap();
    let copies = w
        .app
        .case_record(&w.admin, a.case)
        .await
        .unwrap()
        .documents
        .iter()
        .filter(|d| d.document.kind == "upload" && d.document.source_id == upload.source_id)
        .count();
    assert_eq!(copies, 1, "the upload stays once in its own Vorgang");
    w.db.drop_db().await;
}

// ---------------------------------------------------------------------------
// 5. Plan changes

#[tokio::test]
async fn plan_changes_need_a_second_person() {
    let w = world().await;
    seed(&w, &[("32", None, vec![]), ("32.10", None, vec![])]).await;
    let a = filed(&w, DOG, "hundesteuer", w.section, rule()).await;
    let add = PlanChange::AddNode {
        code: "32.10.06".into(),
        title: "Zweitwohnungsteuer".into(),
        retention: Some(rule()),
    };

    let r = w.app.request_plan_change(&w.clerk, add.clone()).await;
    assert!(matches!(r, Err(UseCaseError::Forbidden)), "{r:?}");
    assert!(matches!(
        w.app.plan_changes(&w.clerk).await,
        Err(UseCaseError::Forbidden)
    ));
    let req = w
        .app
        .request_plan_change(&w.admin, add.clone())
        .await
        .expect("requested");
    assert_eq!(req.status, "pending");
    assert_eq!(req.requested_by, user_id(&w.admin));
    assert_eq!(req.change().unwrap(), add);
    let pending = w.app.plan_changes(&w.admin2).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, req.id);
    let node_of = |plan: &[rathaus_app::records::PlanEntry], code: &str| {
        plan.iter().find(|e| e.node.code.as_str() == code).cloned()
    };
    assert!(node_of(&w.app.record_plan(&w.admin).await.unwrap(), "32.10.06").is_none());

    let r = w.app.review_plan_change(&w.clerk, req.id, true).await;
    assert!(matches!(r, Err(UseCaseError::Forbidden)), "{r:?}");
    let r = w.app.review_plan_change(&w.admin, req.id, true).await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("records.plan_own_approval"))),
        "{r:?}"
    );
    let done = w
        .app
        .review_plan_change(&w.admin2, req.id, true)
        .await
        .expect("approved");
    assert_eq!(done.status, "approved");
    assert_eq!(done.reviewed_by, Some(user_id(&w.admin2)));
    let plan = w.app.record_plan(&w.clerk).await.unwrap();
    let new = node_of(&plan, "32.10.06").expect("the node is in the plan");
    let parent = node_of(&plan, "32.10").unwrap();
    assert_eq!(new.node.parent, Some(parent.node.id));
    assert_eq!(new.node.title, "Zweitwohnungsteuer");
    assert_eq!(new.effective, Some(rule()));
    let r = w.app.review_plan_change(&w.admin2, req.id, true).await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("records.plan_change_done"))),
        "{r:?}"
    );

    // Checked at the request.
    let r = w.app.request_plan_change(&w.admin, add.clone()).await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("records.plan_code_taken"))),
        "{r:?}"
    );
    let r = w
        .app
        .request_plan_change(
            &w.admin,
            PlanChange::AddNode {
                code: "41.20.01".into(),
                title: "Schulen".into(),
                retention: None,
            },
        )
        .await;
    assert!(
        matches!(
            r,
            Err(UseCaseError::Workflow("records.plan_parent_missing"))
        ),
        "{r:?}"
    );
    let r = w
        .app
        .request_plan_change(
            &w.admin,
            PlanChange::UpdateNode {
                code: "99.1".into(),
                title: "Gibt es nicht".into(),
                retention: None,
            },
        )
        .await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("records.plan_code_unknown"))),
        "{r:?}"
    );
    let r = w
        .app
        .request_plan_change(
            &w.admin,
            PlanChange::AddNode {
                code: "32.x".into(),
                title: String::new(),
                retention: None,
            },
        )
        .await;
    assert!(
        matches!(&r, Err(e) if is_validation(e, "code") && is_validation(e, "title")),
        "{r:?}"
    );
    for bad in ["{year}/{plan}", "", "{plan}-{unbekannt}", "{plan"] {
        let r = w
            .app
            .request_plan_change(
                &w.admin,
                PlanChange::SetFileNumberScheme { scheme: bad.into() },
            )
            .await;
        assert!(
            matches!(&r, Err(e) if is_validation(e, "scheme")),
            "{bad:?}: {r:?}"
        );
    }

    // The service files under another node from now on.
    let assign = w
        .app
        .request_plan_change(
            &w.admin2,
            PlanChange::AssignService {
                service: a.service,
                code: "32.10.06".into(),
            },
        )
        .await
        .unwrap();
    w.app
        .review_plan_change(&w.admin, assign.id, true)
        .await
        .expect("approved by the other one");
    let plan = w.app.record_plan(&w.admin).await.unwrap();
    assert!(
        node_of(&plan, "32.10.06")
            .unwrap()
            .services
            .iter()
            .any(|(s, _)| *s == a.service)
    );
    assert!(
        node_of(&plan, DOG)
            .unwrap()
            .services
            .iter()
            .all(|(s, _)| *s != a.service)
    );
    let later = filed_of(&w, a.service, w.section).await;
    assert!(
        later.record.file_number.starts_with("32.10.06-MS-"),
        "{}",
        later.record.file_number
    );
    // Existing Vorgänge stay where they are.
    let again = w.app.record_by_id(&w.clerk, a.record.id).await.unwrap();
    assert_eq!(again.file_number, a.record.file_number);

    // A new file number scheme; withdrawing one's own request is allowed.
    let scheme = PlanChange::SetFileNumberScheme {
        scheme: "{plan}/{year}/{seq}".into(),
    };
    let own = w
        .app
        .request_plan_change(&w.admin, scheme.clone())
        .await
        .unwrap();
    let withdrawn = w
        .app
        .review_plan_change(&w.admin, own.id, false)
        .await
        .unwrap();
    assert_eq!(withdrawn.status, "rejected");
    let req = w.app.request_plan_change(&w.admin, scheme).await.unwrap();
    w.app
        .review_plan_change(&w.admin2, req.id, true)
        .await
        .unwrap();
    let newest = filed_of(&w, a.service, w.section).await;
    let app = w
        .app
        .store
        .repo()
        .application(w.tenant, newest.application)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        newest.record.file_number,
        format!("32.10.06/{}/{:06}", app.year, app.seq)
    );
    let history = w.app.plan_changes(&w.admin).await.unwrap();
    assert!(history.iter().all(|c| c.status != "pending"));
    assert_eq!(history.len(), 4);
    w.db.drop_db().await;
}

// ---------------------------------------------------------------------------
// 6. Umlaufmappen

#[tokio::test]
async fn umlaufmappen_go_from_person_to_person() {
    let w = world().await;
    let a = filed(&w, DOG, "hundesteuer", w.section, rule()).await;
    let doc = w
        .app
        .file_document(
            &w.clerk,
            a.record.id,
            text_doc("Entwurf", "Entwurf des Bescheids."),
        )
        .await
        .unwrap();
    let clerk = user_id(&w.clerk);
    let admin2 = user_id(&w.admin2);
    let start = |people: Vec<Uuid>, document: Option<Uuid>| StartCirculation {
        title: "Bitte abzeichnen".into(),
        instruction: "Zur Kenntnis und Mitzeichnung.".into(),
        document,
        people,
    };

    // Refused starts.
    for (what, people) in [
        ("nobody", vec![]),
        ("unknown person", vec![Uuid::new_v4()]),
        ("another tenant's clerk", vec![user_id(&w.foreign_clerk)]),
    ] {
        let r = w
            .app
            .start_circulation(&w.admin, a.record.id, start(people, None))
            .await;
        assert!(
            matches!(&r, Err(e) if is_validation(e, "people")),
            "{what}: {r:?}"
        );
    }
    let other_doc = w.app.case_record(&w.admin, w.case).await.unwrap().documents[0]
        .document
        .id;
    let r = w
        .app
        .start_circulation(&w.admin, a.record.id, start(vec![clerk], Some(other_doc)))
        .await;
    assert!(
        matches!(&r, Err(e) if is_validation(e, "document")),
        "a document of another Vorgang: {r:?}"
    );
    let r = w
        .app
        .start_circulation(&w.other_clerk, a.record.id, start(vec![clerk], None))
        .await;
    assert!(matches!(r, Err(UseCaseError::NotFound)), "{r:?}");
    let r = w
        .app
        .start_circulation(&w.editor, a.record.id, start(vec![clerk], None))
        .await;
    assert!(matches!(r, Err(UseCaseError::Forbidden)), "{r:?}");

    // Clerk, then admin2 (a person listed twice counts once).
    let c = w
        .app
        .start_circulation(
            &w.admin,
            a.record.id,
            start(vec![clerk, admin2, clerk], Some(doc.id)),
        )
        .await
        .expect("started");
    let id = c.circulation.id;
    assert_eq!(c.circulation.status(), CirculationStatus::Running);
    assert_eq!(c.circulation.document_id, Some(doc.id));
    let people: Vec<Uuid> = c.steps.iter().map(|s| s.user_id).collect();
    assert_eq!(people, [clerk, admin2]);
    let mine = w.app.my_circulations(&w.clerk).await.unwrap();
    assert!(mine.waiting.iter().any(|(x, _)| x.circulation.id == id));
    let theirs = w.app.my_circulations(&w.admin2).await.unwrap();
    assert!(theirs.waiting.iter().all(|(x, _)| x.circulation.id != id));
    let sent = w.app.my_circulations(&w.admin).await.unwrap();
    assert!(sent.started.iter().any(|(x, _)| x.circulation.id == id));
    let r = w.app.circulation(&w.other_clerk, id).await;
    assert!(matches!(r, Err(UseCaseError::NotFound)), "{r:?}");
    let r = w.app.circulation(&w.foreign_clerk, id).await;
    assert!(matches!(r, Err(UseCaseError::NotFound)), "{r:?}");

    let r = w
        .app
        .circulation_step(&w.admin2, id, CirculationAction::SignOff, "")
        .await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("circulation.not_your_step"))),
        "{r:?}"
    );
    let c = w
        .app
        .circulation_step(&w.clerk, id, CirculationAction::SignOff, "Gesehen.")
        .await
        .expect("clerk signs");
    assert_eq!(c.circulation.current_step, 1);
    assert_eq!(c.circulation.status(), CirculationStatus::Running);
    assert_eq!(c.steps[0].status, "signed");
    assert_eq!(c.steps[0].comment.as_deref(), Some("Gesehen."));
    assert!(c.steps[0].done_at.is_some());
    assert_eq!(c.steps[1].status, "current");
    assert!(
        w.app
            .my_circulations(&w.clerk)
            .await
            .unwrap()
            .waiting
            .iter()
            .all(|(x, _)| x.circulation.id != id)
    );
    assert!(
        w.app
            .my_circulations(&w.admin2)
            .await
            .unwrap()
            .waiting
            .iter()
            .any(|(x, _)| x.circulation.id == id)
    );
    let r = w
        .app
        .circulation_step(&w.admin2, id, CirculationAction::Return, "  ")
        .await;
    assert!(matches!(&r, Err(e) if is_validation(e, "comment")), "{r:?}");
    let c = w
        .app
        .circulation_step(
            &w.admin2,
            id,
            CirculationAction::Return,
            "Begründung fehlt.",
        )
        .await
        .expect("returned");
    assert_eq!(c.circulation.status(), CirculationStatus::Returned);
    assert_eq!(c.steps[1].status, "returned");
    let r = w
        .app
        .circulation_step(&w.admin, id, CirculationAction::Cancel, "")
        .await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("circulation.not_running"))),
        "{r:?}"
    );

    // A second one: only the sender withdraws it.
    let c2 = w
        .app
        .start_circulation(&w.admin, a.record.id, start(vec![clerk, admin2], None))
        .await
        .unwrap();
    let r = w
        .app
        .circulation_step(&w.clerk, c2.circulation.id, CirculationAction::Cancel, "")
        .await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("circulation.not_sender"))),
        "{r:?}"
    );
    let c2 = w
        .app
        .circulation_step(&w.admin, c2.circulation.id, CirculationAction::Cancel, "")
        .await
        .expect("withdrawn");
    assert_eq!(c2.circulation.status(), CirculationStatus::Cancelled);
    assert!(
        w.app
            .my_circulations(&w.clerk)
            .await
            .unwrap()
            .waiting
            .iter()
            .all(|(x, _)| x.circulation.id != c2.circulation.id)
    );

    // A third one, started by the clerk, signed by both: completed.
    let c3 = w
        .app
        .start_circulation(&w.clerk, a.record.id, start(vec![clerk, admin2], None))
        .await
        .unwrap();
    let c3id = c3.circulation.id;
    w.app
        .circulation_step(&w.clerk, c3id, CirculationAction::SignOff, "")
        .await
        .unwrap();
    let c3 = w
        .app
        .circulation_step(
            &w.admin2,
            c3id,
            CirculationAction::SignOff,
            "Einverstanden.",
        )
        .await
        .unwrap();
    assert_eq!(c3.circulation.status(), CirculationStatus::Completed);
    assert!(c3.steps.iter().all(|s| s.status == "signed"));
    let r = w
        .app
        .circulation_step(&w.admin2, c3id, CirculationAction::SignOff, "")
        .await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("circulation.not_running"))),
        "{r:?}"
    );

    let all = w
        .app
        .circulations_of_record(&w.clerk, a.record.id)
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    let r = w
        .app
        .circulations_of_record(&w.other_clerk, a.record.id)
        .await;
    assert!(matches!(r, Err(UseCaseError::NotFound)), "{r:?}");
    let actions = audit_actions(&w, a.case).await;
    for (action, n) in [
        ("circulation.started", 3),
        ("circulation.signed", 3),
        ("circulation.returned", 1),
        ("circulation.cancelled", 1),
    ] {
        assert_eq!(
            actions.iter().filter(|a| *a == action).count(),
            n,
            "{action} in {actions:?}"
        );
    }
    w.db.drop_db().await;
}

/// Only people who can act on an Umlaufmappe may be put into one: an
/// editor (no records role) could never sign it off, so it would hang.
#[tokio::test]
async fn umlaufmappen_take_only_records_staff() {
    let w = world().await;
    let a = filed(&w, DOG, "hundesteuer", w.section, rule()).await;
    let editor = user_id(&w.editor);
    let people = w.app.circulation_people(&w.admin).await.unwrap();
    assert!(people.iter().any(|(id, _)| *id == user_id(&w.clerk)));
    assert!(people.iter().any(|(id, _)| *id == user_id(&w.admin2)));
    assert!(
        people
            .iter()
            .all(|(id, _)| *id != user_id(&w.foreign_clerk)),
        "another tenant's staff are not offered"
    );
    let r = w
        .app
        .start_circulation(
            &w.admin,
            a.record.id,
            StartCirculation {
                title: "Bitte abzeichnen".into(),
                instruction: String::new(),
                document: None,
                people: vec![editor],
            },
        )
        .await;
    match r {
        Err(e) if is_validation(&e, "people") => {}
        Ok(c) => {
            let step = w
                .app
                .circulation_step(&w.editor, c.circulation.id, CirculationAction::SignOff, "")
                .await;
            panic!(
                "an editor (no records role) was put into an Umlaufmappe; their sign-off gives {step:?}, so it can never complete"
            );
        }
        Err(e) => panic!("unexpected error: {e:?}"),
    }
    assert!(
        people.iter().all(|(id, _)| *id != editor),
        "circulation_people offers the editor, who has no records role"
    );
    w.db.drop_db().await;
}

// ---------------------------------------------------------------------------
// 7. In-tray

#[tokio::test]
async fn the_in_tray_proposes_files_and_discards() {
    let w = world().await;
    let a = filed(&w, DOG, "hundesteuer", w.section, rule()).await;

    // A mail naming the case's reference.
    let mail = eml(
        "Erika Muster <erika@example.org>",
        "Nachreichung Unterlagen",
        &format!(
            "Sehr geehrte Damen und Herren,\r\nanbei die fehlenden Unterlagen zu Ihrem Zeichen {}.\r\nMit freundlichen Grüßen\r\nErika Muster",
            a.reference
        ),
    );
    let item = w
        .app
        .receive_mail(&w.clerk, "nachreichung.eml", mail.clone())
        .await
        .expect("received");
    assert_eq!(item.kind, "mail");
    assert_eq!(item.status, "open");
    assert_eq!(item.mime, "message/rfc822");
    assert!(item.file_name.ends_with(".eml"), "{}", item.file_name);
    assert_eq!(item.sender.as_deref(), Some("erika@example.org"));
    assert_eq!(item.subject.as_deref(), Some("Nachreichung Unterlagen"));
    assert!(item.text.contains("fehlenden Unterlagen"));
    let p = proposals(&item.proposals);
    let by_ref = p
        .iter()
        .find(|p| p.source == "reference")
        .expect("a reference proposal");
    assert_eq!(by_ref.record, Some(a.record.id));
    assert_eq!(
        by_ref.file_number.as_deref(),
        Some(a.record.file_number.as_str())
    );
    assert_eq!(by_ref.reason, a.reference);
    let view = w.app.intray_item(&w.clerk, item.id).await.unwrap();
    assert!(view.candidates.iter().any(|f| f.id == a.record.id));
    let view = w.app.intray_item(&w.other_clerk, item.id).await.unwrap();
    assert!(
        view.candidates.iter().all(|f| f.id != a.record.id),
        "candidates only from the actor's units"
    );

    // Rules: the Fachadministration's.
    let dog_rule = NewRule {
        name: "Hundesteuer".into(),
        priority: 10,
        sender: None,
        keywords: vec!["Hundesteuer".into()],
        target: Some(RouteTarget::PlanNode { code: DOG.into() }),
    };
    let r = w.app.add_intray_rule(&w.clerk, dog_rule.clone()).await;
    assert!(matches!(r, Err(UseCaseError::Forbidden)), "{r:?}");
    let r = w
        .app
        .add_intray_rule(
            &w.admin,
            NewRule {
                target: Some(RouteTarget::PlanNode {
                    code: "99.99".into(),
                }),
                ..dog_rule.clone()
            },
        )
        .await;
    assert!(
        matches!(&r, Err(e) if is_validation(e, "target")),
        "an unknown plan code: {r:?}"
    );
    let r = w
        .app
        .add_intray_rule(
            &w.admin,
            NewRule {
                keywords: vec![],
                ..dog_rule.clone()
            },
        )
        .await;
    assert!(
        matches!(&r, Err(e) if is_validation(e, "keywords")),
        "no condition: {r:?}"
    );
    let rule_row = w
        .app
        .add_intray_rule(&w.admin, dog_rule.clone())
        .await
        .expect("rule");
    assert_eq!(
        w.app.intray_rules(&w.clerk).await.unwrap(),
        std::slice::from_ref(&rule_row)
    );
    let letter = "Sehr geehrte Damen und Herren,\nich bitte um Ermäßigung der Hundesteuer für meinen Blindenführhund.\nMit freundlichen Grüßen\nMax Muster\n";
    let dog_item = w
        .app
        .receive_mail(&w.clerk, "brief.txt", Bytes::from(letter))
        .await
        .expect("text received");
    assert_eq!(dog_item.kind, "text");
    assert_eq!(dog_item.mime, "text/plain");
    let p = proposals(&dog_item.proposals);
    let by_rule = p
        .iter()
        .find(|p| p.source == "rule")
        .expect("a rule proposal");
    assert_eq!(by_rule.plan_code.as_deref(), Some(DOG));
    assert_eq!(by_rule.reason, "Hundesteuer");
    let view = w.app.intray_item(&w.clerk, dog_item.id).await.unwrap();
    assert!(
        view.candidates.iter().any(|f| f.id == a.record.id),
        "open Vorgänge of the proposed node"
    );
    // Without the keyword as a whole word, the rule stays silent.
    let other = w
        .app
        .receive_mail(
            &w.clerk,
            "hund.txt",
            Bytes::from_static(b"Mein Hund bellt nachts, bitte um Rueckruf."),
        )
        .await
        .unwrap();
    assert!(proposals(&other.proposals).is_empty());

    // Refused content; who may not.
    for (what, content) in [
        ("html", Bytes::from_static(b"<html><body>x</body></html>")),
        ("empty", Bytes::new()),
    ] {
        let r = w.app.receive_mail(&w.clerk, "x.eml", content).await;
        assert!(matches!(r, Err(UseCaseError::BadFile(_))), "{what}: {r:?}");
    }
    let r = w.app.receive_mail(&w.editor, "x.eml", mail.clone()).await;
    assert!(matches!(r, Err(UseCaseError::Forbidden)), "{r:?}");
    let r = w.app.intray(&w.editor).await;
    assert!(matches!(r, Err(UseCaseError::Forbidden)), "{r:?}");
    assert!(w.app.intray(&w.foreign_clerk).await.unwrap().is_empty());
    let r = w.app.intray_item(&w.foreign_clerk, item.id).await;
    assert!(matches!(r, Err(UseCaseError::NotFound)), "{r:?}");
    let open = w.app.intray(&w.clerk).await.unwrap();
    assert_eq!(open.len(), 3);

    // Filing: by the Vorgang's id …
    let r = w
        .app
        .file_intray_item(&w.other_clerk, item.id, Some(a.record.id), None, "")
        .await;
    assert!(matches!(r, Err(UseCaseError::NotFound)), "{r:?}");
    let (filed_item, doc) = w
        .app
        .file_intray_item(&w.clerk, item.id, Some(a.record.id), None, "")
        .await
        .expect("filed");
    assert_eq!(doc.kind, "incoming");
    assert_eq!(doc.record_file_id, a.record.id);
    assert_eq!(
        doc.title, "Nachreichung Unterlagen",
        "the subject by default"
    );
    assert_eq!(doc.source_id, Some(item.id));
    assert_eq!(filed_item.status, "filed");
    assert_eq!(filed_item.text, "", "the text is cleared");
    assert_eq!(filed_item.proposals, "[]");
    assert_eq!(filed_item.target_file_id, Some(a.record.id));
    assert_eq!(filed_item.document_id, Some(doc.id));
    let (_, v, content) = w.app.record_document(&w.clerk, doc.id, None).await.unwrap();
    assert_eq!(content, mail);
    assert_eq!(v.mime, "message/rfc822");
    assert!(
        audit_actions(&w, a.case)
            .await
            .contains(&"record.document_filed".to_string())
    );
    let r = w
        .app
        .file_intray_item(&w.clerk, item.id, Some(a.record.id), None, "")
        .await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("intray.done"))),
        "{r:?}"
    );
    let r = w.app.discard_intray_item(&w.clerk, item.id).await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("intray.done"))),
        "a filed item is not discarded: {r:?}"
    );

    // … and by its file number (or the reference), with a title.
    let r = w
        .app
        .file_intray_item(&w.clerk, dog_item.id, None, Some("32.10.05-XX-0000"), "")
        .await;
    assert!(
        matches!(&r, Err(e) if is_validation(e, "record")),
        "an unknown number: {r:?}"
    );
    let r = w
        .app
        .file_intray_item(&w.clerk, dog_item.id, None, None, "")
        .await;
    assert!(matches!(&r, Err(e) if is_validation(e, "record")), "{r:?}");
    let (_, doc2) = w
        .app
        .file_intray_item(
            &w.clerk,
            dog_item.id,
            None,
            Some(&format!(" {} ", a.record.file_number)),
            "Antrag auf Ermäßigung",
        )
        .await
        .expect("filed by number");
    assert_eq!(doc2.record_file_id, a.record.id);
    assert_eq!(doc2.title, "Antrag auf Ermäßigung");
    assert_eq!(doc2.kind, "incoming");
    w.app.process_record_versions(w.tenant).await.unwrap();
    let r = w.app.case_record(&w.clerk, a.case).await.unwrap();
    let incoming = r
        .documents
        .iter()
        .find(|d| d.document.id == doc2.id)
        .unwrap();
    assert!(
        incoming.versions[0]
            .text
            .as_deref()
            .is_some_and(|t| t.contains("Blindenführhund"))
    );

    // Discarding deletes the row and, through a job, its object.
    let jobs_before = jobs_of(&w, rathaus_storage::records::DELETE_OBJECTS_JOB).await;
    assert!(jobs_before.is_empty());
    let r = w.app.discard_intray_item(&w.foreign_clerk, other.id).await;
    assert!(matches!(r, Err(UseCaseError::NotFound)), "{r:?}");
    w.app
        .discard_intray_item(&w.clerk, other.id)
        .await
        .expect("discarded");
    let r = w.app.intray_item(&w.clerk, other.id).await;
    assert!(matches!(r, Err(UseCaseError::NotFound)), "{r:?}");
    let r = w.app.discard_intray_item(&w.clerk, other.id).await;
    assert!(matches!(r, Err(UseCaseError::NotFound)), "{r:?}");
    let jobs = jobs_of(&w, rathaus_storage::records::DELETE_OBJECTS_JOB).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["keys"], serde_json::json!([other.file_key]));
    assert!(w.app.intray(&w.clerk).await.unwrap().is_empty());

    // Rules are deleted by the Fachadministration only.
    let r = w.app.delete_intray_rule(&w.clerk, rule_row.id).await;
    assert!(matches!(r, Err(UseCaseError::Forbidden)), "{r:?}");
    w.app
        .delete_intray_rule(&w.admin, rule_row.id)
        .await
        .expect("deleted");
    let r = w.app.delete_intray_rule(&w.admin, rule_row.id).await;
    assert!(matches!(r, Err(UseCaseError::NotFound)), "{r:?}");
    assert!(w.app.intray_rules(&w.clerk).await.unwrap().is_empty());
    w.db.drop_db().await;
}

// ---------------------------------------------------------------------------
// 8. Classifier

const DOG_LINES: [&str; 10] = [
    "hiermit melde ich meinen Hund zur Hundesteuer an. Es handelt sich um einen Labrador, geboren im März.",
    "bitte senden Sie mir eine neue Hundesteuermarke zu, die alte Steuermarke ist beim Spaziergang verloren gegangen.",
    "unser Hund ist leider verstorben. Ich bitte um Abmeldung von der Hundesteuer zum Monatsende.",
    "ich beantrage die Ermäßigung der Hundesteuer, da mein Hund als Blindenführhund ausgebildet ist.",
    "wir haben einen zweiten Hund aus dem Tierheim aufgenommen und möchten ihn steuerlich anmelden.",
    "gegen den Hundesteuerbescheid lege ich Widerspruch ein, der Hund wurde bereits im Vorjahr abgemeldet.",
    "für meinen Dackel bitte ich um Befreiung von der Hundesteuer, ich beziehe Grundsicherung.",
    "der Hund meiner verstorbenen Mutter lebt nun bei mir, bitte ummelden und die Steuermarke übertragen.",
    "wie hoch ist die Hundesteuer für einen Listenhund? Ich überlege, einen Staffordshire Terrier zu halten.",
    "die Hundehaltung endet mit dem Umzug nach Bayern, bitte melden Sie den Hund zur Hundesteuer ab.",
];
const TRADE_LINES: [&str; 10] = [
    "hiermit zeige ich die Anmeldung meines Gewerbes an: Einzelhandel mit Fahrrädern in der Bahnhofstraße.",
    "die Betriebsstätte meines Gewerbebetriebs wird in die Industriestraße verlegt, bitte Gewerbe ummelden.",
    "ich melde mein Gewerbe zum Quartalsende ab, der Betrieb des Imbisses wird eingestellt.",
    "für die Eintragung in die Handwerksrolle lege ich meinen Meisterbrief als Elektrotechniker vor.",
    "ich beantrage eine Reisegewerbekarte für den Verkauf von Textilien auf Wochenmärkten.",
    "bitte senden Sie mir eine Bescheinigung über die Gewerbeanmeldung für das Finanzamt.",
    "unsere GmbH erweitert den Gegenstand des Gewerbes um Gebäudereinigung, Gewerbeummeldung anbei.",
    "für die Gaststätte beantrage ich die Gaststättenerlaubnis zum Ausschank alkoholischer Getränke.",
    "ich möchte ein Nebengewerbe als Webdesigner anmelden, Beginn der Tätigkeit ist der erste Juli.",
    "der Gewerbebetrieb wird von meinem Sohn übernommen, bitte Abmeldung und Neuanmeldung des Gewerbes.",
];

fn letter(lines: &[&str; 10], i: usize) -> String {
    let greeting = [
        "Sehr geehrte Damen und Herren,",
        "Guten Tag,",
        "Sehr geehrte Frau Schmidt,",
    ][i % 3];
    let closing = [
        "Mit freundlichen Grüßen",
        "Freundliche Grüße",
        "Viele Grüße",
    ][i % 3];
    format!(
        "{greeting}\n{}\n{}\n{closing}\nName {i}\n",
        lines[i % 10],
        lines[(i * 3 + 1) % 10]
    )
}

#[tokio::test]
async fn the_classifier_learns_from_filed_documents() {
    let w = world().await;
    let dog = filed(&w, DOG, "hundesteuer", w.section, rule()).await;
    let trade = filed(&w, TRADE, "gewerbe", w.section, rule()).await;
    // Forty letters: the held-out fifth is drawn by the documents' random
    // ids, so fewer would make the training part fall below its minimum now
    // and then.
    for i in 0..20 {
        w.app
            .file_document(
                &w.clerk,
                dog.record.id,
                text_doc(&format!("Schreiben {i}"), &letter(&DOG_LINES, i)),
            )
            .await
            .unwrap();
        w.app
            .file_document(
                &w.clerk,
                trade.record.id,
                text_doc(&format!("Schreiben {i}"), &letter(&TRADE_LINES, i)),
            )
            .await
            .unwrap();
    }
    w.app.process_record_versions(w.tenant).await.unwrap();

    let before = w.app.classifier_status(&w.clerk).await.unwrap();
    assert!(before.trained_at.is_none());
    assert_eq!(before.samples, 0);
    assert_eq!(before.available, 40, "the texts, not the application data");
    let r = w.app.train_classifier(&w.clerk).await;
    assert!(matches!(r, Err(UseCaseError::Forbidden)), "{r:?}");

    let status = w.app.train_classifier(&w.admin).await.expect("trained");
    assert!(status.trained_at.is_some());
    assert!(status.samples >= 12, "{}", status.samples);
    assert_eq!(status.samples, 40);
    let e = status.evaluation.clone().expect("an evaluation");
    assert!((0.0..=1.0).contains(&e.accuracy), "{e:?}");
    assert!(e.tested_on > 0, "{e:?}");
    assert_eq!(e.tested_on + e.trained_on, 40);
    assert!(
        e.per_label
            .iter()
            .all(|l| l.label == DOG || l.label == TRADE)
    );
    let again = w.app.classifier_status(&w.clerk).await.unwrap();
    assert_eq!(again.samples, 40);
    assert_eq!(again.evaluation, Some(e));

    // A new mail about dog tax: the classifier proposes the dog-tax node.
    let mail = eml(
        "Jonas Beispiel <jonas@example.org>",
        "Anmeldung",
        "Guten Tag,\r\nwir haben seit letzter Woche einen Hund, einen Beagle. Bitte melden Sie ihn zur Hundesteuer an und schicken Sie uns die Steuermarke.\r\nViele Grüße",
    );
    let item = w
        .app
        .receive_mail(&w.clerk, "anmeldung.eml", mail)
        .await
        .unwrap();
    let p = proposals(&item.proposals);
    let first = p
        .iter()
        .find(|p| p.source == "classifier")
        .expect("a classifier proposal");
    assert_eq!(first.plan_code.as_deref(), Some(DOG), "{p:?}");
    assert!(first.probability.is_some_and(|x| x > 0.5), "{p:?}");
    assert!(first.reason.starts_with(DOG));
    let mail = eml(
        "Firma Beispiel <info@beispiel.example>",
        "Ummeldung",
        "Sehr geehrte Damen und Herren,\r\nunser Gewerbebetrieb zieht um, bitte melden Sie das Gewerbe auf die neue Betriebsstätte um.\r\nMit freundlichen Grüßen",
    );
    let item = w
        .app
        .receive_mail(&w.clerk, "ummeldung.eml", mail)
        .await
        .unwrap();
    let p = proposals(&item.proposals);
    let first = p
        .iter()
        .find(|p| p.source == "classifier")
        .expect("a classifier proposal");
    assert_eq!(first.plan_code.as_deref(), Some(TRADE), "{p:?}");
    w.db.drop_db().await;
}

#[tokio::test]
async fn the_classifier_needs_enough_documents() {
    let w = world().await;
    let dog = filed(&w, DOG, "hundesteuer", w.section, rule()).await;
    let trade = filed(&w, TRADE, "gewerbe", w.section, rule()).await;
    for i in 0..2 {
        w.app
            .file_document(
                &w.clerk,
                dog.record.id,
                text_doc("Brief", &letter(&DOG_LINES, i)),
            )
            .await
            .unwrap();
    }
    w.app
        .file_document(
            &w.clerk,
            trade.record.id,
            text_doc("Brief", &letter(&TRADE_LINES, 0)),
        )
        .await
        .unwrap();
    // Too short to learn from.
    w.app
        .file_document(&w.clerk, trade.record.id, text_doc("Kurz", "Danke."))
        .await
        .unwrap();
    w.app.process_record_versions(w.tenant).await.unwrap();
    assert_eq!(
        w.app.classifier_status(&w.admin).await.unwrap().available,
        3
    );
    let r = w.app.train_classifier(&w.admin).await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("classifier.too_few_samples"))),
        "{r:?}"
    );
    let s = w.app.classifier_status(&w.admin).await.unwrap();
    assert!(s.trained_at.is_none() && s.evaluation.is_none());
    // No model, no classifier proposal.
    let item = w
        .app
        .receive_mail(&w.clerk, "brief.txt", Bytes::from(letter(&DOG_LINES, 3)))
        .await
        .unwrap();
    assert!(
        proposals(&item.proposals)
            .iter()
            .all(|p| p.source != "classifier")
    );
    w.db.drop_db().await;
}

// ---------------------------------------------------------------------------
// 9. Destruction

fn evaluation(process: Uuid, items: &[(Uuid, &str)]) -> String {
    let body: String = items
        .iter()
        .map(|(id, code)| {
            format!(
                "  <xdomea:BewertetesObjekt><xdomea:ID>{id}</xdomea:ID><xdomea:Aussonderungsart><xdomea:Aussonderungsart listURI=\"urn:xoev-de:xdomea:codeliste:aussonderungsart\" listVersionID=\"1.0\"><code>{code}</code></xdomea:Aussonderungsart></xdomea:Aussonderungsart></xdomea:BewertetesObjekt>\n"
            )
        })
        .collect();
    archive_message(process, "0502", "Aussonderung.Bewertungsverzeichnis", &body)
}

fn import_confirmation(process: Uuid, items: &[Uuid]) -> String {
    let body: String = items
        .iter()
        .map(|id| {
            format!(
                "  <xdomea:AusgesondertesSGO><xdomea:IDSGO>{id}</xdomea:IDSGO><xdomea:Erfolgreich>1</xdomea:Erfolgreich><xdomea:Archivkennung>StA 1/{id}</xdomea:Archivkennung></xdomea:AusgesondertesSGO>\n"
            )
        })
        .collect();
    archive_message(
        process,
        "0506",
        "Aussonderung.AussonderungImportBestaetigen",
        &body,
    )
}

fn archive_message(process: Uuid, code: &str, name: &str, body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<xdomea:{name}.{code} xmlns:xdomea="urn:xoev-de:xdomea:schema:3.0.0">
  <xdomea:Kopf>
    <xdomea:ProzessID>{process}</xdomea:ProzessID>
    <xdomea:Nachrichtentyp listURI="urn:xoev-de:xdomea:codeliste:nachrichtentyp" listVersionID="2.0">
      <code>{code}</code>
      <name>{name}</name>
    </xdomea:Nachrichtentyp>
    <xdomea:Erstellungszeitpunkt>2100-01-02T10:00:00Z</xdomea:Erstellungszeitpunkt>
    <xdomea:Absender><xdomea:Institution><xdomea:Name>Stadtarchiv</xdomea:Name></xdomea:Institution></xdomea:Absender>
    <xdomea:Empfaenger><xdomea:Institution><xdomea:Name>Stadt A</xdomea:Name></xdomea:Institution></xdomea:Empfaenger>
    <xdomea:SendendesSystem><xdomea:InstanzID>2f1ee0f2-61c7-4c29-9f3a-6c1c1a0e33b1</xdomea:InstanzID><xdomea:Produktname>Archiv</xdomea:Produktname><xdomea:Version>1</xdomea:Version></xdomea:SendendesSystem>
{receipt}  </xdomea:Kopf>
{body}</xdomea:{name}.{code}>
"#,
        receipt = if code == "0502" {
            "    <xdomea:Empfangsbestaetigung>0</xdomea:Empfangsbestaetigung>\n"
        } else {
            ""
        }
    )
}

/// Closes the case (claim, Bescheid, close), hands its Vorgang over and
/// destroys the originals on four eyes, then runs the deletion job.
async fn close_and_destroy(w: &World, f: &Filed) {
    w.app
        .change_case(&w.clerk, f.case, CaseStep::Claim)
        .await
        .expect("claim");
    w.app
        .decide(
            &w.clerk,
            f.case,
            DecisionInput {
                variant: Variant::Approval,
                reason: "Alles vollständig.".into(),
                fee: None,
            },
        )
        .await
        .expect("decide");
    w.app
        .change_case(&w.clerk, f.case, CaseStep::Status(CaseAction::Close))
        .await
        .expect("close");
    w.app.file_case(w.tenant, f.application).await.unwrap();
    let as_of = NaiveDate::from_ymd_opt(2100, 1, 1).unwrap();
    let v = w.app.start_disposal(&w.admin, as_of).await.expect("start");
    assert_eq!(v.items.len(), 1);
    assert_eq!(v.items[0].1.id, f.record.id);
    let pid = v.disposal.id;
    w.app.disposal_offer(&w.admin, pid).await.expect("0501");
    w.app
        .import_evaluation(&w.admin, pid, &evaluation(pid, &[(f.record.id, "A")]))
        .await
        .expect("0502");
    w.app.disposal_package(&w.admin, pid).await.expect("0503");
    w.app
        .import_receipt(&w.admin, pid, &import_confirmation(pid, &[f.record.id]))
        .await
        .expect("0506");
    w.app
        .request_destruction(&w.admin, pid)
        .await
        .expect("request");
    w.app
        .approve_destruction(&w.admin2, pid)
        .await
        .expect("approve");
    for job in jobs_of(w, rathaus_storage::records::DELETE_OBJECTS_JOB).await {
        let keys: Vec<String> = serde_json::from_value(job["keys"].clone()).unwrap();
        w.app.delete_record_objects(w.tenant, &keys).await.unwrap();
    }
    let after = w
        .app
        .store
        .repo()
        .record_file(w.tenant, f.record.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.status(), FileStatus::Archived);
}

#[tokio::test]
async fn destruction_takes_umlaufmappen_and_in_tray_rows_with_it() {
    let w = world().await;
    let a = filed(&w, "66.20", "brunnen", w.section, archive_rule()).await;
    let b = filed_of(&w, a.service, w.section).await;
    let people = vec![user_id(&w.clerk), user_id(&w.admin2)];
    let start = |title: &str| StartCirculation {
        title: title.into(),
        instruction: "Bitte prüfen.".into(),
        document: None,
        people: people.clone(),
    };
    let ca = w
        .app
        .start_circulation(&w.admin, a.record.id, start("Mappe A"))
        .await
        .unwrap();
    w.app
        .circulation_step(
            &w.clerk,
            ca.circulation.id,
            CirculationAction::SignOff,
            "Gesehen, A.",
        )
        .await
        .unwrap();
    let cb = w
        .app
        .start_circulation(&w.admin, b.record.id, start("Mappe B"))
        .await
        .unwrap();
    let filed_item = w
        .app
        .receive_mail(
            &w.clerk,
            "a.eml",
            eml("a@example.org", "Zu A", &format!("Bezug: {}", a.reference)),
        )
        .await
        .unwrap();
    w.app
        .file_intray_item(&w.clerk, filed_item.id, Some(a.record.id), None, "")
        .await
        .unwrap();
    let open_item = w
        .app
        .receive_mail(
            &w.clerk,
            "b.eml",
            eml("b@example.org", "Zu B", &format!("Bezug: {}", b.reference)),
        )
        .await
        .unwrap();
    assert_eq!(
        w.db.query_strings("SELECT CAST(COUNT(*) AS TEXT) FROM circulation_steps")
            .await,
        ["4"]
    );

    close_and_destroy(&w, &a).await;

    let repo = w.app.store.repo();
    assert!(
        repo.circulation(w.tenant, ca.circulation.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        repo.circulations_of_file(w.tenant, a.record.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        repo.circulation(w.tenant, cb.circulation.id)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        w.db.query_strings("SELECT CAST(COUNT(*) AS TEXT) FROM circulation_steps")
            .await,
        ["2"],
        "the steps (and their comments) of A's Umlaufmappe are gone"
    );
    let mine = w.app.my_circulations(&w.admin).await.unwrap();
    assert_eq!(mine.started.len(), 1);
    assert!(
        repo.intray_item(w.tenant, filed_item.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        repo.intray_item(w.tenant, open_item.id)
            .await
            .unwrap()
            .is_some()
    );
    w.db.drop_db().await;
}

#[tokio::test]
async fn destroyed_documents_leave_the_search_index() {
    let w = world().await;
    let a = filed(&w, "66.20", "brunnen", w.section, archive_rule()).await;
    w.app
        .file_note(&w.clerk, a.case, "Brunnenbohrung am Quittenweg genehmigt.")
        .await
        .unwrap();
    w.app.process_record_versions(w.tenant).await.unwrap();
    assert_eq!(search_total(&w, &w.admin, "Brunnenbohrung").await, 1);
    close_and_destroy(&w, &a).await;
    assert!(
        w.app
            .store
            .repo()
            .filed_documents(w.tenant, a.record.id)
            .await
            .unwrap()
            .is_empty()
    );
    let r = w
        .app
        .search_records(&w.admin, "Brunnenbohrung", 0)
        .await
        .unwrap();
    assert_eq!(
        r.total,
        0,
        "the destroyed note is still found, with its text in the snippet: {:?}",
        r.hits.iter().map(|h| &h.snippet.text).collect::<Vec<_>>()
    );
    w.db.drop_db().await;
}

#[tokio::test]
async fn a_document_moved_out_survives_the_destruction_of_its_old_vorgang() {
    let w = world().await;
    let a = filed(&w, "66.20", "brunnen", w.section, archive_rule()).await;
    let b = filed_of(&w, a.service, w.section).await;
    let ra = w.app.case_record(&w.admin, a.case).await.unwrap();
    let upload = ra
        .documents
        .iter()
        .find(|d| d.document.kind == "upload")
        .unwrap()
        .document
        .clone();
    let (_, _, original) = w
        .app
        .record_document(&w.admin, upload.id, None)
        .await
        .unwrap();
    if w.app
        .move_document(&w.admin, upload.id, b.record.id)
        .await
        .is_err()
    {
        // Moving what the case filed itself is refused: nothing to lose.
        w.db.drop_db().await;
        return;
    }
    close_and_destroy(&w, &a).await;
    let r = w.app.record_document(&w.admin, upload.id, None).await;
    assert!(
        matches!(&r, Ok((d, _, bytes)) if d.document.record_file_id == b.record.id && *bytes == original),
        "the document now in B lost its content with A's destruction: {:?}",
        r.map(|(d, v, _)| (d.document.record_file_id, v.file_key))
    );
    w.db.drop_db().await;
}

/// A Vorgang whose content was destroyed takes no new work.
#[tokio::test]
async fn a_destroyed_vorgang_takes_no_new_documents_or_umlaufmappen() {
    let w = world().await;
    let a = filed(&w, "66.20", "brunnen", w.section, archive_rule()).await;
    let b = filed_of(&w, a.service, w.section).await;
    let doc = w
        .app
        .file_document(&w.clerk, b.record.id, text_doc("Brief", "Ein Brief zu B."))
        .await
        .unwrap();
    let item = w
        .app
        .receive_mail(
            &w.clerk,
            "x.txt",
            Bytes::from_static(b"Nachtrag zum Brunnen."),
        )
        .await
        .unwrap();
    close_and_destroy(&w, &a).await;

    let r = w
        .app
        .file_document(&w.admin, a.record.id, text_doc("Nachtrag", "Nachtrag."))
        .await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("records.record_closed"))),
        "file_document: {r:?}"
    );
    let r = w
        .app
        .file_intray_item(&w.admin, item.id, Some(a.record.id), None, "")
        .await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("records.record_closed"))),
        "file_intray_item: {r:?}"
    );
    assert_eq!(
        w.app
            .intray_item(&w.admin, item.id)
            .await
            .unwrap()
            .item
            .status,
        "open"
    );
    let r = w.app.move_document(&w.admin, doc.id, a.record.id).await;
    assert!(
        matches!(r, Err(UseCaseError::Workflow("records.record_closed"))),
        "move_document: {r:?}"
    );
    let r = w
        .app
        .start_circulation(
            &w.admin,
            a.record.id,
            StartCirculation {
                title: "Noch einmal ansehen".into(),
                instruction: "Kommentar zu einer vernichteten Akte".into(),
                document: None,
                people: vec![user_id(&w.clerk)],
            },
        )
        .await;
    assert!(
        r.is_err(),
        "an Umlaufmappe was started on a Vorgang whose content is destroyed (archived): {:?}",
        r.map(|c| c.circulation.status)
    );
    w.db.drop_db().await;
}
