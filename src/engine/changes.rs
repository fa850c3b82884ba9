//! The recent profile changes, numbered. A cached ranking remembers the number it reflects; when
//! it is asked for again it re-scores just the profiles changed since, instead of every profile
//! (see `rankings`). The log keeps a bounded tail: a ranking older than the tail, or one that has
//! taken in more changes than its statistics may drift over, is computed afresh.

use std::collections::VecDeque;
use std::sync::Arc;

/// Numbered changes to the profile set (inserted, replaced, deleted, or given new vectors).
#[derive(Debug)]
pub(super) struct ChangeLog {
    /// Number of the latest change; 0 before the first.
    latest: u64,
    /// Changes older than or equal to this are no longer listed.
    floor: u64,
    /// `(number, profile id)` for the changes after `floor`, oldest first.
    recent: VecDeque<(u64, Arc<str>)>,
    capacity: usize,
}

/// What changed since a ranking was computed.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Since {
    /// Nothing: the ranking is current.
    Nothing,
    /// These profiles (each once), up to change number `up_to`.
    Profiles { ids: Vec<Arc<str>>, up_to: u64 },
    /// More than the log remembers, or a change that affects every profile (a rebuilt index).
    Everything,
}

impl ChangeLog {
    /// A log that lists the last `capacity` changes.
    pub(super) fn new(capacity: usize) -> ChangeLog {
        ChangeLog { latest: 0, floor: 0, recent: VecDeque::new(), capacity: capacity.max(1) }
    }

    /// Number of the latest change.
    pub(super) fn latest(&self) -> u64 {
        self.latest
    }

    /// Records that profile `id` changed.
    pub(super) fn record(&mut self, id: &str) {
        self.latest += 1;
        self.recent.push_back((self.latest, Arc::from(id)));
        while self.recent.len() > self.capacity {
            if let Some((n, _)) = self.recent.pop_front() {
                self.floor = n;
            }
        }
    }

    /// Records a change that touches every profile's score (rebuilt index, reloaded vectors).
    pub(super) fn record_everything(&mut self) {
        self.latest += 1;
        self.floor = self.latest;
        self.recent.clear();
    }

    /// The profiles changed after change number `seen`.
    pub(super) fn since(&self, seen: u64) -> Since {
        if seen >= self.latest {
            return Since::Nothing;
        }
        if seen < self.floor {
            return Since::Everything;
        }
        let mut ids: Vec<Arc<str>> = self.recent.iter().filter(|(n, _)| *n > seen).map(|(_, id)| id.clone()).collect();
        ids.sort_unstable();
        ids.dedup();
        Since::Profiles { ids, up_to: self.latest }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(since: Since) -> Vec<String> {
        match since {
            Since::Profiles { ids, .. } => ids.iter().map(|s| s.to_string()).collect(),
            other => panic!("expected profiles, got {other:?}"),
        }
    }

    #[test]
    fn lists_each_profile_changed_since_once() {
        let mut log = ChangeLog::new(10);
        log.record("a");
        let seen = log.latest();
        log.record("b");
        log.record("a");
        log.record("b");
        assert_eq!(ids(log.since(seen)), ["a", "b"]);
        assert_eq!(log.since(log.latest()), Since::Nothing);
        assert_eq!(ids(log.since(0)), ["a", "b"]);
    }

    #[test]
    fn a_ranking_older_than_the_tail_starts_over() {
        let mut log = ChangeLog::new(2);
        log.record("a");
        log.record("b");
        log.record("c");
        assert_eq!(log.since(0), Since::Everything);
        assert_eq!(ids(log.since(1)), ["b", "c"]);
    }

    #[test]
    fn a_change_to_everything_invalidates_every_ranking() {
        let mut log = ChangeLog::new(10);
        log.record("a");
        let seen = log.latest();
        log.record_everything();
        assert_eq!(log.since(seen), Since::Everything);
        assert_eq!(log.since(log.latest()), Since::Nothing);
        log.record("b");
        assert_eq!(ids(log.since(log.latest() - 1)), ["b"]);
    }
}
