//! The language of a search text. It decides which stop words a query drops and in which
//! language's terms the glossary looks for concepts, so a short search taken for the wrong
//! language loses its cross-language evidence. Trigram statistics need a sentence or more —
//! "hydrogen tanks" reads as Dutch to them, "hydrogen pressure vessels" as French — so when they
//! are not sure, the words decide: the language in which the text names glossary concepts and
//! uses stop words.

use super::analysis::{tokens, with_surface_analyzer};
use super::Glossary;
use crate::domain::Language;

/// How much one word of a glossary term of a language counts against one stop word of it: a
/// concept term is specific to its language far more often than a short function word is.
const CONCEPT_WEIGHT: usize = 2;

/// Texts of at least this many words are left to the trigram detector (which calls even two
/// words "reliable").
const SENTENCE_WORDS: usize = 8;

/// The language of `text`: the trigram detector's for a sentence or more; for shorter texts the
/// language with the most evidence in words ([`word_evidence`]), else the detector's guess.
pub fn detect_search_language(glossary: &Glossary, text: &str) -> Language {
    let guess = crate::domain::detect_language(text);
    if text.split_whitespace().count() >= SENTENCE_WORDS {
        return guess;
    }
    let evidence: Vec<(Language, usize)> =
        Language::ALL.iter().map(|&l| (l, word_evidence(glossary, text, l))).collect();
    let best = evidence.iter().map(|(_, e)| *e).max().unwrap_or(0);
    let leaders: Vec<Language> = evidence.iter().filter(|(_, e)| *e == best).map(|(l, _)| *l).collect();
    match leaders.as_slice() {
        [only] if best > 0 => *only,
        _ if leaders.contains(&guess) => guess,
        _ => leaders.first().copied().unwrap_or(Language::En),
    }
}

/// Evidence that `text` is written in `lang`: its words that belong to glossary terms of that
/// language (weighted by [`CONCEPT_WEIGHT`]; "hydrogen tanks" is one English term of two words and
/// one Dutch term, `tanks`, of one) plus its stop words of that language.
pub fn word_evidence(glossary: &Glossary, text: &str, lang: Language) -> usize {
    let words = text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).count();
    let kept = with_surface_analyzer(lang, |analyzer| tokens(analyzer, text).len());
    let stop_words = words.saturating_sub(kept);
    let concept_words: usize = glossary
        .mentions(lang, text)
        .iter()
        .map(|m| text[m.from..m.to].split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).count())
        .sum();
    CONCEPT_WEIGHT * concept_words + stop_words
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn glossary() -> Glossary {
        Glossary::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models")).expect("glossary")
    }

    #[test]
    fn short_searches_are_read_in_the_language_their_words_belong_to() {
        let g = glossary();
        for (text, lang) in [
            ("hydrogen tanks", Language::En),
            ("hydrogen pressure vessels", Language::En),
            ("hydrogen pressure vessels for trucks", Language::En),
            ("waterstoftanks voor vrachtwagens", Language::Nl),
            ("batterij recycling", Language::Nl),
            ("réservoirs d'hydrogène", Language::Fr),
            ("recyclage des batteries", Language::Fr),
        ] {
            assert_eq!(detect_search_language(&g, text), lang, "{text}");
        }
    }

    #[test]
    fn sentences_keep_the_detectors_answer() {
        let g = glossary();
        let fr = "Nous recherchons des partenaires pour la recharge des véhicules électriques";
        assert_eq!(detect_search_language(&g, fr), Language::Fr);
        let nl = "Wij zoeken partners voor het laden van elektrische voertuigen";
        assert_eq!(detect_search_language(&g, nl), Language::Nl);
        assert_eq!(detect_search_language(&g, ""), Language::En);
    }
}
