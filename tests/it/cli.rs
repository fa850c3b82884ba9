//! The `pitchmatch` binary as outside scripts use it: real process, real SQLite, real tantivy, a
//! fresh temp data dir per test. Covers the import contract (all-or-nothing per file, exit code 2,
//! one line per problem naming file, line and field), upserts, ranking output shapes, reindex
//! stability, hostile search text, and the command line beside a running server.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_pitchmatch")
}

fn demo(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo").join(file)
}

struct DataDir {
    dir: tempfile::TempDir,
}

impl DataDir {
    fn new() -> DataDir {
        DataDir { dir: tempfile::tempdir().expect("temp dir") }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(bin())
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(args)
            .output()
            .expect("run pitchmatch")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    fn file(&self, name: &str, content: &[u8]) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).expect("write fixture");
        path.display().to_string()
    }

    fn import_demo(&self) {
        let out = self.ok(&[
            "import",
            "--profiles",
            demo("profiles.jsonl").to_str().unwrap(),
            "--demands",
            demo("demands.jsonl").to_str().unwrap(),
            "--events",
            demo("events.jsonl").to_str().unwrap(),
        ]);
        assert!(out.contains("imported 56 profiles, 12 demand areas, 2 events"), "{out}");
    }

    fn rank_jsonl(&self, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["rank", "--format", "jsonl"];
        args.extend_from_slice(extra);
        self.ok(&args).lines().map(|l| serde_json::from_str(l).expect("jsonl line")).collect()
    }
}

fn profile(id: &str, summary: &str) -> Value {
    json!({"id": id, "name": format!("{id} B.V."), "kind": "company", "language": "en", "summary": summary})
}

fn jsonl(records: &[Value]) -> Vec<u8> {
    records.iter().map(|r| r.to_string() + "\n").collect::<String>().into_bytes()
}

fn ids(list: &Value) -> Vec<String> {
    list["results"].as_array().unwrap().iter().map(|r| r["profile_id"].as_str().unwrap().to_string()).collect()
}

/// `import --defer-embedding` stores and indexes only; lexical ranking works at once without the
/// model, and the next hybrid or dense command embeds what lacks vectors.
#[test]
fn deferred_embedding_ranks_lexically_then_catches_up() {
    let d = DataDir::new();
    let profiles = [
        profile("p-h2", "Type IV hydrogen pressure vessels wound from carbon fibre for trucks."),
        profile("p-seat", "Recycled polyester seat covers and bio-based seat foams."),
    ];
    let f = d.file("p.jsonl", &jsonl(&profiles));
    let out = d.ok(&["import", "--profiles", &f, "--defer-embedding"]);
    assert!(out.contains("imported 2 profiles"), "{out}");
    let store = pitchmatch::store::Store::open(&d.dir.path().join("data/pitchmatch.sqlite")).unwrap();
    assert_eq!(store.profiles_needing_vectors(pitchmatch::embed::MODEL_ID, 384).unwrap().len(), 2);

    let lexical: Value = serde_json::from_str(
        d.ok(&["search", "--ranker", "lexical", "--format", "jsonl", "hydrogen", "pressure", "vessels"]).trim(),
    )
    .unwrap();
    assert_eq!(ids(&lexical), ["p-h2"]);
    assert_eq!(store.profiles_needing_vectors(pitchmatch::embed::MODEL_ID, 384).unwrap().len(), 2);

    let dense: Value = serde_json::from_str(
        d.ok(&["search", "--ranker", "dense", "--format", "jsonl", "hydrogen", "tanks", "for", "lorries"]).trim(),
    )
    .unwrap();
    assert_eq!(ids(&dense), ["p-h2", "p-seat"], "both embedded on opening, the hydrogen one closer");
    assert!(dense["results"][0]["explanation"]["scores"]["cosine"].as_f64().unwrap() > 0.5);
    assert!(store.profiles_needing_vectors(pitchmatch::embed::MODEL_ID, 384).unwrap().is_empty());
}

#[test]
fn import_rank_upsert_round_trip() {
    let d = DataDir::new();
    d.import_demo();
    let lists = d.rank_jsonl(&["--all", "-k", "5"]);
    assert_eq!(lists.len(), 12);
    let demand_ids: Vec<&str> = lists.iter().map(|l| l["demand_id"].as_str().unwrap()).collect();
    let mut sorted = demand_ids.clone();
    sorted.sort();
    assert_eq!(demand_ids, sorted, "--all is ordered by demand id");
    for l in &lists {
        let results = l["results"].as_array().unwrap();
        assert!(!results.is_empty() && results.len() <= 5);
        assert!(l["organisation"].is_string());
        let scores: Vec<f64> = results.iter().map(|r| r["score"].as_f64().unwrap()).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "sorted best first: {scores:?}");
        let mut seen = ids(l);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), results.len(), "no profile twice");
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r["rank"].as_u64().unwrap() as usize, i + 1);
            assert!(r["name"].is_string());
            assert!(r["explanation"]["reason"].is_string());
        }
    }

    // A new profile written exactly for one demand area rises to the top; re-importing its id
    // with unrelated text updates it in place.
    let target = "demo-d-01";
    let demand = std::fs::read_to_string(demo("demands.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|d| d["id"] == target)
        .unwrap();
    let text = format!("{} {}", demand["title"].as_str().unwrap(), demand["description"].as_str().unwrap());
    let mut twin = profile("zz-twin", &text);
    twin["language"] = demand["language"].clone();
    let f = d.file("twin.jsonl", &jsonl(&[twin]));
    d.ok(&["import", "--profiles", &f]);
    let top = d.rank_jsonl(&["--demand", target, "-k", "3"]);
    assert_eq!(ids(&top[0])[0], "zz-twin");
    let f =
        d.file("twin2.jsonl", &jsonl(&[profile("zz-twin", "We sell garden furniture and patio umbrellas online.")]));
    d.ok(&["import", "--profiles", &f]);
    let top = d.rank_jsonl(&["--demand", target, "-k", "10"]);
    assert!(!ids(&top[0]).contains(&"zz-twin".to_string()), "update replaced the old text");
}

fn assert_rejected(d: &DataDir, content: &[u8], expected: &[(&str, &str)]) {
    let before = d.rank_jsonl(&["--all", "-k", "50"]);
    let f = d.file("bad.jsonl", content);
    let out = d.run(&["import", "--profiles", &f]);
    assert_eq!(out.status.code(), Some(2), "invalid input exits 2");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for (line, needle) in expected {
        let wanted = format!("bad.jsonl:{line}:");
        assert!(
            stderr.lines().any(|l| l.contains(&wanted) && l.contains(needle)),
            "expected a line with {wanted:?} and {needle:?} in:\n{stderr}"
        );
    }
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert!(d.rank_jsonl(&["--all", "-k", "50"]) == before, "a rejected file changed the rankings");
}

#[test]
fn invalid_files_are_rejected_whole_with_file_line_field_and_rule() {
    let d = DataDir::new();
    d.import_demo();
    let good = profile("new-good", "A perfectly valid profile about hydrogen fuel cells for trucks.");

    // Bad JSON on line 2: the valid line 1 is not imported either.
    let mut content = jsonl(std::slice::from_ref(&good));
    content.extend_from_slice(b"{\"id\": \"x\", \"name\": \n");
    assert_rejected(&d, &content, &[("2", "is not valid JSON")]);

    // Bad UTF-8.
    let mut content = jsonl(std::slice::from_ref(&good));
    content.extend_from_slice(b"{\"id\": \"y\", \"name\": \"caf\xe9\"}\n");
    assert_rejected(&d, &content, &[("2", "UTF-8")]);

    // Missing field, wrong enum, id with spaces: all reported, each on its line and field.
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("summary");
    missing["id"] = json!("missing-summary");
    let mut wrong_enum = good.clone();
    wrong_enum["id"] = json!("wrong-kind");
    wrong_enum["kind"] = json!("government");
    let mut spaced = good.clone();
    spaced["id"] = json!("has spaces");
    assert_rejected(
        &d,
        &jsonl(&[good.clone(), missing, wrong_enum, spaced]),
        &[("2", "field summary: is required"), ("3", "field kind: must be one of"), ("4", "field id: must be")],
    );

    // A 10 MB summary.
    let huge = profile("huge", &"x".repeat(10 * 1024 * 1024));
    assert_rejected(&d, &jsonl(&[good.clone(), huge]), &[("2", "field summary: must be 20-5000 characters")]);

    // The same id twice in one file.
    assert_rejected(&d, &jsonl(&[good.clone(), good.clone()]), &[("2", "duplicates the profile id of line 1")]);

    // After all that, the good record alone imports fine.
    let f = d.file("good.jsonl", &jsonl(&[good]));
    assert!(d.ok(&["import", "--profiles", &f]).contains("imported 1 profiles"));
}

#[test]
fn missing_file_and_unknown_event_demand_are_user_errors() {
    let d = DataDir::new();
    let out = d.run(&["import", "--profiles", "/nonexistent/profiles.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/profiles.jsonl"));
    let f = d.file("events.jsonl", br#"{"id":"e1","organisation":"Renault","slots":3,"demand_ids":["nope"]}"#);
    let out = d.run(&["import", "--events", &f]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("events.jsonl:1: id \"e1\": field demand_ids: refers to unknown demand area \"nope\""));
    let out = d.run(&["rank", "--demand", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown demand area id \"nope\""));
}

#[test]
fn rankings_identical_after_reindex_even_after_updates() {
    let d = DataDir::new();
    d.import_demo();
    // Upserts leave replaced documents behind in the index; reindex must not change a single score.
    let f = d.file(
        "upd.jsonl",
        &jsonl(&[profile(
            "demo-p-001",
            "Batteries recycling of lithium-ion cells with hydrometallurgy for cathode materials.",
        )]),
    );
    d.ok(&["import", "--profiles", &f]);
    let before = d.rank_jsonl(&["--all", "-k", "30"]);
    assert!(d.ok(&["reindex"]).contains("reindexed 56 profiles"));
    let after = d.rank_jsonl(&["--all", "-k", "30"]);
    assert!(before == after, "rankings changed after reindex");
    // Deleting the index directory entirely is recovered on the next open, too.
    std::fs::remove_dir_all(d.dir.path().join("data").join("tantivy")).unwrap();
    assert!(d.rank_jsonl(&["--all", "-k", "30"]) == before, "rankings changed after rebuilding a deleted index");
}

#[test]
fn hostile_search_text_is_treated_as_text() {
    let d = DataDir::new();
    d.import_demo();
    for text in [
        "\"unbalanced quote",
        "title:hydrogen AND (",
        "-",
        "[brackets] {braces} ^boost~2 *wild?",
        "batterij OR NOT recycling --",
        "'; DROP TABLE profiles; --",
        "🚗⚡ véhicule électrique",
    ] {
        let out = d.run(&["search", "--format", "jsonl", text]);
        assert!(out.status.success(), "{text:?}: {}", String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).expect("one json line");
        assert!(v["results"].is_array(), "{text:?}");
    }
    // Options after the text are options (the contract's `search TEXT [-k N] [--format ...]`),
    // not more words; words that look like options need `--`.
    let out = d.ok(&["search", "hydrogen fuel cell trucks", "-k", "2", "--format", "jsonl"]);
    let v: Value = serde_json::from_str(out.trim()).expect("one json line");
    assert_eq!(v["results"].as_array().unwrap().len(), 2);
    assert_eq!(v["title"], "hydrogen fuel cell trucks");
    let out = d.ok(&["search", "--format", "jsonl", "--", "-k", "hydrogen"]);
    let v: Value = serde_json::from_str(out.trim()).expect("one json line");
    assert_eq!(v["title"], "-k hydrogen");
    // Text still finds what it means despite the syntax around it.
    let out = d.ok(&["search", "--format", "jsonl", "-k", "3", "hydrogen: \"fuel cell\" (trucks) -"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(!v["results"].as_array().unwrap().is_empty());
    assert!(d.ok(&["rank", "--all", "-k", "50"]).contains("demo-d-01"), "store intact after hostile text");
}

#[test]
fn csv_and_table_formats() {
    let d = DataDir::new();
    d.import_demo();
    let csv = d.ok(&["rank", "--demand", "demo-d-01", "-k", "4", "--format", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap().trim_start_matches('\u{feff}'),
        "demand_id,organisation,rank,profile_id,name,score,kind,size,language,trl,reason,snippet"
    );
    assert_eq!(lines.filter(|l| l.starts_with("demo-d-01,")).count(), 4);
    let table = d.ok(&["rank", "--demand", "demo-d-01", "-k", "2"]);
    assert!(table.starts_with("demo-d-01 · "), "{table}");
}

#[test]
fn select_event_respects_slots_and_is_reproducible() {
    let d = DataDir::new();
    d.import_demo();
    let first = d.ok(&["select", "--event", "psa-2027", "--format", "json"]);
    let v: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(v["event_id"], "psa-2027");
    assert_eq!(v["optimal"], true);
    let selected = v["selected"].as_array().unwrap();
    assert!(!selected.is_empty() && selected.len() <= 8);
    let mut pids: Vec<&str> = selected.iter().map(|s| s["profile_id"].as_str().unwrap()).collect();
    pids.sort();
    pids.dedup();
    assert_eq!(pids.len(), selected.len(), "no profile twice");
    assert!(v["unmet"].as_array().unwrap().is_empty(), "{}", v["unmet"]);
    let second: Value = serde_json::from_str(&d.ok(&["select", "--event", "psa-2027", "--format", "json"])).unwrap();
    assert_eq!(v["selected"], second["selected"]);
    assert_eq!(v["reserves"], second["reserves"]);

    // The same day with pitches in French only: a profile that states no pitch languages pitches in
    // the language it is written in, so only French-written profiles (or one that says it pitches in
    // French) may take a slot, and the others left out say why.
    let written_in: std::collections::HashMap<String, String> = std::fs::read_to_string(demo("profiles.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|p| (p["id"].as_str().unwrap().to_string(), p["language"].as_str().unwrap_or("?").to_string()))
        .collect();
    let outside_french = |sel: &Value| -> Vec<String> {
        sel["selected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["profile_id"].as_str().unwrap().to_string())
            .filter(|id| matches!(written_in[id].as_str(), "nl" | "en"))
            .collect()
    };
    assert!(!outside_french(&v).is_empty(), "without the rule Dutch and English profiles pitch: {v}");
    let mut french_day: Value =
        serde_json::from_str(std::fs::read_to_string(demo("events.jsonl")).unwrap().lines().next().unwrap()).unwrap();
    french_day["id"] = "psa-2027-fr".into();
    french_day["pitch_languages"] = json!(["fr"]);
    let f = d.file("fr-day.jsonl", &jsonl(&[french_day]));
    d.ok(&["import", "--events", &f]);
    let french: Value = serde_json::from_str(&d.ok(&["select", "--event", "psa-2027-fr", "--format", "json"])).unwrap();
    assert!(!french["selected"].as_array().unwrap().is_empty(), "{french}");
    assert_eq!(outside_french(&french), Vec::<String>::new(), "{french}");
    let by_language: Vec<&Value> =
        french["left_out"].as_array().unwrap().iter().filter(|l| l["reason"] == "pitch_language").collect();
    assert!(!by_language.is_empty(), "the strongest left out are explained: {}", french["left_out"]);
    for l in by_language {
        let detail = l["detail"].as_str().unwrap();
        assert!(detail.ends_with("; the event takes pitches in fr") && detail.contains("pitches in "), "{detail}");
    }
}

/// The tables read like the pages: column headers, organisation names and demand titles instead of
/// bare ids, long names cut with an ellipsis, what `value` and `objective` mean, and a reason per
/// left-out candidate in its own numbers rather than one sentence for all.
#[test]
fn tables_have_headers_names_and_reasons_that_differ() {
    let d = DataDir::new();
    d.import_demo();
    let shortlist = d.ok(&["rank", "--demand", "demo-d-01", "-k", "5"]);
    let header = shortlist.lines().nth(1).unwrap();
    for column in ["rank", "score", "profile", "name", "lang"] {
        assert!(header.contains(column), "no {column} header in {header:?}");
    }
    let json: Value = serde_json::from_str(&d.ok(&["select", "--event", "psa-2027", "--format", "json"])).unwrap();
    let table = d.ok(&["select", "--event", "psa-2027"]);
    let first = &json["selected"][0];
    let name = d.rank_jsonl(&["--demand", first["demand_id"].as_str().unwrap(), "-k", "100"])[0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["profile_id"] == first["profile_id"])
        .map(|r| r["name"].as_str().unwrap().to_string())
        .unwrap();
    let shown: String = name.chars().take(39).collect();
    assert!(table.contains(&shown), "line-up table lacks the name {name:?}:\n{table}");
    assert!(table.contains("objective is the sum") && table.contains("for demand area"), "{table}");
    let details: Vec<&str> =
        json["left_out"].as_array().unwrap().iter().map(|l| l["detail"].as_str().unwrap()).collect();
    let mut distinct = details.clone();
    distinct.sort();
    distinct.dedup();
    assert!(details.len() < 2 || distinct.len() > 1, "every left-out candidate got the same reason: {details:?}");
}

/// The day's agenda of an event: every pitch of the line-up once in the calendar file, which parses
/// as iCalendar, at the planned times (given in local time, written in UTC), rooms never holding
/// two pitches at once; a setting that cannot be used is named.
#[test]
fn an_event_agenda_is_a_calendar_with_one_entry_per_pitch() {
    use icalendar::Component;
    let d = DataDir::new();
    d.import_demo();
    let line_up: Value = serde_json::from_str(&d.ok(&["select", "--event", "psa-2027", "--format", "json"])).unwrap();
    let pitches = line_up["selected"].as_array().unwrap().len();
    let ics = d.ok(&["agenda", "--event", "psa-2027", "--format", "ics", "--start", "10:00", "--rooms", "2"]);
    let calendar: icalendar::Calendar = ics.parse().expect("the agenda parses as iCalendar");
    let events: Vec<&icalendar::Event> = calendar.components.iter().filter_map(|c| c.as_event()).collect();
    assert_eq!(events.len(), pitches, "{ics}");
    let mut uids: Vec<&str> = events.iter().filter_map(|e| e.get_uid()).collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), pitches, "one entry per pitch");
    let starts: Vec<String> = events.iter().filter_map(|e| e.property_value("DTSTART").map(str::to_string)).collect();
    assert!(starts.contains(&"20270316T090000Z".to_string()), "10:00 at +01:00 on the event's date: {starts:?}");

    let json: Value =
        serde_json::from_str(&d.ok(&["agenda", "--event", "psa-2027", "--format", "json", "--rooms", "2"])).unwrap();
    let items = json["items"].as_array().unwrap();
    for room in [1, 2] {
        let mut slots: Vec<(&str, &str)> = items
            .iter()
            .filter(|i| i["room"] == room)
            .map(|i| (i["start"].as_str().unwrap(), i["end"].as_str().unwrap()))
            .collect();
        slots.sort();
        assert!(!slots.is_empty(), "room {room} unused: {json}");
        assert!(slots.windows(2).all(|w| w[0].1 <= w[1].0), "room {room} overlaps: {slots:?}");
    }
    let table = d.ok(&["agenda", "--event", "psa-2027"]);
    assert!(table.contains("2027-03-16 09:00") && table.contains("demand area"), "{table}");

    let out = d.run(&["agenda", "--event", "psa-2027", "--start", "25:00"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("start: must be a time like 09:00"), "{stderr}");
}

/// `evaluate` gives the evaluation kit's figures: on the dev set (when the kit is beside the
/// repository, as in CI) every line of `score.py --by-language` over `rank --all` output agrees to
/// its printed precision; on the bundled demo judgments it runs without the kit; a bad judgment
/// line is named by file and line.
#[test]
fn evaluate_agrees_with_the_evaluation_kit() {
    let d = DataDir::new();
    d.import_demo();
    let demo_figures: Value = serde_json::from_str(&d.ok(&[
        "evaluate",
        "--judgments",
        demo("qrels.tsv").to_str().unwrap(),
        "--format",
        "json",
    ]))
    .unwrap();
    let ndcg = demo_figures["all"]["nDCG@10"].as_f64().unwrap();
    assert!(ndcg > 0.5 && ndcg <= 1.0, "{demo_figures}");
    let bad = d.file("bad.tsv", b"demo-d-01\tdemo-p-001\t2\ndemo-d-01\tdemo-p-002\thigh\n");
    let out = d.run(&["evaluate", "--judgments", &bad]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad.tsv:2: field grade: must be a whole number from 0 to 3"), "{stderr}");

    // A simulated reviewer decides on the first five proposals of every demand area; what is left
    // undecided is ranked better with those decisions taken into account.
    let qrels = demo("qrels.tsv");
    let args = ["evaluate", "--judgments", qrels.to_str().unwrap(), "--simulate-feedback", "5", "--format", "json"];
    let simulated: Value = serde_json::from_str(&d.ok(&args)).unwrap();
    assert_eq!(simulated["judged"], 5);
    let (without, with) = (&simulated["without"]["all"], &simulated["with"]["all"]);
    assert_eq!(without["demands"], with["demands"], "{simulated}");
    let (a, b) = (without["nDCG@10"].as_f64().unwrap(), with["nDCG@10"].as_f64().unwrap());
    assert!(a < ndcg, "the residual ranking lacks the easy first hits: {a} vs {ndcg}");
    assert!(b > a, "feedback helps the undecided profiles: {a} -> {b}");
    let out = d.run(&["evaluate", "--judgments", qrels.to_str().unwrap(), "--simulate-feedback", "0"]);
    assert_eq!(out.status.code(), Some(2));

    let kit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval");
    if !kit.join("tools/score.py").exists() {
        eprintln!("the evaluation kit is not beside the repository: dev agreement not checked");
        return;
    }
    let dev = DataDir::new();
    let (profiles, demands, qrels) =
        (kit.join("dev/profiles.jsonl"), kit.join("dev/demands.jsonl"), kit.join("dev/qrels.tsv"));
    dev.ok(&["import", "--profiles", profiles.to_str().unwrap(), "--demands", demands.to_str().unwrap()]);
    let ours = dev.ok(&["evaluate", "--judgments", qrels.to_str().unwrap(), "--by-language"]);
    let ranking = dev.ok(&["rank", "--all", "-k", "1000", "--format", "jsonl"]);
    let ranking_file = dev.file("ranking.jsonl", ranking.as_bytes());
    let theirs = Command::new("python3")
        .arg(kit.join("tools/score.py"))
        .args([qrels.to_str().unwrap(), &ranking_file, "--by-language"])
        .args([demands.to_str().unwrap(), profiles.to_str().unwrap()])
        .output()
        .expect("python3 runs score.py");
    let theirs = String::from_utf8(theirs.stdout).unwrap();
    let parse = |text: &str| -> Vec<(String, Vec<f64>)> {
        text.lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(slice, figures)| {
                let values = figures
                    .split(' ')
                    .filter_map(|kv| kv.split_once('=').and_then(|(_, v)| v.parse::<f64>().ok()))
                    .collect();
                (slice.to_string(), values)
            })
            .collect()
    };
    let (ours_lines, theirs_lines) = (parse(&ours), parse(&theirs));
    assert!(theirs_lines.len() >= 4, "score.py printed:\n{theirs}");
    assert_eq!(
        ours_lines.iter().map(|(s, _)| s).collect::<Vec<_>>(),
        theirs_lines.iter().map(|(s, _)| s).collect::<Vec<_>>(),
        "ours:\n{ours}\ntheirs:\n{theirs}"
    );
    for ((slice, a), (_, b)) in ours_lines.iter().zip(&theirs_lines) {
        assert_eq!(a.len(), b.len(), "{slice}");
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-3, "{slice}: ours {a:?} theirs {b:?}");
        }
    }
}

/// Commands that only read work side by side, and while `serve` holds the data dir they work on
/// it (and see what the server sees), and the commands that write refuse with one plain message and exit code 2. Once
/// the server is gone (even killed), writing works again.
#[test]
fn read_commands_work_beside_a_running_server_and_write_commands_say_why_not() {
    let d = DataDir::new();
    d.import_demo();
    let data = d.dir.path().join("data");
    let before = d.rank_jsonl(&["--demand", "demo-d-01", "-k", "5"]);

    // Commands started together race for the data dir: one may open it for writing, the others
    // read, and none may wipe or half-read the index the others are opening.
    for _ in 0..3 {
        let outputs: Vec<Output> = std::thread::scope(|s| {
            let runs: Vec<_> =
                (0..4).map(|_| s.spawn(|| d.run(&["search", "--format", "jsonl", "-k", "3", "hydrogen"]))).collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        });
        for out in outputs {
            assert!(out.status.success(), "concurrent search failed: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    assert!(d.rank_jsonl(&["--demand", "demo-d-01", "-k", "5"]) == before, "ranking changed by concurrent readers");

    let mut server = crate::drills::Server::start(&data, &d.dir.path().join("serve.log"), &[]);

    assert!(d.rank_jsonl(&["--demand", "demo-d-01", "-k", "5"]) == before, "ranking changed beside the server");
    let found: Value =
        serde_json::from_str(d.ok(&["search", "--format", "jsonl", "-k", "3", "hydrogen", "tanks"]).trim()).unwrap();
    assert_eq!(found["results"].as_array().unwrap().len(), 3);
    let selection: Value = serde_json::from_str(&d.ok(&["select", "--event", "psa-2027", "--format", "json"])).unwrap();
    assert_eq!(selection["optimal"], true);
    d.ok(&["token", "list"]);
    assert_eq!(d.ok(&["duplicates"]), "no likely duplicates\n", "the demo profiles are all different organisations");

    let f = d.file("one.jsonl", &jsonl(&[profile("p-new", "Hydrogen refuelling valves for city buses.")]));
    for args in [
        vec!["import", "--profiles", f.as_str()],
        vec!["reindex"],
        vec!["token", "create", "--role", "organiser", "--name", "ops"],
        vec!["token", "revoke", "ops"],
    ] {
        let out = d.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        let message = format!("error: the data dir {} is in use by another pitchmatch process", data.display());
        assert_eq!(stderr.matches(&message).count(), 1, "{args:?}: said once, plainly:\n{stderr}");
        assert!(stderr.contains("`pitchmatch serve`") && stderr.contains("HTTP API"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line:\n{stderr}");
    }
    assert!(server.alive(), "the server survived the refused commands");
    drop(server);
    assert!(d.ok(&["import", "--profiles", &f]).contains("imported 1 profiles"));
}

/// A command that only reads, run where there is nothing to read, says so (exit 2) and creates
/// nothing: neither the data dir nor a store in an existing empty one.
#[test]
fn read_commands_in_an_empty_dir_exit_2_and_leave_nothing_behind() {
    let d = DataDir::new();
    let data = d.dir.path().join("data");
    for make_dir in [false, true] {
        if make_dir {
            std::fs::create_dir(&data).unwrap();
        }
        for args in
            [&["select", "--event", "psa-2027"][..], &["rank", "--all"], &["search", "hydrogen"], &["token", "list"]]
        {
            let out = d.run(args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(stderr.contains("holds no data yet"), "{args:?}: {stderr}");
            match make_dir {
                false => assert!(!data.exists(), "{args:?} created the data dir"),
                true => assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0, "{args:?} left files behind"),
            }
        }
    }
}

/// `learn` trains the interest model from judgments, reports the same cross-validation on every
/// run, keeps the model only when it ranks the held-out demand areas better, and then values the
/// line-up's pitches by its probabilities.
#[test]
fn learn_cross_validates_by_demand_area_and_a_kept_model_values_the_line_up() {
    let d = DataDir::new();
    d.import_demo();
    let out = d.run(&["learn"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("0 demand area(s) have decided or judged profiles; learning needs at least 4"), "{stderr}");

    let values = |d: &DataDir| -> Vec<f64> {
        let sel: Value = serde_json::from_str(&d.ok(&["select", "--event", "psa-2027", "--format", "json"])).unwrap();
        sel["selected"].as_array().unwrap().iter().map(|p| p["value"].as_f64().unwrap()).collect()
    };
    let untrained = values(&d);
    assert!(untrained.contains(&1.0), "the best pitch of a demand area is worth 1 untrained: {untrained:?}");

    let qrels = demo("qrels.tsv");
    let args = ["learn", "--judgments", qrels.to_str().unwrap(), "--folds", "3", "--format", "json"];
    let first: Value = serde_json::from_str(&d.ok(&args)).unwrap();
    let cv = &first["cross_validation"];
    assert_eq!(cv["folds"], 3);
    let (demands, examples) = (cv["demands"].as_u64().unwrap(), cv["examples"].as_u64().unwrap());
    assert_eq!(demands, 12, "every judged demo demand area: {first}");
    assert_eq!(examples, 30 * demands, "the first 30 proposals of each: {first}");
    let binned: u64 = cv["reliability"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(binned, examples, "every held-out probability is in one reliability bin");
    let worst_slice_loss = first["slices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| pair[0]["nDCG@10"].as_f64().unwrap() - pair[1]["nDCG@10"].as_f64().unwrap())
        .fold(f64::NEG_INFINITY, f64::max);
    let better =
        cv["model_ndcg10"].as_f64().unwrap() > cv["untrained_ndcg10"].as_f64().unwrap() && worst_slice_loss <= 0.02;
    assert_eq!(first["kept"].is_number(), better, "kept exactly when better and no language pair loses: {first}");
    assert_eq!(first["not_kept_because"].is_string(), !better, "a model not kept says why: {first}");

    let second: Value = serde_json::from_str(&d.ok(&args)).unwrap();
    assert_eq!(second["cross_validation"], first["cross_validation"], "the same data learns the same model");
    if better {
        assert_eq!(first["kept"], 1);
        assert_eq!(second["kept"], 2, "each kept model is a new version");
        let learned = values(&d);
        assert!(learned.iter().all(|v| *v > 0.0 && *v < 1.0), "probabilities: {learned:?}");
        assert_ne!(learned, untrained);
    } else {
        assert_eq!(values(&d), untrained, "a model that was not kept changes nothing");
    }
}
