use serde_json::{Value, json};

use crate::helpers::{
    OTHER_HOST, TestApp, python_check, python_has, real_component, token, token_at,
};

#[tokio::test]
async fn token_login_and_me() {
    let app = TestApp::spawn().await;
    let t = token(&app, "admin@musterstadt.example").await;
    let me: Value = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "admin@musterstadt.example");
    assert_eq!(me["tenant"]["slug"], "musterstadt");
    assert_eq!(me["grants"][0]["role"], "tenant_admin");
    assert_eq!(me["grants"][0]["org_unit"], "Hauptamt");
    app.stop().await;
}

#[tokio::test]
async fn wrong_credentials_and_bad_input_get_clear_json_errors() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"email": "admin@musterstadt.example", "password": "falsch"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_token");

    let r = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header("accept-language", "de")
        .json(&json!({"email": "", "password": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    let fields: Vec<_> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "password"]);
    assert_eq!(
        body["error"]["fields"][0]["message"],
        "Bitte füllen Sie das Feld „E-Mail-Adresse“ aus."
    );

    let r = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .header("content-type", "application/json")
        .header("accept-language", "en")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("The request body is not valid JSON")
    );

    let r = app.get("/api/v1/me").await;
    assert_eq!(r.status(), 401);
    let r = app.get("/api/v1/nothing-here").await;
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    app.stop().await;
}

#[tokio::test]
async fn a_user_of_tenant_a_cannot_see_tenant_b_data() {
    let app = TestApp::spawn().await;
    let a = token(&app, "admin@musterstadt.example").await;
    let b = token_at(
        &app,
        "admin@nachbardorf.example",
        "nachbar-passwort",
        Some(OTHER_HOST),
    )
    .await;
    let list = |t: String| {
        let app = &app;
        async move {
            // Each token at its own tenant's host.
            let host = if t.starts_with("B:") {
                OTHER_HOST
            } else {
                "127.0.0.1"
            };
            let t = t.trim_start_matches("B:").to_string();
            let v: Value = app
                .client
                .get(app.url("/api/v1/org-units"))
                .header("host", host)
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| {
                    (
                        u["id"].as_str().unwrap().to_string(),
                        u["name"].as_str().unwrap().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let units_a = list(a.clone()).await;
    let units_b = list(format!("B:{b}")).await;
    assert_eq!(units_a.len(), 9);
    assert_eq!(
        units_b.iter().map(|u| u.1.as_str()).collect::<Vec<_>>(),
        ["Geheimes Amt Nachbardorf"]
    );
    assert!(!units_a.iter().any(|u| u.1.contains("Nachbardorf")));
    // Asking for B's unit by id with A's token: not found (not even "forbidden").
    let r = app
        .client
        .get(app.url(&format!("/api/v1/org-units/{}", units_b[0].0)))
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = app
        .client
        .get(app.url(&format!("/api/v1/org-units/{}", units_b[0].0)))
        .header("host", OTHER_HOST)
        .bearer_auth(&b)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A token works only at its own tenant's host (accounts.rs attacks this).
    let r = app
        .client
        .get(app.url("/api/v1/org-units"))
        .header("host", OTHER_HOST)
        .bearer_auth(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // B's credentials do not work for tenant A.
    let r = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"email": "admin@nachbardorf.example", "password": "nachbar-passwort", "tenant": "musterstadt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn revoked_tokens_stop_working() {
    let app = TestApp::spawn().await;
    let t = token(&app, "steuerung@musterstadt.example").await;
    assert_eq!(
        app.client
            .get(app.url("/api/v1/me"))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = app
        .client
        .delete(app.url("/api/v1/auth/token"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        app.client
            .get(app.url("/api/v1/me"))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    app.stop().await;
}

/// The statuses the document names besides 422: a body that is not sent as
/// JSON is 415, a query parameter that cannot be read 400, a limit outside
/// its range 400, a status outside its set 422; all with the JSON error
/// body and its code. A bearer that is neither a staff token nor an access
/// token is 401 on the applicant's operations (not a missing application).
#[tokio::test]
async fn api_errors_have_the_documented_status_and_code() {
    let app = TestApp::spawn().await;
    let clerk = token(&app, "sachbearbeitung@musterstadt.example").await;
    let code = |v: &Value| v["error"]["code"].as_str().unwrap_or_default().to_string();

    let r = app
        .client
        .post(app.url("/api/v1/auth/token"))
        .body(r#"{"email": "a@b.de", "password": "x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(code(&r.json().await.unwrap()), "unsupported_media_type");

    for (query, status, want) in [
        ("mine=vielleicht", 400, "invalid_query"),
        ("limit=abc", 400, "invalid_query"),
        ("limit=0", 400, "invalid_query"),
        ("limit=201", 400, "invalid_query"),
        ("status=unbekannt", 422, "validation"),
    ] {
        let r = app
            .client
            .get(app.url(&format!("/api/v1/cases?{query}")))
            .bearer_auth(&clerk)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), status, "{query}");
        assert_eq!(code(&r.json().await.unwrap()), want, "{query}");
    }
    let r = app
        .client
        .get(app.url("/api/v1/cases?limit=200"))
        .bearer_auth(&clerk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let r = app
        .client
        .get(app.url("/api/v1/applications/MS-2026-000001"))
        .bearer_auth("kein-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(code(&r.json().await.unwrap()), "invalid_token");
    app.stop().await;
}

/// The OpenAPI document is valid OpenAPI 3.1 (PyPI `openapi-spec-validator`)
/// and lists every operation of the API; each listed operation is routed:
/// never 405 or a server error, and paths without parameters never 404.
#[tokio::test]
async fn the_openapi_document_describes_routed_operations() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    validate_openapi_31(&doc);
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            assert!(
                op["summary"].is_string() && op["responses"].is_object(),
                "{method} {path}"
            );
            // Bodies are described by a schema (a component), not an example;
            // every error status has the JSON error body.
            if let Some(content) = op["requestBody"]["content"].as_object() {
                for (media, c) in content {
                    assert!(
                        c["schema"].is_object(),
                        "{method} {path} {media}: no schema"
                    );
                }
            }
            for (status, r) in op["responses"].as_object().unwrap() {
                // Open311's XML resources answer errors in XML (`<errors>`).
                let media = if path.starts_with("/open311/") && path.ends_with(".xml") {
                    "text/xml"
                } else {
                    "application/json"
                };
                if status.starts_with('4') {
                    assert!(
                        r["content"][media]["schema"].is_object(),
                        "{method} {path} {status}: no error schema"
                    );
                }
            }
            let concrete = path
                .split('/')
                .map(|s| {
                    if s.starts_with('{') {
                        "00000000-0000-0000-0000-000000000000"
                    } else {
                        s
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let req = app
                .client
                .request(method.to_uppercase().parse().unwrap(), app.url(&concrete));
            let req = if method == "post" || method == "put" {
                req.json(&json!({}))
            } else {
                req
            };
            let status = req.send().await.unwrap().status().as_u16();
            assert!(status < 500, "{method} {path} answered {status}");
            assert_ne!(status, 405, "{method} {path} is routed with this method");
            if !path.contains('{') {
                assert_ne!(status, 404, "{method} {path} exists");
            }
        }
    }
    assert_eq!(operations, rathaus_web::api::openapi::OPERATIONS.len());
    let error = &doc["components"]["schemas"]["ErrorDetail"];
    for field in ["status", "code", "message", "fields"] {
        assert!(
            error["properties"][field].is_object(),
            "ErrorDetail.{field}"
        );
    }
    assert!(doc["components"]["schemas"]["ServiceContent"]["properties"]["slug"].is_object());
    assert!(doc["components"]["schemas"]["FormDefinition"]["properties"]["steps"].is_object());
    for p in [
        "/api/v1/applications",
        "/api/v1/cases/{id}/decide",
        "/api/v1/applications/{reference}/messages",
    ] {
        assert!(paths.contains_key(p), "{p} documented");
    }
    app.stop().await;
}

/// Validates `doc` against the OpenAPI 3.1 specification with PyPI
/// `openapi-spec-validator` (required under CI; skipped with a notice locally).
fn validate_openapi_31(doc: &Value) {
    if !real_component(
        python_has("openapi_spec_validator"),
        "the Python package openapi-spec-validator",
        "install it with `python3 -m pip install openapi-spec-validator`; meanwhile the \
         OpenAPI document is not validated against the 3.1 schema",
    ) {
        return;
    }
    let validate = "import json, sys\n\
                    from openapi_spec_validator import validate, OpenAPIV31SpecValidator\n\
                    validate(json.load(open(sys.argv[1])), cls=OpenAPIV31SpecValidator)\n";
    if let Err(e) = python_check(&["-c", validate], doc.to_string().as_bytes()) {
        panic!("/api/openapi.json is not valid OpenAPI 3.1: {e}");
    }
}
