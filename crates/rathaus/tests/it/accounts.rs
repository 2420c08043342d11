//! Attacks on accounts, tokens and sessions, over HTTP: argon2 must not stall
//! submissions, registration must not enumerate or squat, confirmation needs
//! a POST, links expire, a reset ends old sessions, an API token works only
//! at its tenant's host, anonymous page views write no session, and a session
//! ends after its absolute lifetime however active it is.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use rathaus_storage::{entities, identity::SessionRepository};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

use crate::helpers::{
    OTHER_HOST, TestApp, citizen_login, client, csrf_of, hundesteuer_data, location, submit_api,
    text, token, token_at,
};
use crate::notifications::{MailSink, between, deliver};

async fn post_form(c: &reqwest::Client, url: String, form: &[(&str, &str)]) -> reqwest::Response {
    c.post(url).form(form).send().await.unwrap()
}

/// A fresh browser with the CSRF token of the registration page.
async fn registration_browser(app: &TestApp) -> (reqwest::Client, String) {
    let c = client();
    let page = text(&c, app.url("/konto/registrieren")).await;
    let csrf = csrf_of(&page).expect("csrf on the registration page");
    (c, csrf)
}

async fn register(
    app: &TestApp,
    c: &reqwest::Client,
    csrf: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    post_form(
        c,
        app.url("/konto/registrieren"),
        &[
            ("csrf_token", csrf),
            ("email", email),
            ("password", password),
            ("password_repeat", password),
        ],
    )
    .await
}

/// The link of the newest email to `to` that contains `prefix`.
fn link_in_mail(sink: &MailSink, to: &str, prefix: &str) -> String {
    let mails = sink.mails();
    let mail = mails
        .iter()
        .rev()
        .find(|m| m.contains(&format!("To: {to}")) && m.contains(prefix))
        .unwrap_or_else(|| panic!("no email to {to} with {prefix}: {mails:#?}"));
    format!("{prefix}{}", between(mail, prefix, '\n').trim())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_keep_flowing_during_twenty_parallel_registrations() {
    let app = Arc::new(
        TestApp::spawn_with(|c| {
            c.submits_per_minute = 10_000;
            c.login_attempts_per_minute = 10_000;
        })
        .await,
    );
    // Warm up the submission path (form cache, first batch).
    let r = submit_api(
        &*app,
        "hundesteuer-anmeldung",
        "flow-warm-up-0000",
        &hundesteuer_data(),
    )
    .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    const N: usize = 20;
    let mut browsers = Vec::new();
    for _ in 0..N {
        browsers.push(registration_browser(&app).await);
    }
    let done = Arc::new(AtomicUsize::new(0));
    let mut registrations = Vec::new();
    for (i, (c, csrf)) in browsers.into_iter().enumerate() {
        let app = app.clone();
        let done = done.clone();
        registrations.push(tokio::spawn(async move {
            let r = register(
                &app,
                &c,
                &csrf,
                &format!("parallel{i}@example.org"),
                "ein sicheres Passwort",
            )
            .await;
            assert_eq!(r.status(), 200, "registration {i}");
            done.fetch_add(1, Ordering::SeqCst);
        }));
    }
    // Once the first registration is through, all of them are queued in the
    // server; from then on, send one submission after another.
    while done.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let mut outstanding_at = Vec::new();
    let mut n = 0;
    while done.load(Ordering::SeqCst) < N {
        n += 1;
        let r = submit_api(
            &*app,
            "hundesteuer-anmeldung",
            &format!("flow-during-{n:04}"),
            &hundesteuer_data(),
        )
        .await;
        assert_eq!(
            r.status(),
            201,
            "submission {n}: {}",
            r.text().await.unwrap()
        );
        outstanding_at.push(N - done.load(Ordering::SeqCst));
    }
    for r in registrations {
        r.await.unwrap();
    }
    eprintln!("registrations outstanding after each submission: {outstanding_at:?}");
    // With argon2 inside the write transaction, the first submission waits
    // behind the queued registrations (write lock and connection pool) and
    // finishes when almost all of them are done.
    assert!(
        outstanding_at.first().is_some_and(|o| *o >= N / 2),
        "the first submission must finish while most registrations are still hashing; \
         registrations outstanding after each submission: {outstanding_at:?}"
    );
    let app = Arc::into_inner(app).expect("all tasks done");
    app.stop().await;
}

#[tokio::test]
async fn registration_mails_the_owner_confirms_by_post_only_and_links_expire() {
    let sink = MailSink::start("squatting");
    let app = TestApp::spawn().await;
    let prefix = app.url("/konto/bestaetigen/");

    // A squatter registers the owner's address first; the owner registers too.
    let (squatter, csrf) = registration_browser(&app).await;
    let r = register(
        &app,
        &squatter,
        &csrf,
        "owner@example.org",
        "des Squatters Passwort",
    )
    .await;
    assert_eq!(r.status(), 200);
    let answer_new = r.text().await.unwrap();
    deliver(&app, &sink).await;
    let squatter_link = link_in_mail(&sink, "owner@example.org", &prefix);
    let (owner, csrf) = registration_browser(&app).await;
    let r = register(
        &app,
        &owner,
        &csrf,
        "owner@example.org",
        "das Passwort der Eigentümerin",
    )
    .await;
    assert_eq!(r.status(), 200);
    deliver(&app, &sink).await;
    let owner_link = link_in_mail(&sink, "owner@example.org", &prefix);
    assert_ne!(
        owner_link, squatter_link,
        "each registration mails its own link"
    );

    // The link opens a page; a GET (a mail scanner) confirms nothing.
    for _ in 0..2 {
        let r = owner.get(&owner_link).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("account-submit"));
    }
    let page = text(&owner, owner_link.clone()).await;
    let csrf = csrf_of(&page).unwrap();
    // Without the CSRF token the button does nothing.
    let r = post_form(&owner, owner_link.clone(), &[("csrf_token", "rh_forged")]).await;
    assert_eq!(r.status(), 403);
    let r = post_form(&owner, owner_link.clone(), &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status(), 200, "confirmed by the button");
    // The owner's password counts, the squatter's does not, and the
    // squatter's link is used up with the owner's.
    let c = client();
    let html = text(&c, app.url("/konto/anmelden")).await;
    let login_csrf = csrf_of(&html).unwrap();
    let r = post_form(
        &c,
        app.url("/konto/anmelden"),
        &[
            ("csrf_token", &login_csrf),
            ("email", "owner@example.org"),
            ("password", "des Squatters Passwort"),
        ],
    )
    .await;
    assert_eq!(r.status(), 401);
    let r = squatter.get(&squatter_link).send().await.unwrap();
    assert_eq!(r.status(), 404);
    citizen_login(&app, "owner@example.org", "das Passwort der Eigentümerin").await;

    // Registering the address again: the same answer, and the owner is told
    // ("you already have an account") with a reset link.
    let (again, csrf) = registration_browser(&app).await;
    let r = register(
        &app,
        &again,
        &csrf,
        "owner@example.org",
        "noch ein Versuch!!",
    )
    .await;
    assert_eq!(r.status(), 200);
    let answer_existing = r.text().await.unwrap();
    assert_eq!(
        answer_existing, answer_new,
        "no enumeration: the same page for a new and an existing address"
    );
    deliver(&app, &sink).await;
    let reset_prefix = app.url("/konto/passwort-neu/");
    let mails = sink.mails();
    let exists = mails
        .iter()
        .find(|m| m.contains(&reset_prefix))
        .expect("the owner is told, with a reset link");
    assert!(exists.contains("To: owner@example.org"), "{exists}");
    assert!(exists.contains("schon ein Konto"), "{exists}");

    // Confirmation links expire after 24 hours.
    let (late, csrf) = registration_browser(&app).await;
    let r = register(
        &app,
        &late,
        &csrf,
        "late@example.org",
        "ein sicheres Passwort",
    )
    .await;
    assert_eq!(r.status(), 200);
    deliver(&app, &sink).await;
    let late_link = link_in_mail(&sink, "late@example.org", &prefix);
    let store = app.db.as_ref().unwrap().store.clone();
    entities::account_token::Entity::update_many()
        .col_expr(
            entities::account_token::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .filter(entities::account_token::Column::Purpose.eq("confirm"))
        .exec(store.db())
        .await
        .unwrap();
    let page = text(&late, app.url("/konto/anmelden")).await;
    let csrf = csrf_of(&page).unwrap();
    assert_eq!(late.get(&late_link).send().await.unwrap().status(), 404);
    let r = post_form(&late, late_link.clone(), &[("csrf_token", &csrf)]).await;
    assert_eq!(r.status(), 404, "an expired link confirms nothing");
    app.stop().await;
}

#[tokio::test]
async fn a_password_reset_by_email_works_once_and_ends_old_sessions() {
    let sink = MailSink::start("reset");
    let app = TestApp::spawn().await;
    let email = rathaus::demo::CITIZEN;
    let old_browser = citizen_login(&app, email, "demo").await;
    assert_eq!(
        old_browser
            .get(app.url("/konto"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // The request form answers the same for an unknown address, and mails only accounts.
    let c = client();
    let mut answers = Vec::new();
    for address in ["niemand@example.org", email] {
        let page = text(&c, app.url("/konto/passwort-vergessen")).await;
        let csrf = csrf_of(&page).unwrap();
        let r = post_form(
            &c,
            app.url("/konto/passwort-vergessen"),
            &[("csrf_token", &csrf), ("email", address)],
        )
        .await;
        assert_eq!(r.status(), 200);
        answers.push(r.text().await.unwrap().replace(&csrf, ""));
    }
    assert_eq!(answers[0], answers[1], "no enumeration");
    deliver(&app, &sink).await;
    assert!(
        !sink
            .mails()
            .iter()
            .any(|m| m.contains("niemand@example.org"))
    );
    let link = link_in_mail(&sink, email, &app.url("/konto/passwort-neu/"));

    // The form; a weak password is refused and leaves the link usable.
    let page = text(&c, link.clone()).await;
    let csrf = csrf_of(&page).unwrap();
    let r = post_form(
        &c,
        link.clone(),
        &[
            ("csrf_token", &csrf),
            ("password", "kurz"),
            ("password_repeat", "kurz"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let r = post_form(
        &c,
        link.clone(),
        &[
            ("csrf_token", &csrf),
            ("password", "mein neues Passwort"),
            ("password_repeat", "mein neues Passwort"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    // Used once.
    let r = post_form(
        &c,
        link.clone(),
        &[
            ("csrf_token", &csrf),
            ("password", "noch ein Passwort!!"),
            ("password_repeat", "noch ein Passwort!!"),
        ],
    )
    .await;
    assert_eq!(r.status(), 404, "the reset link works once");
    // The session from before the reset is over; the new password works.
    let r = old_browser.get(app.url("/konto")).send().await.unwrap();
    assert!(
        location(&r).starts_with("/konto/anmelden"),
        "the old session ended"
    );
    let fresh = citizen_login(&app, email, "mein neues Passwort").await;
    assert_eq!(
        fresh.get(app.url("/konto")).send().await.unwrap().status(),
        200
    );

    // A reset link expires after an hour.
    let page = text(&c, app.url("/konto/passwort-vergessen")).await;
    let csrf = csrf_of(&page).unwrap();
    post_form(
        &c,
        app.url("/konto/passwort-vergessen"),
        &[("csrf_token", &csrf), ("email", email)],
    )
    .await;
    deliver(&app, &sink).await;
    let link = link_in_mail(&sink, email, &app.url("/konto/passwort-neu/"));
    let store = app.db.as_ref().unwrap().store.clone();
    entities::account_token::Entity::update_many()
        .col_expr(
            entities::account_token::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .exec(store.db())
        .await
        .unwrap();
    assert_eq!(c.get(&link).send().await.unwrap().status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn an_api_token_is_refused_under_another_tenants_host() {
    let app = TestApp::spawn().await;
    let clerk = token(&app, "sachbearbeitung@musterstadt.example").await;
    let nachbar = token_at(
        &app,
        "admin@nachbardorf.example",
        "nachbar-passwort",
        Some(OTHER_HOST),
    )
    .await;
    let get = |path: &str, token: &str, host: Option<&str>| {
        let mut req = client().get(app.url(path)).bearer_auth(token);
        if let Some(h) = host {
            req = req.header("host", h);
        }
        req.send()
    };
    // At home, both work.
    assert_eq!(
        get("/api/v1/cases", &clerk, None).await.unwrap().status(),
        200
    );
    assert_eq!(
        get("/api/v1/org-units", &nachbar, Some(OTHER_HOST))
            .await
            .unwrap()
            .status(),
        200
    );
    // Under the other tenant's host: 401, as an unknown token.
    for (path, token, host) in [
        ("/api/v1/cases", &clerk, Some(OTHER_HOST)),
        ("/api/v1/me", &clerk, Some(OTHER_HOST)),
        ("/api/v1/org-units", &nachbar, None),
        ("/api/v1/me", &nachbar, None),
    ] {
        let r = get(path, token, host).await.unwrap();
        assert_eq!(r.status(), 401, "{path} under {host:?}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_token", "{body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn anonymous_page_views_write_no_session_row() {
    let app = TestApp::spawn().await;
    let store = app.db.as_ref().unwrap().store.clone();
    let browser = client();
    let pages = [
        "/konto/anmelden",
        "/login",
        "/leistungen/hundesteuer-anmeldung/antrag",
        "/leistungen/hundesteuer-anmeldung",
        "/konto/registrieren",
        "/konto/passwort-vergessen",
        "/",
    ];
    let mut csrf = None;
    for i in 0..15 {
        let page = pages[i % pages.len()];
        let html = text(&browser, app.url(page)).await;
        if page == "/konto/anmelden" {
            csrf = csrf_of(&html);
        }
        // A browser without cookies too.
        text(&client(), app.url(page)).await;
    }
    assert_eq!(store.repo().count_sessions().await.unwrap(), 0);
    // The forms still work: the CSRF cookie protects them (a wrong password
    // is refused as such, not as a forged form); no session either.
    let csrf = csrf.expect("csrf token on the login page");
    let r = post_form(
        &browser,
        app.url("/konto/anmelden"),
        &[
            ("csrf_token", &csrf),
            ("email", "buerger@musterstadt.example"),
            ("password", "falsch falsch"),
        ],
    )
    .await;
    assert_eq!(r.status(), 401);
    // Another browser's token (or none) is refused.
    let other = client();
    let theirs = csrf_of(&text(&other, app.url("/konto/anmelden")).await).unwrap();
    assert_ne!(theirs, csrf);
    let r = post_form(
        &browser,
        app.url("/konto/anmelden"),
        &[
            ("csrf_token", &theirs),
            ("email", "buerger@musterstadt.example"),
            ("password", "demo"),
        ],
    )
    .await;
    assert_eq!(r.status(), 403, "a token of another browser is refused");
    assert_eq!(store.repo().count_sessions().await.unwrap(), 0);
    // The login writes the first session.
    let r = post_form(
        &browser,
        app.url("/konto/anmelden"),
        &[
            ("csrf_token", &csrf),
            ("email", "buerger@musterstadt.example"),
            ("password", "demo"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(store.repo().count_sessions().await.unwrap(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_session_past_its_absolute_lifetime_is_refused_even_if_active() {
    let app = TestApp::spawn().await;
    let store = app.db.as_ref().unwrap().store.clone();
    let citizen = citizen_login(&app, rathaus::demo::CITIZEN, "demo").await;
    let staff = crate::helpers::staff_login(&app, "admin@musterstadt.example").await;
    assert_eq!(
        citizen
            .get(app.url("/konto"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        staff.get(app.url("/staff")).send().await.unwrap().status(),
        200
    );
    // Both sessions were created 11 h ago: still within the 12 h.
    let hours_ago = |h: i64| rathaus_storage::now_ms() - h * 3_600_000;
    let set_created = |ms: i64| {
        entities::session::Entity::update_many()
            .col_expr(entities::session::Column::CreatedAtMs, Expr::value(ms))
            .exec(store.db())
    };
    set_created(hours_ago(11)).await.unwrap();
    assert_eq!(
        citizen
            .get(app.url("/konto"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // 13 h ago: over, however active (the last request was just now).
    set_created(hours_ago(13)).await.unwrap();
    let r = citizen.get(app.url("/konto")).send().await.unwrap();
    assert!(
        location(&r).starts_with("/konto/anmelden"),
        "citizen session over"
    );
    let r = staff.get(app.url("/staff")).send().await.unwrap();
    assert!(location(&r).starts_with("/login"), "staff session over");
    app.stop().await;

    // The lifetime is configurable.
    let app = TestApp::spawn_with(|c| c.session_max_hours = 24).await;
    let store = app.db.as_ref().unwrap().store.clone();
    let citizen = citizen_login(&app, rathaus::demo::CITIZEN, "demo").await;
    entities::session::Entity::update_many()
        .col_expr(
            entities::session::Column::CreatedAtMs,
            Expr::value(rathaus_storage::now_ms() - 13 * 3_600_000),
        )
        .exec(store.db())
        .await
        .unwrap();
    assert_eq!(
        citizen
            .get(app.url("/konto"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.stop().await;
}
