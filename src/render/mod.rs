//! Shortlists and selections as files and text: JSON Lines (the contract scripts rely on), CSV (for
//! spreadsheets: a header row, RFC 4180 quoting, UTF-8 with a byte-order mark so Excel reads
//! accents right) and an aligned table for people. It is a library module of its own because two
//! front ends write the same bytes: the command line prints them and the organiser pages offer them
//! as downloads, and a CSV export must not differ by where it was made.

use std::io::Write;

use crate::rank::Shortlist;
use crate::select::SeasonSelection;

/// How shortlists are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShortlistFormat {
    /// One JSON object per shortlist, one per line.
    Jsonl,
    /// Comma-separated values with a header row, one row per result.
    Csv,
    /// Aligned text for people.
    Table,
}

/// How a selection is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectionFormat {
    /// One JSON document.
    Json,
    /// One row per selected or reserve pitch.
    Csv,
    /// Aligned text for people.
    Table,
}

/// Quotes a CSV field when it needs it.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes shortlists one after another in one format.
pub struct ShortlistWriter<'w, W: Write> {
    format: ShortlistFormat,
    out: &'w mut W,
}

impl<'w, W: Write> ShortlistWriter<'w, W> {
    /// Starts the output (the CSV header).
    pub fn new(format: ShortlistFormat, out: &'w mut W) -> std::io::Result<Self> {
        if format == ShortlistFormat::Csv {
            out.write_all("\u{feff}".as_bytes())?;
            writeln!(out, "demand_id,organisation,rank,profile_id,name,score,kind,size,language,trl,reason,snippet")?;
        }
        Ok(ShortlistWriter { format, out })
    }

    /// Writes one shortlist.
    pub fn write(&mut self, list: &Shortlist) -> std::io::Result<()> {
        match self.format {
            ShortlistFormat::Jsonl => {
                serde_json::to_writer(&mut *self.out, list)?;
                writeln!(self.out)
            }
            ShortlistFormat::Csv => {
                for r in &list.results {
                    let fields = [
                        list.demand_id.clone().unwrap_or_default(),
                        list.organisation.clone().unwrap_or_default(),
                        r.rank.to_string(),
                        r.profile_id.clone(),
                        r.name.clone(),
                        format!("{:.4}", r.score),
                        r.kind.as_str().to_string(),
                        r.size.map(|s| s.as_str().to_string()).unwrap_or_default(),
                        r.language.code().to_string(),
                        r.trl.map(|t| t.to_string()).unwrap_or_default(),
                        r.explanation.reason.clone(),
                        r.explanation.snippet.clone().unwrap_or_default(),
                    ];
                    let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                    writeln!(self.out, "{}", line.join(","))?;
                }
                Ok(())
            }
            ShortlistFormat::Table => {
                let head = match (&list.demand_id, &list.organisation) {
                    (Some(id), Some(org)) => format!("{id} · {org} · {} [{}]", list.title, list.language),
                    _ => format!("search: {} [{}]", list.title, list.language),
                };
                writeln!(self.out, "{head}")?;
                if list.results.is_empty() {
                    writeln!(self.out, "  (no matching profiles)")?;
                }
                for r in &list.results {
                    let name: String = r.name.chars().take(34).collect();
                    writeln!(
                        self.out,
                        "  {:>3}  {:>8.3}  {:<14} {:<34} {}",
                        r.rank, r.score, r.profile_id, name, r.language
                    )?;
                    writeln!(self.out, "                 {}", r.explanation.reason)?;
                }
                writeln!(self.out)
            }
        }
    }
}

/// Writes a selection: for one event the event object of the CLI contract, for several the season.
pub fn write_selection<W: Write>(format: SelectionFormat, sel: &SeasonSelection, out: &mut W) -> std::io::Result<()> {
    match format {
        SelectionFormat::Json => {
            match sel.events.as_slice() {
                [one] => serde_json::to_writer_pretty(&mut *out, one)?,
                _ => serde_json::to_writer_pretty(&mut *out, sel)?,
            }
            writeln!(out)
        }
        SelectionFormat::Csv => {
            out.write_all("\u{feff}".as_bytes())?;
            writeln!(out, "event_id,role,position,profile_id,demand_id,value")?;
            for e in &sel.events {
                for (role, list) in [("selected", &e.selected), ("reserve", &e.reserves)] {
                    for (i, p) in list.iter().enumerate() {
                        let fields = [
                            e.event_id.clone(),
                            role.to_string(),
                            (i + 1).to_string(),
                            p.profile_id.clone(),
                            p.demand_id.clone(),
                            format!("{:.4}", p.value),
                        ];
                        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                        writeln!(out, "{}", line.join(","))?;
                    }
                }
            }
            Ok(())
        }
        SelectionFormat::Table => {
            for e in &sel.events {
                let proof = if e.optimal { "proven optimal" } else { "NOT proven optimal" };
                writeln!(out, "{} · objective {:.3} ({proof})", e.event_id, e.objective)?;
                for (i, p) in e.selected.iter().enumerate() {
                    writeln!(out, "  {:>3}  {:<16} -> {:<16} {:.3}", i + 1, p.profile_id, p.demand_id, p.value)?;
                }
                if !e.reserves.is_empty() {
                    writeln!(out, "  reserves:")?;
                    for p in &e.reserves {
                        writeln!(out, "       {:<16} -> {:<16} {:.3}", p.profile_id, p.demand_id, p.value)?;
                    }
                }
                if !e.left_out.is_empty() {
                    writeln!(out, "  strongest left out:")?;
                }
                for l in &e.left_out {
                    writeln!(
                        out,
                        "       {:<16} -> {:<16} {:.3} (rank {}): {}",
                        l.profile_id, l.demand_id, l.value, l.rank, l.detail
                    )?;
                }
                for u in &e.unmet {
                    writeln!(out, "  UNMET: {u}")?;
                }
                writeln!(out)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
