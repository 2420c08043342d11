//! The permission matrix: every route of the real router (HTML and API) ×
//! every kind of actor → the expected answer. The routes come from
//! `rathaus_web::route_table()`, so a new route without an entry in
//! [`RULES`] fails this test.

use std::collections::BTreeMap;

use rathaus_domain::identity::Role;
use rathaus_storage::{
    identity::{NewUser, UserRepository, hash_password},
    prelude::*,
};
use reqwest::{Method, StatusCode};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{
    OTHER_HOST, TestApp, citizen_login, client, csrf_of, get_json, hundesteuer_data, staff_login,
    submit_api, submitted, text, token, token_at, wizard_start,
};

/// Who asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    /// Holds an application's access link / token.
    Applicant,
    /// Holds the access token of another application: finds nothing of the first.
    ApplicantB,
    Citizen,
    /// A staff member of Nachbardorf asking Musterstadt.
    OtherTenant,
    Steering,
    Admin,
    /// A clerk of an org unit outside the case's.
    OtherClerk,
    Editor,
    /// A clerk of the case's org unit.
    Clerk,
}

const EVERYONE: [Who; 10] = [
    Who::Anonymous,
    Who::Applicant,
    Who::ApplicantB,
    Who::Citizen,
    Who::OtherTenant,
    Who::Steering,
    Who::Admin,
    Who::OtherClerk,
    Who::Editor,
    Who::Clerk,
];

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Everyone.
    Public,
    /// Whoever holds the link (access token or draft token in the path):
    /// the applicant uses the real one, everyone else a made-up one.
    Link,
    /// Any staff member of the tenant.
    Staff,
    /// Redaktion.
    Editor,
    /// Sachbearbeitung, any unit (the inbox shows only the own units).
    Clerk,
    /// Sachbearbeitung of the case's unit; other clerks do not see the case.
    CaseClerk,
    /// Fachadministration.
    Admin,
    /// Fachadministration, on a record or hand-over named by an id the
    /// matrix does not have (it uses the case's id): past the permission
    /// check the admin gets the answer of the lookup (404 included).
    AdminById,
    /// Sachbearbeitung (any unit) or Fachadministration: the file plan.
    ClerkOrAdmin,
    /// Sachbearbeitung or Fachadministration, on a Vorgang, document,
    /// Umlaufmappe or in-tray item named by an id the matrix does not have
    /// (it uses the case's id): past the permission check, whatever the
    /// lookup answers.
    ClerkOrAdminById,
    /// The case's clerks or the Fachadministration: a case's Vorgang.
    CaseClerkOrAdmin,
    /// A logged-in citizen (pages of the account).
    Citizen,
    /// A citizen's own application: the demo citizen asks for someone
    /// else's, which must stay hidden.
    CitizenForeign,
    /// The applicant's token or a clerk of the case's unit (API).
    ApplicantOrCaseClerk,
    /// The applicant's token only (API); any other token is an invalid
    /// credential (401).
    ApplicantToken,
    /// A link with a token nobody was given: not found, whoever asks.
    UnknownToken,
    /// Sachbearbeitung of the location's org unit (the Bürgerbüro; neither
    /// clerk of the matrix works there) or the Fachadministration.
    LocationStaff,
    /// Whoever holds the link, on a thing named by an id the matrix does
    /// not have (a payment: it uses the case's id): the applicant gets past
    /// the check (whatever the lookup answers), everyone else not found.
    LinkById,
    /// Sachbearbeitung (any unit), on a defect report named by an id the
    /// matrix does not have (it uses the case's id): past the permission
    /// check, whatever the lookup answers; the Fachadministration works no
    /// reports.
    ClerkById,
    /// Open311 writes need an app's api_key: no session or token of any
    /// actor is one (403 for everybody).
    Open311Key,
}

/// What the answer must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Login, Forbidden or Hidden: nothing of the tenant's data.
    Denied,
    /// Past the permission check: any status below 500 except 401, 403 and
    /// 404, and no redirect to a login page.
    Allowed,
    /// HTML: redirect to the staff or citizen login; API: 401.
    Login,
    Forbidden,
    /// 404: the thing is not shown to this actor.
    Hidden,
    /// Past the permission check, whatever the lookup answers (any status
    /// below 500 except 401 and 403).
    NotRefused,
}

/// Every route with its rule. A route of the router missing here fails.
const RULES: &[(&str, &str, Rule)] = &[
    // platform
    ("GET", "/healthz", Rule::Public),
    ("GET", "/readyz", Rule::Public),
    ("GET", "/metrics", Rule::Public),
    ("GET", "/static/{version}/{*path}", Rule::Public),
    ("GET", "/impressum", Rule::Public),
    ("GET", "/datenschutz", Rule::Public),
    ("GET", "/barrierefreiheit", Rule::Public),
    ("GET", "/api/openapi.json", Rule::Public),
    // catalog
    ("GET", "/", Rule::Public),
    ("GET", "/suche", Rule::Public),
    ("GET", "/leistungen", Rule::Public),
    ("GET", "/leistungen/{slug}", Rule::Public),
    ("GET", "/themen/{slug}", Rule::Public),
    ("GET", "/lebenslagen/{slug}", Rule::Public),
    ("GET", "/sitemap.xml", Rule::Public),
    ("GET", "/api/v1/services", Rule::Public),
    ("POST", "/api/v1/services", Rule::Editor),
    ("GET", "/api/v1/services/{id}", Rule::Public),
    ("PUT", "/api/v1/services/{id}", Rule::Editor),
    ("POST", "/api/v1/services/{id}/submit", Rule::Editor),
    ("POST", "/api/v1/services/{id}/approve", Rule::Editor),
    ("POST", "/api/v1/services/{id}/reject", Rule::Editor),
    ("POST", "/api/v1/services/{id}/archive", Rule::Editor),
    ("POST", "/api/v1/services/{id}/change/approve", Rule::Editor),
    ("POST", "/api/v1/services/{id}/change/reject", Rule::Editor),
    ("GET", "/api/v1/catalog/export", Rule::Public),
    ("POST", "/api/v1/catalog/import", Rule::Editor),
    ("GET", "/staff/catalog", Rule::Editor),
    ("GET", "/staff/catalog/new", Rule::Editor),
    ("POST", "/staff/catalog/new", Rule::Editor),
    ("GET", "/staff/catalog/{id}", Rule::Editor),
    ("GET", "/staff/catalog/{id}/edit", Rule::Editor),
    ("POST", "/staff/catalog/{id}/edit", Rule::Editor),
    ("POST", "/staff/catalog/{id}/submit", Rule::Editor),
    ("POST", "/staff/catalog/{id}/approve", Rule::Editor),
    ("POST", "/staff/catalog/{id}/reject", Rule::Editor),
    ("POST", "/staff/catalog/{id}/archive", Rule::Editor),
    ("POST", "/staff/catalog/{id}/change/approve", Rule::Editor),
    ("POST", "/staff/catalog/{id}/change/reject", Rule::Editor),
    ("GET", "/staff/catalog/{id}/diff", Rule::Editor),
    ("GET", "/staff/synonyms", Rule::Editor),
    ("POST", "/staff/synonyms", Rule::Editor),
    ("POST", "/staff/synonyms/{id}/delete", Rule::Editor),
    // forms: the public wizard
    ("GET", "/leistungen/{slug}/antrag", Rule::Public),
    ("POST", "/leistungen/{slug}/antrag", Rule::Public),
    ("GET", "/antrag/{token}", Rule::Link),
    ("GET", "/antrag/{token}/schritt/{n}", Rule::Link),
    ("POST", "/antrag/{token}/schritt/{n}", Rule::Link),
    (
        "POST",
        "/antrag/{token}/schritt/{n}/aktualisieren",
        Rule::Link,
    ),
    ("GET", "/antrag/{token}/pruefen", Rule::Link),
    ("POST", "/antrag/{token}/absenden", Rule::Link),
    ("GET", "/antrag/{token}/gespeichert", Rule::Link),
    // forms: the editor and the forms API
    ("GET", "/staff/forms", Rule::Editor),
    ("GET", "/staff/forms/import", Rule::Editor),
    ("POST", "/staff/forms/import", Rule::Editor),
    ("POST", "/staff/forms/import-json", Rule::Editor),
    ("GET", "/staff/forms/{id}", Rule::Editor),
    ("GET", "/staff/forms/{id}/items/{path}", Rule::Editor),
    ("POST", "/staff/forms/{id}/items/{path}", Rule::Editor),
    ("POST", "/staff/forms/{id}/move", Rule::Editor),
    ("GET", "/staff/forms/{id}/json", Rule::Editor),
    ("POST", "/staff/forms/{id}/json", Rule::Editor),
    ("GET", "/staff/forms/{id}/export", Rule::Editor),
    ("GET", "/staff/forms/{id}/preview/{n}", Rule::Editor),
    ("POST", "/staff/forms/{id}/preview/{n}", Rule::Editor),
    ("POST", "/staff/forms/{id}/submit", Rule::Editor),
    ("POST", "/staff/forms/{id}/approve", Rule::Editor),
    ("POST", "/staff/forms/{id}/reject", Rule::Editor),
    ("POST", "/staff/forms/{id}/attach", Rule::Editor),
    ("POST", "/staff/forms/{id}/change/approve", Rule::Editor),
    ("POST", "/staff/forms/{id}/change/reject", Rule::Editor),
    ("GET", "/api/v1/forms", Rule::Public),
    ("POST", "/api/v1/forms", Rule::Editor),
    ("POST", "/api/v1/forms/import", Rule::Editor),
    ("GET", "/api/v1/forms/{id}", Rule::Public),
    ("PUT", "/api/v1/forms/{id}", Rule::Editor),
    ("GET", "/api/v1/forms/{id}/draft", Rule::Editor),
    ("GET", "/api/v1/forms/{id}/schema", Rule::Public),
    ("POST", "/api/v1/forms/{id}/validate", Rule::Public),
    ("POST", "/api/v1/forms/{id}/submit", Rule::Editor),
    ("POST", "/api/v1/forms/{id}/approve", Rule::Editor),
    ("POST", "/api/v1/forms/{id}/reject", Rule::Editor),
    ("POST", "/api/v1/forms/{id}/attach", Rule::Editor),
    ("POST", "/api/v1/forms/{id}/change/approve", Rule::Editor),
    ("POST", "/api/v1/forms/{id}/change/reject", Rule::Editor),
    // applications and the applicant's mailbox
    ("GET", "/antrag/eingang/{access}", Rule::Link),
    ("POST", "/antrag/eingang/{access}/antwort", Rule::Link),
    (
        "GET",
        "/antrag/eingang/{access}/eingangsbestaetigung.pdf",
        Rule::Link,
    ),
    ("GET", "/antrag/eingang/{access}/dateien/{file}", Rule::Link),
    ("GET", "/antrag/zugang", Rule::Public),
    ("GET", "/konto/antraege/{reference}", Rule::CitizenForeign),
    (
        "POST",
        "/konto/antraege/{reference}/antwort",
        Rule::CitizenForeign,
    ),
    (
        "GET",
        "/konto/antraege/{reference}/eingangsbestaetigung.pdf",
        Rule::CitizenForeign,
    ),
    (
        "GET",
        "/konto/antraege/{reference}/dateien/{file}",
        Rule::CitizenForeign,
    ),
    ("POST", "/api/v1/applications", Rule::Public),
    (
        "GET",
        "/api/v1/applications/{reference}",
        Rule::ApplicantOrCaseClerk,
    ),
    (
        "POST",
        "/api/v1/applications/{reference}/messages",
        Rule::ApplicantToken,
    ),
    (
        "GET",
        "/api/v1/applications/{reference}/files/{file}",
        Rule::ApplicantToken,
    ),
    // cases and decisions
    ("GET", "/staff/cases", Rule::Clerk),
    ("GET", "/staff/cases/{id}", Rule::CaseClerk),
    ("GET", "/staff/cases/{id}/files/{file}", Rule::CaseClerk),
    ("POST", "/staff/cases/{id}/claim", Rule::CaseClerk),
    ("POST", "/staff/cases/{id}/status", Rule::CaseClerk),
    ("POST", "/staff/cases/{id}/note", Rule::CaseClerk),
    ("POST", "/staff/cases/{id}/forward", Rule::CaseClerk),
    ("POST", "/staff/cases/{id}/message", Rule::CaseClerk),
    ("POST", "/staff/cases/{id}/decide", Rule::CaseClerk),
    ("GET", "/api/v1/cases", Rule::Clerk),
    ("POST", "/api/v1/cases/{id}/claim", Rule::CaseClerk),
    ("POST", "/api/v1/cases/{id}/status", Rule::CaseClerk),
    ("POST", "/api/v1/cases/{id}/notes", Rule::CaseClerk),
    ("POST", "/api/v1/cases/{id}/forward", Rule::CaseClerk),
    ("POST", "/api/v1/cases/{id}/messages", Rule::CaseClerk),
    ("POST", "/api/v1/cases/{id}/decide", Rule::CaseClerk),
    ("GET", "/api/v1/cases/{id}/audit", Rule::CaseClerk),
    ("GET", "/staff/templates", Rule::Admin),
    ("GET", "/staff/templates/{scope}/{variant}", Rule::Admin),
    ("POST", "/staff/templates/{scope}/{variant}", Rule::Admin),
    ("GET", "/staff/routing/{service}", Rule::Admin),
    ("POST", "/staff/routing/{service}", Rule::Admin),
    // records (E-Akte)
    ("GET", "/api/v1/records/plan", Rule::ClerkOrAdmin),
    ("GET", "/api/v1/cases/{id}/record", Rule::CaseClerkOrAdmin),
    ("GET", "/staff/cases/{id}/record", Rule::CaseClerkOrAdmin),
    ("PUT", "/api/v1/records/{id}/hold", Rule::AdminById),
    ("DELETE", "/api/v1/records/{id}/hold", Rule::AdminById),
    ("POST", "/staff/records/{id}/hold", Rule::AdminById),
    ("GET", "/api/v1/records/due", Rule::Admin),
    ("POST", "/api/v1/records/disposals", Rule::Admin),
    ("GET", "/api/v1/records/disposals/{id}", Rule::AdminById),
    (
        "GET",
        "/api/v1/records/disposals/{id}/0501",
        Rule::AdminById,
    ),
    (
        "POST",
        "/api/v1/records/disposals/{id}/0502",
        Rule::AdminById,
    ),
    (
        "GET",
        "/api/v1/records/disposals/{id}/0503",
        Rule::AdminById,
    ),
    (
        "POST",
        "/api/v1/records/disposals/{id}/receipt",
        Rule::AdminById,
    ),
    (
        "POST",
        "/api/v1/records/disposals/{id}/destruction",
        Rule::AdminById,
    ),
    (
        "POST",
        "/api/v1/records/disposals/{id}/destruction/approve",
        Rule::AdminById,
    ),
    ("GET", "/staff/records", Rule::Admin),
    ("POST", "/staff/records/disposals", Rule::Admin),
    ("GET", "/staff/records/disposals/{id}", Rule::AdminById),
    ("GET", "/staff/records/disposals/{id}/0501", Rule::AdminById),
    (
        "POST",
        "/staff/records/disposals/{id}/0502",
        Rule::AdminById,
    ),
    ("GET", "/staff/records/disposals/{id}/0503", Rule::AdminById),
    (
        "POST",
        "/staff/records/disposals/{id}/receipt",
        Rule::AdminById,
    ),
    (
        "POST",
        "/staff/records/disposals/{id}/destruction",
        Rule::AdminById,
    ),
    (
        "POST",
        "/staff/records/disposals/{id}/destruction/approve",
        Rule::AdminById,
    ),
    // records: working with the files (filing, search, plan changes,
    // Umlaufmappen, in-tray, seals)
    (
        "GET",
        "/staff/records/documents/{id}",
        Rule::ClerkOrAdminById,
    ),
    (
        "GET",
        "/staff/records/documents/{id}/seal",
        Rule::ClerkOrAdminById,
    ),
    ("POST", "/staff/records/{id}/move", Rule::ClerkOrAdminById),
    ("POST", "/staff/records/{id}/note", Rule::ClerkOrAdminById),
    (
        "POST",
        "/staff/records/{id}/documents",
        Rule::ClerkOrAdminById,
    ),
    ("GET", "/staff/records/{id}/open", Rule::ClerkOrAdminById),
    ("GET", "/staff/records/search", Rule::ClerkOrAdmin),
    ("GET", "/staff/records/plan", Rule::Admin),
    ("POST", "/staff/records/plan/changes", Rule::Admin),
    (
        "POST",
        "/staff/records/plan/changes/{id}/approve",
        Rule::AdminById,
    ),
    (
        "POST",
        "/staff/records/plan/changes/{id}/reject",
        Rule::AdminById,
    ),
    ("GET", "/staff/umlauf", Rule::ClerkOrAdmin),
    ("GET", "/staff/umlauf/{id}", Rule::ClerkOrAdminById),
    ("POST", "/staff/umlauf/{id}/sign", Rule::ClerkOrAdminById),
    ("POST", "/staff/umlauf/{id}/return", Rule::ClerkOrAdminById),
    ("POST", "/staff/umlauf/{id}/cancel", Rule::ClerkOrAdminById),
    ("POST", "/staff/records/{id}/umlauf", Rule::ClerkOrAdminById),
    ("GET", "/staff/posteingang", Rule::ClerkOrAdmin),
    ("POST", "/staff/posteingang", Rule::ClerkOrAdmin),
    ("GET", "/staff/posteingang/einstellungen", Rule::Admin),
    ("POST", "/staff/posteingang/regeln", Rule::Admin),
    (
        "POST",
        "/staff/posteingang/regeln/{id}/loeschen",
        Rule::AdminById,
    ),
    ("POST", "/staff/posteingang/klassifikator", Rule::Admin),
    ("GET", "/staff/posteingang/{id}", Rule::ClerkOrAdminById),
    (
        "GET",
        "/staff/posteingang/{id}/inhalt",
        Rule::ClerkOrAdminById,
    ),
    (
        "POST",
        "/staff/posteingang/{id}/ablegen",
        Rule::ClerkOrAdminById,
    ),
    (
        "POST",
        "/staff/posteingang/{id}/verwerfen",
        Rule::ClerkOrAdminById,
    ),
    ("GET", "/pruefen", Rule::Public),
    ("POST", "/pruefen", Rule::Public),
    ("GET", "/pruefen/zertifikat.pem", Rule::Public),
    ("GET", "/api/v1/records/search", Rule::ClerkOrAdmin),
    (
        "POST",
        "/api/v1/records/{id}/documents",
        Rule::ClerkOrAdminById,
    ),
    (
        "GET",
        "/api/v1/records/documents/{id}",
        Rule::ClerkOrAdminById,
    ),
    (
        "GET",
        "/api/v1/records/documents/{id}/seal",
        Rule::ClerkOrAdminById,
    ),
    (
        "POST",
        "/api/v1/records/documents/{id}/move",
        Rule::ClerkOrAdminById,
    ),
    (
        "POST",
        "/api/v1/cases/{id}/record/notes",
        Rule::CaseClerkOrAdmin,
    ),
    ("GET", "/api/v1/records/plan/changes", Rule::Admin),
    ("POST", "/api/v1/records/plan/changes", Rule::Admin),
    (
        "POST",
        "/api/v1/records/plan/changes/{id}/approve",
        Rule::AdminById,
    ),
    (
        "POST",
        "/api/v1/records/plan/changes/{id}/reject",
        Rule::AdminById,
    ),
    (
        "POST",
        "/api/v1/records/{id}/circulations",
        Rule::ClerkOrAdminById,
    ),
    (
        "GET",
        "/api/v1/records/{id}/circulations",
        Rule::ClerkOrAdminById,
    ),
    ("GET", "/api/v1/circulations", Rule::ClerkOrAdmin),
    ("GET", "/api/v1/circulations/{id}", Rule::ClerkOrAdminById),
    (
        "POST",
        "/api/v1/circulations/{id}/sign",
        Rule::ClerkOrAdminById,
    ),
    (
        "POST",
        "/api/v1/circulations/{id}/return",
        Rule::ClerkOrAdminById,
    ),
    (
        "POST",
        "/api/v1/circulations/{id}/cancel",
        Rule::ClerkOrAdminById,
    ),
    ("POST", "/api/v1/intray", Rule::ClerkOrAdmin),
    ("GET", "/api/v1/intray", Rule::ClerkOrAdmin),
    ("GET", "/api/v1/intray/rules", Rule::ClerkOrAdmin),
    ("POST", "/api/v1/intray/rules", Rule::Admin),
    ("DELETE", "/api/v1/intray/rules/{id}", Rule::AdminById),
    ("GET", "/api/v1/intray/classifier", Rule::ClerkOrAdmin),
    ("POST", "/api/v1/intray/classifier/train", Rule::Admin),
    ("GET", "/api/v1/intray/{id}", Rule::ClerkOrAdminById),
    ("GET", "/api/v1/intray/{id}/content", Rule::ClerkOrAdminById),
    ("POST", "/api/v1/intray/{id}/file", Rule::ClerkOrAdminById),
    (
        "POST",
        "/api/v1/intray/{id}/discard",
        Rule::ClerkOrAdminById,
    ),
    ("POST", "/api/v1/seals/verify", Rule::Public),
    ("GET", "/api/v1/seals/certificate", Rule::Public),
    // accounts
    ("GET", "/konto", Rule::Citizen),
    ("GET", "/konto/registrieren", Rule::Public),
    ("POST", "/konto/registrieren", Rule::Public),
    ("GET", "/konto/bestaetigen/{token}", Rule::UnknownToken),
    ("POST", "/konto/bestaetigen/{token}", Rule::UnknownToken),
    ("GET", "/konto/passwort-vergessen", Rule::Public),
    ("POST", "/konto/passwort-vergessen", Rule::Public),
    ("GET", "/konto/passwort-neu/{token}", Rule::UnknownToken),
    ("POST", "/konto/passwort-neu/{token}", Rule::UnknownToken),
    ("GET", "/konto/anmelden", Rule::Public),
    ("POST", "/konto/anmelden", Rule::Public),
    ("POST", "/konto/abmelden", Rule::Public),
    ("GET", "/konto/profil", Rule::Citizen),
    ("POST", "/konto/profil", Rule::Citizen),
    // identity
    ("GET", "/login", Rule::Public),
    ("POST", "/login", Rule::Public),
    ("POST", "/logout", Rule::Public),
    ("GET", "/staff", Rule::Staff),
    ("POST", "/api/v1/auth/token", Rule::Public),
    ("DELETE", "/api/v1/auth/token", Rule::Staff),
    // payments
    (
        "POST",
        "/antrag/eingang/{access}/zahlung/{id}",
        Rule::LinkById,
    ),
    (
        "POST",
        "/konto/antraege/{reference}/zahlung/{id}",
        Rule::CitizenForeign,
    ),
    ("GET", "/antrag/{reference}/zahlung/zurueck", Rule::Public),
    ("GET", "/staff/zahlungen", Rule::Admin),
    ("GET", "/staff/zahlungen/export.csv", Rule::Admin),
    ("GET", "/staff/zahlungen/gebuehren", Rule::Admin),
    ("POST", "/staff/zahlungen/gebuehren", Rule::Admin),
    ("GET", "/staff/zahlungen/{id}", Rule::ClerkOrAdminById),
    (
        "POST",
        "/staff/zahlungen/{id}/erstattung",
        Rule::ClerkOrAdminById,
    ),
    (
        "POST",
        "/staff/zahlungen/erstattungen/{id}/freigeben",
        Rule::ClerkOrAdminById,
    ),
    ("POST", "/staff/cases/{id}/gebuehr", Rule::CaseClerk),
    ("POST", "/api/v1/payments/notify", Rule::Public),
    ("GET", "/api/v1/payments", Rule::Admin),
    ("GET", "/api/v1/payments/reconciliation.csv", Rule::Admin),
    ("GET", "/api/v1/payments/{id}", Rule::ClerkOrAdminById),
    (
        "POST",
        "/api/v1/payments/{id}/refunds",
        Rule::ClerkOrAdminById,
    ),
    (
        "POST",
        "/api/v1/refunds/{id}/approve",
        Rule::ClerkOrAdminById,
    ),
    ("GET", "/api/v1/cases/{id}/payments", Rule::CaseClerkOrAdmin),
    ("POST", "/api/v1/cases/{id}/fee-requests", Rule::CaseClerk),
    ("PUT", "/api/v1/services/{id}/fee", Rule::Admin),
    // appointments
    ("GET", "/termine", Rule::Public),
    ("GET", "/termine/{location}/{service}", Rule::Public),
    ("POST", "/termine/{location}/{service}/halten", Rule::Public),
    (
        "POST",
        "/termine/{location}/{service}/warteliste",
        Rule::Public,
    ),
    ("GET", "/termine/buchung/{code}", Rule::UnknownToken),
    ("POST", "/termine/buchung/{code}/daten", Rule::UnknownToken),
    (
        "GET",
        "/termine/buchung/{code}/termin.ics",
        Rule::UnknownToken,
    ),
    (
        "POST",
        "/termine/buchung/{code}/absagen",
        Rule::UnknownToken,
    ),
    (
        "GET",
        "/termine/buchung/{code}/verlegen",
        Rule::UnknownToken,
    ),
    (
        "POST",
        "/termine/buchung/{code}/verlegen",
        Rule::UnknownToken,
    ),
    (
        "GET",
        "/termine/buchung/{code}/bestaetigen/{token}",
        Rule::UnknownToken,
    ),
    (
        "POST",
        "/termine/buchung/{code}/bestaetigen/{token}",
        Rule::UnknownToken,
    ),
    ("GET", "/termine/warteliste/{code}", Rule::UnknownToken),
    (
        "POST",
        "/termine/warteliste/{code}/abmelden",
        Rule::UnknownToken,
    ),
    ("GET", "/staff/termine", Rule::ClerkOrAdmin),
    ("GET", "/staff/termine/{location}", Rule::LocationStaff),
    (
        "GET",
        "/staff/termine/{location}/statistik",
        Rule::LocationStaff,
    ),
    (
        "POST",
        "/staff/termine/{location}/sperren",
        Rule::LocationStaff,
    ),
    (
        "POST",
        "/staff/termine/{location}/buchen",
        Rule::LocationStaff,
    ),
    (
        "POST",
        "/staff/termine/buchungen/{id}/erschienen",
        Rule::ClerkOrAdminById,
    ),
    (
        "POST",
        "/staff/termine/buchungen/{id}/nicht-erschienen",
        Rule::ClerkOrAdminById,
    ),
    (
        "POST",
        "/staff/termine/buchungen/{id}/absagen",
        Rule::ClerkOrAdminById,
    ),
    ("GET", "/api/v1/appointments/services", Rule::Public),
    ("GET", "/api/v1/appointments/slots", Rule::Public),
    ("GET", "/api/v1/appointments/challenge", Rule::Public),
    ("POST", "/api/v1/appointments", Rule::Public),
    ("POST", "/api/v1/appointments/waitlist", Rule::Public),
    (
        "DELETE",
        "/api/v1/appointments/waitlist/{code}",
        Rule::UnknownToken,
    ),
    ("GET", "/api/v1/appointments/{code}", Rule::UnknownToken),
    ("DELETE", "/api/v1/appointments/{code}", Rule::UnknownToken),
    (
        "POST",
        "/api/v1/appointments/{code}/confirm",
        Rule::UnknownToken,
    ),
    (
        "POST",
        "/api/v1/appointments/{code}/move",
        Rule::UnknownToken,
    ),
    (
        "GET",
        "/api/v1/appointments/locations/{id}/day",
        Rule::LocationStaff,
    ),
    (
        "POST",
        "/api/v1/appointments/locations/{id}/bookings",
        Rule::LocationStaff,
    ),
    (
        "POST",
        "/api/v1/appointments/locations/{id}/blocks",
        Rule::LocationStaff,
    ),
    (
        "GET",
        "/api/v1/appointments/locations/{id}/utilisation",
        Rule::LocationStaff,
    ),
    (
        "POST",
        "/api/v1/appointments/bookings/{id}/attendance",
        Rule::ClerkOrAdminById,
    ),
    (
        "POST",
        "/api/v1/appointments/bookings/{id}/cancel",
        Rule::ClerkOrAdminById,
    ),
    ("GET", "/api/v1/me", Rule::Staff),
    ("GET", "/api/v1/org-units", Rule::Staff),
    ("GET", "/api/v1/org-units/{id}", Rule::Staff),
    // defects (Mängelmelder) and Open311
    ("GET", "/maengel", Rule::Public),
    ("GET", "/maengel/melden", Rule::Public),
    ("GET", "/maengel/melden/angaben", Rule::Public),
    ("POST", "/maengel/melden", Rule::Public),
    ("GET", "/maengel/{reference}", Rule::UnknownToken),
    ("GET", "/maengel/{reference}/fotos/{n}", Rule::UnknownToken),
    ("GET", "/staff/maengel", Rule::Clerk),
    ("GET", "/staff/maengel/{id}", Rule::ClerkById),
    ("POST", "/staff/maengel/{id}/status", Rule::ClerkById),
    ("POST", "/staff/maengel/{id}/freigabe", Rule::ClerkById),
    (
        "POST",
        "/staff/maengel/{id}/zusammenfuehren",
        Rule::ClerkById,
    ),
    ("GET", "/staff/maengel/einstellungen", Rule::Admin),
    (
        "POST",
        "/staff/maengel/einstellungen/kategorie",
        Rule::Admin,
    ),
    (
        "POST",
        "/staff/maengel/einstellungen/schluessel",
        Rule::Admin,
    ),
    (
        "POST",
        "/staff/maengel/einstellungen/schluessel/{id}/widerrufen",
        Rule::AdminById,
    ),
    ("POST", "/staff/maengel/einstellungen/strassen", Rule::Admin),
    ("GET", "/api/v1/defects", Rule::Clerk),
    ("GET", "/api/v1/defects/{id}", Rule::ClerkById),
    ("POST", "/api/v1/defects/{id}/status", Rule::ClerkById),
    ("POST", "/api/v1/defects/{id}/moderation", Rule::ClerkById),
    ("POST", "/api/v1/defects/{id}/merge", Rule::ClerkById),
    ("GET", "/open311/v2/{file}", Rule::Public),
    ("POST", "/open311/v2/{file}", Rule::Open311Key),
    ("GET", "/open311/v2/services/{file}", Rule::Public),
    ("GET", "/open311/v2/requests/{file}", Rule::UnknownToken),
    ("GET", "/open311/v2/tokens/{file}", Rule::UnknownToken),
];

fn expect(rule: Rule, who: Who) -> Expect {
    use Expect::*;
    let staff = matches!(
        who,
        Who::Steering | Who::Admin | Who::OtherClerk | Who::Editor | Who::Clerk
    );
    let needs_staff = |has: bool| {
        if !staff {
            Login
        } else if has {
            Allowed
        } else {
            Forbidden
        }
    };
    match rule {
        Rule::Public => Allowed,
        Rule::Link => {
            if who == Who::Applicant {
                Allowed
            } else {
                Hidden
            }
        }
        Rule::Staff => needs_staff(true),
        Rule::Editor => needs_staff(who == Who::Editor),
        Rule::Clerk => needs_staff(matches!(who, Who::Clerk | Who::OtherClerk)),
        Rule::Admin => needs_staff(who == Who::Admin),
        Rule::AdminById => match needs_staff(who == Who::Admin) {
            Allowed => NotRefused,
            other => other,
        },
        Rule::ClerkOrAdmin => needs_staff(matches!(who, Who::Clerk | Who::OtherClerk | Who::Admin)),
        Rule::ClerkOrAdminById => {
            match needs_staff(matches!(who, Who::Clerk | Who::OtherClerk | Who::Admin)) {
                Allowed => NotRefused,
                other => other,
            }
        }
        Rule::LocationStaff => needs_staff(who == Who::Admin),
        Rule::CaseClerkOrAdmin => match who {
            Who::Clerk | Who::Admin => Allowed,
            Who::OtherClerk => Hidden,
            _ => needs_staff(false),
        },
        Rule::CaseClerk => match who {
            Who::Clerk => Allowed,
            Who::OtherClerk => Hidden,
            _ => needs_staff(false),
        },
        Rule::Citizen => {
            if who == Who::Citizen {
                Allowed
            } else {
                Login
            }
        }
        Rule::CitizenForeign => {
            if who == Who::Citizen {
                Hidden
            } else {
                Login
            }
        }
        Rule::ApplicantOrCaseClerk => match who {
            Who::Applicant | Who::Clerk => Allowed,
            Who::OtherClerk => Hidden,
            Who::ApplicantB => Denied,
            Who::Steering | Who::Admin | Who::Editor => Forbidden,
            _ => Login,
        },
        // Any other token is not a credential here: 401.
        Rule::ApplicantToken => match who {
            Who::Applicant => Allowed,
            Who::ApplicantB => Denied,
            _ => Login,
        },
        Rule::UnknownToken => Hidden,
        Rule::ClerkById => match needs_staff(matches!(who, Who::Clerk | Who::OtherClerk)) {
            Allowed => NotRefused,
            other => other,
        },
        Rule::Open311Key => Forbidden,
        Rule::LinkById => {
            if who == Who::Applicant {
                NotRefused
            } else {
                Hidden
            }
        }
    }
}

/// Another tenant's staff member asking the API at this tenant's host.
fn expect_other_tenant(rule: Rule, _method: &str, _path: &str) -> Expect {
    // A token works only at its own tenant's host: here, under Musterstadt's,
    // Nachbardorf's token is refused like an unknown one (401), even for
    // `/me` and its own org units.
    if rule == Rule::Public {
        Expect::Allowed
    } else if rule == Rule::UnknownToken {
        Expect::Hidden
    } else {
        Expect::Denied
    }
}

/// The browser session and API token of an actor.
struct Actor {
    browser: reqwest::Client,
    csrf: String,
    token: Option<String>,
}

fn first_link(html: &str, prefix: &str) -> Option<String> {
    for attr in ["href=\"", "action=\""] {
        let needle = format!("{attr}{prefix}");
        if let Some(start) = html.find(&needle) {
            let rest = &html[start + attr.len()..];
            return Some(rest[..rest.find('"')?].replace("&amp;", "&"));
        }
    }
    None
}

async fn csrf_for(app: &TestApp, browser: &reqwest::Client, page: &str) -> String {
    let html = text(browser, app.url(page)).await;
    csrf_of(&html).unwrap_or_else(|| panic!("no csrf token on {page}"))
}

/// A CSRF token of the browser's current session, from whichever page has a form.
async fn any_csrf(app: &TestApp, browser: &reqwest::Client) -> String {
    for page in ["/login", "/staff", "/konto", "/konto/anmelden"] {
        if let Some(t) = csrf_of(&text(browser, app.url(page)).await) {
            return t;
        }
    }
    panic!("no page with a CSRF token")
}

#[tokio::test]
async fn every_route_answers_every_actor_as_the_permission_model_says() {
    let app = TestApp::spawn().await;
    let store = app.db.as_ref().unwrap().store.clone();
    let repo = store.repo();
    let tenant = repo
        .tenant_by_slug("musterstadt")
        .await
        .unwrap()
        .unwrap()
        .tenant_id();

    // A clerk of the Umweltamt: the Hundesteuer case is not theirs.
    let umwelt = repo
        .org_unit_by_name(tenant, "Umweltamt")
        .await
        .unwrap()
        .expect("demo unit Umweltamt");
    // (The demo has one: Uwe Umwelt.)
    let other = repo
        .user_by_email(
            tenant,
            &rathaus_domain::identity::Email::parse("umwelt@musterstadt.example").unwrap(),
        )
        .await
        .unwrap()
        .expect("demo clerk of the Umweltamt");
    repo.grant_role(tenant, other.id, umwelt.id, Role::Clerk)
        .await
        .unwrap();

    // An application with a case in the clerk's unit, a document request
    // and the applicant's answer with a file.
    let r = submit_api(
        &app,
        "hundesteuer-anmeldung",
        "permission-matrix-1",
        &hundesteuer_data(),
    )
    .await;
    assert_eq!(r.status(), 201, "submit: {}", r.text().await.unwrap());
    let sent: Value = r.json().await.unwrap();
    let reference = sent["reference"].as_str().unwrap().to_string();
    let access = sent["access_token"].as_str().unwrap().to_string();
    // The case's clerk: a user with the clerk role in the unit the case was routed to.
    // (The demo's defect reports have cases of their own.)
    let cases = {
        use rathaus_storage::entities::{application, case};
        use sea_orm::{ColumnTrait, QueryFilter};
        let submitted = application::Entity::find()
            .filter(application::Column::Reference.eq(&reference))
            .one(store.db())
            .await
            .unwrap()
            .expect("the application");
        case::Entity::find()
            .filter(case::Column::ApplicationId.eq(submitted.id))
            .all(store.db())
            .await
            .unwrap()
    };
    assert_eq!(cases.len(), 1, "one case");
    let case = cases[0].id.to_string();
    // A second applicant, with a token of their own application.
    let other_application = submitted(
        &app,
        "hundesteuer-anmeldung",
        "permission-matrix-2",
        &hundesteuer_data(),
    )
    .await;
    let access_b = other_application["access_token"]
        .as_str()
        .expect("access token of the second application")
        .to_string();
    let clerk = repo
        .create_user(
            tenant,
            &NewUser {
                email: "fall@musterstadt.example".into(),
                display_name: "Fritz Fall".into(),
                password_hash: hash_password("demo"),
            },
        )
        .await
        .unwrap();
    repo.grant_role(tenant, clerk.id, cases[0].org_unit_id, Role::Clerk)
        .await
        .unwrap();
    assert_ne!(
        cases[0].org_unit_id, umwelt.id,
        "the other clerk's unit is another one"
    );
    let clerk_token = token(&app, "fall@musterstadt.example").await;
    let r = client()
        .post(app.url(&format!("/api/v1/cases/{case}/claim")))
        .bearer_auth(&clerk_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "claim");
    let r = client()
        .post(app.url(&format!("/api/v1/cases/{case}/messages")))
        .bearer_auth(&clerk_token)
        .json(&json!({"body": "Bitte den Impfpass.", "requested_documents": ["Impfpass"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "document request");
    let pdf = "JVBERi0xLjQKMSAwIG9iajw8Pj5lbmRvYmoKdHJhaWxlcjw8Pj4KJSVFT0YK";
    let r = client()
        .post(app.url(&format!("/api/v1/applications/{reference}/messages")))
        .bearer_auth(&access)
        .json(&json!({"body": "Anbei.", "files": [{"name": "impfpass.pdf", "content": pdf}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "answer: {}", r.text().await.unwrap());
    let mine = get_json(
        app.url(&format!("/api/v1/applications/{reference}")),
        &access,
    )
    .await;
    let file = find_file_id(&mine).unwrap_or_else(|| panic!("a file id in {mine}"));

    // The actors.
    let mut actors: BTreeMap<Who, Actor> = BTreeMap::new();
    for who in EVERYONE {
        let (browser, token, csrf_page) = match who {
            Who::Anonymous | Who::Applicant => (client(), None, "/login"),
            Who::ApplicantB => (client(), Some(access_b.clone()), "/login"),
            Who::Citizen => (
                citizen_login(&app, "buerger@musterstadt.example", "demo").await,
                None,
                "/konto",
            ),
            Who::OtherTenant => {
                let b = client();
                let html = b
                    .get(app.url("/login"))
                    .header("host", OTHER_HOST)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                let csrf = csrf_of(&html).unwrap();
                let r = b
                    .post(app.url("/login"))
                    .header("host", OTHER_HOST)
                    .form(&[
                        ("csrf_token", csrf.as_str()),
                        ("email", "admin@nachbardorf.example"),
                        ("password", "nachbar-passwort"),
                    ])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 303, "login in Nachbardorf");
                let t = token_at(
                    &app,
                    "admin@nachbardorf.example",
                    "nachbar-passwort",
                    Some(OTHER_HOST),
                )
                .await;
                (b, Some(t), "/login")
            }
            staff => {
                let email = match staff {
                    Who::Steering => "steuerung@musterstadt.example",
                    Who::Admin => "admin@musterstadt.example",
                    Who::OtherClerk => "umwelt@musterstadt.example",
                    Who::Editor => "redaktion@musterstadt.example",
                    _ => "fall@musterstadt.example",
                };
                (
                    staff_login(&app, email).await,
                    Some(token(&app, email).await),
                    "/staff",
                )
            }
        };
        let csrf = csrf_for(&app, &browser, csrf_page).await;
        let token = if who == Who::Applicant {
            Some(access.clone())
        } else {
            token
        };
        actors.insert(
            who,
            Actor {
                browser,
                csrf,
                token,
            },
        );
    }

    // Values for the path parameters.
    let editor = &actors[&Who::Editor];
    let admin = &actors[&Who::Admin];
    let home = text(&editor.browser, app.url("/")).await;
    let static_path = first_link(&home, "/static/").expect("a static asset on the home page");
    let topic = first_link(&home, "/themen/").expect("a topic on the home page");
    let life = first_link(&home, "/lebenslagen/").expect("a life situation on the home page");
    let services: Value = client()
        .get(app.url("/api/v1/services?q=Personalausweis"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let service = services["items"][0]["id"]
        .as_str()
        .or_else(|| services[0]["id"].as_str())
        .unwrap_or_else(|| panic!("a service id in {services}"))
        .to_string();
    let forms_page = text(&editor.browser, app.url("/staff/forms")).await;
    let form_path = first_link(&forms_page, "/staff/forms/")
        .into_iter()
        .chain(
            forms_page
                .match_indices("href=\"/staff/forms/")
                .filter_map(|(i, _)| first_link(&forms_page[i..], "/staff/forms/")),
        )
        .find(|l| l.len() > "/staff/forms/".len() + 30)
        .expect("a form on the editor's list");
    let form = form_path["/staff/forms/".len()..]
        .split('/')
        .next()
        .unwrap()
        .to_string();
    // A form with a draft version, for the editor's pages that change it.
    let r = client()
        .post(app.url("/api/v1/forms"))
        .bearer_auth(editor.token.as_ref().unwrap())
        .json(&json!({
            "format": "rathaus.form/1", "key": "matrix-draft",
            "definition": {"key": "matrix_draft", "title": {"de": "Entwurf", "en": "Draft"}, "steps": [
                {"key": "a", "title": {"de": "A", "en": "A"}, "items": [
                    {"type": "field", "key": "x", "label": {"de": "X", "en": "X"}, "kind": "text"},
                    {"type": "field", "key": "y", "label": {"de": "Y", "en": "Y"}, "kind": "text"}]}]}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "draft form");
    let created: Value = r.json().await.unwrap();
    let draft_form = created["id"]
        .as_str()
        .or_else(|| created["form"]["id"].as_str())
        .unwrap_or_else(|| panic!("a form id in {created}"))
        .to_string();
    let form_detail = text(
        &editor.browser,
        app.url(&format!("/staff/forms/{draft_form}")),
    )
    .await;
    let item_path = first_link(&form_detail, &format!("/staff/forms/{draft_form}/items/"))
        .expect("an item link on the form page")
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let synonyms = text(&editor.browser, app.url("/staff/synonyms")).await;
    let synonym_delete = synonyms
        .match_indices("action=\"/staff/synonyms/")
        .filter_map(|(i, _)| first_link(&synonyms[i..], "/staff/synonyms/"))
        .find(|l| l.ends_with("/delete"));
    let templates = text(&admin.browser, app.url("/staff/templates")).await;
    let template = templates
        .match_indices("href=\"/staff/templates/")
        .filter_map(|(i, _)| first_link(&templates[i..], "/staff/templates/"))
        .next()
        .expect("a template link");
    let routing = first_link(&templates, "/staff/routing/")
        .unwrap_or_else(|| format!("/staff/routing/{service}"));
    let units = get_json(app.url("/api/v1/org-units"), admin.token.as_ref().unwrap()).await;
    let unit = units["items"][0]["id"]
        .as_str()
        .or_else(|| units[0]["id"].as_str())
        .unwrap_or_else(|| panic!("an org unit id in {units}"))
        .to_string();
    let (_, draft_base) = wizard_start(
        &app,
        &actors[&Who::Applicant].browser,
        "hundesteuer-anmeldung",
    )
    .await;
    let draft = draft_base.trim_start_matches("/antrag/").to_string();
    let made_up = "rh_0000000000000000000000000000000000000000000000000000000000000000";

    let concrete = |path: &str, who: Who| -> String {
        let link_token = |real: &str| {
            if who == Who::Applicant {
                real.to_string()
            } else {
                made_up.to_string()
            }
        };
        let p = match path {
            "/static/{version}/{*path}" => return static_path.clone(),
            "/themen/{slug}" => return topic.clone(),
            "/lebenslagen/{slug}" => return life.clone(),
            "/staff/templates/{scope}/{variant}" => return template.clone(),
            "/staff/routing/{service}" => return routing.clone(),
            // Open311: the list (GET) and a write without api_key (POST).
            "/open311/v2/{file}" => return "/open311/v2/requests.json".into(),
            "/open311/v2/services/{file}" => return "/open311/v2/services/schlagloch.json".into(),
            "/open311/v2/requests/{file}" => {
                return "/open311/v2/requests/MS-1900-000001.json".into();
            }
            "/open311/v2/tokens/{file}" => return "/open311/v2/tokens/unbekannt.json".into(),
            "/staff/synonyms/{id}/delete" => {
                return synonym_delete
                    .clone()
                    .unwrap_or_else(|| format!("/staff/synonyms/{}/delete", uuid::Uuid::nil()));
            }
            p => p.to_string(),
        };
        let id = if p.starts_with("/staff/catalog/") || p.starts_with("/api/v1/services/") {
            service.clone()
        } else if p.starts_with("/staff/forms/") {
            draft_form.clone()
        } else if p.starts_with("/api/v1/forms/") {
            form.clone()
        } else if p.starts_with("/api/v1/org-units/") {
            unit.clone()
        } else if p.starts_with("/api/v1/appointments/locations/") {
            "buergerbuero".to_string()
        } else {
            case.clone()
        };
        p.replace("{slug}", "hundesteuer-anmeldung")
            .replace("{id}", &id)
            .replace(
                "{token}",
                &if p.starts_with("/konto/") {
                    made_up.to_string()
                } else {
                    link_token(&draft)
                },
            )
            .replace("{access}", &link_token(&access))
            .replace("{reference}", &reference)
            .replace("{file}", &file)
            .replace("{n}", "1")
            .replace("{location}", "buergerbuero")
            .replace("{code}", "ZZZZ-ZZZZ-ZZZZ")
            .replace("{service}", "meldebescheinigung")
            .replace("{path}", &item_path)
            + if p.ends_with("/diff") {
                "?from=1&to=1"
            } else {
                ""
            }
    };

    // Bodies that pass parsing, so that the permission check is what answers.
    let export: Value = client()
        .get(app.url("/api/v1/catalog/export"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let content = export["services"][0].clone();
    let mini_form = json!({
        "format": "rathaus.form/1", "key": "matrix-form",
        "definition": {"key": "matrix_form", "title": {"de": "Matrix", "en": "Matrix"}, "steps": [
            {"key": "a", "title": {"de": "A", "en": "A"}, "items": [
                {"type": "field", "key": "x", "label": {"de": "X", "en": "X"}, "kind": "text"}]}]}
    });
    let case_unit = cases[0].org_unit_id.to_string();
    let api_bodies: BTreeMap<(&str, &str), Value> = [
        (("POST", "/api/v1/services"), content.clone()),
        (("PUT", "/api/v1/services/{id}"), content.clone()),
        (("POST", "/api/v1/catalog/import"), export.clone()),
        (("POST", "/api/v1/forms"), mini_form.clone()),
        (("PUT", "/api/v1/forms/{id}"), mini_form.clone()),
        (
            ("POST", "/api/v1/cases/{id}/status"),
            json!({"action": "start"}),
        ),
        (
            ("POST", "/api/v1/cases/{id}/notes"),
            json!({"text": "Notiz"}),
        ),
        (
            ("POST", "/api/v1/cases/{id}/forward"),
            json!({"org_unit": case_unit}),
        ),
        (
            ("POST", "/api/v1/cases/{id}/messages"),
            json!({"body": "Nachricht"}),
        ),
        (
            ("POST", "/api/v1/cases/{id}/fee-requests"),
            json!({"amount": "15.00", "purpose": "Auskunft"}),
        ),
        (
            ("POST", "/api/v1/payments/{id}/refunds"),
            json!({"amount": "1.00", "reason": "Erstattung"}),
        ),
        (
            ("POST", "/api/v1/cases/{id}/decide"),
            json!({"variant": "approval", "reason": "Gründe"}),
        ),
        (
            ("PUT", "/api/v1/records/{id}/hold"),
            json!({"reason": "Klage"}),
        ),
        (
            ("POST", "/api/v1/records/disposals"),
            json!({"as_of": "2000-01-01"}),
        ),
        (
            ("POST", "/api/v1/records/documents/{id}/move"),
            json!({"to": uuid::Uuid::nil()}),
        ),
        (
            ("POST", "/api/v1/cases/{id}/record/notes"),
            json!({"text": "Vermerk"}),
        ),
        (
            ("POST", "/api/v1/records/plan/changes"),
            json!({"action": "set_file_number_scheme", "scheme": "{plan}-{reference}"}),
        ),
        (
            ("POST", "/api/v1/records/{id}/circulations"),
            json!({"title": "Zur Kenntnis", "people": [uuid::Uuid::nil()]}),
        ),
        (("POST", "/api/v1/circulations/{id}/sign"), json!({})),
        (
            ("POST", "/api/v1/circulations/{id}/return"),
            json!({"comment": "Bitte ergänzen"}),
        ),
        (
            ("POST", "/api/v1/intray/{id}/file"),
            json!({"file_number": "0-XX-2000-000001"}),
        ),
        (
            ("POST", "/api/v1/appointments/{code}/move"),
            json!({"start": "2030-01-07T08:00"}),
        ),
        (
            ("POST", "/api/v1/appointments/{code}/confirm"),
            json!({"token": "unbekannt"}),
        ),
        (
            ("POST", "/api/v1/appointments/locations/{id}/bookings"),
            json!({"service": "meldebescheinigung", "start": "2030-01-07T08:00", "name": "Matrix Test"}),
        ),
        (
            ("POST", "/api/v1/appointments/locations/{id}/blocks"),
            json!({"start": "2030-01-07T08:00", "blocked": true}),
        ),
        (
            ("POST", "/api/v1/appointments/bookings/{id}/attendance"),
            json!({"arrived": true}),
        ),
        (
            ("POST", "/api/v1/intray/rules"),
            json!({"name": "Hunde", "keywords": ["Hund"], "target": {"kind": "plan_node", "code": "0"}}),
        ),
    ]
    .into_iter()
    .collect();
    let html_fields: BTreeMap<(&str, &str), Vec<(&str, String)>> = [
        (
            ("POST", "/staff/cases/{id}/status"),
            vec![("action", "start".to_string())],
        ),
        (
            ("POST", "/staff/cases/{id}/note"),
            vec![("text", "Notiz".to_string())],
        ),
        (
            ("POST", "/staff/cases/{id}/forward"),
            vec![("org_unit", case_unit.clone())],
        ),
        (
            ("POST", "/staff/cases/{id}/message"),
            vec![("body", "Nachricht".to_string())],
        ),
        (
            ("POST", "/staff/records/disposals"),
            vec![("as_of", "2000-01-01".to_string())],
        ),
        (
            ("POST", "/staff/records/{id}/hold"),
            vec![("reason", "Klage".to_string())],
        ),
        (
            ("POST", "/staff/records/{id}/move"),
            vec![
                ("document", uuid::Uuid::nil().to_string()),
                ("to", "0-XX-2000-000001".to_string()),
            ],
        ),
        (
            ("POST", "/staff/records/{id}/note"),
            vec![("text", "Vermerk".to_string())],
        ),
        (
            ("POST", "/staff/records/plan/changes"),
            vec![
                ("action", "set_file_number_scheme".to_string()),
                ("scheme", "{plan}-{reference}".to_string()),
            ],
        ),
        (
            ("POST", "/staff/records/{id}/umlauf"),
            vec![("title", "Zur Kenntnis".to_string())],
        ),
        (
            ("POST", "/staff/posteingang/regeln"),
            vec![
                ("name", "Hunde".to_string()),
                ("keywords", "Hund".to_string()),
                ("code", "0".to_string()),
            ],
        ),
        (
            ("POST", "/staff/forms/{id}/move"),
            vec![("path", item_path.clone()), ("dir", "down".to_string())],
        ),
    ]
    .into_iter()
    .collect();

    // The routes of the real router, each with its rule.
    let table = rathaus_web::route_table();
    let mut missing = Vec::new();
    let mut runs = Vec::new();
    for r in &table {
        let method = r.method.as_str().to_string();
        match RULES.iter().find(|(m, p, _)| *m == method && *p == r.path) {
            Some((_, _, rule)) => runs.push((method, r.path.clone(), *rule)),
            None => missing.push(format!("{method} {}", r.path)),
        }
    }
    assert!(
        missing.is_empty(),
        "routes without an entry in the permission matrix (add them to RULES): {missing:#?}"
    );
    let stale: Vec<_> = RULES
        .iter()
        .filter(|(m, p, _)| {
            !table
                .iter()
                .any(|r| r.method.as_str() == *m && r.path == *p)
        })
        .collect();
    assert!(
        stale.is_empty(),
        "RULES names routes the router lacks: {stale:#?}"
    );

    // Reads first, then writes; what ends a session or a token last.
    let ends_session = |m: &str, p: &str| {
        matches!(
            (m, p),
            ("POST", "/logout") | ("POST", "/konto/abmelden") | ("DELETE", "/api/v1/auth/token")
        )
    };
    runs.sort_by_key(|(m, p, _)| (ends_session(m, p), m != "GET", p.clone(), m.clone()));

    let mut wrong = Vec::new();
    let mut checked = 0;
    let mut malformed = 0;
    for (method, path, rule) in &runs {
        let api = path.starts_with("/api/");
        for who in EVERYONE {
            let actor = &actors[&who];
            let url = app.url(&concrete(path, who));
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let mut req = actor.browser.request(m.clone(), &url);
            if api {
                // The API knows bearer tokens only: a fresh client, no cookies.
                req = client().request(m.clone(), &url);
                if let Some(t) = &actor.token {
                    req = req.bearer_auth(t);
                }
                if m != Method::GET {
                    req = req.json(&json!({}));
                }
            }
            if api
                && m != Method::GET
                && let Some(b) = api_bodies.get(&(method.as_str(), path.as_str()))
            {
                req = req.json(b);
            }
            if !api && m != Method::GET {
                let csrf = if ends_session(method, path) {
                    any_csrf(&app, &actor.browser).await
                } else {
                    actor.csrf.clone()
                };
                let mut fields: Vec<(&str, String)> = vec![("csrf_token", csrf)];
                if let Some(extra) = html_fields.get(&(method.as_str(), path.as_str())) {
                    fields.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
                }
                req = if path == "/staff/forms/import" || path == "/maengel/melden" {
                    let mut form = reqwest::multipart::Form::new();
                    for (k, v) in fields {
                        form = form.text(k, v);
                    }
                    actor.browser.request(m.clone(), &url).multipart(form)
                } else {
                    actor.browser.request(m.clone(), &url).form(&fields)
                };
            }
            let resp = req.send().await.unwrap();
            let status = resp.status();
            let location = resp
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or("")
                .to_string();
            let to_login = status.is_redirection()
                && !location.contains("logged_out")
                && (location.starts_with("/login") || location.starts_with("/konto/anmelden"));
            let got = if status.is_server_error() {
                None
            } else if status == StatusCode::UNAUTHORIZED || to_login {
                Some(Expect::Login)
            } else if status == StatusCode::FORBIDDEN {
                Some(Expect::Forbidden)
            } else if status == StatusCode::NOT_FOUND {
                Some(Expect::Hidden)
            } else {
                Some(Expect::Allowed)
            };
            let want = if who == Who::OtherTenant && api {
                expect_other_tenant(*rule, method, path)
            } else {
                expect(*rule, who)
            };
            checked += 1;
            let fits = match (want, got) {
                (Expect::Denied, Some(Expect::Login | Expect::Forbidden | Expect::Hidden)) => true,
                (Expect::NotRefused, Some(Expect::Allowed | Expect::Hidden)) => true,
                (w, g) => Some(w) == g,
            };
            if !fits {
                wrong.push(format!(
                    "{method} {path} as {who:?}: expected {want:?}, got {status} {location}"
                ));
            }
            // A caller without the right learns nothing from the body: the
            // token and the permission answer before the body is parsed, so
            // a malformed body gets 401/403 too, never 422.
            if api
                && m != Method::GET
                && matches!(want, Expect::Login | Expect::Forbidden | Expect::Denied)
            {
                let mut bad = client()
                    .request(m.clone(), &url)
                    .header("content-type", "application/json")
                    .body("{\"broken\": ");
                if let Some(t) = &actor.token {
                    bad = bad.bearer_auth(t);
                }
                let got = bad.send().await.unwrap().status();
                let fits = match want {
                    Expect::Login => got == StatusCode::UNAUTHORIZED,
                    Expect::Forbidden => got == StatusCode::FORBIDDEN,
                    _ => matches!(got.as_u16(), 401 | 403 | 404),
                };
                malformed += 1;
                if !fits {
                    wrong.push(format!(
                        "{method} {path} as {who:?} with a malformed body: expected {want:?} before the body is read, got {got}"
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {checked} answers differ from the permission model:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        checked >= EVERYONE.len() * 100,
        "the matrix covers every route × actor ({checked})"
    );
    assert!(
        malformed >= 100,
        "malformed bodies sent by callers without the right ({malformed})"
    );
    app.stop().await;
}

/// The id of the first file in an application's JSON.
fn find_file_id(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) => {
            if let Some(files) = m.get("files").and_then(Value::as_array)
                && let Some(id) = files.iter().find_map(|f| f["id"].as_str())
            {
                return Some(id.to_string());
            }
            m.values().find_map(find_file_id)
        }
        Value::Array(a) => a.iter().find_map(find_file_id),
        _ => None,
    }
}
