//! Notification emails to applicants. They carry a link and the reference
//! number, never the content of the case: the mailbox behind the link is
//! where personal data is shown, after the applicant has proven access.

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Received,
    DocumentsRequested,
    Message,
    Decision,
}

impl Event {
    pub const ALL: [Event; 4] = [
        Event::Received,
        Event::DocumentsRequested,
        Event::Message,
        Event::Decision,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::DocumentsRequested => "documents_requested",
            Self::Message => "message",
            Self::Decision => "decision",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == s)
    }
}

/// Subject and plain-text body (German, with an English line) of the email.
pub fn email(event: Event, tenant: &str, reference: &str, link: &str) -> (String, String) {
    let (subject, what, what_en) = match event {
        Event::Received => (
            format!("Eingangsbestätigung {reference}"),
            "Ihr Antrag ist bei uns eingegangen. Die Eingangsbestätigung und den Bearbeitungsstand finden Sie unter dem folgenden Link.",
            "We have received your application. The confirmation of receipt and its status are behind the link below.",
        ),
        Event::DocumentsRequested => (
            format!("Unterlagen angefordert: {reference}"),
            "Für die Bearbeitung Ihres Antrags benötigen wir weitere Unterlagen. Welche, und bis wann, lesen Sie in Ihrem Postfach.",
            "We need further documents to process your application; your mailbox says which and by when.",
        ),
        Event::Message => (
            format!("Neue Nachricht zu {reference}"),
            "Sie haben eine neue Nachricht zu Ihrem Antrag in Ihrem Postfach.",
            "There is a new message about your application in your mailbox.",
        ),
        Event::Decision => (
            format!("Bescheid verfügbar: {reference}"),
            "Über Ihren Antrag ist entschieden. Der Bescheid liegt in Ihrem Postfach.",
            "Your application has been decided. The decision is in your mailbox.",
        ),
    };
    let body = format!(
        "Guten Tag,\n\n{what}\n\nAktenzeichen: {reference}\n{link}\n\n\
         Bitte antworten Sie nicht auf diese E-Mail; schreiben Sie uns über das Postfach.\n\n\
         {what_en}\n\n-- \n{tenant}\n"
    );
    (format!("{subject} – {tenant}"), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_carry_link_and_reference_only() {
        for e in Event::ALL {
            assert_eq!(Event::parse(e.code()), Some(e));
            let (subject, body) = email(e, "Stadt Musterstadt", "MS-2026-000001", "https://x/a/1");
            assert!(subject.contains("MS-2026-000001"));
            assert!(body.contains("https://x/a/1"));
            assert!(body.contains("Stadt Musterstadt"));
        }
    }
}
