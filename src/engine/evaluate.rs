//! The current ranking scored against graded judgments (see [`crate::evaluate`]), and the same
//! with a simulated reviewer's decisions taken into account (relevance feedback).

use std::collections::HashMap;

use super::Engine;
use crate::domain::{DemandArea, Filter, Language, Ranker, Verdict};
use crate::error::Result;
use crate::evaluate::{by_language, residual, simulated_verdict, summarise, Evaluation, FeedbackEvaluation, Judgments};

/// The judged demand areas that are stored, and those that are not.
struct Judged {
    demands: Vec<DemandArea>,
    unknown: Vec<String>,
}

impl Engine {
    /// Ranks every judged demand area over the whole collection with `ranker` and scores it
    /// against `judgments`, overall and (when asked) per language pair. Stored decisions are left
    /// out: this measures the ranking itself.
    pub fn evaluate(&self, judgments: &Judgments, ranker: Ranker, per_language: bool) -> Result<Evaluation> {
        let judged = self.judged(judgments)?;
        let mut rankings = HashMap::new();
        for demand in &judged.demands {
            rankings.insert(demand.id.clone(), self.full_ranking(demand, &HashMap::new(), ranker)?);
        }
        self.score(judgments, &rankings, &judged, per_language)
    }

    /// Simulates a reviewer who decides on the first `decided` proposals of every judged demand
    /// area from its judgments ([`simulated_verdict`]), then scores the ranking of the profiles
    /// left undecided, without and with those decisions taken into account.
    pub fn evaluate_feedback(
        &self,
        judgments: &Judgments,
        decided: usize,
        ranker: Ranker,
        per_language: bool,
    ) -> Result<FeedbackEvaluation> {
        let judged = self.judged(judgments)?;
        let (mut before, mut after, mut seen) = (HashMap::new(), HashMap::new(), HashMap::new());
        for demand in &judged.demands {
            let grades = judgments.get(&demand.id);
            let ranked = self.full_ranking(demand, &HashMap::new(), ranker)?;
            let top: Vec<String> = ranked.iter().take(decided).cloned().collect();
            let verdicts: HashMap<String, Verdict> =
                top.iter().map(|p| (p.clone(), simulated_verdict(grades.and_then(|g| g.get(p)).copied()))).collect();
            after.insert(demand.id.clone(), self.full_ranking(demand, &verdicts, ranker)?);
            before.insert(demand.id.clone(), ranked);
            seen.insert(demand.id.clone(), top);
        }
        let (left, before) = residual(judgments, &before, &seen);
        let (_, after) = residual(judgments, &after, &seen);
        Ok(FeedbackEvaluation {
            judged: decided,
            without: self.score(&left, &before, &judged, per_language)?,
            with: self.score(&left, &after, &judged, per_language)?,
        })
    }

    fn judged(&self, judgments: &Judgments) -> Result<Judged> {
        let mut out = Judged { demands: Vec::new(), unknown: Vec::new() };
        for demand_id in judgments.keys() {
            match self.demand(demand_id)? {
                Some(demand) => out.demands.push(demand),
                None => out.unknown.push(demand_id.clone()),
            }
        }
        Ok(out)
    }

    /// Profile ids of `demand`'s ranking over the whole collection (up to the largest `k`).
    fn full_ranking(
        &self,
        demand: &DemandArea,
        verdicts: &HashMap<String, Verdict>,
        ranker: Ranker,
    ) -> Result<Vec<String>> {
        let everyone = self.profile_count()?.clamp(1, super::MAX_K);
        let list = self.rank_demand_as(demand, verdicts, everyone, &Filter::default(), ranker)?;
        Ok(list.results.into_iter().map(|r| r.profile_id).collect())
    }

    fn score(
        &self,
        judgments: &Judgments,
        rankings: &HashMap<String, Vec<String>>,
        judged: &Judged,
        per_language: bool,
    ) -> Result<Evaluation> {
        let slices = if per_language {
            let demand_language: HashMap<String, Language> =
                judged.demands.iter().map(|d| (d.id.clone(), d.language)).collect();
            let mut profile_language = HashMap::new();
            let mut after: Option<String> = None;
            loop {
                let page = self.profile_page(after.as_deref(), 1000)?;
                let Some(last) = page.last() else { break };
                after = Some(last.id.clone());
                profile_language.extend(page.into_iter().map(|p| (p.id, p.language)));
            }
            by_language(judgments, rankings, &demand_language, &profile_language)
        } else {
            Vec::new()
        };
        Ok(Evaluation { all: summarise(judgments, rankings), slices, unknown_demands: judged.unknown.clone() })
    }
}
