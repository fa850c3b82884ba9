//! The OpenAPI document is a contract, checked three ways: it validates as OpenAPI 3 with a real
//! validator; it lists exactly the routes the server registers under `/api/v1`, `/healthz` and
//! `/metrics`, each of them really routed; and a client that knows only the document (its path
//! parameter and body examples, its security requirements) forms an accepted request for every
//! operation.

use std::collections::BTreeSet;
use std::process::Command;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{spawn_app, TestApp};

fn document(app: &TestApp) -> Value {
    let res = app.get("/api/v1/openapi.json", None);
    assert_eq!(res.status().as_u16(), 200);
    res.json().expect("the document is JSON")
}

/// `(METHOD, path, operation)` for every operation of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            out.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    out
}

/// The operation's path with every path parameter replaced by the document's example.
fn concrete_path(path: &str, op: &Value) -> String {
    let mut url = path.to_string();
    for p in op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "path") {
        let name = p["name"].as_str().expect("parameter name");
        let example = p["example"].as_str().or_else(|| p["schema"]["example"].as_str());
        let example = example.unwrap_or_else(|| panic!("path parameter {name} of {path} has no example"));
        url = url.replace(&format!("{{{name}}}"), example);
    }
    url
}

/// The token the operation's security requirements ask for: an organiser token satisfies every
/// protected operation; operations without requirements are called anonymously.
fn token<'a>(app: &'a TestApp, op: &Value) -> Option<&'a str> {
    let requirements = op["security"].as_array()?;
    requirements.iter().any(|r| r.get("organiserToken").is_some()).then_some(app.organiser.as_str())
}

fn send(app: &TestApp, method: &str, url: &str, token: Option<&str>, body: Option<&Value>) -> (u16, String) {
    let mut req = app.request(method.parse::<Method>().expect("method"), url, token);
    if let Some(body) = body {
        req = req.json(body);
    }
    let res = req.send().expect("request");
    (res.status().as_u16(), res.text().unwrap_or_default())
}

#[test]
fn openapi_document_validates_as_openapi_3() {
    let app = spawn_app();
    let doc = document(&app);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", doc["openapi"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).expect("json")).expect("write");
    let out = Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("python3 runs (bash scripts/setup.sh installs it and the validator)");
    assert!(
        out.status.success(),
        "the document is not valid OpenAPI (is the validator installed? bash scripts/setup.sh):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn openapi_lists_exactly_the_served_routes_and_each_is_routed() {
    let app = spawn_app();
    let doc = document(&app);
    let documented: BTreeSet<(String, String)> = operations(&doc).into_iter().map(|(m, p, _)| (m, p)).collect();
    let served: BTreeSet<(String, String)> = pitchmatch::server::routes()
        .into_iter()
        .filter(|(_, path)| path.starts_with("/api/v1/") || *path == "/healthz" || *path == "/metrics")
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(undocumented.is_empty(), "served but not in the document: {undocumented:?}");
    assert!(unserved.is_empty(), "in the document but not registered: {unserved:?}");
    // Registered is not yet routed: ask the running server, without a token or a body, so no
    // operation changes anything. The router's own answers are a 405, or a 404 "no route".
    for (method, path, op) in operations(&doc) {
        let url = concrete_path(&path, &op);
        let (status, body) = send(&app, &method, &url, None, None);
        assert_ne!(status, 405, "{method} {url} is not routed: {body}");
        assert!(!(status == 404 && body.contains("no route for")), "{method} {url} is not routed: {body}");
    }
}

#[test]
fn a_request_built_from_the_document_is_accepted_for_every_operation() {
    let app = spawn_app();
    // The moderation examples name pending submissions; submissions get random ids, so these are
    // put in place directly.
    let limits = pitchmatch::store::PendingLimits { per_client: 0, total: 0 };
    for id in ["acme-composites-b-v-7f3k2q9a", "spam-b-v-2m4n6p8q"] {
        let p =
            pitchmatch::domain::Profile::minimal(id, "Acme Composites B.V.", "We build lightweight composite tanks.");
        app.engine.submit_pending_profile(&p, "seed", limits).expect("pending");
    }
    let doc = document(&app);
    let mut ops = operations(&doc);
    // Deletes last, so the records the other operations' examples name still exist.
    ops.sort_by_key(|(method, _, _)| method == "DELETE");
    let mut failures = Vec::new();
    for (method, path, op) in &ops {
        let url = concrete_path(path, op);
        let body = op["requestBody"]["content"]["application/json"]["example"].clone();
        let body = (!body.is_null()).then_some(body);
        if op["requestBody"]["required"] == true {
            assert!(body.is_some(), "{method} {path} needs a body but documents no example");
        }
        let (status, text) = send(&app, method, &url, token(&app, op), body.as_ref());
        if !(200..300).contains(&status) {
            failures.push(format!("{method} {url}: {status} {text}"));
            continue;
        }
        let documented = op["responses"].as_object().expect("responses");
        if !documented.contains_key(&status.to_string()) {
            failures.push(format!("{method} {url}: {status} is not a documented response"));
        }
    }
    assert!(failures.is_empty(), "requests built from the document were refused:\n{}", failures.join("\n"));
}
