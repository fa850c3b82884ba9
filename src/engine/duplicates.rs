//! Likely duplicate profiles for the organiser ([`crate::duplicates`] says what makes a pair
//! likely one organisation), and the two ways to settle a pair: merge it (keep one profile, carry
//! the other's reviewer decisions over, erase the other) or mark it distinct so it is not proposed
//! again.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::decisions::rfc3339_now;
use super::{Actor, Engine};
use crate::domain::{Language, Profile};
use crate::duplicates::{candidate_pairs, likeness, Entry, Likeness};
use crate::error::{Result, UserError};

/// One profile of a pair, as the organiser compares them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairMember {
    /// Profile id.
    pub id: String,
    /// Organisation name.
    pub name: String,
    /// Language of its texts.
    pub language: Language,
    /// City, when given.
    pub city: Option<String>,
    /// Its summary (what decides which copy to keep).
    pub summary: String,
    /// Reviewer decisions recorded on it.
    pub decisions: usize,
}

/// Two profiles that are likely one organisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicatePair {
    /// The one with the smaller id.
    pub first: PairMember,
    /// The other.
    pub second: PairMember,
    /// The evidence.
    pub likeness: Likeness,
    /// The evidence in words.
    pub reasons: Vec<String>,
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeReport {
    /// The profile kept.
    pub kept: String,
    /// The profile erased.
    pub removed: String,
    /// Decisions carried over to the kept profile (those on demand areas it had none for).
    pub decisions_carried: usize,
}

fn member(p: &Profile, decisions: &HashMap<String, usize>) -> PairMember {
    PairMember {
        id: p.id.clone(),
        name: p.name.clone(),
        language: p.language,
        city: p.city.clone(),
        summary: p.summary.clone(),
        decisions: decisions.get(&p.id).copied().unwrap_or(0),
    }
}

impl Engine {
    /// Every pair of stored profiles that is likely one organisation and was not marked distinct,
    /// the most alike names first.
    pub fn likely_duplicates(&self) -> Result<Vec<DuplicatePair>> {
        let profiles = self.indexer.store.all_profiles()?;
        let entries: Vec<Entry<'_>> = profiles
            .iter()
            .map(|p| Entry {
                id: &p.id,
                name: &p.name,
                website: p.website.as_deref(),
                contact_email: p.contact_email.as_deref(),
            })
            .collect();
        let distinct: HashSet<(String, String)> = self.indexer.store.distinct_pairs()?.into_iter().collect();
        let mut decisions: HashMap<String, usize> = HashMap::new();
        for d in self.indexer.store.all_decisions()? {
            *decisions.entry(d.profile_id).or_default() += 1;
        }
        let vectors = self.indexer.read_vectors();
        let mut out = Vec::new();
        for (i, j) in candidate_pairs(&entries) {
            let (a, b) = if profiles[i].id <= profiles[j].id { (i, j) } else { (j, i) };
            if distinct.contains(&(profiles[a].id.clone(), profiles[b].id.clone())) {
                continue;
            }
            let meaning = match (vectors.mean_vector(&profiles[a].id), vectors.mean_vector(&profiles[b].id)) {
                (Some(x), Some(y)) => Some(x.iter().zip(&y).map(|(p, q)| p * q).sum::<f32>()),
                _ => None,
            };
            let l = likeness(&entries[a], &entries[b], meaning);
            if l.is_likely_duplicate() {
                out.push(DuplicatePair {
                    first: member(&profiles[a], &decisions),
                    second: member(&profiles[b], &decisions),
                    reasons: l.reasons(),
                    likeness: l,
                });
            }
        }
        drop(vectors);
        out.sort_by(|x, y| {
            y.likeness
                .name
                .total_cmp(&x.likeness.name)
                .then_with(|| y.likeness.meaning.unwrap_or(0.0).total_cmp(&x.likeness.meaning.unwrap_or(0.0)))
                .then_with(|| x.first.id.cmp(&y.first.id))
                .then_with(|| x.second.id.cmp(&y.second.id))
        });
        Ok(out)
    }

    /// Merges profile `remove` into `keep`: every reviewer decision on `remove` for a demand area
    /// that `keep` has no decision for moves to `keep` (with its verdict, note, who and when), then
    /// `remove` is erased like any deleted profile. Recorded in the audit log.
    pub fn merge_profiles(&self, keep: &str, remove: &str, who: impl Into<Actor>) -> Result<MergeReport> {
        let who = who.into();
        if keep == remove {
            return Err(UserError::BadArgument {
                field: "remove".into(),
                message: "a profile cannot be merged into itself".into(),
            }
            .into());
        }
        let carried = {
            let _writes = self.indexer.lock_writes();
            for id in [keep, remove] {
                if self.indexer.store.profile(id)?.is_none() {
                    return Err(UserError::not_found("profile", id).into());
                }
            }
            let all = self.indexer.store.all_decisions()?;
            let decided: HashSet<&str> =
                all.iter().filter(|d| d.profile_id == keep).map(|d| d.demand_id.as_str()).collect();
            let carried: Vec<_> = all
                .iter()
                .filter(|d| d.profile_id == remove && !decided.contains(d.demand_id.as_str()))
                .map(|d| crate::domain::Decision { profile_id: keep.to_string(), ..d.clone() })
                .collect();
            self.indexer.store.upsert_decisions(&carried)?;
            carried.len()
        };
        self.delete_profile(remove, who.clone())?;
        self.audit(&who, "merge", "profile", &format!("{remove} into {keep}"))?;
        Ok(MergeReport { kept: keep.to_string(), removed: remove.to_string(), decisions_carried: carried })
    }

    /// Records that profiles `a` and `b` are different organisations, so that they are not
    /// proposed as duplicates again.
    pub fn mark_distinct(&self, a: &str, b: &str, who: impl Into<Actor>) -> Result<()> {
        let who = who.into();
        let _writes = self.indexer.lock_writes();
        for id in [a, b] {
            if self.indexer.store.profile(id)?.is_none() {
                return Err(UserError::not_found("profile", id).into());
            }
        }
        self.indexer.store.mark_distinct(a, b, who.as_str(), &rfc3339_now())?;
        self.audit(&who, "mark distinct", "profile", &format!("{a} and {b}"))
    }
}
