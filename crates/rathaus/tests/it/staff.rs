use crate::helpers::{OTHER_HOST, TestApp, client, csrf_of};

#[tokio::test]
async fn staff_login_logout_roundtrip() {
    let app = TestApp::spawn().await;
    // Not logged in: the staff area sends to the login page.
    let r = app.get("/staff").await;
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (303, "/login")
    );

    let r = app
        .login("sachbearbeitung@musterstadt.example", "demo")
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/staff");
    let (status, html) = app.get_text("/staff").await;
    assert_eq!(status, 200);
    assert!(html.contains("sachbearbeitung@musterstadt.example"));
    assert!(
        html.contains("Bürgerbüro") && html.contains("Gewerbe") && html.contains("Sachbearbeitung")
    );
    // The other tenant's units never show.
    assert!(!html.contains("Nachbardorf"));

    // Logout needs the CSRF token too.
    let r = app
        .client
        .post(app.url("/logout"))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let token = csrf_of(&html).unwrap();
    let r = app
        .client
        .post(app.url("/logout"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(app.get("/staff").await.status(), 303);
    let (_, html) = app.get_text("/login?logged_out=1").await;
    assert!(html.contains("Sie wurden abgemeldet"));
    app.stop().await;
}

#[tokio::test]
async fn wrong_password_gets_a_clear_message() {
    let app = TestApp::spawn().await;
    let r = app.login("redaktion@musterstadt.example", "falsch").await;
    assert_eq!(r.status(), 401);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("role=\"alert\"") && html.contains("E-Mail oder Passwort ist nicht korrekt")
    );
    // The email stays filled in, the password does not.
    assert!(html.contains("value=\"redaktion@musterstadt.example\""));
    // An unknown account gets exactly the same answer.
    let r = app.login("niemand@musterstadt.example", "falsch").await;
    assert_eq!(r.status(), 401);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("E-Mail oder Passwort ist nicht korrekt")
    );
    app.stop().await;
}

#[tokio::test]
async fn login_fields_are_checked_by_name() {
    let app = TestApp::spawn().await;
    let token = app.csrf("/login?lang=en").await;
    let r = app
        .client
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "kein-at-zeichen"),
            ("password", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("“Email address”: please enter an email address like name@example.org."),
        "{html}"
    );
    assert!(html.contains("Please fill in the field “Password”."));
    assert!(html.contains("aria-invalid=\"true\""));
    app.stop().await;
}

#[tokio::test]
async fn post_without_or_with_wrong_csrf_token_is_refused() {
    let app = TestApp::spawn().await;
    let form = [
        ("email", "redaktion@musterstadt.example"),
        ("password", "demo"),
    ];
    let r = app
        .client
        .post(app.url("/login"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Das Formular ist abgelaufen")
    );
    app.csrf("/login").await;
    let r = app
        .client
        .post(app.url("/login"))
        .form(&[("csrf_token", "rh_forged"), form[0], form[1]])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A token from another browser session does not help either.
    let other = client();
    let html = other
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let foreign = csrf_of(&html).unwrap();
    let r = app
        .client
        .post(app.url("/login"))
        .form(&[("csrf_token", foreign.as_str()), form[0], form[1]])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn login_attempts_are_rate_limited() {
    let app = TestApp::spawn_with(|c| c.login_attempts_per_minute = 3).await;
    for _ in 0..3 {
        assert_eq!(
            app.login("steuerung@musterstadt.example", "falsch")
                .await
                .status(),
            401
        );
    }
    let r = app.login("steuerung@musterstadt.example", "demo").await;
    assert_eq!(
        r.status(),
        429,
        "even the right password waits once the limit is hit"
    );
    assert!(r.text().await.unwrap().contains("Zu viele Anmeldeversuche"));
    app.stop().await;
}

#[tokio::test]
async fn a_session_of_one_tenant_is_worthless_at_another() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.login("admin@musterstadt.example", "demo")
            .await
            .status(),
        303
    );
    assert_eq!(app.get("/staff").await.status(), 200);
    // Same browser, other tenant's host: not logged in there.
    let r = app
        .client
        .get(app.url("/staff"))
        .header("host", OTHER_HOST)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // And Musterstadt's credentials do not work at Nachbardorf.
    let html = app
        .client
        .get(app.url("/login"))
        .header("host", OTHER_HOST)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_of(&html).unwrap();
    let r = app
        .client
        .post(app.url("/login"))
        .header("host", OTHER_HOST)
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "admin@musterstadt.example"),
            ("password", "demo"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    app.stop().await;
}

/// Every one of the nine demo staff users logs in, sees their own email on
/// /staff and logs out again.
#[tokio::test]
async fn every_demo_staff_user_logs_in_and_out() {
    let app = TestApp::spawn().await;
    assert_eq!(rathaus::demo::USERS.len(), 9);
    for (email, name, _, unit) in rathaus::demo::USERS {
        let browser = crate::helpers::staff_login(&app, email).await;
        let html = crate::helpers::text(&browser, app.url("/staff")).await;
        assert!(
            html.contains(email) && html.contains(unit),
            "{email} ({name}) sees their account and unit on /staff"
        );
        let token = csrf_of(&html).unwrap();
        let r = browser
            .post(app.url("/logout"))
            .form(&[("csrf_token", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{email} logs out");
        let r = browser.get(app.url("/staff")).send().await.unwrap();
        assert_eq!(r.status(), 303, "{email} is logged out");
    }
    app.stop().await;
}
