//! Why a profile matched a query, in terms an organiser can check: which demand terms were found
//! in which profile fields, and a short passage of the profile with those terms highlighted. It
//! re-analyses the profile with the same analyzers the index used, so the highlighted words are
//! exactly the ones that scored.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;

use super::analysis::{is_filler_word, tokens, with_full_analyzer, Token};
use super::query::{LexicalQuery, TextField};
use crate::domain::Profile;

/// Terms of the query found in one profile field (surface forms as written in the profile).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldMatch {
    /// Profile field name.
    pub field: &'static str,
    /// Matching words as they appear in the profile.
    pub terms: Vec<String>,
}

/// A passage of profile text with byte ranges to highlight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snippet {
    /// The field the passage comes from.
    pub field: &'static str,
    /// The passage.
    pub text: String,
    /// Byte ranges within `text` to highlight.
    pub highlights: Vec<(usize, usize)>,
}

impl Snippet {
    /// Renders the passage with `open`/`close` around highlights, passing plain text through `escape`.
    pub fn render(&self, open: &str, close: &str, escape: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        let mut at = 0;
        for &(from, to) in &self.highlights {
            out.push_str(&escape(&self.text[at..from]));
            out.push_str(open);
            out.push_str(&escape(&self.text[from..to]));
            out.push_str(close);
            at = to;
        }
        out.push_str(&escape(&self.text[at..]));
        out
    }

    /// Markdown-style rendering (`**term**`) for terminals and JSON.
    pub fn marked(&self) -> String {
        self.render("**", "**", str::to_string)
    }
}

/// The lexical part of an explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct LexicalExplanation {
    /// Matched terms per field, fields without matches left out.
    pub matched: Vec<FieldMatch>,
    /// The best highlighted passage, if any term matched.
    pub snippet: Option<Snippet>,
}

/// Target length of a snippet in characters.
const SNIPPET_CHARS: usize = 220;

/// The texts of one profile field.
fn field_texts(profile: &Profile, field: TextField) -> Vec<&str> {
    match field {
        TextField::Name => vec![profile.name.as_str()],
        TextField::Summary => vec![profile.summary.as_str()],
        TextField::Innovations => profile.innovations.iter().map(String::as_str).collect(),
        TextField::Keywords => profile.keywords.iter().map(String::as_str).collect(),
    }
}

/// A profile's text analysed once for [`explain_analysed`]: the tokens of every text of every
/// field. Stemming the text is most of the cost of an explanation, and one profile is explained
/// for many queries (every shortlist it appears in), so the engine keeps these.
#[derive(Debug)]
pub struct AnalysedProfile {
    /// Per field of [`TextField::ALL`], per text of the field, its tokens.
    fields: Vec<Vec<Vec<Token>>>,
    tokens: usize,
}

impl AnalysedProfile {
    /// Analyses `profile` with the analyzer of its language (the one that indexed it).
    pub fn new(profile: &Profile) -> AnalysedProfile {
        let fields: Vec<Vec<Vec<Token>>> = with_full_analyzer(profile.language, |analyzer| {
            TextField::ALL
                .iter()
                .map(|&field| field_texts(profile, field).into_iter().map(|text| tokens(analyzer, text)).collect())
                .collect()
        });
        let tokens = fields.iter().flatten().map(Vec::len).sum();
        AnalysedProfile { fields, tokens }
    }

    /// Tokens held (the engine bounds its cache by them).
    pub fn token_count(&self) -> usize {
        self.tokens
    }
}

/// Explains the lexical match of `profile` against `query`.
pub fn explain(profile: &Profile, query: &LexicalQuery) -> LexicalExplanation {
    explain_analysed(profile, &AnalysedProfile::new(profile), query)
}

/// [`explain`] with the profile already analysed (`analysed` must come from this profile).
pub fn explain_analysed(profile: &Profile, analysed: &AnalysedProfile, query: &LexicalQuery) -> LexicalExplanation {
    let wanted: HashSet<&str> = query.terms_for(profile.language).iter().map(|(t, _)| t.as_str()).collect();
    let mut matched = Vec::new();
    let mut best: Option<(usize, Snippet)> = None;
    for (field, analysed_texts) in TextField::ALL.into_iter().zip(&analysed.fields) {
        let mut surface = BTreeSet::new();
        for (text, text_tokens) in field_texts(profile, field).into_iter().zip(analysed_texts) {
            // Bare numbers ("2027", "000") do score, but as evidence for an organiser they are noise.
            let hits: Vec<&Token> = text_tokens
                .iter()
                .filter(|t| wanted.contains(t.term.as_str()) && !t.term.bytes().all(|b| b.is_ascii_digit()))
                .filter(|t| {
                    let word = &text[t.from..t.to];
                    !is_filler_word(word, profile.language) && !is_filler_word(word, query.language)
                })
                .collect();
            for h in &hits {
                surface.insert(text[h.from..h.to].to_lowercase());
            }
            if matches!(field, TextField::Summary | TextField::Innovations) && !hits.is_empty() {
                let (distinct, snippet) = best_window(field.name(), text, &hits);
                if best.as_ref().is_none_or(|(d, _)| distinct > *d) {
                    best = Some((distinct, snippet));
                }
            }
        }
        if !surface.is_empty() {
            matched.push(FieldMatch { field: field.name(), terms: surface.into_iter().collect() });
        }
    }
    LexicalExplanation { matched, snippet: best.map(|(_, s)| s) }
}

/// A passage with no highlights: the opening of `text`, for results found by meaning alone.
pub fn opening(field: &'static str, text: &str) -> Snippet {
    let end = char_boundary_after(text, 0, SNIPPET_CHARS);
    let mut out = text[..end].to_string();
    if end < text.len() {
        out.push('…');
    }
    Snippet { field, text: out, highlights: Vec::new() }
}

fn char_boundary_after(text: &str, from: usize, chars: usize) -> usize {
    text[from..].char_indices().nth(chars).map_or(text.len(), |(i, _)| from + i)
}

/// Picks the window of about [`SNIPPET_CHARS`] with the most distinct matched terms.
fn best_window(field: &'static str, text: &str, hits: &[&Token]) -> (usize, Snippet) {
    let mut best_start = 0;
    let mut best_distinct = 0;
    for (i, h) in hits.iter().enumerate() {
        let end = char_boundary_after(text, h.from, SNIPPET_CHARS);
        let distinct: HashSet<&str> = hits[i..].iter().take_while(|t| t.to <= end).map(|t| t.term.as_str()).collect();
        if distinct.len() > best_distinct {
            best_distinct = distinct.len();
            best_start = i;
        }
    }
    // Start a little before the first hit, at a word boundary, so the passage reads naturally.
    let first = hits[best_start].from;
    let mut lead_limit = first.saturating_sub(40);
    while !text.is_char_boundary(lead_limit) {
        lead_limit -= 1;
    }
    let mut start = text[..first].rfind(['.', '\n']).map_or(0, |i| i + 1);
    if start < lead_limit {
        start = text[lead_limit..first].find(' ').map_or(first, |i| lead_limit + i + 1);
    }
    while start < first && text[start..].starts_with(' ') {
        start += 1;
    }
    let end = char_boundary_after(text, start, SNIPPET_CHARS);
    let end = if end < text.len() { text[..end].rfind(' ').filter(|&e| e > first).unwrap_or(end) } else { end };
    let mut passage = String::new();
    let offset = if start > 0 {
        passage.push('…');
        '…'.len_utf8()
    } else {
        0
    };
    passage.push_str(&text[start..end]);
    let highlights = hits
        .iter()
        .filter(|h| h.from >= start && h.to <= end)
        .map(|h| (h.from - start + offset, h.to - start + offset))
        .collect();
    if end < text.len() {
        passage.push('…');
    }
    (best_distinct, Snippet { field, text: passage, highlights })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Kind, Language};

    fn profile() -> Profile {
        Profile {
            id: "p".into(),
            name: "Lumen Sensing".into(),
            kind: Kind::Company,
            size: None,
            city: None,
            language: Language::En,
            summary: "We build solid-state lidar sensors. Our lidar sees pedestrians at 200 m in fog and rain.".into(),
            innovations: vec!["Low-cost radar and lidar fusion".into()],
            keywords: vec!["lidar".into()],
            themes: vec![],
            trl: None,
            website: None,
            contact_email: None,
            pitch_languages: vec![],
        }
    }

    #[test]
    fn one_analysis_explains_every_query_as_a_fresh_one_does() {
        let p = profile();
        let analysed = AnalysedProfile::new(&p);
        assert!(analysed.token_count() > 10);
        for text in ["lidar for pedestrians in fog", "radar fusion", "nothing relevant here"] {
            let q = LexicalQuery::new(text, Language::En);
            assert_eq!(explain_analysed(&p, &analysed, &q), explain(&p, &q), "{text}");
        }
        let q = LexicalQuery::new("radar fusion", Language::En);
        assert!(explain_analysed(&p, &analysed, &q).matched.iter().any(|m| m.field == "innovations"));
    }

    #[test]
    fn names_matched_terms_per_field_and_highlights_them() {
        let q = LexicalQuery::new("lidar for pedestrians in fog", Language::En);
        let e = explain(&profile(), &q);
        let summary = e.matched.iter().find(|m| m.field == "summary").unwrap();
        assert_eq!(summary.terms, vec!["fog", "lidar", "pedestrians"]);
        assert!(e.matched.iter().any(|m| m.field == "keywords"));
        let snippet = e.snippet.unwrap();
        assert_eq!(snippet.field, "summary");
        assert!(snippet.marked().contains("**lidar**"), "{}", snippet.marked());
        assert!(snippet.marked().contains("**fog**"));
    }

    #[test]
    fn filler_words_of_any_language_are_not_reported_as_matches() {
        let mut p = profile();
        p.language = Language::Nl;
        p.summary = "We leveren per voertuig een lidar module; an sich is dat nieuw.".into();
        // An English demand: `we`, `per` and `an` are matched in the Dutch-analysed field, where
        // Dutch rules do not drop all of them, but none of them is evidence.
        let q = LexicalQuery::new("We need an affordable lidar per vehicle", Language::En);
        let terms: Vec<String> = explain(&p, &q).matched.into_iter().flat_map(|m| m.terms).collect();
        assert!(terms.contains(&"lidar".to_string()), "{terms:?}");
        for filler in ["we", "per", "an"] {
            assert!(!terms.contains(&filler.to_string()), "{filler} reported in {terms:?}");
        }
    }

    #[test]
    fn a_stop_word_of_another_language_is_a_match_in_its_own() {
        // `van` and `door` are Dutch stop words and English vehicle words.
        let q = LexicalQuery::new("Sliding door modules for an electric van", Language::En);
        let terms_in = |language: Language, summary: &str| -> Vec<String> {
            let mut p = profile();
            p.language = language;
            p.summary = summary.into();
            explain(&p, &q).matched.into_iter().flat_map(|m| m.terms).collect()
        };
        let english = terms_in(Language::En, "We build sliding door modules for the electric van market.");
        for word in ["door", "van", "sliding"] {
            assert!(english.contains(&word.to_string()), "{word} missing from {english:?}");
        }
        let dutch =
            terms_in(Language::Nl, "Schuifdeuren van aluminium, gemaakt door ons team, voor de elektrische van.");
        assert!(!dutch.contains(&"door".to_string()) && !dutch.contains(&"van".to_string()), "{dutch:?}");
    }

    #[test]
    fn multibyte_text_never_splits_a_character() {
        let mut p = profile();
        p.language = Language::Fr;
        p.summary = "Notre laboratoire étudie l'électrification du transport routier de marchandises sur longue \
                     distance. Nous modélisons la consommation énergétique des poids lourds électriques à partir \
                     de données réelles de chronotachygraphe et de topographie."
            .into();
        for word in ["poids lourds", "données", "topographie", "électrification", "énergétique"] {
            let q = LexicalQuery::new(word, Language::Fr);
            let e = explain(&p, &q);
            assert!(e.snippet.is_some(), "{word}");
        }
    }

    #[test]
    fn no_match_no_snippet() {
        let q = LexicalQuery::new("hydrogen tanks", Language::En);
        let e = explain(&profile(), &q);
        assert!(e.matched.is_empty());
        assert!(e.snippet.is_none());
    }

    #[test]
    fn render_escapes_plain_text_only() {
        let s = Snippet { field: "summary", text: "a<b lidar".into(), highlights: vec![(4, 9)] };
        assert_eq!(s.render("<mark>", "</mark>", |t| t.replace('<', "&lt;")), "a&lt;b <mark>lidar</mark>");
    }
}
