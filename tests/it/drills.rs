//! Reliability drills against the real `pitchmatch serve` process: a hostile-input corpus
//! and a crash drill that SIGKILLs the server while submissions stream in. Both run in `cargo test`
//! in a short form; `bench/crash_drill.sh` and `bench/bad_input.sh` run them at full size through
//! the environment variables below. Each writes its figures as JSON under `target/tmp/drills/`.
//!
//! The server runs as a child process (not in-process like `helpers::spawn_app`) because the drills
//! are about the process: it must survive hostile input with bounded memory (read from
//! `/proc/PID/status`), and it must lose nothing acknowledged when killed with no chance to clean up.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_pitchmatch")
}

/// `name` from the environment, or `default` (so that the scripts can scale a drill up).
fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Where a drill writes its figures.
fn results_path(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("drills");
    std::fs::create_dir_all(&dir).expect("results dir");
    dir.join(name)
}

/// A seeded xorshift64* generator: a failing drill can be replayed with the same `DRILL_SEED`.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// Creates an organiser token in `data` with the CLI, as an operator would.
fn organiser_token(data: &Path) -> String {
    let out = Command::new(bin())
        .arg("--data-dir")
        .arg(data)
        .args(["token", "create", "--role", "organiser", "--name", "drill"])
        .output()
        .expect("run pitchmatch token create");
    assert!(out.status.success(), "token create: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 token").trim().to_string()
}

/// A `pitchmatch serve` child process on a free port, its stderr in a log file.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
}

impl Server {
    /// Starts the server on `data` and waits until it listens (after the start-up catch-up).
    pub(crate) fn start(data: &Path, log: &Path, envs: &[(&str, &str)]) -> Server {
        let log_file = std::fs::File::create(log).expect("log file");
        let mut child = Command::new(bin())
            .arg("--data-dir")
            .arg(data)
            // The drills measure robustness, not the write budgets: those have tests of their own.
            .args(["serve", "--addr", "127.0.0.1:0", "--submissions-per-minute", "0"])
            .args(["--writes-per-minute", "0", "--global-writes-per-minute", "0"])
            .env("RUST_LOG", "info")
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("spawn pitchmatch serve");
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if let Some(rest) = text.split("listening addr=").nth(1) {
                let addr = rest.split_whitespace().next().expect("address").parse().expect("socket address");
                return Server { child, addr };
            }
            if let Some(status) = child.try_wait().expect("try_wait") {
                panic!("server exited with {status} before listening:\n{text}");
            }
            assert!(Instant::now() < deadline, "server not listening after 300 s:\n{text}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn alive(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// A `/proc/PID/status` figure in KiB (`VmRSS`: now, `VmHWM`: peak).
    fn mem_kib(&self, key: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// SIGKILL (what `Child::kill` sends on Unix): no shutdown hooks, no flushing, no goodbye.
    fn kill9(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("reap");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client without connection reuse: after a kill, pooled connections would only add noise.
fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(0)
        .build()
        .expect("client")
}

// ------------------------------------------------------------------------------------------------
// Bad input
// ------------------------------------------------------------------------------------------------

/// One hostile request, as raw bytes so that it can be anything, not only what an HTTP client
/// library is willing to send.
struct Case {
    class: &'static str,
    name: String,
    bytes: Vec<u8>,
    /// Ad-hoc search text that merely looks like query syntax is a legitimate request: 200 is a
    /// correct answer for it as long as it is not a 5xx.
    ok_allowed: bool,
}

/// An HTTP/1.1 request with the given extra headers and a Content-Length body.
fn http(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: drill\r\nConnection: close\r\n").into_bytes();
    for (k, v) in headers {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    if !body.is_empty() || method == "POST" || method == "PUT" {
        out.extend_from_slice(
            format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()).as_bytes(),
        );
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// Sends `request` on a fresh connection and returns the response status (None: no response).
/// The request is written from a second thread so that a server that answers before reading a
/// huge body (413) is still heard instead of the client dying on a broken pipe.
fn raw_status(addr: SocketAddr, request: Vec<u8>, timeout: Duration) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    let mut writer = stream.try_clone().ok()?;
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(&request);
    });
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    }
    // Unblocks the writer if the server stopped reading.
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let _ = sender.join();
    let line = String::from_utf8_lossy(&head);
    line.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// A valid submission body (used as the base that the corpus breaks).
/// A valid demand area: organisers choose demand ids, so hostile ids are tried on demand areas (a
/// public submission's id is made by the server, whatever the body says).
fn good_demand(id: &str) -> Value {
    json!({
        "id": id,
        "organisation": "Drill OEM",
        "title": "Brake sensors",
        "description": "We look for zorkplex brake sensors and cable looms for electric vans.",
        "language": "en",
    })
}

fn good_profile(id: &str) -> Value {
    json!({
        "id": id,
        "name": "Drill Parts B.V.",
        "kind": "company",
        "size": "sme",
        "language": "en",
        "summary": "We make zorkplex brake sensors and cable looms for electric vans and light trucks.",
        "keywords": ["brake sensors", "cable looms"],
        "themes": ["smart_mobility"],
        "trl": 6,
        "website": "https://drill.example",
        "contact_email": "info@drill.example"
    })
}

/// The hostile corpus. `org` is an organiser token, `own` a profile id with its edit token `edit`.
fn corpus(org: &str, own: &str, edit: &str) -> Vec<Case> {
    let auth = format!("Bearer {org}");
    let org_h: &[(&str, &str)] = &[("Authorization", &auth)];
    let mut cases = Vec::new();
    let mut add = |class: &'static str, name: String, bytes: Vec<u8>| {
        cases.push(Case { class, name, bytes, ok_allowed: false });
    };
    let profiles = "/api/v1/profiles";
    let demands = "/api/v1/demands";
    let n = std::cell::Cell::new(0usize);
    let fresh = || {
        n.set(n.get() + 1);
        format!("bad-{:04}", n.get())
    };

    // Truncated JSON: a valid body cut short at 40 points, and a search body at 10.
    let full = serde_json::to_vec(&good_profile(&fresh())).unwrap();
    for i in 0..40 {
        let cut = full.len() * i / 40;
        add("truncated", format!("profile[..{cut}]"), http("POST", profiles, &[], &full[..cut]));
    }
    let search = serde_json::to_vec(&json!({"text": "brake sensors", "k": 5, "ranker": "lexical"})).unwrap();
    for i in 0..10 {
        let cut = search.len() * i / 10;
        add("truncated", format!("search[..{cut}]"), http("POST", "/api/v1/search", org_h, &search[..cut]));
    }

    // Deep nesting, top-level and inside a field, far past serde_json's recursion limit.
    for depth in [129usize, 10_000, 100_000] {
        let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        add("deep-nesting", format!("arrays {depth}"), http("POST", profiles, &[], arrays.as_bytes()));
        add("deep-nesting", format!("objects {depth}"), http("POST", profiles, &[], objects.as_bytes()));
        let mut p = serde_json::to_string(&good_profile(&fresh())).unwrap();
        p.insert_str(1, &format!("\"keywords2\":{arrays},"));
        add("deep-nesting", format!("in profile field {depth}"), http("POST", profiles, &[], p.as_bytes()));
        let s = format!("{{\"text\":{arrays}}}");
        add("deep-nesting", format!("search text {depth}"), http("POST", "/api/v1/search", org_h, s.as_bytes()));
    }
    add("deep-nesting", "unclosed 200k".into(), http("POST", profiles, &[], "[".repeat(200_000).as_bytes()));
    let mut p = good_profile(&fresh());
    p["keywords"] = json!([[[[["deep"]]]]]);
    add("deep-nesting", "keywords 5 deep".into(), http("POST", profiles, &[], p.to_string().as_bytes()));

    // Huge: fields past their limits, bodies past the body limit, 10 MB bodies, huge headers.
    for (field, value) in [
        ("summary", json!("x".repeat(5001))),
        ("summary", json!("brake ".repeat(40_000))),
        ("name", json!("n".repeat(100_000))),
        ("keywords", json!(vec!["k"; 20_000])),
        ("innovations", json!(vec!["i".repeat(501); 5])),
        ("innovations", json!(vec!["i"; 21])),
    ] {
        let mut p = good_profile(&fresh());
        p[field] = value;
        add("huge", format!("{field} too long"), http("POST", profiles, &[], p.to_string().as_bytes()));
    }
    let digits = format!("{{\"id\":\"{}\",\"trl\":{}}}", fresh(), "9".repeat(100_000));
    add("huge", "100k-digit number".into(), http("POST", profiles, &[], digits.as_bytes()));
    add(
        "huge",
        "1e999".into(),
        http("POST", profiles, &[], format!("{{\"id\":\"{}\",\"trl\":1e999}}", fresh()).as_bytes()),
    );
    add("huge", "300 KB array".into(), http("POST", profiles, &[], format!("[{}1]", "1,".repeat(150_000)).as_bytes()));
    let ten_mb = vec![b' '; 10 << 20];
    let own_path = format!("/api/v1/profiles/{own}");
    for (method, path) in
        [("POST", profiles), ("POST", "/api/v1/search"), ("PUT", own_path.as_str()), ("POST", "/api/v1/demands")]
    {
        add("huge", format!("10 MB body {method} {path}"), http(method, path, org_h, &ten_mb));
    }
    for path in [profiles, "/api/v1/search"] {
        let mut req = format!(
            "POST {path} HTTP/1.1\r\nHost: drill\r\nConnection: close\r\nAuthorization: {auth}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        .into_bytes();
        for _ in 0..160 {
            req.extend_from_slice(b"10000\r\n");
            req.extend_from_slice(&[b' '; 0x10000]);
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"0\r\n\r\n");
        add("huge", format!("10 MB chunked {path}"), req);
    }
    // actix accepts request heads up to its buffer limit (~128 KiB); past that it must refuse.
    let big_header = "a".repeat(200_000);
    add("huge", "200 KB header".into(), http("GET", "/healthz", &[("X-Big", &big_header)], b""));
    let many: Vec<(String, String)> = (0..2000).map(|i| (format!("X-H{i}"), "v".into())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    add("huge", "2000 headers".into(), http("GET", "/healthz", &many, b""));
    add(
        "huge",
        "200 KB bearer".into(),
        http("GET", &own_path, &[("Authorization", &format!("Bearer {big_header}"))], b""),
    );

    // Invalid UTF-8 in bodies (at the start, inside a string, in a key), path, header and query.
    let base = serde_json::to_vec(&good_profile(&fresh())).unwrap();
    let summary_at = base.windows(7).position(|w| w == b"zorkple").unwrap();
    let key_at = base.windows(4).position(|w| w == b"name").unwrap();
    let bad_seqs: [&[u8]; 6] =
        [&[0xff], &[0xc3, 0x28], &[0xc0, 0xaf], &[0xed, 0xa0, 0x80], &[0xf4, 0x90, 0x80, 0x80], &[0xe2, 0x82]];
    for seq in bad_seqs {
        for (at, place) in [(summary_at, "in summary"), (key_at, "in key"), (0, "at start")] {
            let mut b = base.clone();
            b.splice(at..at, seq.iter().copied());
            add("invalid-utf8", format!("{seq:02x?} {place}"), http("POST", profiles, &[], &b));
        }
        let mut s = b"{\"text\":\"brake ".to_vec();
        s.extend_from_slice(seq);
        s.extend_from_slice(b"\"}");
        add("invalid-utf8", format!("{seq:02x?} in search text"), http("POST", "/api/v1/search", org_h, &s));
    }
    for esc in ["\\ud800", "\\udfff", "\\ud800\\u0041"] {
        let b = format!(
            "{{\"id\":\"{}\",\"name\":\"x{esc}\",\"kind\":\"company\",\"summary\":\"{}\"}}",
            fresh(),
            "s".repeat(30)
        );
        add("invalid-utf8", format!("lone surrogate {esc}"), http("POST", profiles, &[], b.as_bytes()));
    }
    let mut path_req =
        b"GET /api/v1/profiles/\xff\xfe HTTP/1.1\r\nHost: drill\r\nConnection: close\r\nAuthorization: ".to_vec();
    path_req.extend_from_slice(auth.as_bytes());
    path_req.extend_from_slice(b"\r\n\r\n");
    add("invalid-utf8", "raw bytes in path".into(), path_req);
    let mut hdr =
        format!("GET {own_path} HTTP/1.1\r\nHost: drill\r\nConnection: close\r\nAuthorization: Bearer ").into_bytes();
    hdr.extend_from_slice(b"\xff\xfe\r\n\r\n");
    add("invalid-utf8", "raw bytes in bearer".into(), hdr);
    add("invalid-utf8", "%ff in query".into(), http("GET", "/api/v1/demands/drill-demand/shortlist?k=%ff", org_h, b""));

    // NUL bytes: raw in the body, raw inside a string, escaped in fields, in the path and headers.
    add("nul", "raw NUL object".into(), http("POST", profiles, &[], b"{\0}"));
    add("nul", "1 KB of NULs".into(), http("POST", profiles, &[], &[0u8; 1024]));
    let mut raw_in_string = base.clone();
    raw_in_string.insert(summary_at, 0);
    add("nul", "raw NUL in summary".into(), http("POST", profiles, &[], &raw_in_string));
    for field in ["name", "summary", "city", "website", "contact_email"] {
        let mut p = good_profile(&fresh());
        p[field] = json!(format!("{}\u{0}evil", p[field].as_str().unwrap_or("abcdefghijklmnopqrstuvwxyz")));
        add("nul", format!("escaped NUL in {field}"), http("POST", profiles, &[], p.to_string().as_bytes()));
    }
    let d = good_demand(&format!("{}\u{0}evil", fresh()));
    add("nul", "escaped NUL in a demand id".into(), http("POST", demands, org_h, d.to_string().as_bytes()));
    let mut p = good_profile(&fresh());
    p["keywords"] = json!(["ok", "bad\u{0}"]);
    add("nul", "escaped NUL in keywords".into(), http("POST", profiles, &[], p.to_string().as_bytes()));
    add(
        "nul",
        "NUL in search text".into(),
        http("POST", "/api/v1/search", org_h, b"{\"text\":\"brake\\u0000sensors\"}"),
    );
    add("nul", "%00 in path".into(), http("GET", "/api/v1/profiles/%00", org_h, b""));
    add("nul", "%00 in query".into(), http("GET", "/api/v1/demands/drill-demand/shortlist?kind=%00", org_h, b""));
    add("nul", "raw NUL in request line".into(), b"GET /healthz\0 HTTP/1.1\r\nHost: drill\r\n\r\n".to_vec());
    add(
        "nul",
        "raw NUL in header".into(),
        b"GET /api/v1/profiles HTTP/1.1\r\nHost: drill\r\nAuthorization: Bearer \0\r\n\r\n".to_vec(),
    );

    // Wrong types for every profile field, bad enum values, missing required fields.
    let string_fields = ["name", "kind", "size", "city", "language", "summary", "website", "contact_email"];
    for field in string_fields {
        for wrong in [json!(42), json!(true), json!({"a": 1}), json!(["x"]), json!(1.5)] {
            let mut p = good_profile(&fresh());
            p[field] = wrong.clone();
            add("wrong-type", format!("{field}={wrong}"), http("POST", profiles, &[], p.to_string().as_bytes()));
        }
    }
    for wrong in [json!(42), json!(true), json!({"a": 1}), json!(["x"]), json!(1.5), Value::Null] {
        let mut d = good_demand(&fresh());
        d["id"] = wrong.clone();
        add("wrong-type", format!("demand id={wrong}"), http("POST", demands, org_h, d.to_string().as_bytes()));
    }
    let mut d = good_demand(&fresh());
    d.as_object_mut().unwrap().remove("id");
    add("wrong-type", "demand id missing".into(), http("POST", demands, org_h, d.to_string().as_bytes()));
    for field in ["innovations", "keywords", "themes"] {
        for wrong in [json!(42), json!("x"), json!({"a": 1}), json!([1]), json!([null]), json!([["x"]])] {
            let mut p = good_profile(&fresh());
            p[field] = wrong.clone();
            add("wrong-type", format!("{field}={wrong}"), http("POST", profiles, &[], p.to_string().as_bytes()));
        }
    }
    for wrong in [json!("6"), json!(6.5), json!(0), json!(10), json!(-1), json!(true), json!(1e300), json!([6])] {
        let mut p = good_profile(&fresh());
        p["trl"] = wrong.clone();
        add("wrong-type", format!("trl={wrong}"), http("POST", profiles, &[], p.to_string().as_bytes()));
    }
    for (field, value) in [("kind", "robot"), ("size", "huge"), ("language", "de"), ("website", "javascript:alert(1)")]
    {
        let mut p = good_profile(&fresh());
        p[field] = json!(value);
        add("wrong-type", format!("{field}={value}"), http("POST", profiles, &[], p.to_string().as_bytes()));
    }
    for field in ["name", "kind", "summary"] {
        let mut p = good_profile(&fresh());
        p[field] = Value::Null;
        add("wrong-type", format!("{field}=null"), http("POST", profiles, &[], p.to_string().as_bytes()));
        p.as_object_mut().unwrap().remove(field);
        add("wrong-type", format!("{field} missing"), http("POST", profiles, &[], p.to_string().as_bytes()));
    }
    for body in ["[]", "\"profile\"", "42", "null", "true", "{}"] {
        add("wrong-type", format!("profile body {body}"), http("POST", profiles, &[], body.as_bytes()));
    }
    for body in [
        json!({"text": 5}),
        json!({"text": null}),
        json!({"text": ["brake"]}),
        json!({"text": "brake", "k": "5"}),
        json!({"text": "brake", "k": -1}),
        json!({"text": "brake", "k": 0}),
        json!({"text": "brake", "k": 201}),
        json!({"text": "brake", "k": 1e10}),
        json!({"text": "brake", "k": 1.5}),
        json!({"text": "brake", "language": "de"}),
        json!({"text": "brake", "ranker": "evil"}),
        json!({"text": "brake", "filters": []}),
        json!({"text": "brake", "filters": {"kind": "robot"}}),
        json!({"text": "brake", "filters": {"min_trl": 0}}),
        json!({"text": "brake", "filters": {"min_trl": "3"}}),
        json!({}),
        json!([]),
        json!("brake"),
        json!({"text": ""}),
        json!({"text": "   "}),
        json!({"text": "b".repeat(5001)}),
    ] {
        add(
            "wrong-type",
            format!("search {:.60}", body.to_string()),
            http("POST", "/api/v1/search", org_h, body.to_string().as_bytes()),
        );
    }
    let demand = json!({"id": "d-x", "organisation": "Valeo", "title": "Brake sensors", "description": "We look for brake sensors for electric vans and trucks."});
    for (field, wrong) in [
        ("organisation", json!(42)),
        ("title", json!("ab")),
        ("description", json!("too short")),
        ("themes", json!("materials")),
        ("language", json!("de")),
        ("event", json!(5)),
        ("id", json!("../d")),
        ("id", json!([1])),
    ] {
        let mut d = demand.clone();
        d[field] = wrong.clone();
        add(
            "wrong-type",
            format!("demand {field}={wrong}"),
            http("POST", "/api/v1/demands", org_h, d.to_string().as_bytes()),
        );
    }

    // Unknown fields.
    for field in ["admin", "seq", "edit_token", "Id", "id ", "role", "score", "organiser"] {
        let mut p = good_profile(&fresh());
        p[field] = json!(true);
        add("unknown-field", format!("profile.{field}"), http("POST", profiles, &[], p.to_string().as_bytes()));
    }
    for field in ["query", "limit", "explain", "sql"] {
        let body = json!({"text": "brake", field: 1});
        add(
            "unknown-field",
            format!("search.{field}"),
            http("POST", "/api/v1/search", org_h, body.to_string().as_bytes()),
        );
    }
    let mut d = demand.clone();
    d["priority"] = json!(1);
    add("unknown-field", "demand.priority".into(), http("POST", "/api/v1/demands", org_h, d.to_string().as_bytes()));

    // Path traversal and other odd ids, in paths (GET/PUT/DELETE, organiser) and in bodies.
    let long_id = "A".repeat(12_000);
    for id in [
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "..%5C..%5Cwindows%5Cwin.ini",
        "%2e%2e",
        "...",
        "a%00b",
        "x%2Fy",
        "..;",
        "~root",
        "%252e%252e%252f",
        "%c0%ae%c0%ae",
        long_id.as_str(),
    ] {
        let path = format!("/api/v1/profiles/{id}");
        add("path-traversal", format!("GET {path:.60}"), http("GET", &path, org_h, b""));
        add("path-traversal", format!("DELETE {path:.60}"), http("DELETE", &path, org_h, b""));
    }
    for path in [
        "/api/v1/profiles/../../../etc/passwd",
        "/api/v1/../../etc/passwd",
        "//etc/passwd",
        "/api/v1/profiles/..\\..\\x",
        "/api/v1/demands/..%2F..%2Fx/shortlist",
        "/api/v1/events/..%2Fx/selection",
        "/../../../../etc/passwd",
        "/api/v1/profiles/.",
        "/api/v1/profiles/..",
    ] {
        add("path-traversal", format!("GET {path}"), http("GET", path, org_h, b""));
    }
    for id in [
        "../../etc/passwd",
        "a/b",
        "a\\b",
        "x;DROP TABLE profiles;--",
        "x' OR '1'='1",
        "",
        " ",
        "é",
        "id\nx",
        ".",
        "..",
    ] {
        let d = good_demand(id);
        add("path-traversal", format!("demand id {id:?}"), http("POST", demands, org_h, d.to_string().as_bytes()));
    }
    let long = "a".repeat(65);
    add(
        "path-traversal",
        "demand id 65 chars".into(),
        http("POST", demands, org_h, good_demand(&long).to_string().as_bytes()),
    );
    let other = good_profile("someone-else");
    add(
        "path-traversal",
        "PUT with another id in the body".into(),
        http("PUT", &own_path, org_h, other.to_string().as_bytes()),
    );

    // Query strings.
    let sl = "/api/v1/demands/drill-demand/shortlist";
    for q in [
        "k=0",
        "k=201",
        "k=-1",
        "k=abc",
        "k=1e3",
        "k=99999999999999999999999",
        "k=",
        "min_trl=0",
        "min_trl=10",
        "min_trl=300",
        "kind=robot",
        "size=%00",
        "theme=..%2F",
        "ranker=sql",
        "ranker=",
        "foo=1",
        "k=5&k=6",
        "%ff=1",
        "K=5",
    ] {
        add("query-string", format!("shortlist?{q}"), http("GET", &format!("{sl}?{q}"), org_h, b""));
    }
    for q in ["limit=0", "limit=501", "limit=-5", "after=a&after=b", "offset=10"] {
        add("query-string", format!("profiles?{q}"), http("GET", &format!("{profiles}?{q}"), org_h, b""));
    }

    // Malformed HTTP and authentication.
    let raw_cases: [(&str, &[u8]); 11] = [
        ("Content-Length abc", b"POST /api/v1/profiles HTTP/1.1\r\nHost: d\r\nContent-Length: abc\r\n\r\n{}"),
        ("Content-Length -1", b"POST /api/v1/profiles HTTP/1.1\r\nHost: d\r\nContent-Length: -1\r\n\r\n{}"),
        ("two Content-Lengths", b"POST /api/v1/profiles HTTP/1.1\r\nHost: d\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}"),
        (
            "CL and TE",
            b"POST /api/v1/profiles HTTP/1.1\r\nHost: d\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
        ("TE gzip", b"POST /api/v1/profiles HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: gzip\r\n\r\n{}"),
        ("bad chunk size", b"POST /api/v1/profiles HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
        ("bad method", b"FOO /api/v1/profiles HTTP/1.1\r\nHost: d\r\n\r\n"),
        ("HTTP/9.9", b"GET /healthz HTTP/9.9\r\nHost: d\r\n\r\n"),
        ("TLS hello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"),
        ("no path", b"GET\r\n\r\n"),
        ("header without colon", b"GET /healthz HTTP/1.1\r\nHost d\r\n\r\n"),
    ];
    for (name, bytes) in raw_cases {
        add("malformed-http", name.into(), bytes.to_vec());
    }
    // Invented method tokens (each must not become a new metrics series; checked after the corpus).
    for i in 0..40 {
        add(
            "malformed-http",
            format!("method M{i}X"),
            format!("M{i}X /api/v1/profiles HTTP/1.1\r\nHost: d\r\n\r\n").into_bytes(),
        );
    }
    for (name, value) in [
        ("bogus organiser token", format!("Bearer pmo_{}", "0".repeat(64))),
        ("basic auth", "Basic YWRtaW46YWRtaW4=".to_string()),
        ("sql in token", "Bearer ' OR 1=1 --".to_string()),
        ("empty bearer", "Bearer ".to_string()),
        ("edit token on organiser route", format!("Bearer {edit}")),
    ] {
        add(
            "auth",
            name.into(),
            http("GET", "/api/v1/demands/drill-demand/shortlist", &[("Authorization", &value)], b""),
        );
    }
    add(
        "auth",
        "edit token on another profile".into(),
        http("GET", "/api/v1/profiles/someone-else", &[("Authorization", &format!("Bearer {edit}"))], b""),
    );
    add("auth", "no token on search".into(), http("POST", "/api/v1/search", &[], b"{\"text\":\"brake\"}"));

    // Query syntax in ad-hoc search text: legitimate text, so 200 (as plain words) or a 4xx.
    for text in [
        "summary:zorkplex",
        "name:* OR 1=1",
        "zorkplex AND (brake",
        "\"unclosed phrase",
        "*",
        "?",
        "field:[a TO z]",
        "brake~2",
        "brake^1000",
        "-",
        "+ + +",
        "\\",
        "' OR '1'='1' --",
        "${jndi:ldap://x/a}",
        "<script>alert(1)</script>",
        "%s%s%s%n",
        "../../etc/passwd",
        "NOT NOT NOT",
        "(((((((((((((",
        "))))))",
        ":",
        "a:b:c:d",
        "IN [a b]",
        "\u{202e}rtl override",
        "𝕳𝖊𝖑𝖑𝖔 🚗🚗",
        "\u{feff}\u{200b}",
    ] {
        for ranker in ["lexical", "hybrid"] {
            let body = json!({"text": text, "ranker": ranker, "k": 5});
            cases.push(Case {
                class: "query-syntax",
                name: format!("{ranker} {text:?}"),
                bytes: http("POST", "/api/v1/search", org_h, body.to_string().as_bytes()),
                ok_allowed: true,
            });
        }
    }
    cases
}

/// Slow clients: a header or body trickled a byte a second, or a body that stops half-way.
fn slow_client(addr: SocketAddr, start: &[u8], trickle: bool) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.write_all(start).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    let started = Instant::now();
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while started.elapsed() < Duration::from_secs(40) {
        if trickle {
            let _ = stream.write_all(b"x");
        }
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                head.extend_from_slice(&chunk[..n]);
                if head.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            Err(_) => {}
        }
    }
    String::from_utf8_lossy(&head).strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

#[test]
fn bad_input_corpus_gets_4xx_and_the_server_stays_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let org = organiser_token(&data);
    // A short body deadline keeps the slow-body cases quick; the mechanism is the same at 15 s.
    let mut server = Server::start(
        &data,
        &dir.path().join("serve.log"),
        &[("PITCHMATCH_BODY_TIMEOUT_SECS", "3"), ("PITCHMATCH_MODERATION", "false")],
    );
    let addr = server.addr;
    let http_client = client();
    let url = |p: &str| format!("http://{addr}{p}");

    // What the hostile requests aim at: a demand area and one supplier's own profile.
    let demand = json!({"id": "drill-demand", "organisation": "Valeo", "title": "Brake sensors",
                        "description": "We look for brake sensors and cable looms for electric vans."});
    let res = http_client.post(url("/api/v1/demands")).bearer_auth(&org).json(&demand).send().unwrap();
    assert_eq!(res.status().as_u16(), 201, "{}", res.text().unwrap_or_default());
    let res = http_client.post(url("/api/v1/profiles")).json(&good_profile("drill-own")).send().unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let edit = res.json::<Value>().unwrap()["edit_token"].as_str().unwrap().to_string();
    // The baseline is a server with its model loaded: a shortlist embeds its query text at once
    // (a submission's vectors follow in the background).
    let res = http_client.get(url("/api/v1/demands/drill-demand/shortlist")).bearer_auth(&org).send().unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let baseline_kib = server.mem_kib("VmRSS");

    // Slow clients first, in the background: the rest of the corpus must be served meanwhile.
    let slow_header = b"POST /api/v1/profiles HTTP/1.1\r\nHost: drill\r\nX-Slow: ".to_vec();
    let slow_body =
        b"POST /api/v1/profiles HTTP/1.1\r\nHost: drill\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
            .to_vec();
    let stalled =
        b"POST /api/v1/search HTTP/1.1\r\nHost: drill\r\nContent-Length: 10000\r\n\r\n{\"text\":\"br".to_vec();
    let slow_cases: Vec<(String, Vec<u8>, bool)> = (0..3)
        .map(|i| (format!("slow header #{i}"), slow_header.clone(), true))
        .chain((0..3).map(|i| (format!("slow body #{i}"), slow_body.clone(), true)))
        .chain((0..2).map(|i| (format!("stalled body #{i}"), stalled.clone(), false)))
        .collect();
    let slow: Vec<_> = slow_cases
        .into_iter()
        .map(|(name, start, trickle)| (name, std::thread::spawn(move || slow_client(addr, &start, trickle))))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    assert_eq!(http_client.get(url("/healthz")).send().unwrap().status().as_u16(), 200);
    let healthz_during_slowloris = t.elapsed();
    assert!(
        healthz_during_slowloris < Duration::from_secs(2),
        "slow clients block others: {healthz_during_slowloris:?}"
    );

    let cases = corpus(&org, "drill-own", &edit);
    let mut histogram: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_class: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut max_rss_kib = baseline_kib;
    let started = Instant::now();
    for (i, case) in cases.iter().enumerate() {
        let status = raw_status(addr, case.bytes.clone(), Duration::from_secs(60));
        *by_class.entry(case.class).or_default() += 1;
        *histogram.entry(status.map_or("no response".to_string(), |s| s.to_string())).or_default() += 1;
        let fine = match status {
            Some(s) => (400..500).contains(&s) || (case.ok_allowed && s == 200),
            None => false,
        };
        if !fine {
            failures.push(format!("[{}] {}: {status:?}", case.class, case.name));
        }
        assert!(server.alive(), "server died on [{}] {}", case.class, case.name);
        max_rss_kib = max_rss_kib.max(server.mem_kib("VmRSS"));
        if i % 25 == 0 {
            let health = http_client.get(url("/healthz")).send().map(|r| r.status().as_u16());
            assert!(matches!(health, Ok(200)), "healthz after [{}] {}: {health:?}", case.class, case.name);
        }
    }
    for (name, handle) in slow {
        let status = handle.join().expect("slow client thread");
        *by_class.entry("slowloris").or_default() += 1;
        *histogram.entry(status.map_or("no response".to_string(), |s| s.to_string())).or_default() += 1;
        if status != Some(408) {
            failures.push(format!("[slowloris] {name}: {status:?} (want 408)"));
        }
    }
    let total: usize = by_class.values().sum();

    // Still fully working: a valid submission is accepted and found.
    assert!(server.alive(), "server died");
    // A word of its own: the corpus's valid submissions all speak of zorkplex.
    let mut after = good_profile("drill-after");
    after["summary"] = json!("We make quorvane brake sensors for electric vans.");
    let res = http_client.post(url("/api/v1/profiles")).json(&after).send().unwrap();
    assert_eq!(res.status().as_u16(), 201, "valid submission after the corpus");
    let created: Value = res.json().expect("201 body");
    let id = created["id"].as_str().expect("id").to_string();
    let found: Value = http_client
        .post(url("/api/v1/search"))
        .bearer_auth(&org)
        .json(&json!({"text": "quorvane", "ranker": "lexical", "k": 10}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(found["results"].as_array().is_some_and(|r| r.iter().any(|e| e["profile_id"] == json!(id))), "{found}");
    let metrics = http_client.get(url("/metrics")).bearer_auth(&org).send().unwrap().text().unwrap();
    let series = metrics.lines().filter(|l| l.starts_with("pitchmatch_http_requests_total{")).count();
    let peak_kib = server.mem_kib("VmHWM").max(max_rss_kib);
    let end_kib = server.mem_kib("VmRSS");

    let report = json!({
        "requests": total,
        "by_class": by_class,
        "status_histogram": histogram,
        "failures": failures,
        "seconds": started.elapsed().as_secs_f64(),
        "metrics_request_series": series,
        "healthz_ms_during_slowloris": healthz_during_slowloris.as_secs_f64() * 1e3,
        "rss_kib": {"baseline": baseline_kib, "max_sampled": max_rss_kib, "peak_vmhwm": peak_kib, "end": end_kib},
    });
    std::fs::write(results_path("bad_input.json"), serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("bad-input drill: {report:#}");
    assert!(total >= 200, "corpus too small: {total}");
    assert!(
        failures.is_empty(),
        "{} of {total} hostile requests were not answered with a 4xx:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Hostile requests must not mint metric series: (method, route, status) stays a small set.
    assert!(series < 60, "{series} request-count series in /metrics after the corpus");
    // Bounded: 10 MB bodies and 100k-deep nesting must not be buffered or recursed into. The
    // allowance covers allocator slack and the index/vector growth of two profiles.
    let growth_mib = peak_kib.saturating_sub(baseline_kib) / 1024;
    assert!(growth_mib < 64, "peak RSS grew {growth_mib} MiB over the {} MiB baseline", baseline_kib / 1024);
}

// ------------------------------------------------------------------------------------------------
// Crash
// ------------------------------------------------------------------------------------------------

/// A word that occurs in exactly one drill profile: "zq", four letters from `i`, and a closing
/// "q" so that no stemmer maps two codes onto one term.
fn code_word(i: usize) -> String {
    let mut word = String::from("zq");
    let mut n = i;
    for _ in 0..4 {
        word.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
    }
    word.push('q');
    word
}

/// The `i`-th drill submission: short, so that re-embedding after a crash stays cheap.
fn drill_profile(i: usize) -> Value {
    json!({
        "id": format!("drill-{i:05}"),
        "name": format!("Drill Supplier {i} B.V."),
        "kind": "company",
        "language": "en",
        "summary": format!("We make {} brake sensors and cable looms for electric vans.", code_word(i)),
    })
}

/// An acknowledged submission: its place in the stream, the id the server gave it, its edit token,
/// and whether an earlier attempt was cut off by a kill.
#[derive(Debug, Clone, PartialEq)]
struct Created {
    i: usize,
    id: String,
    token: String,
    retried: bool,
}

/// The submitting side: every submission is retried until it is acknowledged, as a careful client
/// would. The server makes the ids, so an attempt that committed but whose response was lost to a
/// kill stays in the store beside the retried one (at most one per kill). Returns the acknowledged
/// submissions, transport errors seen, and unexpected responses.
fn submit_all(
    n: usize,
    addr: &Mutex<Option<SocketAddr>>,
    progress: &AtomicUsize,
) -> (Vec<Created>, usize, Vec<String>) {
    let client = client();
    let mut created = Vec::with_capacity(n);
    let mut transport_errors = 0;
    let mut unexpected = Vec::new();
    for i in 0..n {
        let body = drill_profile(i);
        let mut retried = false;
        let started = Instant::now();
        let outcome = loop {
            assert!(started.elapsed() < Duration::from_secs(300), "submission {i} undecided after 300 s");
            let Some(a) = *addr.lock().unwrap() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            match client.post(format!("http://{a}/api/v1/profiles")).json(&body).send() {
                Err(_) => {
                    transport_errors += 1;
                    retried = true;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Ok(res) => match res.status().as_u16() {
                    201 => {
                        let v: Value = res.json().expect("201 body");
                        let token = v["edit_token"].as_str().expect("edit_token").to_string();
                        let id = v["id"].as_str().expect("id").to_string();
                        break Created { i, id, token, retried };
                    }
                    status => {
                        unexpected.push(format!("{i}: {status} {}", res.text().unwrap_or_default()));
                        std::thread::sleep(Duration::from_millis(50));
                    }
                },
            }
        };
        created.push(outcome);
        progress.store(i + 1, Ordering::SeqCst);
    }
    (created, transport_errors, unexpected)
}

#[test]
fn crash_drill_loses_no_acknowledged_submission() {
    let n: usize = env_or("DRILL_SUBMISSIONS", 150);
    let kills: usize = env_or("DRILL_KILLS", 20);
    let seed: u64 = env_or("DRILL_SEED", 7);
    assert!(n > kills, "need more submissions than kills");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let org = organiser_token(&data);
    let log = |k: usize| dir.path().join(format!("serve-{k}.log"));
    let mut rng = Rng::new(seed);
    // Kill after random submission counts (distinct, so every kill hits a different moment of the
    // stream), then a random delay (below) that lands anywhere in a submission: before the
    // commit, or between commit and response while the index and vectors catch up.
    let mut at: Vec<usize> = Vec::new();
    while at.len() < kills {
        let k = 1 + rng.below((n - 1) as u64) as usize;
        if !at.contains(&k) {
            at.push(k);
        }
    }
    at.sort_unstable();

    let started = Instant::now();
    let mut server = Server::start(&data, &log(0), &[("PITCHMATCH_MODERATION", "false")]);
    let addr = Arc::new(Mutex::new(Some(server.addr)));
    let progress = Arc::new(AtomicUsize::new(0));
    let submitter = {
        let (addr, progress) = (Arc::clone(&addr), Arc::clone(&progress));
        std::thread::spawn(move || submit_all(n, &addr, &progress))
    };
    let mut kills_mid_stream = 0;
    let mut restart_ms = Vec::new();
    for (k, threshold) in at.iter().enumerate() {
        while progress.load(Ordering::SeqCst) < *threshold {
            std::thread::sleep(Duration::from_millis(5));
        }
        // Half the kills come within 4 ms of the previous response: the next request is then
        // being parsed or committed, a window the uniform 0-250 ms delay would rarely hit (the
        // ~150 ms of embedding after the commit dominates a submission).
        let delay = if rng.below(2) == 0 { rng.below(4) } else { rng.below(250) };
        std::thread::sleep(Duration::from_millis(delay));
        if progress.load(Ordering::SeqCst) < n {
            kills_mid_stream += 1;
        }
        *addr.lock().unwrap() = None;
        server.kill9();
        let t = Instant::now();
        server = Server::start(&data, &log(k + 1), &[("PITCHMATCH_MODERATION", "false")]);
        restart_ms.push(t.elapsed().as_secs_f64() * 1e3);
        *addr.lock().unwrap() = Some(server.addr);
    }
    let (created, transport_errors, unexpected) = submitter.join().expect("submitter");
    let stream_seconds = started.elapsed().as_secs_f64();

    // Every acknowledged submission is there after the last restart: readable with its token, and
    // among the first for its own word (beside a twin an unacknowledged attempt may have left).
    let http_client = client();
    let base = format!("http://{}", server.addr);
    let mut missing = Vec::new();
    let mut not_ranked = Vec::new();
    for c in &created {
        let res = http_client.get(format!("{base}/api/v1/profiles/{}", c.id)).bearer_auth(&c.token).send().unwrap();
        let readable = res.status().as_u16() == 200
            && res.json::<Value>().is_ok_and(|p| p["summary"] == drill_profile(c.i)["summary"]);
        if !readable {
            missing.push(c.id.clone());
        }
        let body = json!({"text": code_word(c.i), "ranker": "lexical", "k": 3});
        let list: Value = http_client
            .post(format!("{base}/api/v1/search"))
            .bearer_auth(&org)
            .json(&body)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let top: Vec<&Value> =
            list["results"].as_array().map(|r| r.iter().map(|e| &e["profile_id"]).collect()).unwrap_or_default();
        if !top.contains(&&json!(c.id)) {
            not_ranked.push(c.id.clone());
        }
    }
    let stored_via_api = {
        let mut count = 0;
        let mut after = String::new();
        loop {
            let page: Value = http_client
                .get(format!("{base}/api/v1/profiles?limit=500&after={after}"))
                .bearer_auth(&org)
                .send()
                .unwrap()
                .json()
                .unwrap();
            count += page["profiles"].as_array().map_or(0, Vec::len);
            match page["next_after"].as_str() {
                Some(next) => after = next.to_string(),
                None => break count,
            }
        }
    };

    // One more kill, then the files themselves: SQLite's own check, and index == store.
    server.kill9();
    let store = pitchmatch::store::Store::open(&data.join("pitchmatch.sqlite")).expect("store");
    let integrity = store.integrity_check().expect("integrity_check");
    let stored = store.profile_count().expect("count");
    // Vectors are written after the commit; a kill in between leaves them to the restart's
    // catch-up, which must have happened: none may be missing or stale now.
    let without_vectors = store.profiles_needing_vectors(pitchmatch::embed::MODEL_ID, 384).expect("vectors").len();
    drop(store);
    let engine = pitchmatch::Engine::open(&data).expect("engine");
    let (index_missing, index_extra) = engine.index_consistency().expect("consistency");

    let retried_after_a_kill = created.iter().filter(|c| c.retried).count();
    let report = json!({
        "seed": seed,
        "submissions": n,
        "kills": restart_ms.len(),
        "kills_mid_stream": kills_mid_stream,
        "created_201": created.len(),
        "committed_unacknowledged": stored.saturating_sub(created.len()),
        "created_201_on_retry_after_a_kill": retried_after_a_kill,
        "transport_errors_retried": transport_errors,
        "unexpected_responses": unexpected,
        "not_readable": missing,
        "not_in_lexical_top3": not_ranked,
        "profiles_without_current_vectors": without_vectors,
        "stored_via_api": stored_via_api,
        "stored": stored,
        "integrity_check": integrity,
        "index_missing": index_missing,
        "index_extra": index_extra,
        "restart_ms_mean": restart_ms.iter().sum::<f64>() / restart_ms.len().max(1) as f64,
        "stream_seconds": stream_seconds,
    });
    std::fs::write(results_path("crash.json"), serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("crash drill: {report:#}");
    assert_eq!(restart_ms.len(), kills);
    assert!(kills_mid_stream * 2 >= kills, "most kills must land while submissions stream: {kills_mid_stream}");
    assert!(unexpected.is_empty(), "unexpected responses: {unexpected:?}");
    assert!(missing.is_empty() && not_ranked.is_empty(), "lost: {missing:?}, not ranked: {not_ranked:?}");
    assert_eq!(without_vectors, 0, "profiles without vectors after the restarts");
    assert_eq!(created.len(), n, "every submission acknowledged in the end");
    assert!(
        (n..=n + kills).contains(&stored),
        "{stored} stored for {n} acknowledged submissions and {kills} kills: at most one unacknowledged per kill"
    );
    assert_eq!(stored_via_api, stored);
    assert_eq!(integrity, "ok");
    assert!(index_missing.is_empty() && index_extra.is_empty(), "index != store: {index_missing:?} {index_extra:?}");
}
