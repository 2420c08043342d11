//! Admin commands: tenants, org units, users, tokens, outbox.

use rathaus_storage::prelude::*;
use std::io::Read;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use rathaus_domain::{
    identity::{Email, Role, check_new_password},
    tenancy::TenantId,
};
use rathaus_storage::{
    StorageError, Store,
    identity::{NewUser, TokenRepository, UserRepository, generate_token, hash_password},
    outbox::OutboxRepository,
    tenancy::{NewOrgUnit, NewTenant, OrgUnitRepository, TenantRepository},
};

/// Arguments of `admin verify-seal`.
#[derive(clap::Args, Debug)]
pub struct VerifySeal {
    /// The document (e.g. a Bescheid as PDF).
    pub file: std::path::PathBuf,
    /// Its seal file (`….siegel.json`).
    #[arg(long)]
    pub seal: Option<std::path::PathBuf>,
    /// The authority's seal certificate(s), PEM.
    #[arg(long)]
    pub cert: Option<std::path::PathBuf>,
    /// The tenant (slug) whose certificates and documents to use from the database.
    #[arg(long)]
    pub tenant: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create a tenant (municipality).
    CreateTenant(CreateTenant),
    /// List tenants.
    ListTenants,
    /// Create an org unit (Amt, Abteilung, Sachgebiet).
    CreateOrgUnit(CreateOrgUnit),
    /// Create a staff user; the password is read from standard input or RATHAUS_NEW_PASSWORD.
    CreateUser(CreateUser),
    /// Grant a role in an org unit.
    GrantRole(GrantRole),
    /// Create an API token for a user and print it once.
    CreateToken(CreateToken),
    /// Revoke an API token by id.
    RevokeToken(RevokeToken),
    /// Issue an Open311 API key for an app (Mängelmelder); the key is the
    /// last line printed, shown once.
    CreateOpen311Key(CreateOpen311Key),
    /// Replace a tenant's street list (Mängelmelder addresses) from a file
    /// with lines `strasse;plz;lat;long`.
    ImportStreets(ImportStreets),
    /// Show outbox job counts.
    OutboxStatus,
    /// Check every tenant's audit chain; names the first changed or missing entry.
    VerifyAudit,
    /// Put a dead outbox job back into the queue.
    OutboxRequeue { id: i64 },
    /// Bytes and files of uploads per tenant (drafts, applications, answers,
    /// documents) and orphaned uploads; `--sweep` deletes orphans older than
    /// the grace period (RATHAUS_ORPHAN_GRACE_SECS, default one hour).
    StorageReport {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Delete orphaned uploads older than the grace period.
        #[arg(long)]
        sweep: bool,
    },
    /// Check a document's electronic seal. Offline with `--seal` (its
    /// `.siegel.json`) and `--cert` (the authority's seal certificate, PEM,
    /// from `/pruefen/zertifikat.pem`): no database is opened. Without
    /// `--cert`, the tenant's certificates come from the database; without
    /// `--seal`, the document is looked up by its SHA-256 there.
    /// Exit status 0 only for a valid seal.
    VerifySeal(VerifySeal),
    /// Enqueue diagnostic jobs (`diagnostics.sleep`) to check that workers run.
    OutboxPing {
        #[arg(long, default_value_t = 1)]
        count: u32,
        #[arg(long, default_value_t = 0)]
        sleep_ms: u64,
    },
}

#[derive(Args, Debug)]
pub struct CreateTenant {
    #[arg(long)]
    pub slug: String,
    #[arg(long)]
    pub name: String,
    /// Amtlicher Gemeindeschlüssel (8 digits).
    #[arg(long)]
    pub ags: String,
    /// Host name that selects this tenant (e.g. rathaus.musterstadt.de).
    #[arg(long)]
    pub host: Option<String>,
    #[arg(long)]
    pub street: String,
    #[arg(long)]
    pub postal_code: String,
    #[arg(long)]
    pub city: String,
    #[arg(long, default_value = "")]
    pub phone: String,
    #[arg(long)]
    pub email: String,
    #[arg(long, default_value = "")]
    pub website: String,
    #[arg(long, default_value = "")]
    pub representative: String,
    #[arg(long, default_value = "")]
    pub supervisory_authority: String,
    #[arg(long, default_value = "")]
    pub dpo_name: String,
    #[arg(long)]
    pub dpo_email: String,
}

#[derive(Args, Debug)]
pub struct CreateOrgUnit {
    #[arg(long)]
    pub tenant: String,
    #[arg(long)]
    pub name: String,
    /// office (Amt), department (Abteilung) or section (Sachgebiet).
    #[arg(long)]
    pub kind: String,
    /// Name of the parent org unit.
    #[arg(long)]
    pub parent: Option<String>,
    #[arg(long, default_value = "")]
    pub short_name: String,
    #[arg(long)]
    pub street: String,
    #[arg(long)]
    pub postal_code: String,
    #[arg(long)]
    pub city: String,
    #[arg(long, default_value = "")]
    pub phone: String,
    #[arg(long, default_value = "")]
    pub email: String,
    #[arg(long, default_value = "")]
    pub opening_hours: String,
}

#[derive(Args, Debug)]
pub struct CreateUser {
    #[arg(long)]
    pub tenant: String,
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    /// Role grants as ROLE@ORG-UNIT, e.g. clerk@Bürgerbüro (repeatable).
    #[arg(long = "role")]
    pub roles: Vec<String>,
}

#[derive(Args, Debug)]
pub struct GrantRole {
    #[arg(long)]
    pub tenant: String,
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub role: String,
    #[arg(long)]
    pub org_unit: String,
}

#[derive(Args, Debug)]
pub struct CreateToken {
    #[arg(long)]
    pub tenant: String,
    #[arg(long)]
    pub email: String,
    /// Label, e.g. the system that uses the token.
    #[arg(long)]
    pub name: String,
    /// Days until the token expires (default: never).
    #[arg(long)]
    pub days: Option<i64>,
}

#[derive(Args, Debug)]
pub struct CreateOpen311Key {
    #[arg(long)]
    pub tenant: String,
    /// The app the key is for (unique per tenant).
    #[arg(long)]
    pub name: String,
}

#[derive(Args, Debug)]
pub struct ImportStreets {
    #[arg(long)]
    pub tenant: String,
    /// A CSV file: `strasse;plz;lat;long` (WGS 84 decimal degrees).
    #[arg(long)]
    pub file: std::path::PathBuf,
}

#[derive(Args, Debug)]
pub struct RevokeToken {
    #[arg(long)]
    pub tenant: String,
    #[arg(long)]
    pub id: uuid::Uuid,
}

async fn tenant_id(store: &Store, slug: &str) -> anyhow::Result<TenantId> {
    match store.repo().tenant_by_slug(slug).await? {
        Some(t) => Ok(t.tenant_id()),
        None => bail!(
            "Kommune „{slug}“ gibt es nicht / no tenant with slug {slug:?} (see `rathaus admin list-tenants`)"
        ),
    }
}

/// Explains storage errors field by field.
fn explain(e: StorageError) -> anyhow::Error {
    match e {
        StorageError::Validation(errs) => {
            let lines: Vec<String> = errs
                .0
                .iter()
                .map(|fe| {
                    format!(
                        "  --{}: {} / {}",
                        fe.field.replace('_', "-"),
                        rathaus_web::i18n::field_error(
                            rathaus_web::i18n::Lang::De,
                            &fe.field,
                            fe.code
                        ),
                        rathaus_web::i18n::field_error(
                            rathaus_web::i18n::Lang::En,
                            &fe.field,
                            fe.code
                        )
                    )
                })
                .collect();
            anyhow::anyhow!("Ungültige Eingaben / invalid input:\n{}", lines.join("\n"))
        }
        StorageError::Conflict(field) => anyhow::anyhow!(
            "--{}: {} / {}",
            field.replace('_', "-"),
            rathaus_web::i18n::field_error(rathaus_web::i18n::Lang::De, field, "conflict"),
            rathaus_web::i18n::field_error(rathaus_web::i18n::Lang::En, field, "conflict")
        ),
        other => other.into(),
    }
}

fn parse_grant(s: &str) -> anyhow::Result<(Role, String)> {
    let (role, unit) = s
        .split_once('@')
        .with_context(|| format!("--role {s:?}: erwartet ROLLE@ORGANISATIONSEINHEIT / expected ROLE@ORG-UNIT, e.g. clerk@Bürgerbüro"))?;
    let role = Role::parse(role).map_err(|_| {
        anyhow::anyhow!(
            "--role {role:?}: unbekannte Rolle / unknown role; use editor, clerk, tenant_admin, management or operator"
        )
    })?;
    Ok((role, unit.to_string()))
}

fn read_new_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("RATHAUS_NEW_PASSWORD") {
        return Ok(p);
    }
    let mut buf = String::new();
    std::io::stdin().read_to_string(&mut buf).context(
        "Passwort von der Standardeingabe lesen / reading the password from standard input",
    )?;
    Ok(buf.trim_end_matches(['\n', '\r']).to_string())
}

/// `admin storage-report`: usage per tenant and orphans (and the sweep).
async fn storage_report(
    store: &Store,
    settings: &crate::config::Settings,
    json: bool,
    sweep: bool,
) -> anyhow::Result<()> {
    let files = rathaus_storage::files::FileStore::open(&settings.storage_url())
        .context("Dateiablage öffnen / opening file storage")?;
    let app = crate::server::app(settings, store, files)?;
    let grace = settings.orphan_grace();
    let report = app
        .storage_report(sweep.then_some(grace), chrono::Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!("storage report: {e:?}"))?;
    if json {
        let mut value = serde_json::to_value(&report)?;
        value["grace_secs"] = serde_json::json!(grace.num_seconds());
        value["swept_run"] = serde_json::json!(sweep);
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let u = |u: rathaus_storage::uploads::Usage| format!("{} files {} bytes", u.files, u.bytes);
    println!("tenant	drafts	applications	answers	documents	orphans");
    for t in &report.tenants {
        let name = if t.slug.is_empty() {
            t.tenant.to_string()
        } else {
            t.slug.clone()
        };
        println!(
            "{name}	{}	{}	{}	{}	{}",
            u(t.usage.drafts),
            u(t.usage.applications),
            u(t.usage.answers),
            u(t.usage.documents),
            u(t.orphans)
        );
    }
    println!("orphans	{}", u(report.orphans));
    if sweep {
        println!(
            "swept	{} (older than {} s / älter als {} s)",
            u(report.swept),
            grace.num_seconds(),
            grace.num_seconds()
        );
    }
    Ok(())
}

pub async fn run(
    store: &Store,
    cmd: AdminCommand,
    settings: &crate::config::Settings,
) -> anyhow::Result<()> {
    let repo = store.repo();
    match cmd {
        AdminCommand::VerifySeal(a) => verify_seal(&a, Some(store)).await?,
        AdminCommand::StorageReport { json, sweep } => {
            storage_report(store, settings, json, sweep).await?;
        }
        AdminCommand::CreateTenant(a) => {
            let t = repo
                .create_tenant(&NewTenant {
                    slug: a.slug,
                    name: a.name,
                    ags: a.ags,
                    host: a.host,
                    street: a.street,
                    postal_code: a.postal_code,
                    city: a.city,
                    phone: a.phone,
                    email: a.email,
                    website: a.website,
                    representative: a.representative,
                    supervisory_authority: a.supervisory_authority,
                    dpo_name: a.dpo_name,
                    dpo_email: a.dpo_email,
                })
                .await
                .map_err(explain)?;
            println!("tenant {} created (id {})", t.slug, t.id);
        }
        AdminCommand::ListTenants => {
            for t in repo.tenants().await? {
                println!(
                    "{}\t{}\tAGS {}\t{}",
                    t.slug,
                    t.name,
                    t.ags,
                    t.host.unwrap_or_default()
                );
            }
        }
        AdminCommand::CreateOrgUnit(a) => {
            let tid = tenant_id(store, &a.tenant).await?;
            let parent_id = match &a.parent {
                Some(p) => Some(
                    repo.org_unit_by_name(tid, p)
                        .await?
                        .with_context(|| {
                            format!("--parent: keine Organisationseinheit „{p}“ in dieser Kommune / no org unit named {p:?} in this tenant")
                        })?
                        .id,
                ),
                None => None,
            };
            let u = repo
                .create_org_unit(
                    tid,
                    &NewOrgUnit {
                        parent_id,
                        kind: a.kind,
                        name: a.name,
                        short_name: a.short_name,
                        street: a.street,
                        postal_code: a.postal_code,
                        city: a.city,
                        phone: a.phone,
                        email: a.email,
                        opening_hours: a.opening_hours,
                    },
                )
                .await
                .map_err(explain)?;
            println!("org unit {} created (id {})", u.name, u.id);
        }
        AdminCommand::CreateUser(a) => {
            let tid = tenant_id(store, &a.tenant).await?;
            let email =
                Email::parse(&a.email).map_err(|e| explain(StorageError::Validation(e.into())))?;
            let grants = a
                .roles
                .iter()
                .map(|r| parse_grant(r))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let password = read_new_password()?;
            check_new_password(&password, &email)
                .map_err(|e| explain(StorageError::Validation(e.into())))?;
            let hash = hash_password(&password);
            let user = repo
                .create_user(
                    tid,
                    &NewUser {
                        email: email.to_string(),
                        display_name: a.name,
                        password_hash: hash,
                    },
                )
                .await
                .map_err(explain)?;
            for (role, unit) in grants {
                let unit = repo.org_unit_by_name(tid, &unit).await?.with_context(|| {
                    format!("--role: keine Organisationseinheit „{unit}“ in dieser Kommune / no org unit named {unit:?} in this tenant")
                })?;
                repo.grant_role(tid, user.id, unit.id, role).await?;
            }
            println!("user {} created (id {})", user.email, user.id);
        }
        AdminCommand::GrantRole(a) => {
            let tid = tenant_id(store, &a.tenant).await?;
            let email =
                Email::parse(&a.email).map_err(|e| explain(StorageError::Validation(e.into())))?;
            let user = repo
                .user_by_email(tid, &email)
                .await?
                .context("--email: Diese Person gibt es in dieser Kommune nicht / no such user in this tenant")?;
            let (role, unit) = parse_grant(&format!("{}@{}", a.role, a.org_unit))?;
            let unit = repo
                .org_unit_by_name(tid, &unit)
                .await?
                .context("--org-unit: Diese Organisationseinheit gibt es hier nicht / no such org unit in this tenant")?;
            repo.grant_role(tid, user.id, unit.id, role).await?;
            println!("granted {} in {} to {}", role.code(), unit.name, user.email);
        }
        AdminCommand::CreateToken(a) => {
            let tid = tenant_id(store, &a.tenant).await?;
            let email =
                Email::parse(&a.email).map_err(|e| explain(StorageError::Validation(e.into())))?;
            let user = repo
                .user_by_email(tid, &email)
                .await?
                .context("--email: Diese Person gibt es in dieser Kommune nicht / no such user in this tenant")?;
            let token = generate_token();
            let expires = a
                .days
                .map(|d| chrono::Utc::now() + chrono::Duration::days(d));
            let rec = repo
                .create_token(tid, user.id, &a.name, &token, expires)
                .await
                .map_err(explain)?;
            eprintln!("token id {} (shown once; store it safely):", rec.id);
            println!("{token}");
        }
        AdminCommand::CreateOpen311Key(a) => {
            let tid = tenant_id(store, &a.tenant).await?;
            let app =
                rathaus_app::App::new(store.clone(), rathaus_storage::files::FileStore::memory());
            let (key, secret) = app
                .create_open311_key_unchecked(tid, &a.name)
                .await
                .map_err(|e| match e {
                    rathaus_app::UseCaseError::Conflict(_) => anyhow::anyhow!(
                        "--name: Diesen Namen hat schon ein Schlüssel / a key with this name exists"
                    ),
                    rathaus_app::UseCaseError::Validation(v) => anyhow::anyhow!("--name: {v}"),
                    other => anyhow::anyhow!("{other:?}"),
                })?;
            eprintln!(
                "Open311-Schlüssel / key {} for {:?} (shown once; store it safely):",
                key.id, key.name
            );
            println!("{secret}");
        }
        AdminCommand::ImportStreets(a) => {
            let tid = tenant_id(store, &a.tenant).await?;
            let text = std::fs::read_to_string(&a.file)
                .with_context(|| format!("--file: {} lesen / reading", a.file.display()))?;
            let app =
                rathaus_app::App::new(store.clone(), rathaus_storage::files::FileStore::memory());
            let n = app
                .import_streets_unchecked(tid, &text)
                .await
                .map_err(|e| anyhow::anyhow!("--file: {e:?}"))?;
            println!("{n} Straßen / streets imported");
        }
        AdminCommand::RevokeToken(a) => {
            let tid = tenant_id(store, &a.tenant).await?;
            if repo.revoke_token(tid, a.id).await? {
                println!("token {} revoked", a.id);
            } else {
                bail!(
                    "--id: kein aktives Token {0} in dieser Kommune / no active token {0} in this tenant",
                    a.id
                );
            }
        }
        AdminCommand::VerifyAudit => {
            let mut broken = 0;
            for t in repo.tenants().await? {
                let (n, first) = repo.verify_audit(t.tenant_id()).await?;
                match first {
                    None => println!("{}	ok	{n} entries", t.slug),
                    Some(e) => {
                        broken += 1;
                        println!(
                            "{}	BROKEN	entry {} (case {}, action {}, at {}) does not match the chain / Eintrag passt nicht zur Kette",
                            t.slug, e.id, e.case_id, e.action, e.at
                        );
                    }
                }
            }
            if broken > 0 {
                bail!(
                    "Das Prüfprotokoll von {broken} Kommune(n) wurde verändert / the audit log of {broken} tenant(s) was changed"
                );
            }
        }
        AdminCommand::OutboxStatus => {
            let counts = repo.job_counts().await?;
            for s in ["pending", "running", "done", "dead"] {
                println!("{s}\t{}", counts.get(s).copied().unwrap_or(0));
            }
        }
        AdminCommand::OutboxRequeue { id } => {
            if repo.requeue_dead(id).await? {
                println!("job {id} requeued");
            } else {
                bail!(
                    "Auftrag {id} ist nicht „dead“ oder existiert nicht / job {id} is not dead (or does not exist)"
                );
            }
        }
        AdminCommand::OutboxPing { count, sleep_ms } => {
            for _ in 0..count {
                repo.enqueue(
                    None,
                    "diagnostics.sleep",
                    &serde_json::json!({ "ms": sleep_ms }),
                )
                .await?;
            }
            println!("{count} diagnostic job(s) enqueued");
        }
    }
    Ok(())
}

/// The certificates of a PEM file (one or more `CERTIFICATE` blocks).
fn trust_anchors_of_pem(text: &str) -> anyhow::Result<Vec<rathaus_standards::seal::TrustAnchor>> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    let mut out = Vec::new();
    for part in text.split(BEGIN).skip(1) {
        let block = format!("{BEGIN}{part}");
        out.push(
            rathaus_standards::seal::TrustAnchor::from_pem(&block)
                .map_err(|e| anyhow::anyhow!("--cert: {e}"))?,
        );
    }
    if out.is_empty() {
        bail!("--cert: keine Zertifikate in der Datei / no certificate in the file (PEM expected)");
    }
    Ok(out)
}

/// `admin verify-seal`: prints the verdict; an error (exit status 1) unless
/// the seal is valid. `store` is none for the offline check.
pub async fn verify_seal(a: &VerifySeal, store: Option<&Store>) -> anyhow::Result<()> {
    use rathaus_standards::seal::{self, Seal};
    use rathaus_storage::seals::SealKeyRepository;
    let content = std::fs::read(&a.file)
        .with_context(|| format!("{}: Datei nicht lesbar / cannot read", a.file.display()))?;
    let sha = hex::encode(seal::sha256(&content));
    let mut anchors = match &a.cert {
        Some(p) => trust_anchors_of_pem(
            &std::fs::read_to_string(p)
                .with_context(|| format!("--cert {}: nicht lesbar / cannot read", p.display()))?,
        )?,
        None => Vec::new(),
    };
    let mut the_seal =
        match &a.seal {
            Some(p) => Some(
                Seal::parse(&std::fs::read(p).with_context(|| {
                    format!("--seal {}: nicht lesbar / cannot read", p.display())
                })?)
                .map_err(|e| anyhow::anyhow!("--seal: {e}"))?,
            ),
            None => None,
        };
    if anchors.is_empty() || the_seal.is_none() {
        let store = store.context(
            "ohne --seal und --cert wird die Datenbank gebraucht / without --seal and --cert the database is needed",
        )?;
        let tenant = match &a.tenant {
            Some(slug) => tenant_id(store, slug).await?,
            None => {
                let all = store.repo().tenants().await?;
                match all.as_slice() {
                    [t] => t.tenant_id(),
                    _ => bail!("--tenant: bitte die Kommune angeben / name the tenant (slug)"),
                }
            }
        };
        if anchors.is_empty() {
            for k in store.repo().seal_keys(tenant).await? {
                anchors.push(
                    rathaus_standards::seal::TrustAnchor::from_pem(&k.certificate)
                        .map_err(|e| anyhow::anyhow!("stored certificate: {e}"))?,
                );
            }
        }
        if the_seal.is_none() {
            the_seal = store
                .repo()
                .versions_by_sha256(tenant, &sha)
                .await?
                .iter()
                .find_map(|(v, _, _)| {
                    v.seal
                        .as_deref()
                        .and_then(|s| Seal::parse(s.as_bytes()).ok())
                });
        }
    }
    println!("sha256\t{sha}");
    let Some(s) = the_seal else {
        bail!("kein Siegel zu diesem Dokument gefunden / no seal found for this document");
    };
    let v = seal::verify(&content, &s, &anchors);
    println!("outcome\t{}", v.outcome.code());
    if let Some(i) = &v.issuer {
        println!("issuer\t{i}");
    }
    println!("sealed_at\t{}", v.sealed_at.to_rfc3339());
    if let Some(f) = &v.certificate_fingerprint {
        println!("certificate\t{f}");
    }
    if let Some(t) = &v.title {
        println!("title\t{t}");
    }
    if v.outcome.is_valid() {
        println!("Echt und unverändert / genuine and unchanged");
        Ok(())
    } else {
        bail!("Siegel nicht gültig / seal not valid: {}", v.outcome.code())
    }
}
