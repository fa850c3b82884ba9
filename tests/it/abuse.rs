//! The service read as an attacker would: write budgets per client, per token and overall (API and
//! pages alike), an unchanged profile that is not stored again, bounded selection rules, client
//! addresses behind a trusted proxy, secure cookies, HSTS and who may read `/metrics`. All over
//! real HTTP against a server on a free port (and the real binary for the command line).

use std::process::Command;
use std::time::Duration;

use pitchmatch::server::HttpConfig;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::redirect::Policy;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_error_shape, spawn_app_with, TestApp};

fn profile(id: &str, summary: &str) -> Value {
    json!({"id": id, "name": format!("{id} B.V."), "kind": "company", "language": "en", "summary": summary})
}

fn summary(n: usize) -> String {
    format!("We build lightweight type IV hydrogen tanks for vans, version {n}.")
}

/// Behind a trusted proxy at 127.0.0.1, each `X-Forwarded-For` address is a client of its own.
/// Submissions are approved at once: these tests are about budgets, not moderation.
fn behind_proxy(tweak: impl FnOnce(&mut HttpConfig)) -> TestApp {
    spawn_app_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        c.moderation = false;
        tweak(c);
    })
}

fn from(rb: RequestBuilder, client: &str) -> RequestBuilder {
    rb.header("x-forwarded-for", client)
}

fn put_profile(app: &TestApp, id: &str, token: &str, client: &str, n: usize) -> Response {
    from(app.request(Method::PUT, &format!("/api/v1/profiles/{id}"), Some(token)), client)
        .json(&profile(id, &summary(n)))
        .send()
        .unwrap()
}

fn submit_from(app: &TestApp, id: &str, client: &str) -> (u16, Value) {
    let res = from(app.request(Method::POST, "/api/v1/profiles", None), client).json(&profile(id, &summary(0))).send();
    let res = res.unwrap();
    (res.status().as_u16(), res.json().unwrap_or(Value::Null))
}

fn assert_rate_limited(res: Response) {
    assert_eq!(res.status().as_u16(), 429);
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let body: Value = res.json().unwrap();
    assert_eq!(assert_error_shape(&body)["code"], "rate_limited", "{body}");
}

#[test]
fn profile_writes_are_limited_per_token_and_per_client() {
    let app = behind_proxy(|c| c.writes_per_minute = 3);
    // The server makes the ids: each submission's comes back with its edit token.
    let (ids, tokens): (Vec<String>, Vec<String>) = (0..4)
        .map(|i| {
            let (status, body) = submit_from(&app, &format!("w-{i}"), &format!("192.0.2.{i}"));
            assert_eq!(status, 201, "{body}");
            (body["id"].as_str().unwrap().to_string(), body["edit_token"].as_str().unwrap().to_string())
        })
        .unzip();

    // One token, three clients: the token's budget runs out.
    for n in 1..=3 {
        assert_eq!(put_profile(&app, &ids[0], &tokens[0], &format!("198.51.100.{n}"), n).status().as_u16(), 200);
    }
    assert_rate_limited(put_profile(&app, &ids[0], &tokens[0], "198.51.100.9", 4));
    let delete =
        from(app.request(Method::DELETE, &format!("/api/v1/profiles/{}", ids[0]), Some(&tokens[0])), "198.51.100.10");
    assert_rate_limited(delete.send().unwrap());
    assert_eq!(app.engine.profile(&ids[0]).unwrap().unwrap().summary, summary(3), "the refused write was applied");

    // One client, three tokens: the client's budget runs out.
    assert_eq!(put_profile(&app, &ids[1], &tokens[1], "203.0.113.7", 1).status().as_u16(), 200);
    assert_eq!(put_profile(&app, &ids[2], &tokens[2], "203.0.113.7", 1).status().as_u16(), 200);
    assert_eq!(put_profile(&app, &ids[2], &tokens[2], "203.0.113.7", 2).status().as_u16(), 200);
    assert_rate_limited(put_profile(&app, &ids[3], &tokens[3], "203.0.113.7", 1));
    // Another client with a fresh token is served meanwhile.
    assert_eq!(put_profile(&app, &ids[3], &tokens[3], "203.0.113.8", 1).status().as_u16(), 200);

    // Organisers' demand and event writes count too.
    let demand = |n: usize| {
        json!({"id": format!("ab-d-{n}"), "organisation": "Valeo", "title": "Battery housings",
               "description": "Lightweight composite battery housings for light commercial vehicles.", "language": "en"})
    };
    for n in 0..3 {
        let res =
            from(app.request(Method::POST, "/api/v1/demands", Some(&app.organiser)), &format!("192.0.2.{}", 50 + n))
                .json(&demand(n))
                .send()
                .unwrap();
        assert_eq!(res.status().as_u16(), 201);
    }
    let event = json!({"id": "ab-e", "organisation": "Valeo", "slots": 2, "demand_ids": ["ab-d-0"]});
    let res = from(app.request(Method::POST, "/api/v1/events", Some(&app.organiser)), "192.0.2.60").json(&event);
    assert_rate_limited(res.send().unwrap());
}

#[test]
fn all_writes_share_a_global_budget() {
    let app = behind_proxy(|c| {
        c.writes_per_minute = 0;
        c.submissions_per_minute = 0;
        c.global_writes_per_minute = 3;
    });
    // Different clients, different tokens: only the global budget can refuse the last one.
    assert_eq!(submit_from(&app, "g-0", "192.0.2.1").0, 201);
    let (status, body) = submit_from(&app, "g-1", "192.0.2.2");
    assert_eq!(status, 201);
    let (id, token) = (body["id"].as_str().unwrap(), body["edit_token"].as_str().unwrap());
    assert_eq!(put_profile(&app, id, token, "192.0.2.3", 1).status().as_u16(), 200);
    assert_rate_limited(put_profile(&app, id, token, "192.0.2.4", 2));
    let (status, body) = submit_from(&app, "g-2", "192.0.2.5");
    assert_eq!(status, 429, "{body}");
}

/// A client that keeps cookies out of it and does not follow redirects, to see each response.
fn raw_client() -> Client {
    Client::builder().redirect(Policy::none()).timeout(Duration::from_secs(120)).build().expect("client")
}

fn set_cookies(res: &Response) -> Vec<String> {
    res.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect()
}

fn cookie_value(set: &[String], name: &str) -> String {
    set.iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")).map(|rest| rest.split(';').next().unwrap().to_string()))
        .unwrap_or_else(|| panic!("no {name} cookie in {set:?}"))
}

#[test]
fn the_edit_form_shares_the_write_budget_of_the_api() {
    let app = spawn_app_with(|c| {
        c.insecure_http_cookies = true;
        c.writes_per_minute = 1;
    });
    let token = app.submit_ok(&profile("form-w", &summary(0)));
    let res = app.request(Method::PUT, "/api/v1/profiles/form-w", Some(&token)).json(&profile("form-w", &summary(1)));
    assert_eq!(res.send().unwrap().status().as_u16(), 200);

    let client = raw_client();
    let csrf = cookie_value(&set_cookies(&client.get(app.url("/submit")).send().unwrap()), "pm_csrf");
    let save = |path: &str, extra: &[(&str, &str)]| {
        let mut form = vec![("csrf", csrf.as_str()), ("id", "form-w"), ("edit_token", token.as_str())];
        form.extend_from_slice(extra);
        client.post(app.url(path)).header("cookie", format!("pm_csrf={csrf}")).form(&form).send().unwrap()
    };
    let summary2 = summary(2);
    let fields = [("name", "form-w B.V."), ("kind", "company"), ("language", "en"), ("summary", summary2.as_str())];
    let res = save("/supplier/save", &fields);
    assert_eq!(res.status().as_u16(), 429);
    assert!(res.text().unwrap().contains("try again in"));
    assert_eq!(save("/supplier/delete", &[]).status().as_u16(), 429);
    assert_eq!(app.engine.profile("form-w").unwrap().unwrap().summary, summary(1));
}

#[test]
fn an_unchanged_profile_is_not_stored_again() {
    let app = spawn_app_with(|c| c.insecure_http_cookies = true);
    let token = app.submit_ok(&profile("same-put", &summary(0)));
    let stored: Value = app.get("/api/v1/profiles/same-put", Some(&token)).json().unwrap();
    let version = app.engine.profiles_version().unwrap();
    for body in [stored.clone(), profile("same-put", &summary(0))] {
        let res = app.send_json(Method::PUT, "/api/v1/profiles/same-put", Some(&token), &body);
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(res.json::<Value>().unwrap(), stored);
        assert_eq!(app.engine.profiles_version().unwrap(), version, "an unchanged PUT stored a new version");
    }
    let res = app.send_json(Method::PUT, "/api/v1/profiles/same-put", Some(&token), &profile("same-put", &summary(1)));
    assert_eq!(res.status().as_u16(), 200);
    assert!(app.engine.profiles_version().unwrap() > version, "a changed PUT stored nothing");
}

#[test]
fn selection_rules_beyond_their_maxima_are_refused_with_422() {
    let app = spawn_app_with(|c| c.insecure_http_cookies = true);
    let pins: Vec<Value> = (0..501).map(|i| json!({"profile_id": format!("p-{i}"), "event_id": "psa-2027"})).collect();
    for (rules, field) in [
        (json!({"time_limit_secs": 86400}), "time_limit_secs"),
        (json!({"top_n": 1_000_000}), "top_n"),
        (json!({"reserves": 100_000}), "reserves"),
        (json!({"pins": pins}), "pins"),
    ] {
        let res = app.send_json(Method::POST, "/api/v1/events/psa-2027/selection", Some(&app.organiser), &rules);
        assert_eq!(res.status().as_u16(), 422, "{field}");
        let body: Value = res.json().unwrap();
        let error = assert_error_shape(&body);
        assert_eq!(error["field"], field, "{body}");
        assert!(error["details"][0]["rule"].as_str().unwrap().starts_with("must be at most"), "{body}");
    }
    let ok = json!({"time_limit_secs": 300, "top_n": 200});
    let res = app.send_json(Method::POST, "/api/v1/events/psa-2027/selection", Some(&app.organiser), &ok);
    assert_eq!(res.status().as_u16(), 200);
}

#[test]
fn the_command_line_refuses_rules_beyond_their_maxima() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_pitchmatch");
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    let data = dir.path().join("data");
    let out = Command::new(bin)
        .arg("--data-dir")
        .arg(&data)
        .args(["import", "--defer-embedding", "--profiles"])
        .arg(demo.join("profiles.jsonl"))
        .arg("--demands")
        .arg(demo.join("demands.jsonl"))
        .arg("--events")
        .arg(demo.join("events.jsonl"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rules = dir.path().join("rules.json");
    std::fs::write(&rules, r#"{"time_limit_secs": 86400}"#).unwrap();
    let out = Command::new(bin)
        .arg("--data-dir")
        .arg(&data)
        .args(["select", "--event", "psa-2027", "--rules"])
        .arg(&rules)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("time_limit_secs must be at most 300"), "{stderr}");
}

#[test]
fn clients_behind_a_trusted_proxy_have_budgets_of_their_own() {
    let app = behind_proxy(|c| c.submissions_per_minute = 1);
    assert_eq!(submit_from(&app, "px-0", "198.51.100.1").0, 201);
    assert_eq!(submit_from(&app, "px-1", "198.51.100.1").0, 429, "same client, second submission");
    assert_eq!(submit_from(&app, "px-2", "198.51.100.2").0, 201, "another client behind the same proxy");
    // A client that appends a forged hop to the header is still the address the proxy saw.
    assert_eq!(submit_from(&app, "px-3", "203.0.113.9, 198.51.100.1").0, 429);
    // IPv6 clients are one client per /64.
    assert_eq!(submit_from(&app, "px-4", "2001:db8:1:2::1").0, 201);
    assert_eq!(submit_from(&app, "px-5", "2001:db8:1:2:ffff::7").0, 429, "same /64");
    assert_eq!(submit_from(&app, "px-6", "2001:db8:1:3::1").0, 201, "another /64");

    // Without the proxy trusted, the header is the client's own word and changes nothing.
    let app = spawn_app_with(|c| c.submissions_per_minute = 1);
    assert_eq!(submit_from(&app, "sp-0", "198.51.100.1").0, 201);
    assert_eq!(submit_from(&app, "sp-1", "198.51.100.2").0, 429, "a spoofed X-Forwarded-For got a new budget");
}

#[test]
fn cookies_are_host_only_and_secure_unless_set_up_for_plain_http() {
    // The fixtures run on plain http; this server runs as `serve` does by default.
    let app = spawn_app_with(|c| c.insecure_http_cookies = false);
    let client = raw_client();
    let set = set_cookies(&client.get(app.url("/submit")).send().unwrap());
    let csrf = set.iter().find(|c| c.starts_with("__Host-pm_csrf=")).unwrap_or_else(|| panic!("{set:?}"));
    assert!(csrf.contains("; Secure") && csrf.contains("Path=/") && !csrf.contains("Domain"), "{csrf}");
    // The pages read the cookie under its prefixed name: signing in works and sets a session.
    let value = cookie_value(&set, "__Host-pm_csrf");
    let res = client
        .post(app.url("/organiser/sign-in"))
        .header("cookie", format!("__Host-pm_csrf={value}"))
        .form(&[("csrf", value.as_str()), ("token", app.organiser.as_str())])
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let session = set_cookies(&res);
    assert!(session.iter().any(|c| c.starts_with("__Host-pm_session=") && c.contains("; Secure")), "{session:?}");
    // A claimed plain-http scheme changes nothing.
    let res = client.get(app.url("/submit")).header("x-forwarded-proto", "http").send().unwrap();
    assert!(set_cookies(&res).iter().all(|c| c.starts_with("__Host-") && c.contains("; Secure")));

    let app = spawn_app_with(|c| c.insecure_http_cookies = true);
    let set = set_cookies(&client.get(app.url("/submit")).send().unwrap());
    assert!(set.iter().any(|c| c.starts_with("pm_csrf=") && !c.contains("Secure")), "{set:?}");
}

#[test]
fn hsts_is_sent_on_https_only() {
    let hsts = |res: &Response| res.headers().get("strict-transport-security").map(|v| v.to_str().unwrap().to_string());
    let app = spawn_app_with(|c| c.public_url = "https://pitchmatch.example".into());
    assert_eq!(hsts(&app.get("/healthz", None)).as_deref(), Some("max-age=31536000"));
    assert!(hsts(&app.get("/submit", None)).is_some());

    let app = spawn_app_with(|_| {});
    let proto = |app: &TestApp| app.request(Method::GET, "/healthz", None).header("x-forwarded-proto", "https");
    assert_eq!(hsts(&app.get("/healthz", None)), None);
    assert_eq!(hsts(&proto(&app).send().unwrap()), None, "an untrusted peer's X-Forwarded-Proto believed");
    let app = behind_proxy(|_| {});
    assert!(hsts(&proto(&app).send().unwrap()).is_some());
}

#[test]
fn metrics_are_for_organisers_or_on_their_own_address() {
    let app = spawn_app_with(|_| {});
    assert_eq!(app.get("/metrics", None).status().as_u16(), 401);
    let token = app.submit_ok(&profile("m-1", &summary(0)));
    assert_eq!(app.get("/metrics", Some(&token)).status().as_u16(), 403);
    assert_eq!(app.get("/metrics", Some(&app.organiser)).status().as_u16(), 200);

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_with(|c| c.metrics_addr = format!("127.0.0.1:{port}"));
    assert_eq!(app.get("/metrics", Some(&app.organiser)).status().as_u16(), 404);
    let client = raw_client();
    let res = client.get(format!("http://127.0.0.1:{port}/metrics")).send().unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().unwrap().contains("pitchmatch_profiles 56"));
    let res = client.get(format!("http://127.0.0.1:{port}/api/v1/demands")).bearer_auth(&app.organiser).send();
    assert_eq!(res.unwrap().status().as_u16(), 404, "the metrics address serves the API");
}
