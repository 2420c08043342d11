//! A test payment provider speaking pmPayment
//! ([`rathaus_standards::pmpayment`]), for tests, demos and end-to-end
//! walks. It moves no money: the citizen picks the outcome on the pay page.
//!
//! | route                              | what                                                    |
//! |------------------------------------|---------------------------------------------------------|
//! | `POST /payment/start`              | form, checked with [`pmpayment::verify_start`]; answers `{"url": "<public_url>/pay/<txid>", "txid": …}` (401 for a wrong hash, 403 for another AGS than configured, 400 for an invalid field, 415 without a form body) |
//! | `GET /pay/{txid}`                  | the pay page (German with English in brackets, no JavaScript) |
//! | `POST /pay/{txid}`                 | form `method`, `action` (`pay`, `fail`, `cancel`), `silent`: sets the status (1, 0, -1), posts the notification to `notifyURL` in the background unless `silent`, answers 303 to `redirectURL` with `txid=<txid>` added to its query |
//! | `GET /payment/status/{ags}/{txid}` | `{"status", "amount", "txid", "payment_method"}` (404 unknown txid, 400 AGS mismatch) |
//! | `GET /provider.css`                | the page's stylesheet                                   |
//! | `GET /healthz`                     | `ok`                                                    |
//!
//! State is in memory (at most [`MAX_TRANSACTIONS`] transactions); bodies
//! are at most [`MAX_BODY_BYTES`]. A notification is posted up to
//! [`NOTIFY_ATTEMPTS`] times (backoff 250 ms, 500 ms, 1 s, 2 s) until the
//! platform answers 2xx; the citizen's redirect does not wait for it.
//!
//! Over plain `http://` only (no TLS provider is needed for that); the
//! notification client installs ring as rustls's process default should the
//! build have reqwest's rustls compiled in (ADR 0012).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, SecondsFormat, Utc};
use rathaus_standards::pmpayment::{
    self, Notification, PaymentStatus, PmError, StartRequest, StartResponse, StatusResponse,
};

/// Largest request body, in bytes.
pub const MAX_BODY_BYTES: usize = pmpayment::MAX_FORM_BYTES;
/// Most transactions kept in memory; a start beyond answers 503.
pub const MAX_TRANSACTIONS: usize = 10_000;
/// How often a notification is tried.
pub const NOTIFY_ATTEMPTS: u32 = 5;

/// The provider's settings.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The shared secret of the start hash (must not be empty).
    pub secret: String,
    /// The only AGS accepted, or `None` for any.
    pub ags: Option<String>,
    /// The provider's address as the citizen's browser sees it, e.g.
    /// `http://127.0.0.1:8090`: the pay page is `<public_url>/pay/<txid>`.
    pub public_url: String,
}

/// The payment methods on the pay page: wire value and label.
const METHODS: [(&str, &str, &str); 4] = [
    ("creditcard", "Kreditkarte", "credit card"),
    ("paypal", "PayPal", "PayPal"),
    ("giropay", "giropay/paydirekt", "giropay/paydirekt"),
    ("sepa", "SEPA-Lastschrift", "SEPA direct debit"),
];

struct Tx {
    request: StartRequest,
    status: PaymentStatus,
    /// The citizen has chosen an outcome (a cancelled payment stays `-1`).
    decided: bool,
    payment_method: Option<String>,
    created_at: DateTime<Utc>,
}

struct Shared {
    config: ProviderConfig,
    public_url: String,
    txs: Mutex<HashMap<String, Tx>>,
    client: Option<reqwest::Client>,
}

impl Shared {
    fn txs(&self) -> std::sync::MutexGuard<'_, HashMap<String, Tx>> {
        // A panic elsewhere while holding the lock leaves plain data behind.
        self.txs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The provider's routes.
pub fn router(config: ProviderConfig) -> Router {
    let shared = Arc::new(Shared {
        public_url: config.public_url.trim_end_matches('/').to_owned(),
        config,
        txs: Mutex::new(HashMap::new()),
        client: notify_client(),
    });
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/provider.css", get(stylesheet))
        .route("/payment/start", post(start))
        .route("/payment/status/{ags}/{txid}", get(status))
        .route("/pay/{txid}", get(pay_page).post(pay))
        .fallback(|| async {
            json_error(
                StatusCode::NOT_FOUND,
                "provider.not_found",
                "Nicht gefunden (not found)",
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
}

/// Serves [`router`] on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: ProviderConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(config))
        .with_graceful_shutdown(shutdown)
        .await
}

fn notify_client() -> Option<reqwest::Client> {
    // Only matters when reqwest's rustls is compiled in (feature
    // unification with rathaus-storage): it panics without a process
    // default. Err: another default was installed first; that one is kept.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => Some(client),
        Err(e) => {
            tracing::error!(error = %e, "payprovider: no HTTP client, notifications are off");
            None
        }
    }
}

// ---------------------------------------------------------------------------
// Responses

fn json(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    json(
        status,
        serde_json::json!({ "error": code, "message": message }).to_string(),
    )
}

fn pm_error(e: &PmError) -> Response {
    let status = match e {
        PmError::EmptySecret => StatusCode::INTERNAL_SERVER_ERROR,
        PmError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        e if e.is_authentication() => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    };
    json_error(status, e.code(), &e.to_string())
}

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                   form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'";

fn html(status: StatusCode, title: &str, main: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"de\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} – Testzahlung</title>\n<link rel=\"stylesheet\" href=\"../provider.css\">\n\
         </head>\n<body>\n<header>\n<p class=\"banner\">Testumgebung: es fließt kein Geld. \
         <span lang=\"en\">(Test environment: no money moves.)</span></p>\n</header>\n\
         <main>\n{main}</main>\n</body>\n</html>\n",
        title = escape(title),
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        page,
    )
        .into_response()
}

fn html_message(status: StatusCode, title: &str, german: &str, english: &str) -> Response {
    html(
        status,
        title,
        &format!(
            "<h1>{}</h1>\n<p>{} <span lang=\"en\">({})</span></p>\n",
            escape(title),
            escape(german),
            escape(english)
        ),
    )
}

/// Escapes text for HTML content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Cents as German euros: `2600` → `26,00 €`, `123456` → `1.234,56 €`.
pub fn format_euro(cents: u64) -> String {
    let euros = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in euros.chars().enumerate() {
        if i > 0 && (euros.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("{grouped},{:02} €", cents % 100)
}

/// `url` with `txid=<txid>` added to its query (before a fragment).
pub fn with_txid(url: &str, txid: &str) -> String {
    let (base, fragment) = url.find('#').map_or((url, ""), |i| url.split_at(i));
    let sep = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with('?') || base.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{base}{sep}txid={txid}{fragment}")
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        "body{font-family:system-ui,sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;\
         line-height:1.5;color:#1a1a1a;background:#fff}\n\
         .banner{background:#fff3cd;border:2px solid #8a6d00;padding:.5rem}\n\
         dt{font-weight:bold}dd{margin:0 0 .5rem 0}\n\
         fieldset{margin:1rem 0;border:1px solid #555}\n\
         .actions{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:1rem}\n\
         button{font:inherit;padding:.5rem 1rem;border:2px solid #1a1a1a;background:#f0f0f0}\n\
         button[value=pay]{background:#0b5394;color:#fff}\n\
         :focus-visible{outline:3px solid #c60;outline-offset:2px}\n",
    )
        .into_response()
}

// ---------------------------------------------------------------------------
// Start

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

async fn start(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if !is_form(&headers) {
        return json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "provider.not_a_form",
            "erwartet (expected) application/x-www-form-urlencoded",
        );
    }
    let request = match pmpayment::parse_form(&body)
        .and_then(|fields| pmpayment::verify_start(&fields, shared.config.secret.as_bytes()))
    {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(code = e.code(), "payprovider: start refused: {e}");
            return pm_error(&e);
        }
    };
    if shared
        .config
        .ags
        .as_ref()
        .is_some_and(|a| *a != request.ags)
    {
        return json_error(
            StatusCode::FORBIDDEN,
            "provider.unknown_ags",
            "Diese Gemeinde ist hier nicht eingerichtet (this municipality is not set up here)",
        );
    }
    let txid = uuid::Uuid::new_v4().to_string();
    {
        let mut txs = shared.txs();
        if txs.len() >= MAX_TRANSACTIONS {
            return json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "provider.full",
                "zu viele Zahlungen (too many transactions)",
            );
        }
        txs.insert(
            txid.clone(),
            Tx {
                request,
                status: PaymentStatus::Open,
                decided: false,
                payment_method: None,
                created_at: Utc::now(),
            },
        );
    }
    let answer = StartResponse {
        url: format!("{}/pay/{txid}", shared.public_url),
        txid,
    };
    json(StatusCode::OK, answer.to_json())
}

// ---------------------------------------------------------------------------
// Pay page

fn unknown_payment() -> Response {
    html_message(
        StatusCode::NOT_FOUND,
        "Zahlung nicht gefunden",
        "Diese Zahlung gibt es nicht.",
        "payment not found",
    )
}

async fn pay_page(State(shared): State<Arc<Shared>>, Path(txid): Path<String>) -> Response {
    let txs = shared.txs();
    let Some(tx) = txs.get(&txid) else {
        return unknown_payment();
    };
    let r = &tx.request;
    let facts = format!(
        "<dl>\n<dt>Verfahren <span lang=\"en\">(procedure)</span></dt><dd>{}</dd>\n\
         <dt>Verwendungszweck <span lang=\"en\">(description)</span></dt><dd>{}</dd>\n\
         <dt>Betrag <span lang=\"en\">(amount)</span></dt><dd>{}</dd>\n</dl>\n",
        escape(&r.procedure),
        escape(&r.desc),
        escape(&format_euro(r.amount)),
    );
    if tx.decided {
        let (de, en) = match tx.status {
            PaymentStatus::Paid => ("bezahlt", "paid"),
            PaymentStatus::Failed => ("fehlgeschlagen", "failed"),
            PaymentStatus::Open => ("abgebrochen", "cancelled"),
        };
        return html(
            StatusCode::OK,
            "Zahlung abgeschlossen",
            &format!(
                "<h1>Zahlung abgeschlossen <span lang=\"en\">(payment finished)</span></h1>\n{facts}\
                 <p>Status: {de} <span lang=\"en\">({en})</span></p>\n\
                 <p><a href=\"{}\">Zurück zum Antrag <span lang=\"en\">(back to the application)</span></a></p>\n",
                escape(&with_txid(&r.redirect_url, &txid)),
            ),
        );
    }
    let mut radios = String::new();
    for (i, (value, de, en)) in METHODS.iter().enumerate() {
        radios.push_str(&format!(
            "<div><input type=\"radio\" id=\"method-{value}\" name=\"method\" value=\"{value}\"{checked}> \
             <label for=\"method-{value}\">{de}{en}</label></div>\n",
            checked = if i == 0 { " checked" } else { "" },
            de = escape(de),
            en = if de == en {
                String::new()
            } else {
                format!(" <span lang=\"en\">({})</span>", escape(en))
            },
        ));
    }
    html(
        StatusCode::OK,
        &r.procedure,
        &format!(
            "<h1>Testzahlung <span lang=\"en\">(test payment)</span></h1>\n{facts}\
             <form method=\"post\">\n<fieldset>\n\
             <legend>Zahlungsart <span lang=\"en\">(payment method)</span></legend>\n{radios}</fieldset>\n\
             <div><input type=\"checkbox\" id=\"silent\" name=\"silent\" value=\"1\"> \
             <label for=\"silent\">Keine Benachrichtigung senden (Test) \
             <span lang=\"en\">(send no notification)</span></label></div>\n\
             <div class=\"actions\">\n\
             <button type=\"submit\" name=\"action\" value=\"pay\">Bezahlen <span lang=\"en\">(pay)</span></button>\n\
             <button type=\"submit\" name=\"action\" value=\"fail\">Fehlschlagen lassen <span lang=\"en\">(let it fail)</span></button>\n\
             <button type=\"submit\" name=\"action\" value=\"cancel\">Abbrechen <span lang=\"en\">(cancel)</span></button>\n\
             </div>\n</form>\n"
        ),
    )
}

fn bad_pay_form(german: &str, english: &str) -> Response {
    html_message(StatusCode::BAD_REQUEST, "Eingabe ungültig", german, english)
}

async fn pay(State(shared): State<Arc<Shared>>, Path(txid): Path<String>, body: Bytes) -> Response {
    let Ok(fields) = pmpayment::parse_form(&body) else {
        return bad_pay_form("Das Formular ist nicht lesbar.", "malformed form");
    };
    // Each field at most once (`None` for a duplicate).
    let one = |name: &str| -> Option<Option<&str>> {
        let mut values = fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        values.next().is_none().then_some(first)
    };
    let (Some(action), Some(method), Some(silent)) = (one("action"), one("method"), one("silent"))
    else {
        return bad_pay_form("Ein Feld ist doppelt.", "duplicate field");
    };
    let status = match action {
        Some("pay") => PaymentStatus::Paid,
        Some("fail") => PaymentStatus::Failed,
        Some("cancel") => PaymentStatus::Open,
        _ => return bad_pay_form("Bitte eine Schaltfläche wählen.", "unknown action"),
    };
    let method = if status == PaymentStatus::Open {
        None
    } else {
        match method.filter(|m| METHODS.iter().any(|(v, _, _)| v == m)) {
            Some(m) => Some(m.to_owned()),
            None => {
                return bad_pay_form("Bitte eine Zahlungsart wählen.", "choose a payment method");
            }
        }
    };
    let silent = match silent {
        None => false,
        Some("1" | "on" | "true") => true,
        Some(_) => {
            return bad_pay_form(
                "Ungültiger Wert für die Benachrichtigung.",
                "invalid silent flag",
            );
        }
    };

    let (notification, notify_url, redirect_url) = {
        let mut txs = shared.txs();
        let Some(tx) = txs.get_mut(&txid) else {
            return unknown_payment();
        };
        if tx.decided {
            return html_message(
                StatusCode::CONFLICT,
                "Zahlung abgeschlossen",
                "Diese Zahlung ist bereits abgeschlossen.",
                "this payment is already finished",
            );
        }
        tx.decided = true;
        tx.status = status;
        tx.payment_method = method.clone();
        let r = &tx.request;
        let notification = Notification {
            ags: r.ags.clone(),
            txid: txid.clone(),
            amount: r.amount,
            desc: r.desc.clone(),
            status,
            payment_method: method,
            procedure: r.procedure.clone(),
            created_at: tx.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        };
        (
            notification,
            r.notify_url.clone(),
            with_txid(&r.redirect_url, &txid),
        )
    };
    if silent {
        tracing::info!(%txid, "payprovider: silent, no notification");
    } else if let Some(client) = shared.client.clone() {
        tokio::spawn(send_notification(client, notify_url, notification));
    }
    match HeaderValue::from_str(&redirect_url) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => html_message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Fehler",
            "Die Rücksprungadresse ist ungültig.",
            "invalid redirect URL",
        ),
    }
}

async fn send_notification(client: reqwest::Client, url: String, notification: Notification) {
    let fields = notification.form_fields();
    let mut delay = Duration::from_millis(250);
    for attempt in 1..=NOTIFY_ATTEMPTS {
        match client.post(&url).form(&fields).send().await {
            Ok(r) if r.status().is_success() => {
                tracing::info!(txid = %notification.txid, attempt, "payprovider: notification delivered");
                return;
            }
            Ok(r) => {
                tracing::warn!(txid = %notification.txid, attempt, status = %r.status(), "payprovider: notification refused");
            }
            Err(e) => {
                tracing::warn!(txid = %notification.txid, attempt, error = %e, "payprovider: notification failed");
            }
        }
        if attempt < NOTIFY_ATTEMPTS {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
    tracing::error!(txid = %notification.txid, "payprovider: notification given up");
}

// ---------------------------------------------------------------------------
// Status

async fn status(
    State(shared): State<Arc<Shared>>,
    Path((ags, txid)): Path<(String, String)>,
) -> Response {
    if let Err(e) = pmpayment::check_ags(&ags) {
        return json_error(StatusCode::BAD_REQUEST, e.code(), &e.to_string());
    }
    let unknown = || {
        json_error(
            StatusCode::NOT_FOUND,
            "provider.unknown_txid",
            "Zahlung nicht gefunden (payment not found)",
        )
    };
    if pmpayment::check_txid(&txid).is_err() {
        return unknown();
    }
    let txs = shared.txs();
    let Some(tx) = txs.get(&txid) else {
        return unknown();
    };
    if tx.request.ags != ags {
        return json_error(
            StatusCode::BAD_REQUEST,
            "provider.ags_mismatch",
            "Zahlung gehört zu einer anderen Gemeinde (payment belongs to another municipality)",
        );
    }
    let answer = StatusResponse {
        status: tx.status,
        amount: tx.request.amount,
        txid,
        payment_method: tx.payment_method.clone(),
    };
    json(StatusCode::OK, answer.to_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros() {
        assert_eq!(format_euro(2600), "26,00 €");
        assert_eq!(format_euro(5), "0,05 €");
        assert_eq!(format_euro(123_456), "1.234,56 €");
        assert_eq!(format_euro(100_000_000_000), "1.000.000.000,00 €");
    }

    #[test]
    fn redirect_keeps_the_query() {
        assert_eq!(with_txid("https://r/a", "t"), "https://r/a?txid=t");
        assert_eq!(with_txid("https://r/a?x=1", "t"), "https://r/a?x=1&txid=t");
        assert_eq!(with_txid("https://r/a?", "t"), "https://r/a?txid=t");
        assert_eq!(
            with_txid("https://r/a?x=1#f", "t"),
            "https://r/a?x=1&txid=t#f"
        );
    }

    #[test]
    fn escapes_everything() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
