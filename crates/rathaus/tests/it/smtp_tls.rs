//! Mail over TLS: the real binary sends through aiosmtpd with STARTTLS
//! (required by the server) and with implicit TLS (`smtps://`), trusting the
//! test's own certificate authority through `RATHAUS_SMTP_CA_FILE`.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::{
    cli::{Running, bin_on, fresh_env},
    helpers::{client, csrf_of, has_aiosmtpd, real_component, text},
};

/// A CA and a server certificate for 127.0.0.1 signed by it, made with openssl.
fn make_certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=rathaus test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

pub struct SmtpServer {
    child: Child,
    pub port: u16,
}

impl SmtpServer {
    /// aiosmtpd with a Maildir at `maildir`; `tls` are its TLS options (none: plain SMTP).
    pub fn start(maildir: &Path, tls: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(tls)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let up = (0..100).any(|_| {
            let ok = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
            if !ok {
                std::thread::sleep(Duration::from_millis(50));
            }
            ok
        });
        assert!(up, "aiosmtpd did not start");
        Self { child, port }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Registers a citizen account at `url`; its confirmation email goes out.
async fn register(url: &str, email: &str) {
    let browser = client();
    let page = text(&browser, format!("{url}/konto/registrieren")).await;
    let csrf = csrf_of(&page).expect("csrf token on the registration page");
    let r = browser
        .post(format!("{url}/konto/registrieren"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", email),
            ("password", "ein sicheres Passwort"),
            ("password_repeat", "ein sicheres Passwort"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "registration accepted");
}

/// Waits up to 30 s for a mail to `to` in the Maildir.
fn wait_for_mail(maildir: &Path, to: &str) -> String {
    let started = Instant::now();
    loop {
        if let Ok(rd) = std::fs::read_dir(maildir.join("new")) {
            for e in rd.flatten() {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                if text.contains(to) {
                    return text;
                }
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no mail to {to} arrived"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test]
async fn mail_goes_out_over_starttls_and_smtps_trusting_a_private_ca() {
    if !has_aiosmtpd() {
        return;
    }
    let has_openssl = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !real_component(
        has_openssl,
        "the openssl command (test certificates)",
        "install the Debian package openssl",
    ) {
        return;
    }
    let (dir, db) = fresh_env().await;
    let (ca, cert, key) = make_certs(&dir);
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let starttls = ["--tlscert", cert, "--tlskey", key]; // STARTTLS required
    let smtps = ["--smtpscert", cert, "--smtpskey", key];
    for (mode, tls, scheme, query) in [
        ("starttls", &starttls, "smtp", "?tls=required"),
        ("smtps", &smtps, "smtps", ""),
    ] {
        let maildir = dir.join(format!("box-{mode}"));
        let smtp = SmtpServer::start(&maildir, tls);
        let server = Running::start({
            let mut c = bin_on(&dir, &db);
            c.env(
                "RATHAUS_SMTP_URL",
                format!("{scheme}://127.0.0.1:{}{query}", smtp.port),
            )
            .env("RATHAUS_SMTP_CA_FILE", &ca)
            .arg("demo");
            c
        });
        let to = format!("tls-{mode}@example.org");
        register(&server.url, &to).await;
        let mail = wait_for_mail(&maildir, &to);
        assert!(mail.contains("Subject:"), "{mode}: {mail}");
        assert!(server.stop().success());
    }
    db.drop_db().await;
    std::fs::remove_dir_all(dir).ok();
}
