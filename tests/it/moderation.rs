//! Public submissions against the organisers' data: server-made ids (a stranger cannot claim an id
//! an organiser is about to import), moderation (pending submissions are in no shortlist, search
//! or profile list until approved, and are bounded per client and in total), imports that refuse
//! to take over a supplier's profile silently, and the audit log. Real server, real binary.

use std::process::Command;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error_shape, spawn_app, spawn_app_with, TestApp};

fn hydrogen(id: Option<&str>) -> Value {
    let mut p = json!({
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
    });
    if let Some(id) = id {
        p["id"] = json!(id);
    }
    p
}

/// Submits and returns (id, edit token, status) from the 201 response.
fn submit(app: &TestApp, profile: &Value) -> (String, String, String) {
    let (status, body) = app.submit(profile);
    assert_eq!(status, 201, "{body}");
    let field = |f: &str| body[f].as_str().unwrap_or_else(|| panic!("no {f} in {body}")).to_string();
    (field("id"), field("edit_token"), field("status"))
}

fn search_ids(app: &TestApp, text: &str) -> Vec<String> {
    let res = app.send_json(Method::POST, "/api/v1/search", Some(&app.organiser), &json!({"text": text, "k": 200}));
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().unwrap();
    body["results"].as_array().unwrap().iter().map(|r| r["profile_id"].as_str().unwrap().to_string()).collect()
}

fn listed_ids(app: &TestApp, path: &str, key: &str) -> Vec<String> {
    let res = app.get(path, Some(&app.organiser));
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().unwrap();
    body[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.get("profile").unwrap_or(p)["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_submitted_id_is_ignored_so_nobody_can_claim_an_organisers_id() {
    let app = spawn_app();
    let (id, token, _) = submit(&app, &hydrogen(Some("nl-0043")));
    assert_ne!(id, "nl-0043");
    assert!(id.starts_with("waterstofvat-composites-b-v-") && id.len() == "waterstofvat-composites-b-v-".len() + 8);
    assert_eq!(app.get(&format!("/api/v1/profiles/{id}"), Some(&token)).status().as_u16(), 200);
    // The organisers' own nl-0043 is theirs: the stranger's token cannot touch it.
    let mut organisers = hydrogen(Some("nl-0043"));
    organisers["name"] = json!("Echte Organisatie B.V.");
    let res = app.send_json(Method::PUT, "/api/v1/profiles/nl-0043", Some(&token), &organisers);
    assert_eq!(res.status().as_u16(), 403);
    assert_eq!(app.get("/api/v1/profiles/nl-0043", Some(&token)).status().as_u16(), 403);
    // The same name twice gives two profiles, not a conflict.
    let (second, _, _) = submit(&app, &hydrogen(None));
    assert_ne!(second, id);
}

#[test]
fn pending_submissions_are_invisible_until_approved_and_their_supplier_keeps_control() {
    let app = spawn_app();
    let (id, token, status) = submit(&app, &hydrogen(None));
    assert_eq!(status, "pending");
    std::thread::sleep(Duration::from_millis(300));
    assert!(!app.shortlist_ids("demo-d-10", 200).contains(&id), "a pending profile is shortlisted");
    assert!(!search_ids(&app, "type IV hydrogen storage vessels carbon fibre").contains(&id));
    assert!(!listed_ids(&app, "/api/v1/profiles?limit=500", "profiles").contains(&id));
    assert!(app.engine.profile(&id).unwrap().is_none());
    assert_eq!(listed_ids(&app, "/api/v1/pending", "pending"), vec![id.clone()]);

    // The supplier reads and edits the pending profile with its token; it stays pending.
    let res = app.get(&format!("/api/v1/profiles/{id}"), Some(&token));
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["profile-status"], "pending");
    let mut changed = hydrogen(Some(&id));
    changed["city"] = json!("Helmond");
    let res = app.send_json(Method::PUT, &format!("/api/v1/profiles/{id}"), Some(&token), &changed);
    assert_eq!(res.status().as_u16(), 200);
    assert!(!app.shortlist_ids("demo-d-10", 200).contains(&id));

    // Only organisers approve.
    let approve = format!("/api/v1/pending/{id}/approve");
    assert_eq!(app.request(Method::POST, &approve, Some(&token)).send().unwrap().status().as_u16(), 403);
    assert_eq!(app.request(Method::POST, &approve, None).send().unwrap().status().as_u16(), 401);
    assert_eq!(app.request(Method::POST, &approve, Some(&app.organiser)).send().unwrap().status().as_u16(), 204);
    assert_eq!(app.request(Method::POST, &approve, Some(&app.organiser)).send().unwrap().status().as_u16(), 404);
    assert!(app.shortlist_ids("demo-d-10", 20).contains(&id), "an approved profile is not shortlisted");
    assert!(search_ids(&app, "type IV hydrogen storage vessels carbon fibre").contains(&id));
    assert_eq!(app.engine.profile(&id).unwrap().unwrap().city.as_deref(), Some("Helmond"));
    let res = app.get(&format!("/api/v1/profiles/{id}"), Some(&token));
    assert_eq!(res.headers()["profile-status"], "approved");
    assert!(listed_ids(&app, "/api/v1/pending", "pending").is_empty());
}

#[test]
fn rejecting_deletes_a_pending_submission_and_its_token_and_its_supplier_may_delete_it() {
    let app = spawn_app();
    let (id, token, _) = submit(&app, &hydrogen(None));
    let res = app.request(Method::POST, &format!("/api/v1/pending/{id}/reject"), Some(&app.organiser)).send().unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(app.get(&format!("/api/v1/profiles/{id}"), Some(&token)).status().as_u16(), 401);
    assert_eq!(app.get(&format!("/api/v1/profiles/{id}"), Some(&app.organiser)).status().as_u16(), 404);

    let (id, token, _) = submit(&app, &hydrogen(None));
    let res = app.request(Method::DELETE, &format!("/api/v1/profiles/{id}"), Some(&token)).send().unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert!(listed_ids(&app, "/api/v1/pending", "pending").is_empty());
}

#[test]
fn pending_submissions_are_bounded_per_client_and_in_total() {
    let app = spawn_app_with(|c| {
        c.max_pending_per_client = 2;
        c.max_pending = 100;
    });
    submit(&app, &hydrogen(None));
    let (id, token, _) = submit(&app, &hydrogen(None));
    let (status, body) = app.submit(&hydrogen(None));
    assert_eq!(status, 429, "{body}");
    let error = assert_error_shape(&body);
    assert_eq!(error["code"], "too_many_pending");
    assert!(error["message"].as_str().unwrap().contains("waiting for an organiser's approval"), "{body}");
    // Once one is reviewed (or withdrawn), the client may submit again.
    app.request(Method::DELETE, &format!("/api/v1/profiles/{id}"), Some(&token)).send().unwrap();
    submit(&app, &hydrogen(None));

    let app = spawn_app_with(|c| {
        c.max_pending_per_client = 0;
        c.max_pending = 1;
    });
    submit(&app, &hydrogen(None));
    let (status, body) = app.submit(&hydrogen(None));
    assert_eq!(status, 503, "{body}");
    assert_eq!(assert_error_shape(&body)["code"], "moderation_queue_full");
}

#[test]
fn without_moderation_a_submission_is_shortlisted_at_once() {
    let app = spawn_app_with(|c| c.moderation = false);
    let (id, _, status) = submit(&app, &hydrogen(None));
    assert_eq!(status, "approved");
    assert!(app.shortlist_ids("demo-d-10", 20).contains(&id));
}

#[test]
fn the_audit_log_names_who_did_what_and_keeps_no_token_or_personal_data() {
    let app = spawn_app();
    let (id, token, _) = submit(&app, &hydrogen(None));
    let mut changed = hydrogen(Some(&id));
    changed["city"] = json!("Helmond");
    assert_eq!(
        app.send_json(Method::PUT, &format!("/api/v1/profiles/{id}"), Some(&token), &changed).status().as_u16(),
        200
    );
    app.request(Method::POST, &format!("/api/v1/pending/{id}/approve"), Some(&app.organiser)).send().unwrap();
    let res = app.request(Method::DELETE, &format!("/api/v1/profiles/{id}"), Some(&app.organiser)).send().unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let demand = json!({"id": "audit-d", "organisation": "Valeo", "title": "Brake sensors",
        "description": "We look for brake sensors for electric vans and trucks."});
    assert_eq!(app.send_json(Method::POST, "/api/v1/demands", Some(&app.organiser), &demand).status().as_u16(), 201);

    let res = app.get("/api/v1/audit?limit=5", Some(&app.organiser));
    assert_eq!(res.status().as_u16(), 200);
    let text = res.text().unwrap();
    for secret in
        [token.as_str(), app.organiser.as_str(), "info@waterstofvat.example", "Waterstofvat Composites", "Helmond", &id]
    {
        assert!(!text.contains(secret), "the audit log holds {secret:?}: {text}");
    }
    let body: Value = serde_json::from_str(&text).unwrap();
    let rows: Vec<(String, String, String, String)> = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |f: &str| e[f].as_str().unwrap().to_string();
            (s("actor"), s("action"), s("kind"), s("record_id"))
        })
        .collect();
    // The id carries a slug of the name: once the profile is erased its entries name it by an alias.
    assert!(!text.contains("waterstofvat"), "the erased profile's id is still in the log: {text}");
    let alias = rows[1].3.clone();
    assert!(alias.starts_with("erased-"), "{alias}");
    let supplier = format!("supplier {alias}");
    let org = "test-organiser".to_string();
    let expected = vec![
        (org.clone(), "create".into(), "demand".into(), "audit-d".into()),
        (org.clone(), "delete".into(), "profile".into(), alias.clone()),
        (org.clone(), "approve".into(), "profile".into(), alias.clone()),
        (supplier.clone(), "replace".into(), "profile".into(), alias.clone()),
        (supplier.clone(), "submit".into(), "profile".into(), alias.clone()),
    ];
    assert_eq!(rows, expected);
    // Paging goes on to older entries; a filter by record keeps only that record's.
    let next = body["next_before"].as_u64().expect("next_before on a full page");
    let older: Value = app.get(&format!("/api/v1/audit?before={next}"), Some(&app.organiser)).json().unwrap();
    assert!(older["entries"].as_array().unwrap().iter().all(|e| e["seq"].as_u64().unwrap() < next));
    let about: Value = app.get(&format!("/api/v1/audit?record_id={alias}"), Some(&app.organiser)).json().unwrap();
    assert_eq!(about["entries"].as_array().unwrap().len(), 4);
    // Organisers only.
    assert_eq!(app.get("/api/v1/audit", None).status().as_u16(), 401);
    let (_, other, _) = submit(&app, &hydrogen(None));
    assert_eq!(app.get("/api/v1/audit", Some(&other)).status().as_u16(), 403);
}

/// An import that would replace a profile a supplier holds an edit token for is refused (exit 2,
/// naming the id); with `--revoke-supplier-tokens` it goes through and the token stops working.
#[test]
fn import_refuses_to_take_over_a_suppliers_profile_unless_told_to_revoke_its_token() {
    use pitchmatch::engine::{EngineConfig, PendingSubmission};
    use pitchmatch::store::PendingLimits;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let profile = |id: &str| {
        pitchmatch::domain::Profile::minimal(
            id,
            "Supplier B.V.",
            "We build lightweight composite battery housings for vans.",
        )
    };
    let (approved, pending) = {
        let engine =
            pitchmatch::Engine::open_with(&EngineConfig { defer_embedding: true, ..EngineConfig::new(&data) }).unwrap();
        let approved = engine.submit_profile(&profile("nl-0042")).unwrap();
        let limits = PendingLimits { per_client: 0, total: 0 };
        let PendingSubmission::Stored(pending) =
            engine.submit_pending_profile(&profile("nl-0043"), "client", limits).unwrap()
        else {
            panic!("not stored")
        };
        (approved, pending)
    };
    let file = dir.path().join("organisers.jsonl");
    let line = |id: &str| {
        json!({"id": id, "name": "Echte Organisatie B.V.", "kind": "company", "language": "en",
            "summary": "The organisers' own record of this supplier, with the real contact."})
        .to_string()
    };
    std::fs::write(&file, format!("{}\n{}\n{}\n", line("nl-0041"), line("nl-0042"), line("nl-0043"))).unwrap();
    let run = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pitchmatch"));
        cmd.arg("--data-dir").arg(&data).args(["import", "--defer-embedding", "--profiles"]).arg(&file);
        cmd.args(extra).output().unwrap()
    };
    let out = run(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("\"nl-0042\"") && stderr.contains("\"nl-0043\"") && !stderr.contains("\"nl-0041\""),
        "{stderr}"
    );
    assert!(stderr.contains("--revoke-supplier-tokens"), "{stderr}");

    let engine =
        pitchmatch::Engine::open_with(&EngineConfig { defer_embedding: true, ..EngineConfig::new(&data) }).unwrap();
    assert!(engine.profile("nl-0041").unwrap().is_none(), "a refused import wrote something");
    drop(engine);

    let out = run(&["--revoke-supplier-tokens"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let engine =
        pitchmatch::Engine::open_with(&EngineConfig { defer_embedding: true, ..EngineConfig::new(&data) }).unwrap();
    assert!(engine.principal(&approved).unwrap().is_none(), "the supplier's token still works");
    assert!(engine.principal(&pending).unwrap().is_none(), "the pending supplier's token still works");
    for id in ["nl-0042", "nl-0043"] {
        assert_eq!(engine.profile(id).unwrap().unwrap().name, "Echte Organisatie B.V.");
    }
    assert_eq!(engine.pending_count().unwrap(), 0);
    let log = engine.audit_log(None, Some("nl-0042"), 10).unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["import", "revoke-edit-token", "submit"]);
    assert!(log.iter().take(2).all(|e| e.actor == "command line"));
}
