//! E-Payment without the web layer, against the real test provider over HTTP
//! (`rathaus-payprovider` on a port of its own): start, pay at the provider,
//! the return confirmed by the provider's status endpoint; a forged
//! notification, a replayed one, a payment whose notification never came
//! (reconciliation), refunds with four eyes, the day's CSV. SQLite, or
//! PostgreSQL with `RATHAUS_TEST_POSTGRES_URL`.

mod support;

use std::sync::Arc;

use rathaus_app::{
    Actor, UseCaseError,
    payments::{PaymentConfig, PmPaymentClient},
};
use rathaus_domain::payments::{
    KassenzeichenScheme, Money, PaymentStatus, Purpose, verify_kassenzeichen,
};
use rathaus_storage::prelude::*;
use support::{World, world};

const SECRET: &str = "geheim-fuer-tests";
const AGS: &str = "06435999";

/// The test provider on a free port, and the app configured for it.
async fn with_provider(w: &mut World) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = rathaus_payprovider::ProviderConfig {
        secret: SECRET.into(),
        ags: Some(AGS.into()),
        public_url: base.clone(),
    };
    tokio::spawn(rathaus_payprovider::serve(
        listener,
        config,
        std::future::pending(),
    ));
    w.app.payments = Some(Arc::new(PaymentConfig {
        provider: Arc::new(PmPaymentClient::new(&base, SECRET, AGS).unwrap()),
        // Nobody listens there: notifications fail, the platform must not
        // depend on them.
        public_url: "http://127.0.0.1:9".into(),
    }));
    w.app
        .store
        .set_payment_settings(
            w.tenant,
            "Gewerbe",
            "MS",
            &KassenzeichenScheme::default(),
            Money::parse("10.00").unwrap(),
        )
        .await
        .unwrap();
    base
}

async fn reference_of(w: &World, application: uuid::Uuid) -> String {
    w.app
        .store
        .repo()
        .application(w.tenant, application)
        .await
        .unwrap()
        .unwrap()
        .reference
}

async fn application_of_case(w: &World) -> uuid::Uuid {
    w.app
        .store
        .repo()
        .case(w.tenant, w.case)
        .await
        .unwrap()
        .unwrap()
        .application_id
}

/// The payer at the provider's page: pays, fails or cancels (`silent`: the
/// provider sends no notification).
async fn at_provider(url: &str, action: &str, silent: bool) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200, "the pay page opens");
    let mut form = vec![("method", "creditcard"), ("action", action)];
    if silent {
        form.push(("silent", "1"));
    }
    let r = http.post(url).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303, "the provider sends the payer back");
}

#[tokio::test]
async fn a_fee_is_paid_at_the_provider_and_confirmed_by_its_status() {
    rathaus_storage::install_tls_crypto_provider();
    let mut w = world().await;
    with_provider(&mut w).await;
    let app_id = application_of_case(&w).await;
    let applicant = Actor::Applicant {
        tenant: w.tenant,
        application: app_id,
    };
    let p = w
        .app
        .create_payment(
            w.tenant,
            app_id,
            Purpose::FeeRequest,
            Money::parse("26.00").unwrap(),
            "Gewerbe-Anmeldung",
            ("1.1100.431000", "4711"),
        )
        .await
        .unwrap();
    assert_eq!(p.status(), PaymentStatus::Created);
    assert!(
        verify_kassenzeichen(&p.kassenzeichen),
        "{}",
        p.kassenzeichen
    );
    // Only its applicant starts it.
    assert!(matches!(
        w.app.start_payment(&w.clerk, None, p.id).await,
        Err(UseCaseError::Forbidden)
    ));
    let started = w.app.start_payment(&applicant, None, p.id).await.unwrap();
    assert_eq!(started.payment.status(), PaymentStatus::Pending);
    // Starting again resumes the same transaction.
    let again = w.app.start_payment(&applicant, None, p.id).await.unwrap();
    assert_eq!(again.url, started.url);

    // A forged notification (paid, says it) changes nothing: the provider
    // says the payment is still open.
    let txid = started.payment.provider_txid.clone().unwrap();
    let forged = format!(
        "ags={AGS}&txid={txid}&amount=2600&desc=x&status=1&payment_method=creditcard&procedure=Gewerbe&created_at=2026-11-30T10%3A00%3A00Z"
    );
    let after = w
        .app
        .payment_notification(forged.as_bytes())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after.status(),
        PaymentStatus::Pending,
        "a forged notification changes nothing"
    );
    // Another municipality's or an unknown transaction: nothing.
    let other = forged.replace(AGS, "09162000");
    assert!(
        w.app
            .payment_notification(other.as_bytes())
            .await
            .unwrap()
            .is_none()
    );

    at_provider(&started.url, "pay", false).await;
    let back = w
        .app
        .payment_returned(w.tenant, &reference_of(&w, app_id).await, None)
        .await
        .unwrap();
    assert_eq!(back[0].status(), PaymentStatus::Paid);
    assert_eq!(back[0].method.as_deref(), Some("creditcard"));
    // The notification arriving late (replayed) is ignored.
    let replay = w
        .app
        .payment_notification(forged.as_bytes())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(replay.status(), PaymentStatus::Paid);
    let events = w
        .app
        .store
        .repo()
        .payment_events(w.tenant, p.id)
        .await
        .unwrap();
    let outcomes: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.event.as_str(), e.outcome.as_str()))
        .collect();
    assert!(
        outcomes.contains(&("provider_paid", "applied")),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&("provider_paid", "ignored")),
        "{outcomes:?}"
    );
    // The day's export has the row.
    let csv = w
        .app
        .reconciliation_csv(&w.admin, chrono::Utc::now().date_naive())
        .await
        .unwrap();
    assert!(csv.contains(&p.kassenzeichen), "{csv}");
    assert!(csv.contains("26.00;1.1100.431000;4711;pmpayment"), "{csv}");
    assert!(matches!(
        w.app
            .reconciliation_csv(&w.clerk, chrono::Utc::now().date_naive())
            .await,
        Err(UseCaseError::Forbidden)
    ));
    w.db.drop_db().await;
}

#[tokio::test]
async fn a_payer_who_never_returns_is_found_by_the_reconciliation() {
    rathaus_storage::install_tls_crypto_provider();
    let mut w = world().await;
    with_provider(&mut w).await;
    let app_id = application_of_case(&w).await;
    let applicant = Actor::Applicant {
        tenant: w.tenant,
        application: app_id,
    };
    let p = w
        .app
        .create_payment(
            w.tenant,
            app_id,
            Purpose::FeeRequest,
            Money::parse("30.70").unwrap(),
            "Bewohnerparkausweis",
            ("1.1200.431000", "0815"),
        )
        .await
        .unwrap();
    let started = w.app.start_payment(&applicant, None, p.id).await.unwrap();
    // Paid at the provider, but neither a notification nor the return.
    at_provider(&started.url, "pay", true).await;
    let n = w
        .app
        .reconcile_payments(chrono::Duration::zero())
        .await
        .unwrap();
    assert!(n >= 1);
    let now = w
        .app
        .store
        .repo()
        .payment(w.tenant, p.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.status(), PaymentStatus::Paid);
    w.db.drop_db().await;
}

/// A notification for `payment` claiming `status` (1 paid, 0 failed, -1 open).
fn notification(txid: &str, cents: u64, status: i32) -> String {
    format!(
        "ags={AGS}&txid={txid}&amount={cents}&desc=x&status={status}&payment_method=creditcard&procedure=x&created_at=2026-11-30T10%3A00%3A00Z"
    )
}

async fn events(w: &World, payment: uuid::Uuid) -> Vec<(String, String, String)> {
    w.app
        .store
        .repo()
        .payment_events(w.tenant, payment)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.source, e.event, e.outcome))
        .collect()
}

#[tokio::test]
async fn notifications_out_of_order_or_against_the_providers_status_change_nothing_wrong() {
    rathaus_storage::install_tls_crypto_provider();
    let mut w = world().await;
    with_provider(&mut w).await;
    let app_id = application_of_case(&w).await;
    let applicant = Actor::Applicant {
        tenant: w.tenant,
        application: app_id,
    };
    let new_payment = |amount: &'static str| {
        let w = &w;
        async move {
            let p = w
                .app
                .create_payment(
                    w.tenant,
                    app_id,
                    Purpose::FeeRequest,
                    Money::parse(amount).unwrap(),
                    "Gebühr",
                    ("1.1100.431000", "4711"),
                )
                .await
                .unwrap();
            let applicant = Actor::Applicant {
                tenant: w.tenant,
                application: app_id,
            };
            w.app.start_payment(&applicant, None, p.id).await.unwrap()
        }
    };

    // The provider says failed, the notification says paid: failed.
    let a = new_payment("10.00").await;
    let txid_a = a.payment.provider_txid.clone().unwrap();
    at_provider(&a.url, "fail", true).await;
    let after = w
        .app
        .payment_notification(notification(&txid_a, 1000, 1).as_bytes())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after.status(),
        PaymentStatus::Failed,
        "the provider's status decides"
    );

    // Paid, then a late "failed" and an "open" arrive (out of order): the
    // provider still says paid, nothing changes, each is logged as ignored.
    let b = new_payment("20.00").await;
    let txid_b = b.payment.provider_txid.clone().unwrap();
    at_provider(&b.url, "pay", true).await;
    for status in [1, 0, -1, 1] {
        let now = w
            .app
            .payment_notification(notification(&txid_b, 2000, status).as_bytes())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            now.status(),
            PaymentStatus::Paid,
            "after a notification of {status}"
        );
    }
    let log = events(&w, b.payment.id).await;
    let applied = log
        .iter()
        .filter(|(_, e, o)| e == "provider_paid" && o == "applied")
        .count();
    let ignored = log
        .iter()
        .filter(|(_, e, o)| e == "provider_paid" && o == "ignored")
        .count();
    assert_eq!(applied, 1, "paid once: {log:?}");
    assert_eq!(ignored, 3, "{log:?}");

    // A notification with another amount than paid: the provider's amount is
    // what counts (and it matches): paid, once.
    let c = new_payment("30.00").await;
    let txid_c = c.payment.provider_txid.clone().unwrap();
    at_provider(&c.url, "pay", true).await;
    let now = w
        .app
        .payment_notification(notification(&txid_c, 1, 1).as_bytes())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.status(), PaymentStatus::Paid);
    assert_eq!(now.amount_cents, 3000);

    // Garbage is refused as such, never a panic.
    assert!(w.app.payment_notification(b"\xff\x00=&&==").await.is_err());
    assert!(
        w.app
            .payment_notification(b"ags=06435999&txid=unknown&amount=1&desc=x&status=1&payment_method=x&procedure=x&created_at=x")
            .await
            .map(|p| p.is_none())
            .unwrap_or(true)
    );
    // The applicant returning with the transaction of a cancelled attempt:
    // cancelled, so that a new attempt can be made.
    let d = new_payment("40.00").await;
    let txid_d = d.payment.provider_txid.clone().unwrap();
    at_provider(&d.url, "cancel", true).await;
    let reference = reference_of(&w, app_id).await;
    let back = w
        .app
        .payment_returned(w.tenant, &reference, Some("not-this-one"))
        .await
        .unwrap();
    let d_now = back.iter().find(|p| p.id == d.payment.id).unwrap();
    assert_eq!(
        d_now.status(),
        PaymentStatus::Pending,
        "another txid cancels nothing"
    );
    let back = w
        .app
        .payment_returned(w.tenant, &reference, Some(&txid_d))
        .await
        .unwrap();
    let d_now = back.iter().find(|p| p.id == d.payment.id).unwrap();
    assert_eq!(d_now.status(), PaymentStatus::Cancelled);
    let _ = applicant;
    w.db.drop_db().await;
}

#[tokio::test]
async fn refunds_above_the_threshold_need_a_second_person() {
    rathaus_storage::install_tls_crypto_provider();
    let mut w = world().await;
    with_provider(&mut w).await;
    let app_id = application_of_case(&w).await;
    let applicant = Actor::Applicant {
        tenant: w.tenant,
        application: app_id,
    };
    let p = w
        .app
        .create_payment(
            w.tenant,
            app_id,
            Purpose::FeeRequest,
            Money::parse("36.00").unwrap(),
            "Gewerbe-Anmeldung",
            ("1.1100.431000", "4711"),
        )
        .await
        .unwrap();
    let started = w.app.start_payment(&applicant, None, p.id).await.unwrap();
    at_provider(&started.url, "pay", true).await;
    w.app
        .payment_returned(w.tenant, &reference_of(&w, app_id).await, None)
        .await
        .unwrap();

    // Up to the threshold (10.00) at once.
    let small = w
        .app
        .request_refund(
            &w.clerk,
            p.id,
            Money::parse("5.00").unwrap(),
            "Doppelt berechnet",
        )
        .await
        .unwrap();
    assert_eq!(small.status, "done");
    let now = w
        .app
        .store
        .repo()
        .payment(w.tenant, p.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.status(), PaymentStatus::PartiallyRefunded);
    // Above it: waiting; the requester cannot approve; another person can.
    let big = w
        .app
        .request_refund(
            &w.clerk,
            p.id,
            Money::parse("20.00").unwrap(),
            "Antrag zurückgenommen",
        )
        .await
        .unwrap();
    assert_eq!(big.status, "pending");
    assert!(matches!(
        w.app.approve_refund(&w.clerk, big.id).await,
        Err(UseCaseError::Workflow("payment.own_approval"))
    ));
    let done = w.app.approve_refund(&w.admin, big.id).await.unwrap();
    assert_eq!(done.status, "done");
    let now = w
        .app
        .store
        .repo()
        .payment(w.tenant, p.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.refunded_cents, 2500);
    // Never more than was paid.
    assert!(matches!(
        w.app
            .request_refund(&w.admin, p.id, Money::parse("20.00").unwrap(), "Zu viel")
            .await,
        Err(UseCaseError::Workflow(_))
    ));
    // The other unit's clerk does not see the payment.
    assert!(matches!(
        w.app
            .request_refund(&w.other_clerk, p.id, Money::parse("1.00").unwrap(), "x")
            .await,
        Err(UseCaseError::NotFound)
    ));
    w.db.drop_db().await;
}
