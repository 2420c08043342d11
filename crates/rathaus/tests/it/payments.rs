//! E-Payment over real HTTP: the demo's fees, the test provider
//! (`rathaus-payprovider`, pmPayment) on a port of its own, the platform
//! paying through it. Pay before sending through the API and in the
//! browser's pages without JavaScript (the case waits as "awaiting payment",
//! the clerk sees it only once paid), the return confirmed by the provider's
//! status endpoint, its real notification, the Zahlungsbestätigung in the
//! mailbox, the day's list and CSV, a fee request (pay later), refunds with
//! four eyes, and `kill -9` of the server between the provider's success and
//! its notification. SQLite, or PostgreSQL with `RATHAUS_TEST_POSTGRES_URL`.

use std::{process::Stdio, sync::Arc, time::Duration};

use rathaus_app::payments::{PaymentConfig, PmPaymentClient};
use rathaus_domain::payments::{Collection, FeeSpec, Money};
use rathaus_storage::{prelude::*, test_support::TestDb};
use serde_json::{Value, json};

use crate::cli::bin;
use crate::helpers::{
    TestApp, client, csrf_of, get_json, grant_steueramt, hundesteuer_data, location, run_jobs,
    staff_login, submit_api, text, token,
};

const SECRET: &str = "geheimnis-der-tests";
/// Musterstadt's AGS (the demo tenant).
const AGS: &str = "06435999";

/// The test provider on a free port; its base address.
async fn provider() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(rathaus_payprovider::serve(
        listener,
        rathaus_payprovider::ProviderConfig {
            secret: SECRET.into(),
            ags: Some(AGS.into()),
            public_url: base.clone(),
        },
        std::future::pending(),
    ));
    base
}

/// The server with online payment through the test provider, the demo's
/// fees, and the Hundesteuer-Anmeldung costing 12,00 € before sending (its
/// form is short enough to submit through the API).
async fn paying_app() -> TestApp {
    let base = provider().await;
    let app = TestApp::spawn_with(|c| {
        c.payments = Some(Arc::new(PaymentConfig {
            provider: Arc::new(PmPaymentClient::new(&base, SECRET, AGS).unwrap()),
            public_url: c.public_url.clone(),
        }));
    })
    .await;
    let store = &app.db.as_ref().unwrap().store;
    let tenant = tenant_of(store).await;
    rathaus::demo::seed_payments(store, tenant).await.unwrap();
    hundesteuer_fee(store, tenant, twelve_euros(), Collection::Before).await;
    app
}

async fn tenant_of(store: &rathaus_storage::Store) -> rathaus_domain::tenancy::TenantId {
    store
        .repo()
        .tenant_by_slug("musterstadt")
        .await
        .unwrap()
        .unwrap()
        .tenant_id()
}

/// Sets the Hundesteuer-Anmeldung's fee.
async fn hundesteuer_fee(
    store: &rathaus_storage::Store,
    tenant: rathaus_domain::tenancy::TenantId,
    fee: FeeSpec,
    collect: Collection,
) {
    let service = store
        .repo()
        .service_by_slug(tenant, "hundesteuer-anmeldung")
        .await
        .unwrap()
        .unwrap();
    store
        .set_service_fee(
            tenant,
            service.id,
            &rathaus_storage::payments::NewServiceFee {
                fee: &fee,
                collect,
                haushaltsstelle: "6.1.1.01.403300",
                objektnummer: "P-61100-HST",
            },
            None,
        )
        .await
        .unwrap();
}

/// 12,00 € before sending.
fn twelve_euros() -> FeeSpec {
    FeeSpec::Fixed {
        amount: Money::parse("12.00").unwrap(),
    }
}

/// The payer at the provider's page: picks a method and `action` (`pay`,
/// `fail`, `cancel`); returns where the provider sends the browser back.
async fn at_provider(url: &str, action: &str) -> String {
    let http = client();
    let page = http.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200, "the pay page opens");
    let r = http
        .post(url)
        .form(&[("method", "paypal"), ("action", action)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "the provider sends the payer back");
    location(&r)
}

/// Polls until `check` holds (the provider's notification runs in the
/// background), at most 10 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = std::time::Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(10), "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The action of the (first) pay button on an applicant's page.
fn pay_action_of(page: &str) -> String {
    let at = page
        .find("/zahlung/")
        .unwrap_or_else(|| panic!("no pay button: {page}"));
    let from = page[..at].rfind('"').unwrap() + 1;
    let to = at + page[at..].find('"').unwrap();
    page[from..to].to_string()
}

fn inbox_has(inbox: &Value, reference: &str) -> bool {
    inbox.to_string().contains(reference)
}

#[tokio::test]
async fn through_the_api_an_application_is_received_once_paid() {
    let app = paying_app().await;
    let r = submit_api(
        &app,
        "hundesteuer-anmeldung",
        "pay-api-1",
        &hundesteuer_data(),
    )
    .await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "awaiting_payment", "{body}");
    let payment = &body["payment"];
    assert_eq!(payment["status"], "pending", "{body}");
    assert_eq!(payment["amount"], "12.00");
    assert_eq!(payment["currency"], "EUR");
    assert_eq!(payment["purpose"], "application");
    let url = payment["url"].as_str().unwrap().to_string();
    let reference = body["reference"].as_str().unwrap().to_string();
    let access = body["access_token"].as_str().unwrap().to_string();
    // A retry with the same key answers with the same payment.
    let again: Value = submit_api(
        &app,
        "hundesteuer-anmeldung",
        "pay-api-1",
        &hundesteuer_data(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(again["payment"]["id"], payment["id"]);
    assert_eq!(again["payment"]["url"], payment["url"]);

    // Not received yet: no clerk sees it in the inbox.
    let admin = token(&app, "admin@musterstadt.example").await;
    let clerk = steueramt_clerk(&app).await;
    let inbox = get_json(app.url("/api/v1/cases"), &clerk).await;
    assert!(!inbox_has(&inbox, &reference), "{inbox}");

    // Paid at the provider; its notification reaches the platform.
    let back = at_provider(&url, "pay").await;
    assert!(
        back.starts_with(&app.url(&format!("/antrag/{reference}/zahlung/zurueck"))),
        "{back}"
    );
    let mine = |token: String| {
        let url = app.url(&format!("/api/v1/applications/{reference}"));
        async move { get_json(url, &token).await }
    };
    eventually("the notification moves the payment", || {
        let m = mine(access.clone());
        async move { m.await["status"] == "received" }
    })
    .await;
    let now = mine(access.clone()).await;
    assert_eq!(now["payments"][0]["status"], "paid", "{now}");
    assert_eq!(now["payments"][0]["method"], "paypal");
    // A browser coming back without the session sees only the status.
    let (status, page) = app
        .get_text(&format!("/antrag/{reference}/zahlung/zurueck?txid=x"))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("return-paid"), "{page}");
    assert!(
        !page.contains("Erika"),
        "no personal data on the return page"
    );

    // The Zahlungsbestätigung is a PDF/A in the mailbox, posted once.
    run_jobs(&app).await;
    run_jobs(&app).await;
    let now = mine(access.clone()).await;
    let receipts: Vec<&Value> = now["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["files"].as_array().unwrap())
        .filter(|f| {
            f["name"]
                .as_str()
                .unwrap()
                .starts_with("Zahlungsbestaetigung-")
        })
        .collect();
    assert_eq!(receipts.len(), 1, "{now}");
    let pdf = client()
        .get(app.url(&format!(
            "/api/v1/applications/{reference}/files/{}",
            receipts[0]["id"].as_str().unwrap()
        )))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    crate::helpers::assert_pdfa_2b(&pdf, "Zahlungsbestätigung");

    // Now the case is in the Steueramt's inbox, with its audit entry.
    let inbox = get_json(app.url("/api/v1/cases"), &clerk).await;
    assert!(inbox_has(&inbox, &reference), "{inbox}");
    let case = now["case"].as_str().unwrap();
    let audit = get_json(app.url(&format!("/api/v1/cases/{case}/audit")), &clerk).await;
    assert!(audit.to_string().contains("payment_received"), "{audit}");

    // The day's list and CSV for the finance system (Fachadministration only).
    let today = chrono::Utc::now().date_naive().to_string();
    let list = get_json(
        app.url(&format!("/api/v1/payments?date={today}&status=paid")),
        &admin,
    )
    .await;
    let row = list["payments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["reference"] == reference.as_str())
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(row["haushaltsstelle"], "6.1.1.01.403300");
    let csv = client()
        .get(app.url(&format!("/api/v1/payments/reconciliation.csv?date={today}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    let line = csv
        .lines()
        .find(|l| l.contains(&reference))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(
        line.contains(";12.00;6.1.1.01.403300;P-61100-HST;pmpayment;"),
        "{line}"
    );
    assert!(line.ends_with(";paypal;paid"), "{line}");
    let r = client()
        .get(app.url(&format!("/api/v1/payments/reconciliation.csv?date={today}")))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // A forged notification for an open payment changes nothing.
    let r = submit_api(
        &app,
        "hundesteuer-anmeldung",
        "pay-api-2",
        &hundesteuer_data(),
    )
    .await;
    let second: Value = r.json().await.unwrap();
    let txid = second["payment"]["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let forged = format!(
        "ags={AGS}&txid={txid}&amount=1200&desc=x&status=1&payment_method=creditcard&procedure=x&created_at=2026-11-30T10%3A00%3A00Z"
    );
    let r = client()
        .post(app.url("/api/v1/payments/notify"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let still = get_json(
        app.url(&format!(
            "/api/v1/applications/{}",
            second["reference"].as_str().unwrap()
        )),
        second["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(still["status"], "awaiting_payment");
    assert_eq!(still["payments"][0]["status"], "pending");
    // Not a notification at all: a clear 4xx, never a 500.
    let r = client()
        .post(app.url("/api/v1/payments/notify"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("hallo=welt")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    app.stop().await;
}

#[tokio::test]
async fn in_the_browser_the_applicant_pays_comes_back_and_finds_the_receipt() {
    let app = paying_app().await;
    let r = submit_api(
        &app,
        "hundesteuer-anmeldung",
        "pay-web-1",
        &hundesteuer_data(),
    )
    .await;
    let body: Value = r.json().await.unwrap();
    let status_url = body["status_url"].as_str().unwrap().to_string();
    let browser = client();
    // The applicant's page says what to do, and offers to pay.
    let page = text(&browser, status_url.clone()).await;
    assert!(page.contains("id=\"awaiting-payment\""), "{page}");
    assert!(page.contains("12,00"), "{page}");
    let csrf = csrf_of(&page).unwrap();
    let pay_action = pay_action_of(&page);
    // A pay button's answer leads to the provider: the CSP allows it.
    let r = browser
        .post(app.url(&pay_action))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let to_provider = location(&r);
    let origin: String = to_provider.split('/').take(3).collect::<Vec<_>>().join("/");
    assert!(
        csp.contains(&format!("form-action 'self' {origin}")),
        "{csp}"
    );
    // Without the CSRF token: refused.
    let r = browser
        .post(app.url(&pay_action))
        .form(&[("csrf_token", "falsch")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // First the payer cancels: back on the page, told so, and can pay again.
    let back = at_provider(&to_provider, "cancel").await;
    let r = browser.get(back).send().await.unwrap();
    let again = location(&r);
    assert!(again.ends_with("?msg=payment_cancelled"), "{again}");
    let page = text(&browser, app.url(&again)).await;
    assert!(page.contains("id=\"payment-problem\""), "{page}");
    assert!(page.contains("pay-now"), "a new attempt is offered: {page}");

    // Then pays.
    let csrf = csrf_of(&page).unwrap();
    let pay_action = pay_action_of(&page);
    let r = browser
        .post(app.url(&pay_action))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let back = at_provider(&location(&r), "pay").await;
    let r = browser.get(back).send().await.unwrap();
    let confirmed = location(&r);
    assert!(confirmed.ends_with("?msg=paid"), "{confirmed}");
    let page = text(&browser, app.url(&confirmed)).await;
    assert!(!page.contains("id=\"awaiting-payment\""), "{page}");
    assert!(page.contains("data-status=\"paid\""), "{page}");
    run_jobs(&app).await;
    let page = text(&browser, status_url).await;
    assert!(
        page.contains("Zahlungsbestaetigung-MS2026"),
        "the receipt is in the mailbox: {page}"
    );

    // The clerk's case page shows the paid payment; its page shows the log.
    steueramt_clerk(&app).await;
    let clerk = staff_login(&app, "sachbearbeitung@musterstadt.example").await;
    let inbox = text(&clerk, app.url("/staff/cases")).await;
    let reference = body["reference"].as_str().unwrap();
    let start = inbox.find(reference).expect("the case is in the inbox");
    let href_end = inbox[..start].rfind("\">").unwrap();
    let href_start = inbox[..href_end].rfind("href=\"").unwrap() + 6;
    let case_page = text(&clerk, app.url(&inbox[href_start..href_end])).await;
    assert!(case_page.contains("id=\"case-payments\""), "{case_page}");
    assert!(case_page.contains("data-status=\"paid\""), "{case_page}");
    let admin = staff_login(&app, "admin@musterstadt.example").await;
    let list = text(&admin, app.url("/staff/zahlungen")).await;
    assert!(list.contains(reference), "{list}");
    app.stop().await;
}

#[tokio::test]
async fn a_clerk_asks_for_a_fee_later_and_refunds_need_four_eyes() {
    let app = paying_app().await;
    let store = app.db.as_ref().unwrap().store.clone();
    let tenant = tenant_of(&store).await;
    // The Hundesteuer fee is asked for later this time.
    hundesteuer_fee(&store, tenant, FeeSpec::Free, Collection::Later).await;
    let body: Value = submit_api(
        &app,
        "hundesteuer-anmeldung",
        "pay-later-1",
        &hundesteuer_data(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["status"], "received");
    assert!(body.get("payment").is_none(), "{body}");
    let reference = body["reference"].as_str().unwrap().to_string();
    let access = body["access_token"].as_str().unwrap().to_string();
    let admin = token(&app, "admin@musterstadt.example").await;
    let clerk = steueramt_clerk(&app).await;
    let case = get_json(
        app.url(&format!("/api/v1/applications/{reference}")),
        &clerk,
    )
    .await["case"]
        .as_str()
        .unwrap()
        .to_string();
    // Invalid amounts are refused by field.
    let r = client()
        .post(app.url(&format!("/api/v1/cases/{case}/fee-requests")))
        .bearer_auth(&clerk)
        .json(&json!({"amount": "zwölf", "purpose": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let err: Value = r.json().await.unwrap();
    let fields = err.to_string();
    assert!(
        fields.contains("amount") && fields.contains("purpose"),
        "{err}"
    );
    // An editor or the Fachadministration may not ask (clerks' work).
    for other in [&admin] {
        let r = client()
            .post(app.url(&format!("/api/v1/cases/{case}/fee-requests")))
            .bearer_auth(other)
            .json(&json!({"amount": "75.00", "purpose": "Prüfung"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
    let editor = token(&app, "redaktion@musterstadt.example").await;
    let r = client()
        .post(app.url(&format!("/api/v1/cases/{case}/fee-requests")))
        .bearer_auth(&editor)
        .json(&json!({"amount": "75.00", "purpose": "Prüfung"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = client()
        .post(app.url(&format!("/api/v1/cases/{case}/fee-requests")))
        .bearer_auth(&clerk)
        .json(&json!({"amount": "75.00", "purpose": "Verwaltungsgebühr Hundesteuerbescheid"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let requested: Value = r.json().await.unwrap();
    assert_eq!(requested["status"], "created");
    assert_eq!(requested["purpose"], "fee_request");
    // The applicant finds it in the mailbox and pays on the page.
    let mine = get_json(
        app.url(&format!("/api/v1/applications/{reference}")),
        &access,
    )
    .await;
    assert!(mine.to_string().contains("Gebührenanforderung"), "{mine}");
    let browser = client();
    let page = text(&browser, app.url(&format!("/antrag/eingang/{access}"))).await;
    let csrf = csrf_of(&page).unwrap();
    let id = requested["id"].as_str().unwrap();
    let r = browser
        .post(app.url(&format!("/antrag/eingang/{access}/zahlung/{id}")))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let back = at_provider(&location(&r), "pay").await;
    let r = browser.get(back).send().await.unwrap();
    assert!(location(&r).ends_with("?msg=paid"));
    run_jobs(&app).await;

    // The Bescheid asks for a further fee: a second request in the mailbox.
    // A broken amount is refused before anything is decided.
    crate::helpers::claim_case(&app, &clerk, &reference).await;
    let decide = |fee: &'static str| {
        let url = app.url(&format!("/api/v1/cases/{case}/decide"));
        let clerk = clerk.clone();
        async move {
            client()
                .post(url)
                .bearer_auth(clerk)
                .json(&json!({"variant": "approval", "reason": "Alles vollständig.", "fee": fee}))
                .send()
                .await
                .unwrap()
        }
    };
    let r = decide("sieben").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("\"fee\""));
    assert_eq!(decide("7,50").await.status(), 200);
    let mine = get_json(
        app.url(&format!("/api/v1/applications/{reference}")),
        &access,
    )
    .await;
    assert_eq!(mine["status"], "decided", "{mine}");
    let requests: Vec<&Value> = mine["payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["purpose"] == "fee_request")
        .collect();
    assert_eq!(requests.len(), 2, "{mine}");
    assert!(
        requests
            .iter()
            .any(|p| p["amount"] == "7.50" && p["status"] == "created")
    );

    // A refund of 60.00 is above the demo's threshold (50.00): the clerk
    // who asked cannot approve it, the Fachadministration can.
    let r = client()
        .post(app.url(&format!("/api/v1/payments/{id}/refunds")))
        .bearer_auth(&clerk)
        .json(&json!({"amount": "60.00", "reason": "Gebühr zu hoch festgesetzt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let refund: Value = r.json().await.unwrap();
    assert_eq!(refund["status"], "pending");
    let approve = |who: String| {
        let url = app.url(&format!(
            "/api/v1/refunds/{}/approve",
            refund["id"].as_str().unwrap()
        ));
        async move { client().post(url).bearer_auth(who).send().await.unwrap() }
    };
    assert_eq!(
        approve(clerk.clone()).await.status(),
        409,
        "not by the requester"
    );
    let editor_token = token(&app, "redaktion@musterstadt.example").await;
    assert_eq!(approve(editor_token).await.status(), 403);
    assert_eq!(approve(admin.clone()).await.status(), 200);
    let detail = get_json(app.url(&format!("/api/v1/payments/{id}")), &admin).await;
    assert_eq!(detail["status"], "partially_refunded", "{detail}");
    assert_eq!(detail["refunded"], "60.00");
    // More than what is left is refused.
    let r = client()
        .post(app.url(&format!("/api/v1/payments/{id}/refunds")))
        .bearer_auth(&admin)
        .json(&json!({"amount": "20.00", "reason": "zu viel"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    app.stop().await;
}

/// The demo clerk also works the Steueramt (where Hundesteuer cases go);
/// returns the clerk's token.
async fn steueramt_clerk(app: &TestApp) -> String {
    grant_steueramt(app).await;
    token(app, "sachbearbeitung@musterstadt.example").await
}

/// A server process that is killed when the test ends, also on a panic.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `kill -9` of the server after the payer paid at the provider and before
/// the notification arrived: nothing is lost. The provider's notifications
/// fail while the server is down; after the restart the reconciliation job
/// asks the provider, the application is received and the receipt posted.
#[tokio::test]
async fn kill_9_between_the_providers_success_and_its_notification_loses_nothing() {
    let db = TestDb::new().await;
    let tenant = rathaus::demo::seed(&db.store).await.unwrap();
    rathaus::demo::seed_payments(&db.store, tenant)
        .await
        .unwrap();
    hundesteuer_fee(&db.store, tenant, twelve_euros(), Collection::Before).await;
    let provider = provider().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let dir = std::env::temp_dir().join(format!("rathaus-pay-kill-{}", uuid::Uuid::new_v4()));
    let serve = || {
        let mut c = bin();
        c.env("RATHAUS_DATA_DIR", &dir)
            .env("RATHAUS_DATABASE_URL", &db.url)
            .env("RATHAUS_LISTEN", format!("127.0.0.1:{port}"))
            .env("RATHAUS_PUBLIC_URL", &base)
            .env("RATHAUS_DEFAULT_TENANT", "musterstadt")
            .env("RATHAUS_PAYMENT_PROVIDER_URL", &provider)
            .env("RATHAUS_PAYMENT_SECRET", SECRET)
            .env("RATHAUS_PAYMENT_AGS", AGS)
            .env("RATHAUS_PAYMENT_RECONCILE_SECS", "1")
            .arg("serve")
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let up = |base: String| async move {
        let started = std::time::Instant::now();
        loop {
            if let Ok(r) = client().get(format!("{base}/healthz")).send().await
                && r.status() == 200
            {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "server did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let mut server = Killed(serve());
    up(base.clone()).await;
    let body: Value = submit_api(
        base.as_str(),
        "hundesteuer-anmeldung",
        "kill-9-test-1",
        &hundesteuer_data(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["status"], "awaiting_payment", "{body}");
    let reference = body["reference"].as_str().unwrap().to_string();
    let access = body["access_token"].as_str().unwrap().to_string();
    let url = body["payment"]["url"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string();

    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();
    // The payer pays; the provider's notification finds nobody, the
    // browser's return too.
    at_provider(&url, "pay").await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let _server = Killed(serve());
    up(base.clone()).await;
    let started = std::time::Instant::now();
    loop {
        let now = get_json(format!("{base}/api/v1/applications/{reference}"), &access).await;
        let has_receipt = now["messages"]
            .to_string()
            .contains("Zahlungsbestaetigung-");
        if now["status"] == "received" && now["payments"][0]["status"] == "paid" && has_receipt {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not reconciled after the restart: {now}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(_server);
    let _ = std::fs::remove_dir_all(&dir);
    db.drop_db().await;
}
