//! The organiser's decisions about line-ups (pins, locks and bans per event, season bans,
//! conflicts of interest, the season's rules) and each event's kept line-up. They live beside
//! the profiles and events they are about and go with them (cascading deletes).

use rusqlite::{params, OptionalExtension};

use super::{decode, Store};
use crate::agenda::KeptOrder;
use crate::domain::{EventRule, EventRuleKind, ProfileConflict, SeasonBan, SeasonSettings};
use crate::error::{Error, Result};
use crate::select::LineUpRecord;

type RuleRow = (String, String, String, Option<String>, Option<String>, String, String);

fn event_rule(row: RuleRow) -> Result<EventRule> {
    let (event_id, profile_id, kind, demand_id, reason, set_by, set_at) = row;
    let kind = EventRuleKind::parse(&kind).ok_or_else(|| Error::Internal(format!("unknown event rule {kind}")))?;
    Ok(EventRule { event_id, profile_id, kind, demand_id, reason, set_by, set_at })
}

impl Store {
    /// Stores `rule`, replacing whatever pin, lock or ban its profile had at its event.
    pub fn set_event_rule(&self, rule: &EventRule) -> Result<()> {
        self.set_event_rules(std::slice::from_ref(rule))
    }

    /// Stores several rules in one transaction (locking a whole line-up).
    pub fn set_event_rules(&self, rules: &[EventRule]) -> Result<()> {
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO event_rules (event_id, profile_id, kind, demand_id, reason, set_by, set_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(event_id, profile_id) DO UPDATE SET kind = excluded.kind,
                 demand_id = excluded.demand_id, reason = excluded.reason, set_by = excluded.set_by,
                 set_at = excluded.set_at",
            )?;
            for rule in rules {
                stmt.execute(params![
                    rule.event_id,
                    rule.profile_id,
                    rule.kind.as_str(),
                    rule.demand_id,
                    rule.reason,
                    rule.set_by,
                    rule.set_at
                ])?;
            }
            Ok(())
        })
    }

    /// Removes the pin, lock or ban of `profile_id` at `event_id`; false when there was none.
    pub fn remove_event_rule(&self, event_id: &str, profile_id: &str) -> Result<bool> {
        self.write(|tx| {
            Ok(tx.execute("DELETE FROM event_rules WHERE event_id = ?1 AND profile_id = ?2", [event_id, profile_id])?
                > 0)
        })
    }

    /// The pins, locks and bans of one event, by profile id.
    pub fn event_rules(&self, event_id: &str) -> Result<Vec<EventRule>> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT event_id, profile_id, kind, demand_id, reason, set_by, set_at FROM event_rules
                 WHERE event_id = ?1 ORDER BY profile_id",
            )?;
            let rows = stmt
                .query_map([event_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
                })?
                .collect::<rusqlite::Result<Vec<RuleRow>>>()?;
            rows.into_iter().map(event_rule).collect()
        })
    }

    /// Bans `ban.profile_id` from the whole season (replacing an earlier season ban's reason).
    pub fn set_season_ban(&self, ban: &SeasonBan) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO season_bans (profile_id, reason, set_by, set_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(profile_id) DO UPDATE SET reason = excluded.reason, set_by = excluded.set_by,
                 set_at = excluded.set_at",
                params![ban.profile_id, ban.reason, ban.set_by, ban.set_at],
            )?;
            Ok(())
        })
    }

    /// Lifts the season ban of `profile_id`; false when there was none.
    pub fn remove_season_ban(&self, profile_id: &str) -> Result<bool> {
        self.write(|tx| Ok(tx.execute("DELETE FROM season_bans WHERE profile_id = ?1", [profile_id])? > 0))
    }

    /// Every season ban, by profile id.
    pub fn season_bans(&self) -> Result<Vec<SeasonBan>> {
        self.with_conn(|conn| {
            let mut stmt =
                conn.prepare_cached("SELECT profile_id, reason, set_by, set_at FROM season_bans ORDER BY profile_id")?;
            let rows = stmt.query_map([], |r| {
                Ok(SeasonBan { profile_id: r.get(0)?, reason: r.get(1)?, set_by: r.get(2)?, set_at: r.get(3)? })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Records a conflict of interest (replacing the reason of the same profile and organisation).
    pub fn set_conflict(&self, c: &ProfileConflict) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO profile_conflicts (profile_id, organisation, reason, set_by, set_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(profile_id, organisation) DO UPDATE SET reason = excluded.reason,
                 set_by = excluded.set_by, set_at = excluded.set_at",
                params![c.profile_id, c.organisation, c.reason, c.set_by, c.set_at],
            )?;
            Ok(())
        })
    }

    /// Removes a conflict of interest; false when there was none.
    pub fn remove_conflict(&self, profile_id: &str, organisation: &str) -> Result<bool> {
        self.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM profile_conflicts WHERE profile_id = ?1 AND organisation = ?2",
                [profile_id, organisation],
            )? > 0)
        })
    }

    /// Every conflict of interest, by profile id then organisation.
    pub fn conflicts(&self) -> Result<Vec<ProfileConflict>> {
        self.with_conn(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT profile_id, organisation, reason, set_by, set_at FROM profile_conflicts
                 ORDER BY profile_id, organisation",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(ProfileConflict {
                    profile_id: r.get(0)?,
                    organisation: r.get(1)?,
                    reason: r.get(2)?,
                    set_by: r.get(3)?,
                    set_at: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// The season's rules (the defaults until an organiser sets them).
    pub fn season_settings(&self) -> Result<SeasonSettings> {
        let json: Option<String> = self.with_conn(|conn| {
            Ok(conn.query_row("SELECT settings FROM season_settings WHERE id = 1", [], |r| r.get(0)).optional()?)
        })?;
        json.map_or_else(|| Ok(SeasonSettings::default()), |j| decode(&j))
    }

    /// Replaces the season's rules.
    pub fn set_season_settings(&self, settings: &SeasonSettings) -> Result<()> {
        let json = serde_json::to_string(settings)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO season_settings (id, settings) VALUES (1, ?1)
                 ON CONFLICT(id) DO UPDATE SET settings = excluded.settings",
                [json],
            )?;
            Ok(())
        })
    }

    /// Keeps `record` as the line-up of `event_id`, replacing the one before.
    pub fn save_line_up(&self, event_id: &str, record: &LineUpRecord) -> Result<()> {
        let json = serde_json::to_string(record)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO line_ups (event_id, status, record) VALUES (?1, ?2, ?3)
                 ON CONFLICT(event_id) DO UPDATE SET status = excluded.status, record = excluded.record",
                params![event_id, record.status.as_str(), json],
            )?;
            Ok(())
        })
    }

    /// The kept line-up of `event_id`, if one was solved.
    pub fn line_up(&self, event_id: &str) -> Result<Option<LineUpRecord>> {
        let json: Option<String> = self.with_conn(|conn| {
            Ok(conn
                .query_row("SELECT record FROM line_ups WHERE event_id = ?1", [event_id], |r| r.get(0))
                .optional()?)
        })?;
        json.map(|j| decode(&j)).transpose()
    }

    /// Every final line-up, by event id.
    pub fn final_line_ups(&self) -> Result<Vec<(String, LineUpRecord)>> {
        let rows: Vec<(String, String)> = self.with_conn(|conn| {
            let mut stmt =
                conn.prepare_cached("SELECT event_id, record FROM line_ups WHERE status = 'final' ORDER BY event_id")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        rows.into_iter().map(|(id, j)| Ok((id, decode(&j)?))).collect()
    }

    /// Keeps the order an organiser gave the day of `event_id`.
    pub fn save_agenda_order(&self, event_id: &str, order: &KeptOrder) -> Result<()> {
        let json = serde_json::to_string(order)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO agenda_orders (event_id, pitch_order) VALUES (?1, ?2)
                 ON CONFLICT(event_id) DO UPDATE SET pitch_order = excluded.pitch_order",
                params![event_id, json],
            )?;
            Ok(())
        })
    }

    /// The order kept for the day of `event_id` (empty when nobody moved anything).
    pub fn agenda_order(&self, event_id: &str) -> Result<KeptOrder> {
        let json: Option<String> = self.with_conn(|conn| {
            Ok(conn
                .query_row("SELECT pitch_order FROM agenda_orders WHERE event_id = ?1", [event_id], |r| r.get(0))
                .optional()?)
        })?;
        json.map_or_else(|| Ok(Vec::new()), |j| decode(&j))
    }
}
