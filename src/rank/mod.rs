//! Ranking: turning the signals (BM25 from the search index, cosine similarity from the embedder)
//! into one ordered, explained shortlist. The fusion arithmetic lives in small pure functions
//! ([`hybrid`]) so every score can be recomputed by hand from its breakdown.

pub mod feedback;
pub mod french;
pub mod hybrid;
pub mod pipeline;

use serde::Serialize;

use crate::domain::{Kind, Language, Profile, Ranker, Size, Theme};
use crate::search::explain::{FieldMatch, LexicalExplanation};

/// Every number that went into a score.
#[derive(Debug, Clone, PartialEq, Serialize, Default, utoipa::ToSchema)]
pub struct ScoreBreakdown {
    /// Raw BM25 score (summed over fields and languages), when the profile matched lexically.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bm25: Option<f32>,
    /// BM25 standardised within the profile's language: standard deviations above the mean BM25
    /// of all profiles in that language for this query (those without a hit count as 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lexical: Option<f32>,
    /// Mean BM25 of all profiles in this profile's language, for this query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bm25_language_mean: Option<f32>,
    /// BM25 over shared glossary concepts (language-independent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concept_bm25: Option<f32>,
    /// Concept BM25 divided by the query's best.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concepts: Option<f32>,
    /// BM25 over the word grams the demand and the profile share (roots shared across languages,
    /// language-independent), when the profile is among the word-gram hits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cognate_bm25: Option<f32>,
    /// Word-gram BM25 standardised within the profile's language (those without a hit count as 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cognates: Option<f32>,
    /// BM25 over the concepts induced from the collection (terms the encoder aligns across
    /// languages) that the demand and the profile share, when the profile is among their hits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub induced_bm25: Option<f32>,
    /// Induced-concept BM25 standardised within the profile's language (those without a hit
    /// count as 0); absent when the demand mentions no induced concept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub induced: Option<f32>,
    /// Glossary concept mentions per content word of the query (sets the concept weight).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concept_coverage: Option<f32>,
    /// Distinct glossary concepts in the query (with the coverage, sets the concept weight:
    /// see [`hybrid::concept_weight`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_concepts: Option<usize>,
    /// Glossary concepts the demand and the profile share.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shared_concepts: Vec<String>,
    /// Cosine similarity of the best-matching passage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cosine: Option<f32>,
    /// Mean cosine of all profiles in this profile's language, for this query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_mean: Option<f32>,
    /// Cosine centred and scaled within the profile's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dense: Option<f32>,
    /// The passage whose vector matched best (`summary` or `innovations[i]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_passage: Option<String>,
    /// Cosine of the profile's mean vector to that of the best match: the profile the other
    /// signals put first (`best_match_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_match_cosine: Option<f32>,
    /// That cosine standardised within the profile's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_match: Option<f32>,
    /// The id of the best match the likeness is measured to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_match_id: Option<String>,
    /// What the reviewers' decisions on other profiles of this demand area added to the score
    /// (negative: it was pushed down); see [`feedback`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback: Option<f32>,
}

/// Why a profile is on a shortlist.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Explanation {
    /// One sentence for an organiser.
    pub reason: String,
    /// The numbers behind the score.
    pub scores: ScoreBreakdown,
    /// Demand terms found per profile field.
    pub matched: Vec<FieldMatch>,
    /// Best matching passage with `**highlights**`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    /// Same passage, structured (field, text, highlight ranges), for renderers that escape text.
    #[serde(skip)]
    pub passage: Option<crate::search::explain::Snippet>,
    /// The shared glossary concepts (`scores.shared_concepts`) named in words of the demand's
    /// language, in the same order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub concepts: Vec<String>,
    /// Profile words that share a root with a demand word, each as `profile word (demand word)`:
    /// what the word-gram signal (`scores.cognates`) found, named where it stands out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shared_roots: Vec<String>,
    /// Profile terms that mean what a demand term means, by the encoder's alignment of the
    /// collection's terms across languages, each as `profile term (demand term)`: what the
    /// induced-concept signal (`scores.induced`) found, named where it stands out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aligned_terms: Vec<String>,
    /// The name of the best match (`scores.best_match_id`) when the profile is much like it in
    /// meaning (`scores.best_match`) and is not that profile itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub like_best_match: Option<String>,
    /// When reviewers' decisions moved the profile: which decided profile it resembles (the
    /// sentence is in `reason`; this lets a page say it in another language).
    #[serde(skip)]
    pub moved_by: Option<MovedBy>,
}

/// The decided profile whose resemblance moved a profile (relevance feedback).
#[derive(Debug, Clone, PartialEq)]
pub struct MovedBy {
    /// Up (it resembles a liked profile) or down (a refused one).
    pub up: bool,
    /// The decided profile's name.
    pub name: String,
    /// What the reviewers decided about it.
    pub verdict: crate::domain::Verdict,
}

/// One ranked profile.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ShortlistEntry {
    /// 1-based position.
    pub rank: usize,
    /// Profile id.
    pub profile_id: String,
    /// Organisation name.
    pub name: String,
    /// Final score; comparable within one shortlist only.
    pub score: f32,
    /// Company or knowledge institution.
    pub kind: Kind,
    /// Size class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<Size>,
    /// Profile language.
    pub language: Language,
    /// Themes.
    pub themes: Vec<Theme>,
    /// Technology readiness level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trl: Option<u8>,
    /// Why it is here.
    pub explanation: Explanation,
    /// The demand area's reviewer decision on this profile (`interested`, `maybe`,
    /// `not_relevant`), or null: filled for stored demand areas.
    pub decision: Option<crate::domain::Verdict>,
}

/// A ranked list of profiles for one demand area or one ad-hoc text.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Shortlist {
    /// The demand area, when ranking a stored one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demand_id: Option<String>,
    /// Its organisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// Its title (or the ad-hoc text, shortened).
    pub title: String,
    /// Language the query was analysed as.
    pub language: Language,
    /// The ranker used.
    pub ranker: Ranker,
    /// Best first.
    pub results: Vec<ShortlistEntry>,
}

/// A passage name of the breakdown (`summary`, `innovations[i]`) as an organiser says it.
fn passage_in_words(passage: &str) -> String {
    match passage.strip_prefix("innovations[").and_then(|r| r.strip_suffix(']')).and_then(|i| i.parse::<usize>().ok()) {
        Some(i) => {
            const ORDINALS: [&str; 8] = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"];
            match ORDINALS.get(i) {
                Some(nth) => format!("its {nth} innovation"),
                None => format!("its innovation no. {}", i + 1),
            }
        }
        None => format!("its {passage}"),
    }
}

/// The standardised word-gram score from which a profile's words that share roots with the
/// demand's are named in its explanation.
pub const ROOTS_SHOWN_FROM: f32 = 1.0;

/// The standardised induced-concept score from which the profile's terms aligned with the
/// demand's are named in its explanation.
pub const ALIGNED_SHOWN_FROM: f32 = 1.0;

/// The standardised likeness to the best match from which the explanation names the best match.
pub const LIKENESS_SHOWN_FROM: f32 = 1.0;

/// Builds the organiser-facing sentence from the scores, the shared concepts (named in words), the
/// words that share roots with the demand's and the matched terms. Plain words only: the numbers
/// stay in the breakdown, where each can be checked.
pub fn reason(
    scores: &ScoreBreakdown,
    lexical: &LexicalExplanation,
    concepts: &[String],
    shared_roots: &[String],
    aligned_terms: &[String],
    like_best_match: Option<&str>,
) -> String {
    let best = scores.best_passage.as_deref().map(passage_in_words);
    let meaning = match (scores.dense, best) {
        (Some(z), Some(best)) if z >= 2.0 => format!("Very close in meaning, above all {best}. "),
        (Some(z), Some(best)) if z >= 1.0 => format!("Close in meaning, above all {best}. "),
        (Some(z), _) if z >= 0.0 => "Somewhat related in meaning. ".to_string(),
        (Some(_), _) => "Less related in meaning than most profiles in its language. ".to_string(),
        _ => String::new(),
    };
    let meaning = match like_best_match {
        Some(name) => format!("{meaning}Close in meaning to {name}, the best match. "),
        None => meaning,
    };
    let meaning = if concepts.is_empty() {
        meaning
    } else {
        let shown: Vec<&str> = concepts.iter().take(8).map(String::as_str).collect();
        format!("{meaning}Both speak of {}. ", shown.join(", "))
    };
    let meaning = if shared_roots.is_empty() {
        meaning
    } else {
        format!("{meaning}Words with the same roots: {}. ", shared_roots.join(", "))
    };
    let meaning = if aligned_terms.is_empty() {
        meaning
    } else {
        let shown: Vec<&str> = aligned_terms.iter().take(8).map(String::as_str).collect();
        format!("{meaning}Words that mean the same: {}. ", shown.join(", "))
    };
    if lexical.matched.is_empty() {
        return format!("{meaning}No demand word appears literally in the profile.");
    }
    let parts: Vec<String> = lexical
        .matched
        .iter()
        .map(|m| {
            let shown: Vec<&str> = m.terms.iter().take(6).map(String::as_str).collect();
            let more = if m.terms.len() > 6 { format!(" and {} more", m.terms.len() - 6) } else { String::new() };
            format!("{}: {}{more}", m.field, shown.join(", "))
        })
        .collect();
    format!("{meaning}Demand words found in {}.", parts.join("; "))
}

/// Assembles a shortlist entry from a profile, its rank, score and explanation.
pub fn entry(rank: usize, profile: &Profile, score: f32, explanation: Explanation) -> ShortlistEntry {
    ShortlistEntry {
        rank,
        profile_id: profile.id.clone(),
        name: profile.name.clone(),
        score,
        kind: profile.kind,
        size: profile.size,
        language: profile.language,
        themes: profile.themes.clone(),
        trl: profile.trl,
        explanation,
        decision: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_says_in_words_what_the_breakdown_says_in_numbers() {
        let lex = LexicalExplanation {
            matched: vec![FieldMatch { field: "summary", terms: vec!["lidar".into(), "fog".into()] }],
            snippet: None,
        };
        let none = ScoreBreakdown::default();
        assert_eq!(reason(&none, &lex, &[], &[], &[], None), "Demand words found in summary: lidar, fog.");
        assert!(reason(&none, &LexicalExplanation::default(), &[], &[], &[], None).starts_with("No demand word"));
        let dense =
            ScoreBreakdown { dense: Some(2.5), best_passage: Some("innovations[1]".into()), ..Default::default() };
        let concepts = ["fuel cell".to_string(), "hydrogen".to_string()];
        assert_eq!(
            reason(&dense, &lex, &concepts, &[], &[], None),
            "Very close in meaning, above all its second innovation. Both speak of fuel cell, hydrogen. \
             Demand words found in summary: lidar, fog."
        );
        let close = ScoreBreakdown { dense: Some(1.2), best_passage: Some("summary".into()), ..Default::default() };
        assert!(reason(&close, &lex, &[], &[], &[], None).starts_with("Close in meaning, above all its summary."));
        let weak = ScoreBreakdown { dense: Some(-0.4), best_passage: Some("summary".into()), ..Default::default() };
        assert!(reason(&weak, &lex, &[], &[], &[], None).starts_with("Less related in meaning"));
        assert!(!reason(&dense, &lex, &[], &[], &[], None).contains("standard deviations"));
        let roots = ["batterijen (batteries)".to_string()];
        assert_eq!(
            reason(&none, &lex, &[], &roots, &[], None),
            "Words with the same roots: batterijen (batteries). Demand words found in summary: lidar, fog."
        );
        assert_eq!(
            reason(&close, &LexicalExplanation::default(), &[], &[], &[], Some("Maasvolt B.V.")),
            "Close in meaning, above all its summary. Close in meaning to Maasvolt B.V., the best match. No demand \
             word appears literally in the profile."
        );
        let aligned = ["klant (client)".to_string(), "levering (livraison)".to_string()];
        assert_eq!(
            reason(&none, &LexicalExplanation::default(), &[], &roots, &aligned, None),
            "Words with the same roots: batterijen (batteries). Words that mean the same: klant (client), levering \
             (livraison). No demand word appears literally in the profile."
        );
    }
}
