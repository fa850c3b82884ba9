//! Batch imports: JSON Lines files of profiles, demand areas and events, validated together
//! (an event may name a demand area from the same run) and written only when every record of
//! every file is clean, so that a bad line never leaves half an import behind.
//!
//! An import is the organisers' own data and goes live at once, but it must not silently take over
//! a profile a supplier holds an edit token for (an id submitted through the service): by default
//! such an import is refused, naming the ids; with [`ImportOptions::revoke_supplier_tokens`] those
//! tokens are revoked first, so that the supplier can no longer read or change the organiser's
//! record.

use std::path::{Path, PathBuf};

use super::usecases::Actor;
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

/// How an import treats what is already stored.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// Replace profiles a supplier holds an edit token for, revoking the token (and dropping a
    /// pending submission under that id), instead of refusing the import.
    pub revoke_supplier_tokens: bool,
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
    /// [`Engine::import_with`] with the default options: refuses to replace a supplier's profile.
    pub fn import(&self, files: &ImportFiles) -> Result<ImportReport> {
        self.import_with(files, ImportOptions::default())
    }

    /// Validates all given files first; only when every file is clean, writes them all. Audited
    /// as the command line's.
    pub fn import_with(&self, files: &ImportFiles, options: ImportOptions) -> Result<ImportReport> {
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
        let ids: Vec<String> = profiles.iter().map(|l| l.record.id.clone()).collect();
        let claimed = self.indexer.store.ids_with_supplier_tokens(&ids)?;
        if !claimed.is_empty() && !options.revoke_supplier_tokens {
            let source = files.profiles.as_deref().map(|p| p.display().to_string()).unwrap_or_default();
            problems.extend(profiles.iter().filter(|l| claimed.binary_search(&l.record.id).is_ok()).map(|l| {
                RecordProblem {
                    source: source.clone(),
                    line: Some(l.line),
                    id: Some(l.record.id.clone()),
                    violation: crate::domain::Violation {
                        field: "id".into(),
                        rule: "would replace a profile submitted through the service, whose supplier holds an \
                               edit token for it; import with --revoke-supplier-tokens to revoke that token"
                            .into(),
                        value: None,
                    },
                }
            }));
        }
        if !problems.is_empty() {
            return Err(UserError::InvalidRecords(problems).into());
        }
        let profiles: Vec<Profile> = profiles.into_iter().map(|l| l.record).collect();
        let demands: Vec<DemandArea> = demands.into_iter().map(|l| l.record).collect();
        let events: Vec<Event> = events.into_iter().map(|l| l.record).collect();
        let who = Actor::command_line();
        if !claimed.is_empty() {
            self.indexer.store.revoke_supplier_tokens(&claimed)?;
            self.audit_many(&who, "revoke-edit-token", "profile", claimed.iter().map(String::as_str))?;
        }
        self.indexer.store.upsert_profiles(&profiles)?;
        self.indexer.store.upsert_demands(&demands)?;
        self.indexer.store.upsert_events(&events)?;
        self.audit_many(&who, "import", "profile", profiles.iter().map(|p| p.id.as_str()))?;
        self.audit_many(&who, "import", "demand", demands.iter().map(|d| d.id.as_str()))?;
        self.audit_many(&who, "import", "event", events.iter().map(|e| e.id.as_str()))?;
        if !profiles.is_empty() || !demands.is_empty() {
            self.indexer.index_import(true)?;
        }
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
