//! # pitchmatch
//!
//! Matchmaking for Co-Innovation Days: Dutch automotive suppliers and knowledge institutions submit
//! innovation profiles; French OEMs and Tier-1s state demand areas; pitchmatch ranks, explains and
//! selects who pitches where.
//!
//! ## Architecture (data flows top to bottom)
//! - [`domain`] — Profile, DemandArea, Event and their validation rules; filters, rankers, principals.
//! - [`import`] — JSON Lines files to validated records, all-or-nothing per file.
//! - [`store`] — SQLite, the source of truth, with migrations and a change sequence.
//! - [`search`] — the tantivy index derived from the store: per-language analysis, BM25, explanations.
//! - [`induction`] — concepts induced from the collection: its terms aligned across languages by the encoder.
//! - [`embed`] — the embedder seam (the local multilingual-e5-small model, or a deterministic
//!   stand-in for tests), its block format and kernels, and the in-memory vector matrix.
//! - [`rank`] — the pure ranking pipeline: per-query statistics, fusion, relevance feedback from
//!   reviewers' decisions, the organiser's reason.
//! - [`select`] — the exact (ILP) pitch line-up for events and seasons.
//! - [`duplicates`] — which profiles are likely one organisation (names, websites, mail domains, meaning).
//! - [`agenda`] — the day's timetable from a line-up: rooms, changeovers, breaks; CSV and iCalendar.
//! - [`evaluate`] — nDCG@10, recall and MRR of the ranking against graded judgments, per language pair.
//! - [`learn`] — the cross-demand model of what interests an OEM (linfa logistic regression),
//!   cross-validated by demand area; its probability is a pitch's selection value.
//! - [`render`] — shortlists and selections as JSON Lines, CSV and tables, for the CLI and the pages.
//! - [`engine`] — one handle over all of it: use cases own every write; the indexer keeps the
//!   index and vectors in step with the store; a ranking cache takes in changed profiles.
//! - [`server`] — the web service (`pitchmatch serve`): shared state, limits, metrics and the app;
//!   inside it the JSON API (auth, one error shape, OpenAPI) and the server-rendered pages for
//!   suppliers and organisers with the landscape map, as siblings that do not import each other.
//! - [`settings`] — every user setting, layered flags > env > file > defaults and checked once.
//! - [`cli`] — the `pitchmatch` command line (the binary in `src/main.rs` only calls it).
#![warn(missing_docs)]

pub mod agenda;
pub mod cli;
pub mod domain;
pub mod duplicates;
pub mod embed;
pub mod engine;
pub mod error;
pub mod evaluate;
pub mod import;
pub mod induction;
pub mod learn;
pub mod rank;
pub mod render;
pub mod search;
pub mod select;
pub mod server;
pub mod settings;
pub mod store;

pub use engine::{Engine, ImportFiles, ImportReport};
pub use error::{Error, Result, UserError};
