//! Fusing the lexical and the dense signal into one score.
//!
//! The two signals fail differently. BM25 is precise when demand and profile share a language and
//! useless across languages. Dense cosine crosses languages but is biased: e5 scores a profile
//! written in the demand's own language higher whatever it says, so ranking on raw cosine puts
//! irrelevant same-language profiles above relevant foreign ones. The fusion therefore
//!
//! 1. **centres the cosine per profile language**: `dense_z = (cos - mean_L) / std_L`, where
//!    `mean_L`, `std_L` are taken over all profiles written in language `L` for this very query.
//!    A profile then competes on how much closer it is than its language peers, and the language
//!    offset cancels (the set-up the dev set's per-slice figures reward);
//! 2. **scales BM25 by the query's best BM25**: `lex = bm25 / max_bm25` in `[0, 1]`, and the same
//!    for the BM25 over shared glossary concepts (`concepts`), the cross-language lexical signal;
//! 3. adds them: `score = w_dense · dense_z + w_lex · lex + w_concepts · concepts`.
//!
//! The weights (0.5, 1, 4) were chosen on `shared/eval/dev` from a grid where every combination
//! within ±50 % of them scored within 0.01 nDCG@10: concept matches are the strongest evidence,
//! a lexical match confirms, and the dense score orders what the words cannot tell apart.
//!
//! Every intermediate number is kept in the [`ScoreBreakdown`](super::ScoreBreakdown).

/// Fewer profiles than this in a language and its statistics are too noisy to centre on; the
/// statistics over all profiles stand in.
pub const MIN_GROUP: usize = 8;

/// Tunable weights of the fusion (tuned on `shared/eval/dev`, see README).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FusionWeights {
    /// Weight of the centred dense score.
    pub dense: f32,
    /// Weight of the scaled BM25 score.
    pub lexical: f32,
    /// Weight of the scaled concept BM25 score.
    pub concepts: f32,
}

impl Default for FusionWeights {
    fn default() -> Self {
        FusionWeights { dense: 0.5, lexical: 1.0, concepts: 4.0 }
    }
}

/// Mean and standard deviation of cosine similarities.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CosineStats {
    /// Mean cosine.
    pub mean: f32,
    /// Standard deviation (population).
    pub std: f32,
    /// Number of profiles it was computed over.
    pub count: usize,
}

impl CosineStats {
    /// Statistics of `values`.
    pub fn of(values: impl IntoIterator<Item = f32>) -> CosineStats {
        let (mut n, mut sum, mut sq) = (0usize, 0f64, 0f64);
        for v in values {
            n += 1;
            sum += f64::from(v);
            sq += f64::from(v) * f64::from(v);
        }
        if n == 0 {
            return CosineStats::default();
        }
        let mean = sum / n as f64;
        let var = (sq / n as f64 - mean * mean).max(0.0);
        CosineStats { mean: mean as f32, std: var.sqrt() as f32, count: n }
    }
}

/// The centred dense score; 0 when the spread is degenerate.
pub fn dense_z(cosine: f32, stats: &CosineStats) -> f32 {
    if stats.std > 1e-6 {
        (cosine - stats.mean) / stats.std
    } else {
        0.0
    }
}

/// BM25 scaled into `[0, 1]` by the best BM25 of the query; 0 without a lexical match.
pub fn lexical_scaled(bm25: f32, max_bm25: f32) -> f32 {
    if max_bm25 > 0.0 {
        (bm25 / max_bm25).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Concept coverage (glossary concept mentions per content word of the query) below which the
/// concept signal is ignored, and above which it has its full weight; linear in between.
pub const CONCEPT_COVERAGE_RAMP: (f32, f32) = (0.10, 0.20);

/// The weight of the concept signal for a query with glossary `coverage`. Automotive demand texts
/// have 0.19-0.45 (dev set, median 0.32); an off-domain text (SciFact claims: median 0.06) has
/// one or two incidental concepts, and scaling those to the top of the range would let noise
/// rank, so its concept signal fades out.
pub fn concept_weight(base: f32, coverage: f32) -> f32 {
    let (low, high) = CONCEPT_COVERAGE_RAMP;
    base * ((coverage - low) / (high - low)).clamp(0.0, 1.0)
}

/// The fused score from the normalised signals.
pub fn fuse(dense_z: f32, lexical_scaled: f32, concepts_scaled: f32, w: &FusionWeights) -> f32 {
    w.dense * dense_z + w.lexical * lexical_scaled + w.concepts * concepts_scaled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_and_centring() {
        let s = CosineStats::of([0.7, 0.8, 0.9]);
        assert!((s.mean - 0.8).abs() < 1e-6);
        assert!((s.std - 0.081_649_66).abs() < 1e-5);
        assert!((dense_z(0.9, &s) - 1.224_744_9).abs() < 1e-4);
        assert_eq!(dense_z(0.9, &CosineStats { mean: 0.5, std: 0.0, count: 3 }), 0.0);
    }

    #[test]
    fn language_offset_cancels() {
        // Same relative closeness in two languages whose cosines sit at different levels.
        let nl = CosineStats::of([0.70, 0.72, 0.74, 0.80]);
        let fr = CosineStats::of([0.80, 0.82, 0.84, 0.90]);
        assert!((dense_z(0.80, &nl) - dense_z(0.90, &fr)).abs() < 1e-4);
    }

    #[test]
    fn concept_weight_ramps_with_coverage() {
        assert_eq!(concept_weight(4.0, 0.05), 0.0);
        assert!((concept_weight(4.0, 0.15) - 2.0).abs() < 1e-5);
        assert_eq!(concept_weight(4.0, 0.32), 4.0);
    }

    #[test]
    fn lexical_scaling_and_fusion() {
        assert_eq!(lexical_scaled(5.0, 10.0), 0.5);
        assert_eq!(lexical_scaled(5.0, 0.0), 0.0);
        let w = FusionWeights { dense: 2.0, lexical: 3.0, concepts: 0.5 };
        assert_eq!(fuse(1.5, 0.5, 1.0, &w), 5.0);
    }
}
