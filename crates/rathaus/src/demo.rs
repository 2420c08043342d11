//! The demo municipality "Musterstadt": seeded idempotently (running it
//! twice changes nothing), with one staff user per role, password `demo`.

use rathaus_domain::identity::Email;
use rathaus_domain::{identity::Role, tenancy::TenantId};
use rathaus_storage::{
    Repo, Store, TransactionTrait,
    identity::{NewUser, UserRepository, hash_password},
    tenancy::{NewOrgUnit, NewTenant, OrgUnitRepository, TenantRepository},
};

pub const SLUG: &str = "musterstadt";
pub const PASSWORD: &str = "demo";

/// (email, display name, role, org unit)
pub const USERS: [(&str, &str, Role, &str); 5] = [
    (
        "redaktion@musterstadt.example",
        "Rita Redaktion",
        Role::Editor,
        "Hauptamt",
    ),
    (
        "sachbearbeitung@musterstadt.example",
        "Sam Sachbearbeitung",
        Role::Clerk,
        "Bürgerbüro",
    ),
    (
        "admin@musterstadt.example",
        "Anna Administration",
        Role::TenantAdmin,
        "Hauptamt",
    ),
    (
        "steuerung@musterstadt.example",
        "Stefan Steuerung",
        Role::Management,
        "Hauptamt",
    ),
    (
        "betrieb@musterstadt.example",
        "Bea Betrieb",
        Role::Operator,
        "Hauptamt",
    ),
];

pub fn tenant() -> NewTenant {
    NewTenant {
        slug: SLUG.into(),
        name: "Stadt Musterstadt".into(),
        ags: "06435999".into(),
        host: None,
        street: "Marktplatz 1".into(),
        postal_code: "63571".into(),
        city: "Musterstadt".into(),
        phone: "+49 6051 123-0".into(),
        email: "rathaus@musterstadt.example".into(),
        website: "https://www.musterstadt.example".into(),
        representative: "Bürgermeisterin Dr. Erika Mustermann".into(),
        supervisory_authority: "Regierungspräsidium Darmstadt (Kommunalaufsicht)".into(),
        dpo_name: "Behördlicher Datenschutzbeauftragter der Stadt Musterstadt".into(),
        dpo_email: "datenschutz@musterstadt.example".into(),
    }
}

struct Unit {
    name: &'static str,
    short: &'static str,
    kind: &'static str,
    parent: Option<&'static str>,
    street: &'static str,
    phone: &'static str,
    email: &'static str,
    hours: &'static str,
}

const UNITS: [Unit; 9] = [
    Unit {
        name: "Hauptamt",
        short: "10",
        kind: "office",
        parent: None,
        street: "Marktplatz 1",
        phone: "+49 6051 123-100",
        email: "hauptamt@musterstadt.example",
        hours: "Mo–Fr 8:00–12:00 Uhr",
    },
    Unit {
        name: "Bürgerbüro",
        short: "BB",
        kind: "office",
        parent: None,
        street: "Marktplatz 1",
        phone: "+49 6051 123-115",
        email: "buergerbuero@musterstadt.example",
        hours: "Mo, Di, Fr 8:00–12:30 Uhr; Do 8:00–18:00 Uhr; jeden 1. Samstag 9:00–12:00 Uhr",
    },
    Unit {
        name: "Ordnungsamt",
        short: "32",
        kind: "office",
        parent: None,
        street: "Bahnhofstraße 12",
        phone: "+49 6051 123-320",
        email: "ordnungsamt@musterstadt.example",
        hours: "Mo–Fr 8:00–12:00 Uhr; Do 14:00–17:00 Uhr",
    },
    Unit {
        name: "Gewerbe",
        short: "32.2",
        kind: "department",
        parent: Some("Ordnungsamt"),
        street: "Bahnhofstraße 12",
        phone: "+49 6051 123-322",
        email: "gewerbe@musterstadt.example",
        hours: "Mo–Fr 8:00–12:00 Uhr; Do 14:00–17:00 Uhr",
    },
    Unit {
        name: "Gewerbeanmeldungen",
        short: "32.21",
        kind: "section",
        parent: Some("Gewerbe"),
        street: "Bahnhofstraße 12",
        phone: "+49 6051 123-323",
        email: "gewerbe@musterstadt.example",
        hours: "Mo–Fr 8:00–12:00 Uhr",
    },
    Unit {
        name: "Straßenverkehrsbehörde",
        short: "36",
        kind: "office",
        parent: None,
        street: "Bahnhofstraße 12",
        phone: "+49 6051 123-360",
        email: "verkehr@musterstadt.example",
        hours: "Mo–Fr 8:00–12:00 Uhr",
    },
    Unit {
        name: "Umweltamt",
        short: "31",
        kind: "office",
        parent: None,
        street: "Schillerstraße 4",
        phone: "+49 6051 123-310",
        email: "umwelt@musterstadt.example",
        hours: "Mo–Do 8:00–15:30 Uhr; Fr 8:00–12:00 Uhr",
    },
    Unit {
        name: "Steueramt",
        short: "22",
        kind: "office",
        parent: None,
        street: "Marktplatz 1",
        phone: "+49 6051 123-220",
        email: "steueramt@musterstadt.example",
        hours: "Mo–Fr 8:00–12:00 Uhr",
    },
    Unit {
        name: "Kataster- und Vermessungsamt",
        short: "62",
        kind: "office",
        parent: None,
        street: "Schillerstraße 4",
        phone: "+49 6051 123-620",
        email: "kataster@musterstadt.example",
        hours: "Mo–Fr 8:30–12:00 Uhr; Do 14:00–16:00 Uhr",
    },
];

/// Creates whatever of Musterstadt is missing, in one transaction.
pub async fn seed(store: &Store) -> anyhow::Result<TenantId> {
    let txn = store.db().begin().await?;
    let repo = Repo(&txn);
    let tenant = match repo.tenant_by_slug(SLUG).await? {
        Some(t) => t,
        None => repo.create_tenant(&tenant()).await?,
    };
    let tid = tenant.tenant_id();
    for u in &UNITS {
        if repo.org_unit_by_name(tid, u.name).await?.is_some() {
            continue;
        }
        let parent_id = match u.parent {
            Some(p) => Some(
                repo.org_unit_by_name(tid, p)
                    .await?
                    .expect("parent seeded first")
                    .id,
            ),
            None => None,
        };
        repo.create_org_unit(
            tid,
            &NewOrgUnit {
                parent_id,
                kind: u.kind.into(),
                name: u.name.into(),
                short_name: u.short.into(),
                street: u.street.into(),
                postal_code: "63571".into(),
                city: "Musterstadt".into(),
                phone: u.phone.into(),
                email: u.email.into(),
                opening_hours: u.hours.into(),
            },
        )
        .await?;
    }
    let mut hash: Option<String> = None;
    for (email, name, role, unit) in USERS {
        let parsed = Email::parse(email).expect("demo email is valid");
        let user = match repo.user_by_email(tid, &parsed).await? {
            Some(u) => u,
            None => {
                let h = hash.get_or_insert_with(|| hash_password(PASSWORD)).clone();
                repo.create_user(
                    tid,
                    &NewUser {
                        email: email.into(),
                        display_name: name.into(),
                        password_hash: h,
                    },
                )
                .await?
            }
        };
        let unit = repo
            .org_unit_by_name(tid, unit)
            .await?
            .expect("unit seeded");
        repo.grant_role(tid, user.id, unit.id, role).await?;
        if role == Role::Clerk {
            // The demo clerk also works the trade office's cases.
            let gewerbe = repo
                .org_unit_by_name(tid, "Gewerbe")
                .await?
                .expect("unit seeded");
            repo.grant_role(tid, user.id, gewerbe.id, Role::Clerk)
                .await?;
        }
    }
    txn.commit().await?;
    Ok(tid)
}

pub fn print_banner(url: &str) {
    println!();
    println!("  Demo-Kommune „Musterstadt“ / demo municipality \"Musterstadt\"");
    println!("  Portal:           {url}/");
    println!("  Staff login:      {url}/login   (password / Passwort: {PASSWORD})");
    for (email, _, role, unit) in USERS {
        println!("    {email:<40} {} ({unit})", role.german_name());
    }
    println!();
}
