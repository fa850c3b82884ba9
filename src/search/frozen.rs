//! A query's BM25 weights frozen at one state of the index. A cached ranking normalises every score
//! against statistics taken when it was computed; when it later takes in one changed profile, that
//! profile must be scored the same way, and quickly. Building a demand text's query (hundreds of
//! term clauses: every word in every language's fields) and looking up each term's statistics
//! again costs tens of milliseconds at 100,000 profiles; keeping the built weights with the ranking
//! and opening them on the one segment that holds the profile costs a fraction of that, and scores
//! it against the same document frequencies as the rest of the ranking.

use std::sync::Arc;

use tantivy::collector::{Collector, TopDocs};
use tantivy::query::{BooleanQuery, EnableScoring, Occur, Query, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet, Term, TERMINATED};

use super::{LexicalQuery, SearchIndex};
use crate::error::Result;

/// A query with its term statistics taken once (see the module docs). Cloning shares them.
#[derive(Clone)]
pub struct FrozenQuery {
    weight: Arc<dyn Weight>,
}

impl std::fmt::Debug for FrozenQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FrozenQuery")
    }
}

impl SearchIndex {
    /// `query`'s weights over the index as it is now; `None` when it has no terms.
    pub fn freeze(&self, query: &LexicalQuery) -> Result<Option<FrozenQuery>> {
        self.freeze_query(self.lexical_query(query))
    }

    /// The weights of BM25 over the glossary concepts a query names (`(concept id, count in the
    /// query)`): the profiles that share them, weighted by how often the query names each.
    pub fn freeze_concepts(&self, concepts: &[(String, u32)]) -> Result<Option<FrozenQuery>> {
        self.freeze_query(self.concept_query(concepts))
    }

    /// The weights of BM25 over the induced concepts a query mentions (`(concept id, count)`):
    /// the profiles that share them, in any language.
    pub fn freeze_induced(&self, concepts: &[(String, u32)]) -> Result<Option<FrozenQuery>> {
        self.freeze_query(self.induced_query(concepts))
    }

    /// The weights of BM25 over a query's word grams ([`super::cognates::query_grams`]): the
    /// profiles whose words share roots with the query's, in any language.
    pub fn freeze_cognates(&self, grams: &[String]) -> Result<Option<FrozenQuery>> {
        self.freeze_query(self.cognate_query(grams))
    }

    fn freeze_query(&self, query: Option<Box<dyn Query>>) -> Result<Option<FrozenQuery>> {
        let Some(query) = query else { return Ok(None) };
        // Wrapped as `run` wraps it for a search: tantivy then scores through the same path (a
        // union rather than block-max WAND), so the scores equal a search's to the last bit.
        let query = BooleanQuery::new(vec![(Occur::Must, query)]);
        let searcher = self.reader.searcher();
        let weight = query.weight(EnableScoring::enabled_from_searcher(&searcher))?;
        Ok(Some(FrozenQuery { weight: Arc::from(weight) }))
    }

    /// The `limit` best profiles for `frozen` over every profile, best first, ties by id: the same
    /// hits and scores as [`SearchIndex::search`] without a filter, when nothing changed since the
    /// query was frozen.
    pub fn search_frozen(&self, frozen: Option<&FrozenQuery>, limit: usize) -> Result<Vec<(String, f32)>> {
        let Some(frozen) = frozen else { return Ok(Vec::new()) };
        let searcher = self.reader.searcher();
        let collector = TopDocs::with_limit(fetch_for(limit));
        let mut per_segment = Vec::with_capacity(searcher.segment_readers().len());
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let ord = u32::try_from(ord).map_err(|_| crate::Error::Internal("too many index segments".into()))?;
            per_segment.push(collector.collect_segment(frozen.weight.as_ref(), ord, segment)?);
        }
        let hits = collector.merge_fruits(per_segment)?;
        self.ids_of_hits(&searcher, hits, limit)
    }

    /// The score `frozen` gives profile `id` as the index holds it now; `None` when the profile does
    /// not match or is not in the index.
    pub fn score_frozen(&self, frozen: Option<&FrozenQuery>, id: &str) -> Result<Option<f32>> {
        let Some(frozen) = frozen else { return Ok(None) };
        let searcher = self.reader.searcher();
        let term = Term::from_field_text(self.fields.id, id);
        for segment in searcher.segment_readers() {
            let Some(mut postings) =
                segment.inverted_index(self.fields.id)?.read_postings(&term, IndexRecordOption::Basic)?
            else {
                continue;
            };
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if segment.alive_bitset().is_none_or(|alive| alive.is_alive(doc)) {
                    let mut scorer = frozen.weight.scorer(segment, 1.0)?;
                    return Ok((scorer.seek(doc) == doc).then(|| scorer.score()));
                }
                doc = postings.advance();
            }
        }
        Ok(None)
    }
}

/// Hits fetched for a cut at `limit`: a margin beyond it, so that equal scores at the cut-off are
/// ordered by id, not by where a document happens to sit in the segments.
pub(super) fn fetch_for(limit: usize) -> usize {
    limit.saturating_mul(2).saturating_add(10).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Filter, Language, Profile};
    use crate::search::Glossary;
    use crate::store::ProfileChanges;

    fn profile(id: &str, summary: &str) -> Profile {
        Profile::minimal(id, id, summary)
    }

    fn upsert(index: &SearchIndex, profiles: Vec<Profile>, up_to: u64) {
        index.apply(&ProfileChanges { upserted: profiles, deleted: Vec::new(), up_to }).unwrap();
    }

    #[test]
    fn a_frozen_query_scores_as_a_search_and_keeps_its_statistics_for_later_profiles() {
        let dir = tempfile::tempdir().unwrap();
        let index =
            SearchIndex::open(&dir.path().join("tantivy"), Arc::new(Glossary::empty()), Arc::default()).unwrap();
        upsert(
            &index,
            vec![
                profile("a", "Hydrogen pressure vessels for trucks."),
                profile("b", "Pressure sensors for brake lines."),
                profile("c", "Seat fabrics from recycled yarn."),
            ],
            3,
        );
        let query = LexicalQuery::new("hydrogen pressure vessels", Language::En);
        let frozen = index.freeze(&query).unwrap();
        let searched = index.search(&query, &Filter::default(), 10).unwrap();
        assert_eq!(searched.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(index.search_frozen(frozen.as_ref(), 10).unwrap(), searched);
        for (id, score) in &searched {
            assert_eq!(index.score_frozen(frozen.as_ref(), id).unwrap(), Some(*score));
        }
        assert_eq!(index.score_frozen(frozen.as_ref(), "c").unwrap(), None, "c does not match");
        assert_eq!(index.score_frozen(frozen.as_ref(), "nobody").unwrap(), None);

        // A profile added later (in a segment of its own) and one replaced are scored with the
        // statistics of three profiles, the state the query was frozen in: "a" rewritten to the
        // text of "b" scores as "b" did.
        upsert(&index, vec![profile("a", "Pressure sensors for brake lines."), profile("d", "Hydrogen vessels.")], 5);
        let score_b = searched[1].1;
        assert_eq!(index.score_frozen(frozen.as_ref(), "a").unwrap(), Some(score_b));
        let d = index.score_frozen(frozen.as_ref(), "d").unwrap().expect("d matches");
        assert!(d > score_b, "two rare words outweigh one common one: {d} vs {score_b}");
        // A fresh search counts four profiles, and with them other document frequencies.
        let fresh = index.search(&query, &Filter::default(), 10).unwrap();
        assert_ne!(fresh.iter().find(|(id, _)| id == "d").map(|(_, s)| *s), Some(d));
        assert_eq!(index.score_frozen(None, "a").unwrap(), None, "a query without terms matches nothing");
    }
}
