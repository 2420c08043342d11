//! Hostile input over HTTP: huge and deeply nested JSON, overlong search
//! queries, XML bombs and external entities on the FIM import (API and
//! editor page, schema and code lists). Each is answered with a clear 4xx,
//! nothing is stored, nothing leaks, and the server stays healthy.

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::{TestApp, csrf_of, staff_login, token};

const VALIDATE: &str = "/api/v1/forms/hundesteuer-anmeldung/validate";

/// The server still answers: liveness, readiness and a real page.
async fn assert_healthy(app: &TestApp) {
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
    assert_eq!(app.get("/leistungen").await.status(), 200);
}

/// A JSON error body `{"error": {"code", "message", …}}`; returns the code.
async fn json_error(r: reqwest::Response) -> (u16, String, Value) {
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = r.text().await.unwrap();
    assert!(
        ct.starts_with("application/json"),
        "{status}: a JSON error, not {ct:?}: {text:.300}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!code.is_empty(), "a stable code: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "a message: {body}"
    );
    (status, code, body)
}

#[tokio::test]
async fn json_over_the_body_limit_is_413_with_a_json_error() {
    let app = TestApp::spawn().await;
    // 17 MiB: beyond any JSON route's limit.
    let filler = "x".repeat(17 * 1024 * 1024);
    let body = format!(r#"{{"data": {{"familienname": "{filler}"}}}}"#);
    let r = app
        .client
        .post(app.url(VALIDATE))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, code, _) = json_error(r).await;
    assert_eq!(status, 413, "code {code}");
    assert_healthy(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn deeply_nested_json_is_a_clear_4xx_not_a_stack_overflow() {
    let app = TestApp::spawn().await;
    let n = 10_000;
    let arrays = format!("{}{}", "[".repeat(n), "]".repeat(n));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
    for (path, body) in [
        (VALIDATE, arrays.clone()),
        (
            VALIDATE,
            format!(r#"{{"data": {{"familienname": {objects}}}}}"#),
        ),
        (
            "/api/v1/applications",
            format!(r#"{{"form": "hundesteuer-anmeldung", "data": {{"hunde": {arrays}}}}}"#),
        ),
    ] {
        let r = app
            .client
            .post(app.url(path))
            .header("content-type", "application/json")
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .body(body)
            .send()
            .await
            .unwrap();
        let (status, code, body) = json_error(r).await;
        assert!(
            (400..500).contains(&status),
            "{path}: {status} {code} {body}"
        );
    }
    assert_healthy(&app).await;
    app.stop().await;
}

/// 3,000 words, 33 KB: what stalled a worker for ten seconds.
fn long_query() -> String {
    (0..3_000)
        .map(|i| format!("wort{i:05}x"))
        .collect::<Vec<_>>()
        .join("+")
}

#[tokio::test]
async fn an_overlong_search_is_refused_on_the_api_and_on_the_page() {
    let app = TestApp::spawn().await;
    let q = long_query();
    assert!(q.len() > 32_000);
    let r = app.get(&format!("/api/v1/services?q={q}")).await;
    let (status, code, body) = json_error(r).await;
    assert_eq!((status, code.as_str()), (400, "search.too_long"), "{body}");

    let (status, html) = app.get_text(&format!("/suche?q={q}")).await;
    assert_eq!(
        status, 400,
        "the page answers 400 with the reason at the field"
    );
    assert!(
        html.contains("zu lang"),
        "the page says in German that the query is too long"
    );
    assert_healthy(&app).await;
    app.stop().await;
}

/// A small valid XDatenfelder 3 message with one text field; `name` is the
/// field's name, `doctype` goes before the root element.
fn xdf(doctype: &str, name: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
{doctype}
<xdf:xdatenfelder.datenfeld.0200 xmlns:xdf="urn:xoev-de:fim:standard:xdatenfelder_3.0.0">
  <xdf:datenfeld>
    <xdf:identifikation><xdf:id>F60000001</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation>
    <xdf:name>{name}</xdf:name>
    <xdf:feldart><code>input</code></xdf:feldart>
    <xdf:datentyp><code>text</code></xdf:datentyp>
  </xdf:datenfeld>
</xdf:xdatenfelder.datenfeld.0200>"#
    )
}

fn billion_laughs() -> String {
    let mut dtd = String::from("<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".into()
        } else {
            format!("lol{}", i - 1)
        };
        dtd.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    dtd.push_str("]>");
    xdf(&dtd, "&lol9;")
}

fn external_entity() -> String {
    xdf(
        r#"<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>"#,
        "&xxe;",
    )
}

/// One 10 KB entity referenced 10,000 times: 100 MB once expanded.
fn big_expansion() -> String {
    let dtd = format!(
        "<!DOCTYPE big [<!ENTITY big \"{}\">]>",
        "A".repeat(10 * 1024)
    );
    xdf(&dtd, &"&big;".repeat(10_000))
}

/// A genericode list with an external entity in a value.
fn code_list_xxe() -> String {
    r#"<?xml version="1.0"?>
<!DOCTYPE gc:CodeList [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<gc:CodeList xmlns:gc="http://docs.oasis-open.org/codelist/ns/genericode/1.0/">
  <Identification><ShortName>x</ShortName><CanonicalUri>urn:x</CanonicalUri><Version>1</Version></Identification>
  <ColumnSet><Column Id="code"/><Column Id="label"/><Key><ColumnRef Ref="code"/></Key></ColumnSet>
  <SimpleCodeList><Row><Value ColumnRef="code"><SimpleValue>1</SimpleValue></Value>
  <Value ColumnRef="label"><SimpleValue>&xxe;</SimpleValue></Value></Row></SimpleCodeList>
</gc:CodeList>"#
        .to_string()
}

/// What an answer to a bomb must not contain: expanded text or file content.
fn assert_no_leak(text: &str) {
    for leaked in ["root:x:0:0", "/bin/bash", "lollollol", "AAAAAAAAAAAAAAAA"] {
        assert!(!text.contains(leaked), "the answer leaks {leaked:?}");
    }
}

#[tokio::test]
async fn xml_bombs_and_external_entities_are_refused_by_the_import_api() {
    let app = TestApp::spawn().await;
    let editor = token(&app, "redaktion@musterstadt.example").await;
    let c = &app.client;
    let bombs = [
        ("billion-laughs", billion_laughs()),
        ("xxe", external_entity()),
        ("expansion", big_expansion()),
    ];
    for (name, xml) in &bombs {
        let key = format!("bombe-{name}");
        // As the XML body …
        let r = c
            .post(app.url(&format!("/api/v1/forms/import?key={key}")))
            .bearer_auth(&editor)
            .header("content-type", "application/xml")
            .body(xml.clone())
            .send()
            .await
            .unwrap();
        let (status, code, body) = json_error(r).await;
        assert_eq!(
            (status, code.as_str()),
            (422, "invalid_file"),
            "{name}: {body}"
        );
        let text = body.to_string();
        assert!(
            text.contains("DOCTYPE"),
            "{name}: the error names the DOCTYPE: {text}"
        );
        assert_no_leak(&text);
        // … and as the schema of a multipart upload.
        let form = Form::new()
            .part(
                "schema",
                Part::text(xml.clone()).file_name(format!("{name}.xml")),
            )
            .text("key", key.clone());
        let r = c
            .post(app.url("/api/v1/forms/import"))
            .bearer_auth(&editor)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let (status, _, body) = json_error(r).await;
        assert_eq!(status, 422, "{name}: {body}");
        assert!(
            body.to_string().contains(&format!("{name}.xml")),
            "names the file"
        );
        assert_no_leak(&body.to_string());
        // Nothing was imported.
        let r = c
            .get(app.url(&format!("/api/v1/forms/{key}/draft")))
            .bearer_auth(&editor)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{name}: nothing imported");
    }

    // A code list with an external entity beside a valid schema.
    let form = Form::new()
        .part("schema", Part::text(xdf("", "Name")).file_name("s.xml"))
        .part(
            "codelist",
            Part::text(code_list_xxe()).file_name("liste.xml"),
        )
        .text("key", "bombe-liste");
    let r = c
        .post(app.url("/api/v1/forms/import"))
        .bearer_auth(&editor)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_error(r).await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    assert!(
        text.contains("liste.xml") && text.contains("DOCTYPE"),
        "{text}"
    );
    assert_no_leak(&text);
    let r = c
        .get(app.url("/api/v1/forms/bombe-liste/draft"))
        .bearer_auth(&editor)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "nothing imported");

    // Deeply nested elements: an error, not a stack overflow.
    let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    let r = c
        .post(app.url("/api/v1/forms/import"))
        .bearer_auth(&editor)
        .header("content-type", "application/xml")
        .body(deep)
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_error(r).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("nested"), "{body}");

    assert_healthy(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn xml_bombs_are_refused_by_the_import_page() {
    let app = TestApp::spawn().await;
    let alice = staff_login(&app, "redaktion@musterstadt.example").await;
    let html = alice
        .get(app.url("/staff/forms/import"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html).unwrap();
    let uploads = [
        ("billion-laughs", billion_laughs(), None),
        ("xxe", external_entity(), None),
        ("expansion", big_expansion(), None),
        ("liste", xdf("", "Name"), Some(code_list_xxe())),
    ];
    for (name, xml, list) in uploads {
        let key = format!("bombe-ui-{name}");
        let mut form = Form::new()
            .text("csrf_token", csrf.clone())
            .text("key", key.clone())
            .part("schema", Part::text(xml).file_name(format!("{name}.xml")));
        if let Some(list) = list {
            form = form.part("codelists", Part::text(list).file_name("liste.xml"));
        }
        let r = alice
            .post(app.url("/staff/forms/import"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{name}");
        let page = r.text().await.unwrap();
        assert!(
            page.contains("DOCTYPE"),
            "{name}: the page names the DOCTYPE"
        );
        assert_no_leak(&page);
        let r = alice
            .get(app.url("/staff/forms"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!r.contains(&key), "{name}: nothing imported");
    }
    assert_healthy(&app).await;
    app.stop().await;
}
