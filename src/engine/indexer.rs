//! The write path: the store is the truth, the search index and the vectors are derived from it,
//! and the indexer keeps them in step — in one order (commit, then index, then vectors), under one
//! lock, so that change sets are applied in sequence. A single write commits and updates the index
//! at once, but its vectors follow from a background queue: embedding a large profile takes
//! seconds, and no other write, let alone a read, should wait for it. Until its vectors arrive a
//! new or replaced profile ranks on its lexical score. A crash loses no vector for good: vectors are stored with the change sequence number of
//! the profile version they came from, and opening the engine embeds whatever is missing or stale.
//! The concepts induced across languages follow the collection too, on the same background thread
//! and at a slower pace (see [`Indexer::note_text_written`]): a profile or a demand area written
//! through the service may bring a topic whose words no concept aligns yet.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use super::changes::ChangeLog;
use crate::domain::{Language, Profile};
use crate::embed::{profile_passages, Embedder, EmbedderChoice, VectorSet};
use crate::error::{Error, Result};
use crate::induction;
use crate::search::{profile_text, InducedConcepts, SearchIndex};
use crate::store::Store;

/// Profiles embedded per batch during imports and catch-up (bounds memory, keeps progress committed).
const EMBED_CHUNK: usize = 256;

/// Profiles the background queue embeds per step: small, so that the newest version of a profile
/// that keeps changing is picked up soon.
const QUEUE_STEP: usize = 8;

/// Profiles beyond which the server leaves the induction of concepts after writes to `import` and
/// `reindex`: the index is rebuilt under the write lock, which at 100,000 generated profiles holds
/// every write for many seconds and sends every cached ranking to be computed again (see
/// `docs/benchmarks.md`). At 10,000 the rebuild takes about a second; the collections of an
/// innovation programme are far smaller.
pub const MAX_REALIGNED_PROFILES: u64 = 10_000;

/// Changes the log lists (rankings older than that are computed afresh).
const CHANGE_LOG_CAPACITY: usize = 1024;

/// Profile ids waiting for their vectors.
#[derive(Default)]
struct Queue {
    waiting: BTreeSet<String>,
    busy: bool,
    stop: bool,
    /// When the concepts are to be induced again: set by the first text written after they were.
    realign_at: Option<Instant>,
}

impl Queue {
    /// True when the concepts are due to be induced again.
    fn realign_due(&self, now: Instant) -> bool {
        self.realign_at.is_some_and(|at| at <= now)
    }
}

/// Concepts induced afresh that differ from those the index holds, with the `induced.tsv` text
/// that keeps them.
pub(super) struct FreshConcepts {
    concepts: InducedConcepts,
    file: String,
}

/// Which embedder to load, from where, with how many threads.
pub(super) struct EmbedderSource {
    pub(super) choice: EmbedderChoice,
    pub(super) models_dir: PathBuf,
    pub(super) threads: usize,
}

/// The store, the index and the vectors, and the lock that orders writes to them.
pub(super) struct Indexer {
    pub(super) store: Store,
    pub(super) index: SearchIndex,
    vectors: RwLock<VectorSet>,
    changes: Mutex<ChangeLog>,
    write_lock: Mutex<()>,
    queue: Mutex<Queue>,
    queue_changed: Condvar,
    /// Loaded on first use: lexical-only commands never need it, and loading it costs about as
    /// much as a lexical `rank --all` of 300 queries.
    embedder: OnceLock<Embedder>,
    embedder_loading: Mutex<()>,
    source: EmbedderSource,
    /// Name stored with the vectors, from the embedder choice.
    model_id: &'static str,
    pub(super) dim: usize,
    pub(super) defer_embedding: bool,
    /// Where the induced concepts are kept (`induced.tsv` beside the store).
    induced_path: PathBuf,
    /// How long after a text is written the concepts are induced again; `None`: only by an
    /// import or `reindex`.
    realign_after: Option<Duration>,
    /// Profiles erased so far. Concepts induced from a snapshot taken before an erasure may hold
    /// the erased profile's words, and are then not kept.
    erasures: AtomicU64,
}

impl Indexer {
    /// An indexer over opened parts; `vectors` holds what the store had.
    pub(super) fn new(
        store: Store,
        index: SearchIndex,
        vectors: VectorSet,
        source: EmbedderSource,
        defer_embedding: bool,
        induced_path: PathBuf,
        realign_after: Option<Duration>,
    ) -> Indexer {
        let dim = vectors.dim();
        Indexer {
            store,
            index,
            vectors: RwLock::new(vectors),
            changes: Mutex::new(ChangeLog::new(CHANGE_LOG_CAPACITY)),
            write_lock: Mutex::new(()),
            queue: Mutex::new(Queue::default()),
            queue_changed: Condvar::new(),
            embedder: OnceLock::new(),
            embedder_loading: Mutex::new(()),
            model_id: source.choice.model_id(),
            source,
            dim,
            defer_embedding,
            induced_path,
            realign_after,
            erasures: AtomicU64::new(0),
        }
    }

    /// The embedder, loaded on first use.
    pub(super) fn embedder(&self) -> Result<&Embedder> {
        if let Some(embedder) = self.embedder.get() {
            return Ok(embedder);
        }
        // One thread loads; the others wait for it instead of loading the model again.
        let _loading = self.embedder_loading.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(embedder) = self.embedder.get() {
            return Ok(embedder);
        }
        let source = &self.source;
        let embedder = source
            .choice
            .load(&source.models_dir, source.threads)
            .map_err(|e| Error::Embed(format!("loading the model from {}: {e}", source.models_dir.display())))?;
        Ok(self.embedder.get_or_init(|| embedder))
    }

    /// Taken by every write for its whole length. The guarded data is `()`: a panic elsewhere
    /// cannot leave it inconsistent.
    pub(super) fn lock_writes(&self) -> MutexGuard<'_, ()> {
        self.write_lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn read_vectors(&self) -> RwLockReadGuard<'_, VectorSet> {
        self.vectors.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_vectors(&self) -> RwLockWriteGuard<'_, VectorSet> {
        // VectorSet updates are single assignments; a panic elsewhere cannot leave it torn.
        self.vectors.write().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn changes(&self) -> MutexGuard<'_, ChangeLog> {
        self.changes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of the latest change to the profiles, their index entries or their vectors.
    pub(super) fn latest_change(&self) -> u64 {
        self.changes().latest()
    }

    /// Applies store changes the index has not seen, drops the vectors of changed and deleted
    /// profiles and records every changed id. Returns the ids whose vectors are now stale. Call under the write lock.
    pub(super) fn catch_up_index(&self) -> Result<Vec<String>> {
        self.catch_up(None)
    }

    /// [`Indexer::catch_up_index`]; with `new_concepts`, the index instead takes them and is
    /// rebuilt from the store, which applies the changes it had not seen in the same pass: one
    /// indexing of every profile, not one for the changes and another for the concepts.
    fn catch_up(&self, new_concepts: Option<FreshConcepts>) -> Result<Vec<String>> {
        let applied = self.index.applied_seq()?;
        if self.store.profile_seq()? <= applied && new_concepts.is_none() {
            return Ok(Vec::new());
        }
        let changes = self.store.profile_changes_since(applied)?;
        match new_concepts {
            None => self.index.apply(&changes)?,
            Some(fresh) => {
                // The file first: the index is stamped with the concepts only once rebuilt with
                // them, so a crash in between makes the next open rebuild it from the file.
                crate::search::write_atomically(&self.induced_path, &fresh.file)?;
                let profiles = self.store.all_profiles()?;
                self.index.replace_induced(Arc::new(fresh.concepts), &profiles, changes.up_to)?;
                self.changes().record_everything();
            }
        }
        if !changes.deleted.is_empty() {
            self.store.forget_tombstones(changes.up_to)?;
        }
        // A rebuilt index replays profiles whose stored vectors still hold; those keep them.
        let upserted: Vec<String> = changes.upserted.iter().map(|p| p.id.clone()).collect();
        let current = self.store.ids_with_current_vectors(self.model_id, self.dim, &upserted)?;
        let current: std::collections::HashSet<&str> = current.iter().map(String::as_str).collect();
        let mut vectors = self.write_vectors();
        let mut log = self.changes();
        for id in &changes.deleted {
            vectors.remove(id);
            log.record(id);
        }
        let mut stale = Vec::with_capacity(upserted.len());
        for id in upserted {
            if !current.contains(id.as_str()) {
                // The old vectors describe a text that is gone: until the new ones arrive the
                // profile ranks on its lexical score, as one that never had vectors.
                vectors.remove(&id);
                stale.push(id.clone());
            }
            log.record(&id);
        }
        Ok(stale)
    }

    /// Embeds, now, every profile whose stored vectors are missing or stale (after a crash, or
    /// another process's import). Call under the write lock.
    pub(super) fn embed_stale(&self) -> Result<()> {
        if self.defer_embedding {
            return Ok(());
        }
        let stale = self.store.profiles_needing_vectors(self.model_id, self.dim)?;
        let ids: Vec<String> = stale.into_iter().map(|(id, _)| id).collect();
        for chunk in ids.chunks(EMBED_CHUNK) {
            let seqs = self.current_seqs(chunk)?;
            let profiles = self.store.profiles_by_id(chunk)?;
            self.embed_and_keep(&profiles, &seqs)?;
        }
        Ok(())
    }

    /// Embeds `profiles` (of the versions numbered `seqs`, id order) and keeps their vectors, in
    /// the store and in the matrix.
    fn embed_and_keep(&self, profiles: &[Profile], seqs: &[(String, u64)]) -> Result<()> {
        let vectors = self.embed(profiles)?;
        self.keep_vectors(profiles, seqs, vectors)
    }

    /// The passage vectors of each profile.
    fn embed(&self, profiles: &[Profile]) -> Result<Vec<Vec<Vec<f32>>>> {
        let passages: Vec<Vec<String>> = profiles.iter().map(profile_passages).collect();
        let flat: Vec<&str> = passages.iter().flatten().map(String::as_str).collect();
        let mut vecs = self.embedder()?.embed_passages(&flat).map_err(|e| Error::Embed(e.to_string()))?.into_iter();
        Ok(passages.iter().map(|texts| vecs.by_ref().take(texts.len()).collect()).collect())
    }

    /// Stores vectors computed from the profile versions in `seqs` and puts them in the matrix,
    /// skipping profiles that changed (or went) since: their newer version is queued.
    fn keep_vectors(&self, profiles: &[Profile], seqs: &[(String, u64)], vectors: Vec<Vec<Vec<f32>>>) -> Result<()> {
        let ids: Vec<String> = profiles.iter().map(|p| p.id.clone()).collect();
        let current = self.store.profile_seqs(&ids)?;
        let mut items = Vec::with_capacity(profiles.len());
        let mut kept = Vec::with_capacity(profiles.len());
        let embedded_from: std::collections::HashMap<&str, u64> =
            seqs.iter().map(|(id, s)| (id.as_str(), *s)).collect();
        for ((p, v), now) in profiles.iter().zip(vectors).zip(current) {
            let embedded_from = embedded_from.get(p.id.as_str()).copied();
            if now.is_some() && now == embedded_from {
                items.push((p.id.clone(), now.unwrap_or_default(), v));
                kept.push(p);
            }
        }
        self.store.put_vectors(self.model_id, self.dim, &items)?;
        let mut matrix = self.write_vectors();
        let mut log = self.changes();
        for (p, (_, _, v)) in kept.into_iter().zip(&items) {
            matrix.upsert(p, v);
            log.record(&p.id);
        }
        Ok(())
    }

    /// Stores profiles (a batch import) and indexes and embeds them now; see
    /// [`Indexer::index_import`]. Call under the write lock.
    #[cfg(test)]
    pub(super) fn import_profiles(&self, profiles: &[Profile], compact: bool) -> Result<()> {
        self.store.upsert_profiles(profiles)?;
        self.index_import(compact)
    }

    /// After a batch import has stored its records: induces the concepts afresh, brings the index
    /// up to date (rebuilt once when the concepts changed) and embeds the new profiles now. With
    /// `compact`, an index left holding replaced versions is rebuilt from the store so that its
    /// BM25 statistics equal a fresh index's (tantivy's merge keeps some statistics of deleted
    /// documents). The records stand whatever happens here: concepts that could not be induced
    /// are induced by the next import or `reindex`, and until then the index keeps the ones it
    /// has. Call under the write lock.
    pub(super) fn index_import(&self, compact: bool) -> Result<()> {
        let new_concepts = self.induce_changed_concepts().unwrap_or_else(|e| {
            tracing::error!(error = %e, "inducing concepts after the import failed");
            None
        });
        let rebuilt = new_concepts.is_some();
        self.catch_up(new_concepts)?;
        if compact && !rebuilt && self.index.has_deletes() {
            self.rebuild_index()?;
        }
        self.embed_stale()
    }

    /// Deletes a profile from the store, the index and the vectors, and erases it from their files.
    /// False when it did not exist.
    /// Call under the write lock.
    pub(super) fn remove_profile(&self, id: &str) -> Result<bool> {
        let gone = self.store.profiles_by_id(&[id.to_string()])?.pop();
        if !self.store.delete_profile(id)? {
            return Ok(false);
        }
        self.erasures.fetch_add(1, Ordering::SeqCst);
        self.catch_up_index()?;
        // The index only marks the document deleted; its words stay on disk until merged away.
        self.index.purge_deleted()?;
        if let Some(profile) = gone {
            self.forget_induced_terms_of(&profile)?;
        }
        Ok(true)
    }

    /// Drops from the induced concepts (and `induced.tsv`) the terms of a deleted profile that no
    /// remaining profile or demand area mentions: the file must not keep a deleted profile's words
    /// any more than the index does. No remaining text mentions them, so every indexed document
    /// stays as it is and the index is only stamped with the smaller concepts, not rebuilt.
    fn forget_induced_terms_of(&self, profile: &Profile) -> Result<()> {
        let induced = self.index.induced();
        let language = profile.language;
        let mentions = induced.mentions(language, &profile_text(profile));
        let mut own: HashSet<&str> = mentions.iter().map(|(_, term)| *term).collect();
        for demand in self.store.all_demands()?.iter().filter(|d| d.language == language) {
            for (_, term) in induced.mentions(language, &demand.query_text()) {
                own.remove(term);
            }
        }
        let mut terms_by_concept: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for (concept, term) in mentions {
            if own.contains(term) {
                terms_by_concept.entry(concept).or_default().push(term);
            }
        }
        // Every remaining profile is indexed with the concepts it mentions under these very
        // concepts, so a term can only be in the profiles indexed with its concept, and one of
        // them that mentions it is enough: read them one at a time, each once, and stop there.
        let mut read: HashSet<String> = HashSet::new();
        for (concept, terms) in &terms_by_concept {
            for id in self.index.ids_mentioning_induced(std::slice::from_ref(concept), Some(language))? {
                if terms.iter().all(|t| !own.contains(t)) {
                    break;
                }
                if !read.insert(id.clone()) {
                    continue;
                }
                for other in self.store.profiles_by_id(&[id])? {
                    for (_, term) in induced.mentions(language, &profile_text(&other)) {
                        own.remove(term);
                    }
                }
            }
        }
        if own.is_empty() {
            return Ok(());
        }
        let smaller = induced.without_terms(language, &own);
        crate::search::write_atomically(&self.induced_path, &smaller.to_tsv())?;
        self.index.restamp_induced(Arc::new(smaller))
    }

    /// Drops the index and rebuilds it from the store. Call under the write lock.
    pub(super) fn rebuild_index(&self) -> Result<usize> {
        let seq = self.store.profile_seq()?;
        let profiles = self.store.all_profiles()?;
        self.index.rebuild(&profiles, seq)?;
        self.changes().record_everything();
        Ok(profiles.len())
    }

    /// Induces the collection's concepts afresh and, when they changed, brings the index up to
    /// date with them ([`Indexer::induce_changed_concepts`]). Returns the number of profiles
    /// indexed again when the index was rebuilt. Call under the write lock.
    pub(super) fn induce_concepts(&self) -> Result<Option<usize>> {
        let Some(concepts) = self.induce_changed_concepts()? else { return Ok(None) };
        self.catch_up(Some(concepts))?;
        Ok(Some(self.index.num_docs() as usize))
    }

    /// Induces the collection's concepts afresh from every profile and demand area
    /// ([`crate::induction`]). Returns them when they differ from those the index holds, or when
    /// none were kept yet; `None` when they are the same, and without the model (embedding
    /// deferred), where the concepts stay as they are.
    pub(super) fn induce_changed_concepts(&self) -> Result<Option<FreshConcepts>> {
        if self.defer_embedding {
            return Ok(None);
        }
        let started = std::time::Instant::now();
        let profiles = self.store.all_profiles()?;
        let demands = self.store.all_demands()?;
        let texts: Vec<(Language, String)> = profiles
            .iter()
            .map(|p| (p.language, profile_text(p)))
            .chain(demands.iter().map(|d| (d.language, d.query_text())))
            .collect();
        drop(profiles);
        let texts: Vec<(Language, &str)> = texts.iter().map(|(l, t)| (*l, t.as_str())).collect();
        let induced = induction::induce(&texts, |batch| {
            self.embedder()?.embed_queries(batch).map_err(|e| Error::Embed(e.to_string()))
        })?;
        let took = started.elapsed().as_secs_f32();
        let file = induced.to_tsv();
        let kept = std::fs::read_to_string(&self.induced_path).ok();
        if induced == *self.index.induced() && kept.as_deref() == Some(file.as_str()) {
            tracing::info!(concepts = induced.len(), seconds = took, "induced concepts unchanged");
            return Ok(None);
        }
        tracing::info!(concepts = induced.len(), seconds = took, "induced concepts across languages changed");
        Ok(Some(FreshConcepts { concepts: induced, file }))
    }

    /// Queues profiles for the background embedder.
    pub(super) fn queue_for_vectors(&self, ids: Vec<String>) {
        if self.defer_embedding || ids.is_empty() {
            return;
        }
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        queue.waiting.extend(ids);
        self.queue_changed.notify_all();
    }

    /// Records that a profile or demand area was written through the service: its words may
    /// need concepts the collection did not have. The background thread induces them again once
    /// `realign_after` has passed since the first such write, so that a burst of submissions
    /// costs one induction (embedding every candidate term: a few seconds for a few hundred
    /// profiles, some fifteen at 100,000) and one index rebuild, not one per write.
    pub(super) fn note_text_written(&self) {
        let Some(after) = self.realign_after else { return };
        if self.defer_embedding {
            return;
        }
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if queue.realign_at.is_none() {
            queue.realign_at = Some(Instant::now() + after);
            self.queue_changed.notify_all();
        }
    }

    /// Blocks until every queued profile has its vectors (or failed to get them), and the
    /// concepts, when due to be induced again, have been.
    pub(super) fn wait_for_vectors(&self) {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        while (!queue.waiting.is_empty() || queue.busy || queue.realign_due(Instant::now())) && !queue.stop {
            queue = self.queue_changed.wait(queue).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Tells the background embedder to finish its step and end.
    pub(super) fn stop_queue(&self) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).stop = true;
        self.queue_changed.notify_all();
    }

    /// The background embedder: takes a few queued ids at a time, embeds the profiles' current
    /// versions outside the write lock, and keeps the vectors under it unless the profile changed
    /// meanwhile (its newer version is then queued already). Runs until [`Indexer::stop_queue`].
    pub(super) fn run_queue(self: Arc<Self>) {
        loop {
            let step: Vec<String> = {
                let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
                loop {
                    if queue.stop || !queue.waiting.is_empty() {
                        break;
                    }
                    let now = Instant::now();
                    match queue.realign_at {
                        Some(at) if at <= now => break,
                        Some(at) => {
                            queue =
                                self.queue_changed.wait_timeout(queue, at - now).unwrap_or_else(|p| p.into_inner()).0;
                        }
                        None => queue = self.queue_changed.wait(queue).unwrap_or_else(|p| p.into_inner()),
                    }
                }
                if queue.stop {
                    return;
                }
                if queue.waiting.is_empty() {
                    // Vectors first: the concepts are induced again only when none are waiting.
                    queue.realign_at = None;
                }
                let step: Vec<String> = queue.waiting.iter().take(QUEUE_STEP).cloned().collect();
                for id in &step {
                    queue.waiting.remove(id);
                }
                queue.busy = true;
                step
            };
            let done = if step.is_empty() { self.realign() } else { self.embed_step(&step) };
            if let Err(e) = done {
                // Vectors stay stale in the store, concepts as they were; the next write of the
                // profile or the next start embeds them, the next import or `reindex` induces them.
                tracing::error!(error = %e, "background embedding failed");
            }
            self.queue.lock().unwrap_or_else(|p| p.into_inner()).busy = false;
            self.queue_changed.notify_all();
        }
    }

    /// Induces the concepts afresh from what the store holds now, outside the write lock (it
    /// embeds thousands of terms), and, under it, rebuilds the index with them when they
    /// changed, unless a profile was erased meanwhile: its words may be among them, and the next
    /// write schedules another try.
    fn realign(&self) -> Result<()> {
        let profiles = self.index.num_docs();
        if profiles > MAX_REALIGNED_PROFILES {
            tracing::info!(profiles, "concepts are induced again by the next import or reindex at this size");
            return Ok(());
        }
        let erasures = self.erasures.load(Ordering::SeqCst);
        let Some(fresh) = self.induce_changed_concepts()? else { return Ok(()) };
        let _writes = self.lock_writes();
        if self.erasures.load(Ordering::SeqCst) != erasures {
            tracing::info!("a profile was erased while the concepts were induced; they are not kept");
            return Ok(());
        }
        let count = fresh.concepts.len();
        let stale = self.catch_up(Some(fresh))?;
        self.queue_for_vectors(stale);
        tracing::info!(concepts = count, "the index took in the concepts induced after writes");
        Ok(())
    }

    /// The sequence numbers of the current versions of the profiles `ids` that exist.
    fn current_seqs(&self, ids: &[String]) -> Result<Vec<(String, u64)>> {
        let seqs = self.store.profile_seqs(ids)?;
        Ok(ids.iter().cloned().zip(seqs).filter_map(|(id, seq)| seq.map(|s| (id, s))).collect())
    }

    fn embed_step(&self, ids: &[String]) -> Result<()> {
        // Sequence numbers first, texts second: a write in between gives a newer text with an older
        // number, which `keep_vectors` then refuses; the other order could file old vectors under
        // the new version.
        let seqs = self.current_seqs(ids)?;
        let profiles = self.store.profiles_by_id(ids)?;
        if profiles.is_empty() {
            return Ok(());
        }
        let vectors = self.embed(&profiles)?;
        let _writes = self.lock_writes();
        self.keep_vectors(&profiles, &seqs, vectors)
    }
}
