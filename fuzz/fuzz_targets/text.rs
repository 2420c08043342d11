//! Text extraction of the e-file and the in-tray: PDF text layers, mails,
//! plain text — whatever bytes staff upload from a stranger's letter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rathaus_standards::text;

fuzz_target!(|data: &[u8]| {
    let _ = text::extract(data, None);
    let _ = text::extract(data, Some("application/pdf"));
    let _ = text::extract(data, Some("message/rfc822"));
});
