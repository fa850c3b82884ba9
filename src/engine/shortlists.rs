//! Shortlists: a demand area's or an ad-hoc text's ranked, explained profiles. The lexical ranker
//! asks the index directly; the dense and hybrid rankers rank every embedded profile once per query
//! text (the costly step at 100,000 profiles, tens of milliseconds) and keep that ranking in the
//! cache, bringing it up to date with the profiles changed since when it is asked for again (see
//! `scoring` for computing and updating a ranking, `rankings` for the cache). Filters only remove
//! rows and every `k` is a prefix of the same order, so one ranking serves them all; explanations
//! are built for the rows returned and kept with the ranking.

use std::collections::HashMap;
use std::sync::Arc;

use super::explainer::QueryAnalysis;
use super::rankings::{RankedRow, Ranking, RankingKey};
use super::{Engine, MAX_K};
use crate::domain::{DemandArea, Filter, Language, Profile, Ranker, Verdict};
use crate::error::{Error, Result, UserError};
use crate::rank::{ScoreBreakdown, Shortlist, ShortlistEntry};

/// The numbers behind a row's score, for its explanation.
fn breakdown(row: &RankedRow, ranking: &Ranking, ranker: Ranker) -> ScoreBreakdown {
    let query_concepts = ranking.coverage.map(|_| ranking.analysis.concepts.len());
    let bm25_mean = ranking.norm.bm25_stats(row.signals.language).mean;
    if row.pending {
        return ScoreBreakdown {
            bm25: row.signals.bm25,
            lexical: Some(row.fused.lexical),
            bm25_language_mean: Some(bm25_mean),
            concept_coverage: ranking.coverage,
            query_concepts,
            ..Default::default()
        };
    }
    let best_passage =
        Some(if row.passage == 0 { "summary".to_string() } else { format!("innovations[{}]", row.passage - 1) });
    match ranker {
        Ranker::Hybrid => ScoreBreakdown {
            bm25: row.signals.bm25,
            lexical: Some(row.fused.lexical),
            bm25_language_mean: Some(bm25_mean),
            concept_bm25: row.signals.concept_bm25,
            concepts: Some(row.fused.concepts),
            cognate_bm25: row.signals.cognate_bm25,
            cognates: ranking.lexical.cognates.is_some().then_some(row.fused.cognates),
            induced_bm25: row.signals.induced_bm25,
            induced: ranking.lexical.induced.is_some().then_some(row.fused.induced),
            cosine: Some(row.signals.cosine),
            language_mean: Some(ranking.norm.cosine_stats(row.signals.language).mean),
            dense: Some(row.fused.dense),
            best_passage,
            shared_concepts: Vec::new(),
            concept_coverage: ranking.coverage,
            query_concepts,
            best_match_cosine: row.signals.best_match_cosine,
            best_match: row.signals.best_match_cosine.map(|_| row.fused.best_match),
            best_match_id: ranking.norm.best_match().map(|b| b.id.to_string()),
            feedback: None,
        },
        _ => ScoreBreakdown { cosine: Some(row.signals.cosine), best_passage, ..Default::default() },
    }
}

impl Engine {
    /// Ranks profiles for a stored demand area; once its reviewers decided on some profiles, the
    /// undecided ones are ranked with those decisions taken into account (see [`feedback`]).
    ///
    /// [`feedback`]: crate::rank::feedback
    pub fn rank_demand(&self, demand_id: &str, k: usize, filter: &Filter, ranker: Ranker) -> Result<Shortlist> {
        let demand = self
            .indexer
            .store
            .demand(demand_id)?
            .ok_or_else(|| UserError::NotFound { kind: "demand area", id: demand_id.to_string() })?;
        let verdicts = self.verdicts(demand_id)?;
        self.rank_demand_as(&demand, &verdicts, k, filter, ranker)
    }

    /// The shortlist of `demand` had its reviewers decided `verdicts` (by profile id).
    pub(super) fn rank_demand_as(
        &self,
        demand: &DemandArea,
        verdicts: &HashMap<String, Verdict>,
        k: usize,
        filter: &Filter,
        ranker: Ranker,
    ) -> Result<Shortlist> {
        let mut list = if ranker == Ranker::Hybrid && !verdicts.is_empty() {
            check_k(k)?;
            let results = self.feedback_entries(demand, verdicts, k, filter)?;
            Shortlist {
                demand_id: None,
                organisation: None,
                title: String::new(),
                language: demand.language,
                ranker,
                results: numbered(results),
            }
        } else {
            self.rank_text(&demand.query_text(), Some(demand.language), k, filter, ranker)?
        };
        list.demand_id = Some(demand.id.clone());
        list.organisation = Some(demand.organisation.clone());
        list.title = demand.title.clone();
        for r in &mut list.results {
            r.decision = verdicts.get(&r.profile_id).copied();
        }
        Ok(list)
    }

    /// The shortlist of [`Engine::rank_demand`] when it can be answered from work already done (a
    /// current cached ranking whose returned entries are all explained already), in well under a
    /// millisecond; `None` when it needs ranking or explaining. Lets the HTTP service answer cheap
    /// requests on its async workers and send only real work to the blocking pool.
    pub fn rank_demand_if_cached(
        &self,
        demand_id: &str,
        k: usize,
        filter: &Filter,
        ranker: Ranker,
    ) -> Result<Option<Shortlist>> {
        check_k(k)?;
        if ranker == Ranker::Lexical {
            return Ok(None);
        }
        let demand = self
            .indexer
            .store
            .demand(demand_id)?
            .ok_or_else(|| UserError::NotFound { kind: "demand area", id: demand_id.to_string() })?;
        let verdicts = self.verdicts(demand_id)?;
        if ranker == Ranker::Hybrid && !verdicts.is_empty() {
            // Feedback re-ranks from several rankings: the full path.
            return Ok(None);
        }
        let key = RankingKey { ranker, language: demand.language, text: Arc::from(demand.query_text()) };
        let Some(ranking) = self.rankings.current(&key, self.indexer.latest_change()) else { return Ok(None) };
        let entries: Option<Vec<ShortlistEntry>> =
            ranking.top(filter, k).into_iter().map(|row| ranking.explained(&row.id)).collect();
        let Some(entries) = entries else { return Ok(None) };
        let mut list = Shortlist {
            demand_id: Some(demand.id.clone()),
            organisation: Some(demand.organisation.clone()),
            title: demand.title.clone(),
            language: demand.language,
            ranker,
            results: numbered(entries),
        };
        for r in &mut list.results {
            r.decision = verdicts.get(&r.profile_id).copied();
        }
        Ok(Some(list))
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
        check_k(k)?;
        let language =
            language.unwrap_or_else(|| crate::search::detect_search_language(self.explainer.glossary(), text));
        let results = match ranker {
            Ranker::Lexical => self.lexical_entries(text, language, k, filter)?,
            Ranker::Dense | Ranker::Hybrid => {
                let key = RankingKey { ranker, language, text: Arc::from(text) };
                let ranking = self.ranking(&key)?;
                self.explained_entries(&ranking, ranker, filter, k)?
            }
        };
        let title: String = text.chars().take(80).collect();
        Ok(Shortlist { demand_id: None, organisation: None, title, language, ranker, results: numbered(results) })
    }

    /// BM25 alone, straight from the index.
    fn lexical_entries(
        &self,
        text: &str,
        language: Language,
        k: usize,
        filter: &Filter,
    ) -> Result<Vec<ShortlistEntry>> {
        let analysis = QueryAnalysis::new(self.explainer.glossary(), self.indexer.index.induced(), text, language);
        let hits = self.indexer.index.search(&analysis.query, filter, k)?;
        let ids: Vec<String> = hits.iter().map(|(id, _)| id.clone()).collect();
        let profiles = profiles_by_id(self, &ids)?;
        hits.into_iter()
            .map(|(id, bm25)| {
                let profile = profiles.get(&id).ok_or_else(|| Error::Internal("a ranked profile is missing".into()))?;
                let scores = ScoreBreakdown { bm25: Some(bm25), ..Default::default() };
                Ok(self.explainer.entry(profile, bm25, scores, &analysis, Ranker::Lexical, None))
            })
            .collect()
    }

    /// The `k` best rows of `ranking` that pass `filter`, explained (reusing entries explained before).
    fn explained_entries(
        &self,
        ranking: &Ranking,
        ranker: Ranker,
        filter: &Filter,
        k: usize,
    ) -> Result<Vec<ShortlistEntry>> {
        self.explain_rows(ranking, ranker, ranking.top(filter, k))
    }

    /// `rows` of `ranking` explained (reusing entries explained before), in the same order.
    pub(super) fn explain_rows(
        &self,
        ranking: &Ranking,
        ranker: Ranker,
        rows: Vec<&RankedRow>,
    ) -> Result<Vec<ShortlistEntry>> {
        let known: Vec<Option<ShortlistEntry>> = rows.iter().map(|r| ranking.explained(&r.id)).collect();
        let missing: Vec<String> =
            rows.iter().zip(&known).filter(|(_, e)| e.is_none()).map(|(r, _)| r.id.to_string()).collect();
        let profiles = profiles_by_id(self, &missing)?;
        rows.into_iter()
            .zip(known)
            .map(|(row, known)| match known {
                Some(entry) => Ok(entry),
                None => {
                    let profile =
                        profiles.get(&*row.id).ok_or_else(|| Error::Internal("a ranked profile is missing".into()))?;
                    let scores = breakdown(row, ranking, ranker);
                    let best_match = ranking.norm.best_match().map(|b| b.name.as_str());
                    let entry =
                        self.explainer.entry(profile, row.fused.score, scores, &ranking.analysis, ranker, best_match);
                    ranking.remember(&row.id, &entry);
                    Ok(entry)
                }
            })
            .collect()
    }
}

fn check_k(k: usize) -> Result<()> {
    if k == 0 || k > MAX_K {
        return Err(UserError::BadArgument { field: "k".into(), message: format!("must be 1-{MAX_K}") }.into());
    }
    Ok(())
}

/// Entries with their 1-based ranks.
pub(super) fn numbered(entries: Vec<ShortlistEntry>) -> Vec<ShortlistEntry> {
    entries.into_iter().enumerate().map(|(i, e)| ShortlistEntry { rank: i + 1, ..e }).collect()
}

pub(super) fn profiles_by_id(engine: &Engine, ids: &[String]) -> Result<HashMap<String, Profile>> {
    Ok(engine.indexer.store.profiles_by_id(ids)?.into_iter().map(|p| (p.id.clone(), p)).collect())
}
