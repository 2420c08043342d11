//! The demo municipality "Musterstadt": seeded idempotently (running it
//! twice changes nothing), with one staff user per role, password `demo`.

use anyhow::Context;
use rathaus_domain::{
    catalog::{Audience, I18nText, ServiceContent},
    identity::{Email, Role},
    tenancy::TenantId,
};
use rathaus_storage::prelude::*;
use rathaus_storage::{
    ConnectionTrait, Repo, Store,
    catalog::CatalogRepository,
    identity::{NewUser, UserRepository, hash_password},
    tenancy::{NewOrgUnit, NewTenant, OrgUnitRepository, TenantRepository},
};

pub const SLUG: &str = "musterstadt";
pub const PASSWORD: &str = "demo";

/// (email, display name, role, org unit)
pub const USERS: [(&str, &str, Role, &str); 9] = [
    (
        "redaktion@musterstadt.example",
        "Rita Redaktion",
        Role::Editor,
        "Hauptamt",
    ),
    (
        "redaktion2@musterstadt.example",
        "Rolf Redaktion",
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
        "strassen@musterstadt.example",
        "Stella Straßenverkehr",
        Role::Clerk,
        "Straßenverkehrsbehörde",
    ),
    (
        "umwelt@musterstadt.example",
        "Uwe Umwelt",
        Role::Clerk,
        "Umweltamt",
    ),
    (
        "admin@musterstadt.example",
        "Anna Administration",
        Role::TenantAdmin,
        "Hauptamt",
    ),
    (
        "admin2@musterstadt.example",
        "Arne Administration",
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
    let txn = store.begin_write().await?;
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
        if email == "sachbearbeitung@musterstadt.example" {
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
    seed_catalog(store, tid).await?;
    seed_forms(store, tid).await?;
    seed_accounts_and_templates(store, tid).await?;
    seed_records(store, tid).await?;
    seed_appointments(store, tid).await?;
    seed_defects(store, tid).await?;
    Ok(tid)
}

/// The demo's file plan (Aktenplan, KGSt style) with retention rules, and
/// which services file where. Nodes whose code exists are kept.
pub async fn seed_records(store: &Store, tid: TenantId) -> anyhow::Result<usize> {
    use rathaus_domain::records::{Disposition as D, PlanCode, Retention, RetentionTrigger as T};
    use rathaus_storage::{catalog::CatalogRepository, records::NewPlanNode};

    // (code, title, rule (years, trigger, disposition), services by slug)
    type Row = (
        &'static str,
        &'static str,
        Option<(u16, T, D)>,
        &'static [&'static str],
    );
    const PLAN: &[Row] = &[
        (
            "0",
            "Allgemeine Verwaltung",
            Some((10, T::CaseClosed, D::Evaluate)),
            &[],
        ),
        ("1", "Sicherheit und Ordnung", None, &[]),
        ("10", "Allgemeine Ordnungsverwaltung", None, &[]),
        (
            "10.30",
            "Gewerbeangelegenheiten",
            Some((10, T::CaseClosed, D::Evaluate)),
            &[
                "gewerbe-anmeldung",
                "gewerbe-ummeldung",
                "gewerbe-abmeldung",
                "gaststaettenerlaubnis",
                "reisegewerbekarte-beantragen",
                "gewerbeauskunft",
            ],
        ),
        (
            "10.40",
            "Veranstaltungen, Feuerwerk, Lärmschutz",
            Some((5, T::CaseClosed, D::Destroy)),
            &[
                "veranstaltung-anzeigen",
                "feuerwerk-erlaubnis",
                "anwohner-laermbeschwerde",
            ],
        ),
        ("11", "Einwohnerwesen", None, &[]),
        (
            "11.10",
            "Melde-, Pass- und Ausweiswesen",
            Some((6, T::CaseClosed, D::Destroy)),
            &[
                "personalausweis-beantragen",
                "reisepass-beantragen",
                "meldebescheinigung",
                "wohnsitz-anmelden",
                "wohnsitz-abmelden",
                "fuehrungszeugnis-beantragen",
                "fundsache-melden",
            ],
        ),
        (
            "11.30",
            "Personenstandswesen",
            Some((80, T::CaseClosed, D::Archive)),
            &["eheschliessung-anmelden", "geburtsurkunde-beantragen"],
        ),
        ("12", "Straßenverkehr", None, &[]),
        (
            "12.40",
            "Parken und Sondernutzung",
            Some((3, T::DecisionFinal, D::Destroy)),
            &[
                "bewohnerparkausweis",
                "halteverbot-umzug",
                "schwerbehinderten-parkausweis",
                "sondernutzung-strasse",
            ],
        ),
        ("3", "Finanzen", None, &[]),
        ("32", "Steuern und Abgaben", None, &[]),
        (
            "32.10",
            "Gemeindesteuern",
            Some((10, T::DecisionFinal, D::Destroy)),
            &["grundsteuer-auskunft", "zweitwohnungsteuer-anmelden"],
        ),
        (
            "32.10.05",
            "Hundesteuer",
            Some((10, T::DecisionFinal, D::Destroy)),
            &["hundesteuer-anmeldung", "hundesteuer-abmeldung"],
        ),
        ("4", "Schule, Kultur und Soziales", None, &[]),
        (
            "40",
            "Kindertagesbetreuung",
            Some((5, T::CaseClosed, D::Destroy)),
            &["kita-platz-anmelden"],
        ),
        ("6", "Bauen, Vermessung und Umwelt", None, &[]),
        (
            "62",
            "Vermessung und Kataster",
            Some((10, T::CaseClosed, D::Evaluate)),
            &[
                "liegenschaftskarte-auszug",
                "hausnummer-zuteilung",
                "bodenrichtwert-auskunft",
            ],
        ),
        ("66", "Umwelt und Wasser", None, &[]),
        (
            "66.20",
            "Wasserrecht",
            Some((30, T::CaseClosed, D::Archive)),
            &["brunnenbohrung-anzeigen"],
        ),
        (
            "66.30",
            "Baumschutz und Abfall",
            Some((10, T::CaseClosed, D::Destroy)),
            &["baumfaellung-genehmigung", "sperrmuell-anmelden"],
        ),
    ];
    let repo = store.repo();
    let mut nodes = Vec::new();
    for (code, title, rule, slugs) in PLAN {
        let mut services = Vec::new();
        for slug in *slugs {
            if let Some(s) = repo.service_by_slug(tid, slug).await? {
                services.push(s.id);
            }
        }
        nodes.push(NewPlanNode {
            code: PlanCode::parse(code)?,
            title: (*title).into(),
            retention: match rule {
                Some((y, t, d)) => Some(Retention::new(*y, *t, *d)?),
                None => None,
            },
            services,
        });
    }
    Ok(store
        .seed_plan(tid, &nodes, "Stadtarchiv Musterstadt")
        .await?)
}

/// The real FIM Stammdatenschemata of the demo (see `demo/fim/README.md`).
const FIM_GEWERBE: (&str, &str) = (
    "S00000009_xdatenfelder.xml",
    include_str!("../../../demo/fim/gewerbeanmeldung/S00000009_xdatenfelder.xml"),
);
const FIM_PARKEN: (&str, &str) = (
    "S05000058V1.0_xdf2.xml",
    include_str!("../../../demo/fim/bewohnerparken/S05000058V1.0_xdf2.xml"),
);
const FIM_PARKEN_LISTS: [(&str, &str); 6] = [
    (
        "C05000073_genericode.xml",
        include_str!("../../../demo/fim/bewohnerparken/C05000073_genericode.xml"),
    ),
    (
        "C05000103_genericode.xml",
        include_str!("../../../demo/fim/bewohnerparken/C05000103_genericode.xml"),
    ),
    (
        "C05000108_genericode.xml",
        include_str!("../../../demo/fim/bewohnerparken/C05000108_genericode.xml"),
    ),
    (
        "C05000112_genericode.xml",
        include_str!("../../../demo/fim/bewohnerparken/C05000112_genericode.xml"),
    ),
    (
        "C05000125_genericode.xml",
        include_str!("../../../demo/fim/bewohnerparken/C05000125_genericode.xml"),
    ),
    (
        "C60000016_genericode.xml",
        include_str!("../../../demo/fim/bewohnerparken/C60000016_genericode.xml"),
    ),
];
/// Forms written in the JSON format (`docs/forms-format.md`).
const JSON_FORMS: [(&str, &str, &str); 2] = [
    (
        "hundesteuer-anmeldung",
        "hundesteuer-anmeldung",
        include_str!("../../../demo/forms/hundesteuer-anmeldung.json"),
    ),
    (
        "brunnenbohrung-anzeigen",
        "brunnenbohrung-anzeigen",
        include_str!("../../../demo/forms/brunnenbohrung-anzeige.json"),
    ),
];

/// Imports the demo forms and attaches them to their services, through the
/// same import and four-eyes review as the editor UI: redaktion@ imports,
/// redaktion2@ approves. Forms that exist are left alone.
pub async fn seed_forms(store: &Store, tid: TenantId) -> anyhow::Result<usize> {
    use rathaus_domain::forms::FormDefinition;
    use rathaus_standards::xdatenfelder;
    use rathaus_storage::forms::FormRepository;

    let mut defs: Vec<(String, String, FormDefinition, Option<serde_json::Value>)> = Vec::new();
    let mut gewerbe = xdatenfelder::import(FIM_GEWERBE.0, FIM_GEWERBE.1, &[])?;
    // The FIM schema has no upload fields; Musterstadt adds a step for the
    // proofs the service description asks for (as an editor would in the form
    // editor).
    // The fee depends on who registers (a natural or a legal person); the
    // FIM field "Rechtsform" takes free text while its code list is not
    // uploaded, so Musterstadt asks in a field of its own.
    gewerbe.form.steps.push(serde_json::from_value(serde_json::json!({
        "key": "gebuehr",
        "title": {"de": "Gebühr", "en": "Fee"},
        "items": [{
            "type": "field", "key": "anmeldende_person", "kind": "select",
            "label": {"de": "Wer meldet das Gewerbe an?", "en": "Who registers the business?"},
            "help": {"de": "Die Gebühr beträgt 26,00 € für eine natürliche Person und 36,00 € für eine juristische Person. Sie bezahlen sie online vor dem Absenden.",
                     "en": "The fee is 26.00 € for a natural person and 36.00 € for a legal person. You pay it online before the application is sent."},
            "options": [
                {"code": "natuerliche_person", "label": "Natürliche Person (Einzelunternehmen)"},
                {"code": "juristische_person", "label": "Juristische Person (z. B. GmbH, AG, eingetragener Verein)"}
            ]
        }]
    }))?);
    gewerbe.form.steps.push(serde_json::from_value(serde_json::json!({
        "key": "unterlagen",
        "title": {"de": "Unterlagen", "en": "Documents"},
        "items": [{
            "type": "field", "key": "nachweis", "kind": "file",
            "label": {"de": "Nachweise (z. B. Erlaubnis, Handwerkskarte, Handelsregisterauszug)",
                      "en": "Proofs (e.g. permit, craft card, commercial register extract)"},
            "help": {"de": "Falls für Ihre Tätigkeit erforderlich. PDF, PNG oder JPEG, höchstens 10 MB.",
                     "en": "If your activity needs them. PDF, PNG or JPEG, at most 10 MB."}
        }]
    }))?);
    defs.push((
        "gewerbe-anmeldung".into(),
        "gewerbe-anmeldung".into(),
        gewerbe.form,
        Some(serde_json::to_value(&gewerbe.report)?),
    ));
    let lists: Vec<(String, String)> = FIM_PARKEN_LISTS
        .iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect();
    let parken = xdatenfelder::import(FIM_PARKEN.0, FIM_PARKEN.1, &lists)?;
    defs.push((
        "bewohnerparkausweis".into(),
        "bewohnerparkausweis".into(),
        parken.form,
        Some(serde_json::to_value(&parken.report)?),
    ));
    for (key, service, json) in JSON_FORMS {
        let def: FormDefinition =
            serde_json::from_str(json).with_context(|| format!("demo form {key} is invalid"))?;
        defs.push((key.into(), service.into(), def, None));
    }

    let txn = store.begin_write().await?;
    let repo = Repo(&txn);
    let author = demo_user(&repo, tid, "redaktion@musterstadt.example").await?;
    let approver = demo_user(&repo, tid, "redaktion2@musterstadt.example").await?;
    let mut created = 0;
    for (key, service, def, report) in defs {
        if repo.form_by_key(tid, &key).await?.is_some() {
            continue;
        }
        let service = repo
            .service_by_slug(tid, &service)
            .await?
            .with_context(|| format!("demo service {service} missing"))?;
        let (form, _) = repo
            .create_form(tid, author, &key, Some(service.id), &def, report.as_ref())
            .await
            .with_context(|| format!("demo form {key}"))?;
        repo.submit_form(tid, form.id, author).await?;
        repo.approve_form(tid, form.id, approver).await?;
        created += 1;
    }
    txn.commit().await?;
    Ok(created)
}

/// The demo catalog in the exchange format (`rathaus.catalog/1`).
pub const CATALOG_JSON: &str = include_str!("../demo/services.json");

/// Search synonyms the Redaktion of Musterstadt maintains.
pub const SYNONYMS: [(&str, &str); 10] = [
    ("perso", "Personalausweis"),
    ("ausweis", "Personalausweis"),
    ("gewerbeschein", "Gewerbe-Anmeldung"),
    ("kfz", "Fahrzeug"),
    ("auto", "Fahrzeug"),
    ("ummelden", "Wohnsitz anmelden"),
    ("umzug", "Wohnsitz anmelden"),
    ("hochzeit", "Eheschließung"),
    ("pass", "Reisepass"),
    ("müll", "Sperrmüll"),
];

async fn demo_user(
    repo: &Repo<'_, impl ConnectionTrait>,
    tid: TenantId,
    email: &str,
) -> anyhow::Result<uuid::Uuid> {
    Ok(repo
        .user_by_email(tid, &Email::parse(email).expect("demo email"))
        .await?
        .with_context(|| format!("demo user {email} missing"))?
        .id)
}

/// Publishes the demo services through the real workflow: written by one
/// editor, approved by a second. Services that exist are left alone.
pub async fn seed_catalog(store: &Store, tid: TenantId) -> anyhow::Result<usize> {
    #[derive(serde::Deserialize)]
    struct File {
        services: Vec<ServiceContent>,
    }
    let file: File = serde_json::from_str(CATALOG_JSON).context("demo/services.json is invalid")?;
    let txn = store.begin_write().await?;
    let repo = Repo(&txn);
    let author = demo_user(&repo, tid, "redaktion@musterstadt.example").await?;
    let approver = demo_user(&repo, tid, "redaktion2@musterstadt.example").await?;
    let mut created = 0;
    for content in file.services {
        if repo.service_by_slug(tid, &content.slug).await?.is_some() {
            continue;
        }
        let slug = content.slug.clone();
        let (s, _) = repo
            .create_service(tid, author, content)
            .await
            .with_context(|| format!("demo service {slug}"))?;
        repo.submit_for_review(tid, s.id, author).await?;
        repo.approve(tid, s.id, approver).await?;
        created += 1;
    }
    if repo.synonyms(tid).await?.is_empty() {
        for (term, expansion) in SYNONYMS {
            repo.add_synonym(tid, term, expansion).await?;
        }
    }
    txn.commit().await?;
    Ok(created)
}

/// Creates `n` synthetic published services (for benchmarks), in batches.
pub async fn generate_services(store: &Store, tid: TenantId, n: usize) -> anyhow::Result<usize> {
    const NOUNS: [&str; 24] = [
        "Anwohnerparkplatz",
        "Baugenehmigung",
        "Brennholz",
        "Dachbegrünung",
        "Elterngeld",
        "Fischereischein",
        "Grabstelle",
        "Hausnummer",
        "Jagdschein",
        "Kleingarten",
        "Lärmschutz",
        "Marktstand",
        "Nachbarschaftshilfe",
        "Obstbaum",
        "Plakatierung",
        "Regenwasser",
        "Schornstein",
        "Taxikonzession",
        "Ufermauer",
        "Vereinsheim",
        "Wochenmarkt",
        "Zuschuss",
        "Solaranlage",
        "Spielplatz",
    ];
    const VERBS: [&str; 8] = [
        "beantragen",
        "anmelden",
        "abmelden",
        "verlängern",
        "ändern",
        "melden",
        "genehmigen lassen",
        "anzeigen",
    ];
    const TOPICS: [&str; 5] = [
        "Bauen und Grundstücke",
        "Umwelt und Natur",
        "Familie und Soziales",
        "Freizeit und Veranstaltungen",
        "Wirtschaft und Gewerbe",
    ];
    let (author, approver) = {
        let repo = store.repo();
        (
            demo_user(&repo, tid, "redaktion@musterstadt.example").await?,
            demo_user(&repo, tid, "redaktion2@musterstadt.example").await?,
        )
    };
    let units = store.repo().org_units(tid).await?;
    let mut done = 0;
    while done < n {
        let txn = store.begin_write().await?;
        let repo = Repo(&txn);
        for i in done..(done + 500).min(n) {
            let noun = NOUNS[i % NOUNS.len()];
            let verb = VERBS[(i / NOUNS.len()) % VERBS.len()];
            let content = ServiceContent {
                slug: format!("generiert-{i}"),
                leika_key: format!("99{:012}", 100_000 + i),
                audience: vec![if i % 3 == 0 {
                    Audience::Business
                } else {
                    Audience::Citizen
                }],
                org_unit: units[i % units.len()].name.clone(),
                topics: vec![TOPICS[i % TOPICS.len()].to_string()],
                title: I18nText {
                    de: format!("{noun} {verb} (Nr. {i})"),
                    en: String::new(),
                },
                summary: I18nText {
                    de: format!("So können Sie {noun} in Musterstadt {verb}."),
                    en: String::new(),
                },
                full_text: format!(
                    "Diese Leistung betrifft {noun}. Sie können sie online oder vor Ort {verb}. Die zuständige Stelle berät Sie gern."
                ),
                costs: format!("{} EUR", 10 + i % 90),
                ..Default::default()
            };
            let (s, _) = repo.create_service(tid, author, content).await?;
            repo.submit_for_review(tid, s.id, author).await?;
            repo.approve(tid, s.id, approver).await?;
        }
        txn.commit().await?;
        done = (done + 500).min(n);
    }
    Ok(done)
}

/// The demo citizen account (confirmed, with profile data that prefills forms).
pub const CITIZEN: &str = "buerger@musterstadt.example";

/// A confirmed citizen account and Bescheid templates for the
/// Gewerbe-Anmeldung. Existing ones are left alone.
pub async fn seed_accounts_and_templates(store: &Store, tid: TenantId) -> anyhow::Result<()> {
    use rathaus_domain::decisions::Variant;
    let repo = store.repo();
    let email = Email::parse(CITIZEN).expect("demo email");
    if repo.citizen_by_email(tid, &email).await?.is_none() {
        let hash = rathaus_storage::identity::hash_password_off_thread(PASSWORD).await;
        let c = repo.create_citizen(tid, &email, &hash).await?;
        repo.confirm_citizen(tid, c.id, None).await?;
        let profile = [
            ("given-name", "Erika"),
            ("family-name", "Musterfrau"),
            ("bday", "1984-05-17"),
            ("address-line1", "Lindenweg"),
            ("address-line2", "7"),
            ("postal-code", "63571"),
            ("address-level2", "Musterstadt"),
            ("tel", "06051 98765"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        repo.save_profile(tid, c.id, &profile).await?;
    }
    if let Some(service) = repo.service_by_slug(tid, "gewerbe-anmeldung").await?
        && repo.service_templates(tid, service.id).await?.is_empty()
    {
        store
            .save_decision_template(
                tid,
                Some(service.id),
                Variant::Approval,
                "Empfangsbestätigung Ihrer Gewerbeanzeige (§ 15 Abs. 1 GewO)",
                "Sehr geehrte Damen und Herren,\n\n\
                 hiermit bestätigen wir den Empfang Ihrer Gewerbeanzeige vom {{eingang}} \
                 (Aktenzeichen {{aktenzeichen}}) für {{name}}, {{anschrift}}.\n\n\
                 {{begruendung}}\n\n\
                 Die Empfangsbestätigung berechtigt zum Beginn des angezeigten Gewerbes; \
                 sie ist keine Genehmigung. Erlaubnispflichtige Tätigkeiten dürfen erst mit der \
                 Erlaubnis ausgeübt werden.\n\n\
                 Gebühr: 26,00 EUR nach der Verwaltungskostensatzung der Stadt Musterstadt.\n\n\
                 Rechtsbehelfsbelehrung: Gegen diesen Bescheid kann innerhalb eines Monats nach \
                 Bekanntgabe Widerspruch erhoben werden, schriftlich oder zur Niederschrift bei \
                 {{behoerde}}, {{stelle}}.\n\n\
                 Mit freundlichen Grüßen\n{{sachbearbeitung}}",
                "demo",
            )
            .await?;
        store
            .save_decision_template(
                tid,
                Some(service.id),
                Variant::Rejection,
                "Zurückweisung Ihrer Gewerbeanzeige",
                "Sehr geehrte Damen und Herren,\n\n\
                 Ihre Gewerbeanzeige vom {{eingang}} (Aktenzeichen {{aktenzeichen}}) kann nicht \
                 bestätigt werden.\n\nBegründung:\n{{begruendung}}\n\n\
                 Rechtsbehelfsbelehrung: Gegen diesen Bescheid kann innerhalb eines Monats nach \
                 Bekanntgabe Widerspruch erhoben werden, schriftlich oder zur Niederschrift bei \
                 {{behoerde}}, {{stelle}}.\n\n\
                 Mit freundlichen Grüßen\n{{sachbearbeitung}}",
                "demo",
            )
            .await?;
    }
    Ok(())
}

/// The demo's fees (idempotent: a service with a fee keeps it) and payment
/// settings: Gewerbe-Anmeldung 26,00 € (natural person) or 36,00 € (legal
/// person), Bewohnerparkausweis 30,70 €, both paid before sending;
/// Hundesteuer-Anmeldung free.
pub async fn seed_payments(store: &Store, tid: TenantId) -> anyhow::Result<()> {
    use rathaus_domain::payments::{Collection, FeeCase, FeeSpec, KassenzeichenScheme, Money};
    use rathaus_storage::payments::PaymentRepository;
    let repo = store.repo();
    if repo.payment_settings(tid).await?.is_none() {
        store
            .set_payment_settings(
                tid,
                "Musterstadt Serviceportal",
                "MS",
                &KassenzeichenScheme::default(),
                Money::parse("50.00").map_err(|e| anyhow::anyhow!("{e}"))?,
            )
            .await?;
    }
    let money = |s: &str| Money::parse(s).map_err(|e| anyhow::anyhow!("{e}"));
    let fees = [
        (
            "gewerbe-anmeldung",
            FeeSpec::ByRule {
                cases: vec![FeeCase {
                    when: "anmeldende_person == 'juristische_person'".into(),
                    amount: money("36.00")?,
                }],
                otherwise: money("26.00")?,
            },
            "1.1.2.01.431100",
            "P-12200-GEW",
        ),
        (
            "bewohnerparkausweis",
            FeeSpec::Fixed {
                amount: money("30.70")?,
            },
            "1.1.2.02.431200",
            "P-12200-PARK",
        ),
        (
            "hundesteuer-anmeldung",
            FeeSpec::Free,
            "6.1.1.01.403300",
            "P-61100-HST",
        ),
    ];
    for (slug, fee, hh, obj) in fees {
        let Some(service) = repo.service_by_slug(tid, slug).await? else {
            continue;
        };
        if repo.service_fee(tid, service.id).await?.is_some() {
            continue;
        }
        store
            .set_service_fee(
                tid,
                service.id,
                &rathaus_storage::payments::NewServiceFee {
                    fee: &fee,
                    collect: Collection::Before,
                    haushaltsstelle: hh,
                    objektnummer: obj,
                },
                None,
            )
            .await?;
    }
    Ok(())
}

/// Starts the test payment provider for the demo (unless a provider is
/// configured) on `demo_payment_listen`, or on a free port when that one is
/// taken, and points the settings at it.
pub async fn start_payment_provider(settings: &mut crate::config::Settings) -> anyhow::Result<()> {
    if settings
        .payment_provider_url
        .as_deref()
        .is_some_and(|u| !u.trim().is_empty())
    {
        return Ok(());
    }
    let listener = match tokio::net::TcpListener::bind(&settings.demo_payment_listen).await {
        Ok(l) => l,
        Err(_) => tokio::net::TcpListener::bind("127.0.0.1:0").await?,
    };
    let url = format!("http://{}", listener.local_addr()?);
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let ags = tenant().ags;
    tokio::spawn(rathaus_payprovider::serve(
        listener,
        rathaus_payprovider::ProviderConfig {
            secret: secret.clone(),
            ags: Some(ags.clone()),
            public_url: url.clone(),
        },
        std::future::pending(),
    ));
    println!("  Test-Zahlungsanbieter / test payment provider: {url}  (moves no money)");
    settings.payment_provider_url = Some(url);
    settings.payment_secret = Some(secret);
    settings.payment_ags = Some(ags);
    Ok(())
}

pub fn print_banner(url: &str) {
    println!();
    println!("  Demo-Kommune „Musterstadt“ / demo municipality \"Musterstadt\"");
    println!("  Portal:           {url}/");
    println!("  Staff login:      {url}/login   (password / Passwort: {PASSWORD})");
    for (email, _, role, unit) in USERS {
        println!("    {email:<40} {} ({unit})", role.german_name());
    }
    println!("  Citizen account:  {url}/konto   {CITIZEN} (password / Passwort: {PASSWORD})");
    println!("  Mängelmelder:     {url}/maengel   Open311: {url}/open311/v2/discovery.json");
    println!("  Open311 api_key:  {DEMO_OPEN311_KEY}");
    println!("  Emails:           written as .eml files into the data dir's mails/ folder");
    println!();
}

/// The demo's appointment booking: the Bürgerbüro with three counters
/// (quotas 60 % online, 25 % phone, 15 % internal), 10-minute slots, its
/// opening hours (a Saturday every other week, Christmas Eve and New Year's
/// Eve closed), Personalausweis (20 min), Meldebescheinigung (10 min) and
/// Reisepass (20 min), and a few bookings already made.
pub async fn seed_appointments(store: &Store, tid: TenantId) -> anyhow::Result<()> {
    use chrono::{Datelike, Duration, NaiveDate};
    use rathaus_domain::appointments::{BookingCode, BookingStatus, Channel, Land, Quotas};
    use rathaus_storage::appointments::{AppointmentRepository, NewBooking, NewLocation};
    let repo = store.repo();
    let unit = repo.org_unit_by_name(tid, "Bürgerbüro").await?;
    let today = rathaus_app::appointments::local_now().date();
    let year = today.year();
    let closed = |m: u32, d: u32, note: &str| {
        NaiveDate::from_ymd_opt(year, m, d)
            .map(|date| serde_json::json!({"date": date, "note": note}))
    };
    let exceptions: Vec<_> = [closed(12, 24, "Heiligabend"), closed(12, 31, "Silvester")]
        .into_iter()
        .flatten()
        .collect();
    let hours = serde_json::json!({
        "weekly": [
            {"weekday": 1, "from": "08:00", "to": "12:30"},
            {"weekday": 2, "from": "08:00", "to": "12:30"},
            {"weekday": 3, "from": "08:00", "to": "12:00"},
            {"weekday": 4, "from": "08:00", "to": "18:00"},
            {"weekday": 5, "from": "08:00", "to": "12:30"},
            {"weekday": 6, "from": "09:00", "to": "12:00", "weeks": "odd", "counters": 2},
        ],
        "exceptions": exceptions,
    });
    let location = match repo
        .appointment_location_by_slug(tid, "buergerbuero")
        .await?
    {
        Some(l) => l,
        None => {
            store
                .save_location(
                    tid,
                    &NewLocation {
                        slug: "buergerbuero".into(),
                        name: "Bürgerbüro Musterstadt".into(),
                        address: "Marktplatz 1, 63571 Musterstadt".into(),
                        org_unit_id: unit.map(|u| u.id),
                        land: Land::HE.code().into(),
                        slot_minutes: 10,
                        counters: 3,
                        quotas: (60, 25, 15),
                        window_days: 60,
                        internal_window_days: 90,
                        opening_hours: hours.to_string(),
                    },
                    today,
                )
                .await?
        }
    };
    let mut services = Vec::new();
    for (slug, name, minutes) in [
        ("personalausweis", "Personalausweis beantragen", 20),
        ("meldebescheinigung", "Meldebescheinigung", 10),
        ("reisepass", "Reisepass beantragen", 20),
    ] {
        services.push(
            store
                .save_appointment_service(tid, location.id, slug, name, minutes)
                .await?,
        );
    }
    // A few bookings, once: on the last opening days (for the day list's
    // check-in and no-show) and on the next ones.
    let first_day = today - Duration::days(6);
    let start = first_day.and_hms_opt(0, 0, 0).unwrap_or_default();
    if !repo
        .bookings_between(tid, location.id, start, start + Duration::days(40))
        .await?
        .is_empty()
    {
        return Ok(());
    }
    let opening: rathaus_domain::appointments::OpeningHours = serde_json::from_value(hours)?;
    let quotas = Quotas {
        online: 60,
        phone: 25,
        internal: 15,
    };
    let people = [
        (
            "Erika Mustermann",
            "erika.mustermann@example.org",
            Channel::Online,
        ),
        ("Max Müller", "max.mueller@example.org", Channel::Phone),
        ("Aylin Demir", "aylin.demir@example.org", Channel::Online),
        (
            "Jonas Becker",
            "jonas.becker@example.org",
            Channel::Internal,
        ),
    ];
    let mut booked = 0;
    let mut day = first_day;
    let mut n: u8 = 0;
    while booked < people.len() && day < first_day + Duration::days(21) {
        if day == today {
            day += Duration::days(1);
            continue;
        }
        let slots = rathaus_domain::appointments::slots_on(&opening, Land::HE, day, 10, 3, quotas);
        store.ensure_slots(tid, location.id, &slots).await?;
        let per_day = if day < today { 1 } else { 2 };
        for (i, spec) in slots.iter().enumerate().skip(3).step_by(7).take(per_day) {
            let Some((name, email, channel)) = people.get(booked) else {
                break;
            };
            let service = &services[booked % services.len()];
            let k = (service.duration_minutes / 10).max(1) as usize;
            let Some(last) = slots.get(i + k - 1) else {
                continue;
            };
            if last.start != spec.start + Duration::minutes(10 * (k as i64 - 1)) {
                continue;
            }
            let starts: Vec<_> = slots[i..i + k].iter().map(|s| s.start).collect();
            n = n.wrapping_add(1);
            let r = store
                .insert_booking(
                    tid,
                    &NewBooking {
                        code: BookingCode::from_random([0x5d, n, 0x17, 0x42, n, 0x99, 0x03, 0x21])
                            .to_string(),
                        location_id: location.id,
                        service_id: service.id,
                        ends_at: spec.start + Duration::minutes(10 * k as i64),
                        starts,
                        channel: *channel,
                        status: BookingStatus::Confirmed,
                        name: (*name).into(),
                        email: Some((*email).into()),
                        phone: None,
                        hold_until: None,
                        waitlist_id: None,
                        created_by: None,
                    },
                    &[],
                )
                .await;
            if r.is_ok() {
                booked += 1;
            }
        }
        day += Duration::days(1);
    }
    Ok(())
}

/// The demo app's Open311 key (a demo may print it at every start; a real
/// installation issues keys with `rathaus admin create-open311-key`).
pub const DEMO_OPEN311_KEY: &str = "o311_demo_musterstadt_app";

/// The street list of the demo town (`strasse;plz;lat;long`).
pub const STREETS_CSV: &str = include_str!("../demo/streets.csv");

/// The demo's Mängelmelder: six categories routed to the road traffic
/// office and the environment office (a clerk works each), the town's
/// street list and the demo app's Open311 key (the reports:
/// [`seed_defect_reports`]).
pub async fn seed_defects(store: &Store, tid: TenantId) -> anyhow::Result<()> {
    use rathaus_app::defects::CategoryInput;
    use rathaus_storage::defects::DefectRepository;
    let app = rathaus_app::App::new(store.clone(), rathaus_storage::files::FileStore::memory());
    let repo = store.repo();
    let admin = repo
        .user_by_email(
            tid,
            &Email::parse("admin@musterstadt.example").expect("valid"),
        )
        .await?
        .context("demo admin missing")?;
    let admin = app
        .staff_actor(tid, admin.id, rathaus_app::actor::Channel::Session)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .context("demo admin inactive")?;
    let unit = |name: &'static str| async move {
        store
            .repo()
            .org_unit_by_name(tid, name)
            .await
            .map(|u| u.map(|u| u.id))
    };
    let roads = unit("Straßenverkehrsbehörde").await?;
    let environment = unit("Umweltamt").await?;
    // code, name, description, keywords, org unit, attributes (Open311 JSON)
    type Category<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        Option<uuid::Uuid>,
        &'a str,
    );
    let categories: [Category; 6] = [
        (
            "schlagloch",
            "Schlagloch",
            "Löcher und Schäden in Fahrbahn, Radweg oder Gehweg.",
            "Straße, Fahrbahn, Loch, Radweg, Gehweg",
            roads,
            r#"[{"code":"groesse","variable":true,"datatype":"singlevaluelist","required":false,"description":"Wie groß ist das Loch?","datatype_description":"","order":1,"values":[{"key":"klein","name":"kleiner als ein Fußball"},{"key":"mittel","name":"etwa so groß wie ein Autoreifen"},{"key":"gross","name":"größer"}]}]"#,
        ),
        (
            "strassenbeleuchtung",
            "Straßenbeleuchtung defekt",
            "Eine Straßenlaterne ist dunkel, flackert oder brennt am Tag.",
            "Laterne, Licht, Beleuchtung",
            roads,
            r#"[{"code":"mastnummer","variable":true,"datatype":"string","required":false,"description":"Nummer am Mast (falls lesbar)","datatype_description":"","order":1,"values":[]}]"#,
        ),
        (
            "wilder-muell",
            "Wilder Müll",
            "Abgelagerter Müll, Sperrmüll oder Bauschutt an Wegen, im Wald oder auf Plätzen.",
            "Müll, Abfall, Sperrmüll, Ablagerung",
            environment,
            "[]",
        ),
        (
            "graffiti",
            "Graffiti",
            "Schmierereien an öffentlichen Gebäuden, Brücken oder Schildern.",
            "Schmiererei, Farbe, Sprayer",
            environment,
            "[]",
        ),
        (
            "spielplatz",
            "Spielplatz beschädigt",
            "Beschädigte Spielgeräte, Glasscherben oder andere Gefahren auf Spielplätzen.",
            "Spielgerät, Schaukel, Rutsche, Sandkasten",
            environment,
            "[]",
        ),
        (
            "verkehrszeichen",
            "Verkehrszeichen",
            "Ein Verkehrszeichen fehlt, ist umgefahren, verdreht oder nicht mehr lesbar.",
            "Schild, Verkehrsschild, Ampel",
            roads,
            "[]",
        ),
    ];
    if repo.defect_categories(tid, false).await?.is_empty() {
        for (i, (code, name, description, keywords, unit, attributes)) in
            categories.into_iter().enumerate()
        {
            app.save_defect_category(
                &admin,
                CategoryInput {
                    code: code.into(),
                    name: name.into(),
                    description: description.into(),
                    keywords: keywords.into(),
                    group: if unit == roads {
                        "Straße und Verkehr"
                    } else {
                        "Umwelt und Sauberkeit"
                    }
                    .into(),
                    org_unit_id: unit,
                    routes: Vec::new(),
                    attributes: attributes.into(),
                    position: i as i32 * 10,
                    active: true,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("demo category {code}: {e:?}"))?;
        }
    }
    if repo.defect_streets(tid).await?.is_empty() {
        app.import_streets_unchecked(tid, STREETS_CSV)
            .await
            .map_err(|e| anyhow::anyhow!("demo streets: {e:?}"))?;
    }
    if repo
        .defect_api_key_by_hash(&rathaus_storage::identity::token_hash(DEMO_OPEN311_KEY))
        .await?
        .is_none()
    {
        store
            .insert_defect_api_key(tid, "Demo-App", None, DEMO_OPEN311_KEY)
            .await?;
    }
    Ok(())
}

/// A few reports in several states (two potholes at the same place, to
/// merge), made through the use cases by the `demo` command (the test
/// suites start from a demo without cases).
pub async fn seed_defect_reports(store: &Store, tid: TenantId) -> anyhow::Result<()> {
    use rathaus_app::defects::{ReportChannel, ReportInput};
    use rathaus_domain::defects::DefectStatus;
    use rathaus_storage::defects::{DefectRepository, ReportFilter};
    let app = rathaus_app::App::new(store.clone(), rathaus_storage::files::FileStore::memory());
    let repo = store.repo();
    let roads = repo
        .org_unit_by_name(tid, "Straßenverkehrsbehörde")
        .await?
        .map(|u| u.id);
    let any = ReportFilter {
        limit: 1,
        ..Default::default()
    };
    if !repo.defect_reports(tid, &any).await?.is_empty() {
        return Ok(());
    }
    let anonymous = rathaus_app::Actor::Anonymous { tenant: tid };
    let report = |code: &str, address: &str, description: &str, email: Option<&str>| ReportInput {
        service_code: code.into(),
        address: Some(address.into()),
        description: description.into(),
        email: email.map(str::to_string),
        strict_address: true,
        ..Default::default()
    };
    let reports = [
        (
            report(
                "schlagloch",
                "Hauptstraße 12",
                "Tiefes Schlagloch auf der rechten Fahrspur vor der Bäckerei, Radfahrer müssen ausweichen.",
                Some("melder@example.org"),
            ),
            Some((
                DefectStatus::InProgress,
                "Die Reparatur ist für nächste Woche beauftragt.",
            )),
            true,
        ),
        (
            report(
                "schlagloch",
                "Hauptstraße 14",
                "Loch in der Straße, ziemlich tief.",
                None,
            ),
            None,
            false,
        ),
        (
            report(
                "strassenbeleuchtung",
                "Bahnhofstraße 3",
                "Die Laterne gegenüber dem Bahnhof ist seit Tagen dunkel.",
                Some("nachtschwaermer@example.org"),
            ),
            Some((
                DefectStatus::Acknowledged,
                "Danke, wir haben die Meldung an den Bauhof gegeben.",
            )),
            true,
        ),
        (
            report(
                "wilder-muell",
                "Waldweg",
                "Mehrere Säcke Hausmüll und ein alter Fernseher am Waldrand.",
                None,
            ),
            Some((DefectStatus::Done, "Der Müll wurde abgeholt.")),
            true,
        ),
        (
            report(
                "graffiti",
                "Marktplatz",
                "Schmiererei an der Rückseite der Bushaltestelle.",
                None,
            ),
            None,
            false,
        ),
        (
            report(
                "spielplatz",
                "Am Spielplatz",
                "Die Kette der linken Schaukel ist gerissen.",
                Some("eltern@example.org"),
            ),
            None,
            false,
        ),
    ];
    for (input, step, release) in reports {
        let r = app
            .report_defect(&anonymous, ReportChannel::Web, input)
            .await
            .map_err(|e| anyhow::anyhow!("demo report: {e:?}"))?;
        let report = repo
            .defect_report(tid, r.id)
            .await?
            .context("demo report stored")?;
        let case = repo.case(tid, report.case_id).await?.context("case")?;
        let email = if Some(case.org_unit_id) == roads {
            "strassen@musterstadt.example"
        } else {
            "umwelt@musterstadt.example"
        };
        let Some(clerk) = repo
            .user_by_email(tid, &Email::parse(email).expect("valid"))
            .await?
            .map(|u| u.id)
        else {
            continue;
        };
        let Some(actor) = app
            .staff_actor(tid, clerk, rathaus_app::actor::Channel::Session)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
        else {
            continue;
        };
        if release {
            app.moderate_defect(&actor, r.id, true, true)
                .await
                .map_err(|e| anyhow::anyhow!("demo moderation: {e:?}"))?;
        }
        if let Some((to, note)) = step {
            app.change_defect_status(&actor, r.id, to, note)
                .await
                .map_err(|e| anyhow::anyhow!("demo status: {e:?}"))?;
        }
    }
    Ok(())
}
