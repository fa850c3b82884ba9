//! Reading JSON Lines input files into validated records. A file is all-or-nothing: every line is
//! checked (UTF-8, JSON, data-format rules, duplicate ids) and every problem is reported with file,
//! line, field and rule, so a user can fix the whole file in one go; only a file without problems is
//! handed on to the store.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::domain::{raw_id, DemandArea, Event, Profile, Violation};
use crate::error::{RecordProblem, UserError};

/// A parsed record with the line it came from.
#[derive(Debug, Clone)]
pub struct Lined<T> {
    /// 1-based line number.
    pub line: usize,
    /// The record.
    pub record: T,
}

/// Anything that can be validated from a JSON object and has an id.
pub trait Record: Sized {
    /// What the record is called in messages.
    const KIND: &'static str;
    /// Validates a raw JSON value.
    fn from_json(value: &Value) -> Result<Self, Vec<Violation>>;
    /// The record id.
    fn id(&self) -> &str;
}

impl Record for Profile {
    const KIND: &'static str = "profile";
    fn from_json(value: &Value) -> Result<Self, Vec<Violation>> {
        Profile::from_json(value)
    }
    fn id(&self) -> &str {
        &self.id
    }
}

impl Record for DemandArea {
    const KIND: &'static str = "demand area";
    fn from_json(value: &Value) -> Result<Self, Vec<Violation>> {
        DemandArea::from_json(value)
    }
    fn id(&self) -> &str {
        &self.id
    }
}

impl Record for Event {
    const KIND: &'static str = "event";
    fn from_json(value: &Value) -> Result<Self, Vec<Violation>> {
        Event::from_json(value)
    }
    fn id(&self) -> &str {
        &self.id
    }
}

fn problem(source: &str, line: usize, id: Option<String>, field: &str, rule: String) -> RecordProblem {
    RecordProblem {
        source: source.to_string(),
        line: Some(line),
        id,
        violation: Violation { field: field.to_string(), rule, value: None },
    }
}

/// Parses JSON Lines `bytes` (named `source` in messages). Returns the records, or every problem.
pub fn parse_lines<T: Record>(source: &str, bytes: &[u8]) -> Result<Vec<Lined<T>>, Vec<RecordProblem>> {
    let mut records = Vec::new();
    let mut problems = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let raw = if line == 1 { raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw) } else { raw };
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => {
                let rule = format!("is not valid UTF-8 (bad byte at column {})", e.valid_up_to() + 1);
                problems.push(problem(source, line, None, "(record)", rule));
                continue;
            }
        };
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                let rule = format!("is not valid JSON: {e}");
                problems.push(problem(source, line, None, "(record)", rule));
                continue;
            }
        };
        let id = raw_id(&value);
        match T::from_json(&value) {
            Ok(record) => {
                if let Some(first) = seen.get(record.id()) {
                    let rule = format!("duplicates the {} id of line {first}", T::KIND);
                    problems.push(problem(source, line, id, "id", rule));
                } else {
                    seen.insert(record.id().to_string(), line);
                    records.push(Lined { line, record });
                }
            }
            Err(violations) => problems.extend(violations.into_iter().map(|violation| RecordProblem {
                source: source.to_string(),
                line: Some(line),
                id: id.clone(),
                violation,
            })),
        }
    }
    if problems.is_empty() {
        Ok(records)
    } else {
        Err(problems)
    }
}

/// Reads and parses a JSON Lines file.
pub fn read_file<T: Record>(path: &Path) -> Result<Vec<Lined<T>>, UserError> {
    let source = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|e| UserError::UnreadableInput { path: source.clone(), reason: e.to_string() })?;
    parse_lines(&source, &bytes).map_err(UserError::InvalidRecords)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"id":"a","name":"A","kind":"company","summary":"We make lightweight composite parts."}"#;

    #[test]
    fn all_problems_with_line_numbers() {
        let input = format!(
            "{GOOD}\n\n{{not json\n{GOOD}\n{{\"id\":\"b c\",\"name\":\"B\",\"kind\":\"x\",\"summary\":\"short\"}}\n"
        );
        let problems = parse_lines::<Profile>("f.jsonl", input.as_bytes()).unwrap_err();
        let lines: Vec<(usize, &str)> =
            problems.iter().map(|p| (p.line.unwrap(), p.violation.field.as_str())).collect();
        assert_eq!(lines, vec![(3, "(record)"), (4, "id"), (5, "id"), (5, "kind"), (5, "summary")]);
        assert!(problems[1].violation.rule.contains("line 1"));
        assert!(problems[0].to_string().starts_with("f.jsonl:3: field (record): is not valid JSON"));
    }

    #[test]
    fn bad_utf8_named() {
        let mut input = GOOD.as_bytes().to_vec();
        input.extend_from_slice(b"\n{\"id\":\"\xff\"}\n");
        let problems = parse_lines::<Profile>("f.jsonl", &input).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(2));
        assert!(problems[0].violation.rule.contains("UTF-8"));
    }

    #[test]
    fn crlf_and_bom_accepted() {
        let input = format!("\u{feff}{GOOD}\r\n");
        let records = parse_lines::<Profile>("f.jsonl", input.as_bytes()).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].line, 1);
    }
}
