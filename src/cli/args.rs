//! Command-line arguments. The options that are settings (the global ones and `serve`'s) are all
//! optional here: when one is not given, [`crate::settings`] takes it from the environment, the
//! config file or the default, so that every setting is resolved in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::{Filter, Kind, Language, Ranker, Size, Theme};

/// pitchmatch — rank Dutch innovation profiles against OEM demand areas.
#[derive(Debug, Parser)]
#[command(name = "pitchmatch", version, about)]
pub struct Cli {
    /// Where the store, the search index and the vectors live (default `index`; env
    /// PITCHMATCH_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The model files: encoder weights, tokenizer, glossary (default `./models` when it holds the
    /// model, else the source tree's; env PITCHMATCH_MODELS_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    pub models_dir: Option<PathBuf>,
    /// Encoder threads, 0 = all cores (default 0; env PITCHMATCH_THREADS).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// A TOML file with any of the settings: data_dir, models_dir, threads, addr,
    /// submissions_per_minute, max_body_bytes, body_timeout_secs, writes_per_minute,
    /// global_writes_per_minute, trusted_proxies, insecure_http_cookies, public_url, metrics_addr,
    /// moderation, max_pending_per_client, max_pending. Flags and PITCHMATCH_* variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

// The ranker is a domain choice; only its command-line spelling belongs here.
impl ValueEnum for Ranker {
    fn value_variants<'a>() -> &'a [Self] {
        &[Ranker::Lexical, Ranker::Dense, Ranker::Hybrid]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let help = match self {
            Ranker::Lexical => "BM25 over the per-language analysed fields only",
            Ranker::Dense => "cosine similarity of multilingual-e5 embeddings only",
            Ranker::Hybrid => "both, fused",
        };
        Some(clap::builder::PossibleValue::new(self.as_str()).help(help))
    }
}

/// Output format of ranked lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
    /// Aligned text for people.
    Table,
}

/// Output format of selections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SelectFormat {
    /// One JSON document.
    Json,
    /// One row per selected or reserve pitch.
    Csv,
    /// Aligned text for people.
    Table,
}

/// `pitchmatch decisions ...`
#[derive(Debug, Subcommand)]
pub enum DecisionsAction {
    /// Validate and store decisions from a JSON Lines file: all or nothing.
    Import {
        /// One decision per line: demand_id, profile_id, decision, optional note, by, at.
        file: PathBuf,
    },
    /// Print the current decisions as JSON Lines.
    Export {
        /// Only these demand areas.
        #[arg(long)]
        demand: Vec<String>,
    },
}

/// Output format of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvaluateFormat {
    /// Aligned text for people.
    Table,
    /// One JSON document.
    Json,
}

/// Output format of an agenda.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AgendaFormat {
    /// Aligned text for people.
    Table,
    /// One row per pitch or break, for spreadsheets.
    Csv,
    /// iCalendar (.ics): one calendar entry per pitch.
    Ics,
    /// One JSON document.
    Json,
}

impl From<Format> for crate::render::ShortlistFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Jsonl => Self::Jsonl,
            Format::Csv => Self::Csv,
            Format::Table => Self::Table,
        }
    }
}

impl From<SelectFormat> for crate::render::SelectionFormat {
    fn from(f: SelectFormat) -> Self {
        match f {
            SelectFormat::Json => Self::Json,
            SelectFormat::Csv => Self::Csv,
            SelectFormat::Table => Self::Table,
        }
    }
}

/// Filters shared by `rank` and `search`.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only this kind of organisation: company or knowledge_institution.
    #[arg(long, value_parser = parse_kind, value_name = "KIND")]
    pub kind: Option<Kind>,
    /// Only this size class: startup, sme or large.
    #[arg(long, value_parser = parse_size, value_name = "SIZE")]
    pub size: Option<Size>,
    /// Only profiles with this theme: smart_mobility, green_mobility, materials or manufacturing.
    #[arg(long, value_parser = parse_theme, value_name = "THEME")]
    pub theme: Option<Theme>,
    /// Only profiles at or above this TRL.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=9))]
    pub min_trl: Option<u8>,
}

impl FilterArgs {
    /// The engine filter.
    pub fn into_filter(self) -> Filter {
        Filter { kind: self.kind, size: self.size, theme: self.theme, min_trl: self.min_trl }
    }
}

fn parse_enum<T: serde::de::DeserializeOwned>(s: &str, allowed: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| format!("must be one of {allowed}"))
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    parse_enum(s, "company, knowledge_institution")
}

fn parse_size(s: &str) -> Result<Size, String> {
    parse_enum(s, "startup, sme, large")
}

fn parse_theme(s: &str) -> Result<Theme, String> {
    parse_enum(s, "smart_mobility, green_mobility, materials, manufacturing")
}

fn parse_k(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(k) if (1..=crate::engine::MAX_K).contains(&k) => Ok(k),
        _ => Err(format!("must be a whole number from 1 to {}", crate::engine::MAX_K)),
    }
}

fn parse_language(s: &str) -> Result<Language, String> {
    parse_enum(s, "nl, en, fr")
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate and upsert JSON Lines files; a file with any invalid record imports nothing.
    Import {
        /// Profiles file.
        #[arg(long)]
        profiles: Option<PathBuf>,
        /// Demand areas file.
        #[arg(long)]
        demands: Option<PathBuf>,
        /// Events file.
        #[arg(long)]
        events: Option<PathBuf>,
        /// Store and index only; compute the profiles' vectors later, when `serve` or a hybrid
        /// or dense `rank`/`search` next opens the data dir (for lexical-only work and bulk loads).
        #[arg(long)]
        defer_embedding: bool,
        /// Replace profiles that suppliers submitted through the service (and hold an edit token
        /// for), revoking those tokens; without it such an import is refused, naming the ids.
        #[arg(long)]
        revoke_supplier_tokens: bool,
    },
    /// Rank profiles for stored demand areas.
    Rank {
        /// Every demand area, ordered by id.
        #[arg(long, conflicts_with = "demand")]
        all: bool,
        /// These demand areas, in this order.
        #[arg(long, num_args = 1..)]
        demand: Vec<String>,
        /// Results per demand area.
        #[arg(short, long, default_value_t = 20, value_parser = parse_k)]
        k: usize,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Which signals rank.
        #[arg(long, value_enum, default_value_t = Ranker::default())]
        ranker: Ranker,
        /// Result filters.
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Rank profiles for an ad-hoc demand text in Dutch, French or English.
    Search {
        /// The demand text (words may also be given as one quoted argument; options may come
        /// before or after it; a word starting with `-` needs `--` in front of the text).
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
        /// Number of results.
        #[arg(short, long, default_value_t = 20, value_parser = parse_k)]
        k: usize,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Which signals rank.
        #[arg(long, value_enum, default_value_t = Ranker::default())]
        ranker: Ranker,
        /// Language of the text (detected when absent).
        #[arg(long, value_parser = parse_language)]
        language: Option<Language>,
        /// Result filters.
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Rebuild the search index from the store.
    Reindex,
    /// Run the web service (settings precedence: flags > PITCHMATCH_* env > --config file > defaults).
    Serve {
        /// Listen address HOST:PORT (default 127.0.0.1:8080; env PITCHMATCH_ADDR).
        #[arg(long)]
        addr: Option<String>,
        /// Profile submissions per client IP per minute, 0 = unlimited (default 30; env
        /// PITCHMATCH_SUBMISSIONS_PER_MINUTE).
        #[arg(long)]
        submissions_per_minute: Option<u32>,
        /// Largest request body in bytes (default 262144; env PITCHMATCH_MAX_BODY_BYTES).
        #[arg(long)]
        max_body_bytes: Option<usize>,
        /// Seconds a request body may take after its headers before a 408 (default 15; env
        /// PITCHMATCH_BODY_TIMEOUT_SECS).
        #[arg(long)]
        body_timeout_secs: Option<u64>,
        /// Writes per client address and per token per minute, 0 = unlimited (default 60; env
        /// PITCHMATCH_WRITES_PER_MINUTE).
        #[arg(long)]
        writes_per_minute: Option<u32>,
        /// Writes per minute over all clients, 0 = unlimited (default 600; env
        /// PITCHMATCH_GLOBAL_WRITES_PER_MINUTE).
        #[arg(long)]
        global_writes_per_minute: Option<u32>,
        /// A proxy (address or CIDR block) whose X-Forwarded-For/-Proto are believed; repeatable
        /// (env PITCHMATCH_TRUSTED_PROXIES, comma-separated).
        #[arg(long = "trusted-proxy", value_name = "ADDR_OR_CIDR")]
        trusted_proxies: Vec<String>,
        /// Cookies without Secure and the __Host- prefix, for plain-http local use only (env
        /// PITCHMATCH_INSECURE_HTTP_COOKIES).
        #[arg(long, num_args = 0..=1, default_missing_value = "true")]
        insecure_http_cookies: Option<bool>,
        /// The URL users reach the service at; an https:// URL turns HSTS on (env PITCHMATCH_PUBLIC_URL).
        #[arg(long)]
        public_url: Option<String>,
        /// Serve /metrics on this IP:PORT only, without a token (default: on the main address,
        /// organisers only; env PITCHMATCH_METRICS_ADDR).
        #[arg(long)]
        metrics_addr: Option<String>,
        /// Whether public submissions wait for an organiser's approval (default true; env
        /// PITCHMATCH_MODERATION).
        #[arg(long, value_name = "true|false")]
        moderation: Option<bool>,
        /// Submissions one client IP may have waiting for approval, 0 = unbounded (default 3; env
        /// PITCHMATCH_MAX_PENDING_PER_CLIENT).
        #[arg(long)]
        max_pending_per_client: Option<u32>,
        /// Submissions that may wait for approval at once, 0 = unbounded (default 500; env
        /// PITCHMATCH_MAX_PENDING).
        #[arg(long)]
        max_pending: Option<u32>,
    },
    /// Manage API tokens of the web service.
    Token {
        /// What to do with tokens.
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Propose the optimal pitch line-up for an event (or a whole season).
    Select {
        /// A stored event.
        #[arg(long, required_unless_present = "season", conflicts_with = "season")]
        event: Option<String>,
        /// A season file (JSON: events with demand ids, slots, quotas, plus rules).
        #[arg(long)]
        season: Option<PathBuf>,
        /// Selection rules (JSON: pins, bans, conflicts, limits) for `--event`; without it, the
        /// event's stored pins, locks and bans and the season's rules and conflicts.
        #[arg(long, conflicts_with = "season")]
        rules: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = SelectFormat::Table)]
        format: SelectFormat,
        /// Which signals give the relevance values.
        #[arg(long, value_enum, default_value_t = Ranker::default())]
        ranker: Ranker,
    },
    /// Review public submissions waiting for approval.
    Moderation {
        /// What to do with them.
        #[command(subcommand)]
        action: ModerationAction,
    },
    /// Show the audit log (who changed which record how, when), newest first.
    Audit {
        /// Only entries older than this entry number.
        #[arg(long)]
        before: Option<u64>,
        /// Only entries about this record id.
        #[arg(long)]
        record_id: Option<String>,
        /// Most entries to show.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        limit: u64,
    },
    /// Write a consistent copy of the store to FILE (a new file); safe while `serve` runs.
    Backup {
        /// Where the copy goes; must not exist yet.
        file: PathBuf,
    },
    /// Restore a copy made by `backup` into an empty (or new) data dir and rebuild the index.
    Restore {
        /// The copy to restore.
        file: PathBuf,
    },
    /// Score the current ranking against graded judgments (past selections or reviewers'
    /// decisions): nDCG@10, Recall@10, Recall@20 and MRR@10, overall and per language pair.
    Evaluate {
        /// Tab-separated demand_id, profile_id, grade 0-3 (an optional query-id header line).
        #[arg(long)]
        judgments: PathBuf,
        /// Also per language pair (demand language -> profile language).
        #[arg(long)]
        by_language: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = EvaluateFormat::Table)]
        format: EvaluateFormat,
        /// Which signals rank.
        #[arg(long, value_enum, default_value_t = Ranker::default())]
        ranker: Ranker,
        /// Simulate a reviewer who decides on the first N proposals of every demand area from the
        /// judgments (grade 2-3 interested, 1 maybe, else not relevant), and score the ranking of
        /// the profiles left undecided without and with those decisions taken into account.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=100))]
        simulate_feedback: Option<u16>,
    },
    /// Learn what interests the OEMs from the stored decisions (or graded judgments): a model of
    /// the probability of interest, cross-validated by demand area against the untrained ranking
    /// and kept only when it ranks better; its probability becomes the selection value.
    Learn {
        /// Learn from these graded judgments (tab-separated demand_id, profile_id, grade 0-3)
        /// instead of the stored decisions.
        #[arg(long)]
        judgments: Option<PathBuf>,
        /// Cross-validation folds (by demand area).
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(2..=50))]
        folds: u16,
        /// Output format.
        #[arg(long, value_enum, default_value_t = EvaluateFormat::Table)]
        format: EvaluateFormat,
    },
    /// List the profiles that are likely one organisation (alike names, one website or company
    /// e-mail domain, texts that say the same), with the evidence; settle them in the organiser
    /// pages (merge or mark distinct).
    Duplicates {
        /// Output format.
        #[arg(long, value_enum, default_value_t = EvaluateFormat::Table)]
        format: EvaluateFormat,
    },
    /// Import or export reviewers' decisions (JSON Lines).
    Decisions {
        /// What to do with them.
        #[command(subcommand)]
        action: DecisionsAction,
    },
    /// Plan an event's day: its optimal line-up as a timetable, grouped by demand area, with
    /// changeovers, breaks and parallel rooms.
    Agenda {
        /// A stored event.
        #[arg(long)]
        event: String,
        /// Selection rules (JSON: pins, bans, conflicts, limits) for a one-off line-up; without it,
        /// the event's kept line-up (or one solved from its stored rules).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// The day, YYYY-MM-DD (default: the event's date).
        #[arg(long)]
        date: Option<String>,
        /// When the first pitch starts, HH:MM local time.
        #[arg(long, default_value = "09:00")]
        start: String,
        /// Minutes per pitch, questions included.
        #[arg(long, default_value_t = 15)]
        pitch_minutes: u32,
        /// Minutes between two pitches in a room.
        #[arg(long, default_value_t = 5)]
        changeover_minutes: u32,
        /// A break after this many pitches in a room (0: none).
        #[arg(long, default_value_t = 6)]
        break_after: u32,
        /// Minutes per break.
        #[arg(long, default_value_t = 15)]
        break_minutes: u32,
        /// Parallel rooms; a demand area stays in one room.
        #[arg(long, default_value_t = 1)]
        rooms: u32,
        /// Local time's offset from UTC (calendar entries are written in UTC).
        #[arg(long, default_value = "+01:00", allow_hyphen_values = true)]
        utc_offset: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = AgendaFormat::Table)]
        format: AgendaFormat,
    },
}

/// `pitchmatch moderation ...`
#[derive(Debug, Subcommand)]
pub enum ModerationAction {
    /// List pending submissions (id, submitted at, name, contact e-mail).
    List,
    /// Approve a pending submission: it is ranked, searched and selected from now on.
    Approve {
        /// The profile id.
        id: String,
    },
    /// Reject a pending submission: it is deleted with its edit token.
    Reject {
        /// The profile id.
        id: String,
    },
}

/// Token roles that can be created from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokenRoleArg {
    /// Manages demands and events, sees every profile, ranks and selects.
    Organiser,
    /// An OEM's innovation department: sees its organisation's demand areas, events and
    /// shortlists (never contact e-mails) and records decisions on them.
    Reviewer,
}

/// `pitchmatch token ...`
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token; it is printed once and stored only as a hash.
    Create {
        /// The token's role.
        #[arg(long, value_enum)]
        role: TokenRoleArg,
        /// A unique name (who or what uses it).
        #[arg(long)]
        name: String,
        /// The organisation a reviewer reviews for (reviewers only), as its demand areas spell it.
        #[arg(long)]
        organisation: Option<String>,
    },
    /// List tokens (names, roles, dates; never the tokens).
    List,
    /// Revoke the active token with this name.
    Revoke {
        /// The token's name.
        name: String,
    },
}
