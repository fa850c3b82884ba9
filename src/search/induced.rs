//! Concepts induced from the collection: groups of words and two-word phrases, in two or three
//! languages, that the encoder places at the same point (`klant` = `client` = `customer`,
//! `levering` = `livraison`). The glossary only knows what someone wrote down; a Co-Innovation Day
//! brings topics nobody anticipated, and the words its profiles and demand areas use are exactly
//! the ones worth aligning. [`crate::induction`] builds the groups; this module holds them (the
//! `induced.tsv` file of a data directory), finds their mentions in a text and picks the terms a
//! collection offers for alignment. Profiles are indexed with the induced concepts they mention
//! and a demand area is searched by its own, which gives BM25 a cross-language signal that needs
//! no word list and names its evidence in the profile's and the demand's own words.

use std::collections::{HashMap, HashSet};

use super::analysis::is_filler_word;
use crate::domain::Language;

/// One induced concept: its terms per language (indexed by [`Language::index`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InducedConcept {
    /// Lower-cased terms (a word, or two separated by one space) per language.
    pub terms: [Vec<String>; 3],
}

/// The induced concepts of a collection, with a lookup from term to concept.
#[derive(Debug, Default, PartialEq)]
pub struct InducedConcepts {
    concepts: Vec<InducedConcept>,
    /// Per language: term → concept index.
    by_term: [HashMap<String, usize>; 3],
    /// Per language: the first words of the two-word terms (most words start none).
    phrase_heads: [HashSet<String>; 3],
}

/// The header line of the file: the columns, languages in the glossary's order.
const HEADER: &str = "concept\ten\tnl\tfr";
const COLUMNS: [Language; 3] = [Language::En, Language::Nl, Language::Fr];

impl InducedConcepts {
    /// No concepts: matches nothing (a collection in one language, or not induced yet).
    pub fn empty() -> InducedConcepts {
        InducedConcepts::default()
    }

    /// The concepts of `groups` that span two languages or more, numbered in the order given. A
    /// term already taken by an earlier concept stays with it.
    pub fn from_concepts(groups: Vec<InducedConcept>) -> InducedConcepts {
        let mut taken: [HashSet<String>; 3] = Default::default();
        let mut kept = Vec::with_capacity(groups.len());
        for mut concept in groups {
            for (terms, taken) in concept.terms.iter_mut().zip(&taken) {
                terms.retain(|t| !taken.contains(t));
            }
            if concept.terms.iter().filter(|t| !t.is_empty()).count() >= 2 {
                for (terms, taken) in concept.terms.iter().zip(&mut taken) {
                    taken.extend(terms.iter().cloned());
                }
                kept.push(concept);
            }
        }
        InducedConcepts::numbered(kept)
    }

    /// Every group of `groups` numbered in the order given, even one left with a single language
    /// (a concept that lost terms keeps its number, see [`InducedConcepts::without_terms`]). A term
    /// already taken by an earlier concept stays with it.
    fn numbered(groups: Vec<InducedConcept>) -> InducedConcepts {
        let mut out = InducedConcepts::default();
        for mut concept in groups {
            let at = out.concepts.len();
            for l in 0..3 {
                concept.terms[l].retain(|t| !out.by_term[l].contains_key(t));
                for term in &concept.terms[l] {
                    out.by_term[l].insert(term.clone(), at);
                    if let Some((head, _)) = term.split_once(' ') {
                        out.phrase_heads[l].insert(head.to_string());
                    }
                }
            }
            out.concepts.push(concept);
        }
        out
    }

    /// The same concepts, under the same ids, without the terms of `language` in `drop`. Every
    /// other text's mentions stay as they were, so an index built with these concepts stays valid
    /// for every profile that mentions none of the dropped terms.
    pub fn without_terms(&self, language: Language, drop: &HashSet<&str>) -> InducedConcepts {
        let mut groups = self.concepts.clone();
        for concept in &mut groups {
            concept.terms[language.index()].retain(|t| !drop.contains(t.as_str()));
        }
        InducedConcepts::numbered(groups)
    }

    /// Number of concepts.
    pub fn len(&self) -> usize {
        self.concepts.len()
    }

    /// True without concepts.
    pub fn is_empty(&self) -> bool {
        self.concepts.is_empty()
    }

    /// The concept id of concept number `at` (`i1` for the first): what the index stores.
    fn id(at: usize) -> String {
        format!("i{}", at + 1)
    }

    /// The concept with id `id`.
    pub fn concept(&self, id: &str) -> Option<&InducedConcept> {
        let at: usize = id.strip_prefix('i')?.parse().ok()?;
        self.concepts.get(at.checked_sub(1)?)
    }

    /// Every mention of a concept in `text` (written in `language`), in text order, each as the
    /// concept id and the term as the lexicon holds it. Two-word terms are tried before single
    /// words, and a mention never spans a punctuation mark.
    pub fn mentions(&self, language: Language, text: &str) -> Vec<(String, &str)> {
        if self.is_empty() {
            return Vec::new();
        }
        let l = language.index();
        let mut out = Vec::new();
        for words in clauses(text) {
            let mut i = 0;
            while i < words.len() {
                if i + 1 < words.len() && self.phrase_heads[l].contains(&words[i]) {
                    let phrase = format!("{} {}", words[i], words[i + 1]);
                    if let Some((term, &at)) = self.by_term[l].get_key_value(&phrase) {
                        out.push((Self::id(at), term.as_str()));
                        i += 2;
                        continue;
                    }
                }
                if let Some((term, &at)) = self.by_term[l].get_key_value(&words[i]) {
                    out.push((Self::id(at), term.as_str()));
                }
                i += 1;
            }
        }
        out
    }

    /// The concept ids `text` mentions, each with how often, ordered by id: the query side.
    pub fn concept_counts(&self, language: Language, text: &str) -> Vec<(String, u32)> {
        let mut counts: std::collections::BTreeMap<String, u32> = std::collections::BTreeMap::new();
        for (id, _) in self.mentions(language, text) {
            *counts.entry(id).or_default() += 1;
        }
        counts.into_iter().collect()
    }

    /// The file form: a comment, the header `concept en nl fr`, one concept per line with its
    /// terms per language separated by `|`.
    pub fn to_tsv(&self) -> String {
        let mut out = String::from(
            "# Concepts induced from the collection: terms the encoder aligns across languages.\n\
             # Written by `pitchmatch import` and `pitchmatch reindex`; edits are overwritten.\n",
        );
        out.push_str(HEADER);
        out.push('\n');
        for (at, concept) in self.concepts.iter().enumerate() {
            out.push_str(&Self::id(at));
            for lang in COLUMNS {
                out.push('\t');
                out.push_str(&concept.terms[lang.index()].join("|"));
            }
            out.push('\n');
        }
        out
    }

    /// Reads the file form written by [`InducedConcepts::to_tsv`]. Concepts are numbered in file
    /// order; the first column is informative.
    pub fn parse(text: &str) -> Result<InducedConcepts, String> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
        match lines.next() {
            Some((_, header)) if header.trim_end() == HEADER => {}
            _ => return Err(format!("the first line after the comments must be the header `{HEADER}`")),
        }
        let mut groups = Vec::new();
        for (i, line) in lines {
            let cells: Vec<&str> = line.split('\t').collect();
            if cells.len() != 4 {
                return Err(format!("line {}: expected 4 tab-separated columns, found {}", i + 1, cells.len()));
            }
            let mut concept = InducedConcept::default();
            for (lang, cell) in COLUMNS.iter().zip(&cells[1..]) {
                concept.terms[lang.index()] =
                    cell.split('|').map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect();
            }
            groups.push(concept);
        }
        Ok(InducedConcepts::numbered(groups))
    }

    /// A fingerprint of the concepts, so that an index built with others is recognised.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(self.to_tsv().as_bytes());
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("{hex}-{}", self.len())
    }
}

/// Ends a clause: a two-word term never spans one.
fn is_clause_break(c: char) -> bool {
    matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | '(' | ')' | '[' | ']' | '"' | '/' | '\n')
}

/// The lower-cased words of `text`, clause by clause. A word is a run of letters, digits and inner
/// hyphens that starts with a letter and has two characters or more (`3d-printing` is a code, not a
/// word); apostrophes separate words,
/// which drops French elisions (`l'usine` gives `usine`).
pub fn clauses(text: &str) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new()];
    let mut word = String::new();
    let finish = |word: &mut String, out: &mut Vec<Vec<String>>| {
        let trimmed = word.trim_matches('-');
        if trimmed.chars().next().is_some_and(char::is_alphabetic) && trimmed.chars().nth(1).is_some() {
            out.last_mut().expect("one clause at least").push(trimmed.to_string());
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() || c == '-' {
            word.extend(c.to_lowercase());
        } else {
            finish(&mut word, &mut out);
            if is_clause_break(c) && out.last().is_some_and(|c| !c.is_empty()) {
                out.push(Vec::new());
            }
        }
    }
    finish(&mut word, &mut out);
    out.retain(|c| !c.is_empty());
    out
}

/// A single word worth aligning has this many characters at least: shorter ones are mostly
/// function words and abbreviations that mean different things in different languages.
const MIN_WORD_CHARS: usize = 4;

/// Each word of a two-word term has this many characters at least.
const MIN_PHRASE_WORD_CHARS: usize = 3;

/// A single word in more than this share of its language's texts is too common to tell texts
/// apart (`vehicle`, `développement`), and common words align with everything.
const MAX_WORD_SHARE: f64 = 0.2;

/// A two-word term must appear in this many texts: most pairs of words are chance neighbours.
const MIN_PHRASE_TEXTS: usize = 2;

/// The terms of a collection worth aligning, per language (indexed by [`Language::index`]),
/// sorted: single words of [`MIN_WORD_CHARS`] or more in at most [`MAX_WORD_SHARE`] of the
/// language's texts, and two-word terms in [`MIN_PHRASE_TEXTS`] texts or more, neither with a
/// stop word or function word of the text's language. At most `cap` terms per language, those in most
/// texts first: at 100,000 profiles a language has hundreds of thousands of terms, most of them
/// names and typos in one text.
pub fn candidate_terms(texts: &[(Language, &str)], cap: usize) -> [Vec<String>; 3] {
    // Per language, like the counts: a lookup of a word already judged allocates nothing.
    let mut filler: [HashMap<String, bool>; 3] = Default::default();
    let mut is_filler = |lang: Language, w: &str| {
        let judged = &mut filler[lang.index()];
        if let Some(&known) = judged.get(w) {
            return known;
        }
        let verdict = is_filler_word(w, lang);
        judged.insert(w.to_string(), verdict);
        verdict
    };
    let mut in_texts: [HashMap<String, usize>; 3] = Default::default();
    let mut texts_per_language = [0usize; 3];
    for (lang, text) in texts {
        let l = lang.index();
        texts_per_language[l] += 1;
        let mut seen: HashSet<String> = HashSet::new();
        for words in clauses(text) {
            for (i, w) in words.iter().enumerate() {
                let content = !is_filler(*lang, w);
                if content && w.chars().count() >= MIN_WORD_CHARS {
                    seen.insert(w.clone());
                }
                if let Some(next) = words.get(i + 1) {
                    let long = |x: &str| x.chars().count() >= MIN_PHRASE_WORD_CHARS;
                    if content && long(w) && long(next) && !is_filler(*lang, next) {
                        seen.insert(format!("{w} {next}"));
                    }
                }
            }
        }
        for term in seen {
            *in_texts[l].entry(term).or_default() += 1;
        }
    }
    Language::ALL.map(|lang| {
        let l = lang.index();
        let n = texts_per_language[l].max(1) as f64;
        let mut kept: Vec<(usize, String)> = in_texts[l]
            .iter()
            .filter(
                |(term, &count)| {
                    if term.contains(' ') {
                        count >= MIN_PHRASE_TEXTS
                    } else {
                        count as f64 / n <= MAX_WORD_SHARE
                    }
                },
            )
            .map(|(term, &count)| (count, term.clone()))
            .collect();
        kept.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        kept.truncate(cap);
        let mut terms: Vec<String> = kept.into_iter().map(|(_, t)| t).collect();
        terms.sort();
        terms
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concept(en: &[&str], nl: &[&str], fr: &[&str]) -> InducedConcept {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut c = InducedConcept::default();
        c.terms[Language::En.index()] = v(en);
        c.terms[Language::Nl.index()] = v(nl);
        c.terms[Language::Fr.index()] = v(fr);
        c
    }

    fn lexicon() -> InducedConcepts {
        InducedConcepts::from_concepts(vec![
            concept(&["customer"], &["klant"], &["client"]),
            concept(&["heat pump"], &["warmtepomp"], &["pompe"]),
            concept(&["delivery"], &["levering"], &[]),
        ])
    }

    #[test]
    fn words_are_split_by_clause_with_elisions_dropped() {
        assert_eq!(
            clauses("L'usine livre au client. Heat-pump (R744), 3D-printing; e-mobility 2024"),
            vec![vec!["usine", "livre", "au", "client"], vec!["heat-pump"], vec!["r744"], vec!["e-mobility"],]
        );
        assert!(clauses(" . , ").is_empty());
    }

    #[test]
    fn mentions_prefer_two_word_terms_and_stay_within_a_clause() {
        let lex = lexicon();
        let found = lex.mentions(Language::En, "A heat pump for every customer. Heat, pump.");
        assert_eq!(found, vec![("i2".to_string(), "heat pump"), ("i1".to_string(), "customer")]);
        assert_eq!(
            lex.concept_counts(Language::Nl, "Klant na klant, levering"),
            vec![("i1".to_string(), 2), ("i3".to_string(), 1)]
        );
        // Terms belong to their language: the French term is not looked up in English text.
        assert!(lex.mentions(Language::En, "client pompe").is_empty());
        assert!(InducedConcepts::empty().mentions(Language::En, "customer").is_empty());
    }

    #[test]
    fn the_file_form_reads_back_as_written() {
        let lex = lexicon();
        let text = lex.to_tsv();
        let back = InducedConcepts::parse(&text).unwrap();
        assert_eq!(back, lex);
        assert_eq!(back.fingerprint(), lex.fingerprint());
        assert_ne!(InducedConcepts::empty().fingerprint(), lex.fingerprint());
        assert_eq!(back.concept("i3").map(|c| c.terms[Language::Nl.index()].clone()), Some(vec!["levering".into()]));
        assert_eq!(back.concept("i4"), None);
        assert_eq!(back.concept("i0"), None);
        let err = InducedConcepts::parse("concept\ten\tnl\tfr\ni1\tcustomer\tklant\n").unwrap_err();
        assert!(err.contains("line 2") && err.contains("4 tab-separated columns"), "{err}");
        assert!(InducedConcepts::parse("id\ten\n").unwrap_err().contains("header"));
    }

    #[test]
    fn dropping_terms_keeps_every_other_mention_and_id() {
        let lex = lexicon();
        let text = "De klant koopt een warmtepomp; levering morgen.";
        let before = lex.mentions(Language::Nl, text);
        let dropped = lex.without_terms(Language::Nl, &["klant"].into_iter().collect());
        let after = dropped.mentions(Language::Nl, text);
        assert_eq!(after, before[1..].to_vec(), "only the dropped term goes");
        assert_eq!(dropped.mentions(Language::Fr, "client")[0].0, "i1", "its concept keeps the other languages");
        assert_eq!(dropped.len(), 3);
        // The file keeps the numbering too, though a concept may have one language left.
        let gone = dropped.without_terms(Language::Nl, &["levering"].into_iter().collect());
        let back = InducedConcepts::parse(&gone.to_tsv()).unwrap();
        assert_eq!(back, gone);
        assert_eq!(back.mentions(Language::En, "delivery")[0].0, "i3");
    }

    #[test]
    fn a_concept_needs_two_languages_and_a_term_names_one_concept() {
        let lex = InducedConcepts::from_concepts(vec![
            concept(&["customer"], &["klant"], &[]),
            concept(&["customer"], &[], &["client"]),
            concept(&["battery"], &[], &[]),
        ]);
        assert_eq!(lex.len(), 1, "the second lost its English term to the first; the third has one language");
        assert!(lex.mentions(Language::Fr, "client").is_empty());
        assert!(lex.mentions(Language::En, "battery").is_empty());
    }

    #[test]
    fn candidates_leave_out_function_words_common_words_and_chance_pairs() {
        let texts: Vec<(Language, String)> = (0..10)
            .map(|i| {
                let extra = if i < 2 { " thermal loop for cabins" } else { "" };
                (Language::En, format!("The vehicle supplier number{i} makes parts{extra}."))
            })
            .collect();
        let texts: Vec<(Language, &str)> = texts.iter().map(|(l, t)| (*l, t.as_str())).collect();
        let [nl, en, fr] = candidate_terms(&texts, 100);
        assert!(nl.is_empty() && fr.is_empty());
        assert!(en.contains(&"number3".to_string()), "{en:?}");
        assert!(en.contains(&"thermal loop".to_string()), "a pair in two texts: {en:?}");
        assert!(en.contains(&"thermal".to_string()), "in two texts of ten: {en:?}");
        assert!(!en.contains(&"vehicle".to_string()), "in every text: {en:?}");
        assert!(en.contains(&"makes parts".to_string()), "a pair is never too common: {en:?}");
        assert!(!en.iter().any(|t| t == "the" || t.starts_with("the ") || t.ends_with(" for")), "{en:?}");
        assert!(!en.contains(&"number3 makes".to_string()), "a pair in one text: {en:?}");
        let capped = candidate_terms(&texts, 3);
        assert_eq!(capped[Language::En.index()].len(), 3);
        for term in ["makes parts", "vehicle supplier"] {
            assert!(capped[Language::En.index()].contains(&term.to_string()), "most texts first: {capped:?}");
        }
    }
}
