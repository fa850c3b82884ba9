//! The cross-demand model of what interests an OEM: from the score breakdown and the facets of a
//! proposed profile, the probability that the OEM marks it interested. One logistic regression
//! (`linfa-logistic`) over every demand area's decisions, or over graded judgments so that it can
//! be trained before the first event, checked by cross-validation with folds by demand area
//! (never a demand area's own decisions in the folds it is tested on) against the untrained
//! ranking, and kept only when it ranks better. Its probability is calibrated by construction
//! (the reliability table shows how well) and becomes the selection value of a pitch.
//!
//! Pure: the engine supplies the examples and stores the model.

use std::collections::{BTreeSet, HashMap};

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::domain::{Kind, Language, Size};
use crate::evaluate::{ndcg, Judgments};
use crate::rank::ShortlistEntry;

/// What the model reads of a proposed profile, in this order.
pub const FEATURES: [&str; 9] = [
    "score_gap",
    "dense",
    "lexical",
    "concepts",
    "same_language",
    "reciprocal_rank",
    "knowledge_institution",
    "sme_or_startup",
    "trl",
];

/// Number of features.
pub const N_FEATURES: usize = FEATURES.len();

/// Grade from which a judged profile counts as interesting (the grade of an `interested`).
pub const INTERESTING_GRADE: u8 = 2;

/// L2 penalty of the regression: the examples are few (a few hundred per season), so the weights
/// are held small rather than fitted to one demand area's quirks. On the dev set's two-fold split
/// by demand area, 0.1 and 1 gained 0.004-0.006 nDCG@10 over the untrained ranking, 10 gained
/// 0.015 and 50 nothing.
const PENALTY: f64 = 10.0;

/// The features of a shortlist entry ranked for a demand area in `demand_language` whose best
/// score is `best` (see [`FEATURES`]). A missing signal counts as 0 (the mean of a standardised
/// one); an unknown TRL as the middle of the scale.
pub fn features(entry: &ShortlistEntry, best: f32, demand_language: Language) -> [f64; N_FEATURES] {
    let s = &entry.explanation.scores;
    let sme = matches!(entry.size, Some(Size::Sme | Size::Startup));
    [
        f64::from(entry.score - best),
        f64::from(s.dense.unwrap_or(0.0)),
        f64::from(s.lexical.unwrap_or(0.0)),
        f64::from(s.concepts.unwrap_or(0.0)),
        f64::from(u8::from(entry.language == demand_language)),
        1.0 / entry.rank.max(1) as f64,
        f64::from(u8::from(entry.kind == Kind::KnowledgeInstitution)),
        f64::from(u8::from(sme)),
        f64::from(entry.trl.unwrap_or(5)) / 9.0,
    ]
}

/// One proposed profile of one demand area, with what was judged of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The demand area (the unit of the folds).
    pub demand_id: String,
    /// The profile.
    pub profile_id: String,
    /// Its features.
    pub features: [f64; N_FEATURES],
    /// Its grade (0-3; an `interested` decision is 2).
    pub grade: u8,
}

/// Why no model could be learned.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LearnError {
    /// Too few demand areas to cross-validate on.
    #[error("{found} demand area(s) have decided or judged profiles; learning needs at least {needed}")]
    TooFewDemands {
        /// Demand areas with examples.
        found: usize,
        /// The least needed.
        needed: usize,
    },
    /// All examples (of the whole set or of one fold's training part) are of one class.
    #[error("the judgments hold only {0} profiles: the model needs interesting and uninteresting ones")]
    OneClass(&'static str),
    /// The regression did not fit.
    #[error("the regression failed: {0}")]
    Fit(String),
}

/// The learned model: standardisation and logistic weights over [`FEATURES`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterestModel {
    /// The feature names, in order (a stored model with other features is not used).
    pub features: Vec<String>,
    /// Mean of each feature over the training examples.
    pub mean: Vec<f64>,
    /// Standard deviation of each feature (1 where it was constant).
    pub scale: Vec<f64>,
    /// Weight of each standardised feature.
    pub weights: Vec<f64>,
    /// Intercept.
    pub intercept: f64,
}

impl InterestModel {
    /// Fits the model on `examples` (grade >= [`INTERESTING_GRADE`] is the positive class).
    pub fn fit(examples: &[&Example]) -> Result<InterestModel, LearnError> {
        let positives = examples.iter().filter(|e| e.grade >= INTERESTING_GRADE).count();
        if positives == 0 {
            return Err(LearnError::OneClass("uninteresting"));
        }
        if positives == examples.len() {
            return Err(LearnError::OneClass("interesting"));
        }
        let (mean, scale) = standardisation(examples);
        let x = Array2::from_shape_fn((examples.len(), N_FEATURES), |(i, j)| {
            (examples[i].features[j] - mean[j]) / scale[j]
        });
        let y: Array1<bool> = examples.iter().map(|e| e.grade >= INTERESTING_GRADE).collect();
        let fitted = LogisticRegression::default()
            .alpha(PENALTY)
            .max_iterations(200)
            .fit(&Dataset::new(x, y))
            .map_err(|e| LearnError::Fit(e.to_string()))?;
        // linfa's probabilities are those of the more frequent class (usually "not interesting"):
        // turn the weights around so that they always give the probability of interest.
        let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
        Ok(InterestModel {
            features: FEATURES.iter().map(|f| f.to_string()).collect(),
            mean,
            scale,
            weights: fitted.params().iter().map(|w| sign * w).collect(),
            intercept: sign * fitted.intercept(),
        })
    }

    /// Whether the model reads today's features.
    pub fn fits_features(&self) -> bool {
        self.features.iter().map(String::as_str).eq(FEATURES) && self.weights.len() == N_FEATURES
    }

    /// The probability that the OEM finds a profile with these features interesting.
    pub fn probability(&self, features: &[f64; N_FEATURES]) -> f64 {
        let z = self.intercept
            + features
                .iter()
                .zip(&self.mean)
                .zip(&self.scale)
                .zip(&self.weights)
                .map(|(((x, m), s), w)| w * (x - m) / s)
                .sum::<f64>();
        1.0 / (1.0 + (-z).exp())
    }
}

fn standardisation(examples: &[&Example]) -> (Vec<f64>, Vec<f64>) {
    let n = examples.len().max(1) as f64;
    let mean: Vec<f64> = (0..N_FEATURES).map(|j| examples.iter().map(|e| e.features[j]).sum::<f64>() / n).collect();
    let scale = (0..N_FEATURES)
        .map(|j| {
            let var = examples.iter().map(|e| (e.features[j] - mean[j]).powi(2)).sum::<f64>() / n;
            if var > 1e-12 {
                var.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    (mean, scale)
}

/// One bin of the reliability table: of the held-out profiles the model gave a probability in
/// `[from, to)`, the mean probability and the share that was really interesting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReliabilityBin {
    /// Lower bound of the predicted probability.
    pub from: f64,
    /// Upper bound.
    pub to: f64,
    /// Profiles in the bin.
    pub count: usize,
    /// Their mean predicted probability.
    pub predicted: f64,
    /// The share of them that was interesting.
    pub observed: f64,
}

/// The reliability table of `(probability, interesting)` pairs over `bins` equal-width bins.
pub fn reliability(pairs: &[(f64, bool)], bins: usize) -> Vec<ReliabilityBin> {
    let bins = bins.max(1);
    (0..bins)
        .map(|b| {
            let (from, to) = (b as f64 / bins as f64, (b + 1) as f64 / bins as f64);
            let inside: Vec<&(f64, bool)> =
                pairs.iter().filter(|(p, _)| *p >= from && (*p < to || (b + 1 == bins && *p <= to))).collect();
            let count = inside.len();
            let mean = |f: &dyn Fn(&(f64, bool)) -> f64| {
                if count == 0 {
                    0.0
                } else {
                    inside.iter().map(|p| f(p)).sum::<f64>() / count as f64
                }
            };
            ReliabilityBin { from, to, count, predicted: mean(&|p| p.0), observed: mean(&|p| f64::from(u8::from(p.1))) }
        })
        .collect()
}

/// The demand areas of fold `fold` of `folds`: every `folds`-th one in sorted order, so the
/// split is the same on every run.
pub fn fold_of(demands: &BTreeSet<&str>, folds: usize) -> HashMap<String, usize> {
    demands.iter().enumerate().map(|(i, d)| (d.to_string(), i % folds.max(1))).collect()
}

/// What cross-validation found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrossValidation {
    /// Folds (by demand area).
    pub folds: usize,
    /// Demand areas with examples.
    pub demands: usize,
    /// Examples (judged proposals).
    pub examples: usize,
    /// Mean nDCG@10 of the held-out demand areas' proposals in the untrained order.
    pub untrained_ndcg10: f64,
    /// The same, ordered by the model trained on the other folds.
    pub model_ndcg10: f64,
    /// The held-out probabilities against what was judged.
    pub reliability: Vec<ReliabilityBin>,
    /// Each demand area's proposals in the untrained order (for figures per language pair).
    #[serde(skip)]
    pub untrained_order: HashMap<String, Vec<String>>,
    /// The same, ordered by the model that did not see the demand area.
    #[serde(skip)]
    pub model_order: HashMap<String, Vec<String>>,
}

/// The least number of demand areas to learn from.
pub const MIN_DEMANDS: usize = 4;

/// Cross-validates the model on `examples` with `folds` folds by demand area: each fold's demand
/// areas are ordered by the model trained on the others and scored (nDCG@10 against
/// `judgments`) beside their untrained order (the order of `examples`, which is the ranking's).
pub fn cross_validate(
    examples: &[Example],
    judgments: &Judgments,
    folds: usize,
) -> Result<CrossValidation, LearnError> {
    let demands: BTreeSet<&str> = examples.iter().map(|e| e.demand_id.as_str()).collect();
    if demands.len() < MIN_DEMANDS {
        return Err(LearnError::TooFewDemands { found: demands.len(), needed: MIN_DEMANDS });
    }
    let folds = folds.clamp(2, demands.len());
    let fold = fold_of(&demands, folds);
    let mut pairs = Vec::new();
    let (mut untrained, mut learned) = (0.0, 0.0);
    let (mut untrained_order, mut model_order) = (HashMap::new(), HashMap::new());
    for f in 0..folds {
        let train: Vec<&Example> = examples.iter().filter(|e| fold[&e.demand_id] != f).collect();
        let model = InterestModel::fit(&train)?;
        for demand in demands.iter().filter(|d| fold[**d] == f) {
            let held: Vec<&Example> = examples.iter().filter(|e| e.demand_id == *demand).collect();
            let grades = judgments.get(*demand).cloned().unwrap_or_default();
            let order: Vec<&str> = held.iter().map(|e| e.profile_id.as_str()).collect();
            let mut by_model: Vec<(&str, f64)> =
                held.iter().map(|e| (e.profile_id.as_str(), model.probability(&e.features))).collect();
            pairs.extend(held.iter().zip(&by_model).map(|(e, (_, p))| (*p, e.grade >= INTERESTING_GRADE)));
            by_model.sort_by(|a, b| b.1.total_cmp(&a.1));
            let reordered: Vec<&str> = by_model.iter().map(|(id, _)| *id).collect();
            untrained += ndcg(&order, &grades, 10);
            learned += ndcg(&reordered, &grades, 10);
            untrained_order.insert(demand.to_string(), order.iter().map(|s| s.to_string()).collect());
            model_order.insert(demand.to_string(), reordered.iter().map(|s| s.to_string()).collect());
        }
    }
    let n = demands.len() as f64;
    Ok(CrossValidation {
        folds,
        demands: demands.len(),
        examples: examples.len(),
        untrained_ndcg10: untrained / n,
        model_ndcg10: learned / n,
        reliability: reliability(&pairs, 5),
        untrained_order,
        model_order,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Profiles of `demands` demand areas whose interest follows the lexical signal (feature 2)
    /// and not the dense one, while the untrained order follows the dense one.
    fn examples(demands: usize) -> (Vec<Example>, Judgments) {
        let mut out = Vec::new();
        let mut judgments = Judgments::new();
        for d in 0..demands {
            let demand_id = format!("d{d}");
            for p in 0..10 {
                let dense = 2.0 - p as f64 * 0.2;
                let lexical = if (p + d) % 3 == 0 { 2.0 } else { -0.5 };
                let grade = if lexical > 0.0 { 3 } else { 0 };
                let mut features = [0.0; N_FEATURES];
                features[1] = dense;
                features[2] = lexical;
                features[5] = 1.0 / (p + 1) as f64;
                let profile_id = format!("p{p}");
                judgments.entry(demand_id.clone()).or_default().insert(profile_id.clone(), grade);
                out.push(Example { demand_id: demand_id.clone(), profile_id, features, grade });
            }
        }
        (out, judgments)
    }

    #[test]
    fn the_model_learns_which_signal_predicts_interest() {
        let (examples, _) = examples(6);
        let refs: Vec<&Example> = examples.iter().collect();
        let model = InterestModel::fit(&refs).unwrap();
        assert!(model.weights[2] > 1.0, "{model:?}");
        let mut hit = [0.0; N_FEATURES];
        hit[2] = 2.0;
        let mut miss = hit;
        miss[2] = -0.5;
        assert!(model.probability(&hit) > 0.7);
        assert!(model.probability(&miss) < 0.3);
        assert!(model.fits_features());
    }

    #[test]
    fn cross_validation_holds_each_demand_area_out_and_beats_a_wrong_order() {
        let (examples, judgments) = examples(6);
        let cv = cross_validate(&examples, &judgments, 3).unwrap();
        assert_eq!((cv.folds, cv.demands, cv.examples), (3, 6, 60));
        assert!(cv.model_ndcg10 > cv.untrained_ndcg10 + 0.1, "{cv:?}");
        assert!((cv.model_ndcg10 - 1.0).abs() < 1e-9, "{cv:?}");
        assert_eq!(cv.reliability.iter().map(|b| b.count).sum::<usize>(), 60);
    }

    #[test]
    fn too_little_to_learn_from_is_a_clear_error() {
        let (examples, judgments) = examples(3);
        assert_eq!(
            cross_validate(&examples, &judgments, 5),
            Err(LearnError::TooFewDemands { found: 3, needed: MIN_DEMANDS })
        );
        let none: Vec<Example> = examples.into_iter().map(|e| Example { grade: 0, ..e }).collect::<Vec<_>>();
        let refs: Vec<&Example> = none.iter().collect();
        assert_eq!(InterestModel::fit(&refs), Err(LearnError::OneClass("uninteresting")));
    }

    #[test]
    fn reliability_bins_split_the_unit_interval() {
        let pairs = [(0.05, false), (0.1, false), (0.5, true), (0.55, false), (1.0, true)];
        let bins = reliability(&pairs, 5);
        assert_eq!(bins.len(), 5);
        assert_eq!(bins.iter().map(|b| b.count).collect::<Vec<_>>(), [2, 0, 2, 0, 1]);
        assert!((bins[2].predicted - 0.525).abs() < 1e-9);
        assert_eq!(bins[2].observed, 0.5);
        assert_eq!(bins[4].observed, 1.0);
    }

    #[test]
    fn folds_are_the_same_on_every_run() {
        let demands: BTreeSet<&str> = ["b", "a", "d", "c"].into_iter().collect();
        let f = fold_of(&demands, 2);
        assert_eq!((f["a"], f["b"], f["c"], f["d"]), (0, 1, 0, 1));
    }
}
