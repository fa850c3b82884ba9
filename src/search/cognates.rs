//! Shared word roots across languages, without a word list. Dutch, English and French technical
//! vocabulary comes largely from the same roots (`batterij`, `battery`, `batterie`;
//! `recyclage`, `recycling`; `elektrolyse`, `électrolyse`), yet the per-language fields stem
//! each language apart, so BM25 sees nothing shared, and the glossary only knows the words someone
//! wrote down. Every word's character five-grams (accents folded, padded at both ends so that the
//! beginnings and endings of words count) are indexed in one field for all languages; BM25 over
//! them is the cognate signal of the hybrid ranking. Measured on the dev set with the glossary
//! switched off, it lifts nDCG@10 from 0.77 to about 0.82 (see `docs/benchmarks.md`).

use std::collections::{HashMap, HashSet};

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, TokenStream,
};

use super::analysis::{is_filler_word, tokens, MAX_TOKEN_BYTES};
use crate::domain::Language;

/// Length of a gram in characters. Four to six all help on the dev set; five is the middle.
pub const GRAM_CHARS: usize = 5;

/// Marks the start and the end of a word inside a gram (never part of a folded word).
const PAD: char = '_';

fn word_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        // Longer words are codes or garbage, as for the text fields.
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

thread_local! {
    static WORDS: std::cell::RefCell<TextAnalyzer> = std::cell::RefCell::new(word_analyzer());
}

/// The folded words of `text` with the surface form each came from (lower-cased), in text order.
fn words(text: &str) -> Vec<(String, String)> {
    let found = WORDS.with(|a| tokens(&mut a.borrow_mut(), text));
    found.into_iter().map(|t| (t.term, text[t.from..t.to].to_lowercase())).collect()
}

/// Calls `f` with every gram of `text` in text order (see [`grams`]), one buffer reused for all:
/// a profile has several hundred grams, and indexing 100,000 profiles spent more time allocating
/// them one by one than cutting them.
fn for_each_gram(text: &str, mut f: impl FnMut(&str)) {
    WORDS.with(|a| {
        let mut analyzer = a.borrow_mut();
        let mut stream = analyzer.token_stream(text);
        let mut padded: Vec<char> = Vec::new();
        let mut gram = String::new();
        while stream.advance() {
            let word = &stream.token().text;
            padded.clear();
            padded.push(PAD);
            padded.extend(word.chars());
            padded.push(PAD);
            if padded.len() < GRAM_CHARS + 2 {
                continue;
            }
            for window in padded.windows(GRAM_CHARS) {
                gram.clear();
                gram.extend(window);
                f(&gram);
            }
        }
    });
}

/// The grams of one folded word (none when it is shorter than a gram).
fn word_grams(word: &str) -> Vec<String> {
    if word.chars().count() < GRAM_CHARS {
        return Vec::new();
    }
    let padded: Vec<char> = std::iter::once(PAD).chain(word.chars()).chain(std::iter::once(PAD)).collect();
    padded.windows(GRAM_CHARS).map(|w| w.iter().collect()).collect()
}

/// Every gram of `text`, with repetitions, in text order: the words lower-cased and folded to
/// ASCII, each padded with `_` at both ends and cut into overlapping grams of [`GRAM_CHARS`]
/// characters. Words shorter than a gram add nothing (short words are mostly function words, and
/// their grams would be whole words, which BM25 already matches).
pub fn grams(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_gram(text, |g| out.push(g.to_string()));
    out
}

/// [`grams`] as one space-separated text, the form the index's gram field takes.
pub fn indexed_grams(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 6);
    for_each_gram(text, |g| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(g);
    });
    out
}

/// `grams` sorted, each once.
fn distinct(mut grams: Vec<String>) -> Vec<String> {
    grams.sort_unstable();
    grams.dedup();
    grams
}

/// The distinct grams of a query text, sorted (each counts once in the query).
pub fn query_grams(text: &str) -> Vec<String> {
    distinct(grams(text))
}

/// Words of a profile and of a query that share a root but are not the same word, shown so that an
/// organiser can see what the word-gram signal found ("batterij" for "batterie"). Two words count
/// as sharing a root when they begin alike (the same first gram), share at least
/// [`MIN_SHARED_GRAMS`] grams and at least [`MIN_SHARED_SHARE`] of the shorter word's grams: enough
/// for `recycling`/`recyclage` and `productie`/`production`, not for `management`/`engagement`.
#[derive(Debug, Default)]
pub struct RootPairs {
    /// The query's content words.
    words: Vec<QueryWord>,
    /// Gram → indices into `words` of the words that contain it.
    by_gram: HashMap<String, Vec<usize>>,
}

/// A content word of the query, with what matching a profile word against it needs.
#[derive(Debug)]
struct QueryWord {
    folded: String,
    surface: String,
    /// Its first gram (the word's beginning).
    first: String,
    /// Its number of distinct grams.
    distinct: usize,
}

/// Grams two words must share to be shown as sharing a root.
pub const MIN_SHARED_GRAMS: usize = 3;

/// Share of the shorter word's grams two words must share to be shown as sharing a root.
pub const MIN_SHARED_SHARE: f32 = 0.4;

/// At most this many pairs are shown per profile.
const MAX_PAIRS: usize = 6;

impl RootPairs {
    /// The content words of query `text`, written in `language`, indexed by their grams.
    pub fn of_query(text: &str, language: Language) -> RootPairs {
        let mut pairs = RootPairs::default();
        let mut seen = HashSet::new();
        for (folded, surface) in words(text) {
            if folded.chars().count() < GRAM_CHARS || is_filler_word(&surface, language) || !seen.insert(folded.clone())
            {
                continue;
            }
            let at = pairs.words.len();
            let grams = word_grams(&folded);
            let first = grams[0].clone();
            let grams = distinct(grams);
            pairs.words.push(QueryWord { folded, surface, first, distinct: grams.len() });
            for g in grams {
                pairs.by_gram.entry(g).or_default().push(at);
            }
        }
        pairs
    }

    /// `(profile word, query word)` pairs that share a root, in the order the profile's words
    /// first appear, each profile word and each query word once, at most six; words that are the
    /// same once folded are left out (BM25 matches those already), and so are the profile words
    /// for which `already_shown` says yes (the words the explanation lists as found).
    pub fn in_text(&self, text: &str, already_shown: impl Fn(&str) -> bool) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut used_profile = HashSet::new();
        let mut used_query = HashSet::new();
        for (folded, surface) in words(text) {
            if out.len() >= MAX_PAIRS {
                break;
            }
            if used_profile.contains(&folded) || already_shown(&surface) {
                continue;
            }
            let grams = word_grams(&folded);
            let Some(first) = grams.first().cloned() else { continue };
            let grams = distinct(grams);
            let mut shared: HashMap<usize, usize> = HashMap::new();
            for g in &grams {
                for &w in self.by_gram.get(g).map(Vec::as_slice).unwrap_or_default() {
                    *shared.entry(w).or_default() += 1;
                }
            }
            let best = shared
                .into_iter()
                .filter(|&(w, n)| {
                    let query_word = &self.words[w];
                    let shorter = grams.len().min(query_word.distinct).max(1);
                    query_word.folded != folded
                        && query_word.first == first
                        && n >= MIN_SHARED_GRAMS
                        && n as f32 >= MIN_SHARED_SHARE * shorter as f32
                })
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)));
            if let Some((w, _)) = best {
                if used_query.insert(w) {
                    used_profile.insert(folded);
                    out.push((surface, self.words[w].surface.clone()));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_padded_and_cut() {
        assert_eq!(grams("Batterie"), vec!["_batt", "batte", "atter", "tteri", "terie", "erie_"]);
        assert_eq!(grams("élec"), Vec::<String>::new(), "shorter than a gram");
        assert_eq!(grams("Élect"), vec!["_elec", "elect", "lect_"]);
        assert_eq!(indexed_grams("Élect, élec et Batterie"), "_elec elect lect_ _batt batte atter tteri terie erie_");
        assert_eq!(indexed_grams("à la"), "");
    }

    #[test]
    fn cognates_share_grams_where_stems_share_nothing() {
        let shared = |a: &str, b: &str| {
            let (a, b) = (query_grams(a), query_grams(b));
            a.iter().filter(|g| b.binary_search(g).is_ok()).count()
        };
        assert!(shared("batterij", "batterie") >= 4);
        assert!(shared("recyclage", "recycling") >= 3);
        assert_eq!(shared("batterij", "pneumatique"), 0);
    }

    #[test]
    fn root_pairs_name_cognates_and_leave_out_lookalikes() {
        let query = RootPairs::of_query("Recyclage des batteries et production d'hydrogène, management", Language::Fr);
        let text = "Wij recyclen batterijen; recycling en productie van waterstof. Engagement.";
        let pairs = query.in_text(text, |_| false);
        assert_eq!(
            pairs,
            vec![
                ("recyclen".to_string(), "recyclage".to_string()),
                ("batterijen".to_string(), "batteries".to_string()),
                ("productie".to_string(), "production".to_string()),
            ]
        );
        assert!(query.in_text("Recyclage des batteries", |_| false).is_empty(), "the same words are not pairs");
        assert!(RootPairs::of_query("", Language::En).in_text("batterij", |_| false).is_empty());
        let shown = query.in_text(text, |w| w == "recyclen");
        assert_eq!(shown[0], ("batterijen".to_string(), "batteries".to_string()), "a word already shown is left out");
    }

    #[test]
    fn query_grams_are_distinct_and_sorted() {
        let g = query_grams("battery battery");
        let mut sorted = g.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(g, sorted);
        assert_eq!(g.len(), grams("battery").len());
    }
}
