//! Batch imports: JSON Lines files of profiles, demand areas and events, validated together
//! (an event may name a demand area from the same run) and written only when every record of
//! every file is clean, so that a bad line never leaves half an import behind.

use std::path::{Path, PathBuf};

use super::Engine;
use crate::domain::{DemandArea, Event, Profile};
use crate::error::{RecordProblem, Result, UserError};
use crate::import::{read_file, Lined};

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

impl Engine {
    /// Validates all given files first; only when every file is clean, writes them all.
    pub fn import(&self, files: &ImportFiles) -> Result<ImportReport> {
        let _writes = self.indexer.lock_writes();
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
        self.indexer.import_profiles(&profiles, true)?;
        self.indexer.store.upsert_demands(&demands)?;
        self.indexer.store.upsert_events(&events)?;
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
            for missing in self.indexer.store.missing_demand_ids(unknown)? {
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
}
