//! The demo's e-file and in-tray (Posteingang) content: four applications
//! filed into their Vorgänge (Hundesteuer, Gewerbe, Bewohnerparken,
//! Wasserrecht), fourteen letters per plan node filed into them through the
//! in-tray (citizens' letters, objections, questions, proofs; the text the
//! classifier learns from), routing rules, the trained classifier with its
//! measured accuracy, and a few open items for the demo walk.
//!
//! Seeded once per tenant: a trained classifier means it is done. The
//! applications carry fixed idempotency keys and a Vorgang that already has
//! incoming mail gets none again, so a run that stopped half-way goes on
//! where it stopped.

use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use rathaus_app::{Actor, App, Channel, intray::NewRule};
use rathaus_domain::{
    applications::Reference, identity::Email, intray::RouteTarget, records::DocumentKind,
    tenancy::TenantId,
};
use rathaus_storage::prelude::*;
use rathaus_storage::{Store, applications::NewApplication, files::FileStore};
use serde_json::{Value, json};

use crate::config::Settings;

/// Who works the in-tray in the demo seed.
const ADMIN: &str = "admin@musterstadt.example";

/// A demo application and the letters filed into its Vorgang.
struct DemoCase {
    /// Idempotency key of the submission (per tenant).
    key: &'static str,
    form: &'static str,
    /// Where its mail is addressed.
    office: &'static str,
    letters: &'static [Letter],
}

/// A piece of incoming mail. `{az}` in the text is the Vorgang's
/// application reference.
struct Letter {
    /// File name without extension.
    file: &'static str,
    /// An email (`.eml`) when true, else a letter as plain text (`.txt`).
    mail: bool,
    /// `Name <address>` of a mail, the letterhead line of a letter.
    sender: &'static str,
    subject: &'static str,
    body: &'static str,
}

const fn mail(
    file: &'static str,
    sender: &'static str,
    subject: &'static str,
    body: &'static str,
) -> Letter {
    Letter {
        file,
        mail: true,
        sender,
        subject,
        body,
    }
}

const fn letter(
    file: &'static str,
    sender: &'static str,
    subject: &'static str,
    body: &'static str,
) -> Letter {
    Letter {
        file,
        mail: false,
        sender,
        subject,
        body,
    }
}

const BECKER: &str = "Jonas Becker <jonas.becker@example.org>";
const BECKER_POST: &str = "Jonas Becker · Gartenstraße 14 · 63571 Musterstadt";
const TIERHEIM: &str = "Tierheim Musterstadt e.V. <info@tierheim-musterstadt.example>";

/// 32.10.05 Hundesteuer.
const HUNDESTEUER: &[Letter] = &[
    mail(
        "tierheim-uebernahme-bella",
        TIERHEIM,
        "Übernahme der Hündin Bella – Bestätigung für die Hundesteuer",
        "Sehr geehrte Damen und Herren,\n\n\
         hiermit bestätigen wir, dass Herr Jonas Becker, Gartenstraße 14, 63571 Musterstadt, \
         die Hündin „Bella“ (Labrador-Mischling, Transpondernummer 276098106543210) aus unserem \
         Tierheim übernommen hat. Der Schutzvertrag wurde am Tag der Übergabe unterschrieben.\n\n\
         Nach unserer Kenntnis gewährt die Stadt Musterstadt für Hunde aus dem Tierheim im ersten \
         Jahr eine Befreiung von der Hundesteuer. Wir bitten, dies bei der Festsetzung zu \
         berücksichtigen. Eine Kopie des Schutzvertrags liegt Herrn Becker vor.\n\n\
         Mit freundlichen Grüßen\nSabine Krüger\nTierheim Musterstadt e.V. – Vermittlung",
    ),
    letter(
        "antrag-steuerbefreiung-tierheimhund",
        BECKER_POST,
        "Antrag auf Steuerbefreiung für einen Hund aus dem Tierheim",
        "Sehr geehrte Damen und Herren,\n\n\
         ich habe meine Hündin Bella bereits online zur Hundesteuer angemeldet (Aktenzeichen {az}). \
         Da Bella aus dem Tierheim Musterstadt stammt, beantrage ich die Steuerbefreiung für das \
         erste Jahr nach der Hundesteuersatzung. Die Bestätigung des Tierheims wird Ihnen direkt \
         zugesandt.\n\n\
         Bitte teilen Sie mir mit, ob Sie weitere Unterlagen benötigen.\n\n\
         Mit freundlichen Grüßen\nJonas Becker",
    ),
    mail(
        "tierarzt-impf-und-chipnachweis",
        "Tierarztpraxis Dr. Anke Weber <praxis@tierarzt-weber.example>",
        "Impf- und Chipnachweis für die Hündin Bella",
        "Sehr geehrte Damen und Herren,\n\n\
         auf Wunsch von Herrn Jonas Becker übersenden wir die Angaben zu seiner Hündin Bella: \
         Labrador-Mischling, weiblich, kastriert, geboren etwa im August 2022. Mikrochip \
         276098106543210, im Haustierregister eingetragen. Tollwutimpfung und Grundimmunisierung \
         sind aktuell, der EU-Heimtierausweis liegt vor.\n\n\
         Aus tierärztlicher Sicht gibt es keine Hinweise auf ein gefährliches Verhalten des \
         Hundes.\n\n\
         Mit freundlichen Grüßen\nDr. med. vet. Anke Weber",
    ),
    letter(
        "versicherungsbestaetigung-hundehaftpflicht",
        "Hessische Tierhalter-Versicherung AG · Kundenservice · 65185 Wiesbaden",
        "Versicherungsbestätigung Hundehalter-Haftpflicht",
        "Sehr geehrte Damen und Herren,\n\n\
         wir bestätigen, dass für Herrn Jonas Becker, Gartenstraße 14, 63571 Musterstadt, eine \
         Hundehalter-Haftpflichtversicherung für die Hündin Bella (Labrador-Mischling) besteht. \
         Versicherungsschein HT-4471-0932, Deckungssumme pauschal 5 Mio. EUR für Personen- und \
         Sachschäden. Der Vertrag verlängert sich jährlich.\n\n\
         Diese Bestätigung wird zur Vorlage bei der Steuerstelle der Gemeinde ausgestellt.\n\n\
         Hessische Tierhalter-Versicherung AG",
    ),
    mail(
        "frage-hundesteuermarke",
        BECKER,
        "Wann erhalte ich die Hundesteuermarke?",
        "Guten Tag,\n\n\
         vor einigen Tagen habe ich meine Hündin angemeldet. Bisher habe ich weder einen \
         Steuerbescheid noch die Hundesteuermarke erhalten. Beim Gassigehen hat mich der \
         Ordnungsdienst darauf angesprochen, dass Bella keine Marke am Halsband trägt.\n\n\
         Wann wird die Marke verschickt, oder kann ich sie im Steueramt abholen?\n\n\
         Viele Grüße\nJonas Becker",
    ),
    letter(
        "widerspruch-hundesteuerbescheid",
        BECKER_POST,
        "Widerspruch gegen den Hundesteuerbescheid",
        "Sehr geehrte Damen und Herren,\n\n\
         gegen den Bescheid über die Festsetzung der Hundesteuer lege ich hiermit Widerspruch \
         ein. Festgesetzt wurde der volle Jahresbetrag von 96,00 EUR, obwohl ich für meine Hündin \
         aus dem Tierheim die Steuerbefreiung im ersten Haltungsjahr beantragt habe. Die \
         Bestätigung des Tierheims liegt Ihnen vor.\n\n\
         Ich bitte, den Bescheid aufzuheben und die Hundesteuer für das erste Jahr auf null \
         festzusetzen. Bis zur Entscheidung beantrage ich die Aussetzung der Vollziehung.\n\n\
         Mit freundlichen Grüßen\nJonas Becker",
    ),
    mail(
        "sepa-mandat-hundesteuer",
        BECKER,
        "SEPA-Lastschriftmandat für die Hundesteuer",
        "Sehr geehrte Damen und Herren,\n\n\
         ich möchte die Hundesteuer künftig per Lastschrift zahlen und erteile der Stadt \
         Musterstadt ein SEPA-Lastschriftmandat für mein Konto, IBAN DE89 3704 0044 0532 0130 00, \
         Kontoinhaber Jonas Becker. Das unterschriebene Formular reiche ich per Post nach.\n\n\
         Bitte buchen Sie die fälligen Raten der Hundesteuer jeweils zum Fälligkeitstag ab.\n\n\
         Mit freundlichen Grüßen\nJonas Becker",
    ),
    letter(
        "anmeldung-zweithund",
        BECKER_POST,
        "Anmeldung eines zweiten Hundes",
        "Sehr geehrte Damen und Herren,\n\n\
         seit dem Wochenende lebt neben Bella ein zweiter Hund in unserem Haushalt: ein Dackel \
         namens Fritz, etwa vier Jahre alt, den wir von meinen Eltern übernommen haben. Ich melde \
         ihn hiermit zur Hundesteuer an.\n\n\
         Mir ist bekannt, dass für den Zweithund ein höherer Steuersatz gilt. Bitte senden Sie \
         mir eine zweite Steuermarke und einen geänderten Steuerbescheid.\n\n\
         Mit freundlichen Grüßen\nJonas Becker",
    ),
    mail(
        "ersatz-steuermarke",
        BECKER,
        "Hundesteuermarke verloren – Bitte um Ersatzmarke",
        "Hallo,\n\n\
         bei einem Spaziergang im Stadtwald hat Bella ihre Hundesteuermarke verloren. Die Marke \
         hatte die Nummer 0815. Ich bitte um Zusendung einer Ersatzmarke; die Gebühr dafür \
         überweise ich gern.\n\n\
         Freundliche Grüße\nJonas Becker",
    ),
    letter(
        "rueckfrage-faelligkeit-hundesteuer",
        BECKER_POST,
        "Rückfrage zur Fälligkeit der Hundesteuer",
        "Sehr geehrte Damen und Herren,\n\n\
         im Steuerbescheid sind vier Fälligkeiten für die Hundesteuer angegeben (15.02., 15.05., \
         15.08. und 15.11.). Kann ich den Jahresbetrag auch in einer Summe zum 1. Juli zahlen? \
         Außerdem möchte ich wissen, ob die Steuer für den Monat der Anmeldung des Hundes \
         anteilig berechnet wird.\n\n\
         Vielen Dank für Ihre Auskunft.\nJonas Becker",
    ),
    mail(
        "hundeschule-begleithundepruefung",
        "Hundeschule Pfotenglück <kurse@pfotenglueck.example>",
        "Bescheinigung über die Begleithundeprüfung",
        "Sehr geehrte Damen und Herren,\n\n\
         wir bescheinigen, dass Herr Jonas Becker mit seiner Hündin Bella den Kurs \
         „Alltagstauglicher Familienhund“ besucht und die Begleithundeprüfung bestanden hat. \
         Herr Becker hat uns gebeten, Ihnen die Bescheinigung für seine Unterlagen zur \
         Hundehaltung zu übersenden.\n\n\
         Mit freundlichen Grüßen\nMartina Vogel\nHundeschule Pfotenglück",
    ),
    mail(
        "tierheim-merkblatt-steuerbefreiung",
        TIERHEIM,
        "Rückfrage: Steuerbefreiung für vermittelte Hunde",
        "Sehr geehrte Damen und Herren,\n\n\
         viele neue Hundehalterinnen und Hundehalter fragen uns, wie sie die Befreiung von der \
         Hundesteuer für Hunde aus dem Tierheim beantragen. Können Sie uns ein Merkblatt oder \
         einen Link zum Online-Antrag schicken, den wir bei der Vermittlung mitgeben können? \
         Bisher legen wir jedem Schutzvertrag eine Bestätigung für das Steueramt bei, wie im Fall \
         von Herrn Becker.\n\n\
         Herzliche Grüße\nSabine Krüger\nTierheim Musterstadt e.V.",
    ),
    letter(
        "mahnung-hundesteuer-bereits-gezahlt",
        BECKER_POST,
        "Mahnung zur Hundesteuer – Betrag bereits gezahlt",
        "Sehr geehrte Damen und Herren,\n\n\
         heute erhielt ich eine Mahnung über die Hundesteuer für das laufende Quartal samt \
         Mahngebühr. Den Betrag habe ich jedoch fristgerecht überwiesen, allerdings mit dem \
         Namen des Hundes statt des Kassenzeichens im Verwendungszweck. Einen Kontoauszug lege \
         ich als Nachweis bei.\n\n\
         Bitte ordnen Sie die Zahlung zu und heben Sie die Mahngebühr auf.\n\n\
         Mit freundlichen Grüßen\nJonas Becker",
    ),
    mail(
        "frage-listenhund",
        BECKER,
        "Gilt für meinen Hund der erhöhte Steuersatz für gefährliche Hunde?",
        "Guten Tag,\n\n\
         ein Nachbar behauptet, Bella sei wegen ihres Aussehens ein „Listenhund“; ich müsse die \
         erhöhte Hundesteuer für gefährliche Hunde zahlen und eine Erlaubnis nach der \
         Gefahrenabwehrverordnung über das Halten und Führen von Hunden beantragen. Laut Tierheim \
         und Tierärztin ist Bella ein Labrador-Mischling. Können Sie bestätigen, dass für meinen \
         Hund der normale Steuersatz gilt und keine Erlaubnis nötig ist?\n\n\
         Mit freundlichen Grüßen\nJonas Becker",
    ),
];

const YILMAZ: &str = "Deniz Yılmaz <kontakt@cafe-lindenbluete.example>";
const YILMAZ_POST: &str = "Café Lindenblüte · Deniz Yılmaz · Bahnhofstraße 23 · 63571 Musterstadt";

/// 10.30 Gewerbeangelegenheiten.
const GEWERBE: &[Letter] = &[
    mail(
        "ihk-kammerzugehoerigkeit",
        "IHK Musterstadt-Land <gruendung@ihk-musterstadt.example>",
        "Gewerbeanmeldung Café Lindenblüte – Zugehörigkeit zur IHK",
        "Sehr geehrte Damen und Herren,\n\n\
         die übermittelte Gewerbeanmeldung von Frau Deniz Yılmaz (Café Lindenblüte, \
         Bahnhofstraße 23) haben wir erhalten. Der Betrieb ist als Gaststättengewerbe mit Verkauf \
         von Backwaren kammerzugehörig; wir haben Frau Yılmaz zu unserem Gründungsseminar und zur \
         Beratung über das Gaststättenrecht eingeladen.\n\n\
         Bitte übermitteln Sie uns künftige Ummeldungen oder eine Abmeldung des Gewerbes wie \
         gewohnt elektronisch.\n\n\
         Mit freundlichen Grüßen\nAbteilung Existenzgründung\nIHK Musterstadt-Land",
    ),
    letter(
        "handwerkskammer-stellungnahme",
        "Handwerkskammer Rhein-Main · Handwerksrolle · 60313 Frankfurt am Main",
        "Stellungnahme zur Eintragung in die Handwerksrolle",
        "Sehr geehrte Damen und Herren,\n\n\
         zu der Gewerbeanmeldung von Frau Deniz Yılmaz teilen wir mit: Das Herstellen von Torten \
         und Feinen Backwaren im eigenen Café gehört zum Konditorenhandwerk. Eine Eintragung in \
         die Handwerksrolle ist erforderlich, sofern die Tätigkeit nicht nur ein unerheblicher \
         Nebenbetrieb ist. Wir haben Frau Yılmaz gebeten, uns ihre Qualifikation oder eine \
         Betriebsleiterin mit Meisterbrief nachzuweisen.\n\n\
         Mit freundlichen Grüßen\nHandwerkskammer Rhein-Main",
    ),
    mail(
        "nachreichung-meisterbrief",
        YILMAZ,
        "Nachreichung Meisterbrief der Betriebsleiterin",
        "Sehr geehrte Damen und Herren,\n\n\
         wie von der Handwerkskammer gewünscht, reiche ich den Meisterbrief unserer \
         Betriebsleiterin Frau Katrin Lenz (Konditormeisterin) nach. Frau Lenz ist ab der \
         Eröffnung in Vollzeit im Café Lindenblüte angestellt und für die Backstube \
         verantwortlich. Bitte nehmen Sie das Dokument zu meiner Gewerbeanmeldung ({az}).\n\n\
         Mit freundlichen Grüßen\nDeniz Yılmaz\nCafé Lindenblüte",
    ),
    letter(
        "steuerberatung-zweitschrift",
        "Brandt & Partner Steuerberatungsgesellschaft · Schillerstraße 20 · 63571 Musterstadt",
        "Anforderung einer Zweitschrift der Gewerbeanmeldung",
        "Sehr geehrte Damen und Herren,\n\n\
         wir vertreten Frau Deniz Yılmaz in steuerlichen Angelegenheiten; eine Vollmacht liegt \
         bei. Für den Fragebogen zur steuerlichen Erfassung beim Finanzamt benötigen wir eine \
         Zweitschrift der Empfangsbestätigung über die Gewerbeanmeldung ihres Cafés. Bitte senden \
         Sie uns diese zu und teilen Sie uns die Gebühr mit.\n\n\
         Mit freundlichen Grüßen\nBrandt & Partner Steuerberatungsgesellschaft",
    ),
    mail(
        "erweiterung-catering",
        YILMAZ,
        "Erweiterung der Tätigkeit um Catering – Gewerbe-Ummeldung nötig?",
        "Hallo,\n\n\
         ab dem kommenden Monat möchte ich neben dem Cafébetrieb auch Catering für Feiern und \
         Firmenveranstaltungen anbieten. Muss ich dafür eine Gewerbe-Ummeldung einreichen, oder \
         reicht eine formlose Mitteilung? Die Betriebsstätte bleibt unverändert in der \
         Bahnhofstraße 23.\n\n\
         Viele Grüße\nDeniz Yılmaz",
    ),
    letter(
        "frage-gebuehr-gewerbeanmeldung",
        YILMAZ_POST,
        "Frage zur Gebühr der Gewerbeanmeldung",
        "Sehr geehrte Damen und Herren,\n\n\
         für die Gewerbeanmeldung meines Cafés wurde eine Gebühr von 26,00 EUR erhoben. Ein \
         Bekannter hat für die Anmeldung seines Gewerbes in der Nachbargemeinde deutlich weniger \
         bezahlt. Können Sie mir erläutern, wie sich die Gebühr zusammensetzt und ob es für \
         Existenzgründungen eine Ermäßigung gibt?\n\n\
         Mit freundlichen Grüßen\nDeniz Yılmaz",
    ),
    mail(
        "mietvertrag-betriebsstaette",
        YILMAZ,
        "Mietvertrag für die Betriebsstätte Bahnhofstraße 23",
        "Sehr geehrte Damen und Herren,\n\n\
         anbei erhalten Sie wie besprochen eine Kopie des Gewerbemietvertrags für die Räume in \
         der Bahnhofstraße 23 (Erdgeschoss, 85 m² Gastraum und Backstube). Der Vermieter hat der \
         Nutzung als Café mit Konditorei ausdrücklich zugestimmt.\n\n\
         Mit freundlichen Grüßen\nDeniz Yılmaz\nCafé Lindenblüte",
    ),
    letter(
        "bgn-unternehmerverzeichnis",
        "Berufsgenossenschaft Nahrungsmittel und Gastgewerbe · Bezirksverwaltung Mainz",
        "Aufnahme in das Unternehmerverzeichnis der BGN",
        "Sehr geehrte Damen und Herren,\n\n\
         aufgrund der Mitteilung über die Gewerbeanmeldung haben wir das Unternehmen Café \
         Lindenblüte, Inhaberin Deniz Yılmaz, in unser Unternehmerverzeichnis aufgenommen. Die \
         Mitgliedsnummer lautet 4711-0815-23. Bitte teilen Sie uns Änderungen des \
         Gewerbebetriebs, insbesondere eine Betriebsaufgabe, weiterhin mit.\n\n\
         Mit freundlichen Grüßen\nIhre BGN",
    ),
    mail(
        "abmeldung-nebengewerbe-torten",
        YILMAZ,
        "Abmeldung meines Nebengewerbes (Tortenverkauf)",
        "Sehr geehrte Damen und Herren,\n\n\
         bisher habe ich nebenberuflich ein Kleingewerbe für den Verkauf von Motivtorten auf \
         Bestellung betrieben. Mit der Eröffnung des Cafés gebe ich dieses Nebengewerbe auf und \
         bitte um Abmeldung zum Monatsende. Die Tätigkeit wird künftig vollständig im neu \
         angemeldeten Café ausgeübt.\n\n\
         Mit freundlichen Grüßen\nDeniz Yılmaz",
    ),
    letter(
        "belehrung-infektionsschutzgesetz",
        "Gesundheitsamt des Kreises · Hygiene und Infektionsschutz",
        "Bescheinigung über die Belehrung nach § 43 Infektionsschutzgesetz",
        "Bescheinigung\n\n\
         Frau Deniz Yılmaz, wohnhaft in Musterstadt, wurde nach § 43 Abs. 1 Nr. 1 des \
         Infektionsschutzgesetzes mündlich und schriftlich belehrt. Sie hat erklärt, dass ihr \
         keine Tatsachen für ein Tätigkeitsverbot bekannt sind. Die Bescheinigung ist im Betrieb \
         aufzubewahren; eine Kopie wurde auf Wunsch der Inhaberin dem Gewerbeamt übersandt.\n\n\
         Im Auftrag\nGesundheitsamt",
    ),
    mail(
        "antrag-sperrzeitverkuerzung",
        YILMAZ,
        "Antrag auf Verkürzung der Sperrzeit für eine Lesung",
        "Sehr geehrte Damen und Herren,\n\n\
         für eine Lesung mit anschließendem Beisammensein im Café Lindenblüte beantrage ich für \
         einen Abend die Verkürzung der Sperrzeit bis 1:00 Uhr. Erwartet werden etwa 40 Gäste, \
         Musik gibt es nur in Zimmerlautstärke. Bitte teilen Sie mir mit, welche Gebühr für die \
         Ausnahme von der Sperrzeit des Gaststättenbetriebs anfällt.\n\n\
         Mit freundlichen Grüßen\nDeniz Yılmaz\nCafé Lindenblüte",
    ),
    letter(
        "gewerbezentralregister-fuehrungszeugnis",
        YILMAZ_POST,
        "Auskunft aus dem Gewerbezentralregister und Führungszeugnis",
        "Sehr geehrte Damen und Herren,\n\n\
         Sie baten um eine Auskunft aus dem Gewerbezentralregister und ein Führungszeugnis zur \
         Vorlage bei einer Behörde, weil im Café auch alkoholische Getränke ausgeschenkt werden \
         sollen. Beides habe ich beantragt. Sobald die Unterlagen bei Ihnen eingegangen sind, \
         bitte ich um eine kurze Nachricht, ob meine Anzeige des Gaststättengewerbes damit \
         vollständig ist.\n\n\
         Mit freundlichen Grüßen\nDeniz Yılmaz",
    ),
    mail(
        "gruendung-ug-rechtsform",
        YILMAZ,
        "Gründung einer UG – Änderung der Rechtsform",
        "Guten Tag,\n\n\
         auf Anraten meines Steuerberaters werde ich das Café in eine Unternehmergesellschaft \
         (haftungsbeschränkt) einbringen. Die Eintragung ins Handelsregister ist beantragt. Muss \
         die UG eine neue Gewerbeanmeldung abgeben und das Einzelunternehmen abgemeldet werden, \
         oder genügt eine Ummeldung?\n\n\
         Freundliche Grüße\nDeniz Yılmaz",
    ),
    letter(
        "vermerk-gewerbeaussendienst",
        "Stadt Musterstadt · Ordnungsamt · Gewerbeaußendienst",
        "Vermerk über die Kontrolle des Gewerbebetriebs",
        "Vermerk\n\n\
         Bei der Kontrolle des Betriebs Café Lindenblüte, Bahnhofstraße 23, wurde festgestellt, \
         dass das Gewerbe angemeldet ist und die angezeigte Tätigkeit ausgeübt wird. Der Aushang \
         der Preise und die Kennzeichnung der Allergene sind vorhanden. Die Inhaberin wurde auf \
         die Pflicht zur Gewerbe-Ummeldung bei Erweiterung um Catering hingewiesen. \
         Beanstandungen ergaben sich nicht.\n\n\
         Außendienst Gewerbe",
    ),
];

const SCHNEIDER: &str = "Laura Schneider <l.schneider@example.net>";
const SCHNEIDER_POST: &str = "Laura Schneider · Am Schlossgarten 5 · 63571 Musterstadt";

/// 12.40 Parken und Sondernutzung.
const PARKEN: &[Letter] = &[
    mail(
        "fahrzeugschein-bewohnerparkausweis",
        SCHNEIDER,
        "Fahrzeugschein für den Bewohnerparkausweis",
        "Sehr geehrte Damen und Herren,\n\n\
         zu meinem Antrag auf einen Bewohnerparkausweis (Aktenzeichen {az}) sende ich Ihnen die \
         Zulassungsbescheinigung Teil I meines Fahrzeugs als Scan. Das Fahrzeug mit dem \
         Kennzeichen MU-LS 412 ist auf mich zugelassen; ich wohne mit Hauptwohnsitz Am \
         Schlossgarten 5 in der Parkzone B (Altstadt).\n\n\
         Mit freundlichen Grüßen\nLaura Schneider",
    ),
    letter(
        "bestaetigung-firmenwagen",
        "Kramer Elektrotechnik GmbH · Industriestraße 8 · 63571 Musterstadt",
        "Bestätigung über die Überlassung eines Firmenwagens",
        "Bestätigung\n\n\
         Hiermit bestätigen wir, dass unsere Mitarbeiterin Frau Laura Schneider das \
         Firmenfahrzeug mit dem amtlichen Kennzeichen MU-KE 207 dauerhaft auch privat nutzen \
         darf. Das Fahrzeug ist auf die Kramer Elektrotechnik GmbH zugelassen und steht Frau \
         Schneider ausschließlich zur Verfügung. Die Bestätigung wird zur Beantragung eines \
         Bewohnerparkausweises ausgestellt.\n\n\
         Kramer Elektrotechnik GmbH\nPersonalabteilung",
    ),
    mail(
        "parkausweis-nicht-erhalten",
        SCHNEIDER,
        "Parkausweis noch nicht erhalten",
        "Guten Tag,\n\n\
         vor drei Wochen habe ich den Bewohnerparkausweis für die Zone B beantragt und die \
         Gebühr überwiesen. Einen Ausweis habe ich bisher nicht erhalten. Inzwischen habe ich \
         zwei Knöllchen bekommen, weil ich ohne Ausweis im Bewohnerparkbereich geparkt habe. \
         Können Sie mir den Parkausweis bitte kurzfristig zusenden?\n\n\
         Viele Grüße\nLaura Schneider",
    ),
    letter(
        "neues-kennzeichen-parkausweis",
        SCHNEIDER_POST,
        "Neues Kennzeichen – Änderung des Parkausweises",
        "Sehr geehrte Damen und Herren,\n\n\
         mein Fahrzeug wurde umgemeldet und hat nun das Kennzeichen MU-LS 1904. Bitte stellen \
         Sie mir einen geänderten Bewohnerparkausweis für die Zone B aus. Den bisherigen Ausweis \
         sende ich zurück, sobald ich den neuen erhalten habe. Eine Kopie der neuen \
         Zulassungsbescheinigung liegt bei.\n\n\
         Mit freundlichen Grüßen\nLaura Schneider",
    ),
    mail(
        "widerspruch-parkgebuehr",
        SCHNEIDER,
        "Widerspruch gegen die Gebühr für den Bewohnerparkausweis",
        "Sehr geehrte Damen und Herren,\n\n\
         gegen den Gebührenbescheid über 120,00 EUR für meinen Bewohnerparkausweis lege ich \
         Widerspruch ein. Die Gebühr wurde gegenüber dem Vorjahr vervierfacht, ohne dass sich an \
         der Parksituation in der Altstadt etwas verbessert hätte. Die Gebührenordnung muss die \
         Bedeutung der Parkmöglichkeit und den Verwaltungsaufwand angemessen \
         berücksichtigen.\n\n\
         Mit freundlichen Grüßen\nLaura Schneider",
    ),
    letter(
        "beschwerde-stellplaetze-zone-b",
        "Helga Sommer · Am Schlossgarten 7 · 63571 Musterstadt",
        "Beschwerde: zu wenige Stellplätze in der Bewohnerparkzone B",
        "Sehr geehrte Damen und Herren,\n\n\
         als Anwohnerin der Altstadt besitze ich wie viele Nachbarn einen gültigen \
         Bewohnerparkausweis. Trotzdem finde ich abends in der Zone B fast nie einen freien \
         Parkplatz, weil Besucher der Gastronomie die Bewohnerstellplätze zuparken. Ich bitte die \
         Straßenverkehrsbehörde, häufiger zu kontrollieren und das Bewohnerparken bis 22 Uhr \
         auszudehnen.\n\n\
         Mit freundlichen Grüßen\nHelga Sommer",
    ),
    mail(
        "verlaengerung-bewohnerparkausweis",
        SCHNEIDER,
        "Verlängerung meines Bewohnerparkausweises",
        "Sehr geehrte Damen und Herren,\n\n\
         mein Bewohnerparkausweis für die Zone B läuft Ende des Monats ab. Ich beantrage die \
         Verlängerung um weitere 24 Monate. An meiner Anschrift und am Fahrzeug hat sich nichts \
         geändert. Bitte buchen Sie die Gebühr wieder von meinem Konto ab.\n\n\
         Mit freundlichen Grüßen\nLaura Schneider",
    ),
    letter(
        "besucherparkausweis-pflege",
        SCHNEIDER_POST,
        "Besucherparkausweis für die Pflege meiner Mutter",
        "Sehr geehrte Damen und Herren,\n\n\
         meine Mutter wohnt bei mir Am Schlossgarten 5 und ist pflegebedürftig. Der Pflegedienst \
         und meine Schwester kommen täglich mit dem Auto und finden in der Parkzone keinen Platz. \
         Gibt es die Möglichkeit, einen Besucherparkausweis oder eine Ausnahmegenehmigung zum \
         Parken für den Pflegedienst zu erhalten?\n\n\
         Mit freundlichen Grüßen\nLaura Schneider",
    ),
    mail(
        "anhoerung-verwarnungsgeld-parkausweis",
        SCHNEIDER,
        "Anhörung zum Verwarnungsgeld – gültiger Parkausweis lag aus",
        "Sehr geehrte Damen und Herren,\n\n\
         ich habe einen Anhörungsbogen wegen Parkens ohne Parkausweis im Bewohnerparkbereich \
         erhalten. Zur fraglichen Zeit lag mein gültiger Bewohnerparkausweis hinter der \
         Windschutzscheibe; vermutlich war er durch die Sonnenblende verdeckt. Ich bitte, das \
         Verwarnungsgeld nicht zu erheben. Ein Foto des Ausweises im Fahrzeug lege ich bei.\n\n\
         Mit freundlichen Grüßen\nLaura Schneider",
    ),
    letter(
        "umzug-innerhalb-parkzone",
        SCHNEIDER_POST,
        "Umzug innerhalb der Parkzone",
        "Sehr geehrte Damen und Herren,\n\n\
         zum Monatsende ziehe ich innerhalb der Altstadt von Am Schlossgarten 5 in die \
         Kirchgasse 12 um. Beide Adressen liegen in der Bewohnerparkzone B. Bleibt mein \
         Parkausweis gültig, oder muss die neue Anschrift eingetragen werden? Die Ummeldung beim \
         Bürgerbüro erledige ich fristgerecht.\n\n\
         Mit freundlichen Grüßen\nLaura Schneider",
    ),
    mail(
        "parkausweis-verloren",
        SCHNEIDER,
        "Parkausweis verloren – Bitte um Ersatz",
        "Hallo,\n\n\
         beim Tausch der Windschutzscheibe in der Werkstatt ist mein Bewohnerparkausweis \
         abhandengekommen. Ich bitte um einen Ersatzausweis für das Kennzeichen MU-LS 412. Die \
         Gebühr für die Ersatzausstellung überweise ich gern.\n\n\
         Freundliche Grüße\nLaura Schneider",
    ),
    letter(
        "halteverbot-umzug",
        SCHNEIDER_POST,
        "Antrag auf eine Haltverbotszone für den Umzug",
        "Sehr geehrte Damen und Herren,\n\n\
         für meinen Umzug in die Kirchgasse beantrage ich eine Haltverbotszone vor dem Haus Am \
         Schlossgarten 5 und vor der Kirchgasse 12 für einen Samstag von 7 bis 16 Uhr, jeweils \
         auf 15 Meter Länge für einen Lkw mit 7,5 t. Die Umzugsfirma stellt die Schilder auf. \
         Bitte teilen Sie mir die Gebühr für die verkehrsrechtliche Anordnung mit.\n\n\
         Mit freundlichen Grüßen\nLaura Schneider",
    ),
    mail(
        "carsharing-elektroauto-parken",
        SCHNEIDER,
        "Bewohnerparken, Carsharing und Elektroauto",
        "Guten Tag,\n\n\
         ich überlege, mein Auto abzuschaffen und Carsharing zu nutzen. Kann ich den \
         Bewohnerparkausweis zurückgeben und einen Teil der Gebühr erstattet bekommen? Und \
         dürfen Elektroautos mit E-Kennzeichen in der Zone B an den Ladesäulen länger als zwei \
         Stunden parken?\n\n\
         Viele Grüße\nLaura Schneider",
    ),
    letter(
        "meldebestaetigung-parkausweis",
        SCHNEIDER_POST,
        "Meldebestätigung für den Bewohnerparkausweis",
        "Sehr geehrte Damen und Herren,\n\n\
         wie angefordert übersende ich die Meldebestätigung, aus der hervorgeht, dass ich Am \
         Schlossgarten 5 mit Hauptwohnsitz gemeldet bin. Damit sollten alle Unterlagen für \
         meinen Antrag auf einen Bewohnerparkausweis vorliegen: Antrag, Fahrzeugschein und \
         Meldebestätigung.\n\n\
         Mit freundlichen Grüßen\nLaura Schneider",
    ),
];

const HOFMANN: &str = "Thomas Hofmann <t.hofmann@example.com>";
const HOFMANN_POST: &str = "Thomas Hofmann · Am Mühlbach 9 · 63571 Musterstadt";
const KELLER: &str = "Brunnenbau Keller GmbH <info@brunnenbau-keller.example>";

/// 66.20 Wasserrecht.
const WASSER: &[Letter] = &[
    mail(
        "anzeige-bohrbeginn",
        KELLER,
        "Anzeige des Bohrbeginns – Gartenbrunnen Am Mühlbach 9",
        "Sehr geehrte Damen und Herren,\n\n\
         im Auftrag von Herrn Thomas Hofmann zeigen wir den Beginn der Brunnenbohrung auf dem \
         Grundstück Am Mühlbach 9 (Gemarkung Musterstadt, Flur 3, Flurstück 112/4) an. Geplant \
         ist ein Gartenbrunnen mit einer Endteufe von etwa 18 m, Ausbau DN 125 mit Filterkies \
         und Tonsperre. Die Bohrung wird im Spülbohrverfahren ausgeführt.\n\n\
         Mit freundlichen Grüßen\nBrunnenbau Keller GmbH",
    ),
    letter(
        "stellungnahme-untere-wasserbehoerde",
        "Kreisausschuss · Untere Wasserbehörde · 63571 Musterstadt",
        "Stellungnahme der Unteren Wasserbehörde zur Brunnenbohrung",
        "Sehr geehrte Damen und Herren,\n\n\
         das Grundstück Am Mühlbach 9 liegt in der Zone III B des Trinkwasserschutzgebiets der \
         Stadtwerke Musterstadt. Gegen die angezeigte Brunnenbohrung zur Gartenbewässerung \
         bestehen keine Bedenken, sofern eine zertifizierte Fachfirma bohrt, der Ringraum \
         fachgerecht abgedichtet wird und keine wassergefährdenden Stoffe verwendet werden. Die \
         Entnahme von Grundwasser ist auf den Eigenbedarf zu beschränken.\n\n\
         Im Auftrag\nUntere Wasserbehörde",
    ),
    mail(
        "nachreichung-lageplan-brunnen",
        HOFMANN,
        "Nachreichung des Lageplans zur Brunnenbohrung",
        "Sehr geehrte Damen und Herren,\n\n\
         zu meiner Anzeige der Brunnenbohrung ({az}) reiche ich den Lageplan nach. Der Brunnen \
         soll im hinteren Gartenteil gebohrt werden, etwa 6 m von der Grundstücksgrenze und 10 m \
         vom Wohnhaus entfernt. Die Lage ist im Maßstab 1:500 eingezeichnet.\n\n\
         Mit freundlichen Grüßen\nThomas Hofmann",
    ),
    letter(
        "frage-erlaubnispflicht-gartenbrunnen",
        HOFMANN_POST,
        "Frage zur Erlaubnispflicht des Gartenbrunnens",
        "Sehr geehrte Damen und Herren,\n\n\
         ist für einen Gartenbrunnen, mit dem ich nur den Rasen und das Gemüsebeet bewässern \
         möchte, eine wasserrechtliche Erlaubnis notwendig, oder genügt die Anzeige? Ich rechne \
         mit einer Entnahme von höchstens 150 Kubikmetern Grundwasser im Jahr. Darf der Brunnen \
         später auch für die Toilettenspülung genutzt werden?\n\n\
         Mit freundlichen Grüßen\nThomas Hofmann",
    ),
    mail(
        "pruefbericht-wasseranalyse",
        "Umweltlabor Main-Kinzig <labor@umweltlabor-mk.example>",
        "Prüfbericht Wasseranalyse Brunnen Am Mühlbach 9",
        "Sehr geehrte Damen und Herren,\n\n\
         im Auftrag von Herrn Hofmann haben wir eine Wasserprobe aus dem neuen Gartenbrunnen \
         untersucht: Nitrat 38 mg/l, Eisen 0,4 mg/l, Mangan 0,12 mg/l, pH-Wert 7,1, coliforme \
         Bakterien nicht nachweisbar. Das Brunnenwasser eignet sich zur Bewässerung; als \
         Trinkwasser ist es wegen des Eisen- und Mangangehalts ohne Aufbereitung nicht zu \
         empfehlen.\n\n\
         Mit freundlichen Grüßen\nUmweltlabor Main-Kinzig",
    ),
    letter(
        "einwendung-nachbarin-grundwasser",
        "Gisela Roth · Am Mühlbach 11 · 63571 Musterstadt",
        "Einwendung gegen die Brunnenbohrung auf dem Nachbargrundstück",
        "Sehr geehrte Damen und Herren,\n\n\
         auf dem Grundstück Am Mühlbach 9 soll ein Brunnen gebohrt werden. Ich befürchte, dass \
         durch die Entnahme der Grundwasserspiegel sinkt und mein altes Fachwerkhaus Setzrisse \
         bekommt. Außerdem ist mein eigener Schachtbrunnen schon in trockenen Sommern fast leer. \
         Bitte berücksichtigen Sie diese Bedenken bei der Prüfung der Anzeige.\n\n\
         Mit freundlichen Grüßen\nGisela Roth",
    ),
    mail(
        "aenderung-erdwaermesonde",
        HOFMANN,
        "Änderung des Vorhabens: Erdwärmesonde statt Gartenbrunnen?",
        "Guten Tag,\n\n\
         mein Heizungsbauer schlägt vor, statt eines reinen Gartenbrunnens eine Wärmepumpe mit \
         Erdwärmesonde zu bauen. Wäre das ein neues wasserrechtliches Verfahren, und welche \
         Unterlagen brauchen Sie dafür? Die Bohrung für den Brunnen würde ich dann \
         zurückstellen.\n\n\
         Viele Grüße\nThomas Hofmann",
    ),
    letter(
        "fertigstellungsanzeige-schichtenverzeichnis",
        "Brunnenbau Keller GmbH · Am Hang 4 · 63579 Freigericht",
        "Fertigstellungsanzeige und Schichtenverzeichnis",
        "Fertigstellungsanzeige\n\n\
         Die Bohrung auf dem Grundstück Am Mühlbach 9 ist abgeschlossen. Endteufe 17,5 m, \
         Ruhewasserspiegel 6,2 m unter Gelände, Ausbau mit Filterrohr DN 125 von 12 bis 17 m, \
         Tonsperre von 2 bis 4 m. Schichtenverzeichnis und Ausbauprotokoll liegen bei und wurden \
         an den geologischen Dienst übermittelt. Ein Pumpversuch ergab eine Förderleistung des \
         Brunnens von 2,5 Kubikmetern pro Stunde.\n\n\
         Brunnenbau Keller GmbH",
    ),
    mail(
        "wasserzaehler-entnahmemenge",
        HOFMANN,
        "Wasserzähler am Gartenbrunnen",
        "Sehr geehrte Damen und Herren,\n\n\
         die Untere Wasserbehörde verlangt, dass ich die jährliche Entnahmemenge nachweise. Ich \
         habe deshalb einen geeichten Wasserzähler hinter der Brunnenpumpe eingebaut; der \
         Zählerstand bei Inbetriebnahme betrug 0,4 Kubikmeter. Genügt es, wenn ich Ihnen den \
         Stand einmal im Jahr mitteile?\n\n\
         Mit freundlichen Grüßen\nThomas Hofmann",
    ),
    letter(
        "verfuellung-schachtbrunnen",
        HOFMANN_POST,
        "Stilllegung und Verfüllung des alten Schachtbrunnens",
        "Sehr geehrte Damen und Herren,\n\n\
         auf meinem Grundstück befindet sich ein alter gemauerter Schachtbrunnen, der seit \
         Jahrzehnten nicht mehr genutzt wird. Mit der neuen Bohrung möchte ich ihn stilllegen \
         und fachgerecht mit Kies und einer Tonabdichtung verfüllen lassen. Muss ich die \
         Stilllegung des Brunnens gesondert anzeigen?\n\n\
         Mit freundlichen Grüßen\nThomas Hofmann",
    ),
    mail(
        "bohranzeige-geologiedatengesetz",
        "Geologischer Dienst <bohranzeige@geologie-hessen.example>",
        "Bohranzeige nach dem Geologiedatengesetz – Am Mühlbach 9",
        "Sehr geehrte Damen und Herren,\n\n\
         die Bohranzeige der Brunnenbau Keller GmbH für die Brunnenbohrung Am Mühlbach 9 in \
         Musterstadt ist bei uns eingegangen und unter der Nummer GD 11873/26 registriert. Die \
         Bohrergebnisse (Schichtenverzeichnis) sind uns spätestens drei Monate nach Abschluss der \
         Bohrung zu übermitteln. Zur Kenntnis an die Stadt Musterstadt.\n\n\
         Mit freundlichen Grüßen\nGeologischer Dienst",
    ),
    letter(
        "gebuehren-brunnenanzeige",
        HOFMANN_POST,
        "Gebühren für die Anzeige der Brunnenbohrung",
        "Sehr geehrte Damen und Herren,\n\n\
         für die Bearbeitung meiner Anzeige der Brunnenbohrung habe ich einen Gebührenbescheid \
         erhalten. Bitte erläutern Sie mir, ob neben der Gebühr der Stadt noch Kosten der \
         Unteren Wasserbehörde oder eine Grundwasserabgabe auf mich zukommen. Ich entnehme das \
         Wasser nur für den Garten.\n\n\
         Mit freundlichen Grüßen\nThomas Hofmann",
    ),
    mail(
        "stadtwerke-trennung-trinkwasser",
        "Stadtwerke Musterstadt <netzservice@stadtwerke-musterstadt.example>",
        "Trennung von Brunnenwasser und Trinkwasserleitung",
        "Sehr geehrte Damen und Herren,\n\n\
         bei der Zählerablesung im Haus Am Mühlbach 9 haben wir festgestellt, dass die neue \
         Brunnenanlage über einen Schlauch mit der Hausinstallation verbunden ist. Nach der \
         Trinkwasserverordnung darf Brunnenwasser nicht mit dem Trinkwassernetz verbunden werden. \
         Wir haben Herrn Hofmann auf die sichere Trennung hingewiesen und bitten die Stadt um \
         Kenntnisnahme.\n\n\
         Mit freundlichen Grüßen\nStadtwerke Musterstadt, Netzservice Wasser",
    ),
    letter(
        "anzeige-brauchwassernutzung",
        HOFMANN_POST,
        "Anzeige der Brauchwassernutzung im Haus",
        "Sehr geehrte Damen und Herren,\n\n\
         ich beabsichtige, das Wasser meines Brunnens künftig auch für die Toilettenspülung zu \
         nutzen. Die Brauchwasseranlage baut ein Installateur mit getrenntem Leitungsnetz und \
         freiem Auslauf ein. Hiermit zeige ich die Inbetriebnahme der \
         Eigenwasserversorgungsanlage an und bitte um Bestätigung, dass die Anzeige an das \
         Gesundheitsamt weitergeleitet wird.\n\n\
         Mit freundlichen Grüßen\nThomas Hofmann",
    ),
];

const CASES: [DemoCase; 4] = [
    DemoCase {
        key: "demo-posteingang-hundesteuer",
        form: "hundesteuer-anmeldung",
        office: "steueramt@musterstadt.example",
        letters: HUNDESTEUER,
    },
    DemoCase {
        key: "demo-posteingang-gewerbe",
        form: "gewerbe-anmeldung",
        office: "gewerbe@musterstadt.example",
        letters: GEWERBE,
    },
    DemoCase {
        key: "demo-posteingang-bewohnerparken",
        form: "bewohnerparkausweis",
        office: "verkehr@musterstadt.example",
        letters: PARKEN,
    },
    DemoCase {
        key: "demo-posteingang-brunnen",
        form: "brunnenbohrung-anzeigen",
        office: "umwelt@musterstadt.example",
        letters: WASSER,
    },
];

/// A routing rule: (name, priority, sender, keywords, plan node).
type Rule = (
    &'static str,
    i32,
    Option<&'static str>,
    &'static [&'static str],
    &'static str,
);

/// The demo's routing rules.
const RULES: [Rule; 3] = [
    (
        "Tierheim Musterstadt → Hundesteuer",
        10,
        Some("@tierheim-musterstadt.example"),
        &[],
        "32.10.05",
    ),
    (
        "Gewerbe-Abmeldungen → Gewerbeangelegenheiten",
        5,
        None,
        &["Gewerbe", "Abmeldung"],
        "10.30",
    ),
    (
        "Bewohnerparkausweis → Parken",
        0,
        None,
        &["Bewohnerparkausweis"],
        "12.40",
    ),
];

/// Open items for the demo walk. The first quotes the reference of the
/// Gewerbe Vorgang (index 1 of [`CASES`]).
const OPEN: [(Letter, &str); 4] = [
    (
        mail(
            "nachtrag-gewerbeanmeldung-cafe",
            YILMAZ,
            "Ihr Zeichen {az} – Eröffnung und Nachtrag zur angemeldeten Tätigkeit",
            "Sehr geehrte Damen und Herren,\n\n\
             Ihr Zeichen: {az}\n\n\
             das Café Lindenblüte eröffnet zum 1. des kommenden Monats. Zu meiner Anmeldung \
             trage ich nach, dass wir zusätzlich Kaffeebohnen und Geschenkartikel verkaufen \
             werden. Bitte ergänzen Sie die angemeldete Tätigkeit entsprechend und teilen Sie mir \
             mit, ob dafür eine Gebühr anfällt.\n\n\
             Mit freundlichen Grüßen\nDeniz Yılmaz\n\
             Café Lindenblüte, Bahnhofstraße 23, 63571 Musterstadt",
        ),
        "gewerbe@musterstadt.example",
    ),
    (
        letter(
            "brief-lange-hund-balu",
            "Petra Lange · Birkenweg 3 · 63571 Musterstadt",
            "Anmeldung unseres Hundes Balu",
            "Sehr geehrte Damen und Herren,\n\n\
             seit zwei Wochen lebt bei uns ein Hund, ein Schäferhund-Mischling namens Balu, den \
             wir von einer Familie aus der Nachbarschaft übernommen haben. Ich möchte ihn hiermit \
             zur Hundesteuer anmelden und bitte um Zusendung der Steuermarke. Balu ist gechippt \
             und haftpflichtversichert; die Nachweise reiche ich gern nach.\n\n\
             Bitte teilen Sie mir mit, wie hoch die jährliche Steuer für einen Hund ist und ob \
             ich sie per Lastschrift zahlen kann.\n\n\
             Mit freundlichen Grüßen\nPetra Lange",
        ),
        "",
    ),
    (
        mail(
            "tierheim-vermittlung-max",
            TIERHEIM,
            "Vermittlung des Rüden Max an Familie Özdemir",
            "Sehr geehrte Damen und Herren,\n\n\
             der Rüde „Max“ (Beagle, Transpondernummer 276098106998877) wurde am vergangenen \
             Samstag an Familie Özdemir, Eichenallee 21, 63571 Musterstadt, vermittelt. Der \
             Schutzvertrag liegt vor. Wir bitten, der Familie die Steuerbefreiung für Hunde aus \
             dem Tierheim für das erste Jahr zu gewähren.\n\n\
             Mit freundlichen Grüßen\nSabine Krüger\nTierheim Musterstadt e.V.",
        ),
        "steueramt@musterstadt.example",
    ),
    (
        letter(
            "brief-neumann-abmeldung-gewerbe",
            "Klaus Neumann · Lerchenweg 2 · 63571 Musterstadt",
            "Abmeldung Gewerbe „Hausmeisterservice Neumann“",
            "Sehr geehrte Damen und Herren,\n\n\
             hiermit melde ich mein Gewerbe „Hausmeisterservice Neumann“ (Betriebsstätte \
             Lerchenweg 2) zum Ende des Monats ab. Grund der Abmeldung ist die Aufnahme einer \
             Festanstellung. Bitte senden Sie mir eine Bestätigung über die Abmeldung.\n\n\
             Mit freundlichen Grüßen\nKlaus Neumann",
        ),
        "",
    ),
];

/// The submitted data of each demo application (stored as given).
fn application_data(form: &str, today: chrono::NaiveDate) -> Value {
    let day = |d: i64| (today + Duration::days(d)).format("%Y-%m-%d").to_string();
    match form {
        "hundesteuer-anmeldung" => json!({
            "anrede": "herr", "vorname": "Jonas", "familienname": "Becker",
            "geburtsdatum": "1987-09-02",
            "anschrift": {"strasse": "Gartenstraße", "hausnummer": "14", "plz": "63571", "ort": "Musterstadt"},
            "email": "jonas.becker@example.org",
            "hunde": [{"name": "Bella", "rasse": "mischling", "wurfdatum": "2022-08-10",
                       "haltung_seit": day(-21), "chipnummer": "276098106543210"}],
            "ermaessigung": false, "lastschrift": false, "richtigkeit": true
        }),
        "gewerbe-anmeldung" => {
            let address = |street: &str, no: &str| {
                json!({
                    "g00000111": {"f00000053": street, "f00000016": no},
                    "g00000113": {"f00000054": "63571", "f00000035": "Musterstadt"}
                })
            };
            let contact = json!({"f00000069": "06051 445566", "f00000072": "",
                                 "f00000071": "kontakt@cafe-lindenbluete.example"});
            let mut site = address("Bahnhofstraße", "23");
            site["g00000092"] = contact.clone();
            json!({
                "f00000152": "Stadt Musterstadt",
                "g00000246": {"f00000456": "06435999"},
                "g00000091": [{
                    "f00000034": "Café Lindenblüte",
                    "f00000103": "Einzelunternehmen",
                    "g00000248": {"g00000093": {
                        "f00000013": "Yılmaz", "f00000154": "Deniz", "f00000065": "weiblich",
                        "g00000234": {"f00000440": 12, "f00000441": 3, "f00000204": 1990},
                        "f00000070": "Deutschland", "f00000067": "Offenbach am Main",
                        "g00000247": [{"f00000039": "deutsch"}],
                        "g00000119": address("Lindenweg", "31"),
                        "g00000092": contact
                    }}
                }],
                "f00000123": "Neuerrichtung",
                "f00000120": "Gaststätte mit Konditorei",
                "g00000251": {"f00000458": false, "f00000459": false},
                "f00000194": "Hauptniederlassung",
                "g00000105": site,
                "g00000252": {
                    "f00000150": "Café mit Herstellung und Verkauf von Torten und Feinen Backwaren",
                    "f00000460": "Ausschank alkoholfreier und alkoholischer Getränke"
                },
                "f00000118": false,
                "f00000119": day(28),
                "g00000096": {"f00000121": 2, "f00000122": 3},
                "g00000109": {"g00000098": {"f00000126": false}},
                "f00000008": day(0)
            })
        }
        "bewohnerparkausweis" => json!({
            "f00_4cb0dd14_629c_4661_9435_4e9eadc43e07": "01",
            "f05001344": "01",
            "f05000059": "Schneider", "f05000060": "Laura", "f05000351": "1991-04-23",
            "f05001354": "l.schneider@example.net", "f05000067": "06051 774120",
            "g05000428": {"f00000053": "Am Schlossgarten", "f00000016": "5"},
            "g00000113": {"f00000054": "63571", "f00000035": "Musterstadt"},
            "f05000523": "000",
            "f05001064": "2", "f05001347": "01", "f05001348": day(7),
            "f05000627": "MU-LS 412", "f05001062": 3821, "f05001047": "01"
        }),
        _ => json!({
            "vorname": "Thomas", "familienname": "Hofmann",
            "anschrift": {"strasse": "Am Mühlbach", "hausnummer": "9", "plz": "63571", "ort": "Musterstadt"},
            "email": "t.hofmann@example.com", "eigentuemer": true,
            "gemarkung": "Musterstadt", "flur": 3, "flurstueck": "112/4",
            "lage": "Hinterer Gartenteil, etwa 6 m von der Grundstücksgrenze",
            "zweck": "garten", "tiefe": 18, "entnahme": 150, "beginn": day(14),
            "bohrfirma": "Brunnenbau Keller GmbH, Am Hang 4, 63579 Freigericht",
            "richtigkeit": true
        }),
    }
}

/// A header value as RFC 2047 encoded words when it is not ASCII.
fn encode_header(value: &str) -> String {
    if value.is_ascii() {
        return value.to_string();
    }
    let mut words: Vec<String> = vec![String::new()];
    for c in value.chars() {
        let mut enc = String::new();
        let mut buf = [0u8; 4];
        for b in c.encode_utf8(&mut buf).bytes() {
            match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'!' | b'*' | b'+' | b'-' | b'/' => {
                    enc.push(b as char)
                }
                b' ' => enc.push('_'),
                _ => enc.push_str(&format!("={b:02X}")),
            }
        }
        // An encoded word is at most 75 characters, 12 of them framing.
        if words.last().is_some_and(|w| w.len() + enc.len() > 60) {
            words.push(String::new());
        }
        words.last_mut().expect("one word").push_str(&enc);
    }
    words
        .iter()
        .map(|w| format!("=?UTF-8?Q?{w}?="))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// `Name <address>` with the name encoded.
fn encode_mailbox(mailbox: &str) -> String {
    match mailbox.rsplit_once(" <") {
        Some((name, address)) if !name.is_ascii() => {
            format!("{} <{address}", encode_header(name))
        }
        Some((name, address)) if name.contains([',', '.', '(', ')', ':', ';', '@']) => {
            format!("\"{name}\" <{address}")
        }
        _ => mailbox.to_string(),
    }
}

/// The file name and content of a piece of mail.
fn render(l: &Letter, to: &str, reference: &str, at: DateTime<Utc>) -> (String, Vec<u8>) {
    let subject = l.subject.replace("{az}", reference);
    let body = l.body.replace("{az}", reference);
    if l.mail {
        let mut text = String::new();
        for (name, value) in [
            ("From", encode_mailbox(l.sender)),
            ("To", format!("Stadt Musterstadt <{to}>")),
            ("Subject", encode_header(&subject)),
            ("Date", at.to_rfc2822()),
            (
                "Message-ID",
                format!("<{}.{}@demo.musterstadt.example>", l.file, at.timestamp()),
            ),
            ("MIME-Version", "1.0".into()),
            ("Content-Type", "text/plain; charset=utf-8".into()),
            ("Content-Transfer-Encoding", "8bit".into()),
        ] {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        text.push_str(&body.replace('\n', "\r\n"));
        text.push_str("\r\n");
        (format!("{}.eml", l.file), text.into_bytes())
    } else {
        let office = match to {
            "steueramt@musterstadt.example" => "Steueramt\nMarktplatz 1",
            "gewerbe@musterstadt.example" => "Ordnungsamt – Gewerbe\nBahnhofstraße 12",
            "verkehr@musterstadt.example" => "Straßenverkehrsbehörde\nBahnhofstraße 12",
            "umwelt@musterstadt.example" => "Umweltamt\nSchillerstraße 4",
            _ => "Marktplatz 1",
        };
        let office = format!("Stadt Musterstadt\n{office}\n63571 Musterstadt");
        let text = format!(
            "{}\n\n{office}\n\nMusterstadt, {}\n\n{subject}\n\n{body}\n",
            l.sender,
            at.format("%d.%m.%Y")
        );
        (format!("{}.txt", l.file), text.into_bytes())
    }
}

/// What the seed did (for the log line).
#[derive(Debug, Default)]
pub struct Seeded {
    pub cases: usize,
    pub letters: usize,
    pub rules: usize,
    pub open_items: usize,
    pub evaluation: Option<rathaus_domain::classifier::Evaluation>,
}

/// Opens the file store of `settings` and seeds the in-tray demo content
/// into the tenant (once); prints one line when it did.
pub async fn seed(settings: &Settings, store: &Store, tenant: TenantId) -> anyhow::Result<()> {
    let started = Instant::now();
    let files = FileStore::open(&settings.storage_url()).context("opening file storage")?;
    let app = crate::server::app(settings, store, files)?;
    if let Some(s) = seed_app(&app, tenant).await? {
        let accuracy = match &s.evaluation {
            Some(e) => format!(
                "{:.0} % ({} von {} zurückgehaltenen Schreiben richtig; Basislinie {:.0} %)",
                e.accuracy * 100.0,
                e.correct,
                e.tested_on,
                e.baseline_accuracy * 100.0
            ),
            None => "nicht trainiert".into(),
        };
        tracing::info!(
            cases = s.cases,
            letters = s.letters,
            rules = s.rules,
            open_items = s.open_items,
            accuracy = s.evaluation.as_ref().map(|e| e.accuracy),
            "demo e-file and in-tray seeded"
        );
        println!(
            "Demo-Posteingang: {} Vorgänge, {} Schreiben abgelegt, {} Regeln, {} offene Eingänge; \
             Klassifikator trainiert, Treffsicherheit {accuracy} ({:.1} s)",
            s.cases,
            s.letters,
            s.rules,
            s.open_items,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The seed over an [`App`]: None when the tenant's classifier is trained
/// already (the seed ran before).
pub async fn seed_app(app: &App, tenant: TenantId) -> anyhow::Result<Option<Seeded>> {
    let admin = admin_actor(app, tenant).await?;
    if app.classifier_status(&admin).await?.trained_at.is_some() {
        return Ok(None);
    }
    let mut out = Seeded::default();
    let today = Utc::now().date_naive();
    let prefix = Reference::prefix_for(&app.tenant_name(tenant).await?);
    let mut references = Vec::new();
    for (i, c) in CASES.iter().enumerate() {
        let published = app
            .published_form(tenant, c.form)
            .await
            .with_context(|| format!("demo form {} is not published", c.form))?;
        let data = application_data(c.form, today);
        let (org_unit_id, due_days) = app.route(tenant, published.form.service_id, &data).await?;
        let submitted = app
            .store
            .submit_application(NewApplication {
                tenant,
                prefix: prefix.clone(),
                service_id: published.form.service_id,
                form_version_id: published.version.id,
                data,
                idempotency_key: Some(c.key.into()),
                request_hash: None,
                files: Vec::new(),
                org_unit_id,
                draft_id: None,
                actor: "applicant".into(),
                due_days,
                citizen_id: None,
                notify_email: None,
                awaiting_payment: false,
                defect: None,
            })
            .await?;
        let application = submitted.application;
        // What the receipt job would do, now: the receipt is typeset and
        // the case filed, so the job finds nothing left to do.
        app.ensure_receipt(tenant, application.id).await?;
        let file = app
            .file_case(tenant, application.id)
            .await?
            .context("the demo application has no Vorgang")?;
        out.cases += 1;
        references.push(application.reference.clone());
        let has_mail = app
            .store
            .repo()
            .filed_documents(tenant, file.id)
            .await?
            .iter()
            .any(|d| d.document.kind == DocumentKind::Incoming.code());
        if has_mail {
            continue;
        }
        let base = Utc::now() - Duration::days(1);
        for (j, l) in c.letters.iter().enumerate() {
            let at = base + Duration::minutes((i * 60 + j * 3) as i64);
            let (name, content) = render(l, c.office, &application.reference, at);
            let item = app.receive_mail(&admin, &name, content.into()).await?;
            let title = l.subject.replace("{az}", &application.reference);
            app.file_intray_item(&admin, item.id, Some(file.id), None, &title)
                .await?;
            out.letters += 1;
        }
    }
    // Text and seal of every filed version (what the records job does).
    app.process_record_versions(tenant).await?;

    let existing: Vec<String> = app
        .intray_rules(&admin)
        .await?
        .into_iter()
        .map(|r| r.name)
        .collect();
    for (name, priority, sender, keywords, code) in RULES {
        if existing.iter().any(|n| n == name) {
            continue;
        }
        app.add_intray_rule(
            &admin,
            NewRule {
                name: name.into(),
                priority,
                sender: sender.map(String::from),
                keywords: keywords.iter().map(|k| k.to_string()).collect(),
                target: Some(RouteTarget::PlanNode { code: code.into() }),
            },
        )
        .await?;
        out.rules += 1;
    }

    out.evaluation = app.train_classifier(&admin).await?.evaluation;

    let gewerbe = references.get(1).cloned().unwrap_or_default();
    let now = Utc::now();
    for (k, (l, to)) in OPEN.iter().enumerate() {
        let (name, content) = render(l, to, &gewerbe, now - Duration::minutes(40 - k as i64 * 9));
        app.receive_mail(&admin, &name, content.into()).await?;
        out.open_items += 1;
    }
    Ok(Some(out))
}

async fn admin_actor(app: &App, tenant: TenantId) -> anyhow::Result<Actor> {
    let user = app
        .store
        .repo()
        .user_by_email(tenant, &Email::parse(ADMIN).expect("demo email"))
        .await?
        .with_context(|| format!("demo user {ADMIN} missing"))?;
    app.staff_actor(tenant, user.id, Channel::Session)
        .await?
        .with_context(|| format!("demo user {ADMIN} is inactive"))
}
