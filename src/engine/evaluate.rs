//! The current ranking scored against graded judgments (see [`crate::evaluate`]).

use std::collections::HashMap;

use super::Engine;
use crate::domain::{Filter, Language, Ranker};
use crate::error::Result;
use crate::evaluate::{by_language, summarise, Evaluation, Judgments};

impl Engine {
    /// Ranks every judged demand area over the whole collection with `ranker` and scores it
    /// against `judgments`, overall and (when asked) per language pair.
    pub fn evaluate(&self, judgments: &Judgments, ranker: Ranker, per_language: bool) -> Result<Evaluation> {
        let everyone = self.profile_count()?.max(1);
        let mut rankings: HashMap<String, Vec<String>> = HashMap::new();
        let mut demand_language: HashMap<String, Language> = HashMap::new();
        let mut unknown_demands = Vec::new();
        for demand_id in judgments.keys() {
            let Some(demand) = self.demand(demand_id)? else {
                unknown_demands.push(demand_id.clone());
                continue;
            };
            let list = self.rank_demand(demand_id, everyone, &Filter::default(), ranker)?;
            rankings.insert(demand_id.clone(), list.results.into_iter().map(|r| r.profile_id).collect());
            demand_language.insert(demand_id.clone(), demand.language);
        }
        let slices = if per_language {
            let mut profile_language = HashMap::new();
            let mut after: Option<String> = None;
            loop {
                let page = self.profile_page(after.as_deref(), 1000)?;
                let Some(last) = page.last() else { break };
                after = Some(last.id.clone());
                profile_language.extend(page.into_iter().map(|p| (p.id, p.language)));
            }
            by_language(judgments, &rankings, &demand_language, &profile_language)
        } else {
            Vec::new()
        };
        Ok(Evaluation { all: summarise(judgments, &rankings), slices, unknown_demands })
    }
}
