//! Fusing the lexical and the dense signal into one score.
//!
//! The two signals fail differently. BM25 is precise when demand and profile share a language and
//! weak across languages. Dense cosine crosses languages but is biased: e5 scores a profile
//! written in the demand's own language higher whatever it says, so ranking on raw cosine puts
//! irrelevant same-language profiles above relevant foreign ones. The fusion therefore
//!
//! 1. **standardises both signals per profile language**: `dense_z = (cos - mean_L) / std_L` and
//!    `lexical_z = (bm25 - mean_L) / std_L`, each with the mean and standard deviation over all
//!    profiles written in language `L` for this very query (a profile without a BM25 hit counts
//!    as 0). A profile competes on how far it stands out from its language peers, so the
//!    language offset of the cosine cancels, and a small BM25 from a few shared technical words
//!    in a foreign-language profile counts as much as it stands out among that language's
//!    profiles instead of vanishing next to the best same-language hit;
//! 2. lets each query **weigh the signals by how peaked they are**: a BM25 distribution with a
//!    few clear hits gives them large `lexical_z`, a flat one adds little — the per-query balance
//!    that off-domain English text (SciFact) needs and multilingual automotive text does not;
//! 3. adds the **glossary concept** BM25 (language-independent concept ids), scaled by the query's
//!    best concept BM25 into `[0, 1]` and weighted by how much of the query the glossary covers
//!    and by how many distinct concepts back it:
//!    `concepts_weight = c · max(coverage - 0.10, 0) · n / (n + 4)` for `n` distinct concepts in
//!    the query. Scaling by the best makes one shared concept worth as much as fifteen, so a short
//!    off-domain text whose only glossary word is ambiguous ("cell" in a biomedical claim, "gear",
//!    "regulation") would otherwise push every profile containing that word up by the full
//!    weight; `n / (n + 4)` gives one concept a fifth of the weight and an automotive demand area
//!    (11-26 concepts in the dev set) 73-87 % of it;
//! 4. adds the **shared word roots**: BM25 over the character five-grams of the words
//!    ([`crate::search::cognates`]), standardised per profile language like BM25
//!    (`cognates_z`). It needs no word list: `batterij`, `battery` and `batterie` share most of
//!    their grams. It is the cross-language evidence that holds where the glossary has no entry;
//!    where the glossary has one, the two mostly agree. Texts under 25 words (search words,
//!    titles) and collections in one language (SciFact) go without it ([`cognate_weight`]);
//! 5. adds the **induced concepts**: BM25 over the concepts the collection's own terms form
//!    across languages when the encoder aligns them word by word ([`crate::induction`]:
//!    `klant` = `client`), standardised per profile language (`induced_z`). It needs no word list
//!    either, and it reaches the pairs that share no root (`levering`/`livraison`,
//!    `regen`/`pluie`) where the glossary has no entry;
//! 6. sums them: `score = w_dense · dense_z + w_lex · lexical_z + concepts_weight · concepts
//!    + w_cognates · cognates_z + w_induced · induced_z`;
//! 7. adds the **likeness to the best match**: the profile that sum puts first is, most of the
//!    time, what the demand asks for, and it says so in a profile's own words and genre. Every
//!    profile's mean vector is compared with its mean vector (cosine), standardised per profile
//!    language (`best_match_z`) and added with weight `w_best_match`. Profile against profile is
//!    the comparison the encoder makes best across languages: a Dutch profile that does what the
//!    best (often English or French) match does sits close to it even where it shares no word
//!    with the demand. The final score is the sum of 6 and this term.
//!
//! The weights (1, 0.5625, 45) were chosen on the dev evaluation set together with the full
//! SciFact, with the 8-bit encoder's vectors: every goal (dev nDCG@10 >=
//! 0.85, every language slice >= 0.75, SciFact >= 0.70) holds on a plateau of lexical weight
//! 0.53-0.59, concept factor 40-50 and half-confidence 3-5 concepts, and this point is its
//! middle. The en->fr slice (7 demands, one relevant French profile each) is the fragile one.
//! The word-root weight 1 was chosen with the glossary switched off (dev nDCG@10 0.77 -> 0.82,
//! and 0.79-0.82 for every gram length 4-6 and weight 0.5-1.5 in an offline sweep), and checked
//! with the glossary on, where it changes little.
//! The induced-concept weight 0.5 was chosen the same way: with the glossary off dev nDCG@10 goes
//! from 0.816 to 0.829 (0.83 on a plateau of weights 0.25-0.75 in an offline sweep), with it on
//! from 0.858 to 0.860, and the Dutch profiles written for topics outside the glossary climb
//! (`bench/unseen_topics.sh`).
//!
//! The best-match weight 0.75 was chosen the same way, with one seed profile (the mean of the two
//! or three best was no better): with the glossary off dev nDCG@10 0.829 -> 0.836 and every
//! cross-language slice to 0.75 or more, with it on 0.860 -> 0.867 (weights 0.5-1 and one or two
//! seeds form the plateau, in an offline sweep). Collections in one language go without it
//! ([`best_match_weight`]).
//!
//! Every intermediate number is kept in the [`ScoreBreakdown`](super::ScoreBreakdown).

/// Fewer profiles than this in a language and its statistics are too noisy to centre on; the
/// statistics over all profiles stand in.
pub const MIN_GROUP: usize = 8;

/// Tunable weights of the fusion (tuned on `shared/eval/dev` and SciFact, see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusionWeights {
    /// Weight of the centred dense score.
    pub dense: f32,
    /// Weight of the standardised BM25 score.
    pub lexical: f32,
    /// Weight of the scaled concept BM25 score per unit of glossary coverage above
    /// [`CONCEPT_COVERAGE_FLOOR`] (see [`concept_weight`]).
    pub concepts: f32,
    /// Weight of the standardised word-gram BM25 (shared word roots, see
    /// [`crate::search::cognates`]).
    pub cognates: f32,
    /// Weight of the standardised induced-concept BM25 (terms aligned across languages by the
    /// encoder, see [`crate::induction`]).
    pub induced: f32,
    /// Weight of the standardised likeness to the best match (see [`best_match_z`]).
    pub best_match: f32,
}

impl Default for FusionWeights {
    fn default() -> Self {
        FusionWeights { dense: 1.0, lexical: 0.5625, concepts: 45.0, cognates: 1.0, induced: 0.5, best_match: 0.75 }
    }
}

/// One profile's normalised signals for one query, the terms of the fused score.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Parts {
    /// [`dense_z`].
    pub dense: f32,
    /// [`lexical_z`].
    pub lexical: f32,
    /// The concept BM25 [`scaled_by_best`].
    pub concepts: f32,
    /// [`cognates_z`].
    pub cognates: f32,
    /// [`induced_z`].
    pub induced: f32,
    /// [`best_match_z`].
    pub best_match: f32,
}

/// Mean and standard deviation of one signal (cosine or BM25) over a group of profiles.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ScoreStats {
    /// Mean.
    pub mean: f32,
    /// Standard deviation (population).
    pub std: f32,
    /// Number of profiles it was computed over.
    pub count: usize,
}

impl ScoreStats {
    /// Statistics of `values`.
    pub fn of(values: impl IntoIterator<Item = f32>) -> ScoreStats {
        let (mut n, mut sum, mut sq) = (0usize, 0f64, 0f64);
        for v in values {
            n += 1;
            sum += f64::from(v);
            sq += f64::from(v) * f64::from(v);
        }
        if n == 0 {
            return ScoreStats::default();
        }
        let mean = sum / n as f64;
        let var = (sq / n as f64 - mean * mean).max(0.0);
        ScoreStats { mean: mean as f32, std: var.sqrt() as f32, count: n }
    }
}

/// `value` standardised against its group: how many standard deviations it lies above the mean;
/// 0 when the spread is degenerate.
pub fn standardise(value: f32, stats: &ScoreStats) -> f32 {
    if stats.std > 1e-6 {
        (value - stats.mean) / stats.std
    } else {
        0.0
    }
}

/// The centred dense score: the cosine standardised within the profile's language.
pub fn dense_z(cosine: f32, stats: &ScoreStats) -> f32 {
    standardise(cosine, stats)
}

/// The lexical score: BM25 (0 without a hit) standardised within the profile's language.
pub fn lexical_z(bm25: f32, stats: &ScoreStats) -> f32 {
    standardise(bm25, stats)
}

/// A BM25 scaled into `[0, 1]` by the best of the query; 0 without a match (the concept signal).
pub fn scaled_by_best(bm25: f32, best: f32) -> f32 {
    if best > 0.0 {
        (bm25 / best).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Glossary concept coverage (concept mentions per content word of the query) below which the
/// concept signal is ignored; above it, the concept weight grows linearly.
pub const CONCEPT_COVERAGE_FLOOR: f32 = 0.10;

/// Number of distinct query concepts at which the concept signal gets half its weight.
pub const CONCEPT_HALF_CONFIDENCE: f32 = 4.0;

/// How far `distinct` glossary concepts in a query can be trusted to say what it is about:
/// `n / (n + 4)`, 0 without concepts, 0.2 for one, 0.5 for four, 0.8 for sixteen.
pub fn concept_confidence(distinct: usize) -> f32 {
    let n = distinct as f32;
    n / (n + CONCEPT_HALF_CONFIDENCE)
}

/// The weight of the concept signal for a query with glossary `coverage` and `distinct` concepts:
/// `per_coverage · max(coverage - 0.10, 0) · n / (n + 4)`, the coverage being the glossary mentions
/// per query word (function words left out, as the query leaves them). Automotive demand texts have
/// a coverage of 0.19-0.45 and 10-25 concepts (dev set, median 0.33 and 17: weight 3.0-13.7, median
/// 8.2); most off-domain texts (SciFact claims: median coverage 0.06) get none, and a short one
/// whose single glossary word is ambiguous gets a fifth of what its coverage alone would give.
pub fn concept_weight(per_coverage: f32, coverage: f32, distinct: usize) -> f32 {
    per_coverage * (coverage - CONCEPT_COVERAGE_FLOOR).max(0.0) * concept_confidence(distinct)
}

/// Texts shorter than this many words are ranked without the word-root signal. A few search words'
/// grams are mostly those words again, which BM25 already matches, plus grams shared by accident;
/// across a whole description the accidents even out and the shared roots remain. On the dev
/// set, the demand areas' titles alone as search text scored nDCG@10 0.663 without the signal and
/// 0.640 with it. The same length makes a text read like a profile for the encoder.
pub const COGNATE_MIN_WORDS: usize = 25;

/// The weight of the word-root signal for a query text of `words` words (whitespace-separated)
/// over a collection with `languages` languages of at least [`MIN_GROUP`] profiles each:
/// `per_query` for a text of [`COGNATE_MIN_WORDS`] or more over a collection in more than one
/// language, else 0. The signal exists to cross languages; in a collection of one language it
/// counts the words BM25 already counted a second time (on SciFact's eight claims of 25 words or
/// more it cost nDCG@10 0.002 overall).
pub fn cognate_weight(per_query: f32, words: usize, languages: usize) -> f32 {
    if words >= COGNATE_MIN_WORDS && languages > 1 {
        per_query
    } else {
        0.0
    }
}

/// The word-gram score: the BM25 over shared word grams (0 without a hit) standardised within the
/// profile's language, like [`lexical_z`].
pub fn cognates_z(gram_bm25: f32, stats: &ScoreStats) -> f32 {
    standardise(gram_bm25, stats)
}

/// The induced-concept score: the BM25 over the induced concepts a profile shares with the query
/// (0 without a hit) standardised within the profile's language, like [`lexical_z`].
pub fn induced_z(induced_bm25: f32, stats: &ScoreStats) -> f32 {
    standardise(induced_bm25, stats)
}

/// The likeness to the best match: the cosine of the profile's mean vector to the mean vector of
/// the profile the other signals put first, standardised within the profile's language like
/// [`dense_z`].
pub fn best_match_z(cosine: f32, stats: &ScoreStats) -> f32 {
    standardise(cosine, stats)
}

/// The weight of the likeness to the best match over a collection with `languages` languages of at
/// least [`MIN_GROUP`] profiles each: `per_query` when there is more than one, else 0. The signal
/// is there to cross languages; in a collection of one language it is plain feedback from the
/// top result, which pulls up what resembles that result rather than what the query asks (on
/// the side-by-side SciFact subset of 300 abstracts, nearly all relevant to some claim, nDCG@10
/// 0.890 -> 0.884).
pub fn best_match_weight(per_query: f32, languages: usize) -> f32 {
    if languages > 1 {
        per_query
    } else {
        0.0
    }
}

/// The fused score from the normalised signals.
/// `w.concepts` is the concept weight for this query ([`concept_weight`]).
pub fn fuse(p: &Parts, w: &FusionWeights) -> f32 {
    w.dense * p.dense
        + w.lexical * p.lexical
        + w.concepts * p.concepts
        + w.cognates * p.cognates
        + w.induced * p.induced
        + w.best_match * p.best_match
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_and_centring() {
        let s = ScoreStats::of([0.7, 0.8, 0.9]);
        assert!((s.mean - 0.8).abs() < 1e-6);
        assert!((s.std - 0.081_649_66).abs() < 1e-5);
        assert!((dense_z(0.9, &s) - 1.224_744_9).abs() < 1e-4);
        assert_eq!(dense_z(0.9, &ScoreStats { mean: 0.5, std: 0.0, count: 3 }), 0.0);
    }

    #[test]
    fn language_offset_cancels() {
        // Same relative closeness in two languages whose cosines sit at different levels.
        let nl = ScoreStats::of([0.70, 0.72, 0.74, 0.80]);
        let fr = ScoreStats::of([0.80, 0.82, 0.84, 0.90]);
        assert!((dense_z(0.80, &nl) - dense_z(0.90, &fr)).abs() < 1e-4);
    }

    #[test]
    fn a_lone_lexical_hit_stands_out_more_than_one_among_many() {
        // Nine profiles without a hit and one with BM25 4, against ten profiles with BM25 4-13:
        // the lone hit is the stronger evidence although its raw BM25 is the weakest.
        let lone = ScoreStats::of([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4.0]);
        let many = ScoreStats::of((4..14).map(|b| b as f32));
        assert!(lexical_z(4.0, &lone) > 2.9);
        assert!(lexical_z(13.0, &many) < 1.6);
        assert!(lexical_z(0.0, &lone) < 0.0);
    }

    #[test]
    fn concept_weight_grows_with_coverage_above_the_floor() {
        assert_eq!(concept_weight(45.0, 0.05, 16), 0.0);
        assert_eq!(concept_weight(45.0, 0.10, 16), 0.0);
        assert!((concept_weight(45.0, 0.32, 16) - 45.0 * 0.22 * 0.8).abs() < 1e-4);
        assert!(concept_weight(45.0, 0.40, 16) > concept_weight(45.0, 0.32, 16));
    }

    #[test]
    fn one_concept_counts_less_than_many_at_the_same_coverage() {
        // A 4-word claim whose one glossary word is "cell" has the coverage of an automotive
        // demand area; its concept signal must not weigh the same.
        assert_eq!(concept_weight(45.0, 0.32, 0), 0.0);
        assert!((concept_confidence(1) - 0.2).abs() < 1e-6);
        assert!((concept_confidence(4) - 0.5).abs() < 1e-6);
        assert!(concept_weight(45.0, 0.32, 1) * 3.0 < concept_weight(45.0, 0.32, 16));
        assert!(concept_confidence(4) < concept_confidence(5));
    }

    #[test]
    fn short_texts_rank_without_word_roots() {
        assert_eq!(cognate_weight(1.0, 4, 3), 0.0);
        assert_eq!(cognate_weight(1.0, COGNATE_MIN_WORDS - 1, 3), 0.0);
        assert_eq!(cognate_weight(1.0, COGNATE_MIN_WORDS, 2), 1.0);
        assert_eq!(cognate_weight(0.5, 300, 3), 0.5);
        assert_eq!(cognate_weight(1.0, 300, 1), 0.0, "one language: nothing to cross");
    }

    #[test]
    fn the_best_match_counts_only_where_there_are_languages_to_cross() {
        assert_eq!(best_match_weight(0.75, 3), 0.75);
        assert_eq!(best_match_weight(0.75, 2), 0.75);
        assert_eq!(best_match_weight(0.75, 1), 0.0);
        assert_eq!(best_match_weight(0.75, 0), 0.0);
    }

    #[test]
    fn scaling_and_fusion() {
        assert_eq!(scaled_by_best(5.0, 10.0), 0.5);
        assert_eq!(scaled_by_best(5.0, 0.0), 0.0);
        let w =
            FusionWeights { dense: 2.0, lexical: 3.0, concepts: 0.5, cognates: 0.25, induced: 0.5, best_match: 0.75 };
        let parts = Parts { dense: 1.5, lexical: 0.5, concepts: 1.0, ..Parts::default() };
        assert_eq!(fuse(&parts, &w), 5.0);
        assert_eq!(fuse(&Parts { cognates: 2.0, ..parts }, &w), 5.5);
        assert_eq!(fuse(&Parts { cognates: 2.0, induced: -1.0, ..parts }, &w), 5.0);
        assert_eq!(fuse(&Parts { best_match: 2.0, ..parts }, &w), 6.5);
    }
}
