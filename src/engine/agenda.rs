//! The day's agenda of a stored event: its line-up with the names an agenda shows, in the order
//! the organiser gave the day, laid out by [`crate::agenda`]; and moving a pitch or a demand area
//! on the day, which keeps that order.

use std::collections::HashMap;

use super::{Actor, Engine};
use crate::agenda::{in_order, move_demand, move_pitch, plan_day, Agenda, DayPlan, Direction, LineUpPitch};
use crate::error::{Result, UserError};
use crate::select::SeasonRules;

/// What an organiser moves on the agenda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgendaMove {
    /// One pitch among its demand area's pitches.
    Pitch {
        /// The demand area it pitches to.
        demand_id: String,
        /// The pitching profile.
        profile_id: String,
    },
    /// A whole demand area within its room.
    DemandArea {
        /// The demand area.
        demand_id: String,
    },
}

impl Engine {
    /// The pitches of event `event_id` (see [`Engine::event_pitches`]) with their names, in
    /// line-up order.
    fn named_pitches(&self, event_id: &str, rules: Option<&SeasonRules>) -> Result<Vec<LineUpPitch>> {
        let selected = self.event_pitches(event_id, rules)?;
        let ids: Vec<String> = selected.iter().map(|p| p.profile_id.clone()).collect();
        let names: HashMap<String, String> = self.profiles_by_id(&ids)?.into_iter().map(|p| (p.id, p.name)).collect();
        let titles: HashMap<String, String> = self.demands()?.into_iter().map(|d| (d.id, d.title)).collect();
        let line_up: Vec<LineUpPitch> = selected
            .iter()
            .map(|p| LineUpPitch {
                profile_id: p.profile_id.clone(),
                profile_name: names.get(&p.profile_id).cloned().unwrap_or_else(|| p.profile_id.clone()),
                demand_id: p.demand_id.clone(),
                demand_title: titles.get(&p.demand_id).cloned().unwrap_or_else(|| p.demand_id.clone()),
            })
            .collect();
        Ok(line_up)
    }

    /// The agenda of event `event_id`: the pitches of its kept line-up (or, with `rules`, of the
    /// line-up solved under them; see [`Engine::event_pitches`]), in the order kept for the day,
    /// grouped and timed by `plan`. A plan without a date takes the event's.
    pub fn event_agenda(&self, event_id: &str, rules: Option<&SeasonRules>, plan: &DayPlan) -> Result<Agenda> {
        let event = self.event(event_id)?.ok_or_else(|| UserError::NotFound { kind: "event", id: event_id.into() })?;
        let line_up = in_order(&self.named_pitches(event_id, rules)?, &self.indexer.store.agenda_order(event_id)?);
        let mut plan = plan.clone();
        if plan.date.is_empty() {
            plan.date = event.date.clone().unwrap_or_default();
        }
        let title = event.title.clone().filter(|t| !t.is_empty()).unwrap_or_else(|| event.id.clone());
        plan_day(&event.id, &title, &line_up, &plan)
            .map_err(|e| UserError::BadArgument { field: e.field.to_string(), message: e.rule }.into())
    }

    /// Moves a pitch (among its demand area's) or a demand area (within its room, with `rooms`
    /// parallel rooms) one place earlier or later on the day of `event_id`, and keeps the new
    /// order: re-solving the line-up leaves the pitches that stay where they were put.
    pub fn move_on_agenda(
        &self,
        event_id: &str,
        what: &AgendaMove,
        to: Direction,
        rooms: u32,
        who: impl Into<Actor>,
    ) -> Result<()> {
        let who = who.into();
        let bad = |message: String| UserError::BadArgument { field: "move".into(), message };
        let pitches = self.named_pitches(event_id, None)?;
        // The kept order is read under the write lock, so two moves at once both count.
        let _writes = self.indexer.lock_writes();
        let line_up = in_order(&pitches, &self.indexer.store.agenda_order(event_id)?);
        let (order, id) = match what {
            AgendaMove::Pitch { demand_id, profile_id } => (
                move_pitch(&line_up, demand_id, profile_id, to).ok_or_else(|| {
                    bad(format!("{profile_id} cannot move that way: it is not a pitch to {demand_id} or is at its end"))
                })?,
                format!("{profile_id} ({demand_id}) at {event_id}"),
            ),
            AgendaMove::DemandArea { demand_id } => (
                move_demand(&line_up, rooms, demand_id, to).ok_or_else(|| {
                    bad(format!("{demand_id} cannot move that way: it has no pitches or is at the end of its room"))
                })?,
                format!("{demand_id} at {event_id}"),
            ),
        };
        self.indexer.store.save_agenda_order(event_id, &order)?;
        let action = match to {
            Direction::Earlier => "move earlier",
            Direction::Later => "move later",
        };
        self.audit(&who, action, "agenda", &id)
    }
}
