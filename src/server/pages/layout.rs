//! The page templates shared by the supplier and organiser pages: the layout, the bilingual
//! (Dutch/English) profile form with its field help and inline validation messages, the stored
//! profile view and the error page. They are maud templates, so every piece of user text is escaped
//! at compile-time-checked insertion points; the few places that insert markup (highlighted
//! passages) build it from escaped text.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::{CsrfToken, PageContext};
use crate::domain::{Profile, Violation};

/// Which navigation the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    /// Home, submit, edit, organiser sign-in.
    Public,
    /// The organiser's pages and sign-out.
    Organiser,
    /// An OEM reviewer's pages and sign-out.
    Reviewer,
}

/// The page frame of a request: head with the stylesheet, navigation (with the request's CSRF
/// token in the organiser's sign-out form), main content.
pub(crate) fn layout(ctx: &PageContext, title: &str, nav: Nav, content: Markup) -> Markup {
    frame(title, nav, Some(&ctx.csrf), content)
}

/// The page frame, also for pages drawn without a request context (error pages).
fn frame(title: &str, nav: Nav, csrf: Option<&CsrfToken>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · pitchmatch" }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                header.site {
                    a.brand href="/" { "pitchmatch" }
                    span.tagline { "Co-Innovation Days" }
                    nav {
                        @match nav {
                            Nav::Public => {
                                a href="/submit" { "Profiel indienen / Submit a profile" }
                                a href="/supplier/edit" { "Wijzigen / Edit" }
                                a href="/organiser" { "Organisers" }
                            }
                            Nav::Organiser => {
                                a href="/organiser" { "Dashboard" }
                                a href="/landscape" { "Landscape" }
                                a href="/organiser/moderation" id="nav-moderation" { "Moderation" }
                                a href="/organiser/duplicates" id="nav-duplicates" { "Duplicates" }
                                a href="/organiser/season" id="nav-season" { "Season rules" }
                                a href="/organiser/audit" id="nav-audit" { "Audit log" }
                                @if let Some(csrf) = csrf {
                                    form.inline method="post" action="/organiser/sign-out" {
                                        input type="hidden" name="csrf" value=(csrf.value());
                                        button.link type="submit" id="sign-out" { "Sign out" }
                                    }
                                }
                            }
                            Nav::Reviewer => {
                                a href="/review" { "Review" }
                                @if let Some(csrf) = csrf {
                                    form.inline method="post" action="/organiser/sign-out" {
                                        input type="hidden" name="csrf" value=(csrf.value());
                                        button.link type="submit" id="sign-out" { "Sign out / Déconnexion" }
                                    }
                                }
                            }
                        }
                    }
                }
                main { (content) }
            }
        }
    }
}

/// A full error page.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Markup {
    frame(
        status.canonical_reason().unwrap_or("Error"),
        Nav::Public,
        None,
        html! {
            h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("Error")) }
            p.error-message { (message) }
            p { a href="/" { "Home" } }
        },
    )
}

/// Escapes text for HTML (used where markup is assembled outside a template).
pub(crate) fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The values a profile form shows: what the user typed (after a failed submission) or a stored
/// profile (when editing), as text.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProfileFormValues {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) size: String,
    pub(crate) city: String,
    pub(crate) language: String,
    pub(crate) summary: String,
    /// One innovation per line.
    pub(crate) innovations: String,
    /// Comma-separated.
    pub(crate) keywords: String,
    pub(crate) themes: Vec<String>,
    /// Language codes ticked.
    pub(crate) pitch_languages: Vec<String>,
    pub(crate) trl: String,
    pub(crate) website: String,
    pub(crate) contact_email: String,
}

impl ProfileFormValues {
    pub(crate) fn from_profile(p: &Profile) -> ProfileFormValues {
        ProfileFormValues {
            id: p.id.clone(),
            name: p.name.clone(),
            kind: p.kind.as_str().into(),
            size: p.size.map(|s| s.as_str().to_string()).unwrap_or_default(),
            city: p.city.clone().unwrap_or_default(),
            language: p.language.code().into(),
            summary: p.summary.clone(),
            innovations: p.innovations.join("\n"),
            keywords: p.keywords.join(", "),
            themes: p.themes.iter().map(|t| t.as_str().to_string()).collect(),
            pitch_languages: p.pitch_languages.iter().map(|l| l.code().to_string()).collect(),
            trl: p.trl.map(|t| t.to_string()).unwrap_or_default(),
            website: p.website.clone().unwrap_or_default(),
            contact_email: p.contact_email.clone().unwrap_or_default(),
        }
    }
}

/// Violations grouped by the form field they belong to: `innovations[2]` belongs to the
/// innovations box (as "line 3: …"), `keywords[0]` to the keywords field (as "keyword 1: …").
pub(crate) fn violations_by_field(violations: &[Violation]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for v in violations {
        let (field, prefix) = match v.field.split_once('[') {
            Some((base, rest)) => {
                let n = rest.trim_end_matches(']').parse::<usize>().map_or(0, |i| i + 1);
                let what = match base {
                    "innovations" => "line",
                    "keywords" => "keyword",
                    _ => "item",
                };
                (base.to_string(), format!("{what} {n}: "))
            }
            None => (v.field.clone(), String::new()),
        };
        let mut message = format!("{prefix}{}", v.rule);
        if let Some(value) = &v.value {
            message.push_str(&format!(" (got {value})"));
        }
        out.entry(field).or_default().push(message);
    }
    out
}

struct FieldSpec {
    name: &'static str,
    nl: &'static str,
    en: &'static str,
    help: &'static str,
}

const fn spec(name: &'static str, nl: &'static str, en: &'static str, help: &'static str) -> FieldSpec {
    FieldSpec { name, nl, en, help }
}

const NAME: FieldSpec = spec("name", "Naam organisatie", "Organisation name", "Required, up to 200 characters.");
const KIND: FieldSpec = spec("kind", "Soort organisatie", "Kind of organisation", "Required.");
const SIZE: FieldSpec = spec("size", "Omvang", "Size", "Optional; for companies.");
const CITY: FieldSpec = spec("city", "Plaats", "City", "Optional.");
const LANGUAGE: FieldSpec = spec(
    "language",
    "Taal van de teksten",
    "Language of the texts",
    "Leave on automatic unless detection gets it wrong.",
);
const SUMMARY: FieldSpec = spec(
    "summary",
    "Samenvatting",
    "Summary",
    "Required, 20-5000 characters: what you do and offer. This text is what OEMs' demand areas are matched with.",
);
const INNOVATIONS: FieldSpec = spec(
    "innovations",
    "Innovaties",
    "Innovations",
    "Optional: one concrete innovation per line, at most 20 lines of 500 characters.",
);
const KEYWORDS: FieldSpec =
    spec("keywords", "Trefwoorden", "Keywords", "Optional: separated by commas, at most 30 of 100 characters.");
const THEMES: FieldSpec = spec("themes", "Thema's", "Themes", "Optional: the programme themes you work on.");
const PITCH_LANGUAGES: FieldSpec = spec(
    "pitch_languages",
    "Pitchtalen",
    "Pitch languages",
    "Optional: the languages your team can pitch in. Some hosts take pitches in French only; when none is ticked, the language of your profile counts.",
);
const TRL: FieldSpec = spec("trl", "TRL", "Technology readiness level", "Optional: a whole number from 1 to 9.");
const WEBSITE: FieldSpec = spec("website", "Website", "Website", "Optional: an http(s) address.");
const EMAIL: FieldSpec = spec(
    "contact_email",
    "Contact e-mail",
    "Contact e-mail",
    "Optional. Only organisers see it; it is never shown to other suppliers or in shortlists.",
);

fn label(f: &FieldSpec) -> Markup {
    html! {
        label for=(format!("f-{}", f.name)) {
            span.nl lang="nl" { (f.nl) }
            " / "
            span.en lang="en" { (f.en) }
        }
    }
}

fn help_and_errors(f: &FieldSpec, errors: &BTreeMap<String, Vec<String>>) -> Markup {
    html! {
        small.help id=(format!("h-{}", f.name)) { (f.help) }
        @if let Some(messages) = errors.get(f.name) {
            @for m in messages {
                p.field-error id=(format!("e-{}", f.name)) role="alert" { (m) }
            }
        }
    }
}

fn field_class(f: &FieldSpec, errors: &BTreeMap<String, Vec<String>>) -> &'static str {
    if errors.contains_key(f.name) {
        "field invalid"
    } else {
        "field"
    }
}

fn text_field(f: &FieldSpec, value: &str, errors: &BTreeMap<String, Vec<String>>, kind: &str) -> Markup {
    html! {
        div class=(field_class(f, errors)) {
            (label(f))
            input type=(kind) id=(format!("f-{}", f.name)) name=(f.name) value=(value)
                aria-describedby=(format!("h-{}", f.name));
            (help_and_errors(f, errors))
        }
    }
}

fn textarea_field(f: &FieldSpec, value: &str, errors: &BTreeMap<String, Vec<String>>, rows: u32) -> Markup {
    html! {
        div class=(field_class(f, errors)) {
            (label(f))
            textarea id=(format!("f-{}", f.name)) name=(f.name) rows=(rows) aria-describedby=(format!("h-{}", f.name)) { (value) }
            (help_and_errors(f, errors))
        }
    }
}

fn select_field(
    f: &FieldSpec,
    value: &str,
    options: &[(&str, &str)],
    errors: &BTreeMap<String, Vec<String>>,
) -> Markup {
    html! {
        div class=(field_class(f, errors)) {
            (label(f))
            select id=(format!("f-{}", f.name)) name=(f.name) aria-describedby=(format!("h-{}", f.name)) {
                @for (v, text) in options {
                    option value=(v) selected[*v == value] { (text) }
                }
            }
            (help_and_errors(f, errors))
        }
    }
}

pub(crate) const KIND_OPTIONS: &[(&str, &str)] = &[
    ("", "— kies / choose —"),
    ("company", "Bedrijf / Company"),
    ("knowledge_institution", "Kennisinstelling / Knowledge institution"),
];
pub(crate) const SIZE_OPTIONS: &[(&str, &str)] =
    &[("", "—"), ("startup", "Start-up"), ("sme", "MKB / SME"), ("large", "Groot / Large")];
const LANGUAGE_OPTIONS: &[(&str, &str)] = &[
    ("", "Automatisch / Automatic"),
    ("nl", "Nederlands / Dutch"),
    ("en", "Engels / English"),
    ("fr", "Frans / French"),
];
pub(crate) const THEME_OPTIONS: &[(&str, &str)] = &[
    ("smart_mobility", "Slimme mobiliteit / Smart mobility"),
    ("green_mobility", "Groene mobiliteit / Green mobility"),
    ("materials", "Materialen / Materials"),
    ("manufacturing", "Productie / Manufacturing"),
];

/// Where a profile form posts and what it is for.
pub(crate) enum FormMode<'a> {
    /// A new profile (`POST /submit`).
    Create,
    /// Changing a stored profile (`POST /supplier/save`); the id is fixed and the edit token
    /// travels in a hidden field, never in a URL.
    Edit { token: &'a str },
}

/// The profile form with every violation shown next to its field.
pub(crate) fn profile_form(
    mode: &FormMode<'_>,
    values: &ProfileFormValues,
    violations: &[Violation],
    csrf: &CsrfToken,
) -> Markup {
    let errors = violations_by_field(violations);
    let action = match mode {
        FormMode::Create => "/submit",
        FormMode::Edit { .. } => "/supplier/save",
    };
    html! {
        @if !violations.is_empty() {
            div.error-summary role="alert" id="error-summary" {
                strong { "Controleer het formulier / Please check the form" }
                " — " (violations.len()) " "
                (if violations.len() == 1 { "problem" } else { "problems" }) " found."
                @if let Some(record) = errors.get("(record)") {
                    @for m in record { p { (m) } }
                }
            }
        }
        form.profile method="post" action=(action) novalidate id="profile-form" {
            input type="hidden" name="csrf" value=(csrf.value());
            @match mode {
                // The service names a new profile (a chosen id could squat an organiser's).
                FormMode::Create => {}
                FormMode::Edit { token } => {
                    input type="hidden" name="id" value=(values.id);
                    input type="hidden" name="edit_token" value=(token);
                    p { "Profielcode / Profile id: " code { (values.id) } }
                }
            }
            (text_field(&NAME, &values.name, &errors, "text"))
            div.row {
                (select_field(&KIND, &values.kind, KIND_OPTIONS, &errors))
                (select_field(&SIZE, &values.size, SIZE_OPTIONS, &errors))
            }
            div.row {
                (text_field(&CITY, &values.city, &errors, "text"))
                (select_field(&LANGUAGE, &values.language, LANGUAGE_OPTIONS, &errors))
            }
            (textarea_field(&SUMMARY, &values.summary, &errors, 6))
            (textarea_field(&INNOVATIONS, &values.innovations, &errors, 4))
            (text_field(&KEYWORDS, &values.keywords, &errors, "text"))
            fieldset class=(field_class(&THEMES, &errors)) {
                legend { span lang="nl" { (THEMES.nl) } " / " span lang="en" { (THEMES.en) } }
                @for (v, text) in THEME_OPTIONS {
                    label.check {
                        input type="checkbox" name="themes" value=(v) checked[values.themes.iter().any(|t| t == v)];
                        " " (text)
                    }
                }
                (help_and_errors(&THEMES, &errors))
            }
            fieldset class=(field_class(&PITCH_LANGUAGES, &errors)) {
                legend { span lang="nl" { (PITCH_LANGUAGES.nl) } " / " span lang="en" { (PITCH_LANGUAGES.en) } }
                @for (v, text) in &LANGUAGE_OPTIONS[1..] {
                    label.check {
                        input type="checkbox" name="pitch_languages" value=(v) checked[values.pitch_languages.iter().any(|l| l == v)];
                        " " (text)
                    }
                }
                (help_and_errors(&PITCH_LANGUAGES, &errors))
            }
            div.row {
                (text_field(&TRL, &values.trl, &errors, "text"))
                (text_field(&WEBSITE, &values.website, &errors, "text"))
            }
            (text_field(&EMAIL, &values.contact_email, &errors, "email"))
            button.primary type="submit" id="submit-profile" {
                @match mode {
                    FormMode::Create => "Indienen / Submit",
                    FormMode::Edit { .. } => "Opslaan / Save",
                }
            }
        }
    }
}

/// A stored profile, as its owner sees it.
pub(crate) fn profile_view(p: &Profile) -> Markup {
    let row = |nl: &str, en: &str, value: Markup| {
        html! { dt { span lang="nl" { (nl) } " / " span lang="en" { (en) } } dd { (value) } }
    };
    let text = |s: &str| html! { (s) };
    html! {
        dl.profile id="stored-profile" {
            (row("Profielcode", "Profile id", html! { code { (p.id) } }))
            (row("Naam", "Name", text(&p.name)))
            (row("Soort", "Kind", text(p.kind.as_str())))
            @if let Some(s) = p.size { (row("Omvang", "Size", text(s.as_str()))) }
            @if let Some(c) = &p.city { (row("Plaats", "City", text(c))) }
            (row("Taal", "Language", text(p.language.code())))
            (row("Samenvatting", "Summary", text(&p.summary)))
            @if !p.innovations.is_empty() {
                (row("Innovaties", "Innovations", html! { ul { @for i in &p.innovations { li { (i) } } } }))
            }
            @if !p.keywords.is_empty() { (row("Trefwoorden", "Keywords", text(&p.keywords.join(", ")))) }
            @if !p.themes.is_empty() {
                (row("Thema's", "Themes", text(&p.themes.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", "))))
            }
            @if !p.pitch_languages.is_empty() {
                (row("Pitchtalen", "Pitch languages", text(&p.pitch_languages.iter().map(|l| l.code()).collect::<Vec<_>>().join(", "))))
            }
            @if let Some(t) = p.trl { (row("TRL", "TRL", text(&t.to_string()))) }
            @if let Some(w) = &p.website { (row("Website", "Website", text(w))) }
            @if let Some(e) = &p.contact_email { (row("Contact e-mail", "Contact e-mail", text(e))) }
        }
    }
}

/// A highlighted passage: the text escaped, the matching words in `<mark>`.
pub(crate) fn highlighted(snippet: &crate::search::explain::Snippet) -> Markup {
    PreEscaped(snippet.render("<mark>", "</mark>", escape_html))
}

/// A one-button form posting to `action` with hidden `fields`.
pub(crate) fn button_form(action: &str, csrf: &CsrfToken, fields: &[(&str, &str)], id: &str, label: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf.value());
            @for (k, v) in fields { input type="hidden" name=(k) value=(v); }
            button type="submit" id=(id) { (label) }
        }
    }
}

/// The ban form of one profile: a reason and the scope (this event or the whole season).
/// Its ids start with `prefix` (a page with forms for several events tells them apart).
pub(crate) fn ban_form(event_id: &str, csrf: &CsrfToken, profile_id: &str, prefix: &str) -> Markup {
    html! {
        form.inline method="post" action=(format!("/organiser/events/{event_id}/rule")) {
            input type="hidden" name="csrf" value=(csrf.value());
            input type="hidden" name="profile_id" value=(profile_id);
            input type="text" name="reason" id=(format!("{prefix}ban-reason-{profile_id}")) placeholder="reason" maxlength="300" size="14";
            select name="action" id=(format!("{prefix}ban-scope-{profile_id}")) {
                option value="ban" { "this event" }
                option value="ban-season" { "the season" }
            }
            button type="submit" id=(format!("{prefix}ban-{profile_id}")) { "Ban" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_item_violations_go_to_their_field_with_a_line_number() {
        let v = |field: &str, rule: &str| Violation { field: field.into(), rule: rule.into(), value: None };
        let grouped = violations_by_field(&[
            v("innovations[2]", "must not be empty"),
            v("summary", "must be 20-5000 characters long (is 3)"),
            v("keywords[0]", "must be at most 100 characters (is 120)"),
        ]);
        assert_eq!(grouped["innovations"], ["line 3: must not be empty"]);
        assert_eq!(grouped["keywords"], ["keyword 1: must be at most 100 characters (is 120)"]);
        assert_eq!(grouped["summary"].len(), 1);
    }

    #[test]
    fn user_text_is_escaped() {
        let mut p = Profile::minimal("x", "<script>alert(1)</script>", "A summary that is long enough & more");
        p.city = Some("\"><img src=x>".into());
        let html = profile_view(&p).into_string();
        assert!(!html.contains("<script>") && !html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        assert_eq!(escape_html("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
    }
}
