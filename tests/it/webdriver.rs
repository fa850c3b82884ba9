//! A minimal W3C WebDriver client for the browser tests: starts `chromedriver` on a free port and a
//! headless Chromium session through it, and offers the handful of commands the tests use (go to a
//! page, find, type, click, read text, screenshot). It speaks the protocol's JSON over the blocking
//! reqwest client the other tests already use, so the browser tests need no async runtime and no
//! further dependencies. Chromium and chromedriver come from Debian (`scripts/setup.sh`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::blocking::Client;
use serde_json::{json, Value};

/// The key under which WebDriver returns element references.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Flags without which Chromium hangs or misbehaves on a machine without outside network access
/// and without a display.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1800",
];

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |n| dir.join(n))).find(|p| p.is_file())
}

/// A running chromedriver with one browser session; both end on drop.
pub struct Browser {
    client: Client,
    base: String,
    driver: Child,
    /// Where the browser saves downloads.
    pub downloads: PathBuf,
    _profile: tempfile::TempDir,
    _download_dir: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.client.delete(&self.base).send();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium. Panics with what to install when either is
    /// missing: a browser test that cannot run must fail, not pass silently.
    pub fn start() -> Browser {
        let driver_path = find_program(&["chromedriver"]).unwrap_or_else(|| {
            panic!("chromedriver is not installed: run `bash scripts/setup.sh` as root (Debian packages chromium and chromium-driver)")
        });
        let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]).unwrap_or_else(|| {
            panic!("chromium is not installed: run `bash scripts/setup.sh` as root (Debian packages chromium and chromium-driver)")
        });
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver_path.display()));
        let client = Client::builder().timeout(Duration::from_secs(120)).build().expect("client");
        let root = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = client
                .get(format!("{root}/status"))
                .send()
                .ok()
                .and_then(|r| r.json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not become ready on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let download_dir = tempfile::tempdir().expect("download dir");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": args,
                "prefs": {
                    "download.default_directory": download_dir.path(),
                    "download.prompt_for_download": false,
                }
            }
        }}});
        let mut driver = Some(driver);
        let res: Value =
            client.post(format!("{root}/session")).json(&capabilities).send().and_then(|r| r.json()).unwrap_or_else(
                |e| {
                    if let Some(mut d) = driver.take() {
                        let _ = d.kill();
                    }
                    panic!("chromedriver did not start a session: {e}")
                },
            );
        let Some(session) = res["value"]["sessionId"].as_str() else {
            if let Some(mut d) = driver.take() {
                let _ = d.kill();
            }
            panic!("chromedriver refused the session: {res}");
        };
        let browser = Browser {
            base: format!("{root}/session/{session}"),
            client,
            driver: driver.take().expect("driver"),
            downloads: download_dir.path().to_path_buf(),
            _profile: profile,
            _download_dir: download_dir,
        };
        // Headless Chromium saves downloads only where it is told to.
        browser.command(
            "POST",
            "/goog/cdp/execute",
            json!({"cmd": "Browser.setDownloadBehavior", "params": {"behavior": "allow", "downloadPath": browser.downloads}}),
        );
        browser
    }

    fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.client.get(&url),
            "DELETE" => self.client.delete(&url),
            _ => self.client.post(&url).json(&body),
        };
        let res = req.send().unwrap_or_else(|e| panic!("webdriver {method} {path}: {e}"));
        let status = res.status();
        let value: Value = res.json().unwrap_or_else(|e| panic!("webdriver {method} {path}: bad JSON: {e}"));
        assert!(status.is_success(), "webdriver {method} {path} failed ({status}): {}", value["value"]);
        value["value"].clone()
    }

    /// Loads a URL and waits for the page.
    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", json!({ "url": url }));
    }

    /// Clicks `css` and waits until the click has loaded a new page (a form's post and its
    /// redirect), so that what is read next is not the page before, which may hold the same ids.
    pub fn click_to_new_page(&self, css: &str, timeout: Duration) {
        let script = |s: &str| self.command("POST", "/execute/sync", json!({ "script": s, "args": [] }));
        script("window.__pitchmatchPageBefore = true;");
        self.find(css).click();
        let deadline = Instant::now() + timeout;
        while script("return window.__pitchmatchPageBefore === true || document.readyState !== 'complete';")
            != Value::Bool(false)
        {
            assert!(Instant::now() < deadline, "clicking {css} loaded no new page within {timeout:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The current URL.
    pub fn url(&self) -> String {
        self.command("GET", "/url", Value::Null).as_str().unwrap_or_default().to_string()
    }

    /// The page's HTML as the browser has it.
    pub fn source(&self) -> String {
        self.command("GET", "/source", Value::Null).as_str().unwrap_or_default().to_string()
    }

    /// All elements matching a CSS selector.
    pub fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let found = self.command("POST", "/elements", json!({"using": "css selector", "value": css}));
        found
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT_KEY].as_str())
                    .map(|id| Element { browser: self, id: id.into() })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first element matching a CSS selector; panics (with the URL) when there is none.
    pub fn find(&self, css: &str) -> Element<'_> {
        self.find_all(css).into_iter().next().unwrap_or_else(|| panic!("no element {css:?} on {}", self.url()))
    }

    /// Waits up to `timeout` for an element to appear.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Element<'_> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.find_all(css).into_iter().next() {
                return e;
            }
            assert!(Instant::now() < deadline, "no element {css:?} on {} within {timeout:?}", self.url());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits up to `timeout` until the page's source contains `fragment`: after a form posts back
    /// to the same URL, where neither the URL nor the elements say whether the new page is there.
    pub fn wait_for_source(&self, fragment: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.source().contains(fragment) {
            assert!(Instant::now() < deadline, "{fragment:?} not on {} within {timeout:?}", self.url());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits up to `timeout` until the current URL contains `fragment`: after a click that
    /// navigates, so that the next lookup cannot find an element of the page being left (which
    /// goes stale under the test's feet).
    pub fn wait_for_url(&self, fragment: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.url().contains(fragment) {
            assert!(Instant::now() < deadline, "URL {} lacks {fragment:?} after {timeout:?}", self.url());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The current page printed to PDF, as Chromium's "Save as PDF" prints it (A4-ish Letter, print
    /// stylesheet applied).
    pub fn print_pdf(&self) -> Vec<u8> {
        let printed = self.command("POST", "/goog/cdp/execute", json!({"cmd": "Page.printToPDF", "params": {}}));
        let data = printed["data"].as_str().unwrap_or_default();
        base64::engine::general_purpose::STANDARD.decode(data).expect("base64 PDF")
    }

    /// Saves a PNG screenshot of the viewport to `path`.
    pub fn screenshot(&self, path: &Path) {
        let data = self.command("GET", "/screenshot", Value::Null);
        let png =
            base64::engine::general_purpose::STANDARD.decode(data.as_str().unwrap_or_default()).expect("base64 PNG");
        std::fs::write(path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    /// Waits up to `timeout` for a completely downloaded file named `name` and returns its bytes.
    pub fn wait_for_download(&self, name: &str, timeout: Duration) -> Vec<u8> {
        let path = self.downloads.join(name);
        let partial = self.downloads.join(format!("{name}.crdownload"));
        let deadline = Instant::now() + timeout;
        loop {
            if path.is_file() && !partial.exists() {
                if let Ok(bytes) = std::fs::read(&path) {
                    if !bytes.is_empty() {
                        return bytes;
                    }
                }
            }
            let present: Vec<String> = std::fs::read_dir(&self.downloads)
                .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
                .unwrap_or_default();
            assert!(Instant::now() < deadline, "download {name} not complete within {timeout:?}; present: {present:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// An element of the current page.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
}

impl Element<'_> {
    fn path(&self, what: &str) -> String {
        format!("/element/{}/{what}", self.id)
    }

    /// Types text into the element.
    pub fn type_text(&self, text: &str) -> &Self {
        self.browser.command("POST", &self.path("value"), json!({ "text": text }));
        self
    }

    /// Empties an input or textarea.
    pub fn clear(&self) -> &Self {
        self.browser.command("POST", &self.path("clear"), json!({}));
        self
    }

    /// Clicks the element.
    pub fn click(&self) {
        self.browser.command("POST", &self.path("click"), json!({}));
    }

    /// The rendered text.
    pub fn text(&self) -> String {
        self.browser.command("GET", &self.path("text"), Value::Null).as_str().unwrap_or_default().to_string()
    }

    /// An attribute's value (empty when absent).
    pub fn attr(&self, name: &str) -> String {
        let path = self.path(&format!("attribute/{name}"));
        self.browser.command("GET", &path, Value::Null).as_str().unwrap_or_default().to_string()
    }
}
