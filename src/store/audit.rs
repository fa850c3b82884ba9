//! The audit log: who changed which record how, and when, appended by every write of an organiser
//! or a supplier. It names records by id only and never holds a token or a record's content, so it
//! can be kept when the records themselves are deleted.

use rusqlite::params;

use super::Store;
use crate::domain::AuditEntry;
use crate::error::Result;

/// What an entry says, before the log numbers and dates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Who: the organiser token's name, `supplier <profile id>` or `command line`.
    pub actor: String,
    /// What was done (`create`, `replace`, `delete`, `approve`, …).
    pub action: &'static str,
    /// The kind of record.
    pub kind: &'static str,
    /// The record's id.
    pub record_id: String,
}

impl Store {
    /// Appends entries, in one transaction, stamped with the current time.
    pub fn append_audit(&self, events: &[AuditEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO audit_log (at, actor, action, kind, record_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for e in events {
                stmt.execute(params![at, e.actor, e.action, e.kind, e.record_id])?;
            }
            Ok(())
        })
    }

    /// Renames profile `id` to `alias` in every entry (as the record and as the supplier who
    /// wrote), then truncates the WAL. A profile's id carries a slug of its name, which may be a
    /// person's: once the profile is erased, its entries stay, linked to each other by the alias
    /// but no longer to the name.
    pub fn pseudonymise_audit(&self, id: &str, alias: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute("UPDATE audit_log SET record_id = ?2 WHERE kind = 'profile' AND record_id = ?1", [id, alias])?;
            // Decisions are logged as `demand/profile`.
            tx.execute(
                "UPDATE audit_log SET record_id = substr(record_id, 1, length(record_id) - length(?1)) || ?2
                 WHERE kind = 'decision' AND substr(record_id, -length(?1) - 1) = '/' || ?1",
                [id, alias],
            )?;
            tx.execute("UPDATE audit_log SET actor = 'supplier ' || ?2 WHERE actor = 'supplier ' || ?1", [id, alias])?;
            Ok(())
        })?;
        self.truncate_wal();
        Ok(())
    }

    /// Up to `limit` entries newest first, older than `before` when given, only about record
    /// `record_id` when given.
    pub fn audit_page(&self, before: Option<u64>, record_id: Option<&str>, limit: usize) -> Result<Vec<AuditEntry>> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, at, actor, action, kind, record_id FROM audit_log
                 WHERE seq < ?1 AND (?2 IS NULL OR record_id = ?2) ORDER BY seq DESC LIMIT ?3",
            )?;
            let before = before.map_or(i64::MAX, |b| b.min(i64::MAX as u64) as i64);
            let rows = stmt.query_map(params![before, record_id, limit as i64], |r| {
                Ok(AuditEntry {
                    seq: r.get::<_, i64>(0)? as u64,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    kind: r.get(4)?,
                    record_id: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_newest_first_and_filters_by_record() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        let event =
            |id: &str| AuditEvent { actor: "alice".into(), action: "delete", kind: "profile", record_id: id.into() };
        store.append_audit(&[event("a"), event("b"), event("a")]).unwrap();
        let all = store.audit_page(None, None, 10).unwrap();
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 2, 1]);
        let next = store.audit_page(Some(3), None, 1).unwrap();
        assert_eq!((next[0].seq, next[0].record_id.as_str()), (2, "b"));
        assert_eq!(store.audit_page(None, Some("a"), 10).unwrap().len(), 2);
    }
}
