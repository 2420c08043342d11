//! The server's multipart/form-data reader (wizard steps with files, FIM
//! import) on arbitrary bodies. The first line of the input is the boundary
//! parameter, the rest the body.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;

/// The server's reader itself: the same source file, without the web crate.
#[path = "../../crates/web/src/platform/multipart.rs"]
#[allow(dead_code)]
mod multipart;

thread_local! {
    static RT: RefCell<tokio::runtime::Runtime> = RefCell::new(
        tokio::runtime::Builder::new_current_thread().build().expect("runtime"),
    );
}

fuzz_target!(|data: &[u8]| {
    let (boundary, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"XyZ"[..], data),
    };
    let content_type = format!(
        "multipart/form-data; boundary={}",
        String::from_utf8_lossy(boundary)
    );
    let body = bytes::Bytes::copy_from_slice(body);
    RT.with(|rt| {
        let _ = rt.borrow().block_on(multipart::parse(&content_type, body));
    });
});
