//! The one reader of `multipart/form-data` bodies (multer, through axum):
//! wizard steps with files ([`crate::platform::upload::StepBody`]) and the
//! FIM import (page and API) read their parts here. Never panics on a body:
//! a bad boundary, a truncated part or a part over the body limit is an
//! error. The `multipart` fuzz target in `fuzz/` drives [`parse`].

use axum::{
    body::{Body, Bytes},
    extract::{FromRequest, Multipart, Request},
    http::header,
};

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormPart {
    /// The part's `name`, empty when it has none.
    pub name: String,
    /// The part's `filename`, if it carries one.
    pub file_name: Option<String>,
    pub data: Bytes,
}

impl FormPart {
    /// The content as text (invalid UTF-8 replaced, as browsers post UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// Why a multipart body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    /// Not `multipart/form-data`, or without a boundary.
    #[error("not a multipart/form-data body: {0}")]
    NotMultipart(String),
    /// A malformed part or a truncated body.
    #[error("the multipart body cannot be read: {0}")]
    Malformed(String),
    /// A body over the route's limit.
    #[error("the multipart body is over the limit: {0}")]
    TooLarge(String),
}

fn field_error(e: axum::extract::multipart::MultipartError) -> MultipartError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        MultipartError::TooLarge(e.body_text())
    } else {
        MultipartError::Malformed(e.body_text())
    }
}

/// True when the request says it carries `multipart/form-data`.
pub fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

/// Reads every part of a multipart request (the route's body limit applies).
pub async fn read(req: Request) -> Result<Vec<FormPart>, MultipartError> {
    let mut mp = Multipart::from_request(req, &())
        .await
        .map_err(|e| MultipartError::NotMultipart(e.body_text()))?;
    let mut parts = Vec::new();
    while let Some(field) = mp.next_field().await.map_err(field_error)? {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let data = field.bytes().await.map_err(field_error)?;
        parts.push(FormPart {
            name,
            file_name,
            data,
        });
    }
    Ok(parts)
}

/// Reads a multipart body given its `Content-Type` header value.
pub async fn parse(content_type: &str, body: Bytes) -> Result<Vec<FormPart>, MultipartError> {
    let req = Request::builder()
        .method("POST")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .map_err(|e| MultipartError::NotMultipart(e.to_string()))?;
    read(req).await
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    const CT: &str = "multipart/form-data; boundary=XyZ";

    #[test]
    fn reads_text_and_file_parts() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\neins\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"_file:nachweis\"; filename=\"n.pdf\"\r\n\
                    Content-Type: application/pdf\r\n\r\n%PDF-1.7\r\n--XyZ--\r\n";
        let parts = run(parse(CT, Bytes::from(body))).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            (parts[0].name.as_str(), parts[0].text().as_str()),
            ("a", "eins")
        );
        assert_eq!(parts[1].file_name.as_deref(), Some("n.pdf"));
        assert_eq!(&parts[1].data[..], b"%PDF-1.7");
    }

    #[test]
    fn broken_bodies_are_errors() {
        for (ct, body) in [
            ("multipart/form-data", "--XyZ\r\n"),
            ("text/plain", ""),
            (
                CT,
                "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nkein Ende",
            ),
            (CT, "--XyZ\r\nno header end"),
        ] {
            assert!(run(parse(ct, Bytes::from(body))).is_err(), "{ct} {body:?}");
        }
    }

    /// Multipart-ish pieces: boundaries, headers, line ends.
    fn piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"--XyZ\r\n".to_vec()),
            Just(b"--XyZ--\r\n".to_vec()),
            Just(b"--XyZ".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\r\n\r\n".to_vec()),
            Just(b"Content-Disposition: form-data; name=\"a\"".to_vec()),
            Just(
                b"Content-Disposition: form-data; name=\"_file:x\"; filename=\"../\xff.pdf\""
                    .to_vec()
            ),
            Just(b"Content-Disposition: form-data; name*=UTF-8''%E2%82%AC".to_vec()),
            Just(b"Content-Type: text/plain; charset=latin1".to_vec()),
            prop::collection::vec(any::<u8>(), 0..24),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bodies_never_panic(
            ct in prop_oneof![
                Just(CT.to_string()),
                Just("multipart/form-data; boundary=\"XyZ\"".to_string()),
                ".{0,40}".prop_map(|s| format!("multipart/form-data; boundary={s}")),
            ],
            body in prop::collection::vec(piece(), 0..40),
        ) {
            let _ = run(parse(&ct, Bytes::from(body.concat())));
        }
    }
}
