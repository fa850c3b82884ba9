//! The engine ties the parts together behind one handle that the CLI, the HTTP service and the
//! tests share: it owns the store (truth), the search index (derived) and keeps the derived parts
//! in step with the truth — on open (crash recovery), on import and on every single-record change.
//! It also keeps the expensive, reusable work of ranking: query embeddings, and each query
//! text's ranking of every profile with the entries explained so far, valid until the data
//! changes, so that organisers re-opening a demand area under other filters cost next to nothing.

mod usecases;

pub use self::usecases::{API_TOKEN_PREFIX, EDIT_TOKEN_PREFIX};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use crate::domain::{DemandArea, Event, Facets, Filter, Language, Profile, Ranker};
use crate::embed::{profile_passages, DenseHit, Embedder, EmbedderChoice, VectorSet};
use crate::error::{Error, RecordProblem, Result, UserError};
use crate::import::{read_file, Lined};
use crate::rank::hybrid::{self, FusionWeights, ScoreStats};
use crate::rank::{self, Explanation, ScoreBreakdown, Shortlist, ShortlistEntry};
use crate::search::{explain, profile_text, Glossary, LexicalQuery, SearchIndex};
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

/// Texts of at least this many words are embedded like profiles (see `Engine::query_vector`).
const SYMMETRIC_MIN_WORDS: usize = 25;

/// Profiles embedded per batch during imports (bounds memory and keeps progress committed).
const EMBED_CHUNK: usize = 256;

/// Rows kept over all cached query rankings (about 48 bytes each, so some 200 MB): 20 rankings at
/// 100,000 profiles, [`RANKING_CACHE_MAX_ENTRIES`] at up to 16,000.
const RANKING_CACHE_ROWS: usize = 4_000_000;

/// Query rankings kept at most, however small the collection.
const RANKING_CACHE_MAX_ENTRIES: usize = 256;

/// Explained entries kept per cached ranking (a few KB each).
const EXPLAINED_PER_RANKING: usize = 2000;

/// Analysed profile tokens kept for explanations, over all profiles: about 80 bytes each, so
/// some 20 MB — a batch ranking's few hundred profiles several times over, and small enough not to
/// show in a server's memory. (A larger bound was once blamed for a 200 MB higher peak in the
/// 100,000-profile load test; that peak is set while loading the vectors at startup and varies by
/// ~150 MB from run to run.)
const ANALYSED_CACHE_TOKENS: usize = 250_000;

/// Profiles read from the store per query while loading the vectors at startup.
const STARTUP_PROFILE_CHUNK: usize = 4096;

/// Profiles' analysed texts for explanations, by id, each with a fingerprint of the text it was
/// analysed from (a changed profile simply misses).
#[derive(Default)]
struct AnalysedCache {
    tokens: usize,
    by_id: HashMap<String, (u64, Arc<explain::AnalysedProfile>)>,
}

/// A hash of the parts of a profile that [`explain::AnalysedProfile`] depends on.
fn text_fingerprint(profile: &Profile) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (profile.language, &profile.name, &profile.summary, &profile.innovations, &profile.keywords).hash(&mut h);
    h.finish()
}

/// One cached query ranking, computed once by whoever asks first.
type RankingSlot = Arc<std::sync::Mutex<Option<Arc<QueryRanking>>>>;

/// A query text analysed for the index and the glossary. Analysing a demand area's text (three
/// languages' stemmers, the glossary) costs more than serving its shortlist from a cached ranking,
/// so it is kept with the ranking.
#[derive(Debug)]
struct QueryAnalysis {
    query: LexicalQuery,
    concepts: Vec<(String, u32)>,
}

impl QueryAnalysis {
    fn new(glossary: &Glossary, text: &str, language: Language) -> QueryAnalysis {
        QueryAnalysis { query: LexicalQuery::new(text, language), concepts: concept_counts(glossary, language, text) }
    }
}

/// A ranked profile before it is explained: id, score and the numbers behind the score.
type RankedRow = (String, f32, ScoreBreakdown);

/// One embedded profile's numbers in a query ranking.
#[derive(Debug, Clone, Copy)]
struct RankedSlot {
    hit: DenseHit,
    score: f32,
    z: f32,
    lexical: f32,
    concept: f32,
    language_mean: f32,
    bm25_language_mean: f32,
}

/// A lexical hit on a profile whose vectors are still being computed.
#[derive(Debug, Clone)]
struct PendingHit {
    id: String,
    facets: Facets,
    score: f32,
    bm25: f32,
    lexical: f32,
    bm25_language_mean: f32,
}

/// A query's ranking of every embedded profile, best first, before filters and the cut to `k`
/// (see [`Engine::compute_ranking`]). Valid while the engine's generation and the vector set's
/// version are those it was computed at.
#[derive(Debug)]
struct QueryRanking {
    generation: u64,
    vectors_version: u64,
    ranker: Ranker,
    coverage: Option<f32>,
    rows: Vec<RankedSlot>,
    /// The filter facets of `rows[i]` at `i`: filtering scans this array alone (6 bytes a row),
    /// so a filter that matches few profiles costs a fraction of a millisecond at 100,000.
    row_facets: Vec<Facets>,
    bm25: HashMap<usize, f32>,
    concept_bm25: HashMap<usize, f32>,
    pending: Vec<PendingHit>,
    /// The analysed query, for explaining entries.
    analysis: Arc<QueryAnalysis>,
    /// Entries explained so far, by profile id: explaining (analysing a profile's text) costs
    /// more than everything else a shortlist from a cached ranking does, and the same profiles
    /// come back under other filters and lengths.
    explained: std::sync::Mutex<HashMap<String, ShortlistEntry>>,
}

impl QueryRanking {
    /// Distinct glossary concepts in the query, where they weigh in the score (hybrid only).
    fn query_concepts(&self) -> Option<usize> {
        self.coverage.map(|_| self.analysis.concepts.len())
    }

    /// The entry explained for `profile_id` before, if any.
    fn explained(&self, profile_id: &str) -> Option<ShortlistEntry> {
        self.explained.lock().unwrap_or_else(|p| p.into_inner()).get(profile_id).cloned()
    }

    /// Keeps an explained entry for later requests (up to [`EXPLAINED_PER_RANKING`]).
    fn remember(&self, entry: &ShortlistEntry) {
        let mut explained = self.explained.lock().unwrap_or_else(|p| p.into_inner());
        if explained.len() < EXPLAINED_PER_RANKING {
            explained.insert(entry.profile_id.clone(), entry.clone());
        }
    }

    /// The `k` best rows that pass `filter`, explained, plus the pending lexical hits that pass
    /// it (the caller sorts and cuts to `k`). `vectors` must be at this ranking's version.
    fn top(&self, vectors: &VectorSet, filter: &Filter, k: usize) -> Vec<RankedRow> {
        let mut out = Vec::with_capacity(k + self.pending.len());
        let passing = self.row_facets.iter().enumerate().filter(|(_, f)| filter.accepts(f)).map(|(i, _)| &self.rows[i]);
        for row in passing.take(k) {
            let h = row.hit;
            let best_passage =
                Some(if h.passage == 0 { "summary".to_string() } else { format!("innovations[{}]", h.passage - 1) });
            let breakdown = match self.ranker {
                Ranker::Hybrid => {
                    let bm25 = self.bm25.get(&h.slot).copied();
                    let concept_bm25 = self.concept_bm25.get(&h.slot).copied();
                    ScoreBreakdown {
                        bm25,
                        lexical: Some(row.lexical),
                        bm25_language_mean: Some(row.bm25_language_mean),
                        concept_bm25,
                        concepts: Some(row.concept),
                        cosine: Some(h.cosine),
                        language_mean: Some(row.language_mean),
                        dense: Some(row.z),
                        best_passage,
                        shared_concepts: Vec::new(),
                        concept_coverage: self.coverage,
                        query_concepts: self.query_concepts(),
                    }
                }
                _ => ScoreBreakdown { cosine: Some(h.cosine), best_passage, ..Default::default() },
            };
            out.push((vectors.profile_id(h.slot).to_string(), row.score, breakdown));
        }
        for p in self.pending.iter().filter(|p| filter.accepts(&p.facets)) {
            let breakdown = ScoreBreakdown {
                bm25: Some(p.bm25),
                lexical: Some(p.lexical),
                bm25_language_mean: Some(p.bm25_language_mean),
                concept_coverage: self.coverage,
                query_concepts: self.query_concepts(),
                ..Default::default()
            };
            out.push((p.id.clone(), p.score, breakdown));
        }
        out
    }
}

/// The ranking cache's key for a text ranked as `language` by `ranker`.
fn ranking_key(text: &str, language: Language, ranker: Ranker) -> String {
    format!("{}\u{0}{}\u{0}{text}", ranker.as_str(), language.code())
}

/// How much work a shortlist request may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effort {
    /// Whatever it takes.
    Compute,
    /// Only what cached rankings and explanations answer; give up otherwise.
    CachedOnly,
}

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
    /// The model, or a deterministic stand-in for tests of logic.
    pub embedder: EmbedderChoice,
    /// Store and index profiles without computing their vectors; when opening, neither load the
    /// stored vectors nor catch up on missing ones. For lexical-only work (`import
    /// --defer-embedding`, `rank --ranker lexical`), which then never touches the model or the
    /// vector matrix (a dense or hybrid ranking on such an engine sees no vectors and ranks on
    /// BM25 alone). The next engine opened without this (`serve`, a hybrid `rank`) embeds what
    /// lacks vectors.
    pub defer_embedding: bool,
    /// Whether the engine may write the data dir.
    pub access: Access,
}

/// How an engine opens its data dir.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// Creates the data dir when absent, holds the search index's writer (one process at a time:
    /// opening fails with [`UserError::DataDirInUse`] while another holds it) and brings the index
    /// and the vectors up to date with the store.
    #[default]
    ReadWrite,
    /// Reads an existing data dir and writes nothing: the store read-only, the index without a
    /// writer, no catch-up and no embedding of profiles that lack vectors (they rank on their
    /// words alone). Works beside a process that writes the data dir, such as a running server.
    /// Fails with [`UserError::NoData`] when the data dir holds no store.
    ReadOnly,
}

impl EngineConfig {
    /// Defaults for a data dir: models from [`default_models_dir`], all cores.
    pub fn new(data_dir: &Path) -> EngineConfig {
        EngineConfig {
            data_dir: data_dir.to_path_buf(),
            models_dir: default_models_dir(),
            threads: 0,
            embedder: EmbedderChoice::E5,
            defer_embedding: false,
            access: Access::ReadWrite,
        }
    }
}

/// `./models` when it holds the model, else the `models/` of the source tree this binary was
/// built from; absolute, so that it means the same wherever the process goes. (The
/// `models_dir` setting, see [`crate::settings`], overrides it.)
pub fn default_models_dir() -> PathBuf {
    let local = std::path::absolute("models").unwrap_or_else(|_| PathBuf::from("models"));
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
    /// Loaded on first use: lexical-only commands never need it, and loading it costs about as
    /// much as a lexical `rank --all` of 300 queries.
    embedder: std::sync::OnceLock<Embedder>,
    embedder_loading: std::sync::Mutex<()>,
    embedder_choice: EmbedderChoice,
    /// Name stored with the vectors, from the embedder choice.
    model_id: &'static str,
    models_dir: PathBuf,
    threads: usize,
    dim: usize,
    defer_embedding: bool,
    vectors: RwLock<VectorSet>,
    weights: FusionWeights,
    query_cache: std::sync::Mutex<HashMap<String, QueryVectorSlot>>,
    /// Rankings of recent query texts over every profile, by (ranker, language, text).
    ranking_cache: std::sync::Mutex<HashMap<String, RankingSlot>>,
    /// Incremented whenever profiles, the index or the vectors change.
    generation: std::sync::atomic::AtomicU64,
    analysed_profiles: std::sync::Mutex<AnalysedCache>,
    /// Orders writes: each commits to the store and then brings the index and vectors up to date
    /// before the next one starts, so change sets are applied in order.
    write_lock: std::sync::Mutex<()>,
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
        let store_path = data_dir.join("pitchmatch.sqlite");
        let glossary = Arc::new(Glossary::load(&config.models_dir)?);
        let (store, index) = match config.access {
            Access::ReadWrite => {
                std::fs::create_dir_all(data_dir)?;
                let store = Store::open(&store_path)?;
                let index = SearchIndex::open(&data_dir.join("tantivy"), glossary).map_err(|e| {
                    if crate::search::is_lock_busy(&e) {
                        UserError::DataDirInUse { data_dir: data_dir.display().to_string() }.into()
                    } else {
                        e
                    }
                })?;
                (store, index)
            }
            Access::ReadOnly => {
                if !store_path.is_file() {
                    return Err(UserError::NoData { data_dir: data_dir.display().to_string() }.into());
                }
                let store = Store::open_read_only(&store_path)?;
                (store, SearchIndex::open_read_only(&data_dir.join("tantivy"), glossary)?)
            }
        };
        let model_id = config.embedder.model_id();
        let dim = config
            .embedder
            .dim(&config.models_dir)
            .map_err(|e| Error::Embed(format!("reading the model config in {}: {e}", config.models_dir.display())))?;
        let mut vectors = VectorSet::new(dim);
        let stored = if config.defer_embedding { Vec::new() } else { store.current_vectors(model_id, dim)? };
        vectors.reserve(stored.iter().map(|v| v.passages.len()).sum(), stored.len());
        // Profiles are read a chunk at a time: only their language and facets are kept, and all
        // 100,000 at once would add a few hundred MB to the startup peak.
        for chunk in stored.chunks(STARTUP_PROFILE_CHUNK) {
            let ids: Vec<String> = chunk.iter().map(|v| v.profile_id.clone()).collect();
            let profiles: HashMap<String, Profile> =
                store.profiles_by_id(&ids)?.into_iter().map(|p| (p.id.clone(), p)).collect();
            for v in chunk {
                if let Some(profile) = profiles.get(&v.profile_id) {
                    vectors.upsert(profile, &v.passages);
                }
            }
        }
        drop(stored);
        let engine = Engine {
            data_dir: data_dir.to_path_buf(),
            store,
            index,
            embedder: std::sync::OnceLock::new(),
            embedder_loading: std::sync::Mutex::new(()),
            embedder_choice: config.embedder,
            model_id,
            models_dir: config.models_dir.clone(),
            threads: config.threads,
            dim,
            defer_embedding: config.defer_embedding,
            vectors: RwLock::new(vectors),
            weights: FusionWeights::default(),
            query_cache: std::sync::Mutex::new(HashMap::new()),
            ranking_cache: std::sync::Mutex::new(HashMap::new()),
            analysed_profiles: std::sync::Mutex::new(AnalysedCache::default()),
            generation: std::sync::atomic::AtomicU64::new(0),
            write_lock: std::sync::Mutex::new(()),
        };
        if config.access == Access::ReadWrite {
            engine.catch_up()?;
        }
        Ok(engine)
    }

    /// The embedder, loaded on first use.
    pub fn embedder(&self) -> Result<&Embedder> {
        if let Some(embedder) = self.embedder.get() {
            return Ok(embedder);
        }
        // One thread loads; the others wait for it instead of loading the model again.
        let _loading = self.embedder_loading.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(embedder) = self.embedder.get() {
            return Ok(embedder);
        }
        let embedder = self
            .embedder_choice
            .load(&self.models_dir, self.threads)
            .map_err(|e| Error::Embed(format!("loading the model from {}: {e}", self.models_dir.display())))?;
        Ok(self.embedder.get_or_init(|| embedder))
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Taken by every write for its whole length. The guarded data is `()`: a panic elsewhere
    /// cannot leave it inconsistent.
    fn lock_writes(&self) -> std::sync::MutexGuard<'_, ()> {
        self.write_lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Brings the derived data up to date after a committed single-record write. The write
    /// already stands (and the index catches up on the next write or restart), so a failure here
    /// is logged, not returned.
    fn after_profile_write(&self) {
        if let Err(e) = self.catch_up() {
            tracing::error!(error = %e, "index catch-up after a store write failed");
        }
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
        if self.defer_embedding {
            return Ok(());
        }
        let stale = self.store.profiles_needing_vectors(self.model_id, self.dim)?;
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
        let mut vecs = self.embedder()?.embed_passages(&flat).map_err(|e| Error::Embed(e.to_string()))?.into_iter();
        let ids: Vec<String> = profiles.iter().map(|p| p.id.clone()).collect();
        let seqs = self.store.profile_seqs(&ids)?;
        let mut items = Vec::with_capacity(profiles.len());
        for ((p, texts), seq) in profiles.iter().zip(&passages).zip(seqs) {
            let v: Vec<Vec<f32>> = vecs.by_ref().take(texts.len()).collect();
            if let Some(seq) = seq {
                items.push((p.id.clone(), seq, v));
            }
        }
        self.store.put_vectors(self.model_id, self.dim, &items)?;
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
        let _writes = self.lock_writes();
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
    fn upsert_profiles(&self, profiles: &[Profile], compact: bool) -> Result<()> {
        if profiles.is_empty() {
            return Ok(());
        }
        let before = self.index.applied_seq()?;
        self.store.upsert_profiles(profiles)?;
        let changes = self.store.profile_changes_since(before)?;
        self.index.apply(&changes)?;
        self.bump_generation();
        if compact && self.index.has_deletes() {
            self.rebuild_index()?;
        }
        if !self.defer_embedding {
            for chunk in changes.upserted.chunks(EMBED_CHUNK) {
                self.embed_profiles(chunk)?;
            }
        }
        Ok(())
    }

    /// Deletes a profile from the store, the index and the vectors. False when it did not exist.
    fn remove_profile(&self, id: &str) -> Result<bool> {
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
        let _writes = self.lock_writes();
        self.rebuild_index()
    }

    fn rebuild_index(&self) -> Result<usize> {
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
        self.rank_demand_with(demand_id, k, filter, ranker, Effort::Compute)?
            .ok_or_else(|| Error::Internal("a computed shortlist came back empty-handed".into()))
    }

    /// The shortlist of [`Engine::rank_demand`] when it can be answered from work already done (a
    /// cached ranking whose entries are all explained already), in well under a millisecond; `None` when it needs ranking or explaining. Lets the HTTP service
    /// answer cheap requests on its async workers and send only real work to the blocking pool.
    pub fn rank_demand_if_cached(
        &self,
        demand_id: &str,
        k: usize,
        filter: &Filter,
        ranker: Ranker,
    ) -> Result<Option<Shortlist>> {
        self.rank_demand_with(demand_id, k, filter, ranker, Effort::CachedOnly)
    }

    fn rank_demand_with(
        &self,
        demand_id: &str,
        k: usize,
        filter: &Filter,
        ranker: Ranker,
        effort: Effort,
    ) -> Result<Option<Shortlist>> {
        let demand = self
            .store
            .demand(demand_id)?
            .ok_or_else(|| UserError::NotFound { kind: "demand area", id: demand_id.to_string() })?;
        let Some(mut list) =
            self.rank_text_with(&demand.query_text(), Some(demand.language), k, filter, ranker, effort)?
        else {
            return Ok(None);
        };
        list.demand_id = Some(demand.id.clone());
        list.organisation = Some(demand.organisation.clone());
        list.title = demand.title.clone();
        Ok(Some(list))
    }

    /// Marks every cached ranking stale; called after any change to profiles, index or vectors.
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
        self.rank_text_with(text, language, k, filter, ranker, Effort::Compute)?
            .ok_or_else(|| Error::Internal("a computed shortlist came back empty-handed".into()))
    }

    fn rank_text_with(
        &self,
        text: &str,
        language: Option<Language>,
        k: usize,
        filter: &Filter,
        ranker: Ranker,
        effort: Effort,
    ) -> Result<Option<Shortlist>> {
        if k == 0 || k > MAX_K {
            return Err(UserError::BadArgument { field: "k".into(), message: format!("must be 1-{MAX_K}") }.into());
        }
        let language = language.unwrap_or_else(|| crate::domain::detect_language(text));
        let (mut scored, ranking, analysis) = match ranker {
            Ranker::Lexical if effort == Effort::CachedOnly => return Ok(None),
            Ranker::Lexical => {
                let analysis = Arc::new(QueryAnalysis::new(self.index.glossary(), text, language));
                let hits = self.index.search(&analysis.query, filter, k)?;
                let rows: Vec<RankedRow> = hits
                    .into_iter()
                    .map(|(id, bm25)| (id, bm25, ScoreBreakdown { bm25: Some(bm25), ..Default::default() }))
                    .collect();
                (rows, None, analysis)
            }
            Ranker::Dense | Ranker::Hybrid => {
                let cached = match effort {
                    Effort::Compute => self.query_ranking(text, language, ranker)?,
                    Effort::CachedOnly => match self.cached_ranking(text, language, ranker) {
                        Some(r) => r,
                        None => return Ok(None),
                    },
                };
                let vectors = self.read_vectors();
                let ranking = if cached.vectors_version == vectors.version() {
                    cached
                } else if effort == Effort::CachedOnly {
                    return Ok(None);
                } else {
                    // The vectors changed since the ranking was read: rank afresh under this lock.
                    let query_vec = self.query_vector(text)?;
                    let analysis = cached.analysis.clone();
                    Arc::new(self.compute_ranking(&vectors, cached.generation, &query_vec, analysis, ranker)?)
                };
                let analysis = ranking.analysis.clone();
                (ranking.top(&vectors, filter, k), Some(ranking), analysis)
            }
        };
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        scored.truncate(k);
        // Entries explained for this ranking before (under another filter or k) are reused.
        let mut results: Vec<Option<ShortlistEntry>> =
            scored.iter().map(|(id, _, _)| ranking.as_ref().and_then(|r| r.explained(id))).collect();
        let missing: Vec<String> =
            scored.iter().zip(&results).filter(|(_, e)| e.is_none()).map(|((id, _, _), _)| id.clone()).collect();
        if effort == Effort::CachedOnly && !missing.is_empty() {
            return Ok(None);
        }
        let profiles = self.store.profiles_by_id(&missing)?;
        if profiles.len() != missing.len() {
            return Err(Error::Internal("a ranked profile is missing from the store".into()));
        }
        let mut profiles = profiles.iter();
        for (i, ((_, score, scores), result)) in scored.into_iter().zip(&mut results).enumerate() {
            let entry = match result.take() {
                Some(entry) => entry,
                None => {
                    let profile =
                        profiles.next().ok_or_else(|| Error::Internal("profile lookup out of step".into()))?;
                    let entry = self.explained_entry(profile, score, scores, &analysis, ranker);
                    if let Some(r) = &ranking {
                        r.remember(&entry);
                    }
                    entry
                }
            };
            *result = Some(ShortlistEntry { rank: i + 1, ..entry });
        }
        let results = results.into_iter().flatten().collect();
        let title: String = text.chars().take(80).collect();
        Ok(Some(Shortlist { demand_id: None, organisation: None, title, language, ranker, results }))
    }

    /// A profile's shortlist entry with its explanation: the terms and passage that matched, the
    /// shared glossary concepts and the sentence for the organiser (rank set by the caller).
    fn explained_entry(
        &self,
        profile: &Profile,
        score: f32,
        mut scores: ScoreBreakdown,
        analysis: &QueryAnalysis,
        ranker: Ranker,
    ) -> ShortlistEntry {
        let lexical = explain::explain_analysed(profile, &self.analysed_profile(profile), &analysis.query);
        let passage = lexical.snippet.clone().or_else(|| best_passage_opening(profile, &scores));
        if ranker == Ranker::Hybrid {
            scores.shared_concepts = shared_concepts(self.index.glossary(), profile, &analysis.concepts);
        }
        let explanation = Explanation {
            reason: rank::reason(&scores, &lexical),
            scores,
            matched: lexical.matched,
            snippet: passage.as_ref().map(explain::Snippet::marked),
            passage,
        };
        rank::entry(0, profile, score, explanation)
    }

    /// `profile`'s text analysed for explanations, from the cache when it was analysed before in
    /// this form. A profile is explained in every shortlist it appears in (300 claims × 10 results
    /// over 300 SciFact abstracts stemmed each abstract ten times), and stemming is most of it.
    fn analysed_profile(&self, profile: &Profile) -> Arc<explain::AnalysedProfile> {
        let fingerprint = text_fingerprint(profile);
        let lock = || self.analysed_profiles.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((f, analysed)) = lock().by_id.get(&profile.id) {
            if *f == fingerprint {
                return analysed.clone();
            }
        }
        let analysed = Arc::new(explain::AnalysedProfile::new(profile));
        let mut cache = lock();
        // A full cache is emptied, and its contents freed after the lock is released: freeing a
        // quarter of a million strings takes milliseconds that other explanations should not wait.
        let dropped =
            (cache.tokens + analysed.token_count() > ANALYSED_CACHE_TOKENS).then(|| std::mem::take(&mut *cache));
        cache.tokens += analysed.token_count();
        if let Some((_, old)) = cache.by_id.insert(profile.id.clone(), (fingerprint, analysed.clone())) {
            cache.tokens -= old.token_count();
        }
        drop(cache);
        drop(dropped);
        analysed
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
            self.embedder()?.embed_passages(&[text])
        } else {
            self.embedder()?.embed_queries(&[text])
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

    /// A query's ranking of every embedded profile, from the cache when this text was ranked
    /// against the data as it still is. Concurrent requests for the same text wait for one
    /// computation (an organiser's dashboard opens a demand area's shortlist with several filters
    /// at once; each would otherwise score all profiles).
    fn query_ranking(&self, text: &str, language: Language, ranker: Ranker) -> Result<Arc<QueryRanking>> {
        let capacity = (RANKING_CACHE_ROWS / self.read_vectors().len().max(1)).clamp(4, RANKING_CACHE_MAX_ENTRIES);
        let slot = {
            let key = ranking_key(text, language, ranker);
            let mut cache = self.ranking_cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() >= capacity && !cache.contains_key(&key) {
                cache.clear();
            }
            cache.entry(key).or_default().clone()
        };
        let mut cached = slot.lock().unwrap_or_else(|p| p.into_inner());
        let generation = self.generation.load(Ordering::Acquire);
        if let Some(r) = cached.as_ref() {
            if r.generation == generation && r.vectors_version == self.read_vectors().version() {
                return Ok(r.clone());
            }
        }
        // The query is embedded before the vectors are locked: writers must not wait for it.
        let query_vec = self.query_vector(text)?;
        let vectors = self.read_vectors();
        let analysis = Arc::new(QueryAnalysis::new(self.index.glossary(), text, language));
        let ranking = Arc::new(self.compute_ranking(&vectors, generation, &query_vec, analysis, ranker)?);
        *cached = Some(ranking.clone());
        Ok(ranking)
    }

    /// The cached ranking of a text when it is valid for the data as it is, without computing or
    /// waiting for one.
    fn cached_ranking(&self, text: &str, language: Language, ranker: Ranker) -> Option<Arc<QueryRanking>> {
        let slot = self
            .ranking_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&ranking_key(text, language, ranker))?
            .clone();
        let cached = slot.try_lock().ok()?.clone()?;
        let valid = cached.generation == self.generation.load(Ordering::Acquire)
            && cached.vectors_version == self.read_vectors().version();
        valid.then_some(cached)
    }

    /// Scores every embedded profile (dense cosine, or the hybrid fusion) and sorts them, best
    /// first. Everything that normalises a score — the per-language cosine and BM25 statistics, the
    /// best concept BM25 — is taken over the whole collection, never the filtered part, so that a filter only
    /// removes rows and one ranking serves every filter and every `k`.
    ///
    /// At 100,000 profiles this is the costly step of a shortlist (tens of milliseconds): it works
    /// on plain numbers indexed by vector slot; explanations are built later, for the `k` returned.
    fn compute_ranking(
        &self,
        vectors: &VectorSet,
        generation: u64,
        query_vec: &[f32],
        analysis: Arc<QueryAnalysis>,
        ranker: Ranker,
    ) -> Result<QueryRanking> {
        let (query, query_concepts) = (&analysis.query, analysis.concepts.as_slice());
        let everyone = Filter::default();
        let (lexical_hits, concept_hits, coverage) = match ranker {
            Ranker::Hybrid => {
                let mentions: u32 = query_concepts.iter().map(|(_, n)| n).sum();
                let words: u32 = query.terms_for(query.language).iter().map(|(_, n)| n).sum();
                (
                    self.index.search(query, &everyone, HYBRID_LEXICAL_POOL)?,
                    self.index.search_concepts(query_concepts, &everyone, HYBRID_LEXICAL_POOL)?,
                    Some(if words == 0 { 0.0 } else { mentions as f32 / words as f32 }),
                )
            }
            _ => (Vec::new(), Vec::new(), None),
        };
        let hits = vectors.score_all(query_vec);
        // Raw BM25 and concept BM25 per vector slot; hits without vectors aside.
        let mut bm25_by_slot = vec![0f32; vectors.slot_count()];
        let mut bm25: HashMap<usize, f32> = HashMap::with_capacity(lexical_hits.len());
        let mut concept_bm25: HashMap<usize, f32> = HashMap::with_capacity(concept_hits.len());
        let mut lexical_without_vectors = Vec::new();
        for (id, score) in &lexical_hits {
            match vectors.slot_of(id) {
                Some(slot) => {
                    bm25_by_slot[slot] = *score;
                    bm25.insert(slot, *score);
                }
                None => lexical_without_vectors.push((id.clone(), *score)),
            }
        }
        for (id, score) in &concept_hits {
            if let Some(slot) = vectors.slot_of(id) {
                concept_bm25.insert(slot, *score);
            }
        }
        // Statistics of a signal per profile language (all profiles, hit or not), falling back to
        // the whole collection for languages with too few profiles to centre on.
        let by_language = |value: &dyn Fn(&DenseHit) -> f32| -> Vec<(Language, ScoreStats)> {
            let overall = ScoreStats::of(hits.iter().map(value));
            Language::ALL
                .iter()
                .map(|&l| {
                    let s = ScoreStats::of(hits.iter().filter(|h| vectors.language(h.slot) == l).map(value));
                    (l, if s.count >= hybrid::MIN_GROUP { s } else { overall })
                })
                .collect()
        };
        let cosine_stats = by_language(&|h| h.cosine);
        let bm25_stats = by_language(&|h| bm25_by_slot[h.slot]);
        let stats_of = |stats: &[(Language, ScoreStats)], language: Language| {
            stats.iter().find(|(l, _)| *l == language).map(|(_, s)| *s).unwrap_or_default()
        };
        let max_concept = concept_hits.first().map_or(0.0, |(_, s)| *s);
        let weights = FusionWeights {
            concepts: hybrid::concept_weight(self.weights.concepts, coverage.unwrap_or(0.0), query_concepts.len()),
            ..self.weights
        };
        let mut rows: Vec<RankedSlot> = hits
            .iter()
            .map(|h| {
                let language = vectors.language(h.slot);
                let cosines = stats_of(&cosine_stats, language);
                let lexical_stats = stats_of(&bm25_stats, language);
                let z = hybrid::dense_z(h.cosine, &cosines);
                let lexical = hybrid::lexical_z(bm25_by_slot[h.slot], &lexical_stats);
                let concept = hybrid::scaled_by_best(concept_bm25.get(&h.slot).copied().unwrap_or(0.0), max_concept);
                let score = match ranker {
                    Ranker::Hybrid => hybrid::fuse(z, lexical, concept, &weights),
                    _ => h.cosine,
                };
                RankedSlot {
                    hit: *h,
                    score,
                    z,
                    lexical,
                    concept,
                    language_mean: cosines.mean,
                    bm25_language_mean: lexical_stats.mean,
                }
            })
            .collect();
        // Best first, ties by profile id: the order rank_text keeps.
        rows.sort_unstable_by(|a, b| {
            b.score.total_cmp(&a.score).then_with(|| vectors.profile_id(a.hit.slot).cmp(vectors.profile_id(b.hit.slot)))
        });
        // Profiles still waiting for their vectors compete on their lexical score alone.
        let mut pending = Vec::new();
        if !lexical_without_vectors.is_empty() {
            let ids: Vec<String> = lexical_without_vectors.iter().map(|(id, _)| id.clone()).collect();
            let profiles: HashMap<String, Profile> =
                self.store.profiles_by_id(&ids)?.into_iter().map(|p| (p.id.clone(), p)).collect();
            for (id, bm25) in lexical_without_vectors {
                if let Some(profile) = profiles.get(&id) {
                    let lexical_stats = stats_of(&bm25_stats, profile.language);
                    let lexical = hybrid::lexical_z(bm25, &lexical_stats);
                    let score = hybrid::fuse(0.0, lexical, 0.0, &weights);
                    let facets = Facets::of(profile);
                    let bm25_language_mean = lexical_stats.mean;
                    pending.push(PendingHit { facets, id, score, bm25, lexical, bm25_language_mean });
                }
            }
        }
        let row_facets = rows.iter().map(|r| *vectors.facets(r.hit.slot)).collect();
        Ok(QueryRanking {
            generation,
            vectors_version: vectors.version(),
            ranker,
            coverage,
            rows,
            row_facets,
            bm25,
            concept_bm25,
            pending,
            analysis,
            explained: std::sync::Mutex::new(HashMap::new()),
        })
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
        self.embedder()?.embed_passages(texts).map_err(|e| Error::Embed(e.to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Kind;

    #[test]
    fn text_fingerprint_follows_the_explained_text_only() {
        let p = Profile {
            id: "p".into(),
            name: "Lumen".into(),
            kind: Kind::Company,
            size: None,
            city: None,
            language: Language::En,
            summary: "Lidar sensors.".into(),
            innovations: vec!["Radar fusion".into()],
            keywords: vec!["lidar".into()],
            themes: vec![],
            trl: None,
            website: None,
            contact_email: None,
        };
        let base = text_fingerprint(&p);
        assert_eq!(text_fingerprint(&Profile { city: Some("Eindhoven".into()), trl: Some(5), ..p.clone() }), base);
        for changed in [
            Profile { summary: "Lidar sensors for fog.".into(), ..p.clone() },
            Profile { innovations: vec!["Radar".into(), "fusion".into()], ..p.clone() },
            Profile { keywords: vec![], ..p.clone() },
            Profile { name: "Lumen BV".into(), ..p.clone() },
            Profile { language: Language::Nl, ..p.clone() },
        ] {
            assert_ne!(text_fingerprint(&changed), base, "{changed:?}");
        }
    }

    /// The fixed embedder drives the whole dense path without model files, and its vectors are
    /// stored under their own name, so a later engine with the model recomputes them all.
    #[test]
    fn a_fixed_embedder_ranks_densely_and_keeps_its_vectors_apart() {
        let dir = tempfile::tempdir().unwrap();
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/profiles.jsonl");
        let config = EngineConfig { embedder: EmbedderChoice::Fixed, ..EngineConfig::new(&dir.path().join("data")) };
        let engine = Engine::open_with(&config).unwrap();
        assert_eq!(engine.embedder().unwrap().dim(), crate::embed::FixedEmbedder::DIM);
        let report = engine.import(&ImportFiles { profiles: Some(demo), demands: None, events: None }).unwrap();
        let ids: Vec<String> = engine
            .rank_text("hydrogen pressure vessels", Some(Language::En), 5, &Filter::default(), Ranker::Dense)
            .unwrap()
            .results
            .into_iter()
            .map(|e| e.profile_id)
            .collect();
        assert_eq!(ids.len(), 5);
        let first = engine.profile(&ids[0]).unwrap().unwrap();
        let text = crate::search::profile_text(&first).to_lowercase();
        assert!(text.contains("hydrogen") || text.contains("waterstof"), "{text}");
        drop(engine);
        let store = Store::open(&dir.path().join("data/pitchmatch.sqlite")).unwrap();
        let model = EmbedderChoice::E5.model_id();
        assert_eq!(store.profiles_needing_vectors(model, 384).unwrap().len(), report.profiles);
        assert!(store.profiles_needing_vectors(EmbedderChoice::Fixed.model_id(), 384).unwrap().is_empty());
    }
}
