//! From one query's raw signals over the whole collection to fused scores: the per-language
//! statistics that put every profile's cosine and BM25 on one scale ([`Normalisation`]), and the
//! score of one profile against them. Everything here is pure arithmetic over numbers the index
//! and the vectors produced, so it is tested on hand-made inputs, and a ranking can be kept and
//! extended one profile at a time: a profile written after the ranking was computed is scored
//! against the same frozen statistics as the rest.

use super::hybrid::{self, FusionWeights, ScoreStats};
use crate::domain::{Language, Ranker};

/// What the index and the vectors say about one embedded profile for one query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Signals {
    /// The profile's language (the group its scores are standardised in).
    pub language: Language,
    /// Best cosine similarity over the profile's passages.
    pub cosine: f32,
    /// Raw BM25, when the profile is among the query's lexical hits.
    pub bm25: Option<f32>,
    /// BM25 over shared glossary concepts, when the profile is among the concept hits.
    pub concept_bm25: Option<f32>,
    /// BM25 over shared word grams, when the profile is among the word-gram hits.
    pub cognate_bm25: Option<f32>,
    /// BM25 over shared induced concepts, when the profile is among their hits.
    pub induced_bm25: Option<f32>,
    /// Cosine of the profile's mean vector to the best match's ([`BestMatch`]), once the ranking
    /// has one.
    pub best_match_cosine: Option<f32>,
}

/// One profile's fused score and the standardised parts it is the sum of.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Fused {
    /// The score the profile is ranked by.
    pub score: f32,
    /// Cosine standardised within the profile's language.
    pub dense: f32,
    /// BM25 standardised within the profile's language.
    pub lexical: f32,
    /// Concept BM25 scaled by the query's best.
    pub concepts: f32,
    /// Word-gram BM25 standardised within the profile's language.
    pub cognates: f32,
    /// Induced-concept BM25 standardised within the profile's language.
    pub induced: f32,
    /// Likeness to the best match standardised within the profile's language.
    pub best_match: f32,
}

/// The profile the other signals put first for a query, whose likeness every profile's score
/// then takes in (see [`hybrid`]'s module docs, step 7). Kept with the ranking, so that a profile
/// written later is compared with the same one.
#[derive(Debug, Clone, PartialEq)]
pub struct BestMatch {
    /// Profile id.
    pub id: std::sync::Arc<str>,
    /// Organisation name, for explanations.
    pub name: String,
    /// Its unit mean vector when the ranking was computed.
    pub vector: Vec<f32>,
}

/// The collection-wide numbers that normalise one query's scores, taken once over every embedded
/// profile (never a filtered part, so that a filter only removes rows).
#[derive(Debug, Clone, PartialEq)]
pub struct Normalisation {
    ranker: Ranker,
    cosine: [ScoreStats; 3],
    bm25: [ScoreStats; 3],
    cognate_bm25: [ScoreStats; 3],
    induced_bm25: [ScoreStats; 3],
    best_match: Option<std::sync::Arc<BestMatch>>,
    best_match_cosine: [ScoreStats; 3],
    best_concept: f32,
    weights: FusionWeights,
}

/// Statistics of one signal per language, falling back to the whole collection for languages with
/// too few profiles to centre on ([`hybrid::MIN_GROUP`]).
fn per_language(signals: &[Signals], value: impl Fn(&Signals) -> f32) -> [ScoreStats; 3] {
    let overall = ScoreStats::of(signals.iter().map(&value));
    Language::ALL.map(|l| {
        let s = ScoreStats::of(signals.iter().filter(|s| s.language == l).map(&value));
        if s.count >= hybrid::MIN_GROUP {
            s
        } else {
            overall
        }
    })
}

impl Normalisation {
    /// The statistics of `signals` (every embedded profile, in any order that is the same from
    /// run to run: the sums are order-sensitive in their last bits). `best_concept` is the best
    /// concept BM25 of the query; `weights` carry the query's concept weight already
    /// (see [`hybrid::concept_weight`]).
    pub fn of(ranker: Ranker, signals: &[Signals], best_concept: f32, weights: FusionWeights) -> Normalisation {
        Normalisation {
            ranker,
            cosine: per_language(signals, |s| s.cosine),
            bm25: per_language(signals, |s| s.bm25.unwrap_or(0.0)),
            cognate_bm25: per_language(signals, |s| s.cognate_bm25.unwrap_or(0.0)),
            induced_bm25: per_language(signals, |s| s.induced_bm25.unwrap_or(0.0)),
            best_match: None,
            best_match_cosine: [ScoreStats::default(); 3],
            best_concept,
            weights,
        }
    }

    /// The same statistics with the likeness to `best` as one more signal: `signals` carry
    /// each profile's [`Signals::best_match_cosine`] to it.
    pub fn with_best_match(self, best: BestMatch, signals: &[Signals]) -> Normalisation {
        Normalisation {
            best_match: Some(std::sync::Arc::new(best)),
            best_match_cosine: per_language(signals, |s| s.best_match_cosine.unwrap_or(0.0)),
            ..self
        }
    }

    /// Sets the best match's organisation name (for explanations; scores do not depend on it).
    pub fn name_best_match(&mut self, name: String) {
        if let Some(best) = self.best_match.as_mut() {
            std::sync::Arc::make_mut(best).name = name;
        }
    }

    /// The profile whose likeness counts, once there is one.
    pub fn best_match(&self) -> Option<&BestMatch> {
        self.best_match.as_deref()
    }

    /// Statistics of the cosines to the best match in a language.
    pub fn best_match_stats(&self, language: Language) -> ScoreStats {
        self.best_match_cosine[language.index()]
    }

    /// Cosine statistics of a language.
    pub fn cosine_stats(&self, language: Language) -> ScoreStats {
        self.cosine[language.index()]
    }

    /// BM25 statistics of a language (profiles without a hit count as 0).
    pub fn bm25_stats(&self, language: Language) -> ScoreStats {
        self.bm25[language.index()]
    }

    /// Word-gram BM25 statistics of a language (profiles without a hit count as 0).
    pub fn cognate_stats(&self, language: Language) -> ScoreStats {
        self.cognate_bm25[language.index()]
    }

    /// Induced-concept BM25 statistics of a language (profiles without a hit count as 0).
    pub fn induced_stats(&self, language: Language) -> ScoreStats {
        self.induced_bm25[language.index()]
    }

    /// The score of an embedded profile: the hybrid fusion, or the plain cosine for the dense ranker.
    pub fn fuse(&self, s: &Signals) -> Fused {
        let dense = hybrid::dense_z(s.cosine, &self.cosine_stats(s.language));
        let lexical = hybrid::lexical_z(s.bm25.unwrap_or(0.0), &self.bm25_stats(s.language));
        let concepts = hybrid::scaled_by_best(s.concept_bm25.unwrap_or(0.0), self.best_concept);
        let cognates = hybrid::cognates_z(s.cognate_bm25.unwrap_or(0.0), &self.cognate_stats(s.language));
        let induced = hybrid::induced_z(s.induced_bm25.unwrap_or(0.0), &self.induced_stats(s.language));
        let best_match = match (&self.best_match, s.best_match_cosine) {
            (Some(_), Some(cosine)) => hybrid::best_match_z(cosine, &self.best_match_stats(s.language)),
            _ => 0.0,
        };
        let parts = hybrid::Parts { dense, lexical, concepts, cognates, induced, best_match };
        let score = match self.ranker {
            Ranker::Hybrid => hybrid::fuse(&parts, &self.weights),
            Ranker::Dense | Ranker::Lexical => s.cosine,
        };
        Fused { score, dense, lexical, concepts, cognates, induced, best_match }
    }

    /// The score of a profile still waiting for its vectors: its lexical evidence alone.
    pub fn fuse_lexical_only(&self, language: Language, bm25: f32) -> Fused {
        let lexical = hybrid::lexical_z(bm25, &self.bm25_stats(language));
        let parts = hybrid::Parts { lexical, ..hybrid::Parts::default() };
        Fused { score: hybrid::fuse(&parts, &self.weights), lexical, ..Fused::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(language: Language, cosine: f32, bm25: Option<f32>) -> Signals {
        Signals {
            language,
            cosine,
            bm25,
            concept_bm25: None,
            cognate_bm25: None,
            induced_bm25: None,
            best_match_cosine: None,
        }
    }

    /// Ten Dutch profiles with cosines 0.80..0.89 and two English ones (too few to centre on).
    fn collection() -> Vec<Signals> {
        let mut out: Vec<Signals> = (0..10).map(|i| signals(Language::Nl, 0.80 + i as f32 * 0.01, None)).collect();
        out.push(signals(Language::En, 0.70, Some(4.0)));
        out.push(signals(Language::En, 0.60, None));
        out
    }

    #[test]
    fn small_language_groups_fall_back_to_the_whole_collection() {
        let norm = Normalisation::of(Ranker::Hybrid, &collection(), 0.0, FusionWeights::default());
        let all = ScoreStats::of(collection().iter().map(|s| s.cosine));
        assert_eq!(norm.cosine_stats(Language::En), all);
        assert_eq!(norm.cosine_stats(Language::Fr), all);
        assert_eq!(norm.cosine_stats(Language::Nl).count, 10);
        assert!((norm.cosine_stats(Language::Nl).mean - 0.845).abs() < 1e-6);
    }

    #[test]
    fn profiles_without_a_lexical_hit_count_as_zero_bm25() {
        let norm = Normalisation::of(Ranker::Hybrid, &collection(), 0.0, FusionWeights::default());
        // One hit of 4.0 among twelve profiles (English falls back to all twelve).
        let bm25 = norm.bm25_stats(Language::En);
        assert_eq!(bm25.count, 12);
        assert!((bm25.mean - 4.0 / 12.0).abs() < 1e-6);
    }

    #[test]
    fn a_profile_is_scored_against_its_language_peers() {
        let c = collection();
        let norm = Normalisation::of(Ranker::Hybrid, &c, 0.0, FusionWeights::default());
        // The best Dutch profile stands as far above its peers as the dense z says, with no
        // lexical or concept evidence; the same cosine in English would be far above that group.
        let best_nl = norm.fuse(&c[9]);
        let stats = norm.cosine_stats(Language::Nl);
        assert!((best_nl.dense - (0.89 - stats.mean) / stats.std).abs() < 1e-4);
        let w = FusionWeights::default();
        let expected = w.dense * best_nl.dense + w.lexical * best_nl.lexical;
        assert!((best_nl.score - expected).abs() < 1e-5, "{best_nl:?}");
        assert_eq!(best_nl.concepts, 0.0);
    }

    #[test]
    fn the_dense_ranker_ranks_by_the_raw_cosine() {
        let c = collection();
        let norm = Normalisation::of(Ranker::Dense, &c, 0.0, FusionWeights::default());
        assert_eq!(norm.fuse(&c[3]).score, c[3].cosine);
    }

    #[test]
    fn concept_evidence_is_scaled_by_the_querys_best() {
        let mut c = collection();
        c[0].concept_bm25 = Some(3.0);
        let weights = FusionWeights { concepts: 2.0, ..FusionWeights::default() };
        let norm = Normalisation::of(Ranker::Hybrid, &c, 6.0, weights);
        let with = norm.fuse(&c[0]);
        let without = norm.fuse(&Signals { concept_bm25: None, ..c[0] });
        assert_eq!(with.concepts, 0.5);
        assert!((with.score - without.score - 1.0).abs() < 1e-5);
    }

    #[test]
    fn shared_word_roots_count_as_far_as_they_stand_out_among_language_peers() {
        // One Dutch profile shares grams with the query (BM25 6, the other nine none): it stands
        // 3 standard deviations above its peers, and the fused score gains the weighted z.
        let mut c = collection();
        c[0].cognate_bm25 = Some(6.0);
        let weights = FusionWeights { cognates: 0.5, ..FusionWeights::default() };
        let norm = Normalisation::of(Ranker::Hybrid, &c, 0.0, weights);
        let stats = norm.cognate_stats(Language::Nl);
        assert_eq!(stats.count, 10);
        let with = norm.fuse(&c[0]);
        assert!((with.cognates - 3.0).abs() < 1e-4, "{with:?}");
        let without = norm.fuse(&Signals { cognate_bm25: None, ..c[0] });
        assert!((without.cognates + 1.0 / 3.0).abs() < 1e-4, "no hit counts as 0: {without:?}");
        assert!((with.score - without.score - 0.5 * (with.cognates - without.cognates)).abs() < 1e-4);
        // English falls back to all twelve profiles, where the one hit is as rare.
        assert_eq!(norm.cognate_stats(Language::En).count, 12);
    }

    #[test]
    fn shared_induced_concepts_count_as_far_as_they_stand_out_among_language_peers() {
        // Two Dutch profiles share induced concepts with the query (BM25 4 and 2, eight none).
        let mut c = collection();
        c[0].induced_bm25 = Some(4.0);
        c[1].induced_bm25 = Some(2.0);
        let weights = FusionWeights { induced: 0.5, ..FusionWeights::default() };
        let norm = Normalisation::of(Ranker::Hybrid, &c, 0.0, weights);
        let stats = norm.induced_stats(Language::Nl);
        assert_eq!(stats.count, 10);
        assert!((stats.mean - 0.6).abs() < 1e-6);
        let with = norm.fuse(&c[0]);
        assert!((with.induced - (4.0 - 0.6) / stats.std).abs() < 1e-4, "{with:?}");
        let without = norm.fuse(&Signals { induced_bm25: None, ..c[0] });
        assert!((with.score - without.score - 0.5 * (with.induced - without.induced)).abs() < 1e-4);
    }

    #[test]
    fn the_likeness_to_the_best_match_counts_once_there_is_one_against_language_peers() {
        // Dutch cosines to the best match 0.9 for the first profile, 0.5 for the nine others.
        let mut c = collection();
        for (i, s) in c.iter_mut().enumerate() {
            s.best_match_cosine = Some(if i == 0 { 0.9 } else { 0.5 });
        }
        let weights = FusionWeights { best_match: 0.75, ..FusionWeights::default() };
        let before = Normalisation::of(Ranker::Hybrid, &c, 0.0, weights);
        assert_eq!(before.fuse(&c[0]).best_match, 0.0, "no best match yet: the cosines do not count");
        let best = BestMatch { id: "p0".into(), name: "P0".into(), vector: vec![1.0] };
        let norm = before.clone().with_best_match(best, &c);
        let stats = norm.best_match_stats(Language::Nl);
        assert_eq!(stats.count, 10);
        let with = norm.fuse(&c[0]);
        assert!((with.best_match - 3.0).abs() < 1e-4, "0.4 above a mean of 0.54, std 0.12: {with:?}");
        assert!((with.score - before.fuse(&c[0]).score - 0.75 * with.best_match).abs() < 1e-4);
        let waiting = norm.fuse(&Signals { best_match_cosine: None, ..c[0] });
        assert_eq!(waiting.best_match, 0.0, "a profile without a cosine gains nothing");
        let dense_only = Normalisation::of(Ranker::Dense, &c, 0.0, weights)
            .with_best_match(BestMatch { id: "p0".into(), name: String::new(), vector: vec![1.0] }, &c);
        assert_eq!(dense_only.fuse(&c[0]).score, c[0].cosine, "the dense ranker ranks by the cosine alone");
    }

    #[test]
    fn a_profile_waiting_for_vectors_competes_on_its_lexical_evidence() {
        let c = collection();
        let norm = Normalisation::of(Ranker::Hybrid, &c, 0.0, FusionWeights::default());
        let pending = norm.fuse_lexical_only(Language::En, 4.0);
        let stats = norm.bm25_stats(Language::En);
        let lexical = (4.0 - stats.mean) / stats.std;
        assert!((pending.lexical - lexical).abs() < 1e-5);
        assert!((pending.score - FusionWeights::default().lexical * lexical).abs() < 1e-5);
        assert_eq!(pending.dense, 0.0);
    }
}
