//! Working with the e-file over real HTTP on the demo: staff file documents
//! through the API, the `records.process` job seals and indexes them, the
//! seal checks online (`/api/v1/seals/verify`, the public page `/pruefen`)
//! and offline (`rathaus admin verify-seal` without a database), the
//! full-text search sees only what the caller may see, an Umlaufmappe runs
//! its steps with the case's audit, incoming mail is proposed and filed from
//! the in-tray, and plan changes take a second administrator.

use rathaus_domain::identity::Role;
use rathaus_storage::{
    identity::{NewUser, hash_password},
    prelude::*,
};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::helpers::{
    OTHER_HOST, TestApp, claim_case, client, csrf_of, get_json, grant_steueramt, hundesteuer_data,
    run_jobs, submitted, token, token_at,
};

/// The text document filed in most tests; its odd words are found by the search.
const TEXT: &str = "Vermerk zur Hundehaltung\n\nDie Halterin hat Bello am Zaunkönigweg 7 angemeldet.\nStichwort: Quittengelee und Schlehenmus.\n";
/// The tenant's name: the seal's issuer.
const ISSUER: &str = "Stadt Musterstadt";
/// What `/pruefen` says for a genuine document (`records.seal_valid`).
const GENUINE_DE: &str =
    "Echt: Das Dokument trägt ein gültiges Siegel dieser Behörde und ist unverändert.";

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// A token of a clerk of the Umweltamt only (another unit than the Steueramt).
async fn other_clerk(app: &TestApp) -> String {
    let repo = app.db.as_ref().unwrap().store.repo();
    let tenant = repo
        .tenant_by_slug("musterstadt")
        .await
        .unwrap()
        .unwrap()
        .tenant_id();
    let user = repo
        .create_user(
            tenant,
            &NewUser {
                email: "umwelt-sb@musterstadt.example".into(),
                display_name: "Uwe Umwelt".into(),
                password_hash: hash_password("demo"),
            },
        )
        .await
        .unwrap();
    let unit = repo
        .org_unit_by_name(tenant, "Umweltamt")
        .await
        .unwrap()
        .unwrap();
    repo.grant_role(tenant, user.id, unit.id, Role::Clerk)
        .await
        .unwrap();
    token(app, "umwelt-sb@musterstadt.example").await
}

/// A Hundesteuer case claimed by the clerk, with its Vorgang:
/// (case id, application reference, Vorgang id, file number).
async fn hund_record(app: &TestApp, clerk: &str, key: &str) -> (String, String, String, String) {
    let sent = submitted(app, "hundesteuer-anmeldung", key, &hundesteuer_data()).await;
    let reference = sent["reference"].as_str().unwrap().to_string();
    let case = claim_case(app, clerk, &reference).await;
    let record = get_json(app.url(&format!("/api/v1/cases/{case}/record")), clerk).await;
    let id = record["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a Vorgang for {case}: {record}"))
        .to_string();
    let number = record["file_number"].as_str().unwrap().to_string();
    (case, reference, id, number)
}

/// `POST /api/v1/records/{record}/documents?title=…&name=…` with a raw body.
async fn file(
    app: &TestApp,
    token: &str,
    record: &str,
    title: &str,
    name: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    client()
        .post(app.url(&format!("/api/v1/records/{record}/documents")))
        .query(&[("title", title), ("name", name)])
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Files `body` and expects 201; returns the document.
async fn filed(
    app: &TestApp,
    token: &str,
    record: &str,
    title: &str,
    name: &str,
    body: &[u8],
) -> Value {
    let r = file(app, token, record, title, name, body.to_vec()).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 201, "filing {name}: {text}");
    serde_json::from_str(&text).unwrap()
}

async fn post_json(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    client()
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Status and JSON body of a response (the body must be JSON).
async fn status_json(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = r.text().await.unwrap();
    let v = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{status}: not JSON ({ct}): {e}: {text}"));
    (status, v)
}

async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    client()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// The message of a refused step must speak to a person, not show a
/// message key. Collected and checked at the end of a test, so that one
/// missing text does not hide the rest of the flow.
#[derive(Default)]
struct Messages(Vec<(String, Value)>);

impl Messages {
    fn note(&mut self, what: &str, body: &Value) {
        self.0.push((what.to_string(), body.clone()));
    }

    fn assert_clear(self) {
        let unclear: Vec<String> = self
            .0
            .iter()
            .filter(|(_, b)| {
                let m = b["error"]["message"].as_str().unwrap_or_default();
                // A sentence has spaces; a key like `editor.records.x` has none.
                m.split_whitespace().count() < 3
                    || m.starts_with("editor.")
                    || m.contains("records.")
                    || m.contains("circulation.")
                    || m.contains("intray.")
            })
            .map(|(what, b)| format!("{what}: {b}"))
            .collect();
        assert!(
            unclear.is_empty(),
            "errors without a clear message (a message key instead of a sentence):\n{}",
            unclear.join("\n")
        );
    }
}

/// A small PDF 1.4 with one page and a text layer (`text`: ASCII, no parentheses).
fn tiny_pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
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

/// The seal file of a document (after the job ran).
async fn seal_of(app: &TestApp, token: &str, doc: &str) -> Vec<u8> {
    let r = get(app, &format!("/api/v1/records/documents/{doc}/seal"), token).await;
    assert_eq!(r.status(), 200, "seal of {doc}");
    r.bytes().await.unwrap().to_vec()
}

// ------------------------------------------------------------------ 1

#[tokio::test]
async fn a_filed_document_is_sealed_returned_as_filed_and_verified() {
    let app = TestApp::spawn().await;
    grant_steueramt(&app).await;
    let clerk = token(&app, "sachbearbeitung@musterstadt.example").await;
    let admin = token(&app, "admin@musterstadt.example").await;
    let outsider = other_clerk(&app).await;
    let mut messages = Messages::default();
    let (case, _, record, _) = hund_record(&app, &clerk, "records-work-0001").await;

    let doc = filed(
        &app,
        &clerk,
        &record,
        "Vermerk Hundehaltung",
        "vermerk.txt",
        TEXT.as_bytes(),
    )
    .await;
    assert_eq!(doc["kind"], "staff", "{doc}");
    assert_eq!(doc["title"], "Vermerk Hundehaltung");
    let v = &doc["versions"][0];
    assert_eq!(v["mime"], "text/plain", "{doc}");
    assert_eq!(v["file_name"], "vermerk.txt", "{doc}");
    assert_eq!(v["size"], TEXT.len(), "{doc}");
    assert_eq!(v["sha256"], sha256_hex(TEXT.as_bytes()), "{doc}");
    assert_eq!(v["sealed"], false, "the seal follows in the job: {doc}");
    let id = doc["id"].as_str().unwrap().to_string();

    // The admin (Fachadministration) files too; a PDF this time.
    let pdf = tiny_pdf("Bescheid ueber die Hundesteuer");
    let pdf_doc = filed(&app, &admin, &record, "Bescheid", "bescheid", &pdf).await;
    assert_eq!(pdf_doc["kind"], "staff");
    assert_eq!(pdf_doc["versions"][0]["mime"], "application/pdf");
    assert_eq!(pdf_doc["versions"][0]["file_name"], "bescheid.pdf");

    // HTML is no document: a clear 422 in JSON.
    let r = file(
        &app,
        &clerk,
        &record,
        "Webseite",
        "seite.txt",
        b"<!DOCTYPE html><html><body><script>alert(1)</script>Hallo</body></html>".to_vec(),
    )
    .await;
    let (s, body) = status_json(r).await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["error"]["status"], 422);
    assert_eq!(body["error"]["code"], "invalid_file", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("PDF"),
        "the message names what is taken: {body}"
    );
    // An empty body and an empty title are refused too.
    let (s, body) =
        status_json(file(&app, &clerk, &record, "Leer", "leer.txt", vec![]).await).await;
    assert_eq!(s, 422, "{body}");
    let (s, body) = status_json(
        file(
            &app,
            &clerk,
            &record,
            " ",
            "x.txt",
            TEXT.as_bytes().to_vec(),
        )
        .await,
    )
    .await;
    assert!(s == 422 || s == 400, "blank title: {s} {body}");
    // A clerk of another unit may not file into this Vorgang (404, as for
    // every Vorgang outside the caller's units: its existence is not told).
    let r = file(
        &app,
        &outsider,
        &record,
        "Fremd",
        "fremd.txt",
        TEXT.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(
        r.status(),
        404,
        "a clerk of another unit files nothing here"
    );

    // Before the job: no seal yet, said so.
    let (s, body) = status_json(
        get(
            &app,
            &format!("/api/v1/records/documents/{id}/seal"),
            &clerk,
        )
        .await,
    )
    .await;
    assert_eq!(s, 409, "not sealed yet: {body}");
    messages.note("seal before the job", &body);

    run_jobs(&app).await;

    // The content comes back byte for byte, as a download.
    let r = get(&app, &format!("/api/v1/records/documents/{id}"), &clerk).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"),
        "{:?}",
        r.headers()
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
        "never inline"
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().as_ref(), TEXT.as_bytes());
    let r = get(
        &app,
        &format!(
            "/api/v1/records/documents/{}",
            pdf_doc["id"].as_str().unwrap()
        ),
        &clerk,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.bytes().await.unwrap().as_ref(), pdf.as_slice());
    // Not for a clerk of another unit.
    let r = get(&app, &format!("/api/v1/records/documents/{id}"), &outsider).await;
    assert!(
        r.status() == 403 || r.status() == 404,
        "another unit's clerk reads nothing: {}",
        r.status()
    );

    // The seal: rathaus-seal/1 over the document's SHA-256, by the tenant.
    let r = get(
        &app,
        &format!("/api/v1/records/documents/{id}/seal"),
        &clerk,
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("vermerk.txt.siegel.json"),
        "{:?}",
        r.headers()
    );
    let seal: Value = r.json().await.unwrap();
    assert_eq!(seal["format"], "rathaus-seal/1", "{seal}");
    assert_eq!(seal["sha256"], sha256_hex(TEXT.as_bytes()));
    assert_eq!(seal["size"], TEXT.len());
    assert_eq!(seal["document"], id.as_str());
    assert_eq!(seal["title"], "Vermerk Hundehaltung");
    assert_eq!(seal["issuer"], ISSUER);
    assert!(!seal["signature"].as_str().unwrap().is_empty());
    // The Vorgang shows it sealed.
    let rec = get_json(app.url(&format!("/api/v1/cases/{case}/record")), &clerk).await;
    let d = rec["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id.as_str())
        .expect("the document is in the Vorgang");
    assert_eq!(d["versions"][0]["sealed"], true, "{d}");

    // Anybody checks the bytes: filed here, seal valid.
    let verify = |bytes: Vec<u8>| {
        let url = app.url("/api/v1/seals/verify");
        async move {
            client()
                .post(url)
                .header("content-type", "application/octet-stream")
                .body(bytes)
                .send()
                .await
                .unwrap()
        }
    };
    let (s, v) = status_json(verify(TEXT.as_bytes().to_vec()).await).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["known"], true, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["outcome"], "seal.valid", "{v}");
    assert_eq!(v["issuer"], ISSUER, "{v}");
    assert_eq!(v["sha256"], sha256_hex(TEXT.as_bytes()));
    assert_eq!(v["size"], TEXT.len());
    assert_eq!(v["title"], "Vermerk Hundehaltung");
    assert_eq!(
        v["certificate_fingerprint"].as_str().unwrap().len(),
        64,
        "{v}"
    );
    assert!(v["sealed_at"].is_string(), "{v}");
    // One byte changed: unknown, nothing valid.
    let mut changed = TEXT.as_bytes().to_vec();
    changed[10] ^= 0x01;
    let (s, v) = status_json(verify(changed).await).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["known"], false, "{v}");
    assert_eq!(v["valid"], false, "{v}");
    assert!(v["outcome"].is_null(), "no seal for unknown bytes: {v}");
    assert!(v["title"].is_null(), "nothing told of unknown bytes: {v}");
    // The PDF is sealed and verified too.
    let (_, v) = status_json(verify(pdf.clone()).await).await;
    assert_eq!(
        (v["known"].clone(), v["valid"].clone()),
        (json!(true), json!(true)),
        "{v}"
    );
    // An empty body is a clear 422.
    let (s, v) = status_json(verify(vec![]).await).await;
    assert_eq!(s, 422, "{v}");
    // Another municipality does not know the document.
    let (s, v) = status_json(
        client()
            .post(app.url("/api/v1/seals/verify"))
            .header("host", OTHER_HOST)
            .body(TEXT.as_bytes().to_vec())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["known"].clone(), v["valid"].clone()),
        (json!(false), json!(false)),
        "Nachbardorf does not know Musterstadt's document: {v}"
    );
    // More than 25 MB: 413 in JSON, for filing and for checking.
    let big = vec![b'a'; 25 * 1024 * 1024 + 1];
    let (s, b) =
        status_json(file(&app, &clerk, &record, "Zu groß", "gross.txt", big.clone()).await).await;
    assert_eq!(s, 413, "{b}");
    assert_eq!(b["error"]["code"], "body.too_large", "{b}");
    let (s, b) = status_json(verify(big).await).await;
    assert_eq!(s, 413, "{b}");

    // The certificate for offline checks, also on the public page's link.
    let r = client()
        .get(app.url("/api/v1/seals/certificate"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-pem-file");
    let pem = r.text().await.unwrap();
    assert!(
        pem.starts_with("-----BEGIN CERTIFICATE-----")
            && pem.trim_end().ends_with("-----END CERTIFICATE-----"),
        "{pem}"
    );
    assert!(
        pem.contains(seal["certificate"].as_str().unwrap().trim()),
        "the seal's certificate is the one published"
    );
    let (s, page_pem) = app.get_text("/pruefen/zertifikat.pem").await;
    assert_eq!(s, 200);
    assert_eq!(page_pem, pem);

    messages.assert_clear();
    app.stop().await;
}

// ------------------------------------------------------------------ 2

#[tokio::test]
async fn the_binary_checks_a_seal_offline_without_a_database() {
    let app = TestApp::spawn().await;
    grant_steueramt(&app).await;
    let clerk = token(&app, "sachbearbeitung@musterstadt.example").await;
    let (_, _, record, _) = hund_record(&app, &clerk, "records-work-0002").await;
    let pdf = tiny_pdf("Bescheid ueber die Hundesteuer 2026");
    let doc = filed(
        &app,
        &clerk,
        &record,
        "Bescheid Hundesteuer",
        "bescheid.pdf",
        &pdf,
    )
    .await;
    let id = doc["id"].as_str().unwrap().to_string();
    run_jobs(&app).await;
    let seal = seal_of(&app, &clerk, &id).await;
    let pem = client()
        .get(app.url("/api/v1/seals/certificate"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    app.stop().await;

    let dir = std::env::temp_dir().join(format!(
        "rathaus-verify-seal-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let doc_path = dir.join("bescheid.pdf");
    let seal_path = dir.join("bescheid.pdf.siegel.json");
    let cert_path = dir.join("siegelzertifikat.pem");
    std::fs::write(&doc_path, &pdf).unwrap();
    std::fs::write(&seal_path, &seal).unwrap();
    std::fs::write(&cert_path, &pem).unwrap();
    let data_dir = dir.join("data");
    let run = |document: &std::path::Path, seal: &std::path::Path, database: Option<&str>| {
        let mut c = crate::cli::bin();
        c.current_dir(&dir).env("RATHAUS_DATA_DIR", &data_dir);
        if let Some(url) = database {
            c.env("RATHAUS_DATABASE_URL", url);
        }
        let out = c
            .args(["admin", "verify-seal"])
            .arg(document)
            .arg("--seal")
            .arg(seal)
            .arg("--cert")
            .arg(&cert_path)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (
            out.status,
            String::from_utf8_lossy(&out.stdout).to_string(),
            text,
        )
    };

    // No database configured: valid, exit 0, and nothing was opened.
    let (status, stdout, all) = run(&doc_path, &seal_path, None);
    assert!(status.success(), "valid seal: {all}");
    assert!(stdout.contains("outcome\tseal.valid"), "{all}");
    assert!(stdout.contains(&format!("issuer\t{ISSUER}")), "{all}");
    assert!(
        stdout.contains(&format!("sha256\t{}", sha256_hex(&pdf))),
        "{all}"
    );
    assert!(stdout.contains("title\tBescheid Hundesteuer"), "{all}");
    assert!(
        !data_dir.exists(),
        "the offline check creates no data dir, database or key"
    );
    // A database that cannot be reached does not matter either.
    let (status, _, all) = run(
        &doc_path,
        &seal_path,
        Some("postgres://nobody@127.0.0.1:9/nirgends"),
    );
    assert!(status.success(), "offline means no connection: {all}");

    // One byte of the document changed: not valid, exit status 1, the outcome printed.
    let mut changed = pdf.clone();
    let at = changed.len() / 2;
    changed[at] ^= 0x20;
    let changed_path = dir.join("bescheid-geaendert.pdf");
    std::fs::write(&changed_path, &changed).unwrap();
    let (status, _, all) = run(&changed_path, &seal_path, None);
    assert!(!status.success(), "a changed document fails: {all}");
    assert_eq!(status.code(), Some(1), "{all}");
    assert!(all.contains("seal.content_changed"), "{all}");
    assert!(!all.contains("seal.valid"), "{all}");

    // The seal file changed (another title): the signature does not hold.
    let mut forged: Value = serde_json::from_slice(&seal).unwrap();
    forged["title"] = json!("Bescheid Hundesteuer (erlassen)");
    let forged_path = dir.join("gefaelscht.siegel.json");
    std::fs::write(&forged_path, serde_json::to_vec_pretty(&forged).unwrap()).unwrap();
    let (status, _, all) = run(&doc_path, &forged_path, None);
    assert!(!status.success(), "a changed seal fails: {all}");
    assert!(all.contains("seal.signature_invalid"), "{all}");

    // A certificate of another authority: the seal is not trusted.
    let other_pem = {
        use rathaus_standards::seal::{SealAlgorithm, SealKey, SealSubject};
        SealKey::generate(
            SealAlgorithm::Ed25519,
            &SealSubject::new("Gemeinde Anderswo".to_string()),
            chrono::Utc::now(),
            10,
        )
        .unwrap()
        .certificate_pem()
        .to_string()
    };
    std::fs::write(&cert_path, other_pem).unwrap();
    let (status, _, all) = run(&doc_path, &seal_path, None);
    assert!(!status.success(), "a foreign certificate: {all}");
    assert!(all.contains("seal.unknown_certificate"), "{all}");
    assert!(!data_dir.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

// ------------------------------------------------------------------ 3

#[tokio::test]
async fn the_public_check_page_says_whether_a_document_is_genuine() {
    let app = TestApp::spawn().await;
    grant_steueramt(&app).await;
    let clerk = token(&app, "sachbearbeitung@musterstadt.example").await;
    let (_, _, record, _) = hund_record(&app, &clerk, "records-work-0003").await;
    let doc = filed(
        &app,
        &clerk,
        &record,
        "Vermerk Hundehaltung",
        "vermerk.txt",
        TEXT.as_bytes(),
    )
    .await;
    run_jobs(&app).await;
    let seal = seal_of(&app, &clerk, doc["id"].as_str().unwrap()).await;

    // Nobody logged in: the form with its CSRF token, no script of its own.
    let browser = client();
    let r = browser
        .get(app.url("/pruefen"))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r
        .headers()
        .get("content-security-policy")
        .expect("a Content-Security-Policy on /pruefen")
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = r.text().await.unwrap();
    let csrf = csrf_of(&html).expect("the form carries a CSRF token");
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");
    assert!(html.contains("name=\"document\"") && html.contains("name=\"seal\""));
    assert!(html.contains("href=\"/pruefen/zertifikat.pem\""));
    for (at, _) in html.match_indices("<script") {
        let tag = &html[at..at + html[at..].find('>').unwrap()];
        assert!(tag.contains(" src="), "no inline script: {tag}");
    }
    for handler in [
        " onclick=",
        " onload=",
        " onsubmit=",
        " onchange=",
        "javascript:",
    ] {
        assert!(!html.contains(handler), "no inline handler {handler}");
    }

    let post = |form: Form| {
        let req = browser
            .post(app.url("/pruefen"))
            .header("accept-language", "de")
            .multipart(form);
        async move { req.send().await.unwrap() }
    };
    let doc_part = |bytes: &[u8]| {
        Part::bytes(bytes.to_vec())
            .file_name("vermerk.txt")
            .mime_str("text/plain")
            .unwrap()
    };
    let seal_part = || {
        Part::bytes(seal.clone())
            .file_name("vermerk.txt.siegel.json")
            .mime_str("application/json")
            .unwrap()
    };

    // Document and seal file: genuine.
    let r = post(
        Form::new()
            .text("csrf_token", csrf.clone())
            .part("document", doc_part(TEXT.as_bytes()))
            .part("seal", seal_part()),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("content-security-policy"));
    let html = r.text().await.unwrap();
    assert!(html.contains(GENUINE_DE), "{html}");
    assert!(html.contains(ISSUER), "the issuer is named");
    assert!(
        html.contains(&sha256_hex(TEXT.as_bytes())),
        "the SHA-256 is shown"
    );
    assert!(
        html.contains("Vermerk Hundehaltung"),
        "the sealed title is shown"
    );

    // The document alone: found by its hash, genuine too.
    let r = post(
        Form::new()
            .text("csrf_token", csrf.clone())
            .part("document", doc_part(TEXT.as_bytes())),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains(GENUINE_DE));

    // Changed with its seal: changed, not genuine.
    let mut changed = TEXT.as_bytes().to_vec();
    changed[3] ^= 0x01;
    let r = post(
        Form::new()
            .text("csrf_token", csrf.clone())
            .part("document", doc_part(&changed))
            .part("seal", seal_part()),
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Verändert: Das Dokument stimmt nicht mit dem Siegel überein."),
        "{html}"
    );
    assert!(!html.contains(GENUINE_DE));

    // Without a document: 422 with the message, the form again.
    let r = post(
        Form::new().text("csrf_token", csrf.clone()).part(
            "document",
            Part::bytes(Vec::new())
                .file_name("")
                .mime_str("application/octet-stream")
                .unwrap(),
        ),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.headers().contains_key("content-security-policy"));
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Bitte wählen Sie das Dokument aus, das geprüft werden soll."),
        "{html}"
    );
    assert!(csrf_of(&html).is_some(), "the form is shown again");

    // A broken seal file: 422, said so.
    let r = post(
        Form::new()
            .text("csrf_token", csrf.clone())
            .part("document", doc_part(TEXT.as_bytes()))
            .part(
                "seal",
                Part::bytes(b"{\"kein\": \"siegel\"}".to_vec()).file_name("x.siegel.json"),
            ),
    )
    .await;
    assert_eq!(r.status(), 422, "a seal file that is none");

    // Checked at another municipality: the seal is not theirs.
    let neighbour = client();
    let html = neighbour
        .get(app.url("/pruefen"))
        .header("host", OTHER_HOST)
        .header("accept-language", "de")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = neighbour
        .post(app.url("/pruefen"))
        .header("host", OTHER_HOST)
        .header("accept-language", "de")
        .multipart(
            Form::new()
                .text("csrf_token", csrf_of(&html).unwrap())
                .part("document", doc_part(TEXT.as_bytes()))
                .part("seal", seal_part()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Fremd: Das Siegel stammt nicht von dieser Behörde."),
        "{html}"
    );
    assert!(!html.contains(GENUINE_DE));

    // Without the CSRF token: refused.
    let r = post(Form::new().part("document", doc_part(TEXT.as_bytes()))).await;
    assert_eq!(r.status(), 403, "no CSRF token, no check");
    // Another browser's token does not fit this session.
    let r = client()
        .post(app.url("/pruefen"))
        .multipart(
            Form::new()
                .text("csrf_token", csrf.clone())
                .part("document", doc_part(TEXT.as_bytes())),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "the token belongs to its session");
    app.stop().await;
}

// ------------------------------------------------------------------ 4

#[tokio::test]
async fn the_full_text_search_finds_what_the_caller_may_see() {
    let app = TestApp::spawn().await;
    grant_steueramt(&app).await;
    let clerk = token(&app, "sachbearbeitung@musterstadt.example").await;
    let admin = token(&app, "admin@musterstadt.example").await;
    let outsider = other_clerk(&app).await;
    let (_, reference, record, number) = hund_record(&app, &clerk, "records-work-0004").await;
    let doc = filed(
        &app,
        &clerk,
        &record,
        "Vermerk Hundehaltung",
        "vermerk.txt",
        TEXT.as_bytes(),
    )
    .await;
    let pdf = filed(
        &app,
        &clerk,
        &record,
        "Bescheid",
        "bescheid.pdf",
        &tiny_pdf("Festsetzung der Wachtelkoenigsteuer"),
    )
    .await;
    run_jobs(&app).await;

    let search = |token: &str, q: &str| {
        let req = client()
            .get(app.url("/api/v1/records/search"))
            .query(&[("q", q)])
            .bearer_auth(token);
        async move { status_json(req.send().await.unwrap()).await }
    };

    let (s, r) = search(&admin, "Quittengelee").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["total"], 1, "{r}");
    let hit = &r["hits"][0];
    assert_eq!(hit["document"], doc["id"], "{r}");
    assert_eq!(hit["record"], record.as_str());
    assert_eq!(hit["file_number"], number.as_str());
    assert_eq!(hit["title"], "Vermerk Hundehaltung");
    let snippet = hit["snippet"].as_str().unwrap();
    assert!(snippet.contains("Quittengelee"), "{hit}");
    let marked: Vec<&str> = hit["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| &snippet[h[0].as_u64().unwrap() as usize..h[1].as_u64().unwrap() as usize])
        .collect();
    assert!(
        marked
            .iter()
            .any(|m| m.eq_ignore_ascii_case("Quittengelee")),
        "the match is highlighted: {marked:?} in {snippet}"
    );
    // Lower case and an umlaut word find it too.
    let (_, r) = search(&admin, "quittengelee").await;
    assert_eq!(r["total"], 1, "{r}");
    let (_, r) = search(&admin, "Zaunkönigweg").await;
    assert_eq!(r["total"], 1, "{r}");
    // The PDF's text layer is searched.
    let (_, r) = search(&admin, "Wachtelkoenigsteuer").await;
    assert_eq!(r["total"], 1, "the PDF text layer is indexed: {r}");
    assert_eq!(r["hits"][0]["document"], pdf["id"]);
    // The clerk of the case's unit finds it; by the reference as written too.
    let (_, r) = search(&clerk, "Schlehenmus").await;
    assert_eq!(r["total"], 1, "{r}");
    let (_, r) = search(&admin, &reference).await;
    assert!(
        r["total"].as_u64().unwrap() >= 1
            && r["hits"]
                .as_array()
                .unwrap()
                .iter()
                .all(|h| h["record"] == record.as_str()),
        "the reference finds the Vorgang's documents: {r}"
    );
    // Umlauts folded: `oe` finds `ö`, and the original word is highlighted.
    let (_, r) = search(&admin, "Zaunkoenigweg").await;
    assert_eq!(r["total"], 1, "{r}");
    let hit = &r["hits"][0];
    let snippet = hit["snippet"].as_str().unwrap();
    let h = &hit["highlights"][0];
    assert_eq!(
        snippet.get(h[0].as_u64().unwrap() as usize..h[1].as_u64().unwrap() as usize),
        Some("Zaunkönigweg"),
        "byte ranges fit the snippet: {hit}"
    );
    // Another municipality's administration finds nothing of Musterstadt's.
    let neighbour = token_at(
        &app,
        "admin@nachbardorf.example",
        "nachbar-passwort",
        Some(OTHER_HOST),
    )
    .await;
    let (s, r) = status_json(
        client()
            .get(app.url("/api/v1/records/search?q=Quittengelee"))
            .header("host", OTHER_HOST)
            .bearer_auth(&neighbour)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, r["total"].clone()), (200, json!(0)), "{r}");
    // A clerk of another unit sees nothing of it.
    let (s, r) = search(&outsider, "Quittengelee").await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["total"], 0, "{r}");
    assert!(r["hits"].as_array().unwrap().is_empty(), "{r}");
    let (_, r) = search(&outsider, &reference).await;
    assert_eq!(r["total"], 0, "not by the reference either: {r}");
    // Nothing found is an empty list.
    let (s, r) = search(&admin, "Marzipankartoffel").await;
    assert_eq!((s, r["total"].clone()), (200, json!(0)), "{r}");

    // Thirteen words: refused, naming `q`.
    let q = "eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn";
    let (s, r) = search(&admin, q).await;
    assert!(s == 400 || s == 422, "{s} {r}");
    assert_eq!(r["error"]["status"], s);
    let fields = r["error"]["fields"].as_array().unwrap();
    assert!(
        fields.iter().any(|f| f["field"] == "q"),
        "the error names q: {r}"
    );
    assert!(
        r["error"]["message"].as_str().unwrap().contains("12")
            || fields
                .iter()
                .any(|f| f["message"].as_str().unwrap_or("").contains("12")),
        "the limit is named: {r}"
    );
    // Twelve words are fine.
    let q = "eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf";
    let (s, r) = search(&admin, q).await;
    assert_eq!(s, 200, "{r}");
    // Empty, blank and overlong queries: refused, naming `q`.
    for q in ["", "   "] {
        let (s, r) = search(&admin, q).await;
        assert!(s == 400 || s == 422, "q {q:?}: {s} {r}");
        assert!(
            r["error"]["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["field"] == "q"),
            "{r}"
        );
    }
    let (s, r) = search(&admin, &"a".repeat(201)).await;
    assert!(s == 400 || s == 422, "201 characters: {s} {r}");
    // Without a token: 401.
    let r = client()
        .get(app.url("/api/v1/records/search?q=Quittengelee"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    app.stop().await;
}

// ------------------------------------------------------------------ 5

#[tokio::test]
async fn an_umlaufmappe_goes_round_with_its_steps_in_the_case_history() {
    let app = TestApp::spawn().await;
    grant_steueramt(&app).await;
    let clerk = token(&app, "sachbearbeitung@musterstadt.example").await;
    let admin = token(&app, "admin@musterstadt.example").await;
    let mut messages = Messages::default();
    let (case, _, record, _) = hund_record(&app, &clerk, "records-work-0005").await;
    let clerk_id = get_json(app.url("/api/v1/me"), &clerk).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin_id = get_json(app.url("/api/v1/me"), &admin).await["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Nobody, or a stranger: refused.
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/records/{record}/circulations"),
            &clerk,
            json!({"title": "Bitte abzeichnen", "people": []}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/records/{record}/circulations"),
            &clerk,
            json!({"title": "Bitte abzeichnen", "people": [uuid::Uuid::new_v4()]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "an unknown person: {b}");
    // Only clerks and the Fachadministration take part: an editor could
    // never sign, the Umlaufmappe would stop at them.
    let editor = token(&app, "redaktion@musterstadt.example").await;
    let editor_id = get_json(app.url("/api/v1/me"), &editor).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/records/{record}/circulations"),
            &clerk,
            json!({"title": "Bitte abzeichnen", "people": [clerk_id, editor_id]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "an editor in an Umlaufmappe: {b}");
    assert_eq!(b["error"]["fields"][0]["field"], "people", "{b}");
    // A document of another Vorgang is not what this one circulates.
    let (_, _, other_record, _) = hund_record(&app, &clerk, "records-work-0051").await;
    let foreign = filed(
        &app,
        &clerk,
        &other_record,
        "Fremder Vermerk",
        "fremd.txt",
        TEXT.as_bytes(),
    )
    .await;
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/records/{record}/circulations"),
            &clerk,
            json!({"title": "Bitte abzeichnen", "people": [admin_id], "document": foreign["id"]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["fields"][0]["field"], "document", "{b}");

    let (s, c) = status_json(
        post_json(
            &app,
            &format!("/api/v1/records/{record}/circulations"),
            &clerk,
            json!({
                "title": "Hundesteuer: Ermäßigung prüfen",
                "instruction": "Bitte zeichnen Sie ab oder geben Sie zurück.",
                "people": [clerk_id, admin_id],
            }),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["status"], "running");
    assert_eq!(c["record"], record.as_str());
    assert_eq!(c["started_by"], clerk_id.as_str());
    assert_eq!(c["steps"][0]["person"], clerk_id.as_str());
    assert_eq!(c["steps"][0]["status"], "current");
    assert_eq!(c["steps"][0]["position"], 1);
    assert_eq!(c["steps"][1]["person"], admin_id.as_str());
    assert_eq!(c["steps"][1]["status"], "waiting");
    let id = c["id"].as_str().unwrap().to_string();

    // The clerk's list: waiting for them, and started by them.
    let mine = get_json(app.url("/api/v1/circulations"), &clerk).await;
    assert!(
        mine["waiting"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == id.as_str()),
        "waiting for the clerk: {mine}"
    );
    assert!(
        mine["started"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == id.as_str()),
        "started by the clerk: {mine}"
    );
    let theirs = get_json(app.url("/api/v1/circulations"), &admin).await;
    assert!(
        !theirs["waiting"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == id.as_str()),
        "not yet the admin's turn: {theirs}"
    );
    let of_record = get_json(
        app.url(&format!("/api/v1/records/{record}/circulations")),
        &clerk,
    )
    .await;
    assert_eq!(
        of_record["circulations"][0]["id"],
        id.as_str(),
        "{of_record}"
    );

    // Not the admin's step yet.
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/circulations/{id}/sign"),
            &admin,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 409, "not your step: {b}");
    messages.note("sign out of turn", &b);
    // The clerk signs.
    let (s, c) = status_json(
        post_json(
            &app,
            &format!("/api/v1/circulations/{id}/sign"),
            &clerk,
            json!({"comment": "Gesehen."}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["status"], "running");
    assert_eq!(c["steps"][0]["status"], "signed");
    assert_eq!(c["steps"][0]["comment"], "Gesehen.");
    assert!(c["steps"][0]["done_at"].is_string());
    assert_eq!(c["steps"][1]["status"], "current");
    let theirs = get_json(app.url("/api/v1/circulations"), &admin).await;
    assert!(
        theirs["waiting"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == id.as_str()),
        "now waiting for the admin: {theirs}"
    );
    // The clerk cannot sign twice.
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/circulations/{id}/sign"),
            &clerk,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 409, "{b}");
    // Returning needs a comment.
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/circulations/{id}/return"),
            &admin,
            json!({"comment": ""}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "a return says why: {b}");
    let (s, c) = status_json(
        post_json(
            &app,
            &format!("/api/v1/circulations/{id}/return"),
            &admin,
            json!({"comment": "Nachweis der Ermäßigung fehlt."}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["status"], "returned", "{c}");
    assert_eq!(c["steps"][1]["status"], "returned");
    assert_eq!(c["steps"][1]["comment"], "Nachweis der Ermäßigung fehlt.");
    let one = get_json(app.url(&format!("/api/v1/circulations/{id}")), &clerk).await;
    assert_eq!(one["status"], "returned", "{one}");
    // Over: nothing more to sign, nothing to withdraw.
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/circulations/{id}/sign"),
            &admin,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 409, "{b}");
    messages.note("sign a returned Umlaufmappe", &b);
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/circulations/{id}/cancel"),
            &clerk,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 409, "{b}");
    let mine = get_json(app.url("/api/v1/circulations"), &clerk).await;
    assert!(
        !mine["waiting"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == id.as_str()),
        "nothing waits any more: {mine}"
    );
    // Somebody neither in it nor with access to the Vorgang sees nothing.
    let outsider = other_clerk(&app).await;
    let r = get(&app, &format!("/api/v1/circulations/{id}"), &outsider).await;
    assert_eq!(r.status(), 404, "not shown to an outsider");

    // One that runs to its end: completed; only its sender withdraws.
    let (s, c) = status_json(
        post_json(
            &app,
            &format!("/api/v1/records/{record}/circulations"),
            &clerk,
            json!({"title": "Zur Kenntnis", "people": [admin_id, clerk_id]}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{c}");
    let second = c["id"].as_str().unwrap().to_string();
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/circulations/{second}/cancel"),
            &admin,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 409, "only the sender withdraws: {b}");
    messages.note("withdraw another's Umlaufmappe", &b);
    for who in [&admin, &clerk] {
        let (s, c) = status_json(
            post_json(
                &app,
                &format!("/api/v1/circulations/{second}/sign"),
                who,
                json!({}),
            )
            .await,
        )
        .await;
        assert_eq!(s, 200, "{c}");
    }
    let one = get_json(app.url(&format!("/api/v1/circulations/{second}")), &admin).await;
    assert_eq!(one["status"], "completed", "{one}");
    assert!(
        one["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "signed"),
        "{one}"
    );

    // The case's history has each step, by whom, with the comment.
    let audit = get_json(app.url(&format!("/api/v1/cases/{case}/audit")), &clerk).await;
    let entries = audit["entries"].as_array().expect("audit entries");
    let of = |action: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("{action} in the case's audit: {audit}"))
    };
    assert_eq!(
        of("circulation.started")["detail"]["circulation"],
        id.as_str()
    );
    assert_eq!(of("circulation.signed")["detail"]["step"], 1);
    let returned = of("circulation.returned");
    assert_eq!(
        returned["detail"]["comment"],
        "Nachweis der Ermäßigung fehlt."
    );
    assert_eq!(returned["detail"]["status"], "returned");
    let pos = |a: &str| entries.iter().position(|e| e["action"] == a).unwrap();
    assert!(
        pos("circulation.started") < pos("circulation.signed")
            && pos("circulation.signed") < pos("circulation.returned"),
        "in order: {audit}"
    );
    for e in entries.iter().skip(1) {
        assert_eq!(e["hash"].as_str().unwrap().len(), 64, "{e}");
    }

    messages.assert_clear();
    app.stop().await;
}

// ------------------------------------------------------------------ 6

/// An RFC 5322 mail (CRLF) from Erika quoting `reference`.
fn mail(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Erika Mustermann <erika@example.org>\r\n\
         To: poststelle@musterstadt.example\r\n\
         Subject: {subject}\r\n\
         Date: Mon, 12 Jan 2026 09:30:00 +0100\r\n\
         Message-ID: <{}@example.org>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\
         \r\n\
         {body}\r\n",
        uuid::Uuid::new_v4().simple()
    )
    .into_bytes()
}

async fn intray_post(app: &TestApp, token: &str, name: &str, body: Vec<u8>) -> reqwest::Response {
    client()
        .post(app.url("/api/v1/intray"))
        .query(&[("name", name)])
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn incoming_mail_is_proposed_by_its_reference_and_filed() {
    let app = TestApp::spawn().await;
    grant_steueramt(&app).await;
    let clerk = token(&app, "sachbearbeitung@musterstadt.example").await;
    let admin = token(&app, "admin@musterstadt.example").await;
    let mut messages = Messages::default();
    let (case, reference, record, number) = hund_record(&app, &clerk, "records-work-0006").await;

    let subject = format!("Nachreichung zu {reference}");
    let letter = mail(
        &subject,
        &format!(
            "Sehr geehrte Damen und Herren,\r\n\r\nzu meinem Antrag mit dem Aktenzeichen {reference} reiche ich den Nachweis der Haftpflichtversicherung für Bello nach.\r\n\r\nMit freundlichen Grüßen\r\nErika Mustermann"
        ),
    );
    let (s, item) = status_json(intray_post(&app, &clerk, "brief.eml", letter.clone()).await).await;
    assert_eq!(s, 201, "{item}");
    assert_eq!(item["status"], "open");
    assert_eq!(item["kind"], "mail", "{item}");
    assert_eq!(item["mime"], "message/rfc822");
    assert_eq!(item["file_name"], "brief.eml");
    assert_eq!(item["sha256"], sha256_hex(&letter));
    assert!(
        item["sender"]
            .as_str()
            .unwrap_or("")
            .contains("erika@example.org"),
        "{item}"
    );
    assert_eq!(item["subject"], subject.as_str());
    assert!(
        item["excerpt"]
            .as_str()
            .unwrap()
            .contains("Haftpflichtversicherung"),
        "{item}"
    );
    let first = &item["proposals"][0];
    assert_eq!(first["source"], "reference", "{item}");
    assert_eq!(first["record"], record.as_str(), "{item}");
    assert_eq!(first["file_number"], number.as_str(), "{item}");
    assert_eq!(first["reason"], reference.as_str(), "{item}");
    let id = item["id"].as_str().unwrap().to_string();

    // Listed, and proposed first among the candidates.
    let list = get_json(app.url("/api/v1/intray"), &clerk).await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id.as_str()),
        "{list}"
    );
    let view = get_json(app.url(&format!("/api/v1/intray/{id}")), &clerk).await;
    assert_eq!(view["candidates"][0]["id"], record.as_str(), "{view}");
    let r = get(&app, &format!("/api/v1/intray/{id}/content"), &clerk).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), letter.as_slice());

    // HTML is no mail.
    let (s, b) = status_json(
        intray_post(
            &app,
            &clerk,
            "brief.html",
            b"<html><body>Hallo</body></html>".to_vec(),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "{b}");
    // A person confirms where it goes.
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/intray/{id}/file"),
            &clerk,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "without a Vorgang: {b}");
    let (s, filed) = status_json(
        post_json(
            &app,
            &format!("/api/v1/intray/{id}/file"),
            &clerk,
            json!({"record": record}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{filed}");
    assert_eq!(filed["item"]["status"], "filed", "{filed}");
    assert_eq!(filed["item"]["record"], record.as_str());
    assert_eq!(filed["document"]["kind"], "incoming", "{filed}");
    assert_eq!(
        filed["document"]["title"],
        subject.as_str(),
        "the subject is the title"
    );
    assert_eq!(
        filed["document"]["versions"][0]["sha256"],
        sha256_hex(&letter)
    );
    let doc = filed["document"]["id"].as_str().unwrap().to_string();
    assert_eq!(filed["item"]["document"], doc.as_str());
    let rec = get_json(app.url(&format!("/api/v1/cases/{case}/record")), &clerk).await;
    let d = rec["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == doc.as_str())
        .unwrap_or_else(|| panic!("the mail is in the Vorgang: {rec}"));
    assert_eq!(d["kind"], "incoming");
    let r = get(&app, &format!("/api/v1/records/documents/{doc}"), &clerk).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), letter.as_slice());
    // Filed by the reference typed in (or the file number) just as well.
    let (s, second) = status_json(
        intray_post(
            &app,
            &clerk,
            "nachtrag.eml",
            mail("Nachtrag", "Anbei noch das Foto von Bello."),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{second}");
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/intray/{}/file", second["id"].as_str().unwrap()),
            &clerk,
            json!({"file_number": "MS-1999-999999"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "an unknown reference: {b}");
    assert_eq!(b["error"]["fields"][0]["field"], "record", "{b}");
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/intray/{}/file", second["id"].as_str().unwrap()),
            &clerk,
            json!({"file_number": reference, "title": "Foto des Hundes"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["item"]["record"], record.as_str(), "{b}");
    assert_eq!(b["document"]["title"], "Foto des Hundes");

    // Filed once only, and gone from the open list.
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/intray/{id}/file"),
            &clerk,
            json!({"record": record}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 409, "{b}");
    messages.note("file an item twice", &b);
    let list = get_json(app.url("/api/v1/intray"), &clerk).await;
    assert!(
        !list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == id.as_str()),
        "{list}"
    );
    // The filed mail is sealed and searchable like any document.
    run_jobs(&app).await;
    let r = client()
        .post(app.url("/api/v1/seals/verify"))
        .body(letter.clone())
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["known"].clone(), v["valid"].clone()),
        (json!(true), json!(true)),
        "{v}"
    );
    let hits = get_json(
        app.url("/api/v1/records/search?q=Haftpflichtversicherung"),
        &clerk,
    )
    .await;
    assert_eq!(hits["total"], 1, "{hits}");

    // Rules: the Fachadministration adds them, clerks read them.
    let rule = json!({
        "name": "Hundesteuer-Post",
        "priority": 10,
        "sender": "@example.org",
        "keywords": ["Hundesteuer"],
        "target": {"kind": "plan_node", "code": "32.10.05"},
    });
    let (s, b) =
        status_json(post_json(&app, "/api/v1/intray/rules", &clerk, rule.clone()).await).await;
    assert_eq!(s, 403, "{b}");
    let (s, added) = status_json(post_json(&app, "/api/v1/intray/rules", &admin, rule).await).await;
    assert_eq!(s, 201, "{added}");
    assert_eq!(added["name"], "Hundesteuer-Post");
    assert_eq!(added["target"]["code"], "32.10.05", "{added}");
    let rule_id = added["id"].as_str().unwrap().to_string();
    let (s, b) = status_json(
        post_json(
            &app,
            "/api/v1/intray/rules",
            &admin,
            json!({"name": "Unbekannt", "keywords": ["x"], "target": {"kind": "plan_node", "code": "99.99"}}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "an unknown plan node: {b}");
    let rules = get_json(app.url("/api/v1/intray/rules"), &clerk).await;
    assert!(
        rules["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == rule_id.as_str()),
        "{rules}"
    );
    // A mail without a reference: the rule proposes the plan node, and the
    // candidates are its Vorgänge.
    let (s, item) = status_json(
        intray_post(
            &app,
            &clerk,
            "frage.eml",
            mail(
                "Frage zur Hundesteuer",
                "Guten Tag, wie hoch ist die Hundesteuer für einen zweiten Hund?",
            ),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{item}");
    assert!(
        item["proposals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["source"] == "rule"
                && p["plan_code"] == "32.10.05"
                && p["reason"] == "Hundesteuer-Post"),
        "{item}"
    );
    let view = get_json(
        app.url(&format!("/api/v1/intray/{}", item["id"].as_str().unwrap())),
        &clerk,
    )
    .await;
    assert!(
        view["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == record.as_str()),
        "an open Vorgang of the node is a candidate: {view}"
    );
    // It can be discarded.
    let r = client()
        .post(app.url(&format!(
            "/api/v1/intray/{}/discard",
            item["id"].as_str().unwrap()
        )))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = client()
        .delete(app.url(&format!("/api/v1/intray/rules/{rule_id}")))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "clerks do not delete rules");

    // The classifier: its measurement for everybody who works the in-tray.
    let (s, cl) = status_json(get(&app, "/api/v1/intray/classifier", &clerk).await).await;
    assert_eq!(s, 200, "{cl}");
    assert_eq!(cl["samples"], 0, "never trained: {cl}");
    assert!(cl["trained_at"].is_null(), "{cl}");
    assert!(
        cl["accuracy"].is_null() && cl["baseline_accuracy"].is_null(),
        "{cl}"
    );
    assert!(cl["available"].as_u64().is_some(), "{cl}");
    let r = client()
        .post(app.url("/api/v1/intray/classifier/train"))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "clerks do not train");
    let r = client()
        .post(app.url("/api/v1/intray/classifier/train"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let (s, b) = status_json(r).await;
    assert!(
        s == 200 || s == 409,
        "training on a handful of documents: trained or refused clearly: {s} {b}"
    );
    if s == 409 {
        messages.note("train with too few documents", &b);
    }

    messages.assert_clear();
    app.stop().await;
}

// ------------------------------------------------------------------ 7

#[tokio::test]
async fn a_plan_change_takes_effect_when_a_second_admin_approves() {
    let app = TestApp::spawn().await;
    let clerk = token(&app, "sachbearbeitung@musterstadt.example").await;
    let admin = token(&app, "admin@musterstadt.example").await;
    let admin2 = token(&app, "admin2@musterstadt.example").await;
    let mut messages = Messages::default();
    let admin2_id = get_json(app.url("/api/v1/me"), &admin2).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let change = json!({
        "action": "add_node",
        "code": "32.10.06",
        "title": "Zweitwohnungsteuer",
        "retention": {"years": 10, "trigger": "case_closed", "disposition": "V"},
    });

    let (s, b) =
        status_json(post_json(&app, "/api/v1/records/plan/changes", &clerk, change.clone()).await)
            .await;
    assert_eq!(s, 403, "clerks change no plan: {b}");
    let (s, b) = status_json(
        post_json(
            &app,
            "/api/v1/records/plan/changes",
            &admin,
            json!({"action": "add_node", "code": "32.10.05", "title": "Doppelt"}),
        )
        .await,
    )
    .await;
    assert!(s == 409 || s == 422, "a code that exists: {s} {b}");
    messages.note("add an existing code", &b);
    let (s, b) = status_json(
        post_json(
            &app,
            "/api/v1/records/plan/changes",
            &admin,
            json!({"action": "add_node", "code": "32.x", "title": "Kaputt"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 422, "a code that is none: {b}");

    let (s, c) =
        status_json(post_json(&app, "/api/v1/records/plan/changes", &admin, change).await).await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["status"], "pending");
    assert_eq!(c["change"]["code"], "32.10.06");
    assert!(c["reviewed_by"].is_null());
    let id = c["id"].as_str().unwrap().to_string();
    // Not in effect yet.
    let plan = get_json(app.url("/api/v1/records/plan"), &admin).await;
    assert!(
        !plan["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["code"] == "32.10.06"),
        "pending changes are not in the plan"
    );
    let list = get_json(app.url("/api/v1/records/plan/changes"), &admin2).await;
    assert_eq!(
        list["changes"][0]["id"],
        id.as_str(),
        "pending first: {list}"
    );

    // Four eyes: not by the one who asked.
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/records/plan/changes/{id}/approve"),
            &admin,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["error"]["code"], "workflow", "{b}");
    messages.note("approve one's own plan change", &b);
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/records/plan/changes/{id}/approve"),
            &clerk,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 403, "{b}");

    let (s, c) = status_json(
        post_json(
            &app,
            &format!("/api/v1/records/plan/changes/{id}/approve"),
            &admin2,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["status"], "approved");
    assert_eq!(c["reviewed_by"], admin2_id.as_str());
    assert!(c["reviewed_at"].is_string());
    let plan = get_json(app.url("/api/v1/records/plan"), &clerk).await;
    let nodes = plan["nodes"].as_array().unwrap();
    let new = nodes
        .iter()
        .find(|n| n["code"] == "32.10.06")
        .unwrap_or_else(|| panic!("the new node is in the plan: {plan}"));
    let parent = nodes.iter().find(|n| n["code"] == "32.10").unwrap();
    assert_eq!(new["title"], "Zweitwohnungsteuer");
    assert_eq!(new["parent"], parent["id"], "under 32.10");
    assert_eq!(new["retention"]["years"], 10);
    assert_eq!(new["retention"]["disposition"], "V");
    assert_eq!(new["retention"]["trigger"], "case_closed");

    // Decided once only.
    let (s, b) = status_json(
        post_json(
            &app,
            &format!("/api/v1/records/plan/changes/{id}/approve"),
            &admin2,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 409, "{b}");
    messages.note("approve a decided plan change", &b);

    // The requester may withdraw (reject) a change of their own.
    let (s, c) = status_json(
        post_json(
            &app,
            "/api/v1/records/plan/changes",
            &admin,
            json!({"action": "update_node", "code": "32.10.06", "title": "Zweitwohnungsteuer (alt)"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 201, "{c}");
    let (s, c) = status_json(
        post_json(
            &app,
            &format!(
                "/api/v1/records/plan/changes/{}/reject",
                c["id"].as_str().unwrap()
            ),
            &admin,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["status"], "rejected");
    let plan = get_json(app.url("/api/v1/records/plan"), &clerk).await;
    let new = plan["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == "32.10.06")
        .unwrap();
    assert_eq!(
        new["title"], "Zweitwohnungsteuer",
        "a rejected change is not applied"
    );

    messages.assert_clear();
    app.stop().await;
}
