//! Turning free text into a BM25 query without a query language: user text is analysed, never
//! parsed, so quotes, colons, brackets or a lone `-` are just characters. The text is analysed once
//! per target language (stop words and function words such as `we`, `can` or `per` removed by the
//! *query's* language rules, then stemmed by the target's), and every term becomes a weighted
//! `TermQuery` on that language's fields. Explanations never show function words as matched terms,
//! so they do not score either.

use std::collections::BTreeMap;

use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::Term;

use super::analysis;
use crate::domain::Language;

/// The profile text fields that are searched, each with its BM25 weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TextField {
    /// Organisation name.
    Name,
    /// Summary.
    Summary,
    /// Innovations.
    Innovations,
    /// Keywords.
    Keywords,
}

impl TextField {
    /// All searched fields.
    pub const ALL: [TextField; 4] = [TextField::Name, TextField::Summary, TextField::Innovations, TextField::Keywords];

    /// Field-name stem in the schema and in explanations.
    pub fn name(self) -> &'static str {
        match self {
            TextField::Name => "name",
            TextField::Summary => "summary",
            TextField::Innovations => "innovations",
            TextField::Keywords => "keywords",
        }
    }

    /// Weight of a match in this field. A summary is the description of record; innovations and
    /// keywords are what the supplier chose to stress, so a hit there counts a little more. Names
    /// are mostly brand words and count least: a name that does say what its holder does (a
    /// title, a laboratory's field) already says it in the summary. On SciFact, whose titles
    /// are the names, 0.35 and 0.5 rank the full corpus alike and 0.35 the subsets of 300 better;
    /// the dev set moves by 0.002 at most between 0.25 and 0.75.
    pub fn weight(self) -> f32 {
        match self {
            TextField::Name => 0.35,
            TextField::Summary => 1.0,
            TextField::Innovations => 0.6,
            TextField::Keywords => 0.6,
        }
    }
}

/// How much a term analysed for another language than the query's counts. Cross-language term
/// matches are mostly shared technical words (`lidar`, `hydrogen`/`hydrogène` do not stem alike),
/// so they are kept, but damped.
pub const CROSS_LANGUAGE_WEIGHT: f32 = 0.5;

/// A query in analysed form: for each target language, the terms with their query frequency.
#[derive(Debug, Clone)]
pub struct LexicalQuery {
    /// The language the query text is written in.
    pub language: Language,
    terms: Vec<(Language, Vec<(String, u32)>)>,
}

impl LexicalQuery {
    /// Analyses `text`, written in `language`, for every target language.
    pub fn new(text: &str, language: Language) -> LexicalQuery {
        let surface: Vec<String> = analysis::tokens(&mut analysis::surface_analyzer(language), text)
            .into_iter()
            .filter(|t| !analysis::is_function_word(&text[t.from..t.to], language))
            .map(|t| t.term)
            .collect();
        let joined = surface.join(" ");
        let terms = Language::ALL
            .iter()
            .map(|&target| {
                let mut counts: BTreeMap<String, u32> = BTreeMap::new();
                for term in analysis::terms(target, &joined) {
                    *counts.entry(term).or_default() += 1;
                }
                (target, counts.into_iter().collect())
            })
            .collect();
        LexicalQuery { language, terms }
    }

    /// Analysed terms (with query frequency) for profiles written in `lang`.
    pub fn terms_for(&self, lang: Language) -> &[(String, u32)] {
        self.terms.iter().find(|(l, _)| *l == lang).map(|(_, t)| t.as_slice()).unwrap_or(&[])
    }

    /// True when analysis left nothing to search for.
    pub fn is_empty(&self) -> bool {
        self.terms.iter().all(|(_, t)| t.is_empty())
    }

    /// Weight of matches in profiles written in `target`.
    pub fn language_weight(&self, target: Language) -> f32 {
        if target == self.language {
            1.0
        } else {
            CROSS_LANGUAGE_WEIGHT
        }
    }

    /// The tantivy query: a disjunction of weighted term queries, `None` when there are no terms.
    pub fn to_query(&self, field_of: impl Fn(Language, TextField) -> Field) -> Option<Box<dyn Query>> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (lang, terms) in &self.terms {
            let lw = self.language_weight(*lang);
            for tf in TextField::ALL {
                let field = field_of(*lang, tf);
                for (term, qtf) in terms {
                    let tq = TermQuery::new(Term::from_field_text(field, term), IndexRecordOption::WithFreqs);
                    let boost = lw * tf.weight() * *qtf as f32;
                    clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(tq), boost))));
                }
            }
        }
        if clauses.is_empty() {
            None
        } else {
            Some(Box::new(BooleanQuery::new(clauses)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_just_text() {
        let q = LexicalQuery::new("\"unbalanced (brackets] title:foo - AND OR NOT *", Language::En);
        let en: Vec<&str> = q.terms_for(Language::En).iter().map(|(t, _)| t.as_str()).collect();
        assert!(en.contains(&"unbalanc"));
        assert!(en.contains(&"titl"));
        assert!(en.contains(&"foo"));
    }

    #[test]
    fn query_language_stop_words_removed_before_foreign_stemming() {
        let q = LexicalQuery::new("les batteries des véhicules", Language::Fr);
        let nl: Vec<&str> = q.terms_for(Language::Nl).iter().map(|(t, _)| t.as_str()).collect();
        assert!(!nl.iter().any(|t| *t == "les" || *t == "des"), "{nl:?}");
        assert!(nl.contains(&"batteries") || nl.iter().any(|t| t.starts_with("batter")), "{nl:?}");
    }

    #[test]
    fn function_words_do_not_score() {
        let q = LexicalQuery::new("We can deliver our sensors per vehicle, via the OEM", Language::En);
        let en: Vec<&str> = q.terms_for(Language::En).iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(en, ["deliv", "oem", "sensor", "vehicl"]);
        let fr = LexicalQuery::new("au moins deux capteurs à partir de 2026", Language::Fr);
        let fr_terms: Vec<&str> = fr.terms_for(Language::Fr).iter().map(|(t, _)| t.as_str()).collect();
        assert!(!fr_terms.iter().any(|t| *t == "moin" || *t == "part"), "{fr_terms:?}");
        assert!(fr_terms.iter().any(|t| t.starts_with("capteur")), "{fr_terms:?}");
    }

    #[test]
    fn a_function_word_of_another_language_or_an_acronym_is_searched() {
        let q = LexicalQuery::new("Sliding door modules that can talk over the CAN bus", Language::En);
        let en: Vec<&str> = q.terms_for(Language::En).iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(en, ["bus", "can", "door", "modul", "slide", "talk"]);
        let nl = LexicalQuery::new("Sensoren zoals lidar, tussen bumper en grille", Language::Nl);
        let nl_terms: Vec<&str> = nl.terms_for(Language::Nl).iter().map(|(t, _)| t.as_str()).collect();
        assert!(!nl_terms.iter().any(|t| t.starts_with("zoal") || t.starts_with("tuss")), "{nl_terms:?}");
        assert!(nl_terms.contains(&"lidar"), "{nl_terms:?}");
    }

    #[test]
    fn repeated_terms_count() {
        let q = LexicalQuery::new("battery battery recycling", Language::En);
        assert_eq!(q.terms_for(Language::En), &[("batteri".to_string(), 2), ("recycl".to_string(), 1)]);
    }

    #[test]
    fn punctuation_only_is_empty() {
        assert!(LexicalQuery::new(" - : \" ( ) ", Language::En).is_empty());
    }
}
