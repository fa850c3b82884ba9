//! A demand area's shortlist once its reviewers have decided on some profiles: each decided
//! profile is ranked against the collection like a demand area (a cached ranking like any other),
//! and the undecided profiles of the demand area's ranking move by how much they resemble the
//! decided ones ([`crate::rank::feedback`]). Decided profiles keep their own score, so the
//! reviewers find them where they left them.

use std::collections::HashMap;
use std::sync::Arc;

use super::rankings::{RankedRow, RankingKey};
use super::shortlists::profiles_by_id;
use super::{Engine, MAX_K};
use crate::domain::{DemandArea, Filter, Profile, Ranker, Verdict};
use crate::error::Result;
use crate::rank::feedback::{feedback, Feedback, Likeness, NAMED_LIKENESS};
use crate::rank::{MovedBy, ShortlistEntry};

/// The text a decided profile is ranked with when it stands in for a demand area: what it says it
/// does and what it offers, the words an organiser would have used to look for it.
pub fn likeness_text(profile: &Profile) -> String {
    let mut text = profile.summary.trim().to_string();
    for innovation in &profile.innovations {
        text.push('\n');
        text.push_str(innovation.trim());
    }
    if !profile.keywords.is_empty() {
        text.push('\n');
        text.push_str(&profile.keywords.join(", "));
    }
    text
}

/// How much every profile resembles one decided profile.
struct Neighbourhood {
    verdict: Verdict,
    name: String,
    scores: HashMap<Arc<str>, f32>,
    /// The score of a profile beyond the ranked rows kept (at most the last kept).
    floor: f32,
    /// The best score of a profile other than the decided one.
    best: f32,
}

impl Neighbourhood {
    fn likeness(&self, id: &Arc<str>) -> Likeness {
        let score = self.scores.get(id).copied().unwrap_or(self.floor);
        Likeness { verdict: self.verdict, score, best: self.best }
    }
}

impl Engine {
    /// The hybrid shortlist of `demand` with the decisions `verdicts` taken into account: the
    /// undecided profiles among its first [`MAX_K`] are scored again with their feedback, then
    /// everything is sorted again and the first `k` that pass `filter` are explained.
    pub(super) fn feedback_entries(
        &self,
        demand: &DemandArea,
        verdicts: &HashMap<String, Verdict>,
        k: usize,
        filter: &Filter,
    ) -> Result<Vec<ShortlistEntry>> {
        let ranker = Ranker::Hybrid;
        let key = RankingKey { ranker, language: demand.language, text: Arc::from(demand.query_text()) };
        let ranking = self.ranking(&key)?;
        let mut decided: Vec<(&String, &Verdict)> = verdicts.iter().collect();
        decided.sort();
        let ids: Vec<String> = decided.iter().map(|(id, _)| (*id).clone()).collect();
        let profiles = profiles_by_id(self, &ids)?;
        let mut neighbourhoods = Vec::with_capacity(decided.len());
        for (id, verdict) in decided {
            let Some(profile) = profiles.get(id) else { continue };
            let key = RankingKey { ranker, language: profile.language, text: Arc::from(likeness_text(profile)) };
            let around = self.ranking(&key)?;
            let rows = around.top(&Filter::default(), MAX_K);
            let best = rows.iter().find(|r| &*r.id != id.as_str()).map_or(0.0, |r| r.fused.score);
            let floor = if rows.len() == MAX_K { rows.last().map_or(0.0, |r| r.fused.score) } else { 0.0 };
            neighbourhoods.push(Neighbourhood {
                verdict: *verdict,
                name: profile.name.clone(),
                scores: rows.iter().map(|r| (r.id.clone(), r.fused.score)).collect(),
                floor,
                best,
            });
        }
        let mut scored: Vec<(&RankedRow, f32, Feedback)> = ranking
            .top(filter, MAX_K)
            .into_iter()
            .map(|row| {
                if verdicts.contains_key(&*row.id) {
                    return (row, row.fused.score, Feedback::default());
                }
                let likeness: Vec<Likeness> = neighbourhoods.iter().map(|n| n.likeness(&row.id)).collect();
                let moved = feedback(&likeness, &self.feedback);
                (row, row.fused.score + moved.delta, moved)
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.id.cmp(&b.0.id)));
        scored.truncate(k);
        let rows: Vec<&RankedRow> = scored.iter().map(|(row, _, _)| *row).collect();
        let entries = self.explain_rows(&ranking, ranker, rows)?;
        Ok(entries
            .into_iter()
            .zip(scored)
            .map(|(mut entry, (_, score, moved))| {
                entry.score = score;
                if moved != Feedback::default() {
                    entry.explanation.scores.feedback = Some(moved.delta);
                    if let Some((sentence, by)) = feedback_sentence(&moved, &neighbourhoods) {
                        entry.explanation.reason = format!("{sentence} {}", entry.explanation.reason);
                        entry.explanation.moved_by = Some(by);
                    }
                }
                entry
            })
            .collect())
    }
}

/// The sentence that says why feedback moved a profile, when one decided profile it closely
/// resembles explains the move.
fn feedback_sentence(moved: &Feedback, around: &[Neighbourhood]) -> Option<(String, MovedBy)> {
    let named = |c: Option<(usize, f32)>| c.filter(|(_, r)| *r >= NAMED_LIKENESS).map(|(i, _)| &around[i]);
    let by = |n: &Neighbourhood, up: bool| MovedBy { up, name: n.name.clone(), verdict: n.verdict };
    if moved.delta > 0.0 {
        let liked = named(moved.closest_liked)?;
        let verdict = if liked.verdict == Verdict::Interested { "interested" } else { "maybe" };
        Some((format!("Moved up: close to {}, which the OEM marked {verdict}.", liked.name), by(liked, true)))
    } else if moved.delta < 0.0 {
        let refused = named(moved.closest_refused)?;
        Some((format!("Moved down: close to {}, which the OEM marked not relevant.", refused.name), by(refused, false)))
    } else {
        None
    }
}
