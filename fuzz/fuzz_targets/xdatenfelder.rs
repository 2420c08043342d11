//! The FIM XDatenfelder reader and the form builder on arbitrary input:
//! an error is fine, a panic, a stack overflow or a hang is not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rathaus_standards::xdatenfelder;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(schema) = xdatenfelder::parse(&text) {
        let _ = schema.fields();
        let _ = schema.rules();
        let _ = xdatenfelder::to_form(&schema, &[]);
    }
});
