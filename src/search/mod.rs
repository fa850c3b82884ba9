//! The tantivy search index: the lexical half of matching. It is *derived* from the store — each
//! commit records the store sequence number it reflects, so after a crash the engine replays only
//! what the index lacks, and `reindex` can rebuild it from scratch with identical rankings. Each
//! text field exists once per language (`summary_nl`, `summary_fr`, …) because tantivy binds one
//! analyzer to a field; a profile fills the fields of its own language, and a query is analysed
//! once per language so that it meets every profile with the right stemmer.

pub mod analysis;
pub mod cognates;
pub mod explain;
mod frozen;
pub mod glossary;
pub mod induced;
pub mod language;
mod query;

use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use tantivy::collector::TopDocs;
use tantivy::directory::error::OpenReadError;
use tantivy::directory::{Directory, MmapDirectory, INDEX_WRITER_LOCK};
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED, STRING,
};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

pub use self::frozen::FrozenQuery;
pub use self::glossary::Glossary;
pub use self::induced::InducedConcepts;
pub use self::language::detect_search_language;
pub use self::query::{LexicalQuery, TextField};
use crate::domain::{Filter, Language, Profile};
use crate::error::{Error, Result};
use crate::store::ProfileChanges;

/// Memory the index writer may buffer before flushing a segment.
const WRITER_HEAP_BYTES: usize = 64 * 1024 * 1024;

struct Fields {
    id: Field,
    kind: Field,
    size: Field,
    theme: Field,
    trl: Field,
    language: Field,
    concepts: Field,
    cognates: Field,
    induced: Field,
    text: HashMap<(Language, TextField), Field>,
}

fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let id = b.add_text_field("id", STRING | STORED);
    let kind = b.add_text_field("kind", STRING);
    let size = b.add_text_field("size", STRING);
    let theme = b.add_text_field("theme", STRING);
    let trl = b.add_u64_field("trl", INDEXED | FAST);
    let language = b.add_text_field("language", STRING);
    let concept_indexing =
        TextFieldIndexing::default().set_tokenizer("whitespace").set_index_option(IndexRecordOption::WithFreqs);
    let concepts = b.add_text_field("concepts", TextOptions::default().set_indexing_options(concept_indexing.clone()));
    let cognates = b.add_text_field("cognates", TextOptions::default().set_indexing_options(concept_indexing.clone()));
    let induced = b.add_text_field("induced", TextOptions::default().set_indexing_options(concept_indexing));
    let mut text = HashMap::new();
    for lang in Language::ALL {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(analysis::analyzer_name(lang))
            .set_index_option(IndexRecordOption::WithFreqs);
        let options = TextOptions::default().set_indexing_options(indexing);
        for tf in TextField::ALL {
            let field = b.add_text_field(&format!("{}_{}", tf.name(), lang.code()), options.clone());
            text.insert((lang, tf), field);
        }
    }
    (b.build(), Fields { id, kind, size, theme, trl, language, concepts, cognates, induced, text })
}

/// The on-disk tantivy index of profiles.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    /// `None` when opened read-only.
    writer: Option<Mutex<IndexWriter>>,
    fields: Fields,
    glossary: Arc<Glossary>,
    /// The concepts induced from the collection that documents are indexed with; replaced as a
    /// whole by [`SearchIndex::replace_induced`] (which rebuilds the index with them) or
    /// [`SearchIndex::restamp_induced`].
    induced: RwLock<Arc<InducedConcepts>>,
    /// The file that records what the index was built with (`None` when opened read-only).
    stamp: Option<std::path::PathBuf>,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it when absent. An index written with another schema,
    /// glossary or induced concepts is wiped (it is derived data) and reported as at sequence 0 so
    /// the caller rebuilds it.
    ///
    /// Only one process may write an index: when another holds it (a running server), this fails
    /// with tantivy's `LockBusy` before touching any file (see [`is_lock_busy`]).
    pub fn open(dir: &Path, glossary: Arc<Glossary>, induced: Arc<InducedConcepts>) -> Result<SearchIndex> {
        let stamp = dir.join("glossary.fingerprint");
        let fingerprint = index_fingerprint(&glossary, &induced);
        {
            // Hold the writer's lock while deciding whether to wipe: wiping the files of an index
            // another process writes, or one whose stamp another process is writing, would break
            // it. The lock is let go before the writer takes it for good.
            let _probe = if dir.exists() {
                Some(MmapDirectory::open(dir)?.acquire_lock(&INDEX_WRITER_LOCK).map_err(tantivy::TantivyError::from)?)
            } else {
                None
            };
            let stamped = std::fs::read_to_string(&stamp).ok();
            if dir.exists() && stamped.as_deref() != Some(fingerprint.as_str()) {
                std::fs::remove_dir_all(dir)?;
            }
            std::fs::create_dir_all(dir)?;
            if stamped.as_deref() != Some(fingerprint.as_str()) {
                write_atomically(&stamp, &fingerprint)?;
            }
        }
        let (schema, fields) = build_schema();
        let index = match Index::open_or_create(MmapDirectory::open(dir)?, schema.clone()) {
            Ok(index) => index,
            Err(tantivy::TantivyError::SchemaError(_)) => {
                std::fs::remove_dir_all(dir)?;
                std::fs::create_dir_all(dir)?;
                write_atomically(&stamp, &fingerprint)?;
                Index::create_in_dir(dir, schema)?
            }
            Err(e) => return Err(e.into()),
        };
        analysis::register(index.tokenizers());
        let writer = index.writer_with_num_threads(1, WRITER_HEAP_BYTES)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            writer: Some(Mutex::new(writer)),
            fields,
            glossary,
            induced: RwLock::new(induced),
            stamp: Some(stamp),
        })
    }

    /// Opens the existing index in `dir` for searching only: no writer, no lock, no file written,
    /// so it works beside a process that writes the index (a running server). It shows the index
    /// as committed when opened. A missing index, or one built with another schema or glossary, is
    /// an error (only a writer may rebuild it).
    pub fn open_read_only(dir: &Path, glossary: Arc<Glossary>, induced: Arc<InducedConcepts>) -> Result<SearchIndex> {
        let stale = |why: &str| {
            Error::Internal(format!(
                "the search index in {} {why}; rebuild it with `pitchmatch reindex` (while no server runs)",
                dir.display()
            ))
        };
        if !dir.join("meta.json").is_file() {
            return Err(stale("is missing"));
        }
        let stamp = std::fs::read_to_string(dir.join("glossary.fingerprint")).unwrap_or_default();
        if stamp != index_fingerprint(&glossary, &induced) {
            return Err(stale("was built with other glossary files or induced concepts"));
        }
        let (schema, fields) = build_schema();
        // A writer in another process may commit between our reading meta.json and opening the
        // segments it lists, and then delete the segments it merged away: the next attempt reads
        // the new meta.json.
        let mut attempts = 0;
        let (index, reader) = loop {
            attempts += 1;
            match open_for_reading(dir) {
                Err(tantivy::TantivyError::OpenReadError(OpenReadError::FileDoesNotExist(_)))
                    if attempts < READ_ONLY_OPEN_ATTEMPTS =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20 * attempts as u64));
                }
                other => break other?,
            }
        };
        if index.schema() != schema {
            return Err(stale("has another schema"));
        }
        Ok(SearchIndex { index, reader, writer: None, fields, glossary, induced: RwLock::new(induced), stamp: None })
    }

    /// The store sequence number this index reflects.
    pub fn applied_seq(&self) -> Result<u64> {
        let metas = self.index.load_metas()?;
        Ok(metas.payload.and_then(|p| p.parse().ok()).unwrap_or(0))
    }

    /// Number of live documents.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn document(&self, p: &Profile, induced: &InducedConcepts) -> TantivyDocument {
        let f = &self.fields;
        let lang = p.language;
        let mut d = doc!(
            f.id => p.id.as_str(),
            f.kind => p.kind.as_str(),
            f.language => lang.code(),
            f.text[&(lang, TextField::Name)] => p.name.as_str(),
            f.text[&(lang, TextField::Summary)] => p.summary.as_str(),
        );
        if let Some(size) = p.size {
            d.add_text(f.size, size.as_str());
        }
        for t in &p.themes {
            d.add_text(f.theme, t.as_str());
        }
        if let Some(trl) = p.trl {
            d.add_u64(f.trl, u64::from(trl));
        }
        for s in &p.innovations {
            d.add_text(f.text[&(lang, TextField::Innovations)], s);
        }
        for s in &p.keywords {
            d.add_text(f.text[&(lang, TextField::Keywords)], s);
        }
        let text = profile_text(p);
        let concepts = self.glossary.concept_ids(lang, &text);
        if !concepts.is_empty() {
            d.add_text(f.concepts, concepts.join(" "));
        }
        let grams = cognates::indexed_grams(&text);
        if !grams.is_empty() {
            d.add_text(f.cognates, grams);
        }
        let mentions: Vec<String> = induced.mentions(lang, &text).into_iter().map(|(id, _)| id).collect();
        if !mentions.is_empty() {
            d.add_text(f.induced, mentions.join(" "));
        }
        d
    }

    /// The induced concepts documents are indexed with now.
    pub fn induced(&self) -> Arc<InducedConcepts> {
        self.induced.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Takes `induced` as the concepts documents are indexed with, without indexing any again:
    /// only for concepts that give every indexed document the mentions it has (the same concepts
    /// without terms no document mentions).
    pub fn restamp_induced(&self, induced: Arc<InducedConcepts>) -> Result<()> {
        let fingerprint = index_fingerprint(&self.glossary, &induced);
        *self.induced.write().unwrap_or_else(|p| p.into_inner()) = induced;
        self.write_stamp(&fingerprint)
    }

    /// Indexes every profile again with `induced` (replacing [`SearchIndex::rebuild`]'s content,
    /// reflecting store sequence `seq`) and stamps the index with them. Until the stamp is
    /// written the index counts as built with other concepts, so a crash in between makes the
    /// next open rebuild it.
    pub fn replace_induced(&self, induced: Arc<InducedConcepts>, profiles: &[Profile], seq: u64) -> Result<()> {
        let fingerprint = index_fingerprint(&self.glossary, &induced);
        *self.induced.write().unwrap_or_else(|p| p.into_inner()) = induced;
        self.rebuild(profiles, seq)?;
        self.write_stamp(&fingerprint)
    }

    /// Records `fingerprint` as what the index was built with.
    fn write_stamp(&self, fingerprint: &str) -> Result<()> {
        let stamp =
            self.stamp.as_ref().ok_or_else(|| Error::Internal("the search index was opened read-only".into()))?;
        Ok(write_atomically(stamp, fingerprint)?)
    }

    /// The glossary used for concept indexing.
    pub fn glossary(&self) -> &Glossary {
        &self.glossary
    }

    fn lock_writer(&self) -> Result<std::sync::MutexGuard<'_, IndexWriter>> {
        let writer =
            self.writer.as_ref().ok_or_else(|| Error::Internal("the search index was opened read-only".into()))?;
        // tantivy rolls back uncommitted work itself; a poisoned lock only means a panic elsewhere.
        Ok(writer.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Applies store changes and commits with their sequence number.
    pub fn apply(&self, changes: &ProfileChanges) -> Result<()> {
        let mut writer = self.lock_writer()?;
        for id in changes.deleted.iter().chain(changes.upserted.iter().map(|p| &p.id)) {
            writer.delete_term(Term::from_field_text(self.fields.id, id));
        }
        self.add_documents(&writer, &changes.upserted)?;
        self.commit(&mut writer, changes.up_to)
    }

    /// True when replaced or deleted documents still linger in segments. They keep counting in
    /// BM25 statistics (document frequencies, average lengths) until rebuilt away, which shifts
    /// scores slightly compared with a fresh index.
    pub fn has_deletes(&self) -> bool {
        self.reader.searcher().segment_readers().iter().any(|s| s.has_deletes())
    }

    /// Erases deleted documents from disk: merges every segment that holds one into a segment
    /// without it and removes the files nothing uses any more. A delete only marks a document
    /// deleted; its terms (a deleted profile's name among them) stay in the segment's files until a
    /// merge rewrites it, and a profile deleted for its owner's right to erasure must not linger
    /// there. Rewrites only the affected segments.
    pub fn purge_deleted(&self) -> Result<()> {
        let mut writer = self.lock_writer()?;
        // A segment the merge policy is merging in the background at that moment cannot be merged
        // here, and a background merge that began before the delete carries it over as a mark: so
        // look again after each pass.
        for _ in 0..3 {
            self.reader.reload()?;
            let affected: Vec<tantivy::index::SegmentId> = self
                .reader
                .searcher()
                .segment_readers()
                .iter()
                .filter(|s| s.has_deletes())
                .map(|s| s.segment_id())
                .collect();
            if affected.is_empty() {
                break;
            }
            if let Err(e) = writer.merge(&affected).wait() {
                tracing::warn!(error = %e, "merging away deleted documents failed; trying again");
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        writer.garbage_collect_files().wait()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Replaces the whole index content with `profiles`, reflecting store sequence `seq`.
    pub fn rebuild(&self, profiles: &[Profile], seq: u64) -> Result<()> {
        let mut writer = self.lock_writer()?;
        writer.delete_all_documents()?;
        self.add_documents(&writer, profiles)?;
        self.commit(&mut writer, seq)?;
        // One segment keeps search fast; the merge of a fresh index carries no deletes.
        let ids = self.index.searchable_segment_ids()?;
        if ids.len() > 1 {
            writer.merge(&ids).wait()?;
            let _ = writer.garbage_collect_files().wait();
            self.reader.reload()?;
        }
        Ok(())
    }

    /// Builds the documents on all cores, a chunk at a time, and hands them to the writer.
    /// Building one (its concept mentions stem the whole text) took as long as tantivy's own
    /// indexing of it, and on one thread it held the import back.
    fn add_documents(&self, writer: &IndexWriter, profiles: &[Profile]) -> Result<()> {
        use rayon::prelude::*;
        let induced = self.induced();
        for chunk in profiles.chunks(2048) {
            let docs: Vec<TantivyDocument> = chunk.par_iter().map(|p| self.document(p, &induced)).collect();
            for d in docs {
                writer.add_document(d)?;
            }
        }
        Ok(())
    }

    fn commit(&self, writer: &mut IndexWriter, seq: u64) -> Result<()> {
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&seq.to_string());
        prepared.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    fn filter_clauses(&self, filter: &Filter) -> Vec<(Occur, Box<dyn Query>)> {
        let f = &self.fields;
        let term = |field, text: &str| -> Box<dyn Query> {
            Box::new(ConstScoreQuery::new(
                Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::Basic)),
                0.0,
            ))
        };
        let mut clauses = Vec::new();
        if let Some(k) = filter.kind {
            clauses.push((Occur::Must, term(f.kind, k.as_str())));
        }
        if let Some(s) = filter.size {
            clauses.push((Occur::Must, term(f.size, s.as_str())));
        }
        if let Some(t) = filter.theme {
            clauses.push((Occur::Must, term(f.theme, t.as_str())));
        }
        if let Some(min) = filter.min_trl {
            let range = RangeQuery::new(
                Bound::Included(Term::from_field_u64(f.trl, u64::from(min))),
                Bound::Included(Term::from_field_u64(f.trl, 9)),
            );
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(range), 0.0))));
        }
        clauses
    }

    /// BM25-scores profiles for `query`, best first, ties by id, at most `limit`.
    pub fn search(&self, query: &LexicalQuery, filter: &Filter, limit: usize) -> Result<Vec<(String, f32)>> {
        self.run(self.lexical_query(query), filter, limit)
    }

    fn lexical_query(&self, query: &LexicalQuery) -> Option<Box<dyn Query>> {
        query.to_query(|lang, tf| self.fields.text[&(lang, tf)])
    }

    /// How many profiles mention each of a query's concepts (`(concept id, count in the query)`),
    /// in the order given.
    pub fn profiles_mentioning(&self, concepts: &[(String, u32)]) -> Result<Vec<u64>> {
        self.doc_freqs(self.fields.concepts, concepts)
    }

    /// How many profiles mention each of a query's induced concepts (`(concept id, count in the
    /// query)`), in the order given.
    pub fn profiles_mentioning_induced(&self, concepts: &[(String, u32)]) -> Result<Vec<u64>> {
        self.doc_freqs(self.fields.induced, concepts)
    }

    /// The ids of the indexed profiles (in `language`, or in any) that mention at least one of
    /// the induced `concepts` (concept ids), sorted.
    pub fn ids_mentioning_induced(&self, concepts: &[String], language: Option<Language>) -> Result<Vec<String>> {
        if concepts.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let terms = concepts.iter().map(|c| Term::from_field_text(self.fields.induced, c));
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(tantivy::query::TermSetQuery::new(terms)))];
        if let Some(language) = language {
            let term = Term::from_field_text(self.fields.language, language.code());
            clauses.push((Occur::Must, Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
        }
        let hits = searcher.search(&BooleanQuery::new(clauses), &tantivy::collector::DocSetCollector)?;
        let mut ids = Vec::with_capacity(hits.len());
        for addr in hits {
            let doc: TantivyDocument = searcher.doc(addr)?;
            if let Some(id) = doc.get_first(self.fields.id).and_then(|v| v.as_str()) {
                ids.push(id.to_string());
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }

    fn doc_freqs(&self, field: Field, concepts: &[(String, u32)]) -> Result<Vec<u64>> {
        let searcher = self.reader.searcher();
        concepts.iter().map(|(c, _)| Ok(searcher.doc_freq(&Term::from_field_text(field, c))?)).collect()
    }

    /// BM25 over shared glossary concepts (`(concept id, count in the query)`).
    fn concept_query(&self, concepts: &[(String, u32)]) -> Option<Box<dyn Query>> {
        weighted_terms_query(self.fields.concepts, concepts.iter().map(|(c, n)| (c.as_str(), *n as f32)))
    }

    /// BM25 over the induced concepts of a query (`(concept id, count in the query)`), each counted
    /// once: a demand area that names one concept often is not about it the more.
    fn induced_query(&self, concepts: &[(String, u32)]) -> Option<Box<dyn Query>> {
        weighted_terms_query(self.fields.induced, concepts.iter().map(|(c, _)| (c.as_str(), 1.0)))
    }

    /// BM25 over the word grams of a query ([`cognates::query_grams`]), each counted once.
    fn cognate_query(&self, grams: &[String]) -> Option<Box<dyn Query>> {
        weighted_terms_query(self.fields.cognates, grams.iter().map(|g| (g.as_str(), 1.0)))
    }

    /// Runs `scoring` restricted by `filter`.
    fn run(&self, scoring: Option<Box<dyn Query>>, filter: &Filter, limit: usize) -> Result<Vec<(String, f32)>> {
        let Some(scoring) = scoring else { return Ok(Vec::new()) };
        let mut clauses = self.filter_clauses(filter);
        clauses.push((Occur::Must, scoring));
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let hits = searcher.search(&query, &TopDocs::with_limit(frozen::fetch_for(limit)))?;
        self.ids_of_hits(&searcher, hits, limit)
    }

    /// `hits` as profile ids, best first, ties by id, cut to `limit`.
    fn ids_of_hits(
        &self,
        searcher: &tantivy::Searcher,
        hits: Vec<(f32, tantivy::DocAddress)>,
        limit: usize,
    ) -> Result<Vec<(String, f32)>> {
        let mut out = Vec::with_capacity(hits.len());
        for (score, addr) in hits {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let id = doc
                .get_first(self.fields.id)
                .and_then(|v| v.as_str())
                .ok_or_else(|| Error::Internal("index document without id".into()))?;
            out.push((id.to_string(), score));
        }
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out.truncate(limit);
        Ok(out)
    }

    /// Ids of all live documents (for consistency checks).
    pub fn all_ids(&self) -> Result<Vec<String>> {
        let searcher = self.reader.searcher();
        let n = searcher.num_docs() as usize;
        let hits = searcher.search(&tantivy::query::AllQuery, &TopDocs::with_limit(n.max(1)))?;
        let mut ids = Vec::with_capacity(n);
        for (_, addr) in hits {
            let doc: TantivyDocument = searcher.doc(addr)?;
            if let Some(id) = doc.get_first(self.fields.id).and_then(|v| v.as_str()) {
                ids.push(id.to_string());
            }
        }
        ids.sort();
        Ok(ids)
    }
}

/// What the indexed terms depend on beyond the schema: the glossary, the gram length and the
/// induced concepts. An index stamped otherwise is rebuilt.
fn index_fingerprint(glossary: &Glossary, induced: &InducedConcepts) -> String {
    format!("{}-g{}-i{}", glossary.fingerprint(), cognates::GRAM_CHARS, induced.fingerprint())
}

/// A union of BM25 term queries on `field`, each boosted by its weight; `None` without terms.
fn weighted_terms_query<'a>(field: Field, terms: impl Iterator<Item = (&'a str, f32)>) -> Option<Box<dyn Query>> {
    let clauses: Vec<(Occur, Box<dyn Query>)> = terms
        .map(|(text, boost)| {
            let tq = TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs);
            let q: Box<dyn Query> = Box::new(tantivy::query::BoostQuery::new(Box::new(tq), boost));
            (Occur::Should, q)
        })
        .collect();
    if clauses.is_empty() {
        None
    } else {
        Some(Box::new(BooleanQuery::new(clauses)))
    }
}

/// How often a read-only open tries again when a concurrent writer replaced the files it was
/// opening.
const READ_ONLY_OPEN_ATTEMPTS: u32 = 5;

/// The index in `dir` and a reader on its committed state.
fn open_for_reading(dir: &Path) -> tantivy::Result<(Index, IndexReader)> {
    let index = Index::open(MmapDirectory::open(dir)?)?;
    analysis::register(index.tokenizers());
    let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
    Ok((index, reader))
}

/// Replaces `path` with `contents` so that a concurrent reader sees the old or the new file,
/// never an empty or half-written one.
pub(crate) fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    std::fs::write(&partial, contents)?;
    std::fs::rename(&partial, path)
}

/// True when `e` says that another process holds the index's writer lock.
pub fn is_lock_busy(e: &Error) -> bool {
    matches!(e, Error::Index(tantivy::TantivyError::LockFailure(tantivy::directory::error::LockError::LockBusy, _)))
}

/// All searchable text of a profile, for concept and gram extraction.
pub fn profile_text(p: &Profile) -> String {
    let mut text = format!("{}. {}", p.name, p.summary);
    for s in p.innovations.iter().chain(&p.keywords) {
        text.push_str(". ");
        text.push_str(s);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(ids: &[&str], up_to: u64) -> ProfileChanges {
        let upserted = ids.iter().map(|id| Profile::minimal(id, id, "hydrogen pressure vessels for trucks")).collect();
        ProfileChanges { upserted, deleted: Vec::new(), up_to }
    }

    #[test]
    fn a_reader_works_beside_the_one_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tantivy");
        let glossary = Arc::new(Glossary::empty());
        assert!(SearchIndex::open_read_only(&path, glossary.clone(), Arc::default()).is_err());
        assert!(!path.exists(), "a failed read-only open created the index");

        let writer = SearchIndex::open(&path, glossary.clone(), Arc::default()).unwrap();
        writer.apply(&changes(&["a", "b"], 2)).unwrap();
        let err = SearchIndex::open(&path, glossary.clone(), Arc::default()).err().expect("a second writer");
        assert!(is_lock_busy(&err), "{err}");

        let reader = SearchIndex::open_read_only(&path, glossary.clone(), Arc::default()).unwrap();
        assert_eq!(reader.applied_seq().unwrap(), 2);
        let query = LexicalQuery::new("hydrogen vessels", Language::En);
        assert_eq!(reader.search(&query, &Filter::default(), 10).unwrap().len(), 2);
        assert!(reader.apply(&changes(&["c"], 3)).is_err(), "a reader cannot write");
        // The writer is unaffected and still the only one.
        writer.apply(&changes(&["c"], 3)).unwrap();
        assert_eq!(writer.num_docs(), 3);
        drop(writer);
        assert!(SearchIndex::open(&path, glossary, Arc::default()).is_ok(), "the lock goes with the writer");
    }

    #[test]
    fn profiles_share_induced_concepts_across_languages_and_the_index_remembers_which() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tantivy");
        let glossary = Arc::new(Glossary::empty());
        let lexicon = Arc::new(
            InducedConcepts::parse("concept\ten\tnl\tfr\ni1\tcustomer\tklant\tclient\ni2\theat pump\twarmtepomp\t\n")
                .unwrap(),
        );
        let index = SearchIndex::open(&path, glossary.clone(), Arc::default()).unwrap();
        let mut nl = Profile::minimal("nl", "Koel BV", "Een warmtepomp voor elke klant.");
        nl.language = Language::Nl;
        let en = Profile::minimal("en", "Seats Ltd", "Seats for buses.");
        index.apply(&ProfileChanges { upserted: vec![nl.clone(), en.clone()], deleted: Vec::new(), up_to: 2 }).unwrap();
        let query = lexicon.concept_counts(Language::En, "A heat pump, sized per customer.");
        assert_eq!(query.len(), 2);
        let frozen = index.freeze_induced(&query).unwrap();
        assert!(index.search_frozen(frozen.as_ref(), 10).unwrap().is_empty(), "indexed before the concepts existed");

        index.replace_induced(lexicon.clone(), &[nl.clone(), en.clone()], 2).unwrap();
        let frozen = index.freeze_induced(&query).unwrap();
        let hits = index.search_frozen(frozen.as_ref(), 10).unwrap();
        assert_eq!(hits.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["nl"]);
        assert_eq!(index.applied_seq().unwrap(), 2);
        drop(index);
        // Opened with the concepts it was built with, it is kept; with others, rebuilt from nothing.
        assert!(SearchIndex::open_read_only(&path, glossary.clone(), lexicon.clone()).is_ok());
        assert!(SearchIndex::open_read_only(&path, glossary.clone(), Arc::default()).is_err());
        let kept = SearchIndex::open(&path, glossary.clone(), lexicon.clone()).unwrap();
        assert_eq!(kept.num_docs(), 2);
        drop(kept);
        let wiped = SearchIndex::open(&path, glossary, Arc::default()).unwrap();
        assert_eq!((wiped.num_docs(), wiped.applied_seq().unwrap()), (0, 0));
    }
}
