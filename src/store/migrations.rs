//! Schema migrations, applied in order and recorded in SQLite's `user_version`. Append new steps;
//! never edit a released one, because existing data dirs have already run it.

use rusqlite::Connection;

use crate::error::Result;

/// The ordered migration steps. Step *i* moves the schema from version *i* to *i + 1*.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: records as canonical JSON, plus the change sequence that derived structures follow.
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
     INSERT INTO meta (key, value) VALUES ('profile_seq', 0);
     CREATE TABLE profiles (
         id TEXT PRIMARY KEY,
         record TEXT NOT NULL,
         language TEXT NOT NULL,
         seq INTEGER NOT NULL
     );
     CREATE INDEX profiles_seq ON profiles (seq);
     CREATE TABLE profile_tombstones (id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
     CREATE TABLE demands (id TEXT PRIMARY KEY, record TEXT NOT NULL, organisation TEXT NOT NULL);
     CREATE TABLE events (id TEXT PRIMARY KEY, record TEXT NOT NULL);",
    // 2: HTTP credentials, stored only as SHA-256 hashes. Organiser tokens are named and revocable;
    //    a profile's edit token lives and dies with its profile.
    "CREATE TABLE api_tokens (
         name TEXT PRIMARY KEY,
         role TEXT NOT NULL,
         token_hash TEXT NOT NULL UNIQUE,
         created_at INTEGER NOT NULL,
         revoked_at INTEGER
     );
     CREATE TABLE profile_tokens (
         profile_id TEXT PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
         token_hash TEXT NOT NULL UNIQUE
     );",
    // 3: passage embeddings, derived from a profile version (seq) by a named model. All passages of
    //    a profile are one little-endian f32 blob of n x dim values.
    "CREATE TABLE profile_vectors (
         profile_id TEXT PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
         seq INTEGER NOT NULL,
         model TEXT NOT NULL,
         dim INTEGER NOT NULL,
         vectors BLOB NOT NULL
     );",
    // 4: public submissions wait here, apart from `profiles`, until an organiser approves them:
    //    everything derived from `profiles` (index, vectors, rankings, the map) cannot see them.
    //    `client` is a hash of the submitter's address, only to bound submissions per client.
    //    The audit log names records by id only, so it can outlive them.
    "CREATE TABLE pending_profiles (
         id TEXT PRIMARY KEY,
         record TEXT NOT NULL,
         token_hash TEXT NOT NULL UNIQUE,
         client TEXT NOT NULL,
         submitted_at INTEGER NOT NULL
     );
     CREATE INDEX pending_profiles_client ON pending_profiles (client);
     CREATE TABLE audit_log (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         at INTEGER NOT NULL,
         actor TEXT NOT NULL,
         action TEXT NOT NULL,
         kind TEXT NOT NULL,
         record_id TEXT NOT NULL
     );",
    // 5: OEM reviewers. A reviewer token is scoped to one organisation. A decision is the current
    //    verdict of a reviewer (or organiser) on one profile for one demand area; it goes with the
    //    profile or the demand area (cascade), its history stays in the audit log.
    "ALTER TABLE api_tokens ADD COLUMN organisation TEXT;
     CREATE TABLE decisions (
         demand_id TEXT NOT NULL REFERENCES demands (id) ON DELETE CASCADE,
         profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
         decision TEXT NOT NULL,
         note TEXT,
         decided_by TEXT NOT NULL,
         decided_at TEXT NOT NULL,
         PRIMARY KEY (demand_id, profile_id)
     );
     CREATE INDEX decisions_profile ON decisions (profile_id);",
    // 6: the learned model of what interests an OEM. Only models that beat the untrained ranking
    //    in cross-validation are stored; the newest is the one in use, the older ones are its
    //    history. Weights only: no personal data.
    "CREATE TABLE interest_models (
         version INTEGER PRIMARY KEY AUTOINCREMENT,
         trained_at TEXT NOT NULL,
         source TEXT NOT NULL,
         examples INTEGER NOT NULL,
         untrained_ndcg10 REAL NOT NULL,
         model_ndcg10 REAL NOT NULL,
         model TEXT NOT NULL
     );",
    // 7: pairs of profiles an organiser found to be different organisations (not duplicates);
    //    a pair goes with either profile.
    "CREATE TABLE distinct_profiles (
         first TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
         second TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
         marked_by TEXT NOT NULL,
         marked_at TEXT NOT NULL,
         PRIMARY KEY (first, second)
     );",
    // 8: what organisers decide about line-ups: pins, locks and bans per event (one per event and
    //    profile), bans for the whole season, conflicts of interest per profile, the season's
    //    rules, and each event's line-up as solved (draft or final) with the inputs it came from.
    //    Each goes with its profile or event.
    "CREATE TABLE event_rules (
         event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
         profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
         kind TEXT NOT NULL,
         demand_id TEXT,
         reason TEXT,
         set_by TEXT NOT NULL,
         set_at TEXT NOT NULL,
         PRIMARY KEY (event_id, profile_id)
     );
     CREATE INDEX event_rules_profile ON event_rules (profile_id);
     CREATE TABLE season_bans (
         profile_id TEXT PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
         reason TEXT,
         set_by TEXT NOT NULL,
         set_at TEXT NOT NULL
     );
     CREATE TABLE profile_conflicts (
         profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
         organisation TEXT NOT NULL,
         reason TEXT,
         set_by TEXT NOT NULL,
         set_at TEXT NOT NULL,
         PRIMARY KEY (profile_id, organisation)
     );
     CREATE TABLE season_settings (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         settings TEXT NOT NULL
     );
     CREATE TABLE line_ups (
         event_id TEXT PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
         status TEXT NOT NULL,
         record TEXT NOT NULL
     );",
    // 9: the order an organiser gave an event's day (demand areas and pitches moved on the
    //    agenda), kept apart from the line-up so a re-solve keeps it for the pitches that stay.
    "CREATE TABLE agenda_orders (
         event_id TEXT PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
         pitch_order TEXT NOT NULL
     );",
];

/// Applies every migration the database has not seen yet, each in its own transaction.
pub(crate) fn apply(conn: &mut Connection) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
