//! The reason sentence in French, for the OEM reviewers' pages (the OEMs are French): the same
//! parts as [`super::reason`] — closeness in meaning and where, shared concepts, demand words found
//! per field, and what the reviewers' decisions did — said in French. The concept names come in
//! the demand area's language already; the matched terms are the profile's own words.

use super::{Explanation, MovedBy};
use crate::domain::Verdict;

/// A passage name of the breakdown (`summary`, `innovations[i]`) in French.
fn passage_en_mots(passage: &str) -> String {
    match passage.strip_prefix("innovations[").and_then(|r| r.strip_suffix(']')).and_then(|i| i.parse::<usize>().ok()) {
        Some(0) => "sa première innovation".to_string(),
        Some(i) => format!("sa {}e innovation", i + 1),
        None if passage == "summary" => "son résumé".to_string(),
        None => format!("son champ {passage}"),
    }
}

/// A profile field in French.
fn champ(field: &str) -> &str {
    match field {
        "name" => "le nom",
        "summary" => "le résumé",
        "innovations" => "les innovations",
        "keywords" => "les mots-clés",
        other => other,
    }
}

/// What reviewers' decisions did, in French.
fn deplacement(moved: &MovedBy) -> String {
    let verdict = match moved.verdict {
        Verdict::Interested => "intéressant",
        Verdict::Maybe => "à voir",
        Verdict::NotRelevant => "non pertinent",
    };
    let sens = if moved.up { "Remonté" } else { "Descendu" };
    format!("{sens} : proche de {}, que l'OEM a jugé {verdict}. ", moved.name)
}

/// The reason of `e` in French.
pub fn raison(e: &Explanation) -> String {
    let s = &e.scores;
    let mut out = e.moved_by.as_ref().map(deplacement).unwrap_or_default();
    let best = s.best_passage.as_deref().map(passage_en_mots);
    match (s.dense, best) {
        (Some(z), Some(best)) if z >= 2.0 => out.push_str(&format!("Très proche par le sens, surtout {best}. ")),
        (Some(z), Some(best)) if z >= 1.0 => out.push_str(&format!("Proche par le sens, surtout {best}. ")),
        (Some(z), _) if z >= 0.0 => out.push_str("Plutôt lié par le sens. "),
        (Some(_), _) => out.push_str("Moins lié par le sens que la plupart des profils de sa langue. "),
        _ => {}
    }
    if let Some(name) = &e.like_best_match {
        out.push_str(&format!("Proche par le sens de {name}, le meilleur profil. "));
    }
    if !e.concepts.is_empty() {
        let shown: Vec<&str> = e.concepts.iter().take(8).map(String::as_str).collect();
        out.push_str(&format!("Tous deux parlent de {}. ", shown.join(", ")));
    }
    if !e.shared_roots.is_empty() {
        out.push_str(&format!("Mots de même racine : {}. ", e.shared_roots.join(", ")));
    }
    if !e.aligned_terms.is_empty() {
        let shown: Vec<&str> = e.aligned_terms.iter().take(8).map(String::as_str).collect();
        out.push_str(&format!("Mots de même sens : {}. ", shown.join(", ")));
    }
    if e.matched.is_empty() {
        out.push_str("Aucun mot de la demande n'apparaît tel quel dans le profil.");
        return out;
    }
    let parts: Vec<String> = e
        .matched
        .iter()
        .map(|m| {
            let shown: Vec<&str> = m.terms.iter().take(6).map(String::as_str).collect();
            let more = if m.terms.len() > 6 { format!(" et {} autres", m.terms.len() - 6) } else { String::new() };
            format!("{} : {}{more}", champ(m.field), shown.join(", "))
        })
        .collect();
    out.push_str(&format!("Mots de la demande trouvés dans {}.", parts.join(" ; ")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rank::ScoreBreakdown;
    use crate::search::explain::FieldMatch;

    fn explanation(dense: f32, passage: &str, matched: Vec<FieldMatch>) -> Explanation {
        Explanation {
            reason: String::new(),
            scores: ScoreBreakdown { dense: Some(dense), best_passage: Some(passage.into()), ..Default::default() },
            matched,
            snippet: None,
            passage: None,
            concepts: vec!["batterie".into(), "recyclage".into()],
            shared_roots: vec!["batterijen (batteries)".into()],
            aligned_terms: vec!["klant (client)".into()],
            like_best_match: None,
            moved_by: None,
        }
    }

    #[test]
    fn the_reason_says_meaning_concepts_and_words_in_french() {
        let matched = vec![FieldMatch { field: "summary", terms: vec!["lithium".into(), "cathode".into()] }];
        let r = raison(&explanation(2.4, "innovations[1]", matched));
        assert_eq!(
            r,
            "Très proche par le sens, surtout sa 2e innovation. Tous deux parlent de batterie, recyclage. \
             Mots de même racine : batterijen (batteries). Mots de même sens : klant (client). Mots de la demande \
             trouvés dans le résumé : lithium, cathode."
        );
    }

    #[test]
    fn the_best_match_is_named_after_the_closeness_in_meaning() {
        let mut e = explanation(1.5, "summary", Vec::new());
        e.like_best_match = Some("Maasvolt Power Systems B.V.".into());
        let r = raison(&e);
        assert!(
            r.starts_with(
                "Proche par le sens, surtout son résumé. Proche par le sens de Maasvolt Power Systems B.V., le \
                 meilleur profil. Tous deux"
            ),
            "{r}"
        );
    }

    #[test]
    fn feedback_comes_first_and_a_profile_without_shared_words_says_so() {
        let mut e = explanation(0.4, "summary", Vec::new());
        e.moved_by = Some(MovedBy { up: true, name: "Impedix B.V.".into(), verdict: Verdict::Interested });
        let r = raison(&e);
        assert!(r.starts_with("Remonté : proche de Impedix B.V., que l'OEM a jugé intéressant. Plutôt lié"), "{r}");
        assert!(r.ends_with("Aucun mot de la demande n'apparaît tel quel dans le profil."), "{r}");
    }
}
