//! An event's line-up curated over a real engine: locks, pins and bans survive a re-solve, and a
//! kept line-up replays from the inputs it records.

use super::*;

fn demo_event(engine: &Engine, id: &str, demands: &[&str], slots: u32) {
    let event = crate::domain::Event {
        id: id.into(),
        organisation: "PSA Group".into(),
        co_hosts: Vec::new(),
        title: None,
        date: None,
        slots,
        demand_ids: demands.iter().map(|d| d.to_string()).collect(),
        min_sme_or_startup: None,
        min_knowledge_institutions: None,
        max_knowledge_institutions: None,
        max_per_theme: None,
        pitch_languages: Vec::new(),
    };
    engine.create_event(&event, Actor::command_line()).expect("event");
}

fn pitching(record: &crate::select::LineUpRecord) -> Vec<(String, String)> {
    record.selection.selected.iter().map(|p| (p.profile_id.clone(), p.demand_id.clone())).collect()
}

#[test]
fn a_curated_line_up_keeps_locks_pins_and_bans_and_replays_from_its_inputs() {
    use crate::domain::EventRuleKind;
    use crate::select::{LineUpStatus, MoveKind};
    let (_dir, engine) = demo_engine();
    let who = Actor::command_line;
    demo_event(&engine, "e1", &["demo-d-01", "demo-d-02"], 4);
    let first = engine.solve_line_up("e1", who()).expect("solve");
    assert_eq!(first.status, LineUpStatus::Draft);
    assert_eq!(first.selection.selected.len(), 4);
    assert!(first.moves.is_empty(), "the first line-up has nothing to compare with");

    // Lock two pitches, ban a third, pin a profile from far down the first demand area's list.
    let locked: Vec<(String, String)> = pitching(&first).into_iter().take(2).collect();
    for (p, d) in &locked {
        engine.set_event_rule("e1", p, EventRuleKind::Lock, Some(d), None, who()).expect("lock");
    }
    let banned = first.selection.selected[2].profile_id.clone();
    engine.set_event_rule("e1", &banned, EventRuleKind::Ban, None, Some("met them last year"), who()).expect("ban");
    let far = shortlist(&engine, 30).results[15..]
        .iter()
        .map(|r| r.profile_id.clone())
        .find(|id| !first.selection.selected.iter().chain(&first.selection.reserves).any(|p| p.profile_id == *id))
        .expect("a profile outside the line-up and reserves");
    engine.set_event_rule("e1", &far, EventRuleKind::Pin, Some(DEMAND), None, who()).expect("pin");
    let second = engine.solve_line_up("e1", who()).expect("re-solve");
    let now = pitching(&second);
    for l in &locked {
        assert!(now.contains(l), "locked pitch {l:?} moved: {now:?}");
    }
    assert!(now.contains(&(far.clone(), DEMAND.to_string())), "pinned profile missing: {now:?}");
    assert!(!now.iter().any(|(p, _)| *p == banned), "banned profile {banned} still pitches: {now:?}");
    assert!(second.selection.optimal);
    let out = second.moves.iter().find(|m| m.profile_id == banned).expect("the ban is a move");
    assert_eq!(out.kind, MoveKind::Out);
    assert_eq!(out.why, "banned by the organiser (met them last year)");
    let came = second.moves.iter().find(|m| m.profile_id == far).expect("the pin is a move");
    assert_eq!((came.kind, came.why.as_str()), (MoveKind::In, "pinned by the organiser"));
    let why_not = second.selection.left_out.iter().find(|l| l.profile_id == banned);
    if let Some(l) = why_not {
        assert!(l.detail.contains("met them last year"), "{}", l.detail);
    }

    // The same inputs give the same line-up, also as read back from the store.
    let replayed = second.inputs.solve().expect("replay");
    assert_eq!(replayed, second.selection);
    let stored = engine.line_up("e1").unwrap().expect("kept");
    assert_eq!(stored.inputs.solve().expect("replay stored"), stored.selection);

    // Final: kept as it is, changes refused until reopened; the store keeps it across a reopen.
    engine.finalise_line_up("e1", who()).expect("final");
    let err = engine.set_event_rule("e1", &far, EventRuleKind::Ban, None, None, who()).unwrap_err();
    assert!(err.to_string().contains("is final"), "{err}");
    assert!(engine.solve_line_up("e1", who()).is_err());
    let kept = engine.line_up("e1").unwrap().expect("kept");
    assert_eq!((kept.status, kept.selection.clone()), (LineUpStatus::Final, second.selection.clone()));
    assert!(kept.finalised_at.is_some());

    // Another event of the season: a profile in e1's final line-up is not proposed again (one
    // event per profile by default), and says where it pitches.
    demo_event(&engine, "e2", &["demo-d-01"], 3);
    let other = engine.solve_line_up("e2", who()).expect("solve e2");
    for (p, _) in pitching(&other) {
        assert!(!now.iter().any(|(q, _)| *q == p), "{p} pitches at e1 and e2");
    }
    let rules = engine.event_selection_rules("e2").unwrap();
    assert!(rules.bans.iter().any(|b| b.reason.as_deref().is_some_and(|r| r.starts_with("pitches at e1 already"))));

    // Reopened, the whole event locked, then a swap: the locked pitches stay, the swapped one goes.
    engine.reopen_line_up("e1", who()).expect("reopen");
    assert_eq!(engine.lock_line_up("e1", who()).expect("lock all"), 4);
    let reserve = second.selection.reserves[0].profile_id.clone();
    let out_id = second.selection.selected[3].profile_id.clone();
    let swapped = engine.swap_pitch("e1", &out_id, &reserve, who()).expect("swap");
    let after = pitching(&swapped);
    assert!(after.iter().any(|(p, _)| *p == reserve) && !after.iter().any(|(p, _)| *p == out_id), "{after:?}");
    let keep: Vec<_> = now.iter().filter(|(p, _)| *p != out_id).collect();
    assert!(keep.iter().all(|l| after.contains(l)), "{after:?}");
    let audit = engine.audit_log(None, None, 50).unwrap();
    for action in ["lock", "ban", "pin", "solve", "finalise", "reopen", "lock all"] {
        assert!(audit.iter().any(|e| e.action == action), "no {action} in the audit log");
    }
}
