//! How good is the ranking on an organiser's own history? Graded judgments (`qrels.tsv`: demand
//! id, profile id, grade 0-3), from past selections or from reviewers, are scored against the
//! current ranking with the usual retrieval figures: nDCG@10, Recall@10, Recall@20 and MRR@10,
//! overall and per language pair. The definitions are those of the evaluation kit's `score.py`
//! (grade >= 1 counts as relevant for recall and MRR; demand areas without a relevant profile are
//! left out; a slice keeps only the judged profiles of one language), so both give the same
//! numbers. Pure: the engine supplies the rankings.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;

use crate::domain::Language;
use crate::error::{RecordProblem, UserError};

/// Judgments per demand area: profile id to grade.
pub type Judgments = BTreeMap<String, HashMap<String, u8>>;

/// Reads a judgments file: tab-separated `demand_id`, `profile_id`, `grade` (0-3), an optional
/// `query-id` header line. Every bad line is reported with its number.
pub fn read_judgments(path: &Path) -> Result<Judgments, UserError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UserError::UnreadableInput { path: path.display().to_string(), reason: e.to_string() })?;
    parse_judgments(&text, &path.display().to_string())
}

/// [`read_judgments`] on text already read; `source` names it in errors.
pub fn parse_judgments(text: &str, source: &str) -> Result<Judgments, UserError> {
    let mut out = Judgments::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with("query-id") {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let problem = |field: &str, rule: &str| RecordProblem {
            source: source.to_string(),
            line: Some(i + 1),
            id: None,
            violation: crate::domain::Violation { field: field.to_string(), rule: rule.to_string(), value: None },
        };
        if fields.len() < 3 {
            problems.push(problem("(line)", "must be demand_id, profile_id and grade separated by tabs"));
            continue;
        }
        match fields[2].trim().parse::<u8>() {
            Ok(grade) if grade <= 3 => {
                out.entry(fields[0].trim().to_string()).or_default().insert(fields[1].trim().to_string(), grade);
            }
            _ => problems.push(problem("grade", "must be a whole number from 0 to 3")),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(UserError::InvalidRecords(problems))
    }
}

/// nDCG@k with gain `2^grade - 1`, against the ideal order of the judged grades.
pub fn ndcg(ranked: &[&str], grades: &HashMap<String, u8>, k: usize) -> f64 {
    let gain = |g: u8| f64::from((1u32 << g) - 1);
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, id)| gain(grades.get(*id).copied().unwrap_or(0)) / ((i + 2) as f64).log2())
        .sum();
    let mut ideal: Vec<u8> = grades.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal.iter().take(k).enumerate().map(|(i, &g)| gain(g) / ((i + 2) as f64).log2()).sum();
    if idcg > 0.0 {
        dcg / idcg
    } else {
        0.0
    }
}

/// Share of the relevant (grade >= 1) profiles found in the top `k`.
pub fn recall(ranked: &[&str], grades: &HashMap<String, u8>, k: usize) -> f64 {
    let relevant = grades.values().filter(|&&g| g >= 1).count();
    if relevant == 0 {
        return 0.0;
    }
    let found = ranked.iter().take(k).filter(|id| grades.get(**id).is_some_and(|&g| g >= 1)).count();
    found as f64 / relevant as f64
}

/// 1 / rank of the first relevant profile in the top `k`, 0 when there is none.
pub fn mrr(ranked: &[&str], grades: &HashMap<String, u8>, k: usize) -> f64 {
    ranked.iter().take(k).position(|id| grades.get(*id).is_some_and(|&g| g >= 1)).map_or(0.0, |i| 1.0 / (i + 1) as f64)
}

/// The four figures, averaged over the demand areas that have a relevant profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// nDCG@10.
    #[serde(rename = "nDCG@10")]
    pub ndcg10: f64,
    /// Recall@10.
    #[serde(rename = "Recall@10")]
    pub recall10: f64,
    /// Recall@20.
    #[serde(rename = "Recall@20")]
    pub recall20: f64,
    /// MRR@10.
    #[serde(rename = "MRR@10")]
    pub mrr10: f64,
    /// How many demand areas were averaged.
    pub demands: usize,
}

/// Averages the figures over the judged demand areas with at least one relevant profile; a
/// demand area without a ranking counts as zero. `None` when no demand area qualifies.
pub fn summarise(judgments: &Judgments, rankings: &HashMap<String, Vec<String>>) -> Option<Figures> {
    let rows: Vec<(&String, &HashMap<String, u8>)> =
        judgments.iter().filter(|(_, grades)| grades.values().any(|&g| g >= 1)).collect();
    if rows.is_empty() {
        return None;
    }
    let mut sum = [0.0; 4];
    for (demand, grades) in &rows {
        let ranked: Vec<&str> = rankings.get(*demand).map_or_else(Vec::new, |r| r.iter().map(String::as_str).collect());
        sum[0] += ndcg(&ranked, grades, 10);
        sum[1] += recall(&ranked, grades, 10);
        sum[2] += recall(&ranked, grades, 20);
        sum[3] += mrr(&ranked, grades, 10);
    }
    let n = rows.len() as f64;
    Some(Figures {
        ndcg10: sum[0] / n,
        recall10: sum[1] / n,
        recall20: sum[2] / n,
        mrr10: sum[3] / n,
        demands: rows.len(),
    })
}

/// The figures of one language pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slice {
    /// Language of the demand areas.
    pub demand_language: Language,
    /// Language of the profiles kept.
    pub profile_language: Language,
    /// The figures over that pair.
    #[serde(flatten)]
    pub figures: Figures,
}

/// A whole evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// Over every judged demand area.
    pub all: Option<Figures>,
    /// Per (demand language, profile language), when asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slices: Vec<Slice>,
    /// Judged demand areas that are not stored (they count as zero).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown_demands: Vec<String>,
}

/// Per language pair: the demand areas of one language, the judgments and rankings restricted to
/// the profiles of another (in ranked order).
pub fn by_language(
    judgments: &Judgments,
    rankings: &HashMap<String, Vec<String>>,
    demand_language: &HashMap<String, Language>,
    profile_language: &HashMap<String, Language>,
) -> Vec<Slice> {
    let mut out = Vec::new();
    for dl in [Language::En, Language::Fr, Language::Nl] {
        for pl in [Language::En, Language::Fr, Language::Nl] {
            let of_pl = |id: &String| profile_language.get(id) == Some(&pl);
            let sub: Judgments = judgments
                .iter()
                .filter(|(d, _)| demand_language.get(*d) == Some(&dl))
                .map(|(d, grades)| {
                    (d.clone(), grades.iter().filter(|(p, _)| of_pl(p)).map(|(p, g)| (p.clone(), *g)).collect())
                })
                .collect();
            let ranked: HashMap<String, Vec<String>> =
                rankings.iter().map(|(d, r)| (d.clone(), r.iter().filter(|p| of_pl(p)).cloned().collect())).collect();
            if let Some(figures) = summarise(&sub, &ranked) {
                out.push(Slice { demand_language: dl, profile_language: pl, figures });
            }
        }
    }
    out
}

/// The verdict a simulated reviewer gives a profile judged `grade` (none: not judged, so not
/// relevant): grade 2-3 interested, 1 maybe, 0 not relevant.
pub fn simulated_verdict(grade: Option<u8>) -> crate::domain::Verdict {
    use crate::domain::Verdict;
    match grade {
        Some(g) if g >= 2 => Verdict::Interested,
        Some(1) => Verdict::Maybe,
        _ => Verdict::NotRelevant,
    }
}

/// What is left to rank once the profiles in `judged` (per demand area) were decided: the
/// judgments and the rankings without them. Scoring what is left measures how well a ranking
/// orders the profiles nobody has decided on yet.
pub fn residual(
    judgments: &Judgments,
    rankings: &HashMap<String, Vec<String>>,
    judged: &HashMap<String, Vec<String>>,
) -> (Judgments, HashMap<String, Vec<String>>) {
    let seen = |d: &String, p: &String| judged.get(d).is_some_and(|j| j.contains(p));
    let left_judgments = judgments
        .iter()
        .map(|(d, grades)| {
            (d.clone(), grades.iter().filter(|(p, _)| !seen(d, p)).map(|(p, g)| (p.clone(), *g)).collect())
        })
        .collect();
    let left_rankings =
        rankings.iter().map(|(d, r)| (d.clone(), r.iter().filter(|p| !seen(d, p)).cloned().collect())).collect();
    (left_judgments, left_rankings)
}

/// The ranking of the profiles left undecided after a simulated reviewer decided on the first
/// `judged` proposals of every demand area, without and with those decisions taken into account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedbackEvaluation {
    /// Proposals decided per demand area.
    pub judged: usize,
    /// The undecided profiles in the order of the ranking without feedback.
    pub without: Evaluation,
    /// The undecided profiles in the order of the ranking with feedback.
    pub with: Evaluation,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grades(pairs: &[(&str, u8)]) -> HashMap<String, u8> {
        pairs.iter().map(|(p, g)| (p.to_string(), *g)).collect()
    }

    #[test]
    fn ndcg_is_one_for_the_ideal_order_and_less_otherwise() {
        let g = grades(&[("a", 3), ("b", 1), ("c", 0)]);
        assert!((ndcg(&["a", "b", "c"], &g, 10) - 1.0).abs() < 1e-12);
        // b first: dcg = 1/log2(2) + 7/log2(3); ideal = 7 + 1/log2(3).
        let expected = (1.0 + 7.0 / 3f64.log2()) / (7.0 + 1.0 / 3f64.log2());
        assert!((ndcg(&["b", "a"], &g, 10) - expected).abs() < 1e-12);
        assert_eq!(ndcg(&["x"], &grades(&[("a", 0)]), 10), 0.0);
    }

    #[test]
    fn recall_and_mrr_count_grade_one_and_up_within_k() {
        let g = grades(&[("a", 2), ("b", 1), ("c", 0)]);
        assert_eq!(recall(&["c", "a"], &g, 10), 0.5);
        assert_eq!(recall(&["c", "a", "b"], &g, 2), 0.5);
        assert_eq!(mrr(&["c", "x", "b"], &g, 10), 1.0 / 3.0);
        assert_eq!(mrr(&["c"], &g, 10), 0.0);
    }

    #[test]
    fn demand_areas_without_a_relevant_profile_are_left_out_and_missing_rankings_count_zero() {
        let judgments: Judgments = [
            ("d1".to_string(), grades(&[("a", 2)])),
            ("d2".to_string(), grades(&[("b", 0)])),
            ("d3".to_string(), grades(&[("c", 1)])),
        ]
        .into_iter()
        .collect();
        let rankings: HashMap<String, Vec<String>> = [("d1".to_string(), vec!["a".to_string()])].into_iter().collect();
        let f = summarise(&judgments, &rankings).unwrap();
        assert_eq!(f.demands, 2);
        assert_eq!(f.ndcg10, 0.5);
    }

    #[test]
    fn bad_judgment_lines_are_named_by_number() {
        let err =
            parse_judgments("query-id\tcorpus-id\tscore\nd1\tp1\t2\nd1 p2 1\nd2\tp3\tseven\n", "q.tsv").unwrap_err();
        let UserError::InvalidRecords(problems) = err else { panic!("{err:?}") };
        let lines: Vec<Option<usize>> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [Some(3), Some(4)]);
        assert_eq!(problems[1].violation.field, "grade");
    }
}
