//! Shortlists and selections as files and text: JSON Lines (the contract scripts rely on), CSV (for
//! spreadsheets: a header row, RFC 4180 quoting by the `csv` crate, UTF-8 with a byte-order mark so
//! Excel reads accents right) and an aligned table for people. It is a library module of its own
//! because two front ends write the same bytes: the command line prints them and the organiser
//! pages offer them as downloads, and a CSV export must not differ by where it was made.
//!
//! Names and snippets come from anyone who submits a profile and end up in an organiser's
//! spreadsheet or terminal, so both outputs defuse them: a CSV cell a spreadsheet would run as a
//! formula is prefixed with a single quote (OWASP's advice on CSV injection), and a table never
//! passes control characters (terminal escape sequences) or invisible direction overrides through.

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

/// A text cell as a spreadsheet may safely open it: one starting with `=`, `+`, `-`, `@`, a tab or
/// a carriage return would be read as a formula (`=HYPERLINK(...)`, `@SUM(...)`, `-2+3`), so it
/// gets a leading single quote, which spreadsheets show as text and do not evaluate.
pub fn spreadsheet_safe(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// True for characters a terminal or a text view would act on instead of showing: C0 and C1
/// controls (escape sequences start with ESC or CSI), direction overrides and isolates, and
/// zero-width characters.
pub fn is_invisible_or_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}')
}

/// `s` with every control or invisible character replaced by U+FFFD, for aligned tables: a stored
/// text cannot move the cursor, recolour or clear the organiser's terminal.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(is_invisible_or_control) {
        std::borrow::Cow::Owned(s.chars().map(|c| if is_invisible_or_control(c) { '\u{FFFD}' } else { c }).collect())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// A CSV writer over `out` with the product's conventions: `\n` line ends, quoting only where needed.
fn csv_writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(out)
}

/// Writes one CSV record whose text cells are made [`spreadsheet_safe`] (numbers the product
/// formats itself are written as they are, so that spreadsheets still read them as numbers).
fn write_row<W: Write>(csv: &mut csv::Writer<W>, cells: &[Cell<'_>]) -> std::io::Result<()> {
    let fields: Vec<std::borrow::Cow<'_, str>> = cells
        .iter()
        .map(|c| match c {
            Cell::Text(s) => spreadsheet_safe(s),
            Cell::Number(s) => std::borrow::Cow::Borrowed(s.as_str()),
        })
        .collect();
    let fields = fields.iter().map(|f| f.as_bytes());
    csv.write_record(fields).map_err(std::io::Error::from)
}

/// One CSV cell: text from the data, or a number formatted here.
enum Cell<'a> {
    Text(&'a str),
    Number(String),
}

const SHORTLIST_CSV_HEADER: [&str; 12] = [
    "demand_id",
    "organisation",
    "rank",
    "profile_id",
    "name",
    "score",
    "kind",
    "size",
    "language",
    "trl",
    "reason",
    "snippet",
];

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
            let mut csv = csv_writer(&mut *out);
            csv.write_record(SHORTLIST_CSV_HEADER)?;
            csv.flush()?;
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
                let mut csv = csv_writer(&mut *self.out);
                let demand_id = list.demand_id.as_deref().unwrap_or_default();
                let organisation = list.organisation.as_deref().unwrap_or_default();
                for r in &list.results {
                    write_row(
                        &mut csv,
                        &[
                            Cell::Text(demand_id),
                            Cell::Text(organisation),
                            Cell::Number(r.rank.to_string()),
                            Cell::Text(&r.profile_id),
                            Cell::Text(&r.name),
                            Cell::Number(format!("{:.4}", r.score)),
                            Cell::Text(r.kind.as_str()),
                            Cell::Text(r.size.map(|s| s.as_str()).unwrap_or_default()),
                            Cell::Text(r.language.code()),
                            Cell::Number(r.trl.map(|t| t.to_string()).unwrap_or_default()),
                            Cell::Text(&r.explanation.reason),
                            Cell::Text(r.explanation.snippet.as_deref().unwrap_or_default()),
                        ],
                    )?;
                }
                csv.flush()
            }
            ShortlistFormat::Table => {
                let head = match (&list.demand_id, &list.organisation) {
                    (Some(id), Some(org)) => {
                        format!(
                            "{} · {} · {} [{}]",
                            printable(id),
                            printable(org),
                            printable(&list.title),
                            list.language
                        )
                    }
                    _ => format!("search: {} [{}]", printable(&list.title), list.language),
                };
                writeln!(self.out, "{head}")?;
                if list.results.is_empty() {
                    writeln!(self.out, "  (no matching profiles)")?;
                }
                let name_width = list.results.iter().map(|r| printable(&r.name).chars().count()).max().unwrap_or(0);
                let name_width = name_width.clamp("name".len(), MAX_NAME_COLUMN);
                if !list.results.is_empty() {
                    writeln!(
                        self.out,
                        "  {:>4}  {:>7}  {:<22} {:<name_width$}  lang",
                        "rank", "score", "profile", "name"
                    )?;
                }
                for r in &list.results {
                    writeln!(
                        self.out,
                        "  {:>4}  {:>7.3}  {:<22} {:<name_width$}  {}",
                        r.rank,
                        r.score,
                        printable(&r.profile_id),
                        ellipsis(&printable(&r.name), MAX_NAME_COLUMN),
                        r.language
                    )?;
                    writeln!(self.out, "        {}", printable(&r.explanation.reason))?;
                }
                writeln!(self.out)
            }
        }
    }
}

/// The widest a name column of a table grows; longer names end in `…` (the full name is in the
/// JSON, JSON Lines and CSV formats).
pub const MAX_NAME_COLUMN: usize = 48;

/// `s` cut to at most `max` characters, with `…` as the last one when it was cut.
pub fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Names for the ids of a line-up, so a table reads like the pages: profile names and demand-area
/// titles. An id without a name is shown as itself.
#[derive(Debug, Default, Clone)]
pub struct LineUpLabels {
    /// Profile id to organisation name.
    pub profiles: std::collections::HashMap<String, String>,
    /// Demand-area id to title.
    pub demands: std::collections::HashMap<String, String>,
}

impl LineUpLabels {
    fn profile(&self, id: &str) -> String {
        let name = self.profiles.get(id).map(String::as_str).unwrap_or(id);
        ellipsis(&printable(name), 40)
    }

    fn demand(&self, id: &str) -> String {
        let title = self.demands.get(id).map(String::as_str).unwrap_or(id);
        ellipsis(&printable(title), 40)
    }
}

/// Writes a selection: for one event the event object of the CLI contract, for several the season.
pub fn write_selection<W: Write>(format: SelectionFormat, sel: &SeasonSelection, out: &mut W) -> std::io::Result<()> {
    write_selection_labelled(format, sel, &LineUpLabels::default(), out)
}

/// Line-ups and reserves as CSV: one row per pitch or reserve, with a byte-order mark so
/// spreadsheets read the names right.
pub fn write_selection_csv<W: Write>(events: &[crate::select::EventSelection], out: &mut W) -> std::io::Result<()> {
    out.write_all("\u{feff}".as_bytes())?;
    let mut csv = csv_writer(&mut *out);
    csv.write_record(["event_id", "role", "position", "profile_id", "demand_id", "value"])?;
    for e in events {
        for (role, list) in [("selected", &e.selected), ("reserve", &e.reserves)] {
            for (i, p) in list.iter().enumerate() {
                write_row(
                    &mut csv,
                    &[
                        Cell::Text(&e.event_id),
                        Cell::Text(role),
                        Cell::Number((i + 1).to_string()),
                        Cell::Text(&p.profile_id),
                        Cell::Text(&p.demand_id),
                        Cell::Number(format!("{:.4}", p.value)),
                    ],
                )?;
            }
        }
    }
    csv.flush()
}

/// [`write_selection`] with names and titles for the table format.
pub fn write_selection_labelled<W: Write>(
    format: SelectionFormat,
    sel: &SeasonSelection,
    labels: &LineUpLabels,
    out: &mut W,
) -> std::io::Result<()> {
    match format {
        SelectionFormat::Json => {
            match sel.events.as_slice() {
                [one] => serde_json::to_writer_pretty(&mut *out, one)?,
                _ => serde_json::to_writer_pretty(&mut *out, sel)?,
            }
            writeln!(out)
        }
        SelectionFormat::Csv => write_selection_csv(&sel.events, out),
        SelectionFormat::Table => {
            for e in &sel.events {
                let proof = if e.optimal { "proven optimal" } else { "NOT proven optimal" };
                writeln!(out, "{} · objective {:.3} ({proof})", printable(&e.event_id), e.objective)?;
                writeln!(
                    out,
                    "  value = how well the profile fits its demand area (the learned likelihood of interest once \
                     `pitchmatch learn` kept a model, else 1 for the best there); a demand area's \
                     n-th pitch adds value × decay^(n-1); the objective is the sum of what the pitches add"
                )?;
                writeln!(
                    out,
                    "  {:>3}  {:<40}  {:<40}  {:>5}  {:>5}  {:>5}",
                    "#", "pitch", "for demand area", "rank", "value", "adds"
                )?;
                for (i, p) in e.selected.iter().enumerate() {
                    writeln!(
                        out,
                        "  {:>3}  {:<40}  {:<40}  {:>5}  {:>5.3}  {:>5.3}{}",
                        i + 1,
                        labels.profile(&p.profile_id),
                        labels.demand(&p.demand_id),
                        p.rank.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                        p.value,
                        p.weighted_value.unwrap_or(p.value),
                        if p.pinned { "  pinned" } else { "" }
                    )?;
                }
                if !e.reserves.is_empty() {
                    writeln!(out, "  reserves (next in line if a pitch drops out):")?;
                    for p in &e.reserves {
                        writeln!(
                            out,
                            "       {:<40}  {:<40}  {:>5}  {:>5.3}",
                            labels.profile(&p.profile_id),
                            labels.demand(&p.demand_id),
                            p.rank.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                            p.value
                        )?;
                    }
                }
                if !e.left_out.is_empty() {
                    writeln!(out, "  strongest left out, and why:")?;
                }
                for l in &e.left_out {
                    writeln!(
                        out,
                        "       {} for {} (rank {}, value {:.3}): {}",
                        labels.profile(&l.profile_id),
                        labels.demand(&l.demand_id),
                        l.rank,
                        l.value,
                        printable(&l.detail)
                    )?;
                }
                for u in &e.unmet {
                    writeln!(out, "  UNMET: {}", printable(u))?;
                }
                writeln!(out)?;
            }
            Ok(())
        }
    }
}

/// An evaluation for people: one line per slice, like the evaluation kit's `score.py`.
pub fn write_evaluation<W: Write>(e: &crate::evaluate::Evaluation, out: &mut W) -> std::io::Result<()> {
    let line = |f: &crate::evaluate::Figures| {
        format!(
            "nDCG@10={:.4} Recall@10={:.4} Recall@20={:.4} MRR@10={:.4} demands={}",
            f.ndcg10, f.recall10, f.recall20, f.mrr10, f.demands
        )
    };
    match &e.all {
        Some(f) => writeln!(out, "all: {}", line(f))?,
        None => writeln!(out, "all: no judged demand area has a relevant profile")?,
    }
    for s in &e.slices {
        writeln!(out, "{}->{}: {}", s.demand_language, s.profile_language, line(&s.figures))?;
    }
    Ok(())
}

/// What `learn` found, for people: the cross-validated figures, per language pair, the
/// reliability of the probabilities, and whether the model was kept.
pub fn write_learn_report<W: Write>(r: &crate::engine::LearnReport, out: &mut W) -> std::io::Result<()> {
    let cv = &r.cross_validation;
    writeln!(
        out,
        "learned from {}: {} examples over {} demand areas, {}-fold cross-validation by demand area",
        printable(&r.source),
        cv.examples,
        cv.demands,
        cv.folds
    )?;
    writeln!(
        out,
        "held-out nDCG@10: untrained {:.4}, model {:.4} ({:+.4})",
        cv.untrained_ndcg10,
        cv.model_ndcg10,
        cv.model_ndcg10 - cv.untrained_ndcg10
    )?;
    for (a, b) in &r.slices {
        writeln!(
            out,
            "  {}->{}: untrained {:.4}, model {:.4} ({:+.4}), {} demand areas",
            a.demand_language,
            a.profile_language,
            a.figures.ndcg10,
            b.figures.ndcg10,
            b.figures.ndcg10 - a.figures.ndcg10,
            a.figures.demands
        )?;
    }
    writeln!(out, "reliability (held-out probability of interest against the share really interesting):")?;
    writeln!(out, "  {:<11}  {:>8}  {:>9}  {:>8}", "probability", "profiles", "predicted", "observed")?;
    for b in &cv.reliability {
        writeln!(out, "  {:.1}-{:.1}      {:>8}  {:>9.3}  {:>8.3}", b.from, b.to, b.count, b.predicted, b.observed)?;
    }
    let because = r.not_kept_because.as_deref().unwrap_or("not better");
    match (r.kept, r.in_use) {
        (Some(v), _) => writeln!(out, "kept as model version {v}: selection values are now its probabilities")?,
        (None, Some(v)) => writeln!(out, "not kept: {because}; model version {v} stays in use")?,
        (None, None) => writeln!(out, "not kept: {because}; no model is in use")?,
    }
    Ok(())
}

/// Likely duplicate profiles for people: each pair's ids and names, then the evidence.
pub fn write_duplicates<W: Write>(pairs: &[crate::engine::DuplicatePair], out: &mut W) -> std::io::Result<()> {
    if pairs.is_empty() {
        return writeln!(out, "no likely duplicates");
    }
    writeln!(out, "{} pair(s) of profiles that are likely one organisation:", pairs.len())?;
    for p in pairs {
        writeln!(out)?;
        for m in [&p.first, &p.second] {
            let decisions = match m.decisions {
                0 => String::new(),
                n => format!(", {n} reviewer decision(s)"),
            };
            writeln!(out, "  {}  {} ({}{decisions})", printable(&m.id), printable(&m.name), m.language)?;
        }
        writeln!(out, "  why: {}", printable(&p.reasons.join("; ")))?;
    }
    Ok(())
}

/// A relevance-feedback simulation for people: the figures of the profiles left undecided,
/// without and with feedback, and the difference in nDCG@10.
pub fn write_feedback_evaluation<W: Write>(
    e: &crate::evaluate::FeedbackEvaluation,
    out: &mut W,
) -> std::io::Result<()> {
    writeln!(out, "profiles left after deciding on the first {} proposals of every demand area", e.judged)?;
    writeln!(out, "without feedback")?;
    write_evaluation(&e.without, out)?;
    writeln!(out, "with feedback")?;
    write_evaluation(&e.with, out)?;
    if let (Some(a), Some(b)) = (&e.without.all, &e.with.all) {
        writeln!(out, "nDCG@10 change: {:+.4}", b.ndcg10 - a.ndcg10)?;
    }
    for (a, b) in e.without.slices.iter().zip(&e.with.slices) {
        writeln!(out, "  {}->{}: {:+.4}", a.demand_language, a.profile_language, b.figures.ndcg10 - a.figures.ndcg10)?;
    }
    Ok(())
}

/// An agenda for people: room, time, who pitches to which demand area, and the breaks.
pub fn write_agenda_table<W: Write>(agenda: &crate::agenda::Agenda, out: &mut W) -> std::io::Result<()> {
    writeln!(
        out,
        "{} · {} (times at UTC{})",
        printable(&agenda.event_id),
        printable(&agenda.event_title),
        agenda.utc_offset
    )?;
    writeln!(out, "  {:>4}  {:<16}  {:<5}  {:<40}  demand area", "room", "day", "until", "pitch")?;
    for item in &agenda.items {
        let (day, from) = item.start.split_once('T').unwrap_or((&item.start, ""));
        let until = item.end.split_once('T').map(|(_, t)| t).unwrap_or(&item.end);
        match &item.pitch {
            Some(p) => writeln!(
                out,
                "  {:>4}  {day} {from}  {until}  {:<40}  {}",
                item.room,
                ellipsis(&printable(&p.profile_name), 40),
                printable(&p.demand_title)
            )?,
            None => writeln!(out, "  {:>4}  {day} {from}  {until}  (break)", item.room)?,
        }
    }
    Ok(())
}

/// An agenda as CSV: one row per pitch or break, names neutralised for spreadsheets.
pub fn write_agenda_csv<W: Write>(agenda: &crate::agenda::Agenda, out: &mut W) -> std::io::Result<()> {
    out.write_all("\u{feff}".as_bytes())?;
    let mut csv = csv_writer(&mut *out);
    csv.write_record([
        "event_id",
        "room",
        "start",
        "end",
        "kind",
        "profile_id",
        "profile_name",
        "demand_id",
        "demand_title",
    ])?;
    for item in &agenda.items {
        let kind = match item.kind {
            crate::agenda::ItemKind::Pitch => "pitch",
            crate::agenda::ItemKind::Break => "break",
        };
        let p = item.pitch.as_ref();
        write_row(
            &mut csv,
            &[
                Cell::Text(&agenda.event_id),
                Cell::Number(item.room.to_string()),
                Cell::Text(&item.start),
                Cell::Text(&item.end),
                Cell::Text(kind),
                Cell::Text(p.map(|p| p.profile_id.as_str()).unwrap_or_default()),
                Cell::Text(p.map(|p| p.profile_name.as_str()).unwrap_or_default()),
                Cell::Text(p.map(|p| p.demand_id.as_str()).unwrap_or_default()),
                Cell::Text(p.map(|p| p.demand_title.as_str()).unwrap_or_default()),
            ],
        )?;
    }
    csv.flush()
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`, the way the pages and the command line show when
/// something happened; without a date crate: days to a civil date by Howard Hinnant's algorithm.
pub fn utc_time(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {

    #[test]
    fn unix_seconds_read_as_utc_dates() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_time(951_827_696), "2000-02-29 12:34:56 UTC");
        assert_eq!(utc_time(1_767_225_599), "2025-12-31 23:59:59 UTC");
    }
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_others_left_alone() {
        for bad in ["=1+1", "+31 6", "-2+3", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"http://x\")"] {
            assert_eq!(spreadsheet_safe(bad), format!("'{bad}"), "{bad:?}");
        }
        for fine in ["plain", "Voltaris B.V.", "a=b", "", " =1", "'quoted"] {
            assert_eq!(spreadsheet_safe(fine), fine, "{fine:?}");
        }
    }

    #[test]
    fn long_names_end_in_an_ellipsis_and_short_ones_are_kept_whole() {
        assert_eq!(ellipsis("Voltaris B.V.", 13), "Voltaris B.V.");
        assert_eq!(ellipsis("Technische Universiteit Eindhoven", 12), "Technische …");
        assert_eq!(ellipsis("Technische Universiteit Eindhoven", 12).chars().count(), 12);
    }

    #[test]
    fn printable_replaces_escapes_and_invisible_characters() {
        assert_eq!(printable("Voltaris B.V."), "Voltaris B.V.");
        assert_eq!(printable("a\u{1b}[2Jb"), "a\u{FFFD}[2Jb");
        assert_eq!(printable("x\u{9b}31my"), "x\u{FFFD}31my");
        assert_eq!(printable("evil\u{202E}gpj.exe"), "evil\u{FFFD}gpj.exe");
        assert_eq!(printable("zero\u{200B}width\u{FEFF}"), "zero\u{FFFD}width\u{FFFD}");
        assert_eq!(printable("line\nbreak"), "line\u{FFFD}break");
    }

    #[test]
    fn selection_csv_defuses_ids_and_keeps_numbers() {
        let pitch = |id: &str| serde_json::json!({"profile_id": id, "demand_id": "d-1", "value": -0.5, "rank": 1, "kind": "company", "size": null, "themes": []});
        let event = serde_json::json!({"event_id": "e-1", "objective": 1.0, "optimal": true,
            "selected": [pitch("-2-3"), pitch("p-1")], "reserves": [], "left_out": [], "unmet": []});
        let stats = serde_json::json!({"method": "ilp", "candidates": 2, "variables": 2, "constraints": 1,
            "solve_seconds": 0.0, "total_seconds": 0.0});
        let sel: SeasonSelection = serde_json::from_value(serde_json::json!({"events": [event], "objective": 1.0,
            "optimal": true, "unmet": [], "stats": stats}))
        .expect("selection");
        let mut out = Vec::new();
        write_selection(SelectionFormat::Csv, &sel, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines[0], "event_id,role,position,profile_id,demand_id,value");
        assert_eq!(lines[1], "e-1,selected,1,'-2-3,d-1,-0.5000");
        assert_eq!(lines[2], "e-1,selected,2,p-1,d-1,-0.5000");
    }
}
