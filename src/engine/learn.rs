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
        let better = cv.model_ndcg10 > cv.untrained_ndcg10;
        let kept = if better {
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
        Ok(LearnReport { source, cross_validation: cv, slices, kept, in_use })
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
