//! Rendering shortlists as JSON Lines (the contract scripts rely on), CSV (for spreadsheets: a
//! header row, RFC 4180 quoting, UTF-8 with a byte-order mark so Excel reads accents right) and an
//! aligned table for people.

use std::io::Write;

use super::args::Format;
use crate::rank::Shortlist;

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
    format: Format,
    out: &'w mut W,
}

impl<'w, W: Write> ShortlistWriter<'w, W> {
    /// Starts the output (the CSV header).
    pub fn new(format: Format, out: &'w mut W) -> std::io::Result<Self> {
        if format == Format::Csv {
            out.write_all("\u{feff}".as_bytes())?;
            writeln!(out, "demand_id,organisation,rank,profile_id,name,score,kind,size,language,trl,reason,snippet")?;
        }
        Ok(ShortlistWriter { format, out })
    }

    /// Writes one shortlist.
    pub fn write(&mut self, list: &Shortlist) -> std::io::Result<()> {
        match self.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut *self.out, list)?;
                writeln!(self.out)
            }
            Format::Csv => {
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
            Format::Table => {
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
