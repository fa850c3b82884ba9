//! Computing a query text's ranking of every profile and keeping it current. A ranking is computed
//! once per text over the whole collection (the index's word, concept and word-root hits, the
//! dense scan, the per-language statistics) and cached; the profiles written since are then
//! scored into it against the statistics it was computed with, until it has taken in as many
//! changes as the refresh policy allows and is computed afresh. Shortlists (`shortlists`) cut,
//! filter and explain what this produces.

use std::collections::HashMap;
use std::sync::Arc;

use super::changes::Since;
use super::explainer::QueryAnalysis;
use super::rankings::{LexicalPools, RankedRow, Ranking, RankingKey};
use super::shortlists::profiles_by_id;
use super::{Engine, MAX_K};
use crate::domain::{Facets, Profile, Ranker};
use crate::embed::{DenseHit, VectorSet};
use crate::error::{Error, Result};
use crate::rank::hybrid::{self, FusionWeights};
use crate::rank::pipeline::{BestMatch, Normalisation, Signals};

/// How many BM25 (and concept BM25) hits the hybrid ranker fuses with the dense scores, whatever
/// `k` is: a shortlist's order must not depend on how long it is. Deeper hits matter: on SciFact a
/// pool of 200 scored nDCG@10 0.645 and one of 1,000 0.672, because dense similarity lifts
/// documents from far down the BM25 list and their (small) lexical credit still separates them.
const HYBRID_LEXICAL_POOL: usize = MAX_K;

/// Texts of at least this many words are embedded like profiles (see `Engine::query_vector`).
const SYMMETRIC_MIN_WORDS: usize = 25;

/// The lowest score of a hit pool that was cut at `pool` hits; `None` when nothing was cut.
fn pool_floor(hits: &[(String, f32)], pool: usize) -> Option<f32> {
    (hits.len() >= pool).then(|| hits.last().map(|(_, s)| *s)).flatten()
}

/// `score` when it would have made the pool whose floor is `floor`.
fn within_pool(score: Option<f32>, floor: Option<f32>) -> Option<f32> {
    score.filter(|s| floor.is_none_or(|f| *s >= f))
}

impl Engine {
    /// The current ranking of `key`: the cached one, brought up to date with the profiles changed
    /// since, else computed afresh. Every answer reflects every write so far. When a ranking has
    /// taken in as many changes as its statistics may drift over, one caller computes it afresh
    /// (outside the slot's lock) while the others keep taking changes into the held one: under a
    /// steady stream of writes a full ranking of 100,000 profiles would otherwise make every
    /// request for that text wait for it.
    pub(super) fn ranking(&self, key: &RankingKey) -> Result<Arc<Ranking>> {
        let slot = self.rankings.slot(key);
        let held = slot.lock();
        let Some(old) = held.clone() else {
            return Ok(self.rankings.store(key, &slot, held, self.compute_ranking(key)?));
        };
        let since = self.indexer.changes().since(old.seen);
        let (ids, up_to) = match since {
            Since::Nothing => return Ok(old),
            Since::Everything => return Ok(self.rankings.store(key, &slot, held, self.compute_ranking(key)?)),
            Since::Profiles { ids, up_to } => (ids, up_to),
        };
        let collection = self.indexer.read_vectors().len();
        let policy = &self.rankings.policy;
        if policy.budget(collection) == 0 {
            // Small collections: ranking afresh costs next to nothing, so nobody is served drift.
            return Ok(self.rankings.store(key, &slot, held, self.compute_ranking(key)?));
        }
        let claim = if old.may_take(ids.len(), collection, policy) { None } else { slot.claim_recompute() };
        let Some(_claim) = claim else {
            // Within the budget, or another caller is computing it afresh right now.
            return Ok(self.rankings.store(key, &slot, held, self.rescore(&old, key.ranker, ids, up_to)?));
        };
        drop(held);
        let fresh = self.compute_ranking(key)?;
        let held = slot.lock();
        let since = self.indexer.changes().since(fresh.seen);
        let fresh = match since {
            Since::Profiles { ids, up_to } => self.rescore(&fresh, key.ranker, ids, up_to)?,
            // Current already, or past what the log lists: the next request brings it up to date.
            Since::Nothing | Since::Everything => fresh,
        };
        Ok(self.rankings.store(key, &slot, held, fresh))
    }

    /// Scores every embedded profile (dense cosine, or the hybrid fusion) and sorts them, best
    /// first. Everything that normalises a score — the per-language cosine and BM25 statistics,
    /// the best concept BM25 — is taken over the whole collection, never the filtered part, so that
    /// a filter only removes rows and one ranking serves every filter and every `k`.
    pub(super) fn compute_ranking(&self, key: &RankingKey) -> Result<Ranking> {
        // Read before any data: a change made while computing is then taken in by the next request.
        let seen = self.indexer.latest_change();
        let query_vector = self.query_vector(&key.text)?;
        let index = &self.indexer.index;
        let mut analysis = QueryAnalysis::new(self.explainer.glossary(), index.induced(), &key.text, key.language);
        if key.ranker == Ranker::Hybrid {
            // Only the hybrid ranker's explanations name shared concepts.
            analysis.name_rarest_first(&index.profiles_mentioning(&analysis.concepts)?);
            analysis.name_induced_rarest_first(&index.profiles_mentioning_induced(&analysis.induced)?);
        }
        let analysis = Arc::new(analysis);
        let mut pools = LexicalPools::default();
        // Only the hybrid ranker's weights depend on it; the count walks every profile's slot.
        let languages = if key.ranker == Ranker::Hybrid {
            self.indexer.read_vectors().languages_with(hybrid::MIN_GROUP)
        } else {
            0
        };
        let (lexical_hits, concept_hits, cognate_hits, induced_hits, coverage) = match key.ranker {
            Ranker::Hybrid => {
                let query = &analysis.query;
                let mentions: u32 = analysis.concepts.iter().map(|(_, n)| n).sum();
                let words: u32 = query.terms_for(query.language).iter().map(|(_, n)| n).sum();
                pools.words = index.freeze(query)?;
                pools.concepts = index.freeze_concepts(&analysis.concepts)?;
                let text_words = key.text.split_whitespace().count();
                if hybrid::cognate_weight(self.weights.cognates, text_words, languages) > 0.0 {
                    pools.cognates = index.freeze_cognates(&analysis.grams)?;
                }
                pools.induced = index.freeze_induced(&analysis.induced)?;
                let lexical_hits = index.search_frozen(pools.words.as_ref(), HYBRID_LEXICAL_POOL)?;
                let concept_hits = index.search_frozen(pools.concepts.as_ref(), HYBRID_LEXICAL_POOL)?;
                let cognate_hits = index.search_frozen(pools.cognates.as_ref(), HYBRID_LEXICAL_POOL)?;
                let induced_hits = index.search_frozen(pools.induced.as_ref(), HYBRID_LEXICAL_POOL)?;
                pools.words_floor = pool_floor(&lexical_hits, HYBRID_LEXICAL_POOL);
                pools.concepts_floor = pool_floor(&concept_hits, HYBRID_LEXICAL_POOL);
                pools.cognates_floor = pool_floor(&cognate_hits, HYBRID_LEXICAL_POOL);
                pools.induced_floor = pool_floor(&induced_hits, HYBRID_LEXICAL_POOL);
                let coverage = if words == 0 { 0.0 } else { mentions as f32 / words as f32 };
                (lexical_hits, concept_hits, cognate_hits, induced_hits, Some(coverage))
            }
            _ => (Vec::new(), Vec::new(), Vec::new(), Vec::new(), None),
        };
        let bm25: HashMap<&str, f32> = lexical_hits.iter().map(|(id, s)| (id.as_str(), *s)).collect();
        let concept_bm25: HashMap<&str, f32> = concept_hits.iter().map(|(id, s)| (id.as_str(), *s)).collect();
        let cognate_bm25: HashMap<&str, f32> = cognate_hits.iter().map(|(id, s)| (id.as_str(), *s)).collect();
        let induced_bm25: HashMap<&str, f32> = induced_hits.iter().map(|(id, s)| (id.as_str(), *s)).collect();
        let weights = FusionWeights {
            concepts: hybrid::concept_weight(self.weights.concepts, coverage.unwrap_or(0.0), analysis.concepts.len()),
            cognates: if pools.cognates.is_some() { self.weights.cognates } else { 0.0 },
            induced: if pools.induced.is_some() { self.weights.induced } else { 0.0 },
            best_match: hybrid::best_match_weight(self.weights.best_match, languages),
            ..self.weights
        };
        let best_concept = concept_hits.first().map_or(0.0, |(_, s)| *s);
        let vectors = self.indexer.read_vectors();
        let hits = vectors.score_all(&query_vector);
        let mut signals: Vec<Signals> = hits
            .iter()
            .map(|h| {
                let id = vectors.profile_id(h.slot);
                Signals {
                    language: vectors.language(h.slot),
                    cosine: h.cosine,
                    bm25: bm25.get(id).copied(),
                    concept_bm25: concept_bm25.get(id).copied(),
                    cognate_bm25: cognate_bm25.get(id).copied(),
                    induced_bm25: induced_bm25.get(id).copied(),
                    best_match_cosine: None,
                }
            })
            .collect();
        let mut norm = Normalisation::of(key.ranker, &signals, best_concept, weights);
        if key.ranker == Ranker::Hybrid && weights.best_match > 0.0 {
            if let Some(best) = best_match(&vectors, &hits, &signals, &norm) {
                for (s, cosine) in signals.iter_mut().zip(vectors.mean_cosines(&best.vector)) {
                    s.best_match_cosine = Some(cosine);
                }
                norm = norm.with_best_match(best, &signals);
            }
        }
        let mut rows: Vec<(RankedRow, Facets)> =
            hits.iter().zip(signals).map(|(h, signals)| scored_row(&vectors, h, signals, &norm)).collect();
        // Profiles still waiting for their vectors compete on their lexical score alone.
        let waiting: Vec<String> =
            lexical_hits.iter().filter(|(id, _)| !vectors.contains(id)).map(|(id, _)| id.clone()).collect();
        drop(vectors);
        if let Some(best) = norm.best_match() {
            // Read from the store only once the vectors are released, as every store read here.
            let name = self.indexer.store.profiles_by_id(&[best.id.to_string()])?.pop().map(|p| p.name);
            norm.name_best_match(name.unwrap_or_default());
        }
        for profile in self.indexer.store.profiles_by_id(&waiting)? {
            if let Some(&b) = bm25.get(profile.id.as_str()) {
                rows.push(pending_row(&norm, &profile, b));
            }
        }
        Ok(Ranking::new(analysis, query_vector, norm, coverage, pools, seen, rows))
    }

    /// `old` with the profiles in `ids` scored again against its frozen statistics.
    fn rescore(&self, old: &Ranking, ranker: Ranker, ids: Vec<Arc<str>>, up_to: u64) -> Result<Ranking> {
        let mut changed = Vec::with_capacity(ids.len());
        let mut waiting = Vec::new();
        {
            let vectors = self.indexer.read_vectors();
            for id in ids {
                if vectors.contains(&id) {
                    let row = self.embedded_row(old, ranker, &vectors, &id)?;
                    changed.push((id, row));
                } else {
                    waiting.push(id);
                }
            }
        }
        // Profiles without vectors (deleted, or waiting for them) rank only on a lexical hit.
        let names: Vec<String> = waiting.iter().map(|id| id.to_string()).collect();
        let profiles = profiles_by_id(self, &names)?;
        for id in waiting {
            let row = match (ranker, profiles.get(&*id)) {
                (Ranker::Hybrid, Some(profile)) => {
                    let pools = &old.lexical;
                    let bm25 =
                        within_pool(self.indexer.index.score_frozen(pools.words.as_ref(), &id)?, pools.words_floor);
                    bm25.map(|b| pending_row(&old.norm, profile, b))
                }
                _ => None,
            };
            changed.push((id, row));
        }
        Ok(old.with_changes(changed, up_to))
    }

    /// The row of an embedded profile in `ranking`.
    fn embedded_row(
        &self,
        ranking: &Ranking,
        ranker: Ranker,
        vectors: &VectorSet,
        id: &Arc<str>,
    ) -> Result<Option<(RankedRow, Facets)>> {
        let Some(slot) = vectors.slot_of(id) else { return Ok(None) };
        let Some(hit) = vectors.score_one(slot, &ranking.query_vector) else { return Ok(None) };
        let (bm25, concept_bm25, cognate_bm25, induced_bm25) = match ranker {
            Ranker::Hybrid => {
                let (index, pools) = (&self.indexer.index, &ranking.lexical);
                (
                    within_pool(index.score_frozen(pools.words.as_ref(), id)?, pools.words_floor),
                    within_pool(index.score_frozen(pools.concepts.as_ref(), id)?, pools.concepts_floor),
                    within_pool(index.score_frozen(pools.cognates.as_ref(), id)?, pools.cognates_floor),
                    within_pool(index.score_frozen(pools.induced.as_ref(), id)?, pools.induced_floor),
                )
            }
            _ => (None, None, None, None),
        };
        let best_match_cosine = ranking.norm.best_match().and_then(|best| vectors.mean_cosine(slot, &best.vector));
        let signals = Signals {
            language: vectors.language(slot),
            cosine: hit.cosine,
            bm25,
            concept_bm25,
            cognate_bm25,
            induced_bm25,
            best_match_cosine,
        };
        Ok(Some(scored_row(vectors, &hit, signals, &ranking.norm)))
    }

    /// The embedding of a query text, from the cache when the same text was embedded before
    /// (stored demand areas are ranked again and again; embedding one costs far more than ranking).
    /// Concurrent requests for a text that is not cached yet wait for one embedding instead of
    /// each computing it: 64 connections asking for 12 new demand areas would otherwise embed
    /// them 64 times over and starve every other request.
    fn query_vector(&self, text: &str) -> Result<Arc<Vec<f32>>> {
        self.query_vectors
            .try_get_with_by_ref(text, || {
                // A demand description reads like a profile, so it is embedded as a passage
                // (symmetric similarity, better on the dev set); a few search words are a query, as
                // e5 intends.
                let encoder = self.indexer.embedder()?;
                let embedded = if text.split_whitespace().count() >= SYMMETRIC_MIN_WORDS {
                    encoder.embed_passages(&[text])
                } else {
                    encoder.embed_queries(&[text])
                };
                let vector = embedded
                    .map_err(|e| Error::Embed(e.to_string()))?
                    .pop()
                    .ok_or_else(|| Error::Internal("encoder returned no vector".into()))?;
                Ok::<_, Error>(Arc::new(vector))
            })
            .map_err(|e: Arc<Error>| match Arc::try_unwrap(e) {
                Ok(e) => e,
                Err(shared) => Error::Embed(shared.to_string()),
            })
    }
}

/// The embedded profile the fusion without the likeness to a best match puts first (the lowest id
/// among equals), with its mean vector.
fn best_match(vectors: &VectorSet, hits: &[DenseHit], signals: &[Signals], norm: &Normalisation) -> Option<BestMatch> {
    let (hit, _) =
        hits.iter().zip(signals).map(|(h, s)| (h, norm.fuse(s).score)).filter(|(_, score)| score.is_finite()).max_by(
            |(a, x), (b, y)| x.total_cmp(y).then_with(|| vectors.profile_id(b.slot).cmp(vectors.profile_id(a.slot))),
        )?;
    let id = vectors.shared_id(hit.slot).clone();
    let vector = vectors.mean_vector(&id)?;
    Some(BestMatch { id, name: String::new(), vector })
}

/// The row of the embedded profile that `hit` scored, fused from `signals` under `norm`.
fn scored_row(vectors: &VectorSet, hit: &DenseHit, signals: Signals, norm: &Normalisation) -> (RankedRow, Facets) {
    let row = RankedRow {
        id: vectors.shared_id(hit.slot).clone(),
        fused: norm.fuse(&signals),
        signals,
        passage: u16::try_from(hit.passage).unwrap_or(u16::MAX),
        pending: false,
    };
    (row, *vectors.facets(hit.slot))
}

/// The row of a profile that waits for its vectors: lexical evidence alone.
fn pending_row(norm: &Normalisation, profile: &Profile, bm25: f32) -> (RankedRow, Facets) {
    let signals = Signals {
        language: profile.language,
        cosine: 0.0,
        bm25: Some(bm25),
        concept_bm25: None,
        cognate_bm25: None,
        induced_bm25: None,
        best_match_cosine: None,
    };
    let row = RankedRow {
        id: Arc::from(profile.id.as_str()),
        fused: norm.fuse_lexical_only(profile.language, bm25),
        signals,
        passage: 0,
        pending: true,
    };
    (row, Facets::of(profile))
}
