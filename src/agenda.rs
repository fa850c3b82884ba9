//! The day's agenda: who pitches when, and in which room. A line-up says *who* pitches; on the day
//! the OEM's departments sit through pitches grouped by their demand area, with changeovers and
//! breaks, sometimes in parallel rooms. Planning that by hand is where organisers lose the most
//! time after the selection, so the timetable is computed here from the line-up and a few settings,
//! and written as a table, CSV or iCalendar (`.ics`, one event per pitch, which Outlook and Google
//! Calendar import). Pure: no store, no clock, so the same line-up and settings give the same day.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use serde::Serialize;

/// How the day runs. Every field has a sensible default for a Co-Innovation Day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayPlan {
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// When the first pitch starts, `HH:MM` local time.
    pub start: String,
    /// Length of one pitch including questions, in minutes (1-240).
    pub pitch_minutes: u32,
    /// Time between two pitches in one room, in minutes (0-120).
    pub changeover_minutes: u32,
    /// A break after this many pitches in a room (0: no breaks).
    pub break_after: u32,
    /// Length of a break, in minutes (0-240).
    pub break_minutes: u32,
    /// Parallel rooms (1-20): demand areas are spread over them, a demand area stays in one room.
    pub rooms: u32,
    /// Local time's offset from UTC, `+01:00` style, so calendar entries land at the right hour.
    pub utc_offset: String,
}

impl DayPlan {
    /// Defaults for `date`: start 09:00, 15-minute pitches, 5-minute changeovers, a 15-minute break
    /// after every 6 pitches, one room, Central European (winter) time.
    pub fn on(date: &str) -> DayPlan {
        DayPlan {
            date: date.to_string(),
            start: "09:00".into(),
            pitch_minutes: 15,
            changeover_minutes: 5,
            break_after: 6,
            break_minutes: 15,
            rooms: 1,
            utc_offset: "+01:00".into(),
        }
    }
}

/// A setting of the day that cannot be used, named as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    /// The setting (`date`, `start`, `pitch_minutes`, ...).
    pub field: &'static str,
    /// The rule it breaks.
    pub rule: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

impl std::error::Error for PlanError {}

/// One pitch of the line-up, with the names the agenda shows.
#[derive(Debug, Clone, PartialEq)]
pub struct LineUpPitch {
    /// The profile that pitches.
    pub profile_id: String,
    /// Its organisation name.
    pub profile_name: String,
    /// The demand area it pitches to.
    pub demand_id: String,
    /// The demand area's title.
    pub demand_title: String,
}

/// What fills a slot of the agenda.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A pitch.
    Pitch,
    /// A break.
    Break,
}

/// One slot of the day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgendaItem {
    /// 1-based room number.
    pub room: u32,
    /// Local start, `YYYY-MM-DDTHH:MM`.
    pub start: String,
    /// Local end, `YYYY-MM-DDTHH:MM`.
    pub end: String,
    /// A pitch or a break.
    pub kind: ItemKind,
    /// The pitching profile (pitches only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pitch: Option<LineUpPitchView>,
}

/// The pitch of an agenda item, as written out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineUpPitchView {
    /// Profile id.
    pub profile_id: String,
    /// Organisation name.
    pub profile_name: String,
    /// Demand-area id.
    pub demand_id: String,
    /// Demand-area title.
    pub demand_title: String,
}

/// The timetable of an event's day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agenda {
    /// The event.
    pub event_id: String,
    /// Its title, for calendar entries.
    pub event_title: String,
    /// Local time's offset from UTC.
    pub utc_offset: String,
    /// Room by room, in time order.
    pub items: Vec<AgendaItem>,
}

/// The first pitch's local start, once every setting has been checked.
fn check(plan: &DayPlan) -> Result<NaiveDateTime, PlanError> {
    let fail = |field, rule: &str| Err(PlanError { field, rule: rule.to_string() });
    let Ok(date) = NaiveDate::parse_from_str(&plan.date, "%Y-%m-%d") else {
        return fail("date", "must be a date like 2027-03-10 (the event has none: give one)");
    };
    let Ok(time) = NaiveTime::parse_from_str(&plan.start, "%H:%M") else {
        return fail("start", "must be a time like 09:00");
    };
    if !(1..=240).contains(&plan.pitch_minutes) {
        return fail("pitch_minutes", "must be 1-240");
    }
    if plan.changeover_minutes > 120 {
        return fail("changeover_minutes", "must be 0-120");
    }
    if plan.break_minutes > 240 {
        return fail("break_minutes", "must be 0-240");
    }
    if !(1..=20).contains(&plan.rooms) {
        return fail("rooms", "must be 1-20");
    }
    if parse_offset(&plan.utc_offset).is_none() {
        return fail("utc_offset", "must be an offset like +01:00 or -05:30, at most 14 hours");
    }
    Ok(date.and_time(time))
}

/// `+HH:MM` / `-HH:MM` as minutes east of UTC.
fn parse_offset(s: &str) -> Option<i64> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60 && h * 60 + m <= 14 * 60).then_some(sign * (h * 60 + m))
}

/// Spreads demand areas over rooms: largest first, each to the room with the fewest pitches so
/// far (the lower room on a tie), so rooms end at about the same time and no demand area's
/// audience has to change rooms. Returns, per room, the demand areas in line-up order.
pub fn rooms_for(groups: &[(String, usize)], rooms: u32) -> Vec<Vec<String>> {
    let rooms = rooms.max(1) as usize;
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| groups[b].1.cmp(&groups[a].1).then(a.cmp(&b)));
    let mut load = vec![0usize; rooms];
    let mut assigned = vec![0usize; groups.len()];
    for g in order {
        let room = (0..rooms).min_by_key(|&r| (load[r], r)).unwrap_or(0);
        load[room] += groups[g].1;
        assigned[g] = room;
    }
    let mut out = vec![Vec::new(); rooms];
    for (g, (demand, _)) in groups.iter().enumerate() {
        out[assigned[g]].push(demand.clone());
    }
    out
}

/// The line-up's pitches per demand area, demand areas in the order the line-up first names
/// them, pitches in line-up order.
fn by_demand(line_up: &[LineUpPitch]) -> Vec<(&str, Vec<&LineUpPitch>)> {
    let mut groups: Vec<(&str, Vec<&LineUpPitch>)> = Vec::new();
    for p in line_up {
        match groups.iter_mut().find(|(d, _)| *d == p.demand_id) {
            Some((_, list)) => list.push(p),
            None => groups.push((p.demand_id.as_str(), vec![p])),
        }
    }
    groups
}

/// The timetable for a line-up: pitches grouped by demand area (in the order the line-up first
/// names each area, best pitch first within it), rooms filled one after the other from `start`,
/// a changeover between pitches and a break after every `break_after` pitches of a room.
pub fn plan_day(
    event_id: &str,
    event_title: &str,
    line_up: &[LineUpPitch],
    plan: &DayPlan,
) -> Result<Agenda, PlanError> {
    let start = check(plan)?;
    let by_demand = by_demand(line_up);
    let sizes: Vec<(String, usize)> = by_demand.iter().map(|(d, l)| (d.to_string(), l.len())).collect();
    let groups: BTreeMap<&str, &Vec<&LineUpPitch>> = by_demand.iter().map(|(d, l)| (*d, l)).collect();
    let day_end = start.date().and_hms_opt(23, 59, 0).unwrap_or(start);
    let pitch = Duration::minutes(plan.pitch_minutes.into());
    let mut items = Vec::new();
    for (r, demands) in rooms_for(&sizes, plan.rooms).iter().enumerate() {
        let room = r as u32 + 1;
        let mut at = start;
        let pitches: Vec<&LineUpPitch> = demands.iter().flat_map(|d| groups[d.as_str()].iter().copied()).collect();
        for (i, p) in pitches.iter().enumerate() {
            if i > 0 {
                if plan.break_after > 0 && (i as u32).is_multiple_of(plan.break_after) && plan.break_minutes > 0 {
                    let end = at + Duration::minutes(plan.break_minutes.into());
                    items.push(AgendaItem {
                        room,
                        start: local(at),
                        end: local(end),
                        kind: ItemKind::Break,
                        pitch: None,
                    });
                    at = end;
                } else {
                    at += Duration::minutes(plan.changeover_minutes.into());
                }
            }
            let end = at + pitch;
            if end > day_end {
                return Err(PlanError {
                    field: "start",
                    rule: format!(
                        "room {room} would run past midnight ({} pitches from {}): start earlier, shorten pitches or add rooms",
                        pitches.len(),
                        plan.start
                    ),
                });
            }
            items.push(AgendaItem {
                room,
                start: local(at),
                end: local(end),
                kind: ItemKind::Pitch,
                pitch: Some(LineUpPitchView {
                    profile_id: p.profile_id.clone(),
                    profile_name: p.profile_name.clone(),
                    demand_id: p.demand_id.clone(),
                    demand_title: p.demand_title.clone(),
                }),
            });
            at = end;
        }
    }
    Ok(Agenda {
        event_id: event_id.to_string(),
        event_title: event_title.to_string(),
        utc_offset: plan.utc_offset.clone(),
        items,
    })
}

/// Which way an organiser moves a pitch or a demand area on the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// One place earlier.
    Earlier,
    /// One place later.
    Later,
}

/// The order an organiser gave the day: demand areas in the order they run, each with its
/// pitches in order. Kept per event; pitches it does not name follow the line-up's order.
pub type KeptOrder = Vec<(String, Vec<String>)>;

/// The line-up in the order of the day: the demand areas and pitches `kept` names first, in its
/// order, then the rest in line-up order (a re-solve that adds a pitch puts it last in its
/// demand area, one that drops a pitch leaves the others where they were). The result has each
/// demand area's pitches together, as [`plan_day`] lays them out.
pub fn in_order(line_up: &[LineUpPitch], kept: &[(String, Vec<String>)]) -> Vec<LineUpPitch> {
    let mut groups = by_demand(line_up);
    let place = |demand: &str| kept.iter().position(|(d, _)| d == demand).unwrap_or(usize::MAX);
    groups.sort_by_key(|(d, _)| place(d));
    let mut out = Vec::with_capacity(line_up.len());
    for (demand, mut pitches) in groups {
        let order = kept.iter().find(|(d, _)| d == demand).map(|(_, ps)| ps.as_slice()).unwrap_or(&[]);
        pitches.sort_by_key(|p| order.iter().position(|id| *id == p.profile_id).unwrap_or(usize::MAX));
        out.extend(pitches.into_iter().cloned());
    }
    out
}

/// The order of a line-up as it stands (already [`in_order`]), to keep.
pub fn order_of(line_up: &[LineUpPitch]) -> KeptOrder {
    by_demand(line_up)
        .into_iter()
        .map(|(d, pitches)| (d.to_string(), pitches.iter().map(|p| p.profile_id.clone()).collect()))
        .collect()
}

/// The order after moving one pitch a place earlier or later among its demand area's pitches
/// (a demand area's audience stays for all of its pitches, so a pitch does not leave it). `None`
/// when the pitch is not in the line-up or already first (last) of its demand area.
pub fn move_pitch(line_up: &[LineUpPitch], demand_id: &str, profile_id: &str, to: Direction) -> Option<KeptOrder> {
    let mut order = order_of(line_up);
    let (_, pitches) = order.iter_mut().find(|(d, _)| d == demand_id)?;
    let at = pitches.iter().position(|p| p == profile_id)?;
    let other = match to {
        Direction::Earlier => at.checked_sub(1)?,
        Direction::Later => Some(at + 1).filter(|&i| i < pitches.len())?,
    };
    pitches.swap(at, other);
    Some(order)
}

/// The order after moving a whole demand area a place earlier or later in its room, with
/// `rooms` parallel rooms (the room a demand area gets depends only on the sizes, so it stays in
/// its room). `None` when it is not in the line-up or already first (last) in its room.
pub fn move_demand(line_up: &[LineUpPitch], rooms: u32, demand_id: &str, to: Direction) -> Option<KeptOrder> {
    let mut order = order_of(line_up);
    let sizes: Vec<(String, usize)> = order.iter().map(|(d, ps)| (d.clone(), ps.len())).collect();
    let room = rooms_for(&sizes, rooms).into_iter().find(|r| r.iter().any(|d| d == demand_id))?;
    let at = room.iter().position(|d| d == demand_id)?;
    let neighbour = match to {
        Direction::Earlier => room.get(at.checked_sub(1)?)?,
        Direction::Later => room.get(at + 1)?,
    };
    let i = order.iter().position(|(d, _)| d == demand_id)?;
    let j = order.iter().position(|(d, _)| d == neighbour)?;
    order.swap(i, j);
    Some(order)
}

fn local(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M").to_string()
}

/// A local agenda time as UTC, for calendar entries.
fn to_utc(local_time: &str, offset: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let t = NaiveDateTime::parse_from_str(local_time, "%Y-%m-%dT%H:%M").ok()?;
    let offset = parse_offset(offset)?;
    Some((t - Duration::minutes(offset)).and_utc())
}

/// The agenda as iCalendar: one VEVENT per pitch (breaks are not calendar entries), times in UTC
/// so every calendar shows them at the right local hour, stable UIDs so a re-import updates
/// entries instead of doubling them.
pub fn to_ics(agenda: &Agenda) -> String {
    use icalendar::{Calendar, Component, EventLike};
    let mut calendar = Calendar::new();
    calendar.name(&agenda.event_title);
    for item in &agenda.items {
        let (Some(p), Some(start), Some(end)) =
            (&item.pitch, to_utc(&item.start, &agenda.utc_offset), to_utc(&item.end, &agenda.utc_offset))
        else {
            continue;
        };
        let event = icalendar::Event::new()
            .uid(&format!("{}.{}.{}@pitchmatch", agenda.event_id, p.demand_id, p.profile_id))
            .summary(&format!("Pitch: {} — {}", p.profile_name, p.demand_title))
            .description(&format!(
                "{} pitches to the demand area \"{}\" ({}) at {}.",
                p.profile_name, p.demand_title, p.demand_id, agenda.event_title
            ))
            .location(&format!("Room {}", item.room))
            .starts(start)
            .ends(end)
            .done();
        calendar.push(event);
    }
    calendar.done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pitch(profile: &str, demand: &str) -> LineUpPitch {
        LineUpPitch {
            profile_id: profile.into(),
            profile_name: format!("{profile} B.V."),
            demand_id: demand.into(),
            demand_title: format!("Area {demand}"),
        }
    }

    #[test]
    fn pitches_are_grouped_by_demand_area_with_changeovers_and_breaks() {
        let line_up = [pitch("a", "d1"), pitch("b", "d2"), pitch("c", "d1")];
        let plan = DayPlan { break_after: 2, ..DayPlan::on("2027-03-10") };
        let agenda = plan_day("e", "Day", &line_up, &plan).unwrap();
        let rows: Vec<(String, String, Option<&str>)> = agenda
            .items
            .iter()
            .map(|i| (i.start.clone(), i.end.clone(), i.pitch.as_ref().map(|p| p.profile_id.as_str())))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("2027-03-10T09:00".into(), "2027-03-10T09:15".into(), Some("a")),
                ("2027-03-10T09:20".into(), "2027-03-10T09:35".into(), Some("c")),
                ("2027-03-10T09:35".into(), "2027-03-10T09:50".into(), None),
                ("2027-03-10T09:50".into(), "2027-03-10T10:05".into(), Some("b")),
            ]
        );
    }

    #[test]
    fn demand_areas_are_spread_over_rooms_largest_first_and_never_split() {
        let groups = [("d1".to_string(), 1), ("d2".to_string(), 3), ("d3".to_string(), 2), ("d4".to_string(), 2)];
        assert_eq!(rooms_for(&groups, 2), vec![vec!["d1".to_string(), "d2".into()], vec!["d3".into(), "d4".into()]]);
        assert_eq!(rooms_for(&groups, 1), vec![vec!["d1".to_string(), "d2".into(), "d3".into(), "d4".into()]]);
    }

    fn pitch_order(agenda: &Agenda) -> Vec<(u32, String)> {
        agenda.items.iter().filter_map(|i| i.pitch.as_ref().map(|p| (i.room, p.profile_id.clone()))).collect()
    }

    #[test]
    fn moved_pitches_and_demand_areas_keep_their_place_after_a_re_solve() {
        let line_up = [pitch("a", "d1"), pitch("b", "d2"), pitch("c", "d1"), pitch("d", "d3")];
        let plan = DayPlan { rooms: 2, ..DayPlan::on("2027-03-10") };
        let planned = |order: &KeptOrder, line_up: &[LineUpPitch]| {
            pitch_order(&plan_day("e", "Day", &in_order(line_up, order), &plan).unwrap())
        };
        let start = in_order(&line_up, &[]);
        // Rooms: d1 (2 pitches) in room 1, d2 and d3 in room 2.
        assert_eq!(
            planned(&Vec::new(), &line_up),
            [(1, "a".into()), (1, "c".into()), (2, "b".into()), (2, "d".into())]
        );
        assert_eq!(move_pitch(&start, "d1", "a", Direction::Earlier), None, "a is first of d1 already");
        let order = move_pitch(&start, "d1", "a", Direction::Later).unwrap();
        assert_eq!(planned(&order, &line_up), [(1, "c".into()), (1, "a".into()), (2, "b".into()), (2, "d".into())]);
        assert_eq!(move_demand(&in_order(&line_up, &order), 2, "d1", Direction::Earlier), None, "alone in room 1");
        let order = move_demand(&in_order(&line_up, &order), 2, "d3", Direction::Earlier).unwrap();
        assert_eq!(planned(&order, &line_up), [(1, "c".into()), (1, "a".into()), (2, "d".into()), (2, "b".into())]);
        // A re-solve drops a and adds e to d1: the kept order holds for the rest, e comes last.
        let resolved = [pitch("b", "d2"), pitch("e", "d1"), pitch("c", "d1"), pitch("d", "d3")];
        assert_eq!(planned(&order, &resolved), [(1, "c".into()), (1, "e".into()), (2, "d".into()), (2, "b".into())]);
        assert_eq!(move_pitch(&start, "d9", "a", Direction::Later), None, "unknown demand area");
        assert_eq!(move_pitch(&start, "d1", "zz", Direction::Later), None, "unknown pitch");
    }

    #[test]
    fn unusable_settings_are_named() {
        let line_up = [pitch("a", "d1")];
        for (plan, field) in [
            (DayPlan::on("10/03/2027"), "date"),
            (DayPlan { start: "9h".into(), ..DayPlan::on("2027-03-10") }, "start"),
            (DayPlan { pitch_minutes: 0, ..DayPlan::on("2027-03-10") }, "pitch_minutes"),
            (DayPlan { rooms: 0, ..DayPlan::on("2027-03-10") }, "rooms"),
            (DayPlan { utc_offset: "CET".into(), ..DayPlan::on("2027-03-10") }, "utc_offset"),
            (DayPlan { start: "23:50".into(), ..DayPlan::on("2027-03-10") }, "start"),
        ] {
            assert_eq!(plan_day("e", "Day", &line_up, &plan).unwrap_err().field, field);
        }
    }

    #[test]
    fn calendar_entries_are_one_per_pitch_in_utc() {
        let line_up = [pitch("a", "d1"), pitch("b", "d1")];
        let plan = DayPlan { break_after: 1, ..DayPlan::on("2027-03-10") };
        let ics = to_ics(&plan_day("e", "Day", &line_up, &plan).unwrap());
        assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2, "{ics}");
        assert!(ics.contains("DTSTART:20270310T080000Z"), "09:00 at +01:00 is 08:00 UTC:\n{ics}");
        assert!(ics.contains("DTSTART:20270310T083000Z"), "after a 15-minute break:\n{ics}");
        assert!(ics.contains("UID:e.d1.a@pitchmatch"), "{ics}");
    }
}
