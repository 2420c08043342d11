//! Smart forms end to end: FIM import through the API and the editor UI,
//! four-eyes publishing, JSON Schema and validation endpoints, and the
//! public wizard without JavaScript (steps, conditions, repeatable groups,
//! uploads checked by content, review page, drafts with resume link).

use rathaus_storage::prelude::*;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{
    OTHER_HOST, TestApp, assert_pdfa_2b, citizen_login, client, csrf_of, location, publish_form,
    text, token, wizard_send, wizard_start,
};

const FIM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../demo/fim");

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{FIM}/{rel}")).unwrap()
}

fn parken_upload(key: &str) -> Form {
    let mut form = Form::new()
        .part(
            "schema",
            Part::text(read("bewohnerparken/S05000058V1.0_xdf2.xml"))
                .file_name("S05000058V1.0_xdf2.xml"),
        )
        .text("key", key.to_string())
        .text("service", "bewohnerparkausweis");
    for c in [
        "C05000073",
        "C05000103",
        "C05000108",
        "C05000112",
        "C05000125",
        "C60000016",
    ] {
        let name = format!("{c}_genericode.xml");
        form = form.part(
            "codelist",
            Part::text(read(&format!("bewohnerparken/{name}"))).file_name(name),
        );
    }
    form
}

#[tokio::test]
async fn fim_import_publish_schema_and_validate_through_the_api() {
    let app = TestApp::spawn().await;
    let alice = token(&app, "redaktion@musterstadt.example").await;
    let bob = token(&app, "redaktion2@musterstadt.example").await;
    let clerk = token(&app, "sachbearbeitung@musterstadt.example").await;
    let c = &app.client;

    // Only editors import.
    let r = c
        .post(app.url("/api/v1/forms/import"))
        .bearer_auth(&clerk)
        .multipart(parken_upload("parken-test"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Bewohnerparkausweis with its six code lists.
    let r = c
        .post(app.url("/api/v1/forms/import"))
        .bearer_auth(&alice)
        .multipart(parken_upload("parken-test"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "draft");
    assert_eq!(body["service"], "bewohnerparkausweis");
    let def = body["definition"].to_string();
    assert!(
        def.contains("\"kind\":\"select\""),
        "code lists become selects"
    );
    assert!(body["report"].is_array());

    // Not public before review; four eyes.
    assert_eq!(app.get("/api/v1/forms/parken-test").await.status(), 404);
    let r = c
        .get(app.url("/api/v1/forms/parken-test/draft"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(app.url("/api/v1/forms/parken-test/submit"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(app.url("/api/v1/forms/parken-test/approve"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "nobody approves their own change");
    let r = c
        .post(app.url("/api/v1/forms/parken-test/approve"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Public definition, JSON Schema, validation.
    let published: Value = app
        .get("/api/v1/forms/parken-test")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(published["format"], "rathaus.form/1");
    assert_eq!(published["version"], 1);
    let schema: Value = app
        .get("/api/v1/forms/parken-test/schema")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );

    let r = c
        .post(app.url("/api/v1/forms/parken-test/validate"))
        .header("accept-language", "de")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["valid"], false);
    let first = &v["errors"][0];
    assert_eq!(first["code"], "required");
    assert!(first["path"].as_str().unwrap().len() > 1);
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("Bitte füllen Sie"),
        "{first}"
    );
    assert!(
        first["messages"]["en"].as_str().unwrap().contains("please")
            || first["messages"]["en"].as_str().unwrap().contains("Please"),
        "{first}"
    );
    let r = c
        .post(app.url("/api/v1/forms/parken-test/validate?lang=en"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("fill in"),
        "{v}"
    );

    let def: rathaus_domain::forms::FormDefinition =
        serde_json::from_value(published["definition"].clone()).unwrap();
    let example = rathaus_domain::forms::example_data(&def);
    let r = c
        .post(app.url("/api/v1/forms/parken-test/validate"))
        .json(&example)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = c
        .post(app.url("/api/v1/forms/parken-test/validate"))
        .json(&json!([1, 2]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    // The Gewerbe-Anmeldung as a raw XML body: missing code lists are reported.
    let r = c
        .post(app.url("/api/v1/forms/import?key=gewerbe-test"))
        .bearer_auth(&alice)
        .header("content-type", "application/xml")
        .body(read("gewerbeanmeldung/S00000009_xdatenfelder.xml"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert!(body["report"].to_string().contains("was not uploaded"));

    // A broken file: a clear error naming the line, never a 500.
    let r = c
        .post(app.url("/api/v1/forms/import"))
        .bearer_auth(&alice)
        .header("content-type", "application/xml")
        .body("<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf=\"urn:xoev-de:fim:standard:xdatenfelder_2\">\n<xdf:stammdatenschema></oops>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "invalid_file");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("line"),
        "{e}"
    );

    // Another tenant sees nothing of it.
    let r = c
        .get(app.url("/api/v1/forms/parken-test"))
        .header("host", OTHER_HOST)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    app.stop().await;
}

/// A small form with a condition, a repeatable group, a computed value and an upload.
pub fn test_form() -> Value {
    json!({
      "format": "rathaus.form/1",
      "key": "hunde-test",
      "service": "hundesteuer-anmeldung",
      "definition": {
        "key": "hunde_test", "title": {"de": "Hunde testen", "en": "Test dogs"},
        "steps": [
          {"key": "halter", "title": {"de": "Halter", "en": "Holder"}, "items": [
            {"type": "field", "key": "familienname", "label": {"de": "Familienname", "en": "Family name"}, "kind": "text", "required": true, "autocomplete": "family-name"},
            {"type": "field", "key": "lastschrift", "label": {"de": "Lastschrift", "en": "Direct debit"}, "kind": "yes_no", "required": true},
            {"type": "field", "key": "iban", "label": {"de": "IBAN", "en": "IBAN"}, "kind": "iban", "visible_if": "lastschrift == true", "required_if": "lastschrift == true"}
          ]},
          {"key": "hunde", "title": {"de": "Hunde", "en": "Dogs"}, "items": [
            {"type": "group", "key": "hunde", "label": {"de": "Hund", "en": "Dog"}, "min": 1, "max": 3, "items": [
              {"type": "field", "key": "name", "label": {"de": "Name", "en": "Name"}, "kind": "text", "required": true, "max_length": 20},
              {"type": "field", "key": "rasse", "label": {"de": "Rasse", "en": "Breed"}, "kind": "select", "required": true,
               "options": [{"code": "mischling", "label": "Mischling"}, {"code": "pitbull", "label": "Pitbull-Terrier"}]},
              {"type": "field", "key": "nachweis", "label": {"de": "Sachkundenachweis", "en": "Proof of competence"}, "kind": "file", "required_if": "rasse == 'pitbull'"}
            ]},
            {"type": "field", "key": "anzahl", "label": {"de": "Anzahl Hunde", "en": "Number of dogs"}, "kind": "integer", "computed": "count(hunde)"}
          ]}
        ]
      }
    })
}

async fn publish_test_form(app: &TestApp) {
    publish_test_form_for(app, "hundesteuer-anmeldung").await
}

async fn publish_test_form_for(app: &TestApp, service: &str) {
    let mut form = test_form();
    form["service"] = json!(service);
    if service != "hundesteuer-anmeldung" {
        form["key"] = json!(format!("test-{service}"));
    }
    publish_form(app, &form).await;
}

fn shown(html: &str) -> String {
    let start = html.find("name=\"_shown\" value=\"").unwrap() + "name=\"_shown\" value=\"".len();
    let rest = &html[start..];
    rest[..rest.find('"').unwrap()].to_string()
}

#[tokio::test]
async fn the_wizard_works_without_javascript() {
    let app = TestApp::spawn().await;
    publish_test_form(&app).await;
    let browser = client();
    let get = |path: String| {
        let b = browser.clone();
        let url = app.url(&path);
        async move {
            let r = b.get(url).send().await.unwrap();
            let s = r.status().as_u16();
            (s, r.text().await.unwrap())
        }
    };

    // The service page links to the form; starting makes a draft.
    let (_, page) = get("/leistungen/hundesteuer-anmeldung".into()).await;
    assert!(page.contains("/leistungen/hundesteuer-anmeldung/antrag"));
    let (s, start) = get("/leistungen/hundesteuer-anmeldung/antrag".into()).await;
    assert_eq!(s, 200);
    let csrf = csrf_of(&start).unwrap();
    let r = browser
        .post(app.url("/leistungen/hundesteuer-anmeldung/antrag"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let step1 = location(&r);
    assert!(step1.ends_with("/schritt/1"), "{step1}");
    let base = step1.trim_end_matches("/schritt/1").to_string();
    let token = base.trim_start_matches("/antrag/").to_string();

    let (s, html) = get(step1.clone()).await;
    assert_eq!(s, 200);
    assert!(html.contains("autocomplete=\"family-name\""));
    assert!(
        html.contains("<legend class=\"kern-label\">Lastschrift"),
        "yes/no is a fieldset with legend"
    );
    assert!(
        !html.contains("name=\"iban\""),
        "the IBAN is hidden until direct debit is chosen"
    );

    // Choosing direct debit makes the IBAN appear: the step is shown again, not failed.
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let b = browser.clone();
        let url = app.url(&path);
        async move { b.post(url).form(&form).send().await.unwrap() }
    };
    let r = post(
        step1.clone(),
        vec![
            ("csrf_token", csrf.clone()),
            ("_shown", shown(&html)),
            ("familienname", "".into()),
            ("lastschrift", "true".into()),
            ("_action", "next".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("weitere Felder"), "{html}");
    assert!(html.contains("name=\"iban\""));

    // Now errors: summary at the top linking to the fields, messages beside them.
    let r = post(
        step1.clone(),
        vec![
            ("csrf_token", csrf.clone()),
            ("_shown", shown(&html)),
            ("familienname", "".into()),
            ("lastschrift", "true".into()),
            ("iban", "DE00 1234".into()),
            ("_action", "next".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<title>Fehler: "),
        "the title says there are errors"
    );
    assert!(html.contains("href=\"#f-familienname\""));
    assert!(html.contains("href=\"#f-iban\""));
    assert!(html.contains("Diese IBAN ist nicht gültig"));
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(
        html.contains("value=\"DE001234\""),
        "entered values stay (IBAN normalised)"
    );

    let r = post(
        step1.clone(),
        vec![
            ("csrf_token", csrf.clone()),
            ("_shown", shown(&html)),
            ("familienname", "Muster".into()),
            ("lastschrift", "true".into()),
            ("iban", "DE89 3704 0044 0532 0130 00".into()),
            ("_action", "next".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let step2 = location(&r);
    assert!(step2.ends_with("/schritt/2"));

    // Repeatable group: add a second dog, then fail on the second dog's upload.
    let (_, html) = get(step2.clone()).await;
    assert!(html.contains("name=\"hunde[0].name\""));
    assert!(!html.contains("name=\"hunde[1].name\""));
    let r = post(
        step2.clone(),
        vec![
            ("csrf_token", csrf.clone()),
            ("_shown", shown(&html)),
            ("hunde[0]._", "".into()),
            ("hunde[0].name", "Bello".into()),
            ("hunde[0].rasse", "mischling".into()),
            ("_action", "add:hunde".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("value=\"Bello\""));
    assert!(html.contains("name=\"hunde[1].name\""));
    assert!(html.contains("Hund 2"));
    let r = post(
        step2.clone(),
        vec![
            ("csrf_token", csrf.clone()),
            ("_shown", shown(&html)),
            ("hunde[0]._", "".into()),
            ("hunde[0].name", "Bello".into()),
            ("hunde[0].rasse", "mischling".into()),
            ("hunde[1]._", "".into()),
            ("hunde[1].name", "Rex".into()),
            ("hunde[1].rasse", "pitbull".into()),
            ("_action", "next".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Sachkundenachweis (Hund 2)"),
        "the message names field and instance"
    );
    assert!(html.contains("href=\"#f-hunde-1-nachweis\""));
    assert!(html.contains("enctype=\"multipart/form-data\""));

    // Uploads are checked by content, not by name.
    let upload = |content: Vec<u8>, name: &'static str| {
        Form::new()
            .text("csrf_token", csrf.clone())
            .text("hunde[0]._", "")
            .text("hunde[0].name", "Bello")
            .text("hunde[0].rasse", "mischling")
            .text("hunde[1]._", "")
            .text("hunde[1].name", "Rex")
            .text("hunde[1].rasse", "pitbull")
            .text("_action", "next")
            .part(
                "_file:hunde[1].nachweis",
                Part::bytes(content).file_name(name),
            )
    };
    let r = browser
        .post(app.url(&step2))
        .multipart(upload(
            b"MZ\x90\x00 not really a pdf".to_vec(),
            "nachweis.pdf",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Dieser Dateityp ist nicht erlaubt")
    );
    let r = browser
        .post(app.url(&step2))
        .multipart(upload(
            b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n".to_vec(),
            "../Nachweis Rex.pdf",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).ends_with("/pruefen"));

    // The review page shows what will be sent, with the computed count.
    let (s, html) = get(format!("{base}/pruefen")).await;
    assert_eq!(s, 200);
    for expected in [
        "Muster",
        "DE89370400440532013000",
        "Bello",
        "Rex",
        "Pitbull-Terrier",
        "Nachweis Rex.pdf",
        "Anzahl Hunde",
        ">2<",
    ] {
        assert!(html.contains(expected), "review lacks {expected}: {html}");
    }
    assert!(!html.contains("id=\"error-summary\""), "nothing missing");
    assert!(
        html.contains(&format!("href=\"{base}/schritt/2\"")),
        "each step can be changed"
    );

    // Removing an instance works without JavaScript.
    let (_, html) = get(step2.clone()).await;
    assert!(html.contains("value=\"remove:hunde[1]\""));

    // Save and resume: the link works in another browser; another tenant cannot use it.
    let r = post(
        step2.clone(),
        vec![
            ("csrf_token", csrf.clone()),
            ("hunde[0]._", "".into()),
            ("hunde[0].name", "Bello".into()),
            ("hunde[0].rasse", "mischling".into()),
            ("_action", "save".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).ends_with("/gespeichert"));
    let (_, saved) = get(format!("{base}/gespeichert")).await;
    assert!(saved.contains(&format!("/antrag/{token}")));
    assert!(saved.contains("gespeichert bis zum"));
    let other = client();
    let r = other.get(app.url(&base)).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(location(&r).ends_with("/schritt/2"));
    let r = other
        .get(app.url(&format!("{base}/schritt/2")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(html.contains("value=\"Bello\"") && !html.contains("value=\"Rex\""));
    let r = other
        .get(app.url(&base))
        .header("host", OTHER_HOST)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(get("/antrag/rh_unknown/schritt/1".into()).await.0, 404);

    // The script's endpoint re-evaluates a step and returns only its fields.
    let r = post(
        format!("{base}/schritt/1/aktualisieren"),
        vec![
            ("csrf_token", csrf.clone()),
            ("familienname", "Muster".into()),
            ("lastschrift", "false".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let fragment = r.text().await.unwrap();
    assert!(!fragment.contains("<html") && !fragment.contains("name=\"iban\""));
    assert!(fragment.contains("name=\"familienname\""));

    // Without the CSRF token nothing is changed.
    let r = post(step1.clone(), vec![("familienname", "X".into())]).await;
    assert_eq!(r.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn editors_import_edit_preview_and_publish_in_the_browser() {
    let app = TestApp::spawn().await;
    let alice = TestApp::login_as(&app, "redaktion@musterstadt.example").await;
    let bob = TestApp::login_as(&app, "redaktion2@musterstadt.example").await;
    let html = alice
        .get(app.url("/staff/forms/import"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html).unwrap();

    // A broken file gets a clear message on the page.
    let r = alice
        .post(app.url("/staff/forms/import"))
        .multipart(
            Form::new()
                .text("csrf_token", csrf.clone())
                .part("schema", Part::text("<kaputt").file_name("kaputt.xml")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("kaputt.xml"));

    // The Gewerbe-Anmeldung through the UI as well: its report names the missing code lists.
    let r = alice
        .post(app.url("/staff/forms/import"))
        .multipart(
            Form::new()
                .text("csrf_token", csrf.clone())
                .text("key", "gewerbe-ui")
                .part(
                    "schema",
                    Part::text(read("gewerbeanmeldung/S00000009_xdatenfelder.xml"))
                        .file_name("S00000009_xdatenfelder.xml"),
                ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = alice
        .get(app.url(&location(&r)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("was not uploaded"),
        "the report lists missing code lists"
    );
    assert!(
        html.contains("f00000152"),
        "the structure shows what became what"
    );

    let upload = parken_upload("parken-ui").text("csrf_token", csrf.clone());
    let r = alice
        .post(app.url("/staff/forms/import"))
        .multipart(upload)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let detail = location(&r);
    let id = detail
        .trim_start_matches("/staff/forms/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let html = alice
        .get(app.url(&detail))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Importiert als Entwurf"));
    assert!(html.contains("Importbericht"));

    // Change a label and a rule; a broken rule is refused with its position.
    let field_path = {
        let start = html.find(&format!("/staff/forms/{id}/items/")).unwrap()
            + format!("/staff/forms/{id}/items/").len();
        let rest = &html[start..];
        rest[..rest.find('"').unwrap()].to_string()
    };
    let item_url = app.url(&format!("/staff/forms/{id}/items/{field_path}"));
    let page = alice
        .get(&item_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page).unwrap();
    let r = alice
        .post(&item_url)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("label_de", "Geänderte Beschriftung"),
            ("visible_if", "a =="),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = alice
        .post(&item_url)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("label_de", "Geänderte Beschriftung"),
            ("label_en", "Changed label"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);

    // The preview shows the change as the public would see it.
    let html = alice
        .get(app.url(&format!("/staff/forms/{id}/preview/1")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Vorschau"));
    assert!(
        html.contains("Geänderte Beschriftung"),
        "the preview shows the changed label"
    );

    // Submit, refuse own approval, approve as the second editor.
    let html = alice
        .get(app.url(&format!("/staff/forms/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&html).unwrap();
    let r = alice
        .post(app.url(&format!("/staff/forms/{id}/submit")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = alice
        .post(app.url(&format!("/staff/forms/{id}/approve")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let html = bob
        .get(app.url(&format!("/staff/forms/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let bob_csrf = csrf_of(&html).unwrap();
    let r = bob
        .post(app.url(&format!("/staff/forms/{id}/approve")))
        .form(&[("csrf_token", bob_csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let published: Value = app
        .get("/api/v1/forms/parken-ui")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        published["definition"]
            .to_string()
            .contains("Geänderte Beschriftung")
    );

    // A logged-in citizen (no staff role) cannot reach the editor, and
    // neither can staff without the editor role.
    let citizen = citizen_login(&app, rathaus::demo::CITIZEN, "demo").await;
    assert_eq!(
        citizen
            .get(app.url("/konto"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "the citizen is logged in"
    );
    let r = citizen.get(app.url("/staff/forms")).send().await.unwrap();
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/login".to_string()),
        "a citizen session is no staff session"
    );
    let clerk = TestApp::login_as(&app, "sachbearbeitung@musterstadt.example").await;
    let r = clerk.get(app.url("/staff/forms")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn anonymous_draft_creation_is_rate_limited() {
    let app = TestApp::spawn().await;
    let browser = client();
    let page = browser
        .get(app.url("/leistungen/hundesteuer-anmeldung/antrag"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page).unwrap();
    let mut statuses = Vec::new();
    for _ in 0..25 {
        let r = browser
            .post(app.url("/leistungen/hundesteuer-anmeldung/antrag"))
            .form(&[("csrf_token", csrf.as_str())])
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        20,
        "{statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&429));
    app.stop().await;
}

#[tokio::test]
async fn submitting_makes_one_application_with_a_case_and_an_audit_chain() {
    let app = TestApp::spawn().await;
    publish_test_form(&app).await;
    let browser = client();
    let page = browser
        .get(app.url("/leistungen/hundesteuer-anmeldung/antrag"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page).unwrap();
    let r = browser
        .post(app.url("/leistungen/hundesteuer-anmeldung/antrag"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let base = location(&r).trim_end_matches("/schritt/1").to_string();
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let b = browser.clone();
        let url = app.url(&path);
        async move { b.post(url).form(&form).send().await.unwrap() }
    };
    let r = post(
        format!("{base}/schritt/1"),
        vec![
            ("csrf_token", csrf.clone()),
            ("familienname", "Muster".into()),
            ("lastschrift", "false".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let r = post(
        format!("{base}/schritt/2"),
        vec![
            ("csrf_token", csrf.clone()),
            ("hunde[0]._", "".into()),
            ("hunde[0].name", "Bello".into()),
            ("hunde[0].rasse", "mischling".into()),
        ],
    )
    .await;
    assert!(location(&r).ends_with("/pruefen"));
    let review = browser
        .get(app.url(&format!("{base}/pruefen")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(review.contains(&format!("action=\"{base}/absenden\"")));
    let key = {
        let start = review.find("name=\"idempotency_key\" value=\"").unwrap()
            + "name=\"idempotency_key\" value=\"".len();
        review[start..start + review[start..].find('"').unwrap()].to_string()
    };

    // A double click: two posts, one application.
    let mut locations = Vec::new();
    for _ in 0..2 {
        let r = post(
            format!("{base}/absenden"),
            vec![
                ("csrf_token", csrf.clone()),
                ("idempotency_key", key.clone()),
            ],
        )
        .await;
        assert_eq!(r.status(), 303);
        locations.push(location(&r));
    }
    assert_eq!(locations[0], locations[1]);
    assert!(locations[0].starts_with("/antrag/eingang/rh_"));
    let (status, html) = {
        let r = client().get(app.url(&locations[0])).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(status, 200, "the access link works without the session");
    let year = chrono::Utc::now().format("%Y").to_string();
    assert!(html.contains(&format!("MS-{year}-000001")), "{html}");
    assert!(html.contains("Steueramt"), "routed to the service's office");
    assert!(html.contains("Eingegangen"));
    // The receipt as PDF/A, from the access link.
    let r = client()
        .get(app.url(&format!("{}/eingangsbestaetigung.pdf", locations[0])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap();
    assert_pdfa_2b(&pdf, "the receipt");
    let raw = String::from_utf8_lossy(&pdf);
    assert!(raw.contains(&format!("MS-{year}-000001")));
    // It is stored once with its SHA-256 as a document of the case, and a
    // download serves exactly those bytes: renaming the tenant after the
    // submission does not change it (nothing is typeset again).
    {
        use sha2::Digest;
        let db = app.db.as_ref().unwrap();
        let repo = db.store.repo();
        let t = rathaus_storage::tenancy::TenantRepository::tenant_by_slug(&repo, "musterstadt")
            .await
            .unwrap()
            .unwrap()
            .tenant_id();
        let a = repo
            .application_by_reference(t, &format!("MS-{year}-000001"))
            .await
            .unwrap()
            .unwrap();
        let stored = repo
            .receipt_file(t, a.id)
            .await
            .unwrap()
            .expect("the stored receipt");
        assert_eq!(stored.sha256, hex::encode(sha2::Sha256::digest(&pdf)));
        assert_eq!(
            app.files.get(t, &stored.file_key).await.unwrap().unwrap(),
            pdf
        );
        db.db_execute("UPDATE tenants SET name = 'Umbenannte Stadt' WHERE slug = 'musterstadt'")
            .await;
        let again = client()
            .get(app.url(&format!("{}/eingangsbestaetigung.pdf", locations[0])))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(again, pdf, "the stored receipt, not a new one");
        db.db_execute("UPDATE tenants SET name = 'Stadt Musterstadt' WHERE slug = 'musterstadt'")
            .await;
    }
    // The draft is gone; the case is in the Steueramt's inbox; the audit chain holds.
    let r = browser
        .get(app.url(&format!("{base}/schritt/1")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let repo = app.db.as_ref().unwrap().store.repo();
    let tenant = rathaus_storage::tenancy::TenantRepository::tenant_by_slug(&repo, "musterstadt")
        .await
        .unwrap()
        .unwrap()
        .tenant_id();
    let application = repo
        .application_by_reference(tenant, &format!("MS-{year}-000001"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(application.data()["hunde"][0]["name"], "Bello");
    let case = repo.case_of(tenant, application.id).await.unwrap().unwrap();
    let unit =
        rathaus_storage::tenancy::OrgUnitRepository::org_unit(&repo, tenant, case.org_unit_id)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(unit.name, "Steueramt");
    assert_eq!(repo.verify_audit(tenant).await.unwrap(), (1, None));
    assert!(
        repo.application_by_reference(tenant, &format!("MS-{year}-000002"))
            .await
            .unwrap()
            .is_none()
    );

    // `rathaus admin verify-audit` passes untouched and names a changed entry.
    let db_url = app.db.as_ref().unwrap().url.clone();
    let verify = || {
        crate::cli::bin()
            .env("RATHAUS_DATA_DIR", std::env::temp_dir())
            .env("RATHAUS_DATABASE_URL", &db_url)
            .args(["admin", "verify-audit"])
            .output()
            .unwrap()
    };
    let out = verify();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("musterstadt\tok\t1 entries"));
    let entry = repo.audit_of_case(tenant, case.id).await.unwrap().remove(0);
    rathaus_storage::ConnectionTrait::execute_unprepared(
        app.db.as_ref().unwrap().store.db(),
        &format!(
            "UPDATE audit_log SET detail = '{{}}' WHERE id = {}",
            entry.id
        ),
    )
    .await
    .unwrap();
    let out = verify();
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("BROKEN\tentry {}", entry.id)),
        "{stdout}"
    );
    app.stop().await;
}

/// Fills and sends the test form of `service` without JavaScript; returns the confirmation page.
async fn submit_test_application(app: &TestApp, service: &str) -> String {
    let browser = client();
    let (csrf, base) = wizard_start(app, &browser, service).await;
    for (step, form) in [
        (
            "1",
            vec![("familienname", "Muster"), ("lastschrift", "false")],
        ),
        (
            "2",
            vec![("hunde[0].name", "Bello"), ("hunde[0].rasse", "mischling")],
        ),
    ] {
        let mut f = vec![("csrf_token", csrf.as_str())];
        f.extend(form);
        let r = browser
            .post(app.url(&format!("{base}/schritt/{step}")))
            .form(&f)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
    }
    let confirmation = wizard_send(app, &browser, &base, &csrf).await;
    text(&browser, app.url(&confirmation)).await
}

fn reference_in(html: &str) -> String {
    let start = html.find("id=\"reference\">").unwrap() + "id=\"reference\">".len();
    html[start..start + html[start..].find('<').unwrap()].to_string()
}

#[tokio::test]
async fn clerks_work_cases_of_their_org_units_only() {
    let app = TestApp::spawn().await;
    publish_test_form_for(&app, "gewerbe-anmeldung").await;
    let confirmation = submit_test_application(&app, "gewerbe-anmeldung").await;
    let reference = reference_in(&confirmation);
    assert!(
        confirmation.contains("Gewerbeanmeldungen"),
        "routed to the service's office"
    );

    let clerk = TestApp::login_as(&app, "sachbearbeitung@musterstadt.example").await;
    let get = |c: &reqwest::Client, path: String| {
        let c = c.clone();
        let url = app.url(&path);
        async move {
            let r = c.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // The inbox of Gewerbe includes its sub-unit Gewerbeanmeldungen.
    let (s, inbox) = get(&clerk, "/staff/cases".into()).await;
    assert_eq!(s, 200);
    assert!(inbox.contains(&reference), "{inbox}");
    let (_, found) = get(
        &clerk,
        format!("/staff/cases?q={}", reference.to_lowercase()),
    )
    .await;
    assert!(found.contains(&reference));
    let (_, none) = get(&clerk, "/staff/cases?q=MS-1999-000001".into()).await;
    assert!(none.contains("id=\"no-cases\""));
    let case_path = {
        let start = inbox.find("href=\"/staff/cases/").unwrap() + "href=\"".len();
        inbox[start..start + inbox[start..].find('"').unwrap()].to_string()
    };
    let (_, page) = get(&clerk, case_path.clone()).await;
    assert!(page.contains("Bello") && page.contains("Eingegangen"));
    // The due date follows the service's processing deadline (14 days for the Gewerbe-Anmeldung).
    let due = (chrono::Utc::now() + chrono::Duration::days(14))
        .format("%d.%m.%Y")
        .to_string();
    assert!(
        page.contains(&format!("id=\"case-due\">{due}")),
        "due date {due}"
    );
    let (_, overdue) = get(&clerk, "/staff/cases?overdue=1".into()).await;
    assert!(!overdue.contains(&reference), "not overdue yet");
    let csrf = csrf_of(&page).unwrap();
    let post = |path: String, form: Vec<(&'static str, &'static str)>| {
        let c = clerk.clone();
        let url = app.url(&path);
        let csrf = csrf.clone();
        async move {
            let mut f: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str())];
            f.extend(form);
            c.post(url).form(&f).send().await.unwrap()
        }
    };
    assert_eq!(
        post(format!("{case_path}/claim"), vec![]).await.status(),
        303
    );
    let (_, page) = get(&clerk, case_path.clone()).await;
    assert!(page.contains("In Bearbeitung"));
    assert!(
        page.contains("Sachbearbeitung") || page.contains("sachbearbeitung"),
        "assignee shown"
    );
    assert_eq!(
        post(
            format!("{case_path}/status"),
            vec![("action", "request_documents")]
        )
        .await
        .status(),
        303
    );
    // An impossible step is refused with a clear message, not a 500.
    let r = post(format!("{case_path}/status"), vec![("action", "close")]).await;
    assert_eq!(r.status(), 409);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("„Abschließen“ ist im Stand „Warten auf Unterlagen“ nicht möglich")
    );
    // Deciding is not a bare status change: it needs its Bescheid.
    let r = post(format!("{case_path}/status"), vec![("action", "decide")]).await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        post(
            format!("{case_path}/status"),
            vec![("action", "documents_received")]
        )
        .await
        .status(),
        303
    );
    assert_eq!(
        post(
            format!("{case_path}/decide"),
            vec![("variant", "approval"), ("reason", "Alles vollständig.")]
        )
        .await
        .status(),
        303
    );
    assert_eq!(
        post(
            format!("{case_path}/note"),
            vec![("text", "Gewerbeschein erstellt.")]
        )
        .await
        .status(),
        303
    );
    let (_, page) = get(&clerk, case_path.clone()).await;
    assert!(page.contains("Entschieden"));
    assert!(page.contains("Vermerk: Gewerbeschein erstellt."));
    assert!(
        page.contains("Warten auf Unterlagen → In Bearbeitung"),
        "history names the steps"
    );
    let repo = app.db.as_ref().unwrap().store.repo();
    let tenant = rathaus_storage::tenancy::TenantRepository::tenant_by_slug(&repo, "musterstadt")
        .await
        .unwrap()
        .unwrap()
        .tenant_id();
    assert_eq!(repo.verify_audit(tenant).await.unwrap(), (6, None));

    // A case of another office (Hundesteuer → Steueramt) is invisible to this clerk.
    publish_test_form_for(&app, "hundesteuer-anmeldung").await;
    let other = reference_in(&submit_test_application(&app, "hundesteuer-anmeldung").await);
    let other_app = repo
        .application_by_reference(tenant, &other)
        .await
        .unwrap()
        .unwrap();
    let other_case = repo.case_of(tenant, other_app.id).await.unwrap().unwrap();
    assert_eq!(
        get(&clerk, format!("/staff/cases/{}", other_case.id))
            .await
            .0,
        404
    );
    let (_, inbox) = get(&clerk, "/staff/cases".into()).await;
    assert!(!inbox.contains(&other));

    // An editor without the clerk role gets 403.
    let editor = TestApp::login_as(&app, "redaktion@musterstadt.example").await;
    assert_eq!(get(&editor, "/staff/cases".into()).await.0, 403);
    app.stop().await;
}

#[tokio::test]
async fn the_whole_loop_through_the_api() {
    let app = TestApp::spawn().await;
    publish_test_form_for(&app, "gewerbe-anmeldung").await;
    let c = &app.client;
    let data = json!({"familienname": "Muster", "lastschrift": false, "hunde": [{"name": "Bello", "rasse": "mischling"}]});
    let send = |key: &'static str, data: Value| {
        c.post(app.url("/api/v1/applications"))
            .header("idempotency-key", key)
            .json(&json!({"form": "test-gewerbe-anmeldung", "data": data}))
            .send()
    };
    let r = send("api-key-000001", data.clone()).await.unwrap();
    assert_eq!(r.status(), 201);
    let first: Value = r.json().await.unwrap();
    let reference = first["reference"].as_str().unwrap().to_string();
    let access = first["access_token"].as_str().unwrap().to_string();
    assert!(first["status_url"].as_str().unwrap().ends_with(&access));
    let r = send("api-key-000001", data.clone()).await.unwrap();
    assert_eq!(r.status(), 200, "a retry with the same key");
    let again: Value = r.json().await.unwrap();
    assert_eq!(again["reference"], reference.as_str());
    assert_eq!(again["created"], false);
    assert!(again.get("access_token").is_none());
    // The same key with another body is refused, not answered with the first.
    let mut other = data.clone();
    other["familienname"] = json!("Jemand anderes");
    let r = send("api-key-000001", other).await.unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "idempotency.mismatch", "{e}");
    assert_eq!(e["error"]["fields"][0]["field"], "Idempotency-Key", "{e}");
    // Data with a key the form does not have is refused, naming it.
    let mut invented = data.clone();
    invented["erfunden"] = json!("x");
    let r = send("api-key-000003", invented.clone()).await.unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    let unknown = e["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "field.unknown")
        .unwrap_or_else(|| panic!("no field.unknown: {e}"));
    assert_eq!(unknown["path"], "erfunden");
    assert!(
        unknown["message"].as_str().unwrap().contains("erfunden"),
        "{e}"
    );
    let r = c
        .post(app.url("/api/v1/forms/test-gewerbe-anmeldung/validate"))
        .json(&invented)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "erfunden" && f["code"] == "field.unknown"),
        "{v}"
    );
    let r = send("api-key-000002", json!({"hunde": []})).await.unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    let paths: Vec<&str> = e["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"familienname") && paths.contains(&"hunde"),
        "{e}"
    );
    let r = send("kurz", data.clone()).await.unwrap();
    assert_eq!(r.status(), 422);

    // The applicant reads it with the access token; a wrong token is no
    // credential (401) and sees nothing.
    let r = c
        .get(app.url(&format!("/api/v1/applications/{reference}")))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["data"]["hunde"][0]["name"], "Bello");
    assert_eq!(got["org_unit"], "Gewerbeanmeldungen");
    let r = c
        .get(app.url(&format!("/api/v1/applications/{reference}")))
        .bearer_auth("rh_0000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The clerk works it through the API.
    let clerk = token(&app, "sachbearbeitung@musterstadt.example").await;
    let cases: Value = c
        .get(app.url(&format!("/api/v1/cases?reference={reference}")))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = cases["cases"][0]["id"].as_str().unwrap().to_string();
    let act = |path: &str, body: Value| {
        c.post(app.url(&format!("/api/v1/cases/{id}/{path}")))
            .bearer_auth(&clerk)
            .json(&body)
            .send()
    };
    let r = act("claim", json!({})).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "in_progress");
    assert_eq!(
        act("status", json!({"action": "request_documents"}))
            .await
            .unwrap()
            .status(),
        200
    );
    let r = act("status", json!({"action": "close"})).await.unwrap();
    assert_eq!(r.status(), 409);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "case.transition");
    assert_eq!(
        act("notes", json!({"text": "Rückfrage telefonisch geklärt."}))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        act("notes", json!({"text": "  "})).await.unwrap().status(),
        422
    );
    let audit: Value = c
        .get(app.url(&format!("/api/v1/cases/{id}/audit")))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = audit["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["received", "claimed", "status", "note"]);
    for w in entries.windows(2) {
        assert_eq!(
            w[1]["prev_hash"], w[0]["hash"],
            "each entry hashes the one before"
        );
    }
    let mine: Value = c
        .get(app.url("/api/v1/cases?mine=true&status=awaiting_documents"))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["cases"].as_array().unwrap().len(), 1);
    // A clerk token also reads the application; an editor token cannot list cases.
    let r = c
        .get(app.url(&format!("/api/v1/applications/{reference}")))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let editor = token(&app, "redaktion@musterstadt.example").await;
    let r = c
        .get(app.url("/api/v1/cases"))
        .bearer_auth(&editor)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn document_request_answered_through_the_access_link() {
    let app = TestApp::spawn().await;
    publish_test_form_for(&app, "gewerbe-anmeldung").await;
    let confirmation = submit_test_application(&app, "gewerbe-anmeldung").await;
    let reference = reference_in(&confirmation);
    let link = {
        let start = confirmation.find("id=\"access-link\"").unwrap();
        let v = confirmation[start..].find("value=\"").unwrap() + start + "value=\"".len();
        confirmation[v..v + confirmation[v..].find('"').unwrap()].to_string()
    };
    let access_path = link
        .trim_start_matches(&format!("http://{}", app.addr))
        .to_string();
    assert!(confirmation.contains("Noch keine Nachrichten."));

    // The clerk asks for a document with a deadline.
    let clerk = TestApp::login_as(&app, "sachbearbeitung@musterstadt.example").await;
    let inbox = clerk
        .get(app.url(&format!("/staff/cases?q={reference}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let case_path = {
        let start = inbox.find("href=\"/staff/cases/").unwrap() + "href=\"".len();
        inbox[start..start + inbox[start..].find('"').unwrap()].to_string()
    };
    let page = clerk
        .get(app.url(&case_path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page).unwrap();
    clerk
        .post(app.url(&format!("{case_path}/claim")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let due = (chrono::Utc::now() + chrono::Duration::days(14))
        .format("%Y-%m-%d")
        .to_string();
    let r = clerk
        .post(app.url(&format!("{case_path}/message")))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("body", "Bitte reichen Sie noch den Mietvertrag nach."),
            (
                "documents",
                "Mietvertrag der Betriebsräume\nPersonalausweis (Kopie)",
            ),
            ("due", due.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = clerk
        .get(app.url(&case_path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Warten auf Unterlagen"));
    assert!(page.contains("Noch nicht geöffnet"));

    // The applicant opens the link (Bekanntgabe), sees the request and answers with a PDF.
    let applicant = client();
    let html = applicant
        .get(app.url(&access_path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Mietvertrag der Betriebsräume")
            && html.contains("Nachforderung von Unterlagen")
    );
    let csrf_a = csrf_of(&html).unwrap();
    let bad = applicant
        .post(app.url(&format!("{access_path}/antwort")))
        .multipart(
            Form::new()
                .text("csrf_token", csrf_a.clone())
                .text("body", "Anbei")
                .part(
                    "_file:antwort",
                    Part::bytes(b"MZ not a pdf".to_vec()).file_name("vertrag.pdf"),
                ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422, "uploads are checked by content");
    let r = applicant
        .post(app.url(&format!("{access_path}/antwort")))
        .multipart(
            Form::new()
                .text("csrf_token", csrf_a.clone())
                .text("body", "Anbei der Mietvertrag.")
                .part(
                    "_file:antwort",
                    Part::bytes(b"%PDF-1.7\n1 0 obj\n".to_vec()).file_name("Mietvertrag.pdf"),
                ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = applicant
        .get(app.url(&location(&r)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Ihre Nachricht ist angekommen.") && html.contains("Mietvertrag.pdf"));

    // Back with the clerk: read time of the request, the answer and its file, status in progress.
    let page = clerk
        .get(app.url(&case_path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Geöffnet am"),
        "the clerk sees when the request was opened"
    );
    assert!(page.contains("Anbei der Mietvertrag.") && page.contains("In Bearbeitung"));
    let file_href = {
        let start = page.find("/files/").unwrap();
        let begin = page[..start].rfind('"').unwrap() + 1;
        page[begin..start + page[start..].find('"').unwrap()].to_string()
    };
    let r = clerk.get(app.url(&file_href)).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF-"));
    let history = page.contains("Unterlagen nachgefordert")
        && page.contains("Antwort der antragstellenden Person");
    assert!(history, "both steps are in the history");
    app.stop().await;
}
