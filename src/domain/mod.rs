//! Domain types: what a supplier submits ([`Profile`]), what an OEM wants ([`DemandArea`]) and the
//! Co-Innovation Day that selects pitches for some demand areas ([`Event`]). They exist so that every
//! entry point (file import, HTTP, tests) parses and validates records by the same rules
//! (`docs/data-format.md`) and reports *every* violated rule, not just the first, so a user can
//! fix a file in one pass.

mod curation;
mod decision;
mod filter;
mod principal;
mod ranker;
mod submission;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use self::curation::{
    clean_reason, EventRule, EventRuleKind, ProfileConflict, SeasonBan, SeasonSettings, MAX_REASON_CHARS,
};
pub use self::decision::{Decision, Verdict, MAX_NOTE_CHARS};
pub use self::filter::{Facets, Filter};
pub use self::principal::{same_organisation, Principal};
pub use self::ranker::Ranker;
pub use self::submission::{new_profile_id, AuditEntry, ProfileStatus};

/// Languages the engine analyses. Anything else is detected as the closest of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Dutch.
    Nl,
    /// English.
    En,
    /// French.
    Fr,
}

impl Language {
    /// All supported languages, in a fixed order used for per-language index fields.
    pub const ALL: [Language; 3] = [Language::Nl, Language::En, Language::Fr];

    /// Position in [`Language::ALL`], for arrays with one entry per language.
    pub fn index(self) -> usize {
        match self {
            Language::Nl => 0,
            Language::En => 1,
            Language::Fr => 2,
        }
    }

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Language::Nl => "nl",
            Language::En => "en",
            Language::Fr => "fr",
        }
    }

    /// Parses an ISO 639-1 code.
    pub fn from_code(code: &str) -> Option<Language> {
        match code {
            "nl" => Some(Language::Nl),
            "en" => Some(Language::En),
            "fr" => Some(Language::Fr),
            _ => None,
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Detects the language of `text` among nl/en/fr; English when the text gives no clue.
pub fn detect_language(text: &str) -> Language {
    use whatlang::Lang;
    let detector = whatlang::Detector::with_allowlist(vec![Lang::Nld, Lang::Eng, Lang::Fra]);
    match detector.detect_lang(text) {
        Some(Lang::Nld) => Language::Nl,
        Some(Lang::Fra) => Language::Fr,
        _ => Language::En,
    }
}

/// Organisation kind of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A company.
    Company,
    /// A university, university of applied sciences or research institute.
    KnowledgeInstitution,
}

impl Kind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Company => "company",
            Kind::KnowledgeInstitution => "knowledge_institution",
        }
    }
}

/// Company size class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Size {
    /// A start-up.
    Startup,
    /// A small or medium-sized enterprise.
    Sme,
    /// A large company.
    Large,
}

impl Size {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Size::Startup => "startup",
            Size::Sme => "sme",
            Size::Large => "large",
        }
    }
}

/// Innovation theme of the Co-Innovation programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// Connected, automated, shared mobility.
    SmartMobility,
    /// Electrification, hydrogen, batteries.
    GreenMobility,
    /// Lightweight and sustainable materials.
    Materials,
    /// Production technology.
    Manufacturing,
}

impl Theme {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::SmartMobility => "smart_mobility",
            Theme::GreenMobility => "green_mobility",
            Theme::Materials => "materials",
            Theme::Manufacturing => "manufacturing",
        }
    }
}

/// A supplier's or knowledge institution's innovation profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Stable external id.
    pub id: String,
    /// Organisation name.
    pub name: String,
    /// Company or knowledge institution.
    pub kind: Kind,
    /// Size class, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Size>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Language of the texts (detected when the submitter gave none).
    #[schema(required = false)]
    pub language: Language,
    /// What the organisation does and offers.
    pub summary: String,
    /// Concrete innovations on offer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub innovations: Vec<String>,
    /// Free keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Programme themes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub themes: Vec<Theme>,
    /// Technology readiness level 1-9.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trl: Option<u8>,
    /// Website.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Contact e-mail; never shown to other suppliers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    /// Languages the team can pitch in; when none are stated, the language the profile is
    /// written in (see [`Profile::pitches_in`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pitch_languages: Vec<Language>,
}

/// An OEM's or Tier-1's area of interest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemandArea {
    /// Stable external id.
    pub id: String,
    /// The OEM or Tier-1.
    pub organisation: String,
    /// Short title.
    pub title: String,
    /// What they want to co-innovate on.
    pub description: String,
    /// Language of the texts (detected when absent).
    #[schema(required = false)]
    pub language: Language,
    /// Programme themes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub themes: Vec<Theme>,
    /// The event it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

impl DemandArea {
    /// The text a demand is matched with: its title, then its description.
    pub fn query_text(&self) -> String {
        if self.description.starts_with(self.title.trim_end_matches('.')) {
            self.description.clone()
        } else {
            format!("{}. {}", self.title, self.description)
        }
    }
}

/// A Co-Innovation Day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Stable external id, e.g. `psa-2021`.
    pub id: String,
    /// Host OEM/Tier-1 (the lead host when there are several).
    pub organisation: String,
    /// Further host organisations, when several bring demand areas to one event (a cluster's tech
    /// day): their reviewers see the event, and conflicts of interest apply per demand area's
    /// organisation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub co_hosts: Vec<String>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// ISO 8601 date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Pitch slots, 1-500.
    pub slots: u32,
    /// The demand areas this event selects for.
    pub demand_ids: Vec<String>,
    /// At least this many pitches by start-ups and SMEs (0-500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_sme_or_startup: Option<u32>,
    /// At least this many pitches by knowledge institutions (0-500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_knowledge_institutions: Option<u32>,
    /// At most this many pitches by knowledge institutions (0-500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_knowledge_institutions: Option<u32>,
    /// At most this many pitches by profiles of any one theme (0-500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_theme: Option<u32>,
    /// The languages pitches are accepted in; none = any. A hard rule of the selection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pitch_languages: Vec<Language>,
}

/// One broken rule: which field, what value, which rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Violation {
    /// JSON field name (`innovations[3]` for list items, `(record)` for the whole record).
    pub field: String,
    /// The rule, in words.
    pub rule: String,
    /// A short rendering of the offending value, when it helps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field {}: {}", self.field, self.rule)?;
        if let Some(v) = &self.value {
            write!(f, " (got {v})")?;
        }
        Ok(())
    }
}

/// Maximum characters of an offending value echoed back in a message.
const ECHO_CHARS: usize = 60;

fn echo(value: &Value) -> String {
    let s = match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    if s.chars().count() > ECHO_CHARS {
        let cut: String = s.chars().take(ECHO_CHARS).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// Reads fields from a JSON object, recording every violation instead of stopping at the first.
struct FieldReader<'a> {
    object: &'a Map<String, Value>,
    violations: Vec<Violation>,
}

impl<'a> FieldReader<'a> {
    fn new(value: &'a Value, allowed: &[&str]) -> Result<Self, Vec<Violation>> {
        let Value::Object(object) = value else {
            return Err(vec![Violation {
                field: "(record)".into(),
                rule: "must be a JSON object".into(),
                value: Some(echo(value)),
            }]);
        };
        let mut reader = FieldReader { object, violations: Vec::new() };
        let mut unknown: Vec<&String> =
            object.keys().filter(|k| !k.starts_with('_') && !allowed.contains(&k.as_str())).collect();
        unknown.sort();
        for key in unknown {
            reader.fail(key, "is not a known field", None);
        }
        Ok(reader)
    }

    fn fail(&mut self, field: &str, rule: impl Into<String>, value: Option<&Value>) {
        self.violations.push(Violation { field: field.to_string(), rule: rule.into(), value: value.map(echo) });
    }

    /// Present and not null.
    fn get(&self, field: &str) -> Option<&'a Value> {
        self.object.get(field).filter(|v| !v.is_null())
    }

    fn string(&mut self, field: &str, required: bool, min: usize, max: usize) -> Option<String> {
        self.text(field, required, min, max, TextKind::Line)
    }

    /// A free text that may span lines (a summary, a description).
    fn multiline(&mut self, field: &str, required: bool, min: usize, max: usize) -> Option<String> {
        self.text(field, required, min, max, TextKind::Multiline)
    }

    fn text(&mut self, field: &str, required: bool, min: usize, max: usize, kind: TextKind) -> Option<String> {
        let Some(value) = self.get(field) else {
            if required {
                self.fail(field, "is required", None);
            }
            return None;
        };
        let Value::String(s) = value else {
            self.fail(field, "must be a string", Some(value));
            return None;
        };
        let s = clean_text(s, kind);
        self.check_length(field, &s, min, max, value);
        if let Some(rule) = text_problem(&s, kind) {
            self.fail(field, rule, None);
        }
        Some(s)
    }

    fn check_length(&mut self, field: &str, s: &str, min: usize, max: usize, value: &Value) {
        let n = s.trim().chars().count();
        if n < min || s.chars().count() > max {
            let rule = if min == max {
                format!("must be {min} characters long")
            } else {
                format!("must be {min}-{max} characters long (is {})", s.chars().count())
            };
            let shown = if s.chars().count() > ECHO_CHARS * 4 { None } else { Some(value) };
            self.fail(field, rule, shown);
        }
    }

    fn id(&mut self, field: &str) -> Option<String> {
        let id = self.string(field, true, 1, 64)?;
        if !valid_id(&id) {
            self.fail(field, "must be 1-64 characters of [A-Za-z0-9._-], not . or ..", self.get(field));
        }
        Some(id)
    }

    fn string_list(&mut self, field: &str, max_items: usize, max_chars: usize, kind: TextKind) -> Vec<String> {
        let Some(value) = self.get(field) else { return Vec::new() };
        let Value::Array(items) = value else {
            self.fail(field, "must be an array of strings", Some(value));
            return Vec::new();
        };
        if items.len() > max_items {
            self.fail(field, format!("must have at most {max_items} items (has {})", items.len()), None);
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let name = format!("{field}[{i}]");
            let Value::String(s) = item else {
                self.fail(&name, "must be a string", Some(item));
                continue;
            };
            let s = clean_text(s, kind);
            match text_problem(&s, kind) {
                _ if s.chars().count() > max_chars => {
                    self.fail(&name, format!("must be at most {max_chars} characters (is {})", s.chars().count()), None)
                }
                _ if s.trim().is_empty() => self.fail(&name, "must not be empty", None),
                Some(rule) => self.fail(&name, rule, None),
                None => out.push(s),
            }
        }
        out
    }

    fn enum_value<T: for<'de> Deserialize<'de>>(&mut self, field: &str, required: bool, allowed: &str) -> Option<T> {
        let Some(value) = self.get(field) else {
            if required {
                self.fail(field, "is required", None);
            }
            return None;
        };
        match serde_json::from_value::<T>(value.clone()) {
            Ok(v) => Some(v),
            Err(_) => {
                self.fail(field, format!("must be one of {allowed}"), Some(value));
                None
            }
        }
    }

    fn themes(&mut self, field: &str) -> Vec<Theme> {
        let Some(value) = self.get(field) else { return Vec::new() };
        let Value::Array(items) = value else {
            self.fail(field, "must be an array of theme names", Some(value));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match serde_json::from_value::<Theme>(item.clone()) {
                Ok(t) if !out.contains(&t) => out.push(t),
                Ok(_) => {}
                Err(_) => self.fail(
                    &format!("{field}[{i}]"),
                    "must be one of smart_mobility, green_mobility, materials, manufacturing",
                    Some(item),
                ),
            }
        }
        out
    }

    /// A list of language codes (nl, en, fr), each at most once.
    fn languages(&mut self, field: &str) -> Vec<Language> {
        let Some(value) = self.get(field) else { return Vec::new() };
        let Value::Array(items) = value else {
            self.fail(field, "must be an array of language codes (nl, en, fr)", Some(value));
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str().and_then(Language::from_code) {
                Some(l) if !out.contains(&l) => out.push(l),
                Some(_) => {}
                None => self.fail(&format!("{field}[{i}]"), "must be one of nl, en, fr", Some(item)),
            }
        }
        out
    }

    fn integer(&mut self, field: &str, required: bool, min: i64, max: i64) -> Option<i64> {
        let Some(value) = self.get(field) else {
            if required {
                self.fail(field, "is required", None);
            }
            return None;
        };
        match value.as_i64() {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.fail(field, format!("must be an integer from {min} to {max}"), Some(value));
                None
            }
        }
    }

    fn finish<T>(self, value: Option<T>) -> Result<T, Vec<Violation>> {
        match value {
            Some(v) if self.violations.is_empty() => Ok(v),
            _ => Err(self.violations),
        }
    }
}

/// Whether a text field may span lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// One line: a name, an id, a title, an e-mail address, a URL, a keyword.
    Line,
    /// Free text that may hold line breaks and tabs: a summary, a description, an innovation.
    Multiline,
}

/// True for the invisible characters that make a text read differently from what it holds:
/// direction overrides and isolates (U+202A-202E, U+2066-2069), which can make `gpj.exe` show as
/// `exe.jpg`, and zero-width characters (U+200B-200F, U+2060, U+FEFF), which make two names that
/// look the same differ (or a blocked word pass).
pub fn is_invisible_formatting(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}')
}

/// `s` in the form it is stored and compared in: Unicode NFC (so that `é` typed as one character
/// or as `e` plus an accent is the same text, for search and for uniqueness), with line breaks of
/// multi-line text as `\n` (browsers post `\r\n`).
pub fn clean_text(s: &str, kind: TextKind) -> String {
    use unicode_normalization::UnicodeNormalization;
    let s = match kind {
        TextKind::Multiline if s.contains('\r') => s.replace("\r\n", "\n").replace('\r', "\n"),
        _ => s.to_string(),
    };
    if unicode_normalization::is_nfc(&s) {
        s
    } else {
        s.nfc().collect()
    }
}

/// The rule a text breaks by the characters it holds, if any: C0 and C1 control characters (NUL,
/// escape sequences; a multi-line text may hold line breaks and tabs) and invisible formatting
/// characters (see [`is_invisible_formatting`]) are refused, naming the first one found.
pub fn text_problem(s: &str, kind: TextKind) -> Option<String> {
    let allowed = |c: char| kind == TextKind::Multiline && matches!(c, '\n' | '\t');
    if let Some(c) = s.chars().find(|&c| c.is_control() && !allowed(c)) {
        return Some(match c {
            '\0' => "must not contain NUL characters".to_string(),
            '\n' | '\r' | '\t' => format!("must be one line, without line breaks or tabs (found U+{:04X})", c as u32),
            _ => format!("must not contain control characters (found U+{:04X})", c as u32),
        });
    }
    s.chars()
        .find(|&c| is_invisible_formatting(c))
        .map(|c| format!("must not contain invisible direction or zero-width characters (found U+{:04X})", c as u32))
}

/// True for 1-64 characters of `[A-Za-z0-9._-]`, except `.` and `..`: ids are URL path segments
/// (`/api/v1/profiles/{id}`), and clients remove those two as dot-segments (RFC 3986 §5.2.4), so a
/// record with such an id could never be read, replaced or deleted over HTTP.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id != "."
        && id != ".."
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn valid_url(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/') && !r.chars().any(char::is_whitespace))
}

fn valid_email(s: &str) -> bool {
    let mut parts = s.splitn(2, '@');
    let (Some(local), Some(domain)) = (parts.next(), parts.next()) else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
        && !domain.contains('@')
}

/// The id of a raw record, if it has a readable one (for error messages).
pub fn raw_id(value: &Value) -> Option<String> {
    value.get("id").and_then(Value::as_str).map(|s| s.chars().take(64).collect())
}

impl Profile {
    /// An English company profile with only the required fields set; for tests, benchmarks and
    /// generated data. It is not validated: callers choose valid values.
    pub fn minimal(id: &str, name: &str, summary: &str) -> Profile {
        Profile {
            id: id.into(),
            name: name.into(),
            kind: Kind::Company,
            size: None,
            city: None,
            language: Language::En,
            summary: summary.into(),
            innovations: Vec::new(),
            keywords: Vec::new(),
            themes: Vec::new(),
            trl: None,
            website: None,
            contact_email: None,
            pitch_languages: Vec::new(),
        }
    }

    /// The languages the team can pitch in: those stated, else the language the profile is
    /// written in (a team that wrote its profile in a language can present it in that language).
    pub fn pitches_in(&self) -> Vec<Language> {
        if self.pitch_languages.is_empty() {
            vec![self.language]
        } else {
            self.pitch_languages.clone()
        }
    }

    const FIELDS: [&'static str; 14] = [
        "id",
        "name",
        "kind",
        "size",
        "city",
        "language",
        "summary",
        "innovations",
        "keywords",
        "themes",
        "trl",
        "website",
        "contact_email",
        "pitch_languages",
    ];

    /// Validates a raw JSON record; on failure returns every violated rule.
    pub fn from_json(value: &Value) -> Result<Profile, Vec<Violation>> {
        let mut r = FieldReader::new(value, &Self::FIELDS)?;
        let id = r.id("id");
        let name = r.string("name", true, 1, 200);
        let kind = r.enum_value::<Kind>("kind", true, "company, knowledge_institution");
        let size = r.enum_value::<Size>("size", false, "startup, sme, large");
        let city = r.string("city", false, 0, 200);
        let language = r.enum_value::<Language>("language", false, "nl, en, fr");
        let summary = r.multiline("summary", true, 20, 5000);
        let innovations = r.string_list("innovations", 20, 500, TextKind::Multiline);
        let keywords = r.string_list("keywords", 30, 100, TextKind::Line);
        let themes = r.themes("themes");
        let trl = r.integer("trl", false, 1, 9).map(|n| n as u8);
        let website = r.string("website", false, 0, 500);
        if let Some(w) = &website {
            if !valid_url(w) {
                r.fail("website", "must be an http(s) URL", r.get("website"));
            }
        }
        let contact_email = r.string("contact_email", false, 0, 254);
        if let Some(e) = &contact_email {
            if !valid_email(e) {
                r.fail("contact_email", "must be an e-mail address", r.get("contact_email"));
            }
        }
        let pitch_languages = r.languages("pitch_languages");
        let profile = match (id, name, kind, summary) {
            (Some(id), Some(name), Some(kind), Some(summary)) => {
                let language =
                    language.unwrap_or_else(|| detect_language(&format!("{summary} {}", innovations.join(" "))));
                Some(Profile {
                    id,
                    name,
                    kind,
                    size,
                    city,
                    language,
                    summary,
                    innovations,
                    keywords,
                    themes,
                    trl,
                    website,
                    contact_email,
                    pitch_languages,
                })
            }
            _ => None,
        };
        r.finish(profile)
    }
}

impl DemandArea {
    const FIELDS: [&'static str; 7] = ["id", "organisation", "title", "description", "language", "themes", "event"];

    /// Validates a raw JSON record; on failure returns every violated rule.
    pub fn from_json(value: &Value) -> Result<DemandArea, Vec<Violation>> {
        let mut r = FieldReader::new(value, &Self::FIELDS)?;
        let id = r.id("id");
        let organisation = r.string("organisation", true, 1, 200);
        let title = r.string("title", true, 3, 200);
        let description = r.multiline("description", true, 20, 5000);
        let language = r.enum_value::<Language>("language", false, "nl, en, fr");
        let themes = r.themes("themes");
        let event = r.string("event", false, 1, 64);
        if let Some(e) = &event {
            if !valid_id(e) {
                r.fail("event", "must be an event id of [A-Za-z0-9._-]", r.get("event"));
            }
        }
        let demand = match (id, organisation, title, description) {
            (Some(id), Some(organisation), Some(title), Some(description)) => {
                let language = language.unwrap_or_else(|| detect_language(&format!("{title}. {description}")));
                Some(DemandArea { id, organisation, title, description, language, themes, event })
            }
            _ => None,
        };
        r.finish(demand)
    }
}

impl Event {
    const FIELDS: [&'static str; 12] = [
        "id",
        "organisation",
        "co_hosts",
        "title",
        "date",
        "slots",
        "demand_ids",
        "min_sme_or_startup",
        "min_knowledge_institutions",
        "max_knowledge_institutions",
        "max_per_theme",
        "pitch_languages",
    ];

    /// Validates a raw JSON record; on failure returns every violated rule.
    pub fn from_json(value: &Value) -> Result<Event, Vec<Violation>> {
        let mut r = FieldReader::new(value, &Self::FIELDS)?;
        let id = r.id("id");
        let organisation = r.string("organisation", true, 1, 200);
        let co_hosts = r.string_list("co_hosts", 20, 200, TextKind::Line);
        let title = r.string("title", false, 0, 200);
        let date = r.string("date", false, 0, 40);
        if let Some(d) = &date {
            if !valid_iso_date(d) {
                r.fail("date", "must be an ISO 8601 date (YYYY-MM-DD)", r.get("date"));
            }
        }
        let slots = r.integer("slots", true, 1, 500).map(|n| n as u32);
        let demand_ids = match r.get("demand_ids") {
            None => {
                r.fail("demand_ids", "is required", None);
                None
            }
            Some(_) => {
                let ids = r.string_list("demand_ids", 1000, 64, TextKind::Line);
                for (i, d) in ids.iter().enumerate() {
                    if !valid_id(d) {
                        r.fail(&format!("demand_ids[{i}]"), "must be a demand id of [A-Za-z0-9._-]", None);
                    }
                }
                Some(ids)
            }
        };
        let mut quota = |field: &str| r.integer(field, false, 0, 500).map(|n| n as u32);
        let min_sme_or_startup = quota("min_sme_or_startup");
        let min_knowledge_institutions = quota("min_knowledge_institutions");
        let max_knowledge_institutions = quota("max_knowledge_institutions");
        let max_per_theme = quota("max_per_theme");
        let pitch_languages = r.languages("pitch_languages");
        if let (Some(min), Some(max)) = (min_knowledge_institutions, max_knowledge_institutions) {
            if min > max {
                r.fail(
                    "max_knowledge_institutions",
                    format!("must not be below min_knowledge_institutions ({min})"),
                    None,
                );
            }
        }
        let event = match (id, organisation, slots, demand_ids) {
            (Some(id), Some(organisation), Some(slots), Some(demand_ids)) => Some(Event {
                id,
                organisation,
                co_hosts,
                title,
                date,
                slots,
                demand_ids,
                min_sme_or_startup,
                min_knowledge_institutions,
                max_knowledge_institutions,
                max_per_theme,
                pitch_languages,
            }),
            _ => None,
        };
        r.finish(event)
    }
}

impl Event {
    /// Every host organisation: the lead host, then the co-hosts.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.organisation.as_str()).chain(self.co_hosts.iter().map(String::as_str))
    }
}

fn valid_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    matches!((num(0..4), num(5..7), num(8..10)), (Some(_), Some(m), Some(d)) if (1..=12).contains(&m) && (1..=31).contains(&d))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn good_profile() -> Value {
        json!({"id": "nl-1", "name": "Voltaris B.V.", "kind": "company", "size": "sme",
               "summary": "Wij ontwikkelen snelladers voor elektrische bussen en vrachtwagens.",
               "themes": ["green_mobility"], "trl": 6})
    }

    #[test]
    fn valid_profile_parses_and_detects_language() {
        let p = Profile::from_json(&good_profile()).expect("valid");
        assert_eq!(p.language, Language::Nl);
        assert_eq!(p.kind, Kind::Company);
        assert_eq!(p.trl, Some(6));
    }

    #[test]
    fn pitch_languages_default_to_the_profiles_language_and_must_be_known_codes() {
        let p = Profile::from_json(&good_profile()).expect("valid");
        assert_eq!(p.pitches_in(), vec![Language::Nl], "unstated: the language the profile is written in");
        let mut stated = good_profile();
        stated["pitch_languages"] = json!(["en", "fr", "en"]);
        let p = Profile::from_json(&stated).expect("valid");
        assert_eq!(p.pitches_in(), vec![Language::En, Language::Fr]);

        stated["pitch_languages"] = json!(["fr", "de"]);
        let errs = Profile::from_json(&stated).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(
            (errs[0].field.as_str(), errs[0].rule.as_str()),
            ("pitch_languages[1]", "must be one of nl, en, fr")
        );
        let event =
            json!({"id": "e", "organisation": "Renault", "slots": 4, "demand_ids": ["d"], "pitch_languages": "fr"});
        let errs = Event::from_json(&event).unwrap_err();
        assert_eq!(errs[0].field, "pitch_languages", "{errs:?}");
    }

    #[test]
    fn every_violation_is_reported() {
        let v = json!({"id": "has space", "name": "", "kind": "robot", "summary": "short",
                       "trl": 12, "themes": ["space"], "colour": "red", "_label": 3});
        let errs = Profile::from_json(&v).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in ["id", "name", "kind", "summary", "trl", "themes[0]", "colour"] {
            assert!(fields.contains(&f), "missing violation for {f}: {errs:?}");
        }
        assert!(!fields.contains(&"_label"), "underscore fields are ignored");
    }

    #[test]
    fn missing_required_fields_are_named() {
        let errs = DemandArea::from_json(&json!({"id": "d1"})).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["organisation", "title", "description"]);
        assert!(errs.iter().all(|e| e.rule == "is required"));
    }

    #[test]
    fn event_rules() {
        let e = Event::from_json(&json!({"id": "psa-2021", "organisation": "PSA Group", "slots": 20,
                                         "demand_ids": ["a", "b"], "date": "2021-03-04"}))
        .unwrap();
        assert_eq!(e.slots, 20);
        let errs = Event::from_json(&json!({"id": "e", "organisation": "X", "slots": 0, "demand_ids": "a",
                                            "date": "4 March"}))
        .unwrap_err();
        assert_eq!(errs.len(), 3, "{errs:?}");
    }

    #[test]
    fn an_event_carries_its_quotas_and_contradicting_ones_are_named() {
        let e = Event::from_json(&json!({"id": "e", "organisation": "X", "slots": 8, "demand_ids": ["a"],
                                         "min_sme_or_startup": 3, "max_per_theme": 4}))
        .unwrap();
        assert_eq!((e.min_sme_or_startup, e.max_per_theme, e.min_knowledge_institutions), (Some(3), Some(4), None));
        let errs = Event::from_json(&json!({"id": "e", "organisation": "X", "slots": 8, "demand_ids": ["a"],
                                            "min_knowledge_institutions": 3, "max_knowledge_institutions": 1,
                                            "max_per_theme": -1}))
        .unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["max_per_theme", "max_knowledge_institutions"], "{errs:?}");
    }

    #[test]
    fn ids_urls_emails() {
        assert!(valid_id("nl-0042_a.b"));
        assert!(!valid_id(""));
        assert!(!valid_id("a/b"));
        assert!(!valid_id(".") && !valid_id(".."));
        assert!(valid_id("...") && valid_id(".x") && valid_id("a..b"));
        assert!(!valid_id(&"x".repeat(65)));
        assert!(valid_url("https://voltaris.example/x"));
        assert!(!valid_url("javascript:alert(1)"));
        assert!(valid_email("info@voltaris.example"));
        assert!(!valid_email("info@"));
    }

    #[test]
    fn language_detection_covers_three_languages() {
        assert_eq!(
            detect_language("Nous recherchons des partenaires pour la recharge des véhicules électriques"),
            Language::Fr
        );
        assert_eq!(detect_language("We are looking for partners for electric vehicle charging"), Language::En);
        assert_eq!(detect_language("Wij zoeken partners voor het laden van elektrische voertuigen"), Language::Nl);
    }

    #[test]
    fn control_and_invisible_characters_are_refused_with_the_field_named() {
        let cases = [
            ("name", json!("Volt\u{1b}[2Jaris")),
            ("name", json!("Voltaris\nB.V.")),
            ("name", json!("Volt\u{9b}aris")),
            ("name", json!("Voltaris \u{202E}V.B")),
            ("name", json!("Volt\u{200B}aris")),
            ("city", json!("Eind\u{2066}hoven")),
            ("contact_email", json!("info\u{FEFF}@voltaris.example")),
            ("website", json!("https://volt\u{200D}aris.example")),
            ("summary", json!("Wij ontwikkelen \u{7}snelladers voor elektrische bussen.")),
            ("summary", json!("Wij ontwikkelen snelladers \u{202D}voor elektrische bussen.")),
        ];
        for (field, value) in cases {
            let mut p = good_profile();
            p[field] = value.clone();
            let errs = Profile::from_json(&p).expect_err(&format!("{field} = {value}"));
            assert!(errs.iter().any(|e| e.field == field && e.rule.contains("U+")), "{field} = {value}: {errs:?}");
        }
        let mut p = good_profile();
        p["keywords"] = json!(["ok", "tab\there"]);
        p["innovations"] = json!(["fine", "bidi \u{2067}x"]);
        let fields: Vec<String> = Profile::from_json(&p).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["innovations[1]", "keywords[1]"]);
        let errs =
            DemandArea::from_json(&json!({"id": "d1", "organisation": "PSA\u{85}", "title": "Batt\u{200C}eries",
            "description": "Nous recherchons des partenaires pour la recharge."}))
            .unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["organisation", "title"]);
        let errs = Event::from_json(&json!({"id": "e", "organisation": "X", "title": "Day\u{1b}", "slots": 1,
            "demand_ids": ["a"]}))
        .unwrap_err();
        assert_eq!(errs[0].field, "title");
    }

    #[test]
    fn multi_line_texts_keep_line_breaks_and_everything_is_nfc() {
        let mut p = good_profile();
        p["name"] = json!("Ve\u{301}lo B.V.");
        p["summary"] = json!("Wij ontwikkelen snelladers.\r\n\tVoor elektrische bussen en vrachtwagens.");
        p["innovations"] = json!(["Type IV\ntank"]);
        let profile = Profile::from_json(&p).expect("valid");
        assert_eq!(profile.name, "V\u{e9}lo B.V.");
        assert_eq!(profile.summary, "Wij ontwikkelen snelladers.\n\tVoor elektrische bussen en vrachtwagens.");
        assert_eq!(profile.innovations, ["Type IV\ntank"]);
        assert_eq!(text_problem("plain text, accents: é ü ç", TextKind::Line), None);
        assert_eq!(text_problem("a\u{0}b", TextKind::Multiline).as_deref(), Some("must not contain NUL characters"));
        assert!(text_problem("a\r\nb", TextKind::Line).is_some());
        assert!(text_problem("a\nb", TextKind::Multiline).is_none());
    }
}
