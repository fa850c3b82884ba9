//! The multilingual glossary: shared concept ids for domain terms in Dutch, English and French
//! (`models/glossary.tsv`). Words do not cross languages — `brandstofcel`, `fuel cell` and `pile à
//! combustible` share no token — but they share a concept. Profiles are indexed with the concepts
//! their text mentions and demands are searched by theirs, which gives BM25 a cross-language
//! signal that an organiser can read ("fuel_cell" matched) rather than a black-box similarity.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::analysis::{full_analyzer, tokens, unstemmed_analyzer, with_full_analyzer, with_unstemmed_analyzer};
use crate::domain::Language;
use crate::error::{Error, Result};

/// A concept mention found in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// Index of the concept (see [`Glossary::concept`]).
    pub concept: usize,
    /// Byte range of the mention in the text.
    pub from: usize,
    /// End of the byte range.
    pub to: usize,
}

/// Concepts with their analysed surface forms per language.
#[derive(Debug, Default)]
pub struct Glossary {
    concepts: Vec<String>,
    /// Per language: analysed term sequence → concept.
    terms: HashMap<(Language, Vec<String>), usize>,
    /// Per language: the first term of every sequence in `terms`. Most words of a text start no
    /// glossary term, and this answers for them without building a sequence key to look up.
    first_terms: HashMap<Language, HashSet<String>>,
    /// Per language: terms matched as written (`=aimant` in the file), as unstemmed word sequence
    /// → concept, for words whose stem is an everyday word's.
    exact: HashMap<(Language, Vec<String>), usize>,
    /// Per language: the stems of the first words of the sequences in `exact`. A text's word is
    /// looked at as written only when its stem is one of these, so most words cost nothing more.
    exact_first_stems: HashMap<Language, HashSet<String>>,
    longest: usize,
    /// Per concept: its first term in each language, as written (the name shown to people).
    labels: Vec<Vec<(Language, String)>>,
    /// Concept id → index.
    by_id: HashMap<String, usize>,
}

impl Glossary {
    /// A glossary without concepts (matches nothing).
    pub fn empty() -> Glossary {
        Glossary::default()
    }

    /// Reads `glossary.tsv` from a models directory; a missing file gives the empty glossary.
    pub fn load(models_dir: &Path) -> Result<Glossary> {
        let path = models_dir.join("glossary.tsv");
        match std::fs::read_to_string(&path) {
            Ok(text) => Glossary::parse(&text).map_err(|e| Error::Internal(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Glossary::empty()),
            Err(e) => Err(e.into()),
        }
    }

    /// Parses the TSV (`concept`, `en`, `nl`, `fr` columns; `|` between surface terms). Terms are
    /// analysed with each language's analyzer so that inflections match; a term that analyses
    /// to the same sequence as an earlier concept's keeps the first concept.
    pub fn parse(text: &str) -> std::result::Result<Glossary, String> {
        let mut lines = text.lines().enumerate();
        let header = lines.next().map(|(_, l)| l.trim()).unwrap_or_default();
        let columns: Vec<&str> = header.split('\t').collect();
        if columns.first() != Some(&"concept") {
            return Err("the first line must be a header starting with `concept`".into());
        }
        let langs: Vec<Option<Language>> = columns[1..].iter().map(|c| Language::from_code(c.trim())).collect();
        let mut glossary = Glossary::default();
        let mut analyzers: HashMap<Language, _> = Language::ALL.iter().map(|&l| (l, full_analyzer(l))).collect();
        let mut unstemmed: HashMap<Language, _> = Language::ALL.iter().map(|&l| (l, unstemmed_analyzer(l))).collect();
        for (i, line) in lines {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let cells: Vec<&str> = line.split('\t').collect();
            let concept = glossary.concepts.len();
            glossary.concepts.push(cells[0].trim().to_string());
            glossary.by_id.entry(cells[0].trim().to_string()).or_insert(concept);
            if cells.len() != columns.len() {
                return Err(format!("line {}: expected {} columns, found {}", i + 1, columns.len(), cells.len()));
            }
            glossary.labels.push(
                cells[1..]
                    .iter()
                    .zip(&langs)
                    .filter_map(|(cell, lang)| {
                        let first =
                            cell.split('|').map(|t| t.trim().trim_start_matches('=')).find(|t| !t.is_empty())?;
                        Some(((*lang)?, first.to_string()))
                    })
                    .collect(),
            );
            for (cell, lang) in cells[1..].iter().zip(&langs) {
                let Some(lang) = lang else { continue };
                for term in cell.split('|').map(str::trim).filter(|t| !t.is_empty()) {
                    let (as_written, term) = match term.strip_prefix('=') {
                        Some(rest) => (true, rest.trim()),
                        None => (false, term),
                    };
                    let stemmed: Vec<String> =
                        tokens(analyzers.get_mut(lang).expect("all languages have analyzers"), term)
                            .into_iter()
                            .map(|t| t.term)
                            .collect();
                    let seq = if as_written {
                        tokens(unstemmed.get_mut(lang).expect("all languages have analyzers"), term)
                            .into_iter()
                            .map(|t| t.term)
                            .collect()
                    } else {
                        stemmed.clone()
                    };
                    // A term whose stop words leave one letter (`a/c` → `c`) would name its
                    // concept wherever that letter stands alone, as in every "°C"; one whose stop
                    // words leave one word means what that word means, often the opposite of the
                    // term (`sans fil` → `fil`, a wire; `sur mesure` → `mesure`, a measurement).
                    if seq.is_empty() || (seq.len() == 1 && (seq[0].chars().count() < 2 || written_words(term) > 1)) {
                        continue;
                    }
                    glossary.longest = glossary.longest.max(seq.len());
                    if as_written {
                        glossary.exact_first_stems.entry(*lang).or_default().insert(stemmed[0].clone());
                        glossary.exact.entry((*lang, seq)).or_insert(concept);
                    } else {
                        glossary.first_terms.entry(*lang).or_default().insert(seq[0].clone());
                        glossary.terms.entry((*lang, seq)).or_insert(concept);
                    }
                }
            }
        }
        Ok(glossary)
    }

    /// Number of concepts.
    pub fn len(&self) -> usize {
        self.concepts.len()
    }

    /// True without concepts.
    pub fn is_empty(&self) -> bool {
        self.concepts.is_empty()
    }

    /// The id of concept `i`.
    pub fn concept(&self, i: usize) -> &str {
        &self.concepts[i]
    }

    /// Concept `id` named for a reader of `lang`: its first term in that language, else in
    /// English, else the id in words.
    pub fn label(&self, id: &str, lang: Language) -> String {
        let labels = self.by_id.get(id).and_then(|&i| self.labels.get(i));
        let in_lang = |l: Language| labels.and_then(|ls| ls.iter().find(|(x, _)| *x == l)).map(|(_, t)| t.clone());
        in_lang(lang).or_else(|| in_lang(Language::En)).unwrap_or_else(|| id.replace('_', " "))
    }

    /// Concept mentions in `text` written in `lang`, longest match first, left to right.
    pub fn mentions(&self, lang: Language, text: &str) -> Vec<Mention> {
        if !self.first_terms.contains_key(&lang) && !self.exact_first_stems.contains_key(&lang) {
            return Vec::new();
        }
        let toks = with_full_analyzer(lang, |a| tokens(a, text));
        let terms: Vec<&str> = toks.iter().map(|t| t.term.as_str()).collect();
        // A word as written, for the terms matched unstemmed: the unstemmed analyzer differs from
        // the full one only in the stemmer, so it keeps the token and gives its folded form.
        let written = |k: usize| {
            let surface = &text[toks[k].from..toks[k].to];
            with_unstemmed_analyzer(lang, |a| tokens(a, surface)).into_iter().next().map(|t| t.term).unwrap_or_default()
        };
        self.matches(lang, &terms, written)
            .into_iter()
            .map(|(concept, at, n)| Mention { concept, from: toks[at].from, to: toks[at + n - 1].to })
            .collect()
    }

    /// Concept ids mentioned in `text`, with repetitions (for term frequency).
    pub fn concept_ids(&self, lang: Language, text: &str) -> Vec<&str> {
        self.mentions(lang, text).into_iter().map(|m| self.concept(m.concept)).collect()
    }

    /// `(concept, first term, term count)` of each mention in `terms` (stemmed), longest match
    /// first, left to right; `written(k)` gives term `k`'s word as written, for the terms matched
    /// unstemmed.
    fn matches(&self, lang: Language, terms: &[&str], written: impl Fn(usize) -> String) -> Vec<(usize, usize, usize)> {
        let stemmed_first = self.first_terms.get(&lang);
        let exact_first_stems = self.exact_first_stems.get(&lang);
        let mut out = Vec::new();
        let mut i = 0;
        while i < terms.len() {
            let starts_stemmed = stemmed_first.is_some_and(|f| f.contains(terms[i]));
            let starts_exact = exact_first_stems.is_some_and(|f| f.contains(terms[i]));
            if !starts_stemmed && !starts_exact {
                i += 1;
                continue;
            }
            let longest = self.longest.min(terms.len() - i);
            let words: Vec<String> = if starts_exact { (i..i + longest).map(&written).collect() } else { Vec::new() };
            let mut matched = None;
            for n in (1..=longest).rev() {
                let stemmed = starts_stemmed.then(|| self.terms.get(&(lang, to_key(&terms[i..i + n])))).flatten();
                let exact = || starts_exact.then(|| self.exact.get(&(lang, words[..n].to_vec()))).flatten();
                if let Some(&c) = stemmed.or_else(exact) {
                    matched = Some((c, n));
                    break;
                }
            }
            match matched {
                Some((concept, n)) => {
                    out.push((concept, i, n));
                    i += n;
                }
                None => i += 1,
            }
        }
        out
    }

    /// A fingerprint of the glossary content, so that an index built with another glossary is
    /// recognised and rebuilt.
    pub fn fingerprint(&self) -> String {
        use std::hash::{Hash, Hasher};
        let mut entries: Vec<(&(Language, Vec<String>), &usize)> = self.terms.iter().collect();
        entries.sort();
        let mut as_written: Vec<(&(Language, Vec<String>), &usize)> = self.exact.iter().collect();
        as_written.sort();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.concepts.hash(&mut h);
        entries.hash(&mut h);
        // A glossary without terms matched as written keeps the fingerprint it had before they
        // existed, so that the indexes built with it are not rebuilt for nothing.
        if !as_written.is_empty() {
            as_written.hash(&mut h);
        }
        format!("{:016x}-{}", h.finish(), self.concepts.len())
    }
}

/// The key of `terms` in a map of term sequences.
fn to_key(terms: &[&str]) -> Vec<String> {
    terms.iter().map(|t| t.to_string()).collect()
}

/// Words of `term` as the tokenizer splits them (on anything but letters and digits).
fn written_words(term: &str) -> usize {
    term.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TSV: &str = "concept\ten\tnl\tfr\n\
        fuel_cell\tfuel cell|fuel cells\tbrandstofcel|brandstofcellen\tpile à combustible|piles à combustible\n\
        hydrogen\thydrogen\twaterstof\thydrogène\n\
        cell\tcell|cells\tcel|cellen\tcellule|cellules\n";

    #[test]
    fn same_concept_across_languages_and_inflections() {
        let g = Glossary::parse(TSV).unwrap();
        assert_eq!(g.concept_ids(Language::Fr, "Des piles à combustible à hydrogène"), vec!["fuel_cell", "hydrogen"]);
        assert_eq!(g.concept_ids(Language::Nl, "Brandstofcellen op waterstof"), vec!["fuel_cell", "hydrogen"]);
        assert_eq!(g.concept_ids(Language::En, "a hydrogen fuel cell"), vec!["hydrogen", "fuel_cell"]);
    }

    #[test]
    fn longest_match_wins_and_offsets_are_exact() {
        let g = Glossary::parse(TSV).unwrap();
        let text = "fuel cells and battery cells";
        let m = g.mentions(Language::En, text);
        assert_eq!(m.len(), 2);
        assert_eq!(&text[m[0].from..m[0].to], "fuel cells");
        assert_eq!(g.concept(m[1].concept), "cell");
    }

    #[test]
    fn concepts_are_named_in_the_readers_language() {
        let g = Glossary::parse(TSV).unwrap();
        assert_eq!(g.label("fuel_cell", Language::Fr), "pile à combustible");
        assert_eq!(g.label("fuel_cell", Language::Nl), "brandstofcel");
        assert_eq!(g.label("fuel_cell", Language::En), "fuel cell");
        assert_eq!(g.label("not_in_it", Language::Fr), "not in it");
    }

    #[test]
    fn malformed_files_are_reported() {
        assert!(Glossary::parse("id\ten\n").is_err());
        assert!(Glossary::parse("concept\ten\tnl\nx\tonly-two\n").is_err());
        assert!(Glossary::empty().mentions(Language::En, "anything").is_empty());
    }

    #[test]
    fn shipped_glossary_parses() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let g = Glossary::load(&dir).unwrap();
        assert!(g.len() > 500, "shipped glossary has {} concepts", g.len());
        assert_eq!(
            g.concept_ids(Language::Fr, "des piles à combustible à hydrogène"),
            g.concept_ids(Language::Nl, "brandstofcellen op waterstof")
        );
    }

    /// A glossary term that is also an everyday word of its language (`its`, the abbreviation of
    /// intelligent transport systems) names its concept in nearly every text of that language.
    #[test]
    fn function_words_name_no_concept_in_the_shipped_glossary() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let g = Glossary::load(&dir).unwrap();
        for (lang, text) in [
            (Language::En, "It does its job well: we built it ourselves and they use it every day."),
            (Language::Nl, "Het doet wat het moet doen: wij hebben het zelf gebouwd en zij gebruiken het elke dag."),
            (Language::Fr, "Il fait son travail : nous l'avons construit nous-mêmes et ils s'en servent chaque jour."),
        ] {
            let named = g.concept_ids(lang, text);
            assert!(named.is_empty(), "{lang:?}: {named:?}");
        }
    }

    /// A glossary word whose stem is also an everyday word's (`reducer` and `reduce`, `training`
    /// and `train`, `engineering` and `engine`) names its concept wherever the everyday word stands.
    #[test]
    fn everyday_words_sharing_a_stem_name_no_concept_in_the_shipped_glossary() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let g = Glossary::load(&dir).unwrap();
        for (lang, text) in [
            (
                Language::En,
                "We reduce it directly, trained on local data, a position we separate from the \
                 engine, with tools and plates, access to commercial terms, in the form of \
                 silicon, as laminated as it is compact; a couple of them bear the wind.",
            ),
            (Language::Nl, "Wij maken het snel, leren veel, de besturing en de stromen, zo halen wij het."),
            (
                Language::Fr,
                "Nous aimerions monter un train tout le long, ce qui rend un usage direct et une position \
                 séparée, et elles roulent.",
            ),
        ] {
            let named = g.concept_ids(lang, text);
            assert!(named.is_empty(), "{lang:?}: {named:?}");
        }
    }

    #[test]
    fn a_term_reduced_to_one_of_its_words_names_nothing() {
        let g = Glossary::parse(
            "concept\ten\tnl\tfr\n\
             wireless\twireless\tdraadloos\tsans fil|communication sans fil\n\
             solvent_free\tsolvent-free\top waterbasis|waterbasis\tsans solvant\n",
        )
        .unwrap();
        assert!(g.concept_ids(Language::Fr, "Une alimentation en fil de cuivre, un vernis au solvant.").is_empty());
        assert_eq!(g.concept_ids(Language::Fr, "Une communication sans fil."), vec!["wireless"]);
        assert_eq!(g.concept_ids(Language::Nl, "Lak op waterbasis."), vec!["solvent_free"]);
    }

    #[test]
    fn a_term_marked_as_written_is_matched_unstemmed() {
        let g = Glossary::parse("concept\ten\tnl\tfr\nmagnet\tmagnet\tmagneet\t=aimant|=aimants permanents\n").unwrap();
        assert!(g.concept_ids(Language::Fr, "Nous aimerions ce que le client aime.").is_empty());
        assert_eq!(g.concept_ids(Language::Fr, "Un aimant, des aimants permanents."), vec!["magnet", "magnet"]);
        assert_eq!(g.label("magnet", Language::Fr), "aimant");
    }

    #[test]
    fn a_term_reduced_to_one_letter_names_nothing() {
        let g = Glossary::parse("concept\ten\tnl\tfr\nhvac\thvac|a/c\tairco\tclimatisation\n").unwrap();
        assert!(g.concept_ids(Language::En, "It runs at 40 °C.").is_empty());
        assert_eq!(g.concept_ids(Language::En, "The HVAC unit."), vec!["hvac"]);
    }
}
