//! The engine ties the parts together behind one handle that the CLI, the HTTP service and the
//! tests share: it owns the store (truth), the search index (derived) and keeps the derived parts
//! in step with the truth — on open (crash recovery), on import and on every single-record change.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use crate::domain::{DemandArea, Event, Language, Profile};
use crate::embed::{profile_passages, DenseHit, E5Encoder, VectorSet, MODEL_ID};
use crate::error::{Error, RecordProblem, Result, UserError};
use crate::import::{read_file, Lined};
use crate::rank::hybrid::{self, CosineStats, FusionWeights};
use crate::rank::{self, Explanation, Ranker, ScoreBreakdown, Shortlist};
use crate::search::{explain, profile_text, Filter, Glossary, LexicalQuery, SearchIndex};
use crate::select::{
    self, CandidateProfile, DemandRanking, EventDef, EventSpec, SeasonFile, SeasonRules, SeasonSelection,
};
use crate::store::Store;

/// Largest shortlist anyone may ask for.
pub const MAX_K: usize = 1000;

/// How many BM25 (and concept BM25) hits the hybrid ranker fuses with the dense scores, whatever
/// `k` is: a shortlist's order must not depend on how long it is. Deeper hits matter: on SciFact a
/// pool of 200 scored nDCG@10 0.645 and one of 1,000 0.672, because dense similarity lifts
/// documents from far down the BM25 list and their (small) lexical credit still separates them.
const HYBRID_LEXICAL_POOL: usize = MAX_K;

/// Query embeddings kept; the cache is simply emptied when full (texts repeat, memory stays small).
const QUERY_CACHE_ENTRIES: usize = 4096;

/// One cached query embedding, filled once by whoever asks first (`None` until then, or after a
/// failed attempt).
type QueryVectorSlot = Arc<std::sync::Mutex<Option<Arc<Vec<f32>>>>>;

/// Shortlists kept; emptied when full.
const SHORTLIST_CACHE_ENTRIES: usize = 1024;

/// Texts of at least this many words are embedded like profiles (see `dense_and_fused`).
const SYMMETRIC_MIN_WORDS: usize = 25;

/// Profiles embedded per batch during imports (bounds memory and keeps progress committed).
const EMBED_CHUNK: usize = 256;

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

/// Glossary concepts of a text with their counts, ordered by concept id.
fn concept_counts(glossary: &Glossary, language: Language, text: &str) -> Vec<(String, u32)> {
    let mut counts: std::collections::BTreeMap<String, u32> = std::collections::BTreeMap::new();
    for c in glossary.concept_ids(language, text) {
        *counts.entry(c.to_string()).or_default() += 1;
    }
    counts.into_iter().collect()
}

/// The query's concepts that the profile mentions too.
fn shared_concepts(glossary: &Glossary, profile: &Profile, query_concepts: &[(String, u32)]) -> Vec<String> {
    let mut mine: Vec<&str> = glossary.concept_ids(profile.language, &profile_text(profile));
    mine.sort_unstable();
    mine.dedup();
    query_concepts.iter().filter(|(c, _)| mine.binary_search(&c.as_str()).is_ok()).map(|(c, _)| c.clone()).collect()
}

/// The opening of the passage that matched best in meaning, for results without a lexical snippet.
fn best_passage_opening(profile: &Profile, scores: &ScoreBreakdown) -> Option<explain::Snippet> {
    let passage = scores.best_passage.as_deref()?;
    let text = match passage.strip_prefix("innovations[").and_then(|r| r.strip_suffix(']')) {
        Some(i) => profile.innovations.get(i.parse::<usize>().ok()?)?.as_str(),
        None => profile.summary.as_str(),
    };
    let field = if passage == "summary" { "summary" } else { "innovations" };
    Some(explain::opening(field, text))
}

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

/// Where the engine keeps and finds its files.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Store, index and vectors.
    pub data_dir: PathBuf,
    /// Model files (`models/`).
    pub models_dir: PathBuf,
    /// Encoder threads (0 = all cores).
    pub threads: usize,
}

impl EngineConfig {
    /// Defaults for a data dir: models from [`default_models_dir`], all cores.
    pub fn new(data_dir: &Path) -> EngineConfig {
        EngineConfig { data_dir: data_dir.to_path_buf(), models_dir: default_models_dir(), threads: 0 }
    }
}

/// `PITCHMATCH_MODELS_DIR`, else `./models` when it exists, else the `models/` of the source
/// tree this binary was built from.
pub fn default_models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PITCHMATCH_MODELS_DIR") {
        return PathBuf::from(dir);
    }
    let local = PathBuf::from("models");
    if local.join("config.json").exists() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// The matchmaking engine over one data directory.
pub struct Engine {
    data_dir: PathBuf,
    store: Store,
    index: SearchIndex,
    encoder: E5Encoder,
    vectors: RwLock<VectorSet>,
    weights: FusionWeights,
    query_cache: std::sync::Mutex<HashMap<String, QueryVectorSlot>>,
    /// Shortlists of stored demand areas by (demand, k, filter, ranker), valid while `generation`
    /// and the demand record are unchanged. Organisers re-open the same shortlists far more often
    /// than profiles change.
    shortlist_cache: std::sync::Mutex<HashMap<String, (u64, DemandArea, Shortlist)>>,
    /// Incremented whenever profiles, the index or the vectors change.
    generation: std::sync::atomic::AtomicU64,
}

impl Engine {
    /// Opens (creating) the data dir with default settings; see [`Engine::open_with`].
    pub fn open(data_dir: &Path) -> Result<Engine> {
        Engine::open_with(&EngineConfig::new(data_dir))
    }

    /// Opens (creating) the data dir, loads the model and brings the index and the vectors up to
    /// date with the store.
    pub fn open_with(config: &EngineConfig) -> Result<Engine> {
        let data_dir = &config.data_dir;
        std::fs::create_dir_all(data_dir)?;
        let store = Store::open(&data_dir.join("pitchmatch.sqlite"))?;
        let glossary = Arc::new(Glossary::load(&config.models_dir)?);
        let index = SearchIndex::open(&data_dir.join("tantivy"), glossary)?;
        let encoder = E5Encoder::load_with_threads(&config.models_dir, config.threads)
            .map_err(|e| Error::Embed(format!("loading the model from {}: {e}", config.models_dir.display())))?;
        let mut vectors = VectorSet::new(encoder.dim());
        let stored = store.current_vectors(MODEL_ID, encoder.dim())?;
        if !stored.is_empty() {
            let ids: Vec<String> = stored.iter().map(|v| v.profile_id.clone()).collect();
            for (profile, v) in store.profiles_by_id(&ids)?.iter().zip(&stored) {
                vectors.upsert(profile, &v.passages);
            }
        }
        let engine = Engine {
            data_dir: data_dir.to_path_buf(),
            store,
            index,
            encoder,
            vectors: RwLock::new(vectors),
            weights: FusionWeights::default(),
            query_cache: std::sync::Mutex::new(HashMap::new()),
            shortlist_cache: std::sync::Mutex::new(HashMap::new()),
            generation: std::sync::atomic::AtomicU64::new(0),
        };
        engine.catch_up()?;
        Ok(engine)
    }

    /// The encoder, for evaluation and benchmarks.
    pub fn encoder(&self) -> &E5Encoder {
        &self.encoder
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The store, for callers that need records directly.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Applies store changes the index and the vectors have not seen (after a crash, or another
    /// process's import).
    pub fn catch_up(&self) -> Result<()> {
        let applied = self.index.applied_seq()?;
        if self.store.profile_seq()? > applied {
            let changes = self.store.profile_changes_since(applied)?;
            self.index.apply(&changes)?;
            let mut vectors = self.write_vectors();
            for id in &changes.deleted {
                vectors.remove(id);
            }
            drop(vectors);
            self.bump_generation();
        }
        let stale = self.store.profiles_needing_vectors(MODEL_ID, self.encoder.dim())?;
        if !stale.is_empty() {
            let ids: Vec<String> = stale.into_iter().map(|(id, _)| id).collect();
            for chunk in ids.chunks(EMBED_CHUNK) {
                let profiles = self.store.profiles_by_id(chunk)?;
                self.embed_profiles(&profiles)?;
            }
        }
        Ok(())
    }

    fn write_vectors(&self) -> std::sync::RwLockWriteGuard<'_, VectorSet> {
        // VectorSet updates are single assignments; a panic elsewhere cannot leave it torn.
        self.vectors.write().unwrap_or_else(|p| p.into_inner())
    }

    fn read_vectors(&self) -> std::sync::RwLockReadGuard<'_, VectorSet> {
        self.vectors.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Embeds profiles' passages, stores the vectors with the profile versions they came from and
    /// puts them in the in-memory matrix.
    fn embed_profiles(&self, profiles: &[Profile]) -> Result<()> {
        if profiles.is_empty() {
            return Ok(());
        }
        let passages: Vec<Vec<String>> = profiles.iter().map(profile_passages).collect();
        let flat: Vec<&str> = passages.iter().flatten().map(String::as_str).collect();
        let mut vecs = self.encoder.embed_passages(&flat).map_err(|e| Error::Embed(e.to_string()))?.into_iter();
        let ids: Vec<String> = profiles.iter().map(|p| p.id.clone()).collect();
        let seqs = self.store.profile_seqs(&ids)?;
        let mut items = Vec::with_capacity(profiles.len());
        for ((p, texts), seq) in profiles.iter().zip(&passages).zip(seqs) {
            let v: Vec<Vec<f32>> = vecs.by_ref().take(texts.len()).collect();
            if let Some(seq) = seq {
                items.push((p.id.clone(), seq, v));
            }
        }
        self.store.put_vectors(MODEL_ID, self.encoder.dim(), &items)?;
        let mut vectors = self.write_vectors();
        for (p, (_, _, v)) in profiles.iter().zip(&items) {
            vectors.upsert(p, v);
        }
        drop(vectors);
        self.bump_generation();
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
        self.bump_generation();
        if compact && self.index.has_deletes() {
            self.reindex()?;
        }
        for chunk in changes.upserted.chunks(EMBED_CHUNK) {
            self.embed_profiles(chunk)?;
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
        self.write_vectors().remove(id);
        self.bump_generation();
        Ok(true)
    }

    /// Drops the index and rebuilds it from the store.
    pub fn reindex(&self) -> Result<usize> {
        let seq = self.store.profile_seq()?;
        let profiles = self.store.all_profiles()?;
        self.index.rebuild(&profiles, seq)?;
        self.bump_generation();
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
        let key = format!("{demand_id}\u{0}{k}\u{0}{filter:?}\u{0}{ranker:?}");
        let generation = self.generation.load(Ordering::Acquire);
        {
            let cache = self.shortlist_cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((g, d, list)) = cache.get(&key) {
                if *g == generation && *d == demand {
                    return Ok(list.clone());
                }
            }
        }
        let mut list = self.rank_text(&demand.query_text(), Some(demand.language), k, filter, ranker)?;
        list.demand_id = Some(demand.id.clone());
        list.organisation = Some(demand.organisation.clone());
        list.title = demand.title.clone();
        let mut cache = self.shortlist_cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= SHORTLIST_CACHE_ENTRIES {
            cache.clear();
        }
        // Only cache what was computed from the data as it still is.
        if self.generation.load(Ordering::Acquire) == generation {
            cache.insert(key, (generation, demand, list.clone()));
        }
        Ok(list)
    }

    /// Marks every cached shortlist stale; called after any change to profiles, index or vectors.
    fn bump_generation(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
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
        let lexical_limit = if ranker == Ranker::Lexical { k } else { HYBRID_LEXICAL_POOL };
        let lexical_hits =
            if ranker == Ranker::Dense { Vec::new() } else { self.index.search(&query, filter, lexical_limit)? };
        let query_concepts = concept_counts(self.index.glossary(), language, text);
        let mut scored: Vec<(String, f32, ScoreBreakdown)> = match ranker {
            Ranker::Lexical => lexical_hits
                .into_iter()
                .map(|(id, bm25)| (id, bm25, ScoreBreakdown { bm25: Some(bm25), ..Default::default() }))
                .collect(),
            Ranker::Dense => self.dense_and_fused(text, &lexical_hits, &[], 0.0, filter, ranker, k)?,
            Ranker::Hybrid => {
                let concept_hits = self.index.search_concepts(&query_concepts, filter, HYBRID_LEXICAL_POOL)?;
                let mentions: u32 = query_concepts.iter().map(|(_, n)| n).sum();
                let words: u32 = query.terms_for(language).iter().map(|(_, n)| n).sum();
                let coverage = if words == 0 { 0.0 } else { mentions as f32 / words as f32 };
                let mut fused =
                    self.dense_and_fused(text, &lexical_hits, &concept_hits, coverage, filter, ranker, k)?;
                for (_, _, b) in &mut fused {
                    b.concept_coverage = Some(coverage);
                }
                fused
            }
        };
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        scored.truncate(k);
        let ids: Vec<String> = scored.iter().map(|(id, _, _)| id.clone()).collect();
        let profiles = self.store.profiles_by_id(&ids)?;
        if profiles.len() != ids.len() {
            return Err(Error::Internal("a ranked profile is missing from the store".into()));
        }
        let results = scored
            .into_iter()
            .zip(&profiles)
            .enumerate()
            .map(|(i, ((_, score, scores), profile))| {
                let lexical = explain::explain(profile, &query);
                let passage = lexical.snippet.clone().or_else(|| best_passage_opening(profile, &scores));
                let mut scores = scores;
                if ranker == Ranker::Hybrid {
                    scores.shared_concepts = shared_concepts(self.index.glossary(), profile, &query_concepts);
                }
                let explanation = Explanation {
                    reason: rank::reason(&scores, &lexical),
                    scores,
                    matched: lexical.matched,
                    snippet: passage.as_ref().map(explain::Snippet::marked),
                    passage,
                };
                rank::entry(i + 1, profile, score, explanation)
            })
            .collect();
        let title: String = text.chars().take(80).collect();
        Ok(Shortlist { demand_id: None, organisation: None, title, language, ranker, results })
    }

    /// The embedding of a query text, from the cache when the same text was embedded before
    /// (stored demand areas are ranked again and again; embedding one costs far more than ranking).
    /// Concurrent requests for a text that is not cached yet wait for one embedding instead of
    /// each computing it: 64 connections asking for 12 new demand areas would otherwise embed
    /// them 64 times over and starve every other request.
    fn query_vector(&self, text: &str) -> Result<Arc<Vec<f32>>> {
        let slot = {
            let mut cache = self.query_cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() >= QUERY_CACHE_ENTRIES && !cache.contains_key(text) {
                cache.clear();
            }
            cache.entry(text.to_string()).or_default().clone()
        };
        let mut vector = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = vector.as_ref() {
            return Ok(v.clone());
        }
        // A demand description reads like a profile, so it is embedded as a passage (symmetric
        // similarity, better on the dev set); a few search words are a query, as e5 intends.
        let embedded = if text.split_whitespace().count() >= SYMMETRIC_MIN_WORDS {
            self.encoder.embed_passages(&[text])
        } else {
            self.encoder.embed_queries(&[text])
        };
        let computed = Arc::new(
            embedded
                .map_err(|e| Error::Embed(e.to_string()))?
                .pop()
                .ok_or_else(|| Error::Internal("encoder returned no vector".into()))?,
        );
        *vector = Some(computed.clone());
        Ok(computed)
    }

    /// The `k` best dense (or fused) scores among the profiles that pass `filter`, plus every
    /// lexical hit that has no vectors yet (the caller sorts and cuts to `k`).
    ///
    /// Every profile is scored, so at 100,000 profiles this loop is the hot path of an uncached
    /// shortlist: it works on plain numbers indexed by vector slot and builds the explained
    /// breakdown (strings and all) only for the `k` that are returned.
    #[allow(clippy::too_many_arguments)]
    fn dense_and_fused(
        &self,
        text: &str,
        lexical_hits: &[(String, f32)],
        concept_hits: &[(String, f32)],
        concept_coverage: f32,
        filter: &Filter,
        ranker: Ranker,
        k: usize,
    ) -> Result<Vec<(String, f32, ScoreBreakdown)>> {
        /// One profile's numbers before the cut to `k`.
        #[derive(Clone, Copy)]
        struct Scored {
            hit: DenseHit,
            score: f32,
            z: f32,
            lexical: f32,
            concept: f32,
            language_mean: f32,
        }
        let query_vec = self.query_vector(text)?;
        let vectors = self.read_vectors();
        let hits = vectors.score_all(&query_vec);
        let overall = CosineStats::of(hits.iter().map(|h| h.cosine));
        let per_language: Vec<(Language, CosineStats)> = Language::ALL
            .iter()
            .map(|&l| {
                let s = CosineStats::of(hits.iter().filter(|h| vectors.language(h.slot) == l).map(|h| h.cosine));
                (l, if s.count >= hybrid::MIN_GROUP { s } else { overall })
            })
            .collect();
        // Raw BM25 and concept BM25 per vector slot (0 = no hit); hits without vectors aside.
        let slots = vectors.slot_count();
        let mut bm25_by_slot = vec![0f32; slots];
        let mut concept_by_slot = vec![0f32; slots];
        let mut lexical_without_vectors = Vec::new();
        for (id, bm25) in lexical_hits {
            match vectors.slot_of(id) {
                Some(slot) => bm25_by_slot[slot] = *bm25,
                None => lexical_without_vectors.push((id, *bm25)),
            }
        }
        for (id, bm25) in concept_hits {
            if let Some(slot) = vectors.slot_of(id) {
                concept_by_slot[slot] = *bm25;
            }
        }
        let max_bm25 = lexical_hits.first().map_or(0.0, |(_, s)| *s);
        let max_concept = concept_hits.first().map_or(0.0, |(_, s)| *s);
        let weights =
            FusionWeights { concepts: hybrid::concept_weight(self.weights.concepts, concept_coverage), ..self.weights };
        let mut scored: Vec<Scored> = hits
            .iter()
            .filter(|h| filter.accepts(vectors.facets(h.slot)))
            .map(|h| {
                let stats =
                    per_language.iter().find(|(l, _)| *l == vectors.language(h.slot)).map_or(overall, |(_, s)| *s);
                let z = hybrid::dense_z(h.cosine, &stats);
                let lexical = hybrid::lexical_scaled(bm25_by_slot[h.slot], max_bm25);
                let concept = hybrid::lexical_scaled(concept_by_slot[h.slot], max_concept);
                let score = match ranker {
                    Ranker::Dense => h.cosine,
                    _ => hybrid::fuse(z, lexical, concept, &weights),
                };
                Scored { hit: *h, score, z, lexical, concept, language_mean: stats.mean }
            })
            .collect();
        // Best first, ties by profile id: the same order rank_text applies afterwards.
        let order = |a: &Scored, b: &Scored| {
            b.score.total_cmp(&a.score).then_with(|| vectors.profile_id(a.hit.slot).cmp(vectors.profile_id(b.hit.slot)))
        };
        if scored.len() > k {
            scored.select_nth_unstable_by(k - 1, order);
            scored.truncate(k);
        }
        let mut out = Vec::with_capacity(scored.len() + lexical_without_vectors.len());
        for s in scored {
            let h = s.hit;
            let best_passage =
                Some(if h.passage == 0 { "summary".to_string() } else { format!("innovations[{}]", h.passage - 1) });
            let breakdown = match ranker {
                Ranker::Dense => ScoreBreakdown { cosine: Some(h.cosine), best_passage, ..Default::default() },
                _ => {
                    let bm25 = bm25_by_slot[h.slot];
                    let concept_bm25 = concept_by_slot[h.slot];
                    ScoreBreakdown {
                        bm25: (bm25 > 0.0).then_some(bm25),
                        lexical: Some(s.lexical),
                        concept_bm25: (concept_bm25 > 0.0).then_some(concept_bm25),
                        concepts: Some(s.concept),
                        cosine: Some(h.cosine),
                        language_mean: Some(s.language_mean),
                        dense: Some(s.z),
                        best_passage,
                        shared_concepts: Vec::new(),
                        concept_coverage: None,
                    }
                }
            };
            out.push((vectors.profile_id(h.slot).to_string(), s.score, breakdown));
        }
        // Profiles still waiting for their vectors compete on their lexical score alone.
        if ranker == Ranker::Hybrid {
            for (id, bm25) in lexical_without_vectors {
                let lex = hybrid::lexical_scaled(bm25, max_bm25);
                let breakdown = ScoreBreakdown { bm25: Some(bm25), lexical: Some(lex), ..Default::default() };
                out.push((id.clone(), hybrid::fuse(0.0, lex, 0.0, &weights), breakdown));
            }
        }
        Ok(out)
    }

    /// Relevance of the top `top_n` profiles for one demand area, as selection values in (0, 1]
    /// (see [`selection_value`]).
    pub fn relevance_ranking(&self, demand_id: &str, top_n: usize, ranker: Ranker) -> Result<DemandRanking> {
        let list = self.rank_demand(demand_id, top_n.clamp(1, MAX_K), &Filter::default(), ranker)?;
        let best = list.results.first().map_or(0.0, |r| r.score);
        let ranked = list
            .results
            .iter()
            .map(|r| (r.profile_id.clone(), f64::from(selection_value(ranker, r.score, best))))
            .collect();
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
            let mut rankings = Vec::with_capacity(def.demands.len());
            for d in &def.demands {
                progress(SelectionStep::Ranking { demand_id: d, done, total });
                rankings.push(self.relevance_ranking(d, season.rules.top_n, ranker)?);
                done += 1;
            }
            specs.push(def.with_rankings(rankings));
        }
        progress(SelectionStep::Solving);
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

/// Read access for the landscape map (src/web/landscape.rs); kept in its own block at the end of
/// the file so it stays out of the way of the ranking code above.
impl Engine {
    /// One unit vector per embedded profile (the mean of its passage vectors), as `(profile id,
    /// vector)`. Profiles whose vectors are still being computed are absent.
    pub fn profile_vectors(&self) -> Vec<(String, Vec<f32>)> {
        self.read_vectors().mean_vectors()
    }

    /// Embeds texts the way profile passages are embedded, so that they can be placed in the same
    /// space as the profiles (the landscape map puts demand areas there).
    pub fn embed_as_passages(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.encoder.embed_passages(texts).map_err(|e| Error::Embed(e.to_string()))
    }

    /// The glossary concepts (ids such as `hydrogen_tank`, the same in every language) that `text`
    /// in `language` mentions, each once, sorted: language-independent labels for the map.
    pub fn concepts(&self, language: Language, text: &str) -> Vec<String> {
        let mut ids: Vec<String> =
            self.index.glossary().concept_ids(language, text).into_iter().map(str::to_string).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}
