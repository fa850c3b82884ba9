//! The HTTP service end to end: real requests against a server on a free port.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error_shape, spawn_app, spawn_app_with};

fn hydrogen_profile(id: &str) -> Value {
    json!({
        "id": id,
        "name": "Waterstofvat Composites B.V.",
        "kind": "company",
        "size": "sme",
        "language": "en",
        "summary": "We design lighter and cheaper Type IV hydrogen storage vessels: carbon fibre wound composite \
                    pressure tanks with thin polymer liners for vans and trucks.",
        "keywords": ["hydrogen storage", "composite pressure vessel", "carbon fibre"],
        "themes": ["green_mobility"],
        "trl": 6,
        "contact_email": "info@waterstofvat.example"
    })
}

fn status_and_body(res: reqwest::blocking::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[test]
fn submission_appears_in_shortlist_and_delete_removes_it() {
    let app = spawn_app();
    let (id, token) = app.submit_approved(&hydrogen_profile("it-h2-vessels"));
    let id = id.as_str();
    assert!(token.len() >= 64, "edit token should carry 32 random bytes");
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let ids = app.shortlist_ids("demo-d-10", 20);
        if ids.contains(&id.to_string()) {
            break;
        }
        assert!(Instant::now() < deadline, "submitted profile not in the shortlist within 1 s: {ids:?}");
        std::thread::sleep(Duration::from_millis(50));
    }

    // The owner reads back exactly what was stored, contact e-mail included.
    let (status, body) = status_and_body(app.get(&format!("/api/v1/profiles/{id}"), Some(&token)));
    assert_eq!(status, 200);
    assert_eq!(body["contact_email"], "info@waterstofvat.example");
    // The shortlist never carries contact e-mails.
    let list = app.get("/api/v1/demands/demo-d-10/shortlist?k=200", Some(&app.organiser)).text().unwrap();
    assert!(!list.contains("@"), "shortlist leaks an e-mail address");

    // Replacing changes what is matched.
    let mut changed = hydrogen_profile(id);
    changed["summary"] = json!(
        "Nous fabriquons des coiffes de sièges en polyester recyclé et des mousses de sièges biosourcées, \
         recyclables en fin de vie."
    );
    changed["language"] = json!("fr");
    changed["keywords"] = json!(["coiffes de sièges", "mousses recyclées"]);
    changed["name"] = json!("Breiwerk Interieur B.V.");
    let (status, _) =
        status_and_body(app.send_json(Method::PUT, &format!("/api/v1/profiles/{id}"), Some(&token), &changed));
    assert_eq!(status, 200);
    assert!(!app.shortlist_ids("demo-d-10", 20).contains(&id.to_string()));
    assert!(app.shortlist_ids("demo-d-09", 20).contains(&id.to_string()));

    // Delete removes it from the store, the index and the shortlist; its token dies with it.
    let res = app.request(Method::DELETE, &format!("/api/v1/profiles/{id}"), Some(&token)).send().unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert!(!app.shortlist_ids("demo-d-09", 200).contains(&id.to_string()));
    assert!(!app.shortlist_ids("demo-d-10", 200).contains(&id.to_string()));
    assert!(app.engine.profile(id).unwrap().is_none());
    let (missing, extra) = app.engine.index_consistency().unwrap();
    assert!(missing.is_empty() && extra.is_empty(), "index out of step: {missing:?} {extra:?}");
    assert_eq!(app.get(&format!("/api/v1/profiles/{id}"), Some(&app.organiser)).status().as_u16(), 404);
    assert_eq!(app.get(&format!("/api/v1/profiles/{id}"), Some(&token)).status().as_u16(), 401);
}

/// Filters remove rows and change nothing else: scores are normalised over the whole collection,
/// so an organiser who narrows a shortlist sees the same scores in the same order.
#[test]
fn filtered_shortlist_is_the_unfiltered_one_without_the_other_rows() {
    let app = spawn_app();
    let get = |query: &str| -> Vec<Value> {
        let (status, body) =
            status_and_body(app.get(&format!("/api/v1/demands/demo-d-10/shortlist?{query}"), Some(&app.organiser)));
        assert_eq!(status, 200, "{body}");
        body["results"].as_array().expect("results").clone()
    };
    let all = get("k=200");
    let filtered = get("k=200&kind=company&min_trl=6");
    let expected: Vec<(String, f64)> = all
        .iter()
        .filter(|r| r["kind"] == "company" && r["trl"].as_u64().is_some_and(|t| t >= 6))
        .map(|r| (r["profile_id"].as_str().unwrap().to_string(), r["score"].as_f64().unwrap()))
        .collect();
    let got: Vec<(String, f64)> = filtered
        .iter()
        .map(|r| (r["profile_id"].as_str().unwrap().to_string(), r["score"].as_f64().unwrap()))
        .collect();
    assert!(!expected.is_empty() && expected.len() < all.len(), "the filter should keep some rows, not all");
    assert_eq!(got, expected);
    // Cutting to k keeps the best of the same order.
    let top3: Vec<Value> = get("k=3&kind=company&min_trl=6");
    let top3_ids: Vec<&str> = top3.iter().map(|r| r["profile_id"].as_str().unwrap()).collect();
    let expected3: Vec<&str> = expected.iter().take(3).map(|(id, _)| id.as_str()).collect();
    assert_eq!(top3_ids, expected3);
}

#[test]
fn a_submission_naming_an_existing_id_leaves_that_profile_alone() {
    let app = spawn_app();
    let before = app.engine.profile("demo-p-001").unwrap().unwrap();
    let mut other = hydrogen_profile("demo-p-001");
    other["name"] = json!("Hijacker B.V.");
    let (status, body) = app.submit(&other);
    assert_eq!(status, 201, "{body}");
    assert_ne!(body["id"], "demo-p-001");
    assert_eq!(app.engine.profile("demo-p-001").unwrap().unwrap(), before);
}

/// Callers of the auth matrix, in the order each row is run.
const PRINCIPALS: [&str; 5] = ["anonymous", "revoked organiser", "supplier B", "supplier A", "organiser"];

struct Row {
    method: Method,
    path: &'static str,
    /// `{n}` is replaced by the principal's index, so creating rows do not collide.
    body: Option<&'static str>,
    expect: [u16; 5],
}

fn row(method: Method, path: &'static str, body: Option<&'static str>, expect: [u16; 5]) -> Row {
    Row { method, path, body, expect }
}

#[test]
fn auth_matrix() {
    // Five anonymous submissions from one address: more than the pending bound allows by default.
    let app = spawn_app_with(|c| c.max_pending_per_client = 0);
    let token_a = app.submit_ok(&hydrogen_profile("it-a"));
    let token_b = app.submit_ok(&hydrogen_profile("it-b"));
    let revoked = app.engine.create_token("to-revoke", pitchmatch::store::TokenRole::Organiser).unwrap();
    assert_eq!(app.get("/api/v1/demands", Some(&revoked)).status().as_u16(), 200);
    app.engine.revoke_token("to-revoke").unwrap();
    let tokens: [Option<&str>; 5] = [None, Some(&revoked), Some(&token_b), Some(&token_a), Some(&app.organiser)];

    let profile_body = r#"{"id": "it-new-{n}", "name": "New {n} B.V.", "kind": "company",
        "summary": "We make lightweight composite battery housings for vans."}"#;
    let profile_a = r#"{"id": "it-a", "name": "A B.V.", "kind": "company",
        "summary": "We make lightweight composite battery housings for vans."}"#;
    let demand_body = r#"{"id": "it-d-{n}", "organisation": "Valeo", "title": "Battery housings",
        "description": "Lightweight composite battery housings for light commercial vehicles."}"#;
    let demand_10 = r#"{"id": "demo-d-10", "organisation": "Renault", "title": "Lighter, cheaper hydrogen storage vessels",
        "description": "We look for lighter and cheaper hydrogen storage vessels for vans.", "language": "en"}"#;
    let event_body = r#"{"id": "it-e-{n}", "organisation": "Valeo", "slots": 4, "demand_ids": ["demo-d-10"]}"#;
    let (u, f, ok, created, gone) = (401, 403, 200, 201, 204);
    let rows = [
        row(Method::POST, "/api/v1/profiles", Some(profile_body), [created; 5]),
        row(Method::GET, "/api/v1/profiles", None, [u, u, f, f, ok]),
        row(Method::GET, "/api/v1/profiles?limit=2", None, [u, u, f, f, ok]),
        row(Method::GET, "/api/v1/profiles/it-a", None, [u, u, f, ok, ok]),
        row(Method::PUT, "/api/v1/profiles/it-a", Some(profile_a), [u, u, f, ok, ok]),
        row(Method::GET, "/api/v1/profiles/demo-p-001", None, [u, u, f, f, ok]),
        row(Method::PUT, "/api/v1/profiles/it-b", Some(profile_a), [u, u, 400, f, 400]),
        row(Method::GET, "/api/v1/demands", None, [u, u, f, f, ok]),
        row(Method::POST, "/api/v1/demands", Some(demand_body), [u, u, f, f, created]),
        row(Method::GET, "/api/v1/demands/demo-d-10", None, [u, u, f, f, ok]),
        row(Method::PUT, "/api/v1/demands/demo-d-10", Some(demand_10), [u, u, f, f, ok]),
        row(Method::GET, "/api/v1/demands/demo-d-10/shortlist?k=5", None, [u, u, f, f, ok]),
        row(Method::POST, "/api/v1/search", Some(r#"{"text": "hydrogen tanks", "k": 5}"#), [u, u, f, f, ok]),
        row(Method::GET, "/api/v1/events", None, [u, u, f, f, ok]),
        row(Method::POST, "/api/v1/events", Some(event_body), [u, u, f, f, created]),
        row(Method::GET, "/api/v1/events/psa-2027", None, [u, u, f, f, ok]),
        row(Method::POST, "/api/v1/events/psa-2027/selection", None, [u, u, f, f, ok]),
        row(Method::DELETE, "/api/v1/demands/it-d-4", None, [u, u, f, f, gone]),
        row(Method::GET, "/healthz", None, [ok; 5]),
        row(Method::GET, "/metrics", None, [u, u, f, f, ok]),
        row(Method::GET, "/api/v1/openapi.json", None, [ok; 5]),
        // Supplier A deletes its own profile; B may not; afterwards the organiser finds nothing.
        row(Method::DELETE, "/api/v1/profiles/it-a", None, [u, u, f, gone, 404]),
    ];
    let mut failures = Vec::new();
    for r in &rows {
        for (n, (who, token)) in PRINCIPALS.iter().zip(tokens).enumerate() {
            let mut req = app.request(r.method.clone(), r.path, token);
            if let Some(body) = r.body {
                req = req.header("content-type", "application/json").body(body.replace("{n}", &n.to_string()));
            }
            let (status, body) = status_and_body(req.send().unwrap());
            if status != r.expect[n] {
                failures.push(format!("{} {} as {who}: got {status}, want {}: {body}", r.method, r.path, r.expect[n]));
            }
            if status >= 400 {
                assert_error_shape(&body);
            }
            if status == 401 {
                assert_eq!(body["error"]["code"], "unauthorized");
            }
            if status == 403 {
                assert_eq!(body["error"]["code"], "forbidden");
            }
        }
    }
    assert!(failures.is_empty(), "auth matrix mismatches:\n{}", failures.join("\n"));
    // A malformed Authorization header is a 401 too, not an anonymous call.
    let res =
        app.request(Method::GET, "/api/v1/profiles/it-b", None).header("authorization", "Basic abc").send().unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

#[test]
fn organiser_sees_paginated_profiles_with_emails_suppliers_do_not() {
    let app = spawn_app();
    let token_a = app.submit_ok(&hydrogen_profile("it-a"));
    let (status, page) = status_and_body(app.get("/api/v1/profiles?limit=10", Some(&app.organiser)));
    assert_eq!(status, 200);
    assert_eq!(page["profiles"].as_array().unwrap().len(), 10);
    let after = page["next_after"].as_str().unwrap().to_string();
    let (_, next) =
        status_and_body(app.get(&format!("/api/v1/profiles?after={after}&limit=500"), Some(&app.organiser)));
    let rest = next["profiles"].as_array().unwrap();
    assert_eq!(rest.len(), 56 + 1 - 10);
    assert!(rest.iter().all(|p| p["id"].as_str().unwrap() > after.as_str()));
    assert!(next["next_after"].is_null());
    let res = app.get("/api/v1/profiles?limit=500", Some(&token_a));
    assert_eq!(res.status().as_u16(), 403);
    assert!(!res.text().unwrap().contains('@'));
}

fn expect_error(res: reqwest::blocking::Response, status: u16, code: &str) -> Value {
    let (got, body) = status_and_body(res);
    assert_eq!(got, status, "{body}");
    assert_eq!(assert_error_shape(&body)["code"], code, "{body}");
    body
}

#[test]
fn bad_submissions_are_clear_4xx_in_the_error_shape() {
    let app = spawn_app();
    let post = |body: Vec<u8>| {
        app.request(Method::POST, "/api/v1/profiles", None)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap()
    };
    expect_error(post(br#"{"id": "x", "name": "#.to_vec()), 400, "malformed_json");
    expect_error(post(Vec::new()), 400, "empty_body");
    expect_error(post(b"{\"id\": \"\xff\xfe\"}".to_vec()), 400, "invalid_utf8");

    let wrong_types = json!({"id": 5, "name": ["x"], "kind": "robot", "summary": "short", "trl": "high"});
    let body = expect_error(post(wrong_types.to_string().into_bytes()), 422, "invalid_record");
    let fields: Vec<&str> =
        body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    for f in ["name", "kind", "summary", "trl"] {
        assert!(fields.contains(&f), "no violation for {f}: {body}");
    }
    // A submission's id is the server's to make: whatever is sent there is ignored, not judged.
    assert!(!fields.contains(&"id"), "{body}");
    assert_eq!(body["error"]["field"], fields[0]);

    let mut unknown = hydrogen_profile("it-unknown");
    unknown["colour"] = json!("red");
    let body = expect_error(post(unknown.to_string().into_bytes()), 422, "invalid_record");
    assert_eq!(body["error"]["field"], "colour");
    assert_eq!(app.engine.pending_count().unwrap(), 0, "an invalid record was stored");

    let mut huge = hydrogen_profile("it-huge");
    huge["summary"] = json!("x".repeat(300 * 1024));
    expect_error(post(huge.to_string().into_bytes()), 413, "payload_too_large");

    let not_object = expect_error(post(b"[1, 2]".to_vec()), 422, "invalid_record");
    assert_eq!(not_object["error"]["field"], "(record)");

    // Path/body id mismatch, unknown ids, unknown routes and methods.
    let org = Some(app.organiser.as_str());
    let res = app.send_json(Method::PUT, "/api/v1/profiles/demo-p-001", org, &hydrogen_profile("demo-p-002"));
    assert_eq!(expect_error(res, 400, "id_mismatch")["error"]["field"], "id");
    expect_error(app.get("/api/v1/demands/nope", org), 404, "not_found");
    expect_error(app.get("/api/v1/demands/nope/shortlist", org), 404, "not_found");
    expect_error(app.get("/api/v1/events/nope", org), 404, "not_found");
    expect_error(app.request(Method::POST, "/api/v1/events/nope/selection", org).send().unwrap(), 404, "not_found");
    expect_error(app.get("/api/v1/nothing-here", None), 404, "not_found");
    expect_error(app.request(Method::PATCH, "/api/v1/profiles", None).send().unwrap(), 405, "method_not_allowed");
    expect_error(
        app.request(Method::DELETE, "/api/v1/events/psa-2027", org).send().unwrap(),
        405,
        "method_not_allowed",
    );

    // An event naming an unknown demand area is refused with the field named.
    let event = json!({"id": "it-e", "organisation": "Valeo", "slots": 3, "demand_ids": ["nope"]});
    let body = expect_error(app.send_json(Method::POST, "/api/v1/events", org, &event), 422, "invalid_record");
    assert_eq!(body["error"]["field"], "demand_ids");
    // Selection rules are checked too.
    let res = app
        .request(Method::POST, "/api/v1/events/psa-2027/selection", org)
        .header("content-type", "application/json")
        .body(r#"{"decay": "steep"}"#)
        .send()
        .unwrap();
    expect_error(res, 400, "bad_argument");
}

#[test]
fn search_and_shortlist_reject_bad_arguments_and_survive_hostile_text() {
    let app = spawn_app();
    let org = Some(app.organiser.as_str());
    let search = |body: Value| app.send_json(Method::POST, "/api/v1/search", org, &body);

    for text in [
        "\"hydrogen\" \"storage",
        "title:hydrogen AND summary:(tanks OR vessels)",
        "[brackets] {braces} (parens) <angle>",
        "-",
        " - -- +",
        "*?~^\\/!",
        "🚗🔋💨 hydrogen 🚀",
        "réservoirs d'hydrogène : légers, pas chers ?",
        "waterstofopslag; lichtere tanks!",
    ] {
        let (status, body) = status_and_body(search(json!({"text": text, "k": 10})));
        assert_eq!(status, 200, "text {text:?}: {body}");
        assert!(body["results"].is_array(), "text {text:?}: {body}");
    }
    let (status, body) = status_and_body(search(json!({"text": "hydrogen storage vessels", "k": 3, "language": "en",
        "ranker": "lexical", "filters": {"theme": "green_mobility", "min_trl": 1}})));
    assert_eq!(status, 200, "{body}");
    assert!(!body["results"].as_array().unwrap().is_empty());
    assert!(body["results"].as_array().unwrap().len() <= 3);

    let body = expect_error(search(json!({"text": "x".repeat(10_000)})), 400, "bad_argument");
    assert_eq!(body["error"]["field"], "text");
    assert_eq!(expect_error(search(json!({"text": "   "})), 400, "bad_argument")["error"]["field"], "text");
    let wrong_type = expect_error(search(json!({"text": 5})), 400, "bad_argument");
    assert!(wrong_type["error"]["message"].as_str().unwrap().contains("invalid type"), "{wrong_type}");
    assert_eq!(expect_error(search(json!({"k": 5})), 400, "bad_argument")["error"]["field"], "text");
    assert_eq!(
        expect_error(search(json!({"text": "a", "colour": 1})), 400, "bad_argument")["error"]["field"],
        "colour"
    );
    assert_eq!(expect_error(search(json!({"text": "a", "k": 0})), 400, "bad_argument")["error"]["field"], "k");
    assert_eq!(expect_error(search(json!({"text": "a", "k": 201})), 400, "bad_argument")["error"]["field"], "k");
    expect_error(search(json!({"text": "a", "language": "de"})), 400, "bad_argument");
    expect_error(search(json!({"text": "a", "filters": {"kind": "robot"}})), 400, "bad_argument");
    expect_error(search(json!({"text": "a", "filters": {"min_trl": 10}})), 400, "bad_argument");

    let shortlist = |q: &str| app.get(&format!("/api/v1/demands/demo-d-10/shortlist{q}"), org);
    let (status, body) = status_and_body(shortlist(""));
    assert_eq!(status, 200);
    assert_eq!(body["demand_id"], "demo-d-10");
    let results = body["results"].as_array().unwrap();
    assert!(!results.is_empty() && results.len() <= 20);
    assert!(results[0]["explanation"]["reason"].as_str().is_some());
    let (status, body) =
        status_and_body(shortlist("?k=200&kind=company&size=sme&theme=green_mobility&min_trl=3&ranker=lexical"));
    assert_eq!(status, 200, "{body}");
    for r in body["results"].as_array().unwrap() {
        assert_eq!(r["kind"], "company");
        assert_eq!(r["size"], "sme");
        assert!(r["trl"].as_u64().unwrap() >= 3);
    }
    for q in [
        "?k=0",
        "?k=201",
        "?k=abc",
        "?k=-1",
        "?kind=robot",
        "?min_trl=10",
        "?min_trl=0",
        "?colour=red",
        "?ranker=magic",
    ] {
        let (status, body) = status_and_body(shortlist(q));
        assert_eq!(status, 400, "{q}: {body}");
        assert_error_shape(&body);
    }
}

#[test]
fn submissions_are_rate_limited_per_client() {
    let app = spawn_app_with(|c| c.submissions_per_minute = 3);
    assert_eq!(app.submit(&hydrogen_profile("it-r1")).0, 201);
    // A malformed submission is refused before it counts, as on the submission form.
    assert_eq!(app.submit(&json!({"id": "bad"})).0, 422);
    assert_eq!(app.submit(&hydrogen_profile("it-r2")).0, 201);
    assert_eq!(app.submit(&hydrogen_profile("it-r3")).0, 201);
    let res = app.send_json(Method::POST, "/api/v1/profiles", None, &hydrogen_profile("it-r4"));
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After seconds");
    assert!((1..=60).contains(&retry), "retry after {retry}");
    expect_error(res, 429, "rate_limited");
    assert!(app.engine.profile("it-r4").unwrap().is_none());
    // Other endpoints are not limited.
    assert_eq!(app.get("/api/v1/demands", Some(&app.organiser)).status().as_u16(), 200);
}

#[test]
fn health_and_metrics() {
    let app = spawn_app();
    let (status, body) = status_and_body(app.get("/healthz", None));
    assert_eq!(status, 200);
    assert_eq!(body["profiles"], 56);
    app.get("/api/v1/demands", None);
    app.get("/api/v1/demands", Some(&app.organiser));
    let text = app.get("/metrics", Some(&app.organiser)).text().unwrap();
    for line in [
        r#"pitchmatch_http_requests_total{method="GET",route="/healthz",status="200"} 1"#,
        r#"pitchmatch_http_requests_total{method="GET",route="/api/v1/demands",status="401"} 1"#,
        r#"pitchmatch_http_requests_total{method="GET",route="/api/v1/demands",status="200"} 1"#,
        r#"pitchmatch_http_request_duration_seconds_count{route="/api/v1/demands"} 2"#,
        r#"pitchmatch_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"} 1"#,
        "pitchmatch_profiles 56",
    ] {
        assert!(text.lines().any(|l| l == line), "metrics lack {line:?}:\n{text}");
    }
}

#[test]
fn selection_returns_one_event_line_up() {
    let app = spawn_app();
    let org = Some(app.organiser.as_str());
    let res = app.send_json(Method::POST, "/api/v1/events/psa-2027/selection", org, &json!({"reserves": 2}));
    let (status, body) = status_and_body(res);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["event_id"], "psa-2027");
    let selected = body["selected"].as_array().unwrap();
    assert!(!selected.is_empty() && selected.len() <= 8);
    assert!(body["reserves"].as_array().unwrap().len() <= 2);
}

#[test]
fn token_cli_create_list_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pitchmatch"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["token", "create", "--role", "organiser", "--name", "ops"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("pmo_") && token.len() == 68, "{token}");
    let list = String::from_utf8(run(&["token", "list"]).stdout).unwrap();
    assert!(list.contains("ops\torganiser") && list.contains("active") && !list.contains(&token), "{list}");
    // When, as a date a person reads, not Unix seconds.
    let created = list.split('\t').find_map(|f| f.strip_prefix("created ")).expect("created column");
    assert!(created.len() == 23 && created.starts_with("20") && created.ends_with(" UTC"), "{list}");
    assert_eq!(run(&["token", "create", "--role", "organiser", "--name", "ops"]).status.code(), Some(2));
    assert!(run(&["token", "revoke", "ops"]).status.success());
    assert_eq!(run(&["token", "revoke", "ops"]).status.code(), Some(2));
    assert!(String::from_utf8(run(&["token", "list"]).stdout).unwrap().contains("revoked"));
    let engine = pitchmatch::Engine::open(dir.path()).unwrap();
    assert!(engine.principal(token.trim()).unwrap().is_none());
}

/// Found by the bad-input drill: without a deadline, a body trickled in a byte at a time would hold
/// its connection open for as long as the client liked. It gets a 408 once the body deadline has
/// passed, the connection is closed, and other clients are served meanwhile.
#[test]
fn slow_request_bodies_time_out_with_408() {
    use std::io::{Read, Write};
    let app = spawn_app_with(|c| c.body_timeout = Duration::from_secs(1));
    let mut conn = std::net::TcpStream::connect(app.addr).unwrap();
    conn.write_all(
        b"POST /api/v1/profiles HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    )
    .unwrap();
    let started = Instant::now();
    conn.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut response = Vec::new();
    while started.elapsed() < Duration::from_secs(10) {
        let _ = conn.write_all(b" ");
        // Others are not held up by the trickling client.
        assert_eq!(app.get("/healthz", None).status().as_u16(), 200);
        let mut buf = [0u8; 1024];
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "no 408 for a slow body: {text:?}");
    assert!(text.contains("\"request_timeout\""), "not in the error shape: {text:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "408 only after {:?}", started.elapsed());
}
