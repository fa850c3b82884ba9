//! Pairs of profiles an organiser has looked at and found to be different organisations, so that
//! duplicate detection does not propose them again. A pair goes with either of its profiles.

use rusqlite::params;

use super::Store;
use crate::error::Result;

impl Store {
    /// Records that profiles `a` and `b` are distinct (in either order; idempotent).
    pub fn mark_distinct(&self, a: &str, b: &str, by: &str, at: &str) -> Result<()> {
        let (first, second) = if a <= b { (a, b) } else { (b, a) };
        self.write(|tx| {
            tx.execute(
                "INSERT INTO distinct_profiles (first, second, marked_by, marked_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(first, second) DO NOTHING",
                params![first, second, by, at],
            )?;
            Ok(())
        })
    }

    /// Every pair marked distinct, each as (smaller id, larger id).
    pub fn distinct_pairs(&self) -> Result<Vec<(String, String)>> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare("SELECT first, second FROM distinct_profiles")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }
}
