//! The SQLite store: the single source of truth. Everything else (the tantivy index, the vector
//! matrix) is derived from it and can be rebuilt. It runs in WAL mode with `synchronous=FULL`, so a
//! write that returned is on disk, and every profile change gets a sequence number so derived
//! structures can tell exactly which changes they have not yet applied (crash recovery).
//!
//! The store holds personal data (names, contact e-mails), so a delete erases: `secure_delete`
//! overwrites deleted content with zeros instead of leaving it in free pages, and after deleting a
//! profile the WAL, which still holds the pages as they were, is checkpointed and truncated.

mod audit;
mod curation;
mod decisions;
mod distinct;
mod migrations;
mod models;
mod moderation;
mod tokens;
mod vectors;

pub use self::vectors::StoredVectors;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension};

use crate::domain::{DemandArea, Event, Profile};
use crate::error::{Error, Result};

pub use self::audit::AuditEvent;
pub use self::models::StoredInterestModel;
pub use self::moderation::{PendingInsert, PendingLimits, PendingProfile};
pub use self::tokens::{generate_token, hash_token, ApiToken, TokenRole};

/// Handle to the SQLite database file.
pub struct Store {
    conn: Mutex<Connection>,
}

/// A change to the profile set since some sequence number.
#[derive(Debug, Default)]
pub struct ProfileChanges {
    /// Profiles inserted or updated, with their sequence numbers.
    pub upserted: Vec<Profile>,
    /// Ids of deleted profiles.
    pub deleted: Vec<String>,
    /// The highest sequence number covered.
    pub up_to: u64,
}

/// What the store keeps about a profile beside its record (see [`Store::profile_facts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileFacts {
    /// The change sequence number of the stored version.
    pub version: u64,
    /// Whether an edit token (its hash) is stored.
    pub has_edit_token: bool,
    /// The stored passage embeddings, if any.
    pub vectors: Option<VectorFacts>,
}

/// A profile's stored embeddings, described.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VectorFacts {
    /// The model that computed them.
    pub model: String,
    /// Numbers per vector.
    pub dimensions: u64,
    /// Vectors (one per passage of the profile's text).
    pub passages: u64,
    /// The profile version they were computed from.
    pub of_version: u64,
}

fn decode<T: serde::de::DeserializeOwned>(json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| Error::Internal(format!("corrupt stored record: {e}")))
}

impl Store {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<Store> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        migrations::apply(&mut conn)?;
        Ok(Store { conn: Mutex::new(conn) })
    }

    /// Opens an existing database at `path` for reading only, beside a process that may be
    /// writing it (a running server): SQLite's WAL lets readers and one writer work at once. Never
    /// creates or migrates anything; a missing file or an older schema is an error.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        use rusqlite::OpenFlags;
        if !path.is_file() {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no store at {}", path.display()),
            )));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.pragma_update(None, "query_only", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version != migrations::MIGRATIONS.len() as i64 {
            return Err(Error::Internal(format!(
                "the store {} has schema version {version} and this build reads version {}; open it once \
                 with a command that writes (import, serve) to migrate it",
                path.display(),
                migrations::MIGRATIONS.len()
            )));
        }
        Ok(Store { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll back),
        // so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` inside one transaction; commits only if it returns Ok.
    fn write<T>(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Inserts or replaces profiles in one transaction. Returns the last sequence number used.
    pub fn upsert_profiles(&self, profiles: &[Profile]) -> Result<u64> {
        self.write(|tx| {
            let mut seq = next_seq(tx)?;
            let mut stmt = tx.prepare_cached(
                "INSERT INTO profiles (id, record, language, seq) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(id) DO UPDATE SET record = excluded.record, language = excluded.language,
                 seq = excluded.seq",
            )?;
            for p in profiles {
                seq += 1;
                stmt.execute(params![p.id, serde_json::to_string(p)?, p.language.code(), seq as i64])?;
                tx.execute("DELETE FROM profile_tombstones WHERE id = ?1", [&p.id])?;
            }
            set_seq(tx, seq)?;
            Ok(seq)
        })
    }

    /// Deletes a profile (and its vectors and edit token) and erases it: the deleted rows are
    /// overwritten in the database file (`secure_delete`) and the WAL, which holds earlier versions
    /// of the pages, is checkpointed and truncated. Returns false when it did not exist.
    pub fn delete_profile(&self, id: &str) -> Result<bool> {
        let deleted = self.delete_profile_rows(id)?;
        if deleted {
            self.truncate_wal();
        }
        Ok(deleted)
    }

    fn delete_profile_rows(&self, id: &str) -> Result<bool> {
        self.write(|tx| {
            let n = tx.execute("DELETE FROM profiles WHERE id = ?1", [id])?;
            if n == 0 {
                return Ok(false);
            }
            // A kept line-up names the profile in its selection and inputs: it goes too (the
            // event is solved again without it).
            tx.execute("DELETE FROM line_ups WHERE instr(record, ?1) > 0", [serde_json::to_string(id)?])?;
            tx.execute("DELETE FROM agenda_orders WHERE instr(pitch_order, ?1) > 0", [serde_json::to_string(id)?])?;
            let seq = next_seq(tx)? + 1;
            tx.execute(
                "INSERT INTO profile_tombstones (id, seq) VALUES (?1, ?2)
                 ON CONFLICT(id) DO UPDATE SET seq = excluded.seq",
                params![id, seq as i64],
            )?;
            set_seq(tx, seq)?;
            Ok(true)
        })
    }

    /// One profile by id.
    pub fn profile(&self, id: &str) -> Result<Option<Profile>> {
        let conn = self.conn();
        let json: Option<String> =
            conn.query_row("SELECT record FROM profiles WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        json.as_deref().map(decode).transpose()
    }

    /// Several profiles by id, in the order asked; missing ids are skipped.
    pub fn profiles_by_id(&self, ids: &[String]) -> Result<Vec<Profile>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT record FROM profiles WHERE id = ?1")?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(json) = stmt.query_row([id], |r| r.get::<_, String>(0)).optional()? {
                out.push(decode(&json)?);
            }
        }
        Ok(out)
    }

    /// All profiles ordered by id.
    pub fn all_profiles(&self) -> Result<Vec<Profile>> {
        self.query_records("SELECT record FROM profiles ORDER BY id", [])
    }

    /// A page of profiles ordered by id, starting after `after`.
    pub fn profile_page(&self, after: Option<&str>, limit: usize) -> Result<Vec<Profile>> {
        self.query_records(
            "SELECT record FROM profiles WHERE id > ?1 ORDER BY id LIMIT ?2",
            params![after.unwrap_or(""), limit as i64],
        )
    }

    /// Number of stored profiles.
    pub fn profile_count(&self) -> Result<usize> {
        let n: i64 = self.conn().query_row("SELECT COUNT(*) FROM profiles", [], |r| r.get(0))?;
        Ok(n as usize)
    }

    /// Profile changes with a sequence number above `after`.
    pub fn profile_changes_since(&self, after: u64) -> Result<ProfileChanges> {
        let upserted = self.query_records("SELECT record FROM profiles WHERE seq > ?1 ORDER BY seq", [after as i64])?;
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id FROM profile_tombstones WHERE seq > ?1 ORDER BY seq")?;
        let deleted = stmt.query_map([after as i64], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
        let up_to = current_seq(&conn)?;
        Ok(ProfileChanges { upserted, deleted, up_to })
    }

    /// Drops the tombstones of deletes up to sequence number `applied`, once the index has taken
    /// them in: a deleted profile's id (a slug of its name) must not outlive it in the store.
    pub fn forget_tombstones(&self, applied: u64) -> Result<()> {
        self.write(|tx| {
            tx.execute("DELETE FROM profile_tombstones WHERE seq <= ?1", [applied as i64])?;
            Ok(())
        })
    }

    /// The highest profile sequence number handed out so far.
    pub fn profile_seq(&self) -> Result<u64> {
        current_seq(&self.conn())
    }

    /// Inserts or replaces demand areas in one transaction.
    pub fn upsert_demands(&self, demands: &[DemandArea]) -> Result<()> {
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO demands (id, record, organisation) VALUES (?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET record = excluded.record, organisation = excluded.organisation",
            )?;
            for d in demands {
                stmt.execute(params![d.id, serde_json::to_string(d)?, d.organisation])?;
            }
            Ok(())
        })
    }

    /// Deletes a demand area. Returns false when it did not exist.
    pub fn delete_demand(&self, id: &str) -> Result<bool> {
        self.write(|tx| Ok(tx.execute("DELETE FROM demands WHERE id = ?1", [id])? > 0))
    }

    /// Deletes an event; `false` when there was none.
    pub fn delete_event(&self, id: &str) -> Result<bool> {
        self.write(|tx| Ok(tx.execute("DELETE FROM events WHERE id = ?1", [id])? > 0))
    }

    /// One demand area by id.
    pub fn demand(&self, id: &str) -> Result<Option<DemandArea>> {
        Ok(self.query_records("SELECT record FROM demands WHERE id = ?1", [id])?.pop())
    }

    /// All demand areas ordered by id.
    pub fn all_demands(&self) -> Result<Vec<DemandArea>> {
        self.query_records("SELECT record FROM demands ORDER BY id", [])
    }

    /// Ids among `ids` that are not stored demand areas.
    pub fn missing_demand_ids<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT 1 FROM demands WHERE id = ?1")?;
        let mut missing = Vec::new();
        for id in ids {
            if stmt.query_row([id], |_| Ok(())).optional()?.is_none() {
                missing.push(id.to_string());
            }
        }
        Ok(missing)
    }

    /// Inserts or replaces events in one transaction.
    pub fn upsert_events(&self, events: &[Event]) -> Result<()> {
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO events (id, record) VALUES (?1, ?2)
                 ON CONFLICT(id) DO UPDATE SET record = excluded.record",
            )?;
            for e in events {
                stmt.execute(params![e.id, serde_json::to_string(e)?])?;
            }
            Ok(())
        })
    }

    /// One event by id.
    pub fn event(&self, id: &str) -> Result<Option<Event>> {
        Ok(self.query_records("SELECT record FROM events WHERE id = ?1", [id])?.pop())
    }

    /// All events ordered by id.
    pub fn all_events(&self) -> Result<Vec<Event>> {
        self.query_records("SELECT record FROM events ORDER BY id", [])
    }

    /// Runs SQLite's own consistency check; returns its report ("ok" when healthy).
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.conn().query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    fn query_records<T: serde::de::DeserializeOwned>(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<T>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map(args, |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for json in rows {
            out.push(decode(&json?)?);
        }
        Ok(out)
    }

    /// Copies every page of the WAL into the database file and truncates the WAL to zero bytes, so
    /// that no earlier version of a page (a deleted record among them) stays on disk beside the
    /// database. When a reader in another process still uses the WAL (a `rank` beside `serve`), the
    /// WAL cannot be truncated now; it is then logged, and the next delete or a restart does it.
    pub fn truncate_wal(&self) {
        let outcome = self.conn().query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get::<_, i64>(0));
        match outcome {
            Ok(0) => {}
            Ok(_) => tracing::warn!("the WAL is in use by a reader; it is truncated at the next delete"),
            Err(e) => tracing::warn!(error = %e, "checkpointing the WAL failed"),
        }
    }

    /// Writes a consistent copy of the whole database to `dest` (a new file) with SQLite's online
    /// backup API: one read transaction, so that writes by a running server neither block it nor
    /// tear it. The copy is a single file (rollback journal mode) checked with SQLite's
    /// `integrity_check`.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        let mut target = Connection::open(dest)?;
        {
            let conn = self.conn();
            let backup = rusqlite::backup::Backup::new(&conn, &mut target)?;
            // All pages in one step: one snapshot of the source.
            backup.step(-1)?;
        }
        target.pragma_update(None, "journal_mode", "DELETE")?;
        check_copy(&target, dest)
    }

    /// Copies the database in `source` (a file [`Store::backup_to`] wrote) to `dest`, a path where
    /// nothing exists yet, after checking that it is an intact pitchmatch store this build can
    /// open (its schema version is not newer than this build's).
    pub fn restore_copy(source: &Path, dest: &Path) -> Result<()> {
        use rusqlite::OpenFlags;
        let bad = |why: String| {
            Error::User(crate::error::UserError::UnreadableInput { path: source.display().to_string(), reason: why })
        };
        if !source.is_file() {
            return Err(bad("no such file".into()));
        }
        let from = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| bad(format!("not an SQLite database: {e}")))?;
        let version: i64 = from
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| bad(format!("not an SQLite database: {e}")))?;
        let has_profiles: bool = from
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'profiles'", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n == 1)
            .unwrap_or(false);
        if !has_profiles || version < 1 {
            return Err(bad("not a pitchmatch store (no profiles table)".into()));
        }
        if version > migrations::MIGRATIONS.len() as i64 {
            return Err(bad(format!(
                "written by a newer pitchmatch (schema version {version}; this build knows {})",
                migrations::MIGRATIONS.len()
            )));
        }
        let mut target = Connection::open(dest)?;
        {
            let backup = rusqlite::backup::Backup::new(&from, &mut target)?;
            backup.step(-1)?;
        }
        target.pragma_update(None, "journal_mode", "DELETE")?;
        check_copy(&target, dest)
    }

    /// What the store keeps about profile `id` beside its record, for the owner's data export:
    /// `None` when the profile does not exist.
    pub fn profile_facts(&self, id: &str) -> Result<Option<ProfileFacts>> {
        let conn = self.conn();
        let Some(version) =
            conn.query_row("SELECT seq FROM profiles WHERE id = ?1", [id], |r| r.get::<_, i64>(0)).optional()?
        else {
            return Ok(None);
        };
        let has_edit_token =
            conn.query_row("SELECT COUNT(*) FROM profile_tokens WHERE profile_id = ?1", [id], |r| r.get::<_, i64>(0))?
                > 0;
        let vectors = conn
            .query_row(
                "SELECT model, dim, seq, length(vectors) FROM profile_vectors WHERE profile_id = ?1",
                [id],
                |r| {
                    let dim = r.get::<_, i64>(1)?.max(1) as u64;
                    Ok(VectorFacts {
                        model: r.get(0)?,
                        dimensions: dim,
                        of_version: r.get::<_, i64>(2)? as u64,
                        passages: r.get::<_, i64>(3)? as u64 / (4 * dim),
                    })
                },
            )
            .optional()?;
        Ok(Some(ProfileFacts { version: version as u64, has_edit_token, vectors }))
    }

    /// Gives tests and sibling modules access to the connection.
    pub(crate) fn with_conn<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        f(&self.conn())
    }
}

/// SQLite's own check of a copy just written.
fn check_copy(conn: &Connection, path: &Path) -> Result<()> {
    let report: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if report != "ok" {
        return Err(Error::Internal(format!("the copy {} fails SQLite's integrity check: {report}", path.display())));
    }
    Ok(())
}

fn current_seq(conn: &Connection) -> Result<u64> {
    let v: i64 = conn.query_row("SELECT value FROM meta WHERE key = 'profile_seq'", [], |r| r.get(0))?;
    Ok(v as u64)
}

fn next_seq(tx: &rusqlite::Transaction<'_>) -> Result<u64> {
    current_seq(tx)
}

fn set_seq(tx: &rusqlite::Transaction<'_>, seq: u64) -> Result<()> {
    tx.execute("UPDATE meta SET value = ?1 WHERE key = 'profile_seq'", [seq as i64])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(id: &str, summary: &str) -> Profile {
        Profile::minimal(id, &format!("{id} B.V."), summary)
    }

    #[test]
    fn upsert_delete_and_change_tracking() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        store.upsert_profiles(&[profile("a", "first summary text here"), profile("b", "second summary text")]).unwrap();
        let seq_after_insert = store.profile_seq().unwrap();
        assert_eq!(seq_after_insert, 2);
        store.upsert_profiles(&[profile("a", "updated summary text here")]).unwrap();
        assert_eq!(store.profile("a").unwrap().unwrap().summary, "updated summary text here");
        assert!(store.delete_profile("b").unwrap());
        assert!(!store.delete_profile("b").unwrap());
        let changes = store.profile_changes_since(seq_after_insert).unwrap();
        assert_eq!(changes.upserted.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), vec!["a"]);
        assert_eq!(changes.deleted, vec!["b".to_string()]);
        assert_eq!(changes.up_to, 4);
        assert_eq!(store.profile_count().unwrap(), 1);
        assert_eq!(store.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn reopening_keeps_data_and_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        Store::open(&path).unwrap().upsert_profiles(&[profile("a", "first summary text here")]).unwrap();
        let store = Store::open(&path).unwrap();
        assert_eq!(store.profile_count().unwrap(), 1);
        let version: i64 = store.with_conn(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?)).unwrap();
        assert_eq!(version as usize, migrations::MIGRATIONS.len());
    }

    #[test]
    fn a_read_only_store_reads_beside_a_writer_and_never_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        assert!(Store::open_read_only(&path).is_err());
        assert!(!path.exists(), "a failed read-only open created the file");
        let writer = Store::open(&path).unwrap();
        writer.upsert_profiles(&[profile("a", "first summary text here")]).unwrap();
        let reader = Store::open_read_only(&path).unwrap();
        assert_eq!(reader.profile_count().unwrap(), 1);
        // The writer goes on while the reader is open, and the reader sees its commits.
        writer.upsert_profiles(&[profile("b", "second summary text")]).unwrap();
        assert_eq!(reader.profile_count().unwrap(), 2);
        assert!(reader.upsert_profiles(&[profile("c", "third summary text here")]).is_err());
        drop((writer, reader));
        // With no writer left (its WAL checkpointed and removed), reading still works.
        assert_eq!(Store::open_read_only(&path).unwrap().profile_count().unwrap(), 2);
    }
}
