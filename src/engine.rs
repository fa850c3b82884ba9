//! The engine ties the parts together behind one handle that the CLI, the HTTP service and the
//! tests share: it owns the store (truth), the search index (derived) and keeps the derived parts
//! in step with the truth — on open (crash recovery), on import and on every single-record change.

use std::path::{Path, PathBuf};

use crate::domain::{DemandArea, Event, Language, Profile};
use crate::error::{Error, RecordProblem, Result, UserError};
use crate::import::{read_file, Lined};
use crate::rank::{self, Explanation, Ranker, ScoreBreakdown, Shortlist};
use crate::search::{explain, Filter, LexicalQuery, SearchIndex};
use crate::select::{
    self, CandidateProfile, DemandRanking, EventDef, EventSpec, SeasonFile, SeasonRules, SeasonSelection,
};
use crate::store::Store;

/// Largest shortlist anyone may ask for.
pub const MAX_K: usize = 1000;

/// Input files for one import.
#[derive(Debug, Default, Clone)]
pub struct ImportFiles {
    /// Profiles JSON Lines.
    pub profiles: Option<PathBuf>,
    /// Demand areas JSON Lines.
    pub demands: Option<PathBuf>,
    /// Events JSON Lines.
    pub events: Option<PathBuf>,
}

/// What an import wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Profiles inserted or updated.
    pub profiles: usize,
    /// Demand areas inserted or updated.
    pub demands: usize,
    /// Events inserted or updated.
    pub events: usize,
}

/// The matchmaking engine over one data directory.
pub struct Engine {
    data_dir: PathBuf,
    store: Store,
    index: SearchIndex,
}

impl Engine {
    /// Opens (creating) the data dir and brings the index up to date with the store.
    pub fn open(data_dir: &Path) -> Result<Engine> {
        std::fs::create_dir_all(data_dir)?;
        let store = Store::open(&data_dir.join("pitchmatch.sqlite"))?;
        let index = SearchIndex::open(&data_dir.join("tantivy"))?;
        let engine = Engine { data_dir: data_dir.to_path_buf(), store, index };
        engine.catch_up()?;
        Ok(engine)
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The store, for callers that need records directly.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Applies store changes the index has not seen (after a crash, or another process's import).
    pub fn catch_up(&self) -> Result<()> {
        let applied = self.index.applied_seq()?;
        if self.store.profile_seq()? > applied {
            let changes = self.store.profile_changes_since(applied)?;
            self.index.apply(&changes)?;
        }
        Ok(())
    }

    /// Validates all given files first; only when every file is clean, writes them all.
    pub fn import(&self, files: &ImportFiles) -> Result<ImportReport> {
        let mut problems: Vec<RecordProblem> = Vec::new();
        let mut collect = |e: UserError| match e {
            UserError::InvalidRecords(p) => {
                problems.extend(p);
                Ok(())
            }
            other => Err(other),
        };
        let profiles: Vec<Lined<Profile>> = match &files.profiles {
            Some(p) => read_file(p).or_else(|e| collect(e).map(|_| Vec::new()))?,
            None => Vec::new(),
        };
        let demands: Vec<Lined<DemandArea>> = match &files.demands {
            Some(p) => read_file(p).or_else(|e| collect(e).map(|_| Vec::new()))?,
            None => Vec::new(),
        };
        let events: Vec<Lined<Event>> = match &files.events {
            Some(p) => read_file(p).or_else(|e| collect(e).map(|_| Vec::new()))?,
            None => Vec::new(),
        };
        if let Some(path) = &files.events {
            problems.extend(self.unknown_event_demands(path, &events, &demands)?);
        }
        if !problems.is_empty() {
            return Err(UserError::InvalidRecords(problems).into());
        }
        let profiles: Vec<Profile> = profiles.into_iter().map(|l| l.record).collect();
        let demands: Vec<DemandArea> = demands.into_iter().map(|l| l.record).collect();
        let events: Vec<Event> = events.into_iter().map(|l| l.record).collect();
        self.upsert_profiles(&profiles, true)?;
        self.store.upsert_demands(&demands)?;
        self.store.upsert_events(&events)?;
        Ok(ImportReport { profiles: profiles.len(), demands: demands.len(), events: events.len() })
    }

    fn unknown_event_demands(
        &self,
        path: &Path,
        events: &[Lined<Event>],
        demands: &[Lined<DemandArea>],
    ) -> Result<Vec<RecordProblem>> {
        let mut problems = Vec::new();
        for e in events {
            let unknown: Vec<&str> = e
                .record
                .demand_ids
                .iter()
                .map(String::as_str)
                .filter(|id| !demands.iter().any(|d| d.record.id == *id))
                .collect();
            for missing in self.store.missing_demand_ids(unknown)? {
                problems.push(RecordProblem {
                    source: path.display().to_string(),
                    line: Some(e.line),
                    id: Some(e.record.id.clone()),
                    violation: crate::domain::Violation {
                        field: "demand_ids".into(),
                        rule: format!("refers to unknown demand area {missing:?} (import it first or in the same run)"),
                        value: None,
                    },
                });
            }
        }
        Ok(problems)
    }

    /// Stores profiles, then brings the index up to date. With `compact` (batch imports), an index
    /// left holding replaced versions is rebuilt from the store so that its BM25 statistics equal a
    /// fresh index's (tantivy's merge keeps some statistics of deleted documents); single writes
    /// from the service skip that cost.
    pub fn upsert_profiles(&self, profiles: &[Profile], compact: bool) -> Result<()> {
        if profiles.is_empty() {
            return Ok(());
        }
        let before = self.index.applied_seq()?;
        self.store.upsert_profiles(profiles)?;
        let changes = self.store.profile_changes_since(before)?;
        self.index.apply(&changes)?;
        if compact && self.index.has_deletes() {
            self.reindex()?;
        }
        Ok(())
    }

    /// Deletes a profile from the store and the index. False when it did not exist.
    pub fn delete_profile(&self, id: &str) -> Result<bool> {
        let before = self.index.applied_seq()?;
        if !self.store.delete_profile(id)? {
            return Ok(false);
        }
        let changes = self.store.profile_changes_since(before)?;
        self.index.apply(&changes)?;
        Ok(true)
    }

    /// Drops the index and rebuilds it from the store.
    pub fn reindex(&self) -> Result<usize> {
        let seq = self.store.profile_seq()?;
        let profiles = self.store.all_profiles()?;
        self.index.rebuild(&profiles, seq)?;
        Ok(profiles.len())
    }

    /// Checks that the index holds exactly the stored profiles. Returns (missing, extra) ids.
    pub fn index_consistency(&self) -> Result<(Vec<String>, Vec<String>)> {
        let indexed = self.index.all_ids()?;
        let stored: Vec<String> = self.store.all_profiles()?.into_iter().map(|p| p.id).collect();
        let missing = stored.iter().filter(|id| indexed.binary_search(id).is_err()).cloned().collect();
        let extra = indexed.iter().filter(|id| stored.binary_search(id).is_err()).cloned().collect();
        Ok((missing, extra))
    }

    /// Ranks profiles for a stored demand area.
    pub fn rank_demand(&self, demand_id: &str, k: usize, filter: &Filter, ranker: Ranker) -> Result<Shortlist> {
        let demand = self
            .store
            .demand(demand_id)?
            .ok_or_else(|| UserError::NotFound { kind: "demand area", id: demand_id.to_string() })?;
        let mut list = self.rank_text(&demand.query_text(), Some(demand.language), k, filter, ranker)?;
        list.demand_id = Some(demand.id);
        list.organisation = Some(demand.organisation);
        list.title = demand.title;
        Ok(list)
    }

    /// Ranks profiles for ad-hoc text (language detected when not given).
    pub fn rank_text(
        &self,
        text: &str,
        language: Option<Language>,
        k: usize,
        filter: &Filter,
        ranker: Ranker,
    ) -> Result<Shortlist> {
        if k == 0 || k > MAX_K {
            return Err(UserError::BadArgument { field: "k".into(), message: format!("must be 1-{MAX_K}") }.into());
        }
        let language = language.unwrap_or_else(|| crate::domain::detect_language(text));
        let query = LexicalQuery::new(text, language);
        let hits = match ranker {
            Ranker::Lexical => self.index.search(&query, filter, k)?,
        };
        let ids: Vec<String> = hits.iter().map(|(id, _)| id.clone()).collect();
        let profiles = self.store.profiles_by_id(&ids)?;
        if profiles.len() != ids.len() {
            return Err(Error::Internal("index returned a profile the store does not have".into()));
        }
        let results = hits
            .iter()
            .zip(&profiles)
            .enumerate()
            .map(|(i, ((_, score), profile))| {
                let lexical = explain::explain(profile, &query);
                let explanation = Explanation {
                    reason: rank::reason(&lexical),
                    scores: ScoreBreakdown { bm25: Some(*score) },
                    matched: lexical.matched,
                    snippet: lexical.snippet.as_ref().map(explain::Snippet::marked),
                    passage: lexical.snippet,
                };
                rank::entry(i + 1, profile, *score, explanation)
            })
            .collect();
        let title: String = text.chars().take(80).collect();
        Ok(Shortlist { demand_id: None, organisation: None, title, language, ranker, results })
    }

    /// Relevance of the top `top_n` profiles for one demand area, as selection values in (0, 1]:
    /// the ranker's score relative to the best score for that demand.
    pub fn relevance_ranking(&self, demand_id: &str, top_n: usize, ranker: Ranker) -> Result<DemandRanking> {
        let list = self.rank_demand(demand_id, top_n.clamp(1, MAX_K), &Filter::default(), ranker)?;
        let best = list.results.first().map_or(1.0, |r| r.score.max(f32::MIN_POSITIVE));
        let ranked = list.results.iter().map(|r| (r.profile_id.clone(), f64::from(r.score / best))).collect();
        Ok(DemandRanking { demand_id: demand_id.to_string(), ranked })
    }

    fn event_def(&self, event: &Event) -> EventDef {
        EventDef {
            event_id: event.id.clone(),
            organisation: event.organisation.clone(),
            slots: event.slots,
            demands: event.demand_ids.clone(),
            quotas: Default::default(),
        }
    }

    /// Solves the selection for a season: the stored events named in `season` (or given inline).
    pub fn select_season(&self, season: &SeasonFile, ranker: Ranker) -> Result<SeasonSelection> {
        let mut specs: Vec<EventSpec> = Vec::with_capacity(season.events.len());
        for def in &season.events {
            let rankings = def
                .demands
                .iter()
                .map(|d| self.relevance_ranking(d, season.rules.top_n, ranker))
                .collect::<Result<Vec<_>>>()?;
            specs.push(def.with_rankings(rankings));
        }
        let profiles = self.candidate_profiles(&specs, &season.rules)?;
        Ok(select::select_season(&profiles, &specs, &season.rules)?)
    }

    /// Solves the selection for one stored event with `rules`.
    pub fn select_event(&self, event_id: &str, rules: &SeasonRules, ranker: Ranker) -> Result<SeasonSelection> {
        let event = self
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
            let e = self.store.event(id)?.ok_or_else(|| UserError::NotFound { kind: "event", id: id.clone() })?;
            events.push(self.event_def(&e));
        }
        Ok(SeasonFile { events, rules })
    }

    fn candidate_profiles(
        &self,
        specs: &[EventSpec],
        rules: &SeasonRules,
    ) -> Result<std::collections::HashMap<String, CandidateProfile>> {
        let mut ids: Vec<String> = specs
            .iter()
            .flat_map(|s| s.demands.iter().flat_map(|d| d.ranked.iter().map(|(id, _)| id.clone())))
            .chain(rules.pins.iter().map(|p| p.profile_id.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        let mut out = std::collections::HashMap::new();
        for p in self.store.profiles_by_id(&ids)? {
            out.insert(
                p.id.clone(),
                CandidateProfile {
                    profile_id: p.id.clone(),
                    kind: p.kind.as_str().to_string(),
                    size: p.size.map(|s| s.as_str().to_string()),
                    themes: p.themes.iter().map(|t| t.as_str().to_string()).collect(),
                },
            );
        }
        Ok(out)
    }
}
