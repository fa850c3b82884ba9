//! Event selection on top of ranking: each demand area of a season is ranked, each ranked profile
//! gets a selection value, and the exact line-up solver (`select`) picks the pitches. The engine
//! part is the glue: which profiles compete (and their facets for quotas), and how a score
//! becomes a value the solver can add up.

use std::collections::HashMap;

use super::{Engine, MAX_K};
use crate::domain::{Event, Filter, Ranker};
use crate::error::{Result, UserError};
use crate::select::{
    self, CandidateProfile, DemandRanking, EventDef, EventSpec, SeasonFile, SeasonRules, SeasonSelection,
};

/// Maps a ranker score to a selection value in (0, 1], 1 for the demand's best profile. BM25 and
/// cosine are ratio scales (0 = no evidence), so the value is the score relative to the best.
/// A hybrid score is a sum of standardised evidence that can be negative; a difference of 1 in it
/// is treated like a log-odds step, giving `exp(score - best)`.
pub fn selection_value(ranker: Ranker, score: f32, best: f32) -> f32 {
    let v = match ranker {
        Ranker::Hybrid => (score - best).exp(),
        Ranker::Lexical | Ranker::Dense if best > 0.0 => score / best,
        Ranker::Lexical | Ranker::Dense => 0.0,
    };
    v.clamp(0.0, 1.0)
}

/// A step of a selection run, for progress display.
#[derive(Debug, Clone, Copy)]
pub enum SelectionStep<'a> {
    /// Ranking the candidates of one demand area (`done` of `total` finished).
    Ranking {
        /// The demand area being ranked.
        demand_id: &'a str,
        /// Demand areas ranked so far.
        done: usize,
        /// Demand areas in the season.
        total: usize,
    },
    /// Solving the line-up model.
    Solving,
}

impl Engine {
    /// Relevance of the top `top_n` profiles for one demand area, as selection values in (0, 1]:
    /// the probability of interest of the learned model when one was kept (see [`crate::learn`]),
    /// else [`selection_value`].
    ///
    /// A profile the demand area's reviewers marked `not_relevant` is no candidate for it: the OEM
    /// said no, so the line-up does not propose it again.
    pub fn relevance_ranking(&self, demand_id: &str, top_n: usize, ranker: Ranker) -> Result<DemandRanking> {
        let refused = self.verdicts(demand_id)?.values().filter(|v| **v == crate::domain::Verdict::NotRelevant).count();
        let list = self.rank_demand(demand_id, (top_n + refused).clamp(1, MAX_K), &Filter::default(), ranker)?;
        let best = list.results.first().map_or(0.0, |r| r.score);
        let model = if ranker == Ranker::Hybrid { self.interest_model()? } else { None };
        let value = |r: &crate::rank::ShortlistEntry| match &model {
            Some(m) => m.model.probability(&crate::learn::features(r, best, list.language)),
            None => f64::from(selection_value(ranker, r.score, best)),
        };
        let ranked = list
            .results
            .iter()
            .filter(|r| r.decision != Some(crate::domain::Verdict::NotRelevant))
            .take(top_n.max(1))
            .map(|r| (r.profile_id.clone(), value(r)))
            .collect();
        let organisation = self.demand(demand_id)?.map(|d| d.organisation);
        Ok(DemandRanking { demand_id: demand_id.to_string(), ranked, organisation })
    }

    /// The event `def` with each of its demand areas ranked (top `top_n`), as the solver takes
    /// it; `before_each` hears of each demand area before it is ranked.
    pub(super) fn ranked_event(
        &self,
        def: &EventDef,
        top_n: usize,
        ranker: Ranker,
        before_each: &mut dyn FnMut(&str),
    ) -> Result<EventSpec> {
        let mut rankings = Vec::with_capacity(def.demands.len());
        for d in &def.demands {
            before_each(d);
            rankings.push(self.relevance_ranking(d, top_n, ranker)?);
        }
        Ok(def.with_rankings(rankings))
    }

    pub(super) fn event_def(&self, event: &Event) -> EventDef {
        EventDef {
            event_id: event.id.clone(),
            organisation: event.organisation.clone(),
            slots: event.slots,
            demands: event.demand_ids.clone(),
            quotas: crate::select::Quotas {
                min_sme_or_startup: event.min_sme_or_startup,
                min_knowledge_institutions: event.min_knowledge_institutions,
                max_knowledge_institutions: event.max_knowledge_institutions,
                max_per_theme: event.max_per_theme,
            },
            pitch_languages: event.pitch_languages.iter().map(|l| l.code().to_string()).collect(),
        }
    }

    /// Solves the selection for a season: the stored events named in `season` (or given inline).
    pub fn select_season(&self, season: &SeasonFile, ranker: Ranker) -> Result<SeasonSelection> {
        self.select_season_with_progress(season, ranker, &mut |_| {})
    }

    /// Like [`Engine::select_season`], reporting each step (ranking a demand area, solving) to
    /// `progress` so that long runs can show it.
    pub fn select_season_with_progress(
        &self,
        season: &SeasonFile,
        ranker: Ranker,
        progress: &mut dyn FnMut(SelectionStep<'_>),
    ) -> Result<SeasonSelection> {
        let total = season.events.iter().map(|e| e.demands.len()).sum();
        let mut done = 0;
        let mut specs: Vec<EventSpec> = Vec::with_capacity(season.events.len());
        for def in &season.events {
            specs.push(self.ranked_event(def, season.rules.top_n, ranker, &mut |demand_id| {
                progress(SelectionStep::Ranking { demand_id, done, total });
                done += 1;
            })?);
        }
        progress(SelectionStep::Solving);
        let profiles = self.candidate_profiles(&specs, &season.rules)?;
        Ok(select::select_season(&profiles, &specs, &season.rules)?)
    }

    /// Solves the selection for one stored event with `rules`.
    pub fn select_event(&self, event_id: &str, rules: &SeasonRules, ranker: Ranker) -> Result<SeasonSelection> {
        let event = self
            .indexer
            .store
            .event(event_id)?
            .ok_or_else(|| UserError::NotFound { kind: "event", id: event_id.to_string() })?;
        let season = SeasonFile { events: vec![self.event_def(&event)], rules: rules.clone() };
        self.select_season(&season, ranker)
    }

    /// Season definitions for stored events (quotas default to none).
    pub fn season_for_events(&self, event_ids: &[String], rules: SeasonRules) -> Result<SeasonFile> {
        let mut events = Vec::new();
        for id in event_ids {
            let e =
                self.indexer.store.event(id)?.ok_or_else(|| UserError::NotFound { kind: "event", id: id.clone() })?;
            events.push(self.event_def(&e));
        }
        Ok(SeasonFile { events, rules })
    }

    pub(super) fn candidate_profiles(
        &self,
        specs: &[EventSpec],
        rules: &SeasonRules,
    ) -> Result<HashMap<String, CandidateProfile>> {
        let mut ids: Vec<String> = specs
            .iter()
            .flat_map(|s| s.demands.iter().flat_map(|d| d.ranked.iter().map(|(id, _)| id.clone())))
            .chain(rules.pins.iter().map(|p| p.profile_id.clone()))
            // Banned or conflicted profiles outside the rankings change nothing, but the solver
            // checks that every profile it is told about exists.
            .chain(rules.bans.iter().map(|b| b.profile_id.clone()))
            .chain(rules.conflicts.iter().map(|c| c.profile_id.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        let mut out = HashMap::new();
        for p in self.indexer.store.profiles_by_id(&ids)? {
            out.insert(
                p.id.clone(),
                CandidateProfile {
                    profile_id: p.id.clone(),
                    kind: p.kind.as_str().to_string(),
                    size: p.size.map(|s| s.as_str().to_string()),
                    themes: p.themes.iter().map(|t| t.as_str().to_string()).collect(),
                    pitch_languages: p.pitches_in().iter().map(|l| l.code().to_string()).collect(),
                },
            );
        }
        Ok(out)
    }
}
