use crate::helpers::TestApp;

#[tokio::test]
async fn public_pages_render_in_german_and_english() {
    let app = TestApp::spawn().await;
    let pages = [
        (
            "/",
            "Willkommen im Online-Rathaus",
            "Welcome to the online town hall",
        ),
        ("/impressum", "Vertreten durch", "Represented by"),
        (
            "/datenschutz",
            "Datenschutzbeauftragte Person",
            "Data protection officer",
        ),
        (
            "/barrierefreiheit",
            "Feedback und Kontakt",
            "Feedback and contact",
        ),
        ("/login", "Anmeldung für Mitarbeitende", "Staff login"),
    ];
    for (path, de, en) in pages {
        for (lang, needle) in [("de", de), ("en", en)] {
            let sep = if path.contains('?') { '&' } else { '?' };
            let r = app.get(&format!("{path}{sep}lang={lang}")).await;
            assert_eq!(r.status(), 200, "{path} {lang}");
            let csp = r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(
                csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
                "{csp}"
            );
            assert_eq!(r.headers()["x-content-type-options"], "nosniff");
            assert!(r.headers().contains_key("referrer-policy"));
            let html = r.text().await.unwrap();
            assert!(
                html.contains(&format!("<html lang=\"{lang}\" ")),
                "{path} {lang}: wrong lang"
            );
            assert!(html.contains(needle), "{path} {lang}: missing {needle:?}");
            assert!(
                html.contains("Stadt Musterstadt"),
                "{path}: tenant name missing"
            );
            assert!(
                html.contains("href=\"#main\"") && html.contains("id=\"main\""),
                "{path}: skip link"
            );
            assert!(
                !html.contains("<script") && !html.contains(" style="),
                "{path}: inline script or style"
            );
        }
    }
    // Legal pages are filled from the tenant's data.
    let (_, impressum) = app.get_text("/impressum").await;
    assert!(impressum.contains("06435999") && impressum.contains("Regierungspräsidium Darmstadt"));
    let (_, privacy) = app.get_text("/datenschutz").await;
    assert!(privacy.contains("datenschutz@musterstadt.example"));
    app.stop().await;
}

#[tokio::test]
async fn language_follows_query_then_cookie_then_accept_language() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(app.url("/"))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("<html lang=\"en\" "));
    let r = app.get("/impressum?lang=en").await;
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("rathaus_lang=en"), "{cookie}");
    // The cookie now wins over the (German) default.
    let (_, html) = app.get_text("/datenschutz").await;
    assert!(html.contains("<html lang=\"en\" ") && html.contains("Privacy policy"));
    let (_, html) = app.get_text("/?lang=de").await;
    assert!(html.contains("<html lang=\"de\" "));
    app.stop().await;
}

#[tokio::test]
async fn unknown_pages_get_a_404_page_in_the_layout() {
    let app = TestApp::spawn().await;
    let (status, html) = app.get_text("/gibt-es-nicht").await;
    assert_eq!(status, 404);
    assert!(html.contains("Seite nicht gefunden") && html.contains("Zum Inhalt springen"));
    assert!(html.contains("href=\"/impressum\""));
    let r = app
        .client
        .get(app.url("/gibt-es-nicht"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("Page not found"));
    app.stop().await;
}

#[tokio::test]
async fn tenant_is_chosen_by_host() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(app.url("/impressum"))
        .header("host", crate::helpers::OTHER_HOST)
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("Gemeinde Nachbardorf") && html.contains("06435998"));
    assert!(!html.contains("Stadt Musterstadt"));
    app.stop().await;
}

#[tokio::test]
async fn operations_endpoints() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get_text("/healthz").await, (200, "ok".into()));
    assert_eq!(app.get_text("/readyz").await, (200, "ready".into()));
    app.get("/impressum").await;
    app.get("/gibt-es-nicht").await;
    let (status, metrics) = app.get_text("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("http_requests_total{method=\"GET\",route=\"/impressum\",status=\"200\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("route=\"unmatched\",status=\"404\""));
    assert!(metrics.contains("http_request_duration_seconds_bucket"));
    assert!(metrics.contains("db_pool_connections"));
    assert!(metrics.contains("rathaus_outbox_jobs{status=\"pending\"}"));
    app.stop().await;
}

#[tokio::test]
async fn static_assets_are_versioned_and_cached() {
    let app = TestApp::spawn().await;
    let (_, html) = app.get_text("/").await;
    let start = html.find("/static/").unwrap();
    let href = &html[start..start + html[start..].find('"').unwrap()];
    assert!(href.ends_with(".css"), "{href}");
    let r = app.get(href).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/css");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let r = app
        .client
        .get(app.url(href))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    assert_eq!(app.get("/static/x/nothing.css").await.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn a_broken_database_gives_a_500_page_and_an_unready_instance() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/").await.status(), 200); // tenant now cached
    // Close the pool under the running server.
    app.db
        .as_ref()
        .unwrap()
        .store
        .clone()
        .close()
        .await
        .unwrap();
    // The home page is in the anonymous page cache: it is served still.
    assert_eq!(app.get("/").await.status(), 200);
    // A page that needs the database is not.
    let r = app
        .client
        .get(app.url("/leistungen/gewerbe-anmeldung"))
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Technischer Fehler") && html.contains("Fehlernummer"),
        "{html}"
    );
    assert!(
        html.contains("Zum Inhalt springen"),
        "the error page uses the layout"
    );
    assert!(
        !html.contains("pool") && !html.contains("sqlx"),
        "no internals leak: {html}"
    );
    assert_eq!(app.get("/readyz").await.status(), 503);
    assert_eq!(app.get("/healthz").await.status(), 200);
    let r = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth("rh_any")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "internal");
    assert!(body["error"]["reference"].is_string());
    app.stop().await;
}
