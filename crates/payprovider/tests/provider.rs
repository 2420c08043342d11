//! The test provider in process (tower `oneshot`) and over real TCP with a
//! notification receiver.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use rathaus_payprovider::{MAX_BODY_BYTES, ProviderConfig, router, serve};
use rathaus_standards::pmpayment::{
    Notification, PaymentStatus, StartRequest, StartResponse, StatusResponse,
};
use tokio::sync::mpsc;
use tower::ServiceExt;

const SECRET: &str = "test-secret-0815";
const AGS: &str = "09162000";

fn config(public_url: &str) -> ProviderConfig {
    ProviderConfig {
        secret: SECRET.into(),
        ags: Some(AGS.into()),
        public_url: public_url.into(),
    }
}

fn start_request(notify_url: &str) -> StartRequest {
    StartRequest::new(
        AGS,
        2600,
        "Bewohnerparkausweis",
        "Parkausweis <b>M-AB 1234</b> & \"Anwohner\" 'Zone 3'",
        notify_url,
        "https://rathaus.example/antrag/42?schritt=zahlung",
    )
    .unwrap()
}

fn form(fields: &[(String, String)]) -> String {
    serde_urlencoded::to_string(fields).unwrap()
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response: Response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

fn post_form(uri: &str, body: String) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn error_code(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["error"].as_str().unwrap().to_owned()
}

/// Starts a payment in process; returns the txid.
async fn started(app: &Router) -> String {
    let fields = start_request("http://127.0.0.1:9/notify").form_fields(SECRET.as_bytes());
    let (status, headers, body) = send(app, post_form("/payment/start", form(&fields))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let answer = StartResponse::parse(body.as_bytes()).unwrap();
    assert_eq!(answer.url, format!("http://pay.test/pay/{}", answer.txid));
    assert!(uuid::Uuid::parse_str(&answer.txid).is_ok());
    answer.txid
}

async fn status_of(app: &Router, txid: &str) -> StatusResponse {
    let (status, _, body) = send(app, get(&format!("/payment/status/{AGS}/{txid}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    StatusResponse::parse(body.as_bytes()).unwrap()
}

#[tokio::test]
async fn start_and_status() {
    let app = router(config("http://pay.test/"));
    let txid = started(&app).await;
    let s = status_of(&app, &txid).await;
    assert_eq!(s.status, PaymentStatus::Open);
    assert_eq!(s.amount, 2600);
    assert_eq!(s.payment_method, None);
    assert_eq!(s.check(&txid, 2600), Ok(PaymentStatus::Open));
}

#[tokio::test]
async fn start_refusals() {
    let app = router(config("http://pay.test"));
    let good = start_request("http://127.0.0.1:9/notify").form_fields(SECRET.as_bytes());

    // Wrong secret, tampered amount, missing hash: 401.
    let wrong = start_request("http://127.0.0.1:9/notify").form_fields(b"other");
    let (status, _, body) = send(&app, post_form("/payment/start", form(&wrong))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "pm.hash_mismatch");
    let tampered: Vec<_> = good
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                if k == "amount" { "1".into() } else { v.clone() },
            )
        })
        .collect();
    let (status, _, _) = send(&app, post_form("/payment/start", form(&tampered))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let no_hash: Vec<_> = good.iter().filter(|(k, _)| k != "hash").cloned().collect();
    let (status, _, body) = send(&app, post_form("/payment/start", form(&no_hash))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "pm.missing_field");

    // Signed but invalid: 400 naming the problem.
    let mut invalid = start_request("http://127.0.0.1:9/notify");
    invalid.desc = "x".repeat(201);
    let (status, _, body) = send(
        &app,
        post_form(
            "/payment/start",
            form(&invalid.form_fields(SECRET.as_bytes())),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "pm.invalid_field");

    // Another municipality than configured: 403.
    let mut other = start_request("http://127.0.0.1:9/notify");
    other.ags = "05315000".into();
    let (status, _, body) = send(
        &app,
        post_form(
            "/payment/start",
            form(&other.form_fields(SECRET.as_bytes())),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "provider.unknown_ags");

    // Not a form, a broken form, too large.
    let json = Request::post("/payment/start")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(send(&app, json).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _, body) = send(&app, post_form("/payment/start", "ags=%zz".into())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "pm.malformed_form");
    let big = format!("desc={}", "a".repeat(MAX_BODY_BYTES));
    assert_eq!(
        send(&app, post_form("/payment/start", big)).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );

    // Any AGS when none is configured; an empty secret is a setup error.
    let open = router(ProviderConfig {
        ags: None,
        ..config("http://pay.test")
    });
    let (status, _, _) = send(
        &open,
        post_form(
            "/payment/start",
            form(&other.form_fields(SECRET.as_bytes())),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let broken = router(ProviderConfig {
        secret: String::new(),
        ..config("http://pay.test")
    });
    let (status, _, body) = send(&broken, post_form("/payment/start", form(&good))).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error_code(&body), "pm.empty_secret");
}

#[tokio::test]
async fn pay_page_is_plain_accessible_and_escaped() {
    let app = router(config("http://pay.test"));
    let txid = started(&app).await;
    let (status, headers, page) = send(&app, get(&format!("/pay/{txid}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(
        headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"de\">"));
    assert!(page.contains("26,00 €"));
    assert!(page.contains("Bewohnerparkausweis"));
    assert!(page.contains(
        "Parkausweis &lt;b&gt;M-AB 1234&lt;/b&gt; &amp; &quot;Anwohner&quot; &#39;Zone 3&#39;"
    ));
    assert!(!page.contains("<b>"));
    for forbidden in ["<script", "style=", "<style", "onclick", "javascript:"] {
        assert!(!page.contains(forbidden), "{forbidden}");
    }
    assert!(page.contains("<fieldset>") && page.contains("<legend>Zahlungsart"));
    for (value, label) in [
        ("creditcard", "Kreditkarte"),
        ("paypal", "PayPal"),
        ("giropay", "giropay/paydirekt"),
        ("sepa", "SEPA-Lastschrift"),
    ] {
        assert!(page.contains(&format!(
            "<input type=\"radio\" id=\"method-{value}\" name=\"method\" value=\"{value}\""
        )));
        assert!(page.contains(&format!("<label for=\"method-{value}\">{label}")));
    }
    assert!(page.contains("<label for=\"silent\">Keine Benachrichtigung senden (Test)"));
    for (value, label) in [
        ("pay", "Bezahlen"),
        ("fail", "Fehlschlagen lassen"),
        ("cancel", "Abbrechen"),
    ] {
        assert!(page.contains(&format!(
            "<button type=\"submit\" name=\"action\" value=\"{value}\">{label}"
        )));
    }
    assert!(page.contains("<link rel=\"stylesheet\" href=\"../provider.css\">"));
    let (status, headers, css) = send(&app, get("/provider.css")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    assert!(css.contains("body{"));

    let (status, _, page) = send(&app, get("/pay/unknown-tx")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("<html lang=\"de\">"));
}

#[tokio::test]
async fn pay_fail_cancel_and_redirect() {
    let app = router(config("http://pay.test"));
    for (action, method, expected, method_out) in [
        ("pay", "paypal", PaymentStatus::Paid, Some("paypal")),
        ("fail", "sepa", PaymentStatus::Failed, Some("sepa")),
        ("cancel", "", PaymentStatus::Open, None),
    ] {
        let txid = started(&app).await;
        let body = format!("method={method}&action={action}&silent=1");
        let (status, headers, _) =
            send(&app, post_form(&format!("/pay/{txid}"), body.clone())).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{action}");
        assert_eq!(
            headers[header::LOCATION],
            format!("https://rathaus.example/antrag/42?schritt=zahlung&txid={txid}").as_str()
        );
        let s = status_of(&app, &txid).await;
        assert_eq!(s.status, expected);
        assert_eq!(s.payment_method.as_deref(), method_out);
        // Decided once: the page says so, a second decision is refused.
        let (status, _, page) = send(&app, get(&format!("/pay/{txid}"))).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Zahlung abgeschlossen"));
        assert!(!page.contains("<form"));
        let again = send(&app, post_form(&format!("/pay/{txid}"), body)).await;
        assert_eq!(again.0, StatusCode::CONFLICT);
        assert_eq!(status_of(&app, &txid).await.status, expected);
    }
}

#[tokio::test]
async fn pay_form_refusals() {
    let app = router(config("http://pay.test"));
    let txid = started(&app).await;
    let uri = format!("/pay/{txid}");
    for body in [
        "method=paypal",
        "method=paypal&action=steal",
        "method=bitcoin&action=pay",
        "action=pay",
        "method=paypal&action=pay&action=cancel",
        "method=paypal&action=pay&silent=maybe",
        "method=%ff&action=pay",
    ] {
        let (status, _, page) = send(&app, post_form(&uri, body.into())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(page.contains("<html lang=\"de\">"));
    }
    // Still open after the refusals.
    assert_eq!(status_of(&app, &txid).await.status, PaymentStatus::Open);
    let (status, _, _) = send(
        &app,
        post_form("/pay/nope", "method=paypal&action=pay".into()),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let big = format!("method={}", "a".repeat(MAX_BODY_BYTES));
    assert_eq!(
        send(&app, post_form(&uri, big)).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn status_refusals_and_health() {
    let app = router(config("http://pay.test"));
    let txid = started(&app).await;
    let (status, _, body) = send(&app, get(&format!("/payment/status/05315000/{txid}"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "provider.ags_mismatch");
    let (status, _, body) = send(&app, get(&format!("/payment/status/0916/{txid}"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "pm.invalid_field");
    let (status, _, body) = send(
        &app,
        get(&format!("/payment/status/{AGS}/{}", uuid::Uuid::new_v4())),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&body), "provider.unknown_txid");
    let (status, _, _) = send(&app, get(&format!("/payment/status/{AGS}/a%20b"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = send(&app, get("/healthz")).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
    assert_eq!(send(&app, get("/nothing")).await.0, StatusCode::NOT_FOUND);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Arbitrary bodies never make the provider fail (5xx) or panic.
    #[test]
    fn arbitrary_bodies_are_answered(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let app = router(config("http://pay.test"));
            let txid = started(&app).await;
            for uri in ["/payment/start".to_owned(), format!("/pay/{txid}")] {
                let request = Request::post(uri.as_str())
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body.clone()))
                    .unwrap();
                let (status, _, _) = send(&app, request).await;
                assert!(!status.is_server_error(), "{uri}: {status}");
            }
        });
    }
}

// ---------------------------------------------------------------------------
// Over TCP

/// A notification receiver on port 0: every POST body lands in the channel;
/// the first `fail_first` answers are 500.
async fn receiver(
    fail_first: usize,
) -> (SocketAddr, mpsc::UnboundedReceiver<Bytes>, Arc<AtomicUsize>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = Router::new().route(
        "/notify",
        axum::routing::post(move |body: Bytes| {
            let tx = tx.clone();
            let counter = counter.clone();
            async move {
                if counter.fetch_add(1, Ordering::SeqCst) < fail_first {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let _ = tx.send(body);
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, rx, calls)
}

struct Provider {
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn provider() -> Provider {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, config(&base), async {
        let _ = stopped.await;
    }));
    Provider { base, stop, task }
}

fn client() -> reqwest::Client {
    // Should reqwest's rustls be built in (workspace feature unification).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn start_over_tcp(client: &reqwest::Client, p: &Provider, notify_url: &str) -> StartResponse {
    let fields = start_request(notify_url).form_fields(SECRET.as_bytes());
    let r = client
        .post(format!("{}/payment/start", p.base))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let answer = StartResponse::parse(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(answer.url, format!("{}/pay/{}", p.base, answer.txid));
    answer
}

async fn choose(client: &reqwest::Client, url: &str, fields: &[(&str, &str)]) -> String {
    let page = client.get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("26,00 €"));
    let r = client.post(url).form(fields).send().await.unwrap();
    assert_eq!(r.status(), 303);
    r.headers()[header::LOCATION].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn over_tcp_notification_arrives_and_silent_sends_none() {
    let (notify_addr, mut notifications, calls) = receiver(0).await;
    let notify_url = format!("http://{notify_addr}/notify");
    let p = provider().await;
    let client = client();

    // Paid: the notification arrives with the right fields.
    let started = start_over_tcp(&client, &p, &notify_url).await;
    let location = choose(
        &client,
        &started.url,
        &[("method", "creditcard"), ("action", "pay")],
    )
    .await;
    assert_eq!(
        location,
        format!(
            "https://rathaus.example/antrag/42?schritt=zahlung&txid={}",
            started.txid
        )
    );
    let body = tokio::time::timeout(Duration::from_secs(10), notifications.recv())
        .await
        .expect("notification within 10 s")
        .unwrap();
    let n = Notification::parse_form(&body).unwrap();
    assert_eq!(n.ags, AGS);
    assert_eq!(n.txid, started.txid);
    assert_eq!(n.amount, 2600);
    assert_eq!(n.desc, start_request(&notify_url).desc);
    assert_eq!(n.procedure, "Bewohnerparkausweis");
    assert_eq!(n.status, PaymentStatus::Paid);
    assert_eq!(n.payment_method.as_deref(), Some("creditcard"));
    assert!(chrono::DateTime::parse_from_rfc3339(&n.created_at).is_ok());
    // The platform's confirmation: ask the provider, check the amount.
    let r = client
        .get(format!("{}/payment/status/{AGS}/{}", p.base, started.txid))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let s = StatusResponse::parse(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(s.check(&started.txid, 2600), Ok(PaymentStatus::Paid));
    assert_eq!(s.payment_method.as_deref(), Some("creditcard"));

    // Silent: paid at the provider, but no notification.
    let silent = start_over_tcp(&client, &p, &notify_url).await;
    choose(
        &client,
        &silent.url,
        &[("method", "giropay"), ("action", "pay"), ("silent", "1")],
    )
    .await;
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), notifications.recv())
            .await
            .is_err(),
        "a silent payment sent a notification"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let r = client
        .get(format!("{}/payment/status/{AGS}/{}", p.base, silent.txid))
        .send()
        .await
        .unwrap();
    let s = StatusResponse::parse(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(s.check(&silent.txid, 2600), Ok(PaymentStatus::Paid));

    let r = client
        .get(format!("{}/healthz", p.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "ok");
    p.stop.send(()).unwrap();
    p.task.await.unwrap().unwrap();
}

#[tokio::test]
async fn over_tcp_notification_is_retried() {
    let (notify_addr, mut notifications, calls) = receiver(2).await;
    let notify_url = format!("http://{notify_addr}/notify?tenant=musterstadt");
    let p = provider().await;
    let client = client();
    let started = start_over_tcp(&client, &p, &notify_url).await;
    let location = choose(
        &client,
        &started.url,
        &[("method", "sepa"), ("action", "fail")],
    )
    .await;
    assert!(location.ends_with(&format!("&txid={}", started.txid)));
    let body = tokio::time::timeout(Duration::from_secs(10), notifications.recv())
        .await
        .expect("notification after two refusals")
        .unwrap();
    let n = Notification::parse_form(&body).unwrap();
    assert_eq!(n.status, PaymentStatus::Failed);
    assert_eq!(n.txid, started.txid);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    p.stop.send(()).unwrap();
    p.task.await.unwrap().unwrap();
}
