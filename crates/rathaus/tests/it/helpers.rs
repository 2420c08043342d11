use std::net::SocketAddr;

use rathaus_domain::identity::Role;
use rathaus_storage::{
    files::FileStore,
    identity::{NewUser, UserRepository, hash_password},
    tenancy::{NewOrgUnit, NewTenant, OrgUnitRepository, TenantRepository},
    test_support::{TestDb, TestFiles, announce_backend},
};
use rathaus_web::{AppState, WebConfig};
use tokio::sync::watch;

pub const OTHER_HOST: &str = "nachbardorf.test";

/// A running server with Musterstadt and a second tenant, Nachbardorf.
pub struct TestApp {
    pub addr: SocketAddr,
    pub db: Option<TestDb>,
    /// The server's object storage (a worker in the test shares it).
    pub files: FileStore,
    /// Where that storage lives: a fresh folder, or a fresh prefix on the
    /// test S3 server (`RATHAUS_TEST_S3_ENDPOINT`).
    pub storage: TestFiles,
    pub client: reqwest::Client,
    /// The server's state (its caches, for tests that look into them).
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    handle: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut WebConfig)) -> Self {
        announce_backend();
        let db = TestDb::new().await;
        rathaus::demo::seed(&db.store).await.expect("demo seed");
        seed_other_tenant(&db).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = WebConfig::new(format!("http://{addr}"));
        config.demo_mode = true;
        config.default_tenant = Some("musterstadt".into());
        adjust(&mut config);
        let storage = TestFiles::new();
        let files = storage.store.clone();
        let state = AppState::new(db.store.clone(), files.clone(), config);
        let (tx, rx) = watch::channel(false);
        let handle = tokio::spawn(rathaus_web::serve(listener, state.clone(), rx));
        Self {
            addr,
            db: Some(db),
            files,
            storage,
            client: client(),
            state,
            shutdown: tx,
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Fetches `path` and returns the CSRF token of its form.
    pub async fn csrf(&self, path: &str) -> String {
        let (_, html) = self.get_text(path).await;
        csrf_of(&html).unwrap_or_else(|| panic!("no csrf token on {path}: {html}"))
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        login_with(&self.client, self, "/login", email, password).await
    }

    /// A second browser, logged in as `email` (password `demo`).
    pub async fn login_as(app: &TestApp, email: &str) -> reqwest::Client {
        staff_login(app, email).await
    }

    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        let _ = (&mut self.handle).await;
        if let Some(db) = self.db.take() {
            db.drop_db().await;
        }
    }
}

pub fn client() -> reqwest::Client {
    rathaus_storage::install_tls_crypto_provider();
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn csrf_of(html: &str) -> Option<String> {
    let start = html.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    let rest = &html[start..];
    Some(rest[..rest.find('"')?].to_string())
}

/// Tenant B: "Nachbardorf", reached by the host name nachbardorf.test.
async fn seed_other_tenant(db: &TestDb) {
    let repo = db.store.repo();
    let mut t = rathaus::demo::tenant();
    t.slug = "nachbardorf".into();
    t.name = "Gemeinde Nachbardorf".into();
    t.ags = "06435998".into();
    t.host = Some(OTHER_HOST.into());
    let t = repo.create_tenant(&NewTenant { ..t }).await.unwrap();
    let unit = repo
        .create_org_unit(
            t.tenant_id(),
            &NewOrgUnit {
                kind: "office".into(),
                name: "Geheimes Amt Nachbardorf".into(),
                street: "Dorfstraße 1".into(),
                postal_code: "63572".into(),
                city: "Nachbardorf".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let u = repo
        .create_user(
            t.tenant_id(),
            &NewUser {
                email: "admin@nachbardorf.example".into(),
                display_name: "Nora Nachbar".into(),
                password_hash: hash_password("nachbar-passwort"),
            },
        )
        .await
        .unwrap();
    repo.grant_role(t.tenant_id(), u.id, unit.id, Role::TenantAdmin)
        .await
        .unwrap();
}

// The driver: the steps every test takes, over HTTP, against any site
// (the in-process server or a spawned binary).

/// Something served at a base URL.
pub trait Site {
    fn url(&self, path: &str) -> String;
}

impl Site for TestApp {
    fn url(&self, path: &str) -> String {
        TestApp::url(self, path)
    }
}

impl Site for str {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.trim_end_matches('/'))
    }
}

impl Site for String {
    fn url(&self, path: &str) -> String {
        self.as_str().url(path)
    }
}

/// A staff API token (`host`: the tenant's host name, else the default tenant).
pub async fn token_at<S: Site + ?Sized>(
    site: &S,
    email: &str,
    password: &str,
    host: Option<&str>,
) -> String {
    let mut req = client()
        .post(site.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"email": email, "password": password}));
    if let Some(h) = host {
        req = req.header("host", h);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 201, "token for {email}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    body["token"].as_str().unwrap().to_string()
}

/// A staff API token for a demo user (password `demo`).
pub async fn token<S: Site + ?Sized>(site: &S, email: &str) -> String {
    token_at(site, email, "demo", None).await
}

/// A browser logged in as the staff member `email` (password `demo`).
pub async fn staff_login<S: Site + ?Sized>(site: &S, email: &str) -> reqwest::Client {
    let c = client();
    let r = login_with(&c, site, "/login", email, "demo").await;
    assert_eq!(r.status(), 303, "login as {email}");
    c
}

/// A browser logged in to the citizen account `email`.
pub async fn citizen_login<S: Site + ?Sized>(
    site: &S,
    email: &str,
    password: &str,
) -> reqwest::Client {
    let c = client();
    let r = login_with(&c, site, "/konto/anmelden", email, password).await;
    assert_eq!(r.status(), 303, "citizen login as {email}");
    c
}

/// Posts the login form at `path` (with its CSRF token) from browser `c`.
pub async fn login_with<S: Site + ?Sized>(
    c: &reqwest::Client,
    site: &S,
    path: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let html = text(c, site.url(path)).await;
    let token = csrf_of(&html).unwrap_or_else(|| panic!("no csrf token on {path}"));
    c.post(site.url(path))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

/// Publishes a form (`rathaus.form/1` JSON) through the API with the four-eyes
/// rule: the first demo editor creates and submits it, the second approves.
pub async fn publish_form<S: Site + ?Sized>(site: &S, form: &serde_json::Value) {
    let alice = token(site, "redaktion@musterstadt.example").await;
    let bob = token(site, "redaktion2@musterstadt.example").await;
    let key = form["key"].as_str().expect("the form has a key");
    let c = client();
    let r = c
        .post(site.url("/api/v1/forms"))
        .bearer_auth(&alice)
        .json(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    for (who, step) in [(&alice, "submit"), (&bob, "approve")] {
        let r = c
            .post(site.url(&format!("/api/v1/forms/{key}/{step}")))
            .bearer_auth(who)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{step} {key}");
    }
}

/// Sends an application through the API; returns the response.
pub async fn submit_api<S: Site + ?Sized>(
    site: &S,
    form: &str,
    idempotency_key: &str,
    data: &serde_json::Value,
) -> reqwest::Response {
    client()
        .post(site.url("/api/v1/applications"))
        .header("idempotency-key", idempotency_key)
        .json(&serde_json::json!({"form": form, "data": data}))
        .send()
        .await
        .unwrap()
}

/// Sends an application through the API, expecting 201; returns its body
/// (`reference`, `access_token`, …).
pub async fn submitted<S: Site + ?Sized>(
    site: &S,
    form: &str,
    idempotency_key: &str,
    data: &serde_json::Value,
) -> serde_json::Value {
    let r = submit_api(site, form, idempotency_key, data).await;
    assert_eq!(r.status(), 201, "submit {form}");
    r.json().await.unwrap()
}

/// A demo Hundesteuer application (the demo's published form).
pub fn hundesteuer_data() -> serde_json::Value {
    serde_json::json!({
        "vorname": "Erika", "familienname": "Mustermann", "geburtsdatum": "1980-05-17",
        "anschrift": {"strasse": "Hauptstraße", "hausnummer": "1", "plz": "12345", "ort": "Musterstadt"},
        "hunde": [{"name": "Bello", "rasse": "mischling", "wurfdatum": "2021-03-01", "haltung_seit": "2021-06-01"}],
        "ermaessigung": false, "lastschrift": false, "richtigkeit": true
    })
}

/// The case id of the application `reference`, claimed by the clerk with `token`.
pub async fn claim_case<S: Site + ?Sized>(site: &S, token: &str, reference: &str) -> String {
    let c = client();
    let app = get_json(
        site.url(&format!("/api/v1/applications/{reference}")),
        token,
    )
    .await;
    let case = app["case"]
        .as_str()
        .unwrap_or_else(|| panic!("no case for {reference}: {app}"))
        .to_string();
    let r = c
        .post(site.url(&format!("/api/v1/cases/{case}/claim")))
        .bearer_auth(token)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "claim {case}");
    case
}

/// Opens the wizard of `service` in `browser`; returns the CSRF token and
/// the draft's base path (`…/schritt/N` and `…/absenden` hang below it).
pub async fn wizard_start<S: Site + ?Sized>(
    site: &S,
    browser: &reqwest::Client,
    service: &str,
) -> (String, String) {
    let start = format!("/leistungen/{service}/antrag");
    let page = text(browser, site.url(&start)).await;
    let csrf = csrf_of(&page).unwrap_or_else(|| panic!("no csrf token on {start}"));
    let r = browser
        .post(site.url(&start))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let base = location(&r).trim_end_matches("/schritt/1").to_string();
    (csrf, base)
}

/// Sends the filled draft at `base`; returns the redirect target.
pub async fn wizard_send<S: Site + ?Sized>(
    site: &S,
    browser: &reqwest::Client,
    base: &str,
    csrf: &str,
) -> String {
    let r = browser
        .post(site.url(&format!("{base}/absenden")))
        .form(&[("csrf_token", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "send {base}");
    location(&r)
}

/// The JSON body of a GET with a bearer token.
pub async fn get_json(url: String, token: &str) -> serde_json::Value {
    client()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The body of a GET.
pub async fn text(c: &reqwest::Client, url: String) -> String {
    c.get(url).send().await.unwrap().text().await.unwrap()
}

/// The redirect target of a response.
pub fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no redirect: {}", r.status()))
        .to_str()
        .unwrap()
        .to_string()
}

/// Whether the tests run under CI (`CI=true`).
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether a real component the tests need is here. Missing under `CI=true`:
/// the test fails, naming how to provide it. Missing locally: a notice on
/// the terminal (written past cargo's output capture) and `false`, so the
/// caller falls back.
pub fn real_component(available: bool, what: &str, provide: &str) -> bool {
    if available {
        return true;
    }
    assert!(!under_ci(), "CI=true, but {what} is missing: {provide}");
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\nNOTICE (fallback, would fail under CI=true): {what} is missing; {provide}"
    );
    false
}

/// Whether `python3` can import `module`.
pub fn python_has(module: &str) -> bool {
    std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// aiosmtpd, the real SMTP server of the mail tests.
pub fn has_aiosmtpd() -> bool {
    real_component(
        python_has("aiosmtpd"),
        "the Python module aiosmtpd (the SMTP test server)",
        "install it with `python3 -m pip install aiosmtpd`; meanwhile emails go to .eml files",
    )
}

/// Runs `python3 ARGS… FILE` on a temporary file holding `input`; the output
/// when it fails.
pub fn python_check(args: &[&str], input: &[u8]) -> Result<(), String> {
    let path = std::env::temp_dir().join(format!("rathaus-check-{}", uuid::Uuid::new_v4()));
    std::fs::write(&path, input).unwrap();
    let out = std::process::Command::new("python3")
        .args(args)
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_file(&path).ok();
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Checks a PDF for PDF/A-2b with `check_pdfa.py` (pikepdf; see there for
/// what is and is not verified). Without pikepdf (a failure under CI) only
/// the header and the pdfaid metadata are looked for.
pub fn assert_pdfa_2b(pdf: &[u8], what: &str) {
    assert!(pdf.starts_with(b"%PDF-"), "{what} is a PDF");
    if !real_component(
        python_has("pikepdf"),
        "the Python package pikepdf (the PDF/A checks)",
        "install it with `python3 -m pip install pikepdf`; meanwhile only the pdfaid metadata is looked for",
    ) {
        assert!(
            String::from_utf8_lossy(pdf).contains("pdfaid"),
            "{what}: PDF/A metadata"
        );
        return;
    }
    if let Err(e) = python_check(
        &[concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/it/check_pdfa.py"
        )],
        pdf,
    ) {
        panic!("{what} is not PDF/A-2b: {e}");
    }
}

/// Runs every due outbox job with the binary's handlers on the server's own
/// use-case layer (its e-file index and payment provider), as `serve` does;
/// no job may end dead.
pub async fn run_jobs(app: &TestApp) {
    use rathaus::jobs::{Mailer, Notifier, handlers_for};
    use rathaus_storage::outbox::{OutboxRepository, Worker, WorkerConfig};
    let store = app.db.as_ref().unwrap().store.clone();
    let dir = std::env::temp_dir().join(format!("rathaus-jobs-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let notifier = Notifier {
        store: store.clone(),
        files: app.files.clone(),
        mailer: Mailer::Files(dir.clone()),
        public_url: app.url(""),
        from: "Stadt Musterstadt <noreply@musterstadt.example>".into(),
    };
    Worker::new(
        store.clone(),
        handlers_for(notifier, app.state.app.clone()),
        WorkerConfig::new("test-worker"),
    )
    .drain()
    .await
    .unwrap();
    let counts = store.repo().job_counts().await.unwrap();
    assert_eq!(counts.get("dead"), None, "no job failed: {counts:?}");
    let _ = std::fs::remove_dir_all(dir);
}

/// The demo clerk also works the Steueramt (where Hundesteuer cases go).
pub async fn grant_steueramt(
    app: &TestApp,
) -> (rathaus_storage::Store, rathaus_domain::tenancy::TenantId) {
    use rathaus_domain::identity::Email;
    use rathaus_storage::{tenancy::OrgUnitRepository, tenancy::TenantRepository};
    let store = app.db.as_ref().unwrap().store.clone();
    let repo = store.repo();
    let tenant = repo
        .tenant_by_slug("musterstadt")
        .await
        .unwrap()
        .unwrap()
        .tenant_id();
    let clerk = repo
        .user_by_email(
            tenant,
            &Email::parse("sachbearbeitung@musterstadt.example").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let unit = repo
        .org_unit_by_name(tenant, "Steueramt")
        .await
        .unwrap()
        .unwrap();
    repo.grant_role(tenant, clerk.id, unit.id, Role::Clerk)
        .await
        .unwrap();
    (store, tenant)
}
