//! Reviewers' decisions: one current verdict per (demand area, profile). They live beside the
//! records they are about and go with them (cascading deletes), so erasing a profile leaves no
//! decision naming it; what was decided when stays in the audit log.

use rusqlite::params;

use super::Store;
use crate::domain::{Decision, Verdict};
use crate::error::{Error, Result};

const COLUMNS: &str = "demand_id, profile_id, decision, note, decided_by, decided_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String, Option<String>, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

fn decision(fields: (String, String, String, Option<String>, String, String)) -> Result<Decision> {
    let (demand_id, profile_id, verdict, note, by, at) = fields;
    let decision = Verdict::parse(&verdict).ok_or_else(|| Error::Internal(format!("unknown decision {verdict}")))?;
    Ok(Decision { demand_id, profile_id, decision, note, by: Some(by), at: Some(at) })
}

impl Store {
    /// Stores `decisions` (each replacing the current one of its pair) in one transaction. Every
    /// decision carries `by` and `at`.
    pub fn upsert_decisions(&self, decisions: &[Decision]) -> Result<()> {
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "INSERT INTO decisions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(demand_id, profile_id) DO UPDATE SET decision = excluded.decision,
                 note = excluded.note, decided_by = excluded.decided_by, decided_at = excluded.decided_at"
            ))?;
            for d in decisions {
                stmt.execute(params![
                    d.demand_id,
                    d.profile_id,
                    d.decision.as_str(),
                    d.note,
                    d.by.as_deref().unwrap_or_default(),
                    d.at.as_deref().unwrap_or_default()
                ])?;
            }
            Ok(())
        })
    }

    /// Removes the decision on `profile_id` for `demand_id`; false when there was none.
    pub fn delete_decision(&self, demand_id: &str, profile_id: &str) -> Result<bool> {
        self.write(|tx| {
            Ok(tx.execute("DELETE FROM decisions WHERE demand_id = ?1 AND profile_id = ?2", [demand_id, profile_id])?
                > 0)
        })
    }

    /// The decisions of one demand area, by profile id.
    pub fn decisions_for(&self, demand_id: &str) -> Result<Vec<Decision>> {
        self.with_conn(|conn| {
            let mut stmt = conn
                .prepare_cached(&format!("SELECT {COLUMNS} FROM decisions WHERE demand_id = ?1 ORDER BY profile_id"))?;
            let rows = stmt.query_map([demand_id], row)?.collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(decision).collect()
        })
    }

    /// Every decision, by demand area and profile.
    pub fn all_decisions(&self) -> Result<Vec<Decision>> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM decisions ORDER BY demand_id, profile_id"))?;
            let rows = stmt.query_map([], row)?.collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(decision).collect()
        })
    }
}
