//! The day's agenda of a stored event: its line-up (solved with the given rules) with the names an
//! agenda shows, laid out by [`crate::agenda`].

use std::collections::HashMap;

use super::Engine;
use crate::agenda::{plan_day, Agenda, DayPlan, LineUpPitch};
use crate::error::{Result, UserError};
use crate::select::SeasonRules;

impl Engine {
    /// The agenda of event `event_id`: the pitches of its kept line-up (or, with `rules`, of the
    /// line-up solved under them; see [`Engine::event_pitches`]), grouped and timed by `plan`. A
    /// plan without a date takes the event's.
    pub fn event_agenda(&self, event_id: &str, rules: Option<&SeasonRules>, plan: &DayPlan) -> Result<Agenda> {
        let event = self.event(event_id)?.ok_or_else(|| UserError::NotFound { kind: "event", id: event_id.into() })?;
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
        let mut plan = plan.clone();
        if plan.date.is_empty() {
            plan.date = event.date.clone().unwrap_or_default();
        }
        let title = event.title.clone().filter(|t| !t.is_empty()).unwrap_or_else(|| event.id.clone());
        plan_day(&event.id, &title, &line_up, &plan)
            .map_err(|e| UserError::BadArgument { field: e.field.to_string(), message: e.rule }.into())
    }
}
