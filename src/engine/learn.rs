//! Learning what interests the OEMs: examples from the ranking of every demand area that has
//! decisions (or graded judgments), the model cross-validated and kept only when it ranks better
//! than the untrained ranking ([`crate::learn`]), and its probability as the selection value.

use std::collections::HashMap;

use serde::Serialize;

use super::decisions::rfc3339_now;
use super::{Actor, Engine, MAX_K};
use crate::domain::{Filter, Language, Ranker};
use crate::error::{Error, Result, UserError};
use crate::evaluate::{by_language, Judgments, Slice};
use crate::learn::{cross_validate, features, CrossValidation, Example, InterestModel, LearnError};
use crate::store::StoredInterestModel;

/// Proposals per demand area a model learns from when the judgments come from a file (where an
/// unjudged profile counts as not interesting): the depth a line-up draws its candidates from.
pub const LEARNING_DEPTH: usize = 30;

/// How much worse than the untrained ranking a model may rank any one language pair and still be
/// kept: a model that helps on average must not do it at the expense of, say, the Dutch profiles
/// for a French demand area.
pub const MAX_SLICE_LOSS: f64 = 0.02;

/// What `learn` found and did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LearnReport {
    /// What the model learned from.
    pub source: String,
    /// The cross-validation.
    pub cross_validation: CrossValidation,
    /// Per language pair: the untrained and the model's figures over the held-out demand areas.
    pub slices: Vec<(Slice, Slice)>,
    /// The version stored, when the model was better and kept.
    pub kept: Option<i64>,
    /// Why the model was not kept, in words (`None` when it was).
    pub not_kept_because: Option<String>,
    /// The model now in use (the new one, or the one before).
    pub in_use: Option<i64>,
}

impl From<LearnError> for Error {
    fn from(e: LearnError) -> Self {
        match e {
            LearnError::Fit(message) => Error::Internal(message),
            other => UserError::BadArgument { field: "learn".into(), message: other.to_string() }.into(),
        }
    }
}

/// Why a cross-validated model must not be kept, or `None` when it may: it has to rank the
/// held-out demand areas better than the untrained ranking on average, and no language pair more
/// than [`MAX_SLICE_LOSS`] worse (the pair that loses most is named).
pub fn why_not_keep(cv: &CrossValidation, slices: &[(Slice, Slice)]) -> Option<String> {
    if cv.model_ndcg10 <= cv.untrained_ndcg10 {
        return Some(format!(
            "not better than the untrained ranking (nDCG@10 {:.4} against {:.4})",
            cv.model_ndcg10, cv.untrained_ndcg10
        ));
    }
    let (untrained, model) = slices.iter().min_by(|a, b| {
        (a.1.figures.ndcg10 - a.0.figures.ndcg10).total_cmp(&(b.1.figures.ndcg10 - b.0.figures.ndcg10))
    })?;
    let loss = untrained.figures.ndcg10 - model.figures.ndcg10;
    (loss > MAX_SLICE_LOSS).then(|| {
        format!(
            "better on average, but it ranks {}->{} (demand area -> profile language) {:.4} worse than untrained \
             (nDCG@10 {:.4} against {:.4}; at most {} allowed)",
            untrained.demand_language,
            untrained.profile_language,
            loss,
            model.figures.ndcg10,
            untrained.figures.ndcg10,
            MAX_SLICE_LOSS
        )
    })
}

impl Engine {
    /// Trains the interest model from the stored decisions (`judgments` `None`) or from graded
    /// judgments, cross-validates it with `folds` folds by demand area, and stores it when it ranks
    /// the held-out demand areas better than the untrained ranking.
    pub fn learn(
        &self,
        judgments: Option<(&str, &Judgments)>,
        folds: usize,
        who: impl Into<Actor>,
    ) -> Result<LearnReport> {
        let (source, judgments, unjudged_count_as_zero) = match judgments {
            Some((name, j)) => (name.to_string(), j.clone(), true),
            None => ("decisions".to_string(), self.decisions_as_judgments()?, false),
        };
        let examples = self.learning_examples(&judgments, unjudged_count_as_zero)?;
        let cv = cross_validate(&examples, &judgments, folds)?;
        let slices = self.slices(&judgments, &cv)?;
        let not_kept_because = why_not_keep(&cv, &slices);
        let kept = if not_kept_because.is_none() {
            let refs: Vec<&Example> = examples.iter().collect();
            let model = InterestModel::fit(&refs)?;
            let stored = StoredInterestModel {
                version: 0,
                trained_at: rfc3339_now(),
                source: source.clone(),
                examples: examples.len(),
                untrained_ndcg10: cv.untrained_ndcg10,
                model_ndcg10: cv.model_ndcg10,
                model,
            };
            let version = {
                let _writes = self.indexer.lock_writes();
                self.indexer.store.save_interest_model(&stored)?
            };
            self.audit(&who.into(), "learn", "interest_model", &version.to_string())?;
            Some(version)
        } else {
            None
        };
        let in_use = self.interest_model()?.map(|m| m.version);
        Ok(LearnReport { source, cross_validation: cv, slices, kept, not_kept_because, in_use })
    }

    /// The interest model in use, if one was kept and reads today's features.
    pub fn interest_model(&self) -> Result<Option<StoredInterestModel>> {
        Ok(self.indexer.store.latest_interest_model()?.filter(|m| m.model.fits_features()))
    }

    /// The kept model's probability of interest for each result of `list` (a hybrid shortlist of
    /// a demand area, scored against its own best result); `None` without a model.
    pub fn likelihood_of_interest(&self, list: &crate::rank::Shortlist) -> Result<Option<Vec<f64>>> {
        if list.ranker != Ranker::Hybrid {
            return Ok(None);
        }
        let Some(stored) = self.interest_model()? else { return Ok(None) };
        let best = list.results.first().map_or(0.0, |r| r.score);
        Ok(Some(list.results.iter().map(|r| stored.model.probability(&features(r, best, list.language))).collect()))
    }

    /// Every stored decision as a judgment (interested 2, maybe 1, not relevant 0).
    fn decisions_as_judgments(&self) -> Result<Judgments> {
        let mut out = Judgments::new();
        for d in self.all_decisions(&[])? {
            out.entry(d.demand_id).or_default().insert(d.profile_id, d.decision.grade());
        }
        Ok(out)
    }

    /// The proposals of every judged demand area, in the order of its hybrid ranking (without
    /// feedback: the model learns from what the ranking proposes first), with their grades. From a
    /// judgments file the first [`LEARNING_DEPTH`] are taken and an unjudged one counts as 0; from
    /// decisions only the decided profiles are examples, wherever they rank.
    fn learning_examples(&self, judgments: &Judgments, unjudged_count_as_zero: bool) -> Result<Vec<Example>> {
        let depth = if unjudged_count_as_zero { LEARNING_DEPTH } else { self.profile_count()?.clamp(1, MAX_K) };
        let mut out = Vec::new();
        for (demand_id, grades) in judgments {
            let Some(demand) = self.demand(demand_id)? else { continue };
            let list = self.rank_demand_as(&demand, &HashMap::new(), depth, &Filter::default(), Ranker::Hybrid)?;
            let best = list.results.first().map_or(0.0, |r| r.score);
            for r in &list.results {
                let grade = match grades.get(&r.profile_id) {
                    Some(g) => *g,
                    None if unjudged_count_as_zero => 0,
                    None => continue,
                };
                out.push(Example {
                    demand_id: demand_id.clone(),
                    profile_id: r.profile_id.clone(),
                    features: features(r, best, demand.language),
                    grade,
                });
            }
        }
        Ok(out)
    }

    /// The cross-validation's held-out orders scored per language pair.
    fn slices(&self, judgments: &Judgments, cv: &CrossValidation) -> Result<Vec<(Slice, Slice)>> {
        let mut demand_language: HashMap<String, Language> = HashMap::new();
        for id in cv.untrained_order.keys() {
            if let Some(d) = self.demand(id)? {
                demand_language.insert(d.id, d.language);
            }
        }
        let held: Judgments = judgments
            .iter()
            .filter(|(d, _)| cv.untrained_order.contains_key(*d))
            .map(|(d, g)| (d.clone(), g.clone()))
            .collect();
        let ids: Vec<String> = cv
            .untrained_order
            .values()
            .flatten()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut profile_language: HashMap<String, Language> =
            self.profiles_by_id(&ids)?.into_iter().map(|p| (p.id, p.language)).collect();
        // Judged profiles outside the proposals still count in the ideal order of their slice.
        let judged: Vec<String> =
            held.values().flat_map(|g| g.keys().cloned()).filter(|p| !profile_language.contains_key(p)).collect();
        profile_language.extend(self.profiles_by_id(&judged)?.into_iter().map(|p| (p.id, p.language)));
        let before = by_language(&held, &cv.untrained_order, &demand_language, &profile_language);
        let after = by_language(&held, &cv.model_order, &demand_language, &profile_language);
        Ok(before.into_iter().zip(after).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::Figures;

    fn cv(untrained: f64, model: f64) -> CrossValidation {
        CrossValidation {
            folds: 2,
            demands: 8,
            examples: 240,
            untrained_ndcg10: untrained,
            model_ndcg10: model,
            reliability: Vec::new(),
            untrained_order: HashMap::new(),
            model_order: HashMap::new(),
        }
    }

    fn slice(demand: Language, profile: Language, ndcg10: f64) -> Slice {
        let figures = Figures { ndcg10, recall10: 0.0, recall20: 0.0, mrr10: 0.0, demands: 4 };
        Slice { demand_language: demand, profile_language: profile, figures }
    }

    #[test]
    fn a_model_is_kept_only_when_better_on_average_and_no_language_pair_loses_more_than_the_allowance() {
        use Language::{En, Fr, Nl};
        let fine = [(slice(En, En, 0.90), slice(En, En, 0.93)), (slice(En, Fr, 0.75), slice(En, Fr, 0.74))];
        assert_eq!(why_not_keep(&cv(0.85, 0.87), &fine), None, "a loss of 0.01 is within the allowance");

        let worse = why_not_keep(&cv(0.85, 0.85), &fine).expect("equal is not better");
        assert!(worse.starts_with("not better than the untrained ranking"), "{worse}");

        let unfair = [
            (slice(En, En, 0.90), slice(En, En, 0.99)),
            (slice(Fr, Nl, 0.80), slice(Fr, Nl, 0.77)),
            (slice(En, Fr, 0.75), slice(En, Fr, 0.70)),
        ];
        let why = why_not_keep(&cv(0.85, 0.88), &unfair).expect("en->fr loses 0.05");
        assert!(why.contains("en->fr") && why.contains("0.0500"), "the pair that loses most is named: {why}");
    }
}
