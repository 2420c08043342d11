//! The genericode code-list reader, alone and as part of a FIM import.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rathaus_standards::{genericode, xdatenfelder};

/// A valid select field that refers to the fuzzed list by its canonical URI.
const SCHEMA: &str = r#"<xdf:xdatenfelder.datenfeld.0200 xmlns:xdf="urn:xoev-de:fim:standard:xdatenfelder_3.0.0">
<xdf:datenfeld><xdf:identifikation><xdf:id>F1</xdf:id></xdf:identifikation><xdf:name>Auswahl</xdf:name>
<xdf:feldart><code>select</code></xdf:feldart><xdf:codelisteReferenz><xdf:genericode>
<xdf:canonicalIdentification>urn:de:fuzz</xdf:canonicalIdentification></xdf:genericode></xdf:codelisteReferenz>
</xdf:datenfeld></xdf:xdatenfelder.datenfeld.0200>"#;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if genericode::parse(&text).is_ok() {
        let _ = xdatenfelder::import("s.xml", SCHEMA, &[("c.xml".into(), text.into_owned())]);
    }
});
