//! The engine is the one handle the CLI, the HTTP service and the tests share, and a thin facade
//! over parts with one job each: the [`indexer`] owns the write path (store, then index, then
//! vectors, under one lock, with a background queue for vectors); [`usecases`] are what users can do
//! to the data ([`access`] to tokens, [`curation`] and [`line_up`] to an event's line-up,
//! [`backup`] to the whole store); [`shortlists`] rank and explain, over the [`rankings`] cache that
//! takes in changed profiles instead of starting over; the [`explainer`] keeps each profile's
//! analysed text; [`selection`] turns rankings into an event line-up; [`import_files`] validates
//! batch files.

mod access;
mod agenda;
mod backup;
mod changes;
mod curation;
mod decisions;
mod duplicates;
mod evaluate;
mod explainer;
mod export;
mod feedback;
mod import_files;
mod indexer;
mod learn;
mod line_up;
mod rankings;
mod scoring;
mod selection;
mod shortlists;
#[cfg(test)]
mod tests;
mod usecases;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use self::access::{API_TOKEN_PREFIX, EDIT_TOKEN_PREFIX};
pub use self::agenda::AgendaMove;
pub use self::curation::{rules_for_event, MAX_EVENT_RULES};
pub use self::decisions::{for_reviewer, rfc3339_now};
pub use self::duplicates::{DuplicatePair, MergeReport, PairMember};
use self::explainer::Explainer;
pub use self::export::{ExportEmbeddings, ExportStatus, ExportToken, ProfileExport};
pub use self::feedback::likeness_text;
pub use self::import_files::{ImportFiles, ImportOptions, ImportReport};
use self::indexer::Indexer;
pub use self::learn::{why_not_keep, LearnReport, LEARNING_DEPTH, MAX_SLICE_LOSS};
use self::rankings::RankingCache;
pub use self::rankings::{RefreshPolicy, MAX_AGE, MAX_CHANGES_TAKEN};
pub use self::selection::{selection_value, SelectionStep};
pub use self::usecases::{Actor, PendingSubmission};
use crate::domain::{Language, Profile};
use crate::embed::{Embedder, EmbedderChoice, VectorSet};
use crate::error::{Error, Result, UserError};
use crate::rank::hybrid::FusionWeights;
use crate::search::{Glossary, InducedConcepts, SearchIndex};
use crate::store::Store;

/// Largest shortlist anyone may ask for.
pub const MAX_K: usize = 1000;

/// Query embeddings kept (texts repeat; each is 1.5 KB).
const QUERY_CACHE_ENTRIES: u64 = 4096;

/// Profiles read from the store per query while loading the vectors at startup.
const STARTUP_PROFILE_CHUNK: usize = 4096;

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
    /// When the data dir keeps no induced concepts (one from before them, a store filled by other
    /// means, a damaged `induced.tsv`), induce them while opening. Off for a command that induces
    /// them itself right after opening (`import`), so that the collection is not embedded twice.
    pub induce_missing_concepts: bool,
    /// How long after a profile or demand area is written through the engine the concepts are
    /// induced from the collection again, in the background; `None` (the default): only by an
    /// import or `reindex`. The server uses [`REALIGN_AFTER`].
    pub realign_after: Option<Duration>,
}

/// How long the server waits after a profile or demand area is written before it induces the
/// concepts again: a burst of submissions costs one induction, and a new topic's words are
/// aligned across languages within minutes instead of at the next import.
pub const REALIGN_AFTER: Duration = Duration::from_secs(300);

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
            induce_missing_concepts: true,
            realign_after: None,
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
    indexer: Arc<Indexer>,
    /// The background embedder's thread (none when embedding is deferred).
    embedder: Option<std::thread::JoinHandle<()>>,
    explainer: Explainer,
    rankings: RankingCache,
    query_vectors: moka::sync::Cache<String, Arc<Vec<f32>>>,
    weights: FusionWeights,
    feedback: crate::rank::feedback::FeedbackWeights,
}

impl Engine {
    /// Opens (creating) the data dir with default settings; see [`Engine::open_with`].
    pub fn open(data_dir: &Path) -> Result<Engine> {
        Engine::open_with(&EngineConfig::new(data_dir))
    }

    /// Opens (creating) the data dir and brings the index and the vectors up to date with the
    /// store (the model is loaded only when something needs embedding).
    pub fn open_with(config: &EngineConfig) -> Result<Engine> {
        let data_dir = &config.data_dir;
        let store_path = data_dir.join("pitchmatch.sqlite");
        let glossary = Arc::new(Glossary::load(&config.models_dir)?);
        let induced_path = data_dir.join(INDUCED_FILE);
        let kept_induced = load_induced(&induced_path)?;
        let induce_at_open = kept_induced.is_none();
        let induced = Arc::new(kept_induced.unwrap_or_default());
        let (store, index) = match config.access {
            Access::ReadWrite => {
                std::fs::create_dir_all(data_dir)?;
                let store = Store::open(&store_path)?;
                let index =
                    SearchIndex::open(&data_dir.join("tantivy"), glossary.clone(), induced.clone()).map_err(|e| {
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
                (store, SearchIndex::open_read_only(&data_dir.join("tantivy"), glossary.clone(), induced)?)
            }
        };
        let model_id = config.embedder.model_id();
        let dim = config
            .embedder
            .dim(&config.models_dir)
            .map_err(|e| Error::Embed(format!("reading the model config in {}: {e}", config.models_dir.display())))?;
        let vectors = if config.defer_embedding { VectorSet::new(dim) } else { load_vectors(&store, model_id, dim)? };
        let writes = config.access == Access::ReadWrite;
        let indexer = Arc::new(Indexer::new(
            store,
            index,
            vectors,
            indexer::EmbedderSource {
                choice: config.embedder,
                models_dir: config.models_dir.clone(),
                threads: config.threads,
            },
            config.defer_embedding || !writes,
            induced_path.clone(),
            config.realign_after,
        ));
        if writes {
            let _writes = indexer.lock_writes();
            if induce_at_open && config.induce_missing_concepts {
                // A data dir from before induced concepts, or whose file was removed or damaged.
                // Induced before the catch-up, which then has nothing left to index.
                indexer.induce_concepts()?;
            }
            indexer.catch_up_index()?;
            indexer.embed_stale()?;
        }
        let embedder = (writes && !config.defer_embedding).then(|| {
            let indexer = indexer.clone();
            std::thread::Builder::new().name("pitchmatch-embedder".into()).spawn(move || indexer.run_queue())
        });
        let embedder = embedder.transpose()?;
        Ok(Engine {
            data_dir: data_dir.to_path_buf(),
            indexer,
            embedder,
            explainer: Explainer::new(glossary),
            rankings: RankingCache::default(),
            query_vectors: moka::sync::Cache::new(QUERY_CACHE_ENTRIES),
            weights: FusionWeights::default(),
            feedback: crate::rank::feedback::FeedbackWeights::default(),
        })
    }

    /// The embedder, loaded on first use.
    pub fn embedder(&self) -> Result<&Embedder> {
        self.indexer.embedder()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Blocks until every profile written so far has its vectors (or failed to get them). Writes
    /// return before their vectors are computed; a caller that needs dense scores for a profile it
    /// just wrote (a test, a batch script) waits here.
    pub fn wait_for_vectors(&self) {
        self.indexer.wait_for_vectors();
    }

    /// Brings the index up to date after a committed single-record write and queues the changed
    /// profiles for their vectors. The write already stands (and the index catches up on the next
    /// write or restart), so a failure here is logged, not returned. Call under the write lock.
    fn after_profile_write(&self) {
        match self.indexer.catch_up_index() {
            Ok(changed) => {
                for id in &changed {
                    self.explainer.forget(id);
                }
                self.indexer.queue_for_vectors(changed);
                self.indexer.note_text_written();
            }
            Err(e) => tracing::error!(error = %e, "index catch-up after a store write failed"),
        }
    }

    /// Induces the concepts across languages afresh, drops the index and rebuilds it from the store.
    pub fn reindex(&self) -> Result<usize> {
        let _writes = self.indexer.lock_writes();
        match self.indexer.induce_concepts()? {
            Some(indexed) => Ok(indexed),
            None => self.indexer.rebuild_index(),
        }
    }

    /// The concepts induced from the collection that the index holds now.
    pub fn induced_concepts(&self) -> Arc<InducedConcepts> {
        self.indexer.index.induced()
    }

    /// Checks that the index holds exactly the stored profiles. Returns (missing, extra) ids.
    pub fn index_consistency(&self) -> Result<(Vec<String>, Vec<String>)> {
        let indexed = self.indexer.index.all_ids()?;
        let stored: Vec<String> = self.indexer.store.all_profiles()?.into_iter().map(|p| p.id).collect();
        let missing = stored.iter().filter(|id| indexed.binary_search(id).is_err()).cloned().collect();
        let extra = indexed.iter().filter(|id| stored.binary_search(id).is_err()).cloned().collect();
        Ok((missing, extra))
    }

    /// One unit vector per embedded profile (the mean of its passage vectors), as `(profile id,
    /// vector)`, for the landscape map. Profiles whose vectors are still being computed are absent.
    pub fn profile_vectors(&self) -> Vec<(String, Vec<f32>)> {
        self.indexer.read_vectors().mean_vectors()
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
            self.explainer.glossary().concept_ids(language, text).into_iter().map(str::to_string).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // The embedder holds the store and the index: it must be gone before the data dir can be
        // opened again (tantivy's writer lock). A queued profile it did not reach is embedded on
        // the next open, like after a crash.
        self.indexer.stop_queue();
        if let Some(thread) = self.embedder.take() {
            let _ = thread.join();
        }
    }
}

/// The file of a data dir that keeps the concepts induced from its collection.
pub const INDUCED_FILE: &str = "induced.tsv";

/// The induced concepts kept in `path`; `None` when the file is missing or does not parse (it is
/// derived data: a writer induces them again, a reader goes without).
fn load_induced(path: &Path) -> Result<Option<InducedConcepts>> {
    match std::fs::read_to_string(path) {
        Ok(text) => match InducedConcepts::parse(&text) {
            Ok(induced) => Ok(Some(induced)),
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "induced concepts unreadable");
                Ok(None)
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The stored vectors that are current, in one matrix sized once. Profiles are read a chunk at a
/// time: only their language and facets are kept, and all 100,000 at once would add a few hundred
/// MB to the startup peak.
fn load_vectors(store: &Store, model_id: &str, dim: usize) -> Result<VectorSet> {
    let stored = store.current_vectors(model_id, dim)?;
    let mut vectors = VectorSet::new(dim);
    vectors.reserve(stored.iter().map(|v| v.passages.len()).sum(), stored.len());
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
    Ok(vectors)
}
