//! Persisted passage embeddings. They are derived data like the search index, but expensive to
//! recompute, so they are kept in the store next to the profile version (`seq`) and model they
//! were computed from: on open, only profiles whose stored vectors are missing, stale or from
//! another model are embedded again.

use rusqlite::params;

use super::Store;
use crate::error::{Error, Result};

/// The stored vectors of one profile.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVectors {
    /// Profile id.
    pub profile_id: String,
    /// Passage vectors, each `dim` long.
    pub passages: Vec<Vec<f32>>,
}

fn to_blob(passages: &[Vec<f32>]) -> Vec<u8> {
    passages.iter().flatten().flat_map(|x| x.to_le_bytes()).collect()
}

fn from_blob(blob: &[u8], dim: usize) -> Result<Vec<Vec<f32>>> {
    if dim == 0 || !blob.len().is_multiple_of(4 * dim) {
        return Err(Error::Internal(format!("vector blob of {} bytes is not a multiple of dim {dim}", blob.len())));
    }
    let values: Vec<f32> = blob.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Ok(values.chunks_exact(dim).map(<[f32]>::to_vec).collect())
}

impl Store {
    /// Saves the vectors of profiles, each computed from the profile version `seq`.
    pub fn put_vectors(&self, model: &str, dim: usize, items: &[(String, u64, Vec<Vec<f32>>)]) -> Result<()> {
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO profile_vectors (profile_id, seq, model, dim, vectors)
                 SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM profiles WHERE id = ?1)
                 ON CONFLICT(profile_id) DO UPDATE SET seq = excluded.seq, model = excluded.model,
                 dim = excluded.dim, vectors = excluded.vectors",
            )?;
            for (id, seq, passages) in items {
                stmt.execute(params![id, *seq as i64, model, dim as i64, to_blob(passages)])?;
            }
            Ok(())
        })
    }

    /// All up-to-date vectors for `model` (those whose profile has not changed since).
    pub fn current_vectors(&self, model: &str, dim: usize) -> Result<Vec<StoredVectors>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT v.profile_id, v.vectors FROM profile_vectors v JOIN profiles p ON p.id = v.profile_id
             WHERE v.seq = p.seq AND v.model = ?1 AND v.dim = ?2 ORDER BY v.profile_id",
        )?;
        let rows =
            stmt.query_map(params![model, dim as i64], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (profile_id, blob) = row?;
            out.push(StoredVectors { profile_id, passages: from_blob(&blob, dim)? });
        }
        Ok(out)
    }

    /// Ids and sequence numbers of profiles without up-to-date vectors for `model`.
    pub fn profiles_needing_vectors(&self, model: &str, dim: usize) -> Result<Vec<(String, u64)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT p.id, p.seq FROM profiles p LEFT JOIN profile_vectors v ON v.profile_id = p.id
             WHERE v.profile_id IS NULL OR v.seq != p.seq OR v.model != ?1 OR v.dim != ?2 ORDER BY p.seq",
        )?;
        let rows =
            stmt.query_map(params![model, dim as i64], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Which of `ids` have stored vectors for `model` computed from their current version.
    pub fn ids_with_current_vectors(&self, model: &str, dim: usize, ids: &[String]) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT 1 FROM profile_vectors v JOIN profiles p ON p.id = v.profile_id
             WHERE v.profile_id = ?1 AND v.seq = p.seq AND v.model = ?2 AND v.dim = ?3",
        )?;
        let mut out = Vec::new();
        for id in ids {
            if stmt.exists(params![id, model, dim as i64])? {
                out.push(id.clone());
            }
        }
        Ok(out)
    }

    /// The sequence number of each given profile's current version.
    pub fn profile_seqs(&self, ids: &[String]) -> Result<Vec<Option<u64>>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT seq FROM profiles WHERE id = ?1")?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            use rusqlite::OptionalExtension;
            out.push(stmt.query_row([id], |r| r.get::<_, i64>(0)).optional()?.map(|s| s as u64));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_round_trip() {
        let v = vec![vec![1.0, -2.5, 3.25], vec![0.0, f32::MIN_POSITIVE, 7.0]];
        assert_eq!(from_blob(&to_blob(&v), 3).unwrap(), v);
        assert!(from_blob(&[0u8; 10], 3).is_err());
    }
}
