//! Anonymous disk filling and hostile uploads, over HTTP: every wizard step,
//! answer and API call below is what an attacker can send without an
//! account. Each is refused with a clear 4xx and stores nothing (counted in
//! the file store and in the rows), or — for hostile file names — is stored
//! under a sanitised name; the server stays healthy.

use chrono::{Duration, Utc};
use rathaus_app::UploadLimits;
use rathaus_storage::{files::ObjectInfo, prelude::*, uploads::TenantUsage};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{TestApp, client, csrf_of, location, publish_form, submitted, text};

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n";
const SERVICE: &str = "gewerbe-anmeldung";

/// Two steps: two file fields and a text field, then one more file field.
fn upload_form() -> Value {
    json!({
      "format": "rathaus.form/1",
      "key": "upload-test",
      "service": SERVICE,
      "definition": {
        "key": "upload_test", "title": {"de": "Hochladen testen", "en": "Test uploads"},
        "steps": [
          {"key": "eins", "title": {"de": "Eins", "en": "One"}, "items": [
            {"type": "field", "key": "name", "label": {"de": "Name", "en": "Name"}, "kind": "text"},
            {"type": "field", "key": "ausweis", "label": {"de": "Ausweis", "en": "ID card"}, "kind": "file"},
            {"type": "field", "key": "foto", "label": {"de": "Foto", "en": "Photo"}, "kind": "file"}
          ]},
          {"key": "zwei", "title": {"de": "Zwei", "en": "Two"}, "items": [
            {"type": "field", "key": "nachweis", "label": {"de": "Nachweis", "en": "Proof"}, "kind": "file"}
          ]}
        ]
      }
    })
}

async fn spawn(limits: Option<UploadLimits>, uploads_per_minute: u32) -> TestApp {
    let app = TestApp::spawn_with(|c| {
        if let Some(l) = limits {
            c.upload_limits = l;
        }
        c.uploads_per_minute = uploads_per_minute;
    })
    .await;
    publish_form(&app, &upload_form()).await;
    app
}

/// The uploads in the server's file store.
async fn stored(app: &TestApp) -> Vec<ObjectInfo> {
    app.files
        .list()
        .await
        .unwrap()
        .into_iter()
        .filter(|o| o.name.starts_with("uploads/"))
        .collect()
}

/// This server's uploads as the backend itself lists them, behind the
/// application's back: on the test S3 server the whole bucket through the S3
/// API (this server's keys are those below its prefix; none may sit at the
/// bucket's root), in a folder the paths below it.
async fn uploads_in_backend(app: &TestApp) -> Vec<String> {
    let keys = app.storage.backend_keys().await;
    let keys: Vec<String> = match &app.storage.prefix {
        Some(prefix) => {
            assert!(
                !keys.iter().any(|k| k.starts_with("tenants/")),
                "a key at the bucket's root, outside every prefix: {keys:?}"
            );
            keys.iter()
                .filter_map(|k| k.strip_prefix(&format!("{prefix}/")))
                .map(str::to_string)
                .collect()
        }
        None => keys,
    };
    keys.into_iter()
        .filter(|k| k.contains("/uploads/"))
        .collect()
}

/// The keys of `stored` uploads as the backend should hold them.
fn backend_keys_of(stored: &[ObjectInfo]) -> Vec<String> {
    let mut keys: Vec<String> = stored
        .iter()
        .map(|o| format!("tenants/{}/{}", o.tenant.0, o.name))
        .collect();
    keys.sort();
    keys
}

/// Rows of uploads, all tenants together.
async fn rows(app: &TestApp) -> TenantUsage {
    let usage = app
        .db
        .as_ref()
        .unwrap()
        .store
        .repo()
        .upload_usage()
        .await
        .unwrap();
    let mut all = TenantUsage::default();
    for u in usage.values() {
        for (into, from) in [
            (&mut all.drafts, u.drafts),
            (&mut all.applications, u.applications),
            (&mut all.answers, u.answers),
            (&mut all.documents, u.documents),
        ] {
            into.files += from.files;
            into.bytes += from.bytes;
        }
    }
    all
}

async fn assert_healthy(app: &TestApp) {
    for path in ["/healthz", "/readyz"] {
        assert_eq!(app.get(path).await.status(), 200, "{path} after the attack");
    }
}

/// A new draft in a new browser: (browser, csrf, path of step 1).
async fn draft(app: &TestApp) -> (reqwest::Client, String, String) {
    let browser = client();
    let start = format!("/leistungen/{SERVICE}/antrag");
    let page = text(&browser, app.url(&start)).await;
    let csrf = csrf_of(&page).unwrap();
    let r = browser
        .post(app.url(&start))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    (browser, csrf, location(&r))
}

fn pdf(name: &str) -> Part {
    Part::bytes(PDF.to_vec()).file_name(name.to_string())
}

async fn post(
    app: &TestApp,
    browser: &reqwest::Client,
    path: &str,
    form: Form,
) -> reqwest::Response {
    browser
        .post(app.url(path))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

fn step_form(csrf: &str, action: &str) -> Form {
    // Names as an attacker sends them: raw, not percent-encoded.
    Form::new()
        .percent_encode_noop()
        .text("csrf_token", csrf.to_string())
        .text("_action", action.to_string())
}

/// The kept reference of a file field on a step page (`<id>/<name>`).
fn kept_value(html: &str, field: &str) -> Option<String> {
    let marker = format!("type=\"hidden\" name=\"{field}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..start + html[start..].find('"')?].to_string())
}

#[tokio::test]
async fn ten_copies_of_one_upload_field_store_nothing() {
    let app = spawn(None, 100).await;
    let (browser, csrf, step1) = draft(&app).await;
    let mut form = step_form(&csrf, "save");
    for i in 0..10 {
        form = form.part("_file:ausweis", pdf(&format!("kopie{i}.pdf")));
    }
    let r = post(&app, &browser, &step1, form).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("mehr als eine Datei") && body.contains("ausweis"),
        "names the field and the fix: {body}"
    );
    assert!(stored(&app).await.is_empty(), "nothing stored");
    assert_eq!(rows(&app).await.drafts.files, 0);
    assert_healthy(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn parts_for_fields_that_are_no_file_field_of_the_step_store_nothing() {
    let app = spawn(None, 100).await;
    let (browser, csrf, step1) = draft(&app).await;
    for field in ["nachweis", "name", "unbekannt", "../../etc/passwd"] {
        let form = step_form(&csrf, "save")
            .part("_file:ausweis", pdf("ok.pdf"))
            .part(format!("_file:{field}"), pdf("x.pdf"));
        let r = post(&app, &browser, &step1, form).await;
        assert_eq!(r.status(), 422, "a part for {field:?} on step 1");
        let body = r.text().await.unwrap();
        assert!(
            body.contains("Hier kann keine Datei hochgeladen werden"),
            "{body}"
        );
    }
    assert!(
        stored(&app).await.is_empty(),
        "not even the valid part is stored"
    );
    assert_eq!(rows(&app).await.drafts.files, 0);
    assert_healthy(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn a_drafts_file_and_byte_quota_refuses_more_and_stores_nothing() {
    let limits = UploadLimits {
        quota_bytes: 1000,
        quota_files: 2,
    };
    let app = spawn(Some(limits), 100).await;
    let (browser, csrf, step1) = draft(&app).await;
    let form = step_form(&csrf, "next")
        .part("_file:ausweis", pdf("ausweis.pdf"))
        .part("_file:foto", pdf("foto.pdf"));
    let r = post(&app, &browser, &step1, form).await;
    assert_eq!(r.status(), 303, "two files are within the quota");
    let step2 = location(&r);
    assert_eq!(stored(&app).await.len(), 2);
    let r = post(
        &app,
        &browser,
        &step2,
        step_form(&csrf, "next").part("_file:nachweis", pdf("nachweis.pdf")),
    )
    .await;
    assert_eq!(r.status(), 422, "a third file is over the quota");
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Nachweis") && body.contains("zu viele Dateien"),
        "names field and fix: {body}"
    );
    assert_eq!(stored(&app).await.len(), 2, "the third file is not stored");
    assert_eq!(rows(&app).await.drafts.files, 2);

    // Bytes: one file larger than the draft's byte quota (below the file size limit).
    let (browser, csrf, step1) = draft(&app).await;
    let mut big = PDF.to_vec();
    big.resize(1500, b' ');
    let r = post(
        &app,
        &browser,
        &step1,
        step_form(&csrf, "save").part("_file:ausweis", Part::bytes(big).file_name("gross.pdf")),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("zusammen zu groß"));
    assert_eq!(stored(&app).await.len(), 2);
    assert_healthy(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn a_replaced_upload_is_deleted_from_the_file_store() {
    let app = spawn(None, 100).await;
    let (browser, csrf, step1) = draft(&app).await;
    let r = post(
        &app,
        &browser,
        &step1,
        step_form(&csrf, "save").part("_file:ausweis", pdf("alt.pdf")),
    )
    .await;
    assert_eq!(r.status(), 303);
    let first = stored(&app).await;
    assert_eq!(first.len(), 1);
    let page = text(&browser, app.url(&step1)).await;
    let kept = kept_value(&page, "ausweis").expect("the page keeps the upload");
    // The browser posts the kept value and the new file, as the page does.
    let r = post(
        &app,
        &browser,
        &step1,
        step_form(&csrf, "save")
            .text("ausweis", kept)
            .part("_file:ausweis", pdf("neu.pdf")),
    )
    .await;
    assert_eq!(r.status(), 303);
    let now = stored(&app).await;
    assert_eq!(now.len(), 1, "the replaced file is gone: {now:?}");
    assert_ne!(now[0].name, first[0].name);
    assert_eq!(rows(&app).await.drafts.files, 1);
    let page = text(&browser, app.url(&step1)).await;
    assert!(page.contains("neu.pdf") && !page.contains("alt.pdf"));
    app.stop().await;
}

#[tokio::test]
async fn a_file_field_value_pointing_at_someone_elses_upload_is_refused() {
    let app = spawn(None, 100).await;
    // The victim uploads.
    let (victim, csrf_v, step_v) = draft(&app).await;
    let r = post(
        &app,
        &victim,
        &step_v,
        step_form(&csrf_v, "save").part("_file:ausweis", pdf("geheim.pdf")),
    )
    .await;
    assert_eq!(r.status(), 303);
    let page = text(&victim, app.url(&step_v)).await;
    let theirs = kept_value(&page, "ausweis").unwrap();

    // The attacker posts the victim's reference as text, by the step and by the script's refresh.
    let (attacker, csrf, step1) = draft(&app).await;
    let r = attacker
        .post(app.url(&step1))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("_action", "next"),
            ("ausweis", theirs.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Dateiverweis gehört nicht zu Ihrem Antrag")
    );
    let r = attacker
        .post(app.url(&format!("{step1}/aktualisieren")))
        .form(&[("csrf_token", csrf.as_str()), ("ausweis", theirs.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "the refresh endpoint checks it too");
    // A forged value alongside an honest upload stores nothing either.
    let r = post(
        &app,
        &attacker,
        &step1,
        step_form(&csrf, "save")
            .text("foto", theirs.clone())
            .part("_file:ausweis", pdf("eigen.pdf")),
    )
    .await;
    assert_eq!(r.status(), 422);
    let page = text(&attacker, app.url(&step1)).await;
    assert!(kept_value(&page, "ausweis").is_none() && kept_value(&page, "foto").is_none());
    assert_eq!(stored(&app).await.len(), 1, "only the victim's file");
    assert_eq!(rows(&app).await.drafts.files, 1);
    assert_healthy(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn step_posts_with_files_are_rate_limited_per_client() {
    let app = spawn(None, 2).await;
    let (browser, csrf, step1) = draft(&app).await;
    for _ in 0..2 {
        let r = post(
            &app,
            &browser,
            &step1,
            step_form(&csrf, "save").part("_file:ausweis", pdf("a.pdf")),
        )
        .await;
        assert_eq!(r.status(), 303);
    }
    let r = post(
        &app,
        &browser,
        &step1,
        step_form(&csrf, "save").part("_file:ausweis", pdf("a.pdf")),
    )
    .await;
    assert_eq!(
        r.status(),
        429,
        "the third post with a file within a minute waits"
    );
    // Steps without files go on.
    let page = text(&browser, app.url(&step1)).await;
    let kept = kept_value(&page, "ausweis").unwrap();
    let r = browser
        .post(app.url(&step1))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("_action", "save"),
            ("name", "Muster"),
            ("ausweis", kept.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        stored(&app).await.len(),
        1,
        "replaced uploads went, the refused one never came"
    );
    app.stop().await;
}

#[tokio::test]
async fn expired_drafts_take_their_uploads_and_orphans_are_swept() {
    let app = spawn(None, 100).await;
    let (browser, csrf, step1) = draft(&app).await;
    let r = post(
        &app,
        &browser,
        &step1,
        step_form(&csrf, "save").part("_file:ausweis", pdf("a.pdf")),
    )
    .await;
    assert_eq!(r.status(), 303);
    let (browser2, csrf2, step2) = draft(&app).await;
    let r = post(
        &app,
        &browser2,
        &step2,
        step_form(&csrf2, "save").part("_file:ausweis", pdf("b.pdf")),
    )
    .await;
    assert_eq!(r.status(), 303);
    let store = app.db.as_ref().unwrap().store.clone();
    let uc = rathaus_app::App::new(store.clone(), app.files.clone());
    let tenant = stored(&app).await[0].tenant;
    // Both uploads are in the backend (on S3: below this server's prefix).
    let uploads = stored(&app).await;
    assert_eq!(uploads.len(), 2);
    assert_eq!(uploads_in_backend(&app).await, backend_keys_of(&uploads));

    // An orphan: a file nothing refers to (an upload whose row was never written).
    app.files
        .put(
            tenant,
            &format!("uploads/{}", uuid::Uuid::now_v7()),
            PDF.into(),
        )
        .await
        .unwrap();
    let report = uc.storage_report(None, Utc::now()).await.unwrap();
    assert_eq!(report.orphans.files, 1);
    assert_eq!(report.orphans.bytes, PDF.len() as u64);
    let musterstadt = report
        .tenants
        .iter()
        .find(|t| t.slug == "musterstadt")
        .unwrap();
    assert_eq!(musterstadt.usage.drafts.files, 2);
    assert_eq!(musterstadt.orphans.files, 1);
    // Within the grace period it stays (its row may be about to be written) …
    let swept = uc.sweep_orphans(Duration::hours(1)).await.unwrap();
    assert_eq!(swept.files, 0);
    assert_eq!(stored(&app).await.len(), 3);
    // … after it, it goes; the drafts' files stay.
    let report = uc
        .storage_report(Some(Duration::hours(1)), Utc::now() + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(report.swept.files, 1);
    assert_eq!(stored(&app).await.len(), 2);

    // Purging expired drafts deletes their files with them.
    let (drafts, files) = uc
        .purge_expired_drafts(Utc::now() + Duration::days(400))
        .await
        .unwrap();
    assert!(drafts >= 2, "{drafts}");
    assert_eq!(files, 2);
    assert!(stored(&app).await.is_empty());
    assert!(
        uploads_in_backend(&app).await.is_empty(),
        "the purged drafts' files are gone from the backend too"
    );
    assert_eq!(rows(&app).await.drafts.files, 0);
    assert_healthy(&app).await;
    app.stop().await;
}

/// What an attacker uploads: (what, file name, content).
fn hostile_files() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut over = PDF.to_vec();
    over.resize(10 * 1024 * 1024 + 1, b' ');
    vec![
        (
            "wrong type with a PDF name",
            "rechnung.pdf".into(),
            b"MZ\x90\x00\x03 an exe".to_vec(),
        ),
        (
            "PDF/HTML polyglot",
            "poly.pdf".into(),
            b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n"
                .to_vec(),
        ),
        (
            "HTML with a PDF after it",
            "seite.pdf".into(),
            b"<!DOCTYPE html><p>x</p>%PDF-1.4".to_vec(),
        ),
        ("0 bytes", "leer.pdf".into(), Vec::new()),
        ("over the size limit", "gross.pdf".into(), over),
    ]
}

/// Hostile names of valid files: (what, name).
fn hostile_names() -> Vec<(&'static str, String)> {
    vec![
        ("path escape", "../../../../etc/passwd.pdf".into()),
        ("windows path escape", "..\\..\\boot.ini.pdf".into()),
        ("tab", "a\tb.pdf".into()),
        ("300 characters", format!("{}.pdf", "x".repeat(300))),
        ("RTL override", "rechnung\u{202E}fdp.exe".into()),
        ("zero width and BOM", "\u{FEFF}na\u{200B}me.pdf".into()),
        ("only dots", "...".into()),
    ]
}

/// Names whose control characters break the multipart header itself (a
/// browser percent-encodes them): refused as unreadable.
fn header_breaking_names() -> Vec<&'static str> {
    vec![
        "bild.png\0.pdf",
        "a\x07b\x1b[31m\x7f.pdf",
        "a\r\nContent-Type: text/html\r\n\r\nx.pdf",
    ]
}

/// A sanitised name: one path segment, nothing invisible, short.
fn assert_sanitised(name: &str, what: &str) {
    assert!(!name.is_empty(), "{what}: empty name");
    assert!(
        !name.contains('/') && !name.contains('\\') && !name.starts_with('.'),
        "{what}: path in {name:?}"
    );
    assert!(
        !name.chars().any(|c| c.is_control()
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}' | '\u{FEFF}')),
        "{what}: invisible characters in {name:?}"
    );
    assert!(
        name.chars().count() <= 104,
        "{what}: {} characters",
        name.chars().count()
    );
    assert!(
        name.ends_with(".pdf"),
        "{what}: the extension of the type: {name:?}"
    );
}

/// The file store holds only `uploads/<uuid>` keys: names never reach a path.
async fn assert_keys_are_ids(app: &TestApp) {
    for o in stored(app).await {
        let id = o.name.strip_prefix("uploads/").unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "key {:?}", o.name);
    }
}

#[tokio::test]
async fn hostile_uploads_through_the_wizard() {
    let app = spawn(None, 1000).await;
    let (browser, csrf, step1) = draft(&app).await;
    for (what, name, content) in hostile_files() {
        let r = post(
            &app,
            &browser,
            &step1,
            step_form(&csrf, "save").part("_file:ausweis", Part::bytes(content).file_name(name)),
        )
        .await;
        assert_eq!(r.status(), 422, "{what}");
        let body = r.text().await.unwrap();
        assert!(body.contains("Ausweis"), "{what}: names the field");
        assert!(stored(&app).await.is_empty(), "{what}: nothing stored");
        assert_eq!(rows(&app).await.drafts.files, 0, "{what}: no row");
    }
    assert_healthy(&app).await;

    for (what, name) in hostile_names() {
        let r = post(
            &app,
            &browser,
            &step1,
            step_form(&csrf, "save").part("_file:ausweis", pdf(&name)),
        )
        .await;
        assert_eq!(
            r.status(),
            303,
            "{what}: a valid file under a hostile name is stored"
        );
        let page = text(&browser, app.url(&step1)).await;
        let kept = kept_value(&page, "ausweis").unwrap();
        let (_, shown) = kept.split_once('/').unwrap();
        assert_sanitised(&html_unescape(shown), what);
        assert_keys_are_ids(&app).await;
        assert_eq!(
            stored(&app).await.len(),
            1,
            "{what}: the previous one was replaced"
        );
    }
    for name in header_breaking_names() {
        let r = post(
            &app,
            &browser,
            &step1,
            step_form(&csrf, "save").part("_file:foto", pdf(name)),
        )
        .await;
        assert_eq!(r.status(), 422, "{name:?}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Bitte benennen Sie die Datei um")
        );
        assert_eq!(stored(&app).await.len(), 1, "{name:?}: nothing stored");
    }
    assert_healthy(&app).await;
    app.stop().await;
}

fn html_unescape(s: &str) -> String {
    s.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// An application submitted through the API: (reference, access token).
async fn application(app: &TestApp) -> (String, String) {
    let body = submitted(
        app,
        "hundesteuer-anmeldung",
        &format!("hostile-{}", uuid::Uuid::now_v7()),
        &crate::helpers::hundesteuer_data(),
    )
    .await;
    (
        body["reference"].as_str().unwrap().to_string(),
        body["access_token"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn hostile_uploads_through_the_answer_to_the_office() {
    let limits = UploadLimits {
        quota_bytes: 20 * 1024 * 1024,
        quota_files: 3,
    };
    let app = spawn(Some(limits), 1000).await;
    let (reference, access) = application(&app).await;
    let browser = client();
    let page_path = format!("/antrag/eingang/{access}");
    let page = text(&browser, app.url(&page_path)).await;
    let csrf = csrf_of(&page).unwrap();
    let answer = |form: Form| {
        let b = browser.clone();
        let url = app.url(&format!("{page_path}/antwort"));
        async move { b.post(url).multipart(form).send().await.unwrap() }
    };
    let base = || {
        Form::new()
            .percent_encode_noop()
            .text("csrf_token", csrf.clone())
            .text("body", "Anbei die Unterlagen.")
    };

    for (what, name, content) in hostile_files() {
        let r = answer(base().part("_file:antwort", Part::bytes(content).file_name(name))).await;
        assert_eq!(r.status(), 422, "{what}");
        assert_eq!(stored(&app).await.len(), 0, "{what}: nothing stored");
        assert_eq!(rows(&app).await.answers.files, 0, "{what}: no row");
    }
    // The quota: more files than allowed in one answer.
    let mut many = base();
    for i in 0..4 {
        many = many.part("_file:antwort", pdf(&format!("{i}.pdf")));
    }
    let r = answer(many).await;
    assert_eq!(r.status(), 422, "four files are over the quota of three");
    assert!(stored(&app).await.is_empty());
    assert_healthy(&app).await;

    for name in header_breaking_names() {
        let r = answer(base().part("_file:antwort", pdf(name))).await;
        assert_eq!(r.status(), 422, "{name:?}");
        assert!(stored(&app).await.is_empty(), "{name:?}: nothing stored");
    }
    // Hostile names of valid files: stored under sanitised names.
    let mut form = base();
    let names = hostile_names();
    for (_, name) in names.iter().take(3) {
        form = form.part("_file:antwort", pdf(name));
    }
    let r = answer(form).await;
    assert_eq!(r.status(), 303);
    let mut form = base();
    for (_, name) in names.iter().skip(3).take(3) {
        form = form.part("_file:antwort", pdf(name));
    }
    assert_eq!(answer(form).await.status(), 303);
    let mut form = base();
    for (_, name) in names.iter().skip(6) {
        form = form.part("_file:antwort", pdf(name));
    }
    assert_eq!(answer(form).await.status(), 303);
    let read: Value = client()
        .get(app.url(&format!("/api/v1/applications/{reference}")))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let files: Vec<String> = read["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["files"].as_array().cloned().unwrap_or_default())
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(files.len(), names.len(), "{read}");
    for (name, (what, _)) in files.iter().zip(&names) {
        assert_sanitised(name, what);
    }
    assert_keys_are_ids(&app).await;
    assert_eq!(rows(&app).await.answers.files, names.len() as u64);
    assert_healthy(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn hostile_uploads_through_the_api() {
    use base64::Engine;
    let app = spawn(None, 1000).await;
    let (reference, access) = application(&app).await;
    let before = rows(&app).await;
    let api = client();
    let url = app.url(&format!("/api/v1/applications/{reference}/messages"));
    for (what, name, content) in hostile_files() {
        let body = json!({
            "body": "Anbei.",
            "files": [{"name": name, "content": base64::engine::general_purpose::STANDARD.encode(&content)}]
        });
        let r = api
            .post(&url)
            .bearer_auth(&access)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert!(
            status == 413 || status == 422,
            "{what}: {status} {}",
            r.text().await.unwrap()
        );
        assert!(stored(&app).await.is_empty(), "{what}: nothing stored");
    }
    // Quota: more files than allowed in one answer.
    let files: Vec<Value> = (0..21)
        .map(|i| json!({"name": format!("{i}.pdf"), "content": base64::engine::general_purpose::STANDARD.encode(PDF)}))
        .collect();
    let r = api
        .post(&url)
        .bearer_auth(&access)
        .json(&json!({"body": "Anbei.", "files": files}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["code"], "validation", "{err}");
    assert!(err.to_string().contains("zu viele Dateien"), "{err}");
    assert!(stored(&app).await.is_empty());

    // The submission takes no files: a multipart body is refused, nothing stored.
    let r = api
        .post(app.url("/api/v1/applications"))
        .multipart(
            Form::new()
                .text("form", "hundesteuer-anmeldung")
                .part("_file:nachweis", pdf("../../x.pdf")),
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert!(stored(&app).await.is_empty());
    assert_eq!(rows(&app).await, before, "no rows either");

    // Hostile names of a valid file through the API (JSON carries any
    // character, NUL and line breaks too): sanitised.
    let mut names = hostile_names();
    names.extend(
        header_breaking_names()
            .into_iter()
            .map(|n| ("control characters", n.to_string())),
    );
    for (what, name) in names.clone() {
        let body = json!({
            "body": "Anbei.",
            "files": [{"name": name, "content": base64::engine::general_purpose::STANDARD.encode(PDF)}]
        });
        let r = api
            .post(&url)
            .bearer_auth(&access)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{what}");
    }
    let read: Value = api
        .get(app.url(&format!("/api/v1/applications/{reference}")))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stored_names: Vec<String> = read["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["files"].as_array().cloned().unwrap_or_default())
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    let expected = names;
    let names: Vec<String> = stored_names;
    assert_eq!(names.len(), expected.len());
    for (name, (what, _)) in names.iter().zip(expected) {
        assert_sanitised(name, what);
    }
    assert_keys_are_ids(&app).await;
    assert_healthy(&app).await;
    app.stop().await;
}

/// `rathaus admin storage-report` (text and JSON) counts usage and orphans;
/// `--sweep` and the outbox job `storage.sweep` (run by `rathaus worker`)
/// delete orphans older than the grace period, nothing else.
#[tokio::test]
async fn storage_report_and_sweep_through_the_binary() {
    use crate::cli::{bin_on, fresh_env};
    let (dir, db) = fresh_env().await;
    let run = |args: &[&str], grace: &str| {
        let out = bin_on(&dir, &db)
            .env("RATHAUS_ORPHAN_GRACE_SECS", grace)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["migrate"], "3600");
    let tenant = rathaus::demo::seed(&db.store).await.unwrap();
    // The binary's storage: `dir/files`, or its prefix on the test S3 server.
    let storage = rathaus_storage::test_support::TestFiles::for_data_dir(&dir);
    let files = storage.store.clone();
    let orphan = format!("uploads/{}", uuid::Uuid::now_v7());
    files.put(tenant, &orphan, PDF.into()).await.unwrap();
    // A decision's file is not an upload: never swept.
    files
        .put(tenant, "decisions/x.pdf", PDF.into())
        .await
        .unwrap();

    let text = run(&["admin", "storage-report"], "3600");
    assert!(text.starts_with("tenant\tdrafts"), "{text}");
    assert!(
        text.contains(&format!("orphans\t1 files {} bytes", PDF.len())),
        "{text}"
    );
    let json: Value =
        serde_json::from_str(&run(&["admin", "storage-report", "--json"], "3600")).unwrap();
    assert_eq!(json["orphans"]["files"], 1, "{json}");
    let mst = json["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == "musterstadt")
        .unwrap();
    assert_eq!(mst["orphans"]["files"], 1);
    assert!(mst["drafts"]["files"].is_u64() && mst["applications"]["bytes"].is_u64());

    // Within the grace period the sweep keeps it.
    let out = run(&["admin", "storage-report", "--sweep"], "3600");
    assert!(out.contains("swept\t0 files"), "{out}");
    assert!(files.get(tenant, &orphan).await.unwrap().is_some());
    // The periodic job deletes it once the grace period is over.
    db.store
        .repo()
        .enqueue(None, "storage.sweep", &json!({}))
        .await
        .unwrap();
    let out = run(&["worker", "--drain"], "0");
    assert!(out.contains("job(s) processed"), "{out}");
    assert!(
        files.get(tenant, &orphan).await.unwrap().is_none(),
        "swept by the job"
    );
    assert!(
        files
            .get(tenant, "decisions/x.pdf")
            .await
            .unwrap()
            .is_some()
    );
    // And the command, too.
    files.put(tenant, &orphan, PDF.into()).await.unwrap();
    let out = run(&["admin", "storage-report", "--sweep"], "0");
    assert!(out.contains("swept\t1 files"), "{out}");
    assert!(files.get(tenant, &orphan).await.unwrap().is_none());
    let _ = std::fs::remove_dir_all(&dir);
}
