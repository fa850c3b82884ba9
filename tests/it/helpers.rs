//! Shared test fixtures: a real server on a free port over a fresh temp data dir, loaded with the
//! demo data, plus an organiser token made through the library — what `pitchmatch serve` runs, minus
//! the process boundary.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use pitchmatch::server::HttpConfig;
use pitchmatch::store::TokenRole;
use pitchmatch::{Engine, ImportFiles};
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::Method;
use serde_json::Value;

/// A running server over its own data dir.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// An active organiser token.
    pub organiser: String,
    /// The engine behind the server.
    pub engine: Arc<Engine>,
    /// A client with no default headers.
    pub client: Client,
    handle: actix_web::dev::ServerHandle,
    _dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stops accepting and closes the workers; the future only reports completion.
        drop(self.handle.stop(false));
    }
}

impl TestApp {
    /// `http://addr{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A request with an optional bearer token.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let rb = self.client.request(method, self.url(path));
        match token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    /// Sends a JSON body.
    pub fn send_json(&self, method: Method, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(method, path, token).json(body).send().expect("request")
    }

    /// A GET.
    pub fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token).send().expect("request")
    }

    /// Submits a profile anonymously; returns (status, body).
    pub fn submit(&self, profile: &Value) -> (u16, Value) {
        let res = self.send_json(Method::POST, "/api/v1/profiles", None, profile);
        let status = res.status().as_u16();
        (status, res.json().unwrap_or(Value::Null))
    }

    /// Stores a supplier's profile under the id it names, approved, and returns its edit token:
    /// for tests of what a supplier may do with its profile (submissions over HTTP get an id made
    /// by the server and wait for approval; see `moderation.rs`).
    pub fn submit_ok(&self, profile: &Value) -> String {
        let profile = pitchmatch::domain::Profile::from_json(profile).expect("a valid profile");
        self.engine.submit_profile(&profile).expect("stored")
    }

    /// Submits over HTTP and approves as the organiser; returns (server-made id, edit token).
    pub fn submit_approved(&self, profile: &Value) -> (String, String) {
        let (status, body) = self.submit(profile);
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_str().expect("id").to_string();
        let approve = format!("/api/v1/pending/{id}/approve");
        let res = self.request(Method::POST, &approve, Some(&self.organiser)).send().expect("approve");
        assert_eq!(res.status().as_u16(), 204);
        (id, body["edit_token"].as_str().expect("edit_token").to_string())
    }

    /// Profile ids on the organiser's shortlist of `demand`.
    pub fn shortlist_ids(&self, demand: &str, k: usize) -> Vec<String> {
        let res = self.get(&format!("/api/v1/demands/{demand}/shortlist?k={k}"), Some(&self.organiser));
        assert_eq!(res.status().as_u16(), 200);
        let body: Value = res.json().expect("json");
        body["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["profile_id"].as_str().expect("profile_id").to_string())
            .collect()
    }
}

/// Asserts the shared error shape and returns the error object.
pub fn assert_error_shape(body: &Value) -> &Value {
    let error = &body["error"];
    assert!(error["code"].as_str().is_some_and(|c| !c.is_empty()), "no error.code in {body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "no error.message in {body}");
    if let Some(field) = error.get("field") {
        assert!(field.is_string(), "error.field must be a string: {body}");
    }
    error
}

/// A server with the default configuration.
pub fn spawn_app() -> TestApp {
    spawn_app_with(|_| {})
}

/// A data dir with the demo data imported (and embedded) once per test run; each test copies it.
fn demo_template() -> &'static Path {
    static TEMPLATE: OnceLock<tempfile::TempDir> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let engine = Engine::open(dir.path()).expect("engine");
            let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
            engine
                .import(&ImportFiles {
                    profiles: Some(demo.join("profiles.jsonl")),
                    demands: Some(demo.join("demands.jsonl")),
                    events: Some(demo.join("events.jsonl")),
                })
                .expect("demo import");
            drop(engine);
            dir
        })
        .path()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A server whose configuration `tweak` adjusts (address and data dir are set by the fixture).
pub fn spawn_app_with(tweak: impl FnOnce(&mut HttpConfig)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(demo_template(), dir.path());
    let engine = Engine::open(dir.path()).expect("engine");
    let organiser = engine.create_token("test-organiser", TokenRole::Organiser).expect("token");
    let engine = Arc::new(engine);
    // The tests speak plain http to 127.0.0.1, where browsers would drop `Secure` cookies.
    let mut config = HttpConfig {
        addr: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        insecure_http_cookies: true,
        ..Default::default()
    };
    tweak(&mut config);
    let (addr, handle) = pitchmatch::server::spawn(Arc::clone(&engine), config).expect("server");
    let client = Client::builder().timeout(std::time::Duration::from_secs(120)).build().expect("client");
    TestApp { addr, organiser, engine, client, handle, _dir: dir }
}
