//! Attacks on the platform layer, each against the protection that stops it:
//! HTML injection into the staff inbox, searches beyond their limits, bodies
//! too large or too deep, floods behind a reverse proxy, invented HTTP
//! methods in the metrics, `/metrics` access and HSTS.

use rathaus_domain::identity::Role;
use rathaus_storage::prelude::*;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client, hundesteuer_data, staff_login, submitted};

/// 26 open cases make the inbox show its "older cases" link; a `status`
/// value with markup must not come back into the page as markup.
#[tokio::test]
async fn inbox_pager_does_not_echo_markup_from_the_query() {
    let app = TestApp::spawn_with(|c| c.submits_per_minute = 100).await;
    for i in 0..26 {
        submitted(
            &app,
            "hundesteuer-anmeldung",
            &format!("inbox-inject-{i}"),
            &hundesteuer_data(),
        )
        .await;
    }
    // The demo clerk gets the unit the cases were routed to.
    let store = &app.db.as_ref().unwrap().store;
    let cases = rathaus_storage::entities::case::Entity::find()
        .all(store.db())
        .await
        .unwrap();
    let repo = store.repo();
    let tenant = repo
        .tenant_by_slug("musterstadt")
        .await
        .unwrap()
        .unwrap()
        .tenant_id();
    let user = repo
        .user_by_email(
            tenant,
            &rathaus_domain::identity::Email::parse("sachbearbeitung@musterstadt.example").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    repo.grant_role(tenant, user.id, cases[0].org_unit_id, Role::Clerk)
        .await
        .unwrap();
    let clerk = staff_login(&app, "sachbearbeitung@musterstadt.example").await;
    let attack = "\"><h1 id=pwn>X</h1><a href=\"";
    let url = reqwest::Url::parse_with_params(&app.url("/staff/cases"), &[("status", attack)])
        .unwrap()
        .to_string();
    let r = clerk.get(url).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let html = r.text().await.unwrap();
    let rows = html.matches("/staff/cases/").count();
    assert!(
        html.contains("before="),
        "the pager link is on the page (26 cases, 25 a page; {rows} case links): {}",
        &html[html.find("<main").unwrap_or(0)..]
            .chars()
            .take(3000)
            .collect::<String>()
    );
    assert!(
        !html.contains("<h1 id=pwn>"),
        "markup from the query is in the page"
    );
    assert!(
        !html.contains("id=pwn"),
        "the attack string is echoed unescaped"
    );
    app.stop().await;
}

/// 3,000 words on the search API: a clear 400 naming the field, at once;
/// within the limits the search answers as before.
#[tokio::test]
async fn search_beyond_its_limits_is_refused_clearly() {
    let app = TestApp::spawn().await;
    let words: Vec<String> = (0..3000).map(|i| format!("wort{i}")).collect();
    let long = words.join(" ");
    let r = client()
        .get(app.url("/api/v1/services"))
        .query(&[("q", long.as_str())])
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "search.too_long", "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "q", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("200 Zeichen"),
        "{body}"
    );

    // Short, but too many words: each becomes several fuzzy terms.
    let many = ["a"; 13].join(" ");
    let r = client()
        .get(app.url("/api/v1/services"))
        .query(&[("q", many.as_str())])
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "search.too_many_terms", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 12")
    );

    // The page says the same, keeps the (shortened) text and answers 400.
    let url = reqwest::Url::parse_with_params(&app.url("/suche"), &[("q", long.as_str())])
        .unwrap()
        .to_string();
    let r = client().get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"q-error\""),
        "the field's error is shown"
    );
    assert!(html.contains("höchstens 200 Zeichen"));

    // Within the limits: results.
    let r = client()
        .get(app.url("/api/v1/services"))
        .query(&[("q", "Hund")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert!(!body["items"].as_array().unwrap().is_empty(), "{body}");
    app.stop().await;
}

/// Bodies: over the route's limit → 413 with a JSON error; nested deeper
/// than 32 levels → 400 `json.too_deep` (before any parse); not JSON → 415.
/// The FIM import keeps its larger limit.
#[tokio::test]
async fn bodies_beyond_their_limits_are_refused_clearly() {
    let app = TestApp::spawn().await;
    let form = "/api/v1/forms/hundesteuer-anmeldung/validate";
    // 2 MiB of JSON on the public validate endpoint (limit 1 MiB).
    let big = json!({"vorname": "x".repeat(2 * 1024 * 1024)});
    let r = client()
        .post(app.url(form))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "body.too_large", "{body}");

    // 10,000 levels of nesting: refused, the server stays up.
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
    let r = client()
        .post(app.url(form))
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "json.too_deep", "{body}");

    let r = client()
        .post(app.url(form))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // The applications API keeps the 1 MiB limit too.
    let big =
        json!({"form": "hundesteuer-anmeldung", "data": {"vorname": "x".repeat(2 * 1024 * 1024)}});
    let r = client()
        .post(app.url("/api/v1/applications"))
        .header("idempotency-key", "too-large-1")
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // The import takes more than 1 MiB (and then judges the content).
    let editor = crate::helpers::token(&app, "redaktion@musterstadt.example").await;
    let r = client()
        .post(app.url("/api/v1/forms/import"))
        .bearer_auth(&editor)
        .header("content-type", "application/xml")
        .body(format!("<x>{}</x>", "y".repeat(2 * 1024 * 1024)))
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(app.get("/healthz").await.status(), 200);
    app.stop().await;
}

/// The public validate endpoint is rate-limited per client address.
#[tokio::test]
async fn validate_is_rate_limited() {
    let app = TestApp::spawn_with(|c| c.submits_per_minute = 1).await;
    let form = app.url("/api/v1/forms/hundesteuer-anmeldung/validate");
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let r = client()
            .post(&form)
            .json(&hundesteuer_data())
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert!(statuses[..6].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(statuses[7], 429, "{statuses:?}");
    app.stop().await;
}

/// Behind a trusted reverse proxy every citizen has their own bucket; a
/// client that sends `X-Forwarded-For` itself (not through a trusted proxy)
/// does not get a fresh one. IPv6 clients of one /64 share one.
#[tokio::test]
async fn rate_limits_see_the_client_behind_a_trusted_proxy() {
    let app = TestApp::spawn_with(|c| {
        c.login_attempts_per_minute = 2;
        c.trusted_proxies = rathaus_web::platform::client::TrustedProxies::parse("127.0.0.1/32")
            .expect("valid list");
    })
    .await;
    async fn login_status(app: &TestApp, email: &str, xff: &str) -> u16 {
        let c = client();
        // A fresh browser per attempt: the limit is per address, not per session.
        let page = c
            .get(app.url("/login"))
            .header("x-forwarded-for", xff)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = crate::helpers::csrf_of(&page).unwrap_or_default();
        c.post(app.url("/login"))
            .header("x-forwarded-for", xff)
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("email", email),
                ("password", "falsch-falsch-falsch"),
            ])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
    // Six different accounts from one citizen: the per-address limit (3 × 2) holds.
    let mut one = Vec::new();
    for i in 0..7 {
        one.push(login_status(&app, &format!("a{i}@example.org"), "198.51.100.7").await);
    }
    assert_eq!(
        one.last(),
        Some(&429),
        "one client behind the proxy is limited: {one:?}"
    );
    // Another citizen behind the same proxy is not.
    let other = login_status(&app, "b@example.org", "198.51.100.8").await;
    assert_ne!(other, 429, "another client has its own bucket");
    // Hosts of one IPv6 /64 share a bucket.
    let mut v6 = Vec::new();
    for i in 0..7 {
        v6.push(
            login_status(
                &app,
                &format!("c{i}@example.org"),
                &format!("2001:db8:1:2::{i:x}"),
            )
            .await,
        );
    }
    assert_eq!(v6.last(), Some(&429), "one /64 is one bucket: {v6:?}");
    app.stop().await;
}

/// Without a trusted proxy, `X-Forwarded-For` is ignored: a client cannot
/// escape its limit by inventing addresses.
#[tokio::test]
async fn forwarded_headers_of_untrusted_peers_are_ignored() {
    let app = TestApp::spawn_with(|c| c.login_attempts_per_minute = 2).await;
    let mut statuses = Vec::new();
    for i in 0..7 {
        let c = client();
        let page = c
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = crate::helpers::csrf_of(&page).unwrap_or_default();
        let r = c
            .post(app.url("/login"))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("email", format!("d{i}@example.org").as_str()),
                ("password", "falsch-falsch-falsch"),
            ])
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    app.stop().await;
}

/// `/metrics`: a token when configured, off when configured, and invented
/// HTTP methods never become labels.
#[tokio::test]
async fn metrics_access_is_configurable_and_labels_are_bounded() {
    use rathaus_web::platform::metrics::MetricsAccess;
    let app =
        TestApp::spawn_with(|c| c.metrics = MetricsAccess::Token("s3cret-scrape".into())).await;
    assert_eq!(app.get("/metrics").await.status(), 401);
    let r = client()
        .get(app.url("/metrics"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    for m in ["BREW", "PROPFIND-ME", "XYZZY"] {
        let _ = client()
            .request(
                reqwest::Method::from_bytes(m.as_bytes()).unwrap(),
                app.url("/"),
            )
            .send()
            .await;
    }
    let r = client()
        .get(app.url("/metrics"))
        .bearer_auth("s3cret-scrape")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(body.contains("http_requests_total"));
    for m in ["BREW", "PROPFIND-ME", "XYZZY"] {
        assert!(!body.contains(m), "method {m} became a label");
    }
    assert!(body.contains("method=\"other\""));
    app.stop().await;

    let app = TestApp::spawn_with(|c| c.metrics = MetricsAccess::Off).await;
    assert_eq!(app.get("/metrics").await.status(), 404);
    app.stop().await;
}

/// HSTS is sent when the public address is https, not otherwise.
#[tokio::test]
async fn hsts_follows_the_public_url() {
    let app = TestApp::spawn_with(|c| c.hsts = true).await;
    let r = app.get("/").await;
    assert_eq!(
        r.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000; includeSubDomains")
    );
    app.stop().await;
    assert!(rathaus_web::WebConfig::new("https://rathaus.example").hsts);
    assert!(!rathaus_web::WebConfig::new("http://127.0.0.1:8080").hsts);
    let app = TestApp::spawn().await;
    assert!(
        app.get("/")
            .await
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
    app.stop().await;
}
