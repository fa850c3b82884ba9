//! Public submissions waiting for an organiser. They live in a table of their own rather than as a
//! flag on `profiles`: the index, the vectors, the rankings, the selection and the landscape map
//! are all derived from `profiles`, so a pending profile cannot leak into any of them through a
//! read that forgot a filter. Approval moves the record into `profiles` (with a new change
//! sequence number, so the index and the vectors take it in like any write) and its edit token
//! with it, in one transaction.

use rusqlite::{params, OptionalExtension};
use subtle::ConstantTimeEq;

use super::{decode, next_seq, set_seq, Store};
use crate::domain::Profile;
use crate::error::{Result, UserError};

/// A submission waiting for approval.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingProfile {
    /// The record as submitted (or as last edited by its supplier).
    pub profile: Profile,
    /// Unix seconds of the submission.
    pub submitted_at: i64,
}

/// Bounds on waiting submissions; 0 means no bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingLimits {
    /// Submissions one client may have waiting at once.
    pub per_client: u32,
    /// Submissions that may wait at once, from everyone.
    pub total: u32,
}

/// What became of a submission offered to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingInsert {
    /// Stored as pending.
    Stored,
    /// A profile (pending or not) has this id; nothing was written.
    Taken,
    /// This client has [`PendingLimits::per_client`] submissions waiting.
    ClientFull,
    /// [`PendingLimits::total`] submissions are waiting.
    QueueFull,
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn id_taken(tx: &rusqlite::Connection, id: &str) -> Result<bool> {
    let approved: Option<i64> = tx.query_row("SELECT 1 FROM profiles WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    let pending: Option<i64> =
        tx.query_row("SELECT 1 FROM pending_profiles WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    Ok(approved.is_some() || pending.is_some())
}

impl Store {
    /// Queues a public submission with its edit-token hash, if its id is free and the bounds allow.
    pub fn insert_pending_profile(
        &self,
        profile: &Profile,
        token_hash: &str,
        client: &str,
        limits: PendingLimits,
    ) -> Result<PendingInsert> {
        self.write(|tx| {
            if id_taken(tx, &profile.id)? {
                return Ok(PendingInsert::Taken);
            }
            let count = |sql: &str, args: &[&dyn rusqlite::ToSql]| -> Result<u32> {
                let n: i64 = tx.query_row(sql, args, |r| r.get(0))?;
                Ok(n as u32)
            };
            if limits.per_client > 0
                && count("SELECT COUNT(*) FROM pending_profiles WHERE client = ?1", &[&client])? >= limits.per_client
            {
                return Ok(PendingInsert::ClientFull);
            }
            if limits.total > 0 && count("SELECT COUNT(*) FROM pending_profiles", &[])? >= limits.total {
                return Ok(PendingInsert::QueueFull);
            }
            tx.execute(
                "INSERT INTO pending_profiles (id, record, token_hash, client, submitted_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![profile.id, serde_json::to_string(profile)?, token_hash, client, now()],
            )?;
            Ok(PendingInsert::Stored)
        })
    }

    /// One pending submission by id.
    pub fn pending_profile(&self, id: &str) -> Result<Option<PendingProfile>> {
        Ok(self.pending_rows("SELECT record, submitted_at FROM pending_profiles WHERE id = ?1", params![id])?.pop())
    }

    /// Up to `limit` pending submissions with ids after `after`, by id.
    pub fn pending_page(&self, after: Option<&str>, limit: usize) -> Result<Vec<PendingProfile>> {
        self.pending_rows(
            "SELECT record, submitted_at FROM pending_profiles WHERE id > ?1 ORDER BY id LIMIT ?2",
            params![after.unwrap_or(""), limit as i64],
        )
    }

    /// Number of pending submissions.
    pub fn pending_count(&self) -> Result<usize> {
        self.with_conn(|c| {
            Ok(c.query_row("SELECT COUNT(*) FROM pending_profiles", [], |r| r.get::<_, i64>(0))? as usize)
        })
    }

    fn pending_rows(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<PendingProfile>> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = stmt.query_map(args, |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (json, submitted_at) = row?;
                out.push(PendingProfile { profile: decode(&json)?, submitted_at });
            }
            Ok(out)
        })
    }

    /// Replaces a pending submission's record (its supplier editing it). False when none has this id.
    pub fn replace_pending_profile(&self, profile: &Profile) -> Result<bool> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE pending_profiles SET record = ?2 WHERE id = ?1",
                params![profile.id, serde_json::to_string(profile)?],
            )?;
            Ok(n > 0)
        })
    }

    /// Deletes a pending submission and with it its edit token. False when none has this id.
    pub fn delete_pending_profile(&self, id: &str) -> Result<bool> {
        self.write(|tx| Ok(tx.execute("DELETE FROM pending_profiles WHERE id = ?1", [id])? > 0))
    }

    /// Moves a pending submission into the profiles, edit token included, as the newest change.
    /// False when none has this id.
    pub fn approve_pending_profile(&self, id: &str) -> Result<bool> {
        self.write(|tx| {
            let row: Option<(String, String)> = tx
                .query_row("SELECT record, token_hash FROM pending_profiles WHERE id = ?1", [id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let Some((record, token_hash)) = row else { return Ok(false) };
            let exists: Option<i64> =
                tx.query_row("SELECT 1 FROM profiles WHERE id = ?1", [id], |r| r.get(0)).optional()?;
            if exists.is_some() {
                return Err(UserError::Conflict { kind: "profile", id: id.to_string() }.into());
            }
            let profile: Profile = decode(&record)?;
            let seq = next_seq(tx)? + 1;
            tx.execute("DELETE FROM pending_profiles WHERE id = ?1", [id])?;
            tx.execute(
                "INSERT INTO profiles (id, record, language, seq) VALUES (?1, ?2, ?3, ?4)",
                params![id, record, profile.language.code(), seq as i64],
            )?;
            tx.execute("DELETE FROM profile_tombstones WHERE id = ?1", [id])?;
            tx.execute("INSERT INTO profile_tokens (profile_id, token_hash) VALUES (?1, ?2)", params![id, token_hash])?;
            set_seq(tx, seq)?;
            Ok(true)
        })
    }

    /// The pending submission whose edit token has this hash, if any.
    pub fn pending_id_by_token_hash(&self, token_hash: &str) -> Result<Option<String>> {
        self.with_conn(|conn| {
            let row: Option<(String, String)> = conn
                .query_row("SELECT id, token_hash FROM pending_profiles WHERE token_hash = ?1", [token_hash], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            Ok(row.filter(|(_, stored)| bool::from(stored.as_bytes().ct_eq(token_hash.as_bytes()))).map(|(id, _)| id))
        })
    }

    /// The ids among `ids` that a supplier holds an edit token for (approved or pending), by id.
    pub fn ids_with_supplier_tokens(&self, ids: &[String]) -> Result<Vec<String>> {
        self.with_conn(|conn| {
            let mut approved = conn.prepare_cached("SELECT 1 FROM profile_tokens WHERE profile_id = ?1")?;
            let mut pending = conn.prepare_cached("SELECT 1 FROM pending_profiles WHERE id = ?1")?;
            let mut out = Vec::new();
            for id in ids {
                if approved.exists([id])? || pending.exists([id])? {
                    out.push(id.clone());
                }
            }
            out.sort_unstable();
            out.dedup();
            Ok(out)
        })
    }

    /// Takes profiles `ids` away from their suppliers: their edit tokens stop working, and a
    /// pending submission under such an id is dropped (the organiser's record replaces it).
    pub fn revoke_supplier_tokens(&self, ids: &[String]) -> Result<()> {
        self.write(|tx| {
            for id in ids {
                tx.execute("DELETE FROM profile_tokens WHERE profile_id = ?1", [id])?;
                tx.execute("DELETE FROM pending_profiles WHERE id = ?1", [id])?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::hash_token;

    fn profile(id: &str) -> Profile {
        Profile::minimal(id, &format!("{id} B.V."), "We build lightweight composite battery housings.")
    }

    const OPEN: PendingLimits = PendingLimits { per_client: 0, total: 0 };

    #[test]
    fn pending_profiles_stay_out_of_the_profiles_until_approved() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        let hash = hash_token("secret");
        assert_eq!(store.insert_pending_profile(&profile("a"), &hash, "c1", OPEN).unwrap(), PendingInsert::Stored);
        assert_eq!(store.insert_pending_profile(&profile("a"), "h2", "c1", OPEN).unwrap(), PendingInsert::Taken);
        assert_eq!(store.profile_count().unwrap(), 0);
        assert_eq!(store.profile_seq().unwrap(), 0, "a pending submission is no profile change");
        assert_eq!(store.pending_id_by_token_hash(&hash).unwrap().as_deref(), Some("a"));
        assert_eq!(store.ids_with_supplier_tokens(&["a".into(), "b".into()]).unwrap(), vec!["a".to_string()]);
        assert!(store.approve_pending_profile("a").unwrap());
        assert!(!store.approve_pending_profile("a").unwrap());
        assert_eq!(store.profile_seq().unwrap(), 1);
        assert_eq!(store.pending_count().unwrap(), 0);
        assert_eq!(store.profile_id_by_token_hash(&hash).unwrap().as_deref(), Some("a"));
        store.revoke_supplier_tokens(&["a".into()]).unwrap();
        assert!(store.profile_id_by_token_hash(&hash).unwrap().is_none());
        assert!(store.profile("a").unwrap().is_some());
    }

    #[test]
    fn bounds_per_client_and_in_total() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        let limits = PendingLimits { per_client: 2, total: 3 };
        let put = |id: &str, client: &str| store.insert_pending_profile(&profile(id), id, client, limits).unwrap();
        assert_eq!(put("a", "c1"), PendingInsert::Stored);
        assert_eq!(put("b", "c1"), PendingInsert::Stored);
        assert_eq!(put("c", "c1"), PendingInsert::ClientFull);
        assert_eq!(put("c", "c2"), PendingInsert::Stored);
        assert_eq!(put("d", "c3"), PendingInsert::QueueFull);
        assert!(store.delete_pending_profile("a").unwrap());
        assert_eq!(put("a2", "c1"), PendingInsert::Stored);
    }
}
