use std::net::SocketAddr;

use rathaus_domain::identity::Role;
use rathaus_storage::{
    files::FileStore,
    identity::{NewUser, UserRepository, hash_password},
    tenancy::{NewOrgUnit, NewTenant, OrgUnitRepository, TenantRepository},
    test_support::{TestDb, announce_backend},
};
use rathaus_web::{AppState, WebConfig};
use tokio::sync::watch;

pub const OTHER_HOST: &str = "nachbardorf.test";

/// A running server with Musterstadt and a second tenant, Nachbardorf.
pub struct TestApp {
    pub addr: SocketAddr,
    pub db: Option<TestDb>,
    pub client: reqwest::Client,
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
        let state = AppState::new(db.store.clone(), FileStore::memory(), config);
        let (tx, rx) = watch::channel(false);
        let handle = tokio::spawn(rathaus_web::serve(listener, state, rx));
        Self {
            addr,
            db: Some(db),
            client: client(),
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
        let token = self.csrf("/login").await;
        self.client
            .post(self.url("/login"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("email", email),
                ("password", password),
            ])
            .send()
            .await
            .unwrap()
    }

    /// A second browser, logged in as `email` (password `demo`).
    pub async fn login_as(app: &TestApp, email: &str) -> reqwest::Client {
        let c = client();
        let html = c
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = csrf_of(&html).unwrap();
        let r = c
            .post(app.url("/login"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("email", email),
                ("password", "demo"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "login as {email}");
        c
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

/// A staff API token for a demo user (password `demo`).
pub async fn token(app: &TestApp, email: &str) -> String {
    let r = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({"email": email, "password": "demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
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
