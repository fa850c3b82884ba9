//! The web pages end to end: a real headless Chromium, driven through chromedriver,
//! against a real server on a free port over a fresh copy of the demo data. A supplier submits a
//! profile through the form (first with mistakes), an organiser signs in, finds it in a shortlist,
//! runs an event selection and downloads CSV. Every page visited is kept as a PNG screenshot under
//! `target/web-screenshots/`. The plain-HTTP tests below check the safety properties a browser
//! would hide: headers, CSRF, access rules, escaping.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::redirect::Policy;

use crate::helpers::{spawn_app, TestApp};
use crate::webdriver::Browser;

const WAIT: Duration = Duration::from_secs(60);

fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").join("web-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

#[test]
fn web_supplier_and_organiser_flows_in_a_real_browser() {
    let app = spawn_app();
    let browser = Browser::start();
    let shots = screenshot_dir();
    let shot = |name: &str| browser.screenshot(&shots.join(format!("{name}.png")));

    browser.goto(&app.url("/"));
    shot("01-home");
    browser.find("#go-submit").click();
    browser.wait_for("#profile-form", WAIT);

    // A bad submission: summary too short, TRL not a number, no kind. Every rule is shown at its field.
    assert!(browser.find_all("#f-id").is_empty(), "the form asks for an id; the service makes it");
    browser.find("#f-name").type_text("Waterstofvat <Composites> B.V.");
    browser.find("#f-summary").type_text("Tanks.");
    browser.find("#f-trl").type_text("ten");
    browser.find("#submit-profile").click();
    browser.wait_for("#error-summary", WAIT);
    let summary_error = browser.find("#e-summary").text();
    assert!(summary_error.contains("must be 20-5000 characters long"), "{summary_error}");
    assert!(browser.find("#e-trl").text().contains("must be an integer from 1 to 9"));
    assert!(browser.find("#e-kind").text().contains("is required"));
    assert!(browser.find_all("#e-name").is_empty(), "a valid field was flagged");
    // What was typed is kept, escaped, for correcting.
    assert!(browser.source().contains("Waterstofvat &lt;Composites&gt; B.V."));
    shot("02-submit-invalid");
    assert_eq!(app.engine.pending_count().unwrap(), 0, "an invalid profile was stored");

    // Corrected and completed.
    browser.find("#f-kind option[value=company]").click();
    browser.find("#f-size option[value=sme]").click();
    browser.find("#f-language option[value=en]").click();
    browser.find("#f-summary").clear().type_text(
        "We design lighter and cheaper Type IV hydrogen storage vessels: carbon fibre wound composite \
         pressure tanks with thin polymer liners for vans and trucks.",
    );
    browser.find("#f-keywords").type_text("hydrogen storage, composite pressure vessel, carbon fibre");
    browser.find("input[name=themes][value=green_mobility]").click();
    browser.find("input[name=pitch_languages][value=en]").click();
    browser.find("input[name=pitch_languages][value=fr]").click();
    browser.find("#f-trl").clear().type_text("6");
    browser.find("#f-contact_email").type_text("info@waterstofvat.example");
    browser.find("#submit-profile").click();
    browser.wait_for("#submitted", WAIT);
    let token = browser.find("#edit-token").text();
    assert!(token.starts_with("pme_") && token.len() == 68, "edit token {token:?}");
    assert!(browser.find("#stored-profile").text().contains("Waterstofvat <Composites> B.V."));
    let id = browser.find("#profile-id").text();
    let id = id.as_str();
    assert!(id.starts_with("waterstofvat-composites-b-v-"), "{id}");
    assert!(browser.find("#pending-note").text().contains("waiting for the organisers' approval"));
    shot("03-submitted");
    let (stored, _) = app.engine.profile_with_status(id).unwrap().expect("stored profile");
    assert_eq!(stored.trl, Some(6));
    assert_eq!(stored.keywords.len(), 3);
    assert_eq!(stored.pitch_languages, vec![pitchmatch::domain::Language::En, pitchmatch::domain::Language::Fr]);

    // Organiser: a wrong token is refused, the right one signs in.
    browser.goto(&app.url("/organiser"));
    browser.find("#f-token").type_text("pmo_not-a-token");
    browser.find("#sign-in").click();
    assert!(browser.wait_for("#sign-in-error", WAIT).text().contains("Unknown or revoked"));
    browser.find("#f-token").type_text(&app.organiser);
    browser.find("#sign-in").click();
    browser.wait_for("#sign-out", WAIT);
    assert!(browser.source().contains("Signed in as"));
    assert!(!browser.source().contains(&app.organiser), "the organiser token is echoed in a page");
    shot("04-dashboard");

    // The submission waits in the moderation queue until approved.
    browser.find("#nav-moderation").click();
    browser.wait_for(&format!("#pending-{id}"), WAIT);
    shot("04b-moderation");
    browser.find(&format!("#approve-{id}")).click();
    browser.wait_for("#pending-count", WAIT);
    assert!(browser.find_all(&format!("#pending-{id}")).is_empty(), "still pending after approval");
    assert!(app.engine.profile(id).unwrap().is_some());
    browser.find("#nav-audit").click();
    let audit = browser.wait_for("#audit", WAIT).text();
    assert!(audit.contains("test-organiser approve profile") || audit.contains("approve"), "{audit}");
    browser.goto(&app.url("/organiser"));
    browser.wait_for("#sign-out", WAIT);

    // The new profile in the hydrogen demand's shortlist, filtered, with its explanation.
    browser.find("a[href='/organiser/demands/demo-d-10']").click();
    browser.wait_for("#filters", WAIT);
    browser.find("#q-theme option[value=green_mobility]").click();
    browser.find("#q-min_trl").type_text("5");
    browser.find("#apply-filters").click();
    // The unfiltered page lists the profile too: wait for the filtered one before looking.
    browser.wait_for_url("min_trl=5", WAIT);
    let result = browser.wait_for(&format!("#result-{id}"), WAIT);
    assert!(result.text().contains("Waterstofvat <Composites> B.V."));
    assert!(!browser.find_all(&format!("#result-{id} blockquote.passage mark")).is_empty(), "no highlighted passage");
    assert!(browser.url().contains("theme=green_mobility") && browser.url().contains("min_trl=5"));
    for r in browser.find_all("li.result p.facets") {
        assert!(r.text().contains("green_mobility"), "theme filter not applied: {}", r.text());
    }
    assert!(!browser.source().contains("info@waterstofvat.example"), "a shortlist shows a contact e-mail");
    assert!(
        browser.source().contains("likeness to the best match (centred)"),
        "the score breakdown leaves out the likeness to the best match"
    );
    shot("05-shortlist");
    browser.find("#shortlist-csv").click();
    let csv = String::from_utf8(browser.wait_for_download("shortlist-demo-d-10.csv", WAIT)).expect("UTF-8 CSV");
    assert!(csv.starts_with("\u{feff}demand_id,organisation,rank,profile_id"), "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("demo-d-10,") && l.contains(id)), "{csv}");

    // An event: run the selection, see line-up (with what the OEM's reviewers said), reserves and
    // why-not; download it.
    let planned = app
        .engine
        .select_event("psa-2027", &pitchmatch::select::SeasonRules::default(), pitchmatch::domain::Ranker::default())
        .unwrap();
    let liked = planned.events[0].selected[0].clone();
    // A profile far down demo-d-01's list that the OEM also likes: the line-up leaves it out, so
    // it is a pin request.
    let far = app.engine.rank_demand("demo-d-01", 30, &Default::default(), Default::default()).unwrap().results[25]
        .profile_id
        .clone();
    app.engine
        .record_decision(
            "demo-d-01",
            &far,
            pitchmatch::domain::Verdict::Interested,
            None,
            pitchmatch::engine::Actor::command_line(),
        )
        .unwrap();
    let organiser_actor = pitchmatch::engine::Actor::command_line();
    app.engine
        .record_decision(
            &liked.demand_id,
            &liked.profile_id,
            pitchmatch::domain::Verdict::Interested,
            None,
            organiser_actor,
        )
        .unwrap();
    browser.goto(&app.url("/organiser/events/psa-2027"));
    shot("06-event");
    browser.find("#run-selection").click();
    browser.wait_for("#lineup", Duration::from_secs(180));
    let pitches = browser.find_all("#lineup tbody tr").len();
    assert_eq!(pitches, 8, "PSA has 8 slots");
    assert!(browser.find("#selection-summary").text().contains("8 of 8 slots filled"));
    let decisions: Vec<String> = browser.find_all("#lineup tbody td.decision").iter().map(|r| r.text()).collect();
    let liked_row = browser.find(&format!("#lineup-{} td.decision", liked.profile_id)).text();
    assert_eq!(liked_row, "interested", "the liked pitch is in the line-up with the OEM's decision");
    assert_eq!(decisions.iter().filter(|r| *r == "interested").count(), 1, "{decisions:?}");
    let requests = browser.find("#pin-requests").text();
    assert!(requests.contains(&far) && !requests.contains(&liked.profile_id), "{requests}");
    shot("07a-pin-request");
    browser.find(&format!("#accept-{far}")).click();
    browser.wait_for_source("pinned</td>", Duration::from_secs(180));
    assert_eq!(browser.find_all("#lineup tbody tr").len(), 8);
    let pinned = browser.find(&format!("#lineup-{far}")).text();
    assert!(pinned.contains("pinned"), "{pinned}");
    assert_eq!(browser.find(&format!("#lineup-{far} td.decision")).text(), "interested");
    assert!(browser.find_all("#pin-requests").is_empty(), "no request left");
    assert!(!browser.find_all("#reserves tbody tr").is_empty(), "no reserves shown");
    assert!(browser.source().contains("Why not?"));
    shot("07-selection");
    browser.find("#selection-csv").click();
    let csv = String::from_utf8(browser.wait_for_download("selection-psa-2027.csv", Duration::from_secs(180))).unwrap();
    assert!(csv.starts_with("\u{feff}event_id,role,position,profile_id,demand_id,value"), "{csv}");
    assert_eq!(csv.lines().filter(|l| l.starts_with("psa-2027,selected,")).count(), 8, "{csv}");

    // The day's agenda: two rooms from 10:00, a setting that cannot be used is shown at its field,
    // and the calendar file holds the 8 pitches at their times.
    browser.find("#plan-agenda").click();
    browser.wait_for("#agenda", Duration::from_secs(180));
    browser.find("#a-rooms").clear().type_text("0");
    browser.find("#plan-day").click();
    assert!(browser.wait_for("#a-rooms-error", WAIT).text().contains("must be 1-20"));
    browser.find("#a-rooms").clear().type_text("2");
    browser.find("#a-start").clear().type_text("10:00");
    browser.find("#plan-day").click();
    browser.wait_for("#agenda", Duration::from_secs(180));
    assert_eq!(browser.find_all("#agenda tbody tr:not(.break)").len(), 8, "one row per pitch");
    shot("07b-agenda");
    browser.find("#agenda-ics").click();
    let ics = String::from_utf8(browser.wait_for_download("agenda-psa-2027.ics", Duration::from_secs(180))).unwrap();
    let calendar: icalendar::Calendar = ics.parse().expect("the agenda parses as iCalendar");
    let starts: Vec<&str> = calendar
        .components
        .iter()
        .filter_map(|c| c.as_event())
        .filter_map(|e| icalendar::Component::property_value(e, "DTSTART"))
        .collect();
    assert_eq!(starts.len(), 8, "{ics}");
    assert_eq!(
        starts.iter().filter(|s| **s == "20270316T090000Z").count(),
        2,
        "both rooms start at 10:00 (+01:00): {starts:?}"
    );

    // A new event made in the pages: a demand area with mistakes (each rule at its field, nothing
    // saved), corrected; a second one; the event with both; its line-up from their shortlists.
    browser.goto(&app.url("/organiser"));
    browser.find("#new-demand").click();
    browser.wait_for("#demand-form", WAIT);
    browser.find("#f-id").type_text("valeo-thermal");
    browser.find("#f-title").type_text("Thermal loops");
    browser.find("#f-description").type_text("too short");
    browser.find("#save-demand").click();
    browser.wait_for("#form-errors", WAIT);
    assert!(browser.find("#e-organisation").text().contains("is required"));
    assert!(browser.find("#e-description").text().contains("must be 20-5000 characters"));
    assert!(app.engine.demand("valeo-thermal").unwrap().is_none(), "an invalid demand area was saved");
    shot("07c-demand-errors");
    browser.find("#f-organisation").type_text("Valeo");
    browser.find("#f-description").clear().type_text(
        "Une seule boucle thermique pour la batterie et l'habitacle : pompes à chaleur, vannes et capteurs de température.",
    );
    browser.find("#save-demand").click();
    browser.wait_for("#filters", Duration::from_secs(180));
    let thermal = app.engine.demand("valeo-thermal").unwrap().expect("saved");
    assert_eq!(thermal.language.code(), "fr");
    browser.goto(&app.url("/organiser/new-demand"));
    browser.find("#f-id").type_text("valeo-h2");
    browser.find("#f-organisation").type_text("Valeo");
    browser.find("#f-title").type_text("Hydrogen storage");
    browser.find("#f-description").type_text("Lighter composite pressure vessels and valves for hydrogen vans.");
    browser.find("#save-demand").click();
    browser.wait_for("#filters", Duration::from_secs(180));
    browser.goto(&app.url("/organiser/new-event"));
    browser.find("#f-id").type_text("valeo-2027");
    browser.find("#f-organisation").type_text("Valeo");
    browser.find("#f-slots").type_text("four");
    browser.find("input[name=demand_ids][value=valeo-thermal]").click();
    browser.find("input[name=demand_ids][value=valeo-h2]").click();
    browser.find("#save-event").click();
    assert!(browser.wait_for("#e-slots", WAIT).text().contains("must be"), "a bad slot count is named");
    browser.find("#f-slots").clear().type_text("4");
    browser.find("#f-min_knowledge_institutions").type_text("2");
    for code in ["fr", "en", "nl"] {
        browser.find(&format!("input[name=pitch_languages][value={code}]")).click();
    }
    browser.find("#save-event").click();
    assert!(browser.wait_for("#event-quotas", WAIT).text().contains("at least 2 knowledge institutions"));
    assert!(browser.find("#event-pitch-languages").text().contains("Pitches in: fr, en, nl"));
    browser.find("#run-selection").click();
    browser.wait_for("#lineup", Duration::from_secs(180));
    let demands: Vec<String> = browser.find_all("#lineup tbody tr td:nth-child(3)").iter().map(|c| c.text()).collect();
    assert_eq!(demands.len(), 4, "{demands:?}");
    assert!(
        demands.iter().any(|d| d == "Thermal loops") && demands.iter().any(|d| d == "Hydrogen storage"),
        "{demands:?}"
    );
    shot("07d-new-event");
    let line_up = app
        .engine
        .select_event("valeo-2027", &pitchmatch::select::SeasonRules::default(), pitchmatch::domain::Ranker::default())
        .unwrap();
    let institutions = line_up.events[0].selected.iter().filter(|p| p.kind == "knowledge_institution").count();
    assert!(institutions >= 2, "the quota set in the page reached the solver: {:?}", line_up.events[0]);

    // The landscape: every embedded profile (56 demo + the new one) and every demand area.
    browser.goto(&app.url("/landscape"));
    browser.wait_for("#landscape-map svg", WAIT);
    assert_eq!(browser.find_all("#landscape-map circle.profile").len(), 57);
    assert_eq!(browser.find_all("#landscape-map polygon.demand").len(), 14);
    assert!(browser.find_all("#clusters li").len() >= 2);
    assert_eq!(browser.find_all("#demand-supply tbody tr").len(), 14);
    shot("08-landscape");

    // Sign-out ends the session: organiser pages send the browser back to sign-in.
    browser.find("#sign-out").click();
    browser.wait_for("#sign-in", WAIT);
    browser.goto(&app.url("/landscape"));
    browser.wait_for("#sign-in", WAIT);
    assert!(browser.url().ends_with("/organiser"), "{}", browser.url());

    // The supplier edits, then deletes the profile with the token.
    browser.goto(&app.url(&format!("/supplier/edit?id={id}")));
    browser.find("#f-token").type_text(&token);
    browser.find("button[type=submit].primary").click();
    browser.wait_for("#delete-profile", WAIT);
    shot("09-edit");
    browser.find("#f-name").clear().type_text("Waterstofvat Composites B.V.");
    browser.find("#submit-profile").click();
    browser.wait_for("#saved", WAIT);
    assert_eq!(app.engine.profile(id).unwrap().expect("profile").name, "Waterstofvat Composites B.V.");
    browser.goto(&app.url(&format!("/supplier/edit?id={id}")));
    browser.find("#f-token").type_text(&token);
    browser.find("button[type=submit].primary").click();
    browser.wait_for("#delete-profile", WAIT).click();
    browser.wait_for("#deleted", WAIT);
    shot("10-deleted");
    assert!(app.engine.profile(id).unwrap().is_none());
}

/// A client that keeps cookies out of it and does not follow redirects, to see each response.
fn raw_client() -> Client {
    Client::builder().redirect(Policy::none()).timeout(Duration::from_secs(120)).build().expect("client")
}

fn csrf_from(res: &reqwest::blocking::Response) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("pm_csrf=").map(|rest| rest.split(';').next().unwrap_or_default().to_string()))
        .expect("a pm_csrf cookie")
}

fn session_cookie(app: &TestApp, client: &Client, csrf: &str) -> String {
    let res = client
        .post(app.url("/organiser/sign-in"))
        .header("cookie", format!("pm_csrf={csrf}"))
        .form(&[("csrf", csrf), ("token", app.organiser.as_str())])
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let set = res.headers().get("set-cookie").expect("session cookie").to_str().unwrap().to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"), "{set}");
    set.split(';').next().unwrap().to_string()
}

#[test]
fn web_pages_carry_a_strict_csp_and_forms_need_the_csrf_token() {
    let app = spawn_app();
    let client = raw_client();
    for path in ["/", "/submit", "/organiser", "/supplier/edit"] {
        let res = client.get(app.url(path)).send().unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let csp = res.headers().get("content-security-policy").expect("CSP").to_str().unwrap();
        assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'none'"), "{path}: {csp}");
        assert_eq!(res.headers().get("x-content-type-options").unwrap(), "nosniff");
        let html = res.text().unwrap();
        assert!(!html.contains("<script") && !html.contains("style="), "{path} has inline script or style");
    }
    let css = client.get(app.url("/static/style.css")).send().unwrap();
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));

    // A form posted without the cookie's token (as another site would) is refused and stores nothing.
    let res = client.get(app.url("/submit")).send().unwrap();
    let csrf = csrf_from(&res);
    let profile = [
        ("id", "csrf-test"),
        ("name", "Forged B.V."),
        ("kind", "company"),
        ("summary", "A summary that is certainly long enough to pass."),
    ];
    let forged = client.post(app.url("/submit")).form(&profile).send().unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert!(forged.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "errors are pages");
    let wrong = client
        .post(app.url("/submit"))
        .header("cookie", format!("pm_csrf={csrf}"))
        .form(&[profile.as_slice(), &[("csrf", "pmc_0")]].concat())
        .send()
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 403);
    assert_eq!(app.engine.pending_count().unwrap(), 0);
    let ok = client
        .post(app.url("/submit"))
        .header("cookie", format!("pm_csrf={csrf}"))
        .form(&[profile.as_slice(), &[("csrf", csrf.as_str())]].concat())
        .send()
        .unwrap();
    assert_eq!(ok.status().as_u16(), 201);
    assert!(ok.headers()["cache-control"].to_str().unwrap().contains("no-store"), "the token page may be cached");
    assert_eq!(app.engine.pending_count().unwrap(), 1);

    // Sign-in is CSRF-checked too (no login CSRF).
    let res = client.post(app.url("/organiser/sign-in")).form(&[("token", app.organiser.as_str())]).send().unwrap();
    assert_eq!(res.status().as_u16(), 403);
}

#[test]
fn web_organiser_pages_need_a_live_session() {
    let app = spawn_app();
    let client = raw_client();
    for path in [
        "/landscape",
        "/organiser/demands/demo-d-10",
        "/organiser/events/psa-2027",
        "/organiser/events/psa-2027/agenda",
        "/organiser/new-demand",
        "/organiser/demands/demo-d-10/edit",
        "/organiser/new-event",
        "/organiser/events/psa-2027/edit",
    ] {
        let res = client.get(app.url(path)).send().unwrap();
        assert_eq!(res.status().as_u16(), 303, "{path} without a session");
        assert_eq!(res.headers()["location"], "/organiser");
    }
    for path in [
        "/organiser/demands/demo-d-10/shortlist.csv",
        "/organiser/events/psa-2027/selection.csv",
        "/organiser/events/psa-2027/agenda.ics",
        "/organiser/events/psa-2027/agenda.csv",
    ] {
        assert_eq!(client.get(app.url(path)).send().unwrap().status().as_u16(), 403, "{path}");
    }
    // A forged session cookie is nobody.
    let res = client.get(app.url("/landscape")).header("cookie", "pm_session=pms_forged").send().unwrap();
    assert_eq!(res.status().as_u16(), 303);

    let csrf = csrf_from(&client.get(app.url("/organiser")).send().unwrap());
    // A valid form token is not a session: no record is written or deleted without one.
    for path in ["/organiser/events/psa-2027/delete", "/organiser/demands/demo-d-10/delete", "/organiser/new-event"] {
        let res = client
            .post(app.url(path))
            .header("cookie", format!("pm_csrf={csrf}"))
            .form(&[("csrf", csrf.as_str()), ("id", "x"), ("organisation", "X"), ("slots", "1")])
            .send()
            .unwrap();
        assert_eq!(res.status().as_u16(), 403, "{path} without a session");
    }
    assert!(app.engine.event("psa-2027").unwrap().is_some() && app.engine.demand("demo-d-10").unwrap().is_some());
    let session = session_cookie(&app, &client, &csrf);
    let cookies = format!("{session}; pm_csrf={csrf}");
    // Signed in, an event is deleted from its edit page (its demand areas stay) and the log says who.
    let res = client
        .post(app.url("/organiser/events/renault-2027/delete"))
        .header("cookie", &cookies)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert!(app.engine.event("renault-2027").unwrap().is_none());
    assert!(app.engine.demand("demo-d-03").unwrap().is_some(), "an event's demand areas outlive it");
    let log = app.engine.audit_log(None, Some("renault-2027"), 10).unwrap();
    assert!(log.iter().any(|e| e.action == "delete" && e.kind == "event" && e.actor == "test-organiser"), "{log:?}");
    let res = client.get(app.url("/organiser/demands/demo-d-10?kind=bogus")).header("cookie", &cookies).send().unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().unwrap().contains("unknown kind"), "a bad filter must be reported");
    let missing = client.get(app.url("/organiser/demands/no-such")).header("cookie", &cookies).send().unwrap();
    assert_eq!(missing.status().as_u16(), 404);

    // Revoking the token ends its sessions at once.
    app.engine.revoke_token("test-organiser").unwrap();
    let res = client.get(app.url("/organiser/demands/demo-d-10")).header("cookie", &cookies).send().unwrap();
    assert_eq!(res.status().as_u16(), 303, "a revoked token's session still works");
}

#[test]
fn web_supplier_pages_need_the_profiles_own_token() {
    let app = spawn_app();
    let client = raw_client();
    let token = app.submit_ok(&serde_json::json!({
        "id": "web-owner", "name": "Owner B.V.", "kind": "company",
        "summary": "We make recycled seat covers from polyester yarn.", "contact_email": "owner@example.org"
    }));
    let other = app.submit_ok(&serde_json::json!({
        "id": "web-other", "name": "Other B.V.", "kind": "company",
        "summary": "We make battery housings from recycled aluminium."
    }));
    let csrf = csrf_from(&client.get(app.url("/supplier/edit")).send().unwrap());
    let open = |id: &str, token: &str| {
        client
            .post(app.url("/supplier/edit"))
            .header("cookie", format!("pm_csrf={csrf}"))
            .form(&[("csrf", csrf.as_str()), ("id", id), ("edit_token", token)])
            .send()
            .unwrap()
    };
    let res = open("web-owner", &other);
    assert_eq!(res.status().as_u16(), 403, "another profile's token opened the form");
    assert!(!res.text().unwrap().contains("owner@example.org"));
    assert_eq!(open("web-owner", &app.organiser).status().as_u16(), 403, "supplier pages are for suppliers");
    let res = open("web-owner", &token);
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().unwrap().contains("owner@example.org"));
    let delete = client
        .post(app.url("/supplier/delete"))
        .header("cookie", format!("pm_csrf={csrf}"))
        .form(&[("csrf", csrf.as_str()), ("id", "web-owner"), ("edit_token", other.as_str())])
        .send()
        .unwrap();
    assert_eq!(delete.status().as_u16(), 403);
    assert!(app.engine.profile("web-owner").unwrap().is_some());
}

/// An OEM reviewer in the real browser: signs in with a reviewer token, sees only its
/// organisation's demand areas, answers on a profile card with a note (in French), and the
/// organiser sees the decision on the demand area's page. Another organisation's review page is
/// refused, and no contact e-mail shows.
#[test]
fn web_reviewer_decides_on_the_pre_selection_in_a_real_browser() {
    let app = spawn_app();
    let reviewer = app.engine.create_reviewer_token("psa-innovation", "PSA Group").unwrap();
    let browser = Browser::start();
    let shots = screenshot_dir();
    let shot = |name: &str| browser.screenshot(&shots.join(format!("{name}.png")));

    browser.goto(&app.url("/organiser"));
    browser.find("#f-token").type_text(&reviewer);
    browser.find("#sign-in").click();
    browser.wait_for("#review-areas", WAIT);
    let areas: Vec<String> = browser.find_all("#review-areas li a").iter().map(|a| a.text()).collect();
    assert_eq!(areas.len(), 2, "PSA Group has two demand areas: {areas:?}");
    browser.find("#switch-lang").click();
    browser.wait_for("#review-areas", WAIT);
    assert!(browser.source().contains("Vos axes d'intérêt"), "no French labels");
    browser.goto(&app.url("/review/demands/demo-d-01?lang=fr"));
    browser.wait_for("#review-cards", Duration::from_secs(180));
    let cards = browser.find_all("#review-cards article");
    assert!(!cards.is_empty() && cards.len() <= 10, "{} cards", cards.len());
    assert!(!browser.source().contains('@'), "a contact e-mail shows to a reviewer");
    let reasons: Vec<String> = browser.find_all("#review-cards .reason").iter().map(|r| r.text()).collect();
    assert!(reasons.iter().all(|r| r.contains("par le sens") && !r.contains("in meaning")), "{reasons:?}");
    shot("11-review-fr");
    let first = browser.find("#review-cards article").attr("id").trim_start_matches("p-").to_string();
    browser.find(&format!("#note-{first}")).type_text("Rencontre prévue");
    browser.find(&format!("#p-{first} button[value=interested]")).click();
    // The page comes back with the undecided profiles re-ranked by the decision.
    browser.wait_for_source(r#"class="verdict">Intéressé<"#, Duration::from_secs(180));
    assert_eq!(browser.find(&format!("#p-{first} .verdict")).text(), "Intéressé");
    let stored = app.engine.decisions("demo-d-01").unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].profile_id.as_str(), stored[0].note.as_deref(), stored[0].by.as_deref()),
        (first.as_str(), Some("Rencontre prévue"), Some("psa-innovation"))
    );
    shot("12-review-decided");

    // Another organisation's demand area is not for this reviewer; nor are the organiser pages.
    browser.goto(&app.url("/review/demands/demo-d-03"));
    assert!(browser.source().contains("another organisation"));
    browser.goto(&app.url("/organiser/demands/demo-d-01"));
    browser.wait_for("#review-areas", WAIT);
    assert!(browser.url().ends_with("/review"), "{}", browser.url());
    browser.find("#sign-out").click();
    browser.wait_for("#sign-in", WAIT);

    // The organiser sees the decision, who made it and the note.
    browser.find("#f-token").type_text(&app.organiser);
    browser.find("#sign-in").click();
    browser.wait_for("#sign-out", WAIT);
    browser.goto(&app.url("/organiser/demands/demo-d-01"));
    let table = browser.wait_for("#decisions", Duration::from_secs(180)).text();
    assert!(table.contains(&first) && table.contains("interested") && table.contains("psa-innovation"), "{table}");
    assert!(table.contains("Rencontre prévue"), "{table}");
}

/// Pages of a PDF: its page objects (`/Type /Page`, not the `/Type /Pages` tree nodes).
fn pdf_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    text.match_indices("/Type /Page").filter(|(i, _)| !text[i + "/Type /Page".len()..].starts_with('s')).count()
}

/// The booklet for the OEM prints to a PDF with one page per profile, without contact data unless
/// the organiser includes it; for an event it holds exactly the line-up.
#[test]
fn web_booklet_prints_one_profile_per_page() {
    let app = spawn_app();
    let browser = Browser::start();
    let shots = screenshot_dir();
    browser.goto(&app.url("/organiser"));
    browser.find("#f-token").type_text(&app.organiser);
    browser.find("#sign-in").click();
    browser.wait_for("#sign-out", WAIT);

    // With a learned model the shortlist shows each profile's likelihood of interest.
    let qrels = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/qrels.tsv");
    let judgments = pitchmatch::evaluate::read_judgments(&qrels).unwrap();
    let learned = app.engine.learn(Some(("demo", &judgments)), 3, pitchmatch::engine::Actor::command_line()).unwrap();
    browser.goto(&app.url("/organiser/demands/demo-d-01"));
    browser.wait_for("#demand-booklet", Duration::from_secs(180));
    let results = browser.find_all("#results li.result").len();
    let likelihoods: Vec<String> = browser.find_all("#results .likelihood").iter().map(|l| l.text()).collect();
    if learned.kept.is_some() {
        assert_eq!(likelihoods.len(), results, "{likelihoods:?}");
        assert!(likelihoods.iter().all(|l| l.ends_with("% likely to interest")), "{likelihoods:?}");
    } else {
        assert!(likelihoods.is_empty(), "no model, no likelihood: {likelihoods:?}");
    }
    browser.find("#demand-booklet").click();
    browser.wait_for_url("/booklet", WAIT);
    browser.wait_for("#booklet", Duration::from_secs(180));
    let cards = browser.find_all("#booklet article.booklet-card");
    assert_eq!(cards.len(), 10, "the pre-selection's ten profiles");
    let shortlist = app.engine.rank_demand("demo-d-01", 10, &Default::default(), Default::default()).unwrap();
    let names: Vec<String> = browser.find_all("#booklet article.booklet-card h2").iter().map(|h| h.text()).collect();
    let expected: Vec<String> = shortlist.results.iter().map(|r| r.name.clone()).collect();
    assert_eq!(names, expected, "in shortlist order");
    assert!(!browser.source().contains('@'), "contact data shows without being asked for");
    let pdf = browser.print_pdf();
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    assert_eq!(pdf_pages(&pdf), 10, "one page per profile");
    std::fs::write(shots.join("13-booklet.pdf"), &pdf).unwrap();
    browser.screenshot(&shots.join("13-booklet.png"));

    browser.find("#booklet-with-contacts").click();
    browser.wait_for("#booklet-without-contacts", WAIT);
    let with = browser.find("#booklet").text();
    let emails = shortlist.results.iter().filter_map(|r| {
        app.engine.profiles_by_id(std::slice::from_ref(&r.profile_id)).unwrap().pop().and_then(|p| p.contact_email)
    });
    let mut shown = 0;
    for email in emails {
        assert!(with.contains(&email), "{email} missing");
        shown += 1;
    }
    assert!(shown > 0, "the demo's profiles have contact e-mails");

    // An event's booklet: exactly its line-up, one page each.
    let sel = app
        .engine
        .select_event("psa-2027", &pitchmatch::select::SeasonRules::default(), pitchmatch::domain::Ranker::default())
        .unwrap();
    let mut line_up: Vec<String> = sel.events[0].selected.iter().map(|p| format!("b-{}", p.profile_id)).collect();
    browser.goto(&app.url("/organiser/events/psa-2027/booklet"));
    browser.wait_for("#booklet", Duration::from_secs(180));
    let cards = browser.find_all("#booklet article.booklet-card");
    let mut ids: Vec<String> = cards.iter().map(|c| c.attr("id")).collect();
    line_up.sort();
    ids.sort();
    assert_eq!(ids, line_up);
    assert_eq!(pdf_pages(&browser.print_pdf()), line_up.len());
}

/// Likely duplicates in the organiser's pages: a copy of a profile submitted again under its name
/// written another way, and a profile of the same company with the same text under a longer name,
/// show with the evidence. The organiser merges the copy (its reviewer decision moves to the
/// profile kept) and marks the other pair distinct; both leave the page, and the audit log has both.
#[test]
fn web_organiser_merges_a_duplicate_and_marks_a_pair_distinct() {
    use pitchmatch::domain::{Profile, Verdict};
    use pitchmatch::engine::Actor;
    let app = spawn_app();
    let original = app.engine.profile("demo-p-001").unwrap().expect("demo profile");
    let copy = Profile { id: "spadscope-again".into(), name: "SPADSCOPE BV".into(), ..original.clone() };
    let sibling = Profile { id: "spadscope-optics".into(), name: "Spadscope Optics".into(), ..original.clone() };
    app.engine.submit_profile(&copy).unwrap();
    app.engine.submit_profile(&sibling).unwrap();
    app.engine.wait_for_vectors();
    app.engine
        .record_decision("demo-d-01", "spadscope-again", Verdict::Interested, None, Actor::command_line())
        .unwrap();

    let browser = Browser::start();
    browser.goto(&app.url("/organiser"));
    browser.find("#f-token").type_text(&app.organiser);
    browser.find("#sign-in").click();
    browser.wait_for("#sign-out", WAIT);
    browser.find("#nav-duplicates").click();
    assert!(browser.wait_for("#duplicates-count", WAIT).text().starts_with("3 pair(s)"), "{}", browser.source());
    let why = browser.find("#pair-demo-p-001-spadscope-again .why").text();
    assert!(why.contains("names alike (100 %)") && why.contains("texts say the same"), "{why}");
    assert!(!browser.find("#pair-demo-p-001-spadscope-optics").text().contains("reviewer decision"));
    assert!(browser.find("#pair-demo-p-001-spadscope-again").text().contains("1 reviewer decision(s)"));
    browser.screenshot(&screenshot_dir().join("13-duplicates.png"));

    browser.find("#merge-spadscope-again-into-demo-p-001").click();
    browser.wait_for_source("1 pair(s) of profiles", WAIT);
    assert!(browser.find_all("#pair-demo-p-001-spadscope-again").is_empty());
    assert!(app.engine.profile("spadscope-again").unwrap().is_none(), "the merged copy is erased");
    let decided: Vec<(String, Verdict)> =
        app.engine.decisions("demo-d-01").unwrap().into_iter().map(|d| (d.profile_id, d.decision)).collect();
    assert_eq!(
        decided,
        vec![("demo-p-001".to_string(), Verdict::Interested)],
        "the decision moved to the kept profile"
    );

    browser.find("#distinct-demo-p-001-spadscope-optics").click();
    browser.wait_for_source("0 pair(s) of profiles", WAIT);
    assert!(app.engine.likely_duplicates().unwrap().is_empty(), "a pair marked distinct is not proposed again");
    browser.find("#nav-audit").click();
    let audit = browser.wait_for("#audit", WAIT).text();
    assert!(
        audit.contains("spadscope-again into demo-p-001") && audit.contains("demo-p-001 and spadscope-optics"),
        "{audit}"
    );
}

/// The ids of the profiles pitching in an event's kept line-up, with their demand areas.
fn kept_pitches(app: &TestApp, event: &str) -> Vec<(String, String)> {
    let record = app.engine.line_up(event).unwrap().expect("a kept line-up");
    record.selection.selected.iter().map(|p| (p.profile_id.clone(), p.demand_id.clone())).collect()
}

/// A whole Co-Innovation Day curated in the pages: the demand areas and the event with a quota
/// are made, a profile is pinned from a shortlist and another banned from the line-up, two
/// pitches are locked and stay through a re-solve, the line-up is made final, the agenda is
/// planned and its calendar file holds one entry per pitch at its time, and a duplicate merged.
#[test]
fn web_organiser_curates_a_whole_event_from_demand_areas_to_the_agenda() {
    use pitchmatch::domain::Profile;
    let app = spawn_app();
    let original = app.engine.profile("demo-p-001").unwrap().expect("demo profile");
    app.engine
        .submit_profile(&Profile { id: "spadscope-twice".into(), name: "SPADSCOPE BV".into(), ..original })
        .unwrap();
    app.engine.wait_for_vectors();
    let browser = Browser::start();
    let shots = screenshot_dir();
    let shot = |name: &str| browser.screenshot(&shots.join(format!("{name}.png")));
    let slow = Duration::from_secs(180);
    browser.goto(&app.url("/organiser"));
    browser.find("#f-token").type_text(&app.organiser);
    browser.find("#sign-in").click();
    browser.wait_for("#sign-out", WAIT);

    // Two demand areas and the event, all in the pages.
    for (id, title, text) in [
        (
            "hutchinson-seals",
            "Étanchéité des batteries",
            "Joints et mousses d'étanchéité pour packs batterie : résistance au feu, recyclabilité.",
        ),
        (
            "hutchinson-nvh",
            "Quiet electric cabins",
            "Damping materials and active noise control to keep electric vehicle cabins quiet.",
        ),
    ] {
        browser.goto(&app.url("/organiser/new-demand"));
        browser.find("#f-id").type_text(id);
        browser.find("#f-organisation").type_text("Hutchinson");
        browser.find("#f-title").type_text(title);
        browser.find("#f-description").type_text(text);
        browser.find("#save-demand").click();
        browser.wait_for("#filters", slow);
    }
    browser.goto(&app.url("/organiser/new-event"));
    browser.find("#f-id").type_text("hutchinson-2027");
    browser.find("#f-organisation").type_text("Hutchinson");
    browser.find("#f-date").type_text("2027-05-20");
    browser.find("#f-slots").type_text("4");
    browser.find("#f-min_sme_or_startup").type_text("1");
    browser.find("input[name=demand_ids][value=hutchinson-seals]").click();
    browser.find("input[name=demand_ids][value=hutchinson-nvh]").click();
    browser.find("#save-event").click();
    assert!(browser.wait_for("#event-quotas", WAIT).text().contains("at least 1 start-ups/SMEs"));
    assert!(browser.find_all("#lineup").is_empty(), "a line-up before any was solved");

    // The shortlist: pin a profile from far down the list to the event.
    browser.goto(&app.url("/organiser/demands/hutchinson-nvh"));
    browser.wait_for("#results", slow);
    let results = browser.find_all("li.result");
    let far = results[12].attr("id").trim_start_matches("result-").to_string();
    shot("11-shortlist-curate");
    browser.find(&format!("#pin-hutchinson-2027-{far}")).click();
    browser.wait_for("#lineup", slow);
    let first = kept_pitches(&app, "hutchinson-2027");
    assert!(first.contains(&(far.clone(), "hutchinson-nvh".to_string())), "the pin from the shortlist: {first:?}");
    assert!(browser.find(&format!("#lineup-{far}")).text().contains("pinned"));
    assert!(browser.find("#event-rules").text().contains(&far));

    // Ban another pitch from the line-up, with a reason: it goes, and the page says why.
    let banned = first.iter().map(|(p, _)| p.clone()).find(|p| *p != far).expect("another pitch");
    browser.find(&format!("#ban-reason-{banned}")).type_text("pitched to Hutchinson last year");
    browser.find(&format!("#ban-{banned}")).click();
    browser.wait_for_source("pitched to Hutchinson last year)", slow);
    let moves = browser.wait_for("#moves", WAIT).text();
    assert!(
        moves.contains("Out:") && moves.contains("banned by the organiser (pitched to Hutchinson last year)"),
        "{moves}"
    );
    let second = kept_pitches(&app, "hutchinson-2027");
    assert!(!second.iter().any(|(p, _)| *p == banned) && second.len() == 4, "{second:?}");
    shot("12-line-up-curated");

    // Lock two pitches, solve again: they stay where they were.
    let locked: Vec<(String, String)> = second.iter().filter(|(p, _)| *p != far).take(2).cloned().collect();
    for (p, _) in &locked {
        browser.find(&format!("#lock-{p}")).click();
        browser.wait_for(&format!("#unlock-{p}"), slow);
    }
    browser.click_to_new_page("#run-selection", slow);
    browser.wait_for("#lineup", slow);
    let third = kept_pitches(&app, "hutchinson-2027");
    for l in &locked {
        assert!(third.contains(l), "locked pitch {l:?} moved: {third:?}");
        assert!(browser.find(&format!("#lineup-{}", l.0)).text().contains("locked"));
    }
    let record = app.engine.line_up("hutchinson-2027").unwrap().unwrap();
    assert!(record.selection.optimal, "the curated line-up is proven optimal");
    assert!(record.selection.selected.iter().any(|p| p.size.as_deref().is_some_and(|s| s == "sme" || s == "startup")));

    // Final: kept with its inputs, no more curating until reopened.
    browser.click_to_new_page("#mark-final", slow);
    assert!(browser.wait_for("#line-up-status", slow).text().contains("Final line-up"));
    assert!(browser.find_all("#run-selection").is_empty() && browser.find_all(&format!("#ban-{far}")).is_empty());
    let kept = app.engine.line_up("hutchinson-2027").unwrap().unwrap();
    assert_eq!(kept.inputs.solve().unwrap(), kept.selection, "the kept inputs give the kept line-up");
    shot("13-line-up-final");

    // The agenda of the final line-up and its calendar file: one entry per pitch, 15 minutes each
    // with 5 between, from 09:00 (+01:00) on the event's date.
    browser.find("#plan-agenda").click();
    browser.wait_for("#agenda", slow);
    assert_eq!(browser.find_all("#agenda tbody tr:not(.break)").len(), 4);
    let agenda_text = browser.find("#agenda").text();
    for (p, _) in &third {
        let name = app.engine.profile(p).unwrap().unwrap().name;
        assert!(agenda_text.contains(&name), "{name} is not on the agenda: {agenda_text}");
    }
    browser.find("#agenda-ics").click();
    let ics = String::from_utf8(browser.wait_for_download("agenda-hutchinson-2027.ics", slow)).unwrap();
    let calendar: icalendar::Calendar = ics.parse().expect("the agenda parses as iCalendar");
    let mut starts: Vec<String> = calendar
        .components
        .iter()
        .filter_map(|c| c.as_event())
        .filter_map(|e| icalendar::Component::property_value(e, "DTSTART").map(str::to_string))
        .collect();
    starts.sort();
    assert_eq!(starts, ["20270520T080000Z", "20270520T082000Z", "20270520T084000Z", "20270520T090000Z"], "{ics}");
    shot("14-agenda");

    // The day is edited by moving: the first pitch one place later within its demand area, then
    // the demand area now first after the other; the calendar follows, and the order outlives a
    // reopen and a re-solve.
    let day = |app: &TestApp| -> Vec<(String, String)> {
        let plan = pitchmatch::agenda::DayPlan::on("");
        let agenda = app.engine.event_agenda("hutchinson-2027", None, &plan).unwrap();
        agenda
            .items
            .iter()
            .filter_map(|i| i.pitch.as_ref())
            .map(|p| (p.demand_id.clone(), p.profile_id.clone()))
            .collect()
    };
    let before = day(&app);
    let i = (0..before.len() - 1).find(|&i| before[i].0 == before[i + 1].0).expect("a demand area with two pitches");
    let (area, pitch) = before[i].clone();
    if i == 0 || before[i - 1].0 != area {
        assert!(browser.find_all(&format!("#earlier-{pitch}")).is_empty(), "first of its area: {before:?}");
    }
    browser.find(&format!("#later-{pitch}")).click();
    browser.wait_for(&format!("#earlier-{pitch}"), slow);
    let mut expected = before.clone();
    expected.swap(i, i + 1);
    assert_eq!(day(&app), expected);
    // The last demand area of the day, one place earlier: its block goes before the one before it.
    let last_area = expected.last().unwrap().0.clone();
    let last_start = expected.iter().position(|(d, _)| *d == last_area).unwrap();
    let previous_area = expected[last_start - 1].0.clone();
    let previous_start = expected.iter().position(|(d, _)| *d == previous_area).unwrap();
    browser.find(&format!("#earlier-area-{last_area}")).click();
    browser.wait_for(&format!("#later-area-{last_area}"), slow);
    let mut reordered = expected[..previous_start].to_vec();
    reordered.extend_from_slice(&expected[last_start..]);
    reordered.extend_from_slice(&expected[previous_start..last_start]);
    assert_eq!(day(&app), reordered);
    let rows = browser.find_all("#agenda tbody tr:not(.break)");
    let moved_title = app.engine.demand(&last_area).unwrap().unwrap().title;
    assert!(rows[previous_start].text().contains(&moved_title), "{}", rows[previous_start].text());
    shot("14b-agenda-moved");
    std::fs::remove_file(browser.downloads.join("agenda-hutchinson-2027.ics")).unwrap();
    browser.find("#agenda-ics").click();
    let ics = String::from_utf8(browser.wait_for_download("agenda-hutchinson-2027.ics", slow)).unwrap();
    let calendar: icalendar::Calendar = ics.parse().expect("the edited agenda parses as iCalendar");
    let mut by_start: Vec<(String, String)> = calendar
        .components
        .iter()
        .filter_map(|c| c.as_event())
        .filter_map(|e| {
            let start = icalendar::Component::property_value(e, "DTSTART")?.to_string();
            Some((start, icalendar::Component::get_uid(e)?.to_string()))
        })
        .collect();
    by_start.sort();
    let uids: Vec<String> = reordered.iter().map(|(d, p)| format!("hutchinson-2027.{d}.{p}@pitchmatch")).collect();
    assert_eq!(by_start.into_iter().map(|(_, uid)| uid).collect::<Vec<_>>(), uids, "{ics}");

    // Reopened, the event can be curated again; the audit log has every step.
    browser.goto(&app.url("/organiser/events/hutchinson-2027"));
    browser.find("#reopen").click();
    browser.wait_for("#run-selection", slow);
    let solves = || {
        let log = app.engine.audit_log(None, Some("hutchinson-2027"), 100).unwrap();
        log.iter().filter(|e| e.action == "solve").count()
    };
    let solved_before = solves();
    browser.find("#run-selection").click();
    let deadline = std::time::Instant::now() + slow;
    while solves() == solved_before {
        assert!(std::time::Instant::now() < deadline, "the line-up was not solved again");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(day(&app), reordered, "a re-solve with the same pitches keeps the day's order");
    browser.goto(&app.url("/organiser/events/hutchinson-2027"));
    browser.wait_for("#lineup", slow);
    browser.find("#nav-audit").click();
    let audit = browser.wait_for("#audit", WAIT).text();
    for action in ["pin", "ban", "lock", "solve", "finalise", "reopen", "move later", "move earlier"] {
        assert!(audit.contains(action), "no {action} in the audit log: {audit}");
    }

    // The duplicate merged.
    browser.find("#nav-duplicates").click();
    browser.wait_for("#duplicates-count", WAIT);
    browser.find("#merge-spadscope-twice-into-demo-p-001").click();
    browser.wait_for_source("0 pair(s) of profiles", WAIT);
    assert!(app.engine.profile("spadscope-twice").unwrap().is_none());
}
