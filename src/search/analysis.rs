//! Per-language text analysis. Dutch, French and English text is split, lower-cased, stripped of
//! the language's stop words, stemmed with the language's Snowball stemmer and finally folded to
//! ASCII (so `véhicule` and `vehicule` meet). Stemming runs before folding because the French and
//! Dutch stemmers rely on accents. The same analyzers serve indexing, querying, explanation and
//! snippet highlighting, so a term that scores is always a term that gets highlighted.

use std::collections::HashMap;

use rust_stemmers::Algorithm;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language as StemLanguage, LowerCaser, RemoveLongFilter, SimpleTokenizer, StopWordFilter,
    TextAnalyzer, Token as TantivyToken, TokenFilter, TokenStream, Tokenizer, TokenizerManager,
};

use crate::domain::Language;

/// Tokens longer than this (bytes) are dropped: they are hashes, URLs or garbage, never demand terms.
pub(super) const MAX_TOKEN_BYTES: usize = 40;

fn stem_language(lang: Language) -> StemLanguage {
    match lang {
        Language::Nl => StemLanguage::Dutch,
        Language::En => StemLanguage::English,
        Language::Fr => StemLanguage::French,
    }
}

fn stem_algorithm(lang: Language) -> Algorithm {
    match lang {
        Language::Nl => Algorithm::Dutch,
        Language::En => Algorithm::English,
        Language::Fr => Algorithm::French,
    }
}

/// Words a [`CachingStemmer`] remembers before it starts afresh: far more than the vocabulary of
/// a few thousand profiles, and at most a few megabytes.
const STEM_CACHE_WORDS: usize = 100_000;

/// The Snowball stemmer of a language, as tantivy's `Stemmer` filter applies it, remembering the
/// stem of every word it has seen. Indexing stems each word of every profile (and the glossary
/// stems it again to find concepts); the words repeat from profile to profile, and looking a
/// stem up costs a fraction of working it out. Same stems as tantivy's filter.
#[derive(Clone)]
pub struct CachingStemmer {
    algorithm: Algorithm,
}

impl TokenFilter for CachingStemmer {
    type Tokenizer<T: Tokenizer> = CachingStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> CachingStemmerFilter<T> {
        CachingStemmerFilter { algorithm: self.algorithm, inner: tokenizer, stems: HashMap::new() }
    }
}

/// A tokenizer whose tokens leave stemmed; see [`CachingStemmer`].
#[derive(Clone)]
pub struct CachingStemmerFilter<T> {
    algorithm: Algorithm,
    inner: T,
    stems: HashMap<String, String>,
}

impl<T: Tokenizer> Tokenizer for CachingStemmerFilter<T> {
    type TokenStream<'a> = CachingStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        if self.stems.len() > STEM_CACHE_WORDS {
            self.stems.clear();
        }
        CachingStemmerStream {
            tail: self.inner.token_stream(text),
            stemmer: rust_stemmers::Stemmer::create(self.algorithm),
            stems: &mut self.stems,
        }
    }
}

/// The token stream of a [`CachingStemmerFilter`].
pub struct CachingStemmerStream<'a, T> {
    tail: T,
    stemmer: rust_stemmers::Stemmer,
    stems: &'a mut HashMap<String, String>,
}

impl<T: TokenStream> TokenStream for CachingStemmerStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        match self.stems.get(&token.text) {
            Some(stem) => {
                token.text.clear();
                token.text.push_str(stem);
            }
            None => {
                let stem = self.stemmer.stem(&token.text).into_owned();
                let word = std::mem::replace(&mut token.text, stem.clone());
                self.stems.insert(word, stem);
            }
        }
        true
    }

    fn token(&self) -> &TantivyToken {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut TantivyToken {
        self.tail.token_mut()
    }
}

/// Name under which the full analyzer for `lang` is registered with tantivy.
pub fn analyzer_name(lang: Language) -> &'static str {
    match lang {
        Language::Nl => "pm_nl",
        Language::En => "pm_en",
        Language::Fr => "pm_fr",
    }
}

/// Split, lower-case, drop stop words, stem, fold accents.
pub fn full_analyzer(lang: Language) -> TextAnalyzer {
    let stemmer = CachingStemmer { algorithm: stem_algorithm(lang) };
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser);
    match StopWordFilter::new(stem_language(lang)) {
        Some(stop) => builder.filter(stop).filter(stemmer).filter(AsciiFoldingFilter).build(),
        None => builder.filter(stemmer).filter(AsciiFoldingFilter).build(),
    }
}

/// Runs `f` with this thread's [`full_analyzer`] for `lang`. Building an analyzer builds its
/// stop-word set; indexing and explaining need one per profile, so each thread keeps its own.
pub fn with_full_analyzer<R>(lang: Language, f: impl FnOnce(&mut TextAnalyzer) -> R) -> R {
    thread_local! {
        static FULL: AnalyzerCache = const { std::cell::RefCell::new(Vec::new()) };
    }
    FULL.with(|cache| with_cached(cache, lang, full_analyzer, f))
}

/// A thread's analyzers of one kind, built on first use per language.
type AnalyzerCache = std::cell::RefCell<Vec<(Language, TextAnalyzer)>>;

fn with_cached<R>(
    cache: &AnalyzerCache,
    lang: Language,
    build: fn(Language) -> TextAnalyzer,
    f: impl FnOnce(&mut TextAnalyzer) -> R,
) -> R {
    let mut analyzers = cache.borrow_mut();
    let at = match analyzers.iter().position(|(l, _)| *l == lang) {
        Some(at) => at,
        None => {
            analyzers.push((lang, build(lang)));
            analyzers.len() - 1
        }
    };
    f(&mut analyzers[at].1)
}

/// The [`full_analyzer`] without its stemmer: split, lower-case, drop stop words, fold accents. Its
/// tokens are the full analyzer's, one for one, as written; the glossary matches the terms it wants
/// matched as written (French `aimant`, a magnet, whose stem is that of *aimer*) on these.
pub fn unstemmed_analyzer(lang: Language) -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser);
    match StopWordFilter::new(stem_language(lang)) {
        Some(stop) => builder.filter(stop).filter(AsciiFoldingFilter).build(),
        None => builder.filter(AsciiFoldingFilter).build(),
    }
}

/// Runs `f` with this thread's [`unstemmed_analyzer`] for `lang`.
pub fn with_unstemmed_analyzer<R>(lang: Language, f: impl FnOnce(&mut TextAnalyzer) -> R) -> R {
    thread_local! {
        static UNSTEMMED: AnalyzerCache = const { std::cell::RefCell::new(Vec::new()) };
    }
    UNSTEMMED.with(|cache| with_cached(cache, lang, unstemmed_analyzer, f))
}

/// Split, lower-case and drop the stop words of `lang`, keeping surface forms. Used on query text so
/// that a French query's `les` or `des` is removed by French rules before the words are stemmed for
/// Dutch or English fields.
pub fn surface_analyzer(lang: Language) -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser);
    match StopWordFilter::new(stem_language(lang)) {
        Some(stop) => builder.filter(stop).build(),
        None => builder.build(),
    }
}

/// Function words the stop-word lists miss (tantivy's English list is Lucene's short one, without
/// pronouns or auxiliaries; "per", "via", "à partir de" and "au moins" are in none): they appear in
/// every kind of text and say nothing about a match. One list per language, because a function word
/// in one is a content word in another (Dutch `door` is "through", English `door` a car door); the
/// Latin abbreviations belong to all three.
const FUNCTION_WORDS_EN: &[&str] = &[
    "we", "our", "us", "you", "your", "i", "my", "he", "she", "his", "her", "its", "them", "what", "which", "who",
    "whom", "when", "where", "why", "how", "all", "any", "both", "each", "few", "more", "most", "other", "some",
    "than", "too", "very", "can", "could", "should", "would", "may", "might", "must", "shall", "do", "does", "did",
    "have", "has", "had", "been", "being", "were", "am", "from", "about", "up", "out", "over", "under", "again",
    "once", "here", "only", "own", "same", "so", "just", "now", "also", "using", "based", "within", "across",
];
const FUNCTION_WORDS_FR: &[&str] = &[
    "partir", "moins", "plus", "tout", "tous", "toute", "toutes", "très", "aussi", "ainsi", "entre", "chez", "sans",
    "sous", "selon", "vers", "dont", "cette", "cet", "où",
];
const FUNCTION_WORDS_NL: &[&str] = &["ook", "zoals", "onder", "tussen", "door", "naar", "zonder", "andere"];
const FUNCTION_WORDS_ALL: &[&str] = &["per", "via", "etc", "ie", "eg", "vs"];

/// Whether `lower`, a lower-cased word, is on `lang`'s function-word list or the shared one.
fn listed_function_word(lower: &str, lang: Language) -> bool {
    let own = match lang {
        Language::En => FUNCTION_WORDS_EN,
        Language::Fr => FUNCTION_WORDS_FR,
        Language::Nl => FUNCTION_WORDS_NL,
    };
    FUNCTION_WORDS_ALL.contains(&lower) || own.contains(&lower)
}

/// Whether `surface`, a word as written in a text in `lang`, is one of that language's function
/// words that no stop-word list drops. A query leaves them out, so that what scores is what an
/// explanation can show. A word written in capitals is an acronym (`CAN` bus, `US` market), not one.
pub fn is_function_word(surface: &str, lang: Language) -> bool {
    if surface.chars().count() > 1 && surface.chars().all(|c| c.is_uppercase()) {
        return false;
    }
    listed_function_word(&surface.to_lowercase(), lang)
}

/// Whether `word` (a surface form), written in `lang`, says nothing as evidence of a match: one of
/// that language's stop words or function words, or a single letter. Asked per language because a
/// query is matched in fields analysed for every language: a word that is a stop word in one
/// ("we", French `an`) matches in another's field where it is not one, while the same spelling can
/// be a content word elsewhere (English `van`, `die` casting and `door` are Dutch stop words). An
/// explanation asks for the demand's language and the profile's.
pub fn is_filler_word(word: &str, lang: Language) -> bool {
    let lower = word.to_lowercase();
    lower.chars().count() < 2
        || listed_function_word(&lower, lang)
        || with_surface_analyzer(lang, |analyzer| tokens(analyzer, &lower).is_empty())
}

/// Runs `f` with this thread's [`surface_analyzer`] for `lang` (building one builds its stop-word
/// set, and every explained profile asks about its matched words).
pub fn with_surface_analyzer<R>(lang: Language, f: impl FnOnce(&mut TextAnalyzer) -> R) -> R {
    thread_local! {
        static SURFACE: AnalyzerCache = const { std::cell::RefCell::new(Vec::new()) };
    }
    SURFACE.with(|cache| with_cached(cache, lang, surface_analyzer, f))
}

/// Registers the three full analyzers.
pub fn register(manager: &TokenizerManager) {
    for lang in Language::ALL {
        manager.register(analyzer_name(lang), full_analyzer(lang));
    }
}

/// A token with the byte range it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The analysed term.
    pub term: String,
    /// Byte offset of the first character in the source text.
    pub from: usize,
    /// Byte offset one past the last character.
    pub to: usize,
}

/// Runs `analyzer` over `text` and collects the tokens.
pub fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Token> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let t = stream.token();
        out.push(Token { term: t.text.clone(), from: t.offset_from, to: t.offset_to });
    }
    out
}

/// Convenience: just the analysed terms of `text` in `lang`.
pub fn terms(lang: Language, text: &str) -> Vec<String> {
    tokens(&mut full_analyzer(lang), text).into_iter().map(|t| t.term).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_drops_stop_words_and_folds_accents() {
        assert_eq!(terms(Language::Fr, "les véhicules électriques"), vec!["vehicul", "electr"]);
        assert_eq!(terms(Language::En, "the charging stations"), vec!["charg", "station"]);
        assert_eq!(terms(Language::Nl, "de laadpalen en batterijen"), vec!["laadpal", "batterij"]);
    }

    #[test]
    fn remembered_stems_are_tantivys_stems() {
        use tantivy::tokenizer::Stemmer;
        let text = "Les véhicules électriques, les batteries et les véhicules hybrides; charging chargers \
                    charged; laadpalen laadpaal batterijen";
        for lang in Language::ALL {
            let mut plain = TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(LowerCaser)
                .filter(Stemmer::new(stem_language(lang)))
                .build();
            let mut caching = TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(LowerCaser)
                .filter(CachingStemmer { algorithm: stem_algorithm(lang) })
                .build();
            let want = tokens(&mut plain, text);
            // Twice through the same analyzer: the second pass answers from what it remembers.
            assert_eq!(tokens(&mut caching, text), want, "{lang:?}");
            assert_eq!(tokens(&mut caching, text), want, "{lang:?}");
        }
    }

    #[test]
    fn surface_analyzer_keeps_words_but_drops_stop_words() {
        let got: Vec<String> =
            tokens(&mut surface_analyzer(Language::Fr), "Les Véhicules").into_iter().map(|t| t.term).collect();
        assert_eq!(got, vec!["véhicules"]);
    }

    #[test]
    fn offsets_point_into_the_source() {
        let text = "Snelladers voor bussen";
        let toks = tokens(&mut full_analyzer(Language::Nl), text);
        assert_eq!(&text[toks[0].from..toks[0].to], "Snelladers");
    }
}
