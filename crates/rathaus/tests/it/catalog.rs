//! Leistungskatalog: search, public pages, the four-eyes workflow in the
//! browser and through the API, export and import.

use serde_json::{Value, json};

use crate::helpers::{OTHER_HOST, TestApp, csrf_of, token};

async fn search_slugs(app: &TestApp, q: &str, extra: &str) -> Vec<String> {
    let v: Value = app
        .client
        .get(app.url(&format!("/api/v1/services?q={}{extra}", urlencode(q))))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["slug"].as_str().unwrap().to_string())
        .collect()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn german_search_through_api_and_page() {
    let app = TestApp::spawn().await;
    for (q, first) in [
        ("Perso", "personalausweis-beantragen"),
        ("Gewerbe anmelden", "gewerbe-anmeldung"),
        ("hund", "hundesteuer-"),
        ("Gewerbeanmledung", "gewerbe-anmeldung"),
        ("Gewerbeschein", "gewerbe-anmeldung"),
    ] {
        let slugs = search_slugs(&app, q, "").await;
        assert!(
            slugs.first().is_some_and(|s| s.starts_with(first)),
            "{q}: {slugs:?}"
        );
        let (status, html) = app.get_text(&format!("/suche?q={}", urlencode(q))).await;
        assert_eq!(status, 200);
        let first_link = html
            .find("href=\"/leistungen/")
            .map(|i| &html[i + 18..])
            .unwrap_or_default();
        assert!(
            first_link.starts_with(first),
            "{q}: page shows {first_link:.40}"
        );
    }
    // Filters: a business search finds no citizen service.
    let business = search_slugs(&app, "anmelden", "&audience=business").await;
    assert!(business.contains(&"gewerbe-anmeldung".to_string()));
    assert!(
        !business.contains(&"hundesteuer-anmeldung".to_string()),
        "{business:?}"
    );
    let citizens = search_slugs(&app, "anmelden", "&audience=citizen").await;
    assert!(
        citizens.contains(&"hundesteuer-anmeldung".to_string())
            && !citizens.contains(&"gewerbe-anmeldung".to_string())
    );
    let taxes = search_slugs(&app, "", "&topic=steuern-und-abgaben").await;
    assert!(
        taxes.contains(&"hundesteuer-anmeldung".to_string())
            && !taxes.contains(&"gewerbe-anmeldung".to_string())
    );
    assert!(search_slugs(&app, "xyzzyqq", "").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn public_catalog_pages() {
    let app = TestApp::spawn().await;
    let (status, html) = app.get_text("/leistungen/gewerbe-anmeldung").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Gewerbe-Anmeldung")
            && html.contains("Erforderliche Unterlagen")
            && html.contains("Zuständige Stelle")
    );
    assert!(
        html.contains("Gewerbeanmeldungen"),
        "the responsible office is shown"
    );
    assert!(
        html.contains("kern-accordion"),
        "privacy notice in an accordion"
    );
    let r = app.get("/leistungen/gewerbe-anmeldung").await;
    assert_eq!(r.headers()["cache-control"], "public, max-age=60");
    let (_, html) = app.get_text("/leistungen/gewerbe-anmeldung?lang=en").await;
    assert!(
        html.contains("lang=\"de\""),
        "German text parts are marked on English pages"
    );
    let (_, home) = app.get_text("/").await;
    assert!(
        home.contains("/themen/")
            && home.contains("/lebenslagen/")
            && home.contains("role=\"search\"")
    );
    let (status, topic) = app.get_text("/themen/steuern-und-abgaben").await;
    assert_eq!(status, 200);
    assert!(topic.contains("/leistungen/hundesteuer-anmeldung"));
    assert_eq!(app.get("/themen/gibt-es-nicht").await.status(), 404);
    assert_eq!(app.get("/leistungen/gibt-es-nicht").await.status(), 404);
    let (_, sitemap) = app.get_text("/sitemap.xml").await;
    assert!(sitemap.contains("/leistungen/gewerbe-anmeldung</loc>"));
    // Another tenant does not see Musterstadt's services.
    let r = app
        .client
        .get(app.url("/leistungen/gewerbe-anmeldung"))
        .header("host", OTHER_HOST)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    app.stop().await;
}

fn service_form(csrf: &str, title: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf_token", csrf.to_string()),
        ("slug", "baumschutz-beratung".into()),
        ("leika_key", "99123456789012".into()),
        ("audience_citizen", "1".into()),
        ("org_unit", "Umweltamt".into()),
        ("topics", "Umwelt und Natur".into()),
        ("title_de", title.into()),
        ("summary_de", "Wir beraten zum Schutz von Bäumen.".into()),
        ("costs", "Die Beratung ist gebührenfrei.".into()),
    ]
}

#[tokio::test]
async fn four_eyes_in_the_browser() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.login("redaktion@musterstadt.example", "demo")
            .await
            .status(),
        303
    );
    let csrf = app.csrf("/staff/catalog/new").await;
    // A field error names the field.
    let mut bad = service_form(&csrf, "");
    bad[2].1 = "123".into();
    let r = app
        .client
        .post(app.url("/staff/catalog/new"))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("LeiKa-Schlüssel mit genau 14 Ziffern")
            && html.contains("Bezeichnung (Deutsch)"),
        "{html:.2000}"
    );

    let r = app
        .client
        .post(app.url("/staff/catalog/new"))
        .form(&service_form(&csrf, "Baumschutz-Beratung"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let detail = r.headers()["location"]
        .to_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let post = |path: String, csrf: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url(&path))
                .form(&[("csrf_token", csrf)])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        post(format!("{detail}/submit"), csrf.clone())
            .await
            .status(),
        303
    );
    // The author's own approval is refused with a clear message.
    let r = post(format!("{detail}/approve"), csrf.clone()).await;
    assert_eq!(r.status(), 409);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Sie können Ihre eigene Änderung nicht freigeben")
    );
    assert_eq!(
        app.get("/leistungen/baumschutz-beratung").await.status(),
        404,
        "not public before approval"
    );

    // A second editor approves.
    let second = TestApp::login_as(&app, "redaktion2@musterstadt.example").await;
    let csrf2 = csrf_of(
        &second
            .get(app.url(&detail))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let r = second
        .post(app.url(&format!("{detail}/approve")))
        .form(&[("csrf_token", &csrf2)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (status, html) = app.get_text("/leistungen/baumschutz-beratung").await;
    assert_eq!(status, 200);
    assert!(html.contains("Baumschutz-Beratung"));

    // An edit stays invisible until approved.
    let r = app
        .client
        .post(app.url(&format!("{detail}/edit")))
        .form(&service_form(&csrf, "Baumschutz- und Baumpflege-Beratung"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, html) = app.get_text("/leistungen/baumschutz-beratung").await;
    assert!(
        !html.contains("Baumpflege"),
        "public still sees the published version"
    );
    assert_eq!(
        post(format!("{detail}/submit"), csrf.clone())
            .await
            .status(),
        303
    );
    let r = second
        .post(app.url(&format!("{detail}/approve")))
        .form(&[("csrf_token", &csrf2)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, html) = app.get_text("/leistungen/baumschutz-beratung").await;
    assert!(html.contains("Baumschutz- und Baumpflege-Beratung"));
    // The search follows the publication.
    assert_eq!(
        search_slugs(&app, "Baumpflege", "")
            .await
            .first()
            .map(String::as_str),
        Some("baumschutz-beratung")
    );

    // The diff shows the change.
    let (status, diff) = app.get_text(&format!("{detail}/diff?from=1&to=2")).await;
    assert_eq!(status, 200);
    assert!(
        diff.contains("<ins>") && diff.contains("Baumpflege"),
        "{diff:.3000}"
    );
    let (_, history) = app.get_text(&detail).await;
    assert!(history.contains("Abgelöst") && history.contains("Rolf Redaktion"));
    app.stop().await;
}

#[tokio::test]
async fn only_editors_edit_the_catalog() {
    let app = TestApp::spawn().await;
    app.login("sachbearbeitung@musterstadt.example", "demo")
        .await;
    assert_eq!(app.get("/staff/catalog").await.status(), 403);
    assert_eq!(app.get("/staff/synonyms").await.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn editor_api_and_exchange_format() {
    let app = TestApp::spawn().await;
    let a = token(&app, "redaktion@musterstadt.example").await;
    let b = token(&app, "redaktion2@musterstadt.example").await;
    let clerk = token(&app, "sachbearbeitung@musterstadt.example").await;
    let mut content = json!({
        "slug": "api-leistung", "leika_key": "99000000000001", "audience": ["citizen"], "org_unit": "Bürgerbüro",
        "title": {"de": "API-Leistung", "en": "API service"}, "summary": {"de": "Über die API angelegt."}
    });
    let r = app
        .client
        .post(app.url("/api/v1/services"))
        .bearer_auth(&clerk)
        .json(&content)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a clerk is no editor");
    let r = app
        .client
        .post(app.url("/api/v1/services"))
        .bearer_auth(&a)
        .json(&content)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let step = |path: &str, t: &str| {
        app.client
            .post(app.url(&format!("/api/v1/services/{id}/{path}")))
            .bearer_auth(t.to_string())
            .send()
    };
    assert_eq!(step("submit", &a).await.unwrap().status(), 200);
    let r = step("approve", &a).await.unwrap();
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "workflow");
    assert_eq!(
        app.get(&format!("/api/v1/services/{id}")).await.status(),
        404
    );
    assert_eq!(step("approve", &b).await.unwrap().status(), 200);
    let public: Value = app
        .get(&format!("/api/v1/services/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(public["content"]["title"]["de"], "API-Leistung");
    assert_eq!(public["responsible_office"]["name"], "Bürgerbüro");

    // Bad input names the field.
    content["leika_key"] = json!("12");
    content["slug"] = json!("api-zwei");
    let r = app
        .client
        .post(app.url("/api/v1/services"))
        .bearer_auth(&a)
        .header("accept-language", "en")
        .json(&content)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["fields"][0]["field"], "leika_key");
    assert!(
        body["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("14 digits")
    );

    // Export, then import: known slugs become new drafts, published texts stay.
    let export: Value = app
        .get("/api/v1/catalog/export")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(export["format"], "rathaus.catalog/1");
    let n = export["services"].as_array().unwrap().len();
    assert!(n >= 3);
    // The import carries changed titles; they become drafts only.
    let mut changed = export.clone();
    for service in changed["services"].as_array_mut().unwrap() {
        let title = service["title"]["de"].as_str().unwrap().to_string();
        service["title"]["de"] = json!(format!("{title} (Importentwurf)"));
    }
    let r = app
        .client
        .post(app.url("/api/v1/catalog/import"))
        .bearer_auth(&a)
        .json(&changed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(
        (report["created"].as_u64(), report["updated"].as_u64()),
        (Some(0), Some(n as u64))
    );
    let after: Value = app
        .get("/api/v1/catalog/export")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        after["services"], export["services"],
        "the published texts are unchanged by the import"
    );
    let slug = export["services"][0]["slug"].as_str().unwrap();
    let (status, page) = app.get_text(&format!("/leistungen/{slug}")).await;
    assert_eq!(status, 200);
    assert!(
        !page.contains("(Importentwurf)"),
        "the public page shows the published text, not the imported draft"
    );
    let bad = json!({"format": "rathaus.catalog/1", "services": [{"slug": "x"}]});
    let r = app
        .client
        .post(app.url("/api/v1/catalog/import"))
        .bearer_auth(&a)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 207);
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.stop().await;
}
