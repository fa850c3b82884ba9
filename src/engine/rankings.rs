//! Each query text's ranking of every profile, kept between requests. Scoring 100,000 profiles is
//! the costly step of a shortlist; organisers open the same demand areas again and again under other
//! filters and lengths, so a ranking is computed once and every filter and `k` is served from it.
//!
//! A write does not throw the rankings away: a ranking remembers the change number it reflects
//! ([`ChangeLog`](super::changes::ChangeLog)) and, when asked for again, takes in just the profiles
//! changed since — each re-scored against the ranking's frozen statistics, its old row hidden and the
//! new one merged in. The statistics (per-language means and spreads, the best concept score) drift
//! as profiles come and go, so a ranking that has taken in changes to more than 1 % of the
//! collection (at most [`MAX_CHANGES_TAKEN`]), or is older than [`MAX_AGE`], is computed afresh
//! ([`RefreshPolicy`]) by one caller while the others are still served the held ranking with the
//! changes taken in; small collections are simply ranked afresh. One cache, bounded by rows held,
//! evicts the way every cache here does (moka's TinyLFU); concurrent requests for a text not ranked
//! yet wait for one computation.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::explainer::QueryAnalysis;
use crate::domain::{Facets, Filter, Language, Ranker};
use crate::rank::pipeline::{Fused, Normalisation, Signals};
use crate::rank::ShortlistEntry;
use crate::search::FrozenQuery;

/// Most changes a ranking takes in before it is computed afresh, however large the collection.
/// The drift it allows is bounded by the 1 % share (tested on a real engine); this cap only decides
/// how often a large collection pays for a fresh ranking (a scan of every profile, a few hundred
/// milliseconds of a busy core at 100,000). 256 changes are a quarter of that share there, and
/// under a steady stream of writes the age bound then comes first: one fresh ranking per query
/// per minute instead of one every few seconds, which is what kept the shortlist tail under load.
pub const MAX_CHANGES_TAKEN: usize = 256;

/// Age after which a ranking that has taken in any change is computed afresh.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// When a cached ranking stops taking in changes and is computed afresh: its statistics were taken
/// over a collection that may differ from today's by at most `share` of its profiles (and at most
/// `max_changes`), and at most `max_age` ago. Collections smaller than `min_profiles` are ranked
/// afresh after every change: ranking them costs next to nothing, and in a small collection one
/// profile moves the statistics (BM25's document frequencies above all) too far — one second
/// submission among the 56 demo profiles moved other scores by up to 0.38.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefreshPolicy {
    /// Changed profiles, as a share of the collection, a ranking may take in.
    pub share: f64,
    /// Changed profiles a ranking may take in at most.
    pub max_changes: usize,
    /// Age after which a ranking is computed afresh when anything changed.
    pub max_age: Duration,
    /// Collections smaller than this take in no change.
    pub min_profiles: usize,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        RefreshPolicy { share: 0.01, max_changes: MAX_CHANGES_TAKEN, max_age: MAX_AGE, min_profiles: 1000 }
    }
}

impl RefreshPolicy {
    /// Changes a ranking of a collection of `profiles` may take in.
    pub fn budget(&self, profiles: usize) -> usize {
        if profiles < self.min_profiles {
            return 0;
        }
        ((profiles as f64 * self.share) as usize).clamp(1, self.max_changes)
    }
}

/// Rows kept over all cached rankings (about 72 bytes each, so some 150 MB): 20 rankings at
/// 100,000 profiles.
const CACHE_ROWS: u64 = 2_000_000;

/// The least a ranking counts for, so that tiny collections keep at most ~250 rankings (each also
/// holds its explained entries).
const MIN_ROWS_PER_RANKING: u64 = 8_000;

/// Explained entries kept per ranking (a few KB each).
const EXPLAINED_PER_RANKING: usize = 2000;

/// A profile's new row in a ranking (with its facets), or `None` when it no longer ranks.
pub type Change = (Arc<str>, Option<(RankedRow, Facets)>);

/// One profile's place in a ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedRow {
    /// Profile id.
    pub id: Arc<str>,
    /// The signals it was scored from.
    pub signals: Signals,
    /// The fused score and its parts.
    pub fused: Fused,
    /// Which passage matched best in meaning (0 = summary, i = innovation i-1).
    pub passage: u16,
    /// True when the profile waits for its vectors and competes on its lexical score alone.
    pub pending: bool,
}

impl RankedRow {
    /// Best first; equal scores by profile id.
    fn before(&self, other: &RankedRow) -> std::cmp::Ordering {
        other.fused.score.total_cmp(&self.fused.score).then_with(|| self.id.cmp(&other.id))
    }
}

/// The lexical half of a hybrid ranking as it was computed: the frozen queries a changed profile is
/// scored with (against the same term statistics as every other row), and the lowest score of each
/// hit pool when the pool was full (a profile scoring below it would not have been a hit in a fresh
/// ranking).
#[derive(Debug, Clone, Default)]
pub struct LexicalPools {
    /// The query's words.
    pub words: Option<FrozenQuery>,
    /// The lowest BM25 in the word pool, when it was cut.
    pub words_floor: Option<f32>,
    /// The query's glossary concepts.
    pub concepts: Option<FrozenQuery>,
    /// The lowest concept BM25 in the concept pool, when it was cut.
    pub concepts_floor: Option<f32>,
    /// The query's word grams.
    pub cognates: Option<FrozenQuery>,
    /// The lowest word-gram BM25 in the word-gram pool, when it was cut.
    pub cognates_floor: Option<f32>,
    /// The query's induced concepts.
    pub induced: Option<FrozenQuery>,
    /// The lowest induced-concept BM25 in their pool, when it was cut.
    pub induced_floor: Option<f32>,
}

/// The key of a ranking: the same text ranked as another language or by another ranker is another
/// ranking.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RankingKey {
    /// The ranker.
    pub ranker: Ranker,
    /// The language the text is analysed as.
    pub language: Language,
    /// The query text.
    pub text: Arc<str>,
}

/// A query's ranking of every profile, best first, before filters and the cut to `k`.
pub struct Ranking {
    /// The query analysed for the index and the glossary.
    pub analysis: Arc<QueryAnalysis>,
    /// The query's embedding.
    pub query_vector: Arc<Vec<f32>>,
    /// The frozen statistics every row was scored against.
    pub norm: Normalisation,
    /// Glossary coverage of the query (hybrid only).
    pub coverage: Option<f32>,
    /// How a changed profile's lexical scores are taken (hybrid only).
    pub lexical: LexicalPools,
    /// The change number this ranking reflects.
    pub seen: u64,
    /// Changes taken in since it was computed.
    pub changes_taken: usize,
    /// When it was computed.
    pub computed_at: Instant,
    base: Arc<Vec<RankedRow>>,
    /// The facets of `base[i]` at `i`: filtering scans this array alone (6 bytes a row), so a
    /// filter that matches few profiles costs a fraction of a millisecond at 100,000.
    base_facets: Arc<Vec<Facets>>,
    /// Ids whose row in `base` no longer holds (changed or deleted since).
    hidden: Arc<HashSet<Arc<str>>>,
    /// Rows of profiles changed since `base` was computed, best first.
    extra: Arc<Vec<(RankedRow, Facets)>>,
    /// Entries explained so far, by profile id, shared with the ranking's later versions.
    explained: Arc<Mutex<HashMap<Arc<str>, ShortlistEntry>>>,
}

impl Ranking {
    /// A freshly computed ranking of `rows` (any order) with their facets.
    pub fn new(
        analysis: Arc<QueryAnalysis>,
        query_vector: Arc<Vec<f32>>,
        norm: Normalisation,
        coverage: Option<f32>,
        lexical: LexicalPools,
        seen: u64,
        mut rows: Vec<(RankedRow, Facets)>,
    ) -> Ranking {
        rows.sort_unstable_by(|a, b| a.0.before(&b.0));
        let (base, base_facets): (Vec<RankedRow>, Vec<Facets>) = rows.into_iter().unzip();
        Ranking {
            analysis,
            query_vector,
            norm,
            coverage,
            lexical,
            seen,
            changes_taken: 0,
            computed_at: Instant::now(),
            base: Arc::new(base),
            base_facets: Arc::new(base_facets),
            hidden: Arc::default(),
            extra: Arc::default(),
            explained: Arc::default(),
        }
    }

    /// Rows held (for the cache's bound).
    pub fn len(&self) -> usize {
        self.base.len() + self.extra.len()
    }

    /// Whether this ranking of a collection of `profiles` may take in `more` changes under
    /// `policy` instead of being computed afresh.
    pub fn may_take(&self, more: usize, profiles: usize, policy: &RefreshPolicy) -> bool {
        self.changes_taken + more <= policy.budget(profiles) && self.computed_at.elapsed() < policy.max_age
    }

    /// This ranking with `changed` profiles re-scored: each id's old row hidden, its new row (if it
    /// still ranks: deleted profiles and pending ones without a lexical hit do not) merged in.
    pub fn with_changes(&self, changed: Vec<Change>, up_to: u64) -> Ranking {
        let mut hidden = (*self.hidden).clone();
        let mut extra: Vec<(RankedRow, Facets)> =
            self.extra.iter().filter(|(r, _)| !changed.iter().any(|(id, _)| *id == r.id)).cloned().collect();
        {
            let mut explained = self.explained.lock().unwrap_or_else(|p| p.into_inner());
            for (id, row) in changed.iter() {
                explained.remove(id);
                hidden.insert(id.clone());
                if let Some(row) = row {
                    extra.push(row.clone());
                }
            }
        }
        extra.sort_unstable_by(|a, b| a.0.before(&b.0));
        Ranking {
            analysis: self.analysis.clone(),
            query_vector: self.query_vector.clone(),
            norm: self.norm.clone(),
            coverage: self.coverage,
            lexical: self.lexical.clone(),
            seen: up_to,
            changes_taken: self.changes_taken + changed.len(),
            computed_at: self.computed_at,
            base: self.base.clone(),
            base_facets: self.base_facets.clone(),
            hidden: Arc::new(hidden),
            extra: Arc::new(extra),
            explained: self.explained.clone(),
        }
    }

    /// The `k` best rows that pass `filter`, best first.
    pub fn top(&self, filter: &Filter, k: usize) -> Vec<&RankedRow> {
        let mut base = self
            .base_facets
            .iter()
            .enumerate()
            .filter(|(_, f)| filter.accepts(f))
            .map(|(i, _)| &self.base[i])
            .filter(|r| !self.hidden.contains(&r.id))
            .peekable();
        let mut extra = self.extra.iter().filter(|(_, f)| filter.accepts(f)).map(|(r, _)| r).peekable();
        let mut out = Vec::with_capacity(k);
        while out.len() < k {
            let next = match (base.peek(), extra.peek()) {
                (Some(b), Some(e)) if e.before(b).is_lt() => extra.next(),
                (Some(_), _) => base.next(),
                (None, _) => extra.next(),
            };
            match next {
                Some(row) => out.push(row),
                None => break,
            }
        }
        out
    }

    /// The entry explained for `id` before, if any.
    pub fn explained(&self, id: &str) -> Option<ShortlistEntry> {
        self.explained.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }

    /// Keeps an explained entry for later requests (up to [`EXPLAINED_PER_RANKING`]).
    pub fn remember(&self, id: &Arc<str>, entry: &ShortlistEntry) {
        let mut explained = self.explained.lock().unwrap_or_else(|p| p.into_inner());
        if explained.len() < EXPLAINED_PER_RANKING {
            explained.insert(id.clone(), entry.clone());
        }
    }
}

/// One cached ranking: computed or brought up to date by whoever asks first while others wait,
/// and recomputed afresh by one caller at a time while the others keep being served.
#[derive(Default)]
pub struct RankingSlot {
    held: Mutex<Option<Arc<Ranking>>>,
    recomputing: AtomicBool,
}

impl RankingSlot {
    /// The held ranking, locked: whoever holds the guard is the one bringing it up to date.
    pub fn lock(&self) -> MutexGuard<'_, Option<Arc<Ranking>>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Claims the one fresh computation of this ranking; `None` when another caller runs it. The
    /// claim ends when the returned guard is dropped, whether the computation succeeded or not.
    pub fn claim_recompute(&self) -> Option<RecomputeClaim<'_>> {
        // Not `then_some`: it would build (and drop, releasing the flag) a claim even when refused.
        (!self.recomputing.swap(true, Ordering::AcqRel)).then(|| RecomputeClaim(&self.recomputing))
    }
}

/// The claim of [`RankingSlot::claim_recompute`].
pub struct RecomputeClaim<'a>(&'a AtomicBool);

impl Drop for RecomputeClaim<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// The rankings of recent query texts.
pub struct RankingCache {
    slots: moka::sync::Cache<RankingKey, Arc<RankingSlot>>,
    /// When a ranking is computed afresh instead of taking in changes.
    pub policy: RefreshPolicy,
}

impl Default for RankingCache {
    fn default() -> Self {
        let slots = moka::sync::Cache::builder()
            .max_capacity(CACHE_ROWS)
            .weigher(|_: &RankingKey, slot: &Arc<RankingSlot>| {
                let rows = slot.held.try_lock().ok().and_then(|s| s.as_ref().map(|r| r.len() as u64)).unwrap_or(0);
                u32::try_from(rows.max(MIN_ROWS_PER_RANKING)).unwrap_or(u32::MAX)
            })
            .build();
        RankingCache { slots, policy: RefreshPolicy::default() }
    }
}

impl RankingCache {
    /// The slot of `key`, created empty when absent.
    pub fn slot(&self, key: &RankingKey) -> Arc<RankingSlot> {
        self.slots.get_with_by_ref(key, Arc::default)
    }

    /// Stores `ranking` in `slot` (whose lock `held` is) and lets the cache weigh the slot again
    /// by the rows it now holds.
    pub fn store(
        &self,
        key: &RankingKey,
        slot: &Arc<RankingSlot>,
        mut held: MutexGuard<'_, Option<Arc<Ranking>>>,
        ranking: Ranking,
    ) -> Arc<Ranking> {
        let ranking = Arc::new(ranking);
        *held = Some(ranking.clone());
        // The weigher reads through the slot's lock, so it must be released first.
        drop(held);
        self.slots.insert(key.clone(), slot.clone());
        ranking
    }

    /// Drops every explained entry of profile `id` (its name, passage and matched terms) from every
    /// cached ranking, at once rather than when the ranking is next asked for: a deleted profile's
    /// data must not stay in memory. The rows (id and scores only) go when the ranking takes in the
    /// change.
    pub fn forget(&self, id: &str) {
        for (_, slot) in self.slots.iter() {
            if let Some(ranking) = slot.lock().as_ref() {
                ranking.explained.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
            }
        }
    }

    /// Drops every ranking of `text` (the text of an erased profile, ranked for relevance feedback):
    /// the text is the key, and must not stay in memory.
    pub fn forget_text(&self, text: &str) {
        for (key, _) in self.slots.iter() {
            if &*key.text == text {
                self.slots.invalidate(&*key);
            }
        }
    }

    /// The ranking of `key` if it reflects change `latest`, without waiting for one being computed.
    pub fn current(&self, key: &RankingKey, latest: u64) -> Option<Arc<Ranking>> {
        let slot = self.slots.get(key)?;
        let held = slot.held.try_lock().ok()?;
        held.as_ref().filter(|r| r.seen == latest).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Kind, Profile};
    use crate::rank::hybrid::FusionWeights;
    use crate::search::LexicalQuery;

    fn facets(kind: Kind) -> Facets {
        let profile = Profile { kind, ..Profile::minimal("p", "P", "Batteries.") };
        Facets::of(&profile)
    }

    fn row(id: &str, score: f32) -> RankedRow {
        let signals = Signals {
            language: Language::En,
            cosine: score,
            bm25: None,
            concept_bm25: None,
            cognate_bm25: None,
            induced_bm25: None,
            best_match_cosine: None,
        };
        RankedRow { id: Arc::from(id), signals, fused: Fused { score, ..Fused::default() }, passage: 0, pending: false }
    }

    fn ranking(rows: &[(&str, f32, Kind)]) -> Ranking {
        let analysis = Arc::new(QueryAnalysis {
            query: LexicalQuery::new("battery", Language::En),
            concepts: Vec::new(),
            concepts_to_name: Vec::new(),
            grams: Vec::new(),
            roots: Default::default(),
            induced: Vec::new(),
            induced_concepts: Default::default(),
            induced_terms: Vec::new(),
            induced_rank: Vec::new(),
        });
        let norm = Normalisation::of(Ranker::Dense, &[], 0.0, FusionWeights::default());
        let rows = rows.iter().map(|(id, s, kind)| (row(id, *s), facets(*kind))).collect();
        Ranking::new(analysis, Arc::new(vec![]), norm, None, LexicalPools::default(), 0, rows)
    }

    fn ids(rows: Vec<&RankedRow>) -> Vec<String> {
        rows.iter().map(|r| r.id.to_string()).collect()
    }

    #[test]
    fn rows_come_best_first_with_ties_by_id_and_filters_only_remove_rows() {
        let r =
            ranking(&[("c", 0.5, Kind::Company), ("a", 0.9, Kind::Company), ("b", 0.5, Kind::KnowledgeInstitution)]);
        assert_eq!(ids(r.top(&Filter::default(), 10)), ["a", "b", "c"]);
        assert_eq!(ids(r.top(&Filter::default(), 2)), ["a", "b"]);
        let companies = Filter { kind: Some(Kind::Company), ..Filter::default() };
        assert_eq!(ids(r.top(&companies, 10)), ["a", "c"]);
    }

    #[test]
    fn a_changed_profile_moves_to_its_new_place_and_a_deleted_one_goes() {
        let r = ranking(&[("a", 0.9, Kind::Company), ("b", 0.5, Kind::Company), ("c", 0.4, Kind::Company)]);
        let r = r.with_changes(
            vec![(Arc::from("c"), Some((row("c", 0.95), facets(Kind::Company)))), (Arc::from("a"), None)],
            7,
        );
        assert_eq!(ids(r.top(&Filter::default(), 10)), ["c", "b"]);
        assert_eq!((r.seen, r.changes_taken), (7, 2));
        // A second change to the same profile replaces its earlier new row.
        let r = r.with_changes(vec![(Arc::from("c"), Some((row("c", 0.1), facets(Kind::Company))))], 8);
        assert_eq!(ids(r.top(&Filter::default(), 10)), ["b", "c"]);
        let institutions = Filter { kind: Some(Kind::KnowledgeInstitution), ..Filter::default() };
        assert!(r.top(&institutions, 10).is_empty());
    }

    #[test]
    fn a_ranking_takes_changes_to_at_most_one_percent_of_the_collection() {
        let policy = RefreshPolicy::default();
        assert_eq!(policy.budget(56), 0);
        assert_eq!(policy.budget(1_000), 10);
        assert_eq!(policy.budget(5_000), 50);
        assert_eq!(policy.budget(100_000), MAX_CHANGES_TAKEN);
        let r = ranking(&[("a", 0.9, Kind::Company)]);
        assert!(r.may_take(50, 5_000, &policy));
        assert!(!r.may_take(51, 5_000, &policy));
        let taken = r.with_changes(vec![(Arc::from("a"), None)], 1);
        assert!(!taken.may_take(50, 5_000, &policy));
        let expired = RefreshPolicy { max_age: Duration::ZERO, ..policy };
        assert!(!r.may_take(1, 5_000, &expired));
    }

    #[test]
    fn forgetting_a_text_drops_its_rankings_and_keeps_the_others() {
        let cache = RankingCache::default();
        let key = |language, text: &str| RankingKey { ranker: Ranker::Hybrid, language, text: Arc::from(text) };
        let keys = [key(Language::En, "erased text"), key(Language::Fr, "erased text"), key(Language::En, "other")];
        for k in &keys {
            let slot = cache.slot(k);
            cache.store(k, &slot, slot.lock(), ranking(&[("a", 0.5, Kind::Company)]));
        }
        cache.forget_text("erased text");
        assert!(cache.slots.get(&keys[0]).is_none());
        assert!(cache.slots.get(&keys[1]).is_none());
        assert!(cache.slots.get(&keys[2]).is_some());
    }
}
