//! The OEM's side over real HTTP: reviewer tokens scoped to one organisation, the whole access
//! matrix (reviewer of the organisation, reviewer of another, organiser, supplier, anonymous),
//! decisions recorded, replaced, shown on shortlists, logged and erased with their profile, and
//! the command line's import and export of decisions.

use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error_shape, spawn_app};

#[test]
fn reviewers_see_and_decide_only_for_their_own_organisation() {
    let app = spawn_app();
    let psa = app.engine.create_reviewer_token("psa-innovation", " psa group ").unwrap();
    let renault = app.engine.create_reviewer_token("renault-innovation", "Renault").unwrap();
    let (supplier_id, supplier) = app.submit_approved(&json!({
        "name": "Accuzicht Twee B.V.", "kind": "company", "language": "en", "contact_email": "a@b.example",
        "summary": "Battery diagnostics and second-life grading of traction battery packs for recyclers."
    }));
    let organiser = app.organiser.clone();
    let who: [(&str, Option<&str>); 5] = [
        ("psa reviewer", Some(psa.as_str())),
        ("renault reviewer", Some(renault.as_str())),
        ("organiser", Some(organiser.as_str())),
        ("supplier", Some(supplier.as_str())),
        ("anonymous", None),
    ];
    let decide = json!({"decision": "interested", "note": "Meet them"});
    // Expected status per caller, in the order of `who`.
    let matrix: Vec<(Method, String, Option<Value>, [u16; 5])> = vec![
        (Method::GET, "/api/v1/demands/demo-d-01".into(), None, [200, 403, 200, 403, 401]),
        (Method::GET, "/api/v1/demands/no-such-area".into(), None, [403, 403, 404, 403, 401]),
        (Method::GET, "/api/v1/demands/demo-d-01/shortlist?k=5".into(), None, [200, 403, 200, 403, 401]),
        (Method::GET, "/api/v1/events/psa-2027".into(), None, [200, 403, 200, 403, 401]),
        (Method::GET, "/api/v1/demands/demo-d-01/decisions".into(), None, [200, 403, 200, 403, 401]),
        (
            Method::PUT,
            format!("/api/v1/demands/demo-d-01/decisions/{supplier_id}"),
            Some(decide.clone()),
            [200, 403, 200, 403, 401],
        ),
        (Method::GET, "/api/v1/profiles".into(), None, [403, 403, 200, 403, 401]),
        (Method::GET, "/api/v1/audit".into(), None, [403, 403, 200, 403, 401]),
        (Method::POST, "/api/v1/events/psa-2027/selection".into(), None, [403, 403, 200, 403, 401]),
        (Method::DELETE, "/api/v1/demands/demo-d-02".into(), None, [403, 403, 204, 403, 401]),
    ];
    for (method, path, body, expected) in &matrix {
        for ((name, token), want) in who.iter().zip(expected) {
            let res = match body {
                Some(b) => app.send_json(method.clone(), path, *token, b),
                None => app.request(method.clone(), path, *token).send().unwrap(),
            };
            let status = res.status().as_u16();
            let text = res.text().unwrap();
            assert_eq!(status, *want, "{name}: {method} {path}: {text}");
            assert!(!(name.contains("reviewer") && text.contains("@")), "{name} saw an e-mail: {text}");
        }
    }
    // Lists are cut to the reviewer's own organisation.
    let demands: Value = app.get("/api/v1/demands", Some(&psa)).json().unwrap();
    let orgs: Vec<&str> = demands.as_array().unwrap().iter().map(|d| d["organisation"].as_str().unwrap()).collect();
    assert_eq!(orgs, ["PSA Group"], "{demands}");
    let events: Value = app.get("/api/v1/events", Some(&renault)).json().unwrap();
    assert!(events.as_array().unwrap().iter().all(|e| e["organisation"] == "Renault") && events[0].is_object());
    // An event with several hosts is each host's: Renault's reviewers see a cluster's day it co-hosts.
    let cluster = json!({"id": "cluster-2027", "organisation": "Automotive cluster", "co_hosts": ["Renault"],
                         "slots": 4, "demand_ids": ["demo-d-03"]});
    let created = app.send_json(Method::POST, "/api/v1/events", Some(&organiser), &cluster);
    assert_eq!(created.status().as_u16(), 201, "{}", created.text().unwrap());
    assert_eq!(app.get("/api/v1/events/cluster-2027", Some(&renault)).status().as_u16(), 200);
    assert_eq!(app.get("/api/v1/events/cluster-2027", Some(&psa)).status().as_u16(), 403);
    let events: Value = app.get("/api/v1/events", Some(&renault)).json().unwrap();
    assert!(events.as_array().unwrap().iter().any(|e| e["id"] == "cluster-2027"), "{events}");

    // One current decision per pair: the reviewer's replaces the organiser's; it is on the shortlist.
    let path = format!("/api/v1/demands/demo-d-01/decisions/{supplier_id}");
    let stored: Value =
        app.send_json(Method::PUT, &path, Some(&psa), &json!({"decision": "not_relevant"})).json().unwrap();
    assert_eq!((stored["decision"].as_str(), stored["by"].as_str()), (Some("not_relevant"), Some("psa-innovation")));
    assert!(stored["at"].as_str().unwrap().ends_with('Z'));
    let all: Value = app.get("/api/v1/demands/demo-d-01/decisions", Some(&psa)).json().unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    let shortlist: Value = app.get("/api/v1/demands/demo-d-01/shortlist?k=100", Some(&psa)).json().unwrap();
    let decided: Vec<(&str, &Value)> = shortlist["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["profile_id"].as_str().unwrap(), &r["decision"]))
        .collect();
    assert!(decided.contains(&(supplier_id.as_str(), &json!("not_relevant"))), "{shortlist}");
    assert!(decided.iter().filter(|(id, _)| *id != supplier_id).all(|(_, d)| d.is_null()));

    // Bad input is named; an unknown profile is a 404.
    let bad = app.send_json(Method::PUT, &path, Some(&psa), &json!({"decision": "yes", "note": "x".repeat(1001)}));
    assert_eq!(bad.status().as_u16(), 422);
    let body: Value = bad.json().unwrap();
    let fields: Vec<&str> =
        assert_error_shape(&body)["details"].as_array().unwrap().iter().map(|v| v["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["decision", "note"], "{body}");
    let missing = app.send_json(Method::PUT, "/api/v1/demands/demo-d-01/decisions/nobody", Some(&psa), &decide);
    assert_eq!(missing.status().as_u16(), 404);

    // The audit log has every change, by name.
    let entries = app.engine.audit_log(None, Some(&format!("demo-d-01/{supplier_id}")), 10).unwrap();
    let actors: Vec<&str> = entries.iter().map(|e| e.actor.as_str()).collect();
    assert_eq!(actors, ["psa-innovation", "test-organiser", "psa-innovation"], "{entries:?}");

    // Withdrawn, then the profile's erasure takes its decisions along.
    let res = app.request(Method::DELETE, &path, Some(&psa)).send().unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert!(app.engine.decisions("demo-d-01").unwrap().is_empty());
    app.send_json(Method::PUT, &path, Some(&psa), &decide);
    assert_eq!(app.engine.decisions("demo-d-01").unwrap().len(), 1);
    let res = app.request(Method::DELETE, &format!("/api/v1/profiles/{supplier_id}"), Some(&supplier)).send().unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert!(app.engine.decisions("demo-d-01").unwrap().is_empty(), "a deleted profile's decision stayed");
    let after = app.engine.audit_log(None, None, 200).unwrap();
    assert!(after.iter().all(|e| !e.record_id.contains(&supplier_id)), "the erased id stays in the log");
}

#[test]
fn decisions_are_imported_all_or_nothing_and_exported_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_pitchmatch")).arg("--data-dir").arg(&data).args(args).output().unwrap()
    };
    let out = run(&[
        "import",
        "--profiles",
        demo.join("profiles.jsonl").to_str().unwrap(),
        "--demands",
        demo.join("demands.jsonl").to_str().unwrap(),
        "--defer-embedding",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let file = dir.path().join("decisions.jsonl");
    std::fs::write(
        &file,
        "{\"demand_id\": \"demo-d-01\", \"profile_id\": \"demo-p-017\", \"decision\": \"interested\"}\n\
         {\"demand_id\": \"demo-d-01\", \"profile_id\": \"demo-p-999\", \"decision\": \"maybe\"}\n\
         {\"demand_id\": \"demo-d-02\", \"profile_id\": \"demo-p-001\", \"decision\": \"great\"}\n",
    )
    .unwrap();
    let out = run(&["decisions", "import", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("decisions.jsonl:3: field decision: must be one of interested, maybe, not_relevant"),
        "{stderr}"
    );
    let out = run(&["decisions", "export"]);
    assert!(out.stdout.is_empty(), "nothing stored from a bad file");

    std::fs::write(
        &file,
        "{\"demand_id\": \"demo-d-01\", \"profile_id\": \"demo-p-017\", \"decision\": \"interested\", \"note\": \"yes\"}\n\
         {\"demand_id\": \"demo-d-01\", \"profile_id\": \"demo-p-999\", \"decision\": \"maybe\"}\n",
    )
    .unwrap();
    let out = run(&["decisions", "import", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("decisions.jsonl:2:") && stderr.contains("field profile_id: unknown profile \"demo-p-999\""),
        "{stderr}"
    );

    std::fs::write(
        &file,
        "{\"demand_id\": \"demo-d-01\", \"profile_id\": \"demo-p-017\", \"decision\": \"interested\", \"note\": \"yes\", \"by\": \"Renée\"}\n\
         {\"demand_id\": \"demo-d-03\", \"profile_id\": \"demo-p-001\", \"decision\": \"not_relevant\"}\n",
    )
    .unwrap();
    let out = run(&["decisions", "import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["decisions", "export", "--demand", "demo-d-01"]);
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["profile_id"], "demo-p-017");
    assert_eq!((lines[0]["note"].as_str(), lines[0]["by"].as_str()), (Some("yes"), Some("Renée")));
    let all = String::from_utf8(run(&["decisions", "export"]).stdout).unwrap();
    assert_eq!(all.lines().count(), 2);

    let out = run(&["token", "create", "--role", "reviewer", "--name", "r"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("organisation"));
    let out = run(&["token", "create", "--role", "reviewer", "--name", "r", "--organisation", "Renault"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list = String::from_utf8(run(&["token", "list"]).stdout).unwrap();
    assert!(list.contains("r\treviewer\tRenault\t"), "{list}");
}

/// The OEM's "not relevant" takes a profile out of that demand area's candidates: the next line-up
/// does not propose it there again.
#[test]
fn a_profile_marked_not_relevant_leaves_the_line_up_of_that_demand_area() {
    let app = spawn_app();
    let line_up = |app: &crate::helpers::TestApp| {
        let sel = app
            .engine
            .select_event(
                "psa-2027",
                &pitchmatch::select::SeasonRules::default(),
                pitchmatch::domain::Ranker::default(),
            )
            .unwrap();
        sel.events[0].selected.iter().map(|p| (p.profile_id.clone(), p.demand_id.clone())).collect::<Vec<_>>()
    };
    let before = line_up(&app);
    let (profile, demand) = before[0].clone();
    let path = format!("/api/v1/demands/{demand}/decisions/{profile}");
    let res = app.send_json(Method::PUT, &path, Some(&app.organiser), &json!({"decision": "not_relevant"}));
    assert_eq!(res.status().as_u16(), 200);
    let after = line_up(&app);
    assert!(!after.contains(&(profile.clone(), demand.clone())), "{profile} still pitches to {demand}: {after:?}");
    assert_eq!(after.len(), before.len(), "the slot went to someone else");
}

/// Relevance feedback: once the OEM marked a profile interested, the undecided profiles that
/// resemble it move up by exactly the feedback their explanation reports, its closest sibling
/// says why, the decided profile keeps its own score, and taking the decision back restores the
/// ranking.
#[test]
fn a_decision_moves_the_undecided_profiles_that_resemble_it_and_says_why() {
    let app = spawn_app();
    let shortlist = |app: &crate::helpers::TestApp| -> Vec<Value> {
        let res = app.request(Method::GET, "/api/v1/demands/demo-d-01/shortlist?k=100", Some(&app.organiser)).send();
        let body: Value = res.unwrap().json().unwrap();
        body["results"].as_array().unwrap().clone()
    };
    let by_id = |list: &[Value]| -> std::collections::HashMap<String, Value> {
        list.iter().map(|r| (r["profile_id"].as_str().unwrap().to_string(), r.clone())).collect()
    };
    let before = shortlist(&app);
    assert!(before.iter().all(|r| r["explanation"]["scores"]["feedback"].is_null()));
    // The OEM likes the sixth proposal.
    let liked = before[5]["profile_id"].as_str().unwrap().to_string();
    let liked_name = before[5]["name"].as_str().unwrap().to_string();
    let path = format!("/api/v1/demands/demo-d-01/decisions/{liked}");
    let res = app.send_json(Method::PUT, &path, Some(&app.organiser), &json!({"decision": "interested"}));
    assert_eq!(res.status().as_u16(), 200);

    let after = shortlist(&app);
    assert_eq!(after.len(), before.len(), "every profile is still ranked");
    let old = by_id(&before);
    let mut moved_up = 0;
    for r in &after {
        let id = r["profile_id"].as_str().unwrap();
        let was = old[id]["score"].as_f64().unwrap();
        let now = r["score"].as_f64().unwrap();
        if id == liked {
            assert_eq!(r["decision"], "interested");
            assert!((now - was).abs() < 1e-5, "the decided profile keeps its score: {was} -> {now}");
            continue;
        }
        let feedback = r["explanation"]["scores"]["feedback"].as_f64().unwrap_or(0.0);
        assert!((now - (was + feedback)).abs() < 1e-4, "{id}: {was} + {feedback} != {now}");
        assert!(feedback >= 0.0, "an interested decision only pulls: {r}");
        if r["explanation"]["reason"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Moved up: close to {liked_name}, which the OEM marked interested."))
        {
            moved_up += 1;
        }
    }
    assert!(moved_up >= 1, "its closest sibling says why it moved: {after:#?}");
    let order = |l: &[Value]| l.iter().map(|r| r["profile_id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_ne!(order(&before), order(&after), "feedback changed the order");

    let res = app.request(Method::DELETE, &path, Some(&app.organiser)).send().unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(order(&shortlist(&app)), order(&before), "taking the decision back restores the ranking");
}
