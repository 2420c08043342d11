//! How public pages are delivered: compression (precompressed static files,
//! on-the-fly HTML and JSON), the anonymous page cache with ETags, its
//! invalidation by publications (on this instance and on another one), that
//! logged-in visitors neither get nor fill it, that an anonymous GET writes
//! nothing to the database, and the byte budget of a first visit.

use std::{
    collections::BTreeMap,
    io::Read,
    time::{Duration, Instant},
};

use rathaus_storage::{files::FileStore, test_support::TestDb};
use rathaus_web::{AppState, WebConfig};
use reqwest::header::{ACCEPT_ENCODING, HeaderMap};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, citizen_login, client, publish_form, staff_login, token};

const SERVICE: &str = "/leistungen/gewerbe-anmeldung";

/// The first-visit budget of the home page (without fonts), in bytes.
const FIRST_VISIT_BUDGET: usize = 100_000;

fn header(h: &HeaderMap, name: &str) -> String {
    h.get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ")
}

fn decode(coding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "br" => brotli::Decompressor::new(body, 4096)
            .read_to_end(&mut out)
            .unwrap(),
        "gzip" => flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .unwrap(),
        "" => return body.to_vec(),
        other => panic!("unexpected coding {other:?}"),
    };
    out
}

/// A GET with `Accept-Encoding: accept` (none when empty): status, headers,
/// the bytes as sent.
async fn fetch(c: &reqwest::Client, url: &str, accept: &str) -> (u16, HeaderMap, Vec<u8>) {
    let mut req = c.get(url);
    if !accept.is_empty() {
        req = req.header(ACCEPT_ENCODING, accept);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

/// The versioned URL of the KERN stylesheet, from the home page.
fn stylesheet(html: &str, name: &str) -> String {
    let end = html.find(name).unwrap_or_else(|| panic!("{name} linked"));
    let start = html[..end].rfind("href=\"").unwrap() + "href=\"".len();
    html[start..end + name.len()].to_string()
}

#[tokio::test]
async fn text_responses_are_compressed_and_decode_to_the_same_body() {
    let app = TestApp::spawn().await;
    let c = client();
    let (_, home) = app.get_text("/").await;
    let css = stylesheet(&home, "kern.min.css");
    for path in [
        SERVICE,                                 // a cached page
        "/suche?q=Gewerbe",                      // a page compressed on the fly
        "/api/v1/services?q=Gewerbe%20anmelden", // JSON on the fly
        css.as_str(),                            // a static file, precompressed
    ] {
        let url = app.url(path);
        let (status, plain_h, plain) = fetch(&c, &url, "").await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&plain_h, "content-encoding"), "", "{path}");
        assert!(plain.len() > 2_000, "{path}: {} bytes", plain.len());
        for coding in ["br", "gzip"] {
            let (status, h, sent) = fetch(&c, &url, coding).await;
            assert_eq!(status, 200, "{path} {coding}");
            assert_eq!(header(&h, "content-encoding"), coding, "{path}");
            assert!(
                header(&h, "vary")
                    .to_lowercase()
                    .contains("accept-encoding"),
                "{path} {coding}: vary {:?}",
                header(&h, "vary")
            );
            assert!(sent.len() * 2 < plain.len(), "{path} {coding} compresses");
            assert!(
                decode(coding, &sent) == plain,
                "{path} {coding} decodes to the same body"
            );
        }
        // A browser's usual header picks brotli.
        let (_, h, _) = fetch(&c, &url, "gzip, deflate, br, zstd").await;
        assert_eq!(header(&h, "content-encoding"), "br", "{path}");
    }
    // The stylesheet: an ETag per variant, each answered with 304.
    let url = app.url(&css);
    let mut tags = Vec::new();
    for coding in ["", "gzip", "br"] {
        let (_, h, _) = fetch(&c, &url, coding).await;
        let tag = header(&h, "etag");
        assert!(tag.starts_with('"'), "strong tag: {tag}");
        assert_eq!(
            header(&h, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        let r = c
            .get(&url)
            .header(ACCEPT_ENCODING, coding)
            .header("if-none-match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304, "{coding}");
        assert_eq!(header(r.headers(), "etag"), tag);
        tags.push(tag);
    }
    tags.dedup();
    assert_eq!(tags.len(), 3, "one ETag per coding: {tags:?}");
    // Tiny bodies and fonts go out as they are.
    let (_, h, _) = fetch(&c, &app.url("/healthz"), "br").await;
    assert_eq!(header(&h, "content-encoding"), "");
    let fonts = stylesheet(&home, "fira-sans.css");
    let (_, _, font_css) = fetch(&c, &app.url(&fonts), "").await;
    let font_css = String::from_utf8(font_css).unwrap();
    let woff = font_css
        .split("url(\"./")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap();
    let font_url = format!("{}/{woff}", fonts.rsplit_once('/').unwrap().0);
    let (status, h, _) = fetch(&c, &app.url(&font_url), "br, gzip").await;
    assert_eq!(status, 200, "{font_url}");
    assert_eq!(
        header(&h, "content-encoding"),
        "",
        "woff2 is compressed already"
    );
    app.stop().await;
}

#[tokio::test]
async fn anonymous_pages_carry_etags_and_answer_304() {
    let app = TestApp::spawn().await;
    let c = client();
    let url = app.url(SERVICE);
    let (status, h, first) = fetch(&c, &url, "").await;
    assert_eq!(status, 200);
    let tag = header(&h, "etag");
    assert!(
        tag.starts_with('"') && tag.len() > 10,
        "strong ETag: {tag:?}"
    );
    assert_eq!(header(&h, "cache-control"), "public, max-age=60");
    let (_, h2, second) = fetch(&c, &url, "").await;
    assert_eq!(header(&h2, "etag"), tag, "the same page, the same tag");
    assert!(first == second);
    for sent in [tag.clone(), format!("W/{tag}"), format!("\"x\", {tag}")] {
        let r = c
            .get(&url)
            .header("if-none-match", sent)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304);
        assert_eq!(header(r.headers(), "etag"), tag);
        assert!(r.bytes().await.unwrap().is_empty());
    }
    let r = c
        .get(&url)
        .header("if-none-match", "\"anders\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Each coding and each language is its own representation.
    let (_, hb, _) = fetch(&c, &url, "br").await;
    assert_ne!(header(&hb, "etag"), tag);
    let r = c
        .get(&url)
        .header("if-none-match", &tag)
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the identity tag does not match brotli");
    let (_, he, english) = fetch(&c, &app.url(&format!("{SERVICE}?lang=en")), "").await;
    assert_ne!(header(&he, "etag"), tag);
    assert!(String::from_utf8(english).unwrap().contains("lang=\"en\""));
    // (`c` keeps the language cookie `?lang=en` set; a new visitor is German.)
    let (_, _, german) = fetch(&client(), &url, "").await;
    assert!(
        german == first,
        "the English page did not replace the German one"
    );
    // The other pages of the catalogue are cached too; errors are not.
    for path in [
        "/",
        "/leistungen?audience=citizen",
        "/themen/steuern-und-abgaben",
        "/impressum",
    ] {
        let (status, h, _) = fetch(&c, &app.url(path), "").await;
        assert_eq!(status, 200, "{path}");
        assert!(!header(&h, "etag").is_empty(), "{path}");
    }
    let (status, h, _) = fetch(&c, &app.url("/leistungen/gibt-es-nicht"), "").await;
    assert_eq!(status, 404);
    assert_eq!(header(&h, "etag"), "");
    app.stop().await;
}

/// Changes the German title of a published service through the four-eyes
/// workflow of the API (one editor writes and submits, another approves).
async fn retitle(site: &str, slug: &str, title: &str) {
    let a = token(site, "redaktion@musterstadt.example").await;
    let b = token(site, "redaktion2@musterstadt.example").await;
    let c = client();
    let found: Value = c
        .get(format!("{site}/api/v1/services"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["slug"] == slug)
        .unwrap_or_else(|| panic!("{slug} found: {found}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let published: Value = c
        .get(format!("{site}/api/v1/services/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut content = published["content"].clone();
    content["title"]["de"] = json!(title);
    let r = c
        .put(format!("{site}/api/v1/services/{id}"))
        .bearer_auth(&a)
        .json(&content)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    for (who, step) in [(&a, "submit"), (&b, "approve")] {
        let r = c
            .post(format!("{site}/api/v1/services/{id}/{step}"))
            .bearer_auth(who)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{step}");
    }
}

/// Another instance on the same database: its own caches and search index.
async fn second_instance(app: &TestApp) -> (String, tokio::sync::watch::Sender<bool>) {
    let store = app.db.as_ref().unwrap().store.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = WebConfig::new(format!("http://{addr}"));
    config.default_tenant = Some("musterstadt".into());
    let state = AppState::new(store, FileStore::memory(), config);
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(rathaus_web::serve(listener, state, rx));
    let base = format!("http://{addr}");
    let c = client();
    while c.get(format!("{base}/readyz")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (base, tx)
}

#[tokio::test]
async fn a_publication_reaches_the_cached_pages_here_and_on_another_instance() {
    let app = TestApp::spawn().await;
    let (other, stop_other) = second_instance(&app).await;
    let c = client();
    let page = |base: String| {
        let c = c.clone();
        async move {
            c.get(format!("{base}{SERVICE}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let here = app.url("");
    let before = page(here.clone()).await;
    assert!(page(other.clone()).await.contains("Gewerbe-Anmeldung"));
    let (_, h, _) = fetch(&c, &app.url(SERVICE), "").await;
    let old_tag = header(&h, "etag");
    let (_, home_before) = app.get_text("/").await;

    retitle(&here, "gewerbe-anmeldung", "Gewerbe anmelden (neu gefasst)").await;
    // This instance: at once.
    let after = page(here.clone()).await;
    assert!(
        after.contains("Gewerbe anmelden (neu gefasst)"),
        "{after:.300}"
    );
    assert_ne!(before, after);
    let r = c
        .get(app.url(SERVICE))
        .header("if-none-match", &old_tag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the old ETag no longer matches");
    // The other instance follows the publication log: within seconds.
    let started = Instant::now();
    loop {
        if page(other.clone())
            .await
            .contains("Gewerbe anmelden (neu gefasst)")
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the other instance still shows the old page"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "publication reached the other instance's cached page after {} ms",
        started.elapsed().as_millis()
    );

    // A form published for a service shows on its (cached) page at once.
    let form_page = "/leistungen/personalausweis-beantragen";
    let (status, html) = app.get_text(form_page).await;
    assert_eq!(status, 200);
    assert!(!html.contains(&format!("{form_page}/antrag")));
    let mut form = crate::forms::test_form();
    form["key"] = json!("perso-test");
    form["service"] = json!("personalausweis-beantragen");
    publish_form(&app, &form).await;
    let (_, html) = app.get_text(form_page).await;
    assert!(
        html.contains(&format!("{form_page}/antrag")),
        "link to the form"
    );
    let started = Instant::now();
    loop {
        let html = c
            .get(format!("{other}{form_page}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if html.contains(&format!("{form_page}/antrag")) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the other instance does not link the form"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!home_before.is_empty());
    let _ = stop_other.send(true);
    app.stop().await;
}

#[tokio::test]
async fn logged_in_visitors_neither_get_nor_fill_the_anonymous_cache() {
    let app = TestApp::spawn().await;
    let staff = staff_login(&app, "redaktion@musterstadt.example").await;
    let citizen = citizen_login(&app, "buerger@musterstadt.example", "demo").await;
    for (who, browser, logout) in [
        ("staff", &staff, "action=\"/logout\""),
        ("citizen", &citizen, "action=\"/konto/abmelden\""),
    ] {
        for path in [SERVICE, "/"] {
            let r = browser.get(app.url(path)).send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(
                header(r.headers(), "cache-control"),
                "private, no-store",
                "{who} {path}"
            );
            assert_eq!(header(r.headers(), "etag"), "", "{who} {path}");
            let html = r.text().await.unwrap();
            assert!(html.contains(logout), "{who} sees their logout on {path}");
            assert!(html.contains("csrf_token"), "{who}: logout form with token");
        }
    }
    assert_eq!(
        app.state.pages.usage().0,
        0,
        "logged-in pages are not stored"
    );
    // Anonymous visitors fill it; the logged-in still get their own page.
    let (_, anon) = app.get_text(SERVICE).await;
    assert!(
        !anon.contains("csrf_token")
            && !anon.contains("/logout")
            && !anon.contains("/konto/abmelden")
    );
    assert_eq!(app.state.pages.usage().0, 1);
    for (browser, logout) in [
        (&staff, "action=\"/logout\""),
        (&citizen, "action=\"/konto/abmelden\""),
    ] {
        let html = browser
            .get(app.url(SERVICE))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(logout), "not the anonymous page");
    }
    let (_, again) = app.get_text(SERVICE).await;
    assert_eq!(again, anon, "nothing of them reached the anonymous page");
    app.stop().await;
}

/// Every row of every table, as text, by table.
async fn table_contents(db: &TestDb) -> BTreeMap<String, String> {
    let conn = db.store.db();
    let backend = conn.get_database_backend();
    let postgres = backend == sea_orm::DatabaseBackend::Postgres;
    let list = if postgres {
        "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    };
    let mut out = BTreeMap::new();
    for row in conn
        .query_all_raw(Statement::from_string(backend, list))
        .await
        .unwrap()
    {
        let name: String = row.try_get("", "name").unwrap();
        let sql = if postgres {
            format!(
                "SELECT COALESCE(string_agg(t::text, E'\\n' ORDER BY t::text), '') AS c FROM \"{name}\" t"
            )
        } else {
            let columns: Vec<String> = conn
                .query_all_raw(Statement::from_string(
                    backend,
                    format!("SELECT name FROM pragma_table_info('{name}')"),
                ))
                .await
                .unwrap()
                .iter()
                .map(|r| format!("quote(\"{}\")", r.try_get::<String>("", "name").unwrap()))
                .collect();
            format!(
                "SELECT COALESCE(group_concat(r, char(10)), '') AS c FROM (SELECT {} AS r FROM \"{name}\" ORDER BY r)",
                columns.join(" || ',' || ")
            )
        };
        let text: String = conn
            .query_one_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "c")
            .unwrap();
        out.insert(name, text);
    }
    out
}

#[tokio::test]
async fn an_anonymous_visit_writes_nothing_to_the_database() {
    let app = TestApp::spawn().await;
    let db = app.db.as_ref().unwrap();
    // A cached page first, so the visit below meets both a full and an empty cache.
    app.get_text(SERVICE).await;
    let before = table_contents(db).await;
    assert!(
        before.contains_key("sessions") && before.len() > 10,
        "{:?}",
        before.keys()
    );
    let (_, home) = app.get_text("/").await;
    let css = stylesheet(&home, "kern.min.css");
    let paths = [
        "/",
        SERVICE,
        "/leistungen/hundesteuer-anmeldung",
        "/leistungen",
        "/leistungen?audience=business",
        "/themen/steuern-und-abgaben",
        "/suche",
        "/suche?q=Gewerbe%20anmelden",
        "/api/v1/services?q=Gewerbe%20anmelden",
        "/api/v1/services",
        "/api/v1/catalog/export",
        "/sitemap.xml",
        "/impressum",
        "/leistungen/gibt-es-nicht",
        css.as_str(),
    ];
    // A browser keeping cookies (language switch included), one without,
    // compressed and revalidating.
    let browser = client();
    for round in 0..3 {
        for path in paths {
            let lang = if round == 1 { "?lang=en" } else { "" };
            let path = if lang.is_empty() || path.contains('?') {
                path.to_string()
            } else {
                format!("{path}{lang}")
            };
            let r = browser.get(app.url(&path)).send().await.unwrap();
            let tag = header(r.headers(), "etag");
            assert!(r.status().as_u16() < 500, "{path}");
            let (status, _, _) = fetch(&client(), &app.url(&path), "gzip, br").await;
            assert!(status < 500, "{path}");
            if !tag.is_empty() {
                let r = browser
                    .get(app.url(&path))
                    .header("if-none-match", &tag)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 304, "{path}");
            }
        }
    }
    let after = table_contents(db).await;
    for (table, rows) in &before {
        assert_eq!(
            after.get(table),
            Some(rows),
            "anonymous GETs changed the table {table}"
        );
    }
    assert_eq!(before.len(), after.len());
    // The comparison sees writes: a login writes its session.
    staff_login(&app, "redaktion@musterstadt.example").await;
    let logged_in = table_contents(db).await;
    assert_ne!(logged_in.get("sessions"), after.get("sessions"));
    app.stop().await;
}

/// The URLs a page loads: stylesheets, scripts, images, icons.
fn subresources(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for tag in html.split('<').skip(1) {
        let name = tag.split([' ', '>', '\n']).next().unwrap_or_default();
        let attr = match name {
            "link" if tag.contains("rel=\"stylesheet\"") || tag.contains("rel=\"icon\"") => {
                "href=\""
            }
            "script" | "img" | "source" => "src=\"",
            _ => continue,
        };
        if let Some(start) = tag.find(attr) {
            let rest = &tag[start + attr.len()..];
            out.push(rest[..rest.find('"').unwrap()].to_string());
        }
    }
    out
}

/// `url(…)` references of a stylesheet other than inline data.
fn css_references(css: &str) -> Vec<String> {
    css.split("url(")
        .skip(1)
        .filter_map(|s| {
            let s = s.trim_start_matches(['"', '\'']);
            let end = s.find(['"', '\'', ')'])?;
            let u = &s[..end];
            (!u.starts_with("data:")).then(|| u.to_string())
        })
        .collect()
}

fn is_font(url: &str) -> bool {
    [".woff2", ".woff", ".ttf", ".otf", ".eot"]
        .iter()
        .any(|e| url.split('?').next().unwrap_or_default().ends_with(e))
}

/// Bytes a response puts on the wire: status line, headers, body.
fn wire_bytes(status: u16, headers: &HeaderMap, body: usize) -> usize {
    let head: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    format!("HTTP/1.1 {status} OK\r\n").len() + head + 2 + body
}

#[tokio::test]
async fn the_home_page_first_visit_stays_within_its_budget() {
    let app = TestApp::spawn().await;
    // Like a first-time browser: no cookies, no cache, gzip and brotli.
    let c = client();
    let accept = "gzip, deflate, br";
    let (status, h, body) = fetch(&c, &app.url("/"), accept).await;
    assert_eq!(status, 200);
    let html = String::from_utf8(decode(&header(&h, "content-encoding"), &body)).unwrap();
    let mut total = wire_bytes(status, &h, body.len());
    let mut lines = vec![format!(
        "/ {} bytes ({})",
        total,
        header(&h, "content-encoding")
    )];
    let mut queue = subresources(&html);
    assert!(queue.len() >= 3, "{queue:?}");
    let mut seen = std::collections::HashSet::new();
    while let Some(url) = queue.pop() {
        if is_font(&url) || !seen.insert(url.clone()) {
            continue;
        }
        let (status, h, body) = fetch(&c, &app.url(&url), accept).await;
        assert_eq!(status, 200, "{url}");
        let coding = header(&h, "content-encoding");
        if header(&h, "content-type").starts_with("text/css") {
            let css = String::from_utf8(decode(&coding, &body)).unwrap();
            let dir = url.rsplit_once('/').map_or("", |(d, _)| d);
            queue.extend(css_references(&css).into_iter().map(|r| {
                if r.starts_with('/') {
                    r
                } else {
                    format!("{dir}/{}", r.trim_start_matches("./"))
                }
            }));
            assert!(!coding.is_empty(), "{url} is sent compressed");
        }
        let n = wire_bytes(status, &h, body.len());
        lines.push(format!("{url} {n} bytes ({coding})"));
        total += n;
    }
    eprintln!(
        "home page, first visit (without fonts):\n  {}",
        lines.join("\n  ")
    );
    eprintln!("  total {total} bytes (budget {FIRST_VISIT_BUDGET})");
    assert!(
        total <= FIRST_VISIT_BUDGET,
        "first visit {total} bytes > {FIRST_VISIT_BUDGET}: {lines:#?}"
    );
    // Without compression it would be far over.
    let (_, _, plain) = fetch(&c, &app.url(&stylesheet(&html, "kern.min.css")), "").await;
    assert!(plain.len() > FIRST_VISIT_BUDGET * 3);
    app.stop().await;
}
